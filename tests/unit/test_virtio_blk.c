/* virtio-blk, driven through the virtio-mmio registers as Linux does,
 * against a temporary raw file: reads, writes, flush, GET_ID, requests laid
 * out in odd ways, out-of-range and malformed requests, read-only disks,
 * backend errors, the rate limit (with a fake clock), a reset while a
 * request waits, save/load. Most tests complete requests with
 * virtio_blk_quiesce() right after the notify; the async tests at the end
 * hold the disk back with a gate and complete through an event loop. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "condo/block.h"
#include "condo/virtio_blk.h"
#include "virtio_test_driver.h"
#include "state_check.h"

#define DISK_SIZE (64 * 1024 + 100) /* 128 sectors and a tail the guest never sees */
#define DISK_SECTORS 128
#define F(bit) (1ull << (bit))

/* A test-only raw-file backend, so these tests do not depend on the
 * backends in src/backend; `fail` makes every operation fail. */
struct tdisk {
    struct block_backend b;
    int fd;
    unsigned reads, writes, flushes;
    int fail;
    char path[64];
    /* A slow disk: while `gated`, every operation waits for the gate to
     * open (counting itself in `waiting`); `ops` records their order. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool gated;
    unsigned waiting;
    char ops[64];
    unsigned nops;
    int nowait; /* what td_preadv_nowait answers: 0 (read it) or an error */
    unsigned nowait_reads;
};

/* On the worker thread: note the operation, then wait at the gate. */
static void td_enter(struct tdisk *t, char op)
{
    pthread_mutex_lock(&t->mu);
    if (t->nops < sizeof(t->ops) - 1)
        t->ops[t->nops++] = op;
    t->waiting++;
    pthread_cond_broadcast(&t->cv);
    while (t->gated)
        pthread_cond_wait(&t->cv, &t->mu);
    t->waiting--;
    pthread_mutex_unlock(&t->mu);
}

static void td_gate(struct tdisk *t, bool closed)
{
    pthread_mutex_lock(&t->mu);
    t->gated = closed;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* Wait until n operations wait at the gate (no clock: the worker gets
 * there or the test hangs, which the runner reports). */
static void td_wait_waiting(struct tdisk *t, unsigned n)
{
    pthread_mutex_lock(&t->mu);
    while (t->waiting < n)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static size_t iov_total(const struct iovec *iov, int n)
{
    size_t t = 0;
    for (int i = 0; i < n; i++)
        t += iov[i].iov_len;
    return t;
}

static int td_preadv(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    struct tdisk *t = b->priv;
    td_enter(t, 'R');
    t->reads++;
    if (t->fail)
        return t->fail;
    ssize_t r = preadv(t->fd, iov, n, (off_t)off);
    return r == (ssize_t)iov_total(iov, n) ? 0 : -EIO;
}

static int td_pwritev(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    struct tdisk *t = b->priv;
    td_enter(t, 'W');
    t->writes++;
    if (t->fail)
        return t->fail;
    ssize_t r = pwritev(t->fd, iov, n, (off_t)off);
    return r == (ssize_t)iov_total(iov, n) ? 0 : -EIO;
}

static int td_flush(struct block_backend *b)
{
    struct tdisk *t = b->priv;
    td_enter(t, 'F');
    t->flushes++;
    if (t->fail)
        return t->fail;
    return fdatasync(t->fd) == 0 ? 0 : -errno;
}

/* On the notify (vCPU side): never waits at the gate, as RWF_NOWAIT. */
static int td_preadv_nowait(struct block_backend *b, const struct iovec *iov, int n,
                            uint64_t off)
{
    struct tdisk *t = b->priv;
    if (t->nowait)
        return t->nowait;
    t->nowait_reads++;
    ssize_t r = preadv(t->fd, iov, n, (off_t)off);
    return r == (ssize_t)iov_total(iov, n) ? 0 : -EAGAIN;
}

static const struct block_ops td_ops_nowait = {
    .name = "test-raw-cached",
    .preadv = td_preadv,
    .pwritev = td_pwritev,
    .flush = td_flush,
    .preadv_nowait = td_preadv_nowait,
};

static const struct block_ops td_ops = {
    .name = "test-raw",
    .preadv = td_preadv,
    .pwritev = td_pwritev,
    .flush = td_flush,
};

/* The block front's dispatchers, weak: when src/backend/block.c is linked
 * in its own win, and the device is tested with the same semantics. */
__attribute__((weak)) int block_preadv(struct block_backend *b, const struct iovec *iov, int n,
                                       uint64_t off)
{
    return b->ops->preadv(b, iov, n, off);
}
__attribute__((weak)) int block_pwritev(struct block_backend *b, const struct iovec *iov, int n,
                                        uint64_t off)
{
    return b->ops->pwritev(b, iov, n, off);
}
__attribute__((weak)) int block_flush(struct block_backend *b)
{
    return b->ops->flush(b);
}

struct bfix {
    struct tdrv d;
    struct tdisk disk;
    struct virtio_blk *blk;
    uint64_t now; /* fake clock for the rate limit */
};

static uint64_t fake_clock(void *opaque)
{
    return *(uint64_t *)opaque;
}

static void disk_open(struct tdisk *t, bool ro)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->path, sizeof(t->path), "/tmp/condo-blk-XXXXXX");
    t->fd = mkstemp(t->path);
    assert_true(t->fd >= 0);
    assert_int_equal(ftruncate(t->fd, DISK_SIZE), 0);
    t->b.ops = &td_ops;
    t->b.size = DISK_SIZE;
    t->b.read_only = ro;
    t->b.path = t->path;
    t->b.priv = t;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
}

