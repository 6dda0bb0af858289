/* virtio-net (virtio 1.2, 5.1): an Ethernet NIC on the virtio-mmio
 * transport, its frames carried by a struct net_backend.
 *
 * Offered: VIRTIO_NET_F_MAC and VIRTIO_NET_F_STATUS (link always up). No
 * checksum or segmentation offloads and no mergeable receive buffers: every
 * frame is a whole Ethernet frame behind a 12-byte struct virtio_net_hdr
 * whose fields are all zero (num_buffers = 1 on receive). Queue 0 receives,
 * queue 1 transmits.
 *
 * Wiring (the board): virtio_net_init(vn, nb, ram, irq), then map
 * &vn->mmio with virtio_mmio_ops at the slot's address. The backend must
 * outlive the device; close it after the device is gone. */
#ifndef CONDO_VIRTIO_NET_H
#define CONDO_VIRTIO_NET_H

#include "condo/net.h"
#include "condo/virtio.h"

/* feature bits (virtio 1.2, 5.1.3) */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

/* struct virtio_net_hdr with VERSION_1 (num_buffers always present) */
#define VIRTIO_NET_HDR_LEN 12
/* config space: mac[6], le16 status */
#define VIRTIO_NET_CONFIG_LEN 8

struct virtio_net {
    struct virtio_mmio mmio; /* the transport: map it with virtio_mmio_ops */
    struct net_backend *nb;
    uint8_t mac[6];
    /* what the device saw (tests, debugging) */
    uint64_t tx_frames, rx_frames, tx_dropped, rx_dropped;
    uint64_t tx_bytes, rx_bytes; /* frame bytes, without the virtio header */
    /* scratch for one request at a time (too big for the stack) */
    struct virtq_elem tx_elem, rx_elem;
};

extern const struct virtio_device_ops virtio_net_device_ops;

/* Attach the device to backend nb (it sets itself as nb's peer; the MAC
 * comes from nb->mac) and initialise its transport. */
void virtio_net_init(struct virtio_net *vn, struct net_backend *nb, struct guest_ram *ram,
                     struct irq_line irq);

#endif
