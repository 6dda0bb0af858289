/* The x86-64 JIT's templates for F and D. Every op compiles: each has an
 * inline fast path for the common case and otherwise calls riscv_fp_exec()
 * (fp_exec.c), the semantics the interpreter uses too. The fast paths give
 * bit for bit the interpreter's results and flags, because they run only
 * where the host's answer is the RISC-V answer:
 *
 * - Arithmetic (add, sub, mul, div, sqrt, the fused ops, fcvt.s.d) runs on
 *   the host's SSE/FMA unit, which always rounds to nearest-even (nothing
 *   in condo changes MXCSR). So it needs the RISC-V rounding mode to be RNE
 *   (a static rm of 0, or the dynamic mode with frm = 0).
 * - The only flag an inline path may need to raise is NX (inexact): the
 *   arithmetic ops take the fast path only when NX is already set in
 *   fflags (it is sticky: after the first inexact result of a program it
 *   stays set), and conversions compute it exactly (convert back and
 *   compare).
 * - Every other flag is ruled out by the result's exponent: a finite
 *   result of finite operands is never invalid or a division by zero, an
 *   overflow shows as an infinite result, an underflow needs a result below
 *   twice the smallest normal. NaN and infinite results and results that
 *   small go to riscv_fp_exec (which also gives RISC-V's canonical NaN).
 * - Single-precision operands must be NaN-boxed (upper half all ones);
 *   otherwise riscv_fp_exec sees the canonical NaN the ISA prescribes.
 * mstatus.FS is checked before a block's first F/D op (off: the
 * interpreter takes over there and raises) and set dirty at its first op
 * that dirties it; nothing in between can change it. */
#include "jit.h"

#if defined(__x86_64__)

#include "jit_x86_64.h"

bool jit_host_fma(void)
{
    return __builtin_cpu_supports("fma") != 0; /* a word libgcc filled at startup */
}

bool jit_fp_compiles(unsigned op)
{
    return op >= OP_FLW && op <= OP_FCVT_D_S;
}

#define F_FLAGS_OFF CPU_OFF(fflags)
#define F_FRM_OFF CPU_OFF(frm)
#define MSTATUS_FS_BYTE (CPU_OFF(mstatus) + 1) /* FS: bits 13-14 = byte 1, 0x60 */

static bool is_double(unsigned op)
{
    return op >= OP_FMADD_D && op <= OP_FCVT_D_S ? op != OP_FCVT_S_D : false;
}

static void fs_check(struct jit_ctx *c, unsigned k)
{
    if (c->fs_checked)
        return;
    jit_op1(&c->e, 0, 0xf6, 0, jit_m(RDI, MSTATUS_FS_BYTE)); /* test byte [..], 0x60 */
    jit_emit_byte(&c->e, 0x60);
    jit_side_exit(c, jit_jcc32(&c->e, CC_E), k);
    c->fs_checked = true;
}

static void fs_dirty(struct jit_ctx *c)
{
    if (c->fs_dirtied)
        return;
    jit_op1(&c->e, 0, 0x80, 1, jit_m(RDI, MSTATUS_FS_BYTE)); /* or byte [..], 0x60 */
    jit_emit_byte(&c->e, 0x60);
    c->fs_dirtied = true;
}

static void set_nx(struct jit_emit *e)
{
    jit_op1(e, 0, 0x80, 1, jit_m(RDI, F_FLAGS_OFF)); /* or byte [fflags], 1 */
    jit_emit_byte(e, 1);
}

/* A new slow path (riscv_fp_exec) for in; jumps to it: slow_jcc. */
static unsigned slow_new(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    if (c->nslow >= MAX_SLOW) {
        c->e.overflow = true; /* one per instruction: cannot happen */
        return 0;
    }
    unsigned s = c->nslow++;
    c->slow[s].nrel = 0;
    c->slow[s].in = in;
    c->slow[s].k = k;
    c->slow[s].resume = NULL;
    c->slow[s].ra = c->ra;
    return s;
}

static void slow_jcc(struct jit_ctx *c, unsigned s, unsigned cc)
{
    uint8_t *rel = jit_jcc32(&c->e, cc);
    if (s < c->nslow && c->slow[s].nrel < JIT_SLOW_RELS)
        c->slow[s].rel[c->slow[s].nrel++] = rel;
    else
        c->e.overflow = true;
}

