/* Network backends: where a virtio-net device's Ethernet frames go.
 *   user[,hostfwd=tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...
 *                              libslirp, no root needed (docs/NETWORK.md)
 *   tap,ifname=NAME            a host tap device (root or CAP_NET_ADMIN)
 *   switch,name=NAME           a virtual Ethernet segment shared by the VMs
 *                              started with that name (no root, no daemon)
 * Options for every backend: ",mac=52:54:00:12:34:56" (the guest's MAC;
 * default 52:54:00 plus three random bytes) and ",bps=N" (a rate limit in
 * bytes per second, each direction; suffixes k, M, G = 10^3, 10^6, 10^9).
 *
 * The device and the backend meet here:
 *   device -> backend: net_backend_can_send() / net_backend_send() for each
 *     frame the guest transmits (net_backend_send_offload() for one whose
 *     virtio-net header asks for a checksum or segmentation);
 *     net_backend_rx_ready() when the guest gave receive buffers;
 *     net_backend_set_rx_offload() with what the guest accepts on receive.
 *   backend -> device: net_backend_can_deliver() / net_backend_deliver() for
 *     each received frame (these consult the peer the device set and the
 *     rate limit); net_backend_tx_ready() -> peer.tx_ready() when sending
 *     may resume after net_backend_can_send() said no.
 * Everything runs on the VM thread (the event loop's callbacks). */
#ifndef CONDO_NET_H
#define CONDO_NET_H

#include <sys/uio.h>

#include "condo/event_loop.h"
#include "condo/net_offload.h"
#include "condo/rate_limit.h"

/* Largest frame a backend carries (without virtio header): the device drops
 * anything longer as a guest error. */
#define NET_FRAME_MAX 65535
#define NET_ETH_HLEN 14
/* The link MTU of user networking (libslirp's largest, 65521, rounded
 * down to a multiple of 8: slirp4netns's choice) */
#define NET_SLIRP_MTU 65520

struct net_backend;

/* Set by the device: the backend delivers received frames here. */
struct net_peer {
    /* May the device take a frame now (has it receive buffers)? */
    bool (*can_receive)(void *opaque);
    /* One whole Ethernet frame; h says what the backend knows about it
     * (a tap's header: a partial checksum, a GSO frame within what
     * net_backend_set_rx_offload allowed; or DATA_VALID), NULL: nothing. */
    void (*receive)(void *opaque, const struct net_vhdr *h, const uint8_t *frame, size_t len);
    /* Sending is possible again after net_backend_can_send() said no (the
     * rate limit refilled). May be NULL. */
    void (*tx_ready)(void *opaque);
    void *opaque;
};

struct net_backend_ops {
    const char *name;
    /* Send one frame gathered from iov; 0 or negative errno (a full host
     * queue drops the frame, as a real NIC would). */
    int (*send)(struct net_backend *nb, const struct iovec *iov, int n);
    /* Optional: send a frame with its offload header as is (a tap with
     * IFF_VNET_HDR); without it net_backend_send_offload completes the
     * checksum or segments the frame in condo and calls send. */
    int (*send_vhdr)(struct net_backend *nb, const struct net_vhdr *h, const struct iovec *iov,
                     int n);
    /* Optional: what the device may receive (the guest's GUEST_* features):
     * a backend that could hand over partial checksums or GSO frames
     * limits itself to these. */
    void (*set_rx_offload)(struct net_backend *nb, const struct net_offload_caps *caps);
    /* Optional: false while the backend holds a frame it could not pass on
     * yet (a switch peer's queue is full); it then calls
     * net_backend_tx_ready() when it can take more. */
    bool (*can_send)(struct net_backend *nb);
    /* The device got receive buffers (or the rate limit refilled): deliver
     * what was held back. */
    void (*rx_ready)(struct net_backend *nb);
    /* Optional: a changing set of fds and timers (libslirp), polled through
     * the backend's event source (see struct event_source). */
    int (*fill)(struct net_backend *nb, struct pollfd *pfd, int max, int *timeout_ms);
    void (*dispatch)(struct net_backend *nb, struct pollfd *pfd, int n);
    /* Release everything the backend holds (fds, sockets, files). */
    void (*close)(struct net_backend *nb);
};

