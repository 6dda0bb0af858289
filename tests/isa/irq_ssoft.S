/* Supervisor software interrupt through mip.SSIP (writable by M, and by S
 * through sip when delegated): not delegated -> taken in M (cause 2^63+1);
 * delegated -> never taken in M-mode, taken in S-mode only when
 * sstatus.SIE, always taken in U-mode; scause/sepc/SPP/SPIE as for traps. */
#include "test.h"
#include "irq.h"

    .text
    .globl test_main
test_main:
    csrw mie, zero
    csrw mideleg, zero
    li TESTNUM, 1
    csrsi mip, MIP_SSIP
    csrr a0, mip
    andi a0, a0, MIP_SSIP
    CHECK_REG(a0, MIP_SSIP)
    csrci mip, MIP_SSIP
    csrr a0, mip
    andi a0, a0, MIP_SSIP
    CHECK_REG(a0, 0)

    /* not delegated: taken in M */
    li TESTNUM, 2
    la t0, ssip_off_hook_m
    sd t0, trap_m_hook, t1
    li t0, MIP_SSIP
    csrs mie, t0
    li t6, -1
    sd t6, trap_m_cause, t5
    la t6, 1f
    sd t6, trap_m_resume, t5
    csrsi mstatus, MSTATUS_MIE
    csrsi mip, MIP_SSIP
    SPIN_FOR_TRAP(SPIN_LIMIT)
1:  sd zero, trap_m_resume, t5
    ld a0, trap_m_cause
    CHECK_REG(a0, INTR(IRQ_S_SOFT))
    csrci mstatus, MSTATUS_MIE
    sd zero, trap_m_hook, t1

    /* delegated: pending and enabled, but never taken in M-mode */
    li TESTNUM, 3
    li t0, MIP_SSIP
    csrw mideleg, t0
    ld s2, trap_m_count
    csrsi mip, MIP_SSIP
    csrsi mstatus, MSTATUS_MIE
    li t0, 1000
2:  addi t0, t0, -1
    bnez t0, 2b
    csrci mstatus, MSTATUS_MIE
    ld a0, trap_m_count
    bne a0, s2, fail
    csrci mip, MIP_SSIP

    /* taken in S-mode with SIE, in U-mode always */
    la t0, ssip_off_hook_s
    sd t0, trap_s_hook, t1
    li t0, MIP_SSIP
    csrs mie, t0
    li a0, PRV_S
    la a1, in_s
    call go_mode
    li TESTNUM, 4
    CHECK_REG(a0, 0x5)
    li t6, -1
    sd t6, trap_s_cause, t5
    la t6, u_resumed
    sd t6, trap_s_resume, t5
    csrci sstatus, MSTATUS_SIE
    csrsi mip, MIP_SSIP
    li a0, PRV_U
    la a1, in_u
    call go_mode
    li TESTNUM, 5
    CHECK_REG(a0, 0x6)
    sd zero, trap_s_hook, t1
    csrw mideleg, zero
    csrw mie, zero
    j pass

in_s:
    /* SIE = 0: pending, not taken */
    li TESTNUM, 10
    csrci sstatus, MSTATUS_SIE
    ld s2, trap_s_count
    csrsi sip, MIP_SSIP         /* S raises its own software interrupt */
    csrr a0, sip
    andi a0, a0, MIP_SSIP
    CHECK_REG(a0, MIP_SSIP)
    li t0, 1000
3:  addi t0, t0, -1
    bnez t0, 3b
    ld a0, trap_s_count
    bne a0, s2, fail
    /* SIE = 1: taken in S */
    li TESTNUM, 11
    li t6, -1
    sd t6, trap_s_cause, t5
    la t6, 4f
    sd t6, trap_s_resume, t5
    csrsi sstatus, MSTATUS_SIE
    SPIN_FOR_TRAP(SPIN_LIMIT)
4:  sd zero, trap_s_resume, t5
    ld a0, trap_s_cause
    CHECK_REG(a0, INTR(IRQ_S_SOFT))
    li TESTNUM, 12
    ld a0, trap_s_tval
    CHECK_REG(a0, 0)
    ld a0, trap_s_status
    andi a1, a0, MSTATUS_SPP
    CHECK_REG(a1, MSTATUS_SPP)
    andi a1, a0, MSTATUS_SPIE
    CHECK_REG(a1, MSTATUS_SPIE)
    /* resumed with SIE = 0 */
    csrr a0, sstatus
    andi a0, a0, MSTATUS_SIE
    CHECK_REG(a0, 0)
    li a0, 0x5
    ret

in_u:
    /* in U, S-level interrupts are enabled whatever SIE is; M made SSIP
     * pending before entering U and set the S resume address */
    SPIN_FOR_TRAP(SPIN_LIMIT)
u_resumed:
    sd zero, trap_s_resume, t5
    li TESTNUM, 20
    ld a0, trap_s_cause
    CHECK_REG(a0, INTR(IRQ_S_SOFT))
    ld a0, trap_s_status
    andi a1, a0, MSTATUS_SPP
    CHECK_REG(a1, 0)
    li a0, 0x6
    ret

/* hooks: clear the pending bit so the interrupt does not fire again */
ssip_off_hook_m:
    csrci mip, MIP_SSIP
    li a0, 0
    ret
ssip_off_hook_s:
    csrci sip, MIP_SSIP
    li a0, 0
    ret