/* The rounding mode is round-to-nearest-even, or jump to the slow path.
 * false: never (a static other mode): the caller calls the helper. */
static bool need_rne(struct jit_ctx *c, const struct rv_insn *in, unsigned s)
{
    if (in->rm == 0)
        return true;
    if (in->rm != 7)
        return false;
    jit_alu_imm(&c->e, ALU_CMP, false, jit_m(RDI, F_FRM_OFF), 0);
    slow_jcc(c, s, CC_NE);
    return true;
}

/* The rounding mode is a valid one (the op is exact, but an invalid mode
 * still makes it illegal). */
static bool need_valid_rm(struct jit_ctx *c, const struct rv_insn *in, unsigned s)
{
    if (in->rm <= 4)
        return true;
    if (in->rm != 7)
        return false;
    jit_alu_imm(&c->e, ALU_CMP, false, jit_m(RDI, F_FRM_OFF), 4);
    slow_jcc(c, s, CC_A);
    return true;
}

static void need_nx_set(struct jit_ctx *c, unsigned s)
{
    jit_op1(&c->e, 0, 0xf6, 0, jit_m(RDI, F_FLAGS_OFF)); /* test byte [fflags], 1 */
    jit_emit_byte(&c->e, 1);
    slow_jcc(c, s, CC_E);
}

/* f[r] holds a NaN-boxed single */
static void need_boxed(struct jit_ctx *c, unsigned r, unsigned s)
{
    jit_alu_imm(&c->e, ALU_CMP, false, jit_fmem(r, 4), -1);
    slow_jcc(c, s, CC_NE);
}

/* The result's biased exponent (rax holds its bits) lies in [lo, max):
 * finite, and for lo = 2 not near the subnormal range. */
static void need_exponent(struct jit_ctx *c, bool dbl, int lo, unsigned s)
{
    struct jit_emit *e = &c->e;
    jit_lea(e, RDX, jit_mi(RAX, RAX, 0, 0)); /* drop the sign */
    if (dbl)
        jit_shift_imm(e, SH_SHR, true, RDX, 53);
    else
        jit_shift_imm(e, SH_SHR, false, RDX, 24);
    int emax = dbl ? 0x7ff : 0xff;
    if (lo == 0) {
        jit_alu_imm(e, ALU_CMP, false, jit_r(RDX), emax);
        slow_jcc(c, s, CC_E);
    } else {
        jit_alu_imm(e, ALU_SUB, false, jit_r(RDX), lo);
        jit_alu_imm(e, ALU_CMP, false, jit_r(RDX), emax - lo);
        slow_jcc(c, s, CC_AE);
    }
}

static void fstore(struct jit_emit *e, bool dbl, unsigned rd, int xs)
{
    jit_sse(e, dbl ? 0xf2 : 0xf3, false, 0x11, xs, jit_fmem(rd, 0));
    if (!dbl)
        jit_alu_imm(e, ALU_OR, false, jit_fmem(rd, 4), -1); /* NaN-box */
}

/* f[rd] = rax (double) or eax boxed (single) */
static void fstore_gpr(struct jit_emit *e, bool dbl, unsigned rd)
{
    if (dbl) {
        jit_mov_store(e, jit_fmem(rd, 0), RAX);
    } else {
        jit_op1(e, 0, 0x89, RAX, jit_fmem(rd, 0)); /* mov [..], eax */
        jit_alu_imm(e, ALU_OR, false, jit_fmem(rd, 4), -1);
    }
}

static void pxor(struct jit_emit *e, int x)
{
    jit_sse(e, 0x66, false, 0xef, x, jit_r(x));
}

/* bt{r,c} reg, bit: /6 reset, /7 complement */
static void bit_op(struct jit_emit *e, int digit, bool w, int reg, unsigned bit)
{
    jit_op2(e, w ? JIT_W : 0, 0x0f, 0xba, digit, jit_r(reg));
    jit_emit_byte(e, (uint8_t)bit);
}

