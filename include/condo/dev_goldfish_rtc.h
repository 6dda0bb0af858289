/* Goldfish RTC (QEMU virt: 0x00101000, 0x1000 bytes, PLIC source 11).
 * Time in nanoseconds since the epoch: the host's wall clock plus an offset
 * the guest sets by writing TIME_LOW/TIME_HIGH. Reading TIME_LOW latches
 * TIME_HIGH. One alarm with an interrupt. */
#ifndef CONDO_DEV_GOLDFISH_RTC_H
#define CONDO_DEV_GOLDFISH_RTC_H

#include "condo/log.h"
#include "condo/clock.h"
#include "condo/device.h"

#define GOLDFISH_RTC_SIZE 0x1000

struct goldfish_rtc {
    int64_t offset_ns; /* guest time - host wall time */
    uint32_t time_high_latch;
    uint64_t alarm_ns;
    bool alarm_armed;
    uint32_t irq_enabled;
    uint32_t irq_pending;
    struct irq_line irq;
    struct log_limit log; /* guest errors, rate-limited (not saved) */
    const struct vm_clock *clock; /* whose wall time (NULL: the host's) */
};

extern const struct dev_ops goldfish_rtc_ops;

/* The wall time comes from clock's source (NULL: the host's clock). */
void goldfish_rtc_init(struct goldfish_rtc *r, struct irq_line irq, const struct vm_clock *clock);
/* Fire the alarm if its time has passed (called from the event loop). */
void goldfish_rtc_update(struct goldfish_rtc *r);

#endif
