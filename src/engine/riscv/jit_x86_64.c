/* Native code for hot blocks on x86-64 hosts: a template compiler. Each
 * RISC-V instruction of a decoded block becomes a fixed x86-64 sequence;
 * the guest registers a block uses most live in host registers for the
 * block's duration (loaded on entry, written back on every exit). Anything
 * unusual - an op not compiled here, a software-TLB miss, a misaligned
 * access - leaves through a stub that returns the instruction's index, and
 * the interpreter carries on from there (see riscv_jit_fn in internal.h).
 * So compiled code never raises exceptions and never calls out.
 *
 * Blocks chain (docs/JIT.md): an exit to a known pc (branch, jal, the
 * fall-through) is a jump that first leads back to the interpreter's loop;
 * once the loop has found the next block, compiled, riscv_jit_chain()
 * points the jump at a small link stub. The stub checks that the target pc
 * is the one linked, that its translation still holds (no TLB flush since
 * the link was validated, or else the fetch TLB still maps the page to the
 * target's), that the target's page was not written since it was decoded
 * and that the budget lasts; it then counts the next block as the loop
 * would and jumps into its code. A link within the block's own page needs
 * only the pc and budget checks. A jalr looks its target up in the jump
 * cache (cpu->jc), as block.c does. A branch back to the block's own start
 * loops in place, the guest registers staying in host registers.
 *
 * Frame and registers (SysV: rdi = cpu, rsi = bpc, rdx = run):
 *   every block's entry pushes the six callee-saved registers, bpc and
 *   `run`, so all compiled code shares one frame ([rsp] = run, [rsp + 8] =
 *   the running block's bpc) and one exit (the buffer's epilogue: pop,
 *   ret); a chain jumps from body to body.
 *   rdi  cpu (guest x[] at offsetof(x))
 *   rax, rcx, rdx  scratch (rcx shift counts, rdx:rax multiply and divide)
 *   r8-r11, rsi, rbx, rbp, r12-r15  guest registers
 * Each block cache (each hart) has its own code buffer, filled front to
 * back; when it is full, compiling stops until the block cache flushes its
 * blocks and their code together. The buffer is W^X: one memfd mapped
 * twice, read-write where the compiler writes (base) and read-execute
 * where the code runs (base + exec_delta); no mapping is ever writable and
 * executable (the VMM's seccomp filter refuses such mappings). Everything
 * here works on writable addresses; only the entry points handed out
 * (riscv_jit_compile's result, the blocks' `jit`) are executable ones, and
 * displacements between two points of the buffer are the same in both. */
#include "jit.h"

#if defined(__x86_64__)

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jit_x86_64_emit.h"

#define JIT_CODE_SIZE (64u << 20)
/* Upper bound of one instruction's code (the longest, a load or a divide,
 * is about 60 bytes) plus its exit stub; checked again while emitting. */
#define JIT_MAX_INSN_BYTES 160
#define JIT_MAX_FIXED_BYTES 768
#define JIT_LINK_BYTES 256
/* The entry: 8 pushes; chains jump to entry + this. */
#define JIT_ENTRY_LEN 12
#define FRAME_RUN 0 /* [rsp]: the riscv_jit_run */
#define FRAME_BPC 8 /* [rsp + 8]: the running block's bpc */
#define JIT_LINK_MAGIC 0x4b4e494c54494a63ull

static int jit_enabled = -1; /* -1: CONDO_JIT not read yet */
/* CONDO_JIT_PERFMAP=1: name each compiled block in /tmp/perf-PID.map so
 * `perf report` shows guest addresses (debugging only). */
static FILE *jit_perfmap;

/* One code buffer per block cache (so per hart), made on first use. */
struct riscv_jit_code {
    uint8_t *base;         /* the writable view */
    ptrdiff_t exec_delta;  /* executable view = base + exec_delta */
    size_t used;
    uint8_t *exit;   /* shared epilogue at the start of the buffer */
    size_t reserved; /* bytes of the buffer that survive a flush */
    bool full;
};

bool riscv_jit_available(void)
{
    if (jit_enabled < 0) {
        const char *s = getenv("CONDO_JIT");
        jit_enabled = !(s && strcmp(s, "0") == 0);
        s = getenv("CONDO_JIT_PERFMAP");
        if (jit_enabled && s && strcmp(s, "1") == 0) {
            char path[64];
            snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
            jit_perfmap = fopen(path, "w");
        }
    }
    return jit_enabled != 0;
}

void riscv_jit_enable(bool on)
{
    jit_enabled = on;
}

void riscv_jit_flush(struct riscv_cpu *cpu)
{
    struct riscv_jit_code *jc = cpu->bcache->jit;
    if (jc) {
        jc->used = jc->reserved;
        jc->full = false;
    }
}

bool riscv_jit_needs_flush(struct riscv_cpu *cpu)
{
    return cpu->bcache->jit && cpu->bcache->jit->full;
}

void riscv_jit_free(struct riscv_cpu *cpu)
{
    struct riscv_jit_code *jc = cpu->bcache->jit;
    if (jc) {
        munmap(jc->base + jc->exec_delta, JIT_CODE_SIZE);
        munmap(jc->base, JIT_CODE_SIZE);
        free(jc);
        cpu->bcache->jit = NULL;
    }
}

_Static_assert(sizeof(struct riscv_tlb_entry) == 24, "TLB index scaling assumes 24-byte entries");
_Static_assert((RISCV_TLB_SIZE & (RISCV_TLB_SIZE - 1)) == 0, "TLB size is a power of two");
_Static_assert(sizeof(struct riscv_jc_entry) == 24, "jump-cache scaling assumes 24-byte entries");
_Static_assert((RISCV_JC_SIZE & (RISCV_JC_SIZE - 1)) == 0, "jump cache size is a power of two");

#define CPU_OFF(field) ((int32_t)offsetof(struct riscv_cpu, field))
#define RUN_OFF(field) ((int32_t)offsetof(struct riscv_jit_run, field))
#define BLK_OFF(field) ((int32_t)offsetof(struct riscv_block, field))

/* The host registers that can hold guest registers. */
static const int8_t alloc_order[] = { R8, R9, R10, R11, RSI, RBX, RBP, R12, R13, R14, R15 };
#define NALLOC ((int)sizeof(alloc_order))

/* What a compiled op reads and writes. */
enum { U_RS1 = 1, U_RS2 = 2, U_RD = 4, U_MEM = 8 };