static struct bfix *bfix_new(bool ro, const struct rate_limit_config *rl)
{
    struct bfix *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tdrv_init_ram(&f->d);
    disk_open(&f->disk, ro);
    f->blk = calloc(1, sizeof(*f->blk));
    assert_non_null(f->blk);
    assert_int_equal(virtio_blk_init(f->blk, &f->disk.b, rl, &f->d.ram, tdrv_irq_line(&f->d)), 0);
    f->now = 1000000000ull;
    rate_limit_set_clock(&f->blk->rl, fake_clock, &f->now);
    f->d.t = &f->blk->mmio;
    return f;
}

static int setup_rw(void **state)
{
    *state = bfix_new(false, NULL);
    return 0;
}

static int setup_ro(void **state)
{
    *state = bfix_new(true, NULL);
    return 0;
}

static int teardown(void **state)
{
    struct bfix *f = *state;
    td_gate(&f->disk, false);
    virtio_blk_destroy(f->blk);
    close(f->disk.fd);
    unlink(f->disk.path);
    tram_free(&f->d.ram);
    free(f->blk);
    free(f);
    return 0;
}

#define ACCEPT_ALL (~0ull)

/* The driver's notify, then every request it started completed (as the
 * VM's drain does). */
static void blk_kick(struct bfix *f)
{
    notify(&f->d, 0);
    /* the device the driver talks to (a test may switch it) */
    virtio_blk_quiesce((struct virtio_blk *)((char *)f->d.t - offsetof(struct virtio_blk, mmio)));
}

/* The VM loop's timer tick, then completion of what it submitted. */
static void blk_poll_done(struct bfix *f)
{
    virtio_blk_poll(f->blk);
    virtio_blk_quiesce(f->blk);
}

/* Queue one request (header | data | status) without notifying; returns
 * the address of its status byte. */
static uint64_t queue_req(struct bfix *f, uint32_t type, uint64_t sector, uint64_t data,
                          uint32_t len)
{
    struct tdrv *d = &f->d;
    uint64_t hdr = galloc(d, 16), st = galloc(d, 1);
    gw32(d, hdr, type);
    gw32(d, hdr + 4, 0);
    gw64(d, hdr + 8, sector);
    *gp(d, st, 1) = 0xee;
    bool dev_writes = type != VIRTIO_BLK_T_OUT;
    struct tbuf b[3];
    unsigned n = 0;
    b[n++] = (struct tbuf){ hdr, 16, false };
    if (len)
        b[n++] = (struct tbuf){ data, len, dev_writes };
    b[n++] = (struct tbuf){ st, 1, true };
    add_chain(d, 0, b, n);
    return st;
}

/* One request, start to finish: returns its status byte. */
static int do_req(struct bfix *f, uint32_t type, uint64_t sector, uint64_t data, uint32_t len)
{
    uint64_t st = queue_req(f, type, sector, data, len);
    blk_kick(f);
    uint32_t id, ulen;
    if (!used_next(&f->d, 0, &id, &ulen))
        return -1;
    return *gp(&f->d, st, 1);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static void test_probe_config(void **state)
{
    struct bfix *f = *state;
    struct tdrv *d = &f->d;
    assert_int_equal(rd(d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    uint64_t feat = device_features(d);
    assert_true(feat & F(VIRTIO_BLK_F_SEG_MAX));
    assert_true(feat & F(VIRTIO_BLK_F_BLK_SIZE));
    assert_true(feat & F(VIRTIO_BLK_F_FLUSH));
    assert_false(feat & F(VIRTIO_BLK_F_RO));
    assert_false(feat & F(VIRTIO_BLK_F_CONFIG_WCE));
    assert_true(feat & F(VIRTIO_F_VERSION_1));
    tdrv_probe(d, ACCEPT_ALL, 1, VIRTIO_QUEUE_MAX);
    /* capacity as Linux's virtio_cread64 reads it: two 32-bit halves */
    assert_int_equal(rd_config(d, 0, 4), DISK_SECTORS);
    assert_int_equal(rd_config(d, 4, 4), 0);
    assert_int_equal(rd_config(d, 0, 1), DISK_SECTORS);
    assert_int_equal(rd_config(d, 0, 2), DISK_SECTORS);
    assert_int_equal(rd_config(d, 0x0c, 4), VIRTIO_BLK_SEG_MAX);
    assert_int_equal(rd_config(d, 0x14, 4), 512);
    assert_int_equal(rd_config(d, 0x22, 2), 1);
    assert_int_equal(rd_config(d, 0x24, 4), 0); /* beyond: logged */
    assert_int_equal(rd_config(d, 0x22, 4), 0);
    virtio_mmio_ops.write(&f->blk->mmio, VIRTIO_MMIO_CONFIG + 0x20, 1, 1);
    assert_int_equal(rd_config(d, 0x20, 1), 0);
    assert_false(needs_reset(d));
}

static void test_read_write(void **state)
{
    struct bfix *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, ACCEPT_ALL, 1, VIRTIO_QUEUE_MAX);
    uint64_t wbuf = galloc(d, 1024), rbuf = galloc(d, 1024);
    fill(gp(d, wbuf, 1024), 1024, 1);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_OUT, 3, wbuf, 1024), VIRTIO_BLK_S_OK);
    uint8_t file[1024];
    assert_int_equal(pread(f->disk.fd, file, 1024, 3 * 512), 1024);
    assert_memory_equal(file, gp(d, wbuf, 1024), 1024);

    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, 3, rbuf, 1024), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(d, rbuf, 1024), file, 1024);
    assert_int_equal(d->irq_level, 1);

    /* used len: everything writable (data + status for IN, status for OUT) */
    queue_req(f, VIRTIO_BLK_T_IN, 0, rbuf, 512);
    queue_req(f, VIRTIO_BLK_T_OUT, 0, rbuf, 512);
    blk_kick(f);
    uint32_t id, len;
    assert_true(used_next(d, 0, &id, &len));
    assert_int_equal(len, 513);
    assert_true(used_next(d, 0, &id, &len));
    assert_int_equal(len, 1);
    assert_false(used_next(d, 0, &id, &len));

    /* The last sector, and an empty transfer at the very end. */
    assert_int_equal(do_req(f, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, wbuf, 512), VIRTIO_BLK_S_OK);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, DISK_SECTORS, rbuf, 0), VIRTIO_BLK_S_OK);
    assert_false(needs_reset(d));
}

