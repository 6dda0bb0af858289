/* The engine-neutral device model. A device is a state struct plus one
 * `struct dev_ops` table; it never knows which engine runs the CPU.
 * Offsets passed to read/write are relative to the device's base address and
 * already checked to lie inside its window and to use an accepted size. */
#ifndef CONDO_DEVICE_H
#define CONDO_DEVICE_H

#include "condo/common.h"
#include "condo/state.h"

struct dev_ops {
    const char *name;
    /* Accepted access sizes in bytes (1, 2, 4 or 8). Accesses outside the
     * range, or not naturally aligned, are answered by the bus as a bus error
     * without calling the device. */
    uint8_t min_access;
    uint8_t max_access;
    /* Read returns the value in *val (zero-extended). A register that does
     * not exist reads as 0 and is logged as a guest error, like hardware. */
    void (*read)(void *opaque, uint64_t offset, unsigned size, uint64_t *val);
    void (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t val);
    void (*reset)(void *opaque);
    /* Optional: device timers (an alarm, a rate limit's wait). Do what is
     * due and return the host monotonic time (condo_clock_ns) of the next
     * deadline, UINT64_MAX if none. Called from the VMM's I/O thread. */
    uint64_t (*poll)(void *opaque);
    /* Optional, with poll: the deadline poll would return now, without
     * doing anything (under the machine lock, on any thread). The board
     * then wakes the I/O thread after a write only when the write moved
     * the deadline before the one the I/O thread sleeps to; without it,
     * every write wakes it (a cost per MMIO write: a virtio notify). */
    uint64_t (*next_deadline)(void *opaque);
    /* Save the whole device state; load it back (return 0 or -EINVAL on a
     * malformed/foreign stream). Each device writes its own section version
     * first. */
    void (*save)(void *opaque, struct state_buf *s);
    int (*load)(void *opaque, struct state_buf *s);
};

/* An interrupt line into an interrupt controller (a PLIC source, say). */
struct irq_line {
    void (*set_level)(void *opaque, unsigned line, int level);
    void *opaque;
    unsigned line;
};

static inline void irq_set(const struct irq_line *irq, int level)
{
    if (irq->set_level)
        irq->set_level(irq->opaque, irq->line, level);
}

#endif