static int op_uses(unsigned op)
{
    switch (op) {
    case OP_NOP: case OP_FENCE: case OP_END_BLOCK:
        return 0;
    case OP_LUI: case OP_AUIPC: case OP_JAL:
        return U_RD;
    case OP_JALR:
    case OP_ADDI: case OP_SLTI: case OP_SLTIU: case OP_XORI: case OP_ORI: case OP_ANDI:
    case OP_SLLI: case OP_SRLI: case OP_SRAI:
    case OP_ADDIW: case OP_SLLIW: case OP_SRLIW: case OP_SRAIW:
        return U_RS1 | U_RD;
    case OP_BEQ: case OP_BNE: case OP_BLT: case OP_BGE: case OP_BLTU: case OP_BGEU:
        return U_RS1 | U_RS2;
    case OP_LB: case OP_LH: case OP_LW: case OP_LD: case OP_LBU: case OP_LHU: case OP_LWU:
        return U_RS1 | U_RD | U_MEM;
    case OP_SB: case OP_SH: case OP_SW: case OP_SD:
        return U_RS1 | U_RS2 | U_MEM;
    case OP_ADD: case OP_SUB: case OP_SLL: case OP_SLT: case OP_SLTU: case OP_XOR:
    case OP_SRL: case OP_SRA: case OP_OR: case OP_AND:
    case OP_ADDW: case OP_SUBW: case OP_SLLW: case OP_SRLW: case OP_SRAW:
    case OP_MUL: case OP_MULH: case OP_MULHSU: case OP_MULHU:
    case OP_DIV: case OP_DIVU: case OP_REM: case OP_REMU:
    case OP_MULW: case OP_DIVW: case OP_DIVUW: case OP_REMW: case OP_REMUW:
        return U_RS1 | U_RS2 | U_RD;
    default:
        return -1; /* not compiled: the interpreter runs it */
    }
}

/* The op that ends a block's compiled code. */
static bool op_terminates(unsigned op)
{
    return op == OP_END_BLOCK || riscv_op_ends_block(op);
}

#define MAX_FIXUPS (BLOCK_MAX_INSNS + 1)

struct jit_ctx {
    struct jit_emit e;
    const struct riscv_jit_code *code;
    int8_t host[33];  /* host register holding guest x[i], -1: in memory */
    bool written[33]; /* guest register written by the compiled code */
    struct {
        uint8_t *rel;
        unsigned k;
    } fix[MAX_FIXUPS]; /* side exits: jumps to "return k" stubs */
    unsigned nfix;
    uint8_t *slot[2]; /* chainable exits: rel32 of their jmp */
    unsigned nslot;
    unsigned page_off; /* the block's offset in its page */
    unsigned ninsns;   /* the block's instruction count (for loops) */
    uint8_t *top;      /* the body after the register loads */
};

static struct jit_rm xmem(unsigned r)
{
    return jit_m(RDI, (int32_t)(offsetof(struct riscv_cpu, x) + 8 * r));
}

static struct jit_rm xsrc(const struct jit_ctx *c, unsigned r)
{
    return c->host[r] >= 0 ? jit_r(c->host[r]) : xmem(r);
}

/* h = x[r] */
static void load_to(struct jit_ctx *c, int h, unsigned r)
{
    if (r == 0)
        jit_mov_imm(&c->e, h, 0);
    else if (c->host[r] >= 0)
        jit_mov_rr(&c->e, h, c->host[r]);
    else
        jit_mov_load(&c->e, h, xmem(r));
}

/* x[rd] = h; x0 (rd 32, the interpreter's sink) keeps nothing. */
static void store_from(struct jit_ctx *c, unsigned rd, int h)
{
    if (rd == 0 || rd >= 32)
        return;
    if (c->host[rd] >= 0)
        jit_mov_rr(&c->e, c->host[rd], h);
    else
        jit_mov_store(&c->e, xmem(rd), h);
}

/* Where to compute a result for rd: its own host register, unless the
 * operand `keep` (still needed after the first write) lives there. */
static int dest(const struct jit_ctx *c, unsigned rd, int keep)
{
    if (rd < 32 && c->host[rd] >= 0 && (int)rd != keep)
        return c->host[rd];
    return RAX;
}

/* h = bpc + off */
static void pc_rel(struct jit_ctx *c, int h, int64_t off)
{
    if (jit_fits_i32(off)) {
        jit_mov_load(&c->e, h, jit_m(RSP, FRAME_BPC));
        if (off)
            jit_lea(&c->e, h, jit_m(h, (int32_t)off));
    } else {
        jit_mov_imm(&c->e, h, (uint64_t)off);
        jit_alu_rm(&c->e, ALU_ADD, true, h, jit_m(RSP, FRAME_BPC));
    }
}

static void set_pc(struct jit_emit *e, int h)
{
    jit_mov_store(e, jit_m(RDI, CPU_OFF(pc)), h);
}

/* Store the guest registers the block keeps in host registers. Plain
 * moves: the flags survive (branches compare before this). */
static void writeback(struct jit_ctx *c)
{
    for (int r = 1; r < 32; r++)
        if (c->host[r] >= 0 && c->written[r])
            jit_mov_store(&c->e, xmem((unsigned)r), c->host[r]);
}

static void side_exit(struct jit_ctx *c, uint8_t *rel, unsigned k)
{
    if (c->nfix < MAX_FIXUPS) {
        c->fix[c->nfix].rel = rel;
        c->fix[c->nfix].k = k;
        c->nfix++;
    } else {
        c->e.overflow = true; /* one side exit per instruction: cannot happen */
    }
}

/* A chainable exit to bpc + delta, registers written back, rcx = that pc:
 * a jmp that leads to the interpreter until riscv_jit_chain() redirects it.
 * The byte after the jmp (never executed) says whether the target lies in
 * the block's own page: such a link needs no translation or page checks,
 * as the block itself was entered under a valid translation of its page
 * and compiled code never writes code pages. */
static void chain_exit(struct jit_ctx *c, int64_t delta)
{
    uint8_t *rel = jit_jmp32(&c->e);
    int64_t to = (int64_t)c->page_off + delta;
    jit_emit_byte(&c->e, to >= 0 && to < (int64_t)GUEST_PAGE_SIZE);
    if (c->nslot < 2)
        c->slot[c->nslot++] = rel;
    else
        c->e.overflow = true;
}

static void jmp_to(struct jit_emit *e, const uint8_t *target)
{
    int64_t back = target - (e->p + 2);
    if (jit_fits_i8(back)) {
        jit_emit_byte(e, 0xeb);
        jit_emit_byte(e, (uint8_t)(int8_t)back);
    } else {
        jit_patch32(jit_jmp32(e), target);
    }
}