/* Header split over two buffers, data over odd-sized ones, status sharing
 * a buffer with data; through an indirect table. */
static void test_odd_layouts(void **state)
{
    struct bfix *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    uint64_t hdr = galloc(d, 16), data = galloc(d, 1024), st = galloc(d, 1);
    fill(gp(d, data, 1024), 1024, 7);
    gw32(d, hdr, VIRTIO_BLK_T_OUT);
    gw64(d, hdr + 8, 10);
    struct tbuf w[] = { { hdr, 8, false },          { hdr + 8, 8, false },
                        { data, 100, false },       { data + 100, 700, false },
                        { data + 800, 224, false }, { st, 1, true } };
    add_chain(d, 0, w, ARRAY_SIZE(w));
    blk_kick(f);
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_OK);
    uint8_t file[1024];
    assert_int_equal(pread(f->disk.fd, file, 1024, 10 * 512), 1024);
    assert_memory_equal(file, gp(d, data, 1024), 1024);

    /* IN with the status byte at the end of the data buffer. */
    uint64_t rb = galloc(d, 513);
    gw32(d, hdr, VIRTIO_BLK_T_IN);
    gw64(d, hdr + 8, 11);
    struct tbuf r[] = { { hdr, 16, false }, { rb, 513, true } };
    add_chain(d, 0, r, 2);
    blk_kick(f);
    assert_int_equal(*gp(d, rb + 512, 1), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(d, rb, 512), file + 512, 512);

    /* The same through an indirect table. */
    uint64_t table = galloc(d, 16 * 3), rb2 = galloc(d, 512), st2 = galloc(d, 1);
    set_desc(d, table, 0, hdr, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc(d, table, 1, rb2, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    set_desc(d, table, 2, st2, 1, VIRTQ_DESC_F_WRITE, 0);
    set_desc(d, d->q[0].desc, 15, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(d, 0, 15);
    blk_kick(f);
    assert_int_equal(*gp(d, st2, 1), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(d, rb2, 512), file + 512, 512);

    /* The largest request: seg_max data segments, header and status. */
    uint64_t big = galloc(d, 256 * VIRTIO_BLK_SEG_MAX);
    uint64_t tb = galloc(d, 16 * VIRTQ_MAX_SEGS);
    set_desc(d, tb, 0, hdr, 16, VIRTQ_DESC_F_NEXT, 1);
    for (unsigned k = 0; k < VIRTIO_BLK_SEG_MAX; k++)
        set_desc(d, tb, 1 + k, big + 256 * k, 256, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
                 (uint16_t)(2 + k));
    set_desc(d, tb, VIRTQ_MAX_SEGS - 1, st2, 1, VIRTQ_DESC_F_WRITE, 0);
    gw64(d, hdr + 8, 0);
    set_desc(d, d->q[0].desc, 14, tb, 16 * VIRTQ_MAX_SEGS, VIRTQ_DESC_F_INDIRECT, 0);
    avail_add(d, 0, 14);
    *gp(d, st2, 1) = 0xee;
    blk_kick(f);
    assert_int_equal(*gp(d, st2, 1), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(d, big + 10 * 512, 1024), file, 1024);
    assert_false(needs_reset(d));
}

static void test_flush_get_id_unsupp(void **state)
{
    struct bfix *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
    assert_int_equal(f->disk.flushes, 1);

    uint64_t id = galloc(d, 32);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_GET_ID, 0, id, 20), VIRTIO_BLK_S_OK);
    const char *base = strrchr(f->disk.path, '/') + 1;
    assert_string_equal((char *)gp(d, id, 20), base);
    virtio_blk_set_serial(f->blk, "0123456789abcdefghijKLMN");
    memset(gp(d, id, 32), 0, 32);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_GET_ID, 0, id, 32), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(d, id, 20), "0123456789abcdefghij", 20);
    assert_int_equal(*gp(d, id + 20, 1), 0);
    memset(gp(d, id, 32), 0, 32);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_GET_ID, 0, id, 5), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(d, id, 6), "01234\0", 6);

    uint64_t buf = galloc(d, 512);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_DISCARD, 0, buf, 16), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, buf, 16), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(do_req(f, 0xffffffffu, 0, buf, 512), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(do_req(f, 2, 0, 0, 0), VIRTIO_BLK_S_UNSUPP);
    assert_false(needs_reset(d));
}

