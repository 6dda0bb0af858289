/* virtio-blk: requests from the one request queue are served synchronously
 * when the driver notifies (simple, and a request is finished before the
 * guest runs again). Data moves between the backend and guest memory
 * directly: the popped element's iovecs point into guest RAM.
 *
 * A request is: a 16-byte header (type, reserved, sector) in the
 * device-readable part, then the data (readable for OUT, writable for IN),
 * then one writable status byte. Neither the header nor the status byte
 * need be a buffer of its own; they are found by offset. A request whose
 * readable part is shorter than the header, or with no writable byte for
 * the status, cannot be answered: the device is marked DEVICE_NEEDS_RESET
 * (as QEMU does). Everything else gets a status: IOERR for sectors past
 * the end, data not a multiple of 512 bytes, writes to a read-only disk or
 * backend errors; UNSUPP for request types not offered.
 *
 * Rate limit: a request is charged (its data bytes, and one operation)
 * before it runs. When the budget is short the request is given back to
 * the queue (virtq_unpop) and the device waits; virtio_blk_poll() retries
 * once virtio_blk_next_deadline_ns() has passed. Nothing is held across
 * the wait (no popped element): a snapshot saves only that the queue
 * waits, for how many bytes, and the buckets' levels. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "condo/virtio_blk.h"

#define VIRTIO_BLK_STATE_VERSION 2
/* struct virtio_blk_config up to num_queues (virtio 1.2, 5.2.4) */
#define VIRTIO_BLK_CONFIG_SIZE 0x24

enum { BLK_QUEUE = 0 };

struct blk_req {
    uint32_t type;
    uint64_t sector;
    size_t data_off, data_len; /* in the out (OUT) or in (IN, GET_ID) buffers */
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

static uint8_t blk_rw(struct virtio_blk *b, const struct virtq_elem *e, const struct blk_req *r)
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
    if (nsec == 0)
        return VIRTIO_BLK_S_OK;
    int n = write ? iov_slice(e->out, e->out_num, r->data_off, r->data_len, b->data,
                              VIRTQ_MAX_SEGS)
                  : iov_slice(e->in, e->in_num, r->data_off, r->data_len, b->data,
                              VIRTQ_MAX_SEGS);
    if (n < 0)
        return VIRTIO_BLK_S_IOERR; /* cannot happen: data_len is within the buffers */
    uint64_t off = r->sector * VIRTIO_BLK_SECTOR_SIZE;
    int err = write ? block_pwritev(b->disk, b->data, n, off)
                    : block_preadv(b->disk, b->data, n, off);
    if (err < 0) {
        blk_io_error(b, write ? "write" : "read", err);
        return VIRTIO_BLK_S_IOERR;
    }
    return VIRTIO_BLK_S_OK;
}

static uint8_t blk_execute(struct virtio_blk *b, const struct virtq_elem *e,
                           const struct blk_req *r)
{
    switch (r->type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        return blk_rw(b, e, r);
    case VIRTIO_BLK_T_FLUSH: {
        int err = block_flush(b->disk);
        if (err < 0) {
            blk_io_error(b, "flush", err);
            return VIRTIO_BLK_S_IOERR;
        }
        return VIRTIO_BLK_S_OK;
    }
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

/* Serve requests until the queue is empty, the device is broken, or the
 * rate limit says wait. */
static void blk_process(struct virtio_blk *b)
{
    struct virtq_elem *e = &b->elem;
    b->waiting = false;
    for (;;) {
        int got = virtq_pop(&b->mmio, BLK_QUEUE, e);
        if (got <= 0)
            return;
        struct blk_req r;
        if (blk_parse(b, e, &r) < 0) {
            virtio_set_needs_reset(&b->mmio);
            return;
        }
        uint64_t cost = r.type == VIRTIO_BLK_T_IN || r.type == VIRTIO_BLK_T_OUT ? r.data_len : 0;
        if (!rate_limit_consume(&b->rl, cost)) {
            virtq_unpop(&b->mmio, BLK_QUEUE);
            b->waiting = true;
            b->wait_bytes = cost;
            return;
        }
        uint8_t status = blk_execute(b, e, &r);
        if (status == VIRTIO_BLK_S_OK) {
            if (r.type == VIRTIO_BLK_T_IN) {
                b->read_ops++;
                b->read_bytes += r.data_len;
            } else if (r.type == VIRTIO_BLK_T_OUT) {
                b->write_ops++;
                b->write_bytes += r.data_len;
            } else if (r.type == VIRTIO_BLK_T_FLUSH) {
                b->flush_ops++;
            }
        }
        iov_from_buf(e->in, e->in_num, e->in_len - 1, &status, 1);
        /* Everything writable may have been written (a failed read may have
         * filled part of it): report it all, so it is all noted. */
        virtq_push(&b->mmio, BLK_QUEUE, e, (uint32_t)e->in_len);
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
    if (!b->waiting)
        return;
    if (rate_limit_wait_ns(&b->rl, b->wait_bytes) > 0)
        return;
    blk_process(b);
}

uint64_t virtio_blk_next_deadline_ns(struct virtio_blk *b)
{
    if (!b->waiting)
        return UINT64_MAX;
    uint64_t now = rate_limit_now(&b->rl);
    uint64_t wait = rate_limit_wait_ns_at(&b->rl, b->wait_bytes, now);
    return wait > UINT64_MAX - now ? UINT64_MAX : now + wait;
}

static uint64_t blk_poll(void *opaque)
{
    struct virtio_blk *b = opaque;
    virtio_blk_poll(b);
    return virtio_blk_next_deadline_ns(b);
}

static void blk_reset(void *opaque)
{
    struct virtio_blk *b = opaque;
    b->waiting = false;
    b->wait_bytes = 0;
}

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
    state_put_u8(s, VIRTIO_BLK_STATE_VERSION);
    state_put_fields(s, blk_fields, ARRAY_SIZE(blk_fields), b);
    state_put_u8(s, b->disk->read_only);
    rate_limit_save(&b->rl, s);
}

static int blk_load(void *opaque, struct state_buf *s, bool commit)
{
    struct virtio_blk *b = opaque;
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
    if (!disk || !disk->ops)
        return -EINVAL;
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
        .save = blk_save,
        .load = blk_load,
    };
    virtio_mmio_init(&b->mmio, &b->ops, b, ram, irq);
    log_limit_init(&b->mmio.log, "virtio-blk %s", name);
    return 0;
}