/* rax = x[rs1] + imm */
static void emit_addr(struct jit_ctx *c, const struct rv_insn *in)
{
    if (in->rs1 == 0) {
        jit_mov_imm(&c->e, RAX, (uint64_t)(int64_t)in->imm);
    } else if (c->host[in->rs1] >= 0) {
        jit_lea(&c->e, RAX, jit_m(c->host[in->rs1], in->imm));
    } else {
        jit_mov_load(&c->e, RAX, xmem(in->rs1));
        if (in->imm)
            jit_alu_imm(&c->e, ALU_ADD, true, jit_r(RAX), in->imm);
    }
}

/* The interpreter's fast path: rax = va; on a hit rax becomes the host
 * address, on a miss (or a misaligned va, which the tag compare rejects)
 * the code returns k. */
static void emit_tlb(struct jit_ctx *c, unsigned k, unsigned size, bool write)
{
    struct jit_emit *e = &c->e;
    int32_t set_off = write ? (int32_t)offsetof(struct riscv_tlb_set, w)
                            : (int32_t)offsetof(struct riscv_tlb_set, r);
    /* rcx = tlb_data + index * 24: the entry is at rcx + set_off */
    jit_mov_load(e, RDX, jit_m(RDI, CPU_OFF(tlb_data)));
    jit_mov_rr(e, RCX, RAX);
    jit_shift_imm(e, SH_SHR, true, RCX, 12);
    jit_alu_imm(e, ALU_AND, false, jit_r(RCX), RISCV_TLB_SIZE - 1);
    jit_lea(e, RCX, jit_mi(RCX, RCX, 1, 0)); /* rcx * 3 */
    jit_lea(e, RCX, jit_mi(RDX, RCX, 3, 0)); /* tlb_data + rcx * 8 */
    jit_mov_rr(e, RDX, RAX);
    jit_alu_imm(e, ALU_AND, true, jit_r(RDX), (int32_t)~(uint32_t)(0xfff & ~(size - 1)));
    jit_alu_rm(e, ALU_CMP, true, RDX,
               jit_m(RCX, set_off + (int32_t)offsetof(struct riscv_tlb_entry, tag)));
    side_exit(c, jit_jcc32(e, CC_NE), k);
    jit_alu_rm(e, ALU_ADD, true, RAX,
               jit_m(RCX, set_off + (int32_t)offsetof(struct riscv_tlb_entry, addend)));
}

static void emit_load(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    static const uint8_t size[] = { [OP_LB - OP_LB] = 1, [OP_LH - OP_LB] = 2,
                                    [OP_LW - OP_LB] = 4, [OP_LD - OP_LB] = 8,
                                    [OP_LBU - OP_LB] = 1, [OP_LHU - OP_LB] = 2,
                                    [OP_LWU - OP_LB] = 4 };
    emit_addr(c, in);
    emit_tlb(c, k, size[in->op - OP_LB], false);
    if (in->rd >= 32)
        return; /* x0: the access is checked, the value dropped */
    int d = dest(c, in->rd, -1);
    struct jit_rm m = jit_m(RAX, 0);
    switch (in->op) {
    case OP_LB: jit_op2(e, JIT_W, 0x0f, 0xbe, d, m); break;  /* movsx r64, m8 */
    case OP_LBU: jit_op2(e, 0, 0x0f, 0xb6, d, m); break;     /* movzx r32, m8 */
    case OP_LH: jit_op2(e, JIT_W, 0x0f, 0xbf, d, m); break;  /* movsx r64, m16 */
    case OP_LHU: jit_op2(e, 0, 0x0f, 0xb7, d, m); break;     /* movzx r32, m16 */
    case OP_LW: jit_movsxd(e, d, m); break;
    case OP_LWU: jit_op1(e, 0, 0x8b, d, m); break;           /* mov r32, m32 */
    default: jit_mov_load(e, d, m); break;                   /* LD */
    }
    store_from(c, in->rd, d);
}

static void emit_store(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned size = 1u << (in->op - OP_SB);
    emit_addr(c, in);
    emit_tlb(c, k, size, true);
    int v = RDX;
    if (in->rs2 != 0 && c->host[in->rs2] >= 0)
        v = c->host[in->rs2];
    else
        load_to(c, RDX, in->rs2);
    struct jit_rm m = jit_m(RAX, 0);
    switch (size) {
    case 1: jit_op1(e, JIT_BYTE, 0x88, v, m); break;
    case 2: jit_op1(e, JIT_OPSIZE, 0x89, v, m); break;
    case 4: jit_op1(e, 0, 0x89, v, m); break;
    default: jit_op1(e, JIT_W, 0x89, v, m); break;
    }
}

static void emit_div(struct jit_ctx *c, const struct rv_insn *in)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op;
    bool w = op == OP_DIVW || op == OP_DIVUW || op == OP_REMW || op == OP_REMUW;
    bool is_signed = op == OP_DIV || op == OP_REM || op == OP_DIVW || op == OP_REMW;
    bool rem = op == OP_REM || op == OP_REMU || op == OP_REMW || op == OP_REMUW;
    load_to(c, RCX, in->rs2);
    load_to(c, RAX, in->rs1);
    jit_op1(e, w ? 0 : JIT_W, 0x85, RCX, jit_r(RCX)); /* test rcx, rcx */
    uint8_t *to_zero = jit_jcc8(e, CC_E);
    uint8_t *to_done1 = NULL;
    if (is_signed) {
        /* x / -1 = -x (INT_MIN stays INT_MIN) and x % -1 = 0, as RISC-V
         * wants; the host's idiv would trap on INT_MIN / -1. */
        jit_alu_imm(e, ALU_CMP, !w, jit_r(RCX), -1);
        uint8_t *to_div = jit_jcc8(e, CC_NE);
        if (rem)
            jit_mov_imm(e, RAX, 0);
        else
            jit_unary(e, U_NEG, !w, jit_r(RAX));
        to_done1 = jit_jmp8(e);
        jit_patch8(e, to_div, e->p);
        if (!w)
            jit_emit_byte(e, 0x48);
        jit_emit_byte(e, 0x99); /* cdq / cqo */
        jit_unary(e, U_IDIV, !w, jit_r(RCX));
    } else {
        jit_mov_imm(e, RDX, 0);
        jit_unary(e, U_DIV, !w, jit_r(RCX));
    }
    if (rem)
        jit_mov_rr(e, RAX, RDX);
    uint8_t *to_done2 = jit_jmp8(e);
    jit_patch8(e, to_zero, e->p);
    /* divide by zero: quotient all ones, remainder the dividend (in rax) */
    if (!rem)
        jit_mov_imm(e, RAX, ~0ull);
    jit_patch8(e, to_done1, e->p);
    jit_patch8(e, to_done2, e->p);
    if (w)
        jit_movsxd(e, RAX, jit_r(RAX));
    store_from(c, in->rd, RAX);
}

