/* condo ISA tests: floating-point test macros (assembly only).
 * Single-precision operands/results are given as 32-bit patterns; results
 * are checked as the full 64-bit register, so NaN-boxing is checked too.
 * Sources are fa1, fa2, fa3 (or a1 for integer sources); the result is fa0
 * (or a0 for integer results). fflags is cleared first and checked after. */
#ifndef CONDO_ISA_FP_H
#define CONDO_ISA_FP_H

#define FF_NV 0x10
#define FF_DZ 0x08
#define FF_OF 0x04
#define FF_UF 0x02
#define FF_NX 0x01

#define S_BOX(x) (0xffffffff00000000 | (x))

#define FP_LOAD_S3(a, b, c) \
    li a1, a; fmv.w.x fa1, a1; li a2, b; fmv.w.x fa2, a2; li a3, c; fmv.w.x fa3, a3
#define FP_LOAD_D3(a, b, c) \
    li a1, a; fmv.d.x fa1, a1; li a2, b; fmv.d.x fa2, a2; li a3, c; fmv.d.x fa3, a3

#define FP_CHECK_FLAGS(flags) \
    frflags a4;               \
    li t6, flags;             \
    bne a4, t6, fail

/* TEST_FP_S(n, insn..., result32, flags, a, b, c): fa0 = op(fa1, fa2, fa3) */
#define TEST_FP_S(n, result, flags, a, b, c, insn...) \
    li TESTNUM, n;                                   \
    FP_LOAD_S3(a, b, c);                             \
    fsflags zero;                                    \
    insn;                                            \
    fmv.x.d a0, fa0;                                 \
    li t6, S_BOX(result);                            \
    bne a0, t6, fail;                                \
    FP_CHECK_FLAGS(flags)

#define TEST_FP_D(n, result, flags, a, b, c, insn...) \
    li TESTNUM, n;                                   \
    FP_LOAD_D3(a, b, c);                             \
    fsflags zero;                                    \
    insn;                                            \
    fmv.x.d a0, fa0;                                 \
    li t6, result;                                   \
    bne a0, t6, fail;                                \
    FP_CHECK_FLAGS(flags)

/* Integer result in a0 from fa1/fa2 */
#define TEST_FP_INT_S(n, result, flags, a, b, insn...) \
    li TESTNUM, n;                                   \
    FP_LOAD_S3(a, b, 0);                             \
    fsflags zero;                                    \
    insn;                                            \
    li t6, result;                                   \
    bne a0, t6, fail;                                \
    FP_CHECK_FLAGS(flags)

#define TEST_FP_INT_D(n, result, flags, a, b, insn...) \
    li TESTNUM, n;                                   \
    FP_LOAD_D3(a, b, 0);                             \
    fsflags zero;                                    \
    insn;                                            \
    li t6, result;                                   \
    bne a0, t6, fail;                                \
    FP_CHECK_FLAGS(flags)

/* FP result in fa0 from the integer a1 */
#define TEST_INT_FP_S(n, result, flags, a, insn...) \
    li TESTNUM, n;                                   \
    li a1, a;                                        \
    fsflags zero;                                    \
    insn;                                            \
    fmv.x.d a0, fa0;                                 \
    li t6, S_BOX(result);                            \
    bne a0, t6, fail;                                \
    FP_CHECK_FLAGS(flags)

#define TEST_INT_FP_D(n, result, flags, a, insn...) \
    li TESTNUM, n;                                   \
    li a1, a;                                        \
    fsflags zero;                                    \
    insn;                                            \
    fmv.x.d a0, fa0;                                 \
    li t6, result;                                   \
    bne a0, t6, fail;                                \
    FP_CHECK_FLAGS(flags)

/* Common constants */
#define S_ONE     0x3f800000
#define S_TWO     0x40000000
#define S_THREE   0x40400000
#define S_HALF    0x3f000000
#define S_MONE    0xbf800000
#define S_INF     0x7f800000
#define S_NINF    0xff800000
#define S_QNAN    0x7fc00000
#define S_SNAN    0x7f800001
#define S_MAX     0x7f7fffff
#define S_NMAX    0xff7fffff
#define S_MINNORM 0x00800000
#define S_ZERO    0x00000000
#define S_NZERO   0x80000000
#define D_ONE     0x3ff0000000000000
#define D_TWO     0x4000000000000000
#define D_THREE   0x4008000000000000
#define D_HALF    0x3fe0000000000000
#define D_MONE    0xbff0000000000000
#define D_INF     0x7ff0000000000000
#define D_NINF    0xfff0000000000000
#define D_QNAN    0x7ff8000000000000
#define D_SNAN    0x7ff0000000000001
#define D_MAX     0x7fefffffffffffff
#define D_ZERO    0x0000000000000000
#define D_NZERO   0x8000000000000000

#endif
