/* virtio-balloon: inflate/deflate, free page reporting and statistics.
 * See include/condo/virtio_balloon.h for the protocol and the limits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "condo/clock.h"
#include "condo/virtio_balloon.h"

#define VIRTIO_BALLOON_STATE_VERSION 1

enum balloon_queue { BQ_INFLATE, BQ_DEFLATE, BQ_STATS, BQ_REPORTING, BQ_NONE };

/* What queue q is, from the features the driver accepted (Linux numbers
 * the queues it sets up consecutively, leaving out absent ones). */
static enum balloon_queue queue_role(const struct virtio_balloon *b, unsigned q)
{
    if (q == 0)
        return BQ_INFLATE;
    if (q == 1)
        return BQ_DEFLATE;
    unsigned i = 2;
    if (virtio_has_feature(&b->mmio, VIRTIO_BALLOON_F_STATS_VQ) && q == i++)
        return BQ_STATS;
    if (virtio_has_feature(&b->mmio, VIRTIO_BALLOON_F_REPORTING) && q == i)
        return BQ_REPORTING;
    return BQ_NONE;
}

/* The statistics queue's number, or -1 without one. */
static int stats_queue(const struct virtio_balloon *b)
{
    return virtio_has_feature(&b->mmio, VIRTIO_BALLOON_F_STATS_VQ) ? 2 : -1;
}

/* Shell sort: not qsort(3), which asks the kernel for the memory size
 * (sysinfo, outside the sandbox's allow-list); n <= VIRTIO_BALLOON_MAX_PFNS. */
static void sort_u32(uint32_t *a, unsigned n)
{
    static const unsigned gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
    for (unsigned g = 0; g < ARRAY_SIZE(gaps); g++) {
        unsigned gap = gaps[g];
        for (unsigned i = gap; i < n; i++) {
            uint32_t v = a[i];
            unsigned j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap)
                a[j] = a[j - gap];
            a[j] = v;
        }
    }
}

/* Inflate: discard every page named, runs of consecutive frames at once. */
static void discard_pfns(struct virtio_balloon *b, uint32_t *pfn, unsigned n)
{
    struct guest_ram *ram = b->mmio.ram;
    sort_u32(pfn, n);
    for (unsigned i = 0; i < n;) {
        unsigned j = i + 1;
        while (j < n && (pfn[j] == pfn[j - 1] || pfn[j] == pfn[j - 1] + 1))
            j++;
        uint64_t addr = (uint64_t)pfn[i] << VIRTIO_BALLOON_PFN_SHIFT;
        uint64_t len = ((uint64_t)pfn[j - 1] - pfn[i] + 1) << VIRTIO_BALLOON_PFN_SHIFT;
        if (guest_ram_contains(ram, addr, len)) {
            if (guest_ram_discard(ram, addr, len) >= 0)
                b->count.inflated_pages += len >> VIRTIO_BALLOON_PFN_SHIFT;
        } else {
            /* frame by frame: the part inside RAM still goes */
            for (unsigned k = i; k < j; k++) {
                if (k > i && pfn[k] == pfn[k - 1])
                    continue;
                uint64_t a = (uint64_t)pfn[k] << VIRTIO_BALLOON_PFN_SHIFT;
                if (!guest_ram_contains(ram, a, VIRTIO_BALLOON_PAGE_SIZE)) {
                    if (!b->count.bad_pfns++ || (b->count.bad_pfns & 0xfff) == 0)
                        log_guest(&b->mmio.log, "inflate: frame 0x%x is outside guest RAM; "
                                  "skipped (%llu so far)", pfn[k],
                                  (unsigned long long)b->count.bad_pfns);
                    continue;
                }
                if (guest_ram_discard(ram, a, VIRTIO_BALLOON_PAGE_SIZE) >= 0)
                    b->count.inflated_pages++;
            }
        }
        i = j;
    }
}

/* The frame numbers of one request (le32 each, in its device-readable
 * buffers), at most VIRTIO_BALLOON_MAX_PFNS. */
