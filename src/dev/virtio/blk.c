/* virtio-blk: the driver's notify (on a vCPU thread, machine lock held)
 * only pops requests, checks them and hands those that need the disk to
 * the device's worker thread (include/condo/work_queue.h); the worker does
 * the I/O straight between the backend and guest memory (the popped
 * element's iovecs point into guest RAM), and the I/O thread completes
 * finished requests from the event loop, under the machine lock: status
 * byte, used element, interrupt. A slow or stalled host disk therefore
 * stalls the guest's I/O, never its vCPUs.
 *
 * Order and durability: one worker per disk runs requests strictly in the
 * order they were popped, so a FLUSH starts only after every request
 * popped before it has finished, and completes only once the backend's
 * flush (qcow2 write-back, fdatasync) succeeded. The backend is used by
 * that one thread only (qcow2's ordered metadata updates stay ordered).
 *
 * A request is: a 16-byte header (type, reserved, sector) in the
 * device-readable part, then the data (readable for OUT, writable for IN),
 * then one writable status byte. Neither the header nor the status byte
 * need be a buffer of its own; they are found by offset. A request whose
 * readable part is shorter than the header, or with no writable byte for
 * the status, cannot be answered: the device is marked DEVICE_NEEDS_RESET
 * (as QEMU does). Everything else gets a status: IOERR for sectors past
 * the end, data not a multiple of 512 bytes, writes to a read-only disk or
 * backend errors; UNSUPP for request types not offered. Requests refused
 * (and GET_ID) are answered at once, on the notify.
 *
 * In flight: at most the queue's size (the guest chooses it, <= 256); at
 * that many the device stops popping until one completes. A reset cancels
 * what has not started and waits for the request on the disk; nothing
 * popped before a reset is answered after it. virtio_blk_quiesce() waits
 * for and completes everything in flight (the VM pauses through it, and
 * save does it first: no in-flight state is ever saved).
 *
 * Rate limit: a request is charged (its data bytes, and one operation)
 * when it is popped. When the budget is short the request is given back to
 * the queue (virtq_unpop) and the device waits; virtio_blk_poll() retries
 * once virtio_blk_next_deadline_ns() has passed. Nothing is held across
 * the wait (no popped element): a snapshot saves only that the queue
 * waits, for how many bytes, and the buckets' levels. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "condo/virtio_blk.h"

#define VIRTIO_BLK_STATE_VERSION 2
/* struct virtio_blk_config up to num_queues (virtio 1.2, 5.2.4) */
#define VIRTIO_BLK_CONFIG_SIZE 0x24

enum { BLK_QUEUE = 0 };

/* After running out of memory for a request, look again this much later. */
#define BLK_RETRY_NS 10000000ull

struct blk_req {
    uint32_t type;
    uint64_t sector;
    size_t data_off, data_len; /* in the out (OUT) or in (IN, GET_ID) buffers */
};

/* A request in flight: popped, checked, handed to the worker. */
struct blk_job {
    struct work_item w; /* first: the work queue links jobs through it */
    struct virtio_blk *b;
    struct virtq_elem elem;
    struct blk_req r;
    uint8_t status;
    int err; /* the backend's, logged at completion */
    struct iovec data[VIRTQ_MAX_SEGS]; /* the data part of elem's buffers */
};

static void blk_config_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
    struct virtio_blk *b = opaque;
    uint8_t cfg[VIRTIO_BLK_CONFIG_SIZE] = { 0 };
    le64_store(cfg + 0x00, b->capacity);
    le32_store(cfg + 0x0c, VIRTIO_BLK_SEG_MAX);           /* seg_max */
    le32_store(cfg + 0x14, VIRTIO_BLK_SECTOR_SIZE);       /* blk_size */
    le16_store(cfg + 0x22, 1);                            /* num_queues */
    *val = 0;
    if (off > sizeof(cfg) || size > sizeof(cfg) - off) {
        log_guest(&b->mmio.log, "config read of %u bytes at 0x%llx, beyond the config space",
                    size, (unsigned long long)off);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        *val |= (uint64_t)cfg[off + i] << (8 * i);
}

static void blk_config_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct virtio_blk *b = opaque;
    /* writeback is writable only with VIRTIO_BLK_F_CONFIG_WCE (not offered) */
    log_guest(&b->mmio.log, "write of 0x%llx to config offset 0x%llx (%u bytes) ignored",
                (unsigned long long)val, (unsigned long long)off, size);
}

