/* Read-only machine information CSRs (mvendorid, marchid, mimpid, mhartid,
 * and the counters cycle/time/instret): readable; any instruction that
 * writes them is illegal, including csrrs/csrrc with a non-x0 rs1 that
 * holds 0 and csrrsi/csrrci with a non-zero immediate; csrrs/csrrc with
 * rs1 = x0 and csrrsi/csrrci with uimm = 0 only read and do not trap.
 * misa: RV64 (MXL = 2) with I, M, A, F, D, C, S, U. */
#include "test.h"

#define ILLEGAL(n, insn...) EXPECT_TRAP(n, CAUSE_ILLEGAL_INSN, insn)
#define MISA_BIT(c) (1 << ((c) - 'A'))

    .text
    .globl test_main
test_main:
    EXPECT_NO_TRAP(1, csrr a0, mvendorid)
    EXPECT_NO_TRAP(2, csrr a0, marchid)
    EXPECT_NO_TRAP(3, csrr a0, mimpid)
    EXPECT_NO_TRAP(4, csrr a0, mhartid)
    CHECK_REG(a0, 0)
    ILLEGAL(5, csrw mvendorid, zero)
    ILLEGAL(6, csrw marchid, a0)
    ILLEGAL(7, csrw mimpid, a0)
    ILLEGAL(8, csrw mhartid, zero)
    li a1, 0
    ld t0, ref_quirks
    andi t0, t0, QUIRK_CSRRS_ZERO_REG_NO_WRITE
    bnez t0, 1f
    ILLEGAL(9, csrrs a0, mhartid, a1)       /* rs1 != x0: a write, even of 0 */
    ILLEGAL(10, csrrc a0, mvendorid, a1)
    ILLEGAL(21, csrrs x0, time, a1)
1:
    ILLEGAL(11, csrrsi a0, mhartid, 1)
    ILLEGAL(12, csrrci a0, marchid, 1)
    ILLEGAL(13, csrrwi a0, mimpid, 0)       /* csrrwi always writes */
    EXPECT_NO_TRAP(14, csrrs a0, mhartid, x0)
    EXPECT_NO_TRAP(15, csrrc a0, mvendorid, x0)
    EXPECT_NO_TRAP(16, csrrsi a0, marchid, 0)
    EXPECT_NO_TRAP(17, csrrci a0, mimpid, 0)
    ILLEGAL(18, csrw cycle, zero)
    ILLEGAL(19, csrw time, zero)
    ILLEGAL(20, csrw instret, zero)
    IF_QUIRK(QUIRK_NO_TIME_CSR, 2f)
    EXPECT_NO_TRAP(22, csrrs a0, time, x0)
2:
    /* the trapping write left rd unwritten */
    li a0, 0x1234
    ILLEGAL(23, csrrw a0, mhartid, zero)
    CHECK_REG(a0, 0x1234)

    /* misa */
    li TESTNUM, 30
    csrr a0, misa
    srli a1, a0, 62
    CHECK_REG(a1, 2)
    li t0, MISA_BIT('I') | MISA_BIT('M') | MISA_BIT('A') | MISA_BIT('F') | MISA_BIT('D') | MISA_BIT('C') | MISA_BIT('S') | MISA_BIT('U')
    and a1, a0, t0
    bne a1, t0, fail
    li TESTNUM, 31
    li t0, MISA_BIT('E') | MISA_BIT('H') | MISA_BIT('Q') | MISA_BIT('V')
    and a1, a0, t0
    CHECK_REG(a1, 0)
    /* misa is WARL: writing back its own value is not an error */
    EXPECT_NO_TRAP(32, csrw misa, a0)
    li TESTNUM, 33
    csrr a1, misa
    bne a0, a1, fail
    j pass
