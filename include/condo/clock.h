/* The VM's clocks. The platform timer (mtime, `time` CSR) runs at a 10 MHz
 * timebase derived from the host's monotonic clock; the RTC shows host
 * wall-clock time. Offsets let a restored VM continue its own time. */
#ifndef CONDO_CLOCK_H
#define CONDO_CLOCK_H

#include "condo/common.h"

#define VM_TIMEBASE_HZ 10000000ULL

struct vm_clock {
    int64_t mtime_offset; /* added to host_monotonic_ns / 100 */
};

void vm_clock_init(struct vm_clock *c);
/* Current mtime in 10 MHz ticks. */
uint64_t vm_clock_mtime(const struct vm_clock *c);
/* Host nanoseconds from now until mtime reaches `ticks` (0 if passed). */
uint64_t vm_clock_ns_until(const struct vm_clock *c, uint64_t ticks);
/* Host wall-clock time in nanoseconds since the Unix epoch. */
uint64_t vm_clock_realtime_ns(void);

#endif