static void test_bad_requests(void **state)
{
    struct bfix *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    uint64_t buf = galloc(d, 2048);
    unsigned reads = f->disk.reads, writes = f->disk.writes;
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, DISK_SECTORS, buf, 512), VIRTIO_BLK_S_IOERR);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, buf, 1024), VIRTIO_BLK_S_IOERR);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_OUT, DISK_SECTORS + 1, buf, 512), VIRTIO_BLK_S_IOERR);
    /* sector * 512 would overflow */
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, 1ull << 61, buf, 512), VIRTIO_BLK_S_IOERR);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_OUT, UINT64_MAX, buf, 512), VIRTIO_BLK_S_IOERR);
    /* not a whole number of sectors */
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, 0, buf, 100), VIRTIO_BLK_S_IOERR);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_OUT, 0, buf, 513), VIRTIO_BLK_S_IOERR);
    assert_int_equal(f->disk.reads, reads);
    assert_int_equal(f->disk.writes, writes);
    assert_false(needs_reset(d));

    /* Backend errors come back as IOERR. */
    f->disk.fail = -EIO;
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, 0, buf, 512), VIRTIO_BLK_S_IOERR);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_OUT, 0, buf, 512), VIRTIO_BLK_S_IOERR);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_IOERR);
    f->disk.fail = 0;
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, 0, buf, 512), VIRTIO_BLK_S_OK);
    assert_false(needs_reset(d));
}

/* Requests that cannot be answered break the device. */
static void test_malformed(void **state)
{
    struct bfix *f = *state;
    struct tdrv *d = &f->d;
    uint64_t hdr = galloc(d, 16), st = galloc(d, 16);
    static const struct {
        uint32_t out, in;
    } cases[] = {
        { 8, 1 },  /* header too short */
        { 0, 1 },  /* no header at all */
        { 15, 1 }, /* one byte short */
        { 16, 0 }, /* no status byte */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        tdrv_probe(d, ACCEPT_ALL, 1, 16);
        gw32(d, hdr, VIRTIO_BLK_T_IN);
        struct tbuf b[2];
        unsigned n = 0;
        if (cases[i].out)
            b[n++] = (struct tbuf){ hdr, cases[i].out, false };
        if (cases[i].in)
            b[n++] = (struct tbuf){ st, cases[i].in, true };
        add_chain(d, 0, b, n);
        blk_kick(f);
        assert_true(needs_reset(d));
        uint32_t id, len;
        assert_false(used_next(d, 0, &id, &len));
        assert_true(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
        /* further notifies do nothing until the reset */
        blk_kick(f);
        wr(d, VIRTIO_MMIO_STATUS, 0);
        assert_false(needs_reset(d));
    }
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
}

static void test_read_only(void **state)
{
    struct bfix *f = *state;
    struct tdrv *d = &f->d;
    assert_true(device_features(d) & F(VIRTIO_BLK_F_RO));
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    assert_true(virtio_has_feature(&f->blk->mmio, VIRTIO_BLK_F_RO));
    uint64_t buf = galloc(d, 512);
    fill(gp(d, buf, 512), 512, 3);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_OUT, 0, buf, 512), VIRTIO_BLK_S_IOERR);
    assert_int_equal(f->disk.writes, 0);
    uint8_t file[512], zero[512] = { 0 };
    assert_int_equal(pread(f->disk.fd, file, 512, 0), 512);
    assert_memory_equal(file, zero, 512);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, 0, buf, 512), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(d, buf, 512), zero, 512);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
}

static unsigned used_count(struct bfix *f)
{
    uint32_t id, len;
    unsigned n = 0;
    while (used_next(&f->d, 0, &id, &len))
        n++;
    return n;
}

static void test_rate_limit_iops(void **state)
{
    (void)state;
    struct rate_limit_config rl = { .iops = 2 };
    struct bfix *f = bfix_new(false, &rl);
    struct tdrv *d = &f->d;
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    uint64_t buf = galloc(d, 512);
    for (int k = 0; k < 4; k++)
        queue_req(f, VIRTIO_BLK_T_IN, 0, buf, 512);
    assert_int_equal(virtio_blk_next_deadline_ns(f->blk), UINT64_MAX);
    blk_kick(f);
    assert_int_equal(used_count(f), 2); /* the burst: one second's worth */
    assert_int_equal(virtio_blk_next_deadline_ns(f->blk), f->now + 500000000ull);
    blk_kick(f); /* a notify does not get around the limit */
    blk_poll_done(f);
    assert_int_equal(used_count(f), 0);
    f->now += 499999999ull;
    blk_poll_done(f);
    assert_int_equal(used_count(f), 0);
    f->now += 1;
    blk_poll_done(f);
    assert_int_equal(used_count(f), 1);
    assert_int_equal(virtio_blk_next_deadline_ns(f->blk), f->now + 500000000ull);
    f->now += 10000000000ull;
    blk_poll_done(f);
    assert_int_equal(used_count(f), 1);
    assert_int_equal(virtio_blk_next_deadline_ns(f->blk), UINT64_MAX);
    assert_false(needs_reset(d));
    teardown((void **)&f);
}

static void test_rate_limit_bytes(void **state)
{
    (void)state;
    struct rate_limit_config rl = { .bps = 4096 };
    struct bfix *f = bfix_new(false, &rl);
    struct tdrv *d = &f->d;
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    uint64_t buf = galloc(d, 8192);
    /* larger than the bucket: goes when the bucket is full, leaves debt */
    queue_req(f, VIRTIO_BLK_T_OUT, 0, buf, 8192);
    queue_req(f, VIRTIO_BLK_T_IN, 0, buf, 512);
    queue_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0); /* costs no bytes, but waits its turn */
    blk_kick(f);
    assert_int_equal(used_count(f), 1);
    /* 4096 of debt + 512: 4608 bytes at 4096/s */
    assert_int_equal(virtio_blk_next_deadline_ns(f->blk), f->now + 1125000000ull);
    f->now += 1125000000ull;
    blk_poll_done(f);
    assert_int_equal(used_count(f), 2);
    assert_int_equal(f->disk.flushes, 1);
    teardown((void **)&f);
}

