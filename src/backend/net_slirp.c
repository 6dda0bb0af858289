/* User-mode networking through libslirp (4.7): a TCP/IP stack in the VMM
 * that turns the guest's connections into ordinary host sockets, so no
 * privilege is needed.
 *
 *   10.0.2.0/24  guest network      10.0.2.2   the host (its 127.0.0.1)
 *   10.0.2.3     DNS (forwarded)    10.0.2.15  the guest, by DHCP
 *   fec0::/64    the same for IPv6 (fec0::2 host, fec0::3 DNS)
 *
 * hostfwd=tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT forwards a host port
 * into the guest; HOSTADDR defaults to 127.0.0.1 (not 0.0.0.0: a forwarded
 * port is reachable from other machines only when asked for explicitly),
 * GUESTADDR to 10.0.2.15.
 *
 * libslirp's sockets change as connections come and go, so they are polled
 * through an event source: fill() asks slirp for its current pollfds and
 * deadline, dispatch() hands back the results and runs expired timers. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <libslirp.h>

#include "condo/net.h"

/* Frames slirp produced while the guest had no receive buffers: a bounded
 * queue (TCP retransmits what overflows, as it would on a real link). */
#define SLIRP_RXQ_MAX_FRAMES 128
#define SLIRP_RXQ_MAX_BYTES (4 * 1024 * 1024) /* 64 frames of 64 KiB */

struct slirp_timer {
    struct slirp_timer *next;
    SlirpTimerCb cb;        /* timer_new style */
    void *cb_opaque;
    SlirpTimerId id;        /* timer_new_opaque style */
    bool opaque_style;
    int64_t expire_ms;      /* -1: not armed */
};

struct slirp_frame {
    struct slirp_frame *next;
    size_t len;
    uint8_t data[];
};

struct net_slirp {
    struct net_backend *nb;
    Slirp *slirp;
    struct slirp_timer *timers;
    struct slirp_frame *rxq_head, *rxq_tail;
    unsigned rxq_frames;
    size_t rxq_bytes;
    /* the pollfd window of the current event-loop round */
    struct pollfd *pfd;
    int npfd, maxpfd;
    /* a frame gathered from several pieces (slirp_input wants one) */
    uint8_t txbuf[NET_FRAME_MAX];
};

/* slirp builds every frame it sends, checksums included: the guest need
 * not verify them again (passed on only if it negotiated GUEST_CSUM). */
static const struct net_vhdr slirp_rx_vhdr = { .flags = NET_VHDR_F_DATA_VALID };

