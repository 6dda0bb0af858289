/* Block front: opens an image (detecting its format), locks it, checks every
 * request against the disk's size before a format sees it, and dispatches.
 * Also the file and iovec helpers the formats share. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/block_internal.h"

#define SECTOR 512u

/* --- file and iovec helpers --------------------------------------------- */

/* One loop for both directions: a short transfer advances through a private
 * copy of the vectors (the caller's stay untouched). */
static int file_rw(int fd, const struct iovec *iov, int n, uint64_t off, bool write,
                   bool zero_tail)
{
    struct iovec local[16];
    struct iovec *v = local;
    if (n <= 0)
        return 0;
    if ((size_t)n > ARRAY_SIZE(local)) {
        v = malloc((size_t)n * sizeof(*v));
        if (!v)
            return -ENOMEM;
    }
    memcpy(v, iov, (size_t)n * sizeof(*v));
    int ret = 0, i = 0;
    while (i < n) {
        if (v[i].iov_len == 0) {
            i++;
            continue;
        }
        int cnt = n - i < IOV_MAX ? n - i : IOV_MAX;
        if (off > (uint64_t)INT64_MAX) {
            ret = -EINVAL;
            break;
        }
        ssize_t r = write ? pwritev(fd, v + i, cnt, (off_t)off) : preadv(fd, v + i, cnt, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            ret = -errno;
            break;
        }
        if (r == 0) {
            if (!write && zero_tail) {
                for (; i < n; i++)
                    memset(v[i].iov_base, 0, v[i].iov_len);
                break;
            }
            ret = -EIO;
            break;
        }
        off += (uint64_t)r;
        size_t left = (size_t)r;
        while (left > 0 && i < n) {
            if (left >= v[i].iov_len) {
                left -= v[i].iov_len;
                i++;
            } else {
                v[i].iov_base = (uint8_t *)v[i].iov_base + left;
                v[i].iov_len -= left;
                left = 0;
            }
        }
    }
    if (v != local)
        free(v);
    return ret;
}

int block_file_preadv_nowait(int fd, const struct iovec *iov, int n, uint64_t off,
                             size_t len)
{
    if (n > IOV_MAX || off > (uint64_t)INT64_MAX)
        return -EAGAIN; /* the ordinary path splits it */
    ssize_t r = preadv2(fd, iov, n, (off_t)off, RWF_NOWAIT);
    if (r < 0)
        return errno == EOPNOTSUPP ? -EOPNOTSUPP : -EAGAIN;
    /* short (only part cached, or the file shrank): the ordinary read
     * does it again, whole, and reports a real error */
    return (size_t)r == len ? 0 : -EAGAIN;
}

int block_file_preadv(int fd, const struct iovec *iov, int n, uint64_t off, bool zero_tail)
{
    return file_rw(fd, iov, n, off, false, zero_tail);
}

int block_file_pwritev(int fd, const struct iovec *iov, int n, uint64_t off)
{
    return file_rw(fd, iov, n, off, true, false);
}

int block_file_pread(int fd, void *buf, size_t len, uint64_t off, bool zero_tail)
{
    struct iovec v = { buf, len };
    return file_rw(fd, &v, 1, off, false, zero_tail);
}

int block_file_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    struct iovec v = { (void *)buf, len };
    return file_rw(fd, &v, 1, off, true, false);
}