static unsigned read_pfns(struct virtio_balloon *b, const struct virtq_elem *e, uint32_t *pfn)
{
    size_t len = e->out_len;
    if (len % 4)
        log_guest(&b->mmio.log, "inflate/deflate request of %zu bytes (not whole frame "
                  "numbers); the tail is ignored", len);
    size_t n = len / 4;
    if (n > VIRTIO_BALLOON_MAX_PFNS) {
        log_guest(&b->mmio.log, "inflate/deflate request of %zu frames; only the first %d "
                  "are taken", n, VIRTIO_BALLOON_MAX_PFNS);
        n = VIRTIO_BALLOON_MAX_PFNS;
    }
    uint8_t raw[VIRTIO_BALLOON_MAX_PFNS * 4];
    n = iov_to_buf(e->out, e->out_num, 0, raw, n * 4) / 4;
    for (size_t i = 0; i < n; i++)
        pfn[i] = le32_load(raw + 4 * i);
    return (unsigned)n;
}

static void do_inflate(struct virtio_balloon *b, unsigned q, bool inflate)
{
    uint32_t pfn[VIRTIO_BALLOON_MAX_PFNS];
    /* each buffer is popped once, at most the queue size are available */
    while (virtq_pop(&b->mmio, q, &b->elem) > 0) {
        unsigned n = read_pfns(b, &b->elem, pfn);
        if (inflate)
            discard_pfns(b, pfn, n);
        else
            b->count.deflated_pages += n; /* the pages are zero already */
        virtq_push(&b->mmio, q, &b->elem, 0);
    }
}

/* Free page reporting: the device-writable buffers ARE the free ranges. */
static void do_report(struct virtio_balloon *b, unsigned q)
{
    while (virtq_pop(&b->mmio, q, &b->elem) > 0) {
        if (b->elem.out_num)
            log_guest(&b->mmio.log, "reporting queue: %u device-readable buffers ignored "
                      "(free ranges are device-writable)", b->elem.out_num);
        for (unsigned k = 0; k < b->elem.in_num; k++) {
            /* in_addr/in[k] were checked to lie in RAM by virtq_pop */
            int64_t r = guest_ram_discard(b->mmio.ram, b->elem.in_addr[k], b->elem.in[k].iov_len);
            if (r > 0)
                b->count.reported_bytes += (uint64_t)r;
        }
        virtq_push(&b->mmio, q, &b->elem, 0);
    }
}

/* Read the records of the stats buffer just popped. */
static void parse_stats(struct virtio_balloon *b, const struct virtq_elem *e)
{
    uint8_t raw[VIRTIO_BALLOON_STATS_MAX * VIRTIO_BALLOON_STAT_SIZE];
    size_t want = e->out_len < sizeof(raw) ? e->out_len : sizeof(raw);
    size_t got = iov_to_buf(e->out, e->out_num, 0, raw, want);
    for (size_t off = 0; off + VIRTIO_BALLOON_STAT_SIZE <= got; off += VIRTIO_BALLOON_STAT_SIZE) {
        uint16_t tag = le16_load(raw + off);
        if (tag >= VIRTIO_BALLOON_S_NR)
            continue; /* a newer kernel's tag: not ours to show */
        b->stats.val[tag] = le64_load(raw + off + 2);
        b->stats.present |= 1u << tag;
    }
    b->stats.updated_ns = condo_clock_ns();
}

static void do_stats(struct virtio_balloon *b, unsigned q)
{
    while (virtq_pop(&b->mmio, q, &b->elem) > 0) {
        if (b->stats_held) {
            /* one buffer at a time (virtio 1.2, 5.5.6.3): give the old back */
            log_guest(&b->mmio.log, "statistics queue: a second buffer while the device "
                      "holds one; the older is returned");
            virtq_push(&b->mmio, q, &b->stats_elem, 0);
        }
        parse_stats(b, &b->elem);
        b->stats_elem = b->elem;
        b->stats_held = true;
        if (!b->stats_due_ns)
            b->stats_due_ns = condo_clock_ns() + (uint64_t)b->cfg.stats_interval_s * 1000000000ull;
    }
}

static void balloon_queue_notify(void *opaque, unsigned q)
{
    struct virtio_balloon *b = opaque;
    switch (queue_role(b, q)) {
    case BQ_INFLATE:
        do_inflate(b, q, true);
        break;
    case BQ_DEFLATE:
        do_inflate(b, q, false);
        break;
    case BQ_STATS:
        do_stats(b, q);
        break;
    case BQ_REPORTING:
        do_report(b, q);
        break;
    case BQ_NONE:
        log_guest(&b->mmio.log, "notify of queue %u, which the negotiated features do not "
                  "have", q);
        break;
    }
}

