/* virtio-net through the real virtio-mmio transport: config space and
 * features, transmit (header stripped, chains of any shape, hostile
 * lengths), receive (header written, buffers too small, no buffers and
 * rx_ready), the bps= rate limit end to end over a switch, and an ARP
 * exchange with libslirp through the device. */
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

#include "condo/virtio_net.h"
#include "virtio_test_driver.h"

#define ACCEPT_ALL (~0ull)
#define QNUM 8

/* A backend that records what the device sends. */
struct fake {
    struct net_backend nb;
    uint8_t sent[16][2048];
    size_t sent_len[16];
    unsigned nsent;
    unsigned rx_ready_calls;
    int send_result;
};

static int fake_send(struct net_backend *nb, const struct iovec *iov, int n)
{
    struct fake *f = (struct fake *)nb;
    if (f->send_result)
        return f->send_result;
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    if (f->nsent < 16 && len <= 2048) {
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            memcpy(f->sent[f->nsent] + off, iov[i].iov_base, iov[i].iov_len);
            off += iov[i].iov_len;
        }
        f->sent_len[f->nsent] = len;
    }
    f->nsent++;
    return 0;
}

static void fake_rx_ready(struct net_backend *nb)
{
    ((struct fake *)nb)->rx_ready_calls++;
}

static void fake_close(struct net_backend *nb)
{
    (void)nb;
}

static const struct net_backend_ops fake_ops = {
    .name = "fake",
    .send = fake_send,
    .rx_ready = fake_rx_ready,
    .close = fake_close,
};

struct fx {
    struct tdrv d;
    struct fake fake;
    struct virtio_net vn;
};

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tdrv_init_ram(&f->d);
    f->fake.nb.ops = &fake_ops;
    memcpy(f->fake.nb.mac, MAC, 6);
    virtio_net_init(&f->vn, &f->fake.nb, &f->d.ram, tdrv_irq_line(&f->d));
    f->d.t = &f->vn.mmio;
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

static void probe(struct fx *f)
{
    uint64_t accept = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
                      (1ull << VIRTIO_F_VERSION_1);
    tdrv_probe(&f->d, accept, 2, QNUM);
}

