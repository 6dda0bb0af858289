/* The inter-VM switch: VMs started with --net switch,name=NAME share one
 * Ethernet segment, without root and without a daemon.
 *
 * Every VM binds an AF_UNIX datagram socket (its "port") in the switch's
 * directory, $XDG_RUNTIME_DIR/condo/switch/NAME/ (or
 * /tmp/condo-$UID/switch/NAME/ without XDG_RUNTIME_DIR), named after its
 * pid. The directory is the switch: mode 0700, so only the user's own VMs
 * can join. A frame is one datagram; each port learns, as a learning switch
 * does, which port a source MAC lives behind (from the datagram's source
 * address) and sends unicast frames for known MACs to that port only; it
 * floods broadcast, multicast and unknown unicast frames to every socket in
 * the directory (listing it at each flood, so VMs that joined later are
 * found). A socket whose owner died without cleaning up answers
 * ECONNREFUSED: the sender removes it. A port removes its own socket when
 * the VM exits.
 *
 * Backpressure: a peer's receive queue holds only net.unix.max_dgram_qlen
 * datagrams (10 by default). When a unicast frame finds it full, the port
 * keeps the frame, tells the device to stop taking frames from the guest
 * (can_send) and retries every millisecond; the guest's own queues then
 * absorb the burst as they would behind a busy NIC. After SWITCH_STALL_NS a
 * peer that does not drain (stopped VM) loses the frame so one stuck VM
 * cannot stall the others. Floods to a full peer are dropped for that peer.
 *
 * Under the VMM's sandbox (docs/SANDBOX.md) a port opens no new socket
 * after setup: a peer that refused a frame is probed with an empty
 * datagram from the port's own socket (peers ignore runts). A root VMM
 * that drops to an unprivileged uid shares the directory with that uid's
 * group (net_switch_share_group): mode 0770/0660 instead of 0700.
 *
 * Offloads: a datagram is "CV" (2 bytes), the frame's virtio-net header
 * (10 bytes, include/condo/net_offload.h) and the frame, so a guest's
 * 64 KiB TCP segment or partial checksum crosses the switch whole, once.
 * The receiving port checks the header as it would a guest's (a peer is
 * another VM: untrusted) and hands it to its guest as is when that guest
 * accepts it (set_rx_offload), else completes the checksum or cuts the
 * segment itself. A datagram without the prefix is a plain frame. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "condo/net.h"

#define SWITCH_MACS 256
#define SWITCH_MAC_AGE_NS (300ull * 1000000000ull)
#define SWITCH_STALL_NS (200ull * 1000000ull)
#define SWITCH_BATCH 64
/* most pieces a frame handed to a port may come in */
#define VIRTQ_SEGS_FOR_SWITCH 256
#define SWITCH_PORT_NAME 32
/* "CV" + virtio-net header before each frame */
#define SWITCH_HDR (2 + NET_VHDR_LEN)
#define SWITCH_DGRAM_MAX (SWITCH_HDR + NET_FRAME_MAX)

struct switch_mac {
    uint8_t mac[6];
    bool used;
    char port[SWITCH_PORT_NAME]; /* the peer's socket name in the directory */
    uint64_t seen_ns;
};

struct net_switch {
    struct net_backend *nb;
    int fd;
    int watch;
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char self[SWITCH_PORT_NAME];
    struct switch_mac macs[SWITCH_MACS];
    /* a unicast frame waiting for room in its peer's queue */
    bool pending;
    size_t pending_len;
    char pending_port[SWITCH_PORT_NAME];
    uint64_t pending_since;
    struct net_offload_caps rx_caps; /* what our guest accepts */
    uint8_t pending_buf[SWITCH_DGRAM_MAX];
    uint8_t buf[SWITCH_DGRAM_MAX + 1];
    uint8_t seg[NET_FRAME_MAX]; /* one segment cut for a guest without TSO */
};

static unsigned switch_ports_opened; /* names ports of one process apart */
static int switch_group = -1;        /* net_switch_share_group */

void net_switch_share_group(int gid)
{
    switch_group = gid;
}

