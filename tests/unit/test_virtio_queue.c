/* virtio-mmio transport and split virtqueues, driven through the register
 * window exactly as Linux's virtio_mmio driver does, with a test device
 * model; then the hostile guest: chains that loop or outrun the queue,
 * addresses outside RAM, wrapping lengths, indices out of range, features
 * never offered, a reset in the middle of a request. Also virtio-rng.
 * Guest RAM has guard pages around it: a stray access crashes the test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "optional_skip.h"

#include "condo/virtio.h"
#include "condo/virtio_rng.h"
#include "virtio_test_driver.h"

#define TDEV_ID 42
#define TDEV_FEATURE 5 /* a device-specific bit the test device offers */
#define ALL_FEATURES (~0ull)
#define F(bit) (1ull << (bit))
#define NO_RING_FEATURES (F(VIRTIO_F_VERSION_1) | F(TDEV_FEATURE))

/* The test device: counts notifies and resets; the tests pop and push. */
struct tdev {
    unsigned notifies[VIRTIO_MAX_QUEUES];
    unsigned resets;
    uint32_t cfg[2];
};

static void tdev_config_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
    struct tdev *td = opaque;
    uint8_t b[8];
    le32_store(b, td->cfg[0]);
    le32_store(b + 4, td->cfg[1]);
    *val = 0;
    if (off + size > sizeof(b))
        return;
    for (unsigned i = 0; i < size; i++)
        *val |= (uint64_t)b[off + i] << (8 * i);
}

static void tdev_notify(void *opaque, unsigned q)
{
    struct tdev *td = opaque;
    td->notifies[q]++;
}

static void tdev_reset(void *opaque)
{
    struct tdev *td = opaque;
    td->resets++;
}

static const struct virtio_device_ops tdev_ops = {
    .name = "tdev",
    .device_id = TDEV_ID,
    .features = 1ull << TDEV_FEATURE,
    .num_queues = 2,
    .config_read = tdev_config_read,
    .queue_notify = tdev_notify,
    .reset = tdev_reset,
};

struct fixture {
    struct tdrv d;
    struct virtio_mmio t;
    struct tdev td;
    struct virtq_elem e;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tdrv_init_ram(&f->d);
    f->d.t = &f->t;
    f->td.cfg[0] = 0x11223344;
    f->td.cfg[1] = 0x55667788;
    virtio_mmio_init(&f->t, &tdev_ops, &f->td, &f->d.ram, tdrv_irq_line(&f->d));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tram_free(&f->d.ram);
    free(f);
    return 0;
}

