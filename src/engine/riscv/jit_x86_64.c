/* Native code for hot blocks on x86-64 hosts: a template compiler. Each
 * RISC-V instruction of a decoded block becomes a fixed x86-64 sequence
 * (jit_x86_64_ops.c, jit_x86_64_fp.c). A block is compiled for the one
 * virtual pc it was found at, so every pc in it is a constant. Anything
 * unusual - an op not compiled, a software-TLB miss, a misaligned access -
 * leaves through a stub that returns the instruction's index, and the
 * interpreter carries on from there (see struct riscv_jit_run in
 * internal.h). So compiled code never raises exceptions; the only C it
 * calls is riscv_fp_exec(), the F/D semantics it shares with the
 * interpreter, for the cases its inline fast paths leave out.
 *
 * Register convention: jit_x86_64.h. Frame: the C entry (the first bytes of
 * the buffer) pushes the callee-saved registers and `run`, loads the budget
 * into r15 and the global guest registers, and jumps to the block's body;
 * all compiled code then shares that frame and one exit, which stores the
 * globals and the budget back and returns. A chain jumps from block to
 * block.
 *
 * Blocks chain (docs/JIT.md): an exit to a known pc (branch, jal, the
 * fall-through) is a jump that first leads back to the interpreter's loop;
 * once the loop has found the next block, compiled, riscv_jit_chain()
 * points the jump straight at that block's chain entry (same page), or at
 * a small link stub that first checks that the translation still holds and
 * the target's page was not written since it was decoded (another page).
 * Every block's chain entry checks and takes the budget. A jalr looks its
 * target up in the jump cache (cpu->jc), as block.c does. A branch back to
 * the block's own start loops in place.
 *
 * Each block cache (each hart) has its own code buffer, code filled front
 * to back, memory-op sites (data the code updates) back to front in the
 * last JIT_DATA_SIZE bytes; when it is full, compiling stops until the
 * block cache flushes its blocks and their code together. The buffer is
 * W^X: one memfd mapped twice, read-write where the compiler writes (base)
 * and read-execute where the code runs (base + exec_delta), except the
 * sites, read-write in both (the same pages, so a displacement from code
 * to a site is the same in both views). No mapping is ever writable and
 * executable (the VMM's seccomp filter refuses such mappings). Everything
 * here works on writable addresses; only the entry points handed out
 * (jc->enter, the blocks' `jit`) are executable ones. */
#include "jit.h"

#if defined(__x86_64__)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jit_x86_64.h"

#define JIT_CODE_SIZE (64u << 20)
#define JIT_DATA_SIZE (4u << 20) /* sites: 512 Ki memory ops */
#define JIT_CODE_LIMIT (JIT_CODE_SIZE - JIT_DATA_SIZE)
/* Upper bound of one instruction's code (the longest, an FP op with its
 * checks, or a divide, is about 100 bytes) plus its exit stubs and slow
 * path; checked again while emitting. */
#define JIT_MAX_INSN_BYTES 256
#define JIT_MAX_FIXED_BYTES 1024
#define JIT_LINK_BYTES 256
#define JIT_ENTRY_BYTES 256
#define JIT_LINK_MAGIC 0x4b4e494c54494a63ull

/* Global guest registers: a0-a5 minus a3, chosen from how often compiled
 * RISC-V code (gcc, the Linux kernel) uses each register. */
const uint8_t jit_global_reg[NGLOBAL] = { 15, 14, 10, 12, 11 };
const int8_t jit_global_host[NGLOBAL] = { RBX, RBP, R12, R13, R14 };
const int8_t jit_local_host[NLOCAL] = { RSI, R8, R9, R10, R11 };

static int jit_enabled = -1; /* -1: CONDO_JIT not read yet */
/* CONDO_JIT_PERFMAP=1: name each compiled block in /tmp/perf-PID.map so
 * `perf report` shows guest addresses (debugging only). */
static FILE *jit_perfmap;
/* CONDO_JIT_DUMP=DIR: write each block's code to DIR/<guest pa>_<vpc>.bin
 * (objdump -D -b binary -mi386:x86-64 shows it; debugging only). */
static const char *jit_dump_dir;

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
        jit_dump_dir = jit_enabled ? getenv("CONDO_JIT_DUMP") : NULL;
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
        jc->data_low = JIT_CODE_SIZE;
        jc->full = false;
    }
}

