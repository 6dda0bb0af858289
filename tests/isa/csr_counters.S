/* Counters: cycle, time and instret count up; instret counts retired
 * instructions exactly enough that a straight-line block of N instructions
 * advances it by about N; mcycle/minstret are writable from M; time follows
 * the CLINT's mtime; mcounteren gates S (and U), scounteren gates U: a
 * disabled counter read is an illegal instruction. */
#include "test.h"

    .text
    .globl test_main
test_main:
    /* they increase */
    li TESTNUM, 1
    rdcycle a0
    li t0, 1000
1:  addi t0, t0, -1
    bnez t0, 1b
    rdcycle a1
    bleu a1, a0, fail
    li TESTNUM, 2
    rdinstret a0
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    rdinstret a1
    sub a2, a1, a0
    beqz a2, fail
    ld t0, ref_quirks
    andi t0, t0, QUIRK_INSTRET_NOT_EXACT
    bnez t0, 3f
    li t0, 10
    bltu a2, t0, fail           /* at least the 10 nops */
    li t0, 40
    bgeu a2, t0, fail           /* and not wildly more */
3:
    IF_QUIRK(QUIRK_NO_TIME_CSR, 4f)
    li TESTNUM, 3
    rdtime a0
    li t0, 200000
2:  addi t0, t0, -1
    bnez t0, 2b
    rdtime a1
    bleu a1, a0, fail
    /* time and mtime agree (within what passes between the reads) */
    li TESTNUM, 4
    li t1, CLINT_MTIME
    ld a0, 0(t1)
    rdtime a1
    ld a2, 0(t1)
    bltu a1, a0, fail
    bltu a2, a1, fail
4:
    /* minstret/mcycle writable */
    li TESTNUM, 5
    li t0, 0x100000000
    csrw minstret, t0
    csrr a0, minstret
    bltu a0, t0, fail
    IF_QUIRK(QUIRK_INSTRET_NOT_EXACT, 5f)
    li t1, 0x100000100
    bgeu a0, t1, fail
5:
    rdinstret a1
    bltu a1, a0, fail
    li TESTNUM, 6
    li t0, 0x200000000
    csrw mcycle, t0
    csrr a0, mcycle
    bltu a0, t0, fail

    /* mcounteren gating from S */
    csrw mcounteren, zero
    li a0, PRV_S
    la a1, s_all_illegal
    call go_mode
    li TESTNUM, 10
    CHECK_REG(a0, 1)
    li t0, 7
    csrw mcounteren, t0
    li a0, PRV_S
    la a1, s_all_ok
    call go_mode
    li TESTNUM, 11
    CHECK_REG(a0, 1)
    /* one bit at a time: only TM */
    IF_QUIRK(QUIRK_NO_TIME_CSR, 6f)
    li t0, 2
    csrw mcounteren, t0
    li a0, PRV_S
    la a1, s_only_time
    call go_mode
    li TESTNUM, 12
    CHECK_REG(a0, 1)
6:
    /* U needs both mcounteren and scounteren */
    li t0, 7
    csrw mcounteren, t0
    csrw scounteren, zero
    li a0, PRV_U
    la a1, s_all_illegal
    call go_mode
    li TESTNUM, 13
    CHECK_REG(a0, 1)
    li t0, 7
    csrw scounteren, t0
    csrw mcounteren, zero
    li a0, PRV_U
    la a1, s_all_illegal
    call go_mode
    li TESTNUM, 14
    CHECK_REG(a0, 1)
    li t0, 7
    csrw mcounteren, t0
    li a0, PRV_U
    la a1, s_all_ok
    call go_mode
    li TESTNUM, 15
    CHECK_REG(a0, 1)
    /* M-mode reads are never gated */
    csrw mcounteren, zero
    csrw scounteren, zero
    EXPECT_NO_TRAP(16, rdcycle a0; rdinstret a0)
    IF_QUIRK(QUIRK_NO_TIME_CSR, 7f)
    EXPECT_NO_TRAP(17, rdtime a0)
7:
    li t0, 7
    csrw mcounteren, t0
    csrw scounteren, t0
    j pass

s_all_illegal:
    EXPECT_TRAP(20, CAUSE_ILLEGAL_INSN, rdcycle a0)
    EXPECT_TRAP(21, CAUSE_ILLEGAL_INSN, rdtime a0)   /* also where time is absent */
    EXPECT_TRAP(22, CAUSE_ILLEGAL_INSN, rdinstret a0)
    li a0, 1
    ret
s_all_ok:
    EXPECT_NO_TRAP(30, rdcycle a0)
    IF_QUIRK(QUIRK_NO_TIME_CSR, 1f)
    EXPECT_NO_TRAP(31, rdtime a0)
1:
    EXPECT_NO_TRAP(32, rdinstret a0)
    li a0, 1
    ret
s_only_time:
    EXPECT_TRAP(40, CAUSE_ILLEGAL_INSN, rdcycle a0)
    EXPECT_NO_TRAP(41, rdtime a0)
    EXPECT_TRAP(42, CAUSE_ILLEGAL_INSN, rdinstret a0)
    li a0, 1
    ret