/* Locate the header, data and status of a request. -EINVAL: the request
 * is malformed beyond answering (the device then needs a reset). */
static int blk_parse(struct virtio_blk *b, const struct virtq_elem *e, struct blk_req *r)
{
    uint8_t hdr[VIRTIO_BLK_HDR_SIZE];
    if (e->out_len < VIRTIO_BLK_HDR_SIZE) {
        log_guest(&b->mmio.log, "request header of %zu bytes (needs %u)", e->out_len,
                    VIRTIO_BLK_HDR_SIZE);
        return -EINVAL;
    }
    if (e->in_len < 1) {
        log_guest(&b->mmio.log, "request without a writable status byte");
        return -EINVAL;
    }
    iov_to_buf(e->out, e->out_num, 0, hdr, sizeof(hdr));
    r->type = le32_load(hdr);
    r->sector = le64_load(hdr + 8);
    switch (r->type) {
    case VIRTIO_BLK_T_OUT:
        r->data_off = VIRTIO_BLK_HDR_SIZE;
        r->data_len = e->out_len - VIRTIO_BLK_HDR_SIZE;
        break;
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_GET_ID:
        r->data_off = 0;
        r->data_len = e->in_len - 1;
        break;
    default:
        r->data_off = r->data_len = 0;
        break;
    }
    (void)b;
    return 0;
}

/* A backend failure the guest sees as IOERR: always worth telling the host
 * (a disk going bad, a host file truncated), within the device's budget. */
static void blk_io_error(struct virtio_blk *b, const char *what, int err)
{
    log_host(&b->mmio.log, "%s of %s failed: %s (error %d); the guest sees an I/O error", what,
             b->disk->path ? b->disk->path : "disk", strerror(-err), err);
}

/* What blk_check() says of a request that needs the backend. */
#define BLK_S_SUBMIT 0xff

/* Everything about a read or write that can be decided without the disk,
 * under the machine lock: a status for requests refused here, or
 * BLK_S_SUBMIT. Guest errors are logged here, not on the worker. */
static uint8_t blk_check_rw(struct virtio_blk *b, const struct blk_req *r)
{
    bool write = r->type == VIRTIO_BLK_T_OUT;
    if (write && b->disk->read_only) {
        log_guest(&b->mmio.log, "write to read-only disk");
        return VIRTIO_BLK_S_IOERR;
    }
    if (r->data_len % VIRTIO_BLK_SECTOR_SIZE) {
        log_guest(&b->mmio.log, "%s of %zu bytes, not a multiple of %u", write ? "write" : "read",
                    r->data_len, VIRTIO_BLK_SECTOR_SIZE);
        return VIRTIO_BLK_S_IOERR;
    }
    uint64_t nsec = r->data_len / VIRTIO_BLK_SECTOR_SIZE;
    if (r->sector > b->capacity || nsec > b->capacity - r->sector) {
        log_guest(&b->mmio.log, "%s of sectors %llu+%llu beyond the disk's %llu",
                    write ? "write" : "read", (unsigned long long)r->sector,
                    (unsigned long long)nsec, (unsigned long long)b->capacity);
        return VIRTIO_BLK_S_IOERR;
    }
    return nsec == 0 ? VIRTIO_BLK_S_OK : BLK_S_SUBMIT;
}

/* Requests answered without the disk (GET_ID, refusals) or sent to it. */
static uint8_t blk_check(struct virtio_blk *b, const struct virtq_elem *e,
                         const struct blk_req *r)
{
    switch (r->type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        return blk_check_rw(b, r);
    case VIRTIO_BLK_T_FLUSH:
        return BLK_S_SUBMIT;
    case VIRTIO_BLK_T_GET_ID: {
        size_t n = r->data_len < VIRTIO_BLK_ID_BYTES ? r->data_len : VIRTIO_BLK_ID_BYTES;
        iov_from_buf(e->in, e->in_num, 0, b->serial, n);
        return VIRTIO_BLK_S_OK;
    }
    default:
        log_guest(&b->mmio.log, "unsupported request type %u", r->type);
        return VIRTIO_BLK_S_UNSUPP;
    }
}

