/* virtio-net offloads done in condo: checks of the per-frame header,
 * checksum completion and TCP segmentation (include/condo/net_offload.h).
 * Every offset comes from the guest or from the frame itself and is
 * checked against len before use. */
#include <errno.h>
#include <string.h>

#include "condo/net_offload.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPPROTO_TCP_ 6
#define IPV6_HLEN 40
#define TCP_MIN_HLEN 20
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80
/* room for Ethernet + IPv4 with options (60) + TCP with options (60) */
#define MAX_HDRS (ETH_HLEN + 60 + 60)

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void net_vhdr_load(struct net_vhdr *h, const uint8_t raw[NET_VHDR_LEN])
{
    h->flags = raw[0];
    h->gso_type = raw[1];
    h->hdr_len = le16(raw + 2);
    h->gso_size = le16(raw + 4);
    h->csum_start = le16(raw + 6);
    h->csum_offset = le16(raw + 8);
}

void net_vhdr_store(const struct net_vhdr *h, uint8_t raw[NET_VHDR_LEN])
{
    raw[0] = h->flags;
    raw[1] = h->gso_type;
    put_le16(raw + 2, h->hdr_len);
    put_le16(raw + 4, h->gso_size);
    put_le16(raw + 6, h->csum_start);
    put_le16(raw + 8, h->csum_offset);
}

bool net_vhdr_needs_work(const struct net_vhdr *h)
{
    return (h->flags & NET_VHDR_F_NEEDS_CSUM) || h->gso_type != NET_VHDR_GSO_NONE;
}

/* Sum of 16-bit big-endian words. Summed as native little-endian 32-bit
 * words into 64 bits (the one's complement sum does not care about byte
 * order as long as it is swapped back at the end), which is what makes
 * this cheap enough to run over every byte the guest sends. */
uint32_t net_csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
    uint64_t s = 0;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t w;
        memcpy(&w, buf + i, 4);
        s += w;
    }
    if (i + 2 <= len) {
        uint16_t w;
        memcpy(&w, buf + i, 2);
        s += w;
        i += 2;
    }
    if (i < len) {
        /* odd tail: the byte is the high half of a big-endian word, the
         * low half of a little-endian one */
        s += buf[i];
    }
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    uint16_t native = (uint16_t)s;
    uint16_t bes = (uint16_t)(native >> 8 | native << 8);
    return sum + bes;
}

