/* A host tap device: the guest's frames appear on a host interface that the
 * host administrator bridges or routes as they wish. Opening /dev/net/tun
 * and attaching to (or creating) an interface needs CAP_NET_ADMIN, unless
 * root made a persistent tap owned by the user beforehand
 * (`ip tuntap add NAME mode tap user USER`).
 *
 * Offloads: the tap is opened with IFF_VNET_HDR, so every frame either way
 * carries the virtio-net header (10 bytes) in front: the guest's 64 KiB
 * TCP segments and partial checksums go to the host's stack whole
 * (send_vhdr), and TUNSETOFFLOAD lets the host's stack hand over the same
 * (GRO'd segments, partial checksums) exactly when the guest negotiated
 * them (set_rx_offload); without them the host's stack segments and
 * checksums before the frame reaches us. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "condo/net.h"

/* Frames taken per readiness callback: leave time for the guest. */
#define TAP_BATCH 64

struct net_tap {
    struct net_backend *nb;
    int fd;
    int watch; /* event loop watch id, or -1 */
    char ifname[IFNAMSIZ];
    uint8_t vhdr[NET_VHDR_LEN];
    uint8_t buf[NET_FRAME_MAX + 1];
};

static void tap_set_reading(struct net_tap *t, bool on)
{
    if (t->watch >= 0)
        event_loop_set_events(t->nb->loop, t->watch, on ? POLLIN : 0);
}

static void tap_readable(void *opaque, short revents)
{
    struct net_tap *t = opaque;
    (void)revents;
    for (int i = 0; i < TAP_BATCH; i++) {
        if (!net_backend_can_deliver(t->nb)) {
            /* leave frames in the kernel's queue until rx_ready */
            tap_set_reading(t, false);
            return;
        }
        struct iovec iov[2] = { { t->vhdr, NET_VHDR_LEN }, { t->buf, sizeof(t->buf) } };
        ssize_t n = readv(t->fd, iov, 2);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                condo_debug("tap %s: read: %s", t->ifname, strerror(errno));
            return;
        }
        if (n <= NET_VHDR_LEN)
            return;
        n -= NET_VHDR_LEN;
        if ((size_t)n > NET_FRAME_MAX)
            continue; /* longer than any frame we carry (filled the buffer) */
        struct net_vhdr h;
        net_vhdr_load(&h, t->vhdr);
        /* the device checks it against what the guest accepts, and the
         * checksum offsets against the frame */
        net_backend_deliver_vhdr(t->nb, &h, t->buf, (size_t)n);
    }
}

/* Most pieces a frame may come in (the device's chains: 256). */
#define TAP_MAX_IOV 256

static int tap_send_vhdr(struct net_backend *nb, const struct net_vhdr *h, const struct iovec *iov,
                         int n)
{
    struct net_tap *t = nb->priv;
    if (n < 1 || n > TAP_MAX_IOV)
        return -EINVAL;
    uint8_t raw[NET_VHDR_LEN];
    net_vhdr_store(h, raw);
    struct iovec v[TAP_MAX_IOV + 1];
    v[0] = (struct iovec){ raw, sizeof(raw) };
    memcpy(v + 1, iov, (size_t)n * sizeof(*iov));
    ssize_t r = writev(t->fd, v, n + 1);
    if (r < 0) /* EAGAIN: the host queue is full and the frame lost, as on a
                * wire (-EAGAIN would mean "retry" to the device) */
        return errno == EAGAIN ? -ENOBUFS : -errno;
    return 0;
}

static int tap_send(struct net_backend *nb, const struct iovec *iov, int n)
{
    static const struct net_vhdr plain;
    return tap_send_vhdr(nb, &plain, iov, n);
}

/* What the host's stack may hand us: what the guest accepts. */
static void tap_set_rx_offload(struct net_backend *nb, const struct net_offload_caps *caps)
{
    struct net_tap *t = nb->priv;
    unsigned long f = 0;
    if (caps->csum) {
        f |= TUN_F_CSUM;
        if (caps->tso4)
            f |= TUN_F_TSO4;
        if (caps->tso6)
            f |= TUN_F_TSO6;
        if ((caps->tso4 || caps->tso6) && caps->ecn)
            f |= TUN_F_TSO_ECN;
    }
    if (ioctl(t->fd, TUNSETOFFLOAD, f) < 0)
        condo_debug("tap %s: TUNSETOFFLOAD 0x%lx: %s", t->ifname, f, strerror(errno));
}