/* A broken device: NEEDS_RESET, config interrupt, pops nothing more. */
static void assert_broken(struct fixture *f, unsigned q)
{
    assert_true(needs_reset(&f->d));
    assert_true(rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(f->d.irq_level, 1);
    assert_int_equal(virtq_pop(&f->t, q, &f->e), 0);
}

/* Reset and probe again: the device works after a reset. */
static void assert_recovers(struct fixture *f)
{
    wr(&f->d, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(rd(&f->d, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_int_equal(f->d.irq_level, 0);
    tdrv_probe(&f->d, ALL_FEATURES, 2, 16);
    uint64_t buf = galloc(&f->d, 64);
    struct tbuf b[] = { { buf, 64, true } };
    uint16_t head = add_chain(&f->d, 0, b, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    assert_int_equal(f->e.head, head);
    virtq_push(&f->t, 0, &f->e, 64);
    uint32_t id, len;
    assert_true(used_next(&f->d, 0, &id, &len));
    assert_int_equal(id, head);
    assert_int_equal(len, 64);
}

static void test_probe(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    assert_int_equal(rd(d, VIRTIO_MMIO_DEVICE_ID), TDEV_ID);
    uint64_t feat = device_features(d);
    assert_int_equal(feat, F(TDEV_FEATURE) | F(VIRTIO_F_VERSION_1) |
                               F(VIRTIO_F_RING_INDIRECT_DESC) | F(VIRTIO_F_RING_EVENT_IDX));
    wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    assert_int_equal(rd(d, VIRTIO_MMIO_DEVICE_FEATURES), 0);

    assert_true(tdrv_negotiate(d, ALL_FEATURES) & VIRTIO_STATUS_FEATURES_OK);
    assert_true(virtio_has_feature(&f->t, VIRTIO_F_VERSION_1));
    assert_true(virtio_has_feature(&f->t, TDEV_FEATURE));
    tdrv_setup_queue(d, 0, 256);
    tdrv_setup_queue(d, 1, 8);
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 2); /* no such queue */
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
    wr(d, VIRTIO_MMIO_QUEUE_READY, 1); /* logged, ignored */
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 1);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 1);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM), 8);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)TQ_BASE(1));
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_DESC_HIGH), 0);

    /* Before DRIVER_OK a notify is not delivered; DRIVER_OK looks at every
     * ready queue. */
    notify(d, 0);
    assert_int_equal(f->td.notifies[0], 0);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 0);
    tdrv_driver_ok(d);
    assert_int_equal(f->td.notifies[0], 1);
    assert_int_equal(f->td.notifies[1], 1);
    notify(d, 1);
    assert_int_equal(f->td.notifies[1], 2);
    notify(d, 7); /* no such queue: logged */
    notify(d, 0x10000); /* high bits are notification data: queue 0 */
    assert_int_equal(f->td.notifies[0], 2);

    /* Config space: 8-, 16- and 32-bit accesses, generation. */
    assert_int_equal(rd_config(d, 0, 4), 0x11223344);
    assert_int_equal(rd_config(d, 4, 2), 0x7788);
    assert_int_equal(rd_config(d, 7, 1), 0x55);
    assert_int_equal(rd(d, VIRTIO_MMIO_CONFIG_GENERATION), 0);
    virtio_config_changed(&f->t);
    assert_int_equal(rd(d, VIRTIO_MMIO_CONFIG_GENERATION), 1);
    assert_int_equal(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(d->irq_level, 1);
    ack_all(d);
    assert_int_equal(d->irq_level, 0);
    /* No shared memory regions: all ones. */
    wr(d, VIRTIO_MMIO_SHM_SEL, 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
    assert_int_equal(rd(d, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
    assert_false(needs_reset(d));

    /* Reset returns everything to the start and resets the device. */
    unsigned resets = f->td.resets;
    wr(d, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(f->td.resets, resets + 1);
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM), 0);
    assert_false(virtio_has_feature(&f->t, VIRTIO_F_VERSION_1));
}

static void test_register_access(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    uint64_t v = 123;
    /* Registers take 32-bit accesses only. */
    virtio_mmio_ops.read(&f->t, VIRTIO_MMIO_MAGIC_VALUE, 1, &v);
    assert_int_equal(v, 0);
    virtio_mmio_ops.read(&f->t, VIRTIO_MMIO_MAGIC_VALUE, 2, &v);
    assert_int_equal(v, 0);
    virtio_mmio_ops.write(&f->t, VIRTIO_MMIO_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
    assert_int_equal(rd(d, VIRTIO_MMIO_STATUS), 0);
    /* Unknown registers read 0, writes are ignored. */
    assert_int_equal(rd(d, 0x018), 0);
    assert_int_equal(rd(d, 0x0f8), 0);
    wr(d, 0x0f8, 0xffffffff);
    wr(d, VIRTIO_MMIO_MAGIC_VALUE, 0); /* read-only */
    assert_int_equal(rd(d, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
    wr(d, VIRTIO_MMIO_QUEUE_RESET, 1); /* not offered: logged */
    /* Config space beyond what the device has, and writes to it. */
    assert_int_equal(rd_config(d, 0x800, 4), 0);
    virtio_mmio_ops.write(&f->t, VIRTIO_MMIO_CONFIG, 4, 1);
    assert_int_equal(rd_config(d, 0, 4), 0x11223344);
    assert_false(needs_reset(d));
}

static void test_features_never_offered(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;

    /* A bit the device never offered. */
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, F(TDEV_FEATURE) | F(6));
    wr(d, VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    assert_false(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    /* DRIVER_OK without FEATURES_OK is refused too. */
    wr(d, VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
    assert_false(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);

    /* A bit beyond 63. */
    wr(d, VIRTIO_MMIO_STATUS, 0);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 3);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 0x100);
    wr(d, VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    assert_false(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);

    /* Legacy (no VERSION_1) is not supported. */
    wr(d, VIRTIO_MMIO_STATUS, 0);
    assert_false(tdrv_negotiate(d, F(TDEV_FEATURE)) & VIRTIO_STATUS_FEATURES_OK);

    /* Features cannot change after FEATURES_OK. */
    assert_true(tdrv_negotiate(d, F(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, F(TDEV_FEATURE));
    assert_false(virtio_has_feature(&f->t, TDEV_FEATURE));

    /* Status bits stay until a reset: FEATURES_OK cannot be withdrawn to
     * change features under ready queues. */
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    assert_true(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);

    /* The driver can neither set nor clear DEVICE_NEEDS_RESET. */
    wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    assert_false(needs_reset(d));
    virtio_set_needs_reset(&f->t);
    wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    assert_true(needs_reset(d));
    wr(d, VIRTIO_MMIO_STATUS, 0);
    assert_false(needs_reset(d));
}

static void test_bad_queue_config(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    static const struct {
        uint32_t num;
        uint64_t desc, avail, used;
    } bad[] = {
        { 0, TQ_BASE(0), TQ_BASE(0) + 0x1000, TQ_BASE(0) + 0x2000 },   /* size 0 */
        { 3, TQ_BASE(0), TQ_BASE(0) + 0x1000, TQ_BASE(0) + 0x2000 },   /* not a power of 2 */
        { 512, TQ_BASE(0), TQ_BASE(0) + 0x1000, TQ_BASE(0) + 0x2000 }, /* above max */
        { 16, TQ_BASE(0) + 8, TQ_BASE(0) + 0x1000, TQ_BASE(0) + 0x2000 }, /* misaligned */
        { 16, TQ_BASE(0), TQ_BASE(0) + 0x1001, TQ_BASE(0) + 0x2000 },
        { 16, TQ_BASE(0), TQ_BASE(0) + 0x1000, TQ_BASE(0) + 0x2002 },
        { 16, 0x1000, TQ_BASE(0) + 0x1000, TQ_BASE(0) + 0x2000 },        /* below RAM */
        { 16, TQ_BASE(0), TRAM_BASE + TRAM_SIZE - 8, TQ_BASE(0) + 0x2000 }, /* straddles end */
        { 16, TQ_BASE(0), TQ_BASE(0) + 0x1000, TRAM_BASE + TRAM_SIZE },
        { 256, 0xfffffffffffff000ull, TQ_BASE(0) + 0x1000, TQ_BASE(0) + 0x2000 }, /* wraps */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_true(tdrv_negotiate(d, ALL_FEATURES) & VIRTIO_STATUS_FEATURES_OK);
        wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
        wr(d, VIRTIO_MMIO_QUEUE_NUM, bad[i].num);
        wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)bad[i].desc);
        wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(bad[i].desc >> 32));
        wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)bad[i].avail);
        wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(bad[i].avail >> 32));
        wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)bad[i].used);
        wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(bad[i].used >> 32));
        wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
        assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
        assert_true(needs_reset(d));
        tdrv_driver_ok(d);
        assert_int_equal(virtq_pop(&f->t, 0, &f->e), 0);
        wr(d, VIRTIO_MMIO_STATUS, 0);
    }
    /* A queue set up before FEATURES_OK (its layout depends on them). */
    wr(d, VIRTIO_MMIO_STATUS, 0);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(d, VIRTIO_MMIO_QUEUE_NUM, 16);
    wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)TQ_BASE(0));
    wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)TQ_BASE(0) + 0x1000);
    wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)TQ_BASE(0) + 0x2000);
    wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_true(needs_reset(d));

    /* Queue registers do not change while the queue is ready. */
    tdrv_probe(d, ALL_FEATURES, 1, 16);
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(d, VIRTIO_MMIO_QUEUE_NUM, 256);
    wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM), 16);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)TQ_BASE(0));
    assert_false(needs_reset(d));
    /* QueueReady 0 stops the queue (Linux's del_vq); set up again it works. */
    wr(d, VIRTIO_MMIO_QUEUE_READY, 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 0);
    tdrv_setup_queue(d, 0, 32);
    uint64_t buf = galloc(d, 16);
    struct tbuf b[] = { { buf, 16, false } };
    add_chain(d, 0, b, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
}

