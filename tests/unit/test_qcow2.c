/* qcow2 backend: random writes and reads against an in-memory copy (partial
 * clusters, writes across cluster and L2-table boundaries, overwrites,
 * sparse reads), backing files and chains with copy-on-write, zero
 * clusters, L2 cache eviction, a crash without flush, and images damaged in
 * every table: each must give an error, never a crash or wrong data.
 * Interoperability with QEMU's tools is tests/guest/test_qcow2_interop.sh. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "condo/block.h"

#define CS 65536ull
/* Where block_create puts things (cluster_bits 16). */
#define RT_OFF (1 * CS)
#define RB_OFF (2 * CS)
#define L1_OFF (3 * CS)
/* The first write to a new image allocates its L2 table, then data. */
#define FIRST_L2 (4 * CS)
#define FIRST_DATA (5 * CS)

static char dir[64];
static char img[128], base[128], mid[128];

static int setup(void **state)
{
    strcpy(dir, "/tmp/condo-qcow2-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(img, sizeof(img), "%s/disk.qcow2", dir);
    snprintf(base, sizeof(base), "%s/base.img", dir);
    snprintf(mid, sizeof(mid), "%s/mid.qcow2", dir);
    return 0;
}

static int teardown(void **state)
{
    unlink(img);
    unlink(base);
    unlink(mid);
    rmdir(dir);
    return 0;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill_random(uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)next();
}

static int rd(struct block_backend *b, void *buf, size_t len, uint64_t off)
{
    struct iovec v = { buf, len };
    return block_preadv(b, &v, 1, off);
}

static int wr(struct block_backend *b, const void *buf, size_t len, uint64_t off)
{
    struct iovec v = { (void *)buf, len };
    return block_pwritev(b, &v, 1, off);
}

static void patch(const char *path, uint64_t off, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static void patch_be(const char *path, uint64_t off, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    patch(path, off, b, bytes);
}

static struct block_backend *open_ok(const char *path, bool ro)
{
    struct block_backend *b = NULL;
    assert_int_equal(block_open(path, BLOCK_FORMAT_AUTO, ro, &b, NULL), 0);
    assert_non_null(b);
    return b;
}

static int open_err(const char *path, bool ro)
{
    struct block_backend *b = NULL;
    int r = block_open(path, BLOCK_FORMAT_AUTO, ro, &b, NULL);
    if (r == 0)
        block_close(b);
    assert_null(r == 0 ? NULL : b);
    return r;
}

/* Random writes (often several vectors) and reads against ref; every so
 * often a flush, or a close and reopen. */
static struct block_backend *random_io(struct block_backend *b, const char *path, uint8_t *ref,
                                       uint64_t size, int iters)
{
    const size_t maxsect = 300; /* > 2 clusters */
    uint8_t *buf = malloc(maxsect * 512), *got = malloc(maxsect * 512);
    for (int i = 0; i < iters; i++) {
        size_t ns = 1 + next() % maxsect;
        if (ns > size / 512)
            ns = size / 512;
        uint64_t off = (next() % (size / 512 - ns + 1)) * 512;
        size_t len = ns * 512;
        unsigned op = next() % 10;
        if (op < 5) {
            fill_random(buf, len);
            size_t a = len / 2 + 7, c = len / 4;
            struct iovec v[3] = { { buf, a }, { buf + a, c }, { buf + a + c, len - a - c } };
            assert_int_equal(block_pwritev(b, v, 3, off), 0);
            memcpy(ref + off, buf, len);
        } else if (op < 9) {
            memset(got, 0xee, len);
            struct iovec v[2] = { { got, 512 + 3 }, { got + 515, len - 515 } };
            if (len > 515)
                assert_int_equal(block_preadv(b, v, 2, off), 0);
            else
                assert_int_equal(rd(b, got, len, off), 0);
            assert_memory_equal(got, ref + off, len);
        } else if (next() % 4) {
            assert_int_equal(block_flush(b), 0);
        } else {
            block_close(b);
            b = open_ok(path, false);
        }
    }
    uint8_t *all = malloc(size);
    assert_int_equal(rd(b, all, size, 0), 0);
    assert_memory_equal(all, ref, size);
    free(all);
    free(buf);
    free(got);
    return b;
}

static void test_create_and_random_io(void **state)
{
    /* Not a whole number of clusters: the last one is partial. */
    const uint64_t size = (24 << 20) + 3 * 512;
    assert_int_equal(block_create(img, BLOCK_FORMAT_AUTO, size, NULL, NULL), 0);
    struct block_backend *b = open_ok(img, false);
    assert_string_equal(b->ops->name, "qcow2");
    assert_int_equal(b->size, size);
    uint8_t *ref = calloc(1, size);
    b = random_io(b, img, ref, size, 1500);
    block_close(b);
    b = open_ok(img, true);
    uint8_t *all = malloc(size);
    assert_int_equal(rd(b, all, size, 0), 0);
    assert_memory_equal(all, ref, size);
    block_close(b);
    free(all);
    free(ref);
}

static void test_cluster_and_table_edges(void **state)
{
    /* 1.5 GiB: three L2 tables of 512 MiB each. */
    const uint64_t size = 3ull << 29;
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, size, NULL, NULL), 0);
    struct block_backend *b = open_ok(img, false);
    uint8_t buf[3 * CS], got[3 * CS];
    struct {
        uint64_t off;
        size_t len;
    } w[] = {
        { (1ull << 29) - 512, 1024 },          /* across the first L2 table's end */
        { (1ull << 29) - CS / 2, 2 * CS },     /* unaligned, three clusters */
        { 7 * CS + 512, 512 },                 /* one sector inside a cluster */
        { 7 * CS + 512, 512 },                 /* overwrite it */
        { 9 * CS - 1024, 2048 },               /* across one cluster boundary */
        { size - 3 * CS, 3 * CS },             /* the very end */
    };
    uint8_t zero[CS] = { 0 };
    for (unsigned i = 0; i < ARRAY_SIZE(w); i++) {
        fill_random(buf, w[i].len);
        assert_int_equal(wr(b, buf, w[i].len, w[i].off), 0);
        memset(got, 0, sizeof(got));
        assert_int_equal(rd(b, got, w[i].len, w[i].off), 0);
        assert_memory_equal(got, buf, w[i].len);
        /* The rest of a new cluster reads as zeros. */
        if (i == 2) {
            assert_int_equal(rd(b, got, 512, 7 * CS), 0);
            assert_memory_equal(got, zero, 512);
            assert_int_equal(rd(b, got, CS - 1024, 7 * CS + 1024), 0);
            assert_memory_equal(got, zero, CS - 1024);
        }
    }
    /* Sparse: a long read across unwritten space. */
    uint8_t *big = malloc(64 << 20);
    memset(big, 0xaa, 64 << 20);
    assert_int_equal(rd(b, big, 64 << 20, 1ull << 30), 0);
    for (size_t i = 0; i < (64 << 20); i += 4096)
        assert_memory_equal(big + i, zero, 4096);
    free(big);
    /* Past the end: refused. */
    assert_int_equal(rd(b, got, 1024, size - 512), -EINVAL);
    block_close(b);
}

