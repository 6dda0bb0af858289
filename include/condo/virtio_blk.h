/* virtio-blk (virtio 1.2, 5.2) on the virtio-mmio transport: one request
 * queue, requests IN, OUT, FLUSH and GET_ID, served from the block backend
 * (include/condo/block.h) straight into guest memory on a worker thread of
 * the device's own, in order, with an optional rate limit (bytes/s and
 * requests/s). src/dev/virtio/blk.c says how requests flow.
 *
 * Wiring (board): virtio_blk_init(), virtio_blk_set_loop() with the I/O
 * thread's event loop (completions arrive there), then map &blk->mmio on
 * the bus with virtio_mmio_ops at 0x10001000 + n*0x1000
 * (VIRTIO_MMIO_SIZE), PLIC source 1 + n; virtio_blk_destroy() before the
 * disk is closed. With a rate limit, requests beyond the budget wait in
 * the queue: the VM loop calls virtio_blk_poll() between CPU slices and
 * wakes up from WFI no later than virtio_blk_next_deadline_ns(). */
#ifndef CONDO_VIRTIO_BLK_H
#define CONDO_VIRTIO_BLK_H

#include "condo/block.h"
#include "condo/event_loop.h"
#include "condo/rate_limit.h"
#include "condo/virtio.h"
#include "condo/work_queue.h"

/* feature bits (virtio 1.2, 5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* request types */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_GET_LIFETIME 10
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_T_SECURE_ERASE 14

/* request status */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR_SIZE 512
#define VIRTIO_BLK_HDR_SIZE 16 /* le32 type, le32 reserved, le64 sector */
#define VIRTIO_BLK_ID_BYTES 20
/* Data segments per request (seg_max): a whole request, header and status
 * included, fits in one indirect table or one queue of VIRTIO_QUEUE_MAX. */
#define VIRTIO_BLK_SEG_MAX (VIRTQ_MAX_SEGS - 2)

struct blk_job;

struct virtio_blk {
    struct virtio_mmio mmio; /* map this on the bus */
    struct virtio_device_ops ops; /* features depend on the disk */
    struct block_backend *disk;
    uint64_t capacity; /* in 512-byte sectors */
    char serial[VIRTIO_BLK_ID_BYTES]; /* GET_ID; NUL-padded */
    struct rate_limit rl;
    bool waiting;        /* the rate limit stopped the queue */
    uint64_t wait_bytes; /* size of the request it waits for */
    /* completed requests, for `condo top` and GET /condo/status */
    uint64_t read_bytes, write_bytes, read_ops, write_ops, flush_ops;
    /* Requests in flight (popped, not answered), at most the queue size;
     * `full`: the device stopped popping at that bound (or out of memory). */
    unsigned inflight;
    bool full;
    struct work_queue wq;       /* the disk's worker: I/O in pop order */
    struct blk_job *free_jobs;  /* spare request records (blk.c) */
    unsigned njobs;             /* records allocated: the peak in flight */
    bool inline_reads;          /* the backend may serve cached reads at once */
    uint64_t inline_ops;        /* reads so served (tests, statistics) */
    struct event_loop *loop;    /* where completions are signalled; may be NULL */
    int loop_id;
};

/* Set up the device for an open disk; rl may be NULL (no limit). The
 * serial (GET_ID, /dev/disk/by-id/virtio-SERIAL) is the image's file name,
 * truncated to 20 bytes. Returns 0, -EINVAL (no disk) or the errno of the
 * worker's eventfd. The worker thread starts with the first request. The
 * disk stays the caller's to close, after virtio_blk_destroy(). */
int virtio_blk_init(struct virtio_blk *blk, struct block_backend *disk,
                    const struct rate_limit_config *rl, struct guest_ram *ram,
                    struct irq_line irq);
/* Have finished requests completed by `loop`'s thread (its callbacks run
 * under the machine lock). Without a loop they are completed by
 * virtio_blk_poll() and virtio_blk_quiesce() only. 0 or -ENOSPC. */
int virtio_blk_set_loop(struct virtio_blk *blk, struct event_loop *loop);
/* Wait until no request is in flight, completing each (machine lock held,
 * vCPUs stopped, so that no new one comes). For pause and save. */
void virtio_blk_quiesce(struct virtio_blk *blk);
/* Device removal: cancel what has not started, wait for the request on the
 * disk, stop the worker, free everything (nothing is answered). Safe on a
 * device whose init failed (after it was called). */
void virtio_blk_destroy(struct virtio_blk *blk);
/* Replace the serial (at most 20 bytes are kept). */
void virtio_blk_set_serial(struct virtio_blk *blk, const char *serial);
/* Change the rate limit while the guest runs (NULL: none). */
void virtio_blk_set_limit(struct virtio_blk *blk, const struct rate_limit_config *rl);
/* Complete finished requests (when no loop does), and resume requests the
 * rate limit or the in-flight bound held back, once their time has come. */
void virtio_blk_poll(struct virtio_blk *blk);
/* When virtio_blk_poll() next has work: a condo_clock_ns() time, or
 * UINT64_MAX when nothing waits. */
uint64_t virtio_blk_next_deadline_ns(struct virtio_blk *blk);

#endif
