/* sstatus is a restricted view of mstatus: S-level fields (SIE, SPIE, SPP,
 * FS, SUM, MXR, UXL, SD) read and write through; M-level fields (MIE, MPIE,
 * MPP, MPRV, TVM, TW, TSR, SXL) read as zero in sstatus and are not changed
 * by sstatus writes. sie/sip are views of mie/mip restricted to delegated
 * interrupts. */
#include "test.h"

#define SSTATUS_RW (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR)
#define M_ONLY     (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)

    .text
    .globl test_main
test_main:
    /* M-only bits set in mstatus are invisible in sstatus */
    li TESTNUM, 1
    li t0, MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TW | MSTATUS_TSR | MSTATUS_TVM
    csrs mstatus, t0
    csrr a0, sstatus
    li t1, M_ONLY
    and a1, a0, t1
    CHECK_REG(a1, 0)
    /* SXL is not in sstatus; UXL is (2) */
    li TESTNUM, 2
    srli a1, a0, 32
    andi a1, a1, 0xf
    CHECK_REG(a1, 0x2)
    /* writing sstatus all ones: S fields set, M fields unchanged */
    li TESTNUM, 3
    li t0, MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TW | MSTATUS_TSR | MSTATUS_TVM | MSTATUS_MIE | MSTATUS_MPRV
    csrc mstatus, t0
    li t0, MSTATUS_MPIE | MSTATUS_TW
    csrs mstatus, t0
    csrr s0, mstatus
    li t1, -1
    csrw sstatus, t1
    csrr a0, mstatus
    li t1, M_ONLY
    and a1, a0, t1
    CHECK_REG(a1, MSTATUS_MPIE | MSTATUS_TW)
    li t1, SSTATUS_RW
    and a1, a0, t1
    CHECK_REG(a1, SSTATUS_RW)
    li TESTNUM, 4
    csrr a0, sstatus
    li t1, SSTATUS_RW
    and a1, a0, t1
    CHECK_REG(a1, SSTATUS_RW)
    srli a1, a0, 63             /* SD follows FS = Dirty */
    CHECK_REG(a1, 1)
    /* clearing through sstatus */
    li TESTNUM, 5
    li t1, MSTATUS_SIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR
    csrc sstatus, t1
    csrr a0, mstatus
    and a1, a0, t1
    CHECK_REG(a1, 0)
    andi a1, a0, MSTATUS_SPIE
    CHECK_REG(a1, MSTATUS_SPIE)
    li t1, MSTATUS_TW
    and a1, a0, t1
    CHECK_REG(a1, MSTATUS_TW)
    /* mstatus writes show up in sstatus */
    li TESTNUM, 6
    li t1, MSTATUS_SPIE | MSTATUS_TW | MSTATUS_MPIE
    csrc mstatus, t1
    li t1, MSTATUS_SPP | MSTATUS_SUM
    csrs mstatus, t1
    csrr a0, sstatus
    li t2, SSTATUS_RW & ~MSTATUS_FS
    and a1, a0, t2
    CHECK_REG(a1, MSTATUS_SPP | MSTATUS_SUM)
    li t1, MSTATUS_SPP | MSTATUS_SUM
    csrc mstatus, t1
    li t1, MSTATUS_FS
    csrc mstatus, t1
    li t1, MSTATUS_FS_INITIAL
    csrs mstatus, t1

    /* sie/sip: only delegated bits are visible */
    li TESTNUM, 10
    csrw mideleg, zero
    li t0, MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_MSIP | MIP_MTIP
    csrw mie, t0
    csrr a0, sie
    CHECK_REG(a0, 0)
    li TESTNUM, 11
    li t0, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrw mideleg, t0
    csrr a0, sie
    CHECK_REG(a0, MIP_SSIP | MIP_STIP | MIP_SEIP)
    li TESTNUM, 12
    csrw sie, zero
    csrr a0, mie
    CHECK_REG(a0, MIP_MSIP | MIP_MTIP)     /* M bits untouched */
    li TESTNUM, 13
    li t0, -1
    csrw sie, t0
    csrr a0, mie
    CHECK_REG(a0, MIP_MSIP | MIP_MTIP | MIP_SSIP | MIP_STIP | MIP_SEIP)
    csrw mie, zero
    /* sip.SSIP is writable from S's view when delegated */
    li TESTNUM, 14
    csrsi sip, MIP_SSIP
    csrr a0, mip
    andi a0, a0, MIP_SSIP
    CHECK_REG(a0, MIP_SSIP)
    csrci sip, MIP_SSIP
    csrr a0, mip
    andi a0, a0, MIP_SSIP
    CHECK_REG(a0, 0)
    csrw mideleg, zero
    j pass