/* The switch's files: private to the user, or shared with switch_group. */
static void share_path(const char *path, mode_t mode)
{
    if (switch_group < 0)
        return;
    if (chown(path, (uid_t)-1, (gid_t)switch_group) < 0 || chmod(path, mode) < 0)
        condo_debug("switch: cannot share %s with group %d: %s", path, switch_group,
                    strerror(errno));
}

static bool valid_switch_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

int net_switch_dir(const char *name, char *buf, size_t size)
{
    if (!valid_switch_name(name))
        return -EINVAL;
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, size, "%s/condo/switch/%s", xdg, name);
    else
        n = snprintf(buf, size, "/tmp/condo-%u/switch/%s", (unsigned)getuid(), name);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    return 0;
}

/* mkdir -p with mode 0700 for the components we create; the top one under
 * /tmp must be ours and private (another user could have made it first). */
static int make_private_dirs(const char *path)
{
    char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
    size_t n = strlen(path);
    if (n >= sizeof(tmp))
        return -ENAMETOOLONG;
    memcpy(tmp, path, n + 1);
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    size_t start = (xdg && xdg[0] == '/') ? strlen(xdg) : 0;
    for (size_t i = start + 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != 0)
            continue;
        char c = tmp[i];
        tmp[i] = 0;
        /* /tmp itself (start == 0, first component) is shared: skip it */
        bool ours = start > 0 || strcmp(tmp, "/tmp") != 0;
        if (mkdir(tmp, 0700) == 0) {
            if (ours)
                share_path(tmp, 0770);
        } else if (errno != EEXIST) {
            return -errno;
        }
        struct stat st;
        if (lstat(tmp, &st) < 0)
            return -errno;
        /* private: 0700; shared: no access for others, the group ours. A
         * directory we own that an earlier sandboxed VM of ours shared with
         * its jail group is ours too (only its owner or root can have set
         * that mode): accepted as it is, so that VM keeps its access. */
        bool private_ok = !(st.st_mode & 077);
        bool shared_ok = switch_group >= 0 && st.st_gid == (gid_t)switch_group &&
                         !(st.st_mode & 007);
        bool earlier_share = switch_group < 0 && !(st.st_mode & 007);
        if (ours && (!S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
                     !(private_ok || shared_ok || earlier_share))) {
            condo_err("--net switch: %s is not a private directory of this user "
                      "(want mode 0700, owner uid %u); remove it or set XDG_RUNTIME_DIR",
                      tmp, (unsigned)getuid());
            return -EPERM;
        }
        if (ours && switch_group >= 0 && !shared_ok)
            share_path(tmp, 0770); /* made private by an unsandboxed VM before */
        tmp[i] = c;
    }
    return 0;
}

static int port_addr(const struct net_switch *s, const char *port, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", s->dir, port);
    if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    return 0;
}

/* Is the socket at sa bound by a live process? ECONNREFUSED means nobody
 * is there. With a port socket (fd >= 0), an empty datagram asks (peers
 * drop runts; no new socket, as the sandbox wants); without one (at
 * setup), connect on a fresh datagram socket, which only records the
 * address. */
