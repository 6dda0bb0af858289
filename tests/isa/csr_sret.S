/* sret and S-mode traps: sret restores SIE from SPIE, sets SPIE, returns to
 * the mode in SPP (then sets SPP = U); a trap taken in S-mode saves SIE in
 * SPIE, clears SIE and records the previous mode (0 = U, 1 = S) in SPP, with
 * sepc/scause/stval; M-mode state is untouched by S traps. */
#include "test.h"

    .text
    .globl test_main
test_main:
    li t0, (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_USER_ECALL)
    csrw medeleg, t0
    li a0, PRV_S
    la a1, in_s
    call go_mode
    csrw medeleg, zero
    li TESTNUM, 100
    CHECK_REG(a0, 0x5)
    j pass

in_s:
    /* sret to S: SPP = S, SPIE = 1, SIE = 0 -> SIE = 1, SPIE = 1, SPP = U */
    li TESTNUM, 1
    csrw sie, zero                  /* no S interrupts can fire */
    li t0, MSTATUS_SPP | MSTATUS_SPIE
    csrs sstatus, t0
    li t0, MSTATUS_SIE
    csrc sstatus, t0
    la t0, 1f
    csrw sepc, t0
    sret
    j fail
1:  csrr a0, sstatus
    andi a1, a0, MSTATUS_SIE
    CHECK_REG(a1, MSTATUS_SIE)
    andi a1, a0, MSTATUS_SPIE
    CHECK_REG(a1, MSTATUS_SPIE)
    andi a1, a0, MSTATUS_SPP
    CHECK_REG(a1, 0)

    /* a trap in S with SIE = 1: SPIE = 1, SIE = 0, SPP = S */
    li TESTNUM, 2
    li t6, -1
    sd t6, trap_m_cause, t5
    EXPECT_TRAP_S(2, CAUSE_BREAKPOINT, 2: ebreak)
    li TESTNUM, 3
    ld a0, trap_s_status
    andi a1, a0, MSTATUS_SIE
    CHECK_REG(a1, 0)
    andi a1, a0, MSTATUS_SPIE
    CHECK_REG(a1, MSTATUS_SPIE)
    andi a1, a0, MSTATUS_SPP
    CHECK_REG(a1, MSTATUS_SPP)
    ld a0, trap_s_epc
    la a1, 2b
    bne a0, a1, fail
    ld a0, trap_m_cause             /* M saw nothing */
    CHECK_REG(a0, -1)
    /* after sret: SIE back to 1 */
    li TESTNUM, 4
    csrr a0, sstatus
    andi a1, a0, MSTATUS_SIE
    CHECK_REG(a1, MSTATUS_SIE)

    /* a trap in S with SIE = 0: SPIE = 0 */
    li TESTNUM, 5
    li t0, MSTATUS_SIE
    csrc sstatus, t0
    EXPECT_TRAP_S(5, CAUSE_BREAKPOINT, ebreak)
    ld a0, trap_s_status
    andi a1, a0, MSTATUS_SPIE
    CHECK_REG(a1, 0)

    /* sret to U: SPP = 0; U-mode code ecalls (delegated) back to S */
    li TESTNUM, 6
    li t0, MSTATUS_SPP
    csrc sstatus, t0
    li t0, MSTATUS_SPIE
    csrs sstatus, t0
    la t0, u_code
    csrw sepc, t0
    la t6, 3f
    sd t6, trap_s_resume, t5
    li t6, -1
    sd t6, trap_s_cause, t5
    sret
3:  sd zero, trap_s_resume, t5
    ld a0, trap_s_cause
    CHECK_REG(a0, CAUSE_USER_ECALL)
    li TESTNUM, 7
    ld a0, trap_s_status
    andi a1, a0, MSTATUS_SPP
    CHECK_REG(a1, 0)                /* came from U */
    andi a1, a0, MSTATUS_SPIE
    CHECK_REG(a1, MSTATUS_SPIE)     /* sret set SIE = 1 in U; the trap saved it */
    ld a0, trap_s_epc
    la a1, u_ecall
    bne a0, a1, fail
    ld a0, trap_s_tval
    CHECK_REG(a0, 0)
    /* the handler's sret resumed us with the trap's SPP (U): we now run in
     * U-mode, so an S CSR access is illegal (and goes to M: not delegated);
     * the final return goes through the U trampoline, delegated to S. */
    EXPECT_TRAP(8, CAUSE_ILLEGAL_INSN, csrr a0, sstatus)
    li a0, 0x5
    ret

u_code:
    li a0, 0
u_ecall:
    ecall
    j fail
