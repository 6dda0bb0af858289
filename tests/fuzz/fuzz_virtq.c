/* libFuzzer target: a hostile guest against the virtio-mmio transport, the
 * split virtqueue walker, the virtio-blk and virtio-rng request handling,
 * virtio-input's event delivery (the host presses its buttons) and the
 * virtio-balloon's queues (inflate and deflate frame numbers, free page
 * reports, statistics) and config space, with the host changing its target
 * and statistics interval. The input is a little program of operations: poke bytes into
 * guest RAM, write or read any register of either device, lay out
 * descriptors and avail entries, notify, let (fake) time pass for the
 * blk rate limit, reset, save and load (also loading fuzzed state).
 * A "probe" operation does the driver's whole set-up in one go so the
 * fuzzer reaches the queues quickly.
 *
 * Guest RAM and the disk are heap buffers, so AddressSanitizer sees any
 * access outside them. Besides crashes, the target traps when the device
 * hands the backend a request outside the disk or not sector-sized, writes
 * a read-only disk, leaves its irq line out of step with
 * InterruptStatus, or when a button press that was refused wrote events;
 * a balloon target beyond guest RAM must be refused.
 *
 *   tests/fuzz/run.sh SECONDS virtq     build into build/fuzz and run */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "condo/block.h"
#include "condo/virtio_balloon.h"
#include "condo/virtio_blk.h"
#include "condo/virtio_input.h"
#include "condo/virtio_rng.h"
#include "fuzz_common.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x8000ull
#define DISK_SIZE (64 * 1024)

#define NDEV 4 /* blk, rng, input, balloon */

/* Ring areas used by the probe operation (per device); the input and
 * balloon devices' overlap the data area, which a hostile guest may do
 * too. */
static const uint64_t ring_desc[NDEV] = { 0x0000, 0x2000, 0x6000, 0x5000 };
static const uint64_t ring_avail[NDEV] = { 0x1000, 0x3000, 0x7000, 0x5800 };
static const uint64_t ring_used[NDEV] = { 0x1400, 0x3400, 0x7400, 0x5c00 };

struct fz {
    struct guest_ram ram;
    struct block_backend disk;
    uint8_t *disk_data;
    int disk_fail;
    struct virtio_blk *blk;
    bool blk_ready;
    struct virtio_rng *rng;
    struct virtio_input *input;
    struct virtio_balloon *balloon;
    int irq_level[NDEV];
    uint32_t num[NDEV];    /* queue size the probe set */
    uint16_t avail[NDEV];  /* driver's avail idx */
    uint64_t now;
};

static struct fz F;

#define CHECK FUZZ_CHECK

/* --- an in-memory disk that checks what the device asks of it --- */

static void check_req(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    CHECK(n > 0 && n <= VIRTQ_MAX_SEGS);
    uint64_t len = 0;
    for (int i = 0; i < n; i++) {
        /* every buffer lies inside guest RAM */
        CHECK((uint8_t *)iov[i].iov_base >= F.ram.host);
        CHECK(iov[i].iov_len <= F.ram.size);
        CHECK((uint64_t)((uint8_t *)iov[i].iov_base - F.ram.host) <= F.ram.size - iov[i].iov_len);
        len += iov[i].iov_len;
    }
    CHECK(off % 512 == 0 && len % 512 == 0);
    CHECK(off <= b->size && len <= b->size - off);
}

