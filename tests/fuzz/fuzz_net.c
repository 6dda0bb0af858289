/* libFuzzer target: a hostile guest and a busy network against virtio-net.
 * The input is a little program of operations: poke bytes into guest RAM,
 * write or read any register, lay out descriptors (direct and indirect)
 * and avail entries for the receive and transmit queues, notify, let the
 * backend deliver frames of any length (too short, too long, while the
 * guest has no buffers), make the backend refuse to send for a while, let
 * (fake) time pass for the bps rate limit, reset, save and load (also
 * loading fuzzed state). A "probe" operation does the driver's set-up in
 * one go so the fuzzer reaches the queues quickly.
 *
 * The backend is the real glue (src/backend/net.c: flow control, rate
 * limit, held frames) over a fake transport that checks what the device
 * hands it: every transmitted frame lies inside guest RAM and is a whole
 * Ethernet frame. Besides crashes, the target traps when the irq line is
 * out of step with InterruptStatus, or when the device's count of sent
 * frames differs from what the transport took.
 *
 *   tests/fuzz/run.sh SECONDS net     build into build/fuzz and run */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "condo/virtio_net.h"
#include "fuzz_common.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x10000ull

/* Ring areas the probe uses: queue 0 (receive), queue 1 (transmit). */
static const uint64_t ring_desc[2] = { 0x0000, 0x2000 };
static const uint64_t ring_avail[2] = { 0x1000, 0x3000 };
static const uint64_t ring_used[2] = { 0x1400, 0x3400 };

struct fz {
    struct guest_ram ram;
    struct net_backend *nb;
    struct virtio_net *vn;
    int irq_level;
    bool busy;          /* the fake transport refuses frames (can_send) */
    uint32_t num[2];    /* queue sizes the probe set */
    uint16_t avail[2];  /* driver's avail idx */
    uint64_t now;       /* fake clock for the rate limit */
    uint64_t sent;      /* frames the transport took */
};

static struct fz F;

/* --- the fake transport under the real backend glue --- */

static int fake_send(struct net_backend *nb, const struct iovec *iov, int n)
{
    (void)nb;
    FUZZ_CHECK(n > 0 && n <= VIRTQ_MAX_SEGS);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *p = iov[i].iov_base;
        len += iov[i].iov_len;
        /* a frame with an offload header is sent from the device's own
         * copy (checked once, not changeable by the guest): inside it */
        if (p >= F.vn->tx_buf && p < F.vn->tx_buf + sizeof(F.vn->tx_buf)) {
            FUZZ_CHECK(iov[i].iov_len <= sizeof(F.vn->tx_buf) - (size_t)(p - F.vn->tx_buf));
            continue;
        }
        /* a segment cut from such a frame: its rebuilt headers (at most
         * Ethernet + 60-byte IP + 60-byte TCP) first, the payload from
         * the copy */
        if (i == 0 && iov[0].iov_len <= 14 + 60 + 60 &&
            (p < F.ram.host || p >= F.ram.host + F.ram.size))
            continue;
        FUZZ_CHECK(p >= F.ram.host);
        FUZZ_CHECK(iov[i].iov_len <= F.ram.size);
        FUZZ_CHECK((uint64_t)(p - F.ram.host) <= F.ram.size - iov[i].iov_len);
    }
    FUZZ_CHECK(len >= NET_ETH_HLEN && len <= NET_FRAME_MAX);
    F.sent++;
    return 0;
}

static bool fake_can_send(struct net_backend *nb)
{
    (void)nb;
    return !F.busy;
}

static void fake_rx_ready(struct net_backend *nb)
{
    (void)nb;
}

static void fake_close(struct net_backend *nb)
{
    (void)nb;
}

static const struct net_backend_ops fake_ops = {
    .name = "fuzz",
    .send = fake_send,
    .can_send = fake_can_send,
    .rx_ready = fake_rx_ready,
    .close = fake_close,
};

/* --- plumbing --- */

static void fz_irq(void *opaque, unsigned line, int level)
{
    (void)opaque;
    FUZZ_CHECK(line == 0);
    F.irq_level = level;
}

static uint64_t fz_clock(void *opaque)
{
    (void)opaque;
    return F.now;
}

