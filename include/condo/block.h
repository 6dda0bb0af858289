/* Block backends: what a virtio-blk device reads and writes. One interface,
 * several formats (raw files, qcow2 versions 2 and 3 with backing files);
 * docs/DISKS.md describes formats, limits and the crash-safe write order.
 * All offsets and lengths are in bytes; requests are whole 512-byte
 * sectors inside the disk. A backend may be used from any thread (qcow2
 * serialises its requests internally), but close only when none is in
 * flight. */
#ifndef CONDO_BLOCK_H
#define CONDO_BLOCK_H

#include <sys/uio.h>

#include "condo/common.h"

enum block_format { BLOCK_FORMAT_AUTO = 0, BLOCK_FORMAT_RAW, BLOCK_FORMAT_QCOW2 };

struct block_backend;

struct block_ops {
    const char *name; /* "raw" or "qcow2" */
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

/* Open a disk image; format AUTO detects qcow2 by its magic (and then
 * refuses guest writes that would put that magic into sector 0 of a raw
 * image). Backing files are opened read-only. Writers lock the image
 * exclusively, readers shared: a conflict is -EBUSY. Errors are reported
 * with condo_err() naming the file and what to do: the errno of a failed
 * open (-ENOENT, -EACCES, ...), -EINVAL for a damaged image, -ENOTSUP for
 * a feature condo does not implement (encryption, external data files,
 * subclusters, internal snapshots when writing, ...). On failure *out is
 * NULL. */
int block_open(const char *path, enum block_format fmt, bool read_only,
               struct block_backend **out);
/* Writes back what is cached (qcow2) and closes; NULL is fine. */
void block_close(struct block_backend *b);
/* 0 or negative errno: -EINVAL for a request not in whole sectors or
 * beyond the disk's end, -EROFS for a write to a read-only backend, -EIO
 * for a damaged table met on the way, -ENOTSUP for a compressed qcow2
 * cluster. Never short: on success all bytes were transferred. */
int block_preadv(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
int block_pwritev(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
/* Durable (fdatasync, after qcow2's ordered metadata write-back); 0 for a
 * read-only backend. */
int block_flush(struct block_backend *b);

/* Create an image (condo disk create): raw (a sparse file) or qcow2 v3
 * (64 KiB clusters), optionally with a backing file (qcow2 only; AUTO
 * picks qcow2 when a backing file is given or path ends in .qcow2). A
 * relative backing name is resolved from path's directory, as QEMU does,
 * and stored as given; it must open, and its format is recorded. size must
 * be a multiple of 512; 0 with a backing file means the backing file's
 * size. Never overwrites an existing file (-EEXIST). Errors are reported
 * with condo_err(). */
int block_create(const char *path, enum block_format fmt, uint64_t size, const char *backing);

#endif
