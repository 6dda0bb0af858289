/* qcow2 images (versions 2 and 3): header parsing and validation, opening
 * the backing chain, the ops table, and creating new images. The I/O path
 * is in block_qcow2_io.c. Everything read from the file is checked before
 * use: a damaged or hostile image gives an error naming the problem. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/block_qcow2.h"

/* --- ops ---------------------------------------------------------------- */

static int q_preadv(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    struct qcow2 *q = b->priv;
    pthread_mutex_lock(&q->lock);
    int r = qcow2_io_preadv(q, iov, n, off);
    pthread_mutex_unlock(&q->lock);
    return r;
}

static int q_pwritev(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    struct qcow2 *q = b->priv;
    pthread_mutex_lock(&q->lock);
    int r = qcow2_io_pwritev(q, iov, n, off);
    pthread_mutex_unlock(&q->lock);
    return r;
}

static int q_flush(struct block_backend *b)
{
    struct qcow2 *q = b->priv;
    pthread_mutex_lock(&q->lock);
    int r = qcow2_meta_flush(q, true);
    pthread_mutex_unlock(&q->lock);
    return r;
}

static void qcow2_free(struct qcow2 *q)
{
    qcow2_cache_free(q);
    block_close(q->backing);
    free(q->l1);
    free(q->rt);
    free(q->bounce);
    free(q->scratch);
    if (q->fd >= 0)
        close(q->fd);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static void q_close(struct block_backend *b)
{
    struct qcow2 *q = b->priv;
    if (!q)
        return;
    if (!q->read_only && !q->broken && qcow2_meta_flush(q, true) < 0)
        log_host(q->log, "writing its tables at close failed");
    qcow2_free(q);
    b->priv = NULL;
}

/* A snapshot froze the image (flushed first): it is a base from now on,
 * read by the overlay above and shared with clones. */
static void q_set_read_only(struct block_backend *b)
{
    struct qcow2 *q = b->priv;
    pthread_mutex_lock(&q->lock);
    q->read_only = true;
    (void)flock(q->fd, LOCK_SH | LOCK_NB);
    pthread_mutex_unlock(&q->lock);
}

static const struct block_ops qcow2_ops = {
    .set_read_only = q_set_read_only,
    .name = "qcow2",
    .preadv = q_preadv,
    .pwritev = q_pwritev,
    .flush = q_flush,
    .close = q_close,
};

/* --- open --------------------------------------------------------------- */

static const char *feature_name(const uint8_t *names, uint32_t len, unsigned type, unsigned bit,
                                char *buf, size_t bufsz)
{
    for (uint32_t i = 0; names && i + 48 <= len; i += 48) {
        if (names[i] == type && names[i + 1] == bit) {
            size_t l = strnlen((const char *)names + i + 2, 46);
            snprintf(buf, bufsz, "%.*s", (int)l, (const char *)names + i + 2);
            return buf;
        }
    }
    snprintf(buf, bufsz, "bit %u", bit);
    return buf;
}

static int bad(struct error *err, const char *path, const char *what)
{
    return error_set(err, -EINVAL,
                     "disk image %s is not a valid qcow2 image: %s (inspect it with qemu-img "
                     "check)",
                     path, what);
}

static int unsupported(struct error *err, const char *path, const char *what)
{
    return error_set(err, -ENOTSUP,
                     "disk image %s uses %s, which condo does not support: convert it with "
                     "qemu-img convert -O qcow2 (or -O raw)",
                     path, what);
}

/* Parses the header cluster hdr (cluster_size bytes, zero past the end of
 * the file) into q; returns the backing name and format through the out
 * parameters. */
static int parse_header(struct qcow2 *q, const uint8_t *hdr, char *backing, size_t backing_sz,
                        enum block_format *backing_fmt, struct error *err)
{
    const char *path = q->path;
    uint64_t cs = q->cluster_size;
    uint32_t header_len = QH_V2_LENGTH;
    uint64_t incompat = 0;
    q->refcount_order = 4;
    if (q->version >= 3) {
        header_len = be32_load(hdr + QH_HEADER_LENGTH);
        if (header_len < QH_V3_LENGTH || header_len % 8 || header_len > cs)
            return bad(err, path, "header length out of range");
        incompat = be64_load(hdr + QH_INCOMPAT);
        q->refcount_order = be32_load(hdr + QH_REFCOUNT_ORDER);
        if (q->refcount_order > 6)
            return bad(err, path, "refcount order above 6");
    }

    /* Header extensions, up to the backing file name (or the cluster end). */
    uint64_t backing_off = be64_load(hdr + QH_BACKING_OFFSET);
    uint32_t backing_len = be32_load(hdr + QH_BACKING_SIZE);
    uint64_t ext_end = backing_off && backing_off < cs ? backing_off : cs;
    const uint8_t *names = NULL;
    uint32_t names_len = 0;
    char fmt[32] = "";
    bool have_fmt = false, data_file = false;
    for (uint64_t p = header_len; p + 8 <= ext_end;) {
        uint32_t type = be32_load(hdr + p), len = be32_load(hdr + p + 4);
        if (type == QCOW2_EXT_END)
            break;
        if (len > ext_end - p - 8)
            return bad(err, path, "header extension runs past the header cluster");
        const uint8_t *d = hdr + p + 8;
        switch (type) {
        case QCOW2_EXT_BACKING_FORMAT:
            if (len == 0 || len >= sizeof(fmt))
                return bad(err, path, "backing format name too long");
            memcpy(fmt, d, len);
            fmt[len] = 0;
            have_fmt = true;
            break;
        case QCOW2_EXT_FEATURE_NAMES:
            names = d;
            names_len = len;
            break;
        case QCOW2_EXT_DATA_FILE:
            data_file = true;
            break;
        default:
            break; /* unknown extensions may be ignored */
        }
        p += 8 + qcow2_round_up(len, 8);
    }

    char nb[64];
    uint64_t unknown = incompat & ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT |
                                    QCOW2_INCOMPAT_DATA_FILE | QCOW2_INCOMPAT_COMPRESSION |
                                    QCOW2_INCOMPAT_EXTL2);
    if (unknown) {
        char what[128];
        snprintf(what, sizeof(what), "the unknown incompatible feature '%s'",
                 feature_name(names, names_len, 0, (unsigned)__builtin_ctzll(unknown), nb,
                              sizeof(nb)));
        return unsupported(err, path, what);
    }
    if (be32_load(hdr + QH_CRYPT_METHOD))
        return unsupported(err, path, "encryption");
    if ((incompat & QCOW2_INCOMPAT_DATA_FILE) || data_file)
        return unsupported(err, path, "an external data file");
    if (incompat & QCOW2_INCOMPAT_EXTL2)
        return unsupported(err, path, "extended L2 entries (subclusters)");
    q->incompat = incompat;
    if ((incompat & QCOW2_INCOMPAT_DIRTY) && !q->read_only)
        return error_set(err, -EINVAL,
                         "disk image %s is marked dirty (a program using lazy refcounts did not "
                         "close it): repair it with qemu-img check -r all, or attach it read-only",
                         path);
    if (incompat & QCOW2_INCOMPAT_CORRUPT) {
        if (!q->read_only)
            return error_set(err, -EINVAL,
                             "disk image %s is marked corrupt by QEMU: repair it with qemu-img "
                             "check -r all; until then it can only be attached read-only",
                             path);
        /* Said at the first read (through the backend's rate-limited log). */
    }
    *backing_fmt = BLOCK_FORMAT_AUTO;
    backing[0] = 0;
    if (backing_off) {
        if (backing_len == 0 || backing_len > QCOW2_MAX_BACKING_NAME)
            return bad(err, path, "backing file name length out of range");
        if (backing_off > cs || backing_len > cs - backing_off ||
            backing_off + backing_len > q->file_size)
            return bad(err, path, "backing file name outside the header cluster");
        if (memchr(hdr + backing_off, 0, backing_len))
            return bad(err, path, "backing file name contains a NUL byte");
        if (backing_len >= backing_sz)
            return bad(err, path, "backing file name too long");
        memcpy(backing, hdr + backing_off, backing_len);
        backing[backing_len] = 0;
        if (!strncmp(backing, "json:", 5))
            return unsupported(err, path, "a json: backing file specification");
        if (have_fmt) {
            if (!strcmp(fmt, "qcow2"))
                *backing_fmt = BLOCK_FORMAT_QCOW2;
            else if (!strcmp(fmt, "raw") || !strcmp(fmt, "file"))
                *backing_fmt = BLOCK_FORMAT_RAW;
            else {
                char what[96];
                snprintf(what, sizeof(what), "a backing file of format '%s'", fmt);
                return unsupported(err, path, what);
            }
        }
    }
    return 0;
}

