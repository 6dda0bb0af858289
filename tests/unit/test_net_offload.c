/* net_offload: TCP segmentation over IPv4 and IPv6 gives frames whose IP
 * and TCP checksums a plain reference (RFC 1071, one byte pair at a time,
 * written here independently) verifies, with the payload, sequence
 * numbers, lengths and flags a receiver expects; partial TCP/UDP checksums
 * are completed; every hostile header is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "condo/net_offload.h"

#define ETH 14
#define MAXF 65535

/* --- the reference: the textbook sum, nothing shared with the module --- */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 2)
        s += (uint32_t)(p[i] << 8) | (i + 1 < n ? p[i + 1] : 0);
    return s;
}

static uint16_t ref_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* A valid checksum makes the sum over everything 0xffff. */
static bool ipv4_hdr_ok(const uint8_t *ip)
{
    return ref_fold(ref_sum(0, ip, (size_t)(ip[0] & 15) * 4)) == 0xffff;
}

static bool l4_ok(const uint8_t *f, size_t len, bool v6, uint8_t proto)
{
    const uint8_t *ip = f + ETH;
    size_t l4, l4len;
    uint32_t s;
    if (v6) {
        l4 = ETH + 40;
        l4len = (size_t)(ip[4] << 8 | ip[5]);
        s = ref_sum(0, ip + 8, 32);
    } else {
        l4 = ETH + (size_t)(ip[0] & 15) * 4;
        l4len = (size_t)(ip[2] << 8 | ip[3]) - (size_t)(ip[0] & 15) * 4;
        s = ref_sum(0, ip + 12, 8);
    }
    if (l4 + l4len != len)
        return false;
    s += proto + (uint32_t)l4len;
    return ref_fold(ref_sum(s, f + l4, l4len)) == 0xffff;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 (or IPv6) + TCP (20 bytes + topt of options) + payload,
 * with the partial checksum a guest leaves for NEEDS_CSUM (the pseudo
 * header's folded sum, not inverted). Returns the frame length. */
static size_t build_tcp(uint8_t *f, bool v6, size_t topt, size_t payload, uint8_t tflags,
                        struct net_vhdr *h, uint16_t mss)
{
    memset(f, 0, ETH + 40 + 20 + topt);
    memcpy(f, "\x52\x54\x00\x00\x00\x01\x52\x54\x00\x00\x00\x02", 12);
    size_t ip = ETH, tcp;
    size_t tcplen = 20 + topt + payload;
    if (v6) {
        wr16(f + 12, 0x86dd);
        f[ip] = 0x60;
        wr16(f + ip + 4, (uint16_t)tcplen);
        f[ip + 6] = 6;
        f[ip + 7] = 64;
        for (int i = 0; i < 16; i++) {
            f[ip + 8 + i] = (uint8_t)(0xfe + i);
            f[ip + 24 + i] = (uint8_t)(0x20 + 3 * i);
        }
        tcp = ip + 40;
    } else {
        wr16(f + 12, 0x0800);
        f[ip] = 0x45;
        wr16(f + ip + 2, (uint16_t)(20 + tcplen));
        wr16(f + ip + 4, 0x1234);
        wr16(f + ip + 6, 0x4000); /* DF */
        f[ip + 8] = 64;
        f[ip + 9] = 6;
        memcpy(f + ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
        tcp = ip + 20;
    }
    wr16(f + tcp, 40000);
    wr16(f + tcp + 2, 5201);
    memcpy(f + tcp + 4, "\xff\xff\xf0\x00", 4); /* a sequence number that wraps */
    memcpy(f + tcp + 8, "\x00\x00\x10\x00", 4);
    f[tcp + 12] = (uint8_t)(((20 + topt) / 4) << 4);
    f[tcp + 13] = tflags;
    wr16(f + tcp + 14, 0xffff);
    for (size_t i = 0; i < topt; i++)
        f[tcp + 20 + i] = (uint8_t)(i == 0 ? 1 : i); /* NOPs and noise */
    for (size_t i = 0; i < payload; i++)
        f[tcp + 20 + topt + i] = (uint8_t)(i * 131 + (i >> 8));
    uint32_t ps = v6 ? ref_sum(0, f + ip + 8, 32) : ref_sum(0, f + ip + 12, 8);
    ps += 6 + (uint32_t)tcplen;
    wr16(f + tcp + 16, ref_fold(ps));
    memset(h, 0, sizeof(*h));
    h->flags = NET_VHDR_F_NEEDS_CSUM;
    h->csum_start = (uint16_t)tcp;
    h->csum_offset = 16;
    if (mss) {
        h->gso_type = v6 ? NET_VHDR_GSO_TCPV6 : NET_VHDR_GSO_TCPV4;
        h->gso_size = mss;
        h->hdr_len = (uint16_t)(tcp + 20 + topt);
    }
    return tcp + 20 + topt + payload;
}

static const struct net_offload_caps ALL = { true, true, true, true };

struct seen {
    uint8_t payload[MAXF];
    size_t got;
    unsigned n;
    bool v6;
    size_t hdrs;
    uint32_t seq0;
    uint16_t id0;
    uint8_t flags[NET_OFFLOAD_MAX_SEGS];
    size_t mss;
    bool all_ok;
};

static int collect(void *opaque, const struct iovec *iov, int n)
{
    struct seen *s = opaque;
    uint8_t f[MAXF];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        memcpy(f + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    size_t ip = ETH, tcp = s->v6 ? ETH + 40 : ETH + (size_t)(f[ip] & 15) * 4;
    bool ok = l4_ok(f, len, s->v6, 6);
    if (!s->v6)
        ok = ok && ipv4_hdr_ok(f + ip) && rd16(f + ip + 4) == (uint16_t)(s->id0 + s->n);
    ok = ok && rd32(f + tcp + 4) == s->seq0 + (uint32_t)s->got;
    size_t pl = len - s->hdrs;
    ok = ok && pl <= s->mss;
    if (!ok)
        s->all_ok = false;
    memcpy(s->payload + s->got, f + s->hdrs, pl);
    s->got += pl;
    s->flags[s->n++] = f[tcp + 13];
    return 0;
}

static void segment_case(bool v6, size_t topt, size_t payload, uint16_t mss, uint8_t tflags)
{
    static uint8_t f[MAXF], orig[MAXF];
    static struct seen s;
    struct net_vhdr h;
    size_t len = build_tcp(f, v6, topt, payload, tflags, &h, mss);
    memcpy(orig, f, len);
    const char *why;
    assert_int_equal(net_offload_check(&h, &ALL, f, len, &why), 0);
    memset(&s, 0, sizeof(s));
    s.v6 = v6;
    s.hdrs = h.hdr_len;
    s.seq0 = 0xfffff000u;
    s.id0 = 0x1234;
    s.mss = mss;
    s.all_ok = true;
    int n = net_offload_segment(&h, f, len, collect, &s);
    size_t want = payload ? (payload + mss - 1) / mss : 1;
    assert_int_equal(n, (int)want);
    assert_int_equal(s.n, want);
    assert_true(s.all_ok);
    assert_int_equal(s.got, payload);
    assert_memory_equal(s.payload, orig + h.hdr_len, payload);
    assert_memory_equal(f, orig, len); /* the frame is not changed */
    for (unsigned i = 0; i < s.n; i++) {
        bool last = i + 1 == s.n;
        uint8_t want_fl = tflags;
        if (!last)
            want_fl &= (uint8_t)~0x09; /* FIN, PSH */
        if (i > 0)
            want_fl &= (uint8_t)~0x80; /* CWR */
        assert_int_equal(s.flags[i], want_fl);
    }
}

static void test_segment_ipv4(void **state)
{
    (void)state;
    segment_case(false, 12, 64000, 1448, 0x18 | 0x01 | 0x80); /* PSH ACK FIN CWR */
    segment_case(false, 0, 10001, 1460, 0x10);                 /* odd last segment */
    segment_case(false, 0, 1000, 1460, 0x18);                  /* fits in one */
    segment_case(false, 40, 65535 - 14 - 20 - 60, 536, 0x10);  /* the largest frame */
}

static void test_segment_ipv6(void **state)
{
    (void)state;
    segment_case(true, 12, 64000, 1428, 0x18 | 0x01);
    segment_case(true, 0, 777, 100, 0x10);
    segment_case(true, 0, 0, 100, 0x11); /* no payload: one segment, FIN kept */
}

static void test_csum_matches_reference(void **state)
{
    (void)state;
    uint8_t buf[301];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 97 + 13);
    for (size_t n = 0; n <= sizeof(buf); n++) {
        uint32_t a = net_csum_add(7, buf, n);
        assert_int_equal(net_csum_finish(a), (uint16_t)~ref_fold(ref_sum(7, buf, n)));
    }
}

static void test_complete_partial_csum(void **state)
{
    (void)state;
    static uint8_t f[MAXF];
    struct net_vhdr h;
    for (int v6 = 0; v6 < 2; v6++) {
        for (size_t payload = 0; payload < 40; payload += 13) {
            size_t len = build_tcp(f, v6, 4, payload, 0x18, &h, 0);
            const char *why;
            assert_int_equal(net_offload_check(&h, &ALL, f, len, &why), 0);
            net_offload_csum(&h, f, len);
            assert_true(l4_ok(f, len, v6, 6));
        }
    }
    /* UDP over IPv4: the checksum field at offset 6 */
    uint8_t u[ETH + 20 + 8 + 11];
    memset(u, 0, sizeof(u));
    wr16(u + 12, 0x0800);
    u[ETH] = 0x45;
    wr16(u + ETH + 2, 20 + 8 + 11);
    u[ETH + 9] = 17;
    memcpy(u + ETH + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x03", 8);
    wr16(u + ETH + 20, 5353);
    wr16(u + ETH + 22, 53);
    wr16(u + ETH + 24, 19);
    memcpy(u + ETH + 28, "hello world", 11);
    uint32_t ps = ref_sum(0, u + ETH + 12, 8) + 17 + 19;
    wr16(u + ETH + 26, ref_fold(ps));
    h = (struct net_vhdr){ .flags = NET_VHDR_F_NEEDS_CSUM, .csum_start = ETH + 20,
                           .csum_offset = 6 };
    const char *why;
    assert_int_equal(net_offload_check(&h, &ALL, u, sizeof(u), &why), 0);
    net_offload_csum(&h, u, sizeof(u));
    assert_true(l4_ok(u, sizeof(u), false, 17));
    assert_int_not_equal(rd16(u + ETH + 26), 0); /* never "no checksum" */
}

static void refused(const struct net_vhdr *h, const struct net_offload_caps *caps,
                    const uint8_t *f, size_t len)
{
    const char *why = NULL;
    assert_int_equal(net_offload_check(h, caps, f, len, &why), -EINVAL);
    assert_non_null(why);
    assert_true(why[0] != 0);
}

static void test_hostile_headers(void **state)
{
    (void)state;
    static uint8_t f[MAXF];
    struct net_vhdr good, h;
    size_t len = build_tcp(f, false, 0, 3000, 0x10, &good, 1448);
    const char *why;
    assert_int_equal(net_offload_check(&good, &ALL, f, len, &why), 0);

    h = good, h.gso_size = 0;
    refused(&h, &ALL, f, len);
    h = good, h.hdr_len = (uint16_t)(len + 1);
    refused(&h, &ALL, f, len);
    h = good, h.hdr_len = 0xffff;
    refused(&h, &ALL, f, len);
    h = good, h.csum_start = (uint16_t)len;
    refused(&h, &ALL, f, len);
    h = good, h.csum_start = 0xffff, h.csum_offset = 0xffff;
    refused(&h, &ALL, f, len);
    h = good, h.gso_type = 0, h.csum_offset = (uint16_t)(len - good.csum_start - 1);
    refused(&h, &ALL, f, len); /* the field's second byte beyond the frame */
    h = good, h.gso_type = 0, h.csum_start = 2; /* inside the Ethernet header */
    refused(&h, &ALL, f, len);
    h = good, h.csum_offset = 6; /* GSO whose checksum is not TCP's */
    refused(&h, &ALL, f, len);
    h = good, h.flags |= NET_VHDR_F_DATA_VALID;
    refused(&h, &ALL, f, len);
    h = good, h.flags = 0x80;
    refused(&h, &ALL, f, len);
    h = good, h.flags = 0; /* GSO without NEEDS_CSUM */
    refused(&h, &ALL, f, len);
    h = good, h.gso_type = NET_VHDR_GSO_UDP;
    refused(&h, &ALL, f, len);
    h = good, h.gso_type = 0x7f;
    refused(&h, &ALL, f, len);
    h = good, h.gso_type = NET_VHDR_GSO_TCPV6; /* an IPv4 frame */
    refused(&h, &ALL, f, len);
    h = good, h.gso_size = 1; /* 3000 segments */
    refused(&h, &ALL, f, len);
    /* not negotiated */
    struct net_offload_caps none = { 0 }, no_tso = { .csum = true };
    refused(&good, &none, f, len);
    refused(&good, &no_tso, f, len);
    h = good, h.gso_type |= NET_VHDR_GSO_ECN;
    struct net_offload_caps no_ecn = { true, true, true, false };
    refused(&h, &no_ecn, f, len);
    assert_int_equal(net_offload_check(&h, &ALL, f, len, &why), 0);

    /* frames whose own headers lie */
    static uint8_t g[MAXF];
    memcpy(g, f, len);
    g[ETH] = 0x44; /* IHL 4 */
    refused(&good, &ALL, g, len);
    memcpy(g, f, len);
    g[ETH + 9] = 17; /* UDP */
    refused(&good, &ALL, g, len);
    memcpy(g, f, len);
    wr16(g + ETH + 6, 0x2000); /* more fragments */
    refused(&good, &ALL, g, len);
    memcpy(g, f, len);
    wr16(g + 12, 0x86dd);
    refused(&good, &ALL, g, len);
    /* truncated frames: TCP header cut, IP header cut, Ethernet only */
    refused(&good, &ALL, f, ETH + 20 + 10);
    refused(&good, &ALL, f, ETH + 10);
    refused(&good, &ALL, f, ETH);
    /* doff beyond the frame */
    memcpy(g, f, ETH + 40);
    g[ETH + 20 + 12] = 0xf0; /* 60-byte TCP header in a 54-byte frame */
    h = good, h.hdr_len = 0;
    refused(&h, &ALL, g, ETH + 40);
    /* IPv6 with an extension header */
    size_t l6 = build_tcp(f, true, 0, 3000, 0x10, &good, 1448);
    assert_int_equal(net_offload_check(&good, &ALL, f, l6, &why), 0);
    f[ETH + 6] = 0; /* hop-by-hop */
    refused(&good, &ALL, f, l6);
    /* segmentation refuses on its own too (checked header or not) */
    h = good, h.gso_size = 0;
    assert_int_equal(net_offload_segment(&h, f, l6, collect, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segment_ipv4),
        cmocka_unit_test(test_segment_ipv6),
        cmocka_unit_test(test_csum_matches_reference),
        cmocka_unit_test(test_complete_partial_csum),
        cmocka_unit_test(test_hostile_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