static void emit_arith(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op;
    bool dbl = is_double(op);
    bool fused = (op >= OP_FMADD_S && op <= OP_FNMADD_S) || (op >= OP_FMADD_D && op <= OP_FNMADD_D);
    if (fused && !jit_host_fma()) {
        jit_emit_fp_call(c, in, k);
        return;
    }
    unsigned s = slow_new(c, in, k);
    if (!need_rne(c, in, s)) {
        c->nslow--; /* never fast: call right here */
        jit_emit_fp_call(c, in, k);
        return;
    }
    need_nx_set(c, s);
    int lo = 2;
    if (fused) {
        if (!dbl) {
            need_boxed(c, in->rs1, s);
            need_boxed(c, in->rs2, s);
            need_boxed(c, in->rs3, s);
        }
        /* xmm0 = c, then xmm0 = +-(a * b) +- xmm0 */
        static const uint8_t vop[4] = { 0xb9, 0xbb, 0xbd, 0xbf }; /* madd msub nmsub nmadd */
        unsigned which = op - (dbl ? OP_FMADD_D : OP_FMADD_S);
        jit_fload(e, dbl, 0, jit_fmem(in->rs3, 0));
        jit_fload(e, dbl, 1, jit_fmem(in->rs1, 0));
        jit_vex_0f38(e, dbl, vop[which], 0, 1, jit_fmem(in->rs2, 0));
    } else if (op == OP_FSQRT_S || op == OP_FSQRT_D) {
        if (!dbl)
            need_boxed(c, in->rs1, s);
        jit_sse_arith(e, dbl, 0x51, 0, jit_fmem(in->rs1, 0));
    } else {
        static const uint8_t sse[4] = { 0x58, 0x5c, 0x59, 0x5e }; /* add sub mul div */
        unsigned which = op - (dbl ? OP_FADD_D : OP_FADD_S);
        if (!dbl) {
            need_boxed(c, in->rs1, s);
            need_boxed(c, in->rs2, s);
        }
        jit_fload(e, dbl, 0, jit_fmem(in->rs1, 0));
        jit_sse_arith(e, dbl, sse[which], 0, jit_fmem(in->rs2, 0));
        if (which < 2)
            lo = 0; /* tiny sums are exact: only infinities and NaNs matter */
    }
    jit_movq_from_xmm(e, dbl, RAX, 0);
    need_exponent(c, dbl, lo, s);
    fstore_gpr(e, dbl, in->rd);
    fs_dirty(c);
}

static void emit_sgnj(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op;
    bool dbl = is_double(op);
    unsigned which = op - (dbl ? OP_FSGNJ_D : OP_FSGNJ_S); /* 0 j, 1 jn, 2 jx */
    unsigned bit = dbl ? 63 : 31;
    if (!dbl) {
        unsigned s = slow_new(c, in, k);
        need_boxed(c, in->rs1, s);
        if (in->rs2 != in->rs1)
            need_boxed(c, in->rs2, s);
    }
    if (dbl)
        jit_mov_load(e, RAX, jit_fmem(in->rs1, 0));
    else
        jit_op1(e, 0, 0x8b, RAX, jit_fmem(in->rs1, 0));
    if (in->rs1 == in->rs2) { /* fmv, fneg, fabs */
        if (which == 1)
            bit_op(e, 7, dbl, RAX, bit);
        else if (which == 2)
            bit_op(e, 6, dbl, RAX, bit);
    } else {
        if (dbl)
            jit_mov_load(e, RDX, jit_fmem(in->rs2, 0));
        else
            jit_op1(e, 0, 0x8b, RDX, jit_fmem(in->rs2, 0));
        if (which != 2)
            bit_op(e, 6, dbl, RAX, bit);
        if (which == 1)
            jit_unary(e, U_NOT, dbl, jit_r(RDX));
        jit_shift_imm(e, SH_SHR, dbl, RDX, bit);
        jit_shift_imm(e, SH_SHL, dbl, RDX, bit);
        jit_alu_rm(e, which == 2 ? ALU_XOR : ALU_OR, dbl, RAX, jit_r(RDX));
    }
    fstore_gpr(e, dbl, in->rd);
    fs_dirty(c);
}

