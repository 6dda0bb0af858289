/* VM clocks: mtime at 10 MHz from the host monotonic clock. */
#include <time.h>

#include "condo/clock.h"

uint64_t condo_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t condo_start_ns;

/* Before main: the restore figures count from here. */
__attribute__((constructor)) static void clock_note_start(void)
{
    condo_start_ns = condo_clock_ns();
}

/* The host's monotonic time as c's source tells it. */
static uint64_t vm_clock_host_ns(const struct vm_clock *c)
{
    if (c->source && c->source->monotonic_ns)
        return c->source->monotonic_ns(c->source->opaque);
    return condo_clock_ns();
}

void vm_clock_init(struct vm_clock *c)
{
    vm_clock_init_source(c, NULL);
}

void vm_clock_init_source(struct vm_clock *c, const struct vm_clock_source *src)
{
    c->source = src;
    /* Start the guest's mtime near zero, like a freshly powered board. */
    c->mtime_offset = -(int64_t)(vm_clock_host_ns(c) / 100);
}

uint64_t vm_clock_mtime(const struct vm_clock *c)
{
    /* Unsigned: mtime wraps modulo 2^64 as the register does. A guest may
     * write any value to mtime, so the offset can be anything; a signed
     * sum would overflow (undefined behaviour) for large ones. */
    return vm_clock_host_ns(c) / 100 + (uint64_t)c->mtime_offset;
}

uint64_t vm_clock_ns_until(const struct vm_clock *c, uint64_t ticks)
{
    uint64_t now = vm_clock_mtime(c);
    if (ticks <= now)
        return 0;
    uint64_t d = ticks - now;
    if (d > UINT64_MAX / 100)
        return UINT64_MAX;
    return d * 100;
}

uint64_t vm_clock_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t vm_clock_wall_ns(const struct vm_clock *c)
{
    if (c && c->source && c->source->realtime_ns)
        return c->source->realtime_ns(c->source->opaque);
    return vm_clock_realtime_ns();
}
