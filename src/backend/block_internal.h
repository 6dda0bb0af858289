/* Shared between the block front (block.c) and the formats (raw, qcow2):
 * format openers, creators and small iovec helpers. Not a public header. */
#ifndef CONDO_BACKEND_BLOCK_INTERNAL_H
#define CONDO_BACKEND_BLOCK_INTERNAL_H

#include <sys/uio.h>

#include "condo/block.h"

/* The layers above the one being opened: a layer that is already in its own
 * chain is a loop (an image naming itself, or a cycle of images). */
struct block_chain {
    uint64_t dev, ino;
    const char *path;
    unsigned depth; /* 0 for the image the user named */
    const struct block_chain *up;
};

/* What a format opener is told about the layer it opens. fd is already
 * open on path (the front detected the format with it); the opener takes
 * ownership of it on success and on failure. */
struct block_layer {
    const char *path;
    bool read_only;
    /* The format was detected rather than given: see block_raw.c. */
    bool probed;
    /* block_open_options.backing for the image the user named; NULL below. */
    const char *backing;
    const struct block_chain *chain; /* this layer, then the ones above */
};

int block_raw_open(int fd, const struct block_layer *l, struct block_backend *b,
                   struct error *err);
int block_qcow2_open(int fd, const struct block_layer *l, struct block_backend *b,
                     struct error *err);

/* A backing file resolved under the backing rule (block_backing.c): its
 * real path, the allowed directory it lies in, and the file's identity. */
struct block_backing_target {
    char path[BLOCK_PATH_MAX];
    char root[BLOCK_PATH_MAX];
    const char *rel; /* path relative to root */
    uint64_t dev, ino;
};

/* name resolved as QEMU does: relative to image's directory. */
int block_backing_join(const char *image, const char *name, char *out, size_t outsz);
/* Applies the backing rule to the name found in image; top is the image
 * the user named when image is that image (its refusal then says how to
 * name the base), else NULL. 0, or -EPERM (refused), -ENOENT, ... */
int block_backing_resolve(const char *image, const char *name, const char *top,
                          struct block_backing_target *t, struct error *err);
/* Opens the resolved file (open(2) flags), unable to leave t->root, never
 * blocking (O_NONBLOCK stays set: the caller clears it), and checked to be
 * the file resolved. The fd, or a negative errno. */
int block_backing_open(const struct block_backing_target *t, int flags, struct error *err);

/* Opens one layer: the image the user named (confine NULL, chain NULL), or
 * a backing file (confine: where the rule found it; or NULL for a base the
 * user named) below the layers in up. */
int block_open_layer(const char *path, const struct block_backing_target *confine,
                     enum block_format fmt, bool read_only, const char *backing,
                     const struct block_chain *up, struct block_backend **out,
                     struct error *err);
/* Opens path for reading without blocking and checks it is a regular file
 * (or, with allow_blk, a block device): for readers of headers. */
int block_open_plain(const char *path, int flags, bool allow_blk, struct error *err);

int block_raw_create(const char *path, uint64_t size, struct error *err);
int block_qcow2_create(const char *path, uint64_t size, const char *backing, struct error *err);
/* The header of a qcow2 image, for block_info_chain. */
int block_qcow2_probe(int fd, const char *path, struct block_layer_info *li, struct error *err);

/* The first bytes of a qcow2 file. */
#define QCOW2_MAGIC 0x514649fbu

/* Whole-request I/O on a file: loops over short transfers. A read that meets
 * the end of the file fills the rest with zeros when zero_tail is set, else
 * fails with -EIO. Never more than IOV_MAX vectors at a time. */
int block_file_preadv(int fd, const struct iovec *iov, int n, uint64_t off, bool zero_tail);
int block_file_pwritev(int fd, const struct iovec *iov, int n, uint64_t off);
/* preadv2(RWF_NOWAIT) of exactly len bytes: 0, -EAGAIN (not all in the
 * page cache, or it would block) or -EOPNOTSUPP (the file cannot). */
int block_file_preadv_nowait(int fd, const struct iovec *iov, int n, uint64_t off,
                             size_t len);
int block_file_pread(int fd, void *buf, size_t len, uint64_t off, bool zero_tail);
int block_file_pwrite(int fd, const void *buf, size_t len, uint64_t off);

/* The part [skip, skip+len) of an iovec array, as a new iovec array in out
 * (room for n entries: a slice never has more entries than its source).
 * Returns the number of entries written. */
int block_iov_slice(const struct iovec *iov, int n, size_t skip, size_t len, struct iovec *out);
/* Copies between a byte buffer and the part of an iovec array at skip. */
void block_iov_to_buf(const struct iovec *iov, int n, size_t skip, void *buf, size_t len);
void block_buf_to_iov(const void *buf, size_t len, const struct iovec *iov, int n, size_t skip);
void block_iov_zero(const struct iovec *iov, int n, size_t skip, size_t len);

/* Big-endian loads and stores: qcow2 is big-endian throughout. */
static inline uint16_t be16_load(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)((b[0] << 8) | b[1]);
}
static inline uint32_t be32_load(const void *p)
{
    const uint8_t *b = p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}
static inline uint64_t be64_load(const void *p)
{
    return ((uint64_t)be32_load(p) << 32) | be32_load((const uint8_t *)p + 4);
}
static inline void be16_store(void *p, uint16_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}
static inline void be32_store(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}
static inline void be64_store(void *p, uint64_t v)
{
    be32_store(p, (uint32_t)(v >> 32));
    be32_store((uint8_t *)p + 4, (uint32_t)v);
}

#endif
