/* The x86-64 JIT's templates for the integer, memory and control-flow ops
 * (register convention: jit_x86_64.h). A block is compiled for one virtual
 * pc, so pc-relative values (auipc, link addresses, branch targets) are
 * constants. */
#include "jit.h"

#if defined(__x86_64__)

#include <string.h>

#include "jit_x86_64.h"

int jit_op_uses(unsigned op)
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
    case OP_AMOSWAP_W: case OP_AMOADD_W: case OP_AMOXOR_W: case OP_AMOAND_W: case OP_AMOOR_W:
    case OP_AMOMIN_W: case OP_AMOMAX_W: case OP_AMOMINU_W: case OP_AMOMAXU_W:
    case OP_AMOSWAP_D: case OP_AMOADD_D: case OP_AMOXOR_D: case OP_AMOAND_D: case OP_AMOOR_D:
    case OP_AMOMIN_D: case OP_AMOMAX_D: case OP_AMOMINU_D: case OP_AMOMAXU_D:
        return U_RS1 | U_RS2 | U_RD | U_MEM;
    case OP_ADD: case OP_SUB: case OP_SLL: case OP_SLT: case OP_SLTU: case OP_XOR:
    case OP_SRL: case OP_SRA: case OP_OR: case OP_AND:
    case OP_ADDW: case OP_SUBW: case OP_SLLW: case OP_SRLW: case OP_SRAW:
    case OP_MUL: case OP_MULH: case OP_MULHSU: case OP_MULHU:
    case OP_DIV: case OP_DIVU: case OP_REM: case OP_REMU:
    case OP_MULW: case OP_DIVW: case OP_DIVUW: case OP_REMW: case OP_REMUW:
        return U_RS1 | U_RS2 | U_RD;
    default:
        return -1; /* F/D (jit_x86_64_fp.c), or not compiled */
    }
}

/* A chainable exit to `target` (locals written back): a jmp that leads
 * to the interpreter until riscv_jit_chain() redirects it. The byte after
 * the jmp (never executed) says whether the target lies in the block's
 * own page: such a link needs no checks, as the block itself was entered
 * under a valid translation of its page and compiled code never writes
 * code pages. */
static void chain_exit(struct jit_ctx *c, uint64_t target)
{
    uint8_t *rel = jit_jmp32(&c->e);
    jit_emit_byte(&c->e, (target & ~0xfffull) == (c->vpc & ~0xfffull));
    if (c->nslot < 2) {
        c->slot[c->nslot] = rel;
        c->slot_pc[c->nslot] = target;
        c->nslot++;
    } else {
        c->e.overflow = true;
    }
}

/* The block's own start again: run it once more right here, the guest
 * registers staying in host registers, while the budget lasts. */
static void loop_back(struct jit_ctx *c)
{
    struct jit_emit *e = &c->e;
    jit_op1(e, JIT_W, 0x85, R15, jit_r(R15)); /* test r15, r15 */
    uint8_t *out = jit_jcc32(e, CC_LE);
    jit_alu_imm(e, ALU_SUB, true, jit_r(R15), (int32_t)c->ninsns);
    struct jit_ra now = c->ra;
    jit_ra_to_top(c);
    jit_patch32(jit_jmp32(e), c->top);
    /* out of budget: the block ran, the next pc is its start */
    jit_patch32(out, e->p);
    c->ra = now;
    jit_ra_apply(c);
    jit_writeback_locals(c);
    jit_mov_imm(e, RAX, c->vpc);
    jit_mov_store(e, jit_m(RDI, CPU_OFF(pc)), RAX);
    jit_mov_imm(e, RDX, (uint64_t)(uintptr_t)c->b);
    jit_mov_imm(e, RAX, 0xffffffffu);
    jit_patch32(jit_jmp32(e), c->code->exit);
}

