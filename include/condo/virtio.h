/* virtio 1.2 over MMIO (the "virtio,mmio" transport, version 2), split
 * virtqueues, and the interface between the transport and a device model
 * (blk, net, rng, ...). Engine-neutral: it sees guest memory only through
 * struct guest_ram and raises its interrupt through an irq_line.
 *
 * Every value the guest writes is untrusted. A malformed queue (descriptor
 * chain longer than the queue or looping, addresses outside RAM, lengths
 * that wrap, indices out of range) makes the transport log a guest error
 * and set DEVICE_NEEDS_RESET in the status (virtio 1.2, 2.1.2); the device
 * stops processing until the driver resets it. Nothing is ever read or
 * written outside guest RAM. */
#ifndef CONDO_VIRTIO_H
#define CONDO_VIRTIO_H

#include <sys/uio.h>

#include "condo/device.h"
#include "condo/guest_ram.h"

#define VIRTIO_MMIO_SIZE 0x1000
#define VIRTIO_MAX_QUEUES 8
#define VIRTIO_QUEUE_MAX 256 /* QueueNumMax offered for every queue */
#define VIRTQ_MAX_SEGS VIRTIO_QUEUE_MAX /* a chain never has more elements */

/* device ids */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* feature bits shared by all devices */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* One request taken from a queue: the chain's buffers, device-readable ones
 * first (out), then device-writable ones (in), as host iovecs that point
 * into guest RAM (already bounds-checked). */
struct virtq_elem {
    uint16_t head;      /* descriptor index to hand back with virtq_push */
    unsigned out_num, in_num;
    size_t out_len, in_len; /* total bytes */
    struct iovec out[VIRTQ_MAX_SEGS];
    struct iovec in[VIRTQ_MAX_SEGS];
    uint64_t in_addr[VIRTQ_MAX_SEGS]; /* guest-physical, for dirty tracking */
};

struct virtq {
    uint32_t num; /* queue size chosen by the driver (power of 2, <= max) */
    bool ready;
    uint64_t desc_addr, avail_addr, used_addr;
    uint16_t last_avail; /* next avail ring index to take */
    uint16_t used_idx;   /* next used ring index to fill */
};

struct virtio_mmio;

/* What a device model provides. */
struct virtio_device_ops {
    const char *name;
    uint32_t device_id;
    uint64_t features; /* device-specific bits; VERSION_1 is added */
    unsigned num_queues;
    /* config space (offset from 0x100), little-endian as the spec says */
    void (*config_read)(void *opaque, uint64_t off, unsigned size, uint64_t *val);
    void (*config_write)(void *opaque, uint64_t off, unsigned size, uint64_t val);
    /* The driver made buffers available on queue q (QueueNotify). */
    void (*queue_notify)(void *opaque, unsigned q);
    /* Device reset (the driver wrote 0 to Status, or the VM resets). */
    void (*reset)(void *opaque);
    void (*save)(void *opaque, struct state_buf *s);
    int (*load)(void *opaque, struct state_buf *s);
};

struct virtio_mmio {
    const struct virtio_device_ops *dev;
    void *dev_opaque;
    struct guest_ram *ram;
    struct irq_line irq;
    uint32_t status;
    uint32_t device_features_sel, driver_features_sel;
    uint64_t driver_features;
    uint32_t queue_sel;
    uint32_t interrupt_status;
    uint32_t config_generation;
    struct virtq vq[VIRTIO_MAX_QUEUES];
};

extern const struct dev_ops virtio_mmio_ops;

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device_ops *dev,
                      void *dev_opaque, struct guest_ram *ram, struct irq_line irq);

/* Take the next available request from queue q. Returns 1 with *elem
 * filled, 0 when the queue is empty (or not ready, or the device is
 * broken), -EINVAL when the guest's queue is malformed (the device is then
 * marked DEVICE_NEEDS_RESET and the config-change interrupt raised). */
int virtq_pop(struct virtio_mmio *t, unsigned q, struct virtq_elem *elem);
/* Return a request with `written` bytes written into its in-buffers, and
 * raise the used-buffer interrupt (unless the driver suppressed it). */
void virtq_push(struct virtio_mmio *t, unsigned q, const struct virtq_elem *elem,
                uint32_t written);
/* Whether the driver negotiated feature `bit`. */
bool virtio_has_feature(const struct virtio_mmio *t, unsigned bit);
/* Mark the device broken (a request the device cannot make sense of). */
void virtio_set_needs_reset(struct virtio_mmio *t);
/* Copy helpers across an iovec array; return bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf,
                    size_t len);

#endif
