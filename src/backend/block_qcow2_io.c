/* qcow2 reads and writes: guest-to-host mapping through L1/L2 tables, the
 * metadata caches, cluster allocation with refcounts, copy-on-write from the
 * backing chain, and the ordered write-back that keeps the image consistent
 * after a crash at any point.
 *
 * Crash safety rests on one rule from the format: a refcount may be too high
 * (a leak, harmless) but never too low, and a table may only point to
 * something already on disk. New clusters are appended at the end of the
 * file; their data is written at once, their refcounts and L2 entries are
 * updated in the caches, and qcow2_meta_flush writes the caches back in
 * dependency order: refcount blocks, fdatasync, L2 tables, fdatasync, L1.
 * A crash before that loses only writes the guest never flushed, and the
 * image still checks clean (the unreferenced data past the old end has
 * refcount 0). Rare structural changes (a new refcount block, a bigger
 * refcount table) are written through at once with their own fdatasyncs. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/block_qcow2.h"

/* What a guest cluster maps to. */
enum qcow2_kind {
    QK_UNALLOC,     /* not in this image: backing file or zeros */
    QK_ZERO,        /* zero flag, no host cluster */
    QK_ZERO_ALLOC,  /* zero flag on a preallocated host cluster */
    QK_NORMAL,      /* data in a host cluster */
    QK_COMPRESSED,  /* not supported */
};

