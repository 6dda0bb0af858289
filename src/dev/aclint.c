/* CLINT-compatible ACLINT (MSWI + MTIMER in one window, as SiFive's CLINT
 * and QEMU virt):
 *   0x0000 + 4*hart   MSIP (bit 0 drives mip.MSIP)
 *   0x4000 + 8*hart   MTIMECMP (mip.MTIP = mtime >= mtimecmp)
 *   0xbff8            MTIME
 * 8-byte accesses (RV64 OpenSBI) and 4-byte halves (RV32 style) both work.
 * mtime is the shared vm_clock: a write moves the clock's offset, so the
 * `time` CSR the engine reads from the same clock moves with it. */
#include <errno.h>
#include <string.h>

#include "condo/dev_aclint.h"

#define ACLINT_MSIP_BASE 0x0000u
#define ACLINT_MTIMECMP_BASE 0x4000u
#define ACLINT_MTIME 0xbff8u

#define ACLINT_STATE_VERSION 2

static uint64_t aclint_mtime(const struct aclint *a)
{
    return a->clock ? vm_clock_mtime(a->clock) : 0;
}

static void aclint_set_mtime(struct aclint *a, uint64_t v)
{
    if (!a->clock)
        return;
    uint64_t now = vm_clock_mtime(a->clock);
    /* Wrapping arithmetic: offset += v - now, modulo 2^64. */
    a->clock->mtime_offset = (int64_t)((uint64_t)a->clock->mtime_offset + (v - now));
}

static void aclint_drive(struct aclint *a, unsigned hart, uint32_t mask, int level)
{
    if (a->set_mip)
        a->set_mip(a->cpu_opaque, hart, mask, level);
}

/* Re-evaluate MTIP of one hart against `now`; `force` drives the line even
 * without a change (after reset/load, so the CPU's mip matches us). */
static void aclint_update_timer(struct aclint *a, unsigned hart, uint64_t now, bool force)
{
    bool lvl = now >= a->mtimecmp[hart];
    if (force || lvl != a->mtip[hart]) {
        a->mtip[hart] = lvl;
        aclint_drive(a, hart, ACLINT_MIP_MTIP, lvl);
    }
}

static void aclint_update_all(struct aclint *a, bool force)
{
    uint64_t now = aclint_mtime(a);
    for (unsigned h = 0; h < a->nharts; h++)
        aclint_update_timer(a, h, now, force);
}

void aclint_update(struct aclint *a)
{
    aclint_update_all(a, false);
}

uint64_t aclint_next_deadline(const struct aclint *a)
{
    uint64_t d = UINT64_MAX;
    for (unsigned h = 0; h < a->nharts; h++)
        if (a->mtimecmp[h] < d)
            d = a->mtimecmp[h];
    return d;
}

static void aclint_set_msip(struct aclint *a, unsigned hart, uint32_t v)
{
    a->msip[hart] = v & 1;
    aclint_drive(a, hart, ACLINT_MIP_MSIP, (int)(v & 1));
}

/* Merge a 4- or 8-byte write at byte `shift` (0 or 4) of a 64-bit register. */
static uint64_t merge64(uint64_t old, unsigned shift, unsigned size, uint64_t val)
{
    if (size == 8)
        return val;
    uint64_t mask = 0xffffffffull << (shift * 8);
    return (old & ~mask) | (((uint64_t)(uint32_t)val << (shift * 8)) & mask);
}

static void aclint_read(void *opaque, uint64_t offset, unsigned size, uint64_t *val)
{
    struct aclint *a = opaque;

    *val = 0;
    if (offset < ACLINT_MTIMECMP_BASE) {
        /* An 8-byte access covers two consecutive harts' MSIP words. */
        for (unsigned i = 0; i < size / 4; i++) {
            uint64_t hart = offset / 4 + i;
            if (hart >= a->nharts) {
                log_guest(&a->log, "read of MSIP for absent hart %llu",
                            (unsigned long long)hart);
                continue;
            }
            *val |= (uint64_t)a->msip[hart] << (32 * i);
        }
        return;
    }
    if (offset >= ACLINT_MTIMECMP_BASE && offset < ACLINT_MTIMECMP_BASE + 8u * a->nharts) {
        unsigned hart = (unsigned)(offset - ACLINT_MTIMECMP_BASE) / 8;
        unsigned shift = (unsigned)(offset & 7);
        *val = size == 8 ? a->mtimecmp[hart] : (uint32_t)(a->mtimecmp[hart] >> (shift * 8));
        return;
    }
    if (offset >= ACLINT_MTIME && offset < ACLINT_MTIME + 8) {
        uint64_t now = aclint_mtime(a);
        unsigned shift = (unsigned)(offset - ACLINT_MTIME);
        *val = size == 8 ? now : (uint32_t)(now >> (shift * 8));
        return;
    }
    log_guest(&a->log, "read of unknown register at offset 0x%llx", (unsigned long long)offset);
}

