/* VM generation ID device: see include/condo/dev_vmgenid.h. */
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "condo/dev_vmgenid.h"

/* 16 random bytes; getrandom does not fail for so few once the host's
 * pool is ready, but a clock-based fallback keeps two IDs apart if it
 * ever does. */
static void fresh_id(uint8_t *id)
{
    if (getrandom(id, VMGENID_ID_LEN, 0) == VMGENID_ID_LEN)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t a = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    uint64_t b = a ^ 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)id;
    memcpy(id, &a, 8);
    memcpy(id + 8, &b, 8);
}

static void vmgenid_read(void *opaque, uint64_t offset, unsigned size, uint64_t *val)
{
    struct vmgenid *g = opaque;
    uint64_t v = 0;
    /* the ID little-endian byte by byte; the rest of the window reads 0 */
    for (unsigned i = 0; i < size; i++)
        if (offset + i < VMGENID_ID_LEN)
            v |= (uint64_t)g->id[offset + i] << (8 * i);
    *val = v;
    if (g->raised && offset < VMGENID_ID_LEN) {
        g->raised = false;
        irq_set(&g->irq, 0);
    }
}

static void vmgenid_write(void *opaque, uint64_t offset, unsigned size, uint64_t val)
{
    (void)opaque, (void)offset, (void)size, (void)val; /* read-only: ignored */
}

static void vmgenid_reset(void *opaque)
{
    struct vmgenid *g = opaque;
    /* a reboot is the same VM: the ID stays */
    g->raised = false;
    irq_set(&g->irq, 0);
}

const struct dev_ops vmgenid_ops = {
    .name = "vmgenid",
    .min_access = 1,
    .max_access = 8,
    .read = vmgenid_read,
    .write = vmgenid_write,
    .reset = vmgenid_reset,
};

void vmgenid_init(struct vmgenid *g, struct irq_line irq)
{
    memset(g, 0, sizeof(*g));
    g->irq = irq;
    fresh_id(g->id);
}

void vmgenid_new_generation(struct vmgenid *g, uint8_t *id)
{
    uint8_t old[VMGENID_ID_LEN];
    memcpy(old, g->id, sizeof(old));
    do
        fresh_id(g->id);
    while (!memcmp(old, g->id, sizeof(old)));
    if (id)
        memcpy(id, g->id, VMGENID_ID_LEN);
    g->raised = true;
    irq_set(&g->irq, 1);
}
