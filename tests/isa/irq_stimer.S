/* Supervisor timer interrupt. With menvcfg.STCE = 0, M drives mip.STIP by
 * writing mip (S cannot clear it through sip): not delegated it is taken in
 * M (2^63 + 5), delegated it is taken in S with sie.STIE and SIE. Sstc is
 * required (condo advertises it, QEMU virt has it): menvcfg.STCE = 1 must
 * stick, then STIP follows stimecmp <= time, mip.STIP is no longer
 * writable, and S programs its own timer through stimecmp. Only QEMU's
 * spike machine (no time CSR, so no Sstc) is excused, by its quirk bit. */
#include "test.h"
#include "irq.h"

#define CSR_STIMECMP 0x14d
#define CSR_MENVCFG  0x30a
#define STCE_BIT 63

    .text
    .globl test_main
test_main:
    csrw mie, zero
    csrw mideleg, zero
    li t0, 1
    slli t0, t0, STCE_BIT
    csrc CSR_MENVCFG, t0
    /* M sets and clears STIP */
    li TESTNUM, 1
    li t0, MIP_STIP
    csrs mip, t0
    csrr a0, mip
    andi a0, a0, MIP_STIP
    CHECK_REG(a0, MIP_STIP)
    li t0, MIP_STIP
    csrc mip, t0
    csrr a0, mip
    andi a0, a0, MIP_STIP
    CHECK_REG(a0, 0)
    /* not delegated: taken in M */
    li TESTNUM, 2
    la t0, stip_off_hook_m
    sd t0, trap_m_hook, t1
    li t0, MIP_STIP
    csrs mie, t0
    li t6, -1
    sd t6, trap_m_cause, t5
    la t6, 1f
    sd t6, trap_m_resume, t5
    li t0, MIP_STIP
    csrs mip, t0
    csrsi mstatus, MSTATUS_MIE
    SPIN_FOR_TRAP(SPIN_LIMIT)
1:  sd zero, trap_m_resume, t5
    ld a0, trap_m_cause
    CHECK_REG(a0, INTR(IRQ_S_TIMER))
    csrci mstatus, MSTATUS_MIE
    sd zero, trap_m_hook, t1

    /* delegated: taken in S; S cannot clear STIP, so its hook masks STIE */
    li t0, MIP_STIP
    csrw mideleg, t0
    csrs mip, t0
    la t0, stie_off_hook_s
    sd t0, trap_s_hook, t1
    li a0, PRV_S
    la a1, in_s
    call go_mode
    li TESTNUM, 3
    CHECK_REG(a0, 0x5)
    sd zero, trap_s_hook, t1
    li t0, MIP_STIP
    csrc mip, t0

    /* Sstc (QEMU's spike machine has no time CSR, so no Sstc either) */
    IF_QUIRK(QUIRK_NO_TIME_CSR, no_sstc)
    li t0, 1
    slli t0, t0, STCE_BIT
    csrs CSR_MENVCFG, t0
    li TESTNUM, 9
    csrr a0, CSR_MENVCFG
    srli a0, a0, STCE_BIT
    CHECK_REG(a0, 1)
    li TESTNUM, 10
    li t0, -1
    csrw CSR_STIMECMP, t0
    csrr a0, mip
    andi a0, a0, MIP_STIP
    CHECK_REG(a0, 0)
    li TESTNUM, 11
    csrw CSR_STIMECMP, zero     /* in the past: pending */
    csrr a0, mip
    andi a0, a0, MIP_STIP
    CHECK_REG(a0, MIP_STIP)
    /* mip.STIP is now read-only */
    li TESTNUM, 12
    li t0, MIP_STIP
    csrc mip, t0
    csrr a0, mip
    andi a0, a0, MIP_STIP
    CHECK_REG(a0, MIP_STIP)
    li t0, -1
    csrw CSR_STIMECMP, t0
    /* S programs a timer 100 us ahead and takes it */
    la t0, stimecmp_off_hook_s
    sd t0, trap_s_hook, t1
    li a0, PRV_S
    la a1, in_s_sstc
    call go_mode
    li TESTNUM, 13
    CHECK_REG(a0, 0x7)
    sd zero, trap_s_hook, t1
no_sstc:
    li t0, 1
    slli t0, t0, STCE_BIT
    csrc CSR_MENVCFG, t0
    csrw mideleg, zero
    csrw mie, zero
    j pass

in_s:
    li TESTNUM, 20
    li t0, MIP_STIP
    csrc sip, t0                /* no effect */
    csrr a0, sip
    andi a0, a0, MIP_STIP
    CHECK_REG(a0, MIP_STIP)
    li TESTNUM, 21
    li t6, -1
    sd t6, trap_s_cause, t5
    la t6, 2f
    sd t6, trap_s_resume, t5
    csrsi sstatus, MSTATUS_SIE
    SPIN_FOR_TRAP(SPIN_LIMIT)
2:  sd zero, trap_s_resume, t5
    ld a0, trap_s_cause
    CHECK_REG(a0, INTR(IRQ_S_TIMER))
    li a0, 0x5
    ret

in_s_sstc:
    li TESTNUM, 30
    li t0, MIP_STIP
    csrs sie, t0
    li t6, -1
    sd t6, trap_s_cause, t5
    la t6, 3f
    sd t6, trap_s_resume, t5
    csrsi sstatus, MSTATUS_SIE
    rdtime t0
    addi t0, t0, 1000
    csrw CSR_STIMECMP, t0
    SPIN_FOR_TRAP(SPIN_LIMIT * 4)
3:  sd zero, trap_s_resume, t5
    ld a0, trap_s_cause
    CHECK_REG(a0, INTR(IRQ_S_TIMER))
    li TESTNUM, 31
    csrr a0, sip
    andi a0, a0, MIP_STIP
    CHECK_REG(a0, 0)            /* the hook moved stimecmp away */
    li a0, 0x7
    ret

stip_off_hook_m:
    li t0, MIP_STIP
    csrc mip, t0
    li a0, 0
    ret
stie_off_hook_s:
    li t0, MIP_STIP
    csrc sie, t0
    li a0, 0
    ret
stimecmp_off_hook_s:
    li t0, -1
    csrw CSR_STIMECMP, t0
    li a0, 0
    ret
