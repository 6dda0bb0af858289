/* mstatus on traps and mret: a trap saves MIE into MPIE, clears MIE and
 * records the previous mode in MPP; mret restores MIE from MPIE, sets MPIE,
 * sets MPP to U (the least-privileged mode) and clears MPRV when returning
 * below M; MPP only holds legal modes; SXL/UXL read 64-bit (2). */
#include "test.h"

#define MSTATUS_FIELD(reg, shift, mask) srli reg, reg, shift; andi reg, reg, mask

    .text
    .globl test_main
test_main:
    /* trap from M with MIE = 1 */
    csrw mie, zero
    li t0, MSTATUS_MIE
    csrs mstatus, t0
    EXPECT_TRAP(1, CAUSE_MACHINE_ECALL, ecall)
    li TESTNUM, 2
    ld a0, trap_m_status
    andi a1, a0, MSTATUS_MIE
    CHECK_REG(a1, 0)
    andi a1, a0, MSTATUS_MPIE
    CHECK_REG(a1, MSTATUS_MPIE)
    MSTATUS_FIELD(a0, 11, 3)
    CHECK_REG(a0, 3)
    /* after mret: MIE = 1 (from MPIE), MPIE = 1, MPP = U */
    li TESTNUM, 3
    csrr a0, mstatus
    andi a1, a0, MSTATUS_MIE
    CHECK_REG(a1, MSTATUS_MIE)
    andi a1, a0, MSTATUS_MPIE
    CHECK_REG(a1, MSTATUS_MPIE)
    MSTATUS_FIELD(a0, 11, 3)
    CHECK_REG(a0, 0)

    /* trap from M with MIE = 0 */
    li t0, MSTATUS_MIE
    csrc mstatus, t0
    EXPECT_TRAP(4, CAUSE_BREAKPOINT, ebreak)
    li TESTNUM, 5
    ld a0, trap_m_status
    andi a1, a0, MSTATUS_MPIE
    CHECK_REG(a1, 0)
    csrr a0, mstatus
    andi a1, a0, MSTATUS_MIE
    CHECK_REG(a1, 0)
    andi a1, a0, MSTATUS_MPIE
    CHECK_REG(a1, MSTATUS_MPIE)

    /* a bare mret to M: MPP = M, MPIE = 0 -> MIE = 0, MPIE = 1, MPP = U */
    li TESTNUM, 6
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    li t0, MSTATUS_MPIE | MSTATUS_MIE
    csrc mstatus, t0
    la t0, 1f
    csrw mepc, t0
    mret
    j fail
1:  csrr a0, mstatus
    andi a1, a0, MSTATUS_MIE
    CHECK_REG(a1, 0)
    andi a1, a0, MSTATUS_MPIE
    CHECK_REG(a1, MSTATUS_MPIE)
    MSTATUS_FIELD(a0, 11, 3)
    CHECK_REG(a0, 0)
    /* mret to M with MPIE = 1 -> MIE = 1 */
    li TESTNUM, 7
    li t0, MSTATUS_MPP | MSTATUS_MPIE
    csrs mstatus, t0
    la t0, 2f
    csrw mepc, t0
    mret
    j fail
2:  csrr a0, mstatus
    andi a1, a0, MSTATUS_MIE
    CHECK_REG(a1, MSTATUS_MIE)
    li t0, MSTATUS_MIE
    csrc mstatus, t0

    /* mret to S clears MPRV (seen in the mstatus of the next trap) */
    li TESTNUM, 8
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    li a0, PRV_S
    la a1, s_ecall
    call go_mode
    ld a0, trap_m_status            /* mstatus at the trampoline's ecall */
    li t0, MSTATUS_MPRV
    and a1, a0, t0
    ld t1, ref_quirks
    andi t1, t1, QUIRK_MRET_KEEPS_MPRV
    bnez t1, 3f
    CHECK_REG(a1, 0)
3:
    MSTATUS_FIELD(a0, 11, 3)
    CHECK_REG(a0, PRV_S)            /* MPP = S for a trap from S */

    /* a trap from S records MPIE = the old MIE (which S cannot see) */
    li TESTNUM, 9
    li t0, MSTATUS_MIE
    csrc mstatus, t0
    li a0, PRV_U
    la a1, s_ecall
    call go_mode
    ld a0, trap_m_status
    MSTATUS_FIELD(a0, 11, 3)
    CHECK_REG(a0, PRV_U)

    /* MPP is WARL: writing 2 (reserved) leaves a legal value */
    li TESTNUM, 10
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, 2 << 11
    csrs mstatus, t0
    csrr a0, mstatus
    MSTATUS_FIELD(a0, 11, 3)
    li t6, 2
    bne a0, t6, 4f
    ld t1, ref_quirks
    andi t1, t1, QUIRK_MPP_HOLDS_2
    beqz t1, fail
4:
    li t0, MSTATUS_MPP
    csrc mstatus, t0

    /* SXL = UXL = 2 (64-bit) */
    li TESTNUM, 11
    csrr a0, mstatus
    srli a0, a0, 32
    andi a0, a0, 0xf
    CHECK_REG(a0, 0xa)
    /* MPRV/MPP round trip */
    li TESTNUM, 12
    li t0, MSTATUS_MPP_S
    csrs mstatus, t0
    csrr a0, mstatus
    MSTATUS_FIELD(a0, 11, 3)
    CHECK_REG(a0, PRV_S)
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    j pass

s_ecall:
    li a0, 0
    ret