int block_iov_slice(const struct iovec *iov, int n, size_t skip, size_t len, struct iovec *out)
{
    int k = 0;
    for (int i = 0; i < n && len > 0; i++) {
        size_t l = iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        size_t take = l - skip < len ? l - skip : len;
        out[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
        out[k].iov_len = take;
        k++;
        len -= take;
        skip = 0;
    }
    return k;
}

/* Walks the iovec part at skip, calling fn on each piece. */
#define IOV_WALK(iov, n, skip, len, body)                                        \
    do {                                                                         \
        size_t s_ = (skip), l_ = (len), done_ = 0;                               \
        for (int i_ = 0; i_ < (n) && l_ > 0; i_++) {                             \
            size_t il_ = (iov)[i_].iov_len;                                      \
            if (s_ >= il_) {                                                     \
                s_ -= il_;                                                       \
                continue;                                                        \
            }                                                                    \
            size_t take_ = il_ - s_ < l_ ? il_ - s_ : l_;                        \
            uint8_t *p_ = (uint8_t *)(iov)[i_].iov_base + s_;                    \
            body;                                                                \
            done_ += take_;                                                      \
            l_ -= take_;                                                         \
            s_ = 0;                                                              \
        }                                                                        \
    } while (0)

void block_iov_to_buf(const struct iovec *iov, int n, size_t skip, void *buf, size_t len)
{
    IOV_WALK(iov, n, skip, len, memcpy((uint8_t *)buf + done_, p_, take_));
}

void block_buf_to_iov(const void *buf, size_t len, const struct iovec *iov, int n, size_t skip)
{
    IOV_WALK(iov, n, skip, len, memcpy(p_, (const uint8_t *)buf + done_, take_));
}

void block_iov_zero(const struct iovec *iov, int n, size_t skip, size_t len)
{
    IOV_WALK(iov, n, skip, len, (memset(p_, 0, take_), (void)done_));
}

/* --- open, close, dispatch ---------------------------------------------- */

/* The images this process has open. flock() locks belong to open file
 * descriptions, so a second open of an image in the same process conflicts
 * with the first just as another process would: the registry tells the two
 * cases apart, and lets the message say what is really wrong. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block_backend *registry;

static struct block_backend *registry_find(uint64_t dev, uint64_t ino)
{
    for (struct block_backend *b = registry; b; b = b->open_next)
        if (b->dev == dev && b->ino == ino)
            return b;
    return NULL;
}

static void registry_remove(struct block_backend *b)
{
    if (!b->registered)
        return;
    pthread_mutex_lock(&registry_lock);
    for (struct block_backend **p = &registry; *p; p = &(*p)->open_next) {
        if (*p == b) {
            *p = b->open_next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    b->registered = false;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int block_open_plain(const char *path, int flags, bool allow_blk, struct error *err)
{
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
    int fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if ((flags & O_ACCMODE) != O_RDONLY && (e == EACCES || e == EROFS || e == EPERM))
            return error_set(err, -e,
                             "cannot open disk image %s for writing: %s (attach it read-only "
                             "with ,ro or fix its permissions)",
                             path, strerror(e));
        return error_set_errno(err, -e, "cannot open disk image %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || (allow_blk && S_ISBLK(st.st_mode)))) {
        close(fd);
        return error_set(err, -EINVAL, "disk image %s is not a regular file%s", path,
                         allow_blk ? " or block device" : "");
    }
    return fd;
}

int block_open_layer(const char *path, const struct block_backing_target *confine,
                     enum block_format fmt, bool read_only, const char *backing,
                     const struct block_chain *up, struct block_backend **out,
                     struct error *err)
{
    *out = NULL;
    unsigned depth = up ? up->depth + 1 : 0;
    if (depth > BLOCK_MAX_CHAIN)
        return error_set(err, -ELOOP, "disk image %s: backing chain deeper than %d files", path,
                         BLOCK_MAX_CHAIN);
    int flags = read_only ? O_RDONLY : O_RDWR;
    int fd = confine ? block_backing_open(confine, flags, err)
                     : block_open_plain(path, flags, depth == 0, err);
    if (fd < 0)
        return fd;
    /* Opened without blocking; the I/O that follows may block as usual. */
    int fl = fcntl(fd, F_GETFL);
    struct stat st;
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return error_set_errno(err, -e, "cannot open disk image %s", path);
    }
    for (const struct block_chain *c = up; c; c = c->up) {
        if (c->dev == (uint64_t)st.st_dev && c->ino == (uint64_t)st.st_ino) {
            close(fd);
            return error_set(err, -ELOOP,
                             "disk image %s names %s as its backing file, which is already in "
                             "the chain above it (as %s): the backing chain loops",
                             up->path, path, c->path);
        }
    }

    struct block_backend *b = calloc(1, sizeof(*b));
    if (b)
        b->path = strdup(path);
    if (!b || !b->path) {
        free(b);
        close(fd);
        return error_set(err, -ENOMEM, "out of memory opening disk image %s", path);
    }
    b->read_only = read_only;
    b->dev = (uint64_t)st.st_dev;
    b->ino = (uint64_t)st.st_ino;
    log_limit_init(&b->log, "disk image %s", base_name(path));

    /* Two VMs writing one image would corrupt it: writers take the image
     * exclusively, readers (e.g. many overlays on one base) share it. */
    pthread_mutex_lock(&registry_lock);
    struct block_backend *mine = registry_find(b->dev, b->ino);
    int r = 0;
    if (mine && (!read_only || !mine->read_only)) {
        r = error_set(err, -EBUSY,
                      "disk image %s is already open in this VM (as %s%s): attach an image "
                      "once, or attach every use of it read-only (,ro)",
                      path, mine->path, mine->read_only ? ", read-only" : ", for writing");
    } else if (flock(fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
        int e = errno;
        if (e == EWOULDBLOCK)
            r = error_set(err, -EBUSY,
                          "disk image %s is in use by another process (%s); condo locks images "
                          "it writes: stop that VM, or attach both read-only",
                          path, read_only ? "it is open for writing" : "it is open");
        else
            r = error_set_errno(err, -e, "cannot lock disk image %s", path);
    }
    if (r == 0) {
        b->open_next = registry;
        registry = b;
        b->registered = true;
    }
    pthread_mutex_unlock(&registry_lock);
    if (r < 0) {
        close(fd);
        free(b->path);
        free(b);
        return r;
    }

    uint8_t magic[4] = { 0 };
    r = block_file_pread(fd, magic, sizeof(magic), 0, true);
    if (r < 0) {
        error_set_errno(err, r, "cannot read disk image %s", path);
        close(fd);
        goto fail;
    }
    bool is_qcow2 = be32_load(magic) == QCOW2_MAGIC;
    struct block_chain self = { b->dev, b->ino, path, depth, up };
    struct block_layer layer = {
        .path = path,
        .read_only = read_only,
        .probed = fmt == BLOCK_FORMAT_AUTO,
        .backing = backing,
        .chain = &self,
    };
    if (fmt == BLOCK_FORMAT_AUTO)
        fmt = is_qcow2 ? BLOCK_FORMAT_QCOW2 : BLOCK_FORMAT_RAW;
    if (fmt == BLOCK_FORMAT_QCOW2) {
        r = block_qcow2_open(fd, &layer, b, err);
    } else if (fmt == BLOCK_FORMAT_RAW) {
        if (backing) {
            close(fd);
            r = error_set(err, -EINVAL,
                          "disk image %s is a raw image: backing= applies to qcow2 overlays",
                          path);
        } else {
            r = block_raw_open(fd, &layer, b, err);
        }
    } else {
        close(fd);
        r = error_set(err, -EINVAL, "disk image %s: unknown format %d", path, (int)fmt);
    }
    if (r < 0)
        goto fail;
    *out = b;
    return 0;
fail:
    registry_remove(b);
    free(b->path);
    free(b);
    return r;
}