static void test_reset_while_waiting(void **state)
{
    (void)state;
    struct rate_limit_config rl = { .iops = 1 };
    struct bfix *f = bfix_new(false, &rl);
    struct tdrv *d = &f->d;
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    uint64_t buf = galloc(d, 512);
    fill(gp(d, buf, 512), 512, 9);
    queue_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
    queue_req(f, VIRTIO_BLK_T_OUT, 5, buf, 512); /* waits, then is abandoned */
    blk_kick(f);
    assert_int_equal(used_count(f), 1);
    assert_int_not_equal(virtio_blk_next_deadline_ns(f->blk), UINT64_MAX);
    wr(d, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(virtio_blk_next_deadline_ns(f->blk), UINT64_MAX);
    uint16_t used_idx = gr16(d, d->q[0].used + 2);
    f->now += 5000000000ull;
    blk_poll_done(f);
    assert_int_equal(gr16(d, d->q[0].used + 2), used_idx);
    assert_int_equal(f->disk.writes, 0);
    /* The driver starts over; the device serves the new queue. */
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, 5, buf, 512), VIRTIO_BLK_S_OK);
    uint8_t zero[512] = { 0 };
    assert_memory_equal(gp(d, buf, 512), zero, 512);
    teardown((void **)&f);
}

static void test_save_load(void **state)
{
    struct bfix *f = *state;
    struct tdrv *d = &f->d;
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    uint64_t buf = galloc(d, 512);
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, 0, buf, 512), VIRTIO_BLK_S_OK);
    struct state_buf s;
    state_init_writer(&s);
    virtio_mmio_ops.save(&f->blk->mmio, &s);
    assert_int_equal(s.err, 0);

    /* A new device on the same disk continues the queue. */
    struct virtio_blk *b2 = calloc(1, sizeof(*b2));
    assert_non_null(b2);
    assert_int_equal(virtio_blk_init(b2, &f->disk.b, NULL, &d->ram, tdrv_irq_line(d)), 0);
    struct state_buf r;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(virtio_mmio_ops.load(&b2->mmio, &r), 0);
    assert_int_equal(r.pos, s.len);
    d->t = &b2->mmio;
    assert_int_equal(do_req(f, VIRTIO_BLK_T_IN, 1, buf, 512), VIRTIO_BLK_S_OK);

    /* A different disk is refused. */
    struct tdisk other;
    disk_open(&other, false);
    other.b.size = 4096;
    struct virtio_blk *b3 = calloc(1, sizeof(*b3));
    assert_non_null(b3);
    assert_int_equal(virtio_blk_init(b3, &other.b, NULL, &d->ram, tdrv_irq_line(d)), 0);
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(virtio_mmio_ops.load(&b3->mmio, &r), -EINVAL);
    /* Truncated streams are refused. */
    for (size_t n = 0; n < s.len; n++) {
        state_init_reader(&r, s.data, n);
        assert_int_equal(virtio_mmio_ops.load(&b2->mmio, &r), -EINVAL);
    }
    close(other.fd);
    unlink(other.path);
    virtio_blk_destroy(b3);
    virtio_blk_destroy(b2);
    free(b3);
    free(b2);
    state_free(&s);
    d->t = &f->blk->mmio;
    virtio_blk_destroy(f->blk);
    assert_int_equal(virtio_blk_init(f->blk, NULL, NULL, &d->ram, tdrv_irq_line(d)), -EINVAL);
}

/* --- the asynchronous path: a gated (slow) disk, an event loop ------- */

static uint16_t used_idx(struct bfix *f)
{
    return gr16(&f->d, f->d.q[0].used + 2);
}

/* Run the loop until the used index reaches `want` (each poll blocks until
 * a completion is signalled; bounded so a lost wake fails the test). */
static void loop_until_used(struct event_loop *l, struct bfix *f, uint16_t want)
{
    for (int i = 0; i < 1000 && used_idx(f) != want; i++)
        event_loop_poll(l, 100);
    assert_int_equal(used_idx(f), want);
}

static struct bfix *async_fix(struct event_loop *l, uint32_t qsize)
{
    struct bfix *f = bfix_new(false, NULL);
    assert_int_equal(event_loop_init(l), 0);
    assert_int_equal(virtio_blk_set_loop(f->blk, l), 0);
    tdrv_probe(&f->d, ACCEPT_ALL, 1, qsize);
    return f;
}

static void async_free(struct event_loop *l, struct bfix *f)
{
    teardown((void **)&f);
    event_loop_destroy(l);
}

/* The notify returns with the disk stalled; the request completes only
 * when the disk is done and the event loop has run. */