static void emit_load(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    static const uint8_t size[] = { [OP_LB - OP_LB] = 1, [OP_LH - OP_LB] = 2,
                                    [OP_LW - OP_LB] = 4, [OP_LD - OP_LB] = 8,
                                    [OP_LBU - OP_LB] = 1, [OP_LHU - OP_LB] = 2,
                                    [OP_LWU - OP_LB] = 4 };
    struct jit_rm m = jit_emit_access(c, in, k, size[in->op - OP_LB], false);
    if (in->rd >= 32)
        return; /* x0: the access is checked, the value dropped */
    int d = jit_dest(c, in->rd, -1);
    switch (in->op) {
    case OP_LB: jit_op2(e, JIT_W, 0x0f, 0xbe, d, m); break;  /* movsx r64, m8 */
    case OP_LBU: jit_op2(e, 0, 0x0f, 0xb6, d, m); break;     /* movzx r32, m8 */
    case OP_LH: jit_op2(e, JIT_W, 0x0f, 0xbf, d, m); break;  /* movsx r64, m16 */
    case OP_LHU: jit_op2(e, 0, 0x0f, 0xb7, d, m); break;     /* movzx r32, m16 */
    case OP_LW: jit_movsxd(e, d, m); break;
    case OP_LWU: jit_op1(e, 0, 0x8b, d, m); break;           /* mov r32, m32 */
    default: jit_mov_load(e, d, m); break;                   /* LD */
    }
    jit_store_from(c, in->rd, d);
}

static void emit_store(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned size = 1u << (in->op - OP_SB);
    struct jit_rm m = jit_emit_access(c, in, k, size, true);
    int v = RDX;
    if (in->rs2 != 0 && c->host[in->rs2] >= 0)
        v = c->host[in->rs2];
    else
        jit_load_to(c, RDX, in->rs2);
    switch (size) {
    case 1: jit_op1(e, JIT_BYTE, 0x88, v, m); break;
    case 2: jit_op1(e, JIT_OPSIZE, 0x89, v, m); break;
    case 4: jit_op1(e, 0, 0x89, v, m); break;
    default: jit_op1(e, JIT_W, 0x89, v, m); break;
    }
}

/* AMOs as locked host read-modify-writes (atomic for other harts too):
 * xadd and xchg where x86 has them, else a cmpxchg loop. The access goes
 * through the write TLB (a writable page is readable); misaligned
 * addresses, MMIO and code pages are left to the interpreter. */
static void emit_amo(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    bool d = in->op >= OP_AMOSWAP_D;
    unsigned op = in->op - (d ? OP_AMOSWAP_D - OP_AMOSWAP_W : 0);
    unsigned w = d ? JIT_W : 0;
    /* the decoder leaves imm 0: the address is x[rs1] */
    struct jit_rm m = jit_emit_access(c, in, k, d ? 8 : 4, true);
    /* rcx = the host address: rax and rdx are free for the operation */
    jit_lea(e, RCX, m);
    m = jit_m(RCX, 0);
    switch (op) {
    case OP_AMOADD_W:
        jit_load_to(c, RDX, in->rs2);
        jit_emit_byte(e, 0xf0); /* lock */
        jit_op2(e, w, 0x0f, 0xc1, RDX, m); /* xadd [m], rdx */
        break;
    case OP_AMOSWAP_W:
        jit_load_to(c, RDX, in->rs2);
        jit_op1(e, w, 0x87, RDX, m); /* xchg [m], rdx (locked by itself) */
        break;
    default: {
        /* rax = old; rdx = new from old and rs2; lock cmpxchg; again if
         * another writer came between */
        jit_op1(e, w, 0x8b, RAX, m);
        uint8_t *again = e->p;
        jit_load_to(c, RDX, in->rs2);
        if (op == OP_AMOXOR_W || op == OP_AMOAND_W || op == OP_AMOOR_W) {
            unsigned alu = op == OP_AMOXOR_W ? ALU_XOR : op == OP_AMOAND_W ? ALU_AND : ALU_OR;
            jit_alu_rm(e, alu, d, RDX, jit_r(RAX));
        } else {
            /* min/max: keep old (rax) when it wins the compare */
            unsigned cc = op == OP_AMOMIN_W ? CC_L : op == OP_AMOMAX_W ? CC_G
                          : op == OP_AMOMINU_W ? CC_B : CC_A;
            jit_alu_rm(e, ALU_CMP, d, RAX, jit_r(RDX));
            jit_op2(e, w, 0x0f, (uint8_t)(0x40 + cc), RDX, jit_r(RAX)); /* cmovcc rdx, rax */
        }
        jit_emit_byte(e, 0xf0); /* lock */
        jit_op2(e, w, 0x0f, 0xb1, RDX, m); /* cmpxchg [m], rdx */
        uint8_t *retry = jit_jcc8(e, CC_NE);
        jit_patch8(e, retry, again);
        jit_mov_rr(e, RDX, RAX);
        break;
    }
    }
    /* rdx = the old value: rd gets it (sign-extended for .w) */
    if (!d)
        jit_movsxd(e, RDX, jit_r(RDX));
    jit_store_from(c, in->rd, RDX);
}

