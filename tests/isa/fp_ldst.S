/* flw/fsw/fld/fsd (and compressed c.fld/c.fsd/c.fldsp/c.fsdsp in rvc.S):
 * bit-exact transfers (signalling NaNs are not quieted, payloads kept),
 * offsets, fsw touching only 4 bytes, flw NaN-boxing. */
#include "test.h"
#include "fp.h"

    .data
    .balign 16
buf:    .dword 0x7ff0000000000001, 0xfff4000000000abc
        .word 0x7f800001, 0xff812345
        .dword 0, 0, 0

    .text
    .globl test_main
test_main:
    la s0, buf
    TEST_CASE(1, a0, 0x7ff0000000000001, fld fa0, 0(s0); fmv.x.d a0, fa0)
    TEST_CASE(2, a0, 0xfff4000000000abc, fld fa0, 8(s0); fmv.x.d a0, fa0)
    TEST_CASE(3, a0, S_BOX(0x7f800001), flw fa0, 16(s0); fmv.x.d a0, fa0)
    TEST_CASE(4, a0, S_BOX(0xff812345), flw fa0, 20(s0); fmv.x.d a0, fa0)
    TEST_CASE(5, a0, S_BOX(0xff812345), addi a1, s0, 24; flw fa0, -4(a1); fmv.x.d a0, fa0)
    /* stores */
    TEST_CASE(6, a0, 0x7ff0000000000001, fld fa1, 0(s0); fsd fa1, 24(s0); ld a0, 24(s0))
    TEST_CASE(7, a0, 0xffffffff7f800001, li a1, -1; sd a1, 32(s0); flw fa1, 16(s0); fsw fa1, 32(s0); ld a0, 32(s0))
    TEST_CASE(8, a0, 0xff8123457f800001, flw fa1, 20(s0); fsw fa1, 36(s0); ld a0, 32(s0))
    /* fsd of a NaN-boxed single stores the whole box */
    TEST_CASE(9, a0, S_BOX(0x7f800001), flw fa1, 16(s0); fsd fa1, 40(s0); ld a0, 40(s0))
    /* round trip through every f register */
    li TESTNUM, 10
    li a1, 0x0123456789abcdef
    sd a1, 24(s0)
    fld f0, 24(s0)
    fsgnj.d f1, f0, f0
    fsgnj.d f2, f1, f1
    fsgnj.d f3, f2, f2
    fsgnj.d f4, f3, f3
    fsgnj.d f5, f4, f4
    fsgnj.d f6, f5, f5
    fsgnj.d f7, f6, f6
    fsgnj.d f8, f7, f7
    fsgnj.d f9, f8, f8
    fsgnj.d f10, f9, f9
    fsgnj.d f11, f10, f10
    fsgnj.d f12, f11, f11
    fsgnj.d f13, f12, f12
    fsgnj.d f14, f13, f13
    fsgnj.d f15, f14, f14
    fsgnj.d f16, f15, f15
    fsgnj.d f17, f16, f16
    fsgnj.d f18, f17, f17
    fsgnj.d f19, f18, f18
    fsgnj.d f20, f19, f19
    fsgnj.d f21, f20, f20
    fsgnj.d f22, f21, f21
    fsgnj.d f23, f22, f22
    fsgnj.d f24, f23, f23
    fsgnj.d f25, f24, f24
    fsgnj.d f26, f25, f25
    fsgnj.d f27, f26, f26
    fsgnj.d f28, f27, f27
    fsgnj.d f29, f28, f28
    fsgnj.d f30, f29, f29
    fsgnj.d f31, f30, f30
    fsd f31, 32(s0)
    ld a0, 32(s0)
    CHECK_REG(a0, 0x0123456789abcdef)
    j pass
