/* PMP CSRs as WARL storage: pmpaddr0..15 read back what was written (legal
 * values: 54 address bits); pmpcfg0 and pmpcfg2 read back legal
 * configurations (R/W/X, A = OFF/TOR/NA4/NAPOT, reserved bits 5-6 zero);
 * RV32's odd pmpcfg1/3 do not exist; unlocked NAPOT/TOR entries, even ones
 * that grant nothing, never restrict M-mode fetches, loads or stores. */
#include "test.h"

#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_TOR   0x08
#define PMP_NA4   0x10
#define PMP_NAPOT 0x18

#define RW_PMPADDR(n, csr)          \
    li TESTNUM, n;                  \
    li a1, 0x0000123456789ab0 + n;  \
    csrw csr, a1;                   \
    csrr a0, csr;                   \
    bne a0, a1, fail

    .data
    .balign 8
probe:  .dword 0x1122334455667788

    .text
    .globl test_main
test_main:
    RW_PMPADDR(1, pmpaddr1)
    RW_PMPADDR(2, pmpaddr2)
    RW_PMPADDR(3, pmpaddr3)
    RW_PMPADDR(4, pmpaddr4)
    RW_PMPADDR(5, pmpaddr5)
    RW_PMPADDR(6, pmpaddr6)
    RW_PMPADDR(7, pmpaddr7)
    RW_PMPADDR(8, pmpaddr8)
    RW_PMPADDR(9, pmpaddr9)
    RW_PMPADDR(10, pmpaddr10)
    RW_PMPADDR(11, pmpaddr11)
    RW_PMPADDR(12, pmpaddr12)
    RW_PMPADDR(13, pmpaddr13)
    RW_PMPADDR(14, pmpaddr14)
    RW_PMPADDR(15, pmpaddr15)
    /* the crt's entry 0 (all ones: NAPOT over everything) */
    li TESTNUM, 16
    csrr a0, pmpaddr0
    li t0, 0x003fffffffffffff
    and a0, a0, t0
    bne a0, t0, fail
    /* (bits 63:54 are WARL: QEMU 7.2 keeps them, the spec shows them as
     * zero; OpenSBI copes with both, so they are not checked) */

    /* pmpcfg0: entry 0 stays NAPOT|RWX; entries 1..7 get legal configs that
     * grant M nothing special (unlocked, so M is unaffected) */
    li TESTNUM, 20
    csrr a0, pmpcfg0
    andi a0, a0, 0xff
    CHECK_REG(a0, PMP_NAPOT | PMP_R | PMP_W | PMP_X)

    /* entries 1..3: TOR ranges over RAM granting nothing; 4: NA4; 5: NAPOT */
    li t0, (0x80000000 >> 2)
    csrw pmpaddr1, t0
    li t0, (0x80100000 >> 2)
    csrw pmpaddr2, t0
    li t0, (0x90000000 >> 2)
    csrw pmpaddr3, t0
    la t0, probe
    srli t0, t0, 2
    csrw pmpaddr4, t0
    li t0, (0x80000000 >> 2) | ((0x10000000 >> 3) - 1)  /* NAPOT 256 MiB at RAM */
    csrw pmpaddr5, t0
    li TESTNUM, 21
    li a1, (PMP_NAPOT | PMP_R | PMP_W | PMP_X) | ((PMP_TOR) << 8) | ((PMP_TOR | PMP_R) << 16) | ((PMP_TOR | PMP_X) << 24)
    li t1, ((PMP_NA4 | PMP_R) << 32) | ((PMP_NAPOT) << 40)
    or a1, a1, t1
    csrw pmpcfg0, a1
    csrr a0, pmpcfg0
    bne a0, a1, fail
    /* M-mode still runs, loads and stores everywhere */
    li TESTNUM, 22
    la t0, probe
    ld a0, 0(t0)
    CHECK_REG(a0, 0x1122334455667788)
    li a1, 0x55
    sd a1, 0(t0)
    ld a0, 0(t0)
    CHECK_REG(a0, 0x55)
    call far_function
    li TESTNUM, 23
    CHECK_REG(a0, 0x77)

    /* pmpcfg2 (entries 8..15) */
    li TESTNUM, 24
    li a1, ((PMP_NAPOT | PMP_R) << 0) | ((PMP_TOR | PMP_R | PMP_W) << 8) | ((PMP_NA4 | PMP_X) << 16)
    csrw pmpcfg2, a1
    csrr a0, pmpcfg2
    bne a0, a1, fail
    csrw pmpcfg2, zero
    csrr a0, pmpcfg2
    CHECK_REG(a0, 0)
    /* pmpcfg1 and pmpcfg3 are RV32-only */
    EXPECT_TRAP(25, CAUSE_ILLEGAL_INSN, csrr a0, pmpcfg1)
    EXPECT_TRAP(26, CAUSE_ILLEGAL_INSN, csrw pmpcfg3, zero)

    /* back to the crt's configuration */
    li t0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
    csrw pmpcfg0, t0
    /* with only entry 0, S-mode still runs */
    li a0, PRV_S
    la a1, in_s
    call go_mode
    li TESTNUM, 27
    CHECK_REG(a0, 0x99)
    j pass

far_function:
    li a0, 0x77
    ret
in_s:
    li a0, 0x99
    ret
