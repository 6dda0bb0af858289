/* Network backends: --net spec parsing, dispatch to the backend types, and
 * the glue between a backend and its device (flow control, rate limit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "condo/net.h"

#define NET_MAX_OPTS 32

/* Milliseconds (rounded up) until ns from now, for a poll timeout. */
static void lower_timeout(int *timeout_ms, uint64_t ns)
{
    uint64_t ms = (ns + 999999) / 1000000;
    if (ms > INT32_MAX)
        ms = INT32_MAX;
    if (*timeout_ms < 0 || (uint64_t)*timeout_ms > ms)
        *timeout_ms = (int)ms;
}

static int source_fill(void *opaque, struct pollfd *pfd, int max, int *timeout_ms)
{
    struct net_backend *nb = opaque;
    if (nb->tx_want)
        lower_timeout(timeout_ms, rate_limit_wait_ns(&nb->tx_rl, nb->tx_want));
    if (nb->rx_hold_len) {
        /* waiting for tokens: wake up then; waiting for receive buffers:
         * the device's rx_ready comes anyway */
        uint64_t ns = rate_limit_wait_ns(&nb->rx_rl, nb->rx_hold_len);
        if (ns)
            lower_timeout(timeout_ms, ns);
    }
    if (nb->ops->fill)
        return nb->ops->fill(nb, pfd, max, timeout_ms);
    return 0;
}

/* Deliver the frame held for rx tokens if the bucket and the device
 * allow; true when nothing is held any more. */
static bool flush_rx_hold(struct net_backend *nb)
{
    if (!nb->rx_hold_len)
        return true;
    if (!nb->peer.can_receive || !nb->peer.can_receive(nb->peer.opaque) ||
        !rate_limit_consume(&nb->rx_rl, nb->rx_hold_len))
        return false;
    size_t len = nb->rx_hold_len;
    nb->rx_hold_len = 0;
    nb->peer.receive(nb->peer.opaque, nb->rx_hold_has_vhdr ? &nb->rx_hold_vhdr : NULL,
                     nb->rx_hold, len);
    return true;
}

/* The rate limit refilled enough: let held traffic go on. */
static void rate_limit_resume(struct net_backend *nb)
{
    if (nb->tx_want && rate_limit_wait_ns(&nb->tx_rl, nb->tx_want) == 0) {
        nb->tx_want = 0;
        net_backend_tx_ready(nb); /* the device pops the frame again */
    }
    if (nb->rx_hold_len)
        net_backend_rx_ready(nb);
}

static void source_dispatch(void *opaque, struct pollfd *pfd, int n)
{
    struct net_backend *nb = opaque;
    if (nb->ops->dispatch)
        nb->ops->dispatch(nb, pfd, n);
    if (nb->bps)
        rate_limit_resume(nb);
}

int net_parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6 ||
        strlen(s) != 17)
        return -EINVAL;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    if (mac[0] & 1) /* a multicast address cannot be a NIC's own */
        return -EINVAL;
    return 0;
}

void net_random_mac(uint8_t mac[6])
{
    static unsigned counter;
    uint8_t r[3];
    /* Random rather than derived from the pid alone: VMs on one switch may
     * live in different pid namespaces. */
    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        uint32_t x = (uint32_t)getpid() * 2654435761u ^ (uint32_t)condo_clock_ns() ^
                     (++counter << 16);
        r[0] = (uint8_t)(x >> 16);
        r[1] = (uint8_t)(x >> 8);
        r[2] = (uint8_t)x;
    }
    mac[0] = 0x52;
    mac[1] = 0x54;
    mac[2] = 0x00;
    memcpy(mac + 3, r, 3);
}

/* "1000000", "100k", "10M", "1G" (decimal multipliers) */
static int parse_rate(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -EINVAL;
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1000, end++;
    else if (*end == 'M')
        mul = 1000000, end++;
    else if (*end == 'G')
        mul = 1000000000, end++;
    if (*end || v == 0 || v > UINT64_MAX / mul)
        return -EINVAL;
    *out = v * mul;
    return 0;
}

