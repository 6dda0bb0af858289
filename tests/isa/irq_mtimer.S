/* Machine timer interrupt: mip.MTIP follows mtime >= mtimecmp (and is not
 * writable through mip); it is taken only when mie.MTIE and (in M-mode)
 * mstatus.MIE are set, with mcause = 2^63 + 7, mtval = 0, MPIE = the old
 * MIE; in S-mode it is taken whatever mstatus.MIE says. */
#include "test.h"
#include "irq.h"

    .text
    .globl test_main
test_main:
    csrw mie, zero
    MTIMECMP_OFF
    li TESTNUM, 1
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    CHECK_REG(a0, 0)
    /* mtime runs */
    li TESTNUM, 2
    READ_MTIME(s0)
    li t0, 100000
1:  addi t0, t0, -1
    bnez t0, 1b
    READ_MTIME(s1)
    bleu s1, s0, fail
    /* MTIP rises when mtime reaches mtimecmp */
    li TESTNUM, 3
    READ_MTIME(a1)
    addi a1, a1, 100            /* 10 us */
    SET_MTIMECMP(a1)
    li t0, SPIN_LIMIT
2:  csrr a0, mip
    andi a0, a0, MIP_MTIP
    bnez a0, 3f
    addi t0, t0, -1
    bnez t0, 2b
    j fail
3:  /* ... and falls when mtimecmp moves ahead */
    li TESTNUM, 4
    MTIMECMP_OFF
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    CHECK_REG(a0, 0)
    /* mip.MTIP is read-only */
    li TESTNUM, 5
    li t0, MIP_MTIP
    csrs mip, t0
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    CHECK_REG(a0, 0)

    /* pending + MTIE but MIE = 0: not taken */
    li TESTNUM, 6
    ld s2, trap_m_count
    MTIMECMP_NOW
    li t0, MIP_MTIP
    csrs mie, t0
    li t0, 1000
4:  addi t0, t0, -1
    bnez t0, 4b
    ld a0, trap_m_count
    bne a0, s2, fail
    /* set MIE: taken */
    li TESTNUM, 7
    li t6, -1
    sd t6, trap_m_cause, t5
    la t6, 5f
    sd t6, trap_m_resume, t5
    csrsi mstatus, MSTATUS_MIE
    SPIN_FOR_TRAP(SPIN_LIMIT)
5:  sd zero, trap_m_resume, t5
    ld a0, trap_m_cause
    CHECK_REG(a0, INTR(IRQ_M_TIMER))
    li TESTNUM, 8
    ld a0, trap_m_tval
    CHECK_REG(a0, 0)
    ld a0, trap_m_status
    andi a1, a0, MSTATUS_MPIE
    CHECK_REG(a1, MSTATUS_MPIE)
    andi a1, a0, MSTATUS_MIE
    CHECK_REG(a1, 0)
    /* resumed with MIE = 0 (the framework cleared MPIE) */
    li TESTNUM, 9
    csrr a0, mstatus
    andi a0, a0, MSTATUS_MIE
    CHECK_REG(a0, 0)
    /* MIE = 1 but MTIE = 0: not taken */
    li TESTNUM, 10
    li t0, MIP_MTIP
    csrc mie, t0
    ld s2, trap_m_count
    csrsi mstatus, MSTATUS_MIE
    li t0, 1000
6:  addi t0, t0, -1
    bnez t0, 6b
    csrci mstatus, MSTATUS_MIE
    ld a0, trap_m_count
    bne a0, s2, fail

    /* in S-mode, with mstatus.MIE = 0: taken */
    MTIMECMP_OFF
    la t0, timer_off_hook
    sd t0, trap_m_hook, t1
    li t0, MIP_MTIP
    csrs mie, t0
    li a0, PRV_S
    la a1, in_s
    call go_mode
    li TESTNUM, 11
    CHECK_REG(a0, 0x5)
    sd zero, trap_m_hook, t1
    csrw mie, zero
    j pass

in_s:
    li TESTNUM, 20
    li t6, -1
    sd t6, trap_m_cause, t5
    la t6, 7f
    sd t6, trap_m_resume, t5
    MTIMECMP_NOW                /* S can reach the CLINT: PMP allows all */
    SPIN_FOR_TRAP(SPIN_LIMIT)
7:  sd zero, trap_m_resume, t5
    ld a0, trap_m_cause
    CHECK_REG(a0, INTR(IRQ_M_TIMER))
    li TESTNUM, 21
    ld a0, trap_m_status
    srli a0, a0, 11
    andi a0, a0, 3
    CHECK_REG(a0, PRV_S)
    li a0, 0x5
    ret

/* M hook: an interrupt in S-mode would fire again at once; turn the timer
 * off and let the framework resume. */
timer_off_hook:
    li t0, CLINT_MTIMECMP
    li t1, -1
    sd t1, 0(t0)
    li a0, 0
    ret
