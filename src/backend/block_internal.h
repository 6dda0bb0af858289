/* Shared between the block front (block.c) and the formats (raw, qcow2):
 * format openers, creators and small iovec helpers. Not a public header. */
#ifndef CONDO_BACKEND_BLOCK_INTERNAL_H
#define CONDO_BACKEND_BLOCK_INTERNAL_H

#include <sys/uio.h>

#include "condo/block.h"

/* A chain of backing files deeper than this is refused: it stops a file that
 * names itself (or a loop of files) as its backing from recursing forever. */
#define BLOCK_MAX_CHAIN 16

/* Open with the backing-chain depth known (0 for the image the user named).
 * fd is already open on path (the front detected the format with it); the
 * opener takes ownership of it on success and on failure. A raw image is
 * "probed" when its format was detected rather than given: see block_raw.c. */
int block_raw_open(int fd, const char *path, bool read_only, bool probed,
                   struct block_backend *b);
int block_qcow2_open(int fd, const char *path, bool read_only, unsigned depth,
                     struct block_backend *b);
int block_open_depth(const char *path, enum block_format fmt, bool read_only, unsigned depth,
                     struct block_backend **out);

int block_raw_create(const char *path, uint64_t size);
int block_qcow2_create(const char *path, uint64_t size, const char *backing);

/* The first bytes of a qcow2 file. */
#define QCOW2_MAGIC 0x514649fbu

/* Whole-request I/O on a file: loops over short transfers. A read that meets
 * the end of the file fills the rest with zeros when zero_tail is set, else
 * fails with -EIO. Never more than IOV_MAX vectors at a time. */
int block_file_preadv(int fd, const struct iovec *iov, int n, uint64_t off, bool zero_tail);
int block_file_pwritev(int fd, const struct iovec *iov, int n, uint64_t off);
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