int net_backend_open(const char *spec, struct event_loop *loop, struct net_backend **out)
{
    *out = NULL;
    if (!spec || !*spec) {
        condo_err("--net: empty value (want user, tap,ifname=NAME or switch,name=NAME)");
        return -EINVAL;
    }
    char *copy = strdup(spec);
    struct net_backend *nb = calloc(1, sizeof(*nb));
    if (!copy || !nb) {
        free(copy);
        free(nb);
        return -ENOMEM;
    }
    char *opts[NET_MAX_OPTS];
    int nopts = 0, r = -EINVAL;
    char *save = NULL;
    char *type = strtok_r(copy, ",", &save);
    bool have_mac = false;
    for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        if (strncmp(o, "mac=", 4) == 0) {
            if (net_parse_mac(o + 4, nb->mac) < 0) {
                condo_err("--net %s: bad mac '%s' (want a unicast xx:xx:xx:xx:xx:xx, "
                          "e.g. 52:54:00:12:34:56)",
                          spec, o + 4);
                goto fail;
            }
            have_mac = true;
        } else if (strncmp(o, "bps=", 4) == 0) {
            if (parse_rate(o + 4, &nb->bps) < 0) {
                condo_err("--net %s: bad bps '%s' (want bytes per second > 0, "
                          "optionally with k, M or G)",
                          spec, o + 4);
                goto fail;
            }
        } else if (nopts < NET_MAX_OPTS) {
            opts[nopts++] = o;
        } else {
            condo_err("--net %s: too many options", spec);
            goto fail;
        }
    }
    if (!have_mac)
        net_random_mac(nb->mac);
    nb->loop = loop;
    if (!type) {
        condo_err("--net %s: no backend type (want user, tap or switch)", spec);
        goto fail;
    } else if (strcmp(type, "user") == 0) {
        r = net_slirp_open(nb, opts, nopts);
    } else if (strcmp(type, "tap") == 0) {
        r = net_tap_open(nb, opts, nopts);
    } else if (strcmp(type, "switch") == 0) {
        r = net_switch_open(nb, opts, nopts);
    } else {
        condo_err("--net %s: unknown backend type '%s' (want user, tap or switch)", spec, type);
        goto fail;
    }
    if (r < 0)
        goto fail;
    struct rate_limit_config rl = { .bps = nb->bps };
    rate_limit_init(&nb->tx_rl, &rl);
    rate_limit_init(&nb->rx_rl, &rl);
    if (nb->bps && !(nb->rx_hold = malloc(NET_FRAME_MAX))) {
        nb->ops->close(nb);
        r = -ENOMEM;
        goto fail;
    }
    /* The source polls slirp's fds and wakes the loop when a rate limit
     * or a switch's held frame has waited long enough. */
    if (loop && (nb->ops->fill || nb->bps)) {
        r = event_loop_add_source(loop, (struct event_source){ source_fill, source_dispatch, nb });
        if (r < 0) {
            condo_err("--net %s: too many event sources", spec);
            nb->ops->close(nb);
            free(nb->rx_hold);
            goto fail;
        }
        nb->has_source = true;
    }
    free(copy);
    *out = nb;
    return 0;
fail:
    free(copy);
    free(nb);
    return r;
}

void net_backend_close(struct net_backend *nb)
{
    if (!nb)
        return;
    if (nb->has_source && nb->loop)
        event_loop_remove_source(nb->loop, nb);
    if (nb->ops && nb->ops->close)
        nb->ops->close(nb);
    free(nb->rx_hold);
    free(nb);
}

void net_backend_set_peer(struct net_backend *nb, const struct net_peer *peer)
{
    nb->peer = *peer;
}

bool net_backend_can_send(struct net_backend *nb)
{
    if (nb->tx_want || (nb->ops->can_send && !nb->ops->can_send(nb))) {
        nb->tx_blocked = true;
        return false;
    }
    return true;
}

void net_backend_tx_ready(struct net_backend *nb)
{
    if (!nb->tx_blocked)
        return;
    nb->tx_blocked = false;
    if (nb->peer.tx_ready)
        nb->peer.tx_ready(nb->peer.opaque);
}

