/* Zicsr semantics on a plain read/write CSR (mscratch): csrrw returns the
 * old value and writes; csrrs/csrrc set/clear the bits of rs1; the
 * immediate forms zero-extend a 5-bit immediate; rd = x0 and rs1 = x0
 * forms; rd == rs1. */
#include "test.h"

    .text
    .globl test_main
test_main:
    csrr s0, mscratch
    TEST_CASE(1, a0, 0x00000000000000f0, li a1, 0xf0; csrw mscratch, a1; csrr a0, mscratch)
    TEST_CASE(2, a0, 0x00000000000000f0, li a1, 0x0f; csrrs a0, mscratch, a1)
    TEST_CASE(3, a0, 0x00000000000000ff, csrr a0, mscratch)
    TEST_CASE(4, a0, 0x00000000000000ff, li a1, 0xf0; csrrc a0, mscratch, a1)
    TEST_CASE(5, a0, 0x000000000000000f, csrr a0, mscratch)
    TEST_CASE(6, a0, 0x000000000000000f, csrrwi a0, mscratch, 31)
    TEST_CASE(7, a0, 0x000000000000001f, csrr a0, mscratch)       /* zero-extended */
    TEST_CASE(8, a0, 0x000000000000001f, csrrci a0, mscratch, 0x15)
    TEST_CASE(9, a0, 0x000000000000000a, csrr a0, mscratch)
    TEST_CASE(10, a0, 0x000000000000000a, csrrsi a0, mscratch, 0x10)
    TEST_CASE(11, a0, 0x000000000000001a, csrr a0, mscratch)
    /* 64-bit values */
    TEST_CASE(12, a0, 0x800000000000001a, li a1, 0x8000000000000000; csrs mscratch, a1; csrr a0, mscratch)
    TEST_CASE(13, a0, 0x000000000000001a, li a1, 0x8000000000000000; csrc mscratch, a1; csrr a0, mscratch)
    /* rs1 = x0: no change */
    TEST_CASE(14, a0, 0x000000000000001a, csrrs a1, mscratch, x0; csrrc a1, mscratch, x0; csrr a0, mscratch)
    /* rd = x0 for csrrw: still writes */
    TEST_CASE(15, a0, 0x0000000000000077, li a1, 0x77; csrrw x0, mscratch, a1; csrr a0, mscratch)
    /* rd == rs1: old value out, new value from the register's old content */
    TEST_CASE(16, a0, 0x0000000000000077, li a0, 0x99; csrrw a0, mscratch, a0)
    TEST_CASE(17, a0, 0x0000000000000099, csrr a0, mscratch)
    TEST_CASE(18, a0, 0x0000000000000099, li a0, 0x100; csrrs a0, mscratch, a0)
    TEST_CASE(19, a0, 0x0000000000000199, csrr a0, mscratch)
    /* csrrw x0 with rs1 = x0 writes zero */
    TEST_CASE(20, a0, 0, csrw mscratch, x0; csrr a0, mscratch)
    csrw mscratch, s0
    j pass
