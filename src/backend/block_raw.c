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

static int raw_pwritev(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    struct raw *r = b->priv;
    if (r->probed && off == 0) {
        uint8_t head[4] = { 0 };
        block_iov_to_buf(iov, n, 0, head, sizeof(head));
        if (be32_load(head) == QCOW2_MAGIC) {
            guest_error("raw disk %s: refusing a write of a qcow2 header to sector 0 of an image "
                        "whose format was detected (attach it with format=raw to allow it)",
                        b->path);
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
        condo_err("disk image %s: flush at close failed: %s", b->path, strerror(errno));
    close(r->fd);
    free(r);
    b->priv = NULL;
}

static const struct block_ops raw_ops = {
    .name = "raw",
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .flush = raw_flush,
    .close = raw_close,
};

int block_raw_open(int fd, const char *path, bool read_only, bool probed,
                   struct block_backend *b)
{
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) {
        int e = errno;
        condo_err("cannot find the size of disk image %s: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    if (end % 512) {
        condo_err("raw disk image %s is %lld bytes, not a whole number of 512-byte sectors: "
                  "resize it (truncate -s SIZE %s) to a multiple of 512",
                  path, (long long)end, path);
        close(fd);
        return -EINVAL;
    }
    struct raw *r = calloc(1, sizeof(*r));
    if (!r) {
        close(fd);
        return -ENOMEM;
    }
    r->fd = fd;
    r->probed = probed;
    b->ops = &raw_ops;
    b->priv = r;
    b->size = (uint64_t)end;
    b->read_only = read_only;
    return 0;
}

int block_raw_create(const char *path, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX) {
        condo_err("cannot create %s: size too large", path);
        return -EFBIG;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        if (e == EEXIST)
            condo_err("cannot create %s: the file exists (condo never overwrites a disk; "
                      "remove it first)",
                      path);
        else
            condo_err("cannot create %s: %s", path, strerror(e));
        return -e;
    }
    int ret = 0;
    if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0) {
        ret = -errno;
        condo_err("cannot create %s: %s", path, strerror(-ret));
    }
    close(fd);
    if (ret < 0)
        unlink(path);
    return ret;
}