static void test_l2_cache_eviction(void **state)
{
    /* 40 L2 tables (more than the cache holds), one sector in each. */
    const unsigned n = 40;
    const uint64_t size = (uint64_t)n << 29;
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, size, NULL, NULL), 0);
    struct block_backend *b = open_ok(img, false);
    uint8_t sec[512], got[512];
    for (int pass = 0; pass < 3; pass++) {
        for (unsigned i = 0; i < n; i++) {
            memset(sec, (int)(i + 1 + pass * 50), sizeof(sec));
            assert_int_equal(wr(b, sec, 512, ((uint64_t)i << 29) + pass * CS * 3 + 512), 0);
        }
    }
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < n; i++) {
            for (int pass = 0; pass < 3; pass++) {
                assert_int_equal(rd(b, got, 512, ((uint64_t)i << 29) + pass * CS * 3 + 512), 0);
                memset(sec, (int)(i + 1 + pass * 50), sizeof(sec));
                assert_memory_equal(got, sec, 512);
            }
        }
        block_close(b);
        b = open_ok(img, round == 0);
    }
    block_close(b);
}

static void make_base(uint8_t *ref, uint64_t size)
{
    fill_random(ref, size);
    assert_int_equal(block_create(base, BLOCK_FORMAT_RAW, size, NULL, NULL), 0);
    struct block_backend *b;
    assert_int_equal(block_open(base, BLOCK_FORMAT_RAW, false, &b, NULL), 0);
    assert_int_equal(wr(b, ref, size, 0), 0);
    block_close(b);
}