static void test_simple_chain(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, NO_RING_FEATURES, 2, 16);
    uint64_t h = galloc(d, 16), o = galloc(d, 100), in1 = galloc(d, 30), in2 = galloc(d, 1);
    memset(gp(d, h, 16), 0xab, 16);
    struct tbuf b[] = { { h, 16, false }, { o, 100, false }, { in1, 30, true }, { in2, 1, true } };
    uint16_t head = add_chain(d, 0, b, 4);
    notify(d, 0);
    assert_int_equal(f->td.notifies[0], 2); /* DRIVER_OK + this one */

    struct virtq_elem *e = &f->e;
    assert_int_equal(virtq_pop(&f->t, 0, e), 1);
    assert_int_equal(e->head, head);
    assert_int_equal(e->out_num, 2);
    assert_int_equal(e->in_num, 2);
    assert_int_equal(e->out_len, 116);
    assert_int_equal(e->in_len, 31);
    assert_ptr_equal(e->out[0].iov_base, gp(d, h, 16));
    assert_int_equal(e->out[1].iov_len, 100);
    assert_ptr_equal(e->in[1].iov_base, gp(d, in2, 1));
    assert_int_equal(e->in_addr[0], in1);
    uint8_t hdr[16];
    assert_int_equal(iov_to_buf(e->out, e->out_num, 0, hdr, 16), 16);
    assert_int_equal(hdr[15], 0xab);
    assert_int_equal(virtq_pop(&f->t, 0, e), 0); /* empty */

    assert_int_equal(d->irq_level, 0);
    virtq_push(&f->t, 0, e, 31);
    uint32_t id, len;
    assert_true(used_next(d, 0, &id, &len));
    assert_int_equal(id, head);
    assert_int_equal(len, 31);
    assert_int_equal(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    assert_int_equal(d->irq_level, 1);
    wr(d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    assert_int_equal(d->irq_level, 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

    /* written is clamped to what is writable. */
    add_chain(d, 0, b, 4);
    assert_int_equal(virtq_pop(&f->t, 0, e), 1);
    virtq_push(&f->t, 0, e, 1000);
    assert_true(used_next(d, 0, &id, &len));
    assert_int_equal(len, 31);

    /* The ring wraps: many more requests than entries. */
    for (unsigned k = 0; k < 100; k++) {
        struct tbuf one[] = { { in1, 30, true } };
        uint16_t hd = add_chain(d, 1, one, 1);
        assert_int_equal(virtq_pop(&f->t, 1, e), 1);
        assert_int_equal(e->head, hd);
        virtq_push(&f->t, 1, e, 5);
        assert_true(used_next(d, 1, &id, &len));
        assert_int_equal(id, hd);
        assert_int_equal(len, 5);
    }
    /* Zero-length buffers are left out. */
    struct tbuf z[] = { { h, 16, false }, { 0x1234, 0, false }, { in1, 0, true }, { in2, 1, true } };
    add_chain(d, 0, z, 4);
    assert_int_equal(virtq_pop(&f->t, 0, e), 1);
    assert_int_equal(e->out_num, 1);
    assert_int_equal(e->in_num, 1);
    assert_false(needs_reset(d));
}

static void test_unpop(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, ALL_FEATURES, 1, 8);
    uint64_t a = galloc(d, 8), b2 = galloc(d, 8);
    struct tbuf b[] = { { a, 8, true } };
    struct tbuf c[] = { { b2, 8, true } };
    uint16_t h1 = add_chain(d, 0, b, 1);
    uint16_t h2 = add_chain(d, 0, c, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    assert_int_equal(f->e.head, h1);
    virtq_unpop(&f->t, 0);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    assert_int_equal(f->e.head, h1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    assert_int_equal(f->e.head, h2);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 0);
}

static void test_no_interrupt_flag(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, NO_RING_FEATURES, 1, 8);
    gw16(d, d->q[0].avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
    uint64_t a = galloc(d, 8);
    struct tbuf b[] = { { a, 8, true } };
    add_chain(d, 0, b, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    virtq_push(&f->t, 0, &f->e, 8);
    assert_int_equal(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_int_equal(d->irq_level, 0);
    gw16(d, d->q[0].avail, 0);
    add_chain(d, 0, b, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    virtq_push(&f->t, 0, &f->e, 8);
    assert_int_equal(d->irq_level, 1);
}

static void test_event_idx(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_EVENT_IDX), 1, 8);
    assert_true(virtio_has_feature(&f->t, VIRTIO_F_RING_EVENT_IDX));
    struct tvq *v = &d->q[0];
    uint64_t used_event = v->avail + 4 + 2 * 8, avail_event = v->used + 4 + 8 * 8;
    uint64_t a = galloc(d, 8);
    struct tbuf b[] = { { a, 8, true } };

    /* used_event = 2: interrupt when the used idx passes 2 (entry 2). */
    gw16(d, used_event, 2);
    gw16(d, avail_event, 0xffff);
    for (unsigned k = 0; k < 4; k++)
        add_chain(d, 0, b, 1);
    for (unsigned k = 0; k < 4; k++) {
        assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
        /* avail_event: the next entry the device will look at */
        assert_int_equal(gr16(d, avail_event), k + 1);
        virtq_push(&f->t, 0, &f->e, 8);
        /* used idx is k+1 now; interrupt only when it went 2 -> 3 */
        assert_int_equal(d->irq_level, k >= 2);
    }
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 0);
    assert_int_equal(gr16(d, avail_event), 4);
    ack_all(d);
    /* The AVAIL_F_NO_INTERRUPT flag means nothing with EVENT_IDX. */
    gw16(d, v->avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
    gw16(d, used_event, 4);
    add_chain(d, 0, b, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    virtq_push(&f->t, 0, &f->e, 8);
    assert_int_equal(d->irq_level, 1);
}

static void test_indirect(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, ALL_FEATURES, 1, 4);
    uint64_t table = galloc(d, 16 * VIRTQ_MAX_SEGS);
    uint64_t h = galloc(d, 16), data = galloc(d, 512 * 4), st = galloc(d, 1);

    /* A direct descriptor, then the indirect table (header, data, status):
     * more buffers than the queue has entries. */
    set_desc(d, table, 0, h + 8, 8, VIRTQ_DESC_F_NEXT, 1);
    for (unsigned k = 0; k < 4; k++)
        set_desc(d, table, 1 + k, data + 512 * k, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
                 (uint16_t)(2 + k));
    set_desc(d, table, 5, st, 1, VIRTQ_DESC_F_WRITE, 0);
    set_desc(d, d->q[0].desc, 2, h, 8, VIRTQ_DESC_F_NEXT, 3);
    set_desc(d, d->q[0].desc, 3, table, 16 * 6, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(d, 0, 2);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    assert_int_equal(f->e.head, 2);
    assert_int_equal(f->e.out_num, 2);
    assert_int_equal(f->e.in_num, 5);
    assert_int_equal(f->e.in_len, 2049);
    virtq_push(&f->t, 0, &f->e, 2049);
    uint32_t id, len;
    assert_true(used_next(d, 0, &id, &len));
    assert_int_equal(id, 2);

    /* The largest table: VIRTQ_MAX_SEGS entries, all used. */
    for (unsigned k = 0; k < VIRTQ_MAX_SEGS; k++)
        set_desc(d, table, k, data + k, 1,
                 (uint16_t)(VIRTQ_DESC_F_WRITE | (k + 1 < VIRTQ_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0)),
                 (uint16_t)(k + 1));
    set_desc(d, d->q[0].desc, 0, table, 16 * VIRTQ_MAX_SEGS, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(d, 0, 0);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    assert_int_equal(f->e.in_num, VIRTQ_MAX_SEGS);
    /* ... but one direct buffer in front of it is one too many. */
    set_desc(d, d->q[0].desc, 1, h, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    avail_add(d, 0, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), -EINVAL);
    assert_broken(f, 0);
}

/* One hostile layout per case: each must break the device, and a reset
 * must bring it back. */
enum hostile {
    H_LOOP_SELF,
    H_LOOP_LONG,
    H_LOOP_ZERO_LEN,
    H_CHAIN_LONGER_THAN_QUEUE,
    H_ADDR_BELOW_RAM,
    H_ADDR_ABOVE_RAM,
    H_STRADDLES_END,
    H_LEN_WRAPS,
    H_NEXT_OUT_OF_RANGE,
    H_HEAD_OUT_OF_RANGE,
    H_AVAIL_IDX_JUMP,
    H_READ_AFTER_WRITE,
    H_INDIRECT_NOT_NEGOTIATED,
    H_INDIRECT_WITH_NEXT,
    H_INDIRECT_NESTED,
    H_INDIRECT_LEN_ODD,
    H_INDIRECT_LEN_ZERO,
    H_INDIRECT_TOO_BIG,
    H_INDIRECT_OUTSIDE_RAM,
    H_INDIRECT_LOOP,
    H_INDIRECT_NEXT_OUT_OF_RANGE,
    H_COUNT
};

static void hostile_case(struct fixture *f, enum hostile h)
{
    struct tdrv *d = &f->d;
    const uint32_t num = 8;
    wr(d, VIRTIO_MMIO_STATUS, 0);
    d->heap = THEAP_BASE;
    tdrv_probe(d, h == H_INDIRECT_NOT_NEGOTIATED ? NO_RING_FEATURES : ALL_FEATURES, 1, num);
    uint64_t desc = d->q[0].desc;
    uint64_t buf = galloc(d, 64), table = galloc(d, 16 * 16);
    uint64_t end = TRAM_BASE + TRAM_SIZE;
    uint16_t head = 0;
    switch (h) {
    case H_LOOP_SELF:
        set_desc(d, desc, 0, buf, 8, VIRTQ_DESC_F_NEXT, 0);
        break;
    case H_LOOP_LONG:
        for (unsigned i = 0; i < num; i++)
            set_desc(d, desc, i, buf, 8, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % num));
        head = 3;
        break;
    case H_LOOP_ZERO_LEN: /* collects no buffers: only the walk's bound ends it */
        set_desc(d, desc, 0, 0, 0, VIRTQ_DESC_F_NEXT, 1);
        set_desc(d, desc, 1, 0, 0, VIRTQ_DESC_F_NEXT, 0);
        break;
    case H_CHAIN_LONGER_THAN_QUEUE:
        /* 0 -> 1 -> ... -> 7 -> 5 -> 6 -> 7 -> ...: more links than entries */
        for (unsigned i = 0; i < num; i++)
            set_desc(d, desc, i, buf, 8, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1 < num ? i + 1 : 5));
        break;
    case H_ADDR_BELOW_RAM:
        set_desc(d, desc, 0, TRAM_BASE - 16, 8, 0, 0);
        break;
    case H_ADDR_ABOVE_RAM:
        set_desc(d, desc, 0, buf, 8, VIRTQ_DESC_F_NEXT, 1);
        set_desc(d, desc, 1, end, 8, VIRTQ_DESC_F_WRITE, 0);
        break;
    case H_STRADDLES_END:
        set_desc(d, desc, 0, end - 4, 8, VIRTQ_DESC_F_WRITE, 0);
        break;
    case H_LEN_WRAPS:
        set_desc(d, desc, 0, 0xfffffffffffff000ull, 0x2000, 0, 0);
        break;
    case H_NEXT_OUT_OF_RANGE:
        set_desc(d, desc, 0, buf, 8, VIRTQ_DESC_F_NEXT, (uint16_t)num);
        break;
    case H_HEAD_OUT_OF_RANGE:
        head = 0xffff;
        break;
    case H_AVAIL_IDX_JUMP:
        set_desc(d, desc, 0, buf, 8, 0, 0);
        avail_add(d, 0, 0);
        gw16(d, d->q[0].avail + 2, (uint16_t)(num + 1));
        assert_int_equal(virtq_pop(&f->t, 0, &f->e), -EINVAL);
        assert_broken(f, 0);
        return;
    case H_READ_AFTER_WRITE:
        set_desc(d, desc, 0, buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        set_desc(d, desc, 1, buf + 8, 8, 0, 0);
        break;
    case H_INDIRECT_NOT_NEGOTIATED:
    case H_INDIRECT_LEN_ODD:
    case H_INDIRECT_LEN_ZERO:
    case H_INDIRECT_TOO_BIG:
    case H_INDIRECT_OUTSIDE_RAM:
    case H_INDIRECT_WITH_NEXT: {
        uint32_t len = h == H_INDIRECT_LEN_ODD    ? 24
                       : h == H_INDIRECT_LEN_ZERO ? 0
                       : h == H_INDIRECT_TOO_BIG  ? 16 * (VIRTQ_MAX_SEGS + 1)
                                                  : 16;
        uint64_t at = h == H_INDIRECT_OUTSIDE_RAM ? end - 8 : table;
        set_desc(d, table, 0, buf, 8, 0, 0);
        set_desc(d, desc, 0, at, len,
                 (uint16_t)(VIRTQ_DESC_F_INDIRECT |
                            (h == H_INDIRECT_WITH_NEXT ? VIRTQ_DESC_F_NEXT : 0)),
                 1);
        set_desc(d, desc, 1, buf, 8, 0, 0);
        break;
    }
    case H_INDIRECT_NESTED:
        set_desc(d, table, 0, table + 64, 16, VIRTQ_DESC_F_INDIRECT, 0);
        set_desc(d, table, 4, buf, 8, 0, 0);
        set_desc(d, desc, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
        break;
    case H_INDIRECT_LOOP:
        set_desc(d, table, 0, buf, 8, VIRTQ_DESC_F_NEXT, 1);
        set_desc(d, table, 1, buf, 8, VIRTQ_DESC_F_NEXT, 0);
        set_desc(d, desc, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
        break;
    case H_INDIRECT_NEXT_OUT_OF_RANGE:
        set_desc(d, table, 0, buf, 8, VIRTQ_DESC_F_NEXT, 2);
        set_desc(d, table, 2, buf, 8, 0, 0); /* exists in RAM, not in the table */
        set_desc(d, desc, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
        break;
    case H_COUNT:
        break;
    }
    avail_add(d, 0, head);
    uint32_t used_before = gr16(d, d->q[0].used + 2);
    notify(d, 0); /* the test device pops nothing itself */
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), -EINVAL);
    assert_broken(f, 0);
    /* A broken device hands nothing back. */
    virtq_push(&f->t, 0, &f->e, 0);
    assert_int_equal(gr16(d, d->q[0].used + 2), used_before);
}

static void test_hostile(void **state)
{
    struct fixture *f = *state;
    for (int h = 0; h < H_COUNT; h++) {
        hostile_case(f, (enum hostile)h);
        assert_recovers(f);
    }
}

/* A chain over 4 GiB in total (virtio 1.2, 2.7.5.2) needs buffers that
 * large: 3 GiB of RAM, reserved but never touched. */
static void test_chain_over_4g(void **state)
{
    (void)state;
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    if (tram_init(&f->d.ram, TRAM_BASE, 3ull << 30) != 0) {
        free(f);
        optional_skip("test_chain_over_4g: cannot reserve 3 GiB of address space here "
                      "(ulimit -v?)");
    }
    f->d.heap = THEAP_BASE;
    f->d.t = &f->t;
    virtio_mmio_init(&f->t, &tdev_ops, &f->td, &f->d.ram, tdrv_irq_line(&f->d));
    tdrv_probe(&f->d, ALL_FEATURES, 1, 4);
    set_desc(&f->d, f->d.q[0].desc, 0, TRAM_BASE, 0xc0000000u, VIRTQ_DESC_F_NEXT, 1);
    set_desc(&f->d, f->d.q[0].desc, 1, TRAM_BASE, 0x40000000u, 0, 0);
    avail_add(&f->d, 0, 0);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), -EINVAL);
    assert_broken(f, 0);
    tram_free(&f->d.ram);
    free(f);
}

static void test_reset_mid_request(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, ALL_FEATURES, 1, 8);
    uint64_t a = galloc(d, 8);
    struct tbuf b[] = { { a, 8, true } };
    add_chain(d, 0, b, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    /* The driver resets while the device holds the request. */
    memset(gp(d, d->q[0].used, 0x100), 0x5a, 0x100);
    wr(d, VIRTIO_MMIO_STATUS, 0);
    virtq_push(&f->t, 0, &f->e, 8);
    virtq_unpop(&f->t, 0);
    for (unsigned i = 0; i < 0x100; i++)
        assert_int_equal(*gp(d, d->q[0].used + i, 1), 0x5a);
    assert_int_equal(d->irq_level, 0);
    /* Probed again: an element from before the reset is stale, even with
     * a head that exists in the new queue. */
    tdrv_probe(d, ALL_FEATURES, 1, 2);
    struct virtq_elem stale = f->e;
    stale.head = 0;
    virtq_push(&f->t, 0, &stale, 8);
    stale.head = 5;
    virtq_push(&f->t, 0, &stale, 8);
    assert_int_equal(gr16(d, d->q[0].used + 2), 0);
    assert_int_equal(d->irq_level, 0);
    /* The same after QueueReady 0 and 1 again (no reset). */
    uint64_t b2 = galloc(d, 8);
    struct tbuf one[] = { { b2, 8, true } };
    add_chain(d, 0, one, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(d, VIRTIO_MMIO_QUEUE_READY, 0);
    tdrv_setup_queue(d, 0, 2);
    virtq_push(&f->t, 0, &f->e, 8);
    assert_int_equal(gr16(d, d->q[0].used + 2), 0);
    assert_recovers(f);
}

static void test_code_page_tracking(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, ALL_FEATURES, 1, 8);
    /* a buffer spanning two pages, the second holds decoded code */
    uint64_t a = (d->heap + 0xfff) & ~0xfffull;
    d->heap = a + 0x3000;
    uint64_t p1 = (a + 0x1000 - TRAM_BASE) >> 12;
    d->ram.has_code[p1] = 1;
    d->ram.has_code[p1 + 1] = 1;
    struct tbuf b[] = { { a + 0x800, 0x1000, true } };
    add_chain(d, 0, b, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    /* Only what was written counts: 0x800 bytes stay in the first page. */
    virtq_push(&f->t, 0, &f->e, 0x800);
    assert_int_equal(d->ram.has_code[p1], 1);
    add_chain(d, 0, b, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    virtq_push(&f->t, 0, &f->e, 0x801);
    assert_int_equal(d->ram.has_code[p1], 0);
    assert_int_equal(d->ram.page_gen[p1], 1);
    assert_int_equal(d->ram.has_code[p1 + 1], 1);
    /* The used ring's page counts too. */
    uint64_t up = (d->q[0].used - TRAM_BASE) >> 12;
    d->ram.has_code[up] = 1;
    add_chain(d, 0, b, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    virtq_push(&f->t, 0, &f->e, 0);
    assert_int_equal(d->ram.has_code[up], 0);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, ALL_FEATURES, 2, 8);
    uint64_t a = galloc(d, 8);
    struct tbuf b[] = { { a, 8, true } };
    for (unsigned k = 0; k < 3; k++)
        add_chain(d, 0, b, 1);
    assert_int_equal(virtq_pop(&f->t, 0, &f->e), 1);
    virtq_push(&f->t, 0, &f->e, 8);
    assert_int_equal(d->irq_level, 1);

    struct state_buf s;
    state_init_writer(&s);
    virtio_mmio_ops.save(&f->t, &s);
    assert_int_equal(s.err, 0);

    /* A fresh transport continues where the old one stopped. */
    struct virtio_mmio t2;
    struct tdrv d2 = *d; /* same RAM */
    d2.irq_level = 0;
    d2.t = &t2;
    virtio_mmio_init(&t2, &tdev_ops, &f->td, &d->ram, tdrv_irq_line(&d2));
    struct state_buf r;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(virtio_mmio_ops.load(&t2, &r), 0);
    assert_int_equal(r.pos, s.len);
    assert_int_equal(d2.irq_level, 1); /* the line follows the loaded status */
    assert_int_equal(rd(&d2, VIRTIO_MMIO_STATUS), rd(d, VIRTIO_MMIO_STATUS));
    assert_int_equal(virtq_pop(&t2, 0, &f->e), 1);
    virtq_push(&t2, 0, &f->e, 8);
    assert_int_equal(virtq_pop(&t2, 0, &f->e), 1);
    assert_int_equal(virtq_pop(&t2, 0, &f->e), 0);
    assert_int_equal(gr16(d, d->q[0].used + 2), 2);

    /* Every truncation fails cleanly. */
    for (size_t n = 0; n < s.len; n++) {
        struct virtio_mmio t3;
        virtio_mmio_init(&t3, &tdev_ops, &f->td, &d->ram, tdrv_irq_line(&d2));
        state_init_reader(&r, s.data, n);
        assert_int_equal(virtio_mmio_ops.load(&t3, &r), -EINVAL);
        assert_int_equal(t3.status, 0);
    }
    /* Corruptions: version, device id, queue count, status bits, a ready
     * queue with rings outside RAM, a bad size. Offsets follow the save
     * order: version 0, id 1, status 5, ..., nq 38, queue 0 from 39
     * (num, ready, desc, ...). */
    static const struct {
        size_t off;
        uint8_t val;
    } bad[] = {
        { 0, 9 }, { 1, 43 }, { 38, 3 }, { 5, 0x30 }, { 39, 3 }, { 39 + 4 + 1 + 7, 0x40 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        uint8_t copy[512];
        assert_true(s.len <= sizeof(copy));
        memcpy(copy, s.data, s.len);
        copy[bad[i].off] = bad[i].val;
        struct virtio_mmio t3;
        virtio_mmio_init(&t3, &tdev_ops, &f->td, &d->ram, tdrv_irq_line(&d2));
        state_init_reader(&r, copy, s.len);
        assert_int_equal(virtio_mmio_ops.load(&t3, &r), -EINVAL);
        assert_int_equal(t3.status, 0);
    }
    state_free(&s);
}

static void test_iov_helpers(void **state)
{
    (void)state;
    uint8_t a[3] = { 1, 2, 3 }, b[4] = { 4, 5, 6, 7 }, out[8] = { 0 };
    struct iovec iov[] = { { a, 3 }, { NULL, 0 }, { b, 4 } };
    assert_int_equal(iov_to_buf(iov, 3, 2, out, 8), 5);
    assert_memory_equal(out, ((uint8_t[]){ 3, 4, 5, 6, 7 }), 5);
    assert_int_equal(iov_to_buf(iov, 3, 7, out, 8), 0);
    assert_int_equal(iov_to_buf(iov, 3, 100, out, 8), 0);
    uint8_t src[2] = { 9, 9 };
    assert_int_equal(iov_from_buf(iov, 3, 2, src, 2), 2);
    assert_int_equal(a[2], 9);
    assert_int_equal(b[0], 9);
    struct iovec sl[3];
    assert_int_equal(iov_slice(iov, 3, 1, 4, sl, 3), 2);
    assert_ptr_equal(sl[0].iov_base, a + 1);
    assert_int_equal(sl[0].iov_len, 2);
    assert_int_equal(sl[1].iov_len, 2);
    assert_int_equal(iov_slice(iov, 3, 1, 7, sl, 3), -EINVAL);
    assert_int_equal(iov_slice(iov, 3, 0, 7, sl, 1), -E2BIG);
    assert_int_equal(iov_slice(iov, 3, 5, 0, sl, 3), 0);
}

/* virtio-rng: host entropy into every writable buffer. */
static void test_rng(void **state)
{
    (void)state;
    struct tdrv d;
    tdrv_init_ram(&d);
    struct virtio_rng *rng = calloc(1, sizeof(*rng));
    assert_non_null(rng);
    virtio_rng_init(rng, &d.ram, tdrv_irq_line(&d));
    d.t = &rng->mmio;
    assert_int_equal(rd(&d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
    assert_int_equal(device_features(&d) & 0xffffffu, 0);
    tdrv_probe(&d, ALL_FEATURES, 1, 16);

    uint64_t small = galloc(&d, 64), big = galloc(&d, 3 * VIRTIO_RNG_MAX_REQ), ro = galloc(&d, 8);
    struct tbuf b1[] = { { small, 64, true } };
    struct tbuf b2[] = { { big, VIRTIO_RNG_MAX_REQ, true }, { big + VIRTIO_RNG_MAX_REQ,
                                                              2 * VIRTIO_RNG_MAX_REQ, true } };
    struct tbuf b3[] = { { ro, 8, false } };
    uint16_t h1 = add_chain(&d, 0, b1, 1);
    uint16_t h2 = add_chain(&d, 0, b2, 2);
    uint16_t h3 = add_chain(&d, 0, b3, 1);
    notify(&d, 0);
    uint32_t id, len;
    assert_true(used_next(&d, 0, &id, &len));
    assert_int_equal(id, h1);
    assert_int_equal(len, 64);
    uint8_t zero[64] = { 0 };
    assert_memory_not_equal(gp(&d, small, 64), zero, 64);
    assert_true(used_next(&d, 0, &id, &len));
    assert_int_equal(id, h2);
    assert_int_equal(len, VIRTIO_RNG_MAX_REQ);
    assert_memory_not_equal(gp(&d, big + VIRTIO_RNG_MAX_REQ - 64, 64), zero, 64);
    /* beyond the per-request limit nothing was written */
    assert_memory_equal(gp(&d, big + VIRTIO_RNG_MAX_REQ, 64), zero, 64);
    assert_true(used_next(&d, 0, &id, &len));
    assert_int_equal(id, h3);
    assert_int_equal(len, 0);
    assert_int_equal(d.irq_level, 1);

    /* save/load, and a hostile chain */
    struct state_buf s;
    state_init_writer(&s);
    virtio_mmio_ops.save(&rng->mmio, &s);
    struct state_buf r;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(virtio_mmio_ops.load(&rng->mmio, &r), 0);
    state_free(&s);
    set_desc(&d, d.q[0].desc, 0, small, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    avail_add(&d, 0, 0);
    notify(&d, 0);
    assert_true(needs_reset(&d));
    virtio_mmio_ops.reset(&rng->mmio);
    assert_int_equal(rd(&d, VIRTIO_MMIO_STATUS), 0);
    free(rng);
    tram_free(&d.ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_never_offered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_queue_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simple_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unpop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_interrupt_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
        cmocka_unit_test(test_chain_over_4g),
        cmocka_unit_test_setup_teardown(test_reset_mid_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_page_tracking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test(test_iov_helpers),
        cmocka_unit_test(test_rng),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