static void emit_branch(struct jit_ctx *c, const struct rv_insn *in)
{
    struct jit_emit *e = &c->e;
    static const uint8_t cc[] = { [OP_BEQ - OP_BEQ] = CC_E,  [OP_BNE - OP_BEQ] = CC_NE,
                                  [OP_BLT - OP_BEQ] = CC_L,  [OP_BGE - OP_BEQ] = CC_GE,
                                  [OP_BLTU - OP_BEQ] = CC_B, [OP_BGEU - OP_BEQ] = CC_AE };
    int a;
    if (in->rs1 != 0 && c->host[in->rs1] >= 0) {
        a = c->host[in->rs1];
    } else {
        a = RAX;
        load_to(c, RAX, in->rs1);
    }
    jit_alu_rm(e, ALU_CMP, true, a, xsrc(c, in->rs2));
    if ((int64_t)in->pcoff + in->imm == 0) {
        /* A loop onto the block's own start: run the block again right
         * here, the guest registers staying in host registers, counting
         * it as riscv_cpu_run would (while the budget lasts). */
        uint8_t *loop = jit_jcc32(e, cc[in->op - OP_BEQ]);
        writeback(c);
        pc_rel(c, RCX, (int64_t)in->pcoff + in->len);
        chain_exit(c, (int64_t)in->pcoff + in->len);
        jit_patch32(loop, e->p);
        jit_mov_load(e, RDX, jit_m(RSP, FRAME_RUN));
        jit_alu_imm(e, ALU_CMP, true, jit_m(RDX, RUN_OFF(left)), 0);
        uint8_t *out = jit_jcc32(e, CC_LE);
        jit_alu_imm(e, ALU_SUB, true, jit_m(RDX, RUN_OFF(left)), (int32_t)c->ninsns + 1);
        jit_alu_imm(e, ALU_ADD, true, jit_m(RDI, CPU_OFF(instret)), (int32_t)c->ninsns);
        jit_patch32(jit_jmp32(e), c->top);
        jit_patch32(out, e->p);
        writeback(c);
        pc_rel(c, RCX, 0);
        chain_exit(c, 0);
        return;
    }
    writeback(c);
    uint8_t *taken = jit_jcc32(e, cc[in->op - OP_BEQ]);
    pc_rel(c, RCX, (int64_t)in->pcoff + in->len);
    chain_exit(c, (int64_t)in->pcoff + in->len);
    jit_patch32(taken, e->p);
    pc_rel(c, RCX, (int64_t)in->pcoff + in->imm);
    chain_exit(c, (int64_t)in->pcoff + in->imm);
}

/* jalr: rcx = target (registers written back). Go on through the jump
 * cache when it knows a compiled block there, else back to the loop. */
static void emit_indirect(struct jit_ctx *c)
{
    struct jit_emit *e = &c->e;
    uint8_t *miss[6];
    unsigned nmiss = 0;
    /* rax = &jc[(pc >> 1) & (size - 1)] */
    jit_mov_rr(e, RDX, RCX);
    jit_shift_imm(e, SH_SHR, true, RDX, 1);
    jit_alu_imm(e, ALU_AND, false, jit_r(RDX), RISCV_JC_SIZE - 1);
    jit_lea(e, RDX, jit_mi(RDX, RDX, 1, 0));
    jit_lea(e, RAX, jit_mi(RDI, RDX, 3, CPU_OFF(jc)));
    jit_alu_rm(e, ALU_CMP, true, RCX,
               jit_m(RAX, (int32_t)offsetof(struct riscv_jc_entry, vpc)));
    miss[nmiss++] = jit_jcc32(e, CC_NE);
    jit_op1(e, 0, 0x8b, RDX, jit_m(RDI, CPU_OFF(priv))); /* mov edx, priv */
    jit_alu_rm(e, ALU_CMP, false, RDX,
               jit_m(RAX, (int32_t)offsetof(struct riscv_jc_entry, priv)));
    miss[nmiss++] = jit_jcc32(e, CC_NE);
    /* rax = the block, rdx = its code */
    jit_mov_load(e, RAX, jit_m(RAX, (int32_t)offsetof(struct riscv_jc_entry, block)));
    jit_op1(e, JIT_W, 0x85, RAX, jit_r(RAX));
    miss[nmiss++] = jit_jcc32(e, CC_E);
    jit_mov_load(e, RDX, jit_m(RAX, BLK_OFF(jit)));
    jit_op1(e, JIT_W, 0x85, RDX, jit_r(RDX));
    miss[nmiss++] = jit_jcc32(e, CC_E);
    /* the block's page unchanged: page_gen[ram_page] == gen (the guest
     * registers are written back, so r8 and r10 are free) */
    jit_mov_load(e, R8, jit_m(RDI, CPU_OFF(ram)));
    jit_mov_load(e, R8, jit_m(R8, (int32_t)offsetof(struct guest_ram, page_gen)));
    jit_mov_load(e, R10, jit_m(RAX, BLK_OFF(ram_page)));
    jit_op1(e, 0, 0x8b, R8, jit_mi(R8, R10, 2, 0)); /* mov r8d, [r8 + r10*4] */
    jit_alu_rm(e, ALU_CMP, false, R8, jit_m(RAX, BLK_OFF(gen)));
    miss[nmiss++] = jit_jcc32(e, CC_NE);
    /* the budget, as riscv_cpu_run counts it */
    jit_mov_load(e, R8, jit_m(RSP, FRAME_RUN));
    jit_alu_imm(e, ALU_CMP, true, jit_m(R8, RUN_OFF(left)), 0);
    miss[nmiss++] = jit_jcc32(e, CC_LE);
    jit_op2(e, 0, 0x0f, 0xb7, R10, jit_m(RAX, BLK_OFF(ninsns))); /* movzx r10d, word */
    jit_op1(e, JIT_W, 0x01, R10, jit_m(RDI, CPU_OFF(instret)));  /* add [instret], r10 */
    jit_lea(e, R10, jit_m(R10, 1));
    jit_op1(e, JIT_W, 0x29, R10, jit_m(R8, RUN_OFF(left)));      /* sub [left], r10 */
    jit_mov_store(e, jit_m(R8, RUN_OFF(b)), RAX);
    jit_mov_store(e, jit_m(R8, RUN_OFF(bpc)), RCX);
    jit_mov_store(e, jit_m(RSP, FRAME_BPC), RCX);
    jit_lea(e, RDX, jit_m(RDX, JIT_ENTRY_LEN));
    jit_op1(e, 0, 0xff, 4, jit_r(RDX)); /* jmp rdx */
    for (unsigned i = 0; i < nmiss; i++)
        jit_patch32(miss[i], e->p);
    set_pc(e, RCX);
    jit_mov_imm(e, RAX, 0xffffffffu);
    jit_patch32(jit_jmp32(e), c->code->exit);
}

