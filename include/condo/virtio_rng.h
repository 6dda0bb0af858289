/* virtio-rng (virtio 1.2, 5.4): an entropy source for the guest, fed from
 * the host's getrandom(2). One request queue; each device-writable buffer
 * is filled with up to VIRTIO_RNG_MAX_REQ random bytes.
 *
 * Wiring (board): virtio_rng_init(), then map &rng->mmio on the bus with
 * virtio_mmio_ops at 0x10001000 + n*0x1000 (VIRTIO_MMIO_SIZE), PLIC source
 * 1 + n. No polling needed. */
#ifndef CONDO_VIRTIO_RNG_H
#define CONDO_VIRTIO_RNG_H

#include "condo/virtio.h"

/* Bytes given per request at most (Linux asks for 64 at a time): a guest
 * posting huge buffers cannot make the VMM spend long in getrandom. */
#define VIRTIO_RNG_MAX_REQ 4096

struct virtio_rng {
    struct virtio_mmio mmio; /* map this on the bus */
    bool error_logged;
    struct virtq_elem elem;
};

void virtio_rng_init(struct virtio_rng *rng, struct guest_ram *ram, struct irq_line irq);

#endif
