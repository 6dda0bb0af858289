/* A host tap device: the guest's frames appear on a host interface that the
 * host administrator bridges or routes as they wish. Opening /dev/net/tun
 * and attaching to (or creating) an interface needs CAP_NET_ADMIN, unless
 * root made a persistent tap owned by the user beforehand
 * (`ip tuntap add NAME mode tap user USER`). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "condo/net.h"

/* Frames taken per readiness callback: leave time for the guest. */
#define TAP_BATCH 64

struct net_tap {
    struct net_backend *nb;
    int fd;
    int watch; /* event loop watch id, or -1 */
    char ifname[IFNAMSIZ];
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
        ssize_t n = read(t->fd, t->buf, sizeof(t->buf));
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                condo_debug("tap %s: read: %s", t->ifname, strerror(errno));
            return;
        }
        if (n == 0)
            return;
        net_backend_deliver(t->nb, t->buf, (size_t)n);
    }
}

static int tap_send(struct net_backend *nb, const struct iovec *iov, int n)
{
    struct net_tap *t = nb->priv;
    ssize_t r = writev(t->fd, iov, n);
    if (r < 0) /* EAGAIN: the host queue is full and the frame lost, as on a
                * wire (-EAGAIN would mean "retry" to the device) */
        return errno == EAGAIN ? -ENOBUFS : -errno;
    return 0;
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
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
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
