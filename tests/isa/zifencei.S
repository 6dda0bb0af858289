/* Zifencei and FENCE: code written as data runs after fence.i, including
 * code that already ran (and may sit in a decode cache) before it was
 * overwritten; stores into the page of the running code; every FENCE
 * variant (incl. fence.tso and the pause hint) executes as a no-op here. */
#include "test.h"

    .data
    .balign 64
codebuf:
    li a0, 1
    ret
    .skip 56

    .text
    .globl test_main
test_main:
    addi sp, sp, -16
    sd ra, 0(sp)
    la s0, codebuf
    /* run it a few times so a block cache holds it */
    li TESTNUM, 1
    li s1, 5
1:  jalr s0
    CHECK_REG(a0, 1)
    addi s1, s1, -1
    bnez s1, 1b
    /* patch "li a0, 1" (c.li a0, 1 = 0x4505) into "li a0, 7" (0x451d) */
    li TESTNUM, 2
    lhu t0, 0(s0)
    li t1, 0x4505
    bne t0, t1, fail
    li t1, 0x451d
    sh t1, 0(s0)
    fence.i
    jalr s0
    CHECK_REG(a0, 7)
    /* a 32-bit replacement: addi a0, zero, 0x123 ; ret */
    li TESTNUM, 3
    li t1, 0x12300513
    sw t1, 0(s0)
    li t1, 0x00008067
    sw t1, 4(s0)
    fence.i
    jalr s0
    CHECK_REG(a0, 0x123)
    /* the same buffer in a loop, patched every iteration */
    li TESTNUM, 4
    li s1, 0
2:  slli t1, s1, 20
    li t2, 0x00000513       /* addi a0, zero, s1 */
    or t1, t1, t2
    sw t1, 0(s0)
    fence.i
    jalr s0
    bne a0, s1, fail
    addi s1, s1, 1
    li t2, 20
    bne s1, t2, 2b

    /* code in the same page as the store: patch the next instruction of a
     * routine in .text is not possible (read-only image? no: RAM), so patch
     * a local routine */
    li TESTNUM, 5
    la s2, patch_me
    jalr s2
    CHECK_REG(a0, 0x11)
    li t1, 0x02200513       /* addi a0, zero, 0x22 */
    sw t1, 0(s2)
    fence.i
    jalr s2
    CHECK_REG(a0, 0x22)

    /* fences */
    li TESTNUM, 6
    fence
    fence rw, rw
    fence r, r
    fence w, w
    fence io, io
    fence iorw, iorw
    fence.tso
    .word 0x0100000f        /* pause */
    fence.i
    ld ra, 0(sp)
    addi sp, sp, 16
    j pass

    .balign 4
patch_me:
    .option push
    .option norvc
    addi a0, zero, 0x11
    ret
    .option pop
