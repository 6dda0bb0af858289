/* Trap vectors and exception PCs: mepc/sepc bit 0 always reads 0 (bit 1 is
 * writable: C is on); mtvec/stvec MODE is WARL: Direct and Vectored read
 * back (condo and QEMU implement both: Vectored is required here), the
 * reserved modes 2-3 never do; in Vectored mode
 * exceptions go to BASE and interrupt n to BASE + 4n, for M and for
 * S (delegated). The handlers here are private: the framework's vectors are
 * swapped out while they run. */
#include "test.h"
#include "irq.h"

    .text
    .globl test_main
test_main:
    addi sp, sp, -16
    sd ra, 0(sp)
    li a1, 0x80000003
    IF_QUIRK(QUIRK_EPC_BIT0_KEPT, 3f)
    li TESTNUM, 1
    csrw mepc, a1
    csrr a0, mepc
    CHECK_REG(a0, 0x80000002)
    li TESTNUM, 2
    csrw sepc, a1
    csrr a0, sepc
    CHECK_REG(a0, 0x80000002)
3:

    csrr s0, mtvec              /* the framework's vector */
    /* Direct mode reads back */
    li TESTNUM, 3
    la a1, mtable
    csrw mtvec, a1
    csrr a0, mtvec
    bne a0, a1, restore_fail
    /* reserved modes never read back */
    li TESTNUM, 4
    ori a2, a1, 2
    csrw mtvec, a2
    csrr a0, mtvec
    andi a0, a0, 3
    li t0, 2
    bgeu a0, t0, restore_fail
    ori a2, a1, 3
    csrw mtvec, a2
    csrr a0, mtvec
    andi a0, a0, 3
    li t0, 2
    bgeu a0, t0, restore_fail
    /* Vectored reads back */
    li TESTNUM, 5
    ori a2, a1, 1
    csrw mtvec, a2
    csrr a0, mtvec
    bne a0, a2, restore_fail
    /* an exception goes to BASE */
    li s10, 0
    .option push
    .option norvc
    ebreak
    .option pop
    li t0, CAUSE_BREAKPOINT
    bne s10, t0, restore_fail
    /* MSI goes to BASE + 12 */
    li TESTNUM, 6
    li s10, 0
    li t0, MIP_MSIP
    csrw mie, t0
    SET_MSIP(1)
    csrsi mstatus, MSTATUS_MIE
    li t0, 100000
1:  bnez s10, 2f
    addi t0, t0, -1
    bnez t0, 1b
2:  csrci mstatus, MSTATUS_MIE
    csrw mie, zero
    li t0, INTR(IRQ_M_SOFT)
    bne s10, t0, restore_fail
    csrw mtvec, s0

    /* S: stvec WARL and vectored delivery of delegated traps */
    li t0, (1 << CAUSE_BREAKPOINT)
    csrw medeleg, t0
    li t0, MIP_SSIP
    csrw mideleg, t0
    csrw mie, t0
    li a0, PRV_S
    la a1, in_s
    call go_mode
    csrw medeleg, zero
    csrw mideleg, zero
    csrw mie, zero
    li TESTNUM, 20
    CHECK_REG(a0, 0)
    ld ra, 0(sp)
    addi sp, sp, 16
    j pass

restore_fail:
    csrw mtvec, s0
    j fail

/* returns 0 or fails itself */
in_s:
    csrr s1, stvec
    li TESTNUM, 10
    la a1, stable
    csrw stvec, a1
    csrr a0, stvec
    bne a0, a1, s_restore_fail
    ori a2, a1, 2
    csrw stvec, a2
    csrr a0, stvec
    andi a0, a0, 3
    li t0, 2
    bgeu a0, t0, s_restore_fail
    li TESTNUM, 11
    ori a2, a1, 1
    csrw stvec, a2
    csrr a0, stvec
    bne a0, a2, s_restore_fail
    li s10, 0
    .option push
    .option norvc
    ebreak
    .option pop
    li t0, CAUSE_BREAKPOINT
    bne s10, t0, s_restore_fail
    li TESTNUM, 12
    li s10, 0
    csrsi sip, MIP_SSIP
    csrsi sstatus, MSTATUS_SIE
    li t0, 100000
1:  bnez s10, 2f
    addi t0, t0, -1
    bnez t0, 1b
2:  csrci sstatus, MSTATUS_SIE
    li t0, INTR(IRQ_S_SOFT)
    bne s10, t0, s_restore_fail
    csrw stvec, s1
    li a0, 0
    ret
s_restore_fail:
    csrw stvec, s1
    j fail

/* Vector tables: entry 0 for exceptions, entry n for interrupt n */
    .balign 256
mtable:
    .option push
    .option norvc
    j m_exc
    j m_bad
    j m_bad
    j m_msi
    j m_bad
    j m_bad
    j m_bad
    j m_bad
    j m_bad
    j m_bad
    j m_bad
    j m_bad
    .option pop
m_exc:
    csrr s10, mcause
    csrr s11, mepc
    addi s11, s11, 4
    csrw mepc, s11
    mret
m_msi:
    csrr s10, mcause
    li s11, CLINT_MSIP
    sw zero, 0(s11)
    mret
m_bad:
    csrw mtvec, s0
    li a0, 200
    j test_exit

    .balign 256
stable:
    .option push
    .option norvc
    j s_exc
    j s_ssi
    j s_bad
    j s_bad
    j s_bad
    j s_bad
    j s_bad
    j s_bad
    j s_bad
    j s_bad
    .option pop
s_exc:
    csrr s10, scause
    csrr s11, sepc
    addi s11, s11, 4
    csrw sepc, s11
    sret
s_ssi:
    csrr s10, scause
    csrci sip, MIP_SSIP
    sret
s_bad:
    li a0, 201
    j test_exit
