/* qcow2 internals shared by block_qcow2.c (header, open, create) and
 * block_qcow2_io.c (mapping, caches, allocation, reads and writes).
 * The format is QEMU's docs/interop/qcow2.txt; all numbers big-endian. */
#ifndef CONDO_BACKEND_BLOCK_QCOW2_H
#define CONDO_BACKEND_BLOCK_QCOW2_H

#include <pthread.h>

#include "backend/block_internal.h"

/* Header field offsets. */
enum {
    QH_MAGIC = 0,
    QH_VERSION = 4,
    QH_BACKING_OFFSET = 8,
    QH_BACKING_SIZE = 16,
    QH_CLUSTER_BITS = 20,
    QH_SIZE = 24,
    QH_CRYPT_METHOD = 32,
    QH_L1_SIZE = 36,
    QH_L1_OFFSET = 40,
    QH_RT_OFFSET = 48,
    QH_RT_CLUSTERS = 56,
    QH_NB_SNAPSHOTS = 60,
    QH_SNAPSHOTS_OFFSET = 64,
    QH_V2_LENGTH = 72,
    QH_INCOMPAT = 72,
    QH_COMPAT = 80,
    QH_AUTOCLEAR = 88,
    QH_REFCOUNT_ORDER = 96,
    QH_HEADER_LENGTH = 100,
    QH_V3_LENGTH = 104,
};

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_NAMES 0x6803f857u
#define QCOW2_EXT_CRYPTO 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u

/* L1 entries: bits 9-55 are the L2 table's offset, bit 63 "refcount is 1". */
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_COPIED (1ull << 63)
#define QCOW2_COMPRESSED (1ull << 62)
#define QCOW2_ZERO 1ull
#define QCOW2_L1_RESERVED 0x7f000000000001ffull
#define QCOW2_L2_RESERVED 0x3f000000000001feull
#define QCOW2_RT_RESERVED 0x00000000000001ffull

/* Limits (QEMU's too): a 32 MiB L1 table and an 8 MiB refcount table at
 * most, clusters of 512 bytes to 2 MiB, backing names up to 1023 bytes. */
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_BACKING_NAME 1023
/* Host offsets fit in bits 9-55 of a table entry. */
#define QCOW2_MAX_HOST_OFFSET (1ull << 56)

/* The cluster size condo creates images with (QEMU's default too). */
#define QCOW2_CREATE_CLUSTER_BITS 16

#define QCOW2_L2_CACHE 32
#define QCOW2_RB_CACHE 8

/* A cached table (L2 table or refcount block): one cluster, kept in file
 * (big-endian) byte order. A dirty one is written back by qcow2_meta_flush,
 * which orders it after the metadata it depends on. */
struct qcow2_table {
    uint64_t off; /* 0: slot empty */
    uint8_t *data;
    uint64_t stamp;
    bool dirty;
};

struct qcow2 {
    int fd;
    const char *path; /* the backend's own copy */
    struct log_limit *log; /* the backend's: run-time errors */
    bool read_only;
    bool probe; /* reading the header only (condo disk info) */
    uint64_t incompat; /* the header's incompatible feature bits */
    unsigned version;
    unsigned cluster_bits;
    uint64_t cluster_size;
    unsigned l2_bits; /* log2 of L2 entries per table */
    uint64_t size;

    uint64_t *l1; /* host byte order */
    uint32_t l1_size;
    uint64_t l1_offset;
    uint32_t l1_dirty_lo, l1_dirty_hi; /* dirty entries [lo, hi) */

    uint64_t *rt; /* refcount table, host byte order */
    uint64_t rt_entries;
    uint64_t rt_offset;
    uint32_t rt_clusters;
    unsigned refcount_order;
    uint64_t rb_entries; /* refcounts per refcount block */

    /* Next cluster to allocate: clusters are only ever appended, so every
     * one at or beyond this offset is unused and reads as zeros. */
    uint64_t alloc_end;
    uint64_t file_size;

    struct block_backend *backing;
    uint32_t nb_snapshots;

    struct qcow2_table l2_cache[QCOW2_L2_CACHE];
    struct qcow2_table rb_cache[QCOW2_RB_CACHE];
    uint64_t clock;

    uint8_t *bounce; /* two clusters: COW head and tail */
    struct iovec *scratch;
    int scratch_n;

    pthread_mutex_t lock;
    bool compressed_reported;
    /* A metadata write failed: the in-memory tables may be ahead of the
     * file, so no further writes are attempted. Also set when the file
     * shrank under us (another program truncated it). */
    bool broken;
    bool shrink_reported;
    bool corrupt_warned;
};

/* block_qcow2_io.c */
int qcow2_io_preadv(struct qcow2 *q, const struct iovec *iov, int n, uint64_t off);
int qcow2_io_pwritev(struct qcow2 *q, const struct iovec *iov, int n, uint64_t off);
/* Writes dirty metadata in crash-safe order; with sync, also fdatasync. */
int qcow2_meta_flush(struct qcow2 *q, bool sync);
void qcow2_cache_free(struct qcow2 *q);
int qcow2_refcount_get(struct qcow2 *q, uint64_t host_off, uint64_t *count);

static inline uint64_t qcow2_round_up(uint64_t v, uint64_t align)
{
    return (v + align - 1) & ~(align - 1);
}

#endif
