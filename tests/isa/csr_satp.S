/* satp: Bare, Sv39 and Sv48 writes (from M: no effect on M's own fetches)
 * read back MODE and PPN; a write with an unsupported MODE (1..7, 11..15:
 * reserved) has no effect at all, not even on ASID/PPN; Sv57 (10) is either
 * fully taken (where implemented) or fully ignored. */
#include "test.h"

#define SATP(mode, asid, ppn) (((mode) << 60) | ((asid) << 44) | (ppn))
#define PPN_MASK 0x00000fffffffffff

    .text
    .globl test_main
test_main:
    la s0, 0x80000000 >> 12     /* some PPN in RAM */
    li TESTNUM, 1
    li a1, SATP(SATP_MODE_SV39, 0, 0)
    or a1, a1, s0
    csrw satp, a1
    csrr a0, satp
    li t0, (0xf << 60) | PPN_MASK
    and a0, a0, t0
    bne a0, a1, fail
    li TESTNUM, 2
    li a1, SATP(SATP_MODE_SV48, 0, 0)
    or a1, a1, s0
    csrw satp, a1
    csrr a0, satp
    and a0, a0, t0
    bne a0, a1, fail

    /* reserved modes: satp unchanged (Sv48 value from above, any ASID) */
    csrr s1, satp
    li s2, 1
1:  li TESTNUM, 3
    add TESTNUM, TESTNUM, s2
    slli a1, s2, 60
    li t1, SATP(0, 0x1234, 0x12345)
    or a1, a1, t1
    csrw satp, a1
    csrr a0, satp
    bne a0, s1, fail
    addi s2, s2, 1
    li t1, 8
    bne s2, t1, 2f
    li s2, 11                   /* skip Bare, Sv39, Sv48, Sv57 */
2:  li t1, 16
    bne s2, t1, 1b

    /* Sv57: all or nothing */
    li TESTNUM, 30
    li a1, SATP(SATP_MODE_SV57, 0, 0x54321)
    csrw satp, a1
    csrr a0, satp
    beq a0, s1, 3f
    and a0, a0, t0
    bne a0, a1, fail
3:
    /* Bare: ignore the rest? The spec says PPN/ASID must be zero for Bare;
     * a Bare write with zero fields reads back as 0. */
    li TESTNUM, 31
    csrw satp, zero
    csrr a0, satp
    CHECK_REG(a0, 0)
    j pass