/* A CSR instruction (it ends its block) through riscv_jit_csr(): -1 leaves
 * for the interpreter to raise; 1 goes back to the loop (an interrupt may
 * be due, or the address space changed); 0 goes on like any block end. */
static void emit_csr(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    uint64_t next = c->vpc + in->pcoff + in->len;
    bool reg = in->op <= OP_CSRRC;
    jit_emit_helper(c, (const void *)(uintptr_t)riscv_jit_csr, in, reg ? in->rs1 : 0, in->rd);
    jit_op1(e, 0, 0x85, RAX, jit_r(RAX)); /* test eax, eax */
    jit_side_exit(c, jit_jcc32(e, CC_S), k);
    uint8_t *to_loop = jit_jcc32(e, CC_NE);
    jit_writeback_locals(c);
    chain_exit(c, next);
    jit_patch32(to_loop, e->p);
    jit_writeback_locals(c);
    jit_mov_imm(e, RAX, next);
    jit_mov_store(e, jit_m(RDI, CPU_OFF(pc)), RAX);
    jit_mov_imm(e, RDX, (uint64_t)(uintptr_t)c->b);
    jit_mov_imm(e, RAX, 0xffffffffu);
    jit_patch32(jit_jmp32(e), c->code->exit);
}

static void emit_div(struct jit_ctx *c, const struct rv_insn *in)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op;
    bool w = op == OP_DIVW || op == OP_DIVUW || op == OP_REMW || op == OP_REMUW;
    bool is_signed = op == OP_DIV || op == OP_REM || op == OP_DIVW || op == OP_REMW;
    bool rem = op == OP_REM || op == OP_REMU || op == OP_REMW || op == OP_REMUW;
    jit_load_to(c, RCX, in->rs2);
    jit_load_to(c, RAX, in->rs1);
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
    jit_store_from(c, in->rd, RAX);
}

static void emit_branch(struct jit_ctx *c, const struct rv_insn *in)
{
    struct jit_emit *e = &c->e;
    static const uint8_t cc[] = { [OP_BEQ - OP_BEQ] = CC_E,  [OP_BNE - OP_BEQ] = CC_NE,
                                  [OP_BLT - OP_BEQ] = CC_L,  [OP_BGE - OP_BEQ] = CC_GE,
                                  [OP_BLTU - OP_BEQ] = CC_B, [OP_BGEU - OP_BEQ] = CC_AE };
    uint64_t taken_pc = c->vpc + in->pcoff + (uint64_t)(int64_t)in->imm;
    uint64_t next_pc = c->vpc + in->pcoff + in->len;
    int a;
    if (in->rs1 != 0 && c->host[in->rs1] >= 0) {
        a = c->host[in->rs1];
    } else {
        a = RAX;
        jit_load_to(c, RAX, in->rs1);
    }
    if (in->rs2 == 0)
        jit_op1(e, JIT_W, 0x85, a, jit_r(a)); /* test a, a: the same flags as cmp a, 0 */
    else
        jit_alu_rm(e, ALU_CMP, true, a, jit_xsrc(c, in->rs2));
    if (taken_pc == c->vpc) {
        uint8_t *loop = jit_jcc32(e, cc[in->op - OP_BEQ]);
        jit_writeback_locals(c);
        chain_exit(c, next_pc);
        jit_patch32(loop, e->p);
        loop_back(c);
        return;
    }
    jit_writeback_locals(c);
    uint8_t *taken = jit_jcc32(e, cc[in->op - OP_BEQ]);
    chain_exit(c, next_pc);
    jit_patch32(taken, e->p);
    chain_exit(c, taken_pc);
}