static void emit_minmax(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    bool dbl = is_double(in->op);
    bool max = in->op == OP_FMAX_S || in->op == OP_FMAX_D;
    unsigned s = slow_new(c, in, k);
    if (!dbl) {
        need_boxed(c, in->rs1, s);
        need_boxed(c, in->rs2, s);
    }
    if (dbl) {
        jit_mov_load(e, RAX, jit_fmem(in->rs1, 0));
        jit_mov_load(e, RDX, jit_fmem(in->rs2, 0));
    } else {
        jit_op1(e, 0, 0x8b, RAX, jit_fmem(in->rs1, 0));
        jit_op1(e, 0, 0x8b, RDX, jit_fmem(in->rs2, 0));
    }
    jit_movq_to_xmm(e, dbl, 0, jit_r(RAX));
    jit_ucomi(e, dbl, 0, jit_fmem(in->rs2, 0));
    slow_jcc(c, s, CC_P); /* a NaN: RISC-V's rules, and NV for signalling ones */
    uint8_t *ne = jit_jcc8(e, CC_NE);
    /* equal: the same value, or zeros of either sign: min is -0 if either
     * is, max +0 unless both are -0 */
    jit_alu_rm(e, max ? ALU_AND : ALU_OR, true, RAX, jit_r(RDX));
    uint8_t *done = jit_jmp8(e);
    jit_patch8(e, ne, e->p);
    jit_cmov(e, max ? CC_BE : CC_AE, RAX, jit_r(RDX));
    jit_patch8(e, done, e->p);
    fstore_gpr(e, dbl, in->rd);
    fs_dirty(c);
}

static void emit_compare(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op;
    bool dbl = is_double(op);
    unsigned s = slow_new(c, in, k);
    if (!dbl) {
        need_boxed(c, in->rs1, s);
        need_boxed(c, in->rs2, s);
    }
    jit_fload(e, dbl, 0, jit_fmem(in->rs1, 0));
    jit_ucomi(e, dbl, 0, jit_fmem(in->rs2, 0));
    slow_jcc(c, s, CC_P); /* unordered: flags to raise */
    unsigned cc = (op == OP_FEQ_S || op == OP_FEQ_D)   ? CC_E
                  : (op == OP_FLT_S || op == OP_FLT_D) ? CC_B
                                                       : CC_BE;
    jit_setcc(e, cc, RAX);
    jit_movzx8(e, RAX, jit_r(RAX));
    jit_store_from(c, in->rd, RAX);
    fs_dirty(c);
}

/* fcvt.{w,wu,l,lu}.{s,d} */
static void emit_to_int(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op;
    bool dbl = op >= OP_FCVT_W_D && op <= OP_FCVT_LU_D;
    unsigned kind = op - (dbl ? OP_FCVT_W_D : OP_FCVT_W_S); /* w wu l lu */
    bool trunc;
    unsigned s = slow_new(c, in, k);
    if (in->rm == 1) {
        trunc = true; /* RTZ, as C casts */
    } else if (need_rne(c, in, s)) {
        trunc = false; /* the host rounds to nearest-even */
    } else {
        c->nslow--;
        jit_emit_fp_call(c, in, k);
        return;
    }
    if (!dbl)
        need_boxed(c, in->rs1, s);
    jit_fload(e, dbl, 0, jit_fmem(in->rs1, 0));
    switch (kind) {
    case 0: /* w: 32-bit conversion; 0x80000000 is "out of range" (or exact) */
        jit_cvt_f2i(e, dbl, trunc, false, RAX, 0);
        jit_alu_imm(e, ALU_CMP, false, jit_r(RAX), 1);
        slow_jcc(c, s, CC_O);
        jit_movsxd(e, RAX, jit_r(RAX));
        break;
    case 1: /* wu: through 64 bits, must land in [0, 2^32) */
        jit_cvt_f2i(e, dbl, trunc, true, RAX, 0);
        jit_mov_rr(e, RDX, RAX);
        jit_shift_imm(e, SH_SHR, true, RDX, 32);
        slow_jcc(c, s, CC_NE);
        break;
    case 2: /* l: INT64_MIN is "out of range" (or exact) */
        jit_cvt_f2i(e, dbl, trunc, true, RAX, 0);
        jit_alu_imm(e, ALU_CMP, true, jit_r(RAX), 1);
        slow_jcc(c, s, CC_O);
        break;
    default: /* lu: [0, 2^63) through the signed conversion */
        jit_cvt_f2i(e, dbl, trunc, true, RAX, 0);
        jit_op1(e, JIT_W, 0x85, RAX, jit_r(RAX));
        slow_jcc(c, s, CC_S);
        break;
    }
    /* inexact unless the integer converts back to the operand (exactly:
     * an integer above 2^53 (2^24) came from a value that is one) */
    pxor(e, 1);
    jit_cvt_i2f(e, dbl, true, 1, jit_r(RAX));
    jit_ucomi(e, dbl, 1, jit_r(0));
    uint8_t *exact = jit_jcc8(e, CC_E);
    set_nx(e);
    jit_patch8(e, exact, e->p);
    if (kind == 1)
        jit_movsxd(e, RAX, jit_r(RAX)); /* RISC-V sign-extends the 32-bit result */
    jit_store_from(c, in->rd, RAX);
    fs_dirty(c);
}