static void test_async_completes_in_loop(void **state)
{
    (void)state;
    struct event_loop l;
    struct bfix *f = async_fix(&l, 16);
    struct tdrv *d = &f->d;
    uint64_t buf = galloc(d, 1024);
    fill(gp(d, buf, 1024), 1024, 5);
    td_gate(&f->disk, true);
    uint64_t st = queue_req(f, VIRTIO_BLK_T_OUT, 7, buf, 1024);
    notify(d, 0); /* would hang here if the vCPU did the I/O */
    td_wait_waiting(&f->disk, 1);
    assert_int_equal(f->blk->inflight, 1);
    event_loop_poll(&l, 0);
    assert_int_equal(used_idx(f), 0);
    assert_int_equal(*gp(d, st, 1), 0xee);
    assert_int_equal(d->irq_level, 0);
    td_gate(&f->disk, false);
    /* done on the disk, but not answered before the loop runs */
    work_queue_wait_idle(&f->blk->wq);
    assert_int_equal(f->disk.writes, 1);
    assert_int_equal(used_idx(f), 0);
    assert_int_equal(*gp(d, st, 1), 0xee);
    loop_until_used(&l, f, 1);
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_OK);

    /* Through the loop alone: a read of what was written. */
    uint64_t rbuf = galloc(d, 1024);
    td_gate(&f->disk, true);
    st = queue_req(f, VIRTIO_BLK_T_IN, 7, rbuf, 1024);
    notify(d, 0);
    td_wait_waiting(&f->disk, 1);
    assert_int_equal(used_idx(f), 1);
    td_gate(&f->disk, false);
    loop_until_used(&l, f, 2);
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(d, rbuf, 1024), gp(d, buf, 1024), 1024);
    assert_int_equal(d->irq_level, 1);
    assert_int_equal(f->blk->inflight, 0);
    assert_int_equal(f->blk->write_ops, 1);
    assert_int_equal(f->blk->read_ops, 1);

    /* Backend errors come back as IOERR through the same path. */
    f->disk.fail = -EIO;
    st = queue_req(f, VIRTIO_BLK_T_IN, 0, rbuf, 512);
    uint64_t st2 = queue_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
    notify(d, 0);
    loop_until_used(&l, f, 4);
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_IOERR);
    assert_int_equal(*gp(d, st2, 1), VIRTIO_BLK_S_IOERR);
    f->disk.fail = 0;
    assert_false(needs_reset(d));
    async_free(&l, f);
}

/* A read the host has cached is answered on the notify itself, even with
 * the disk stalled; one it has not (-EAGAIN) goes to the worker; and none
 * overtakes a write in flight (order). */
static void test_inline_cached_read(void **state)
{
    (void)state;
    struct event_loop l;
    struct bfix *f = async_fix(&l, 16);
    struct tdrv *d = &f->d;
    f->disk.b.ops = &td_ops_nowait;
    uint64_t buf = galloc(d, 4096), rbuf = galloc(d, 4096);
    fill(gp(d, buf, 4096), 4096, 9);
    uint64_t st = queue_req(f, VIRTIO_BLK_T_OUT, 16, buf, 4096);
    notify(d, 0);
    loop_until_used(&l, f, 1);
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_OK);

    td_gate(&f->disk, true); /* the worker would block */
    st = queue_req(f, VIRTIO_BLK_T_IN, 16, rbuf, 4096);
    notify(d, 0);
    assert_int_equal(used_idx(f), 2); /* answered before notify returned */
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(d, rbuf, 4096), gp(d, buf, 4096), 4096);
    assert_int_equal(f->blk->inline_ops, 1);
    assert_int_equal(f->disk.reads, 0);
    assert_int_equal(f->blk->read_ops, 1);

    /* not cached: the worker reads it */
    f->disk.nowait = -EAGAIN;
    memset(gp(d, rbuf, 4096), 0, 4096);
    st = queue_req(f, VIRTIO_BLK_T_IN, 16, rbuf, 4096);
    notify(d, 0);
    td_wait_waiting(&f->disk, 1);
    assert_int_equal(used_idx(f), 2);
    td_gate(&f->disk, false);
    loop_until_used(&l, f, 3);
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(d, rbuf, 4096), gp(d, buf, 4096), 4096);
    assert_int_equal(f->disk.reads, 1);

    /* a write on the (stalled) disk: the read behind it waits its turn */
    f->disk.nowait = 0;
    td_gate(&f->disk, true);
    fill(gp(d, buf, 4096), 4096, 10);
    queue_req(f, VIRTIO_BLK_T_OUT, 16, buf, 4096);
    st = queue_req(f, VIRTIO_BLK_T_IN, 16, rbuf, 4096);
    notify(d, 0);
    td_wait_waiting(&f->disk, 1);
    assert_int_equal(used_idx(f), 3);
    assert_int_equal(f->blk->inline_ops, 1);
    td_gate(&f->disk, false);
    loop_until_used(&l, f, 5);
    assert_memory_equal(gp(d, rbuf, 4096), gp(d, buf, 4096), 4096); /* the new data */
    async_free(&l, f);
}

/* With the loop's lock (the machine lock) free, the worker answers the
 * request itself: no event-loop round, no eventfd. */