static void test_backing_cow(void **state)
{
    const uint64_t bsize = 8 << 20, size = 12 << 20;
    uint8_t *ref = calloc(1, size), *orig = malloc(bsize);
    make_base(ref, bsize);
    memcpy(orig, ref, bsize);
    /* Relative to the overlay's directory, as QEMU resolves it. */
    assert_int_equal(block_create(img, BLOCK_FORMAT_AUTO, size, "base.img", NULL), 0);
    struct block_backend *b = open_ok(img, false);
    assert_int_equal(b->size, size);
    /* Unwritten: the base's bytes, then zeros past the base's end. */
    uint8_t *all = malloc(size);
    assert_int_equal(rd(b, all, size, 0), 0);
    assert_memory_equal(all, ref, size);
    /* A partial write copies the rest of its cluster from the base. */
    uint8_t sec[512];
    memset(sec, 0x5a, sizeof(sec));
    assert_int_equal(wr(b, sec, 512, 3 * CS + 1024), 0);
    memcpy(ref + 3 * CS + 1024, sec, 512);
    assert_int_equal(wr(b, sec, 512, bsize - 512), 0); /* last base sector */
    memcpy(ref + bsize - 512, sec, 512);
    assert_int_equal(wr(b, sec, 512, bsize + CS + 512), 0); /* past the base */
    memcpy(ref + bsize + CS + 512, sec, 512);
    b = random_io(b, img, ref, size, 800);
    block_close(b);
    /* The base is untouched. */
    assert_int_equal(block_open(base, BLOCK_FORMAT_RAW, true, &b, NULL), 0);
    assert_int_equal(rd(b, all, bsize, 0), 0);
    assert_memory_equal(all, orig, bsize);
    block_close(b);
    /* The default size of an overlay is its base's. */
    unlink(img);
    assert_int_equal(block_create(img, BLOCK_FORMAT_AUTO, 0, "base.img", NULL), 0);
    b = open_ok(img, true);
    assert_int_equal(b->size, bsize);
    block_close(b);
    free(all);
    free(orig);
    free(ref);
}

static void test_backing_chain(void **state)
{
    const uint64_t size = 4 << 20;
    uint8_t *ref = malloc(size), *all = malloc(size);
    make_base(ref, size);
    assert_int_equal(block_create(mid, BLOCK_FORMAT_QCOW2, 0, "base.img", NULL), 0);
    struct block_backend *b = open_ok(mid, false);
    uint8_t buf[3 * CS];
    fill_random(buf, sizeof(buf));
    assert_int_equal(wr(b, buf, 2 * CS + 1024, CS / 2), 0);
    memcpy(ref + CS / 2, buf, 2 * CS + 1024);
    block_close(b);
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 0, "mid.qcow2", NULL), 0);
    b = open_ok(img, false);
    b = random_io(b, img, ref, size, 300);
    block_close(b);
    /* The middle image still holds only its own write. */
    b = open_ok(mid, true);
    assert_int_equal(rd(b, all, 2 * CS + 1024, CS / 2), 0);
    assert_memory_equal(all, buf, 2 * CS + 1024);
    block_close(b);
    /* A missing backing file is an error at open. */
    unlink(mid);
    struct block_backend *x = NULL;
    assert_true(block_open(img, BLOCK_FORMAT_AUTO, true, &x, NULL) < 0);
    assert_null(x);
    free(ref);
    free(all);
}

