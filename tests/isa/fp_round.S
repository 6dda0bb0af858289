/* Rounding: every rounding mode (RNE, RTZ, RDN, RUP, RMM) through the static
 * rm field and through frm with rm = DYN, on inexact quotients, ties (where
 * RNE and RMM differ), overflow (RTZ/RDN/RUP saturate differently), the sign
 * of an exact zero sum under RDN, square roots and conversions. Reserved rm
 * values (5, 6 static; 5..7 in frm with DYN) are illegal instructions;
 * instructions without rounding do not care about frm. */
#include "test.h"
#include "fp.h"

#define S_THIRD_DN 0x3eaaaaaa
#define S_THIRD_UP 0x3eaaaaab
#define S_TIE_A    0x33800000   /* 2^-24: 1 + this is a tie */
#define S_ONE_P1   0x3f800001
#define S_ONE_P2   0x3f800002

/* ROUND5_S(n, a, b, op, rne, rtz, rdn, rup, rmm, flags): static rm */
#define ROUND5_S(n, a, b, op, v_rne, v_rtz, v_rdn, v_rup, v_rmm, flags) \
    TEST_FP_S(n + 0, v_rne, flags, a, b, 0, op fa0, fa1, fa2, rne); \
    TEST_FP_S(n + 1, v_rtz, flags, a, b, 0, op fa0, fa1, fa2, rtz); \
    TEST_FP_S(n + 2, v_rdn, flags, a, b, 0, op fa0, fa1, fa2, rdn); \
    TEST_FP_S(n + 3, v_rup, flags, a, b, 0, op fa0, fa1, fa2, rup); \
    TEST_FP_S(n + 4, v_rmm, flags, a, b, 0, op fa0, fa1, fa2, rmm)

/* The same through frm (the instruction uses rm = DYN) */
#define ROUND5_S_DYN(n, a, b, op, v_rne, v_rtz, v_rdn, v_rup, v_rmm, flags) \
    fsrmi 0; TEST_FP_S(n + 0, v_rne, flags, a, b, 0, op fa0, fa1, fa2, dyn); \
    fsrmi 1; TEST_FP_S(n + 1, v_rtz, flags, a, b, 0, op fa0, fa1, fa2, dyn); \
    fsrmi 2; TEST_FP_S(n + 2, v_rdn, flags, a, b, 0, op fa0, fa1, fa2, dyn); \
    fsrmi 3; TEST_FP_S(n + 3, v_rup, flags, a, b, 0, op fa0, fa1, fa2, dyn); \
    fsrmi 4; TEST_FP_S(n + 4, v_rmm, flags, a, b, 0, op fa0, fa1, fa2, dyn); \
    fsrmi 0

#define ROUND5_D(n, a, b, op, v_rne, v_rtz, v_rdn, v_rup, v_rmm, flags) \
    TEST_FP_D(n + 0, v_rne, flags, a, b, 0, op fa0, fa1, fa2, rne); \
    TEST_FP_D(n + 1, v_rtz, flags, a, b, 0, op fa0, fa1, fa2, rtz); \
    TEST_FP_D(n + 2, v_rdn, flags, a, b, 0, op fa0, fa1, fa2, rdn); \
    TEST_FP_D(n + 3, v_rup, flags, a, b, 0, op fa0, fa1, fa2, rup); \
    TEST_FP_D(n + 4, v_rmm, flags, a, b, 0, op fa0, fa1, fa2, rmm)

/* fcvt.w.s / fcvt.w.d under each static mode */
#define CVT5(n, load, src, insn, v_rne, v_rtz, v_rdn, v_rup, v_rmm) \
    li TESTNUM, n; li a1, src; load fa1, a1; \
    insn a0, fa1, rne; CHECK_REG(a0, v_rne); \
    li TESTNUM, n + 1; insn a0, fa1, rtz; CHECK_REG(a0, v_rtz); \
    li TESTNUM, n + 2; insn a0, fa1, rdn; CHECK_REG(a0, v_rdn); \
    li TESTNUM, n + 3; insn a0, fa1, rup; CHECK_REG(a0, v_rup); \
    li TESTNUM, n + 4; insn a0, fa1, rmm; CHECK_REG(a0, v_rmm)

    .text
    .globl test_main
