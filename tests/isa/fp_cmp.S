/* fclass on all ten classes (single and double); fmin/fmax with NaNs (a
 * single NaN operand loses, two NaNs give the canonical NaN, sNaN raises
 * NV) and signed zeros (-0 < +0); feq/flt/fle (quiet vs signalling NaN
 * rules); the sign-injection family, which never canonicalizes NaNs. */
#include "test.h"
#include "fp.h"

    .text
    .globl test_main
test_main:
    TEST_FP_INT_S(1, 1 << 0, 0, S_NINF, 0, fclass.s a0, fa1)
    TEST_FP_INT_S(2, 1 << 1, 0, S_MONE, 0, fclass.s a0, fa1)
    TEST_FP_INT_S(3, 1 << 2, 0, 0x807fffff, 0, fclass.s a0, fa1)
    TEST_FP_INT_S(4, 1 << 3, 0, S_NZERO, 0, fclass.s a0, fa1)
    TEST_FP_INT_S(5, 1 << 4, 0, S_ZERO, 0, fclass.s a0, fa1)
    TEST_FP_INT_S(6, 1 << 5, 0, 0x00000001, 0, fclass.s a0, fa1)
    TEST_FP_INT_S(7, 1 << 6, 0, S_MINNORM, 0, fclass.s a0, fa1)
    TEST_FP_INT_S(8, 1 << 7, 0, S_INF, 0, fclass.s a0, fa1)
    TEST_FP_INT_S(9, 1 << 8, 0, S_SNAN, 0, fclass.s a0, fa1)
    TEST_FP_INT_S(10, 1 << 9, 0, S_QNAN, 0, fclass.s a0, fa1)
    TEST_FP_INT_S(11, 1 << 8, 0, 0xffbfffff, 0, fclass.s a0, fa1)   /* negative sNaN */
    TEST_FP_INT_S(12, 1 << 9, 0, 0xffffffff, 0, fclass.s a0, fa1)
    TEST_FP_INT_D(13, 1 << 0, 0, D_NINF, 0, fclass.d a0, fa1)
    TEST_FP_INT_D(14, 1 << 1, 0, 0xffefffffffffffff, 0, fclass.d a0, fa1)
    TEST_FP_INT_D(15, 1 << 2, 0, 0x800fffffffffffff, 0, fclass.d a0, fa1)
    TEST_FP_INT_D(16, 1 << 3, 0, D_NZERO, 0, fclass.d a0, fa1)
    TEST_FP_INT_D(17, 1 << 4, 0, D_ZERO, 0, fclass.d a0, fa1)
    TEST_FP_INT_D(18, 1 << 5, 0, 0x0000000000000001, 0, fclass.d a0, fa1)
    TEST_FP_INT_D(19, 1 << 6, 0, D_ONE, 0, fclass.d a0, fa1)
    TEST_FP_INT_D(20, 1 << 7, 0, D_INF, 0, fclass.d a0, fa1)
    TEST_FP_INT_D(21, 1 << 8, 0, D_SNAN, 0, fclass.d a0, fa1)
    TEST_FP_INT_D(22, 1 << 9, 0, D_QNAN, 0, fclass.d a0, fa1)

    /* fmin / fmax */
    TEST_FP_S(30, S_ONE, 0, S_ONE, S_TWO, 0, fmin.s fa0, fa1, fa2)
    TEST_FP_S(31, S_TWO, 0, S_ONE, S_TWO, 0, fmax.s fa0, fa1, fa2)
    TEST_FP_S(32, S_NZERO, 0, S_ZERO, S_NZERO, 0, fmin.s fa0, fa1, fa2)
    TEST_FP_S(33, S_NZERO, 0, S_NZERO, S_ZERO, 0, fmin.s fa0, fa1, fa2)
    TEST_FP_S(34, S_ZERO, 0, S_NZERO, S_ZERO, 0, fmax.s fa0, fa1, fa2)
    TEST_FP_S(35, S_ZERO, 0, S_ZERO, S_NZERO, 0, fmax.s fa0, fa1, fa2)
    TEST_FP_S(36, S_ONE, 0, S_QNAN, S_ONE, 0, fmin.s fa0, fa1, fa2)
    TEST_FP_S(37, S_ONE, 0, S_ONE, S_QNAN, 0, fmax.s fa0, fa1, fa2)
    TEST_FP_S(38, S_ONE, FF_NV, S_SNAN, S_ONE, 0, fmin.s fa0, fa1, fa2)
    TEST_FP_S(39, S_ONE, FF_NV, S_ONE, S_SNAN, 0, fmax.s fa0, fa1, fa2)
    TEST_FP_S(40, S_QNAN, 0, 0x7fc12345, S_QNAN, 0, fmin.s fa0, fa1, fa2)
    TEST_FP_S(41, S_QNAN, FF_NV, S_SNAN, S_QNAN, 0, fmax.s fa0, fa1, fa2)
    TEST_FP_S(42, S_NINF, 0, S_NINF, S_INF, 0, fmin.s fa0, fa1, fa2)
    TEST_FP_D(43, D_NZERO, 0, D_ZERO, D_NZERO, 0, fmin.d fa0, fa1, fa2)
    TEST_FP_D(44, D_ZERO, 0, D_NZERO, D_ZERO, 0, fmax.d fa0, fa1, fa2)
    TEST_FP_D(45, D_MONE, 0, D_QNAN, D_MONE, 0, fmax.d fa0, fa1, fa2)
    TEST_FP_D(46, D_MONE, FF_NV, D_SNAN, D_MONE, 0, fmin.d fa0, fa1, fa2)
    TEST_FP_D(47, D_QNAN, 0, 0xfff8000000000001, D_QNAN, 0, fmin.d fa0, fa1, fa2)
    TEST_FP_D(48, D_TWO, 0, D_ONE, D_TWO, 0, fmax.d fa0, fa1, fa2)

    /* comparisons */
    TEST_FP_INT_S(50, 1, 0, S_ONE, S_ONE, feq.s a0, fa1, fa2)
    TEST_FP_INT_S(51, 0, 0, S_ONE, S_TWO, feq.s a0, fa1, fa2)
    TEST_FP_INT_S(52, 1, 0, S_ZERO, S_NZERO, feq.s a0, fa1, fa2)
    TEST_FP_INT_S(53, 0, 0, S_QNAN, S_QNAN, feq.s a0, fa1, fa2)
    TEST_FP_INT_S(54, 0, FF_NV, S_SNAN, S_ONE, feq.s a0, fa1, fa2)
    TEST_FP_INT_S(55, 1, 0, S_ONE, S_TWO, flt.s a0, fa1, fa2)
    TEST_FP_INT_S(56, 0, 0, S_TWO, S_ONE, flt.s a0, fa1, fa2)
    TEST_FP_INT_S(57, 0, 0, S_NZERO, S_ZERO, flt.s a0, fa1, fa2)
    TEST_FP_INT_S(58, 0, FF_NV, S_QNAN, S_ONE, flt.s a0, fa1, fa2)
    TEST_FP_INT_S(59, 1, 0, S_NZERO, S_ZERO, fle.s a0, fa1, fa2)
    TEST_FP_INT_S(60, 1, 0, S_ONE, S_ONE, fle.s a0, fa1, fa2)
    TEST_FP_INT_S(61, 0, FF_NV, S_ONE, S_QNAN, fle.s a0, fa1, fa2)
    TEST_FP_INT_S(62, 1, 0, S_NINF, S_NMAX, flt.s a0, fa1, fa2)
    TEST_FP_INT_D(63, 1, 0, D_ONE, D_ONE, feq.d a0, fa1, fa2)
    TEST_FP_INT_D(64, 0, 0, D_QNAN, D_ONE, feq.d a0, fa1, fa2)
    TEST_FP_INT_D(65, 0, FF_NV, D_SNAN, D_SNAN, feq.d a0, fa1, fa2)
    TEST_FP_INT_D(66, 1, 0, D_MONE, D_ONE, flt.d a0, fa1, fa2)
    TEST_FP_INT_D(67, 0, FF_NV, D_QNAN, D_ONE, fle.d a0, fa1, fa2)
    TEST_FP_INT_D(68, 1, 0, D_NZERO, D_ZERO, fle.d a0, fa1, fa2)

    /* sign injection */
    TEST_FP_S(70, S_MONE, 0, S_ONE, S_MONE, 0, fsgnj.s fa0, fa1, fa2)
    TEST_FP_S(71, S_ONE, 0, S_MONE, S_ONE, 0, fsgnj.s fa0, fa1, fa2)
    TEST_FP_S(72, S_ONE, 0, S_ONE, S_MONE, 0, fsgnjn.s fa0, fa1, fa2)
    TEST_FP_S(73, S_MONE, 0, S_ONE, S_ONE, 0, fsgnjn.s fa0, fa1, fa2)
    TEST_FP_S(74, S_MONE, 0, S_MONE, S_ONE, 0, fsgnjx.s fa0, fa1, fa2)
    TEST_FP_S(75, S_ONE, 0, S_MONE, S_MONE, 0, fsgnjx.s fa0, fa1, fa2)
    TEST_FP_S(76, 0xff800001, 0, S_SNAN, S_MONE, 0, fsgnj.s fa0, fa1, fa2)   /* NaN kept, no NV */
    TEST_FP_S(77, 0x7fc12345, 0, 0xffc12345, 0, 0, fabs.s fa0, fa1)
    TEST_FP_S(78, S_NZERO, 0, S_ZERO, 0, 0, fneg.s fa0, fa1)
    TEST_FP_S(79, S_TWO, 0, S_TWO, 0, 0, fmv.s fa0, fa1)
    TEST_FP_D(80, D_MONE, 0, D_ONE, D_MONE, 0, fsgnj.d fa0, fa1, fa2)
    TEST_FP_D(81, D_MONE, 0, D_ONE, D_ONE, 0, fsgnjn.d fa0, fa1, fa2)
    TEST_FP_D(82, D_ONE, 0, D_MONE, D_MONE, 0, fsgnjx.d fa0, fa1, fa2)
    TEST_FP_D(83, 0xfff0000000000001, 0, D_SNAN, D_MONE, 0, fsgnj.d fa0, fa1, fa2)
    TEST_FP_D(84, D_INF, 0, D_NINF, 0, 0, fabs.d fa0, fa1)
    TEST_FP_D(85, D_NZERO, 0, D_ZERO, 0, 0, fneg.d fa0, fa1)
    j pass