static void test_zero_clusters(void **state)
{
    const uint64_t size = 1 << 20;
    uint8_t *ref = malloc(size);
    make_base(ref, size);
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 0, "base.img", NULL), 0);
    struct block_backend *b = open_ok(img, false);
    uint8_t c0[CS];
    memset(c0, 0x77, sizeof(c0));
    assert_int_equal(wr(b, c0, CS, 0), 0);
    block_close(b);
    /* Cluster 0: allocated but zero-flagged; cluster 1: zero, no cluster. */
    patch_be(img, FIRST_L2, (1ull << 63) | FIRST_DATA | 1, 8);
    patch_be(img, FIRST_L2 + 8, 1, 8);
    b = open_ok(img, false);
    uint8_t got[2 * CS], zero[2 * CS] = { 0 };
    assert_int_equal(rd(b, got, 2 * CS, 0), 0);
    assert_memory_equal(got, zero, 2 * CS);
    assert_int_equal(rd(b, got, CS, 2 * CS), 0);
    assert_memory_equal(got, ref + 2 * CS, CS); /* cluster 2 still from the base */
    /* Partial writes: the rest of each cluster stays zero, not the base's. */
    uint8_t sec[512];
    memset(sec, 0x42, sizeof(sec));
    assert_int_equal(wr(b, sec, 512, 1024), 0);
    assert_int_equal(wr(b, sec, 512, CS + 2048), 0);
    block_close(b);
    b = open_ok(img, true);
    assert_int_equal(rd(b, got, 2 * CS, 0), 0);
    memset(zero + 1024, 0x42, 512);
    memset(zero + CS + 2048, 0x42, 512);
    assert_memory_equal(got, zero, 2 * CS);
    block_close(b);
    free(ref);
}

static void test_read_only_refuses_writes(void **state)
{
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 1 << 20, NULL, NULL), 0);
    struct block_backend *b = open_ok(img, true);
    uint8_t sec[512] = { 1 };
    assert_int_equal(wr(b, sec, 512, 0), -EROFS);
    assert_int_equal(block_flush(b), 0);
    assert_int_equal(rd(b, sec, 512, 0), 0);
    assert_int_equal(sec[0], 0);
    block_close(b);
    /* Nothing was written: still four clusters. */
    assert_int_equal(access(img, R_OK), 0);
    FILE *f = fopen(img, "rb");
    fseek(f, 0, SEEK_END);
    assert_int_equal(ftell(f), 4 * CS);
    fclose(f);
}

/* A process that dies without flushing loses only unflushed writes: what
 * was flushed reads back, and the image opens and works. */
static void test_crash_without_flush(void **state)
{
    const uint64_t size = 8 << 20;
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, size, NULL, NULL), 0);
    uint8_t *a = malloc(size / 2);
    fill_random(a, size / 2);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct block_backend *b;
        if (block_open(img, BLOCK_FORMAT_AUTO, false, &b, NULL) < 0)
            _exit(1);
        if (wr(b, a, size / 2, 0) < 0 || block_flush(b) < 0)
            _exit(1);
        uint8_t *x = malloc(size / 2);
        memset(x, 0xcc, size / 2);
        if (wr(b, x, size / 2 - 3 * 512, size / 2 + 512) < 0)
            _exit(1);
        _exit(0); /* no flush, no close */
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct block_backend *b = open_ok(img, false);
    uint8_t *got = malloc(size / 2);
    assert_int_equal(rd(b, got, size / 2, 0), 0);
    assert_memory_equal(got, a, size / 2);
    /* The image keeps working after the crash. */
    assert_int_equal(wr(b, a, size / 2, size / 2), 0);
    assert_int_equal(rd(b, got, size / 2, size / 2), 0);
    assert_memory_equal(got, a, size / 2);
    block_close(b);
    free(a);
    free(got);
}

