/* A tiny virtio-mmio "driver" for the unit tests: guest RAM surrounded by
 * inaccessible guard pages (a stray access outside RAM crashes the test
 * instead of going unnoticed), register access through virtio_mmio_ops as
 * the bus would do it, the Linux virtio_mmio probe sequence, and helpers
 * that lay out descriptors and rings by hand. Included by the
 * test_virtio_*.c files (cmocka must be included first). */
#ifndef CONDO_TEST_VIRTIO_DRIVER_H
#define CONDO_TEST_VIRTIO_DRIVER_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "condo/virtio.h"

#define TRAM_BASE 0x80000000ull
#define TRAM_SIZE (1ull << 20)
#define TRAM_GUARD (1ull << 20)
/* Queue q's rings: desc at TQ_BASE(q), avail +0x1000, used +0x2000. */
#define TQ_BASE(q) (TRAM_BASE + 0x4000ull * (q))
#define THEAP_BASE (TRAM_BASE + 0x40000ull)

#define TU __attribute__((unused)) static

struct tvq {
    uint64_t desc, avail, used;
    uint32_t num;
    uint16_t avail_idx; /* driver's next avail idx */
    uint16_t used_seen; /* used entries consumed by the test */
    uint16_t next_desc; /* next free descriptor (round robin) */
};

struct tdrv {
    struct guest_ram ram;
    struct virtio_mmio *t;
    struct tvq q[VIRTIO_MAX_QUEUES];
    int irq_level;
    unsigned irq_changes;
    uint64_t heap;
};

TU int tram_init(struct guest_ram *r, uint64_t base, uint64_t size)
{
    memset(r, 0, sizeof(*r));
    uint8_t *m = mmap(NULL, size + 2 * TRAM_GUARD, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    if (mprotect(m + TRAM_GUARD, size, PROT_READ | PROT_WRITE) != 0) {
        munmap(m, size + 2 * TRAM_GUARD);
        return -1;
    }
    r->host = m + TRAM_GUARD;
    r->base = base;
    r->size = size;
    r->npages = size >> GUEST_PAGE_SHIFT;
    r->page_gen = calloc(r->npages, sizeof(*r->page_gen));
    r->has_code = calloc(r->npages, 1);
    return r->page_gen && r->has_code ? 0 : -1;
}

TU void tram_free(struct guest_ram *r)
{
    if (r->host)
        munmap(r->host - TRAM_GUARD, r->size + 2 * TRAM_GUARD);
    free(r->page_gen);
    free(r->has_code);
    memset(r, 0, sizeof(*r));
}

TU void tdrv_irq(void *opaque, unsigned line, int level)
{
    struct tdrv *d = opaque;
    (void)line;
    if (level != d->irq_level)
        d->irq_changes++;
    d->irq_level = level;
}

TU struct irq_line tdrv_irq_line(struct tdrv *d)
{
    return (struct irq_line){ tdrv_irq, d, 1 };
}

TU void tdrv_init_ram(struct tdrv *d)
{
    memset(d, 0, sizeof(*d));
    assert_int_equal(tram_init(&d->ram, TRAM_BASE, TRAM_SIZE), 0);
    d->heap = THEAP_BASE;
}

TU uint8_t *gp(struct tdrv *d, uint64_t addr, uint64_t len)
{
    uint8_t *p = guest_ram_ptr(&d->ram, addr, len);
    assert_non_null(p);
    return p;
}

TU void gw16(struct tdrv *d, uint64_t a, uint16_t v) { le16_store(gp(d, a, 2), v); }
TU void gw32(struct tdrv *d, uint64_t a, uint32_t v) { le32_store(gp(d, a, 4), v); }
TU void gw64(struct tdrv *d, uint64_t a, uint64_t v) { le64_store(gp(d, a, 8), v); }
TU uint16_t gr16(struct tdrv *d, uint64_t a) { return le16_load(gp(d, a, 2)); }
TU uint32_t gr32(struct tdrv *d, uint64_t a) { return le32_load(gp(d, a, 4)); }

/* A zeroed guest buffer from the bump heap (16-aligned). */
TU uint64_t galloc(struct tdrv *d, uint64_t len)
{
    uint64_t a = d->heap;
    d->heap = (d->heap + len + 15) & ~15ull;
    assert_true(d->heap <= TRAM_BASE + TRAM_SIZE);
    memset(gp(d, a, len ? len : 1), 0, len ? len : 1);
    return a;
}

TU uint32_t rd(struct tdrv *d, uint64_t off)
{
    uint64_t v = 0xdeadbeefdeadull;
    virtio_mmio_ops.read(d->t, off, 4, &v);
    assert_true(v <= 0xffffffffu);
    return (uint32_t)v;
}

TU void wr(struct tdrv *d, uint64_t off, uint32_t v)
{
    virtio_mmio_ops.write(d->t, off, 4, v);
}

TU uint64_t rd_config(struct tdrv *d, uint64_t off, unsigned size)
{
    uint64_t v = 0xdeadbeefdeadull;
    virtio_mmio_ops.read(d->t, VIRTIO_MMIO_CONFIG + off, size, &v);
    return v;
}

TU uint64_t device_features(struct tdrv *d)
{
    wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    uint64_t f = (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    return f | rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
}

/* Status up to FEATURES_OK as Linux's virtio core does it; returns the
 * status read back. */
TU uint32_t tdrv_negotiate(struct tdrv *d, uint64_t accept)
{
    assert_int_equal(rd(d, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
    assert_int_equal(rd(d, VIRTIO_MMIO_VERSION_REG), 2);
    assert_int_not_equal(rd(d, VIRTIO_MMIO_DEVICE_ID), 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_VENDOR_ID_REG), VIRTIO_MMIO_VENDOR_ID);
    wr(d, VIRTIO_MMIO_STATUS, 0);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    uint64_t f = device_features(d) & accept;
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    wr(d, VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return rd(d, VIRTIO_MMIO_STATUS);
}

/* Linux's vm_setup_vq for a version 2 device. */
TU void tdrv_setup_queue(struct tdrv *d, unsigned q, uint32_t num)
{
    struct tvq *v = &d->q[q];
    memset(v, 0, sizeof(*v));
    v->desc = TQ_BASE(q);
    v->avail = TQ_BASE(q) + 0x1000;
    v->used = TQ_BASE(q) + 0x2000;
    v->num = num;
    memset(gp(d, TQ_BASE(q), 0x4000), 0, 0x4000);
    wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTIO_QUEUE_MAX);
    wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
    wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)v->desc);
    wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(v->desc >> 32));
    wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)v->avail);
    wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(v->avail >> 32));
    wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)v->used);
    wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(v->used >> 32));
    wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
}