static void rxq_drain(struct net_slirp *s)
{
    while (s->rxq_head && net_backend_can_deliver(s->nb)) {
        struct slirp_frame *f = s->rxq_head;
        s->rxq_head = f->next;
        if (!s->rxq_head)
            s->rxq_tail = NULL;
        s->rxq_frames--;
        s->rxq_bytes -= f->len;
        net_backend_deliver_vhdr(s->nb, &slirp_rx_vhdr, f->data, f->len);
        free(f);
    }
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct net_slirp *s = opaque;
    if (!s->rxq_head && net_backend_can_deliver(s->nb)) {
        net_backend_deliver_vhdr(s->nb, &slirp_rx_vhdr, buf, len);
        return (ssize_t)len;
    }
    if (s->rxq_frames >= SLIRP_RXQ_MAX_FRAMES || s->rxq_bytes + len > SLIRP_RXQ_MAX_BYTES)
        return (ssize_t)len; /* dropped, like a full NIC ring */
    struct slirp_frame *f = malloc(sizeof(*f) + len);
    if (!f)
        return (ssize_t)len;
    f->next = NULL;
    f->len = len;
    memcpy(f->data, buf, len);
    if (s->rxq_tail)
        s->rxq_tail->next = f;
    else
        s->rxq_head = f;
    s->rxq_tail = f;
    s->rxq_frames++;
    s->rxq_bytes += len;
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    guest_error("net user: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return (int64_t)condo_clock_ns();
}

static struct slirp_timer *timer_alloc(struct net_slirp *s)
{
    struct slirp_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL; /* libslirp 4.7 does not check: see timer_mod */
    t->expire_ms = -1;
    t->next = s->timers;
    s->timers = t;
    return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct slirp_timer *t = timer_alloc(opaque);
    if (t) {
        t->cb = cb;
        t->cb_opaque = cb_opaque;
    }
    return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    struct slirp_timer *t = timer_alloc(opaque);
    if (t) {
        t->id = id;
        t->cb_opaque = cb_opaque;
        t->opaque_style = true;
    }
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct net_slirp *s = opaque;
    for (struct slirp_timer **p = &s->timers; *p; p = &(*p)->next) {
        if (*p == timer) {
            *p = ((struct slirp_timer *)timer)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    if (timer)
        ((struct slirp_timer *)timer)->expire_ms = expire_ms;
}

/* Sockets are polled through fill/dispatch each round; nothing to track. */
static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

/* Single-threaded: the next fill() sees the new state anyway. */
static void cb_notify(void *opaque)
{
    (void)opaque;
}

static const SlirpCb slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

static int add_poll(int fd, int events, void *opaque)
{
    struct net_slirp *s = opaque;
    if (s->npfd >= s->maxpfd)
        return -1; /* slirp skips that socket this round */
    short ev = 0;
    if (events & SLIRP_POLL_IN)
        ev |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= POLLPRI;
    s->pfd[s->npfd] = (struct pollfd){ .fd = fd, .events = ev };
    return s->npfd++;
}

static int get_revents(int idx, void *opaque)
{
    struct net_slirp *s = opaque;
    if (idx < 0 || idx >= s->npfd)
        return 0;
    short re = s->pfd[idx].revents;
    int ev = 0;
    if (re & POLLIN)
        ev |= SLIRP_POLL_IN;
    if (re & POLLOUT)
        ev |= SLIRP_POLL_OUT;
    if (re & POLLPRI)
        ev |= SLIRP_POLL_PRI;
    if (re & (POLLERR | POLLNVAL))
        ev |= SLIRP_POLL_ERR;
    if (re & POLLHUP)
        ev |= SLIRP_POLL_HUP;
    return ev;
}

static int slirp_fill(struct net_backend *nb, struct pollfd *pfd, int max, int *timeout_ms)
{
    struct net_slirp *s = nb->priv;
    s->pfd = pfd;
    s->npfd = 0;
    s->maxpfd = max;
    uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
    slirp_pollfds_fill(s->slirp, &t, add_poll, s);
    int64_t now_ms = (int64_t)(condo_clock_ns() / 1000000);
    for (struct slirp_timer *tm = s->timers; tm; tm = tm->next) {
        if (tm->expire_ms < 0)
            continue;
        int64_t d = tm->expire_ms - now_ms;
        if (d < 0)
            d = 0;
        if ((uint64_t)d < t)
            t = (uint32_t)d;
    }
    if (t != UINT32_MAX)
        *timeout_ms = t > INT32_MAX ? INT32_MAX : (int)t;
    return s->npfd;
}

static void run_timers(struct net_slirp *s)
{
    int64_t now_ms = (int64_t)(condo_clock_ns() / 1000000);
    /* A callback may free or re-arm timers: restart the walk after each. */
    bool again = true;
    while (again) {
        again = false;
        for (struct slirp_timer *t = s->timers; t; t = t->next) {
            if (t->expire_ms < 0 || t->expire_ms > now_ms)
                continue;
            t->expire_ms = -1;
            if (t->opaque_style)
                slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
            else if (t->cb)
                t->cb(t->cb_opaque);
            again = true;
            break;
        }
    }
}

static void slirp_dispatch(struct net_backend *nb, struct pollfd *pfd, int n)
{
    struct net_slirp *s = nb->priv;
    /* fill() set s->pfd to this same window; n is what it returned */
    s->pfd = pfd;
    s->npfd = n;
    run_timers(s);
    slirp_pollfds_poll(s->slirp, 0, get_revents, s);
    s->npfd = 0;
    rxq_drain(s);
}

static int slirp_send(struct net_backend *nb, const struct iovec *iov, int n)
{
    struct net_slirp *s = nb->priv;
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    if (len < NET_ETH_HLEN || len > NET_FRAME_MAX)
        return -EINVAL;
    const uint8_t *frame;
    if (n == 1) {
        frame = iov[0].iov_base;
    } else {
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            memcpy(s->txbuf + off, iov[i].iov_base, iov[i].iov_len);
            off += iov[i].iov_len;
        }
        frame = s->txbuf;
    }
    slirp_input(s->slirp, frame, (int)len);
    return 0;
}

static void slirp_rx_ready(struct net_backend *nb)
{
    rxq_drain(nb->priv);
}

static void slirp_close(struct net_backend *nb)
{
    struct net_slirp *s = nb->priv;
    if (!s)
        return;
    if (s->slirp)
        slirp_cleanup(s->slirp); /* frees its timers through timer_free */
    while (s->timers) {
        struct slirp_timer *t = s->timers;
        s->timers = t->next;
        free(t);
    }
    while (s->rxq_head) {
        struct slirp_frame *f = s->rxq_head;
        s->rxq_head = f->next;
        free(f);
    }
    free(s);
    nb->priv = NULL;
}

static const struct net_backend_ops slirp_ops = {
    .name = "user",
    .send = slirp_send,
    .rx_ready = slirp_rx_ready,
    .fill = slirp_fill,
    .dispatch = slirp_dispatch,
    .close = slirp_close,
};

static int parse_port(const char *s, size_t n, int *port)
{
    if (n == 0 || n > 5)
        return -EINVAL;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -EINVAL;
    *port = v;
    return 0;
}

static int parse_addr(const char *s, size_t n, const char *dflt, struct in_addr *a)
{
    char buf[INET_ADDRSTRLEN];
    if (n == 0) {
        s = dflt;
        n = strlen(dflt);
    }
    if (n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, n);
    buf[n] = 0;
    return inet_pton(AF_INET, buf, a) == 1 ? 0 : -EINVAL;
}

/* "tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT" (or udp:) */
static int add_hostfwd(struct net_slirp *s, const char *v)
{
    int is_udp;
    if (strncmp(v, "tcp:", 4) == 0)
        is_udp = 0;
    else if (strncmp(v, "udp:", 4) == 0)
        is_udp = 1;
    else
        goto bad;
    const char *h = v + 4;
    const char *dash = strchr(h, '-');
    if (!dash)
        goto bad;
    const char *hcolon = memchr(h, ':', (size_t)(dash - h));
    const char *g = dash + 1;
    const char *gcolon = strchr(g, ':');
    if (!hcolon || !gcolon)
        goto bad;
    struct in_addr haddr, gaddr;
    int hport, gport;
    if (parse_addr(h, (size_t)(hcolon - h), "127.0.0.1", &haddr) < 0 ||
        parse_port(hcolon + 1, (size_t)(dash - hcolon - 1), &hport) < 0 ||
        parse_addr(g, (size_t)(gcolon - g), "10.0.2.15", &gaddr) < 0 ||
        parse_port(gcolon + 1, strlen(gcolon + 1), &gport) < 0)
        goto bad;
    errno = 0;
    if (slirp_add_hostfwd(s->slirp, is_udp, haddr, hport, gaddr, gport) < 0) {
        int e = errno ? errno : EADDRINUSE;
        condo_err("--net user: hostfwd=%s: cannot listen on %s:%d: %s (is the port in use?)",
                  v, inet_ntoa(haddr), hport, strerror(e));
        return -e;
    }
    return 0;
bad:
    condo_err("--net user: bad hostfwd=%s (want tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, "
              "e.g. hostfwd=tcp::8022-:22; ports 1-65535)",
              v);
    return -EINVAL;
}

int net_slirp_open(struct net_backend *nb, char **opts, int nopts)
{
    for (int i = 0; i < nopts; i++) {
        if (strncmp(opts[i], "hostfwd=", 8) != 0) {
            condo_err("--net user: unknown option '%s' (user takes hostfwd=, mac=, bps=)",
                      opts[i]);
            return -EINVAL;
        }
    }
    struct net_slirp *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->nb = nb;
    nb->priv = s;
    nb->ops = &slirp_ops;

    SlirpConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.version = 4; /* timer_new_opaque, disable_dhcp (false) */
    cfg.restricted = 0;
    cfg.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.in6_enabled = true;
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
    cfg.vhostname = "condo";
    /* The guest reaches the host's loopback as 10.0.2.2 (the tests' HTTP
     * server lives there). */
    cfg.disable_host_loopback = false;
    cfg.enable_emu = false; /* libslirp calls its protocol emulation unsafe */
    /* A large link MTU (as slirp4netns uses): libslirp then sends the
     * guest TCP segments of up to 64 KiB, and takes as large ones, so a
     * transfer costs the emulated guest one frame per 64 KiB instead of
     * per 1460 bytes. The card offers it to the guest (VIRTIO_NET_F_MTU);
     * a guest that does not take it keeps 1500 and its MSS says so. */
    cfg.if_mtu = NET_SLIRP_MTU;
    cfg.if_mru = NET_SLIRP_MTU;
    nb->mtu = NET_SLIRP_MTU;

    s->slirp = slirp_new(&cfg, &slirp_callbacks, s);
    if (!s->slirp) {
        condo_err("--net user: libslirp failed to start");
        slirp_close(nb);
        return -ENOMEM;
    }
    for (int i = 0; i < nopts; i++) {
        int r = add_hostfwd(s, opts[i] + 8);
        if (r < 0) {
            slirp_close(nb);
            return r;
        }
    }
    return 0;
}
