/* Breakpoints: ebreak and c.ebreak raise cause 3 with mepc at the
 * instruction (2-byte c.ebreak: resuming at mepc + 2 continues correctly)
 * and mtval = 0 or the pc; from S- and U-mode too; with medeleg[3] they
 * are taken in S-mode (scause 3, sepc). */
#include "test.h"

#define CHECK_EPC_TVAL(label)   \
    ld t6, trap_m_epc;          \
    la t5, label;               \
    bne t6, t5, fail;           \
    ld t6, trap_m_tval;         \
    beqz t6, 9961f;             \
    bne t6, t5, fail;           \
9961:

/* ebreak whose handler returns to mepc + len via a hook */
    .text
    .globl test_main
test_main:
    EXPECT_TRAP(1, CAUSE_BREAKPOINT, 1: ebreak)
    CHECK_EPC_TVAL(1b)
    EXPECT_TRAP(2, CAUSE_BREAKPOINT, 2: c.ebreak)
    CHECK_EPC_TVAL(2b)
    /* mcause is exactly 3 and mstatus.MPP = M */
    li TESTNUM, 3
    ld t6, trap_m_status
    srli t6, t6, 11
    andi t6, t6, 3
    li t5, 3
    bne t6, t5, fail

    /* return to mepc + 2 / + 4 through a hook: execution continues right
     * after the breakpoint */
    la t0, skip_hook
    sd t0, trap_m_hook, t1
    li TESTNUM, 4
    li a0, 0
    c.ebreak
    addi a0, a0, 1
    ebreak
    addi a0, a0, 2
    CHECK_REG(a0, 3)
    sd zero, trap_m_hook, t1

    /* from S and U */
    li a0, PRV_S
    la a1, lower
    li a2, PRV_S
    call go_mode
    li TESTNUM, 10
    CHECK_REG(a0, 0x11)
    li a0, PRV_U
    la a1, lower
    li a2, PRV_U
    call go_mode
    li TESTNUM, 11
    CHECK_REG(a0, 0x11)

    /* delegated to S: a breakpoint in U-mode is taken by S */
    li t0, 1 << CAUSE_BREAKPOINT
    csrw medeleg, t0
    li a0, PRV_U
    la a1, lower_deleg
    call go_mode
    csrw medeleg, zero
    li TESTNUM, 12
    CHECK_REG(a0, 0x22)
    j pass

/* a0 = mode we run in */
lower:
    mv s1, a0
    EXPECT_TRAP(20, CAUSE_BREAKPOINT, 3: ebreak)
    CHECK_EPC_TVAL(3b)
    li TESTNUM, 21
    ld t6, trap_m_status
    srli t6, t6, 11
    andi t6, t6, 3
    bne t6, s1, fail            /* MPP = the mode we came from */
    EXPECT_TRAP(22, CAUSE_BREAKPOINT, c.ebreak)
    li a0, 0x11
    ret

lower_deleg:
    li t6, -1
    sd t6, trap_m_cause, t5
    EXPECT_TRAP_S(30, CAUSE_BREAKPOINT, 4: ebreak)
    li TESTNUM, 31
    ld t6, trap_s_epc
    la t5, 4b
    bne t6, t5, fail
    ld t6, trap_m_cause         /* M saw nothing */
    li t5, -1
    bne t6, t5, fail
    ld t6, trap_s_status        /* SPP = U */
    andi t6, t6, MSTATUS_SPP
    bnez t6, fail
    li a0, 0x22
    ret

/* Hook: step over the breakpoint (2 or 4 bytes) */
skip_hook:
    ld t0, FRAME_EPC(a0)
    lhu t1, 0(t0)
    andi t1, t1, 3
    li t2, 3
    li t3, 2
    bne t1, t2, 1f
    li t3, 4
1:  add t0, t0, t3
    sd t0, FRAME_EPC(a0)
    li a0, 1
    ret