TU void tdrv_driver_ok(struct tdrv *d)
{
    wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

/* The whole probe: negotiate, set up nq queues of num entries, DRIVER_OK. */
TU void tdrv_probe(struct tdrv *d, uint64_t accept, unsigned nq, uint32_t num)
{
    assert_true(tdrv_negotiate(d, accept) & VIRTIO_STATUS_FEATURES_OK);
    for (unsigned q = 0; q < nq; q++)
        tdrv_setup_queue(d, q, num);
    tdrv_driver_ok(d);
    assert_int_equal(rd(d, VIRTIO_MMIO_STATUS),
                     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                         VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

TU void set_desc(struct tdrv *d, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                 uint16_t flags, uint16_t next)
{
    uint64_t a = table + 16ull * i;
    gw64(d, a, addr);
    gw32(d, a + 8, len);
    gw16(d, a + 12, flags);
    gw16(d, a + 14, next);
}

/* Publish `head` in the avail ring and bump avail idx. */
TU void avail_add(struct tdrv *d, unsigned q, uint16_t head)
{
    struct tvq *v = &d->q[q];
    gw16(d, v->avail + 4 + 2ull * (v->avail_idx % v->num), head);
    v->avail_idx++;
    gw16(d, v->avail + 2, v->avail_idx);
}

struct tbuf {
    uint64_t addr;
    uint32_t len;
    bool write;
};

/* Lay out a chain in the descriptor table from next_desc on; returns its
 * head (already published in the avail ring). */
TU uint16_t add_chain(struct tdrv *d, unsigned q, const struct tbuf *b, unsigned n)
{
    struct tvq *v = &d->q[q];
    uint16_t head = v->next_desc;
    for (unsigned k = 0; k < n; k++) {
        uint16_t i = (uint16_t)((head + k) % v->num);
        uint16_t nx = (uint16_t)((head + k + 1) % v->num);
        set_desc(d, v->desc, i, b[k].addr, b[k].len,
                 (uint16_t)((b[k].write ? VIRTQ_DESC_F_WRITE : 0) |
                            (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
                 nx);
    }
    v->next_desc = (uint16_t)((head + n) % v->num);
    avail_add(d, q, head);
    return head;
}

TU void notify(struct tdrv *d, unsigned q)
{
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* The next used element the test has not seen: true with id/len. */
TU bool used_next(struct tdrv *d, unsigned q, uint32_t *id, uint32_t *len)
{
    struct tvq *v = &d->q[q];
    if (gr16(d, v->used + 2) == v->used_seen)
        return false;
    uint64_t e = v->used + 4 + 8ull * (v->used_seen % v->num);
    *id = gr32(d, e);
    *len = gr32(d, e + 4);
    v->used_seen++;
    return true;
}

TU void ack_all(struct tdrv *d)
{
    wr(d, VIRTIO_MMIO_INTERRUPT_ACK, rd(d, VIRTIO_MMIO_INTERRUPT_STATUS));
}

TU bool needs_reset(struct tdrv *d)
{
    return rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

#endif
