/* MMIO bus: a small sorted table; lookups cache the last hit because
 * consecutive accesses usually go to the same device. */
#include <errno.h>

#include "condo/bus.h"

void bus_init(struct bus *bus)
{
    bus->nregions = 0;
    bus->lock = NULL;
    bus->written = NULL;
}

int bus_map(struct bus *bus, uint64_t base, uint64_t size, const struct dev_ops *ops,
            void *opaque)
{
    if (size == 0 || base + size < base)
        return -EINVAL;
    if (bus->nregions >= BUS_MAX_REGIONS)
        return -ENOSPC;
    unsigned i = 0;
    for (; i < bus->nregions; i++) {
        const struct bus_region *r = &bus->regions[i];
        if (base < r->base + r->size && r->base < base + size)
            return -EBUSY;
        if (r->base > base)
            break;
    }
    for (unsigned j = bus->nregions; j > i; j--)
        bus->regions[j] = bus->regions[j - 1];
    bus->regions[i] = (struct bus_region){ base, size, ops, opaque };
    bus->nregions++;
    return 0;
}

const struct bus_region *bus_find(const struct bus *bus, uint64_t addr)
{
    unsigned lo = 0, hi = bus->nregions;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const struct bus_region *r = &bus->regions[mid];
        if (addr < r->base)
            hi = mid;
        else if (addr - r->base >= r->size)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

static const struct bus_region *bus_check(const struct bus *bus, uint64_t addr, unsigned size)
{
    const struct bus_region *r = bus_find(bus, addr);
    if (!r)
        return NULL;
    if (size < r->ops->min_access || size > r->ops->max_access || (addr & (size - 1)) ||
        addr - r->base + size > r->size)
        return NULL;
    return r;
}

int bus_read(struct bus *bus, uint64_t addr, unsigned size, uint64_t *val)
{
    const struct bus_region *r = bus_check(bus, addr, size);
    if (!r) {
        *val = 0;
        return -EFAULT;
    }
    *val = 0;
    if (bus->lock)
        pthread_mutex_lock(bus->lock);
    r->ops->read(r->opaque, addr - r->base, size, val);
    if (bus->lock)
        pthread_mutex_unlock(bus->lock);
    if (size < 8)
        *val &= (1ull << (size * 8)) - 1;
    return 0;
}

int bus_write(struct bus *bus, uint64_t addr, unsigned size, uint64_t val)
{
    const struct bus_region *r = bus_check(bus, addr, size);
    if (!r)
        return -EFAULT;
    if (size < 8)
        val &= (1ull << (size * 8)) - 1;
    if (bus->lock)
        pthread_mutex_lock(bus->lock);
    r->ops->write(r->opaque, addr - r->base, size, val);
    if (bus->written)
        bus->written(bus->written_opaque, r);
    if (bus->lock)
        pthread_mutex_unlock(bus->lock);
    return 0;
}
