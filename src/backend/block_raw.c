/* Raw images: the disk is the file, byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/block_internal.h"

struct raw {
    int fd;
    /* The format was detected, not given. A guest could then write a qcow2
     * header into sector 0, and the next detection would read the file as
     * qcow2 whose "backing file" names any host file: such writes are
     * refused (attach the image with format=raw to allow them). */
    bool probed;
};

static int raw_preadv(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    struct raw *r = b->priv;
    /* A short read means the file shrank under us: an error, not zeros. */
    return block_file_preadv(r->fd, iov, n, off, false);
}

static int raw_preadv_nowait(struct block_backend *b, const struct iovec *iov, int n,
                             uint64_t off)
{
    struct raw *r = b->priv;
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len; /* block_preadv_nowait checked the sum */
    return block_file_preadv_nowait(r->fd, iov, n, off, len);
}

static int raw_pwritev(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    struct raw *r = b->priv;
    if (r->probed && off == 0) {
        uint8_t head[4] = { 0 };
        block_iov_to_buf(iov, n, 0, head, sizeof(head));
        if (be32_load(head) == QCOW2_MAGIC) {
            log_guest(&b->log,
                      "refusing a write of a qcow2 header to sector 0 of a raw image whose "
                      "format was detected (attach it with format=raw to allow it)");
            return -EPERM;
        }
    }
    return block_file_pwritev(r->fd, iov, n, off);
}

static int raw_flush(struct block_backend *b)
{
    struct raw *r = b->priv;
    while (fdatasync(r->fd) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

static void raw_close(struct block_backend *b)
{
    struct raw *r = b->priv;
    if (!r)
        return;
    if (!b->read_only && fdatasync(r->fd) < 0)
        log_host(&b->log, "flush at close failed: %s", strerror(errno));
    close(r->fd);
    free(r);
    b->priv = NULL;
}

static const struct block_ops raw_ops = {
    .name = "raw",
    .preadv = raw_preadv,
    .preadv_nowait = raw_preadv_nowait,
    .pwritev = raw_pwritev,
    .flush = raw_flush,
    .close = raw_close,
};

int block_raw_open(int fd, const struct block_layer *l, struct block_backend *b,
                   struct error *err)
{
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) {
        int e = errno;
        close(fd);
        return error_set_errno(err, -e, "cannot find the size of disk image %s", l->path);
    }
    if (end % 512) {
        close(fd);
        return error_set(err, -EINVAL,
                         "raw disk image %s is %lld bytes, not a whole number of 512-byte "
                         "sectors: resize it (truncate -s SIZE %s) to a multiple of 512",
                         l->path, (long long)end, l->path);
    }
    struct raw *r = calloc(1, sizeof(*r));
    if (!r) {
        close(fd);
        return error_set(err, -ENOMEM, "out of memory opening disk image %s", l->path);
    }
    r->fd = fd;
    r->probed = l->probed;
    b->ops = &raw_ops;
    b->priv = r;
    b->size = (uint64_t)end;
    b->read_only = l->read_only;
    return 0;
}

int block_raw_create(const char *path, uint64_t size, struct error *err)
{
    if (size > (uint64_t)INT64_MAX)
        return error_set(err, -EFBIG, "cannot create %s: size too large", path);
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
    int ret = 0;
    if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0)
        ret = error_set_errno(err, -errno, "cannot create %s", path);
    close(fd);
    if (ret < 0)
        unlink(path);
    return ret;
}
