/* RV64I loads and stores of every width: sign/zero extension, negative and
 * positive offsets, partial stores leave neighbouring bytes alone, x0 as a
 * load destination discards the value. */
#include "test.h"

    .data
    .balign 16
src:    .dword 0x8182838485868788, 0x0102030405060708
dst:    .dword 0, 0

    .text
    .globl test_main
test_main:
    la s0, src
    TEST_CASE(1, a0, 0xffffffffffffff88, lb a0, 0(s0))
    TEST_CASE(2, a0, 0x0000000000000088, lbu a0, 0(s0))
    TEST_CASE(3, a0, 0xffffffffffffff81, lb a0, 7(s0))
    TEST_CASE(4, a0, 0x0000000000000008, lb a0, 8(s0))
    TEST_CASE(5, a0, 0xffffffffffff8788, lh a0, 0(s0))
    TEST_CASE(6, a0, 0x0000000000008788, lhu a0, 0(s0))
    TEST_CASE(7, a0, 0x0000000000000708, lh a0, 8(s0))
    TEST_CASE(8, a0, 0xffffffff85868788, lw a0, 0(s0))
    TEST_CASE(9, a0, 0x0000000085868788, lwu a0, 0(s0))
    TEST_CASE(10, a0, 0xffffffff81828384, lw a0, 4(s0))
    TEST_CASE(11, a0, 0x0000000005060708, lw a0, 8(s0))
    TEST_CASE(12, a0, 0x8182838485868788, ld a0, 0(s0))
    TEST_CASE(13, a0, 0x0102030405060708, ld a0, 8(s0))
    /* negative offset */
    TEST_CASE(14, a0, 0x8182838485868788, addi a1, s0, 8; ld a0, -8(a1))
    TEST_CASE(15, a0, 0xffffffffffffff81, addi a1, s0, 8; lb a0, -1(a1))
    TEST_CASE(16, a0, 0x0000000000008182, addi a1, s0, 8; lhu a0, -2(a1))
    /* large offsets (+-2047) */
    TEST_CASE(17, a0, 0x0102030405060708, li a1, -2039; add a1, s0, a1; ld a0, 2047(a1))
    TEST_CASE(18, a0, 0x8182838485868788, li a1, 2048; add a1, s0, a1; ld a0, -2048(a1))
    /* x0 destination */
    TEST_CASE(19, a0, 0, ld x0, 0(s0); mv a0, x0)

    la s1, dst
    li t0, -1
    sd t0, 0(s1)
    sd t0, 8(s1)
    TEST_CASE(20, a0, 0xffffffffffffff55, li a1, 0x1234567855; sb a1, 0(s1); ld a0, 0(s1))
    TEST_CASE(21, a0, 0xffffffffaaaaff55, li a1, 0xaaaa; sh a1, 2(s1); ld a0, 0(s1))
    TEST_CASE(22, a0, 0x12345678aaaaff55, li a1, 0xabcdef0012345678; sw a1, 4(s1); ld a0, 0(s1))
    TEST_CASE(23, a0, 0xfedcba9876543210, li a1, 0xfedcba9876543210; sd a1, 8(s1); ld a0, 8(s1))
    TEST_CASE(24, a0, 0x00000000000000fe, lbu a0, 15(s1))
    TEST_CASE(25, a0, 0xffffffffffffffdc, lb a0, 14(s1))
    TEST_CASE(26, a0, 0x0000000000000000, addi a1, s1, 16; sb zero, -1(a1); lbu a0, 15(s1))
    TEST_CASE(27, a0, 0x00dcba9876543210, ld a0, 8(s1))
    /* load after store to the same register address */
    TEST_CASE(28, a0, 0x0000000000000000, sd zero, 0(s1); ld a0, 0(s1))
    j pass
