/* Network backends without a guest: the inter-VM switch (ports in one
 * process exchange frames; flooding and learning; stale sockets removed;
 * backpressure; cleanup), the --net spec parser, libslirp (ARP, DHCP,
 * hostfwd) and tap (the error path, and frames through a tap inside a
 * private network namespace when root). Nothing here touches the host's
 * real network: the switch lives in a private temporary directory, slirp
 * is reached on loopback only, the tap lives in a namespace of its own. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "optional_skip.h"

#include "condo/net.h"

/* --- a fake device: records frames --- */

#define REC_MAX 64

struct rec {
    bool can;
    unsigned frames;
    uint8_t frame[REC_MAX][1600];
    size_t len[REC_MAX];
    int gso[REC_MAX]; /* the header's gso_type, -1 without a header */
    unsigned tx_ready_calls;
    bool (*match)(const uint8_t *f, size_t len);
    bool matched;
};

static bool rec_can(void *opaque)
{
    return ((struct rec *)opaque)->can;
}

static void rec_receive(void *opaque, const struct net_vhdr *h, const uint8_t *frame, size_t len)
{
    struct rec *r = opaque;
    if (r->match && r->match(frame, len))
        r->matched = true;
    if (r->frames < REC_MAX) {
        size_t n = len < sizeof(r->frame[0]) ? len : sizeof(r->frame[0]);
        memcpy(r->frame[r->frames], frame, n);
        r->len[r->frames] = len;
        r->gso[r->frames] = h ? h->gso_type : -1;
    }
    r->frames++;
}

static void rec_tx_ready(void *opaque)
{
    ((struct rec *)opaque)->tx_ready_calls++;
}

static void attach(struct net_backend *nb, struct rec *r)
{
    memset(r, 0, sizeof(*r));
    r->can = true;
    struct net_peer p = { rec_can, rec_receive, rec_tx_ready, r };
    net_backend_set_peer(nb, &p);
}

/* Let the event loop carry what is already in flight: a frame written to
 * a switch port is queued on the peer's socket before send returns, and
 * libslirp answers ARP from inside its input path, so a few rounds with
 * no waiting suffice. No check depends on how fast the machine is. */
static void settle(struct event_loop *l)
{
    for (int i = 0; i < 20; i++)
        event_loop_poll(l, 0);
}

/* Poll until *flag is set (a host TCP connection, DHCP); the bound only
 * guards against a hang, it is no statement about time. */
static void pump_until(struct event_loop *l, bool *flag)
{
    for (int i = 0; i < 1000 && !*flag; i++)
        event_loop_poll(l, 10);
}

/* Keep the loop running for at least `ms` of real time: only for the
 * switch's stall timer (SWITCH_STALL_NS, real time). The check after it is
 * a lower bound (the timer must have expired by then), so a slow or loaded
 * machine cannot make it fail. */
static void run_for_at_least(struct event_loop *l, int ms)
{
    uint64_t end = condo_clock_ns() + (uint64_t)ms * 1000000ull;
    while (condo_clock_ns() < end)
        event_loop_poll(l, 5);
}

static const uint8_t MAC_A[6] = { 0x52, 0x54, 0x00, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 0x52, 0x54, 0x00, 0, 0, 0xb };
static const uint8_t MAC_C[6] = { 0x52, 0x54, 0x00, 0, 0, 0xc };
static const uint8_t MAC_X[6] = { 0x52, 0x54, 0x00, 0, 0, 0x99 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static int send_frame(struct net_backend *nb, const uint8_t *dst, const uint8_t *src,
                      uint8_t tag, size_t len)
{
    uint8_t f[1514];
    assert_true(len >= 14 && len <= sizeof(f));
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88;
    f[13] = 0xb5; /* local experimental ethertype */
    memset(f + 14, tag, len - 14);
    /* two pieces, as a device gathers them */
    struct iovec iov[2] = { { f, 10 }, { f + 10, len - 10 } };
    return net_backend_send(nb, iov, 2);
}

static char rundir[64];

static int switch_setup(void **state)
{
    (void)state;
    snprintf(rundir, sizeof(rundir), "/tmp/condo-swtest-XXXXXX");
    if (!mkdtemp(rundir))
        return -1;
    setenv("XDG_RUNTIME_DIR", rundir, 1);
    return 0;
}

static int switch_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rundir);
    return system(cmd) == 0 ? 0 : -1;
}

