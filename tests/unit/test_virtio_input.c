/* virtio-input through the real virtio-mmio transport, as Linux's
 * virtio_input driver uses it: the config space queries (ID_NAME,
 * ID_SERIAL, ID_DEVIDS, PROP_BITS, EV_BITS, unknown ones), event delivery
 * (the power button, Ctrl+Alt+Del, in order, all or nothing), the "could
 * not deliver" answers (no driver, no buffers, a reset), hostile event
 * queues (short, readable, looping, outside RAM, an avail index far
 * ahead), the status queue, and save/load with a restored device that
 * goes on delivering. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "condo/virtio_input.h"
#include "virtio_test_driver.h"

#define ACCEPT_ALL (~0ull)
#define QNUM 64
#define EVQ VIRTIO_INPUT_EVENTQ
#define STQ VIRTIO_INPUT_STATUSQ

struct fx {
    struct tdrv d;
    struct virtio_input in;
    uint64_t evbuf; /* event buffer i is at evbuf + 8 * i */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tdrv_init_ram(&f->d);
    virtio_input_init(&f->in, &f->d.ram, tdrv_irq_line(&f->d));
    f->d.t = &f->in.mmio;
    f->evbuf = galloc(&f->d, 8 * QNUM);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tram_free(&f->d.ram);
    free(f);
    return 0;
}

/* Post event buffers of 8 bytes, one descriptor each (Linux's
 * virtinput_queue_evtbuf); descriptor i always holds buffer i. */
static void post_events(struct fx *f, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        unsigned i = f->d.q[EVQ].next_desc;
        struct tbuf b = { f->evbuf + 8ull * i, 8, true };
        add_chain(&f->d, EVQ, &b, 1);
    }
}

static void probe(struct fx *f, unsigned posted)
{
    tdrv_probe(&f->d, ACCEPT_ALL, 2, QNUM);
    post_events(f, posted);
    notify(&f->d, EVQ);
}

/* The next event the device handed back (asserts there is one). */
static struct virtio_input_event next_event(struct fx *f)
{
    uint32_t id, len;
    assert_true(used_next(&f->d, EVQ, &id, &len));
    assert_true(id < QNUM);
    assert_int_equal(len, 8);
    const uint8_t *p = gp(&f->d, f->evbuf + 8ull * id, 8);
    return (struct virtio_input_event){ le16_load(p), le16_load(p + 2),
                                        (int32_t)le32_load(p + 4) };
}

static void expect_event(struct fx *f, uint16_t type, uint16_t code, int32_t value)
{
    struct virtio_input_event e = next_event(f);
    assert_int_equal(e.type, type);
    assert_int_equal(e.code, code);
    assert_int_equal(e.value, value);
}

static void expect_no_event(struct fx *f)
{
    uint32_t id, len;
    assert_false(used_next(&f->d, EVQ, &id, &len));
}

static void expect_power_button(struct fx *f)
{
    expect_event(f, EV_KEY, KEY_POWER, 1);
    expect_event(f, EV_SYN, SYN_REPORT, 0);
    expect_event(f, EV_KEY, KEY_POWER, 0);
    expect_event(f, EV_SYN, SYN_REPORT, 0);
    expect_no_event(f);
}

/* --- config space --- */

static void cfg_select(struct fx *f, uint8_t select, uint8_t subsel)
{
    virtio_mmio_ops.write(&f->in.mmio, VIRTIO_MMIO_CONFIG + VIRTIO_INPUT_CFG_SELECT, 1, select);
    virtio_mmio_ops.write(&f->in.mmio, VIRTIO_MMIO_CONFIG + VIRTIO_INPUT_CFG_SUBSEL, 1, subsel);
}

static unsigned cfg_size(struct fx *f)
{
    return (unsigned)rd_config(&f->d, VIRTIO_INPUT_CFG_SIZE, 1);
}

/* The union's bytes, read one byte at a time as virtio_cread_bytes does. */
static void cfg_bytes(struct fx *f, uint8_t *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = (uint8_t)rd_config(&f->d, VIRTIO_INPUT_CFG_U + i, 1);
}