/* jalr: rcx = target (locals written back). Go on through the jump cache
 * when it knows a compiled block there whose page the fetch TLB still maps
 * as it did (block.c's test), else back to the loop. The local registers
 * are free here: r8 and r9 serve as scratch. */
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
    /* r8 = the fetch TLB entry of the pc's page: tag and addend as made */
    jit_mov_rr(e, R8, RCX);
    jit_shift_imm(e, SH_SHR, true, R8, 12 - 4);
    jit_alu_imm(e, ALU_AND, false, jit_r(R8), (RISCV_TLB_SIZE - 1) << 4);
    jit_alu_rm(e, ALU_ADD, true, R8, jit_m(RDI, CPU_OFF(tlb_fetch)));
    jit_mov_load(e, R9, jit_m(R8, (int32_t)(offsetof(struct riscv_tlb_set, x) +
                                             offsetof(struct riscv_tlb_entry, addend))));
    jit_alu_rm(e, ALU_CMP, true, R9,
               jit_m(RAX, (int32_t)offsetof(struct riscv_jc_entry, addend)));
    miss[nmiss++] = jit_jcc32(e, CC_NE);
    jit_mov_rr(e, R9, RCX);
    jit_alu_imm(e, ALU_AND, true, jit_r(R9), -4096);
    jit_alu_rm(e, ALU_CMP, true, R9, jit_m(R8, (int32_t)(offsetof(struct riscv_tlb_set, x) +
                                                          offsetof(struct riscv_tlb_entry, tag))));
    miss[nmiss++] = jit_jcc32(e, CC_NE);
    /* rax = the block, rdx = its code */
    jit_mov_load(e, RAX, jit_m(RAX, (int32_t)offsetof(struct riscv_jc_entry, block)));
    jit_op1(e, JIT_W, 0x85, RAX, jit_r(RAX));
    miss[nmiss++] = jit_jcc32(e, CC_E);
    jit_mov_load(e, RDX, jit_m(RAX, BLK_OFF(jit)));
    jit_op1(e, JIT_W, 0x85, RDX, jit_r(RDX));
    miss[nmiss++] = jit_jcc32(e, CC_E);
    /* the block's page unchanged: page_gen[ram_page] == gen */
    jit_mov_load(e, R8, jit_m(RDI, CPU_OFF(ram)));
    jit_mov_load(e, R8, jit_m(R8, (int32_t)offsetof(struct guest_ram, page_gen)));
    jit_mov_load(e, R9, jit_m(RAX, BLK_OFF(ram_page)));
    jit_op1(e, 0, 0x8b, R8, jit_mi(R8, R9, 2, 0)); /* mov r8d, [r8 + r9*4] */
    jit_alu_rm(e, ALU_CMP, false, R8, jit_m(RAX, BLK_OFF(gen)));
    miss[nmiss++] = jit_jcc32(e, CC_NE);
    jit_op1(e, 0, 0xff, 4, jit_r(RDX)); /* jmp rdx: its chain entry takes the budget */
    for (unsigned i = 0; i < nmiss; i++)
        jit_patch32(miss[i], e->p);
    jit_mov_store(e, jit_m(RDI, CPU_OFF(pc)), RCX);
    jit_mov_imm(e, RDX, (uint64_t)(uintptr_t)c->b);
    jit_mov_imm(e, RAX, 0xffffffffu);
    jit_patch32(jit_jmp32(e), c->code->exit);
}

