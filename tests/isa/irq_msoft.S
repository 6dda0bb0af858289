/* Machine software interrupt: the CLINT's msip register drives mip.MSIP
 * (read-only in mip); taken with mie.MSIE and MIE, cause 2^63 + 3. */
#include "test.h"
#include "irq.h"

    .text
    .globl test_main
test_main:
    csrw mie, zero
    li TESTNUM, 1
    SET_MSIP(1)
    csrr a0, mip
    andi a0, a0, MIP_MSIP
    CHECK_REG(a0, MIP_MSIP)
    li TESTNUM, 2
    li t0, CLINT_MSIP
    lw a0, 0(t0)
    CHECK_REG(a0, 1)
    li TESTNUM, 3
    SET_MSIP(0)
    csrr a0, mip
    andi a0, a0, MIP_MSIP
    CHECK_REG(a0, 0)
    /* not writable through mip */
    li TESTNUM, 4
    csrsi mip, MIP_MSIP
    csrr a0, mip
    andi a0, a0, MIP_MSIP
    CHECK_REG(a0, 0)
    /* taken */
    li TESTNUM, 5
    li t0, MIP_MSIP
    csrs mie, t0
    csrsi mstatus, MSTATUS_MIE
    li t6, -1
    sd t6, trap_m_cause, t5
    la t6, 1f
    sd t6, trap_m_resume, t5
    SET_MSIP(1)
    SPIN_FOR_TRAP(SPIN_LIMIT)
1:  sd zero, trap_m_resume, t5
    ld a0, trap_m_cause
    CHECK_REG(a0, INTR(IRQ_M_SOFT))
    SET_MSIP(0)
    li TESTNUM, 6
    csrr a0, mip
    andi a0, a0, MIP_MSIP
    CHECK_REG(a0, 0)
    /* enabling MIE again with nothing pending: nothing happens */
    li TESTNUM, 7
    ld s2, trap_m_count
    csrsi mstatus, MSTATUS_MIE
    li t0, 1000
2:  addi t0, t0, -1
    bnez t0, 2b
    csrci mstatus, MSTATUS_MIE
    ld a0, trap_m_count
    bne a0, s2, fail
    csrw mie, zero
    j pass