static unsigned count_entries(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ls -A '%s' 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    unsigned n = 0;
    if (p) {
        if (fscanf(p, "%u", &n) != 1)
            n = 0;
        pclose(p);
    }
    return n;
}

static void test_switch_dir(void **state)
{
    (void)state;
    char d[108];
    assert_int_equal(net_switch_dir("lab", d, sizeof(d)), 0);
    char want[108];
    snprintf(want, sizeof(want), "%s/condo/switch/lab", rundir);
    assert_string_equal(d, want);
    assert_int_equal(net_switch_dir("a/b", d, sizeof(d)), -EINVAL);
    assert_int_equal(net_switch_dir("..", d, sizeof(d)), -EINVAL);
    assert_int_equal(net_switch_dir("", d, sizeof(d)), -EINVAL);
    unsetenv("XDG_RUNTIME_DIR");
    assert_int_equal(net_switch_dir("lab", d, sizeof(d)), 0);
    snprintf(want, sizeof(want), "/tmp/condo-%u/switch/lab", (unsigned)getuid());
    assert_string_equal(d, want);
    setenv("XDG_RUNTIME_DIR", rundir, 1);
}

static void test_switch_broadcast_and_private_dir(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *a, *b;
    assert_int_equal(net_backend_open("switch,name=t1", &loop, &a), 0);
    assert_int_equal(net_backend_open("switch,name=t1", &loop, &b), 0);
    struct rec ra, rb;
    attach(a, &ra);
    attach(b, &rb);
    char dir[108];
    assert_int_equal(net_switch_dir("t1", dir, sizeof(dir)), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(count_entries(dir), 2);

    assert_int_equal(send_frame(a, BCAST, MAC_A, 1, 60), 0);
    settle(&loop);
    assert_int_equal(rb.frames, 1);
    assert_int_equal(ra.frames, 0); /* never back to the sender */
    assert_int_equal(rb.len[0], 60);
    assert_memory_equal(rb.frame[0], BCAST, 6);
    assert_int_equal(rb.frame[0][20], 1);

    /* a full-size frame and a big one (a tap with a large MTU) */
    assert_int_equal(send_frame(b, BCAST, MAC_B, 2, 1514), 0);
    settle(&loop);
    assert_int_equal(ra.frames, 1);
    assert_int_equal(ra.len[0], 1514);

    net_backend_close(a);
    net_backend_close(b);
    /* the last port out removes the switch's directory */
    assert_int_not_equal(stat(dir, &st), 0);
}

static void test_switch_learning(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *a, *b, *c;
    assert_int_equal(net_backend_open("switch,name=t2", &loop, &a), 0);
    assert_int_equal(net_backend_open("switch,name=t2", &loop, &b), 0);
    assert_int_equal(net_backend_open("switch,name=t2", &loop, &c), 0);
    struct rec ra, rb, rc;
    attach(a, &ra);
    attach(b, &rb);
    attach(c, &rc);

    /* unknown unicast floods */
    assert_int_equal(send_frame(a, MAC_X, MAC_A, 1, 64), 0);
    settle(&loop);
    assert_int_equal(rb.frames, 1);
    assert_int_equal(rc.frames, 1);
    /* b and c learnt where MAC_A is: b's reply goes to a only */
    assert_int_equal(send_frame(b, MAC_A, MAC_B, 2, 64), 0);
    settle(&loop);
    assert_int_equal(ra.frames, 1);
    assert_int_equal(rc.frames, 1);
    assert_int_equal(ra.frame[0][20], 2);
    /* a learnt MAC_B from that: a -> b is unicast too */
    assert_int_equal(send_frame(a, MAC_B, MAC_A, 3, 64), 0);
    settle(&loop);
    assert_int_equal(rb.frames, 2);
    assert_int_equal(rc.frames, 1);
    /* broadcast still reaches everyone */
    assert_int_equal(send_frame(c, BCAST, MAC_C, 4, 64), 0);
    settle(&loop);
    assert_int_equal(ra.frames, 2);
    assert_int_equal(rb.frames, 3);

    /* b leaves; a's frame for MAC_B then floods (c sees it) */
    net_backend_close(b);
    assert_int_equal(send_frame(a, MAC_B, MAC_A, 5, 64), 0);
    settle(&loop);
    assert_int_equal(rc.frames, 2);
    assert_int_equal(rc.frame[1][20], 5);

    net_backend_close(a);
    net_backend_close(c);
}

static void test_switch_stale_peer_removed(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *a, *b;
    assert_int_equal(net_backend_open("switch,name=t3", &loop, &a), 0);
    assert_int_equal(net_backend_open("switch,name=t3", &loop, &b), 0);
    struct rec ra, rb;
    attach(a, &ra);
    attach(b, &rb);
    char dir[108];
    assert_int_equal(net_switch_dir("t3", dir, sizeof(dir)), 0);

    /* a VM that died without cleaning up: a bound socket, then closed */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    assert_true(strlen(dir) + 11 < sizeof(sa.sun_path));
    memcpy(sa.sun_path, dir, strlen(dir));
    memcpy(sa.sun_path + strlen(dir), "/999999999", 11);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    /* and a file that is not a port: left alone */
    char other[128];
    snprintf(other, sizeof(other), "%s/12345", dir);
    int of = open(other, O_CREAT | O_WRONLY, 0600);
    assert_true(of >= 0);
    close(of);
    assert_int_equal(count_entries(dir), 4);

    assert_int_equal(send_frame(a, BCAST, MAC_A, 1, 60), 0);
    settle(&loop);
    assert_int_equal(rb.frames, 1); /* the live peer still got it */
    struct stat st;
    assert_int_not_equal(lstat(sa.sun_path, &st), 0);
    assert_int_equal(lstat(other, &st), 0);
    assert_int_equal(count_entries(dir), 3);

    net_backend_close(a);
    net_backend_close(b);
    unlink(other);
}

/* A peer that does not drain: its queue fills, the sender holds the frame
 * and tells its device to stop (can_send), then resumes when the peer
 * drains; a peer that never drains costs one frame, not the sender. */
static void test_switch_backpressure(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *a, *b;
    assert_int_equal(net_backend_open("switch,name=t4", &loop, &a), 0);
    assert_int_equal(net_backend_open("switch,name=t4", &loop, &b), 0);
    struct rec ra, rb;
    attach(a, &ra);
    attach(b, &rb);
    /* let a learn b */
    assert_int_equal(send_frame(b, BCAST, MAC_B, 0, 60), 0);
    settle(&loop);
    assert_int_equal(ra.frames, 1);

    rb.can = false; /* b's guest has no receive buffers */
    unsigned sent = 0;
    while (net_backend_can_send(a) && sent < 5000) {
        assert_int_equal(send_frame(a, MAC_B, MAC_A, (uint8_t)sent, 1000), 0);
        sent++;
        settle(&loop);
    }
    assert_false(net_backend_can_send(a));
    assert_true(sent < 5000);
    assert_int_equal(ra.tx_ready_calls, 0);

    rb.can = true;
    net_backend_rx_ready(b);
    for (int i = 0; i < 2000 && rb.frames < sent; i++) /* a hang guard only */
        event_loop_poll(&loop, 5);
    assert_int_equal(rb.frames, sent); /* none lost, in order */
    for (unsigned i = 0; i < sent && i < REC_MAX; i++)
        assert_int_equal(rb.frame[i][20], (uint8_t)i);
    assert_true(net_backend_can_send(a));
    assert_int_equal(ra.tx_ready_calls, 1);

    /* b stops draining for good: after a while a drops the frame */
    rb.can = false;
    settle(&loop);
    sent = 0;
    while (net_backend_can_send(a) && sent < 5000) {
        send_frame(a, MAC_B, MAC_A, 0, 1000);
        sent++;
    }
    assert_false(net_backend_can_send(a));
    run_for_at_least(&loop, 400); /* the stall timer is 200 ms */
    assert_true(net_backend_can_send(a));
    assert_int_equal(ra.tx_ready_calls, 2);

    net_backend_close(a);
    net_backend_close(b);
}

/* An Ethernet + IPv4 + TCP frame with `pay` bytes of payload, as a guest
 * hands it over with TSO: one big segment, a partial checksum. */
static size_t tso_frame(uint8_t *f, size_t pay, struct net_vhdr *h)
{
    size_t len = 14 + 20 + 20 + pay;
    memset(f, 0, len);
    memcpy(f, MAC_B, 6);
    memcpy(f + 6, MAC_A, 6);
    f[12] = 0x08;
    f[14] = 0x45;
    f[16] = (uint8_t)((len - 14) >> 8);
    f[17] = (uint8_t)(len - 14);
    f[22] = 64;
    f[23] = 6;
    memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    f[34] = 0x9c;
    f[36] = 0x13; /* ports 39936 -> 4864 */
    f[46] = 0x50; /* data offset 5 */
    f[47] = 0x18; /* PSH ACK */
    f[48] = 0xff;
    for (size_t i = 0; i < pay; i++)
        f[54 + i] = (uint8_t)(i * 7);
    *h = (struct net_vhdr){ .flags = NET_VHDR_F_NEEDS_CSUM, .gso_type = NET_VHDR_GSO_TCPV4,
                            .hdr_len = 54, .gso_size = 1000, .csum_start = 34,
                            .csum_offset = 16 };
    return len;
}

/* Send one datagram to every port in the switch's directory, from a socket
 * that is no port (a hostile peer). */
static void send_raw_to_ports(const char *dir, const uint8_t *d, size_t len)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    DIR *dd = opendir(dir);
    assert_non_null(dd);
    struct dirent *de;
    while ((de = readdir(dd))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(dir) + 1 + strlen(de->d_name) >= sizeof(sa.sun_path))
            continue;
        memcpy(sa.sun_path, dir, strlen(dir));
        sa.sun_path[strlen(dir)] = '/';
        memcpy(sa.sun_path + strlen(dir) + 1, de->d_name, strlen(de->d_name));
        sendto(fd, d, len, 0, (struct sockaddr *)&sa, sizeof(sa));
    }
    closedir(dd);
    close(fd);
}