static void qcow2_corrupt(struct qcow2 *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void qcow2_corrupt(struct qcow2 *q, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_host(q->log, "is corrupt: %s (inspect it with qemu-img check)", msg);
}

static int sync_fd(struct qcow2 *q)
{
    while (fdatasync(q->fd) < 0) {
        if (errno != EINTR) {
            int e = errno;
            log_host(q->log, "fdatasync failed: %s", strerror(e));
            return -e;
        }
    }
    return 0;
}

static void note_file_end(struct qcow2 *q, uint64_t end)
{
    if (end > q->file_size)
        q->file_size = end;
}

/* --- the file shrinking under us ---------------------------------------- */

/* Everything up to q->file_size is in the file: condo found it there or
 * wrote it. If another program truncates the image under a running VM, a
 * read must not quietly return zeros for what was data (or tables), nor a
 * write land in a hole below tables that are gone: as with raw images, the
 * guest gets I/O errors, and no further writes are made. */
static int shrunk(struct qcow2 *q, uint64_t now)
{
    q->broken = true;
    if (!q->shrink_reported) {
        q->shrink_reported = true;
        log_host(q->log,
                 "the image file shrank from %llu to %llu bytes while in use (truncated by "
                 "another program?): its reads and writes now fail",
                 (unsigned long long)q->file_size, (unsigned long long)now);
    }
    return -EIO;
}

static int check_size(struct qcow2 *q)
{
    struct stat st;
    if (fstat(q->fd, &st) < 0)
        return -errno;
    if ((uint64_t)st.st_size < q->file_size)
        return shrunk(q, (uint64_t)st.st_size);
    return 0;
}

/* Reads host bytes [off, off+len) into the n vectors v (exactly len bytes):
 * below q->file_size they must all be in the file; past it nothing was ever
 * written and they read as zeros (an image whose last cluster is short). */
static int host_preadv(struct qcow2 *q, const struct iovec *v, int n, size_t len, uint64_t off)
{
    size_t have = off >= q->file_size ? 0
                  : q->file_size - off < len ? (size_t)(q->file_size - off) : len;
    if (have < len)
        block_iov_zero(v, n, have, len - have);
    if (!have)
        return 0;
    int r;
    if (have == len) {
        r = block_file_preadv(q->fd, v, n, off, false);
    } else {
        struct iovec *part = malloc((size_t)n * sizeof(*part));
        if (!part)
            return -ENOMEM;
        int k = block_iov_slice(v, n, 0, have, part);
        r = block_file_preadv(q->fd, part, k, off, false);
        free(part);
    }
    if (r == -EIO && check_size(q) < 0)
        return -EIO; /* the end of the file came early: reported by shrunk() */
    return r;
}

static int host_pread(struct qcow2 *q, void *buf, size_t len, uint64_t off)
{
    struct iovec v = { buf, len };
    return host_preadv(q, &v, 1, len, off);
}

/* Metadata writes are fatal for the image's consistency when they fail:
 * from then on nothing more is written. */
static int meta_write(struct qcow2 *q, const void *buf, size_t len, uint64_t off)
{
    int r = block_file_pwrite(q->fd, buf, len, off);
    if (r < 0) {
        log_host(q->log, "writing metadata at offset %llu failed: %s; the image is "
                  "left consistent but refuses further writes",
                  (unsigned long long)off, strerror(-r));
        q->broken = true;
        return r;
    }
    note_file_end(q, off + len);
    return 0;
}

/* A data write must never land on the header, the L1 table or the refcount
 * table: a corrupt L2 entry could point there. */
static bool overlaps_meta(struct qcow2 *q, uint64_t off, uint64_t len)
{
    uint64_t end = off + len;
    if (off < q->cluster_size)
        return true;
    uint64_t l1_end = q->l1_offset + (uint64_t)q->l1_size * 8;
    if (q->l1_size && off < l1_end && end > q->l1_offset)
        return true;
    uint64_t rt_end = q->rt_offset + (uint64_t)q->rt_clusters * q->cluster_size;
    return off < rt_end && end > q->rt_offset;
}

/* --- caches ------------------------------------------------------------- */

static struct qcow2_table *cache_find(struct qcow2 *q, struct qcow2_table *c, unsigned n,
                                      uint64_t off)
{
    for (unsigned i = 0; i < n; i++) {
        if (c[i].off == off) {
            c[i].stamp = ++q->clock;
            return &c[i];
        }
    }
    return NULL;
}

/* A slot to load a table into: an empty one, else the least recently used.
 * A dirty victim is written back first (with everything it depends on). */
static int cache_victim(struct qcow2 *q, struct qcow2_table *c, unsigned n,
                        struct qcow2_table **out)
{
    struct qcow2_table *v = NULL;
    for (unsigned i = 0; i < n; i++) {
        if (!c[i].off) {
            v = &c[i];
            break;
        }
        if (!v || c[i].stamp < v->stamp)
            v = &c[i];
    }
    if (v->off && v->dirty) {
        int r = qcow2_meta_flush(q, false);
        if (r < 0)
            return r;
    }
    if (!v->data) {
        v->data = malloc(q->cluster_size);
        if (!v->data)
            return -ENOMEM;
    }
    v->off = 0;
    v->dirty = false;
    v->stamp = ++q->clock;
    *out = v;
    return 0;
}

void qcow2_cache_free(struct qcow2 *q)
{
    for (unsigned i = 0; i < QCOW2_L2_CACHE; i++)
        free(q->l2_cache[i].data);
    for (unsigned i = 0; i < QCOW2_RB_CACHE; i++)
        free(q->rb_cache[i].data);
    memset(q->l2_cache, 0, sizeof(q->l2_cache));
    memset(q->rb_cache, 0, sizeof(q->rb_cache));
}

/* --- refcounts ---------------------------------------------------------- */

static uint64_t rc_max(struct qcow2 *q)
{
    unsigned bits = 1u << q->refcount_order;
    return bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
}

static uint64_t rc_read(struct qcow2 *q, const uint8_t *blk, uint64_t i)
{
    unsigned bits = 1u << q->refcount_order;
    if (bits >= 8) {
        const uint8_t *p = blk + i * (bits / 8);
        uint64_t v = 0;
        for (unsigned k = 0; k < bits / 8; k++)
            v = (v << 8) | p[k];
        return v;
    }
    /* Sub-byte widths: entry 0 is in the least significant bits. */
    uint64_t bit = i * bits;
    return (blk[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
}

static void rc_write(struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v)
{
    unsigned bits = 1u << q->refcount_order;
    if (bits >= 8) {
        uint8_t *p = blk + i * (bits / 8);
        for (int k = (int)(bits / 8) - 1; k >= 0; k--) {
            p[k] = (uint8_t)v;
            v >>= 8;
        }
        return;
    }
    uint64_t bit = i * bits;
    unsigned mask = ((1u << bits) - 1) << (bit % 8);
    blk[bit / 8] = (uint8_t)((blk[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
}

/* The refcount block for refcount-table index ri; *out NULL when none. */
static int rb_get(struct qcow2 *q, uint64_t ri, struct qcow2_table **out)
{
    *out = NULL;
    if (ri >= q->rt_entries || !q->rt[ri])
        return 0;
    uint64_t off = q->rt[ri];
    struct qcow2_table *t = cache_find(q, q->rb_cache, QCOW2_RB_CACHE, off);
    if (t) {
        *out = t;
        return 0;
    }
    int r = cache_victim(q, q->rb_cache, QCOW2_RB_CACHE, &t);
    if (r < 0)
        return r;
    r = host_pread(q, t->data, q->cluster_size, off);
    if (r < 0) {
        if (!q->shrink_reported)
            log_host(q->log, "reading a refcount block failed: %s", strerror(-r));
        return r;
    }
    t->off = off;
    *out = t;
    return 0;
}

int qcow2_refcount_get(struct qcow2 *q, uint64_t host_off, uint64_t *count)
{
    uint64_t c = host_off >> q->cluster_bits;
    struct qcow2_table *t;
    int r = rb_get(q, c / q->rb_entries, &t);
    if (r < 0)
        return r;
    *count = t ? rc_read(q, t->data, c % q->rb_entries) : 0;
    return 0;
}

/* Adds delta to the refcounts of n clusters from host_off (in the cache). */
static int refcount_add(struct qcow2 *q, uint64_t host_off, uint64_t n, int delta)
{
    for (uint64_t k = 0; k < n; k++) {
        uint64_t c = (host_off >> q->cluster_bits) + k;
        struct qcow2_table *t;
        int r = rb_get(q, c / q->rb_entries, &t);
        if (r < 0)
            return r;
        if (!t) {
            qcow2_corrupt(q, "cluster %llu has no refcount block",
                          (unsigned long long)c);
            return -EIO;
        }
        uint64_t v = rc_read(q, t->data, c % q->rb_entries);
        if ((delta < 0 && v == 0) || (delta > 0 && v == rc_max(q))) {
            qcow2_corrupt(q, "refcount of cluster %llu would leave its range",
                          (unsigned long long)c);
            return -EIO;
        }
        rc_write(q, t->data, c % q->rb_entries, delta < 0 ? v - 1 : v + 1);
        t->dirty = true;
    }
    return 0;
}

/* A new refcount block for refcount-table index ri, placed in the first
 * free cluster (which lies in ri's own range, so the block counts itself).
 * Written through: block, fdatasync, table entry, fdatasync. */
static int rb_create(struct qcow2 *q, uint64_t ri)
{
    uint64_t c = q->alloc_end >> q->cluster_bits;
    uint64_t off = q->alloc_end;
    struct qcow2_table *t;
    int r = cache_victim(q, q->rb_cache, QCOW2_RB_CACHE, &t);
    if (r < 0)
        return r;
    memset(t->data, 0, q->cluster_size);
    rc_write(q, t->data, c % q->rb_entries, 1);
    uint8_t ent[8];
    be64_store(ent, off);
    if ((r = meta_write(q, t->data, q->cluster_size, off)) < 0 || (r = sync_fd(q)) < 0 ||
        (r = meta_write(q, ent, 8, q->rt_offset + ri * 8)) < 0 || (r = sync_fd(q)) < 0) {
        q->broken = true;
        return r;
    }
    q->rt[ri] = off;
    t->off = off;
    q->alloc_end += q->cluster_size;
    return 0;
}

/* The refcount table is full: build a bigger one (with the refcount blocks
 * its own clusters need) past the end of the file, write it, then switch
 * the header to it in one small write, then free the old table. */
static int rt_grow(struct qcow2 *q)
{
    uint64_t cs = q->cluster_size, rbe = q->rb_entries;
    uint64_t e = q->alloc_end >> q->cluster_bits;
    uint64_t old_n = q->rt_entries;
    uint64_t nt = (old_n * 2 * 8 + cs - 1) / cs, nb = 1;
    if (nt <= q->rt_clusters)
        nt = q->rt_clusters + 1;
    for (int iter = 0;; iter++) {
        uint64_t end = e + nb + nt;
        uint64_t need = (end - 1) / rbe + 1;
        uint64_t want = need > old_n * 2 ? need : old_n * 2;
        uint64_t nt2 = (want * 8 + cs - 1) / cs;
        uint64_t nb2 = 0;
        for (uint64_t ri = e / rbe; ri <= (end - 1) / rbe; ri++)
            nb2 += ri >= old_n || !q->rt[ri];
        if (nt2 <= nt && nb2 <= nb)
            break;
        nt = nt2 > nt ? nt2 : nt;
        nb = nb2 > nb ? nb2 : nb;
        if (iter > 64 || nt * cs > QCOW2_MAX_RT_BYTES)
            break;
    }
    if (nt * cs > QCOW2_MAX_RT_BYTES) {
        log_host(q->log, "the image file has grown past what its refcount table can "
                  "describe (%u bytes at most)",
                  QCOW2_MAX_RT_BYTES);
        return -EFBIG;
    }
    uint64_t end = e + nb + nt;
    if ((end << q->cluster_bits) > QCOW2_MAX_HOST_OFFSET)
        return -EFBIG;
    uint64_t new_n = nt * cs / 8;
    uint64_t *rt = calloc(new_n, sizeof(*rt));
    uint8_t *table = calloc(nt, cs);
    uint8_t *blocks = calloc(nb, cs);
    int r = -ENOMEM;
    if (!rt || !table || !blocks)
        goto out;
    memcpy(rt, q->rt, old_n * sizeof(*rt));
    /* Assign the new refcount blocks to the ranges that lack one. */
    uint64_t bi = 0;
    for (uint64_t ri = e / rbe; ri <= (end - 1) / rbe; ri++) {
        if (ri >= old_n || !q->rt[ri])
            rt[ri] = (e + bi++) << q->cluster_bits;
    }
    /* Count every new cluster: in a new block, or in an existing one. */
    for (uint64_t c = e; c < end; c++) {
        uint64_t ri = c / rbe;
        if (ri >= old_n || !q->rt[ri]) {
            uint64_t b = (rt[ri] >> q->cluster_bits) - e;
            rc_write(q, blocks + b * cs, c % rbe, 1);
        } else if ((r = refcount_add(q, c << q->cluster_bits, 1, 1)) < 0) {
            goto out;
        }
    }
    for (uint64_t i = 0; i < new_n; i++)
        be64_store(table + i * 8, rt[i]);
    uint8_t hdr[12];
    be64_store(hdr, (e + nb) << q->cluster_bits);
    be32_store(hdr + 8, (uint32_t)nt);
    if ((r = meta_write(q, blocks, nb * cs, e << q->cluster_bits)) < 0 ||
        (r = meta_write(q, table, nt * cs, (e + nb) << q->cluster_bits)) < 0 ||
        (r = qcow2_meta_flush(q, true)) < 0 || (r = meta_write(q, hdr, 12, QH_RT_OFFSET)) < 0 ||
        (r = sync_fd(q)) < 0) {
        q->broken = true;
        goto out;
    }
    uint64_t old_off = q->rt_offset, old_clusters = q->rt_clusters;
    free(q->rt);
    q->rt = rt;
    rt = NULL;
    q->rt_entries = new_n;
    q->rt_offset = (e + nb) << q->cluster_bits;
    q->rt_clusters = (uint32_t)nt;
    q->alloc_end = end << q->cluster_bits;
    /* The old table's clusters are free now; failing to say so only leaks. */
    if (refcount_add(q, old_off, old_clusters, -1) < 0)
        log_host(q->log, "the old refcount table leaks %llu clusters", (unsigned long long)old_clusters);
    r = 0;
out:
    free(rt);
    free(table);
    free(blocks);
    return r;
}

/* Allocates up to want contiguous clusters at the end of the file (fewer
 * when a refcount block's range ends first); their refcounts become 1. */
static int alloc_clusters(struct qcow2 *q, uint64_t want, uint64_t *host, uint64_t *got)
{
    unsigned skipped = 0;
    for (;;) {
        if (q->alloc_end + q->cluster_size > QCOW2_MAX_HOST_OFFSET) {
            log_host(q->log, "the image file reached the largest size qcow2 allows");
            return -EFBIG;
        }
        uint64_t c = q->alloc_end >> q->cluster_bits;
        uint64_t ri = c / q->rb_entries;
        int r;
        if (ri >= q->rt_entries) {
            if ((r = rt_grow(q)) < 0)
                return r;
            continue;
        }
        if (!q->rt[ri]) {
            if ((r = rb_create(q, ri)) < 0)
                return r;
            continue;
        }
        struct qcow2_table *t;
        if ((r = rb_get(q, ri, &t)) < 0)
            return r;
        uint64_t i0 = c % q->rb_entries;
        uint64_t n = q->rb_entries - i0 < want ? q->rb_entries - i0 : want;
        uint64_t k = 0;
        while (k < n && rc_read(q, t->data, i0 + k) == 0)
            k++;
        if (k == 0) {
            /* Counted as used although past the end of the file: leave it. */
            if (++skipped > 65536) {
                qcow2_corrupt(q, "refcounts claim clusters past the end of the file");
                return -EIO;
            }
            q->alloc_end += q->cluster_size;
            continue;
        }
        for (uint64_t j = 0; j < k; j++)
            rc_write(q, t->data, i0 + j, 1);
        t->dirty = true;
        *host = q->alloc_end;
        *got = k;
        q->alloc_end += k * q->cluster_size;
        return 0;
    }
}

/* --- write-back --------------------------------------------------------- */

int qcow2_meta_flush(struct qcow2 *q, bool sync)
{
    if (q->read_only)
        return 0;
    if (q->broken)
        return -EIO;
    int r = check_size(q);
    if (r < 0)
        return r;
    bool l2_dirty = false, l1_dirty = q->l1_dirty_lo < q->l1_dirty_hi;
    for (unsigned i = 0; i < QCOW2_RB_CACHE; i++) {
        struct qcow2_table *t = &q->rb_cache[i];
        if (t->off && t->dirty) {
            if ((r = meta_write(q, t->data, q->cluster_size, t->off)) < 0)
                return r;
            t->dirty = false;
        }
    }
    for (unsigned i = 0; i < QCOW2_L2_CACHE; i++)
        l2_dirty |= q->l2_cache[i].off && q->l2_cache[i].dirty;
    if (l2_dirty || l1_dirty) {
        /* Data and refcounts on disk before any table points to them. */
        if ((r = sync_fd(q)) < 0) {
            q->broken = true;
            return r;
        }
        for (unsigned i = 0; i < QCOW2_L2_CACHE; i++) {
            struct qcow2_table *t = &q->l2_cache[i];
            if (t->off && t->dirty) {
                if ((r = meta_write(q, t->data, q->cluster_size, t->off)) < 0)
                    return r;
                t->dirty = false;
            }
        }
    }
    if (l1_dirty) {
        /* New L2 tables on disk before the L1 entries naming them. */
        if ((r = sync_fd(q)) < 0) {
            q->broken = true;
            return r;
        }
        uint32_t lo = q->l1_dirty_lo, cnt = q->l1_dirty_hi - lo;
        uint8_t *buf = malloc((size_t)cnt * 8);
        if (!buf)
            return -ENOMEM;
        for (uint32_t i = 0; i < cnt; i++)
            be64_store(buf + (size_t)i * 8, q->l1[lo + i]);
        r = meta_write(q, buf, (size_t)cnt * 8, q->l1_offset + (uint64_t)lo * 8);
        free(buf);
        if (r < 0)
            return r;
        q->l1_dirty_lo = q->l1_dirty_hi = 0;
    }
    if (sync && (r = sync_fd(q)) < 0) {
        q->broken = true;
        return r;
    }
    return 0;
}

/* --- mapping ------------------------------------------------------------ */

static void l1_mark_dirty(struct qcow2 *q, uint64_t i)
{
    if (q->l1_dirty_lo >= q->l1_dirty_hi) {
        q->l1_dirty_lo = (uint32_t)i;
        q->l1_dirty_hi = (uint32_t)i + 1;
        return;
    }
    if (i < q->l1_dirty_lo)
        q->l1_dirty_lo = (uint32_t)i;
    if (i + 1 > q->l1_dirty_hi)
        q->l1_dirty_hi = (uint32_t)i + 1;
}

/* Every entry of an L2 table read from the file is checked once, when it
 * is loaded: cluster-aligned, inside the allocated part of the file, no
 * reserved bits. Compressed entries are refused only when used. */
static int l2_validate(struct qcow2 *q, const uint8_t *data, uint64_t off)
{
    uint64_t n = 1ull << q->l2_bits;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t e = be64_load(data + i * 8);
        if (e & QCOW2_COMPRESSED)
            continue;
        uint64_t h = e & QCOW2_OFFSET_MASK;
        const char *why = NULL;
        if (e & QCOW2_L2_RESERVED)
            why = "reserved bits set";
        else if (q->version < 3 && (e & QCOW2_ZERO))
            why = "zero flag in a version 2 image";
        else if (h & (q->cluster_size - 1))
            why = "data cluster not aligned";
        else if (h >= q->alloc_end)
            why = "data cluster beyond the end of the file";
        else if (!h && (e & QCOW2_COPIED))
            why = "entry with no cluster marked as used";
        if (why) {
            qcow2_corrupt(q, "L2 table at offset %llu, entry %llu (0x%016llx): %s",
                          (unsigned long long)off, (unsigned long long)i,
                          (unsigned long long)e, why);
            return -EIO;
        }
    }
    return 0;
}

/* The L2 table for L1 index l1i. Without alloc, *out is NULL when there is
 * none; with alloc, a missing table is created and a shared one refused. */
static int l2_table(struct qcow2 *q, uint64_t l1i, bool alloc, struct qcow2_table **out)
{
    *out = NULL;
    if (l1i >= q->l1_size) {
        qcow2_corrupt(q, "L1 table too small for the disk size");
        return -EIO;
    }
    uint64_t e = q->l1[l1i];
    uint64_t off = e & QCOW2_OFFSET_MASK;
    struct qcow2_table *t;
    int r;
    if (!off) {
        if (!alloc)
            return 0;
        uint64_t host, got;
        if ((r = alloc_clusters(q, 1, &host, &got)) < 0)
            return r;
        if ((r = cache_victim(q, q->l2_cache, QCOW2_L2_CACHE, &t)) < 0)
            return r;
        memset(t->data, 0, q->cluster_size);
        t->off = host;
        t->dirty = true;
        q->l1[l1i] = host | QCOW2_COPIED;
        l1_mark_dirty(q, l1i);
        *out = t;
        return 0;
    }
    if (alloc && !(e & QCOW2_COPIED)) {
        uint64_t rc;
        if ((r = qcow2_refcount_get(q, off, &rc)) < 0)
            return r;
        if (rc != 1) {
            log_host(q->log, "an L2 table is shared (refcount %llu), as with internal "
                      "snapshots; writing to it is not supported",
                      (unsigned long long)rc);
            return -ENOTSUP;
        }
        q->l1[l1i] = e | QCOW2_COPIED;
        l1_mark_dirty(q, l1i);
    }
    t = cache_find(q, q->l2_cache, QCOW2_L2_CACHE, off);
    if (t) {
        *out = t;
        return 0;
    }
    if ((r = cache_victim(q, q->l2_cache, QCOW2_L2_CACHE, &t)) < 0)
        return r;
    r = host_pread(q, t->data, q->cluster_size, off);
    if (r < 0) {
        if (!q->shrink_reported)
            log_host(q->log, "reading an L2 table failed: %s", strerror(-r));
        return r;
    }
    if ((r = l2_validate(q, t->data, off)) < 0)
        return r;
    t->off = off;
    *out = t;
    return 0;
}

static enum qcow2_kind classify(struct qcow2 *q, uint64_t e, uint64_t *host)
{
    *host = e & QCOW2_OFFSET_MASK;
    if (e & QCOW2_COMPRESSED)
        return QK_COMPRESSED;
    if (q->version >= 3 && (e & QCOW2_ZERO))
        return *host ? QK_ZERO_ALLOC : QK_ZERO;
    return *host ? QK_NORMAL : QK_UNALLOC;
}

static uint64_t l2_entry(const struct qcow2_table *t, uint64_t i)
{
    return t ? be64_load(t->data + i * 8) : 0;
}

static void l2_set(struct qcow2_table *t, uint64_t i, uint64_t e)
{
    be64_store(t->data + i * 8, e);
    t->dirty = true;
}

static int compressed_error(struct qcow2 *q)
{
    if (!q->compressed_reported) {
        q->compressed_reported = true;
        log_host(q->log, "holds compressed clusters, which condo does not support: "
                  "decompress it with qemu-img convert -O qcow2 (without -c)");
    }
    return -ENOTSUP;
}

static int scratch_reserve(struct qcow2 *q, int n)
{
    if (q->scratch_n >= n + 2)
        return 0;
    struct iovec *s = realloc(q->scratch, (size_t)(n + 2) * sizeof(*s));
    if (!s)
        return -ENOMEM;
    q->scratch = s;
    q->scratch_n = n + 2;
    return 0;
}

/* Guest bytes [g, g+len) from below this image into iov at skip: the
 * backing file where it has them, zeros past its end or without one. */
static int backing_read(struct qcow2 *q, const struct iovec *iov, int n, size_t skip,
                        size_t len, uint64_t g)
{
    size_t have = 0;
    if (q->backing && g < q->backing->size)
        have = q->backing->size - g < len ? (size_t)(q->backing->size - g) : len;
    if (have) {
        int k = block_iov_slice(iov, n, skip, have, q->scratch);
        int r = q->backing->ops->preadv(q->backing, q->scratch, k, g);
        if (r < 0)
            return r;
    }
    if (have < len)
        block_iov_zero(iov, n, skip + have, len - have);
    return 0;
}

static bool backing_has(struct qcow2 *q, uint64_t g)
{
    return q->backing && g < q->backing->size;
}

static size_t min_sz(uint64_t a, uint64_t b)
{
    return (size_t)(a < b ? a : b);
}

int qcow2_io_preadv(struct qcow2 *q, const struct iovec *iov, int n, uint64_t off)
{
    if ((q->incompat & QCOW2_INCOMPAT_CORRUPT) && !q->corrupt_warned) {
        q->corrupt_warned = true;
        log_host(q->log, "warning: marked corrupt by QEMU; reading it anyway");
    }
    int r = scratch_reserve(q, n);
    if (r < 0)
        return r;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    uint64_t cs = q->cluster_size, l2n = 1ull << q->l2_bits;
    size_t pos = 0;
    while (pos < total) {
        uint64_t g = off + pos, gc = g >> q->cluster_bits, co = g & (cs - 1);
        uint64_t l2i = gc & (l2n - 1);
        struct qcow2_table *t;
        if ((r = l2_table(q, gc >> q->l2_bits, false, &t)) < 0)
            return r;
        uint64_t host;
        enum qcow2_kind kind = classify(q, l2_entry(t, l2i), &host);
        if (kind == QK_ZERO_ALLOC)
            kind = QK_ZERO;
        size_t len = min_sz(cs - co, total - pos);
        /* Extend over following clusters of the same kind (and, for data,
         * contiguous on the host) so a long read is one system call. */
        for (uint64_t j = l2i + 1, next = host + cs; j < l2n && pos + len < total; j++) {
            uint64_t h2;
            enum qcow2_kind k2 = classify(q, l2_entry(t, j), &h2);
            if (k2 == QK_ZERO_ALLOC)
                k2 = QK_ZERO;
            if (k2 != kind || (kind == QK_NORMAL && h2 != next))
                break;
            next += cs;
            len += min_sz(cs, total - pos - len);
        }
        switch (kind) {
        case QK_NORMAL: {
            int k = block_iov_slice(iov, n, pos, len, q->scratch);
            r = host_preadv(q, q->scratch, k, len, host + co);
            if (r < 0 && !q->shrink_reported)
                log_host(q->log, "read failed: %s", strerror(-r));
            break;
        }
        case QK_ZERO:
        case QK_ZERO_ALLOC:
            block_iov_zero(iov, n, pos, len);
            break;
        case QK_UNALLOC:
            r = backing_read(q, iov, n, pos, len, g);
            break;
        case QK_COMPRESSED:
            r = compressed_error(q);
            break;
        }
        if (r < 0)
            return r;
        pos += len;
    }
    return 0;
}

/* The bytes [g, g+len) that surround a partial write into a new cluster:
 * from the backing chain, or zeros. *skip says they are zeros the fresh
 * cluster already holds (a hole past the old end of the file), so they
 * need not be written. */
static int cow_part(struct qcow2 *q, enum qcow2_kind kind, uint64_t g, size_t len,
                    uint8_t *buf, bool *skip)
{
    *skip = false;
    if (!len)
        return 0;
    if (kind != QK_UNALLOC || !backing_has(q, g)) {
        *skip = true;
        return 0;
    }
    struct iovec v = { buf, len };
    return backing_read(q, &v, 1, 0, len, g);
}

/* A write into guest clusters not yet in this image (unallocated or
 * zero-flagged): new clusters, data and copy-on-write edges in one write. */
static int write_new(struct qcow2 *q, struct qcow2_table *t, uint64_t l2i, const struct iovec *iov,
                     int n, size_t pos, size_t total, uint64_t off, size_t *done)
{
    uint64_t cs = q->cluster_size, l2n = 1ull << q->l2_bits;
    uint64_t g = off + pos, co = g & (cs - 1);
    uint64_t host;
    enum qcow2_kind first = classify(q, l2_entry(t, l2i), &host);
    size_t len = min_sz(cs - co, total - pos);
    uint64_t nclu = 1;
    for (uint64_t j = l2i + 1; j < l2n && pos + len < total; j++) {
        enum qcow2_kind k = classify(q, l2_entry(t, j), &host);
        if (k != QK_UNALLOC && k != QK_ZERO)
            break;
        len += min_sz(cs, total - pos - len);
        nclu++;
    }
    uint64_t got;
    int r = alloc_clusters(q, nclu, &host, &got);
    if (r < 0)
        return r;
    if (got < nclu)
        len = (size_t)(got * cs - co);
    uint64_t end_in = (co + len) & (cs - 1);
    size_t tail_len = end_in ? (size_t)(cs - end_in) : 0;
    uint64_t last_host;
    enum qcow2_kind last = classify(q, l2_entry(t, l2i + got - 1), &last_host);

    bool skip_head, skip_tail;
    uint8_t *head = q->bounce, *tail = q->bounce + cs;
    if ((r = cow_part(q, first, g - co, (size_t)co, head, &skip_head)) < 0 ||
        (r = cow_part(q, last, g + len, tail_len, tail, &skip_tail)) < 0)
        goto fail;

    int k = 0;
    if (co && !skip_head)
        q->scratch[k++] = (struct iovec){ head, (size_t)co };
    k += block_iov_slice(iov, n, pos, len, q->scratch + k);
    if (tail_len && !skip_tail)
        q->scratch[k++] = (struct iovec){ tail, tail_len };
    uint64_t start = host + (co && skip_head ? co : 0);
    if ((r = block_file_pwritev(q->fd, q->scratch, k, start)) < 0) {
        log_host(q->log, "write failed: %s", strerror(-r));
        goto fail;
    }
    uint64_t end = host + got * cs;
    if (q->file_size < end && tail_len && skip_tail) {
        /* The tail is a hole; the file must still cover the cluster. */
        if (ftruncate(q->fd, (off_t)end) < 0) {
            r = -errno;
            log_host(q->log, "extending the file failed: %s", strerror(-r));
            goto fail;
        }
    }
    note_file_end(q, end);
    for (uint64_t j = 0; j < got; j++)
        l2_set(t, l2i + j, (host + j * cs) | QCOW2_COPIED);
    *done = len;
    return 0;
fail:
    /* Nothing points to the new clusters: give them back. */
    refcount_add(q, host, got, -1);
    return r;
}

int qcow2_io_pwritev(struct qcow2 *q, const struct iovec *iov, int n, uint64_t off)
{
    if (q->broken)
        return -EIO;
    int r = check_size(q);
    if (r < 0)
        return r;
    r = scratch_reserve(q, n);
    if (r < 0)
        return r;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    uint64_t cs = q->cluster_size, l2n = 1ull << q->l2_bits;
    size_t pos = 0;
    while (pos < total) {
        uint64_t g = off + pos, gc = g >> q->cluster_bits, co = g & (cs - 1);
        uint64_t l2i = gc & (l2n - 1);
        struct qcow2_table *t;
        if ((r = l2_table(q, gc >> q->l2_bits, true, &t)) < 0)
            return r;
        uint64_t e = l2_entry(t, l2i), host;
        enum qcow2_kind kind = classify(q, e, &host);
        size_t len = min_sz(cs - co, total - pos);
        if (kind == QK_COMPRESSED)
            return compressed_error(q);
        if ((kind == QK_NORMAL || kind == QK_ZERO_ALLOC) && !(e & QCOW2_COPIED)) {
            /* Allowed in place only if nothing else uses the cluster. */
            uint64_t rc;
            if ((r = qcow2_refcount_get(q, host, &rc)) < 0)
                return r;
            if (rc != 1) {
                log_host(q->log, "a data cluster is shared (refcount %llu), as with "
                          "internal snapshots; writing to it is not supported",
                          (unsigned long long)rc);
                return -ENOTSUP;
            }
            e |= QCOW2_COPIED;
            l2_set(t, l2i, e);
        }
        if ((kind == QK_NORMAL || kind == QK_ZERO_ALLOC) && overlaps_meta(q, host, cs)) {
            qcow2_corrupt(q, "a data cluster overlaps the image's own tables");
            return -EIO;
        }
        if (kind == QK_NORMAL) {
            for (uint64_t j = l2i + 1, next = host + cs; j < l2n && pos + len < total; j++) {
                uint64_t e2 = l2_entry(t, j), h2;
                if (classify(q, e2, &h2) != QK_NORMAL || h2 != next || !(e2 & QCOW2_COPIED) ||
                    overlaps_meta(q, h2, cs))
                    break;
                next += cs;
                len += min_sz(cs, total - pos - len);
            }
            int k = block_iov_slice(iov, n, pos, len, q->scratch);
            if ((r = block_file_pwritev(q->fd, q->scratch, k, host + co)) < 0) {
                log_host(q->log, "write failed: %s", strerror(-r));
                return r;
            }
            note_file_end(q, host + co + len);
        } else if (kind == QK_ZERO_ALLOC) {
            /* A preallocated zero cluster: write it whole, then drop the flag. */
            memset(q->bounce, 0, cs);
            block_iov_to_buf(iov, n, pos, q->bounce + co, len);
            if ((r = block_file_pwrite(q->fd, q->bounce, cs, host)) < 0) {
                log_host(q->log, "write failed: %s", strerror(-r));
                return r;
            }
            note_file_end(q, host + cs);
            l2_set(t, l2i, host | QCOW2_COPIED);
        } else if ((r = write_new(q, t, l2i, iov, n, pos, total, off, &len)) < 0) {
            return r;
        }
        pos += len;
    }
    return 0;
}