static void test_worker_completes(void **state)
{
    (void)state;
    struct event_loop l;
    pthread_mutex_t machine = PTHREAD_MUTEX_INITIALIZER;
    struct bfix *f = bfix_new(false, NULL);
    assert_int_equal(event_loop_init(&l), 0);
    l.lock = &machine;
    assert_int_equal(virtio_blk_set_loop(f->blk, &l), 0);
    tdrv_probe(&f->d, ACCEPT_ALL, 1, 16);
    struct tdrv *d = &f->d;
    uint64_t buf = galloc(d, 1024);
    fill(gp(d, buf, 1024), 1024, 3);
    uint64_t st = queue_req(f, VIRTIO_BLK_T_OUT, 3, buf, 1024);
    td_gate(&f->disk, true); /* finishes only once the lock is free */
    pthread_mutex_lock(&machine); /* a notify runs under the machine lock */
    notify(d, 0);
    pthread_mutex_unlock(&machine);
    td_wait_waiting(&f->disk, 1);
    td_gate(&f->disk, false);
    /* no event_loop_poll: the worker takes the free lock and answers */
    work_queue_wait_idle(&f->blk->wq);
    assert_int_equal(used_idx(f), 1);
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_OK);
    assert_int_equal(d->irq_level, 1);
    assert_false(f->blk->wq.signalled);
    assert_int_equal(f->blk->inflight, 0);

    /* with the lock held (a drain waiting under it), the eventfd path */
    pthread_mutex_lock(&machine);
    st = queue_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
    notify(d, 0);
    virtio_blk_quiesce(f->blk); /* waits for the worker without deadlock */
    pthread_mutex_unlock(&machine);
    assert_int_equal(used_idx(f), 2);
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_OK);
    teardown((void **)&f);
    event_loop_destroy(&l);
}

/* A flush starts only after every write popped before it finished, and
 * is answered after them. */
static void test_async_flush_after_writes(void **state)
{
    (void)state;
    struct event_loop l;
    struct bfix *f = async_fix(&l, 16);
    struct tdrv *d = &f->d;
    uint64_t buf = galloc(d, 4096);
    td_gate(&f->disk, true);
    queue_req(f, VIRTIO_BLK_T_OUT, 0, buf, 512);
    queue_req(f, VIRTIO_BLK_T_OUT, 8, buf, 4096);
    uint64_t fst = queue_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
    notify(d, 0);
    td_wait_waiting(&f->disk, 1);
    assert_int_equal(f->blk->inflight, 3);
    assert_int_equal(f->disk.nops, 1); /* the first write is still on the disk */
    assert_int_equal(f->disk.flushes, 0);
    queue_req(f, VIRTIO_BLK_T_OUT, 16, buf, 512); /* after the flush */
    notify(d, 0);
    td_gate(&f->disk, false);
    loop_until_used(&l, f, 4);
    assert_string_equal(f->disk.ops, "WWFW");
    /* used ring order: the flush after both writes before it */
    uint32_t id, len, ids[4];
    for (int k = 0; k < 4; k++) {
        assert_true(used_next(d, 0, &id, &len));
        ids[k] = id;
    }
    assert_int_equal(ids[0], 0);
    assert_int_equal(ids[1], 3);
    assert_int_equal(ids[2], 6); /* the flush's chain: header at 6, status at 7 */
    assert_int_equal(*gp(d, fst, 1), VIRTIO_BLK_S_OK);
    async_free(&l, f);
}

struct reset_arg {
    struct bfix *f;
    int done;
};

static void *reset_thread(void *p)
{
    struct reset_arg *a = p;
    wr(&a->f->d, VIRTIO_MMIO_STATUS, 0);
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* A reset with requests in flight cancels those not started, waits for
 * the one on the disk, and answers none of them. */
static void test_async_reset_in_flight(void **state)
{
    (void)state;
    struct event_loop l;
    struct bfix *f = async_fix(&l, 16);
    struct tdrv *d = &f->d;
    uint64_t buf = galloc(d, 512);
    fill(gp(d, buf, 512), 512, 11);
    td_gate(&f->disk, true);
    uint64_t st1 = queue_req(f, VIRTIO_BLK_T_OUT, 1, buf, 512);
    uint64_t st2 = queue_req(f, VIRTIO_BLK_T_OUT, 2, buf, 512);
    uint64_t st3 = queue_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
    notify(d, 0);
    td_wait_waiting(&f->disk, 1);
    struct reset_arg a = { f, 0 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reset_thread, &a), 0);
    /* the reset takes the requests not started off the worker's queue... */
    for (;;) {
        pthread_mutex_lock(&f->blk->wq.mu);
        bool queued = f->blk->wq.head != NULL;
        pthread_mutex_unlock(&f->blk->wq.mu);
        if (!queued)
            break;
        sched_yield();
    }
    /* ...and cannot finish while the first write is on the disk */
    assert_int_equal(__atomic_load_n(&a.done, __ATOMIC_ACQUIRE), 0);
    td_gate(&f->disk, false);
    pthread_join(th, NULL);
    assert_int_equal(f->blk->inflight, 0);
    assert_int_equal(f->disk.writes, 1);
    assert_int_equal(f->disk.flushes, 0);
    event_loop_poll(&l, 0);
    assert_int_equal(used_idx(f), 0);
    assert_int_equal(*gp(d, st1, 1), 0xee);
    assert_int_equal(*gp(d, st2, 1), 0xee);
    assert_int_equal(*gp(d, st3, 1), 0xee);
    /* The driver starts over and the device serves it. */
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    uint64_t st = queue_req(f, VIRTIO_BLK_T_IN, 1, buf, 512);
    notify(d, 0);
    loop_until_used(&l, f, 1);
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_OK);
    async_free(&l, f);
}

/* A guest that makes the same requests available again and again (heads
 * repeated beyond the ring) gets no more than the queue size in flight. */