struct net_backend {
    const struct net_backend_ops *ops;
    struct net_peer peer;
    uint8_t mac[6]; /* the guest's MAC address */
    uint16_t mtu;   /* the link's MTU the card offers the guest; 0: 1500 */
    void *priv;
    struct event_loop *loop;
    /* bps= limit: one byte bucket per direction (guest->host tx,
     * host->guest rx), each at the full rate */
    uint64_t bps; /* 0 = unlimited */
    struct rate_limit tx_rl, rx_rl;
    size_t tx_want;     /* size of the frame waiting for tx tokens, or 0 */
    uint8_t *rx_hold;   /* one received frame waiting for rx tokens */
    size_t rx_hold_len; /* its length, 0 = none */
    struct net_vhdr rx_hold_vhdr;
    bool rx_hold_has_vhdr;
    uint64_t tx_segmented; /* GSO frames cut here (net_offload_segment) */
    uint64_t tx_csummed;   /* partial checksums completed here */
    bool tx_blocked;   /* the device was told "no" and waits for tx_ready */
    bool rx_blocked;   /* a frame was held back: call rx_ready later */
    bool has_source;   /* registered as an event source with loop */
};

/* Parse `spec` (the --net value) and open the backend, registering its fds
 * with `loop`. Errors are printed and name the bad part of the spec:
 * -EINVAL (bad spec), or the errno of what failed (-EPERM for a tap
 * without the right, -EADDRINUSE for a host port in use, ...). */
int net_backend_open(const char *spec, struct event_loop *loop, struct net_backend **out);
/* Unregister from the loop, close the backend (a switch port removes its
 * socket file) and free it. NULL is accepted. */
void net_backend_close(struct net_backend *nb);

/* Device side. */
void net_backend_set_peer(struct net_backend *nb, const struct net_peer *peer);
/* False while the tx rate limit is exhausted; peer.tx_ready() follows. */
bool net_backend_can_send(struct net_backend *nb);
/* Send one frame (accounted against the tx rate limit): 0 (sent, or lost
 * like on a wire: a full host queue), -EAGAIN (the rate limit says not
 * yet: the device gives the frame back to its queue, virtq_unpop, and
 * waits for peer.tx_ready), or another negative errno (dropped). */
int net_backend_send(struct net_backend *nb, const struct iovec *iov, int n);
/* The same for a frame whose (checked: net_offload_check) header asks for
 * a checksum or segmentation: passed on with the header when the backend
 * takes it (send_vhdr), else completed or cut here and sent as plain
 * frames. The rate limit counts the frame's bytes once. frame may be
 * changed (a checksum filled in). */
int net_backend_send_offload(struct net_backend *nb, const struct net_vhdr *h, uint8_t *frame,
                             size_t len);
/* What the guest accepts on receive (all false after a reset). */
void net_backend_set_rx_offload(struct net_backend *nb, const struct net_offload_caps *caps);
/* The device has receive buffers again. */
void net_backend_rx_ready(struct net_backend *nb);

/* Backend side. */
/* May a frame be delivered now (the device has buffers and the rx rate limit
 * allows)? When this says no the backend holds frames back (or leaves them
 * in the host's queue) until its rx_ready op is called. */
bool net_backend_can_deliver(struct net_backend *nb);
/* Deliver one frame to the device (accounted against the rx rate limit). */
void net_backend_deliver(struct net_backend *nb, const uint8_t *frame, size_t len);
/* The same with what the backend knows about the frame (see
 * net_peer.receive); h may be NULL. */
void net_backend_deliver_vhdr(struct net_backend *nb, const struct net_vhdr *h,
                              const uint8_t *frame, size_t len);
/* The backend can take frames again (its can_send op said no before). */
void net_backend_tx_ready(struct net_backend *nb);

/* Parse "xx:xx:xx:xx:xx:xx" (unicast only); 0 or -EINVAL. */
int net_parse_mac(const char *s, uint8_t mac[6]);
/* 52:54:00 followed by three random bytes. */
void net_random_mac(uint8_t mac[6]);

/* Backend constructors (src/backend/net_*.c), called by net_backend_open
 * with the spec's options split as "key=value" strings (type and common
 * options removed). They print their own errors. */
int net_slirp_open(struct net_backend *nb, char **opts, int nopts);
int net_tap_open(struct net_backend *nb, char **opts, int nopts);
int net_switch_open(struct net_backend *nb, char **opts, int nopts);

/* The switch's socket directory for NAME (for tests and docs): writes the
 * path into buf. 0 or -ENAMETOOLONG / -EINVAL (bad name). */
int net_switch_dir(const char *name, char *buf, size_t size);
/* Share the switch directories this process creates (or joins) with group
 * `gid`: directories mode 0770 and port sockets 0660 of that group, instead
 * of private to the user (0700). For a VMM started as root that drops to
 * an unprivileged uid in that group after setup (its sandbox), so it can
 * still reach its peers, clean up stale ports and leave. Call before the
 * backends open; -1 (the default) keeps everything private. */
void net_switch_share_group(int gid);

#endif