/* Emit one compiled op (op_uses(op) >= 0). */
static void emit_insn(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op, rd = in->rd, rs1 = in->rs1, rs2 = in->rs2;
    int32_t imm = in->imm;
    int d;
    /* Results for x0 are dropped: only memory accesses and control flow
     * have effects beyond rd. */
    if (rd >= 32 && (op_uses(op) & U_RD) && !(op_uses(op) & U_MEM) && op != OP_JAL &&
        op != OP_JALR)
        return;

    switch (op) {
    case OP_NOP:
    case OP_FENCE:
        return;
    case OP_END_BLOCK:
        writeback(c);
        pc_rel(c, RCX, in->pcoff);
        chain_exit(c, in->pcoff);
        return;
    case OP_LUI:
        d = dest(c, rd, -1);
        jit_mov_imm(e, d, (uint64_t)(int64_t)imm);
        store_from(c, rd, d);
        return;
    case OP_AUIPC:
        d = dest(c, rd, -1);
        pc_rel(c, d, (int64_t)in->pcoff + imm);
        store_from(c, rd, d);
        return;
    case OP_JAL:
        if (rd < 32) {
            d = dest(c, rd, -1);
            pc_rel(c, d, (int64_t)in->pcoff + in->len);
            store_from(c, rd, d);
        }
        writeback(c);
        pc_rel(c, RCX, (int64_t)in->pcoff + imm);
        chain_exit(c, (int64_t)in->pcoff + imm);
        return;
    case OP_JALR:
        /* the target first: rd may be rs1 */
        if (rs1 != 0 && c->host[rs1] >= 0) {
            jit_lea(e, RCX, jit_m(c->host[rs1], imm));
        } else {
            load_to(c, RCX, rs1);
            if (imm)
                jit_alu_imm(e, ALU_ADD, true, jit_r(RCX), imm);
        }
        jit_alu_imm(e, ALU_AND, true, jit_r(RCX), -2);
        if (rd < 32) {
            d = dest(c, rd, -1);
            pc_rel(c, d, (int64_t)in->pcoff + in->len);
            store_from(c, rd, d);
        }
        writeback(c);
        emit_indirect(c);
        return;
    case OP_BEQ: case OP_BNE: case OP_BLT: case OP_BGE: case OP_BLTU: case OP_BGEU:
        emit_branch(c, in);
        return;
    case OP_LB: case OP_LH: case OP_LW: case OP_LD: case OP_LBU: case OP_LHU: case OP_LWU:
        emit_load(c, in, k);
        return;
    case OP_SB: case OP_SH: case OP_SW: case OP_SD:
        emit_store(c, in, k);
        return;

    case OP_ADDI:
        d = dest(c, rd, -1);
        if (rs1 == 0)
            jit_mov_imm(e, d, (uint64_t)(int64_t)imm);
        else if (c->host[rs1] >= 0 && c->host[rs1] != d && imm != 0)
            jit_lea(e, d, jit_m(c->host[rs1], imm));
        else {
            load_to(c, d, rs1);
            if (imm)
                jit_alu_imm(e, ALU_ADD, true, jit_r(d), imm);
        }
        store_from(c, rd, d);
        return;
    case OP_XORI: case OP_ORI: case OP_ANDI: {
        unsigned alu = op == OP_XORI ? ALU_XOR : op == OP_ORI ? ALU_OR : ALU_AND;
        d = dest(c, rd, -1);
        load_to(c, d, rs1);
        jit_alu_imm(e, alu, true, jit_r(d), imm);
        store_from(c, rd, d);
        return;
    }
    case OP_SLTI: case OP_SLTIU:
        load_to(c, RAX, rs1);
        jit_alu_imm(e, ALU_CMP, true, jit_r(RAX), imm);
        jit_setcc(e, op == OP_SLTI ? CC_L : CC_B, RAX);
        jit_movzx8(e, RAX, jit_r(RAX));
        store_from(c, rd, RAX);
        return;
    case OP_SLLI: case OP_SRLI: case OP_SRAI: {
        unsigned sh = op == OP_SLLI ? SH_SHL : op == OP_SRLI ? SH_SHR : SH_SAR;
        d = dest(c, rd, -1);
        load_to(c, d, rs1);
        if (imm & 63)
            jit_shift_imm(e, sh, true, d, (unsigned)imm & 63);
        store_from(c, rd, d);
        return;
    }
    case OP_ADDIW:
        d = dest(c, rd, -1);
        if (imm == 0 && rs1 != 0) { /* sext.w */
            jit_movsxd(e, d, xsrc(c, rs1));
        } else {
            load_to(c, d, rs1);
            if (imm)
                jit_alu_imm(e, ALU_ADD, false, jit_r(d), imm);
            jit_movsxd(e, d, jit_r(d));
        }
        store_from(c, rd, d);
        return;
    case OP_SLLIW: case OP_SRLIW: case OP_SRAIW: {
        unsigned sh = op == OP_SLLIW ? SH_SHL : op == OP_SRLIW ? SH_SHR : SH_SAR;
        d = dest(c, rd, -1);
        load_to(c, d, rs1);
        if (imm & 31)
            jit_shift_imm(e, sh, false, d, (unsigned)imm & 31);
        jit_movsxd(e, d, jit_r(d));
        store_from(c, rd, d);
        return;
    }

    case OP_ADD: case OP_SUB: case OP_XOR: case OP_OR: case OP_AND:
    case OP_ADDW: case OP_SUBW: {
        unsigned alu = (op == OP_ADD || op == OP_ADDW) ? ALU_ADD
                       : (op == OP_SUB || op == OP_SUBW) ? ALU_SUB
                       : op == OP_XOR ? ALU_XOR
                       : op == OP_OR ? ALU_OR : ALU_AND;
        bool w = op == OP_ADDW || op == OP_SUBW;
        unsigned a = rs1, bb = rs2;
        if (alu != ALU_SUB && rd == rs2 && rd != rs1) {
            a = rs2; /* commutative: compute in rd's own register */
            bb = rs1;
        }
        d = dest(c, rd, (int)bb);
        if (bb == 0 && alu != ALU_AND) { /* x + 0, x - 0, x | 0, x ^ 0: a move */
            if (w)
                jit_movsxd(e, d, a ? xsrc(c, a) : xmem(0));
            else
                load_to(c, d, a);
        } else if (a == 0 && alu != ALU_SUB && alu != ALU_AND) {
            if (w)
                jit_movsxd(e, d, xsrc(c, bb));
            else
                load_to(c, d, bb);
        } else {
            load_to(c, d, a);
            jit_alu_rm(e, alu, !w, d, xsrc(c, bb));
            if (w)
                jit_movsxd(e, d, jit_r(d));
        }
        store_from(c, rd, d);
        return;
    }
    case OP_SLT: case OP_SLTU:
        load_to(c, RAX, rs1);
        jit_alu_rm(e, ALU_CMP, true, RAX, xsrc(c, rs2));
        jit_setcc(e, op == OP_SLT ? CC_L : CC_B, RAX);
        jit_movzx8(e, RAX, jit_r(RAX));
        store_from(c, rd, RAX);
        return;
    case OP_SLL: case OP_SRL: case OP_SRA: case OP_SLLW: case OP_SRLW: case OP_SRAW: {
        unsigned sh = (op == OP_SLL || op == OP_SLLW) ? SH_SHL
                      : (op == OP_SRL || op == OP_SRLW) ? SH_SHR : SH_SAR;
        bool w = op == OP_SLLW || op == OP_SRLW || op == OP_SRAW;
        load_to(c, RCX, rs2); /* the count is consumed before rd is written */
        d = dest(c, rd, -1);
        load_to(c, d, rs1);
        jit_shift_cl(e, sh, !w, d); /* masks the count to 63 / 31 */
        if (w)
            jit_movsxd(e, d, jit_r(d));
        store_from(c, rd, d);
        return;
    }
    case OP_MUL: case OP_MULW: {
        unsigned a = rs1, bb = rs2;
        if (rd == rs2 && rd != rs1) {
            a = rs2; /* commutative: compute in rd's own register */
            bb = rs1;
        }
        d = dest(c, rd, (int)bb);
        load_to(c, d, a);
        jit_imul_rm(e, op == OP_MUL, d, xsrc(c, bb));
        if (op == OP_MULW)
            jit_movsxd(e, d, jit_r(d));
        store_from(c, rd, d);
        return;
    }
    case OP_MULH: case OP_MULHU:
        load_to(c, RAX, rs1);
        jit_unary(e, op == OP_MULH ? U_IMUL : U_MUL, true, xsrc(c, rs2));
        store_from(c, rd, RDX);
        return;
    case OP_MULHSU:
        /* signed x unsigned: the unsigned high half, less rs2 when rs1 < 0 */
        load_to(c, RAX, rs1);
        jit_unary(e, U_MUL, true, xsrc(c, rs2));
        load_to(c, RCX, rs1);
        jit_shift_imm(e, SH_SAR, true, RCX, 63);
        jit_alu_rm(e, ALU_AND, true, RCX, xsrc(c, rs2));
        jit_alu_rm(e, ALU_SUB, true, RDX, jit_r(RCX));
        store_from(c, rd, RDX);
        return;
    case OP_DIV: case OP_DIVU: case OP_REM: case OP_REMU:
    case OP_DIVW: case OP_DIVUW: case OP_REMW: case OP_REMUW:
        emit_div(c, in);
        return;
    default:
        e->overflow = true; /* op_uses() and this switch disagree */
        return;
    }
}

