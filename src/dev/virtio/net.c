/* virtio-net: the guest's Ethernet NIC. Transmit takes each chain from
 * queue 1, reads the virtio_net_hdr and hands the frame to the backend
 * (with its header when it asks for a checksum or segmentation, checked
 * first: net_offload_check); receive puts a header and the frame into the
 * next buffer of queue 0, or several with MRG_RXBUF. */
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
    le16_store(cfg + 8, 1);                           /* max_virtqueue_pairs */
    le16_store(cfg + 10, vn->mtu ? vn->mtu : 1500);   /* mtu */
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

static struct net_offload_caps tx_caps(const struct virtio_mmio *t)
{
    return (struct net_offload_caps){
        .csum = virtio_has_feature(t, VIRTIO_NET_F_CSUM),
        .tso4 = virtio_has_feature(t, VIRTIO_NET_F_HOST_TSO4),
        .tso6 = virtio_has_feature(t, VIRTIO_NET_F_HOST_TSO6),
        .ecn = virtio_has_feature(t, VIRTIO_NET_F_HOST_ECN),
    };
}

static struct net_offload_caps guest_rx_caps(const struct virtio_mmio *t)
{
    return (struct net_offload_caps){
        .csum = virtio_has_feature(t, VIRTIO_NET_F_GUEST_CSUM),
        .tso4 = virtio_has_feature(t, VIRTIO_NET_F_GUEST_TSO4),
        .tso6 = virtio_has_feature(t, VIRTIO_NET_F_GUEST_TSO6),
        .ecn = virtio_has_feature(t, VIRTIO_NET_F_GUEST_ECN),
    };
}

/* Send the frame of chain e (header already read into h): 0, -EAGAIN
 * (rate limit: put it back) or another negative errno (dropped). */
