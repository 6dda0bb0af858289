/* libFuzzer target: the virtio-net offload header a guest (or a switch
 * peer, or a tap) attaches to a frame, and the work it asks for
 * (src/backend/net_offload.c). Input: one byte of caps (bit 0 csum, 1
 * tso4, 2 tso6, 3 ecn), the 10-byte header as it comes off the wire, then
 * the frame. A header that net_offload_check accepts is then acted on as a
 * backend would: the checksum completed in place (the frame's own copy of
 * exactly its length, so ASan sees any byte past it) and the frame cut
 * into segments. Besides crashes, the target traps when a segment is
 * longer than its headers plus gso_size, when the segments' payload does
 * not add up to the frame's, when there are more than NET_OFFLOAD_MAX_SEGS
 * of them, or when a segment's TCP checksum does not verify.
 *
 *   tests/fuzz/run.sh SECONDS offload     build into build/fuzz and run */
#include <stdlib.h>
#include <string.h>

#include "condo/net_offload.h"
#include "fuzz_common.h"

struct seg_check {
    const struct net_vhdr *h;
    size_t payload; /* TCP payload bytes seen so far */
    size_t hdr;     /* the headers' length (the same in every segment) */
    int n;
    uint8_t buf[65536 + 128];
};

/* The TCP checksum of a whole IPv4 or IPv6 frame verifies. */
static bool tcp_csum_ok(const uint8_t *f, size_t len)
{
    if (len < 14 + 20)
        return false;
    unsigned et = (unsigned)f[12] << 8 | f[13];
    uint32_t sum = 0;
    size_t l4, l4len;
    if (et == 0x0800) {
        size_t ihl = (size_t)(f[14] & 15) * 4;
        l4 = 14 + ihl;
        if (l4 + 20 > len)
            return false;
        l4len = len - l4;
        sum = net_csum_add(sum, f + 14 + 12, 8);
        sum += 6 + (uint32_t)l4len;
    } else if (et == 0x86dd) {
        l4 = 14 + 40;
        if (l4 + 20 > len)
            return false;
        l4len = len - l4;
        sum = net_csum_add(sum, f + 14 + 8, 32);
        sum += 6 + (uint32_t)l4len;
    } else {
        return false;
    }
    sum = net_csum_add(sum, f + l4, l4len);
    return net_csum_finish(sum) == 0;
}

static int emit(void *opaque, const struct iovec *iov, int n)
{
    struct seg_check *c = opaque;
    size_t len = 0;
    FUZZ_CHECK(n >= 1 && n <= 2);
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(len + iov[i].iov_len <= sizeof(c->buf));
        memcpy(c->buf + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    size_t hdr = iov[0].iov_len;
    size_t pay = len - hdr;
    FUZZ_CHECK(c->n == 0 || hdr == c->hdr);
    c->hdr = hdr;
    FUZZ_CHECK(pay <= c->h->gso_size);
    FUZZ_CHECK(tcp_csum_ok(c->buf, len));
    c->payload += pay;
    c->n++;
    FUZZ_CHECK(c->n <= NET_OFFLOAD_MAX_SEGS);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 + NET_VHDR_LEN)
        return 0;
    struct net_offload_caps caps = {
        .csum = data[0] & 1, .tso4 = data[0] & 2, .tso6 = data[0] & 4, .ecn = data[0] & 8,
    };
    struct net_vhdr h;
    net_vhdr_load(&h, data + 1);
    size_t len = size - 1 - NET_VHDR_LEN;
    uint8_t *frame = malloc(len ? len : 1);
    if (!frame)
        return 0;
    memcpy(frame, data + 1 + NET_VHDR_LEN, len);
    /* the header round-trips */
    uint8_t raw[NET_VHDR_LEN];
    net_vhdr_store(&h, raw);
    FUZZ_CHECK(memcmp(raw, data + 1, NET_VHDR_LEN) == 0);
    const char *why = NULL;
    if (net_offload_check(&h, &caps, frame, len, &why) == 0) {
        if (h.gso_type != NET_VHDR_GSO_NONE) {
            struct seg_check *c = calloc(1, sizeof(*c));
            if (c) {
                c->h = &h;
                int r = net_offload_segment(&h, frame, len, emit, c);
                FUZZ_CHECK(r == c->n || r < 0);
                if (r > 0) /* every payload byte went out, once */
                    FUZZ_CHECK(c->hdr + c->payload == len);
                free(c);
            }
        } else if (h.flags & NET_VHDR_F_NEEDS_CSUM) {
            net_offload_csum(&h, frame, len);
        }
    } else {
        FUZZ_CHECK(why != NULL);
    }
    free(frame);
    return 0;
}