static void test_async_inflight_bound(void **state)
{
    (void)state;
    struct event_loop l;
    struct bfix *f = async_fix(&l, 4);
    struct tdrv *d = &f->d;
    uint64_t hdr = galloc(d, 16), st = galloc(d, 1);
    gw32(d, hdr, VIRTIO_BLK_T_FLUSH);
    struct tbuf b[2] = { { hdr, 16, false }, { st, 1, true } };
    td_gate(&f->disk, true);
    uint16_t head = add_chain(d, 0, b, 2);
    for (int k = 0; k < 3; k++)
        avail_add(d, 0, head);
    notify(d, 0);
    td_wait_waiting(&f->disk, 1);
    assert_int_equal(f->blk->inflight, 4);
    for (int k = 0; k < 4; k++)
        avail_add(d, 0, head);
    notify(d, 0);
    assert_int_equal(f->blk->inflight, 4);
    assert_true(f->blk->full);
    assert_true(f->blk->njobs <= 4);
    td_gate(&f->disk, false);
    loop_until_used(&l, f, 8);
    assert_int_equal(f->disk.flushes, 8);
    assert_true(f->blk->njobs <= 4);
    assert_false(needs_reset(d));
    async_free(&l, f);
}

/* Save waits for and answers what is in flight: no in-flight state. */
static void test_async_save_drains(void **state)
{
    (void)state;
    struct event_loop l;
    struct bfix *f = async_fix(&l, 16);
    struct tdrv *d = &f->d;
    uint64_t buf = galloc(d, 512);
    uint64_t st = queue_req(f, VIRTIO_BLK_T_OUT, 3, buf, 512);
    notify(d, 0);
    struct state_buf s;
    state_init_writer(&s);
    virtio_mmio_ops.save(&f->blk->mmio, &s);
    assert_int_equal(s.err, 0);
    assert_int_equal(f->blk->inflight, 0);
    assert_int_equal(used_idx(f), 1);
    assert_int_equal(*gp(d, st, 1), VIRTIO_BLK_S_OK);
    state_free(&s);
    async_free(&l, f);
}

static void mmio_save_fn(void *dev, struct state_buf *s)
{
    virtio_mmio_ops.save(dev, s);
}
static int mmio_load_fn(void *dev, struct state_buf *s)
{
    return virtio_mmio_ops.load(dev, s);
}

/* In flight: a request the rate limit holds back, and the buckets' levels,
 * are saved; the restored device serves the request when its time comes.
 * Every truncated or corrupted stream leaves transport and device as they
 * were (the transport no longer commits before the device has checked). */
static void test_save_waiting(void **state)
{
    (void)state;
    struct rate_limit_config rl = { .iops = 1 };
    struct bfix *f = bfix_new(false, &rl);
    struct tdrv *d = &f->d;
    tdrv_probe(d, ACCEPT_ALL, 1, 16);
    uint64_t buf = galloc(d, 512);
    fill(gp(d, buf, 512), 512, 7);
    queue_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
    queue_req(f, VIRTIO_BLK_T_OUT, 5, buf, 512); /* waits for the limit */
    blk_kick(f);
    assert_int_equal(used_count(f), 1);
    assert_int_not_equal(virtio_blk_next_deadline_ns(f->blk), UINT64_MAX);

    assert_true(state_check_device(&f->blk->mmio, mmio_save_fn, mmio_load_fn) > 0);

    struct state_buf s;
    state_init_writer(&s);
    virtio_mmio_ops.save(&f->blk->mmio, &s);
    assert_int_equal(s.err, 0);
    /* a fresh device (full buckets) takes the saved levels: still waiting */
    struct virtio_blk *b2 = calloc(1, sizeof(*b2));
    assert_non_null(b2);
    struct rate_limit_config rl2 = { .iops = 1 };
    assert_int_equal(virtio_blk_init(b2, &f->disk.b, &rl2, &d->ram, tdrv_irq_line(d)), 0);
    rate_limit_set_clock(&b2->rl, f->blk->rl.clock, f->blk->rl.clock_opaque);
    struct state_buf r;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(virtio_mmio_ops.load(&b2->mmio, &r), 0);
    d->t = &b2->mmio;
    assert_int_not_equal(virtio_blk_next_deadline_ns(b2), UINT64_MAX);
    virtio_blk_poll(b2);
    virtio_blk_quiesce(b2);
    assert_int_equal(used_count(f), 0); /* the bucket is still empty */
    f->now += 2000000000ull;
    virtio_blk_poll(b2);
    virtio_blk_quiesce(b2);
    assert_int_equal(used_count(f), 1); /* served after the wait */
    assert_int_equal(f->disk.writes, 1);
    d->t = &f->blk->mmio;
    virtio_blk_destroy(b2);
    free(b2);
    state_free(&s);
    teardown((void **)&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probe_config, setup_rw, teardown),
        cmocka_unit_test_setup_teardown(test_read_write, setup_rw, teardown),
        cmocka_unit_test_setup_teardown(test_odd_layouts, setup_rw, teardown),
        cmocka_unit_test_setup_teardown(test_flush_get_id_unsupp, setup_rw, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup_rw, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup_rw, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup_ro, teardown),
        cmocka_unit_test(test_rate_limit_iops),
        cmocka_unit_test(test_rate_limit_bytes),
        cmocka_unit_test(test_reset_while_waiting),
        cmocka_unit_test_setup_teardown(test_save_load, setup_rw, teardown),
        cmocka_unit_test(test_save_waiting),
        cmocka_unit_test(test_async_completes_in_loop),
        cmocka_unit_test(test_inline_cached_read),
        cmocka_unit_test(test_worker_completes),
        cmocka_unit_test(test_async_flush_after_writes),
        cmocka_unit_test(test_async_reset_in_flight),
        cmocka_unit_test(test_async_inflight_bound),
        cmocka_unit_test(test_async_save_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
