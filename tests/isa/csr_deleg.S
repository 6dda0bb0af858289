/* medeleg/mideleg: which bits are writable (delegable exceptions; only the
 * S-level interrupts SSIP/STIP/SEIP in mideleg, the M-level ones read-only
 * zero); a delegated exception from S or U goes to stvec with scause/sepc/
 * stval and leaves the M CSRs alone; the same exception raised in M-mode is
 * never delegated; a non-delegated one from S/U goes to M. */
#include "test.h"

    .text
    .globl test_main
test_main:
    /* writable bits */
    li TESTNUM, 1
    li t0, -1
    csrw medeleg, t0
    csrr a0, medeleg
    li t1, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
    and a1, a0, t1
    bne a1, t1, fail
    li TESTNUM, 2
    csrw mideleg, t0
    csrr a0, mideleg
    li t1, MIP_SSIP | MIP_STIP | MIP_SEIP
    and a1, a0, t1
    bne a1, t1, fail
    li t1, MIP_MSIP | MIP_MTIP | MIP_MEIP
    and a1, a0, t1
    CHECK_REG(a1, 0)
    csrw mideleg, zero
    csrw medeleg, zero
    li TESTNUM, 3
    csrr a0, medeleg
    CHECK_REG(a0, 0)

    /* illegal instruction delegated: from S -> S handler */
    li t0, 1 << CAUSE_ILLEGAL_INSN
    csrw medeleg, t0
    csrw mcause, zero
    csrw mepc, zero
    csrw mtval, zero
    li a0, PRV_S
    la a1, s_illegal
    call go_mode
    li TESTNUM, 4
    CHECK_REG(a0, 0x1)
    /* M's mcause is the trampoline's ecall: nothing else reached M */
    csrr a0, mcause
    CHECK_REG(a0, CAUSE_SUPERVISOR_ECALL)
    /* from U -> S handler, SPP = U */
    li a0, PRV_U
    la a1, u_illegal
    call go_mode
    li TESTNUM, 5
    CHECK_REG(a0, 0x2)
    /* in M: never delegated */
    EXPECT_TRAP(6, CAUSE_ILLEGAL_INSN, csrr a0, 0xc80)   /* cycleh: illegal on RV64 */
    csrw medeleg, zero
    /* not delegated: from S to M */
    li a0, PRV_S
    la a1, s_not_deleg
    call go_mode
    li TESTNUM, 7
    CHECK_REG(a0, 0x3)
    j pass

s_illegal:
    li t6, -1
    sd t6, trap_m_cause, t5
    EXPECT_TRAP_S(10, CAUSE_ILLEGAL_INSN, 1: csrr a0, mstatus)
    li TESTNUM, 11
    ld a0, trap_s_epc
    la a1, 1b
    bne a0, a1, fail
    ld a0, trap_s_tval          /* 0 or the instruction */
    beqz a0, 2f
    lwu a1, 1b
    bne a0, a1, fail
2:  ld a0, trap_s_status
    andi a0, a0, MSTATUS_SPP
    CHECK_REG(a0, MSTATUS_SPP)
    ld a0, trap_m_cause
    CHECK_REG(a0, -1)
    li a0, 1
    ret

u_illegal:
    EXPECT_TRAP_S(20, CAUSE_ILLEGAL_INSN, csrr a0, sstatus)
    ld a0, trap_s_status
    andi a0, a0, MSTATUS_SPP
    CHECK_REG(a0, 0)
    li a0, 2
    ret

s_not_deleg:
    li t6, -1
    sd t6, trap_s_cause, t5
    EXPECT_TRAP(30, CAUSE_ILLEGAL_INSN, csrr a0, mstatus)
    ld a0, trap_s_cause
    CHECK_REG(a0, -1)
    li a0, 3
    ret
