/* virtio-balloon through the real virtio-mmio transport, as Linux's
 * virtio_balloon driver uses it: features and queue numbering from the
 * negotiated features; inflate discards the named pages (they read as
 * zero, the host no longer holds them) and deflate answers; free page
 * reporting discards whole pages of device-writable ranges only; the
 * stats buffer is held and handed back when due; the config space;
 * hostile requests (frames outside RAM, huge requests, odd lengths,
 * readable buffers on the reporting queue, a second stats buffer); and
 * save/load, refused from another configuration and continuing after. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "condo/virtio_balloon.h"
#include "virtio_test_driver.h"

#define ACCEPT_ALL (~0ull)
#define QNUM 64
/* pages the tests discard: the upper half of test RAM, away from rings */
#define PAGE_AT(i) (TRAM_BASE + TRAM_SIZE / 2 + 4096ull * (i))
#define PFN(a) ((uint32_t)((a) >> 12))

struct fx {
    struct tdrv d;
    struct virtio_balloon b;
};

static struct fx *make(const struct virtio_balloon_config *cfg)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tdrv_init_ram(&f->d);
    virtio_balloon_init(&f->b, cfg, &f->d.ram, tdrv_irq_line(&f->d));
    f->d.t = &f->b.mmio;
    return f;
}

static void destroy(struct fx *f)
{
    tram_free(&f->d.ram);
    free(f);
}

static const struct virtio_balloon_config all = { .reporting = true, .deflate_on_oom = true,
                                                  .stats_interval_s = 1 };

/* Fill a page with a pattern: touched, non-zero. */
static void fill(struct fx *f, uint64_t a)
{
    memset(gp(&f->d, a, 4096), 0xa5, 4096);
}

static bool resident(struct fx *f, uint64_t a)
{
    unsigned char v = 0;
    assert_int_equal(mincore(gp(&f->d, a, 4096), 4096, &v), 0);
    return v & 1;
}

static bool zero_page(struct fx *f, uint64_t a)
{
    const uint8_t *p = gp(&f->d, a, 4096);
    for (int i = 0; i < 4096; i++)
        if (p[i])
            return false;
    return true;
}

/* One inflate (q 0) or deflate (q 1) request of frame numbers. */
static void send_pfns(struct fx *f, unsigned q, const uint32_t *pfn, unsigned n)
{
    uint64_t buf = galloc(&f->d, 4ull * n + 4);
    for (unsigned i = 0; i < n; i++)
        gw32(&f->d, buf + 4ull * i, pfn[i]);
    struct tbuf b = { buf, 4 * n, false };
    add_chain(&f->d, q, &b, 1);
    notify(&f->d, q);
}