static int mem_preadv(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    check_req(b, iov, n, off);
    if (F.disk_fail)
        return -EIO;
    for (int i = 0; i < n; i++) {
        memcpy(iov[i].iov_base, F.disk_data + off, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    return 0;
}

static int mem_pwritev(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    check_req(b, iov, n, off);
    CHECK(!b->read_only);
    if (F.disk_fail)
        return -EIO;
    for (int i = 0; i < n; i++) {
        memcpy(F.disk_data + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    return 0;
}

static int mem_flush(struct block_backend *b)
{
    (void)b;
    return F.disk_fail ? -EIO : 0;
}

static const struct block_ops mem_ops = {
    .name = "fuzz-mem",
    .preadv = mem_preadv,
    .pwritev = mem_pwritev,
    .flush = mem_flush,
};

/* The block front's entry points (src/backend is not linked in). */
int block_preadv(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    return b->ops->preadv(b, iov, n, off);
}
int block_pwritev(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    return b->ops->pwritev(b, iov, n, off);
}
int block_flush(struct block_backend *b)
{
    return b->ops->flush(b);
}
int block_preadv_nowait(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    (void)b, (void)iov, (void)n, (void)off;
    return -EOPNOTSUPP; /* every read goes through the worker */
}

/* --- plumbing --- */

static void fz_irq(void *opaque, unsigned line, int level)
{
    (void)opaque;
    CHECK(line < NDEV);
    F.irq_level[line] = level;
}

static uint64_t fz_clock(void *opaque)
{
    (void)opaque;
    return F.now;
}

static struct virtio_mmio *dev_mmio(unsigned d)
{
    return d == 3 ? &F.balloon->mmio : d == 2 ? &F.input->mmio : d ? &F.rng->mmio : &F.blk->mmio;
}

static void mmio_wr(unsigned d, uint64_t off, uint32_t v)
{
    virtio_mmio_ops.write(dev_mmio(d), off, 4, v);
}

static uint32_t mmio_rd(unsigned d, uint64_t off)
{
    uint64_t v = 0;
    virtio_mmio_ops.read(dev_mmio(d), off, 4, &v);
    CHECK(v <= 0xffffffffu);
    return (uint32_t)v;
}

static uint8_t *ram(uint64_t off, uint64_t len)
{
    return guest_ram_ptr(&F.ram, RAM_BASE + off, len);
}

/* The driver's whole set-up, with fuzzed features and queue size. */
static void op_probe(unsigned d, uint64_t features, uint32_t num)
{
    mmio_wr(d, VIRTIO_MMIO_STATUS, 0);
    mmio_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    mmio_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t offered = mmio_rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
    mmio_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    offered |= (uint64_t)mmio_rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    uint64_t f = (offered & features) | (1ull << VIRTIO_F_VERSION_1);
    mmio_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    mmio_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    mmio_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    mmio_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
    mmio_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                       VIRTIO_STATUS_FEATURES_OK);
    memset(ram(ring_desc[d], 0x2000), 0, 0x2000);
    mmio_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    mmio_wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
    mmio_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_BASE + ring_desc[d]));
    mmio_wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    mmio_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_BASE + ring_avail[d]));
    mmio_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
    mmio_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_BASE + ring_used[d]));
    mmio_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
    mmio_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
    mmio_wr(d, VIRTIO_MMIO_STATUS, mmio_rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
    F.num[d] = num;
    F.avail[d] = 0;
}

/* A guest address: mostly inside RAM (or just beyond), sometimes wild. */
static uint64_t take_addr(struct fuzz_input *in)
{
    uint8_t mode = (uint8_t)fuzz_take(in, 1);
    if (mode & 1)
        return fuzz_take(in, 8);
    return RAM_BASE + fuzz_take(in, 2);
}

static void op_desc(struct fuzz_input *in, unsigned d)
{
    uint32_t num = F.num[d] ? F.num[d] : 1;
    unsigned i = (unsigned)fuzz_take(in, 1) % num;
    uint64_t addr = take_addr(in);
    uint32_t len = (uint32_t)fuzz_take(in, 2);
    uint8_t fl = (uint8_t)fuzz_take(in, 1);
    if (fl & 0x80)
        len = (uint32_t)fuzz_take(in, 4);
    uint16_t next = (uint16_t)fuzz_take(in, 1);
    if (fl & 0x40)
        next = (uint16_t)fuzz_take(in, 2);
    uint8_t *p = ram(ring_desc[d] + 16ull * i, 16);
    le64_store(p, addr);
    le32_store(p + 8, len);
    le16_store(p + 12, fl & 7);
    le16_store(p + 14, next);
}

/* A descriptor of an indirect table (anywhere in the data area). */
static void op_table_desc(struct fuzz_input *in)
{
    uint64_t at = 0x4000 + ((fuzz_take(in, 2) * 16) % (RAM_SIZE - 0x4000));
    uint64_t addr = take_addr(in);
    uint32_t len = (uint32_t)fuzz_take(in, 2);
    uint8_t fl = (uint8_t)fuzz_take(in, 1);
    uint16_t next = (uint16_t)fuzz_take(in, 1);
    uint8_t *p = ram(at, 16);
    le64_store(p, addr);
    le32_store(p + 8, len);
    le16_store(p + 12, fl & 7);
    le16_store(p + 14, next);
}

