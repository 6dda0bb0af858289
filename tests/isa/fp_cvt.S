/* Conversions: float/double to (unsigned) word/long with saturation (NaN ->
 * largest positive, out-of-range -> the nearest bound, NV), negative values
 * rounding to zero for unsigned targets (NX only), 32-bit results
 * sign-extended; integer to float (upper bits ignored for W forms,
 * inexact large values); single <-> double (overflow, underflow, NaN
 * canonicalization). */
#include "test.h"
#include "fp.h"

    .text
    .globl test_main
test_main:
    /* single -> int */
    TEST_FP_INT_S(1, 1, FF_NX, 0x3fc00000, 0, fcvt.w.s a0, fa1, rtz)
    TEST_FP_INT_S(2, 0x7fffffff, FF_NV, 0x4f32d05e, 0, fcvt.w.s a0, fa1)       /* 3e9 */
    TEST_FP_INT_S(3, 0xffffffff80000000, FF_NV, 0xcf32d05e, 0, fcvt.w.s a0, fa1)
    TEST_FP_INT_S(4, 0x7fffffff, FF_NV, S_QNAN, 0, fcvt.w.s a0, fa1)
    TEST_FP_INT_S(5, 0x7fffffff, FF_NV, 0xffc00000, 0, fcvt.w.s a0, fa1)        /* -NaN */
    TEST_FP_INT_S(6, 0x7fffffff, FF_NV, S_INF, 0, fcvt.w.s a0, fa1)
    TEST_FP_INT_S(7, 0xffffffff80000000, FF_NV, S_NINF, 0, fcvt.w.s a0, fa1)
    TEST_FP_INT_S(8, 0xffffffff80000000, 0, 0xcf000000, 0, fcvt.w.s a0, fa1)   /* -2^31 exact */
    TEST_FP_INT_S(9, 0xffffffffee6b2800, 0, 0x4f6e6b28, 0, fcvt.wu.s a0, fa1)  /* 4e9, sign-extended */
    TEST_FP_INT_S(10, 0xffffffffffffffff, FF_NV, 0x4f9502f9, 0, fcvt.wu.s a0, fa1)  /* 5e9 */
    TEST_FP_INT_S(11, 0, FF_NV, S_MONE, 0, fcvt.wu.s a0, fa1)
    TEST_FP_INT_S(12, 0, FF_NX, 0xbf000000, 0, fcvt.wu.s a0, fa1, rtz)       /* -0.5 -> 0 */
    TEST_FP_INT_S(13, 0xffffffffffffffff, FF_NV, S_QNAN, 0, fcvt.wu.s a0, fa1)
    TEST_FP_INT_S(14, 0, 0, S_NZERO, 0, fcvt.wu.s a0, fa1)
    TEST_FP_INT_S(15, 0x7fffffffffffffff, FF_NV, 0x5f000000, 0, fcvt.l.s a0, fa1)  /* 2^63 */
    TEST_FP_INT_S(16, 0x8000000000000000, 0, 0xdf000000, 0, fcvt.l.s a0, fa1)
    TEST_FP_INT_S(17, 0x8000000000000000, 0, 0x5f000000, 0, fcvt.lu.s a0, fa1)
    TEST_FP_INT_S(18, 0xffffffffffffffff, FF_NV, S_SNAN, 0, fcvt.lu.s a0, fa1)
    TEST_FP_INT_S(19, 0, FF_NV, S_NINF, 0, fcvt.lu.s a0, fa1)
    TEST_FP_INT_S(20, 0x7fffffffffffffff, FF_NV, S_QNAN, 0, fcvt.l.s a0, fa1)
    TEST_FP_INT_S(21, 0xffffffffffffffff, FF_NV, 0x5f800000, 0, fcvt.lu.s a0, fa1) /* 2^64 */

    /* double -> int */
    TEST_FP_INT_D(30, 0x7fffffff, FF_NV, 0x41e0000000000000, 0, fcvt.w.d a0, fa1)  /* 2^31 */
    TEST_FP_INT_D(31, 0xffffffff80000000, FF_NX, 0xc1e0000000100000, 0, fcvt.w.d a0, fa1, rtz)
    TEST_FP_INT_D(32, 0xffffffff80000000, FF_NV, 0xc1e0000000100000, 0, fcvt.w.d a0, fa1, rdn)
    TEST_FP_INT_D(33, 0x7fffffffffffffff, FF_NV, 0x43e158e460913d00, 0, fcvt.l.d a0, fa1)   /* 1e19 */
    TEST_FP_INT_D(34, 0x8ac7230489e80000, 0, 0x43e158e460913d00, 0, fcvt.lu.d a0, fa1)
    TEST_FP_INT_D(35, 0xffffffffffffffff, FF_NV, 0x43f0000000000000, 0, fcvt.lu.d a0, fa1)  /* 2^64 */
    TEST_FP_INT_D(36, 0x7fffffffffffffff, FF_NV, D_QNAN, 0, fcvt.l.d a0, fa1)
    TEST_FP_INT_D(37, 0x8000000000000000, FF_NV, D_NINF, 0, fcvt.l.d a0, fa1)
    TEST_FP_INT_D(38, 0xffffffffffffffff, 0, 0x41efffffffe00000, 0, fcvt.wu.d a0, fa1)  /* 2^32-1 */
    TEST_FP_INT_D(39, 0xffffffffffffffff, FF_NV, 0x41f0000000000000, 0, fcvt.wu.d a0, fa1)
    TEST_FP_INT_D(40, 0, FF_NV, D_MONE, 0, fcvt.lu.d a0, fa1)
    TEST_FP_INT_D(41, 0x7fffffff, FF_NV, D_SNAN, 0, fcvt.w.d a0, fa1)
    TEST_FP_INT_D(42, 0xffffffffffffffff, FF_NV, D_QNAN, 0, fcvt.wu.d a0, fa1)

    /* int -> single / double */
    TEST_INT_FP_S(50, S_ONE, 0, 0x100000001, fcvt.s.w fa0, a1)
    TEST_INT_FP_S(51, 0x4f800000, FF_NX, 0xffffffff, fcvt.s.wu fa0, a1)
    TEST_INT_FP_S(52, S_ZERO, 0, 0xffffffff00000000, fcvt.s.wu fa0, a1)
    TEST_INT_FP_S(53, S_MONE, 0, -1, fcvt.s.l fa0, a1)
    TEST_INT_FP_S(54, 0x5f800000, FF_NX, -1, fcvt.s.lu fa0, a1)
    TEST_INT_FP_S(55, 0xcf000000, 0, 0x80000000, fcvt.s.w fa0, a1)
    TEST_INT_FP_D(56, 0x4340000000000000, FF_NX, 0x20000000000001, fcvt.d.l fa0, a1)
    TEST_INT_FP_D(57, 0x43e0000000000000, 0, 0x8000000000000000, fcvt.d.lu fa0, a1)
    TEST_INT_FP_D(58, 0xc3e0000000000000, 0, 0x8000000000000000, fcvt.d.l fa0, a1)
    TEST_INT_FP_D(59, 0xc1e0000000000000, 0, 0x80000000, fcvt.d.w fa0, a1)
    TEST_INT_FP_D(60, 0x41efffffffe00000, 0, 0xffffffff, fcvt.d.wu fa0, a1)
    TEST_INT_FP_D(61, D_ZERO, 0, 0, fcvt.d.w fa0, a1)
    TEST_INT_FP_D(62, D_ONE, 0, 0xabcdef0000000001, fcvt.d.wu fa0, a1)

    /* single <-> double */
    TEST_FP_S(70, S_INF, FF_OF | FF_NX, 0, 0, 0, li a1, 0x7e37e43c8800759c; fmv.d.x fa1, a1; fcvt.s.d fa0, fa1)
    TEST_FP_S(71, S_QNAN, FF_NV, 0, 0, 0, li a1, D_SNAN; fmv.d.x fa1, a1; fcvt.s.d fa0, fa1)
    TEST_FP_S(72, S_QNAN, 0, 0, 0, 0, li a1, 0x7ff8000000001234; fmv.d.x fa1, a1; fcvt.s.d fa0, fa1)
    TEST_FP_S(73, S_ZERO, FF_UF | FF_NX, 0, 0, 0, li a1, 0x01a56e1fc2f8f359; fmv.d.x fa1, a1; fcvt.s.d fa0, fa1)
    TEST_FP_S(74, S_NINF, 0, 0, 0, 0, li a1, D_NINF; fmv.d.x fa1, a1; fcvt.s.d fa0, fa1)
    TEST_FP_D(75, 0x3ff8000000000000, 0, S_BOX(0x3fc00000), 0, 0, fcvt.d.s fa0, fa1)
    TEST_FP_D(76, D_QNAN, FF_NV, S_BOX(S_SNAN), 0, 0, fcvt.d.s fa0, fa1)
    TEST_FP_D(77, D_NINF, 0, S_BOX(S_NINF), 0, 0, fcvt.d.s fa0, fa1)
    TEST_FP_D(78, 0x36a0000000000000, 0, S_BOX(0x00000001), 0, 0, fcvt.d.s fa0, fa1)
    TEST_FP_D(79, D_QNAN, 0, S_BOX(0xffc01234), 0, 0, fcvt.d.s fa0, fa1)
    TEST_FP_D(80, D_NZERO, 0, S_BOX(S_NZERO), 0, 0, fcvt.d.s fa0, fa1)
    j pass
