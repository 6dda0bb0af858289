/* NaN-boxing of single-precision values in 64-bit f registers: every
 * single-precision write (arithmetic, flw, fmv.w.x, fcvt.s.*) sets the upper
 * 32 bits to ones; a single-precision operation reading a value that is not
 * properly boxed sees the canonical NaN (quiet: no NV); fmv.x.w and fsw move
 * the low 32 bits regardless of boxing; fmv.x.w sign-extends bit 31. */
#include "test.h"
#include "fp.h"

    .data
    .balign 8
word:   .word 0x3f800000, 0x12345678
dword:  .dword 0

    .text
    .globl test_main
test_main:
    /* writes box */
    TEST_CASE(1, a0, S_BOX(0x3f800000), li a1, 0x3f800000; fmv.w.x fa0, a1; fmv.x.d a0, fa0)
    TEST_CASE(2, a0, S_BOX(0x3f800000), la a1, word; flw fa0, 0(a1); fmv.x.d a0, fa0)
    TEST_CASE(3, a0, S_BOX(0x40000000), li a1, 2; fcvt.s.w fa0, a1; fmv.x.d a0, fa0)
    TEST_CASE(4, a0, S_BOX(0x40000000), li a1, S_BOX(S_ONE); fmv.d.x fa1, a1; fadd.s fa0, fa1, fa1; fmv.x.d a0, fa0)
    TEST_CASE(5, a0, S_BOX(0x3f800000), li a1, D_ONE; fmv.d.x fa1, a1; fcvt.s.d fa0, fa1; fmv.x.d a0, fa0)
    TEST_CASE(6, a0, S_BOX(0x80000000), li a1, S_BOX(0); fmv.d.x fa1, a1; fsgnjn.s fa0, fa1, fa1; fmv.x.d a0, fa0)
    /* fmv.w.x ignores the upper half of the integer register */
    TEST_CASE(7, a0, S_BOX(0x3f800000), li a1, 0x123456783f800000; fmv.w.x fa0, a1; fmv.x.d a0, fa0)

    /* reads of unboxed values: canonical NaN */
    TEST_FP_S(10, S_QNAN, 0, 0, 0, 0, li a1, 0x000000003f800000; fmv.d.x fa1, a1; fadd.s fa0, fa1, fa1)
    TEST_FP_S(11, S_QNAN, 0, 0, 0, 0, li a1, 0xfffffffe3f800000; fmv.d.x fa1, a1; fmul.s fa0, fa1, fa1)
    TEST_FP_S(12, S_QNAN, 0, 0, 0, 0, li a1, 0x7fffffff3f800000; fmv.d.x fa1, a1; fsqrt.s fa0, fa1)
    /* an unboxed sNaN pattern is still just "not boxed": quiet, no NV */
    TEST_FP_S(13, S_QNAN, 0, 0, 0, 0, li a1, 0x000000007f800001; fmv.d.x fa1, a1; fadd.s fa0, fa1, fa1)
    /* a boxed operand with an unboxed one */
    TEST_FP_S(14, S_QNAN, 0, 0, 0, 0, li a1, D_ONE; fmv.d.x fa1, a1; li a2, S_BOX(S_ONE); fmv.d.x fa2, a2; fadd.s fa0, fa2, fa1)
    /* sign injection sees the canonical NaN too */
    TEST_FP_S(15, S_QNAN, 0, 0, 0, 0, li a1, 0x00000000bf800000; fmv.d.x fa1, a1; fsgnj.s fa0, fa1, fa1)
    TEST_FP_S(16, 0xffc00000, 0, 0, 0, 0, li a1, 0x00000000bf800000; fmv.d.x fa1, a1; li a2, S_BOX(S_MONE); fmv.d.x fa2, a2; fsgnj.s fa0, fa1, fa2)
    /* fclass: quiet NaN (bit 9) */
    TEST_FP_INT_S(17, 0x200, 0, 0, 0, li a1, 0x3f800000; fmv.d.x fa1, a1; fclass.s a0, fa1)
    /* compare: feq of a quiet NaN is false without NV; flt raises NV */
    TEST_FP_INT_S(18, 0, 0, 0, 0, li a1, 0x3f800000; fmv.d.x fa1, a1; feq.s a0, fa1, fa1)
    TEST_FP_INT_S(19, 0, FF_NV, 0, 0, li a1, 0x3f800000; fmv.d.x fa1, a1; flt.s a0, fa1, fa1)
    /* conversions from an unboxed single */
    TEST_FP_D(20, D_QNAN, 0, 0, 0, 0, li a1, 0x3f800000; fmv.d.x fa1, a1; fcvt.d.s fa0, fa1)
    TEST_FP_INT_S(21, 0x7fffffff, FF_NV, 0, 0, li a1, 0x3f800000; fmv.d.x fa1, a1; fcvt.w.s a0, fa1)
    /* fmin/fmax: the unboxed operand is a NaN, so the other one wins */
    TEST_FP_S(22, S_TWO, 0, 0, 0, 0, li a1, 0x3f800000; fmv.d.x fa1, a1; li a2, S_BOX(S_TWO); fmv.d.x fa2, a2; fmin.s fa0, fa1, fa2)

    /* transfers out ignore boxing: fmv.x.w takes the low 32 bits and
     * sign-extends; fsw stores them */
    TEST_CASE(30, a0, 0x000000003f800000, li a1, 0x000000003f800000; fmv.d.x fa1, a1; fmv.x.w a0, fa1)
    TEST_CASE(31, a0, 0xffffffffbf800000, li a1, 0x00000000bf800000; fmv.d.x fa1, a1; fmv.x.w a0, fa1)
    TEST_CASE(32, a0, 0xffffffff80000000, li a1, 0x80000000; fmv.w.x fa1, a1; fmv.x.w a0, fa1)
    TEST_CASE(33, a0, 0x000000007f800000, li a1, S_INF; fmv.w.x fa1, a1; fmv.x.w a0, fa1)
    TEST_CASE(34, a0, 0xffffffffffc00000, li a1, 0xffc00000; fmv.w.x fa1, a1; fmv.x.w a0, fa1)
    TEST_CASE(35, a0, 0xabcdef0012345678, la a2, dword; li a1, -1; sd a1, 0(a2); li a1, 0x1234567812345678; fmv.d.x fa1, a1; fsw fa1, 0(a2); li a1, 0xabcdef00; sw a1, 4(a2); ld a0, 0(a2))
    TEST_CASE(36, a0, 0x0000000012345678, la a2, dword; li a1, 0x1234567812345678; fmv.d.x fa1, a1; sd zero, 0(a2); fsw fa1, 0(a2); ld a0, 0(a2))
    /* fmv.x.w of a NaN-boxed sNaN keeps its bits (no canonicalization) */
    TEST_CASE(37, a0, 0x000000007f800001, li a1, S_SNAN; fmv.w.x fa1, a1; fmv.x.w a0, fa1)
    /* double ops use all 64 bits: a boxed single is just a NaN double */
    TEST_FP_INT_D(38, 0x200, 0, S_BOX(S_ONE), 0, fclass.d a0, fa1)
    j pass
