/* virtio-net offloads done in condo: the per-frame header a guest (or a
 * tap device) attaches to a frame, its checks, and the work it asks for
 * when the other end cannot take it as is: completing a partial TCP/UDP
 * checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) and cutting a large TCP segment
 * (GSO, TCP over IPv4 or IPv6) into wire-sized frames with complete
 * checksums. libslirp wants real frames; the switch's peers may not have
 * negotiated the offloads.
 *
 * Everything here is untrusted input: the header's offsets and sizes are
 * checked against the frame and against the frame's own IP and TCP
 * headers; nothing is read or written outside [frame, frame + len). */
#ifndef CONDO_NET_OFFLOAD_H
#define CONDO_NET_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* struct virtio_net_hdr (virtio 1.2, 5.1.6) without num_buffers: flags,
 * gso_type, hdr_len, gso_size, csum_start, csum_offset, little-endian */
#define NET_VHDR_LEN 10

#define NET_VHDR_F_NEEDS_CSUM 1
#define NET_VHDR_F_DATA_VALID 2
#define NET_VHDR_GSO_NONE 0
#define NET_VHDR_GSO_TCPV4 1
#define NET_VHDR_GSO_UDP 3
#define NET_VHDR_GSO_TCPV6 4
#define NET_VHDR_GSO_ECN 0x80

/* Most segments one GSO frame may be cut into: a gso_size so small that
 * it needs more is refused (Linux's smallest TCP MSS, 88 bytes, cuts a
 * 64 KiB frame into about 750). */
#define NET_OFFLOAD_MAX_SEGS 1024

struct net_vhdr {
    uint8_t flags;
    uint8_t gso_type; /* NET_VHDR_GSO_*, possibly | NET_VHDR_GSO_ECN */
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

/* What a header may ask for (the features the guest negotiated). */
struct net_offload_caps {
    bool csum; /* NEEDS_CSUM */
    bool tso4, tso6, ecn;
};

void net_vhdr_load(struct net_vhdr *h, const uint8_t raw[NET_VHDR_LEN]);
void net_vhdr_store(const struct net_vhdr *h, uint8_t raw[NET_VHDR_LEN]);
/* Does the header ask for any work (a checksum or segmentation)? */
bool net_vhdr_needs_work(const struct net_vhdr *h);

/* Check a transmitted frame's header: flags and GSO type allowed by caps,
 * csum_start/csum_offset inside the frame, hdr_len not beyond it, and for
 * GSO a gso_size > 0, a frame that really is Ethernet + IPv4/IPv6 + TCP
 * (no IP options beyond the header length, no IPv6 extension headers, no
 * fragment) and at most NET_OFFLOAD_MAX_SEGS segments. 0, or -EINVAL with
 * *why set to a short reason for the log. */
int net_offload_check(const struct net_vhdr *h, const struct net_offload_caps *caps,
                      const uint8_t *frame, size_t len, const char **why);

/* Complete a partial checksum in place (NEEDS_CSUM): the one's complement
 * sum from csum_start to the end of the frame, seeded with what the sender
 * left at csum_start + csum_offset. The header must have passed
 * net_offload_check. */
void net_offload_csum(const struct net_vhdr *h, uint8_t *frame, size_t len);

/* Cut a checked GSO frame into frames of at most gso_size bytes of TCP
 * payload, each with its own IP length, IPv4 id and header checksum, TCP
 * sequence number, flags (FIN/PSH on the last only, CWR on the first
 * only) and full TCP checksum (frame itself is not changed). emit gets each
 * segment as two iovecs (headers, payload) and returns 0 to go on or a
 * negative errno to stop (returned). The header must have passed
 * net_offload_check. Returns the number of segments or a negative errno. */
int net_offload_segment(const struct net_vhdr *h, const uint8_t *frame, size_t len,
                        int (*emit)(void *opaque, const struct iovec *iov, int n),
                        void *opaque);

/* The Internet checksum's one's complement sum of buf (RFC 1071), added to
 * sum (not folded, not inverted). */
uint32_t net_csum_add(uint32_t sum, const uint8_t *buf, size_t len);
/* Fold a sum to 16 bits and invert it: the value stored in a header. */
uint16_t net_csum_finish(uint32_t sum);

#endif