int block_open_with(const char *path, const struct block_open_options *opt,
                    struct block_backend **out, struct error *err)
{
    if (opt->backing && !strcmp(opt->backing, BLOCK_BACKING_NONE) && !opt->read_only) {
        *out = NULL;
        return error_set(err, -EINVAL,
                         "disk image %s: backing=none opens the top layer alone and needs ,ro "
                         "(writing it would put zeros instead of the base's data into partly "
                         "written clusters)",
                         path);
    }
    return block_open_layer(path, NULL, opt->format, opt->read_only, opt->backing, NULL, out,
                            err);
}

int block_open(const char *path, enum block_format fmt, bool read_only,
               struct block_backend **out, struct error *err)
{
    struct block_open_options o = { .format = fmt, .read_only = read_only };
    return block_open_with(path, &o, out, err);
}

void block_close(struct block_backend *b)
{
    if (!b)
        return;
    if (b->ops && b->ops->close)
        b->ops->close(b);
    log_limit_finish(&b->log);
    registry_remove(b);
    free(b->path);
    free(b);
}

/* The request's length, or -EINVAL for a request that is not whole sectors
 * inside the disk (the device layer should have refused it already). */
static int64_t request_len(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    if (n < 0 || n > IOV_MAX || (n > 0 && !iov))
        return -EINVAL;
    uint64_t len = 0;
    for (int i = 0; i < n; i++) {
        if (iov[i].iov_len > b->size || len + iov[i].iov_len > b->size)
            return -EINVAL;
        len += iov[i].iov_len;
    }
    if (off % SECTOR || len % SECTOR || off > b->size || len > b->size - off)
        return -EINVAL;
    return (int64_t)len;
}

int block_preadv(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    int64_t len = request_len(b, iov, n, off);
    if (len <= 0)
        return (int)len;
    return b->ops->preadv(b, iov, n, off);
}

int block_preadv_nowait(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    if (!b->ops->preadv_nowait)
        return -EOPNOTSUPP;
    int64_t len = request_len(b, iov, n, off);
    if (len <= 0)
        return (int)len;
    return b->ops->preadv_nowait(b, iov, n, off);
}

int block_pwritev(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    if (b->read_only)
        return -EROFS;
    int64_t len = request_len(b, iov, n, off);
    if (len <= 0)
        return (int)len;
    return b->ops->pwritev(b, iov, n, off);
}

int block_flush(struct block_backend *b)
{
    if (b->read_only)
        return 0;
    return b->ops->flush(b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

int block_create(const char *path, enum block_format fmt, uint64_t size, const char *backing,
                 struct error *err)
{
    if (fmt == BLOCK_FORMAT_AUTO)
        fmt = (backing || ends_with(path, ".qcow2")) ? BLOCK_FORMAT_QCOW2 : BLOCK_FORMAT_RAW;
    if (size % SECTOR)
        return error_set(err, -EINVAL, "cannot create %s: size %llu is not a multiple of 512 bytes",
                         path, (unsigned long long)size);
    if (fmt == BLOCK_FORMAT_RAW) {
        if (backing)
            return error_set(err, -EINVAL,
                             "cannot create %s: a raw image cannot have a backing file (use qcow2)",
                             path);
        return block_raw_create(path, size, err);
    }
    if (fmt == BLOCK_FORMAT_QCOW2)
        return block_qcow2_create(path, size, backing, err);
    return error_set(err, -EINVAL, "cannot create %s: unknown format %d", path, (int)fmt);
}
