/* External interrupts through the PLIC (virt map; skipped on QEMU's spike
 * machine, which has none): the UART's THR-empty interrupt (IRQ 10) routed
 * to context 0 (hart 0 M-mode) raises mip.MEIP, to context 1 (S-mode)
 * mip.SEIP; priority must exceed the context's threshold; claim returns the
 * source and drops the line, complete re-arms it; MEI is taken with cause
 * 2^63 + 11 (SEI delegated: scause 2^63 + 9) and before MSI. */
#include "lib.h"

#define PLIC_PRIO(irq)     (PLIC_BASE + 4 * (irq))
#define PLIC_PENDING       (PLIC_BASE + 0x1000)
#define PLIC_ENABLE(ctx)   (PLIC_BASE + 0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx) (PLIC_BASE + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)    (PLIC_BASE + 0x200004 + 0x1000 * (ctx))
#define UART_IER (UART0_BASE + 1)
#define UART_IIR (UART0_BASE + 2)

static void uart_ier(uint8_t v) { *(volatile uint8_t *)UART_IER = v; }
static uint8_t uart_iir(void) { return *(volatile uint8_t *)UART_IIR; }

static int wait_mip(uint64_t bit, int want)
{
    for (int i = 0; i < 200000; i++)
        if (!!(csr_read(mip) & bit) == want)
            return 1;
    return 0;
}

static volatile uint64_t claimed, order[4], norder;

/* M hook: claim, silence the UART, complete; or clear msip */
static int m_hook(struct trap_frame *f)
{
    if (!(f->cause >> 63))
        return 0;
    order[norder++ & 3] = f->cause;
    if ((f->cause & 63) == IRQ_M_EXT) {
        uint32_t id = mmio_read32(PLIC_CLAIM(0));
        claimed = id;
        uart_ier(0);
        (void)uart_iir();
        mmio_write32(PLIC_CLAIM(0), id);
    } else if ((f->cause & 63) == IRQ_M_SOFT) {
        mmio_write32(CLINT_MSIP, 0);
    } else {
        return 0;
    }
    return 1;
}

static int s_hook(struct trap_frame *f)
{
    if (f->cause != INTR_CAUSE(IRQ_S_EXT))
        return 0;
    uint32_t id = mmio_read32(PLIC_CLAIM(1));
    claimed = id;
    uart_ier(0);
    (void)uart_iir();
    mmio_write32(PLIC_CLAIM(1), id);
    return 1;
}

static long s_body(long unused)
{
    (void)unused;
    claimed = 0;
    csr_set(sie, MIP_SEIP);
    csr_set(sstatus, MSTATUS_SIE);
    uart_ier(0x02);
    for (int i = 0; i < 200000 && !claimed; i++)
        ;
    csr_clear(sstatus, MSTATUS_SIE);
    CHECK(50, claimed == UART0_IRQ);
    CHECK(51, trap_s_cause == INTR_CAUSE(IRQ_S_EXT));
    return 0;
}

long test_main(void)
{
    if (ref_quirks & QUIRK_NO_PLIC_UART)
        return 0;
    csr_write(mie, 0);
    uart_ier(0);
    (void)uart_iir();
    mmio_write32(PLIC_PRIO(UART0_IRQ), 1);
    mmio_write32(PLIC_ENABLE(0), 1u << UART0_IRQ);
    mmio_write32(PLIC_ENABLE(1), 0);
    mmio_write32(PLIC_THRESHOLD(0), 0);
    mmio_write32(PLIC_THRESHOLD(1), 0);
    CHECK(1, mmio_read32(PLIC_PRIO(UART0_IRQ)) == 1);
    CHECK(2, wait_mip(MIP_MEIP, 0));
    /* THR empty + ETBEI: the line rises, MEIP follows (pending, not taken) */
    uart_ier(0x02);
    CHECK(3, wait_mip(MIP_MEIP, 1));
    CHECK(4, mmio_read32(PLIC_PENDING) & (1u << UART0_IRQ));
    /* claim: the source, and MEIP drops */
    uint32_t id = mmio_read32(PLIC_CLAIM(0));
    CHECK(5, id == UART0_IRQ);
    CHECK(6, wait_mip(MIP_MEIP, 0));
    /* nothing else to claim */
    CHECK(7, mmio_read32(PLIC_CLAIM(0)) == 0);
    uart_ier(0);
    (void)uart_iir();
    mmio_write32(PLIC_CLAIM(0), id);
    CHECK(8, wait_mip(MIP_MEIP, 0));
    /* threshold: priority 1 is not above threshold 1 */
    mmio_write32(PLIC_THRESHOLD(0), 1);
    uart_ier(0x02);
    for (volatile int i = 0; i < 10000; i++)
        ;
    CHECK(9, !(csr_read(mip) & MIP_MEIP));
    mmio_write32(PLIC_THRESHOLD(0), 0);
    CHECK(10, wait_mip(MIP_MEIP, 1));
    /* taken as an interrupt */
    trap_m_hook = m_hook;
    claimed = 0;
    norder = 0;
    csr_write(mie, MIP_MEIP);
    csr_set(mstatus, MSTATUS_MIE);
    for (int i = 0; i < 200000 && !claimed; i++)
        ;
    csr_clear(mstatus, MSTATUS_MIE);
    CHECK(11, claimed == UART0_IRQ && order[0] == INTR_CAUSE(IRQ_M_EXT));
    CHECK(12, wait_mip(MIP_MEIP, 0));
    /* MEI before MSI */
    claimed = 0;
    norder = 0;
    uart_ier(0x02);
    CHECK(13, wait_mip(MIP_MEIP, 1));
    mmio_write32(CLINT_MSIP, 1);
    csr_write(mie, MIP_MEIP | MIP_MSIP);
    csr_set(mstatus, MSTATUS_MIE);
    for (int i = 0; i < 200000 && norder < 2; i++)
        ;
    csr_clear(mstatus, MSTATUS_MIE);
    CHECK(14, norder == 2);
    if (!(ref_quirks & QUIRK_IRQ_LOWEST_FIRST))
        CHECK(15, order[0] == INTR_CAUSE(IRQ_M_EXT) && order[1] == INTR_CAUSE(IRQ_M_SOFT));
    csr_write(mie, 0);
    trap_m_hook = 0;
    /* context 1: S-mode external interrupt, delegated */
    mmio_write32(PLIC_ENABLE(0), 0);
    mmio_write32(PLIC_ENABLE(1), 1u << UART0_IRQ);
    csr_write(mideleg, MIP_SEIP);
    csr_write(mie, MIP_SEIP);
    trap_s_hook = s_hook;
    long r = go_mode(PRV_S, s_body, 0);
    trap_s_hook = 0;
    csr_write(mideleg, 0);
    csr_write(mie, 0);
    mmio_write32(PLIC_ENABLE(1), 0);
    return r;
}
