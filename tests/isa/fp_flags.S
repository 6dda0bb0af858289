/* fflags: exceptions accrue (sticky) across instructions until software
 * clears them; an exception-free instruction leaves them alone; fflags,
 * frm and fcsr alias each other; csrrs/csrrc/csrrw(i) on fflags; the
 * fsflags/frflags swap forms; compares and conversions set flags too. */
#include "test.h"
#include "fp.h"

    .text
    .globl test_main
test_main:
    li a1, S_ONE
    fmv.w.x fa1, a1
    li a2, S_THREE
    fmv.w.x fa2, a2
    fmv.w.x fa3, zero
    li a3, S_SNAN
    fmv.w.x fa4, a3
    li a3, S_MAX
    fmv.w.x fa5, a3

    li TESTNUM, 1
    fsflags zero
    fdiv.s fa0, fa1, fa2        /* NX */
    frflags a0
    CHECK_REG(a0, FF_NX)
    li TESTNUM, 2
    fdiv.s fa0, fa1, fa3        /* DZ accrues */
    frflags a0
    CHECK_REG(a0, FF_NX | FF_DZ)
    li TESTNUM, 3
    fadd.s fa0, fa1, fa1        /* exact: flags unchanged */
    frflags a0
    CHECK_REG(a0, FF_NX | FF_DZ)
    li TESTNUM, 4
    fadd.s fa0, fa4, fa1        /* NV from sNaN */
    fmul.s fa0, fa5, fa5        /* OF|NX */
    frflags a0
    CHECK_REG(a0, FF_NX | FF_DZ | FF_NV | FF_OF)
    li TESTNUM, 5
    li a3, 0x00000003
    fmv.w.x fa6, a3
    li a3, S_HALF
    fmv.w.x fa7, a3
    fmul.s fa0, fa6, fa7        /* UF|NX */
    frflags a0
    CHECK_REG(a0, 0x1f)
    /* fsflags returns the old value */
    li TESTNUM, 6
    li a1, FF_DZ
    fsflags a0, a1
    CHECK_REG(a0, 0x1f)
    frflags a0
    CHECK_REG(a0, FF_DZ)
    /* csrs/csrc/csrwi on fflags */
    li TESTNUM, 7
    csrsi fflags, FF_NX
    frflags a0
    CHECK_REG(a0, FF_DZ | FF_NX)
    csrci fflags, FF_DZ
    frflags a0
    CHECK_REG(a0, FF_NX)
    csrwi fflags, 0
    frflags a0
    CHECK_REG(a0, 0)
    /* fflags writes keep 5 bits and leave frm alone */
    li TESTNUM, 8
    fsrmi 3
    li a1, 0xff
    csrw fflags, a1
    csrr a0, fcsr
    CHECK_REG(a0, (3 << 5) | 0x1f)
    /* fsrm returns the old rounding mode */
    li TESTNUM, 9
    fsrmi a0, 1
    CHECK_REG(a0, 3)
    frrm a0
    CHECK_REG(a0, 1)
    csrr a0, fflags
    CHECK_REG(a0, 0x1f)
    fsrmi 0
    fsflags zero
    /* comparisons: flt with a quiet NaN is invalid, feq is not */
    li TESTNUM, 10
    li a3, S_QNAN
    fmv.w.x fa6, a3
    feq.s a0, fa6, fa1
    CHECK_REG(a0, 0)
    frflags a0
    CHECK_REG(a0, 0)
    flt.s a0, fa6, fa1
    CHECK_REG(a0, 0)
    frflags a0
    CHECK_REG(a0, FF_NV)
    /* conversion out of range: NV; inexact conversion: NX */
    li TESTNUM, 11
    fsflags zero
    li a3, 0x3fc00000       /* 1.5 */
    fmv.w.x fa6, a3
    fcvt.w.s a0, fa6, rtz
    frflags a1
    CHECK_REG(a1, FF_NX)
    fsflags zero
    fcvt.w.s a0, fa5        /* 3.4e38 */
    frflags a1
    CHECK_REG(a1, FF_NV)
    /* an FP instruction that traps (illegal rm) changes nothing */
    li TESTNUM, 12
    fsflags zero
    EXPECT_TRAP(12, CAUSE_ILLEGAL_INSN, .insn r 0x53, 5, 0x0c, fa0, fa1, fa3)  /* fdiv.s rm=5 */
    frflags a1
    CHECK_REG(a1, 0)
    j pass
