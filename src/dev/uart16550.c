/* NS16550A UART, as the Linux 8250 driver and OpenSBI's uart8250 driver
 * expect. Transmission is instantaneous: a byte written to THR goes straight
 * to the chardev, so THR and the transmitter are always empty (LSR.THRE and
 * LSR.TEMT stay set) and the THRE interrupt is the only transmit-side state.
 *
 * Interrupt sources, highest priority first (IIR bits 3:1):
 *   receiver line status (0x6): LSR.OE while IER.ELSI
 *   received data available (0x4): RX FIFO not empty while IER.ERBFI
 *   THR empty (0x2): thr_ipending while IER.ETBEI
 *   modem status (0x0): an MSR delta bit while IER.EDSSI
 * The IRQ line follows "some source active" and is recomputed after every
 * register access that can change it. */
#include <errno.h>
#include <string.h>

#include "condo/dev_uart16550.h"

enum {
    UART_RBR = 0, /* read, DLAB=0 */
    UART_THR = 0, /* write, DLAB=0 */
    UART_DLL = 0, /* DLAB=1 */
    UART_IER = 1, /* DLAB=0 */
    UART_DLM = 1, /* DLAB=1 */
    UART_IIR = 2, /* read */
    UART_FCR = 2, /* write */
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
};

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* THR empty */
#define IER_ELSI 0x04  /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */
#define IER_MASK 0x0f

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_FIFO_ENABLED 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_KEEP 0xc9 /* enable, DMA mode, trigger level: what we remember */

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS 0x1e /* OE, PE, FE, BI: cleared by reading LSR */

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_DELTAS 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
/* Outside loopback the far end looks present and ready (as QEMU's model). */
#define MSR_IDLE (MSR_DCD | MSR_DSR | MSR_CTS)

#define UART16550_STATE_VERSION 1

static unsigned rx_depth(const struct uart16550 *u)
{
    /* With FIFOs disabled the chip is a 16450: one holding register. */
    return (u->fcr & FCR_ENABLE) ? UART16550_FIFO : 1;
}

static void uart_refresh_lsr(struct uart16550 *u)
{
    u->lsr = (uint8_t)((u->lsr & LSR_ERRORS) | LSR_THRE | LSR_TEMT |
                       (u->rx_count ? LSR_DR : 0));
}

/* Recompute IIR and drive the IRQ line; `force` drives it even when the
 * level did not change (after load, so the PLIC sees our level). */
