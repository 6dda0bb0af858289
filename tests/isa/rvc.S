/* RVC: every RV64C instruction (explicit c.* mnemonics so the assembler
 * cannot pick a 32-bit form), with immediate edge cases: c.lui sign
 * extension, c.addi16sp range, c.addiw sign extension, 6-bit shift amounts,
 * c.addi4spn's largest offset, c.jalr/c.jr link and bit-0 clearing. */
#include "test.h"

    .data
    .balign 16
cdata:  .dword 0x8182838485868788, 0x0102030405060708
        .dword 0x3ff0000000000000 /* 1.0 */, 0xc000000000000000 /* -2.0 */
        .skip 1024

    .text
    .globl test_main
    .option push
    .option rvc
test_main:
    /* --- quadrant 1: constants and ALU --- */
    TEST_CASE(1, a0, 0xffffffffffffffe0, c.li a0, -32)
    TEST_CASE(2, a0, 31, c.li a0, 31)
    TEST_CASE(3, a0, 0x0000000000001000, c.lui a0, 1)
    TEST_CASE(4, a0, 0x000000000001f000, c.lui a0, 0x1f)
    TEST_CASE(5, a0, 0xfffffffffffe0000, c.lui a0, 0xfffe0)   /* nzimm = -32 << 12 */
    TEST_CASE(6, a0, 0xfffffffffffff000, c.lui a0, 0xfffff)
    TEST_CASE(7, a0, 17, li a0, 5; c.addi a0, 12)
    TEST_CASE(8, a0, 0xffffffffffffffe5, li a0, 5; c.addi a0, -32)
    TEST_CASE(9, a0, 0x0000000000000000, li a0, -31; c.addi a0, 31)
    TEST_CASE(10, a0, 0xffffffff80000000, li a0, 0x7fffffff; c.addiw a0, 1)
    TEST_CASE(11, a0, 0x0000000012345678, li a0, 0xffffffff12345678; c.addiw a0, 0)  /* sext.w */
    TEST_CASE(12, a0, 0xffffffff87654321, li a0, 0x0000000087654321; c.addiw a0, 0)
    TEST_CASE(13, a0, 0x000000007fffffff, li a0, 0x80000000; c.addiw a0, -1)
    TEST_CASE(14, a0, 0xffffffffffffffe0, li a0, 0x100000000; c.addiw a0, -32)

    /* c.addi16sp: -512..496 in steps of 16 */
    mv s2, sp
    TEST_CASE(15, a0, -512, c.addi16sp sp, -512; sub a0, sp, s2; mv sp, s2)
    TEST_CASE(16, a0, 496, c.addi16sp sp, 496; sub a0, sp, s2; mv sp, s2)
    TEST_CASE(17, a0, 16, c.addi16sp sp, 16; sub a0, sp, s2; mv sp, s2)
    /* c.addi4spn: rd' = sp + nzuimm (4..1020, multiple of 4) */
    TEST_CASE(18, a0, 1020, c.addi4spn a0, sp, 1020; sub a0, a0, sp)
    TEST_CASE(19, a0, 4, c.addi4spn a0, sp, 4; sub a0, a0, sp)

    TEST_CASE(20, a0, 0x8000000000000000, li a0, 1; c.slli a0, 63)
    TEST_CASE(21, a0, 0x0000000100000000, li a0, 1; c.slli a0, 32)
    TEST_CASE(22, a0, 0x0000000000000002, li a0, 1; c.slli a0, 1)
    TEST_CASE(23, a0, 0x0000000000000001, li a0, 0x8000000000000000; c.srli a0, 63)
    TEST_CASE(24, a0, 0x0000000080000000, li a0, 0x8000000000000000; c.srli a0, 32)
    TEST_CASE(25, a0, 0xffffffffffffffff, li a0, 0x8000000000000000; c.srai a0, 63)
    TEST_CASE(26, a0, 0xffffffff80000000, li a0, 0x8000000000000000; c.srai a0, 32)
    TEST_CASE(27, a0, 0x0000000000000003, li a0, 0x000000000000000f; c.srai a0, 2)
    TEST_CASE(28, a0, 0xff00ff00ff00ffe0, li a0, 0xff00ff00ff00fff5; c.andi a0, -32)
    TEST_CASE(29, a0, 0x0000000000000015, li a0, 0xff00ff00ff00fff5; c.andi a0, 31)

    TEST_CASE(30, a0, 0xfffffffffffffffe, li a0, 1; li a1, 3; c.sub a0, a1)
    TEST_CASE(31, a0, 0xf00ff00ff00ff00f, li a0, 0xff00ff00ff00ff00; li a1, 0x0f0f0f0f0f0f0f0f; c.xor a0, a1)
    TEST_CASE(32, a0, 0xff0fff0fff0fff0f, li a0, 0xff00ff00ff00ff00; li a1, 0x0f0f0f0f0f0f0f0f; c.or a0, a1)
    TEST_CASE(33, a0, 0x0f000f000f000f00, li a0, 0xff00ff00ff00ff00; li a1, 0x0f0f0f0f0f0f0f0f; c.and a0, a1)
    TEST_CASE(34, a0, 0x000000007fffffff, li a0, 0x80000000; li a1, 1; c.subw a0, a1)
    TEST_CASE(35, a0, 0xffffffff80000000, li a0, 0x17fffffff; li a1, 1; c.addw a0, a1)
    TEST_CASE(36, a0, 0x0000000000000000, li a0, 0xffffffff; li a1, 0x100000001; c.addw a0, a1)
    TEST_CASE(37, a0, 0x123456789, li a1, 0x123456789; c.mv a0, a1)
    TEST_CASE(38, a0, 0x2468acf12, li a0, 0x123456789; li a1, 0x123456789; c.add a0, a1)
    TEST_CASE(39, s1, 0x8, li s1, 3; li a5, 5; c.add s1, a5)   /* full register range */
    TEST_CASE(40, t3, 0xabc, li t4, 0xabc; c.mv t3, t4)
    /* c.nop does nothing */
    TEST_CASE(41, a0, 7, li a0, 7; c.nop)

    /* --- loads and stores --- */
    la s0, cdata
    TEST_CASE(50, a0, 0xffffffff85868788, c.lw a0, 0(s0))
    TEST_CASE(51, a0, 0xffffffff81828384, c.lw a0, 4(s0))
    TEST_CASE(52, a0, 0x8182838485868788, c.ld a0, 0(s0))
    TEST_CASE(53, a0, 0x0102030405060708, c.ld a0, 8(s0))
    TEST_CASE(54, a0, 0x0000000012345678, li a1, 0xabcdef0012345678; c.sw a1, 124(s0); lwu a0, 124(s0))
    TEST_CASE(55, a0, 0xabcdef0012345678, li a1, 0xabcdef0012345678; c.sd a1, 248(s0); ld a0, 248(s0))
    TEST_CASE(56, a0, 0xabcdef0012345678, c.ld a0, 248(s0))
    TEST_CASE(57, a0, 0x0000000012345678, c.lw a0, 124(s0))
    /* sp-relative */
    mv s2, sp
    mv sp, s0
    TEST_CASE(58, a0, 0xffffffff85868788, c.lwsp a0, 0(sp))
    TEST_CASE(59, a0, 0x0102030405060708, c.ldsp a0, 8(sp))
    TEST_CASE(60, a0, 0x00000000deadbeef, li a1, 0xdeadbeef; c.swsp a1, 252(sp); lwu a0, 252(sp))
    TEST_CASE(61, a0, 0x1122334455667788, li a1, 0x1122334455667788; c.sdsp a1, 504(sp); ld a0, 504(sp))
    TEST_CASE(62, a0, 0x1122334455667788, c.ldsp a0, 504(sp))
    TEST_CASE(63, a0, 0xffffffffdeadbeef, c.lwsp a0, 252(sp))
    /* FP loads/stores (mstatus.FS is on) */
    TEST_CASE(64, a0, 0x3ff0000000000000, c.fldsp fa0, 16(sp); fmv.x.d a0, fa0)
    TEST_CASE(65, a0, 0xc000000000000000, c.fld fa1, 24(s0); fmv.x.d a0, fa1)
    TEST_CASE(66, a0, 0xc000000000000000, c.fsdsp fa1, 32(sp); ld a0, 32(sp))
    TEST_CASE(67, a0, 0x3ff0000000000000, c.fsd fa0, 40(s0); ld a0, 40(s0))
    mv sp, s2

    /* --- control flow --- */
    li TESTNUM, 70
    c.j 1f
    j fail