bool riscv_jit_needs_flush(struct riscv_cpu *cpu)
{
    return cpu->bcache->jit && cpu->bcache->jit->full;
}

size_t riscv_jit_used(struct riscv_cpu *cpu)
{
    struct riscv_jit_code *jc = cpu->bcache->jit;
    return jc ? (jc->used - jc->reserved) + (JIT_CODE_SIZE - jc->data_low) : 0;
}

size_t riscv_jit_trim(struct riscv_cpu *cpu)
{
    struct riscv_jit_code *jc = cpu->bcache->jit;
    if (!jc)
        return 0;
    size_t held = riscv_jit_used(cpu);
    riscv_jit_flush(cpu);
    /* The buffer is a memfd (shared memory): MADV_DONTNEED would only
     * unmap its pages here, MADV_REMOVE frees them, in both views. The
     * stubs at the front stay. Advice: a failure only keeps the pages. */
    long psz = sysconf(_SC_PAGESIZE);
    size_t keep = (jc->reserved + (size_t)psz - 1) & ~((size_t)psz - 1);
    madvise(jc->base + keep, JIT_CODE_SIZE - keep, MADV_REMOVE);
    return held;
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

int riscv_jit_run(struct riscv_cpu *cpu, struct riscv_jit_run *run)
{
    run->exit_site = NULL;
    return cpu->bcache->jit->enter(cpu, (uint8_t *)run->b->jit + JIT_CHAIN_LEN, run);
}

_Static_assert(sizeof(struct riscv_tlb_entry) == 16, "TLB index scaling assumes 16-byte entries");
_Static_assert((RISCV_TLB_SIZE & (RISCV_TLB_SIZE - 1)) == 0, "TLB size is a power of two");
_Static_assert(sizeof(struct riscv_jc_entry) == 24, "jump-cache scaling assumes 24-byte entries");
_Static_assert(offsetof(struct riscv_tlb_set, x) < 0x10000, "TLB offsets fit a displacement");
_Static_assert((RISCV_JC_SIZE & (RISCV_JC_SIZE - 1)) == 0, "jump cache size is a power of two");

/* ---- helpers for the op templates ---- */

void jit_load_to(struct jit_ctx *c, int h, unsigned r)
{
    if (r == 0 || r >= 32)
        jit_mov_imm(&c->e, h, 0);
    else if (c->host[r] >= 0)
        jit_mov_rr(&c->e, h, c->host[r]);
    else
        jit_mov_load(&c->e, h, jit_xmem(r));
}

void jit_store_from(struct jit_ctx *c, unsigned rd, int h)
{
    if (rd == 0 || rd >= 32)
        return;
    if (c->host[rd] >= 0) {
        jit_mov_rr(&c->e, c->host[rd], h);
        jit_ra_written(c, rd);
    } else {
        jit_mov_store(&c->e, jit_xmem(rd), h);
    }
}

int jit_dest(const struct jit_ctx *c, unsigned rd, int keep)
{
    if (rd < 32 && c->host[rd] >= 0 && (int)rd != keep)
        return c->host[rd];
    return RAX;
}

void jit_side_exit(struct jit_ctx *c, uint8_t *rel, unsigned k)
{
    if (c->nfix < MAX_FIXUPS) {
        c->fix[c->nfix].rel = rel;
        c->fix[c->nfix].k = k;
        c->fix[c->nfix].ra = c->ra;
        c->nfix++;
    } else {
        c->e.overflow = true; /* at most two per instruction: cannot happen */
    }
}

/* Does op read / write an integer register through riscv_fp_exec? */
static bool fp_reads_x(unsigned op)
{
    return (op >= OP_FCVT_S_W && op <= OP_FMV_W_X) || (op >= OP_FCVT_D_W && op <= OP_FMV_D_X);
}

static bool fp_writes_x(unsigned op)
{
    return (op >= OP_FCVT_W_S && op <= OP_FCLASS_S) || (op >= OP_FCVT_W_D && op <= OP_FCLASS_D);
}

/* Call fn(cpu, rsi = `arg` or rax, edx = `arg2`): the caller-saved
 * registers that hold something (rdi and the block-local guest registers)
 * are saved around it, rsp stays 16-byte aligned. The result is in eax. */
void jit_emit_call(struct jit_ctx *c, const void *fn, bool arg_in_rax, uint64_t arg,
                   uint32_t arg2)
{
    struct jit_emit *e = &c->e;
    int saved[NLOCAL + 2], n = 0;
    saved[n++] = RDI;
    for (int r = 1; r < 32; r++)
        if (c->host[r] >= 0 && c->local[r])
            saved[n++] = c->host[r];
    if (n & 1)
        saved[n++] = RDI; /* a second copy keeps the alignment */
    for (int i = 0; i < n; i++)
        jit_push(e, saved[i]);
    if (arg_in_rax)
        jit_mov_rr(e, RSI, RAX);
    else
        jit_mov_imm(e, RSI, arg);
    jit_mov_imm(e, RDX, arg2);
    jit_mov_imm(e, RAX, (uint64_t)(uintptr_t)fn);
    jit_op1(e, 0, 0xff, 2, jit_r(RAX)); /* call rax */
    for (int i = n - 1; i >= 0; i--)
        jit_pop(e, saved[i]);
}

void jit_emit_helper(struct jit_ctx *c, const void *fn, const struct rv_insn *in, unsigned rs,
                     unsigned rd)
{
    struct jit_emit *e = &c->e;
    /* The helper reads x[rs] and may write x[rd] in memory. rd goes to
     * memory first too: if the helper refuses, the reload below must find
     * the value the block gave it, not an older one. */
    if (rs != 0 && rs < 32 && c->host[rs] >= 0)
        jit_mov_store(e, jit_xmem(rs), c->host[rs]);
    if (rd != 0 && rd < 32 && c->host[rd] >= 0 && rd != rs)
        jit_mov_store(e, jit_xmem(rd), c->host[rd]);
    jit_emit_call(c, fn, false, (uint64_t)(uintptr_t)in, 0);
    if (rd != 0 && rd < 32 && c->host[rd] >= 0) {
        jit_mov_load(e, c->host[rd], jit_xmem(rd));
        jit_ra_written(c, rd);
    }
}

void jit_emit_fp_call(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    jit_emit_helper(c, (const void *)(uintptr_t)riscv_fp_exec, in,
                    fp_reads_x(in->op) ? in->rs1 : 0, fp_writes_x(in->op) ? in->rd : 0);
    jit_op1(e, 0, 0x85, RAX, jit_r(RAX)); /* test eax, eax */
    jit_side_exit(c, jit_jcc32(e, CC_S), k); /* refused: the interpreter raises */
}

/* A memory op's site slot: the offset (from cpu->tlb_data) of the TLB
 * entry it used last time. Loading the entry through it does not depend on
 * the address, so the addend is ready by the time the address is, and the
 * host load waits for the address only; the entry's tag, compared with the
 * address, still decides every access (the slot is only a guess of which
 * entry to look at: nothing ever needs to invalidate it). */
static uint64_t *site_new(struct jit_ctx *c, bool write)
{
    struct riscv_jit_code *jc = c->code;
    if (jc->data_low < JIT_CODE_LIMIT + sizeof(uint64_t)) {
        c->e.overflow = true;
        return NULL;
    }
    jc->data_low -= sizeof(uint64_t);
    uint64_t *site = (uint64_t *)(jc->base + jc->data_low);
    *site = write ? offsetof(struct riscv_tlb_set, w) : offsetof(struct riscv_tlb_set, r);
    return site;
}

/* rcx = x[rs1] + imm (base: the host register holding x[rs1], -1 for x0) */
static void va_to_rcx(struct jit_emit *e, int base, int32_t imm)
{
    if (base < 0)
        jit_mov_imm(e, RCX, (uint64_t)(int64_t)imm);
    else
        jit_lea(e, RCX, jit_m(base, imm));
}

struct jit_rm jit_emit_access(struct jit_ctx *c, const struct rv_insn *in, unsigned k,
                              unsigned size, bool write)
{
    struct jit_emit *e = &c->e;
    int base;
    if (in->rs1 == 0) {
        base = -1;
    } else if (c->host[in->rs1] >= 0) {
        base = c->host[in->rs1];
    } else {
        base = RAX;
        jit_mov_load(e, RAX, jit_xmem(in->rs1));
    }
    uint64_t *site = site_new(c, write);
    if (!site)
        return jit_m(RAX, 0);
    /* rdx = the predicted entry; its tag must be the address's page (the
     * low bits that must be zero for an aligned access kept in) */
    jit_mov_load(e, RDX, jit_m(RDI, CPU_OFF(tlb_data)));
    jit_alu_rm(e, ALU_ADD, true, RDX, jit_rip(site));
    va_to_rcx(e, base, in->imm);
    jit_alu_imm(e, ALU_AND, true, jit_r(RCX), (int32_t)~(uint32_t)(0xfff & ~(size - 1)));
    jit_alu_rm(e, ALU_CMP, true, RCX, jit_m(RDX, (int32_t)offsetof(struct riscv_tlb_entry, tag)));
    uint8_t *rel = jit_jcc32(e, CC_NE);
    uint8_t *resume = e->p;
    jit_mov_load(e, RCX, jit_m(RDX, (int32_t)offsetof(struct riscv_tlb_entry, addend)));
    if (c->nmiss < sizeof(c->miss) / sizeof(c->miss[0])) {
        c->miss[c->nmiss].rel = rel;
        c->miss[c->nmiss].resume = resume;
        c->miss[c->nmiss].in = in;
        c->miss[c->nmiss].base = (int8_t)base;
        c->miss[c->nmiss].size = (uint8_t)size;
        c->miss[c->nmiss].write = write;
        c->miss[c->nmiss].k = k;
        c->miss[c->nmiss].site = site;
        c->miss[c->nmiss].ra = c->ra;
        c->nmiss++;
    } else {
        e->overflow = true; /* one per instruction: cannot happen */
    }
    if (base < 0)
        return jit_m(RCX, in->imm);
    return jit_mi(base, RCX, 0, in->imm);
}

/* rdx = tlb_data + [site]; compare the entry's tag with the address */
static void site_compare(struct jit_ctx *c, unsigned i)
{
    struct jit_emit *e = &c->e;
    unsigned size = c->miss[i].size;
    jit_mov_load(e, RDX, jit_m(RDI, CPU_OFF(tlb_data)));
    jit_alu_rm(e, ALU_ADD, true, RDX, jit_rip(c->miss[i].site));
    va_to_rcx(e, c->miss[i].base, c->miss[i].in->imm);
    jit_alu_imm(e, ALU_AND, true, jit_r(RCX), (int32_t)~(uint32_t)(0xfff & ~(size - 1)));
    jit_alu_rm(e, ALU_CMP, true, RCX, jit_m(RDX, (int32_t)offsetof(struct riscv_tlb_entry, tag)));
}

/* The site guessed wrong: look the entry up by the address and remember
 * it for next time; if the TLB does not map the address, have the MMU fill
 * it (riscv_tlb_fill_data: a page walk, nothing raised) and look again.
 * Only what the fill refuses - a fault, MMIO, a store to a code page, a
 * misaligned address - leaves, returning k: the interpreter does those. */
static void emit_access_miss(struct jit_ctx *c, unsigned i)
{
    struct jit_emit *e = &c->e;
    int32_t set_off = c->miss[i].write ? (int32_t)offsetof(struct riscv_tlb_set, w)
                                       : (int32_t)offsetof(struct riscv_tlb_set, r);
    jit_patch32(c->miss[i].rel, e->p);
    va_to_rcx(e, c->miss[i].base, c->miss[i].in->imm);
    jit_shift_imm(e, SH_SHR, true, RCX, 12 - 4);
    jit_alu_imm(e, ALU_AND, false, jit_r(RCX), (RISCV_TLB_SIZE - 1) << 4);
    jit_alu_imm(e, ALU_ADD, false, jit_r(RCX), set_off);
    jit_mov_store(e, jit_rip(c->miss[i].site), RCX);
    site_compare(c, i);
    uint8_t *hit = jit_jcc32(e, CC_E);
    /* rax = the address */
    if (c->miss[i].base < 0)
        jit_mov_imm(e, RAX, (uint64_t)(int64_t)c->miss[i].in->imm);
    else
        jit_lea(e, RAX, jit_m(c->miss[i].base, c->miss[i].in->imm));
    jit_emit_call(c, (const void *)(uintptr_t)riscv_tlb_fill_data, true, 0,
                  c->miss[i].size | (c->miss[i].write ? 0x100u : 0));
    jit_op1(e, 0, 0x85, RAX, jit_r(RAX)); /* test eax, eax */
    jit_side_exit(c, jit_jcc32(e, CC_NE), c->miss[i].k);
    site_compare(c, i);
    jit_side_exit(c, jit_jcc32(e, CC_NE), c->miss[i].k);
    jit_patch32(hit, c->miss[i].resume);
    jit_patch32(jit_jmp32(e), c->miss[i].resume);
}

/* ---- the buffer, its entry and exit ---- */

static void emit_exit(struct jit_emit *e)
{
    static const int8_t saved[] = { R15, R14, R13, R12, RBP, RBX };
    for (int i = 0; i < NGLOBAL; i++)
        jit_mov_store(e, jit_xmem(jit_global_reg[i]), jit_global_host[i]);
    jit_mov_load(e, RCX, jit_m(RSP, 0)); /* run */
    jit_mov_store(e, jit_m(RCX, RUN_OFF(left)), R15);
    jit_mov_store(e, jit_m(RCX, RUN_OFF(b)), RDX);
    jit_alu_imm(e, ALU_ADD, true, jit_r(RSP), 8);
    for (unsigned i = 0; i < sizeof(saved); i++)
        jit_pop(e, saved[i]);
    jit_emit_byte(e, 0xc3);
}

/* int enter(cpu = rdi, body = rsi, run = rdx) */
static void emit_enter(struct jit_emit *e)
{
    static const int8_t saved[] = { RBX, RBP, R12, R13, R14, R15 };
    for (unsigned i = 0; i < sizeof(saved); i++)
        jit_push(e, saved[i]);
    jit_push(e, RDX); /* run, at [rsp] */
    jit_mov_load(e, R15, jit_m(RDX, RUN_OFF(left)));
    for (int i = 0; i < NGLOBAL; i++)
        jit_mov_load(e, jit_global_host[i], jit_xmem(jit_global_reg[i]));
    jit_op1(e, 0, 0xff, 4, jit_r(RSI)); /* jmp rsi */
}

static struct riscv_jit_code *code_get(struct riscv_cpu *cpu)
{
    struct riscv_jit_code *jc = cpu->bcache->jit;
    if (jc)
        return jc;
    jc = calloc(1, sizeof(*jc));
    if (!jc)
        return NULL;
    /* W^X: the same pages twice, writable here, executable there (but the
     * sites' pages writable in both) */
    int fd = memfd_create("condo-jit", MFD_CLOEXEC);
    void *w = MAP_FAILED, *x = MAP_FAILED, *d = MAP_FAILED;
    if (fd >= 0 && ftruncate(fd, JIT_CODE_SIZE) == 0) {
        w = mmap(NULL, JIT_CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        x = mmap(NULL, JIT_CODE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        if (x != MAP_FAILED)
            d = mmap((uint8_t *)x + JIT_CODE_LIMIT, JIT_DATA_SIZE, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_FIXED, fd, JIT_CODE_LIMIT);
    }
    if (fd >= 0)
        close(fd); /* the mappings keep the pages */
    if (w == MAP_FAILED || x == MAP_FAILED || d == MAP_FAILED) {
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
    struct jit_emit e = { .p = jc->base, .end = jc->base + JIT_ENTRY_BYTES };
    jc->enter = (int (*)(struct riscv_cpu *, void *, struct riscv_jit_run *))(uintptr_t)(
        e.p + jc->exec_delta);
    emit_enter(&e);
    e.p = jc->base + JIT_ENTRY_BYTES / 2;
    jc->exit = e.p;
    emit_exit(&e);
    if (e.overflow) {
        munmap(w, JIT_CODE_SIZE);
        munmap(x, JIT_CODE_SIZE);
        free(jc);
        jit_enabled = 0; /* cannot happen: the two fit */
        return NULL;
    }
    jc->reserved = JIT_ENTRY_BYTES;
    jc->used = jc->reserved;
    jc->data_low = JIT_CODE_SIZE;
    cpu->bcache->jit = jc;
    return jc;
}

/* Space for n more bytes at the end of the buffer, or NULL (then full). */
static uint8_t *code_reserve(struct riscv_jit_code *jc, size_t n, size_t *avail)
{
    /* code and sites on different pages: stores to sites never touch a
     * cache line that holds code */
    if (jc->used > JIT_CODE_LIMIT || JIT_CODE_LIMIT - jc->used < n) {
        jc->full = true;
        return NULL;
    }
    *avail = JIT_CODE_LIMIT - jc->used;
    return jc->base + jc->used;
}

static void code_commit(struct riscv_jit_code *jc, uint8_t *end)
{
    jc->used = (size_t)(end - jc->base);
    jc->used = (jc->used + 15) & ~(size_t)15;
    if (jc->used > JIT_CODE_LIMIT)
        jc->used = JIT_CODE_LIMIT;
}

/* ---- compiling a block ---- */

static bool is_csr_op(unsigned op)
{
    return op >= OP_CSRRW && op <= OP_CSRRCI;
}

static bool insn_compiles(const struct rv_insn *in)
{
    if (is_csr_op(in->op))
        return !riscv_csr_uses_instret((unsigned)in->imm & 0xfff);
    return jit_op_uses(in->op) >= 0 || jit_fp_compiles(in->op);
}

/* The op that ends a block's compiled code. */
static bool op_terminates(unsigned op)
{
    return op == OP_END_BLOCK || riscv_op_ends_block(op);
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

bool riscv_jit_compile(struct riscv_cpu *cpu, struct riscv_block *b)
{
    struct riscv_jit_code *jc = code_get(cpu);
    if (!jc || jc->full)
        return false;

    /* How far the block compiles: up to and including its terminator, or
     * up to the first op left to the interpreter (n = its index). */
    unsigned n = 0, last = b->ninsns; /* insns[ninsns] may be END_BLOCK */
    bool ends = false;
    struct jit_ctx *c = &jc->ctx; /* per hart: harts compile concurrently */
    memset(c, 0, sizeof(*c));
    c->code = jc;
    c->b = b;
    c->vpc = b->vpc;
    c->page_off = (unsigned)(b->ppc & (GUEST_PAGE_SIZE - 1));
    c->ninsns = b->ninsns;
    for (unsigned i = 0; i <= last; i++) {
        const struct rv_insn *in = &b->insns[i];
        if (!insn_compiles(in))
            break;
        n = i + 1;
        if (op_terminates(in->op)) {
            ends = true;
            break;
        }
    }
    if (n == 0 || (!ends && n > last))
        return false; /* nothing compiles, or a block without its end marker */

    jit_ra_init(c, n);

    size_t avail;
    uint8_t *start =
        code_reserve(jc, (size_t)(n + 1) * JIT_MAX_INSN_BYTES + JIT_MAX_FIXED_BYTES, &avail);
    if (!start)
        return false;
    struct jit_emit *e = &c->e;
    e->p = start;
    e->end = start + avail;
    e->overflow = false;

    /* chain entry: test r15, r15; jle budget exit; sub r15, ninsns */
    jit_op1(e, JIT_W, 0x85, R15, jit_r(R15));
    c->budget_exit_rel = jit_jcc32(e, CC_LE);
    jit_op1(e, JIT_W, 0x83, ALU_SUB, jit_r(R15));
    jit_emit_byte(e, (uint8_t)b->ninsns);
    if (e->p != start + JIT_CHAIN_LEN || b->ninsns > 127)
        return false; /* cannot happen: fixed encoding, blocks are short */
    jit_ra_prologue(c);
    c->top = e->p;

    for (unsigned i = 0; i < n; i++) {
        const struct rv_insn *in = &b->insns[i];
        unsigned slow_before = c->nslow;
        jit_ra_before(c, i);
        if (jit_op_uses(in->op) >= 0 || is_csr_op(in->op))
            jit_emit_insn(c, in, i);
        else
            jit_emit_fp(c, in, i);
        jit_ra_after(c, i);
        for (unsigned s = slow_before; s < c->nslow; s++)
            if (!c->slow[s].resume)
                c->slow[s].resume = e->p;
    }
    /* Stopped before an op left to the interpreter: it resumes there. The
     * terminators above never fall through. */
    if (!ends) {
        jit_writeback_locals(c);
        jit_mov_imm(e, RAX, n);
    }

    /* side exits (eax = k, locals written back) and the end before an
     * interpreted op */
    uint8_t *local_exit = e->p;
    jit_mov_imm(e, RDX, (uint64_t)(uintptr_t)b);
    jit_patch32(jit_jmp32(e), jc->exit);

    /* chainable exits, until linked: cpu->pc = the target, note the site */
    for (unsigned s = 0; s < c->nslot; s++) {
        jit_patch32(c->slot[s], e->p);
        jit_mov_imm(e, RAX, c->slot_pc[s]);
        jit_mov_store(e, jit_m(RDI, CPU_OFF(pc)), RAX);
        jit_mov_load(e, RDX, jit_m(RSP, 0));
        jit_mov_imm(e, RAX, (uint64_t)(uintptr_t)c->slot[s]);
        jit_mov_store(e, jit_m(RDX, RUN_OFF(exit_site)), RAX);
        jit_mov_imm(e, RDX, (uint64_t)(uintptr_t)b);
        jit_mov_imm(e, RAX, 0xffffffffu);
        jit_patch32(jit_jmp32(e), jc->exit);
    }

    /* out-of-line TLB lookups and calls of riscv_fp_exec (they add side
     * exits) */
    for (unsigned i = 0; i < c->nmiss; i++) {
        c->ra = c->miss[i].ra; /* the registers as they were there */
        jit_ra_apply(c);
        emit_access_miss(c, i);
    }
    for (unsigned s = 0; s < c->nslow; s++) {
        c->ra = c->slow[s].ra;
        jit_ra_apply(c);
        for (unsigned r = 0; r < c->slow[s].nrel; r++)
            jit_patch32(c->slow[s].rel[r], e->p);
        jit_emit_fp_call(c, c->slow[s].in, c->slow[s].k);
        jit_patch32(jit_jmp32(e), c->slow[s].resume);
    }

    for (unsigned f = 0; f < c->nfix; f++) {
        jit_patch32(c->fix[f].rel, e->p);
        c->ra = c->fix[f].ra;
        jit_writeback_locals(c);
        jit_mov_imm(e, RAX, c->fix[f].k);
        jmp_to(e, local_exit);
    }

    /* the budget ran out at the chain entry: stop before this block */
    jit_patch32(c->budget_exit_rel, e->p);
    jit_mov_imm(e, RAX, c->vpc);
    jit_mov_store(e, jit_m(RDI, CPU_OFF(pc)), RAX);
    jit_mov_imm(e, RDX, 0);
    jit_mov_imm(e, RAX, 0xffffffffu);
    jit_patch32(jit_jmp32(e), jc->exit);

    if (e->overflow) {
        jc->full = true; /* only a full buffer can get here */
        return false;
    }
    if (jit_perfmap) {
        fprintf(jit_perfmap, "%llx %llx rv_%llx_%u\n",
                (unsigned long long)(uintptr_t)(start + jc->exec_delta),
                (unsigned long long)(e->p - start), (unsigned long long)b->ppc, n);
        fflush(jit_perfmap);
    }
    if (jit_dump_dir) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%llx_%llx.bin", jit_dump_dir,
                 (unsigned long long)b->ppc, (unsigned long long)b->vpc);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(start, 1, (size_t)(e->p - start), f);
            fclose(f);
        }
    }
    code_commit(jc, e->p);
    b->jit = start + jc->exec_delta; /* it runs from the executable view */
    return true;
}

/* ---- chaining ---- */

/* A link stub: a header (found through the jump it serves, so an exit that
 * is already linked to the same block is left alone), then its code.
 * Same-page links need no stub. */
struct jit_link_hdr {
    uint64_t magic; /* JIT_LINK_MAGIC ^ the code's address */
    const struct riscv_block *next;
    uint8_t *unlinked; /* where the exit led before it was linked */
    uint64_t pad;
};

static struct jit_link_hdr *link_of(const struct riscv_jit_code *jc, uint8_t *code)
{
    /* stubs start 16-byte aligned, their code right after the header */
    _Static_assert(sizeof(struct jit_link_hdr) % 16 == 0, "stub code stays aligned");
    if (code < jc->base + jc->reserved + sizeof(struct jit_link_hdr) ||
        code >= jc->base + JIT_CODE_SIZE || ((uintptr_t)code & 15))
        return NULL;
    struct jit_link_hdr *h = (struct jit_link_hdr *)(code - sizeof(*h));
    return h->magic == (JIT_LINK_MAGIC ^ (uintptr_t)code) ? h : NULL;
}

/* A block's executable entry as the writable address the compiler uses */
static const uint8_t *writable(const struct riscv_jit_code *jc, const void *exec)
{
    return (const uint8_t *)exec - jc->exec_delta;
}

/* The exit at `rel` (a slot's rel32) currently leads to: */
static uint8_t *slot_target(uint8_t *rel)
{
    int32_t d;
    memcpy(&d, rel, 4);
    return rel + 4 + d;
}

void riscv_jit_chain(struct riscv_cpu *cpu, void *exit_site, struct riscv_block *next)
{
    struct riscv_jit_code *jc = cpu->bcache->jit;
    uint64_t vpc = cpu->pc;
    if (!next->jit || !jc || next->vpc != vpc)
        return;
    /* The loop just found next valid for vpc, so the fetch TLB maps vpc's
     * page to next's: make the jump cache say so too, for compiled jalrs. */
    const struct riscv_tlb_entry *te = &cpu->tlb_fetch->x[(vpc >> 12) & (RISCV_TLB_SIZE - 1)];
    if (te->tag != (vpc & ~0xfffull))
        return; /* cannot happen */
    struct riscv_jc_entry *j = &cpu->jc[(vpc >> 1) & (RISCV_JC_SIZE - 1)];
    j->vpc = vpc;
    j->block = next;
    j->addend = te->addend;

    uint8_t *rel = exit_site;
    if (!rel || jc->full)
        return; /* a jalr: it looks the jump cache up itself */
    bool same_page = rel[4] != 0;
    uint8_t *cur = slot_target(rel);
    if (same_page) {
        /* within the block's own page: straight to the target */
        jit_patch32(rel, writable(jc, next->jit));
        return;
    }
    struct jit_link_hdr *old = link_of(jc, cur);
    if (old && old->next == next)
        return; /* linked so already: a check failed, which it makes itself */
    uint8_t *unlinked = old ? old->unlinked : cur;

    size_t avail;
    uint8_t *start = code_reserve(jc, JIT_LINK_BYTES, &avail);
    if (!start)
        return;
    struct jit_link_hdr *h = (struct jit_link_hdr *)start;
    uint8_t *code = start + sizeof(*h);
    struct jit_emit em = { .p = code, .end = start + JIT_LINK_BYTES }, *e = &em;
    uint8_t *fail[4];
    unsigned nfail = 0;

    /* The translation still holds: the fetch TLB maps vpc's page as now. */
    int32_t tx = (int32_t)(offsetof(struct riscv_tlb_set, x) +
                           ((vpc >> 12) & (RISCV_TLB_SIZE - 1)) * sizeof(struct riscv_tlb_entry));
    jit_mov_load(e, RDX, jit_m(RDI, CPU_OFF(tlb_fetch)));
    jit_mov_imm(e, RAX, vpc & ~0xfffull);
    jit_alu_rm(e, ALU_CMP, true, RAX,
               jit_m(RDX, tx + (int32_t)offsetof(struct riscv_tlb_entry, tag)));
    fail[nfail++] = jit_jcc32(e, CC_NE);
    jit_mov_imm(e, RAX, te->addend);
    jit_alu_rm(e, ALU_CMP, true, RAX,
               jit_m(RDX, tx + (int32_t)offsetof(struct riscv_tlb_entry, addend)));
    fail[nfail++] = jit_jcc32(e, CC_NE);
    /* next's page not written since it was decoded */
    jit_mov_load(e, RDX, jit_m(RDI, CPU_OFF(ram)));
    jit_mov_load(e, RDX, jit_m(RDX, (int32_t)offsetof(struct guest_ram, page_gen)));
    jit_mov_imm(e, RAX, next->ram_page);
    jit_op1(e, 0, 0x8b, RAX, jit_mi(RDX, RAX, 2, 0)); /* mov eax, [rdx + rax*4] */
    jit_alu_imm(e, ALU_CMP, false, jit_r(RAX), (int32_t)next->gen);
    fail[nfail++] = jit_jcc32(e, CC_NE);
    jit_patch32(jit_jmp32(e), writable(jc, next->jit));
    for (unsigned i = 0; i < nfail; i++)
        jit_patch32(fail[i], unlinked);
    if (e->overflow)
        return; /* cannot happen: JIT_LINK_BYTES covers the stub */

    memset(h, 0, sizeof(*h));
    h->magic = JIT_LINK_MAGIC ^ (uintptr_t)code;
    h->next = next;
    h->unlinked = unlinked;
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

bool riscv_jit_compile(struct riscv_cpu *cpu, struct riscv_block *b)
{
    (void)cpu;
    (void)b;
    return false;
}

int riscv_jit_run(struct riscv_cpu *cpu, struct riscv_jit_run *run)
{
    (void)cpu;
    (void)run;
    return 0;
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

size_t riscv_jit_trim(struct riscv_cpu *cpu)
{
    (void)cpu;
    return 0;
}

size_t riscv_jit_used(struct riscv_cpu *cpu)
{
    (void)cpu;
    return 0;
}

void riscv_jit_free(struct riscv_cpu *cpu)
{
    (void)cpu;
}

#endif
