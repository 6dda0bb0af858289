/* F and D arithmetic under the default rounding mode (RNE): exact and
 * inexact results, IEEE special cases (inf - inf, 0 * inf, 0/0, sqrt of a
 * negative, division by zero, overflow, underflow only when tiny AND
 * inexact), signed zeros, NaN propagation (always the canonical NaN, NV only
 * for signalling inputs), fused multiply-add with a single rounding, and
 * fma(inf, 0, qNaN) raising NV. */
#include "test.h"
#include "fp.h"

    .text
    .globl test_main
test_main:
    TEST_FP_S(1, S_THREE, 0, S_ONE, S_TWO, 0, fadd.s fa0, fa1, fa2)
    TEST_FP_S(2, S_MONE, 0, S_ONE, S_TWO, 0, fsub.s fa0, fa1, fa2)
    TEST_FP_S(3, 0x40c00000, 0, S_TWO, S_THREE, 0, fmul.s fa0, fa1, fa2)
    TEST_FP_S(4, 0x3fc00000, 0, S_THREE, S_TWO, 0, fdiv.s fa0, fa1, fa2)
    TEST_FP_S(5, S_TWO, 0, 0x40800000, 0, 0, fsqrt.s fa0, fa1)
    TEST_FP_S(6, 0x3eaaaaab, FF_NX, S_ONE, S_THREE, 0, fdiv.s fa0, fa1, fa2)
    TEST_FP_S(7, 0x3fb504f3, FF_NX, S_TWO, 0, 0, fsqrt.s fa0, fa1)
    TEST_FP_S(8, S_INF, FF_DZ, S_ONE, S_ZERO, 0, fdiv.s fa0, fa1, fa2)
    TEST_FP_S(9, S_NINF, FF_DZ, S_ONE, S_NZERO, 0, fdiv.s fa0, fa1, fa2)
    TEST_FP_S(10, S_QNAN, FF_NV, S_ZERO, S_ZERO, 0, fdiv.s fa0, fa1, fa2)
    TEST_FP_S(11, S_QNAN, FF_NV, S_MONE, 0, 0, fsqrt.s fa0, fa1)
    TEST_FP_S(12, S_NZERO, 0, S_NZERO, 0, 0, fsqrt.s fa0, fa1)
    TEST_FP_S(13, S_QNAN, FF_NV, S_INF, S_NINF, 0, fadd.s fa0, fa1, fa2)
    TEST_FP_S(14, S_QNAN, FF_NV, S_ZERO, S_INF, 0, fmul.s fa0, fa1, fa2)
    TEST_FP_S(15, S_INF, FF_OF | FF_NX, S_MAX, S_MAX, 0, fadd.s fa0, fa1, fa2)
    TEST_FP_S(16, 0x00400000, 0, S_MINNORM, S_HALF, 0, fmul.s fa0, fa1, fa2)  /* exact subnormal: no UF */
    TEST_FP_S(17, 0x00000002, FF_UF | FF_NX, 0x00000003, S_HALF, 0, fmul.s fa0, fa1, fa2)
    TEST_FP_S(18, S_QNAN, FF_NV, S_SNAN, S_ONE, 0, fadd.s fa0, fa1, fa2)
    TEST_FP_S(19, S_QNAN, 0, 0x7fc12345, S_ONE, 0, fadd.s fa0, fa1, fa2)       /* payload not kept */
    TEST_FP_S(20, S_QNAN, 0, 0xffc00000, S_ONE, 0, fmul.s fa0, fa1, fa2)
    TEST_FP_S(21, S_NZERO, 0, S_NZERO, S_NZERO, 0, fadd.s fa0, fa1, fa2)
    TEST_FP_S(22, S_ZERO, 0, S_ZERO, S_NZERO, 0, fadd.s fa0, fa1, fa2)
    TEST_FP_S(23, S_ZERO, 0, S_ONE, S_ONE, 0, fsub.s fa0, fa1, fa2)
    TEST_FP_S(24, S_NZERO, 0, S_MONE, S_ZERO, 0, fmul.s fa0, fa1, fa2)
    TEST_FP_S(25, 0x40e00000, 0, S_TWO, S_THREE, S_ONE, fmadd.s fa0, fa1, fa2, fa3)
    TEST_FP_S(26, 0x40a00000, 0, S_TWO, S_THREE, S_ONE, fmsub.s fa0, fa1, fa2, fa3)
    TEST_FP_S(27, 0xc0a00000, 0, S_TWO, S_THREE, S_ONE, fnmsub.s fa0, fa1, fa2, fa3)
    TEST_FP_S(28, 0xc0e00000, 0, S_TWO, S_THREE, S_ONE, fnmadd.s fa0, fa1, fa2, fa3)
    /* (1 + 2^-23)(1 - 2^-23) - 1 = -2^-46 exactly when fused */
    TEST_FP_S(29, 0xa8800000, 0, 0x3f800001, 0x3f7ffffe, S_MONE, fmadd.s fa0, fa1, fa2, fa3)
    TEST_FP_S(30, 0x28800000, 0, 0x3f800001, 0x3f7ffffe, S_ONE, fnmsub.s fa0, fa1, fa2, fa3)
    TEST_FP_S(31, S_QNAN, FF_NV, S_INF, S_ZERO, S_QNAN, fmadd.s fa0, fa1, fa2, fa3)
    TEST_FP_S(32, S_QNAN, 0, S_ONE, S_TWO, S_QNAN, fmadd.s fa0, fa1, fa2, fa3)
    TEST_FP_S(33, S_QNAN, FF_NV, S_INF, S_ONE, S_NINF, fmadd.s fa0, fa1, fa2, fa3)
    /* fnmadd(a, b, c) = -(a*b) - c: zero signs */
    TEST_FP_S(34, S_NZERO, 0, S_ZERO, S_ONE, S_ZERO, fnmadd.s fa0, fa1, fa2, fa3)
    TEST_FP_S(35, S_ZERO, 0, S_ZERO, S_ONE, S_ZERO, fmadd.s fa0, fa1, fa2, fa3)

    TEST_FP_D(50, D_THREE, 0, D_ONE, D_TWO, 0, fadd.d fa0, fa1, fa2)
    TEST_FP_D(51, D_MONE, 0, D_ONE, D_TWO, 0, fsub.d fa0, fa1, fa2)
    TEST_FP_D(52, 0x4018000000000000, 0, D_TWO, D_THREE, 0, fmul.d fa0, fa1, fa2)
    TEST_FP_D(53, 0x3fd5555555555555, FF_NX, D_ONE, D_THREE, 0, fdiv.d fa0, fa1, fa2)
    TEST_FP_D(54, 0x3ff6a09e667f3bcd, FF_NX, D_TWO, 0, 0, fsqrt.d fa0, fa1)
    TEST_FP_D(55, 0x4000000000000000, 0, 0x4010000000000000, 0, 0, fsqrt.d fa0, fa1)
    TEST_FP_D(56, D_INF, FF_DZ, D_ONE, D_ZERO, 0, fdiv.d fa0, fa1, fa2)
    TEST_FP_D(57, D_QNAN, FF_NV, D_INF, D_NINF, 0, fadd.d fa0, fa1, fa2)
    TEST_FP_D(58, D_QNAN, FF_NV, D_MONE, 0, 0, fsqrt.d fa0, fa1)
    TEST_FP_D(59, D_INF, FF_OF | FF_NX, D_MAX, D_TWO, 0, fmul.d fa0, fa1, fa2)
    TEST_FP_D(60, 0x0000000000000002, FF_UF | FF_NX, 0x0000000000000003, D_HALF, 0, fmul.d fa0, fa1, fa2)
    TEST_FP_D(61, D_QNAN, FF_NV, D_SNAN, D_ONE, 0, fmul.d fa0, fa1, fa2)
    TEST_FP_D(62, D_QNAN, 0, 0x7ff8000000001234, D_ONE, 0, fsub.d fa0, fa1, fa2)
    TEST_FP_D(63, D_NZERO, 0, D_NZERO, D_NZERO, 0, fadd.d fa0, fa1, fa2)
    TEST_FP_D(64, 0x401c000000000000, 0, D_TWO, D_THREE, D_ONE, fmadd.d fa0, fa1, fa2, fa3)
    TEST_FP_D(65, 0x4014000000000000, 0, D_TWO, D_THREE, D_ONE, fmsub.d fa0, fa1, fa2, fa3)
    TEST_FP_D(66, 0xc014000000000000, 0, D_TWO, D_THREE, D_ONE, fnmsub.d fa0, fa1, fa2, fa3)
    TEST_FP_D(67, 0xc01c000000000000, 0, D_TWO, D_THREE, D_ONE, fnmadd.d fa0, fa1, fa2, fa3)
    /* (1 + 2^-52)(1 - 2^-52) - 1 = -2^-104 fused */
    TEST_FP_D(68, 0xb970000000000000, 0, 0x3ff0000000000001, 0x3feffffffffffffe, D_MONE, fmadd.d fa0, fa1, fa2, fa3)
    TEST_FP_D(69, D_QNAN, FF_NV, D_ZERO, D_INF, D_QNAN, fmadd.d fa0, fa1, fa2, fa3)
    TEST_FP_D(70, 0x3ff0000000000001, FF_NX, D_ONE, 0x3ca8000000000000, 0, fadd.d fa0, fa1, fa2) /* 1 + 1.5 ulp/2 rounds up */
    j pass
