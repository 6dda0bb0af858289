/* The VM's clocks. The platform timer (mtime, `time` CSR) runs at a 10 MHz
 * timebase derived from the host's monotonic clock; the RTC shows host
 * wall-clock time. Offsets let a restored VM continue its own time.
 * Where the host's time comes from is a source the caller may replace:
 * unit tests inject a fake one, so no test depends on how fast it runs. */
#ifndef CONDO_CLOCK_H
#define CONDO_CLOCK_H

#include "condo/common.h"

#define VM_TIMEBASE_HZ 10000000ULL

/* The host's time as a clock sees it; a NULL member means the host's own
 * clock (CLOCK_MONOTONIC, CLOCK_REALTIME). */
struct vm_clock_source {
    uint64_t (*monotonic_ns)(void *opaque);
    uint64_t (*realtime_ns)(void *opaque);
    void *opaque;
};

struct vm_clock {
    int64_t mtime_offset; /* added to host_monotonic_ns / 100 */
    const struct vm_clock_source *source; /* NULL: the host's clocks */
};

/* Start mtime near zero, reading the host's clocks. */
void vm_clock_init(struct vm_clock *c);
/* The same, reading time from `src` (NULL: the host's clocks); src must
 * outlive the clock. */
void vm_clock_init_source(struct vm_clock *c, const struct vm_clock_source *src);
/* Current mtime in 10 MHz ticks. */
uint64_t vm_clock_mtime(const struct vm_clock *c);
/* Host nanoseconds from now until mtime reaches `ticks` (0 if passed). */
uint64_t vm_clock_ns_until(const struct vm_clock *c, uint64_t ticks);
/* Host wall-clock time in nanoseconds since the Unix epoch. */
uint64_t vm_clock_realtime_ns(void);
/* The same through c's source (c may be NULL: the host's clock). */
uint64_t vm_clock_wall_ns(const struct vm_clock *c);

#endif
