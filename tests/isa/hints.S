/* HINT encodings execute as no-ops (they must not trap): integer
 * instructions with rd = x0 beyond the canonical nop, compressed forms with
 * rd = x0 or a zero immediate, and FENCE with unused fields. */
#include "test.h"

    .text
    .globl test_main
test_main:
    li a0, 0x55
    li a1, 0x66
    EXPECT_NO_TRAP(1, addi x0, a0, 5)
    EXPECT_NO_TRAP(2, slti x0, a0, 1; sltiu x0, a0, 1; andi x0, a0, 1; ori x0, a0, 1; xori x0, a0, 1)
    EXPECT_NO_TRAP(3, add x0, a0, a1; sub x0, a0, a1; slli x0, a0, 3; srai x0, a0, 3)
    EXPECT_NO_TRAP(4, lui x0, 0x12345; auipc x0, 1)
    EXPECT_NO_TRAP(5, .hword 0x0005)            /* c.nop 1 (c.addi x0, 1) */
    EXPECT_NO_TRAP(6, .hword 0x4015)            /* c.li x0, 5 */
    EXPECT_NO_TRAP(7, .hword 0x802a)            /* c.mv x0, a0 */
    EXPECT_NO_TRAP(8, .hword 0x902a)            /* c.add x0, a0 */
    EXPECT_NO_TRAP(9, .hword 0x0012)            /* c.slli x0, 4 */
    li a0, 0x55
    EXPECT_NO_TRAP(10, .hword 0x050a)           /* c.slli a0, 2: a real one, for contrast */
    CHECK_REG(a0, 0x154)
    EXPECT_NO_TRAP(11, .word 0x0000000f | (1 << 15))  /* fence with rs1 != 0 */
    EXPECT_NO_TRAP(12, .word 0x8330000f)        /* fence.tso */
    /* registers were not disturbed */
    li TESTNUM, 13
    li t0, 0x66
    bne a1, t0, fail
    bnez x0, fail
    j pass