/* --- damaged images ------------------------------------------------------ */

static void fresh_size(uint64_t size)
{
    unlink(img);
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, size, NULL, NULL), 0);
}

static void fresh(void)
{
    fresh_size(64 << 20);
}

static void test_corrupt_headers(void **state)
{
    fresh();
    assert_int_equal(truncate(img, 50), 0);
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 4, 4, 4); /* version 4 */
    assert_int_equal(open_err(img, true), -ENOTSUP);

    fresh();
    patch_be(img, 20, 31, 4); /* 2 GiB clusters */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 24, 1000, 8); /* size not whole sectors */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 40, 1ull << 40, 8); /* L1 beyond the end of the file */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 40, L1_OFF + 8, 8); /* L1 not aligned */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 36, 0x7fffffff, 4); /* huge L1 */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 36, 0, 4); /* L1 too small for the size */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 24, 1ull << 50, 8); /* size beyond what L1 maps */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 48, 1ull << 40, 8); /* refcount table outside the file */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 56, 0, 4); /* no refcount table */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 56, 0x10000000, 4); /* a huge one */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 48, L1_OFF, 8); /* overlapping the L1 table */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 100, 100, 4); /* header length: too short */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 100, 2 * CS, 4); /* header length: past the cluster */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 96, 7, 4); /* refcount order */
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    /* A header extension longer than the header cluster. */
    patch_be(img, 104, 0x12345678, 4);
    patch_be(img, 108, 0xfffffff0, 4);
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 8, CS - 4, 8); /* backing name past the cluster's end */
    patch_be(img, 16, 100, 4);
    assert_int_equal(open_err(img, true), -EINVAL);

    fresh();
    patch_be(img, 8, 200, 8); /* backing name too long */
    patch_be(img, 16, 5000, 4);
    assert_int_equal(open_err(img, true), -EINVAL);
}

static void test_unsupported_features(void **state)
{
    fresh();
    patch_be(img, 32, 1, 4); /* AES encryption */
    assert_int_equal(open_err(img, true), -ENOTSUP);

    fresh();
    patch_be(img, 32, 2, 4); /* LUKS */
    assert_int_equal(open_err(img, true), -ENOTSUP);

    fresh();
    patch_be(img, 72, 1ull << 2, 8); /* external data file */
    assert_int_equal(open_err(img, true), -ENOTSUP);

    fresh();
    patch_be(img, 72, 1ull << 4, 8); /* extended L2 entries */
    assert_int_equal(open_err(img, true), -ENOTSUP);

    fresh();
    patch_be(img, 72, 1ull << 9, 8); /* unknown incompatible feature */
    assert_int_equal(open_err(img, true), -ENOTSUP);

    fresh();
    patch_be(img, 72, 1, 8); /* dirty: read-only is fine, writing is not */
    assert_int_equal(open_err(img, false), -EINVAL);
    assert_int_equal(open_err(img, true), 0);

    fresh();
    patch_be(img, 72, 2, 8); /* marked corrupt */
    assert_int_equal(open_err(img, false), -EINVAL);
    assert_int_equal(open_err(img, true), 0);

    fresh();
    patch_be(img, 60, 1, 4); /* internal snapshots */
    assert_int_equal(open_err(img, false), -ENOTSUP);
    assert_int_equal(open_err(img, true), 0);

    fresh();
    patch_be(img, 80, 1, 8); /* lazy refcounts (compatible): fine */
    assert_int_equal(open_err(img, false), 0);

    fresh();
    patch_be(img, 88, 1, 8); /* autoclear bitmaps: cleared by a writer */
    assert_int_equal(open_err(img, false), 0);
    int fd = open(img, O_RDONLY);
    uint8_t ac[8] = { 1 };
    assert_int_equal(pread(fd, ac, 8, 88), 8);
    close(fd);
    uint8_t zero8[8] = { 0 };
    assert_memory_equal(ac, zero8, 8);
}

