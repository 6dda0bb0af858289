/* Shared between the virtio-mmio transport (mmio.c) and the split
 * virtqueue code (queue.c); not part of the public surface. */
#ifndef CONDO_DEV_VIRTIO_INTERNAL_H
#define CONDO_DEV_VIRTIO_INTERNAL_H

#include "condo/virtio.h"

/* Set InterruptStatus bits and bring the irq line up to date. */
void virtio_mmio_raise(struct virtio_mmio *t, uint32_t bits);
/* Validate queue q's size and ring addresses (all inside RAM, aligned);
 * 0 or -EINVAL with the reason logged as a guest error. */
int virtq_check_layout(struct virtio_mmio *t, unsigned q);

#endif