#define OFFLOADS                                                                        \
    ((1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |                   \
     (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |               \
     (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6))

static void probe_features(struct fx *f, uint64_t extra)
{
    uint64_t accept = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
                      (1ull << VIRTIO_F_VERSION_1) | extra;
    tdrv_probe(&f->d, accept, 2, QNUM);
}

/* Ethernet + IPv4 + TCP + payload at p, with a guest's partial checksum
 * (pseudo header sum) and the matching GSO header at hdr. */
static size_t build_tso4(uint8_t *hdr, uint8_t *p, size_t payload, uint16_t mss)
{
    memset(p, 0, 54);
    memcpy(p, MAC, 6);
    memcpy(p + 6, "\x52\x54\x00\x99\x99\x99", 6);
    p[12] = 0x08;
    p[14] = 0x45;
    size_t tot = 20 + 20 + payload;
    p[16] = (uint8_t)(tot >> 8), p[17] = (uint8_t)tot;
    p[22] = 64, p[23] = 6;
    memcpy(p + 26, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
    p[34] = 0x9c, p[36] = 0x14, p[37] = 0x51; /* ports */
    p[46] = 0x50, p[47] = 0x18;               /* doff 5, PSH ACK */
    for (size_t i = 0; i < payload; i++)
        p[54 + i] = (uint8_t)(i * 13 + 1);
    uint16_t ipc = net_csum_finish(net_csum_add(0, p + 14, 20));
    p[24] = (uint8_t)(ipc >> 8), p[25] = (uint8_t)ipc;
    uint32_t ps = net_csum_add(0, p + 26, 8) + 6 + (uint32_t)(20 + payload);
    uint16_t part = (uint16_t)~net_csum_finish(ps);
    p[50] = (uint8_t)(part >> 8), p[51] = (uint8_t)part;
    struct net_vhdr h = { NET_VHDR_F_NEEDS_CSUM, mss ? NET_VHDR_GSO_TCPV4 : 0, mss ? 54 : 0,
                          mss, 34, 16 };
    memset(hdr, 0, VIRTIO_NET_HDR_LEN);
    net_vhdr_store(&h, hdr);
    return 54 + payload;
}

/* Is this an IPv4/TCP frame whose IP and TCP checksums hold? */
static bool tcp4_valid(const uint8_t *p, size_t len)
{
    if (net_csum_finish(net_csum_add(0, p + 14, 20)) != 0)
        return false;
    size_t tcplen = len - 34;
    uint32_t s = net_csum_add(0, p + 26, 8) + 6 + (uint32_t)tcplen;
    return net_csum_finish(net_csum_add(s, p + 34, tcplen)) == 0;
}

static void fill_frame(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

static void test_config_and_features(void **state)
{
    struct fx *f = *state;
    assert_int_equal(rd(&f->d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
    uint64_t feat = device_features(&f->d);
    assert_true(feat & (1ull << VIRTIO_NET_F_MAC));
    assert_true(feat & (1ull << VIRTIO_NET_F_STATUS));
    assert_true(feat & (1ull << VIRTIO_F_VERSION_1));
    /* the offloads (docs/NETWORK.md) */
    static const unsigned offl[] = {
        VIRTIO_NET_F_CSUM,       VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_HOST_TSO4,
        VIRTIO_NET_F_HOST_TSO6,  VIRTIO_NET_F_HOST_ECN,   VIRTIO_NET_F_GUEST_TSO4,
        VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN,  VIRTIO_NET_F_MRG_RXBUF,
    };
    for (size_t i = 0; i < sizeof(offl) / sizeof(offl[0]); i++)
        assert_true(feat & (1ull << offl[i]));
    /* never UFO: nothing here segments UDP */
    assert_false(feat & (1ull << VIRTIO_NET_F_HOST_UFO));
    assert_false(feat & (1ull << VIRTIO_NET_F_GUEST_UFO));
    for (int i = 0; i < 6; i++)
        assert_int_equal(rd_config(&f->d, i, 1), MAC[i]);
    assert_int_equal(rd_config(&f->d, 6, 2), VIRTIO_NET_S_LINK_UP);
    assert_int_equal(rd_config(&f->d, 0, 4), 0x12005452u);
    /* beyond the config space: zero, no crash */
    assert_int_equal(rd_config(&f->d, 8, 2), 1);    /* max_virtqueue_pairs */
    assert_int_equal(rd_config(&f->d, 10, 2), 1500); /* mtu (no F_MTU: a plain link) */
    assert_int_equal(rd_config(&f->d, 12, 4), 0);
    assert_int_equal(rd_config(&f->d, 0xef0, 4), 0);
    /* read-only */
    virtio_mmio_ops.write(&f->vn.mmio, VIRTIO_MMIO_CONFIG, 1, 0xff);
    assert_int_equal(rd_config(&f->d, 0, 1), 0x52);
}

static void test_tx(void **state)
{
    struct fx *f = *state;
    probe(f);
    /* header and frame in one buffer */
    uint64_t b1 = galloc(&f->d, VIRTIO_NET_HDR_LEN + 60);
    fill_frame(gp(&f->d, b1 + VIRTIO_NET_HDR_LEN, 60), 60, 1);
    struct tbuf c1[] = { { b1, VIRTIO_NET_HDR_LEN + 60, false } };
    uint16_t h1 = add_chain(&f->d, VIRTIO_NET_TXQ, c1, 1);
    /* header split across buffers, frame in three pieces */
    uint64_t b2 = galloc(&f->d, 100);
    fill_frame(gp(&f->d, b2 + VIRTIO_NET_HDR_LEN, 80), 80, 9);
    struct tbuf c2[] = {
        { b2, 5, false },
        { b2 + 5, VIRTIO_NET_HDR_LEN - 5 + 10, false },
        { b2 + VIRTIO_NET_HDR_LEN + 10, 1, false },
        { b2 + VIRTIO_NET_HDR_LEN + 11, 69, false },
    };
    uint16_t h2 = add_chain(&f->d, VIRTIO_NET_TXQ, c2, 4);
    notify(&f->d, VIRTIO_NET_TXQ);

    assert_int_equal(f->fake.nsent, 2);
    assert_int_equal(f->fake.sent_len[0], 60);
    assert_memory_equal(f->fake.sent[0], gp(&f->d, b1 + VIRTIO_NET_HDR_LEN, 60), 60);
    assert_int_equal(f->fake.sent_len[1], 80);
    assert_memory_equal(f->fake.sent[1], gp(&f->d, b2 + VIRTIO_NET_HDR_LEN, 80), 80);
    uint32_t id, len;
    assert_true(used_next(&f->d, VIRTIO_NET_TXQ, &id, &len));
    assert_int_equal(id, h1);
    assert_int_equal(len, 0);
    assert_true(used_next(&f->d, VIRTIO_NET_TXQ, &id, &len));
    assert_int_equal(id, h2);
    assert_false(used_next(&f->d, VIRTIO_NET_TXQ, &id, &len));
    assert_int_equal(f->d.irq_level, 1);
    assert_int_equal(f->vn.tx_frames, 2);
}

static void test_tx_hostile_lengths(void **state)
{
    struct fx *f = *state;
    probe(f);
    /* shorter than the header */
    uint64_t b = galloc(&f->d, 16);
    struct tbuf c1[] = { { b, 8, false } };
    add_chain(&f->d, VIRTIO_NET_TXQ, c1, 1);
    /* a header and a runt (less than an Ethernet header) */
    struct tbuf c2[] = { { b, VIRTIO_NET_HDR_LEN + 3, false } };
    add_chain(&f->d, VIRTIO_NET_TXQ, c2, 1);
    /* a frame over 65535 bytes */
    uint64_t big = galloc(&f->d, 70000);
    struct tbuf c3[] = { { big, 70000, false } };
    add_chain(&f->d, VIRTIO_NET_TXQ, c3, 1);
    /* only device-writable buffers */
    struct tbuf c4[] = { { b, 16, true } };
    add_chain(&f->d, VIRTIO_NET_TXQ, c4, 1);
    /* then a good one */
    uint64_t g = galloc(&f->d, VIRTIO_NET_HDR_LEN + 64);
    struct tbuf c5[] = { { g, VIRTIO_NET_HDR_LEN + 64, false } };
    add_chain(&f->d, VIRTIO_NET_TXQ, c5, 1);
    notify(&f->d, VIRTIO_NET_TXQ);

    assert_int_equal(f->fake.nsent, 1);
    assert_int_equal(f->fake.sent_len[0], 64);
    assert_int_equal(f->vn.tx_dropped, 4);
    /* every chain was handed back, the device still works */
    uint32_t id, len;
    for (int i = 0; i < 5; i++)
        assert_true(used_next(&f->d, VIRTIO_NET_TXQ, &id, &len));
    assert_false(needs_reset(&f->d));
}

static void test_tx_backend_error_drops(void **state)
{
    struct fx *f = *state;
    probe(f);
    f->fake.send_result = -ENOBUFS;
    uint64_t g = galloc(&f->d, VIRTIO_NET_HDR_LEN + 64);
    struct tbuf c[] = { { g, VIRTIO_NET_HDR_LEN + 64, false } };
    add_chain(&f->d, VIRTIO_NET_TXQ, c, 1);
    notify(&f->d, VIRTIO_NET_TXQ);
    uint32_t id, len;
    assert_true(used_next(&f->d, VIRTIO_NET_TXQ, &id, &len));
    assert_int_equal(f->vn.tx_dropped, 1);
}

/* The guest hands over a 3000-byte TCP segment with a partial checksum;
 * a backend without send_vhdr gets three wire frames, checksums done. */
static void test_tx_tso_segmented(void **state)
{
    struct fx *f = *state;
    probe_features(f, OFFLOADS);
    uint64_t b = galloc(&f->d, VIRTIO_NET_HDR_LEN + 54 + 3000);
    size_t len = build_tso4(gp(&f->d, b, 12), gp(&f->d, b + 12, 54 + 3000), 3000, 1200);
    struct tbuf c[] = { { b, VIRTIO_NET_HDR_LEN + 30, false },
                        { b + VIRTIO_NET_HDR_LEN + 30, len - 30, false } };
    add_chain(&f->d, VIRTIO_NET_TXQ, c, 2);
    /* and one with only NEEDS_CSUM */
    uint64_t b2 = galloc(&f->d, VIRTIO_NET_HDR_LEN + 54 + 101);
    size_t len2 = build_tso4(gp(&f->d, b2, 12), gp(&f->d, b2 + 12, 54 + 101), 101, 0);
    struct tbuf c2[] = { { b2, VIRTIO_NET_HDR_LEN + len2, false } };
    add_chain(&f->d, VIRTIO_NET_TXQ, c2, 1);
    notify(&f->d, VIRTIO_NET_TXQ);
    assert_int_equal(f->fake.nsent, 4);
    size_t want[] = { 54 + 1200, 54 + 1200, 54 + 600, 54 + 101 };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(f->fake.sent_len[i], want[i]);
        assert_true(tcp4_valid(f->fake.sent[i], f->fake.sent_len[i]));
    }
    assert_int_equal(f->fake.sent[0][47], 0x10); /* PSH on the last one only */
    assert_int_equal(f->fake.sent[2][47], 0x18);
    assert_int_equal(f->vn.tx_frames, 2);
    assert_int_equal(f->vn.tx_gso, 1);
    assert_int_equal(f->fake.nb.tx_segmented, 1);
    assert_int_equal(f->fake.nb.tx_csummed, 1);
    assert_int_equal(f->vn.tx_bad_hdr, 0);
}

/* Hostile offload headers: dropped and counted like any bad chain, the
 * queue keeps working, nothing reaches the backend. */
static void test_tx_hostile_offload_headers(void **state)
{
    struct fx *f = *state;
    probe_features(f, OFFLOADS);
    struct net_vhdr bad[] = {
        { NET_VHDR_F_NEEDS_CSUM, NET_VHDR_GSO_TCPV4, 54, 0, 34, 16 },      /* gso_size 0 */
        { NET_VHDR_F_NEEDS_CSUM, NET_VHDR_GSO_TCPV4, 9000, 1000, 34, 16 }, /* hdr_len */
        { NET_VHDR_F_NEEDS_CSUM, 0, 0, 0, 34, 2020 },                      /* csum_offset */
        { NET_VHDR_F_NEEDS_CSUM, 0, 0, 0, 60000, 16 },                     /* csum_start */
        { NET_VHDR_F_NEEDS_CSUM, NET_VHDR_GSO_TCPV6, 54, 1000, 34, 16 },   /* not IPv6 */
        { NET_VHDR_F_NEEDS_CSUM, NET_VHDR_GSO_TCPV4 | NET_VHDR_GSO_ECN, 54, 1000, 34, 16 },
        { NET_VHDR_F_NEEDS_CSUM, NET_VHDR_GSO_UDP, 54, 1000, 34, 16 },
        { NET_VHDR_F_DATA_VALID, 0, 0, 0, 0, 0 },
    };
    unsigned n = sizeof(bad) / sizeof(bad[0]);
    for (unsigned i = 0; i < n; i++) {
        uint64_t b = galloc(&f->d, VIRTIO_NET_HDR_LEN + 54 + 2000);
        size_t len = build_tso4(gp(&f->d, b, 12), gp(&f->d, b + 12, 54 + 2000), 2000, 1000);
        net_vhdr_store(&bad[i], gp(&f->d, b, NET_VHDR_LEN)); /* ECN not negotiated */
        struct tbuf c[] = { { b, VIRTIO_NET_HDR_LEN + len, false } };
        add_chain(&f->d, VIRTIO_NET_TXQ, c, 1);
    }
    notify(&f->d, VIRTIO_NET_TXQ);
    assert_int_equal(f->fake.nsent, 0);
    assert_int_equal(f->vn.tx_bad_hdr, n);
    assert_int_equal(f->vn.tx_dropped, n);
    uint32_t id, len;
    for (unsigned i = 0; i < n; i++)
        assert_true(used_next(&f->d, VIRTIO_NET_TXQ, &id, &len));
    assert_false(needs_reset(&f->d));
}

/* A driver that did not negotiate CSUM/TSO may not use them. */
static void test_tx_offload_not_negotiated(void **state)
{
    struct fx *f = *state;
    probe(f);
    uint64_t b = galloc(&f->d, VIRTIO_NET_HDR_LEN + 54 + 2000);
    size_t len = build_tso4(gp(&f->d, b, 12), gp(&f->d, b + 12, 54 + 2000), 2000, 1000);
    struct tbuf c[] = { { b, VIRTIO_NET_HDR_LEN + len, false } };
    add_chain(&f->d, VIRTIO_NET_TXQ, c, 1);
    notify(&f->d, VIRTIO_NET_TXQ);
    assert_int_equal(f->fake.nsent, 0);
    assert_int_equal(f->vn.tx_bad_hdr, 1);
}

/* MRG_RXBUF: a frame spreads over three small buffers, published
 * together, num_buffers = 3; GUEST_CSUM passes slirp's DATA_VALID. */
static void test_rx_mergeable(void **state)
{
    struct fx *f = *state;
    struct net_backend *nb = &f->fake.nb;
    probe_features(f, OFFLOADS | (1ull << VIRTIO_NET_F_MRG_RXBUF));
    uint64_t rb[3];
    uint16_t h[3];
    for (int i = 0; i < 3; i++) {
        rb[i] = galloc(&f->d, 600);
        struct tbuf c[] = { { rb[i], 600, true } };
        h[i] = add_chain(&f->d, VIRTIO_NET_RXQ, c, 1);
    }
    notify(&f->d, VIRTIO_NET_RXQ);
    assert_true(net_backend_can_deliver(nb));
    uint8_t frame[1514];
    fill_frame(frame, sizeof(frame), 5);
    struct net_vhdr valid = { .flags = NET_VHDR_F_DATA_VALID };
    net_backend_deliver_vhdr(nb, &valid, frame, sizeof(frame));
    uint32_t id, len;
    size_t want[] = { 600, 600, VIRTIO_NET_HDR_LEN + 1514 - 1200 };
    for (int i = 0; i < 3; i++) {
        assert_true(used_next(&f->d, VIRTIO_NET_RXQ, &id, &len));
        assert_int_equal(id, h[i]);
        assert_int_equal(len, want[i]);
    }
    uint8_t *p0 = gp(&f->d, rb[0], 600);
    assert_int_equal(p0[0], NET_VHDR_F_DATA_VALID);
    assert_int_equal(le16_load(p0 + 10), 3); /* num_buffers */
    assert_memory_equal(p0 + VIRTIO_NET_HDR_LEN, frame, 600 - VIRTIO_NET_HDR_LEN);
    assert_memory_equal(gp(&f->d, rb[1], 600), frame + 588, 600);
    assert_memory_equal(gp(&f->d, rb[2], 326), frame + 1188, 326);
    assert_int_equal(f->vn.rx_merged, 1);
    /* no buffers left: a frame that does not fit is dropped, none taken */
    net_backend_deliver(nb, frame, 100);
    assert_int_equal(f->vn.rx_dropped, 1);
}

/* Two buffers that together are too small: given back, frame dropped. */
static void test_rx_mergeable_too_small(void **state)
{
    struct fx *f = *state;
    struct net_backend *nb = &f->fake.nb;
    probe_features(f, (1ull << VIRTIO_NET_F_MRG_RXBUF));
    for (int i = 0; i < 2; i++) {
        uint64_t rb = galloc(&f->d, 300);
        struct tbuf c[] = { { rb, 300, true } };
        add_chain(&f->d, VIRTIO_NET_RXQ, c, 1);
    }
    notify(&f->d, VIRTIO_NET_RXQ);
    uint8_t frame[1000];
    fill_frame(frame, sizeof(frame), 5);
    struct net_vhdr valid = { .flags = NET_VHDR_F_DATA_VALID };
    net_backend_deliver_vhdr(nb, &valid, frame, sizeof(frame));
    uint32_t id, len;
    assert_false(used_next(&f->d, VIRTIO_NET_RXQ, &id, &len));
    assert_int_equal(f->vn.rx_dropped, 1);
    /* the buffers are still there for a frame that fits; without
     * GUEST_CSUM the DATA_VALID flag is not passed on */
    net_backend_deliver_vhdr(nb, &valid, frame, 400);
    assert_true(used_next(&f->d, VIRTIO_NET_RXQ, &id, &len));
    assert_true(used_next(&f->d, VIRTIO_NET_RXQ, &id, &len));
    assert_int_equal(f->vn.rx_frames, 1);
}

static void test_rx(void **state)
{
    struct fx *f = *state;
    struct net_backend *nb = &f->fake.nb;
    /* before the driver is ready: nothing can be delivered */
    assert_false(net_backend_can_deliver(nb));
    probe(f);
    assert_false(net_backend_can_deliver(nb)); /* no buffers yet */
    uint64_t rb = galloc(&f->d, 1526);
    memset(gp(&f->d, rb, 1526), 0xee, 1526);
    struct tbuf c[] = { { rb, 1526, true } };
    uint16_t h = add_chain(&f->d, VIRTIO_NET_RXQ, c, 1);
    unsigned calls = f->fake.rx_ready_calls;
    notify(&f->d, VIRTIO_NET_RXQ);
    assert_int_equal(f->fake.rx_ready_calls, calls + 1); /* the backend was waiting */
    assert_true(net_backend_can_deliver(nb));
    assert_true(net_backend_can_deliver(nb)); /* asking twice takes nothing */

    uint8_t frame[1514];
    fill_frame(frame, sizeof(frame), 3);
    net_backend_deliver(nb, frame, sizeof(frame));
    uint32_t id, len;
    assert_true(used_next(&f->d, VIRTIO_NET_RXQ, &id, &len));
    assert_int_equal(id, h);
    assert_int_equal(len, VIRTIO_NET_HDR_LEN + sizeof(frame));
    uint8_t *p = gp(&f->d, rb, 1526);
    for (int i = 0; i < 10; i++)
        assert_int_equal(p[i], 0); /* flags, gso_type, hdr_len, gso_size, csum_* */
    assert_int_equal(le16_load(p + 10), 1); /* num_buffers */
    assert_memory_equal(p + VIRTIO_NET_HDR_LEN, frame, sizeof(frame));
    assert_int_equal(f->d.irq_level, 1);
    assert_int_equal(f->vn.rx_frames, 1);

    /* the buffer is used up: nothing more can be taken */
    assert_false(net_backend_can_deliver(nb));
    net_backend_deliver(nb, frame, 60); /* a backend that did not ask */
    assert_int_equal(f->vn.rx_dropped, 1);
    assert_false(used_next(&f->d, VIRTIO_NET_RXQ, &id, &len));
}

static void test_rx_small_buffers(void **state)
{
    struct fx *f = *state;
    struct net_backend *nb = &f->fake.nb;
    probe(f);
    /* header in its own buffer, 100 bytes of data after it */
    uint64_t hb = galloc(&f->d, VIRTIO_NET_HDR_LEN);
    uint64_t db = galloc(&f->d, 100);
    struct tbuf c[] = { { hb, VIRTIO_NET_HDR_LEN, true }, { db, 100, true } };
    uint16_t h = add_chain(&f->d, VIRTIO_NET_RXQ, c, 2);
    notify(&f->d, VIRTIO_NET_RXQ);
    uint8_t frame[200];
    fill_frame(frame, sizeof(frame), 5);
    assert_true(net_backend_can_deliver(nb));
    net_backend_deliver(nb, frame, 200); /* does not fit: dropped */
    uint32_t id, len;
    assert_false(used_next(&f->d, VIRTIO_NET_RXQ, &id, &len));
    assert_int_equal(f->vn.rx_dropped, 1);
    assert_true(net_backend_can_deliver(nb)); /* the buffer is still there */
    net_backend_deliver(nb, frame, 100);      /* fits exactly */
    assert_true(used_next(&f->d, VIRTIO_NET_RXQ, &id, &len));
    assert_int_equal(id, h);
    assert_int_equal(len, VIRTIO_NET_HDR_LEN + 100);
    assert_int_equal(gr16(&f->d, hb + 10), 1);
    assert_memory_equal(gp(&f->d, db, 100), frame, 100);

    /* a buffer that cannot even hold the header is handed back empty so
     * that the buffers behind it are used */
    uint64_t tiny = galloc(&f->d, 8);
    struct tbuf t1[] = { { tiny, 8, true } };
    add_chain(&f->d, VIRTIO_NET_RXQ, t1, 1);
    uint64_t ok = galloc(&f->d, 1526);
    struct tbuf t2[] = { { ok, 1526, true } };
    uint16_t hok = add_chain(&f->d, VIRTIO_NET_RXQ, t2, 1);
    notify(&f->d, VIRTIO_NET_RXQ);
    assert_true(net_backend_can_deliver(nb));
    net_backend_deliver(nb, frame, 60);
    assert_true(used_next(&f->d, VIRTIO_NET_RXQ, &id, &len));
    assert_int_equal(len, 0);
    assert_true(net_backend_can_deliver(nb));
    net_backend_deliver(nb, frame, 60);
    assert_true(used_next(&f->d, VIRTIO_NET_RXQ, &id, &len));
    assert_int_equal(id, hok);
    assert_int_equal(len, VIRTIO_NET_HDR_LEN + 60);
    assert_false(needs_reset(&f->d));
}

static void test_rx_broken_queue(void **state)
{
    struct fx *f = *state;
    struct net_backend *nb = &f->fake.nb;
    probe(f);
    /* a buffer outside guest RAM: the device is marked broken, the backend
     * is told no, nothing is written */
    struct tbuf c[] = { { TRAM_BASE + TRAM_SIZE - 4, 64, true } };
    add_chain(&f->d, VIRTIO_NET_RXQ, c, 1);
    notify(&f->d, VIRTIO_NET_RXQ);
    assert_false(net_backend_can_deliver(nb));
    assert_true(needs_reset(&f->d));
    uint8_t frame[60] = { 0 };
    net_backend_deliver(nb, frame, sizeof(frame));
    assert_int_equal(f->vn.rx_frames, 0);
    /* a reset brings it back */
    probe(f);
    assert_false(needs_reset(&f->d));
}

static void test_reset_mid_io(void **state)
{
    struct fx *f = *state;
    struct net_backend *nb = &f->fake.nb;
    probe(f);
    uint64_t rb = galloc(&f->d, 1526);
    struct tbuf c[] = { { rb, 1526, true } };
    add_chain(&f->d, VIRTIO_NET_RXQ, c, 1);
    notify(&f->d, VIRTIO_NET_RXQ);
    assert_true(net_backend_can_deliver(nb));
    wr(&f->d, VIRTIO_MMIO_STATUS, 0); /* reset between "may I" and delivery */
    uint8_t frame[60] = { 0 };
    net_backend_deliver(nb, frame, sizeof(frame));
    assert_int_equal(f->vn.rx_frames, 0);
    assert_false(net_backend_can_deliver(nb));
}

static void test_save_load(void **state)
{
    struct fx *f = *state;
    probe(f);
    struct state_buf s;
    state_init_writer(&s);
    virtio_mmio_ops.save(&f->vn.mmio, &s);
    assert_int_equal(s.err, 0);

    struct fx *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    tdrv_init_ram(&g->d);
    g->fake.nb.ops = &fake_ops;
    memset(g->fake.nb.mac, 0x02, 6); /* another MAC: the saved one wins */
    virtio_net_init(&g->vn, &g->fake.nb, &g->d.ram, tdrv_irq_line(&g->d));
    g->d.t = &g->vn.mmio;
    struct state_buf r;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(virtio_mmio_ops.load(&g->vn.mmio, &r), 0);
    assert_memory_equal(g->vn.mac, MAC, 6);
    /* a truncated stream is refused */
    state_init_reader(&r, s.data, s.len - 3);
    assert_int_not_equal(virtio_mmio_ops.load(&g->vn.mmio, &r), 0);
    state_free(&s);
    tram_free(&g->d.ram);
    free(g);
}

/* --- with real backends --- */

struct recorder {
    unsigned frames;
    size_t bytes;
    uint8_t last[2048];
    size_t last_len;
};

static bool rec_can(void *opaque)
{
    (void)opaque;
    return true;
}

static void rec_receive(void *opaque, const struct net_vhdr *h, const uint8_t *frame, size_t len)
{
    struct recorder *r = opaque;
    r->frames++;
    r->bytes += len;
    r->last_len = len < sizeof(r->last) ? len : sizeof(r->last);
    memcpy(r->last, frame, r->last_len);
}

/* The rate limits run on a fake clock only the test moves: what may pass
 * at which instant is exact, whatever the machine's speed. */
static uint64_t fake_clock(void *opaque)
{
    return *(const uint64_t *)opaque;
}

/* Let the event loop carry what is already in flight (frames written to a
 * switch socket are queued at once, so a few rounds suffice); the bound
 * only guards against a hang and is no statement about time. */
static void settle(struct event_loop *loop)
{
    for (int i = 0; i < 20; i++)
        event_loop_poll(loop, 0);
}

static void wait_frames(struct event_loop *loop, const struct recorder *rec, unsigned n)
{
    for (int i = 0; i < 2000 && rec->frames < n; i++)
        event_loop_poll(loop, 10);
    settle(loop);
}

static char tmpdir[64];

static void use_private_runtime_dir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/condo-vnet-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    setenv("XDG_RUNTIME_DIR", tmpdir, 1);
}

static void remove_runtime_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* The guest sends 6 frames of 1000 bytes with bps=3000: the first three
 * pass at once (the bucket starts full), each further one exactly when the
 * bucket holds 1000 tokens again (333.33 ms at 3000 B/s) and not a
 * nanosecond before; the device waits (its queue keeps the frames) rather
 * than dropping them. */
static void test_tx_rate_limit(void **state)
{
    (void)state;
    use_private_runtime_dir();
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *a, *b;
    assert_int_equal(net_backend_open("switch,name=rl,bps=3000", &loop, &a), 0);
    assert_int_equal(net_backend_open("switch,name=rl", &loop, &b), 0);
    uint64_t now = 1000000000ull;
    rate_limit_set_clock(&a->tx_rl, fake_clock, &now);
    rate_limit_set_clock(&a->rx_rl, fake_clock, &now);
    struct recorder rec = { 0 };
    struct net_peer p = { rec_can, rec_receive, NULL, &rec };
    net_backend_set_peer(b, &p);

    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tdrv_init_ram(&f->d);
    virtio_net_init(&f->vn, a, &f->d.ram, tdrv_irq_line(&f->d));
    f->d.t = &f->vn.mmio;
    probe(f);
    for (int i = 0; i < 6; i++) {
        uint64_t g = galloc(&f->d, VIRTIO_NET_HDR_LEN + 1000);
        uint8_t *fr = gp(&f->d, g + VIRTIO_NET_HDR_LEN, 1000);
        memset(fr, 0xff, 6); /* broadcast: flooded to b */
        memcpy(fr + 6, MAC, 6);
        fr[12] = (uint8_t)i;
        struct tbuf c[] = { { g, VIRTIO_NET_HDR_LEN + 1000, false } };
        add_chain(&f->d, VIRTIO_NET_TXQ, c, 1);
    }
    notify(&f->d, VIRTIO_NET_TXQ);
    wait_frames(&loop, &rec, 3);
    assert_int_equal(f->vn.tx_frames, 3);
    assert_int_equal(rec.frames, 3);
    assert_false(net_backend_can_send(a));
    for (unsigned sent = 4; sent <= 6; sent++) {
        uint64_t wait = rate_limit_wait_ns(&a->tx_rl, 1000);
        /* 1000 tokens at 3000 per second, less any fraction left over */
        assert_true(wait >= 333333333ull && wait <= 333333334ull);
        now += wait - 1;
        settle(&loop);
        assert_int_equal(f->vn.tx_frames, sent - 1); /* 1 ns early: still waiting */
        now += 1;
        settle(&loop);
        assert_int_equal(f->vn.tx_frames, sent);
        wait_frames(&loop, &rec, sent);
        assert_int_equal(rec.frames, sent);
        assert_int_equal(rec.last[12], sent - 1); /* in order */
    }
    assert_int_equal(f->vn.tx_dropped, 0);
    uint32_t id, len;
    for (int i = 0; i < 6; i++)
        assert_true(used_next(&f->d, VIRTIO_NET_TXQ, &id, &len));

    tram_free(&f->d.ram);
    free(f);
    net_backend_close(a);
    net_backend_close(b);
    remove_runtime_dir();
}

/* Receiving side of the limit: frames wait (held, then in the socket) and
 * are delivered exactly when the bucket allows, none lost. */
static void test_rx_rate_limit(void **state)
{
    (void)state;
    use_private_runtime_dir();
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *a, *b;
    assert_int_equal(net_backend_open("switch,name=rl", &loop, &a), 0);
    assert_int_equal(net_backend_open("switch,name=rl,bps=2000", &loop, &b), 0);
    uint64_t now = 5000000000ull;
    rate_limit_set_clock(&b->tx_rl, fake_clock, &now);
    rate_limit_set_clock(&b->rx_rl, fake_clock, &now);
    struct recorder rec = { 0 };
    struct net_peer p = { rec_can, rec_receive, NULL, &rec };
    net_backend_set_peer(b, &p);
    uint8_t fr[1000];
    memset(fr, 0xff, 6);
    memcpy(fr + 6, MAC, 6);
    for (int i = 0; i < 4; i++) {
        fr[12] = (uint8_t)i;
        struct iovec iov = { fr, sizeof(fr) };
        assert_int_equal(net_backend_send(a, &iov, 1), 0);
    }
    wait_frames(&loop, &rec, 2); /* the burst: 2000 bytes */
    assert_int_equal(rec.frames, 2);
    for (unsigned got = 3; got <= 4; got++) {
        uint64_t wait = rate_limit_wait_ns(&b->rx_rl, 1000);
        assert_int_equal(wait, 500000000ull); /* 1000 bytes at 2000 B/s */
        now += wait - 1;
        settle(&loop);
        assert_int_equal(rec.frames, got - 1);
        now += 1;
        wait_frames(&loop, &rec, got);
        assert_int_equal(rec.frames, got);
        assert_int_equal(rec.last[12], got - 1);
    }
    net_backend_close(a);
    net_backend_close(b);
    remove_runtime_dir();
}

/* The guest ARPs for 10.0.2.2 through the device; libslirp answers into
 * the guest's receive buffer. */
static void test_slirp_arp_through_device(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *nb;
    assert_int_equal(net_backend_open("user,mac=52:54:00:12:34:56", &loop, &nb), 0);
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tdrv_init_ram(&f->d);
    virtio_net_init(&f->vn, nb, &f->d.ram, tdrv_irq_line(&f->d));
    f->d.t = &f->vn.mmio;
    probe(f);
    uint64_t rb = galloc(&f->d, 1526);
    struct tbuf rc[] = { { rb, 1526, true } };
    add_chain(&f->d, VIRTIO_NET_RXQ, rc, 1);
    notify(&f->d, VIRTIO_NET_RXQ);

    uint64_t g = galloc(&f->d, VIRTIO_NET_HDR_LEN + 42);
    uint8_t *a = gp(&f->d, g + VIRTIO_NET_HDR_LEN, 42);
    static const uint8_t arp[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, /* request */
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15, /* sender */
        0, 0, 0, 0, 0, 0, 10, 0, 2, 2, /* target 10.0.2.2 */
    };
    memcpy(a, arp, sizeof(arp));
    struct tbuf tc[] = { { g, VIRTIO_NET_HDR_LEN + 42, false } };
    add_chain(&f->d, VIRTIO_NET_TXQ, tc, 1);
    notify(&f->d, VIRTIO_NET_TXQ);
    uint32_t id, len = 0;
    /* libslirp answers from inside its input path: a few rounds at most
     * (the bound guards against a hang, it is no statement about time) */
    for (int i = 0; i < 2000 && !used_next(&f->d, VIRTIO_NET_RXQ, &id, &len); i++)
        event_loop_poll(&loop, 10);
    assert_true(len >= VIRTIO_NET_HDR_LEN + 42);
    uint8_t *r = gp(&f->d, rb + VIRTIO_NET_HDR_LEN, 42);
    assert_memory_equal(r, MAC, 6);             /* to the guest */
    assert_int_equal(r[12], 0x08);              /* ARP */
    assert_int_equal(r[13], 0x06);
    assert_int_equal(r[21], 2);                 /* reply */
    assert_memory_equal(r + 28, "\x0a\x00\x02\x02", 4); /* 10.0.2.2 is at ... */
    tram_free(&f->d.ram);
    free(f);
    net_backend_close(nb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_and_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_hostile_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_backend_error_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_tso_segmented, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_hostile_offload_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_offload_not_negotiated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_mergeable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_mergeable_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_small_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_broken_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_mid_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test(test_tx_rate_limit),
        cmocka_unit_test(test_rx_rate_limit),
        cmocka_unit_test(test_slirp_arp_through_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
