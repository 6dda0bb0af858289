/* Branches and jumps: every conditional branch taken and not taken (signed
 * vs unsigned compares), forward and backward; jal/jalr link values; JALR
 * clears bit 0 of the target (so an odd target never raises a misaligned
 * fetch with C); jalr with rd == rs1 uses the old rs1. */
#include "test.h"

/* BR_TAKEN(n, insn, a, b): the branch must be taken */
#define BR_TAKEN(n, insn, a, b)  \
    li TESTNUM, n;               \
    li a1, a;                    \
    li a2, b;                    \
    insn a1, a2, 1f;             \
    j fail;                      \
1:

#define BR_NOT_TAKEN(n, insn, a, b) \
    li TESTNUM, n;               \
    li a1, a;                    \
    li a2, b;                    \
    insn a1, a2, fail_far_##n;   \
    j 1f;                        \
fail_far_##n: j fail;            \
1:

    .text
    .globl test_main
test_main:
    BR_TAKEN(1, beq, 5, 5)
    BR_NOT_TAKEN(2, beq, 5, 6)
    BR_NOT_TAKEN(3, beq, 0x100000005, 5)
    BR_TAKEN(4, bne, 0x100000005, 5)
    BR_NOT_TAKEN(5, bne, -1, -1)
    BR_TAKEN(6, blt, -1, 0)
    BR_NOT_TAKEN(7, blt, 0, -1)
    BR_NOT_TAKEN(8, blt, 3, 3)
    BR_TAKEN(9, blt, 0x8000000000000000, 0x7fffffffffffffff)
    BR_TAKEN(10, bge, 3, 3)
    BR_TAKEN(11, bge, 0, -1)
    BR_NOT_TAKEN(12, bge, -1, 0)
    BR_TAKEN(13, bltu, 0, -1)
    BR_NOT_TAKEN(14, bltu, -1, 0)
    BR_NOT_TAKEN(15, bltu, 7, 7)
    BR_TAKEN(16, bltu, 0x7fffffffffffffff, 0x8000000000000000)
    BR_TAKEN(17, bgeu, -1, 0)
    BR_TAKEN(18, bgeu, 7, 7)
    BR_NOT_TAKEN(19, bgeu, 0, 1)

    /* backward branch: a loop of 10 */
    TEST_CASE(20, a0, 10, li a0, 0; li a1, 10; 2: addi a0, a0, 1; bne a0, a1, 2b)

    /* jal links pc+4 */
    li TESTNUM, 21
    la a2, 3f
    jal a1, 3f
3:  bne a1, a2, fail
    /* jal with x0 (plain jump) does not write */
    li TESTNUM, 22
    li a1, 0
    jal x0, 4f
    j fail
4:  bnez x0, fail

    /* jalr: target = (rs1 + imm) & ~1, link = pc + 4 */
    li TESTNUM, 23
    la a1, 5f
    jalr a0, 0(a1)
    j fail
5:  la a2, 5b - 4
    bne a0, a2, fail
    li TESTNUM, 24
    la a1, 6f
    addi a1, a1, 1          /* odd address: bit 0 is cleared */
    jalr a0, 0(a1)
    j fail
    .balign 4
6:  li TESTNUM, 25
    la a1, 7f
    addi a1, a1, -3
    jalr a0, 3(a1)          /* imm makes it odd: rs1 + 3 = target */
    j fail
7:  li TESTNUM, 26
    la a1, 8f
    addi a1, a1, -2047
    jalr a0, 2047(a1)       /* large positive imm */
    j fail
8:  li TESTNUM, 27
    la a1, 9f
    addi a1, a1, 2047
    addi a1, a1, 2
    jalr a0, -2048(a1)      /* negative imm; +1 makes it odd */
    j fail
9:  /* rd == rs1: the target uses the old value */
    li TESTNUM, 28
    la a1, 10f
    la a2, 11f
    jalr a1, 0(a1)
11: j fail
10: bne a1, a2, fail
    /* an odd target through an RVC jump: c.jalr also clears bit 0 */
    li TESTNUM, 29
    la a1, 12f
    addi a1, a1, 1
    c.jalr a1
    j fail
12: nop
    /* a taken branch as the very last instruction before its target */
    li TESTNUM, 30
    li a0, 1
    beqz zero, 13f
13: li a0, 2
    li t6, 2
    bne a0, t6, fail
    j pass
