/* virtio 1.2 over MMIO (the "virtio,mmio" transport, version 2), split
 * virtqueues, and the interface between the transport and a device model
 * (blk, net, rng, input, ...). Engine-neutral: it sees guest memory only through
 * struct guest_ram and raises its interrupt through an irq_line.
 *
 * Every value the guest writes is untrusted. A malformed queue (descriptor
 * chain longer than the queue or looping, addresses outside RAM, lengths
 * that wrap, indices out of range) makes the transport log a guest error
 * and set DEVICE_NEEDS_RESET in the status (virtio 1.2, 2.1.2); the device
 * stops processing until the driver resets it. Nothing is ever read or
 * written outside guest RAM. See docs/VIRTIO.md. */
#ifndef CONDO_VIRTIO_H
#define CONDO_VIRTIO_H

#include <sys/uio.h>

#include "condo/device.h"
#include "condo/guest_ram.h"
#include "condo/log.h"

#define VIRTIO_MMIO_SIZE 0x1000
#define VIRTIO_MMIO_MAGIC 0x74726976u  /* "virt" */
#define VIRTIO_MMIO_VERSION 2
#define VIRTIO_MMIO_VENDOR_ID 0x4f444e43u /* "CNDO" */
#define VIRTIO_MAX_QUEUES 8
#define VIRTIO_QUEUE_MAX 256 /* QueueNumMax offered for every queue */
/* A chain never has more elements than this, direct and indirect together
 * (the walk also stops after `num` direct descriptors, and after the
 * indirect table's length in it). */
#define VIRTQ_MAX_SEGS VIRTIO_QUEUE_MAX

/* device ids */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_INPUT 18

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

/* InterruptStatus bits */
#define VIRTIO_MMIO_INT_VRING 1  /* used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG 2 /* configuration change */

/* virtio-mmio register offsets (virtio 1.2, 4.2.2) */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION_REG 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID_REG 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_QUEUE_RESET 0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

/* split virtqueue layout (virtio 1.2, 2.7) */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_DESC_SIZE 16
#define VIRTQ_USED_ELEM_SIZE 8

/* One request taken from a queue: the chain's buffers, device-readable ones
 * first (out), then device-writable ones (in), as host iovecs that point
 * into guest RAM (already bounds-checked). Zero-length descriptors are
 * left out. out_num + in_num <= VIRTQ_MAX_SEGS; out_len + in_len fits in
 * 32 bits (virtio 1.2, 2.7.5.2). */
struct virtq_elem {
    uint16_t head;      /* descriptor index to hand back with virtq_push */
    uint32_t epoch;     /* the transport's epoch at virtq_pop */
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
    /* Device-specific bits; the transport adds VERSION_1, INDIRECT_DESC and
     * RING_EVENT_IDX (the queue code implements both for every device). */
    uint64_t features;
    unsigned num_queues;
    /* config space (offset from 0x100), little-endian as the spec says;
     * size is 1, 2 or 4 (Linux reads 64-bit fields as two 32-bit halves) */
    void (*config_read)(void *opaque, uint64_t off, unsigned size, uint64_t *val);
    void (*config_write)(void *opaque, uint64_t off, unsigned size, uint64_t val);
    /* The driver made buffers available on queue q (QueueNotify, and once
     * for every ready queue when DRIVER_OK is set). */
    void (*queue_notify)(void *opaque, unsigned q);
    /* Device reset (the driver wrote 0 to Status, or the VM resets). The
     * device must drop every element it popped and not yet pushed. */
    void (*reset)(void *opaque);
    /* Optional: timed work (a rate limit's wait), as dev_ops.poll. */
    uint64_t (*poll)(void *opaque);
    /* Optional: as dev_ops.next_deadline. */
    uint64_t (*next_deadline)(void *opaque);
    /* Device state after the transport's; the device writes its own
     * version byte first. May be NULL (nothing to save). load is called
     * twice on the same bytes: with commit false it only parses and checks
     * (changing nothing), and only when that and the transport's own
     * checks passed, again with commit true to apply them (it must not
     * fail then). So a bad stream leaves transport and device unchanged. */
    void (*save)(void *opaque, struct state_buf *s);
    int (*load)(void *opaque, struct state_buf *s, bool commit);
};