static void uart_update_irq(struct uart16550 *u, bool force)
{
    uint8_t id = IIR_NO_INT;

    uart_refresh_lsr(u);
    if ((u->ier & IER_ELSI) && (u->lsr & LSR_OE))
        id = IIR_RLSI;
    else if ((u->ier & IER_ERBFI) && u->rx_count)
        id = IIR_RDI;
    else if ((u->ier & IER_ETBEI) && u->thr_ipending)
        id = IIR_THRI;
    else if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
        id = IIR_MSI;

    u->iir = (uint8_t)(id | ((u->fcr & FCR_ENABLE) ? IIR_FIFO_ENABLED : 0));
    int level = id != IIR_NO_INT;
    if (force || level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

static void uart_rx_clear(struct uart16550 *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

/* Append one byte to the RX FIFO; a full FIFO overruns (LSR.OE), keeping the
 * bytes it holds, as the 16550 does. */
static void uart_rx_push(struct uart16550 *u, uint8_t b)
{
    if (u->rx_count >= rx_depth(u)) {
        u->lsr |= LSR_OE;
        return;
    }
    u->rx_fifo[(u->rx_head + u->rx_count) % UART16550_FIFO] = b;
    u->rx_count++;
}

static uint8_t uart_rx_pop(struct uart16550 *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t b = u->rx_fifo[u->rx_head];
    u->rx_head = (uint8_t)((u->rx_head + 1) % UART16550_FIFO);
    u->rx_count--;
    if (!u->rx_count && u->rx_room)
        u->rx_room(u->rx_room_opaque);
    return b;
}

/* In loopback the modem inputs are wired to the modem outputs:
 * RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
static uint8_t uart_msr_inputs(const struct uart16550 *u)
{
    if (!(u->mcr & MCR_LOOP))
        return MSR_IDLE;
    uint8_t m = 0;
    if (u->mcr & MCR_RTS)
        m |= MSR_CTS;
    if (u->mcr & MCR_DTR)
        m |= MSR_DSR;
    if (u->mcr & MCR_OUT1)
        m |= MSR_RI;
    if (u->mcr & MCR_OUT2)
        m |= MSR_DCD;
    return m;
}

/* Set MSR's status bits from the current inputs and latch the deltas. */
static void uart_update_msr(struct uart16550 *u)
{
    uint8_t now = uart_msr_inputs(u);
    uint8_t old = u->msr & 0xf0;
    uint8_t delta = u->msr & MSR_DELTAS;

    if ((now ^ old) & MSR_CTS)
        delta |= MSR_DCTS;
    if ((now ^ old) & MSR_DSR)
        delta |= MSR_DDSR;
    if ((now ^ old) & MSR_DCD)
        delta |= MSR_DDCD;
    /* TERI: trailing edge of RI only. */
    if ((old & MSR_RI) && !(now & MSR_RI))
        delta |= MSR_TERI;
    u->msr = (uint8_t)(now | delta);
}

static void uart_reset(void *opaque)
{
    struct uart16550 *u = opaque;

    u->ier = 0;
    u->lcr = 0;
    u->mcr = 0;
    u->lsr = LSR_THRE | LSR_TEMT;
    u->msr = MSR_IDLE;
    u->scr = 0;
    u->fcr = 0;
    /* Divisor latch is undefined at power-on; 0x0c is 9600 baud at 1.8432 MHz. */
    u->dll = 0x0c;
    u->dlm = 0;
    memset(u->rx_fifo, 0, sizeof(u->rx_fifo));
    uart_rx_clear(u);
    u->thr_ipending = false;
    u->iir = IIR_NO_INT;
    uart_update_irq(u, true);
}

static void uart_transmit(struct uart16550 *u, uint8_t b)
{
    if (u->mcr & MCR_LOOP)
        uart_rx_push(u, b);
    else
        chardev_write(&u->out, &b, 1);
    /* Sent at once: THR is empty again, which raises THRE if enabled. */
    u->thr_ipending = true;
}

static void uart_read(void *opaque, uint64_t offset, unsigned size, uint64_t *val)
{
    struct uart16550 *u = opaque;
    uint8_t v = 0;

    (void)size; /* wider accesses address the register at `offset` */
    switch (offset) {
    case UART_RBR:
        if (u->lcr & LCR_DLAB) {
            v = u->dll;
        } else {
            v = uart_rx_pop(u);
            uart_update_irq(u, false);
        }
        break;
    case UART_IER:
        v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
        break;
    case UART_IIR:
        uart_update_irq(u, false);
        v = u->iir;
        /* Reading IIR while it reports THRE acknowledges that interrupt. */
        if ((v & 0x0f) == IIR_THRI) {
            u->thr_ipending = false;
            uart_update_irq(u, false);
        }
        break;
    case UART_LCR:
        v = u->lcr;
        break;
    case UART_MCR:
        v = u->mcr;
        break;
    case UART_LSR:
        uart_refresh_lsr(u);
        v = u->lsr;
        u->lsr &= (uint8_t)~LSR_ERRORS;
        uart_update_irq(u, false);
        break;
    case UART_MSR:
        v = u->msr;
        u->msr &= (uint8_t)~MSR_DELTAS;
        uart_update_irq(u, false);
        break;
    case UART_SCR:
        v = u->scr;
        break;
    default:
        log_guest(&u->log, "read of unknown register at offset 0x%llx",
                    (unsigned long long)offset);
        break;
    }
    *val = v;
}

static void uart_write(void *opaque, uint64_t offset, unsigned size, uint64_t val)
{
    struct uart16550 *u = opaque;
    uint8_t v = (uint8_t)val;

    (void)size;
    switch (offset) {
    case UART_THR:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
            return;
        }
        u->thr_ipending = false;
        uart_transmit(u, v);
        break;
    case UART_IER: {
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
            return;
        }
        uint8_t old = u->ier;
        u->ier = v & IER_MASK;
        /* Enabling ETBEI while THR is empty raises THRE at once; Linux's
         * startup test (UART_BUG_THRE) depends on this re-assertion. */
        if ((u->ier & IER_ETBEI) && !(old & IER_ETBEI))
            u->thr_ipending = true;
        break;
    }
    case UART_FCR: {
        uint8_t old = u->fcr;
        /* Changing the FIFO enable bit resets both FIFOs. */
        if ((v ^ old) & FCR_ENABLE)
            uart_rx_clear(u);
        if (v & FCR_CLEAR_RX)
            uart_rx_clear(u);
        /* FCR_CLEAR_TX: the TX FIFO is always empty. */
        u->fcr = v & FCR_KEEP;
        break;
    }
    case UART_LCR:
        u->lcr = v;
        return;
    case UART_MCR:
        u->mcr = v & MCR_MASK;
        uart_update_msr(u);
        break;
    case UART_LSR:
    case UART_MSR:
        /* Read-only on the 16550A (factory test only); ignore. */
        return;
    case UART_SCR:
        u->scr = v;
        return;
    default:
        log_guest(&u->log, "write of unknown register at offset 0x%llx",
                    (unsigned long long)offset);
        return;
    }
    uart_update_irq(u, false);
}

/* The registers and the receive FIFO (bytes the guest has not read yet),
 * described once for save and load. */
#define U(m) STATE_FIELD(struct uart16550, m)
static const struct state_field uart_fields[] = {
    U(ier), U(lcr), U(mcr), U(lsr), U(msr), U(scr), U(fcr), U(dll), U(dlm),
    STATE_ARRAY(struct uart16550, rx_fifo), U(rx_head), U(rx_count),
    STATE_BOOL(struct uart16550, thr_ipending),
};
#undef U

static void uart_save(void *opaque, struct state_buf *s)
{
    struct uart16550 *u = opaque;

    state_put_u8(s, UART16550_STATE_VERSION);
    state_put_fields(s, uart_fields, ARRAY_SIZE(uart_fields), u);
}

static int uart_load(void *opaque, struct state_buf *s)
{
    struct uart16550 *u = opaque;
    struct uart16550 n = *u;

    if (state_get_u8(s) != UART16550_STATE_VERSION)
        return -EINVAL;
    state_get_fields(s, uart_fields, ARRAY_SIZE(uart_fields), &n);
    if (s->err)
        return -EINVAL;
    if (n.rx_head >= UART16550_FIFO || n.rx_count > rx_depth(&n) || (n.ier & ~IER_MASK) ||
        (n.mcr & ~MCR_MASK) || (n.fcr & ~FCR_KEEP))
        return -EINVAL;
    state_copy_fields(uart_fields, ARRAY_SIZE(uart_fields), u, &n);
    uart_update_irq(u, true);
    return 0;
}

const struct dev_ops uart16550_ops = {
    .name = "uart16550",
    .min_access = 1,
    .max_access = 4,
    .read = uart_read,
    .write = uart_write,
    .reset = uart_reset,
    .save = uart_save,
    .load = uart_load,
};

void uart16550_init(struct uart16550 *u, struct irq_line irq, struct chardev out)
{
    memset(u, 0, sizeof(*u));
    u->irq = irq;
    u->out = out;
    u->irq_level = -1; /* unknown: the reset below drives the line */
    log_limit_init(&u->log, "uart16550");
    uart_reset(u);
}

size_t uart16550_rx_space(const struct uart16550 *u)
{
    unsigned depth = rx_depth(u);
    return u->rx_count < depth ? depth - u->rx_count : 0;
}

size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
    size_t n = uart16550_rx_space(u);
    if (n > len)
        n = len;
    for (size_t i = 0; i < n; i++)
        uart_rx_push(u, buf[i]);
    if (n)
        uart_update_irq(u, false);
    return n;
}
