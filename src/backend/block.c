/* Block front: opens an image (detecting its format), locks it, checks every
 * request against the disk's size before a format sees it, and dispatches.
 * Also the file and iovec helpers the formats share. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

int block_open_depth(const char *path, enum block_format fmt, bool read_only, unsigned depth,
                     struct block_backend **out)
{
    *out = NULL;
    if (depth > BLOCK_MAX_CHAIN) {
        condo_err("disk image %s: backing chain deeper than %d files (does an image name "
                  "itself, or a loop of images, as its backing file?)",
                  path, BLOCK_MAX_CHAIN);
        return -ELOOP;
    }
    int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (!read_only && (e == EACCES || e == EROFS || e == EPERM))
            condo_err("cannot open disk image %s for writing: %s (attach it read-only with ,ro "
                      "or fix its permissions)",
                      path, strerror(e));
        else
            condo_err("cannot open disk image %s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
        condo_err("disk image %s is not a regular file or block device", path);
        close(fd);
        return -EINVAL;
    }
    /* Two VMs writing one image would corrupt it: writers take the image
     * exclusively, readers (e.g. many overlays on one base) share it. */
    if (flock(fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
        int e = errno;
        if (e == EWOULDBLOCK)
            condo_err("disk image %s is in use by another process (%s); condo locks images "
                      "it writes: stop that VM, or attach both read-only",
                      path, read_only ? "it is open for writing" : "it is open");
        else
            condo_err("cannot lock disk image %s: %s", path, strerror(e));
        close(fd);
        return e == EWOULDBLOCK ? -EBUSY : -e;
    }

    uint8_t magic[4] = { 0 };
    int r = block_file_pread(fd, magic, sizeof(magic), 0, true);
    if (r < 0) {
        condo_err("cannot read disk image %s: %s", path, strerror(-r));
        close(fd);
        return r;
    }
    bool is_qcow2 = be32_load(magic) == QCOW2_MAGIC;
    bool probed = fmt == BLOCK_FORMAT_AUTO;
    if (fmt == BLOCK_FORMAT_AUTO)
        fmt = is_qcow2 ? BLOCK_FORMAT_QCOW2 : BLOCK_FORMAT_RAW;

    struct block_backend *b = calloc(1, sizeof(*b));
    if (b)
        b->path = strdup(path);
    if (!b || !b->path) {
        free(b);
        close(fd);
        return -ENOMEM;
    }
    b->read_only = read_only;
    if (fmt == BLOCK_FORMAT_QCOW2)
        r = block_qcow2_open(fd, path, read_only, depth, b);
    else if (fmt == BLOCK_FORMAT_RAW)
        r = block_raw_open(fd, path, read_only, probed, b);
    else {
        close(fd);
        r = -EINVAL;
    }
    if (r < 0) {
        free(b->path);
        free(b);
        return r;
    }
    *out = b;
    return 0;
}

int block_open(const char *path, enum block_format fmt, bool read_only,
               struct block_backend **out)
{
    return block_open_depth(path, fmt, read_only, 0, out);
}

void block_close(struct block_backend *b)
{
    if (!b)
        return;
    if (b->ops && b->ops->close)
        b->ops->close(b);
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

int block_create(const char *path, enum block_format fmt, uint64_t size, const char *backing)
{
    if (fmt == BLOCK_FORMAT_AUTO)
        fmt = (backing || ends_with(path, ".qcow2")) ? BLOCK_FORMAT_QCOW2 : BLOCK_FORMAT_RAW;
    if (size % SECTOR) {
        condo_err("cannot create %s: size %llu is not a multiple of 512 bytes", path,
                  (unsigned long long)size);
        return -EINVAL;
    }
    if (fmt == BLOCK_FORMAT_RAW) {
        if (backing) {
            condo_err("cannot create %s: a raw image cannot have a backing file (use qcow2)",
                      path);
            return -EINVAL;
        }
        return block_raw_create(path, size);
    }
    if (fmt == BLOCK_FORMAT_QCOW2)
        return block_qcow2_create(path, size, backing);
    return -EINVAL;
}