static void mmio_wr(uint64_t off, uint32_t v)
{
    virtio_mmio_ops.write(&F.vn->mmio, off, 4, v);
}

static uint32_t mmio_rd(uint64_t off)
{
    uint64_t v = 0;
    virtio_mmio_ops.read(&F.vn->mmio, off, 4, &v);
    FUZZ_CHECK(v <= 0xffffffffu);
    return (uint32_t)v;
}

static uint8_t *ram(uint64_t off, uint64_t len)
{
    return guest_ram_ptr(&F.ram, RAM_BASE + off, len);
}

/* The driver's whole set-up of both queues, with fuzzed features and size. */
static void op_probe(uint64_t features, uint32_t num)
{
    mmio_wr(VIRTIO_MMIO_STATUS, 0);
    mmio_wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    mmio_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t offered = mmio_rd(VIRTIO_MMIO_DEVICE_FEATURES);
    mmio_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    offered |= (uint64_t)mmio_rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    uint64_t f = (offered & features) | (1ull << VIRTIO_F_VERSION_1);
    mmio_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    mmio_wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    mmio_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    mmio_wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
    mmio_wr(VIRTIO_MMIO_STATUS,
            VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    memset(ram(0, 0x4000), 0, 0x4000);
    for (unsigned q = 0; q < 2; q++) {
        mmio_wr(VIRTIO_MMIO_QUEUE_SEL, q);
        mmio_wr(VIRTIO_MMIO_QUEUE_NUM, num);
        mmio_wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_BASE + ring_desc[q]));
        mmio_wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
        mmio_wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_BASE + ring_avail[q]));
        mmio_wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
        mmio_wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_BASE + ring_used[q]));
        mmio_wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
        mmio_wr(VIRTIO_MMIO_QUEUE_READY, 1);
        F.num[q] = num;
        F.avail[q] = 0;
    }
    mmio_wr(VIRTIO_MMIO_STATUS, mmio_rd(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

/* A guest address: mostly inside RAM (or just beyond), sometimes wild. */
static uint64_t take_addr(struct fuzz_input *in)
{
    uint8_t mode = (uint8_t)fuzz_take(in, 1);
    if (mode & 1)
        return fuzz_take(in, 8);
    return RAM_BASE + fuzz_take(in, 2);
}

static void put_desc(uint8_t *p, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    le64_store(p, addr);
    le32_store(p + 8, len);
    le16_store(p + 12, flags);
    le16_store(p + 14, next);
}

static void op_desc(struct fuzz_input *in, unsigned q)
{
    uint32_t num = F.num[q] ? F.num[q] : 1;
    unsigned i = (unsigned)fuzz_take(in, 1) % num;
    uint64_t addr = take_addr(in);
    uint32_t len = (uint32_t)fuzz_take(in, 2);
    uint8_t fl = (uint8_t)fuzz_take(in, 1);
    if (fl & 0x80)
        len = (uint32_t)fuzz_take(in, 4);
    uint16_t next = (uint16_t)fuzz_take(in, 1);
    if (fl & 0x40)
        next = (uint16_t)fuzz_take(in, 2);
    put_desc(ram(ring_desc[q] + 16ull * i, 16), addr, len, fl & 7, next);
}

/* A descriptor of an indirect table (anywhere in the data area). */
static void op_table_desc(struct fuzz_input *in)
{
    uint64_t at = 0x4000 + ((fuzz_take(in, 2) * 16) % (RAM_SIZE - 0x4000));
    uint64_t addr = take_addr(in);
    uint32_t len = (uint32_t)fuzz_take(in, 2);
    uint8_t fl = (uint8_t)fuzz_take(in, 1);
    uint16_t next = (uint16_t)fuzz_take(in, 1);
    put_desc(ram(at, 16), addr, len, fl & 7, next);
}

static void op_avail(struct fuzz_input *in, unsigned q)
{
    uint32_t num = F.num[q] ? F.num[q] : 1;
    uint16_t head = (uint16_t)fuzz_take(in, 1);
    uint8_t mode = (uint8_t)fuzz_take(in, 1);
    if (mode & 1)
        head = (uint16_t)fuzz_take(in, 2);
    le16_store(ram(ring_avail[q] + 4 + 2ull * (F.avail[q] % num), 2), head);
    F.avail[q]++;
    if (mode & 2)
        F.avail[q] += (uint16_t)fuzz_take(in, 2); /* an avail idx that jumps */
    le16_store(ram(ring_avail[q] + 2, 2), F.avail[q]);
    if (mode & 4) /* flags / used_event */
        le16_store(ram(ring_avail[q] + ((mode & 8) ? 4 + 2ull * num : 0), 2),
                   (uint16_t)fuzz_take(in, 2));
}

/* A well-formed buffer in one go: for receive a device-writable buffer,
 * for transmit a header + frame (as a driver would), then notify. */
static void op_buffer(struct fuzz_input *in, unsigned q)
{
    uint32_t num = F.num[q] ? F.num[q] : 1;
    unsigned i = (unsigned)fuzz_take(in, 1) % num;
    uint32_t len = (uint32_t)fuzz_take(in, 2) % 0x3000;
    uint64_t data = 0x5000 + 0x3000ull * q;
    if (q == VIRTIO_NET_TXQ) {
        uint8_t *p = ram(data, len ? len : 1);
        for (uint32_t k = 0; k < len && in->n; k++)
            p[k] = (uint8_t)fuzz_take(in, 1);
    }
    put_desc(ram(ring_desc[q] + 16ull * i, 16), RAM_BASE + data, len,
             q == VIRTIO_NET_RXQ ? VIRTQ_DESC_F_WRITE : 0, 0);
    le16_store(ram(ring_avail[q] + 4 + 2ull * (F.avail[q] % num), 2), (uint16_t)i);
    F.avail[q]++;
    le16_store(ram(ring_avail[q] + 2, 2), F.avail[q]);
    mmio_wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* The backend has a frame for the guest, as a real backend hands it over:
 * asks first (or not: a sloppy backend), then delivers. */
static void op_deliver(struct fuzz_input *in)
{
    static uint8_t frame[NET_FRAME_MAX + 64];
    uint8_t mode = (uint8_t)fuzz_take(in, 1);
    size_t len = (size_t)fuzz_take(in, 2);
    if (mode & 1)
        len += NET_FRAME_MAX - 0x7fff; /* near and beyond the limit */
    if (len > sizeof(frame))
        len = sizeof(frame);
    memset(frame, (int)mode, len);
    if (len >= 12)
        memcpy(frame, F.vn->mac, 6);
    if (!(mode & 2) && !net_backend_can_deliver(F.nb))
        return;
    net_backend_deliver(F.nb, frame, len);
}

static void op_save_load(struct fuzz_input *in)
{
    struct virtio_mmio *t = &F.vn->mmio;
    struct state_buf s;
    state_init_writer(&s);
    virtio_mmio_ops.save(t, &s);
    FUZZ_CHECK(s.err == 0);
    uint8_t mode = (uint8_t)fuzz_take(in, 1);
    if (mode & 1) {
        /* corrupt one byte of the saved state */
        size_t at = (size_t)fuzz_take(in, 2);
        if (s.len)
            s.data[at % s.len] ^= (uint8_t)fuzz_take(in, 1);
    }
    struct state_buf r;
    state_init_reader(&r, s.data, (mode & 2) && s.len ? (size_t)fuzz_take(in, 2) % s.len : s.len);
    int err = virtio_mmio_ops.load(t, &r);
    FUZZ_CHECK(err == 0 || err == -EINVAL);
    FUZZ_CHECK((mode & 3) || err == 0); /* an untouched stream always loads */
    state_free(&s);
}

static int setup(const uint8_t *data, size_t size, struct fuzz_input *in)
{
    memset(&F, 0, sizeof(F));
    in->p = data;
    in->n = size;
    if (fuzz_ram_init(&F.ram, RAM_BASE, RAM_SIZE) < 0)
        return -1;
    uint8_t cfg = (uint8_t)fuzz_take(in, 1);
    F.nb = calloc(1, sizeof(*F.nb));
    F.vn = calloc(1, sizeof(*F.vn));
    if (!F.nb || !F.vn)
        return -1;
    F.nb->ops = &fake_ops;
    memcpy(F.nb->mac, "\x52\x54\x00\x12\x34\x56", 6);
    F.now = 1000000000ull;
    /* sometimes a bps limit, as `--net ...,bps=N` sets it */
    F.nb->bps = (cfg & 1) ? 1000u + 1000u * (cfg >> 4) : 0;
    struct rate_limit_config rl = { .bps = F.nb->bps };
    rate_limit_init(&F.nb->tx_rl, &rl);
    rate_limit_init(&F.nb->rx_rl, &rl);
    rate_limit_set_clock(&F.nb->tx_rl, fz_clock, NULL);
    rate_limit_set_clock(&F.nb->rx_rl, fz_clock, NULL);
    if (F.nb->bps && !(F.nb->rx_hold = malloc(NET_FRAME_MAX)))
        return -1;
    virtio_net_init(F.vn, F.nb, &F.ram, (struct irq_line){ fz_irq, NULL, 0 });
    return 0;
}

static void teardown(void)
{
    if (F.nb)
        net_backend_close(F.nb); /* frees rx_hold and nb */
    free(F.vn);
    fuzz_ram_free(&F.ram);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in;
    if (setup(data, size, &in) < 0) {
        teardown();
        return 0;
    }
    unsigned steps = 0;
    while (in.n && steps++ < 512) {
        uint8_t op = (uint8_t)fuzz_take(&in, 1);
        unsigned q = (op >> 7) & 1; /* which queue */
        switch (op & 0x0f) {
        case 0: { /* poke RAM */
            uint64_t off = fuzz_take(&in, 2) % RAM_SIZE;
            size_t n = (size_t)fuzz_take(&in, 1);
            if (n > in.n)
                n = in.n;
            if (n > RAM_SIZE - off)
                n = RAM_SIZE - off;
            memcpy(ram(off, n ? n : 1), in.p, n);
            in.p += n;
            in.n -= n;
            break;
        }
        case 1: { /* any register write, any size */
            uint64_t off = fuzz_take(&in, 2) % VIRTIO_MMIO_SIZE;
            unsigned size = 1u << (fuzz_take(&in, 1) & 3);
            uint64_t v = fuzz_take(&in, 4);
            if (size > 4 || off % size)
                break; /* the bus would refuse it */
            virtio_mmio_ops.write(&F.vn->mmio, off, size, v);
            break;
        }
        case 2: { /* any register read (the config space included) */
            uint64_t off = fuzz_take(&in, 2) % VIRTIO_MMIO_SIZE;
            unsigned size = 1u << (fuzz_take(&in, 1) & 3);
            uint64_t v = 0;
            if (size > 4 || off % size)
                break;
            virtio_mmio_ops.read(&F.vn->mmio, off, size, &v);
            FUZZ_CHECK(v < (1ull << (8 * size)));
            break;
        }
        case 3:
            op_probe(fuzz_take(&in, 8), 1u << (fuzz_take(&in, 1) % 9));
            break;
        case 4:
            op_desc(&in, q);
            break;
        case 5:
            op_table_desc(&in);
            break;
        case 6:
            op_avail(&in, q);
            break;
        case 7:
            mmio_wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
            break;
        case 8:
            op_buffer(&in, q);
            break;
        case 9:
            op_deliver(&in);
            break;
        case 10: /* the transport is busy, or drains and says so */
            F.busy = !F.busy;
            if (!F.busy)
                net_backend_tx_ready(F.nb);
            break;
        case 11: /* time passes; held traffic may go on */
            F.now += fuzz_take(&in, 2) * 1000000ull;
            net_backend_rx_ready(F.nb);
            break;
        case 12:
            mmio_wr(VIRTIO_MMIO_INTERRUPT_ACK, (uint32_t)fuzz_take(&in, 1));
            break;
        case 13:
            virtio_mmio_ops.reset(&F.vn->mmio);
            break;
        case 14:
            op_save_load(&in);
            break;
        default: /* the guest runs: nothing to do */
            break;
        }
        FUZZ_CHECK(F.irq_level == (F.vn->mmio.interrupt_status != 0));
        FUZZ_CHECK(F.vn->tx_frames == F.sent);
    }
    teardown();
    return 0;
}