/* A guest's 3000-byte TSO segment crosses the switch as one datagram: a
 * peer whose guest takes TSO gets it whole, with its header; one whose
 * guest does not gets three wire-sized frames with full checksums. A
 * header another VM forged (gso_size 0) is dropped by the receiving port. */
static void test_switch_offload(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *a, *b;
    assert_int_equal(net_backend_open("switch,name=t6", &loop, &a), 0);
    assert_int_equal(net_backend_open("switch,name=t6", &loop, &b), 0);
    struct rec *ra = calloc(1, sizeof(*ra)), *rb = calloc(1, sizeof(*rb));
    assert_non_null(ra);
    assert_non_null(rb);
    attach(a, ra);
    attach(b, rb);
    static uint8_t f[4096];
    struct net_vhdr h;
    size_t len = tso_frame(f, 3000, &h);

    const struct net_offload_caps all = { true, true, true, true }, none = { 0 };
    net_backend_set_rx_offload(b, &all);
    assert_int_equal(net_backend_send_offload(a, &h, f, len), 0);
    settle(&loop);
    assert_int_equal(rb->frames, 1);
    assert_int_equal(rb->len[0], len);
    assert_int_equal(rb->gso[0], NET_VHDR_GSO_TCPV4);

    net_backend_set_rx_offload(b, &none);
    len = tso_frame(f, 3000, &h);
    assert_int_equal(net_backend_send_offload(a, &h, f, len), 0);
    settle(&loop);
    assert_int_equal(rb->frames, 4);
    for (unsigned i = 1; i < 4; i++) {
        assert_int_equal(rb->len[i], 54 + 1000);
        assert_true(rb->gso[i] == -1 || rb->gso[i] == NET_VHDR_GSO_NONE);
        /* the TCP checksum verifies: pseudo header + segment sum to 0 */
        const uint8_t *g = rb->frame[i];
        uint32_t sum = net_csum_add(0, g + 26, 8) + 6 + (uint32_t)(rb->len[i] - 34);
        sum = net_csum_add(sum, g + 34, rb->len[i] - 34);
        assert_int_equal(net_csum_finish(sum), 0);
    }

    /* forged by a peer: gso_size 0 */
    uint8_t d[12 + 200];
    len = tso_frame(f, 100, &h);
    h.gso_size = 0;
    d[0] = 'C';
    d[1] = 'V';
    net_vhdr_store(&h, d + 2);
    memcpy(d + 12, f, len);
    char dir[108];
    assert_int_equal(net_switch_dir("t6", dir, sizeof(dir)), 0);
    send_raw_to_ports(dir, d, 12 + len);
    settle(&loop);
    assert_int_equal(rb->frames, 4);
    assert_int_equal(ra->frames, 0);

    net_backend_close(a);
    net_backend_close(b);
    free(ra);
    free(rb);
}

