/* mscratch and sscratch hold any 64-bit value; csrrw swaps; each is
 * independent; sscratch is accessible from S-mode. (The test framework
 * keeps its trap stacks there, so each is restored afterwards.) */
#include "test.h"

    .text
    .globl test_main
test_main:
    csrr s0, mscratch
    csrr s1, sscratch
    li TESTNUM, 1
    li a1, 0x0123456789abcdef
    csrw mscratch, a1
    csrr a0, mscratch
    CHECK_REG(a0, 0x0123456789abcdef)
    li TESTNUM, 2
    li a1, 0xfedcba9876543210
    csrrw a0, mscratch, a1
    CHECK_REG(a0, 0x0123456789abcdef)
    csrr a0, mscratch
    CHECK_REG(a0, 0xfedcba9876543210)
    li TESTNUM, 3
    li a1, -1
    csrw sscratch, a1
    csrr a0, mscratch
    CHECK_REG(a0, 0xfedcba9876543210)
    csrr a0, sscratch
    CHECK_REG(a0, -1)
    li TESTNUM, 4
    csrw mscratch, zero
    csrr a0, mscratch
    CHECK_REG(a0, 0)
    csrr a0, sscratch
    CHECK_REG(a0, -1)
    csrw mscratch, s0
    csrw sscratch, s1
    /* from S-mode */
    li a0, PRV_S
    la a1, in_s
    call go_mode
    li TESTNUM, 5
    CHECK_REG(a0, 0x55aa)
    j pass

in_s:
    csrr t0, sscratch
    li t1, 0x55aa
    csrrw t2, sscratch, t1
    bne t0, t2, fail
    csrr a0, sscratch
    csrw sscratch, t0
    ret