static bool port_is_stale(int fd, const struct sockaddr_un *sa)
{
    struct stat st;
    if (lstat(sa->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return false;
    if (fd >= 0) {
        ssize_t r = sendto(fd, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL,
                           (const struct sockaddr *)sa, sizeof(*sa));
        return r < 0 && errno == ECONNREFUSED;
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int e = errno;
    close(fd);
    return r < 0 && e == ECONNREFUSED;
}

static void forget_port(struct net_switch *s, const char *port)
{
    for (unsigned i = 0; i < SWITCH_MACS; i++) {
        if (s->macs[i].used && strcmp(s->macs[i].port, port) == 0)
            s->macs[i].used = false;
    }
}

static struct switch_mac *lookup_mac(struct net_switch *s, const uint8_t *mac)
{
    uint64_t now = condo_clock_ns();
    for (unsigned i = 0; i < SWITCH_MACS; i++) {
        struct switch_mac *m = &s->macs[i];
        if (m->used && memcmp(m->mac, mac, 6) == 0) {
            if (now - m->seen_ns > SWITCH_MAC_AGE_NS) {
                m->used = false;
                return NULL;
            }
            return m;
        }
    }
    return NULL;
}

static void learn_mac(struct net_switch *s, const uint8_t *mac, const char *port)
{
    if (mac[0] & 1)
        return; /* a multicast source address is bogus: learn nothing */
    uint64_t now = condo_clock_ns();
    struct switch_mac *m = lookup_mac(s, mac);
    if (!m) {
        /* a free slot, else the least recently seen */
        struct switch_mac *oldest = &s->macs[0];
        for (unsigned i = 0; i < SWITCH_MACS; i++) {
            if (!s->macs[i].used) {
                oldest = &s->macs[i];
                break;
            }
            if (s->macs[i].seen_ns < oldest->seen_ns)
                oldest = &s->macs[i];
        }
        m = oldest;
        memcpy(m->mac, mac, 6);
        m->used = true;
    }
    snprintf(m->port, sizeof(m->port), "%s", port);
    m->seen_ns = now;
}

/* Send one frame to one port: 0, -EAGAIN (its queue is full), or another
 * negative errno (the port is gone: removed if stale). */
static int send_to_port(struct net_switch *s, const char *port, const struct iovec *iov, int n)
{
    struct sockaddr_un sa;
    if (port_addr(s, port, &sa) < 0)
        return -ENAMETOOLONG;
    struct msghdr msg = {
        .msg_name = &sa,
        .msg_namelen = sizeof(sa),
        .msg_iov = (struct iovec *)iov,
        .msg_iovlen = (size_t)n,
    };
    if (sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
        return 0;
    int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS)
        return -EAGAIN;
    if (e == ECONNREFUSED || e == ENOENT || e == ENOTSOCK) {
        forget_port(s, port);
        /* re-check right before removing: a new VM may just have taken
         * over the name */
        if (e == ECONNREFUSED && port_is_stale(s->fd, &sa)) {
            condo_debug("switch: removing stale port %s", sa.sun_path);
            unlink(sa.sun_path);
        }
    }
    return -e;
}

static bool is_port_name(const char *name)
{
    /* ours: digits, optionally ".N"; ignore anything else in the dir */
    if (name[0] < '0' || name[0] > '9' || strlen(name) >= SWITCH_PORT_NAME)
        return false;
    for (const char *p = name; *p; p++) {
        if ((*p < '0' || *p > '9') && *p != '.')
            return false;
    }
    return true;
}

static void flood(struct net_switch *s, const struct iovec *iov, int n)
{
    DIR *d = opendir(s->dir);
    if (!d) {
        condo_debug("switch: cannot list %s: %s", s->dir, strerror(errno));
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_port_name(de->d_name) || strcmp(de->d_name, s->self) == 0)
            continue;
        send_to_port(s, de->d_name, iov, n); /* a full or dead peer misses it */
    }
    closedir(d);
}

static void hold_pending(struct net_switch *s, const char *port, const struct iovec *iov, int n)
{
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        memcpy(s->pending_buf + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    s->pending = true;
    s->pending_len = off;
    s->pending_since = condo_clock_ns();
    snprintf(s->pending_port, sizeof(s->pending_port), "%s", port);
}

/* One datagram: the prefix with h (all zero: a plain frame), then iov. */
static int switch_send_hdr(struct net_backend *nb, const struct net_vhdr *h,
                           const struct iovec *frame, int nframe)
{
    struct net_switch *s = nb->priv;
    size_t len = 0;
    if (nframe < 1 || nframe > VIRTQ_SEGS_FOR_SWITCH)
        return -EINVAL;
    uint8_t pre[SWITCH_HDR] = { 'C', 'V' };
    net_vhdr_store(h, pre + 2);
    struct iovec iov[VIRTQ_SEGS_FOR_SWITCH + 1];
    iov[0] = (struct iovec){ pre, sizeof(pre) };
    for (int i = 0; i < nframe; i++) {
        iov[i + 1] = frame[i];
        len += frame[i].iov_len;
    }
    int n = nframe + 1;
    if (len < NET_ETH_HLEN || len > NET_FRAME_MAX)
        return -EINVAL;
    uint8_t eth[12];
    size_t got = 0;
    for (int i = 1; i < n && got < sizeof(eth); i++) {
        size_t k = iov[i].iov_len < sizeof(eth) - got ? iov[i].iov_len : sizeof(eth) - got;
        memcpy(eth + got, iov[i].iov_base, k);
        got += k;
    }
    if (s->pending) /* the device should have asked can_send: keep order */
        return -EAGAIN;
    struct switch_mac *m = (eth[0] & 1) ? NULL : lookup_mac(s, eth);
    if (!m) {
        flood(s, iov, n);
        return 0;
    }
    char port[SWITCH_PORT_NAME];
    snprintf(port, sizeof(port), "%s", m->port);
    int r = send_to_port(s, port, iov, n);
    if (r == -EAGAIN) {
        hold_pending(s, port, iov, n);
        return 0;
    }
    if (r < 0)
        flood(s, iov, n); /* the peer left; maybe the MAC moved */
    return 0;
}

static int switch_send(struct net_backend *nb, const struct iovec *iov, int n)
{
    static const struct net_vhdr plain;
    return switch_send_hdr(nb, &plain, iov, n);
}

static int switch_send_vhdr(struct net_backend *nb, const struct net_vhdr *h,
                            const struct iovec *iov, int n)
{
    return switch_send_hdr(nb, h, iov, n);
}

static void switch_set_rx_offload(struct net_backend *nb, const struct net_offload_caps *caps)
{
    struct net_switch *s = nb->priv;
    s->rx_caps = *caps;
}

/* Deliver one segment cut from a GSO frame our guest cannot take whole. */
static int deliver_segment(void *opaque, const struct iovec *iov, int n)
{
    struct net_switch *s = opaque;
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        if (iov[i].iov_len > sizeof(s->seg) - len)
            return -EMSGSIZE;
        memcpy(s->seg + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    /* a segment the guest has no buffer for is lost, as on a wire */
    if (net_backend_can_deliver(s->nb))
        net_backend_deliver(s->nb, s->seg, len);
    return 0;
}

/* A frame from a peer with its header: as it is if our guest accepts it,
 * else completed or cut here. A header that fails the checks a guest's
 * would (another VM sent it) drops the frame. */
static void deliver_offloaded(struct net_switch *s, const struct net_vhdr *h, uint8_t *frame,
                              size_t len)
{
    static const struct net_offload_caps all = { true, true, true, true };
    const char *why = NULL;
    if (!net_vhdr_needs_work(h)) {
        struct net_vhdr v = { .flags = h->flags & NET_VHDR_F_DATA_VALID };
        net_backend_deliver_vhdr(s->nb, &v, frame, len);
        return;
    }
    if (net_offload_check(h, &all, frame, len, &why) < 0) {
        condo_debug("switch: frame of %zu bytes from a peer dropped: %s", len, why);
        return;
    }
    const struct net_offload_caps *c = &s->rx_caps;
    uint8_t gso = h->gso_type & (uint8_t)~NET_VHDR_GSO_ECN;
    bool whole = c->csum && (gso == NET_VHDR_GSO_NONE || (gso == NET_VHDR_GSO_TCPV4 && c->tso4) ||
                             (gso == NET_VHDR_GSO_TCPV6 && c->tso6)) &&
                 (!(h->gso_type & NET_VHDR_GSO_ECN) || c->ecn);
    if (whole) {
        net_backend_deliver_vhdr(s->nb, h, frame, len);
    } else if (gso != NET_VHDR_GSO_NONE) {
        net_offload_segment(h, frame, len, deliver_segment, s);
    } else {
        net_offload_csum(h, frame, len);
        net_backend_deliver(s->nb, frame, len);
    }
}

static bool switch_can_send(struct net_backend *nb)
{
    struct net_switch *s = nb->priv;
    return !s->pending;
}

static void retry_pending(struct net_switch *s)
{
    if (!s->pending)
        return;
    struct iovec iov = { s->pending_buf, s->pending_len };
    int r = send_to_port(s, s->pending_port, &iov, 1);
    if (r == -EAGAIN && condo_clock_ns() - s->pending_since < SWITCH_STALL_NS)
        return;
    if (r == -EAGAIN)
        condo_debug("switch: port %s does not drain; dropping a frame", s->pending_port);
    s->pending = false;
    net_backend_tx_ready(s->nb);
}

static void switch_set_reading(struct net_switch *s, bool on)
{
    if (s->watch >= 0)
        event_loop_set_events(s->nb->loop, s->watch, on ? POLLIN : 0);
}

/* The name of a datagram's sender inside our directory, or NULL. */
static const char *sender_port(const struct net_switch *s, const struct sockaddr_un *sa,
                               socklen_t salen)
{
    size_t off = offsetof(struct sockaddr_un, sun_path);
    if (salen <= off || sa->sun_family != AF_UNIX)
        return NULL; /* unbound sender */
    size_t plen = strnlen(sa->sun_path, salen - off);
    size_t dlen = strlen(s->dir);
    if (plen <= dlen + 1 || memcmp(sa->sun_path, s->dir, dlen) != 0 ||
        sa->sun_path[dlen] != '/')
        return NULL;
    const char *name = sa->sun_path + dlen + 1;
    if (memchr(name, '/', plen - dlen - 1) || plen - dlen - 1 >= SWITCH_PORT_NAME)
        return NULL;
    return name;
}

static void switch_readable(void *opaque, short revents)
{
    struct net_switch *s = opaque;
    (void)revents;
    for (int i = 0; i < SWITCH_BATCH; i++) {
        if (!net_backend_can_deliver(s->nb)) {
            switch_set_reading(s, false); /* frames wait in our queue */
            return;
        }
        struct sockaddr_un sa;
        socklen_t salen = sizeof(sa);
        ssize_t n = recvfrom(s->fd, s->buf, sizeof(s->buf), MSG_DONTWAIT | MSG_TRUNC,
                             (struct sockaddr *)&sa, &salen);
        if (n < 0)
            return; /* EAGAIN: drained */
        if (n > SWITCH_DGRAM_MAX)
            continue; /* truncated: not from a condo port */
        uint8_t *frame = s->buf;
        struct net_vhdr h;
        bool has_hdr = n >= SWITCH_HDR && s->buf[0] == 'C' && s->buf[1] == 'V';
        if (has_hdr) {
            net_vhdr_load(&h, s->buf + 2);
            frame += SWITCH_HDR;
            n -= SWITCH_HDR;
        }
        if (n < NET_ETH_HLEN || n > NET_FRAME_MAX)
            continue; /* runt: not a frame from a condo port */
        /* NUL-terminate the address so sender_port can use string ops */
        char name[SWITCH_PORT_NAME];
        const char *port = NULL;
        if (salen < sizeof(sa)) {
            ((char *)&sa)[salen] = 0;
            port = sender_port(s, &sa, salen);
        }
        if (port) {
            snprintf(name, sizeof(name), "%s", port);
            learn_mac(s, frame + 6, name);
        }
        if (has_hdr)
            deliver_offloaded(s, &h, frame, (size_t)n);
        else
            net_backend_deliver(s->nb, frame, (size_t)n);
    }
}

static void switch_rx_ready(struct net_backend *nb)
{
    switch_set_reading(nb->priv, true);
}

static int switch_fill(struct net_backend *nb, struct pollfd *pfd, int max, int *timeout_ms)
{
    struct net_switch *s = nb->priv;
    (void)pfd;
    (void)max;
    if (s->pending && (*timeout_ms < 0 || *timeout_ms > 1))
        *timeout_ms = 1;
    return 0;
}

static void switch_dispatch(struct net_backend *nb, struct pollfd *pfd, int n)
{
    (void)pfd;
    (void)n;
    retry_pending(nb->priv);
}

static void switch_close(struct net_backend *nb)
{
    struct net_switch *s = nb->priv;
    if (!s)
        return;
    if (s->watch >= 0 && nb->loop)
        event_loop_remove(nb->loop, s->watch);
    if (s->fd >= 0) {
        struct sockaddr_un sa;
        if (port_addr(s, s->self, &sa) == 0)
            unlink(sa.sun_path);
        close(s->fd);
        rmdir(s->dir); /* only succeeds for the last VM to leave */
    }
    free(s);
    nb->priv = NULL;
}

static const struct net_backend_ops switch_ops = {
    .name = "switch",
    .send = switch_send,
    .send_vhdr = switch_send_vhdr,
    .set_rx_offload = switch_set_rx_offload,
    .can_send = switch_can_send,
    .rx_ready = switch_rx_ready,
    .fill = switch_fill,
    .dispatch = switch_dispatch,
    .close = switch_close,
};

static int bind_port(struct net_switch *s)
{
    unsigned k = switch_ports_opened++;
    for (int attempt = 0; attempt < 100; attempt++, k = switch_ports_opened++) {
        if (k == 0)
            snprintf(s->self, sizeof(s->self), "%u", (unsigned)getpid());
        else
            snprintf(s->self, sizeof(s->self), "%u.%u", (unsigned)getpid(), k);
        struct sockaddr_un sa;
        if (port_addr(s, s->self, &sa) < 0) {
            condo_err("--net switch: socket path %s/%s is too long (at most %zu bytes); "
                      "use a shorter XDG_RUNTIME_DIR or switch name",
                      s->dir, s->self, sizeof(sa.sun_path) - 1);
            return -ENAMETOOLONG;
        }
        if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            share_path(sa.sun_path, 0660);
            return 0;
        }
        if (errno != EADDRINUSE) {
            int e = errno;
            condo_err("--net switch: cannot bind %s: %s", sa.sun_path, strerror(e));
            return -e;
        }
        /* a dead VM with our pid (or another pid namespace) left it */
        if (port_is_stale(-1, &sa)) {
            unlink(sa.sun_path);
            if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                share_path(sa.sun_path, 0660);
                return 0;
            }
        }
    }
    condo_err("--net switch: no free port name in %s", s->dir);
    return -EADDRINUSE;
}

int net_switch_open(struct net_backend *nb, char **opts, int nopts)
{
    const char *name = NULL;
    for (int i = 0; i < nopts; i++) {
        if (strncmp(opts[i], "name=", 5) == 0) {
            name = opts[i] + 5;
        } else {
            condo_err("--net switch: unknown option '%s' (switch takes name=, mac=, bps=)",
                      opts[i]);
            return -EINVAL;
        }
    }
    if (!name) {
        condo_err("--net switch: name=NAME is required (e.g. --net switch,name=lab)");
        return -EINVAL;
    }
    struct net_switch *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->nb = nb;
    s->fd = -1;
    s->watch = -1;
    int r = net_switch_dir(name, s->dir, sizeof(s->dir));
    if (r == -EINVAL) {
        condo_err("--net switch: bad name '%s' (1 to 64 of A-Z a-z 0-9 . _ -, not starting "
                  "with '.')",
                  name);
        goto fail;
    } else if (r < 0) {
        condo_err("--net switch,name=%s: socket directory path too long", name);
        goto fail;
    }
    r = make_private_dirs(s->dir);
    if (r < 0) {
        if (r != -EPERM)
            condo_err("--net switch: cannot create %s: %s", s->dir, strerror(-r));
        goto fail;
    }
    s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        r = -errno;
        condo_err("--net switch: socket: %s", strerror(-r));
        goto fail;
    }
    r = bind_port(s);
    if (r < 0) {
        close(s->fd);
        s->fd = -1;
        goto fail;
    }
    nb->priv = s;
    nb->ops = &switch_ops;
    if (nb->loop) {
        int w = event_loop_add_fd(nb->loop, s->fd, POLLIN, switch_readable, s);
        if (w < 0) {
            condo_err("--net switch: too many watched fds");
            switch_close(nb);
            return w;
        }
        s->watch = w;
    }
    return 0;
fail:
    free(s);
    return r;
}