1:  li TESTNUM, 71
    li a0, 0
    c.beqz a0, 2f
    j fail
2:  li TESTNUM, 72
    li a0, 1
    c.beqz a0, fail_near
    li TESTNUM, 73
    c.bnez a0, 3f
    j fail
3:  li TESTNUM, 74
    li a0, 0
    c.bnez a0, fail_near
    /* c.beqz/c.bnez compare all 64 bits */
    li TESTNUM, 75
    li a0, 0x100000000
    c.beqz a0, fail_near
    /* backward c.bnez loop */
    TEST_CASE(76, a1, 5, li a0, 5; li a1, 0; 4: addi a1, a1, 1; c.addi a0, -1; c.bnez a0, 4b)
    /* c.jr */
    li TESTNUM, 77
    la a1, 5f
    c.jr a1
    j fail
5:  /* c.jalr links pc + 2 */
    li TESTNUM, 78
    la a1, 7f
    la a2, 6f
    c.jalr a1
6:  j fail
7:  bne ra, a2, fail
    /* c.jr with an odd target clears bit 0 */
    li TESTNUM, 79
    la a1, 8f
    addi a1, a1, 1
    c.jr a1
    j fail
8:  /* c.jalr with rs1 = ra: target from the old ra */
    li TESTNUM, 80
    la ra, 9f
    c.jalr ra
    j fail
9:  /* a 32-bit instruction straddling a 4-byte boundary after a 16-bit one */
    li TESTNUM, 81
    .balign 4
    c.nop
    li a0, 0x12345
    li t6, 0x12345
    bne a0, t6, fail
    j pass

fail_near:
    j fail
    .option pop