/* --- on the worker thread: the disk I/O itself ------------------------ */

/* Touches only the job and the backend (which only this disk's worker
 * uses while the worker runs): no device state, no logging (the device's
 * log is under the machine lock; the error is logged at completion). */
static void blk_job_run(struct work_item *w)
{
    struct blk_job *j = (struct blk_job *)w;
    struct block_backend *disk = j->b->disk;
    const struct virtq_elem *e = &j->elem;
    const struct blk_req *r = &j->r;
    if (r->type == VIRTIO_BLK_T_FLUSH) {
        j->err = block_flush(disk);
    } else {
        bool write = r->type == VIRTIO_BLK_T_OUT;
        int n = write ? iov_slice(e->out, e->out_num, r->data_off, r->data_len, j->data,
                                  VIRTQ_MAX_SEGS)
                      : iov_slice(e->in, e->in_num, r->data_off, r->data_len, j->data,
                                  VIRTQ_MAX_SEGS);
        uint64_t off = r->sector * VIRTIO_BLK_SECTOR_SIZE;
        if (n < 0) /* cannot happen: data_len is within the buffers */
            j->err = -EINVAL;
        else
            j->err = write ? block_pwritev(disk, j->data, n, off)
                           : block_preadv(disk, j->data, n, off);
    }
    j->status = j->err < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

/* A read whose data the host already has in memory (its page cache), with
 * nothing in flight ahead of it, is served right here on the notify: a
 * copy, no thread woken. block_preadv_nowait() refuses (-EAGAIN) anything
 * that would wait for the host disk or a lock, so this never stalls the
 * vCPU; what it refuses goes to the worker as any other request. Writes
 * and flushes always go to the worker (a buffered write may wait for
 * writeback). True: answered, j->status set. */
static bool blk_try_inline(struct virtio_blk *b, struct blk_job *j)
{
    if (j->r.type != VIRTIO_BLK_T_IN || b->inflight || !b->inline_reads)
        return false;
    const struct virtq_elem *e = &j->elem;
    int n = iov_slice(e->in, e->in_num, j->r.data_off, j->r.data_len, j->data, VIRTQ_MAX_SEGS);
    if (n < 0)
        return false;
    int r = block_preadv_nowait(b->disk, j->data, n, j->r.sector * VIRTIO_BLK_SECTOR_SIZE);
    if (r == -EOPNOTSUPP) {
        b->inline_reads = false; /* this backend never can: stop asking */
        return false;
    }
    if (r < 0) /* -EAGAIN, or an error the worker will meet and report */
        return false;
    b->inline_ops++;
    j->err = 0;
    j->status = VIRTIO_BLK_S_OK;
    return true;
}

/* --- jobs: at most one per request in flight -------------------------- */

static struct blk_job *blk_job_get(struct virtio_blk *b)
{
    struct blk_job *j = b->free_jobs;
    if (j) {
        b->free_jobs = (struct blk_job *)j->w.next;
        return j;
    }
    j = malloc(sizeof(*j));
    if (j)
        b->njobs++;
    return j;
}

static void blk_job_put(struct virtio_blk *b, struct blk_job *j)
{
    j->w.next = b->free_jobs ? &b->free_jobs->w : NULL;
    b->free_jobs = j;
}

/* Answer a request: status byte, used element, interrupt (machine lock
 * held). A request popped before a reset or a queue change is dropped
 * unanswered: its buffers are no longer the device's to write. */
static void blk_answer(struct virtio_blk *b, struct blk_job *j)
{
    struct virtq_elem *e = &j->elem;
    if (e->epoch != b->mmio.epoch)
        return;
    if (j->status == VIRTIO_BLK_S_OK) {
        if (j->r.type == VIRTIO_BLK_T_IN) {
            b->read_ops++;
            b->read_bytes += j->r.data_len;
        } else if (j->r.type == VIRTIO_BLK_T_OUT) {
            b->write_ops++;
            b->write_bytes += j->r.data_len;
        } else if (j->r.type == VIRTIO_BLK_T_FLUSH) {
            b->flush_ops++;
        }
    }
    iov_from_buf(e->in, e->in_num, e->in_len - 1, &j->status, 1);
    /* Everything writable may have been written (a failed read may have
     * filled part of it): report it all, so it is all noted. */
    virtq_push(&b->mmio, BLK_QUEUE, e, (uint32_t)e->in_len);
}

/* A job back from the worker (machine lock held). */
static void blk_finish(struct virtio_blk *b, struct blk_job *j)
{
    if (j->err < 0 && j->elem.epoch == b->mmio.epoch)
        blk_io_error(b,
                     j->r.type == VIRTIO_BLK_T_FLUSH ? "flush"
                     : j->r.type == VIRTIO_BLK_T_OUT ? "write"
                                                     : "read",
                     j->err);
    blk_answer(b, j);
    b->inflight--;
    blk_job_put(b, j);
}

/* Complete everything the worker has finished. */
static void blk_complete(struct virtio_blk *b)
{
    struct work_item *w = work_queue_take_done(&b->wq);
    while (w) {
        struct work_item *next = w->next;
        blk_finish(b, (struct blk_job *)w);
        w = next;
    }
}

/* How many requests may be in flight: the queue's size (a guest can make
 * no more distinct requests; one that repeats heads gets no more either). */
static unsigned blk_max_inflight(const struct virtio_blk *b)
{
    uint32_t num = b->mmio.vq[BLK_QUEUE].num;
    return num ? num : 1;
}

/* Pop, check and submit requests until the queue is empty, the device is
 * broken, the rate limit says wait, or the queue's worth is in flight.
 * Runs under the machine lock (on a vCPU thread for a notify): it never
 * waits for the disk. */
static void blk_process(struct virtio_blk *b)
{
    b->waiting = false;
    b->full = false;
    for (;;) {
        if (b->inflight >= blk_max_inflight(b)) {
            b->full = true; /* resumed when a request completes */
            return;
        }
        struct blk_job *j = blk_job_get(b);
        if (!j) {
            log_host(&b->mmio.log, "out of memory for a disk request; retrying");
            b->full = true;
            return;
        }
        struct virtq_elem *e = &j->elem;
        int got = virtq_pop(&b->mmio, BLK_QUEUE, e);
        if (got <= 0) {
            blk_job_put(b, j);
            return;
        }
        if (blk_parse(b, e, &j->r) < 0) {
            blk_job_put(b, j);
            virtio_set_needs_reset(&b->mmio);
            return;
        }
        uint32_t type = j->r.type;
        uint64_t cost = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT ? j->r.data_len : 0;
        if (!rate_limit_consume(&b->rl, cost)) {
            virtq_unpop(&b->mmio, BLK_QUEUE);
            blk_job_put(b, j);
            b->waiting = true;
            b->wait_bytes = cost;
            return;
        }
        j->status = blk_check(b, e, &j->r);
        if (j->status != BLK_S_SUBMIT) {
            blk_answer(b, j);
            blk_job_put(b, j);
            continue;
        }
        j->b = b;
        j->err = 0;
        j->w.run = blk_job_run;
        if (blk_try_inline(b, j)) {
            blk_answer(b, j);
            blk_job_put(b, j);
            continue;
        }
        b->inflight++;
        int r = work_queue_submit(&b->wq, &j->w);
        if (r < 0) {
            /* No worker thread: do it here rather than fail the guest. */
            log_host(&b->mmio.log, "cannot start the disk's I/O thread (%s): serving "
                     "requests on the vCPU thread", strerror(-r));
            blk_job_run(&j->w);
            blk_finish(b, j);
        }
    }
}

static void blk_queue_notify(void *opaque, unsigned q)
{
    struct virtio_blk *b = opaque;
    if (q == BLK_QUEUE)
        blk_process(b);
}

void virtio_blk_set_limit(struct virtio_blk *b, const struct rate_limit_config *rl)
{
    rate_limit_reconfigure(&b->rl, rl);
    /* a request held back may go now (or sooner than planned) */
    virtio_blk_poll(b);
}

void virtio_blk_poll(struct virtio_blk *b)
{
    /* Without an event loop (or before it runs), finished requests are
     * completed here too. */
    blk_complete(b);
    if (b->full && b->inflight < blk_max_inflight(b)) {
        blk_process(b);
        return;
    }
    if (!b->waiting)
        return;
    if (rate_limit_wait_ns(&b->rl, b->wait_bytes) > 0)
        return;
    blk_process(b);
}

uint64_t virtio_blk_next_deadline_ns(struct virtio_blk *b)
{
    if (b->full && b->inflight == 0) /* out of memory: try again soon */
        return rate_limit_now(&b->rl) + BLK_RETRY_NS;
    if (!b->waiting)
        return UINT64_MAX;
    uint64_t now = rate_limit_now(&b->rl);
    uint64_t wait = rate_limit_wait_ns_at(&b->rl, b->wait_bytes, now);
    return wait > UINT64_MAX - now ? UINT64_MAX : now + wait;
}

static uint64_t blk_next_deadline(void *opaque)
{
    return virtio_blk_next_deadline_ns(opaque);
}

static uint64_t blk_poll(void *opaque)
{
    struct virtio_blk *b = opaque;
    virtio_blk_poll(b);
    return virtio_blk_next_deadline_ns(b);
}

/* The worker finished a request (I/O thread, machine lock held): answer
 * it, and take more if the queue's worth was in flight. */
static void blk_done_ready(void *opaque, short revents)
{
    struct virtio_blk *b = opaque;
    (void)revents;
    blk_complete(b);
    if (b->full)
        blk_process(b);
}

/* The worker finished a request and got the machine lock without waiting
 * (work_queue_set_owner): the same, on the worker, with no thread woken
 * but the guest's. */
static void blk_worker_complete(void *opaque)
{
    struct virtio_blk *b = opaque;
    blk_done_ready(b, POLLIN);
    /* more requests popped here may wait for the rate limit: the I/O
     * thread must learn the new deadline (it only recomputes it when
     * woken) */
    if (b->loop && virtio_blk_next_deadline_ns(b) != UINT64_MAX)
        event_loop_wake(b->loop);
}

int virtio_blk_set_loop(struct virtio_blk *b, struct event_loop *loop)
{
    int id = event_loop_add_fd(loop, work_queue_fd(&b->wq), POLLIN, blk_done_ready, b);
    if (id < 0)
        return id;
    b->loop = loop;
    b->loop_id = id;
    if (loop->lock)
        work_queue_set_owner(&b->wq, loop->lock, blk_worker_complete, b);
    return 0;
}

void virtio_blk_quiesce(struct virtio_blk *b)
{
    if (!b->inflight)
        return;
    work_queue_wait_idle(&b->wq);
    blk_complete(b);
}

/* Drop every request in flight: those not started are cancelled, the one
 * on the disk is waited for (a write half done must not land after the
 * driver was told the device is reset); nothing is answered. */
static void blk_cancel_all(struct virtio_blk *b)
{
    if (!b->inflight)
        return;
    struct work_item *w = work_queue_cancel(&b->wq);
    while (w) {
        struct work_item *next = w->next;
        b->inflight--;
        blk_job_put(b, (struct blk_job *)w);
        w = next;
    }
    w = work_queue_take_done(&b->wq);
    while (w) {
        struct work_item *next = w->next;
        b->inflight--;
        blk_job_put(b, (struct blk_job *)w);
        w = next;
    }
}

static void blk_reset(void *opaque)
{
    struct virtio_blk *b = opaque;
    blk_cancel_all(b);
    b->waiting = false;
    b->full = false;
    b->wait_bytes = 0;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
    if (b->wq.done_fd < 0)
        return;
    /* the worker completes nothing more on its own (and is not at it) */
    work_queue_set_owner(&b->wq, NULL, NULL, NULL);
    blk_cancel_all(b);
    if (b->loop)
        event_loop_remove(b->loop, b->loop_id);
    b->loop = NULL;
    work_queue_destroy(&b->wq);
    while (b->free_jobs) {
        struct blk_job *j = b->free_jobs;
        b->free_jobs = (struct blk_job *)j->w.next;
        free(j);
    }
    b->njobs = 0;
}

/* Nothing in flight is saved: requests are completed first (their used
 * elements and the interrupt are then part of the saved state). */
/* The device's own state: what the guest was told (capacity, read-only:
 * checked against the disk attached now), and in flight, a request the
 * rate limit holds back (waiting, its size) with the buckets' levels. */
#define B(m) STATE_FIELD(struct virtio_blk, m)
static const struct state_field blk_fields[] = {
    B(capacity), STATE_BOOL(struct virtio_blk, waiting), B(wait_bytes),
};
#undef B

static void blk_save(void *opaque, struct state_buf *s)
{
    struct virtio_blk *b = opaque;
    virtio_blk_quiesce(b);
    state_put_u8(s, VIRTIO_BLK_STATE_VERSION);
    state_put_fields(s, blk_fields, ARRAY_SIZE(blk_fields), b);
    state_put_u8(s, b->disk->read_only);
    rate_limit_save(&b->rl, s);
}

static int blk_load(void *opaque, struct state_buf *s, bool commit)
{
    struct virtio_blk *b = opaque;
    virtio_blk_quiesce(b); /* the loaded queue replaces whatever was in flight */
    if (state_get_u8(s) != VIRTIO_BLK_STATE_VERSION)
        return -EINVAL;
    struct virtio_blk *n = malloc(sizeof(*n));
    if (!n)
        return -ENOMEM;
    *n = *b;
    state_get_fields(s, blk_fields, ARRAY_SIZE(blk_fields), n);
    uint8_t ro = state_get_u8(s);
    struct rate_limit rl;
    int r = s->err || ro > 1 || rate_limit_load(&b->rl, s, &rl) < 0 ? -EINVAL : 0;
    if (r == 0 && (n->capacity != b->capacity || (ro != 0) != b->disk->read_only)) {
        /* The stream is input too (a snapshot file): rate-limited. */
        if (!commit)
            log_host(&b->mmio.log,
                     "the saved disk had %llu sectors%s, %s has %llu%s: attach the same disk "
                     "as when the state was saved",
                     (unsigned long long)n->capacity, ro ? " (read-only)" : "",
                     b->disk->path ? b->disk->path : "the disk",
                     (unsigned long long)b->capacity, b->disk->read_only ? " (read-only)" : "");
        r = -EINVAL;
    }
    if (r == 0 && commit) {
        state_copy_fields(blk_fields, ARRAY_SIZE(blk_fields), b, n);
        b->rl = rl;
    }
    free(n);
    return r;
}

void virtio_blk_set_serial(struct virtio_blk *b, const char *serial)
{
    memset(b->serial, 0, sizeof(b->serial));
    size_t n = strlen(serial);
    memcpy(b->serial, serial, n < sizeof(b->serial) ? n : sizeof(b->serial));
}

int virtio_blk_init(struct virtio_blk *b, struct block_backend *disk,
                    const struct rate_limit_config *rl, struct guest_ram *ram,
                    struct irq_line irq)
{
    memset(b, 0, sizeof(*b));
    b->wq.done_fd = -1; /* virtio_blk_destroy is safe whatever happens below */
    if (!disk || !disk->ops)
        return -EINVAL;
    int r = work_queue_init(&b->wq);
    if (r < 0)
        return r;
    b->disk = disk;
    b->capacity = disk->size / VIRTIO_BLK_SECTOR_SIZE;
    if (disk->size % VIRTIO_BLK_SECTOR_SIZE)
        condo_info("virtio-blk: %s is not a multiple of 512 bytes; the last %llu bytes are "
                   "not visible to the guest",
                   disk->path ? disk->path : "disk",
                   (unsigned long long)(disk->size % VIRTIO_BLK_SECTOR_SIZE));
    const char *name = disk->path ? strrchr(disk->path, '/') : NULL;
    name = name ? name + 1 : disk->path ? disk->path : "condo-disk";
    virtio_blk_set_serial(b, name);
    rate_limit_init(&b->rl, rl);
    b->inline_reads = true;
    b->ops = (struct virtio_device_ops){
        .name = "virtio-blk",
        .device_id = VIRTIO_ID_BLOCK,
        .features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                    (1ull << VIRTIO_BLK_F_FLUSH) |
                    (disk->read_only ? 1ull << VIRTIO_BLK_F_RO : 0),
        .num_queues = 1,
        .config_read = blk_config_read,
        .config_write = blk_config_write,
        .queue_notify = blk_queue_notify,
        .reset = blk_reset,
        .poll = blk_poll,
        .next_deadline = blk_next_deadline,
        .save = blk_save,
        .load = blk_load,
    };
    virtio_mmio_init(&b->mmio, &b->ops, b, ram, irq);
    log_limit_init(&b->mmio.log, "virtio-blk %s", name);
    return 0;
}