/* The shared epilogue, at the start of the buffer (kept across flushes). */
static void emit_exit(struct jit_emit *e)
{
    static const int8_t saved[] = { R15, R14, R13, R12, RBP, RBX };
    jit_pop(e, RDX); /* run */
    jit_pop(e, RSI); /* bpc */
    for (unsigned i = 0; i < sizeof(saved); i++)
        jit_pop(e, saved[i]);
    jit_emit_byte(e, 0xc3);
}

static void emit_entry(struct jit_emit *e)
{
    static const int8_t saved[] = { RBX, RBP, R12, R13, R14, R15 };
    for (unsigned i = 0; i < sizeof(saved); i++)
        jit_push(e, saved[i]);
    jit_push(e, RSI); /* bpc, at [rsp + FRAME_BPC] from here on */
    jit_push(e, RDX); /* run, at [rsp + FRAME_RUN] */
}

static struct riscv_jit_code *code_get(struct riscv_cpu *cpu)
{
    struct riscv_jit_code *jc = cpu->bcache->jit;
    if (jc)
        return jc;
    jc = calloc(1, sizeof(*jc));
    if (!jc)
        return NULL;
    /* W^X: the same pages twice, writable here, executable there */
    int fd = memfd_create("condo-jit", MFD_CLOEXEC);
    void *w = MAP_FAILED, *x = MAP_FAILED;
    if (fd >= 0 && ftruncate(fd, JIT_CODE_SIZE) == 0) {
        w = mmap(NULL, JIT_CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        x = mmap(NULL, JIT_CODE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    }
    if (fd >= 0)
        close(fd); /* the mappings keep the pages */
    if (w == MAP_FAILED || x == MAP_FAILED) {
        if (w != MAP_FAILED)
            munmap(w, JIT_CODE_SIZE);
        if (x != MAP_FAILED)
            munmap(x, JIT_CODE_SIZE);
        free(jc);
        jit_enabled = 0; /* no memory for code: interpret */
        return NULL;
    }
    jc->base = w;
    jc->exec_delta = (uint8_t *)x - (uint8_t *)w;
    struct jit_emit e = { .p = jc->base, .end = jc->base + 64 };
    jc->exit = e.p;
    emit_exit(&e);
    jc->reserved = 64;
    jc->used = jc->reserved;
    cpu->bcache->jit = jc;
    return jc;
}

/* Space for n more bytes at the end of the buffer, or NULL (then full). */
static uint8_t *code_reserve(struct riscv_jit_code *jc, size_t n, size_t *avail)
{
    if (JIT_CODE_SIZE - jc->used < n) {
        jc->full = true;
        return NULL;
    }
    *avail = JIT_CODE_SIZE - jc->used;
    return jc->base + jc->used;
}

static void code_commit(struct riscv_jit_code *jc, uint8_t *end)
{
    jc->used = (size_t)(end - jc->base);
    jc->used = (jc->used + 15) & ~(size_t)15;
    if (jc->used > JIT_CODE_SIZE)
        jc->used = JIT_CODE_SIZE;
}

riscv_jit_fn riscv_jit_compile(struct riscv_cpu *cpu, const struct riscv_block *b)
{
    struct riscv_jit_code *jc = code_get(cpu);
    if (!jc || jc->full)
        return NULL;

    /* How far the block compiles: up to and including its terminator, or
     * up to the first op left to the interpreter (n = its index). */
    unsigned n = 0, last = b->ninsns; /* insns[ninsns] may be END_BLOCK */
    bool ends = false;
    int count[33] = { 0 };
    struct jit_ctx ctx, *c = &ctx;
    memset(c, 0, sizeof(*c));
    c->code = jc;
    c->page_off = (unsigned)(b->ppc & (GUEST_PAGE_SIZE - 1));
    c->ninsns = b->ninsns;
    for (unsigned i = 0; i <= last; i++) {
        const struct rv_insn *in = &b->insns[i];
        int u = op_uses(in->op);
        if (u < 0)
            break;
        if (u & U_RS1)
            count[in->rs1]++;
        if (u & U_RS2)
            count[in->rs2]++;
        if ((u & U_RD) && in->rd < 32) {
            count[in->rd]++;
            c->written[in->rd] = true;
        }
        n = i + 1;
        if (op_terminates(in->op)) {
            ends = true;
            break;
        }
    }
    if (n == 0 || (!ends && n > last))
        return NULL; /* nothing compiles, or a block without its end marker */

    /* Host registers for the most used guest registers (x0 stays zero in
     * memory; a register used once is cheaper left there). */
    memset(c->host, -1, sizeof(c->host));
    int nalloc = 0;
    while (nalloc < NALLOC) {
        int best = -1;
        for (int r = 1; r < 32; r++)
            if (c->host[r] < 0 && count[r] >= 2 && (best < 0 || count[r] > count[best]))
                best = r;
        if (best < 0)
            break;
        c->host[best] = alloc_order[nalloc++];
    }

    size_t avail;
    uint8_t *start =
        code_reserve(jc, (size_t)(n + 1) * JIT_MAX_INSN_BYTES + JIT_MAX_FIXED_BYTES, &avail);
    if (!start)
        return NULL;
    struct jit_emit *e = &c->e;
    e->p = start;
    e->end = start + avail;
    e->overflow = false;

    emit_entry(e);
    if (e->p != start + JIT_ENTRY_LEN)
        return NULL; /* cannot happen: the entry has a fixed encoding */
    for (int r = 1; r < 32; r++)
        if (c->host[r] >= 0)
            jit_mov_load(e, c->host[r], xmem((unsigned)r));
    c->top = e->p;

    for (unsigned i = 0; i < n; i++)
        emit_insn(c, &b->insns[i], i);
    /* Stopped before an op left to the interpreter: it resumes there. The
     * terminators above never fall through. */
    if (!ends)
        jit_mov_imm(e, RAX, n);

    /* side exits (eax = k) and the end before an interpreted op */
    uint8_t *local_exit = e->p;
    writeback(c);
    jit_patch32(jit_jmp32(e), jc->exit);

    /* chainable exits, until linked: cpu->pc = rcx, note the site, -1 */
    for (unsigned s = 0; s < c->nslot; s++) {
        jit_patch32(c->slot[s], e->p);
        set_pc(e, RCX);
        jit_mov_load(e, RDX, jit_m(RSP, FRAME_RUN));
        jit_mov_imm(e, RAX, (uint64_t)(uintptr_t)c->slot[s]);
        jit_mov_store(e, jit_m(RDX, RUN_OFF(exit_site)), RAX);
        jit_mov_imm(e, RAX, 0xffffffffu);
        jit_patch32(jit_jmp32(e), jc->exit);
    }

    for (unsigned f = 0; f < c->nfix; f++) {
        jit_patch32(c->fix[f].rel, e->p);
        jit_mov_imm(e, RAX, c->fix[f].k);
        jmp_to(e, local_exit);
    }

    if (e->overflow) {
        jc->full = true; /* only a full buffer can get here */
        return NULL;
    }
    if (jit_perfmap) {
        fprintf(jit_perfmap, "%llx %llx rv_%llx_%u\n",
                (unsigned long long)(uintptr_t)(start + jc->exec_delta),
                (unsigned long long)(e->p - start), (unsigned long long)b->ppc, n);
        fflush(jit_perfmap);
    }
    code_commit(jc, e->p);
    return (riscv_jit_fn)(uintptr_t)(start + jc->exec_delta);
}

/* A link stub: a header (found through the jump it serves, so an exit that
 * is already linked the same way is refreshed rather than linked again),
 * then its code. */
struct jit_link_hdr {
    uint64_t magic; /* JIT_LINK_MAGIC ^ the code's address */
    const struct riscv_block *next;
    uint64_t vpc;
    uint8_t *unlinked; /* where the exit led before it was linked */
    uint8_t *epoch_imm, *priv_imm; /* patchable immediates, NULL: same page */
};

static struct jit_link_hdr *link_of(const struct riscv_jit_code *jc, uint8_t *code)
{
    /* stubs start 16-byte aligned, their code right after the header */
    _Static_assert(sizeof(struct jit_link_hdr) % 16 == 0, "stub code stays aligned");
    if (code < jc->base + sizeof(struct jit_link_hdr) || code >= jc->base + JIT_CODE_SIZE ||
        ((uintptr_t)code & 15))
        return NULL;
    struct jit_link_hdr *h = (struct jit_link_hdr *)(code - sizeof(*h));
    return h->magic == (JIT_LINK_MAGIC ^ (uintptr_t)code) ? h : NULL;
}

static void put32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* cmp dword [rdi + off], imm32 (always the imm32 form: patched later);
 * returns the immediate's address */
static uint8_t *cmp_cpu32(struct jit_emit *e, int32_t off, uint32_t v)
{
    jit_op1(e, 0, 0x81, ALU_CMP, jit_m(RDI, off));
    jit_emit32(e, v);
    return e->overflow ? NULL : e->p - 4;
}

void riscv_jit_chain(struct riscv_cpu *cpu, void *exit_site, struct riscv_block *next)
{
    struct riscv_jit_code *jc = cpu->bcache->jit;
    uint64_t vpc = cpu->pc;
    if (!next->jit || !jc)
        return;
    /* The loop just found next valid for vpc (by translating, or through
     * the jump cache or a block link, both valid for this translation):
     * make the fetch TLB and the jump cache say so too, as the checks of
     * compiled code consult them. */
    struct riscv_tlb_entry *te = &cpu->tlb_fetch->x[(vpc >> 12) & (RISCV_TLB_SIZE - 1)];
    te->tag = vpc & ~0xfffull;
    te->ram_page = next->ram_page;
    te->addend = 0;
    struct riscv_jc_entry *j = &cpu->jc[(vpc >> 1) & (RISCV_JC_SIZE - 1)];
    j->vpc = vpc;
    j->block = next;
    j->priv = cpu->priv;

    uint8_t *rel = exit_site;
    if (!rel || jc->full)
        return; /* a jalr: it looks the jump cache up itself */
    int32_t d;
    memcpy(&d, rel, 4);
    uint8_t *cur = rel + 4 + d;
    bool same_page = rel[4] != 0;
    struct jit_link_hdr *old = link_of(jc, cur);
    if (old && old->next == next && old->vpc == vpc) {
        /* linked so already: its translation check failed, valid again */
        if (old->epoch_imm) {
            put32le(old->epoch_imm, cpu->tlb_epoch);
            put32le(old->priv_imm, cpu->priv);
        }
        return;
    }
    uint8_t *unlinked = old ? old->unlinked : cur;

    size_t avail;
    uint8_t *start = code_reserve(jc, JIT_LINK_BYTES, &avail);
    if (!start)
        return;
    struct jit_link_hdr *h = (struct jit_link_hdr *)start;
    uint8_t *code = start + sizeof(*h);
    struct jit_emit em = { .p = code, .end = start + JIT_LINK_BYTES }, *e = &em;
    uint8_t *fail[8];
    unsigned nfail = 0;
    uint8_t *epoch_imm = NULL, *priv_imm = NULL;

    /* rcx = the pc this exit goes to: the one the link was made for? */
    jit_mov_imm(e, RAX, vpc);
    jit_alu_rm(e, ALU_CMP, true, RCX, jit_r(RAX));
    fail[nfail++] = jit_jcc32(e, CC_NE);
    if (!same_page) {
        /* The translation still holds: no TLB flush and the same privilege
         * since the link was (re)validated; else the fetch TLB still maps
         * vpc's page to next's. */
        epoch_imm = cmp_cpu32(e, CPU_OFF(tlb_epoch), cpu->tlb_epoch);
        uint8_t *to_tlb1 = jit_jcc8(e, CC_NE);
        priv_imm = cmp_cpu32(e, CPU_OFF(priv), cpu->priv);
        uint8_t *to_mapped = jit_jcc8(e, CC_E);
        jit_patch8(e, to_tlb1, e->p);
        int32_t tx = (int32_t)(offsetof(struct riscv_tlb_set, x) +
                               ((vpc >> 12) & (RISCV_TLB_SIZE - 1)) *
                                   sizeof(struct riscv_tlb_entry));
        jit_mov_load(e, RDX, jit_m(RDI, CPU_OFF(tlb_fetch)));
        jit_mov_imm(e, RAX, vpc & ~0xfffull);
        jit_alu_rm(e, ALU_CMP, true, RAX,
                   jit_m(RDX, tx + (int32_t)offsetof(struct riscv_tlb_entry, tag)));
        fail[nfail++] = jit_jcc32(e, CC_NE);
        jit_mov_imm(e, RAX, next->ram_page);
        jit_alu_rm(e, ALU_CMP, true, RAX,
                   jit_m(RDX, tx + (int32_t)offsetof(struct riscv_tlb_entry, ram_page)));
        fail[nfail++] = jit_jcc32(e, CC_NE);
        jit_patch8(e, to_mapped, e->p);
        /* next's page not written since it was decoded */
        jit_mov_load(e, RDX, jit_m(RDI, CPU_OFF(ram)));
        jit_mov_load(e, RDX, jit_m(RDX, (int32_t)offsetof(struct guest_ram, page_gen)));
        jit_mov_imm(e, RAX, next->ram_page);
        jit_op1(e, 0, 0x8b, RAX, jit_mi(RDX, RAX, 2, 0)); /* mov eax, [rdx + rax*4] */
        jit_alu_imm(e, ALU_CMP, false, jit_r(RAX), (int32_t)next->gen);
        fail[nfail++] = jit_jcc32(e, CC_NE);
    }
    /* budget left: count next as riscv_cpu_run would */
    jit_mov_load(e, RDX, jit_m(RSP, FRAME_RUN));
    jit_alu_imm(e, ALU_CMP, true, jit_m(RDX, RUN_OFF(left)), 0);
    fail[nfail++] = jit_jcc32(e, CC_LE);
    jit_alu_imm(e, ALU_SUB, true, jit_m(RDX, RUN_OFF(left)), next->ninsns + 1);
    jit_alu_imm(e, ALU_ADD, true, jit_m(RDI, CPU_OFF(instret)), next->ninsns);
    jit_mov_imm(e, RAX, (uint64_t)(uintptr_t)next);
    jit_mov_store(e, jit_m(RDX, RUN_OFF(b)), RAX);
    jit_mov_store(e, jit_m(RDX, RUN_OFF(bpc)), RCX);
    jit_mov_store(e, jit_m(RSP, FRAME_BPC), RCX);
    /* next->jit is executable: its writable twin is what e->p lives in */
    jit_patch32(jit_jmp32(e),
                (const uint8_t *)(uintptr_t)next->jit - jc->exec_delta + JIT_ENTRY_LEN);
    for (unsigned i = 0; i < nfail; i++)
        jit_patch32(fail[i], unlinked);
    if (e->overflow)
        return; /* cannot happen: JIT_LINK_BYTES covers the stub */

    memset(h, 0, sizeof(*h));
    h->magic = JIT_LINK_MAGIC ^ (uintptr_t)code;
    h->next = next;
    h->vpc = vpc;
    h->unlinked = unlinked;
    h->epoch_imm = epoch_imm;
    h->priv_imm = priv_imm;
    if (jit_perfmap) {
        fprintf(jit_perfmap, "%llx %llx rv_link_%llx\n",
                (unsigned long long)(uintptr_t)(code + jc->exec_delta),
                (unsigned long long)(e->p - code), (unsigned long long)next->ppc);
        fflush(jit_perfmap);
    }
    code_commit(jc, e->p);
    jit_patch32(rel, code);
}

#else /* not an x86-64 host: everything is interpreted */

bool riscv_jit_available(void)
{
    return false;
}

void riscv_jit_enable(bool on)
{
    (void)on;
}

riscv_jit_fn riscv_jit_compile(struct riscv_cpu *cpu, const struct riscv_block *b)
{
    (void)cpu;
    (void)b;
    return NULL;
}

void riscv_jit_chain(struct riscv_cpu *cpu, void *exit_site, struct riscv_block *next)
{
    (void)cpu;
    (void)exit_site;
    (void)next;
}

void riscv_jit_flush(struct riscv_cpu *cpu)
{
    (void)cpu;
}

bool riscv_jit_needs_flush(struct riscv_cpu *cpu)
{
    (void)cpu;
    return false;
}

void riscv_jit_free(struct riscv_cpu *cpu)
{
    (void)cpu;
}

#endif