static void aclint_write(void *opaque, uint64_t offset, unsigned size, uint64_t val)
{
    struct aclint *a = opaque;

    if (offset < ACLINT_MTIMECMP_BASE) {
        for (unsigned i = 0; i < size / 4; i++) {
            uint64_t hart = offset / 4 + i;
            if (hart >= a->nharts) {
                log_guest(&a->log, "write of MSIP for absent hart %llu",
                            (unsigned long long)hart);
                continue;
            }
            aclint_set_msip(a, (unsigned)hart, (uint32_t)(val >> (32 * i)));
        }
        return;
    }
    if (offset >= ACLINT_MTIMECMP_BASE && offset < ACLINT_MTIMECMP_BASE + 8u * a->nharts) {
        unsigned hart = (unsigned)(offset - ACLINT_MTIMECMP_BASE) / 8;
        unsigned shift = (unsigned)(offset & 7);
        a->mtimecmp[hart] = merge64(a->mtimecmp[hart], shift, size, val);
        aclint_update_timer(a, hart, aclint_mtime(a), false);
        return;
    }
    if (offset >= ACLINT_MTIME && offset < ACLINT_MTIME + 8) {
        unsigned shift = (unsigned)(offset - ACLINT_MTIME);
        aclint_set_mtime(a, merge64(aclint_mtime(a), shift, size, val));
        aclint_update_all(a, false);
        return;
    }
    log_guest(&a->log, "write of unknown register at offset 0x%llx", (unsigned long long)offset);
}

static void aclint_reset(void *opaque)
{
    struct aclint *a = opaque;

    /* The ACLINT spec clears MTIME on an MTIMER reset (a reboot restarts
     * the guest's time base from zero, as on power-on). */
    aclint_set_mtime(a, 0);
    for (unsigned h = 0; h < a->nharts; h++) {
        aclint_set_msip(a, h, 0);
        /* mtimecmp's reset value is unspecified; all-ones keeps MTIP low
         * until firmware programs a deadline. */
        a->mtimecmp[h] = UINT64_MAX;
    }
    aclint_update_all(a, true);
}

/* The registers of every hart slot, described once for save and load. */
static const struct state_field aclint_fields[] = {
    STATE_FIELD(struct aclint, nharts),
    STATE_ARRAY(struct aclint, msip),
    STATE_ARRAY(struct aclint, mtimecmp),
};

/* Saves mtime too, so a restored VM's clock continues where it stopped
 * (the guest never sees time jump or run backwards across a snapshot). */
static void aclint_save(void *opaque, struct state_buf *s)
{
    struct aclint *a = opaque;

    state_put_u8(s, ACLINT_STATE_VERSION);
    state_put_u64(s, aclint_mtime(a));
    state_put_fields(s, aclint_fields, ARRAY_SIZE(aclint_fields), a);
}

static int aclint_load(void *opaque, struct state_buf *s)
{
    struct aclint *a = opaque;
    struct aclint n = *a;

    if (state_get_u8(s) != ACLINT_STATE_VERSION)
        return -EINVAL;
    uint64_t mtime = state_get_u64(s);
    state_get_fields(s, aclint_fields, ARRAY_SIZE(aclint_fields), &n);
    if (s->err || n.nharts != a->nharts)
        return -EINVAL;
    for (unsigned h = 0; h < ACLINT_MAX_HARTS; h++)
        if (h >= a->nharts && (n.msip[h] != a->msip[h] || n.mtimecmp[h] != a->mtimecmp[h]))
            return -EINVAL; /* state for a hart this machine does not have */

    aclint_set_mtime(a, mtime);
    for (unsigned h = 0; h < a->nharts; h++) {
        aclint_set_msip(a, h, n.msip[h]);
        a->mtimecmp[h] = n.mtimecmp[h];
    }
    aclint_update_all(a, true);
    return 0;
}

const struct dev_ops aclint_ops = {
    .name = "aclint",
    .min_access = 4,
    .max_access = 8,
    .read = aclint_read,
    .write = aclint_write,
    .reset = aclint_reset,
    .save = aclint_save,
    .load = aclint_load,
};

void aclint_init(struct aclint *a, unsigned nharts, struct vm_clock *clock,
                 void (*set_mip)(void *opaque, unsigned hart, uint32_t mask, int level),
                 void *cpu_opaque)
{
    memset(a, 0, sizeof(*a));
    if (nharts > ACLINT_MAX_HARTS) {
        condo_err("aclint: %u harts requested, at most %u supported", nharts,
                  ACLINT_MAX_HARTS);
        nharts = ACLINT_MAX_HARTS;
    }
    a->nharts = nharts;
    a->clock = clock;
    a->set_mip = set_mip;
    a->cpu_opaque = cpu_opaque;
    log_limit_init(&a->log, "aclint");
    aclint_reset(a);
}
