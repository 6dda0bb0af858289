/* The MMIO bus: a sorted table of device windows. The engine calls
 * bus_read/bus_write for any guest-physical access that is not RAM. */
#ifndef CONDO_BUS_H
#define CONDO_BUS_H

#include <pthread.h>

#include "condo/device.h"

#define BUS_MAX_REGIONS 64

struct bus_region {
    uint64_t base;
    uint64_t size;
    const struct dev_ops *ops;
    void *opaque;
};

struct bus {
    struct bus_region regions[BUS_MAX_REGIONS];
    unsigned nregions;
    /* When set, every device access holds it (the machine lock: CPU
     * threads and the I/O thread share the devices). */
    pthread_mutex_t *lock;
    /* When set, called after every write (lock held): the board uses it to
     * wake the I/O thread when a device with timers was written. */
    void (*written)(void *opaque, const struct bus_region *r);
    void *written_opaque;
};

void bus_init(struct bus *bus);
/* Map a device window; returns -EBUSY on overlap, -ENOSPC when full. */
int bus_map(struct bus *bus, uint64_t base, uint64_t size, const struct dev_ops *ops,
            void *opaque);
/* 0 on success; -EFAULT when nothing is mapped there or the size/alignment
 * is not accepted (the engine raises an access fault). */
int bus_read(struct bus *bus, uint64_t addr, unsigned size, uint64_t *val);
int bus_write(struct bus *bus, uint64_t addr, unsigned size, uint64_t val);
const struct bus_region *bus_find(const struct bus *bus, uint64_t addr);

#endif
