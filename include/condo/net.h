/* Network backends: where a virtio-net device's Ethernet frames go.
 *   user[,hostfwd=tcp::HOSTPORT-:GUESTPORT]...  libslirp, no root needed
 *   tap,ifname=NAME                             a host tap device (root)
 *   switch,name=NAME                            a virtual Ethernet segment
 *                                               shared by VMs with that name
 * Optional ",bps=N" on any of them: a rate limit (token bucket). */
#ifndef CONDO_NET_H
#define CONDO_NET_H

#include <sys/uio.h>

#include "condo/event_loop.h"

struct net_backend;

/* Set by the device: the backend delivers received frames here. */
struct net_peer {
    /* May the device take a frame now (has it receive buffers)? */
    bool (*can_receive)(void *opaque);
    /* One whole Ethernet frame (no virtio header). */
    void (*receive)(void *opaque, const uint8_t *frame, size_t len);
    void *opaque;
};

struct net_backend_ops {
    const char *name;
    /* Send one frame gathered from iov; 0 or negative errno (a full host
     * queue drops the frame, as a real NIC would). */
    int (*send)(struct net_backend *nb, const struct iovec *iov, int n);
    /* The device got receive buffers: deliver what was held back. */
    void (*rx_ready)(struct net_backend *nb);
    void (*close)(struct net_backend *nb);
};

struct net_backend {
    const struct net_backend_ops *ops;
    struct net_peer peer;
    uint8_t mac[6]; /* the guest's MAC address */
    void *priv;
};

/* Parse `spec` (the --net value) and open the backend, registering its fds
 * with `loop`. Errors name the bad part of the spec. */
int net_backend_open(const char *spec, struct event_loop *loop, struct net_backend **out);
void net_backend_close(struct net_backend *nb);

#endif