static void test_switch_refuses_foreign_dir(void **state)
{
    (void)state;
    /* the switch directory exists but others may enter it */
    char d[128];
    snprintf(d, sizeof(d), "%s/condo", rundir);
    mkdir(d, 0700); /* earlier tests may have made it */
    assert_int_equal(chmod(d, 0755), 0);
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *a;
    assert_int_equal(net_backend_open("switch,name=t5", &loop, &a), -EPERM);
    assert_int_equal(chmod(d, 0700), 0);
    assert_int_equal(net_backend_open("switch,name=t5", &loop, &a), 0);
    net_backend_close(a);
}

/* --- the spec parser --- */

static void test_spec_errors(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *nb = (void *)1;
    static const char *bad[] = {
        "",
        ",",
        "bogus",
        "switch",
        "switch,name=",
        "switch,name=a/b",
        "switch,name=x,ifname=y",
        "tap",
        "tap,ifname=",
        "tap,ifname=averyveryverylongname",
        "tap,ifname=a/b",
        "user,foo=1",
        "user,hostfwd=tcp::0-:22",
        "user,hostfwd=tcp::65536-:22",
        "user,hostfwd=tcp::x-:22",
        "user,hostfwd=tcp:8022-:22",
        "user,hostfwd=tcp::8022:22",
        "user,hostfwd=sctp::8022-:22",
        "user,hostfwd=tcp:1.2.3:8022-:22",
        "user,hostfwd=tcp::8022-:",
        "user,mac=01:00:5e:00:00:01",
        "user,mac=52:54:00:00:00",
        "user,mac=52:54:00:00:00:001",
        "user,mac=zz:54:00:00:00:01",
        "user,bps=0",
        "user,bps=-5",
        "user,bps=10X",
        "user,bps=99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = net_backend_open(bad[i], &loop, &nb);
        if (r != -EINVAL)
            fail_msg("spec '%s': %d, want -EINVAL", bad[i], r);
        assert_null(nb);
    }
    assert_int_equal(net_backend_open(NULL, &loop, &nb), -EINVAL);
    /* nothing was left registered with the loop */
    assert_int_equal(loop.n, 0);
    for (unsigned s = 0; s < loop.nsrc; s++)
        assert_null(loop.src[s].fill);
}