/* fcvt.{s,d}.{w,wu,l,lu} */
static void emit_from_int(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op;
    bool dbl = op >= OP_FCVT_D_W && op <= OP_FCVT_D_LU;
    unsigned kind = op - (dbl ? OP_FCVT_D_W : OP_FCVT_S_W); /* w wu l lu */
    unsigned s = slow_new(c, in, k);
    if (!need_valid_rm(c, in, s)) {
        c->nslow--;
        jit_emit_fp_call(c, in, k);
        return;
    }
    jit_load_to(c, RAX, in->rs1);
    if (kind == 1)
        jit_op1(e, 0, 0x8b, RAX, jit_r(RAX)); /* mov eax, eax: zero-extend */
    else if (kind == 0)
        jit_movsxd(e, RAX, jit_r(RAX));
    else if (kind == 3) {
        jit_op1(e, JIT_W, 0x85, RAX, jit_r(RAX));
        slow_jcc(c, s, CC_S); /* 2^63 and above */
    }
    pxor(e, 0);
    jit_cvt_i2f(e, dbl, true, 0, jit_r(RAX));
    if (!(dbl && kind < 2)) {
        /* 64-bit (or single from 32-bit) sources may round: only exact
         * conversions stay here */
        jit_cvt_f2i(e, dbl, true, true, RDX, 0);
        jit_alu_rm(e, ALU_CMP, true, RDX, jit_r(RAX));
        slow_jcc(c, s, CC_NE);
    }
    fstore(e, dbl, in->rd, 0);
    fs_dirty(c);
}

static void emit_cvt_ff(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned s = slow_new(c, in, k);
    if (in->op == OP_FCVT_D_S) {
        /* exact; NaNs and infinities to the slow path */
        if (!need_valid_rm(c, in, s)) {
            c->nslow--;
            jit_emit_fp_call(c, in, k);
            return;
        }
        need_boxed(c, in->rs1, s);
        jit_cvt_f2f(e, false, 0, jit_fmem(in->rs1, 0));
        jit_movq_from_xmm(e, true, RAX, 0);
        need_exponent(c, true, 0, s);
        jit_mov_store(e, jit_fmem(in->rd, 0), RAX);
        fs_dirty(c);
        return;
    }
    /* fcvt.s.d: rounds to nearest-even; NX from converting back */
    if (!need_rne(c, in, s)) {
        c->nslow--;
        jit_emit_fp_call(c, in, k);
        return;
    }
    jit_fload(e, true, 0, jit_fmem(in->rs1, 0));
    jit_cvt_f2f(e, true, 1, jit_r(0));
    jit_movq_from_xmm(e, false, RAX, 1);
    need_exponent(c, false, 2, s);
    jit_cvt_f2f(e, false, 2, jit_r(1));
    jit_ucomi(e, true, 2, jit_r(0));
    uint8_t *exact = jit_jcc8(e, CC_E);
    set_nx(e);
    jit_patch8(e, exact, e->p);
    fstore_gpr(e, false, in->rd);
    fs_dirty(c);
}

