/* WFI returns once an interrupt is pending and enabled in mie, even with
 * interrupts globally disabled (mstatus.MIE = 0, or SIE = 0 in S-mode), and
 * then no trap is taken; execution continues after the wfi. WFI in S-mode
 * with TW = 0 is legal. */
#include "test.h"
#include "irq.h"

    .text
    .globl test_main
test_main:
    csrw mie, zero
    csrci mstatus, MSTATUS_MIE
    MTIMECMP_OFF
    ld s2, trap_m_count

    /* timer 1 ms ahead, MTIE set, MIE clear: wfi wakes when it fires */
    li TESTNUM, 1
    li t0, MIP_MTIP
    csrs mie, t0
    READ_MTIME(a1)
    li t0, 10000
    add a1, a1, t0
    SET_MTIMECMP(a1)
    li s3, 1000                 /* wfi may also return early: bounded retry */
1:  wfi
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    bnez a0, 2f
    addi s3, s3, -1
    bnez s3, 1b
    j fail
2:  ld a0, trap_m_count
    bne a0, s2, fail            /* no trap */
    /* already pending: wfi returns at once (a hang here times out) */
    li TESTNUM, 2
    wfi
    wfi
    MTIMECMP_OFF
    csrw mie, zero

    /* software interrupt pending before the wfi */
    li TESTNUM, 3
    li t0, MIP_MSIP
    csrs mie, t0
    SET_MSIP(1)
    wfi
    SET_MSIP(0)
    csrw mie, zero
    ld a0, trap_m_count
    bne a0, s2, fail

    /* S-mode: delegated SSIP pending and enabled in sie, SIE = 0 */
    li t0, MIP_SSIP
    csrw mideleg, t0
    csrw mie, t0
    li a0, PRV_S
    la a1, in_s
    call go_mode
    li TESTNUM, 4
    CHECK_REG(a0, 0x5)
    csrw mideleg, zero
    csrw mie, zero

    /* Linux's idle loop: S arms stimecmp (Sstc), enables SIE and waits in
     * wfi; the timer interrupt is taken in S right after the wfi */
    IF_QUIRK(QUIRK_NO_TIME_CSR, 9f)
    li t0, 1
    slli t0, t0, 63
    csrs 0x30a, t0              /* menvcfg.STCE */
    csrr t1, 0x30a
    bgez t1, 9f                 /* no Sstc */
    li t0, MIP_STIP
    csrw mideleg, t0
    csrw mie, t0
    la t0, stimecmp_off_hook
    sd t0, trap_s_hook, t1
    li a0, PRV_S
    la a1, in_s_idle
    call go_mode
    sd zero, trap_s_hook, t1
    li TESTNUM, 5
    CHECK_REG(a0, 0x6)
    csrw mideleg, zero
    csrw mie, zero
    li t0, 1
    slli t0, t0, 63
    csrc 0x30a, t0
9:  j pass

in_s_idle:
    li TESTNUM, 20
    li t6, -1
    sd t6, trap_s_cause, t5
    la t6, 2f
    sd t6, trap_s_resume, t5
    rdtime t0
    li t1, 20000                /* 2 ms */
    add t0, t0, t1
    csrw 0x14d, t0              /* stimecmp */
    csrsi sstatus, MSTATUS_SIE
    li s3, 1000
1:  wfi
    addi s3, s3, -1
    bnez s3, 1b
    j fail
2:  sd zero, trap_s_resume, t5
    ld a0, trap_s_cause
    CHECK_REG(a0, INTR(IRQ_S_TIMER))
    li a0, 0x6
    ret

stimecmp_off_hook:
    li t0, -1
    csrw 0x14d, t0
    li a0, 0
    ret

in_s:
    li TESTNUM, 10
    csrci sstatus, MSTATUS_SIE
    ld s2, trap_s_count
    csrsi sip, MIP_SSIP
    wfi
    ld a0, trap_s_count
    bne a0, s2, fail
    csrci sip, MIP_SSIP
    li a0, 0x5
    ret