static void test_features_and_queues(void **state)
{
    (void)state;
    struct virtio_balloon_config none = { 0 };
    struct fx *f = make(&none);
    assert_int_equal(rd(&f->d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
    uint64_t feat = device_features(&f->d);
    assert_false(feat & (1ull << VIRTIO_BALLOON_F_REPORTING));
    assert_false(feat & (1ull << VIRTIO_BALLOON_F_STATS_VQ));
    wr(&f->d, VIRTIO_MMIO_QUEUE_SEL, 2);
    assert_int_equal(rd(&f->d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0); /* two queues only */
    destroy(f);

    f = make(&all);
    feat = device_features(&f->d);
    assert_true(feat & (1ull << VIRTIO_BALLOON_F_REPORTING));
    assert_true(feat & (1ull << VIRTIO_BALLOON_F_STATS_VQ));
    assert_true(feat & (1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
    assert_false(feat & (1ull << VIRTIO_BALLOON_F_PAGE_POISON));
    destroy(f);
}

static void test_inflate_discards(void **state)
{
    (void)state;
    struct fx *f = make(&all);
    tdrv_probe(&f->d, ACCEPT_ALL, 4, QNUM);
    for (int i = 0; i < 8; i++)
        fill(f, PAGE_AT(i));
    /* out of order, duplicated, one run and a single page */
    uint32_t pfn[] = { PFN(PAGE_AT(2)), PFN(PAGE_AT(0)), PFN(PAGE_AT(1)), PFN(PAGE_AT(1)),
                       PFN(PAGE_AT(6)) };
    send_pfns(f, 0, pfn, 5);
    uint32_t id, len;
    assert_true(used_next(&f->d, 0, &id, &len));
    assert_int_equal(len, 0);
    assert_false(resident(f, PAGE_AT(6)));
    for (int i = 0; i < 8; i++) {
        bool gone = i <= 2 || i == 6;
        assert_int_equal(zero_page(f, PAGE_AT(i)), gone);
    }
    assert_true(resident(f, PAGE_AT(7)));
    assert_int_equal(f->b.count.inflated_pages, 4);
    /* deflate answers and counts */
    send_pfns(f, 1, pfn, 2);
    assert_true(used_next(&f->d, 1, &id, &len));
    assert_int_equal(f->b.count.deflated_pages, 2);
    assert_false(needs_reset(&f->d));
    destroy(f);
}

static void test_inflate_hostile(void **state)
{
    (void)state;
    struct fx *f = make(&all);
    tdrv_probe(&f->d, ACCEPT_ALL, 4, QNUM);
    fill(f, PAGE_AT(0));
    /* frames outside RAM (below, just past the end, the top of the u32
     * range) are skipped, the one inside still goes */
    uint32_t pfn[] = { 0, PFN(TRAM_BASE) - 1, PFN(TRAM_BASE + TRAM_SIZE), 0xffffffffu,
                       PFN(PAGE_AT(0)), PFN(TRAM_BASE + TRAM_SIZE) + 1 };
    send_pfns(f, 0, pfn, 6);
    uint32_t id, len;
    assert_true(used_next(&f->d, 0, &id, &len));
    assert_true(zero_page(f, PAGE_AT(0)));
    assert_int_equal(f->b.count.inflated_pages, 1);
    assert_int_equal(f->b.count.bad_pfns, 5);
    /* a request far longer than VIRTIO_BALLOON_MAX_PFNS: the first ones
     * only (all outside RAM here: counted, nothing else) */
    unsigned n = 4 * VIRTIO_BALLOON_MAX_PFNS;
    uint64_t buf = galloc(&f->d, 4ull * n);
    for (unsigned i = 0; i < n; i++)
        gw32(&f->d, buf + 4ull * i, i); /* distinct frames, all below RAM */
    struct tbuf big = { buf, (uint32_t)(4 * n), false };
    add_chain(&f->d, 0, &big, 1);
    notify(&f->d, 0);
    assert_true(used_next(&f->d, 0, &id, &len));
    assert_int_equal(f->b.count.bad_pfns, 5 + VIRTIO_BALLOON_MAX_PFNS);
    /* an odd length (not whole frame numbers), and a writable-only chain */
    fill(f, PAGE_AT(3));
    uint64_t odd = galloc(&f->d, 8);
    gw32(&f->d, odd, PFN(PAGE_AT(3)));
    struct tbuf o = { odd, 7, false };
    add_chain(&f->d, 0, &o, 1);
    struct tbuf w = { odd, 8, true };
    add_chain(&f->d, 0, &w, 1);
    notify(&f->d, 0);
    assert_true(used_next(&f->d, 0, &id, &len));
    assert_true(used_next(&f->d, 0, &id, &len));
    assert_true(zero_page(f, PAGE_AT(3)));
    assert_false(needs_reset(&f->d));
    /* a chain naming a buffer outside RAM breaks the queue (transport) */
    struct tbuf out = { TRAM_BASE + TRAM_SIZE, 4, false };
    add_chain(&f->d, 0, &out, 1);
    notify(&f->d, 0);
    assert_true(needs_reset(&f->d));
    destroy(f);
}

static void test_reporting(void **state)
{
    (void)state;
    struct fx *f = make(&all);
    tdrv_probe(&f->d, ACCEPT_ALL, 4, QNUM);
    for (int i = 0; i < 6; i++)
        fill(f, PAGE_AT(i));
    /* queue 3 is the reporting queue (stats accepted: queue 2) */
    struct tbuf r[3] = {
        { PAGE_AT(0), 2 * 4096, true },
        { PAGE_AT(3) + 100, 4096 * 2, true }, /* unaligned: only page 4 is whole */
        { PAGE_AT(5), 100, true },             /* no whole page: nothing */
    };
    add_chain(&f->d, 3, r, 3);
    notify(&f->d, 3);
    uint32_t id, len;
    assert_true(used_next(&f->d, 3, &id, &len));
    assert_int_equal(len, 0);
    assert_false(resident(f, PAGE_AT(0))); /* given back (before reading it) */
    assert_true(zero_page(f, PAGE_AT(0)) && zero_page(f, PAGE_AT(1)));
    assert_false(zero_page(f, PAGE_AT(2)));
    assert_false(zero_page(f, PAGE_AT(3)));
    assert_true(zero_page(f, PAGE_AT(4)));
    assert_false(zero_page(f, PAGE_AT(5)));
    assert_int_equal(f->b.count.reported_bytes, 3 * 4096);
    /* device-readable buffers on the reporting queue are ignored */
    struct tbuf ro = { PAGE_AT(5), 4096, false };
    add_chain(&f->d, 3, &ro, 1);
    notify(&f->d, 3);
    assert_true(used_next(&f->d, 3, &id, &len));
    assert_false(zero_page(f, PAGE_AT(5)));
    assert_false(needs_reset(&f->d));
    destroy(f);
}

/* Without STATS_VQ accepted, the reporting queue is queue 2. */
static void test_queue_numbering(void **state)
{
    (void)state;
    struct fx *f = make(&all);
    tdrv_probe(&f->d, ACCEPT_ALL & ~(1ull << VIRTIO_BALLOON_F_STATS_VQ), 3, QNUM);
    fill(f, PAGE_AT(0));
    struct tbuf r = { PAGE_AT(0), 4096, true };
    add_chain(&f->d, 2, &r, 1);
    notify(&f->d, 2);
    uint32_t id, len;
    assert_true(used_next(&f->d, 2, &id, &len));
    assert_true(zero_page(f, PAGE_AT(0)));
    destroy(f);
}

static void put_stat(struct fx *f, uint64_t a, uint16_t tag, uint64_t v)
{
    uint8_t *p = gp(&f->d, a, 10);
    le16_store(p, tag);
    le64_store(p + 2, v);
}

static void test_stats(void **state)
{
    (void)state;
    struct fx *f = make(&all);
    tdrv_probe(&f->d, ACCEPT_ALL, 4, QNUM);
    uint64_t buf = galloc(&f->d, 40);
    put_stat(f, buf, VIRTIO_BALLOON_S_MEMTOT, 123456);
    put_stat(f, buf + 10, VIRTIO_BALLOON_S_MEMFREE, 777);
    put_stat(f, buf + 20, 300, 5); /* a tag from the future: ignored */
    struct tbuf b = { buf, 35, false }; /* a trailing partial record too */
    add_chain(&f->d, 2, &b, 1);
    notify(&f->d, 2);
    assert_true(f->b.stats_held);
    assert_int_equal(f->b.stats.val[VIRTIO_BALLOON_S_MEMTOT], 123456);
    assert_int_equal(f->b.stats.val[VIRTIO_BALLOON_S_MEMFREE], 777);
    assert_int_equal(f->b.stats.present, (1u << VIRTIO_BALLOON_S_MEMTOT) |
                                             (1u << VIRTIO_BALLOON_S_MEMFREE));
    uint32_t id, len;
    assert_false(used_next(&f->d, 2, &id, &len)); /* held */
    /* due: the poll hands it back (the clock is injected by due time) */
    f->b.stats_due_ns = 1;
    assert_int_equal(virtio_mmio_ops.poll(&f->b.mmio), UINT64_MAX);
    assert_true(used_next(&f->d, 2, &id, &len));
    assert_false(f->b.stats_held);
    /* a second buffer while one is held: the older one goes back */
    add_chain(&f->d, 2, &b, 1);
    add_chain(&f->d, 2, &b, 1);
    notify(&f->d, 2);
    assert_true(used_next(&f->d, 2, &id, &len));
    assert_true(f->b.stats_held);
    struct error err = ERROR_INIT;
    assert_int_equal(virtio_balloon_set_stats_interval(&f->b, 0, &err), -EINVAL);
    assert_int_equal(virtio_balloon_set_stats_interval(&f->b, 5, &err), 0);
    assert_int_equal(virtio_mmio_ops.poll(&f->b.mmio), UINT64_MAX); /* due at once */
    assert_true(used_next(&f->d, 2, &id, &len));
    destroy(f);

    struct virtio_balloon_config nostats = { .reporting = true };
    f = make(&nostats);
    assert_int_equal(virtio_balloon_set_stats_interval(&f->b, 5, &err), -EINVAL);
    destroy(f);
}

static void test_config_space(void **state)
{
    (void)state;
    struct fx *f = make(&all);
    tdrv_probe(&f->d, ACCEPT_ALL, 4, QNUM);
    ack_all(&f->d);
    struct error err = ERROR_INIT;
    assert_int_equal(virtio_balloon_set_target(&f->b, 64, &err), 0);
    assert_int_equal(rd_config(&f->d, VIRTIO_BALLOON_CFG_NUM_PAGES, 4), 64);
    assert_true(rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(virtio_balloon_set_target(&f->b, (TRAM_SIZE >> 12) + 1, &err), -EINVAL);
    /* the driver writes actual (also byte by byte); num_pages is read-only */
    virtio_mmio_ops.write(&f->b.mmio, VIRTIO_MMIO_CONFIG + 4, 4, 40);
    assert_int_equal(f->b.actual, 40);
    virtio_mmio_ops.write(&f->b.mmio, VIRTIO_MMIO_CONFIG + 5, 1, 1);
    assert_int_equal(f->b.actual, 40 + 256);
    virtio_mmio_ops.write(&f->b.mmio, VIRTIO_MMIO_CONFIG + 0, 4, 9999);
    virtio_mmio_ops.write(&f->b.mmio, VIRTIO_MMIO_CONFIG + 3, 2, 0xffff);
    virtio_mmio_ops.write(&f->b.mmio, VIRTIO_MMIO_CONFIG + 0xffc, 4, 1);
    assert_int_equal(f->b.num_pages, 64);
    assert_int_equal(rd_config(&f->d, 0xffc, 4), 0);
    assert_int_equal(rd_config(&f->d, 14, 4), 0); /* crosses the end */
    destroy(f);
}

static void test_save_load(void **state)
{
    (void)state;
    struct fx *f = make(&all);
    tdrv_probe(&f->d, ACCEPT_ALL, 4, QNUM);
    uint64_t buf = galloc(&f->d, 10);
    put_stat(f, buf, VIRTIO_BALLOON_S_MEMTOT, 42);
    struct tbuf b = { buf, 10, false };
    add_chain(&f->d, 2, &b, 1);
    notify(&f->d, 2);
    struct error err = ERROR_INIT;
    virtio_balloon_set_target(&f->b, 16, &err);
    struct state_buf s;
    state_init_writer(&s);
    virtio_mmio_ops.save(&f->b.mmio, &s);
    assert_int_equal(s.err, 0);

    /* into a device of another configuration: refused, unchanged */
    struct virtio_balloon_config other = { .reporting = true, .stats_interval_s = 1 };
    struct fx *g = make(&other);
    struct state_buf rs;
    state_init_reader(&rs, s.data, s.len);
    assert_true(virtio_mmio_ops.load(&g->b.mmio, &rs) < 0);
    assert_int_equal(g->b.num_pages, 0);
    destroy(g);

    /* into a fresh device of the same one: the target, the stats and the
     * held buffer, which still goes back when due */
    g = make(&all);
    memcpy(g->d.ram.host, f->d.ram.host, TRAM_SIZE);
    g->d.q[2] = f->d.q[2];
    state_init_reader(&rs, s.data, s.len);
    assert_int_equal(virtio_mmio_ops.load(&g->b.mmio, &rs), 0);
    assert_int_equal(g->b.num_pages, 16);
    assert_int_equal(g->b.stats.val[VIRTIO_BALLOON_S_MEMTOT], 42);
    assert_true(g->b.stats_held);
    g->b.stats_due_ns = 1;
    virtio_mmio_ops.poll(&g->b.mmio);
    uint32_t id, len;
    assert_true(used_next(&g->d, 2, &id, &len));
    /* truncated streams are refused */
    for (size_t cut = 0; cut < s.len; cut += 7) {
        struct fx *h = make(&all);
        state_init_reader(&rs, s.data, cut);
        assert_true(virtio_mmio_ops.load(&h->b.mmio, &rs) < 0);
        destroy(h);
    }
    state_free(&s);
    destroy(g);
    destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_and_queues),
        cmocka_unit_test(test_inflate_discards),
        cmocka_unit_test(test_inflate_hostile),
        cmocka_unit_test(test_reporting),
        cmocka_unit_test(test_queue_numbering),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_config_space),
        cmocka_unit_test(test_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