static void test_identity(void **state)
{
    struct fx *f = *state;
    assert_int_equal(rd(&f->d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_INPUT);
    /* no device feature bits: only what the transport adds */
    uint64_t feat = device_features(&f->d);
    assert_int_equal(feat, (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_INDIRECT_DESC) |
                               (1ull << VIRTIO_F_RING_EVENT_IDX));
    /* two queues, no third */
    for (unsigned q = 0; q < 3; q++) {
        wr(&f->d, VIRTIO_MMIO_QUEUE_SEL, q);
        assert_int_equal(rd(&f->d, VIRTIO_MMIO_QUEUE_NUM_MAX), q < 2 ? VIRTIO_QUEUE_MAX : 0);
    }
}

static void test_config_strings_and_ids(void **state)
{
    struct fx *f = *state;
    uint8_t u[VIRTIO_INPUT_CFG_U_LEN];

    cfg_select(f, VIRTIO_INPUT_CFG_ID_NAME, 0);
    assert_int_equal(rd_config(&f->d, VIRTIO_INPUT_CFG_SELECT, 1), VIRTIO_INPUT_CFG_ID_NAME);
    assert_int_equal(cfg_size(f), strlen(VIRTIO_INPUT_NAME));
    cfg_bytes(f, u, sizeof(u));
    assert_memory_equal(u, VIRTIO_INPUT_NAME, strlen(VIRTIO_INPUT_NAME));
    for (size_t i = strlen(VIRTIO_INPUT_NAME); i < sizeof(u); i++)
        assert_int_equal(u[i], 0);

    cfg_select(f, VIRTIO_INPUT_CFG_ID_SERIAL, 0);
    assert_int_equal(cfg_size(f), strlen(VIRTIO_INPUT_SERIAL));
    cfg_bytes(f, u, (unsigned)strlen(VIRTIO_INPUT_SERIAL));
    assert_memory_equal(u, VIRTIO_INPUT_SERIAL, strlen(VIRTIO_INPUT_SERIAL));

    /* devids as virtio_cread reads them: 16-bit fields */
    cfg_select(f, VIRTIO_INPUT_CFG_ID_DEVIDS, 0);
    assert_int_equal(cfg_size(f), 8);
    assert_int_equal(rd_config(&f->d, VIRTIO_INPUT_CFG_U + 0, 2), VIRTIO_INPUT_BUSTYPE);
    assert_int_equal(rd_config(&f->d, VIRTIO_INPUT_CFG_U + 2, 2), VIRTIO_INPUT_VENDOR);
    assert_int_equal(rd_config(&f->d, VIRTIO_INPUT_CFG_U + 4, 2), VIRTIO_INPUT_PRODUCT);
    assert_int_equal(rd_config(&f->d, VIRTIO_INPUT_CFG_U + 6, 2), VIRTIO_INPUT_VERSION);
    /* and as one 32-bit read */
    assert_int_equal(rd_config(&f->d, VIRTIO_INPUT_CFG_U, 4),
                     VIRTIO_INPUT_BUSTYPE | ((uint32_t)VIRTIO_INPUT_VENDOR << 16));

    /* strings and ids exist only for subsel 0 */
    cfg_select(f, VIRTIO_INPUT_CFG_ID_NAME, 1);
    assert_int_equal(cfg_size(f), 0);
    cfg_select(f, VIRTIO_INPUT_CFG_ID_DEVIDS, 7);
    assert_int_equal(cfg_size(f), 0);
}

static void test_config_bits(void **state)
{
    struct fx *f = *state;
    uint8_t u[VIRTIO_INPUT_CFG_U_LEN];

    /* EV_KEY: exactly the four keys, the bitmap as long as the highest */
    cfg_select(f, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY);
    unsigned size = cfg_size(f);
    assert_int_equal(size, KEY_POWER / 8 + 1);
    memset(u, 0xaa, sizeof(u));
    cfg_bytes(f, u, sizeof(u));
    unsigned nset = 0;
    for (unsigned bit = 0; bit < 8 * sizeof(u); bit++) {
        if (!(u[bit / 8] & (1u << (bit % 8))))
            continue;
        nset++;
        assert_true(bit == KEY_POWER || bit == KEY_LEFTCTRL || bit == KEY_LEFTALT ||
                    bit == KEY_DELETE);
    }
    assert_int_equal(nset, 4);

    /* EV_SYN: SYN_REPORT */
    cfg_select(f, VIRTIO_INPUT_CFG_EV_BITS, EV_SYN);
    assert_int_equal(cfg_size(f), 1);
    assert_int_equal(rd_config(&f->d, VIRTIO_INPUT_CFG_U, 1), 1u << SYN_REPORT);

    /* nothing else: no autorepeat, no axes, no LEDs, no properties */
    static const uint8_t none[] = { EV_REL, EV_ABS, EV_MSC, EV_SW, EV_LED, EV_SND, EV_REP, 0xff };
    for (size_t i = 0; i < sizeof(none); i++) {
        cfg_select(f, VIRTIO_INPUT_CFG_EV_BITS, none[i]);
        assert_int_equal(cfg_size(f), 0);
        assert_int_equal(rd_config(&f->d, VIRTIO_INPUT_CFG_U, 4), 0);
    }
    cfg_select(f, VIRTIO_INPUT_CFG_PROP_BITS, 0);
    assert_int_equal(cfg_size(f), 0);
    cfg_select(f, VIRTIO_INPUT_CFG_ABS_INFO, 0);
    assert_int_equal(cfg_size(f), 0);
    cfg_select(f, VIRTIO_INPUT_CFG_UNSET, 0);
    assert_int_equal(cfg_size(f), 0);
    for (unsigned sel = 0x20; sel < 0x100; sel += 0x2f) {
        cfg_select(f, (uint8_t)sel, 0);
        assert_int_equal(cfg_size(f), 0);
    }
}

static void test_config_writes_and_bounds(void **state)
{
    struct fx *f = *state;
    /* one 16-bit write sets select and subsel together */
    virtio_mmio_ops.write(&f->in.mmio, VIRTIO_MMIO_CONFIG, 2,
                          VIRTIO_INPUT_CFG_EV_BITS | (EV_KEY << 8));
    assert_int_equal(rd_config(&f->d, 0, 2), VIRTIO_INPUT_CFG_EV_BITS | (EV_KEY << 8));
    assert_int_equal(cfg_size(f), KEY_POWER / 8 + 1);
    /* size and the union are read-only; a 32-bit write sets select and
     * subsel and nothing else */
    virtio_mmio_ops.write(&f->in.mmio, VIRTIO_MMIO_CONFIG + VIRTIO_INPUT_CFG_SIZE, 1, 99);
    virtio_mmio_ops.write(&f->in.mmio, VIRTIO_MMIO_CONFIG + VIRTIO_INPUT_CFG_U, 4, 0xffffffffu);
    assert_int_equal(cfg_size(f), KEY_POWER / 8 + 1);
    virtio_mmio_ops.write(&f->in.mmio, VIRTIO_MMIO_CONFIG, 4, 0x77660001u);
    assert_int_equal(rd_config(&f->d, 0, 1), VIRTIO_INPUT_CFG_ID_NAME);
    assert_int_equal(rd_config(&f->d, 1, 1), 0);
    assert_int_equal(cfg_size(f), strlen(VIRTIO_INPUT_NAME));
    /* beyond the 136 bytes: zero, no crash, at the edge and far away */
    assert_int_equal(rd_config(&f->d, VIRTIO_INPUT_CONFIG_LEN, 4), 0);
    assert_int_equal(rd_config(&f->d, VIRTIO_INPUT_CONFIG_LEN - 2, 4) >> 16, 0);
    assert_int_equal(rd_config(&f->d, 0xefc, 4), 0);
    virtio_mmio_ops.write(&f->in.mmio, VIRTIO_MMIO_CONFIG + 0xefc, 4, 0x12345678);
    assert_int_equal(rd_config(&f->d, 0, 1), VIRTIO_INPUT_CFG_ID_NAME);
}

/* --- events --- */

static void test_power_button(void **state)
{
    struct fx *f = *state;
    probe(f, QNUM);
    assert_true(virtio_input_driver_ready(&f->in));
    ack_all(&f->d);
    struct error err = ERROR_INIT;
    assert_int_equal(virtio_input_power_button(&f->in, &err), 0);
    assert_false(error_is_set(&err));
    expect_power_button(f);
    assert_int_equal(f->d.irq_level, 1);
    assert_int_equal(f->in.events_sent, 4);
    assert_false(needs_reset(&f->d));
}

static void test_ctrl_alt_del(void **state)
{
    struct fx *f = *state;
    probe(f, QNUM);
    assert_int_equal(virtio_input_ctrl_alt_del(&f->in, NULL), 0);
    expect_event(f, EV_KEY, KEY_LEFTCTRL, 1);
    expect_event(f, EV_KEY, KEY_LEFTALT, 1);
    expect_event(f, EV_KEY, KEY_DELETE, 1);
    expect_event(f, EV_SYN, SYN_REPORT, 0);
    expect_event(f, EV_KEY, KEY_DELETE, 0);
    expect_event(f, EV_KEY, KEY_LEFTALT, 0);
    expect_event(f, EV_KEY, KEY_LEFTCTRL, 0);
    expect_event(f, EV_SYN, SYN_REPORT, 0);
    expect_no_event(f);
}

/* Many presses in a row, the driver recycling its buffers as Linux does
 * (more presses than the queue has entries: the indices wrap). */
static void test_many_presses(void **state)
{
    struct fx *f = *state;
    tdrv_probe(&f->d, ACCEPT_ALL, 2, 8);
    post_events(f, 8);
    for (unsigned i = 0; i < 100; i++) {
        assert_int_equal(virtio_input_power_button(&f->in, NULL), 0);
        for (unsigned k = 0; k < 4; k++) {
            uint32_t id, len;
            assert_true(used_next(&f->d, EVQ, &id, &len));
            assert_int_equal(len, 8);
            const uint8_t *p = gp(&f->d, f->evbuf + 8ull * id, 8);
            assert_int_equal(le16_load(p), k % 2 ? EV_SYN : EV_KEY);
            struct tbuf b = { f->evbuf + 8ull * id, 8, true };
            set_desc(&f->d, f->d.q[EVQ].desc, id, b.addr, 8, VIRTQ_DESC_F_WRITE, 0);
            avail_add(&f->d, EVQ, (uint16_t)id);
        }
    }
    assert_int_equal(f->in.events_sent, 400);
}

/* An event may be split over two buffers of one chain (4 + 4 bytes). */
static void test_event_split_over_buffers(void **state)
{
    struct fx *f = *state;
    tdrv_probe(&f->d, ACCEPT_ALL, 2, QNUM);
    uint64_t a = galloc(&f->d, 4 * 8), b = galloc(&f->d, 4 * 8);
    for (unsigned i = 0; i < 4; i++) {
        struct tbuf c[] = { { a + 4ull * i, 4, true }, { b + 4ull * i, 4, true } };
        add_chain(&f->d, EVQ, c, 2);
    }
    assert_int_equal(virtio_input_power_button(&f->in, NULL), 0);
    uint32_t id, len;
    for (unsigned i = 0; i < 4; i++) {
        assert_true(used_next(&f->d, EVQ, &id, &len));
        assert_int_equal(len, 8);
    }
    /* first event: type EV_KEY, code KEY_POWER | value 1 */
    assert_int_equal(gr16(&f->d, a), EV_KEY);
    assert_int_equal(gr16(&f->d, a + 2), KEY_POWER);
    assert_int_equal(gr32(&f->d, b), 1);
}

/* A batch goes whole or not at all. */
static void test_all_or_nothing(void **state)
{
    struct fx *f = *state;
    probe(f, 5); /* Ctrl+Alt+Del needs 8 */
    uint16_t avail_before = gr16(&f->d, f->d.q[EVQ].avail + 2);
    struct error err = ERROR_INIT;
    assert_int_equal(virtio_input_ctrl_alt_del(&f->in, &err), -ENOSPC);
    assert_non_null(strstr(err.msg, "5 free event buffers, 8 needed"));
    expect_no_event(f);
    assert_int_equal(gr16(&f->d, f->d.q[EVQ].avail + 2), avail_before);
    assert_int_equal(f->in.events_sent, 0);
    assert_int_equal(f->in.batches_refused, 1);
    /* the power button (4 events) still fits */
    assert_int_equal(virtio_input_power_button(&f->in, NULL), 0);
    expect_power_button(f);
    /* one buffer left: neither fits; with 7 more both do, in order */
    assert_int_equal(virtio_input_power_button(&f->in, NULL), -ENOSPC);
    post_events(f, 7);
    assert_int_equal(virtio_input_ctrl_alt_del(&f->in, NULL), 0);
    expect_event(f, EV_KEY, KEY_LEFTCTRL, 1);
    for (unsigned i = 0; i < 7; i++)
        next_event(f);
    expect_no_event(f);
    assert_false(needs_reset(&f->d));
}

/* No driver, or a driver that is not (or no longer) set up: the caller
 * hears "not delivered" and nothing is touched. */
static void test_not_delivered_without_driver(void **state)
{
    struct fx *f = *state;
    struct error err = ERROR_INIT;
    assert_false(virtio_input_driver_ready(&f->in));
    assert_int_equal(virtio_input_power_button(&f->in, &err), -ENODEV);
    assert_non_null(strstr(err.msg, "no virtio-input driver"));
    assert_int_equal(virtio_input_ctrl_alt_del(&f->in, NULL), -ENODEV);

    /* features negotiated, queues set up, but no DRIVER_OK yet */
    assert_true(tdrv_negotiate(&f->d, ACCEPT_ALL) & VIRTIO_STATUS_FEATURES_OK);
    tdrv_setup_queue(&f->d, EVQ, QNUM);
    tdrv_setup_queue(&f->d, STQ, QNUM);
    post_events(f, QNUM);
    assert_int_equal(virtio_input_power_button(&f->in, NULL), -ENODEV);
    expect_no_event(f);

    /* DRIVER_OK with only the status queue ready */
    wr(&f->d, VIRTIO_MMIO_STATUS, 0);
    assert_true(tdrv_negotiate(&f->d, ACCEPT_ALL) & VIRTIO_STATUS_FEATURES_OK);
    tdrv_setup_queue(&f->d, STQ, QNUM);
    tdrv_driver_ok(&f->d);
    assert_int_equal(virtio_input_power_button(&f->in, NULL), -ENODEV);

    /* a working driver, then the driver resets the device (rmmod) */
    wr(&f->d, VIRTIO_MMIO_STATUS, 0);
    probe(f, QNUM);
    assert_int_equal(virtio_input_power_button(&f->in, NULL), 0);
    expect_power_button(f);
    wr(&f->d, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(virtio_input_power_button(&f->in, NULL), -ENODEV);

    /* the driver stops the event queue (QueueReady = 0) */
    probe(f, QNUM);
    wr(&f->d, VIRTIO_MMIO_QUEUE_SEL, EVQ);
    wr(&f->d, VIRTIO_MMIO_QUEUE_READY, 0);
    assert_int_equal(virtio_input_power_button(&f->in, NULL), -ENODEV);

    /* a VM reset */
    wr(&f->d, VIRTIO_MMIO_STATUS, 0);
    probe(f, QNUM);
    virtio_mmio_ops.reset(&f->in.mmio);
    assert_int_equal(virtio_input_power_button(&f->in, NULL), -ENODEV);

    /* caller mistakes */
    assert_int_equal(virtio_input_send(&f->in, NULL, 0, NULL), -EINVAL);
    struct virtio_input_event many[VIRTIO_INPUT_MAX_BATCH + 1] = { 0 };
    assert_int_equal(virtio_input_send(&f->in, many, VIRTIO_INPUT_MAX_BATCH + 1, NULL), -EINVAL);
    static const uint16_t a_key[] = { KEY_A };
    assert_int_equal(virtio_input_press_keys(&f->in, a_key, 1, NULL), -EINVAL);
    static const uint16_t five[] = { KEY_POWER, KEY_POWER, KEY_POWER, KEY_POWER, KEY_POWER };
    assert_int_equal(virtio_input_press_keys(&f->in, five, 5, NULL), -EINVAL);
}

/* --- hostile event queues: the device breaks, the host is fine, a reset
 * repairs it --- */

enum hostile {
    H_SHORT,       /* a 4-byte buffer */
    H_READABLE,    /* a device-readable buffer */
    H_MIXED,       /* readable + writable in one chain */
    H_LOOP,        /* a descriptor pointing at itself */
    H_OUTSIDE,     /* a buffer beyond the end of RAM */
    H_WRAP,        /* a buffer whose address + length wraps */
    H_AHEAD,       /* avail idx far ahead of the device */
    H_BAD_HEAD,    /* an avail entry naming descriptor >= num */
    H_LATE_SHORT,  /* good buffers, then a short one within the batch */
    H_COUNT,
};

static void make_hostile(struct fx *f, enum hostile h)
{
    struct tvq *v = &f->d.q[EVQ];
    uint64_t b = galloc(&f->d, 64);
    switch (h) {
    case H_SHORT: {
        struct tbuf c = { b, 4, true };
        add_chain(&f->d, EVQ, &c, 1);
        break;
    }
    case H_READABLE: {
        struct tbuf c = { b, 8, false };
        add_chain(&f->d, EVQ, &c, 1);
        break;
    }
    case H_MIXED: {
        struct tbuf c[] = { { b, 8, false }, { b + 8, 8, true } };
        add_chain(&f->d, EVQ, c, 2);
        break;
    }
    case H_LOOP:
        set_desc(&f->d, v->desc, 0, b, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
        avail_add(&f->d, EVQ, 0);
        break;
    case H_OUTSIDE:
        set_desc(&f->d, v->desc, 0, TRAM_BASE + TRAM_SIZE - 4, 8, VIRTQ_DESC_F_WRITE, 0);
        avail_add(&f->d, EVQ, 0);
        break;
    case H_WRAP:
        set_desc(&f->d, v->desc, 0, ~0ull - 3, 8, VIRTQ_DESC_F_WRITE, 0);
        avail_add(&f->d, EVQ, 0);
        break;
    case H_AHEAD:
        post_events(f, 1);
        gw16(&f->d, v->avail + 2, (uint16_t)(v->avail_idx + 1000));
        break;
    case H_BAD_HEAD:
        avail_add(&f->d, EVQ, (uint16_t)(QNUM + 5));
        break;
    case H_LATE_SHORT: {
        post_events(f, 2);
        struct tbuf c = { b, 7, true };
        add_chain(&f->d, EVQ, &c, 1);
        post_events(f, 5);
        break;
    }
    case H_COUNT:
        break;
    }
}

static void test_hostile_queues(void **state)
{
    struct fx *f = *state;
    for (unsigned h = 0; h < H_COUNT; h++) {
        wr(&f->d, VIRTIO_MMIO_STATUS, 0);
        tdrv_probe(&f->d, ACCEPT_ALL, 2, QNUM);
        memset(gp(&f->d, f->evbuf, 8 * QNUM), 0xee, 8 * QNUM);
        make_hostile(f, (enum hostile)h);
        uint64_t sent = f->in.events_sent;
        struct error err = ERROR_INIT;
        int r = virtio_input_ctrl_alt_del(&f->in, &err);
        if (r != -EIO)
            fail_msg("hostile layout %u: %d, want -EIO", h, r);
        assert_non_null(strstr(err.msg, "malformed"));
        assert_true(needs_reset(&f->d));
        /* the driver hears of it (configuration change interrupt) */
        assert_true(rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
        /* nothing was written: no events, no used entries */
        assert_int_equal(f->in.events_sent, sent);
        assert_int_equal(gr16(&f->d, f->d.q[EVQ].used + 2), 0);
        /* a broken device delivers nothing, and says why */
        assert_int_equal(virtio_input_power_button(&f->in, NULL), -ENODEV);
        /* a reset and a fresh probe repair it */
        wr(&f->d, VIRTIO_MMIO_STATUS, 0);
        probe(f, QNUM);
        assert_int_equal(virtio_input_power_button(&f->in, NULL), 0);
        expect_power_button(f);
    }
}

/* A ring that was fine for one press and is broken by the next: every
 * batch walks the ring afresh, so it is caught, and nothing of the batch
 * is written (the bad entry is the third of four). */
static void test_ring_broken_between_presses(void **state)
{
    struct fx *f = *state;
    probe(f, 0);
    post_events(f, 4);
    assert_int_equal(virtio_input_power_button(&f->in, NULL), 0);
    expect_power_button(f);
    post_events(f, 4);
    struct tvq *v = &f->d.q[EVQ];
    gw16(&f->d, v->avail + 4 + 2ull * ((v->avail_idx - 2) % v->num), 0xffff);
    assert_int_equal(virtio_input_power_button(&f->in, NULL), -EIO);
    expect_no_event(f);
    assert_true(needs_reset(&f->d));
}

/* --- the status queue --- */

static void test_status_queue(void **state)
{
    struct fx *f = *state;
    probe(f, QNUM);
    /* an LED event the device never asked for: taken, ignored, returned */
    uint64_t s = galloc(&f->d, 8);
    gw16(&f->d, s, EV_LED);
    gw16(&f->d, s + 2, 0);
    gw32(&f->d, s + 4, 1);
    struct tbuf c = { s, 8, false };
    uint16_t head = add_chain(&f->d, STQ, &c, 1);
    notify(&f->d, STQ);
    uint32_t id, len;
    assert_true(used_next(&f->d, STQ, &id, &len));
    assert_int_equal(id, head);
    assert_int_equal(len, 0);
    assert_false(needs_reset(&f->d));
    /* odd shapes too (a writable buffer, an empty chain member) */
    struct tbuf odd[] = { { s, 0, false }, { s, 8, true } };
    add_chain(&f->d, STQ, odd, 2);
    notify(&f->d, STQ);
    assert_true(used_next(&f->d, STQ, &id, &len));
    /* events still flow */
    assert_int_equal(virtio_input_power_button(&f->in, NULL), 0);
    expect_power_button(f);
}

/* --- save and load --- */

static void test_save_load(void **state)
{
    struct fx *f = *state;
    probe(f, QNUM);
    assert_int_equal(virtio_input_power_button(&f->in, NULL), 0);
    expect_power_button(f);
    cfg_select(f, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY);

    struct state_buf s;
    state_init_writer(&s);
    virtio_mmio_ops.save(&f->in.mmio, &s);
    assert_int_equal(s.err, 0);

    /* a second machine with the same RAM contents continues: the driver's
     * query and the event queue carry over */
    struct fx *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    tdrv_init_ram(&g->d);
    memcpy(g->d.ram.host, f->d.ram.host, TRAM_SIZE);
    virtio_input_init(&g->in, &g->d.ram, tdrv_irq_line(&g->d));
    g->d.t = &g->in.mmio;
    g->d.q[EVQ] = f->d.q[EVQ];
    g->evbuf = f->evbuf;
    struct state_buf r;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(virtio_mmio_ops.load(&g->in.mmio, &r), 0);
    assert_int_equal(cfg_size(g), KEY_POWER / 8 + 1);
    assert_true(virtio_input_driver_ready(&g->in));
    assert_int_equal(virtio_input_power_button(&g->in, NULL), 0);
    expect_power_button(g);

    /* every truncation is refused */
    for (size_t len = 0; len < s.len; len++) {
        state_init_reader(&r, s.data, len);
        if (virtio_mmio_ops.load(&g->in.mmio, &r) == 0)
            fail_msg("a stream truncated to %zu of %zu bytes was accepted", len, s.len);
    }
    /* an unknown version of the device's section is refused: it is three
     * bytes from the end (version, select, subsel) */
    uint8_t *bad = malloc(s.len);
    assert_non_null(bad);
    memcpy(bad, s.data, s.len);
    bad[s.len - 3] = 99;
    state_init_reader(&r, bad, s.len);
    assert_int_not_equal(virtio_mmio_ops.load(&g->in.mmio, &r), 0);
    free(bad);

    state_free(&s);
    tram_free(&g->d.ram);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_strings_and_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_writes_and_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_button, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctrl_alt_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_presses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_split_over_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_delivered_without_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_queues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_broken_between_presses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
