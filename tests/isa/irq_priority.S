/* Interrupt priority: with MSI, MTI, SEI, SSI and STI all pending and
 * enabled (none delegated), M takes them in the order MSI, MTI, SEI, SSI,
 * STI (MEI, above them all, needs a PLIC and is not tested here). Delegated
 * S interrupts pending in S-mode are taken in S in the order SEI, SSI, STI,
 * after any pending M-level interrupt. */
#include "test.h"
#include "irq.h"

#define CSR_MENVCFG 0x30a

    .data
    .balign 8
order:  .dword 0, 0, 0, 0, 0, 0, 0, 0
count:  .dword 0

    .text
    .globl test_main
test_main:
    csrw mie, zero
    csrw mideleg, zero
    li t0, 1
    slli t0, t0, 63
    csrc CSR_MENVCFG, t0        /* STIP writable (no Sstc) */
    la t0, record_hook_m
    sd t0, trap_m_hook, t1

    /* make everything pending */
    SET_MSIP(1)
    MTIMECMP_NOW
    li t0, MIP_SEIP | MIP_SSIP | MIP_STIP
    csrs mip, t0
    li TESTNUM, 1
    csrr a0, mip
    li t0, MIP_MSIP | MIP_MTIP | MIP_SEIP | MIP_SSIP | MIP_STIP
    and a0, a0, t0
    bne a0, t0, fail
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
    li t0, 10000
1:  addi t0, t0, -1
    bnez t0, 1b
    csrci mstatus, MSTATUS_MIE
    CHECK_VAR(2, count, 5)
    IF_QUIRK(QUIRK_IRQ_LOWEST_FIRST, quirk1)
    CHECK_VAR(3, order + 0, INTR(IRQ_M_SOFT))
    CHECK_VAR(4, order + 8, INTR(IRQ_M_TIMER))
    CHECK_VAR(5, order + 16, INTR(IRQ_S_EXT))
    CHECK_VAR(6, order + 24, INTR(IRQ_S_SOFT))
    CHECK_VAR(7, order + 32, INTR(IRQ_S_TIMER))
    j part2
quirk1: /* QEMU 7.2 without AIA: lowest cause number first */
    CHECK_VAR(3, order + 0, INTR(IRQ_S_SOFT))
    CHECK_VAR(4, order + 8, INTR(IRQ_M_SOFT))
    CHECK_VAR(5, order + 16, INTR(IRQ_S_TIMER))
    CHECK_VAR(6, order + 24, INTR(IRQ_M_TIMER))
    CHECK_VAR(7, order + 32, INTR(IRQ_S_EXT))
part2:

    /* delegated S interrupts plus an M timer, taken from S-mode */
    sd zero, count, t0
    li t0, MIP_SEIP | MIP_SSIP | MIP_STIP
    csrw mideleg, t0
    la t0, record_hook_s
    sd t0, trap_s_hook, t1
    MTIMECMP_NOW
    li t0, MIP_SEIP | MIP_SSIP | MIP_STIP
    csrs mip, t0
    li t0, MIP_MTIP | MIP_SEIP | MIP_SSIP | MIP_STIP
    csrw mie, t0
    li a0, PRV_S
    la a1, in_s
    call go_mode
    sd zero, trap_s_hook, t1
    sd zero, trap_m_hook, t1
    CHECK_VAR(10, count, 4)
    CHECK_VAR(11, order + 0, INTR(IRQ_M_TIMER))
    IF_QUIRK(QUIRK_IRQ_LOWEST_FIRST, quirk2)
    CHECK_VAR(12, order + 8, INTR(IRQ_S_EXT) | 0x100)
    CHECK_VAR(13, order + 16, INTR(IRQ_S_SOFT) | 0x100)
    CHECK_VAR(14, order + 24, INTR(IRQ_S_TIMER) | 0x100)
    j done
quirk2:
    CHECK_VAR(12, order + 8, INTR(IRQ_S_SOFT) | 0x100)
    CHECK_VAR(13, order + 16, INTR(IRQ_S_TIMER) | 0x100)
    CHECK_VAR(14, order + 24, INTR(IRQ_S_EXT) | 0x100)
done:
    csrw mideleg, zero
    csrw mie, zero
    li t0, MIP_SEIP | MIP_SSIP | MIP_STIP
    csrc mip, t0
    j pass

in_s:
    csrsi sstatus, MSTATUS_SIE
    li t0, 10000
1:  addi t0, t0, -1
    bnez t0, 1b
    csrci sstatus, MSTATUS_SIE
    li a0, 0
    ret

/* M hook: record the cause and mask that interrupt in mie */
record_hook_m:
    ld t0, FRAME_CAUSE(a0)
    bgez t0, 2f                 /* an exception: not ours */
    la t1, count
    ld t2, 0(t1)
    la t3, order
    slli t4, t2, 3
    add t3, t3, t4
    sd t0, 0(t3)
    addi t2, t2, 1
    sd t2, 0(t1)
    andi t0, t0, 63
    li t1, 1
    sll t1, t1, t0
    csrc mie, t1
    li a0, 1
    ret
2:  li a0, 0
    ret

/* S hook: record cause | 0x100, mask the interrupt in sie (S cannot
 * clear SEIP/STIP) */
record_hook_s:
    ld t0, FRAME_CAUSE(a0)
    bgez t0, 2f
    la t1, count
    ld t2, 0(t1)
    la t3, order
    slli t4, t2, 3
    add t3, t3, t4
    ori t5, t0, 0x100
    sd t5, 0(t3)
    addi t2, t2, 1
    sd t2, 0(t1)
    andi t0, t0, 63
    li t1, 1
    sll t1, t1, t0
    csrc sie, t1
    li a0, 1
    ret
2:  li a0, 0
    ret
