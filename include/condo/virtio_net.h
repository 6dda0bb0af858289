/* virtio-net (virtio 1.2, 5.1): an Ethernet NIC on the virtio-mmio
 * transport, its frames carried by a struct net_backend.
 *
 * Offered: VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS (link always up), and the
 * offloads (docs/NETWORK.md): CSUM and HOST_TSO4/TSO6/ECN (the guest hands
 * over frames of up to 64 KiB with a partial checksum; the backend passes
 * the header on or condo completes and segments them, net_offload.h),
 * GUEST_CSUM and GUEST_TSO4/TSO6/ECN (frames to the guest carry
 * DATA_VALID, partial checksums or GSO when the backend has them), and
 * MRG_RXBUF (a frame spreads over several receive buffers). Every frame
 * sits behind a 12-byte struct virtio_net_hdr; a transmitted header that
 * asks for what was not negotiated, or whose offsets do not fit the frame,
 * drops the frame (counted in tx_bad_hdr, logged rate-limited). Queue 0
 * receives, queue 1 transmits.
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
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

/* struct virtio_net_hdr with VERSION_1 (num_buffers always present) */
#define VIRTIO_NET_HDR_LEN 12
/* Most receive buffers one frame may take with MRG_RXBUF (a 64 KiB frame
 * in buffers of at least 1.5 KiB, as Linux posts them, takes 44). */
#define VIRTIO_NET_MRG_MAX 64
/* config space: mac[6], le16 status */
/* mac[6], status, max_virtqueue_pairs, mtu (virtio 1.2, 5.1.4) */
#define VIRTIO_NET_CONFIG_LEN 12

struct virtio_net {
    struct virtio_mmio mmio; /* the transport: map it with virtio_mmio_ops */
    struct net_backend *nb;
    struct virtio_device_ops ops; /* virtio_net_device_ops + MTU if the backend has one */
    uint8_t mac[6];
    uint16_t mtu; /* offered with VIRTIO_NET_F_MTU when non-zero */
    /* what the device saw (tests, debugging) */
    uint64_t tx_frames, rx_frames, tx_dropped, rx_dropped;
    uint64_t tx_bytes, rx_bytes; /* frame bytes, without the virtio header */
    uint64_t tx_bad_hdr;         /* frames dropped for their offload header */
    uint64_t tx_gso, rx_gso;     /* GSO frames passed (either way) */
    uint64_t rx_merged;          /* frames spread over several buffers */
    /* the receive offloads last told to the backend */
    struct net_offload_caps rx_caps;
    /* scratch for one request at a time (too big for the stack) */
    struct virtq_elem tx_elem, rx_elem;
    uint8_t tx_buf[NET_FRAME_MAX], rx_buf[NET_FRAME_MAX];
};

extern const struct virtio_device_ops virtio_net_device_ops;

/* Attach the device to backend nb (it sets itself as nb's peer; the MAC
 * comes from nb->mac) and initialise its transport. */
void virtio_net_init(struct virtio_net *vn, struct net_backend *nb, struct guest_ram *ram,
                     struct irq_line irq);

#endif
