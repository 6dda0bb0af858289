/* Block backends: what a virtio-blk device reads and writes. One interface,
 * several formats (raw files, qcow2 v3 with backing files). All offsets and
 * lengths are in bytes; requests are multiples of 512 bytes. */
#ifndef CONDO_BLOCK_H
#define CONDO_BLOCK_H

#include <sys/uio.h>

#include "condo/common.h"

enum block_format { BLOCK_FORMAT_AUTO = 0, BLOCK_FORMAT_RAW, BLOCK_FORMAT_QCOW2 };

struct block_backend;

struct block_ops {
    const char *name;
    int (*preadv)(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
    int (*pwritev)(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
    /* Durable: returns only when written data is on the host disk. */
    int (*flush)(struct block_backend *b);
    void (*close)(struct block_backend *b);
};

struct block_backend {
    const struct block_ops *ops;
    uint64_t size;  /* virtual disk size in bytes */
    bool read_only;
    char *path;
    void *priv;
};

/* Open a disk image; format AUTO detects qcow2 by its magic. Errors are
 * reported with condo_err() naming the file and what to do. */
int block_open(const char *path, enum block_format fmt, bool read_only,
               struct block_backend **out);
void block_close(struct block_backend *b);
/* 0 or negative errno; a read/write beyond the disk's end is -EINVAL. */
int block_preadv(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
int block_pwritev(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
int block_flush(struct block_backend *b);

/* Create an image (condo disk create): raw or qcow2 v3, optionally with a
 * backing file (qcow2 only). */
int block_create(const char *path, enum block_format fmt, uint64_t size, const char *backing);

#endif
