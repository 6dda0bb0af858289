/* Access faults from physical addresses with nothing behind them (the
 * first page, on QEMU spike/virt and condo alike): loads raise cause 5,
 * stores and AMOs cause 7, LR cause 5, instruction fetch cause 1; mtval is
 * the faulting address, mepc the instruction (for fetch: the target); the
 * destination register is not written. Also from U-mode (PMP allows all). */
#include "test.h"

#define CHECK_TVAL(addr)        \
    ld t6, trap_m_tval;         \
    li t5, addr;                \
    bne t6, t5, fail

    .text
    .globl test_main
test_main:
    li s0, UNMAPPED_ADDR + 8
    li a0, 0x77
    EXPECT_TRAP(1, CAUSE_LOAD_ACCESS, ld a0, 0(s0))
    CHECK_TVAL(UNMAPPED_ADDR + 8)
    CHECK_REG(a0, 0x77)
    EXPECT_TRAP(2, CAUSE_LOAD_ACCESS, lbu a0, 3(s0))
    CHECK_TVAL(UNMAPPED_ADDR + 11)
    EXPECT_TRAP(3, CAUSE_LOAD_ACCESS, lw a0, -8(s0))
    CHECK_TVAL(UNMAPPED_ADDR)
    EXPECT_TRAP(4, CAUSE_LOAD_ACCESS, lh a0, 0(s0))
    EXPECT_TRAP(5, CAUSE_STORE_ACCESS, sd a0, 0(s0))
    CHECK_TVAL(UNMAPPED_ADDR + 8)
    EXPECT_TRAP(6, CAUSE_STORE_ACCESS, sb a0, 1(s0))
    CHECK_TVAL(UNMAPPED_ADDR + 9)
    EXPECT_TRAP(7, CAUSE_STORE_ACCESS, sw a0, 4(s0))
    EXPECT_TRAP(8, CAUSE_STORE_ACCESS, sh a0, 6(s0))
    li a0, 0x77
    EXPECT_TRAP_AMO(9, CAUSE_STORE_ACCESS, amoadd.d a0, a0, (s0))
    CHECK_TVAL(UNMAPPED_ADDR + 8)
    CHECK_REG(a0, 0x77)
    EXPECT_TRAP_AMO(10, CAUSE_STORE_ACCESS, amoswap.w a0, a0, (s0))
    EXPECT_TRAP(11, CAUSE_LOAD_ACCESS, lr.d a0, (s0))
    CHECK_TVAL(UNMAPPED_ADDR + 8)
    EXPECT_TRAP(12, CAUSE_LOAD_ACCESS, fld fa0, 0(s0))
    EXPECT_TRAP(13, CAUSE_STORE_ACCESS, fsw fa0, 0(s0))
    EXPECT_TRAP(14, CAUSE_LOAD_ACCESS, c.ld a0, 0(s0))
    /* instruction fetch: mepc = mtval = the target */
    EXPECT_TRAP(15, CAUSE_FETCH_ACCESS, jalr t0, 0(s0))
    CHECK_TVAL(UNMAPPED_ADDR + 8)
    li TESTNUM, 16
    ld t6, trap_m_epc
    bne t6, s0, fail

    /* the same from U-mode */
    li a0, PRV_U
    la a1, in_u
    mv a2, s0
    call go_mode
    li TESTNUM, 30
    CHECK_REG(a0, 0x33)
    j pass

in_u:
    mv s0, a0
    EXPECT_TRAP(20, CAUSE_LOAD_ACCESS, ld a0, 0(s0))
    CHECK_TVAL(UNMAPPED_ADDR + 8)
    EXPECT_TRAP(21, CAUSE_STORE_ACCESS, sd a0, 0(s0))
    EXPECT_TRAP(22, CAUSE_FETCH_ACCESS, jalr t0, 0(s0))
    ld t6, trap_m_status
    srli t6, t6, 11
    andi t6, t6, 3
    bnez t6, fail               /* MPP = U */
    li a0, 0x33
    ret