/* The device did something (sent a frame, gave buffers) on a vCPU thread:
 * the I/O thread must look at the backend's fds again (slirp polls a
 * socket only while its queue towards the guest has room; a tap or switch
 * port reads again after rx_ready), at most one wake per loop round. */
static void kick_loop(struct net_backend *nb)
{
    if (nb->loop)
        event_loop_wake(nb->loop);
}

int net_backend_send(struct net_backend *nb, const struct iovec *iov, int n)
{
    if (nb->bps) {
        size_t len = 0;
        for (int i = 0; i < n; i++)
            len += iov[i].iov_len;
        if (!rate_limit_consume(&nb->tx_rl, len)) {
            nb->tx_want = len;
            nb->tx_blocked = true;
            return -EAGAIN;
        }
    }
    int r = nb->ops->send(nb, iov, n);
    kick_loop(nb);
    return r;
}

static int send_segment(void *opaque, const struct iovec *iov, int n)
{
    struct net_backend *nb = opaque;
    int r = nb->ops->send(nb, iov, n);
    /* a segment lost to a full host queue is lost as on a wire; the rest
     * still go (TCP retransmits what is missing) */
    return r == -ENOBUFS || r == -EAGAIN ? 0 : r;
}

int net_backend_send_offload(struct net_backend *nb, const struct net_vhdr *h, uint8_t *frame,
                             size_t len)
{
    if (nb->bps && !rate_limit_consume(&nb->tx_rl, len)) {
        nb->tx_want = len;
        nb->tx_blocked = true;
        return -EAGAIN;
    }
    struct iovec iov = { frame, len };
    kick_loop(nb);
    if (nb->ops->send_vhdr)
        return nb->ops->send_vhdr(nb, h, &iov, 1);
    if (h->gso_type != NET_VHDR_GSO_NONE) {
        int r = net_offload_segment(h, frame, len, send_segment, nb);
        if (r < 0)
            return r;
        nb->tx_segmented++;
        return 0;
    }
    if (h->flags & NET_VHDR_F_NEEDS_CSUM) {
        net_offload_csum(h, frame, len);
        nb->tx_csummed++;
    }
    return nb->ops->send(nb, &iov, 1);
}

void net_backend_set_rx_offload(struct net_backend *nb, const struct net_offload_caps *caps)
{
    if (nb->ops->set_rx_offload)
        nb->ops->set_rx_offload(nb, caps);
}

void net_backend_rx_ready(struct net_backend *nb)
{
    kick_loop(nb);
    if (!nb->rx_blocked || !flush_rx_hold(nb))
        return;
    nb->rx_blocked = false;
    if (nb->ops->rx_ready)
        nb->ops->rx_ready(nb);
}

bool net_backend_can_deliver(struct net_backend *nb)
{
    bool ok = !nb->rx_hold_len && nb->peer.receive && nb->peer.can_receive &&
              nb->peer.can_receive(nb->peer.opaque);
    if (!ok)
        nb->rx_blocked = true; /* the device's next rx_ready resumes us */
    return ok;
}

void net_backend_deliver_vhdr(struct net_backend *nb, const struct net_vhdr *h,
                              const uint8_t *frame, size_t len)
{
    if (len < NET_ETH_HLEN || len > NET_FRAME_MAX || !nb->peer.receive)
        return;
    if (nb->bps && !rate_limit_consume(&nb->rx_rl, len)) {
        /* hold it until the bucket allows (source_dispatch) */
        memcpy(nb->rx_hold, frame, len);
        nb->rx_hold_len = len;
        nb->rx_hold_has_vhdr = h != NULL;
        if (h)
            nb->rx_hold_vhdr = *h;
        nb->rx_blocked = true;
        return;
    }
    nb->peer.receive(nb->peer.opaque, h, frame, len);
}

void net_backend_deliver(struct net_backend *nb, const uint8_t *frame, size_t len)
{
    net_backend_deliver_vhdr(nb, NULL, frame, len);
}