static void test_corrupt_tables(void **state)
{
    /* An L1 entry pointing past the end of the file, or at the header. */
    fresh();
    patch_be(img, L1_OFF, (1ull << 63) | (1ull << 40), 8);
    assert_int_equal(open_err(img, true), -EINVAL);
    fresh();
    patch_be(img, L1_OFF, (1ull << 63) | RT_OFF, 8);
    assert_int_equal(open_err(img, true), -EINVAL);
    fresh();
    patch_be(img, L1_OFF, (1ull << 63) | 0x1000, 8); /* unaligned */
    assert_int_equal(open_err(img, true), -EINVAL);
    /* A refcount table entry pointing outside the file. */
    fresh();
    patch_be(img, RT_OFF + 8, 1ull << 40, 8);
    assert_int_equal(open_err(img, true), -EINVAL);

    /* L2 entries: checked when their table is loaded. */
    uint8_t sec[512], got[512];
    memset(sec, 0x31, sizeof(sec));
    struct block_backend *b;
    const uint64_t bad_entries[] = {
        (1ull << 63) | (1ull << 40),        /* past the end of the file */
        (1ull << 63) | (FIRST_DATA + 512),  /* unaligned */
        (1ull << 63) | FIRST_DATA | 0x100,  /* reserved bits */
        1ull << 63,                         /* no cluster, marked used */
    };
    for (unsigned i = 0; i < ARRAY_SIZE(bad_entries); i++) {
        fresh_size(1ull << 30);
        b = open_ok(img, false);
        assert_int_equal(wr(b, sec, 512, 0), 0);
        block_close(b);
        patch_be(img, FIRST_L2 + 8, bad_entries[i], 8);
        b = open_ok(img, false);
        assert_int_equal(rd(b, got, 512, 0), -EIO);
        assert_int_equal(wr(b, sec, 512, CS), -EIO);
        /* Other tables still work. */
        assert_int_equal(wr(b, sec, 512, 600 << 20), 0);
        assert_int_equal(rd(b, got, 512, 600 << 20), 0);
        assert_memory_equal(got, sec, 512);
        block_close(b);
    }

    /* A data cluster pointing at the image's own tables: never written. */
    fresh();
    b = open_ok(img, false);
    assert_int_equal(wr(b, sec, 512, 0), 0);
    block_close(b);
    patch_be(img, FIRST_L2, (1ull << 63) | L1_OFF, 8);
    b = open_ok(img, false);
    memset(sec, 0xff, sizeof(sec));
    assert_int_equal(wr(b, sec, 512, 0), -EIO);
    block_close(b);
    b = open_ok(img, true); /* the L1 table survived */
    block_close(b);

    /* A compressed cluster: a clear refusal, for reads and writes. */
    fresh();
    b = open_ok(img, false);
    assert_int_equal(wr(b, sec, 512, 0), 0);
    assert_int_equal(wr(b, sec, 512, CS), 0);
    block_close(b);
    patch_be(img, FIRST_L2, (1ull << 62) | FIRST_DATA, 8);
    b = open_ok(img, false);
    assert_int_equal(rd(b, got, 512, 0), -ENOTSUP);
    assert_int_equal(wr(b, sec, 512, 0), -ENOTSUP);
    assert_int_equal(rd(b, got, 512, CS), 0); /* its neighbour is fine */
    assert_memory_equal(got, sec, 512);
    block_close(b);
}