static int net_tx_frame(struct virtio_net *vn, const struct virtq_elem *e,
                        const struct net_vhdr *h, size_t len)
{
    static const struct net_vhdr zero;
    if (memcmp(h, &zero, sizeof(zero)) == 0) {
        /* the common case without offloads: pass the guest's buffers */
        struct iovec frame[VIRTQ_MAX_SEGS];
        int n = iov_slice(e->out, e->out_num, VIRTIO_NET_HDR_LEN, len, frame, VIRTQ_MAX_SEGS);
        return n > 0 ? net_backend_send(vn->nb, frame, n) : -EINVAL;
    }
    /* linear copy: the checks read it once, the checksum may be written
     * into it, and the guest cannot change it behind them */
    if (iov_to_buf(e->out, e->out_num, VIRTIO_NET_HDR_LEN, vn->tx_buf, len) != len)
        return -EINVAL;
    struct net_offload_caps caps = tx_caps(&vn->mmio);
    const char *why;
    if (net_offload_check(h, &caps, vn->tx_buf, len, &why) < 0) {
        log_guest(&vn->mmio.log,
                  "tx frame of %zu bytes refused: %s (flags 0x%x gso_type 0x%x hdr_len %u "
                  "gso_size %u csum_start %u csum_offset %u)",
                  len, why, h->flags, h->gso_type, h->hdr_len, h->gso_size, h->csum_start,
                  h->csum_offset);
        vn->tx_bad_hdr++;
        return -EINVAL;
    }
    if (!net_vhdr_needs_work(h)) {
        struct iovec iov = { vn->tx_buf, len };
        return net_backend_send(vn->nb, &iov, 1);
    }
    int r = net_backend_send_offload(vn->nb, h, vn->tx_buf, len);
    if (r == 0 && h->gso_type != NET_VHDR_GSO_NONE)
        vn->tx_gso++;
    return r;
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
            size_t len = e->out_len - VIRTIO_NET_HDR_LEN;
            uint8_t raw[NET_VHDR_LEN];
            struct net_vhdr h;
            iov_to_buf(e->out, e->out_num, 0, raw, sizeof(raw));
            net_vhdr_load(&h, raw);
            int sr = net_tx_frame(vn, e, &h, len);
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

/* The header the guest gets for a frame the backend described with h
 * (NULL: nothing known): only what the guest negotiated. false: the frame
 * cannot be given to this guest as it is (frame may point to rx_buf then,
 * with the checksum completed). */
static bool rx_header(struct virtio_net *vn, const struct net_vhdr *h, const uint8_t **frame,
                      size_t len, struct net_vhdr *out)
{
    memset(out, 0, sizeof(*out));
    if (!h)
        return true;
    struct net_offload_caps caps = guest_rx_caps(&vn->mmio);
    if ((h->flags & NET_VHDR_F_NEEDS_CSUM) &&
        ((size_t)h->csum_start + h->csum_offset + 2 > len || h->csum_start < NET_ETH_HLEN))
        return false; /* a backend bug: never write outside the frame */
    if (h->gso_type != NET_VHDR_GSO_NONE) {
        uint8_t gso = h->gso_type & (uint8_t)~NET_VHDR_GSO_ECN;
        bool ok = (gso == NET_VHDR_GSO_TCPV4 && caps.tso4) ||
                  (gso == NET_VHDR_GSO_TCPV6 && caps.tso6);
        if (!ok || ((h->gso_type & NET_VHDR_GSO_ECN) && !caps.ecn) || !caps.csum)
            return false; /* the backend was told not to (set_rx_offload) */
        *out = *h;
        return true;
    }
    if (h->flags & NET_VHDR_F_NEEDS_CSUM) {
        if (caps.csum) {
            out->flags = NET_VHDR_F_NEEDS_CSUM;
            out->csum_start = h->csum_start;
            out->csum_offset = h->csum_offset;
            return true;
        }
        memcpy(vn->rx_buf, *frame, len);
        net_offload_csum(h, vn->rx_buf, len);
        *frame = vn->rx_buf;
        return true;
    }
    if ((h->flags & NET_VHDR_F_DATA_VALID) && caps.csum)
        out->flags = NET_VHDR_F_DATA_VALID;
    return true;
}

/* MRG_RXBUF: spread header + frame over as many buffers as it takes, and
 * publish them together (the guest must never see the first without the
 * rest). Two passes: count the buffers (and give them back), then fill. */
static void net_receive_merged(struct virtio_net *vn, uint8_t *hdr, const uint8_t *frame,
                               size_t len)
{
    struct virtio_mmio *t = &vn->mmio;
    struct virtq_elem *e = &vn->rx_elem;
    size_t need = VIRTIO_NET_HDR_LEN + len, have = 0;
    unsigned k = 0;
    while (have < need && k < VIRTIO_NET_MRG_MAX) {
        if (virtq_pop(t, VIRTIO_NET_RXQ, e) != 1)
            break;
        k++;
        if (k == 1 && e->in_len < VIRTIO_NET_HDR_LEN) {
            log_guest(&t->log, "rx buffer of %zu bytes, shorter than the %d-byte header",
                      e->in_len, VIRTIO_NET_HDR_LEN);
            virtq_push(t, VIRTIO_NET_RXQ, e, 0);
            vn->rx_dropped++;
            return;
        }
        have += e->in_len;
    }
    for (unsigned i = 0; i < k; i++)
        virtq_unpop(t, VIRTIO_NET_RXQ);
    if (have < need) {
        condo_debug("virtio-net: %zu-byte frame dropped, %u rx buffers hold %zu", len, k, have);
        vn->rx_dropped++;
        return;
    }
    le16_store(hdr + NET_VHDR_LEN, (uint16_t)k); /* num_buffers */
    size_t off = 0; /* of header + frame */
    unsigned filled = 0;
    for (unsigned i = 0; i < k; i++) {
        if (virtq_pop(t, VIRTIO_NET_RXQ, e) != 1)
            break; /* cannot happen: the same buffers as above */
        size_t w = 0;
        if (i == 0) {
            w = iov_from_buf(e->in, e->in_num, 0, hdr, VIRTIO_NET_HDR_LEN);
            off = VIRTIO_NET_HDR_LEN;
        }
        size_t n = len - (off - VIRTIO_NET_HDR_LEN);
        if (n > e->in_len - w)
            n = e->in_len - w;
        w += iov_from_buf(e->in, e->in_num, w, frame + (off - VIRTIO_NET_HDR_LEN), n);
        off += n;
        if (virtq_fill(t, VIRTIO_NET_RXQ, e, (uint32_t)w, filled))
            filled++;
    }
    virtq_flush(t, VIRTIO_NET_RXQ, filled);
    if (filled > 1)
        vn->rx_merged++;
    vn->rx_frames++;
    vn->rx_bytes += len;
}

static void net_receive(void *opaque, const struct net_vhdr *h, const uint8_t *frame, size_t len)
{
    struct virtio_net *vn = opaque;
    struct virtq_elem *e = &vn->rx_elem;
    if (len < NET_ETH_HLEN || len > NET_FRAME_MAX) {
        vn->rx_dropped++;
        return;
    }
    struct net_vhdr out;
    if (!rx_header(vn, h, &frame, len, &out)) {
        log_host(&vn->mmio.log, "rx frame of %zu bytes dropped: its offload header "
                 "(flags 0x%x gso_type 0x%x) is not what the guest accepts",
                 len, h->flags, h->gso_type);
        vn->rx_dropped++;
        return;
    }
    uint8_t hdr[VIRTIO_NET_HDR_LEN];
    net_vhdr_store(&out, hdr);
    le16_store(hdr + NET_VHDR_LEN, 1); /* num_buffers */
    if (out.gso_type != NET_VHDR_GSO_NONE)
        vn->rx_gso++;
    if (virtio_has_feature(&vn->mmio, VIRTIO_NET_F_MRG_RXBUF)) {
        net_receive_merged(vn, hdr, frame, len);
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
    if (q == VIRTIO_NET_RXQ) {
        /* also sent once at DRIVER_OK: the features are final by then */
        struct net_offload_caps caps = guest_rx_caps(&vn->mmio);
        if (memcmp(&caps, &vn->rx_caps, sizeof(caps)) != 0) {
            vn->rx_caps = caps;
            net_backend_set_rx_offload(vn->nb, &caps);
        }
        net_backend_rx_ready(vn->nb);
    }
    else if (q == VIRTIO_NET_TXQ)
        net_tx(vn);
}

static void net_reset(void *opaque)
{
    /* nothing held between calls: no element stays popped; the backend
     * must not hand over offloaded frames to the next driver before it
     * negotiates them */
    struct virtio_net *vn = opaque;
    static const struct net_offload_caps none;
    if (memcmp(&vn->rx_caps, &none, sizeof(none)) != 0) {
        vn->rx_caps = none;
        net_backend_set_rx_offload(vn->nb, &none);
    }
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
    if (!commit)
        return 0;
    memcpy(vn->mac, mac, 6);
    /* the negotiated features came back with the transport's state: the
     * backend may hand over what they allow again */
    vn->rx_caps = guest_rx_caps(&vn->mmio);
    net_backend_set_rx_offload(vn->nb, &vn->rx_caps);
    return 0;
}

const struct virtio_device_ops virtio_net_device_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
                (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
                (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |
                (1ull << VIRTIO_NET_F_HOST_ECN) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |
                (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN) |
                (1ull << VIRTIO_NET_F_MRG_RXBUF),
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
    vn->ops = virtio_net_device_ops;
    if (nb->mtu > 1500) {
        vn->mtu = nb->mtu;
        vn->ops.features |= 1ull << VIRTIO_NET_F_MTU;
    }
    virtio_mmio_init(&vn->mmio, &vn->ops, vn, ram, irq);
    struct net_peer peer = {
        .can_receive = net_can_receive,
        .receive = net_receive,
        .tx_ready = net_tx_ready,
        .opaque = vn,
    };
    net_backend_set_peer(nb, &peer);
}