uint16_t net_csum_finish(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The frame's layout, as found in it (not as the header claims). */
struct layout {
    bool v6;
    size_t ip; /* offset of the IP header */
    size_t tcp;
    size_t hdrs; /* Ethernet + IP + TCP headers */
};

static int parse_tcp_frame(const uint8_t *f, size_t len, bool want_v6, struct layout *l,
                           const char **why)
{
    if (len < ETH_HLEN) {
        *why = "frame shorter than Ethernet";
        return -EINVAL;
    }
    uint16_t type = be16(f + 12);
    l->ip = ETH_HLEN;
    l->v6 = want_v6;
    if (!want_v6) {
        if (type != ETHERTYPE_IPV4) {
            *why = "TCPv4 segmentation of a frame that is not IPv4";
            return -EINVAL;
        }
        if (len < l->ip + 20 || (f[l->ip] >> 4) != 4) {
            *why = "bad IPv4 header";
            return -EINVAL;
        }
        size_t ihl = (size_t)(f[l->ip] & 15) * 4;
        if (ihl < 20 || len < l->ip + ihl) {
            *why = "bad IPv4 header length";
            return -EINVAL;
        }
        if (f[l->ip + 9] != IPPROTO_TCP_) {
            *why = "TCP segmentation of a frame that is not TCP";
            return -EINVAL;
        }
        if (be16(f + l->ip + 6) & 0x3fff) {
            *why = "segmentation of an IPv4 fragment";
            return -EINVAL;
        }
        l->tcp = l->ip + ihl;
    } else {
        if (type != ETHERTYPE_IPV6) {
            *why = "TCPv6 segmentation of a frame that is not IPv6";
            return -EINVAL;
        }
        if (len < l->ip + IPV6_HLEN || (f[l->ip] >> 4) != 6) {
            *why = "bad IPv6 header";
            return -EINVAL;
        }
        if (f[l->ip + 6] != IPPROTO_TCP_) {
            *why = "TCPv6 segmentation with extension headers (not supported)";
            return -EINVAL;
        }
        l->tcp = l->ip + IPV6_HLEN;
    }
    if (len < l->tcp + TCP_MIN_HLEN) {
        *why = "TCP header beyond the frame";
        return -EINVAL;
    }
    size_t doff = (size_t)(f[l->tcp + 12] >> 4) * 4;
    if (doff < TCP_MIN_HLEN || len < l->tcp + doff) {
        *why = "bad TCP header length";
        return -EINVAL;
    }
    l->hdrs = l->tcp + doff;
    return 0;
}

int net_offload_check(const struct net_vhdr *h, const struct net_offload_caps *caps,
                      const uint8_t *frame, size_t len, const char **why)
{
    *why = "";
    if (h->flags & ~NET_VHDR_F_NEEDS_CSUM) {
        *why = "flags other than NEEDS_CSUM";
        return -EINVAL;
    }
    if (h->hdr_len > len) {
        *why = "hdr_len beyond the frame";
        return -EINVAL;
    }
    if (h->flags & NET_VHDR_F_NEEDS_CSUM) {
        if (!caps->csum) {
            *why = "NEEDS_CSUM without VIRTIO_NET_F_CSUM";
            return -EINVAL;
        }
        if (h->csum_start < ETH_HLEN || (size_t)h->csum_start + h->csum_offset + 2 > len ||
            (h->csum_offset & 1)) {
            *why = "csum_start/csum_offset outside the frame";
            return -EINVAL;
        }
    }
    uint8_t gso = h->gso_type & (uint8_t)~NET_VHDR_GSO_ECN;
    if (h->gso_type == NET_VHDR_GSO_NONE)
        return 0;
    if (gso == NET_VHDR_GSO_TCPV4 ? !caps->tso4 : gso == NET_VHDR_GSO_TCPV6 ? !caps->tso6 : true) {
        *why = "GSO type not negotiated";
        return -EINVAL;
    }
    if ((h->gso_type & NET_VHDR_GSO_ECN) && !caps->ecn) {
        *why = "GSO ECN without VIRTIO_NET_F_HOST_ECN";
        return -EINVAL;
    }
    if (!(h->flags & NET_VHDR_F_NEEDS_CSUM)) {
        *why = "GSO without NEEDS_CSUM";
        return -EINVAL;
    }
    if (h->gso_size == 0) {
        *why = "gso_size 0";
        return -EINVAL;
    }
    struct layout l;
    if (parse_tcp_frame(frame, len, gso == NET_VHDR_GSO_TCPV6, &l, why) < 0)
        return -EINVAL;
    if (l.hdrs > MAX_HDRS) {
        *why = "headers too long";
        return -EINVAL;
    }
    if (h->csum_start != l.tcp || h->csum_offset != 16) {
        *why = "GSO checksum not at the TCP header's";
        return -EINVAL;
    }
    size_t payload = len - l.hdrs;
    if ((payload + h->gso_size - 1) / h->gso_size > NET_OFFLOAD_MAX_SEGS) {
        *why = "gso_size too small (too many segments)";
        return -EINVAL;
    }
    return 0;
}

void net_offload_csum(const struct net_vhdr *h, uint8_t *frame, size_t len)
{
    size_t at = (size_t)h->csum_start + h->csum_offset;
    if (!(h->flags & NET_VHDR_F_NEEDS_CSUM) || at + 2 > len || h->csum_start >= len)
        return; /* net_offload_check refuses these; stay inside anyway */
    /* the sender left the pseudo-header sum in the field: sum it too */
    uint16_t c = net_csum_finish(net_csum_add(0, frame + h->csum_start, len - h->csum_start));
    put_be16(frame + at, c ? c : 0xffff); /* 0 means "no checksum" for UDP */
}

/* The pseudo-header's sum for TCP with tcp_len bytes of header and data. */
static uint32_t pseudo_sum(const uint8_t *f, const struct layout *l, size_t tcp_len)
{
    uint32_t s;
    if (l->v6)
        s = net_csum_add(0, f + l->ip + 8, 32); /* source, destination */
    else
        s = net_csum_add(0, f + l->ip + 12, 8);
    return s + IPPROTO_TCP_ + (uint32_t)(tcp_len >> 16) + (uint32_t)(tcp_len & 0xffff);
}

int net_offload_segment(const struct net_vhdr *h, const uint8_t *frame, size_t len,
                        int (*emit)(void *opaque, const struct iovec *iov, int n),
                        void *opaque)
{
    struct layout l;
    const char *why;
    bool v6 = (h->gso_type & (uint8_t)~NET_VHDR_GSO_ECN) == NET_VHDR_GSO_TCPV6;
    if (h->gso_size == 0 || parse_tcp_frame(frame, len, v6, &l, &why) < 0 || l.hdrs > MAX_HDRS)
        return -EINVAL;
    uint8_t hdrs[MAX_HDRS];
    memcpy(hdrs, frame, l.hdrs);
    size_t payload = len - l.hdrs, mss = h->gso_size;
    uint32_t seq = be32(hdrs + l.tcp + 4);
    uint16_t id = be16(hdrs + l.ip + 4);
    uint8_t tflags = hdrs[l.tcp + 13];
    size_t off = 0;
    int nseg = 0;
    do {
        size_t chunk = payload - off < mss ? payload - off : mss;
        bool last = off + chunk >= payload;
        size_t tcp_len = l.hdrs - l.tcp + chunk;
        if (l.v6) {
            put_be16(hdrs + l.ip + 4, (uint16_t)(tcp_len));
        } else {
            put_be16(hdrs + l.ip + 2, (uint16_t)(l.hdrs - l.ip + chunk));
            put_be16(hdrs + l.ip + 4, (uint16_t)(id + nseg));
            put_be16(hdrs + l.ip + 10, 0);
            put_be16(hdrs + l.ip + 10, net_csum_finish(net_csum_add(0, hdrs + l.ip,
                                                                    l.tcp - l.ip)));
        }
        put_be32(hdrs + l.tcp + 4, seq + (uint32_t)off);
        uint8_t fl = tflags;
        if (!last)
            fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
        if (nseg > 0)
            fl &= (uint8_t)~TCP_CWR;
        hdrs[l.tcp + 13] = fl;
        put_be16(hdrs + l.tcp + 16, 0);
        /* the TCP header is a multiple of 4 bytes long: the payload's sum
         * starts on an even offset and can be added separately */
        uint32_t s = pseudo_sum(hdrs, &l, tcp_len);
        s = net_csum_add(s, hdrs + l.tcp, l.hdrs - l.tcp);
        s = net_csum_add(s, frame + l.hdrs + off, chunk);
        put_be16(hdrs + l.tcp + 16, net_csum_finish(s));
        struct iovec iov[2] = { { hdrs, l.hdrs }, { (uint8_t *)frame + l.hdrs + off, chunk } };
        int r = emit(opaque, iov, chunk ? 2 : 1);
        if (r < 0)
            return r;
        nseg++;
        off += chunk;
    } while (off < payload);
    return nseg;
}