static void test_spec_mac_and_bps(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *a, *b;
    assert_int_equal(
        net_backend_open("switch,mac=52:54:00:ab:CD:ef,name=m,bps=10M", &loop, &a), 0);
    static const uint8_t want[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
    assert_memory_equal(a->mac, want, 6);
    assert_int_equal(a->bps, 10000000);
    assert_string_equal(a->ops->name, "switch");
    assert_int_equal(net_backend_open("switch,name=m,bps=1500k", &loop, &b), 0);
    assert_int_equal(b->bps, 1500000);
    /* a random MAC: locally administered QEMU-style prefix, unicast */
    assert_int_equal(b->mac[0], 0x52);
    assert_int_equal(b->mac[1], 0x54);
    assert_int_equal(b->mac[2], 0x00);
    net_backend_close(a);
    net_backend_close(b);
    uint8_t m1[6], m2[6];
    net_random_mac(m1);
    net_random_mac(m2);
    assert_memory_not_equal(m1, m2, 6);
    net_backend_close(NULL);
}

/* --- libslirp --- */

static bool is_arp_reply_for_host(const uint8_t *f, size_t len)
{
    return len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 &&
           memcmp(f + 28, "\x0a\x00\x02\x02", 4) == 0;
}

static void build_arp_request(uint8_t *f, const uint8_t *mac, const uint8_t sip[4],
                              const uint8_t tip[4])
{
    memset(f, 0, 42);
    memset(f, 0xff, 6);
    memcpy(f + 6, mac, 6);
    f[12] = 0x08;
    f[13] = 0x06;
    f[15] = 1;    /* Ethernet */
    f[16] = 0x08; /* IPv4 */
    f[18] = 6;
    f[19] = 4;
    f[21] = 1; /* request */
    memcpy(f + 22, mac, 6);
    memcpy(f + 28, sip, 4);
    memcpy(f + 38, tip, 4);
}

static void test_slirp_arp(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *nb;
    assert_int_equal(net_backend_open("user", &loop, &nb), 0);
    assert_string_equal(nb->ops->name, "user");
    struct rec r;
    attach(nb, &r);
    r.match = is_arp_reply_for_host;
    uint8_t f[42];
    build_arp_request(f, MAC_A, (const uint8_t[]){ 10, 0, 2, 15 },
                      (const uint8_t[]){ 10, 0, 2, 2 });
    struct iovec iov = { f, sizeof(f) };
    assert_int_equal(net_backend_send(nb, &iov, 1), 0);
    pump_until(&loop, &r.matched);
    assert_true(r.matched);
    net_backend_close(nb);
}

/* While the device has no receive buffers, slirp's frames wait in a
 * bounded queue and come out in order when rx_ready says so. */
static void test_slirp_holds_frames(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *nb;
    assert_int_equal(net_backend_open("user", &loop, &nb), 0);
    struct rec r;
    attach(nb, &r);
    r.can = false;
    uint8_t f[42];
    for (int i = 0; i < 3; i++) {
        build_arp_request(f, MAC_A, (const uint8_t[]){ 10, 0, 2, (uint8_t)(15 + i) },
                          (const uint8_t[]){ 10, 0, 2, 2 });
        struct iovec iov = { f, sizeof(f) };
        net_backend_send(nb, &iov, 1);
    }
    settle(&loop);
    assert_int_equal(r.frames, 0);
    r.can = true;
    net_backend_rx_ready(nb);
    assert_int_equal(r.frames, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r.frame[i][41], 15 + i); /* reply's target IP, in order */
    net_backend_close(nb);
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static bool is_dhcp_offer_15(const uint8_t *f, size_t len)
{
    /* IPv4, UDP 67 -> 68, yiaddr 10.0.2.15 */
    return len >= 42 + 240 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17 &&
           f[34] == 0 && f[35] == 67 && f[36] == 0 && f[37] == 68 && f[42] == 2 &&
           memcmp(f + 42 + 16, "\x0a\x00\x02\x0f", 4) == 0;
}

static void test_slirp_dhcp(void **state)
{
    (void)state;
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *nb;
    assert_int_equal(net_backend_open("user", &loop, &nb), 0);
    struct rec r;
    attach(nb, &r);
    r.match = is_dhcp_offer_15;

    enum { BOOTP_LEN = 548 };
    uint8_t f[14 + 20 + 8 + BOOTP_LEN];
    memset(f, 0, sizeof(f));
    memset(f, 0xff, 6);
    memcpy(f + 6, MAC_A, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (20 + 8 + BOOTP_LEN) >> 8;
    ip[3] = (uint8_t)(20 + 8 + BOOTP_LEN);
    ip[8] = 64;
    ip[9] = 17;
    memset(ip + 16, 0xff, 4); /* to 255.255.255.255 from 0.0.0.0 */
    uint16_t c = ip_checksum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    uint8_t *udp = ip + 20;
    udp[1] = 68;
    udp[3] = 67;
    udp[4] = (8 + BOOTP_LEN) >> 8;
    udp[5] = (uint8_t)(8 + BOOTP_LEN);
    uint8_t *bp = udp + 8;
    bp[0] = 1; /* BOOTREQUEST */
    bp[1] = 1;
    bp[2] = 6;
    memcpy(bp + 4, "\x12\x34\x56\x78", 4); /* xid */
    memcpy(bp + 28, MAC_A, 6);             /* chaddr */
    memcpy(bp + 236, "\x63\x82\x53\x63", 4);
    bp[240] = 53; /* DHCP message type */
    bp[241] = 1;
    bp[242] = 1; /* DISCOVER */
    bp[243] = 255;
    struct iovec iov = { f, sizeof(f) };
    assert_int_equal(net_backend_send(nb, &iov, 1), 0);
    pump_until(&loop, &r.matched);
    assert_true(r.matched);
    net_backend_close(nb);
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(a);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
    close(s);
    return ntohs(a.sin_port);
}

static bool is_arp_request_for_guest(const uint8_t *f, size_t len)
{
    return len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 &&
           memcmp(f + 38, "\x0a\x00\x02\x0f", 4) == 0;
}

/* A host connection to the forwarded port makes slirp reach for the guest
 * (10.0.2.15): it asks who has that address. */
static void test_slirp_hostfwd(void **state)
{
    (void)state;
    static const char *forms[] = { "user,hostfwd=tcp::%d-:22",
                                   "user,hostfwd=tcp:127.0.0.1:%d-10.0.2.15:22" };
    for (int k = 0; k < 2; k++) {
        struct event_loop loop;
        event_loop_init(&loop);
        int port = free_port();
        char spec[128];
        snprintf(spec, sizeof(spec), forms[k], port);
        struct net_backend *nb;
        assert_int_equal(net_backend_open(spec, &loop, &nb), 0);
        struct rec r;
        attach(nb, &r);
        r.match = is_arp_request_for_guest;

        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int cr = connect(s, (struct sockaddr *)&a, sizeof(a));
        assert_true(cr == 0 || errno == EINPROGRESS);
        pump_until(&loop, &r.matched);
        assert_true(r.matched);
        close(s);

        /* the port is taken while the backend lives: a second one fails */
        struct net_backend *nb2 = NULL;
        assert_int_equal(net_backend_open(spec, &loop, &nb2), -EADDRINUSE);
        assert_null(nb2);
        net_backend_close(nb);
    }
}

/* --- tap --- */

static void test_tap_unprivileged(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(3); /* root that cannot drop to nobody: a broken host */
        struct event_loop loop;
        event_loop_init(&loop);
        struct net_backend *nb = NULL;
        int r = net_backend_open("tap,ifname=condotest9", &loop, &nb);
        /* EPERM (or EACCES / ENOENT without /dev/net/tun): refused */
        _exit(r == -EPERM || r == -EACCES || r == -ENOENT ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static bool is_arp_reply_99(const uint8_t *f, size_t len)
{
    return len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 &&
           memcmp(f + 28, "\xc0\xa8\x63\x01", 4) == 0;
}

static int set_addr(int s, const char *ifname, unsigned long req, const char *addr)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin->sin_addr);
    return ioctl(s, req, &ifr);
}

/* In a network namespace of its own (so the host's network is never
 * touched): the kernel answers an ARP request sent through the tap. */
static int tap_child(void)
{
    if (unshare(CLONE_NEWNET) != 0) {
        print_error("unshare(CLONE_NEWNET): %s\n", strerror(errno));
        return 7;
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        print_error("/dev/net/tun: %s (the tap backend needs it)\n", strerror(errno));
        return 8;
    }
    struct event_loop loop;
    event_loop_init(&loop);
    struct net_backend *nb;
    if (net_backend_open("tap,ifname=condotest0", &loop, &nb) != 0)
        return 2;
    struct rec *r = calloc(1, sizeof(*r));
    attach(nb, r);
    r->match = is_arp_reply_99;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || set_addr(s, "condotest0", SIOCSIFADDR, "192.168.99.1") != 0 ||
        set_addr(s, "condotest0", SIOCSIFNETMASK, "255.255.255.0") != 0)
        return 3;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "condotest0");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        return 4;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        return 5;
    uint8_t f[42];
    build_arp_request(f, MAC_A, (const uint8_t[]){ 192, 168, 99, 2 },
                      (const uint8_t[]){ 192, 168, 99, 1 });
    /* resend until the kernel answers (the first request may go out
     * before the interface is up); the bound is a hang guard only */
    for (int tries = 0; tries < 100 && !r->matched; tries++) {
        struct iovec iov = { f, sizeof(f) };
        net_backend_send(nb, &iov, 1);
        for (int i = 0; i < 10 && !r->matched; i++)
            event_loop_poll(&loop, 10);
    }
    bool ok = r->matched;
    /* the device has no buffers: reading pauses, then resumes */
    r->can = false;
    r->matched = false;
    net_backend_send(nb, &(struct iovec){ f, sizeof(f) }, 1);
    for (int i = 0; i < 10; i++)
        event_loop_poll(&loop, 10);
    bool paused = !r->matched;
    r->can = true;
    net_backend_rx_ready(nb);
    for (int i = 0; i < 50 && !r->matched; i++)
        event_loop_poll(&loop, 10);
    bool resumed = r->matched;
    net_backend_close(nb);
    close(s);
    free(r);
    return ok && paused && resumed ? 0 : 6;
}

static void test_tap_in_netns(void **state)
{
    (void)state;
    if (geteuid() != 0)
        optional_skip("test_tap_in_netns: a tap device needs root (CI runs as root)");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(tap_child());
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_switch_dir),
        cmocka_unit_test(test_switch_broadcast_and_private_dir),
        cmocka_unit_test(test_switch_learning),
        cmocka_unit_test(test_switch_stale_peer_removed),
        cmocka_unit_test(test_switch_backpressure),
        cmocka_unit_test(test_switch_offload),
        cmocka_unit_test(test_switch_refuses_foreign_dir),
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_spec_mac_and_bps),
        cmocka_unit_test(test_slirp_arp),
        cmocka_unit_test(test_slirp_holds_frames),
        cmocka_unit_test(test_slirp_dhcp),
        cmocka_unit_test(test_slirp_hostfwd),
        cmocka_unit_test(test_tap_unprivileged),
        cmocka_unit_test(test_tap_in_netns),
    };
    return cmocka_run_group_tests(tests, switch_setup, switch_teardown);
}
