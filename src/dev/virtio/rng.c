/* virtio-rng: every device-writable buffer the guest offers is filled with
 * bytes from the host's getrandom(2) (the kernel's CSPRNG, never blocking
 * once the host's pool is initialised), at most VIRTIO_RNG_MAX_REQ bytes
 * per request. Device-readable buffers in a request are ignored. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "condo/virtio_rng.h"

#define VIRTIO_RNG_STATE_VERSION 1

/* Fill up to len bytes of iov with host entropy; returns bytes filled. */
static size_t rng_fill(struct virtio_rng *r, const struct iovec *iov, unsigned n, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        uint8_t *p = iov[i].iov_base;
        size_t want = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
        size_t got = 0;
        while (got < want) {
            ssize_t k = getrandom(p + got, want - got, 0);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                if (!r->error_logged) {
                    r->error_logged = true;
                    condo_err("virtio-rng: getrandom failed: %s; the guest gets fewer random "
                              "bytes than it asked for",
                              k < 0 ? strerror(errno) : "no data");
                }
                return done + got;
            }
            got += (size_t)k;
        }
        done += got;
    }
    return done;
}

static void rng_queue_notify(void *opaque, unsigned q)
{
    struct virtio_rng *r = opaque;
    if (q != 0)
        return;
    /* virtq_pop returns each buffer once and at most the queue size are
     * available, so this loop ends. */
    while (virtq_pop(&r->mmio, 0, &r->elem) > 0) {
        size_t n = rng_fill(r, r->elem.in, r->elem.in_num, VIRTIO_RNG_MAX_REQ);
        virtq_push(&r->mmio, 0, &r->elem, (uint32_t)n);
    }
}

static void rng_reset(void *opaque)
{
    (void)opaque; /* nothing held between requests */
}

static void rng_save(void *opaque, struct state_buf *s)
{
    (void)opaque;
    state_put_u8(s, VIRTIO_RNG_STATE_VERSION);
}

static int rng_load(void *opaque, struct state_buf *s, bool commit)
{
    (void)opaque;
    (void)commit;
    if (state_get_u8(s) != VIRTIO_RNG_STATE_VERSION || s->err)
        return -EINVAL;
    return 0;
}

static const struct virtio_device_ops virtio_rng_dev_ops = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .features = 0,
    .num_queues = 1,
    .config_read = NULL, /* no config space: reads as 0 */
    .config_write = NULL,
    .queue_notify = rng_queue_notify,
    .reset = rng_reset,
    .save = rng_save,
    .load = rng_load,
};

void virtio_rng_init(struct virtio_rng *r, struct guest_ram *ram, struct irq_line irq)
{
    memset(r, 0, sizeof(*r));
    virtio_mmio_init(&r->mmio, &virtio_rng_dev_ops, r, ram, irq);
}