test_main:
    /* 1/3 and -1/3 */
    ROUND5_S(1, S_ONE, S_THREE, fdiv.s, S_THIRD_UP, S_THIRD_DN, S_THIRD_DN, S_THIRD_UP, S_THIRD_UP, FF_NX)
    ROUND5_S(6, S_MONE, S_THREE, fdiv.s, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab, FF_NX)
    /* ties: 1 + 2^-24 (even below), (1 + 2^-23) + 2^-24 (even above) */
    ROUND5_S(11, S_ONE, S_TIE_A, fadd.s, S_ONE, S_ONE, S_ONE, S_ONE_P1, S_ONE_P1, FF_NX)
    ROUND5_S(16, S_ONE_P1, S_TIE_A, fadd.s, S_ONE_P2, S_ONE_P1, S_ONE_P1, S_ONE_P2, S_ONE_P2, FF_NX)
    ROUND5_S(21, S_MONE, 0xb3800000, fadd.s, S_MONE, S_MONE, 0xbf800001, S_MONE, 0xbf800001, FF_NX)
    /* overflow */
    ROUND5_S(26, S_MAX, S_MAX, fadd.s, S_INF, S_MAX, S_MAX, S_INF, S_INF, FF_OF | FF_NX)
    ROUND5_S(31, S_NMAX, S_NMAX, fadd.s, S_NINF, S_NMAX, S_NINF, S_NMAX, S_NINF, FF_OF | FF_NX)
    /* x - x is +0 except under RDN, where it is -0 */
    ROUND5_S(36, S_ONE, S_ONE, fsub.s, S_ZERO, S_ZERO, S_NZERO, S_ZERO, S_ZERO, 0)
    /* the same through frm */
    ROUND5_S_DYN(41, S_ONE, S_THREE, fdiv.s, S_THIRD_UP, S_THIRD_DN, S_THIRD_DN, S_THIRD_UP, S_THIRD_UP, FF_NX)
    ROUND5_S_DYN(46, S_ONE_P1, S_TIE_A, fadd.s, S_ONE_P2, S_ONE_P1, S_ONE_P1, S_ONE_P2, S_ONE_P2, FF_NX)
    ROUND5_S_DYN(51, S_NMAX, S_NMAX, fadd.s, S_NINF, S_NMAX, S_NINF, S_NMAX, S_NINF, FF_OF | FF_NX)
    ROUND5_S_DYN(56, S_ONE, S_ONE, fsub.s, S_ZERO, S_ZERO, S_NZERO, S_ZERO, S_ZERO, 0)

    /* a static rm overrides frm */
    li TESTNUM, 61
    fsrmi 2             /* RDN */
    TEST_FP_S(61, S_THIRD_UP, FF_NX, S_ONE, S_THREE, 0, fdiv.s fa0, fa1, fa2, rup)
    fsrmi 0

    /* double */
    ROUND5_D(70, D_ONE, D_THREE, fdiv.d, 0x3fd5555555555555, 0x3fd5555555555555, 0x3fd5555555555555, 0x3fd5555555555556, 0x3fd5555555555555, FF_NX)
    ROUND5_D(75, D_MONE, D_THREE, fdiv.d, 0xbfd5555555555555, 0xbfd5555555555555, 0xbfd5555555555556, 0xbfd5555555555555, 0xbfd5555555555555, FF_NX)
    /* tie: 1 + 2^-53 */
    ROUND5_D(80, D_ONE, 0x3ca0000000000000, fadd.d, D_ONE, D_ONE, D_ONE, 0x3ff0000000000001, 0x3ff0000000000001, FF_NX)
    ROUND5_D(85, D_MAX, D_MAX, fadd.d, D_INF, D_MAX, D_MAX, D_INF, D_INF, FF_OF | FF_NX)

    /* square roots */
    TEST_FP_S(90, 0x3fb504f3, FF_NX, S_TWO, 0, 0, fsqrt.s fa0, fa1, rne)
    TEST_FP_S(91, 0x3fb504f3, FF_NX, S_TWO, 0, 0, fsqrt.s fa0, fa1, rtz)
    TEST_FP_S(92, 0x3fb504f4, FF_NX, S_TWO, 0, 0, fsqrt.s fa0, fa1, rup)
    TEST_FP_D(93, 0x3ff6a09e667f3bcd, FF_NX, D_TWO, 0, 0, fsqrt.d fa0, fa1, rne)
    TEST_FP_D(94, 0x3ff6a09e667f3bcc, FF_NX, D_TWO, 0, 0, fsqrt.d fa0, fa1, rdn)
    TEST_FP_D(95, 0x3ff6a09e667f3bcd, FF_NX, D_TWO, 0, 0, fsqrt.d fa0, fa1, rmm)

    /* float -> int: 2.5, -2.5, -0.5 */
    CVT5(100, fmv.w.x, 0x40200000, fcvt.w.s, 2, 2, 2, 3, 3)
    CVT5(105, fmv.w.x, 0xc0200000, fcvt.w.s, -2, -2, -3, -2, -3)
    CVT5(110, fmv.d.x, 0x4004000000000000, fcvt.l.d, 2, 2, 2, 3, 3)
    CVT5(115, fmv.d.x, 0xbfe0000000000000, fcvt.w.d, 0, 0, -1, 0, -1)
    CVT5(120, fmv.d.x, 0x400c000000000000, fcvt.wu.d, 4, 3, 3, 4, 4)    /* 3.5 */
    /* int -> float: 2^31 - 1 does not fit in 24 bits */
    TEST_INT_FP_S(125, 0x4f000000, FF_NX, 0x7fffffff, fcvt.s.w fa0, a1, rne)
    TEST_INT_FP_S(126, 0x4effffff, FF_NX, 0x7fffffff, fcvt.s.w fa0, a1, rtz)
    TEST_INT_FP_S(127, 0x4effffff, FF_NX, 0x7fffffff, fcvt.s.w fa0, a1, rdn)
    TEST_INT_FP_S(128, 0x4f000000, FF_NX, 0x7fffffff, fcvt.s.w fa0, a1, rup)
    TEST_INT_FP_S(129, 0xceffffff, FF_NX, -0x7fffffff, fcvt.s.w fa0, a1, rtz)
    TEST_INT_FP_S(130, 0xcf000000, FF_NX, -0x7fffffff, fcvt.s.w fa0, a1, rdn)
    /* double -> single */
    TEST_FP_S(131, S_THIRD_DN, FF_NX, 0, 0, 0, li a1, 0x3fd5555555555555; fmv.d.x fa1, a1; fcvt.s.d fa0, fa1, rtz)
    TEST_FP_S(132, S_THIRD_UP, FF_NX, 0, 0, 0, li a1, 0x3fd5555555555555; fmv.d.x fa1, a1; fcvt.s.d fa0, fa1, rne)
    TEST_FP_S(133, S_MAX, FF_OF | FF_NX, 0, 0, 0, li a1, D_MAX; fmv.d.x fa1, a1; fcvt.s.d fa0, fa1, rtz)

    /* frm/fflags/fcsr layout: fcsr = frm << 5 | fflags, upper bits zero */
    li TESTNUM, 140
    li a0, 0xff
    csrw fcsr, a0
    csrr a1, fcsr
    CHECK_REG(a1, 0xff)
    csrr a1, frm
    CHECK_REG(a1, 7)
    csrr a1, fflags
    CHECK_REG(a1, 0x1f)
    li TESTNUM, 141
    li a0, -1
    csrw fcsr, a0
    csrr a1, fcsr
    CHECK_REG(a1, 0xff)
    li TESTNUM, 142
    csrwi frm, 3
    csrr a1, fcsr
    CHECK_REG(a1, 0x7f)
    csrwi fflags, 0
    csrr a1, fcsr
    CHECK_REG(a1, 0x60)
    li TESTNUM, 143
    li a0, 0x1e5
    csrw frm, a0            /* only 3 bits */
    csrr a1, frm
    CHECK_REG(a1, 5)

    /* frm = 5, 6, 7 are reserved: a DYN instruction is illegal, an
     * instruction that does not round is not */
    csrwi frm, 5
    EXPECT_TRAP(150, CAUSE_ILLEGAL_INSN, fadd.s fa0, fa1, fa2, dyn)
    EXPECT_TRAP(151, CAUSE_ILLEGAL_INSN, fmadd.d fa0, fa1, fa2, fa3, dyn)
    EXPECT_NO_TRAP(152, fsgnj.s fa0, fa1, fa2)
    EXPECT_NO_TRAP(153, fmv.x.w a0, fa1)
    EXPECT_NO_TRAP(154, fadd.s fa0, fa1, fa2, rne)
    EXPECT_NO_TRAP(155, feq.d a0, fa1, fa2)
    csrwi frm, 6
    EXPECT_TRAP(156, CAUSE_ILLEGAL_INSN, fmul.d fa0, fa1, fa2, dyn)
    csrwi frm, 7
    EXPECT_TRAP(157, CAUSE_ILLEGAL_INSN, fsqrt.s fa0, fa1, dyn)
    EXPECT_TRAP(158, CAUSE_ILLEGAL_INSN, fcvt.w.s a0, fa1, dyn)
    csrwi frm, 0
    /* static rm = 5 or 6: reserved; rm = 7 is DYN */
    EXPECT_TRAP(160, CAUSE_ILLEGAL_INSN, .insn r 0x53, 5, 0x00, fa0, fa1, fa2)  /* fadd.s rm=5 */
    EXPECT_TRAP(161, CAUSE_ILLEGAL_INSN, .insn r 0x53, 6, 0x01, fa0, fa1, fa2)  /* fadd.d rm=6 */
    EXPECT_NO_TRAP(162, .insn r 0x53, 7, 0x00, fa0, fa1, fa2)
    j pass