struct virtio_mmio {
    const struct virtio_device_ops *dev;
    void *dev_opaque;
    struct guest_ram *ram;
    struct irq_line irq;
    uint32_t status;
    uint32_t device_features_sel, driver_features_sel;
    uint64_t driver_features;
    bool driver_features_bad; /* a 1 written to a feature word beyond 63 */
    uint32_t queue_sel;
    uint32_t interrupt_status;
    uint32_t config_generation;
    int irq_level; /* what the irq line was last set to (not saved) */
    /* Bumped by every reset, queue (re)configuration and load: an element
     * popped before is stale and virtq_push ignores it (not saved). */
    uint32_t epoch;
    struct virtq vq[VIRTIO_MAX_QUEUES];
    /* The device's guest and backend errors, rate-limited (not saved). */
    struct log_limit log;
};

/* The register window (VIRTIO_MMIO_SIZE bytes): map it with the
 * struct virtio_mmio as opaque. Registers below 0x100 take 32-bit
 * accesses only; the config space takes 8-, 16- and 32-bit ones. */
extern const struct dev_ops virtio_mmio_ops;

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device_ops *dev,
                      void *dev_opaque, struct guest_ram *ram, struct irq_line irq);
/* All features the device offers (device bits + transport bits). */
uint64_t virtio_mmio_device_features(const struct virtio_mmio *t);

/* Take the next available request from queue q. Returns 1 with *elem
 * filled, 0 when the queue is empty (or not ready, or the driver has not
 * set DRIVER_OK, or the device is broken), -EINVAL when the guest's queue
 * is malformed (the device is then marked DEVICE_NEEDS_RESET and the
 * config-change interrupt raised). */
int virtq_pop(struct virtio_mmio *t, unsigned q, struct virtq_elem *elem);
/* Give back the element popped last from queue q, unprocessed: the next
 * virtq_pop takes (and validates) the same request again. For a device
 * that must wait (a rate limit) and would rather not hold the element. */
void virtq_unpop(struct virtio_mmio *t, unsigned q);
/* Return a request with `written` bytes written into its in-buffers
 * (clamped to in_len; those bytes are reported to guest_ram_note_write),
 * and raise the used-buffer interrupt unless the driver suppressed it.
 * Does nothing when the device was reset, a queue reconfigured or the
 * device broken since the element was popped. */
void virtq_push(struct virtio_mmio *t, unsigned q, const struct virtq_elem *elem,
                uint32_t written);
/* virtq_push in two steps, for a device that hands back several elements
 * as one unit (virtio-net's mergeable receive buffers): virtq_fill writes
 * the used element k places after the last published one (false: the
 * element is stale, nothing written), virtq_flush then publishes count
 * filled elements at once and raises the interrupt. */
bool virtq_fill(struct virtio_mmio *t, unsigned q, const struct virtq_elem *elem,
                uint32_t written, unsigned k);
void virtq_flush(struct virtio_mmio *t, unsigned q, unsigned count);
/* Whether the driver negotiated feature `bit`. */
bool virtio_has_feature(const struct virtio_mmio *t, unsigned bit);
/* Mark the device broken (a request the device cannot make sense of). */
void virtio_set_needs_reset(struct virtio_mmio *t);
/* The device changed its config space: bump ConfigGeneration and send a
 * configuration change notification (once DRIVER_OK). */
void virtio_config_changed(struct virtio_mmio *t);
/* Copy helpers across an iovec array; return bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf,
                    size_t len);
/* Describe bytes [off, off+len) of iov[0..n) in dst (at most max entries);
 * returns the number of entries, or -E2BIG if max is too small, or -EINVAL
 * if the range is not all inside iov. */
int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len, struct iovec *dst,
              unsigned max);

#endif
