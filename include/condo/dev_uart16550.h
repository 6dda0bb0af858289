/* NS16550A UART (QEMU virt: 0x10000000, PLIC source 10), registers one byte
 * apart (reg-shift 0), 16-byte FIFOs, interrupt-driven receive and THRE. */
#ifndef CONDO_DEV_UART16550_H
#define CONDO_DEV_UART16550_H

#include "condo/log.h"
#include "condo/chardev.h"
#include "condo/device.h"

#define UART16550_SIZE 0x100
#define UART16550_FIFO 16

struct uart16550 {
    /* registers */
    uint8_t ier, iir, lcr, mcr, lsr, msr, scr, fcr, dll, dlm;
    uint8_t rx_fifo[UART16550_FIFO];
    uint8_t rx_head, rx_count;
    bool thr_ipending; /* THRE interrupt pending until IIR read or THR write */
    int irq_level;
    struct irq_line irq;
    struct chardev out;
    /* Optional: the receive FIFO became empty (the console may feed more). */
    void (*rx_room)(void *opaque);
    void *rx_room_opaque;
    struct log_limit log; /* guest errors, rate-limited (not saved) */
};

extern const struct dev_ops uart16550_ops;

void uart16550_init(struct uart16550 *u, struct irq_line irq, struct chardev out);
/* Free space in the receive FIFO (the console feeds no more than this). */
size_t uart16550_rx_space(const struct uart16550 *u);
/* Push received bytes; returns how many were accepted. */
size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);

#endif
