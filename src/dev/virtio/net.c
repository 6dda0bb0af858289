/* virtio-net: the guest's Ethernet NIC. Transmit takes each chain from
 * queue 1, strips the virtio_net_hdr and hands the frame to the backend;
 * receive puts a header and the frame into the next buffer of queue 0.
 * Without offloads the header carries nothing, which keeps the device
 * simple and every frame exactly what was on the wire. */
#include <errno.h>
#include <string.h>

#include "condo/virtio_net.h"

#define VIRTIO_NET_STATE_VERSION 1

static void net_config_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
    struct virtio_net *vn = opaque;
    uint8_t cfg[VIRTIO_NET_CONFIG_LEN];
    memcpy(cfg, vn->mac, 6);
    le16_store(cfg + 6, VIRTIO_NET_S_LINK_UP);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        if (off + i < sizeof(cfg))
            v |= (uint64_t)cfg[off + i] << (8 * i);
    }
    if (off + size > sizeof(cfg))
        log_guest(&vn->mmio.log, "config read of %u bytes at 0x%llx beyond its %d bytes", size,
                    (unsigned long long)off, VIRTIO_NET_CONFIG_LEN);
    *val = v;
}

static void net_config_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct virtio_net *vn = opaque;
    /* virtio 1.2, 5.1.4.2: the MAC is read-only once VERSION_1 is in use */
    log_guest(&vn->mmio.log, "config write of 0x%llx (%u bytes at 0x%llx) ignored: read-only",
                (unsigned long long)val, size, (unsigned long long)off);
}

static void net_tx(struct virtio_net *vn)
{
    struct virtio_mmio *t = &vn->mmio;
    struct virtq_elem *e = &vn->tx_elem;
    while (net_backend_can_send(vn->nb)) {
        int r = virtq_pop(t, VIRTIO_NET_TXQ, e);
        if (r != 1)
            return; /* empty, or the queue is broken (already logged) */
        if (e->out_len < VIRTIO_NET_HDR_LEN) {
            log_guest(&vn->mmio.log, "tx chain of %zu bytes, shorter than the %d-byte header",
                        e->out_len, VIRTIO_NET_HDR_LEN);
            vn->tx_dropped++;
        } else if (e->out_len - VIRTIO_NET_HDR_LEN > NET_FRAME_MAX ||
                   e->out_len - VIRTIO_NET_HDR_LEN < NET_ETH_HLEN) {
            log_guest(&vn->mmio.log, "tx frame of %zu bytes (want %d..%d)",
                        e->out_len - VIRTIO_NET_HDR_LEN, NET_ETH_HLEN, NET_FRAME_MAX);
            vn->tx_dropped++;
        } else {
            struct iovec frame[VIRTQ_MAX_SEGS];
            size_t len = e->out_len - VIRTIO_NET_HDR_LEN;
            int n = iov_slice(e->out, e->out_num, VIRTIO_NET_HDR_LEN, len, frame,
                              VIRTQ_MAX_SEGS);
            int sr = n > 0 ? net_backend_send(vn->nb, frame, n) : -EINVAL;
            if (sr == -EAGAIN) {
                /* rate limit: put it back, peer.tx_ready resumes */
                virtq_unpop(t, VIRTIO_NET_TXQ);
                return;
            }
            if (sr == 0) {
                vn->tx_frames++;
                vn->tx_bytes += len;
            }
            else
                vn->tx_dropped++; /* a full host queue: lost, as on a wire */
        }
        virtq_push(t, VIRTIO_NET_TXQ, e, 0);
    }
}

static bool net_can_receive(void *opaque)
{
    struct virtio_net *vn = opaque;
    /* Peek: take the next buffer and give it back. Holding it instead
     * would leave an element popped across a snapshot. */
    if (virtq_pop(&vn->mmio, VIRTIO_NET_RXQ, &vn->rx_elem) != 1)
        return false;
    virtq_unpop(&vn->mmio, VIRTIO_NET_RXQ);
    return true;
}