/* Hand the stats buffer back when it is due: the driver refills it. */
static uint64_t balloon_poll(void *opaque)
{
    struct virtio_balloon *b = opaque;
    int q = stats_queue(b);
    if (q < 0 || !b->stats_held || !b->stats_due_ns || !b->cfg.stats_interval_s)
        return UINT64_MAX;
    uint64_t now = condo_clock_ns();
    if (now < b->stats_due_ns)
        return b->stats_due_ns;
    b->stats_held = false;
    b->stats_due_ns = 0; /* re-armed when the driver gives it back */
    virtq_push(&b->mmio, (unsigned)q, &b->stats_elem, 0);
    return UINT64_MAX;
}

static void balloon_config_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
    struct virtio_balloon *b = opaque;
    uint8_t cfg[VIRTIO_BALLOON_CFG_SIZE] = { 0 };
    le32_store(cfg + VIRTIO_BALLOON_CFG_NUM_PAGES, b->num_pages);
    le32_store(cfg + VIRTIO_BALLOON_CFG_ACTUAL, b->actual);
    *val = 0;
    if (off >= sizeof(cfg) || size > sizeof(cfg) - off)
        return; /* beyond the config space: 0 */
    for (unsigned i = 0; i < size; i++)
        *val |= (uint64_t)cfg[off + i] << (8 * i);
}

static void balloon_config_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct virtio_balloon *b = opaque;
    /* only `actual` is the driver's (poison_val needs PAGE_POISON) */
    if (off < VIRTIO_BALLOON_CFG_ACTUAL || off + size > VIRTIO_BALLOON_CFG_ACTUAL + 4) {
        log_guest(&b->mmio.log, "write to read-only config field at 0x%llx",
                  (unsigned long long)off);
        return;
    }
    uint8_t a[4];
    le32_store(a, b->actual);
    for (unsigned i = 0; i < size; i++)
        a[off - VIRTIO_BALLOON_CFG_ACTUAL + i] = (uint8_t)(val >> (8 * i));
    b->actual = le32_load(a);
}

static void balloon_reset(void *opaque)
{
    struct virtio_balloon *b = opaque;
    /* the driver is gone: its pages and its count with it (the target
     * stays: a new driver inflates to it) */
    b->actual = 0;
    b->stats_held = false;
    b->stats_due_ns = 0;
}

/* Described once for save and load; the held stats buffer is saved as its
 * head index (its buffers are found again by the next pop-free push). */
#define F(m) STATE_FIELD(struct virtio_balloon, m)
static const struct state_field balloon_fields[] = {
    F(num_pages), F(actual), STATE_BOOL(struct virtio_balloon, stats_held),
    F(stats_elem.head), STATE_ARRAY(struct virtio_balloon, stats.val), F(stats.present),
    F(count.inflated_pages), F(count.deflated_pages), F(count.reported_bytes),
    F(count.bad_pfns),
};
#undef F

static void balloon_save(void *opaque, struct state_buf *s)
{
    struct virtio_balloon *b = opaque;
    state_put_u8(s, VIRTIO_BALLOON_STATE_VERSION);
    /* the features this device was built with: a stream from another
     * configuration is refused */
    state_put_u64(s, b->ops.features);
    state_put_fields(s, balloon_fields, ARRAY_SIZE(balloon_fields), b);
}