static void emit_fmem(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op;
    bool dbl = op == OP_FLD || op == OP_FSD;
    bool store = op == OP_FSW || op == OP_FSD;
    struct jit_rm m = jit_emit_access(c, in, k, dbl ? 8 : 4, store);
    if (store) {
        jit_op1(e, dbl ? JIT_W : 0, 0x8b, RDX, jit_fmem(in->rs2, 0));
        jit_op1(e, dbl ? JIT_W : 0, 0x89, RDX, m);
        return;
    }
    jit_op1(e, dbl ? JIT_W : 0, 0x8b, RDX, m);
    jit_op1(e, dbl ? JIT_W : 0, 0x89, RDX, jit_fmem(in->rd, 0));
    if (!dbl)
        jit_alu_imm(e, ALU_OR, false, jit_fmem(in->rd, 4), -1); /* NaN-box */
    fs_dirty(c);
}

void jit_emit_fp(struct jit_ctx *c, const struct rv_insn *in, unsigned k)
{
    struct jit_emit *e = &c->e;
    unsigned op = in->op;
    fs_check(c, k);
    switch (op) {
    case OP_FLW: case OP_FLD: case OP_FSW: case OP_FSD:
        emit_fmem(c, in, k);
        return;
    case OP_FMADD_S: case OP_FMSUB_S: case OP_FNMSUB_S: case OP_FNMADD_S:
    case OP_FADD_S: case OP_FSUB_S: case OP_FMUL_S: case OP_FDIV_S: case OP_FSQRT_S:
    case OP_FMADD_D: case OP_FMSUB_D: case OP_FNMSUB_D: case OP_FNMADD_D:
    case OP_FADD_D: case OP_FSUB_D: case OP_FMUL_D: case OP_FDIV_D: case OP_FSQRT_D:
        emit_arith(c, in, k);
        return;
    case OP_FSGNJ_S: case OP_FSGNJN_S: case OP_FSGNJX_S:
    case OP_FSGNJ_D: case OP_FSGNJN_D: case OP_FSGNJX_D:
        emit_sgnj(c, in, k);
        return;
    case OP_FMIN_S: case OP_FMAX_S: case OP_FMIN_D: case OP_FMAX_D:
        emit_minmax(c, in, k);
        return;
    case OP_FEQ_S: case OP_FLT_S: case OP_FLE_S: case OP_FEQ_D: case OP_FLT_D: case OP_FLE_D:
        emit_compare(c, in, k);
        return;
    case OP_FCVT_W_S: case OP_FCVT_WU_S: case OP_FCVT_L_S: case OP_FCVT_LU_S:
    case OP_FCVT_W_D: case OP_FCVT_WU_D: case OP_FCVT_L_D: case OP_FCVT_LU_D:
        emit_to_int(c, in, k);
        return;
    case OP_FCVT_S_W: case OP_FCVT_S_WU: case OP_FCVT_S_L: case OP_FCVT_S_LU:
    case OP_FCVT_D_W: case OP_FCVT_D_WU: case OP_FCVT_D_L: case OP_FCVT_D_LU:
        emit_from_int(c, in, k);
        return;
    case OP_FCVT_S_D: case OP_FCVT_D_S:
        emit_cvt_ff(c, in, k);
        return;
    case OP_FMV_X_W:
        if (in->rd < 32) {
            int d = jit_dest(c, in->rd, -1);
            jit_movsxd(e, d, jit_fmem(in->rs1, 0));
            jit_store_from(c, in->rd, d);
        }
        return;
    case OP_FMV_X_D:
        if (in->rd < 32) {
            int d = jit_dest(c, in->rd, -1);
            jit_mov_load(e, d, jit_fmem(in->rs1, 0));
            jit_store_from(c, in->rd, d);
        }
        return;
    case OP_FMV_W_X:
        jit_load_to(c, RAX, in->rs1);
        fstore_gpr(e, false, in->rd);
        fs_dirty(c);
        return;
    case OP_FMV_D_X:
        jit_load_to(c, RAX, in->rs1);
        fstore_gpr(e, true, in->rd);
        fs_dirty(c);
        return;
    default: /* fclass: rare, always the helper */
        jit_emit_fp_call(c, in, k);
        return;
    }
}

#endif