void jit_emit_insn(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op, rd = in->rd, rs1 = in->rs1, rs2 = in->rs2;
    int32_t imm = in->imm;
    uint64_t pc = c->vpc + in->pcoff;
    int d;
    /* Results for x0 are dropped: only memory accesses and control flow
     * have effects beyond rd. */
    if (rd >= 32 && (jit_op_uses(op) & U_RD) && !(jit_op_uses(op) & U_MEM) && op != OP_JAL &&
        op != OP_JALR)
        return;

    switch (op) {
    case OP_NOP:
        return;
    case OP_FENCE:
        if (riscv_fence_orders_store_load(imm)) { /* mfence: as the interpreter */
            jit_emit_byte(e, 0x0f);
            jit_emit_byte(e, 0xae);
            jit_emit_byte(e, 0xf0);
        }
        return;
    case OP_CSRRW: case OP_CSRRS: case OP_CSRRC: case OP_CSRRWI: case OP_CSRRSI: case OP_CSRRCI:
        emit_csr(c, in, k);
        return;
    case OP_END_BLOCK:
        jit_writeback_locals(c);
        chain_exit(c, pc);
        return;
    case OP_LUI:
        d = jit_dest(c, rd, -1);
        jit_mov_imm(e, d, (uint64_t)(int64_t)imm);
        jit_store_from(c, rd, d);
        return;
    case OP_AUIPC:
        d = jit_dest(c, rd, -1);
        jit_mov_imm(e, d, pc + (uint64_t)(int64_t)imm);
        jit_store_from(c, rd, d);
        return;
    case OP_JAL: {
        uint64_t target = pc + (uint64_t)(int64_t)imm;
        if (rd < 32) {
            d = jit_dest(c, rd, -1);
            jit_mov_imm(e, d, pc + in->len);
            jit_store_from(c, rd, d);
        }
        if (target == c->vpc) {
            loop_back(c);
            return;
        }
        jit_writeback_locals(c);
        chain_exit(c, target);
        return;
    }
    case OP_JALR:
        /* the target first: rd may be rs1 */
        if (rs1 != 0 && c->host[rs1] >= 0) {
            jit_lea(e, RCX, jit_m(c->host[rs1], imm));
        } else {
            jit_load_to(c, RCX, rs1);
            if (imm)
                jit_alu_imm(e, ALU_ADD, true, jit_r(RCX), imm);
        }
        jit_alu_imm(e, ALU_AND, true, jit_r(RCX), -2);
        if (rd < 32) {
            d = jit_dest(c, rd, -1);
            jit_mov_imm(e, d, pc + in->len);
            jit_store_from(c, rd, d);
        }
        jit_writeback_locals(c);
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
    case OP_AMOSWAP_W: case OP_AMOADD_W: case OP_AMOXOR_W: case OP_AMOAND_W: case OP_AMOOR_W:
    case OP_AMOMIN_W: case OP_AMOMAX_W: case OP_AMOMINU_W: case OP_AMOMAXU_W:
    case OP_AMOSWAP_D: case OP_AMOADD_D: case OP_AMOXOR_D: case OP_AMOAND_D: case OP_AMOOR_D:
    case OP_AMOMIN_D: case OP_AMOMAX_D: case OP_AMOMINU_D: case OP_AMOMAXU_D:
        emit_amo(c, in, k);
        return;

    case OP_ADDI:
        d = jit_dest(c, rd, -1);
        if (rs1 == 0)
            jit_mov_imm(e, d, (uint64_t)(int64_t)imm);
        else if (c->host[rs1] >= 0 && c->host[rs1] != d && imm != 0)
            jit_lea(e, d, jit_m(c->host[rs1], imm));
        else {
            jit_load_to(c, d, rs1);
            if (imm)
                jit_alu_imm(e, ALU_ADD, true, jit_r(d), imm);
        }
        jit_store_from(c, rd, d);
        return;
    case OP_XORI: case OP_ORI: case OP_ANDI: {
        unsigned alu = op == OP_XORI ? ALU_XOR : op == OP_ORI ? ALU_OR : ALU_AND;
        d = jit_dest(c, rd, -1);
        jit_load_to(c, d, rs1);
        jit_alu_imm(e, alu, true, jit_r(d), imm);
        jit_store_from(c, rd, d);
        return;
    }
    case OP_SLTI: case OP_SLTIU:
        jit_load_to(c, RAX, rs1);
        jit_alu_imm(e, ALU_CMP, true, jit_r(RAX), imm);
        jit_setcc(e, op == OP_SLTI ? CC_L : CC_B, RAX);
        jit_movzx8(e, RAX, jit_r(RAX));
        jit_store_from(c, rd, RAX);
        return;
    case OP_SLLI: case OP_SRLI: case OP_SRAI: {
        unsigned sh = op == OP_SLLI ? SH_SHL : op == OP_SRLI ? SH_SHR : SH_SAR;
        d = jit_dest(c, rd, -1);
        jit_load_to(c, d, rs1);
        if (imm & 63)
            jit_shift_imm(e, sh, true, d, (unsigned)imm & 63);
        jit_store_from(c, rd, d);
        return;
    }
    case OP_ADDIW:
        d = jit_dest(c, rd, -1);
        if (imm == 0 && rs1 != 0) { /* sext.w */
            jit_movsxd(e, d, jit_xsrc(c, rs1));
        } else {
            jit_load_to(c, d, rs1);
            if (imm)
                jit_alu_imm(e, ALU_ADD, false, jit_r(d), imm);
            jit_movsxd(e, d, jit_r(d));
        }
        jit_store_from(c, rd, d);
        return;
    case OP_SLLIW: case OP_SRLIW: case OP_SRAIW: {
        unsigned sh = op == OP_SLLIW ? SH_SHL : op == OP_SRLIW ? SH_SHR : SH_SAR;
        d = jit_dest(c, rd, -1);
        jit_load_to(c, d, rs1);
        if (imm & 31)
            jit_shift_imm(e, sh, false, d, (unsigned)imm & 31);
        /* a logical right shift by 1-31 leaves bit 31 clear, so the 32-bit
         * op's zero extension is already the sign extension */
        if (!(op == OP_SRLIW && (imm & 31)))
            jit_movsxd(e, d, jit_r(d));
        jit_store_from(c, rd, d);
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
        d = jit_dest(c, rd, (int)bb);
        if (bb == 0 && alu != ALU_AND) { /* x + 0, x - 0, x | 0, x ^ 0: a move */
            if (w)
                jit_movsxd(e, d, a ? jit_xsrc(c, a) : jit_xmem(0));
            else
                jit_load_to(c, d, a);
        } else if (a == 0 && alu != ALU_SUB && alu != ALU_AND) {
            if (w)
                jit_movsxd(e, d, jit_xsrc(c, bb));
            else
                jit_load_to(c, d, bb);
        } else if (op == OP_ADD && c->host[a] >= 0 && c->host[bb] >= 0 && d != c->host[a] &&
                   d != c->host[bb]) {
            jit_lea(e, d, jit_mi(c->host[a], c->host[bb], 0, 0)); /* three-operand add */
        } else {
            jit_load_to(c, d, a);
            jit_alu_rm(e, alu, !w, d, jit_xsrc(c, bb));
            if (w)
                jit_movsxd(e, d, jit_r(d));
        }
        jit_store_from(c, rd, d);
        return;
    }
    case OP_SLT: case OP_SLTU:
        jit_load_to(c, RAX, rs1);
        jit_alu_rm(e, ALU_CMP, true, RAX, jit_xsrc(c, rs2));
        jit_setcc(e, op == OP_SLT ? CC_L : CC_B, RAX);
        jit_movzx8(e, RAX, jit_r(RAX));
        jit_store_from(c, rd, RAX);
        return;
    case OP_SLL: case OP_SRL: case OP_SRA: case OP_SLLW: case OP_SRLW: case OP_SRAW: {
        unsigned sh = (op == OP_SLL || op == OP_SLLW) ? SH_SHL
                      : (op == OP_SRL || op == OP_SRLW) ? SH_SHR : SH_SAR;
        bool w = op == OP_SLLW || op == OP_SRLW || op == OP_SRAW;
        jit_load_to(c, RCX, rs2); /* the count is consumed before rd is written */
        d = jit_dest(c, rd, -1);
        jit_load_to(c, d, rs1);
        jit_shift_cl(e, sh, !w, d); /* masks the count to 63 / 31 */
        if (w)
            jit_movsxd(e, d, jit_r(d));
        jit_store_from(c, rd, d);
        return;
    }
    case OP_MUL: case OP_MULW: {
        unsigned a = rs1, bb = rs2;
        if (rd == rs2 && rd != rs1) {
            a = rs2; /* commutative: compute in rd's own register */
            bb = rs1;
        }
        d = jit_dest(c, rd, (int)bb);
        jit_load_to(c, d, a);
        jit_imul_rm(e, op == OP_MUL, d, jit_xsrc(c, bb));
        if (op == OP_MULW)
            jit_movsxd(e, d, jit_r(d));
        jit_store_from(c, rd, d);
        return;
    }
    case OP_MULH: case OP_MULHU:
        jit_load_to(c, RAX, rs1);
        jit_unary(e, op == OP_MULH ? U_IMUL : U_MUL, true, jit_xsrc(c, rs2));
        jit_store_from(c, rd, RDX);
        return;
    case OP_MULHSU:
        /* signed x unsigned: the unsigned high half, less rs2 when rs1 < 0 */
        jit_load_to(c, RAX, rs1);
        jit_unary(e, U_MUL, true, jit_xsrc(c, rs2));
        jit_load_to(c, RCX, rs1);
        jit_shift_imm(e, SH_SAR, true, RCX, 63);
        jit_alu_rm(e, ALU_AND, true, RCX, jit_xsrc(c, rs2));
        jit_alu_rm(e, ALU_SUB, true, RDX, jit_r(RCX));
        jit_store_from(c, rd, RDX);
        return;
    case OP_DIV: case OP_DIVU: case OP_REM: case OP_REMU:
    case OP_DIVW: case OP_DIVUW: case OP_REMW: case OP_REMUW:
        emit_div(c, in);
        return;
    default:
        e->overflow = true; /* jit_op_uses() and this switch disagree */
        return;
    }
}

#endif