static int balloon_load(void *opaque, struct state_buf *s, bool commit)
{
    struct virtio_balloon *b = opaque;
    if (state_get_u8(s) != VIRTIO_BALLOON_STATE_VERSION)
        return -EINVAL;
    uint64_t features = state_get_u64(s);
    struct virtio_balloon *n = malloc(sizeof(*n));
    if (!n)
        return -ENOMEM;
    memcpy(n, b, sizeof(*n));
    state_get_fields(s, balloon_fields, ARRAY_SIZE(balloon_fields), n);
    int r = 0;
    if (s->err || features != b->ops.features ||
        (uint64_t)n->num_pages > b->mmio.ram->npages)
        r = -EINVAL;
    /* A held stats buffer needs a ready stats queue to go back to, and a
     * descriptor index inside it. At commit the transport is already
     * loaded; at check time it is not, so only the plain bounds here. */
    if (r == 0 && n->stats_held && (n->stats_elem.head >= VIRTIO_QUEUE_MAX ||
                                    !(b->ops.features & (1ull << VIRTIO_BALLOON_F_STATS_VQ))))
        r = -EINVAL;
    if (r == 0 && commit) {
        state_copy_fields(balloon_fields, ARRAY_SIZE(balloon_fields), b, n);
        b->stats_due_ns = 0;
        if (b->stats_held) {
            int q = stats_queue(b);
            if (q < 0 || !b->mmio.vq[q].ready || b->stats_elem.head >= b->mmio.vq[q].num) {
                b->stats_held = false; /* nothing to hand back to: wait for a new one */
            } else {
                /* a push needs only the head and the epoch: no buffer was
                 * written, the stats are device-readable */
                b->stats_elem.epoch = b->mmio.epoch;
                b->stats_elem.out_num = b->stats_elem.in_num = 0;
                b->stats_elem.out_len = b->stats_elem.in_len = 0;
                b->stats_due_ns = condo_clock_ns() +
                                  (uint64_t)b->cfg.stats_interval_s * 1000000000ull;
            }
        }
    }
    free(n);
    return r;
}

void virtio_balloon_init(struct virtio_balloon *b, const struct virtio_balloon_config *cfg,
                         struct guest_ram *ram, struct irq_line irq)
{
    memset(b, 0, sizeof(*b));
    b->cfg = *cfg;
    if (b->cfg.stats_interval_s > VIRTIO_BALLOON_STATS_INTERVAL_MAX)
        b->cfg.stats_interval_s = VIRTIO_BALLOON_STATS_INTERVAL_MAX;
    b->ops = (struct virtio_device_ops){
        .name = "virtio-balloon",
        .device_id = VIRTIO_ID_BALLOON,
        .num_queues = 2,
        .config_read = balloon_config_read,
        .config_write = balloon_config_write,
        .queue_notify = balloon_queue_notify,
        .reset = balloon_reset,
        .poll = balloon_poll,
        .save = balloon_save,
        .load = balloon_load,
    };
    if (cfg->stats_interval_s) {
        b->ops.features |= 1ull << VIRTIO_BALLOON_F_STATS_VQ;
        b->ops.num_queues++;
    }
    if (cfg->reporting) {
        b->ops.features |= 1ull << VIRTIO_BALLOON_F_REPORTING;
        b->ops.num_queues++;
    }
    if (cfg->deflate_on_oom)
        b->ops.features |= 1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
    uint64_t max = ram->npages;
    b->num_pages = cfg->target_pages > max ? (uint32_t)max : cfg->target_pages;
    virtio_mmio_init(&b->mmio, &b->ops, b, ram, irq);
}

int virtio_balloon_set_target(struct virtio_balloon *b, uint32_t pages, struct error *err)
{
    if ((uint64_t)pages > b->mmio.ram->npages)
        return error_set(err, -EINVAL,
                         "a balloon of %llu MiB is larger than the guest's %llu MiB of RAM",
                         (unsigned long long)pages >> 8,
                         (unsigned long long)(b->mmio.ram->size >> 20));
    if (pages != b->num_pages) {
        b->num_pages = pages;
        virtio_config_changed(&b->mmio);
    }
    return 0;
}

int virtio_balloon_set_stats_interval(struct virtio_balloon *b, unsigned secs, struct error *err)
{
    if (!b->cfg.stats_interval_s)
        return error_set(err, -EINVAL, "Statistics for the balloon device are not enabled "
                         "(they are turned on when the device is created: "
                         "stats_polling_interval_s, --balloon stats=SECONDS)");
    if (secs == 0 || secs > VIRTIO_BALLOON_STATS_INTERVAL_MAX)
        return error_set(err, -EINVAL, "a statistics interval of %u s: statistics cannot be "
                         "turned off after boot; give 1 to %d", secs,
                         VIRTIO_BALLOON_STATS_INTERVAL_MAX);
    b->cfg.stats_interval_s = secs;
    if (b->stats_held)
        b->stats_due_ns = 1; /* due now: the next poll hands the buffer back */
    return 0;
}