static void net_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct virtio_net *vn = opaque;
    struct virtq_elem *e = &vn->rx_elem;
    if (len < NET_ETH_HLEN || len > NET_FRAME_MAX) {
        vn->rx_dropped++;
        return;
    }
    if (virtq_pop(&vn->mmio, VIRTIO_NET_RXQ, e) != 1) {
        vn->rx_dropped++; /* no buffer (the backend should have asked) */
        return;
    }
    if (e->in_len < VIRTIO_NET_HDR_LEN) {
        /* useless for any frame: hand it back empty so that it does not
         * block the buffers behind it */
        log_guest(&vn->mmio.log, "rx buffer of %zu bytes, shorter than the %d-byte header",
                    e->in_len, VIRTIO_NET_HDR_LEN);
        virtq_push(&vn->mmio, VIRTIO_NET_RXQ, e, 0);
        vn->rx_dropped++;
        return;
    }
    if (e->in_len - VIRTIO_NET_HDR_LEN < len) {
        /* This frame does not fit (no MRG_RXBUF): drop it, keep the buffer
         * for the next one. */
        condo_debug("virtio-net: %zu-byte frame dropped, rx buffer holds %zu", len,
                    e->in_len - VIRTIO_NET_HDR_LEN);
        virtq_unpop(&vn->mmio, VIRTIO_NET_RXQ);
        vn->rx_dropped++;
        return;
    }
    uint8_t hdr[VIRTIO_NET_HDR_LEN] = { 0 }; /* no flags, GSO_NONE */
    le16_store(hdr + 10, 1);                  /* num_buffers */
    iov_from_buf(e->in, e->in_num, 0, hdr, sizeof(hdr));
    iov_from_buf(e->in, e->in_num, VIRTIO_NET_HDR_LEN, frame, len);
    virtq_push(&vn->mmio, VIRTIO_NET_RXQ, e, (uint32_t)(VIRTIO_NET_HDR_LEN + len));
    vn->rx_frames++;
    vn->rx_bytes += len;
}

static void net_tx_ready(void *opaque)
{
    net_tx(opaque);
}

static void net_queue_notify(void *opaque, unsigned q)
{
    struct virtio_net *vn = opaque;
    if (q == VIRTIO_NET_RXQ)
        net_backend_rx_ready(vn->nb);
    else if (q == VIRTIO_NET_TXQ)
        net_tx(vn);
}

static void net_reset(void *opaque)
{
    (void)opaque; /* nothing held between calls: no element stays popped */
}

static void net_save(void *opaque, struct state_buf *s)
{
    struct virtio_net *vn = opaque;
    state_put_u8(s, VIRTIO_NET_STATE_VERSION);
    state_put_bytes(s, vn->mac, 6);
}

static int net_load(void *opaque, struct state_buf *s, bool commit)
{
    struct virtio_net *vn = opaque;
    uint8_t mac[6];
    if (state_get_u8(s) != VIRTIO_NET_STATE_VERSION)
        return -EINVAL;
    state_get_bytes(s, mac, 6);
    if (s->err || (mac[0] & 1))
        return -EINVAL;
    /* the guest's driver already knows this MAC: keep it */
    if (commit)
        memcpy(vn->mac, mac, 6);
    return 0;
}

const struct virtio_device_ops virtio_net_device_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS),
    .num_queues = 2,
    .config_read = net_config_read,
    .config_write = net_config_write,
    .queue_notify = net_queue_notify,
    .reset = net_reset,
    .save = net_save,
    .load = net_load,
};

void virtio_net_init(struct virtio_net *vn, struct net_backend *nb, struct guest_ram *ram,
                     struct irq_line irq)
{
    memset(vn, 0, sizeof(*vn));
    vn->nb = nb;
    memcpy(vn->mac, nb->mac, 6);
    virtio_mmio_init(&vn->mmio, &virtio_net_device_ops, vn, ram, irq);
    struct net_peer peer = {
        .can_receive = net_can_receive,
        .receive = net_receive,
        .tx_ready = net_tx_ready,
        .opaque = vn,
    };
    net_backend_set_peer(nb, &peer);
}