static void set_backing(const char *path, const char *name)
{
    patch_be(path, 8, 512, 8);
    patch_be(path, 16, strlen(name), 4);
    patch(path, 512, name, strlen(name));
}

static void test_backing_loop(void **state)
{
    /* disk.qcow2 -> mid.qcow2 -> disk.qcow2 -> ... */
    assert_int_equal(block_create(mid, BLOCK_FORMAT_QCOW2, 1 << 20, NULL, NULL), 0);
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 0, "mid.qcow2", NULL), 0);
    set_backing(mid, "disk.qcow2");
    assert_true(open_err(img, true) < 0);
    assert_true(open_err(img, false) < 0);
    /* An image naming itself. */
    unlink(mid);
    assert_int_equal(block_create(mid, BLOCK_FORMAT_QCOW2, 1 << 20, NULL, NULL), 0);
    set_backing(mid, "mid.qcow2");
    assert_true(open_err(mid, true) < 0);
    /* A json: specification is QEMU's own business. */
    set_backing(mid, "json:{}");
    assert_int_equal(open_err(mid, true), -ENOTSUP);
}

/* Random bit flips in the metadata (header, refcount table and block, L1,
 * L2), then open, read everything, write a little: whatever the damage, no
 * crash and no access outside a buffer (make SANITIZE=1 check-unit runs
 * this under ASan). What a damaged image reads back is not checked here. */
static void test_random_damage(void **state)
{
    const uint64_t size = 4 << 20;
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, size, NULL, NULL), 0);
    struct block_backend *b = open_ok(img, false);
    uint8_t *buf = malloc(size);
    fill_random(buf, size);
    for (uint64_t off = 0; off < size; off += 3 * CS)
        assert_int_equal(wr(b, buf + off, CS / 2, off + 4096), 0);
    block_close(b);
    FILE *f = fopen(img, "rb");
    fseek(f, 0, SEEK_END);
    size_t flen = (size_t)ftell(f);
    rewind(f);
    uint8_t *orig = malloc(flen), *copy = malloc(flen);
    assert_int_equal(fread(orig, 1, flen, f), flen);
    fclose(f);
    int opened = 0;
    for (int iter = 0; iter < 300; iter++) {
        memcpy(copy, orig, flen);
        int flips = 1 + (int)(next() % 8);
        for (int k = 0; k < flips; k++) {
            /* Mostly the table entries that are in use, sometimes anywhere. */
            static const uint64_t hot[] = { 0, 20, 24, 36, 40, 48, 56, 72, 96, 100,
                                            RT_OFF, RB_OFF, L1_OFF, FIRST_L2, FIRST_L2 + 8 };
            uint64_t at = next() % 2 ? hot[next() % ARRAY_SIZE(hot)] + next() % 8
                                     : next() % (5 * CS);
            copy[at] ^= (uint8_t)(1u << (next() % 8));
        }
        unlink(img);
        int fd = open(img, O_WRONLY | O_CREAT, 0644);
        assert_int_equal(write(fd, copy, flen), (ssize_t)flen);
        close(fd);
        bool ro = next() % 2;
        if (block_open(img, BLOCK_FORMAT_QCOW2, ro, &b, NULL) < 0)
            continue;
        opened++;
        uint64_t n = b->size < size ? b->size : size;
        n &= ~511ull;
        if (n)
            rd(b, buf, n, 0);
        for (int w = 0; w < 4 && !ro && b->size >= 512; w++)
            wr(b, buf, 512, (next() % (b->size / 512)) * 512);
        block_close(b);
    }
    /* Most single-bit flips leave an image that still opens. */
    assert_true(opened > 10);
    free(buf);
    free(orig);
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_random_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_and_table_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_l2_cache_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backing_cow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backing_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_clusters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_refuses_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_without_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backing_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_damage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