static int load_tables(struct qcow2 *q, const uint8_t *hdr, struct error *err)
{
    const char *path = q->path;
    uint64_t cs = q->cluster_size;
    uint64_t alloc_end = q->alloc_end;

    /* L1: big enough for the disk, inside the file. */
    q->l1_size = be32_load(hdr + QH_L1_SIZE);
    q->l1_offset = be64_load(hdr + QH_L1_OFFSET);
    uint64_t per_l1 = 1ull << (q->cluster_bits + q->l2_bits);
    uint64_t need = q->size / per_l1 + (q->size % per_l1 != 0);
    if ((uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES)
        return bad(err, path, "L1 table larger than 32 MiB");
    if (q->l1_size < need)
        return bad(err, path, "L1 table too small for the virtual disk size");
    if (q->l1_size) {
        if (q->l1_offset & (cs - 1))
            return bad(err, path, "L1 table not aligned to a cluster");
        if (q->l1_offset < cs || q->l1_offset >= q->file_size ||
            q->l1_offset + (uint64_t)q->l1_size * 8 > alloc_end)
            return bad(err, path, "L1 table outside the file");
        uint8_t *raw = malloc((size_t)q->l1_size * 8);
        q->l1 = malloc((size_t)q->l1_size * 8);
        if (!raw || !q->l1) {
            free(raw);
            return error_set(err, -ENOMEM, "out of memory for the L1 table of %s", path);
        }
        int r = block_file_pread(q->fd, raw, (size_t)q->l1_size * 8, q->l1_offset, true);
        for (uint32_t i = 0; r == 0 && i < q->l1_size; i++)
            q->l1[i] = be64_load(raw + (size_t)i * 8);
        free(raw);
        if (r < 0)
            return error_set_errno(err, r, "disk image %s: reading its L1 table failed", path);
    }

    /* Refcount table: inside the file, not overlapping the L1 table. */
    q->rt_offset = be64_load(hdr + QH_RT_OFFSET);
    q->rt_clusters = be32_load(hdr + QH_RT_CLUSTERS);
    if (q->rt_offset & (cs - 1))
        return bad(err, path, "refcount table not aligned to a cluster");
    if (q->rt_clusters == 0 || (uint64_t)q->rt_clusters * cs > QCOW2_MAX_RT_BYTES)
        return bad(err, path, "refcount table size out of range");
    uint64_t rt_bytes = (uint64_t)q->rt_clusters * cs;
    if (q->rt_offset < cs || q->rt_offset >= q->file_size || q->rt_offset + rt_bytes > alloc_end)
        return bad(err, path, "refcount table outside the file");
    if (q->l1_size && q->rt_offset < q->l1_offset + (uint64_t)q->l1_size * 8 &&
        q->l1_offset < q->rt_offset + rt_bytes)
        return bad(err, path, "refcount table overlaps the L1 table");
    q->rt_entries = rt_bytes / 8;
    uint8_t *raw = malloc(rt_bytes);
    q->rt = malloc(rt_bytes);
    if (!raw || !q->rt) {
        free(raw);
        return error_set(err, -ENOMEM, "out of memory for the refcount table of %s", path);
    }
    int r = block_file_pread(q->fd, raw, rt_bytes, q->rt_offset, true);
    for (uint64_t i = 0; r == 0 && i < q->rt_entries; i++)
        q->rt[i] = be64_load(raw + i * 8);
    free(raw);
    if (r < 0)
        return error_set_errno(err, r, "disk image %s: reading its refcount table failed", path);

    /* Every table pointer: aligned, inside the file, clear of the header,
     * the L1 table and the refcount table. */
    uint64_t l1_end = q->l1_offset + (uint64_t)q->l1_size * 8, rt_end = q->rt_offset + rt_bytes;
    for (uint32_t i = 0; i < q->l1_size; i++) {
        uint64_t e = q->l1[i], o = e & QCOW2_OFFSET_MASK;
        if (e & QCOW2_L1_RESERVED)
            return bad(err, path, "L1 entry with reserved bits set");
        if (!o)
            continue;
        if ((o & (cs - 1)) || o >= alloc_end || o < cs || (o < l1_end && o + cs > q->l1_offset) ||
            (o < rt_end && o + cs > q->rt_offset))
            return bad(err, path, "L1 entry points outside the file or into the image's own tables");
    }
    for (uint64_t i = 0; i < q->rt_entries; i++) {
        uint64_t o = q->rt[i];
        if (!o)
            continue;
        if ((o & QCOW2_RT_RESERVED) || o >= alloc_end || o < cs ||
            (q->l1_size && o < l1_end && o + cs > q->l1_offset) ||
            (o < rt_end && o + cs > q->rt_offset))
            return bad(err, path,
                       "refcount table entry points outside the file or into the image's tables");
    }
    return 0;
}

/* Reads and checks the fixed header and the header cluster of q->fd into
 * q; *hdr_out gets the header cluster (the caller frees it). */
static int read_header(struct qcow2 *q, uint8_t **hdr_out, char *backing, size_t backing_sz,
                       enum block_format *bfmt, struct error *err)
{
    const char *path = q->path;
    *hdr_out = NULL;
    /* fstat for a file: a sandboxed VMM opening a snapshot's new layer
     * may not lseek */
    struct stat st;
    off_t end = fstat(q->fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size
                                                               : lseek(q->fd, 0, SEEK_END);
    if (end < 0)
        return error_set_errno(err, -errno, "cannot find the size of disk image %s", path);
    q->file_size = (uint64_t)end;
    uint8_t fixed[QH_V3_LENGTH] = { 0 };
    if (q->file_size < QH_V2_LENGTH)
        return bad(err, path, "the file is too short for a qcow2 header (truncated?)");
    int r = block_file_pread(q->fd, fixed, sizeof(fixed), 0, true);
    if (r < 0)
        return error_set_errno(err, r, "cannot read disk image %s", path);
    if (be32_load(fixed + QH_MAGIC) != QCOW2_MAGIC)
        return bad(err, path, "no qcow2 magic");
    q->version = be32_load(fixed + QH_VERSION);
    if (q->version != 2 && q->version != 3) {
        char what[64];
        snprintf(what, sizeof(what), "qcow2 version %u", q->version);
        return unsupported(err, path, what);
    }
    if (q->version == 3 && q->file_size < QH_V3_LENGTH)
        return bad(err, path, "the file is too short for a qcow2 version 3 header (truncated?)");
    q->cluster_bits = be32_load(fixed + QH_CLUSTER_BITS);
    if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS || q->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
        return bad(err, path, "cluster size out of range (512 bytes to 2 MiB)");
    q->cluster_size = 1ull << q->cluster_bits;
    q->l2_bits = q->cluster_bits - 3;
    q->size = be64_load(fixed + QH_SIZE);
    if (q->size % 512)
        return bad(err, path, "virtual size not a multiple of 512 bytes");
    if (q->size > (1ull << 62))
        return bad(err, path, "virtual size too large");
    q->alloc_end = qcow2_round_up(q->file_size, q->cluster_size);
    q->nb_snapshots = be32_load(fixed + QH_NB_SNAPSHOTS);
    if (q->nb_snapshots && !q->read_only)
        return error_set(err, -ENOTSUP,
                         "disk image %s has %u internal snapshots; condo can only attach such "
                         "an image read-only (delete them with qemu-img snapshot -d, or attach "
                         "it with ,ro)",
                         path, q->nb_snapshots);
    uint8_t *hdr = calloc(1, q->cluster_size);
    if (!hdr)
        return error_set(err, -ENOMEM, "out of memory reading disk image %s", path);
    *hdr_out = hdr;
    if ((r = block_file_pread(q->fd, hdr, q->cluster_size, 0, true)) < 0)
        return error_set_errno(err, r, "cannot read disk image %s", path);
    return parse_header(q, hdr, backing, backing_sz, bfmt, err);
}

/* Context for a failure below the image the user named: which of their
 * images it is about (messages from deeper down already name their layer;
 * one prefix at the top is enough). */
static void chain_context(struct error *err, const struct block_layer *l)
{
    if (!err || !err->code || l->chain->depth != 0)
        return;
    size_t n = strlen("disk image ") + strlen(l->path);
    if (!strncmp(err->msg, "disk image ", 11) && !strncmp(err->msg + 11, l->path, n - 11))
        return;
    error_prefix(err, "disk image %s: its backing file: ", l->path);
}

/* The layer below: the base the user named (backing=PATH), none
 * (backing=none), or the header's name under the backing rule. */
static int open_backing(struct qcow2 *q, const struct block_layer *l, const char *name,
                        enum block_format bfmt, struct error *err)
{
    const char *path = q->path;
    if (l->backing && !strcmp(l->backing, BLOCK_BACKING_NONE))
        return 0;
    if (l->backing && !name[0])
        return error_set(err, -EINVAL,
                         "disk image %s has no backing file: backing= is for overlays", path);
    int r;
    if (l->base) {
        q->backing = l->base;
        return 0;
    }
    if (l->backing) {
        r = block_open_layer(l->backing, NULL, bfmt, true, NULL, l->chain, &q->backing, err);
        if (r < 0)
            error_prefix(err, "disk image %s: its base (backing=%s): ", path, l->backing);
        return r;
    }
    if (!name[0])
        return 0;
    struct block_backing_target *t = malloc(sizeof(*t));
    if (!t)
        return error_set(err, -ENOMEM, "out of memory opening disk image %s", path);
    r = block_backing_resolve(path, name, l->chain->depth == 0 ? path : NULL, t, err);
    if (r == 0) {
        r = block_open_layer(t->path, t, bfmt, true, NULL, l->chain, &q->backing, err);
    }
    if (r < 0)
        chain_context(err, l);
    free(t);
    return r;
}

int block_qcow2_open(int fd, const struct block_layer *l, struct block_backend *b,
                     struct error *err)
{
    struct qcow2 *q = calloc(1, sizeof(*q));
    if (!q) {
        close(fd);
        return error_set(err, -ENOMEM, "out of memory opening disk image %s", l->path);
    }
    q->fd = fd;
    q->path = b->path;
    q->read_only = l->read_only;
    q->log = &b->log;
    pthread_mutex_init(&q->lock, NULL);
    const char *path = q->path;
    uint8_t *hdr = NULL;
    char backing[QCOW2_MAX_BACKING_NAME + 1];
    enum block_format bfmt;
    int r = read_header(q, &hdr, backing, sizeof(backing), &bfmt, err);
    if (r < 0)
        goto fail;
    q->rb_entries = (q->cluster_size * 8) >> q->refcount_order;
    if ((r = load_tables(q, hdr, err)) < 0)
        goto fail;

    /* We keep no bitmaps up to date: clear the bits saying they are (the
     * format asks this of a writer that does not know them). */
    if (q->version >= 3 && be64_load(hdr + QH_AUTOCLEAR) && !q->read_only) {
        uint8_t zero[8] = { 0 };
        r = block_file_pwrite(fd, zero, sizeof(zero), QH_AUTOCLEAR);
        if (r == 0 && fdatasync(fd) < 0)
            r = -errno;
        if (r < 0) {
            error_set_errno(err, r, "disk image %s: updating its header failed", path);
            goto fail;
        }
    }
    if ((r = open_backing(q, l, backing, bfmt, err)) < 0)
        goto fail;
    q->bounce = malloc(2 * q->cluster_size);
    if (!q->bounce) {
        r = error_set(err, -ENOMEM, "out of memory opening disk image %s", path);
        goto fail;
    }
    free(hdr);
    b->ops = &qcow2_ops;
    b->priv = q;
    b->size = q->size;
    b->read_only = q->read_only;
    return 0;
fail:
    free(hdr);
    if (l->base && q->backing == l->base)
        q->backing = NULL; /* still the caller's */
    qcow2_free(q);
    return r;
}

int block_qcow2_probe(int fd, const char *path, struct block_layer_info *li, struct error *err)
{
    struct qcow2 *q = calloc(1, sizeof(*q));
    if (!q)
        return error_set(err, -ENOMEM, "out of memory reading disk image %s", path);
    q->fd = fd;
    q->path = path;
    q->read_only = true;
    q->probe = true;
    pthread_mutex_init(&q->lock, NULL);
    uint8_t *hdr = NULL;
    enum block_format bfmt = BLOCK_FORMAT_AUTO;
    int r = read_header(q, &hdr, li->backing_name, sizeof(li->backing_name), &bfmt, err);
    if (r == 0) {
        li->format = BLOCK_FORMAT_QCOW2;
        li->version = q->version;
        li->virtual_size = q->size;
        li->file_size = q->file_size;
        li->cluster_size = (unsigned)q->cluster_size;
        li->dirty = q->incompat & QCOW2_INCOMPAT_DIRTY;
        li->corrupt = q->incompat & QCOW2_INCOMPAT_CORRUPT;
        li->backing_format = bfmt;
    }
    free(hdr);
    q->fd = -1; /* the caller's */
    qcow2_free(q);
    return r;
}

/* --- create ------------------------------------------------------------- */

static void ext_put(uint8_t *hdr, size_t *pos, uint32_t type, const void *data, uint32_t len)
{
    be32_store(hdr + *pos, type);
    be32_store(hdr + *pos + 4, len);
    memcpy(hdr + *pos + 8, data, len);
    *pos += 8 + qcow2_round_up(len, 8);
}

int block_qcow2_create(const char *path, uint64_t size, const char *backing, struct error *err)
{
    const char *bfmt = NULL;
    if (backing) {
        size_t bl = strlen(backing);
        if (bl == 0 || bl > QCOW2_MAX_BACKING_NAME)
            return error_set(err, -EINVAL,
                             "cannot create %s: the backing file name must be 1 to %d bytes",
                             path, QCOW2_MAX_BACKING_NAME);
        /* The rule condo run applies: an overlay it would refuse to open is
         * refused here, at once, rather than at boot. */
        struct block_backing_target *t = malloc(sizeof(*t));
        if (!t)
            return error_set(err, -ENOMEM, "out of memory creating %s", path);
        struct block_backend *bb = NULL;
        int r = block_backing_resolve(path, backing, NULL, t, err);
        if (r == 0)
            r = block_open_layer(t->path, t, BLOCK_FORMAT_AUTO, true, NULL, NULL, &bb, err);
        free(t);
        if (r < 0) {
            error_prefix(err, "cannot create %s: ", path);
            return r;
        }
        bfmt = bb->ops->name;
        if (size == 0)
            size = bb->size;
        block_close(bb);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        if (e == EEXIST)
            return error_set(err, -e,
                             "cannot create %s: the file exists (condo never overwrites a disk; "
                             "remove it first)",
                             path);
        return error_set_errno(err, -e, "cannot create %s", path);
    }
    int r = block_qcow2_write_new(fd, path, size, backing, bfmt, err);
    close(fd);
    if (r < 0) {
        unlink(path);
        return r;
    }
    /* Make the new directory entry durable too. */
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
             slash ? path : ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int block_qcow2_write_new(int fd, const char *path, uint64_t size, const char *backing,
                          const char *bfmt, struct error *err)
{
    const unsigned cb = QCOW2_CREATE_CLUSTER_BITS;
    const uint64_t cs = 1ull << cb;
    if (backing && (!strlen(backing) || strlen(backing) > QCOW2_MAX_BACKING_NAME || !bfmt))
        return error_set(err, -EINVAL, "cannot create %s: bad backing file name", path);
    if (size % 512)
        return error_set(err, -EINVAL, "cannot create %s: size %llu is not a multiple of 512 bytes",
                         path, (unsigned long long)size);
    uint64_t per_l1 = cs << (cb - 3);
    uint64_t l1_size = size / per_l1 + (size % per_l1 != 0);
    if (l1_size * 8 > QCOW2_MAX_L1_BYTES)
        return error_set(err, -EFBIG, "cannot create %s: size %llu is too large for a qcow2 image",
                         path, (unsigned long long)size);
    uint64_t l1_clusters = (l1_size * 8 + cs - 1) / cs;
    if (l1_clusters == 0)
        l1_clusters = 1;
    uint64_t nclusters = 3 + l1_clusters; /* header, refcount table, block, L1 */

    uint8_t *buf = calloc(3, cs);
    if (!buf)
        return error_set(err, -ENOMEM, "out of memory creating %s", path);
    uint8_t *hdr = buf, *rt = buf + cs, *rb = buf + 2 * cs;
    be32_store(hdr + QH_MAGIC, QCOW2_MAGIC);
    be32_store(hdr + QH_VERSION, 3);
    be32_store(hdr + QH_CLUSTER_BITS, cb);
    be64_store(hdr + QH_SIZE, size);
    be32_store(hdr + QH_L1_SIZE, (uint32_t)l1_size);
    be64_store(hdr + QH_L1_OFFSET, 3 * cs);
    be64_store(hdr + QH_RT_OFFSET, cs);
    be32_store(hdr + QH_RT_CLUSTERS, 1);
    be32_store(hdr + QH_REFCOUNT_ORDER, 4);
    be32_store(hdr + QH_HEADER_LENGTH, QH_V3_LENGTH);
    size_t pos = QH_V3_LENGTH;
    if (backing) {
        ext_put(hdr, &pos, QCOW2_EXT_BACKING_FORMAT, bfmt, (uint32_t)strlen(bfmt));
        pos += 8; /* end of extensions */
        be64_store(hdr + QH_BACKING_OFFSET, pos);
        be32_store(hdr + QH_BACKING_SIZE, (uint32_t)strlen(backing));
        memcpy(hdr + pos, backing, strlen(backing));
    }
    be64_store(rt, 2 * cs);
    for (uint64_t c = 0; c < nclusters; c++)
        be16_store(rb + c * 2, 1);

    int r = block_file_pwrite(fd, buf, 3 * cs, 0);
    if (r == 0 && ftruncate(fd, (off_t)(nclusters * cs)) < 0)
        r = -errno;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    free(buf);
    if (r < 0)
        return error_set_errno(err, r, "cannot create %s", path);
    return 0;
}