static void tap_rx_ready(struct net_backend *nb)
{
    tap_set_reading(nb->priv, true);
}

static void tap_close(struct net_backend *nb)
{
    struct net_tap *t = nb->priv;
    if (!t)
        return;
    if (t->watch >= 0 && nb->loop)
        event_loop_remove(nb->loop, t->watch);
    if (t->fd >= 0)
        close(t->fd);
    free(t);
    nb->priv = NULL;
}

static const struct net_backend_ops tap_ops = {
    .name = "tap",
    .send = tap_send,
    .send_vhdr = tap_send_vhdr,
    .set_rx_offload = tap_set_rx_offload,
    .rx_ready = tap_rx_ready,
    .close = tap_close,
};

static bool valid_ifname(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] == 0x7f)
            return false;
    }
    return true;
}

int net_tap_open(struct net_backend *nb, char **opts, int nopts)
{
    const char *ifname = NULL;
    for (int i = 0; i < nopts; i++) {
        if (strncmp(opts[i], "ifname=", 7) == 0) {
            ifname = opts[i] + 7;
        } else {
            condo_err("--net tap: unknown option '%s' (tap takes ifname=, mac=, bps=)", opts[i]);
            return -EINVAL;
        }
    }
    if (!ifname) {
        condo_err("--net tap: ifname=NAME is required (e.g. --net tap,ifname=tap0)");
        return -EINVAL;
    }
    if (!valid_ifname(ifname)) {
        condo_err("--net tap: bad ifname '%s' (1 to %d characters, no '/', ':' or spaces)",
                  ifname, IFNAMSIZ - 1);
        return -EINVAL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENXIO || e == ENODEV)
            condo_err("--net tap: /dev/net/tun is missing (load the tun module: modprobe tun)");
        else if (e == EACCES || e == EPERM)
            condo_err("--net tap: cannot open /dev/net/tun: %s (run as root, or use --net "
                      "user or --net switch, which need no privilege)",
                      strerror(e));
        else
            condo_err("--net tap: cannot open /dev/net/tun: %s", strerror(e));
        return -e;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        if (e == EPERM || e == EACCES)
            condo_err("--net tap,ifname=%s: not permitted (creating or attaching a tap needs "
                      "root or CAP_NET_ADMIN; or have root create it for you with "
                      "'ip tuntap add %s mode tap user %s')",
                      ifname, ifname, getenv("USER") ? getenv("USER") : "$USER");
        else if (e == EBUSY)
            condo_err("--net tap,ifname=%s: the device is in use by another process", ifname);
        else if (e == EINVAL)
            condo_err("--net tap,ifname=%s: cannot use it as a tap (does an interface of "
                      "another kind have that name?)",
                      ifname);
        else
            condo_err("--net tap,ifname=%s: cannot create the device: %s", ifname,
                      strerror(e));
        close(fd);
        return -e;
    }
    int hdr_len = NET_VHDR_LEN;
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0 || ioctl(fd, TUNSETOFFLOAD, 0ul) < 0) {
        int e = errno;
        condo_err("--net tap,ifname=%s: cannot set up the virtio-net header: %s", ifname,
                  strerror(e));
        close(fd);
        return -e;
    }
    struct net_tap *t = calloc(1, sizeof(*t));
    if (!t) {
        close(fd);
        return -ENOMEM;
    }
    t->nb = nb;
    t->fd = fd;
    t->watch = -1;
    memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ - 1);
    nb->priv = t;
    nb->ops = &tap_ops;
    if (nb->loop) {
        int w = event_loop_add_fd(nb->loop, fd, POLLIN, tap_readable, t);
        if (w < 0) {
            condo_err("--net tap,ifname=%s: too many watched fds", ifname);
            tap_close(nb);
            return w;
        }
        t->watch = w;
    }
    return 0;
}
