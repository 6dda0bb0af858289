/* ecall: cause 11 from M, 9 from S, 8 from U; mepc = the ecall, mtval = 0;
 * registers are preserved; medeleg[8] sends U's ecall to S-mode (scause 8)
 * while M's ecall (medeleg[11] is read-only zero) always stays in M. */
#include "test.h"

#define CHECK_EPC(label)        \
    ld t6, trap_m_epc;          \
    la t5, label;               \
    bne t6, t5, fail;           \
    ld t6, trap_m_tval;         \
    bnez t6, fail

    .text
    .globl test_main
test_main:
    li a7, 0x1234
    EXPECT_TRAP(1, CAUSE_MACHINE_ECALL, 1: ecall)
    CHECK_EPC(1b)
    CHECK_REG(a7, 0x1234)
    li a0, PRV_S
    la a1, do_ecall
    call go_mode
    li TESTNUM, 2
    CHECK_REG(a0, CAUSE_SUPERVISOR_ECALL)
    li a0, PRV_U
    la a1, do_ecall
    call go_mode
    li TESTNUM, 3
    CHECK_REG(a0, CAUSE_USER_ECALL)

    /* delegation: U ecall to S; S ecall still to M; medeleg[11] = 0 */
    li t0, -1
    csrw medeleg, t0
    csrr t1, medeleg
    li TESTNUM, 4
    srli t2, t1, CAUSE_MACHINE_ECALL
    andi t2, t2, 1
    ld t3, ref_quirks
    andi t3, t3, QUIRK_MEDELEG_MECALL_WRITABLE
    bnez t3, 1f
    bnez t2, fail
1:
    srli t2, t1, CAUSE_USER_ECALL
    andi t2, t2, 1
    beqz t2, fail
    li t0, 1 << CAUSE_USER_ECALL
    csrw medeleg, t0
    li a0, PRV_U
    la a1, u_deleg
    call go_mode
    li TESTNUM, 5
    CHECK_REG(a0, 0x44)
    li a0, PRV_S
    la a1, do_ecall
    call go_mode
    li TESTNUM, 6
    CHECK_REG(a0, CAUSE_SUPERVISOR_ECALL)
    /* even with medeleg all ones, M's ecall traps to M */
    li t0, -1
    csrw medeleg, t0
    EXPECT_TRAP(7, CAUSE_MACHINE_ECALL, ecall)
    csrw medeleg, zero
    j pass

/* returns the M-mode cause of its ecall */
do_ecall:
    li t6, -1
    sd t6, trap_m_cause, t5
    la t6, 1f
    sd t6, trap_m_resume, t5
2:  ecall
    j fail
1:  la t5, 2b
    ld t6, trap_m_epc
    bne t6, t5, fail
    ld t6, trap_m_tval
    bnez t6, fail
    ld a0, trap_m_cause
    ret

u_deleg:
    li t6, -1
    sd t6, trap_m_cause, t5
    EXPECT_TRAP_S(10, CAUSE_USER_ECALL, 3: ecall)
    li TESTNUM, 11
    ld t6, trap_s_epc
    la t5, 3b
    bne t6, t5, fail
    ld t6, trap_s_tval
    bnez t6, fail
    ld t6, trap_m_cause
    li t5, -1
    bne t6, t5, fail
    li a0, 0x44
    ret