static void op_avail(struct fuzz_input *in, unsigned d)
{
    uint32_t num = F.num[d] ? F.num[d] : 1;
    uint16_t head = (uint16_t)fuzz_take(in, 1);
    uint8_t mode = (uint8_t)fuzz_take(in, 1);
    if (mode & 1)
        head = (uint16_t)fuzz_take(in, 2);
    le16_store(ram(ring_avail[d] + 4 + 2ull * (F.avail[d] % num), 2), head);
    F.avail[d]++;
    if (mode & 2)
        F.avail[d] += (uint16_t)fuzz_take(in, 2); /* an avail idx that jumps */
    le16_store(ram(ring_avail[d] + 2, 2), F.avail[d]);
    if (mode & 4) /* flags / used_event */
        le16_store(ram(ring_avail[d] + ((mode & 8) ? 4 + 2ull * num : 0), 2),
                   (uint16_t)fuzz_take(in, 2));
}

/* A blk request header + data + status in one go, in the data area. */
static void op_blk_req(struct fuzz_input *in)
{
    uint32_t num = F.num[0] ? F.num[0] : 1;
    uint32_t type = (uint32_t)fuzz_take(in, 1);
    if (type > 15)
        type = (uint32_t)fuzz_take(in, 4);
    uint64_t sector = fuzz_take(in, 1);
    if (sector > 200)
        sector = fuzz_take(in, 8);
    uint32_t len = (uint32_t)fuzz_take(in, 1) * 64;
    unsigned i = (unsigned)fuzz_take(in, 1) % num;
    uint64_t hdr = 0x4000, data = 0x4100, st = 0x4010;
    if (len > RAM_SIZE - 0x4100)
        len = (uint32_t)(RAM_SIZE - 0x4100);
    uint8_t *h = ram(hdr, 16);
    le32_store(h, type);
    le32_store(h + 4, 0);
    le64_store(h + 8, sector);
    unsigned j = (i + 1) % num, k = (i + 2) % num;
    bool dw = type != VIRTIO_BLK_T_OUT;
    uint8_t *p = ram(ring_desc[0] + 16ull * i, 16);
    le64_store(p, RAM_BASE + hdr);
    le32_store(p + 8, 16);
    le16_store(p + 12, VIRTQ_DESC_F_NEXT);
    le16_store(p + 14, (uint16_t)(len ? j : k));
    if (len) {
        p = ram(ring_desc[0] + 16ull * j, 16);
        le64_store(p, RAM_BASE + data);
        le32_store(p + 8, len);
        le16_store(p + 12, (uint16_t)(VIRTQ_DESC_F_NEXT | (dw ? VIRTQ_DESC_F_WRITE : 0)));
        le16_store(p + 14, (uint16_t)k);
    }
    p = ram(ring_desc[0] + 16ull * k, 16);
    le64_store(p, RAM_BASE + st);
    le32_store(p + 8, 1);
    le16_store(p + 12, VIRTQ_DESC_F_WRITE);
    le16_store(p + 14, 0);
    le16_store(ram(ring_avail[0] + 4 + 2ull * (F.avail[0] % num), 2), (uint16_t)i);
    F.avail[0]++;
    le16_store(ram(ring_avail[0] + 2, 2), F.avail[0]);
    mmio_wr(0, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void op_save_load(struct fuzz_input *in, unsigned d)
{
    struct virtio_mmio *t = dev_mmio(d);
    struct state_buf s;
    state_init_writer(&s);
    virtio_mmio_ops.save(t, &s);
    CHECK(s.err == 0);
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
    CHECK(err == 0 || err == -EINVAL);
    CHECK((mode & 3) || err == 0); /* an untouched stream always loads */
    state_free(&s);
}

/* The host presses a button, or sends fuzzed events: delivered whole,
 * or refused with nothing written. */
static void op_input(struct fuzz_input *in)
{
    uint8_t mode = (uint8_t)fuzz_take(in, 1);
    uint64_t before = F.input->events_sent;
    uint16_t used_before = 0;
    uint32_t num = F.num[2];
    if (num)
        used_before = le16_load(ram(ring_used[2] + 2, 2));
    int r;
    unsigned n;
    if (mode % 3 == 0) {
        r = virtio_input_power_button(F.input, NULL);
        n = 4;
    } else if (mode % 3 == 1) {
        r = virtio_input_ctrl_alt_del(F.input, NULL);
        n = 8;
    } else {
        struct virtio_input_event ev[VIRTIO_INPUT_MAX_BATCH + 1];
        n = (unsigned)fuzz_take(in, 1) % (VIRTIO_INPUT_MAX_BATCH + 2);
        for (unsigned i = 0; i < n; i++)
            ev[i] = (struct virtio_input_event){ (uint16_t)fuzz_take(in, 2), (uint16_t)fuzz_take(in, 2),
                                                 (int32_t)fuzz_take(in, 4) };
        r = virtio_input_send(F.input, ev, n, NULL);
        CHECK(r != -EINVAL || n == 0 || n > VIRTIO_INPUT_MAX_BATCH);
    }
    CHECK(r == 0 || r == -ENODEV || r == -ENOSPC || r == -EIO || r == -EINVAL);
    if (r == 0) {
        CHECK(F.input->events_sent == before + n);
    } else {
        /* single-threaded: the ring cannot change between the passes */
        CHECK(F.input->events_sent == before);
        if (num && r != -EIO)
            CHECK(le16_load(ram(ring_used[2] + 2, 2)) == used_before);
    }
}

/* The host's side of the balloon: a new target, a new statistics
 * interval, the VM loop's poll (hands the stats buffer back when due), or
 * the driver sets up one more of its queues (deflate, stats, reporting) on
 * the balloon's ring area. */
static void op_balloon(struct fuzz_input *in)
{
    uint8_t mode = (uint8_t)fuzz_take(in, 1);
    struct virtio_balloon *b = F.balloon;
    switch (mode & 3) {
    case 0: {
        uint32_t pages = (uint32_t)fuzz_take(in, mode & 4 ? 4 : 1);
        int r = virtio_balloon_set_target(b, pages, NULL);
        CHECK(r == 0 || r == -EINVAL);
        CHECK((r == 0) == (pages <= F.ram.npages));
        break;
    }
    case 1: {
        unsigned secs = (unsigned)fuzz_take(in, 2);
        int r = virtio_balloon_set_stats_interval(b, secs, NULL);
        CHECK(r == 0 || r == -EINVAL);
        break;
    }
    case 2:
        b->ops.poll(b);
        break;
    default: {
        unsigned q = (unsigned)fuzz_take(in, 1) % 6; /* one past the last */
        uint32_t num = 1u << (fuzz_take(in, 1) % 9);
        mmio_wr(3, VIRTIO_MMIO_QUEUE_SEL, q);
        mmio_wr(3, VIRTIO_MMIO_QUEUE_NUM, num);
        mmio_wr(3, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_BASE + ring_desc[3]));
        mmio_wr(3, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
        mmio_wr(3, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_BASE + ring_avail[3]));
        mmio_wr(3, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
        mmio_wr(3, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_BASE + ring_used[3]));
        mmio_wr(3, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
        mmio_wr(3, VIRTIO_MMIO_QUEUE_READY, 1);
        F.num[3] = num;
        F.avail[3] = 0;
        break;
    }
    }
}

static void check_irq(void)
{
    CHECK(F.irq_level[0] == (F.blk->mmio.interrupt_status != 0));
    CHECK(F.irq_level[1] == (F.rng->mmio.interrupt_status != 0));
    CHECK(F.irq_level[2] == (F.input->mmio.interrupt_status != 0));
    CHECK(F.irq_level[3] == (F.balloon->mmio.interrupt_status != 0));
}

static int setup(const uint8_t *data, size_t size, struct fuzz_input *in)
{
    memset(&F, 0, sizeof(F));
    int ram_ok = fuzz_ram_init(&F.ram, RAM_BASE, RAM_SIZE);
    F.disk_data = calloc(1, DISK_SIZE);
    F.blk = calloc(1, sizeof(*F.blk));
    F.rng = calloc(1, sizeof(*F.rng));
    F.input = calloc(1, sizeof(*F.input));
    F.balloon = calloc(1, sizeof(*F.balloon));
    if (ram_ok < 0 || !F.disk_data || !F.blk || !F.rng || !F.input || !F.balloon)
        return -1;
    in->p = data;
    in->n = size;
    uint8_t cfg = (uint8_t)fuzz_take(in, 1);
    F.disk.ops = &mem_ops;
    F.disk.size = DISK_SIZE - (cfg & 0x10 ? 100 : 0); /* a ragged end, sometimes */
    F.disk.read_only = cfg & 1;
    F.disk.path = "fuzz.img";
    /* some pages hold "code": exercises the write notes */
    F.ram.has_code[(cfg >> 5) & 7] = 1;
    struct rate_limit_config rl = {
        .bps = cfg & 2 ? 4096 : 0,
        .iops = cfg & 4 ? 3 : 0,
    };
    F.now = 1000000000ull;
    F.blk_ready = true; /* init makes destroy safe, even when it fails */
    if (virtio_blk_init(F.blk, &F.disk, &rl, &F.ram, (struct irq_line){ fz_irq, NULL, 0 }) < 0)
        return -1;
    rate_limit_set_clock(&F.blk->rl, fz_clock, NULL);
    virtio_rng_init(F.rng, &F.ram, (struct irq_line){ fz_irq, NULL, 1 });
    virtio_input_init(F.input, &F.ram, (struct irq_line){ fz_irq, NULL, 2 });
    /* the balloon's optional queues from the config byte: reporting and
     * statistics shift the queue numbers */
    struct virtio_balloon_config bc = {
        .reporting = cfg & 0x08,
        .deflate_on_oom = cfg & 0x40,
        .stats_interval_s = cfg & 0x80 ? 1 : 0,
    };
    virtio_balloon_init(F.balloon, &bc, &F.ram, (struct irq_line){ fz_irq, NULL, 3 });
    return 0;
}

static void teardown(void)
{
    if (F.blk_ready)
        virtio_blk_destroy(F.blk);
    fuzz_ram_free(&F.ram);
    free(F.disk_data);
    free(F.blk);
    free(F.rng);
    free(F.input);
    free(F.balloon);
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
        /* which device: bit 7 rng, else bit 6 input, else bit 5 balloon,
         * else blk */
        unsigned d = (op & 0x80) ? 1 : (op & 0x40) ? 2 : (op & 0x20) ? 3 : 0;
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
            virtio_mmio_ops.write(dev_mmio(d), off, size, v);
            break;
        }
        case 2: { /* any register read */
            uint64_t off = fuzz_take(&in, 2) % VIRTIO_MMIO_SIZE;
            unsigned size = 1u << (fuzz_take(&in, 1) & 3);
            uint64_t v = 0;
            if (size > 4 || off % size)
                break;
            virtio_mmio_ops.read(dev_mmio(d), off, size, &v);
            CHECK(size == 8 || v < (1ull << (8 * size)));
            break;
        }
        case 3:
            op_probe(d, fuzz_take(&in, 8), 1u << (fuzz_take(&in, 1) % 9));
            break;
        case 4:
            op_desc(&in, d);
            break;
        case 5:
            op_table_desc(&in);
            break;
        case 6:
            op_avail(&in, d);
            break;
        case 7:
            mmio_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, (uint32_t)fuzz_take(&in, 1) & 1);
            break;
        case 8:
            op_blk_req(&in);
            break;
        case 9: /* time passes; the VM loop polls */
            F.now += fuzz_take(&in, 2) * 1000000ull;
            if (virtio_blk_next_deadline_ns(F.blk) <= F.now)
                virtio_blk_poll(F.blk);
            virtio_blk_poll(F.blk);
            break;
        case 10:
            mmio_wr(d, VIRTIO_MMIO_INTERRUPT_ACK, (uint32_t)fuzz_take(&in, 1));
            break;
        case 11:
            virtio_mmio_ops.reset(dev_mmio(d));
            break;
        case 12:
            op_save_load(&in, d);
            break;
        case 13:
            F.disk_fail = !F.disk_fail;
            break;
        case 14:
            op_input(&in);
            break;
        case 15:
            op_balloon(&in);
            break;
        default: /* the guest runs: nothing to do */
            break;
        }
        /* the I/O thread completes what the disk's worker did (every step,
         * so that a run never depends on thread timing) */
        virtio_blk_quiesce(F.blk);
        check_irq();
    }
    teardown();
    return 0;
}
