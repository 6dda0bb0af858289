/* virtio-balloon (virtio 1.2, 5.5): guest memory given back to the host.
 *
 *  - Inflate and deflate: the host sets a target (num_pages in the config
 *    space, 4 KiB pages); the guest's driver takes that many pages away
 *    from its own allocator and lists their frame numbers on the inflate
 *    queue; the device discards them (guest_ram_discard: the host frees
 *    them, they read as zero when touched again). Deflate gives pages back
 *    to the guest; nothing to do here but answer (they are zero already).
 *  - Free page reporting (VIRTIO_BALLOON_F_REPORTING): the guest lists
 *    ranges of its free memory (2 MiB blocks with Linux's defaults) on the
 *    reporting queue; the device discards them, so an idle guest's host
 *    memory falls to what it really uses.
 *  - Statistics (VIRTIO_BALLOON_F_STATS_VQ): the driver leaves one buffer
 *    of (le16 tag, le64 value) records in the stats queue; the device keeps
 *    it and, every `stats_interval_s`, hands it back, which makes the
 *    driver refill and resubmit it.
 *  - Deflate on OOM (VIRTIO_BALLOON_F_DEFLATE_ON_OOM): offered when asked;
 *    the guest's driver then gives pages back before its OOM killer runs.
 *
 * Queues, numbered as Linux numbers them from the NEGOTIATED features:
 * 0 inflate, 1 deflate, then statsq if STATS_VQ was accepted, then the
 * reporting queue if REPORTING was accepted.
 *
 * Everything from the guest is untrusted: frame numbers outside RAM are
 * skipped (logged, rate-limited), a request lists at most
 * VIRTIO_BALLOON_MAX_PFNS frame numbers (the rest is ignored; Linux sends
 * 256), a stats buffer is read up to VIRTIO_BALLOON_STATS_MAX records,
 * reported ranges are trimmed to whole pages inside RAM. Chains come
 * through virtq_pop's bounded, checked walk.
 *
 * Wiring (board): virtio_balloon_init(), then map &b->mmio on the bus with
 * virtio_mmio_ops. The stats timer runs from the transport's poll (the
 * I/O thread). Calls happen under the machine lock. */
#ifndef CONDO_VIRTIO_BALLOON_H
#define CONDO_VIRTIO_BALLOON_H

#include "condo/error.h"
#include "condo/virtio.h"

#define VIRTIO_ID_BALLOON 5

/* feature bits (virtio 1.2, 5.5.3) */
#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ 1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT 3
#define VIRTIO_BALLOON_F_PAGE_POISON 4
#define VIRTIO_BALLOON_F_REPORTING 5

/* config space: le32 num_pages (device), le32 actual (driver),
 * le32 free_page_hint_cmd_id, le32 poison_val */
#define VIRTIO_BALLOON_CFG_NUM_PAGES 0
#define VIRTIO_BALLOON_CFG_ACTUAL 4
#define VIRTIO_BALLOON_CFG_SIZE 16

#define VIRTIO_BALLOON_PFN_SHIFT 12
#define VIRTIO_BALLOON_PAGE_SIZE (1u << VIRTIO_BALLOON_PFN_SHIFT)
/* Frame numbers taken from one inflate or deflate request at most. */
#define VIRTIO_BALLOON_MAX_PFNS 1024
/* Statistics tags (include/uapi/linux/virtio_balloon.h); Linux 6.12 sends
 * 0..15. A stats buffer is read up to this many records. */
#define VIRTIO_BALLOON_S_SWAP_IN 0
#define VIRTIO_BALLOON_S_SWAP_OUT 1
#define VIRTIO_BALLOON_S_MAJFLT 2
#define VIRTIO_BALLOON_S_MINFLT 3
#define VIRTIO_BALLOON_S_MEMFREE 4
#define VIRTIO_BALLOON_S_MEMTOT 5
#define VIRTIO_BALLOON_S_AVAIL 6
#define VIRTIO_BALLOON_S_CACHES 7
#define VIRTIO_BALLOON_S_HTLB_PGALLOC 8
#define VIRTIO_BALLOON_S_HTLB_PGFAIL 9
#define VIRTIO_BALLOON_S_OOM_KILL 10
#define VIRTIO_BALLOON_S_ALLOC_STALL 11
#define VIRTIO_BALLOON_S_ASYNC_SCAN 12
#define VIRTIO_BALLOON_S_DIRECT_SCAN 13
#define VIRTIO_BALLOON_S_ASYNC_RECLAIM 14
#define VIRTIO_BALLOON_S_DIRECT_RECLAIM 15
#define VIRTIO_BALLOON_S_NR 16
#define VIRTIO_BALLOON_STATS_MAX 256
#define VIRTIO_BALLOON_STAT_SIZE 10 /* le16 tag, le64 value, packed */
/* The longest statistics interval (Firecracker's is a u16 too). */
#define VIRTIO_BALLOON_STATS_INTERVAL_MAX 65535

/* How the device is built (condo run --balloon, PUT /balloon). */
struct virtio_balloon_config {
    bool reporting;           /* offer VIRTIO_BALLOON_F_REPORTING */
    bool deflate_on_oom;      /* offer VIRTIO_BALLOON_F_DEFLATE_ON_OOM */
    unsigned stats_interval_s; /* > 0: offer STATS_VQ, poll this often */
    uint32_t target_pages;    /* the initial num_pages */
};

/* The latest statistics the guest sent. */
struct virtio_balloon_stats {
    uint64_t val[VIRTIO_BALLOON_S_NR];
    uint32_t present;     /* bit t: tag t was sent */
    uint64_t updated_ns;  /* condo_clock_ns of the last update; 0: none yet */
};

/* Counters of what the device did (for tests and `condo` figures). */
struct virtio_balloon_counters {
    uint64_t inflated_pages;  /* frame numbers discarded by inflate requests */
    uint64_t deflated_pages;  /* frame numbers named by deflate requests */
    uint64_t reported_bytes;  /* free memory discarded through reporting */
    uint64_t bad_pfns;        /* frame numbers outside RAM, skipped */
};

struct virtio_balloon {
    struct virtio_mmio mmio; /* map this on the bus */
    struct virtio_device_ops ops; /* features and queues from the config */
    struct virtio_balloon_config cfg;
    uint32_t num_pages; /* target (config space) */
    uint32_t actual;    /* the driver's count (config space) */
    /* the stats buffer the device holds (popped, not yet pushed) */
    bool stats_held;
    struct virtq_elem stats_elem;
    uint64_t stats_due_ns; /* when to hand the buffer back; 0: not armed */
    struct virtio_balloon_stats stats;
    struct virtio_balloon_counters count;
    struct virtq_elem elem; /* scratch for the other queues */
};

void virtio_balloon_init(struct virtio_balloon *b, const struct virtio_balloon_config *cfg,
                         struct guest_ram *ram, struct irq_line irq);

/* Set the target (4 KiB pages); a config-change interrupt tells the
 * driver. -EINVAL when it exceeds guest RAM. */
int virtio_balloon_set_target(struct virtio_balloon *b, uint32_t pages, struct error *err);
/* Change the statistics interval (seconds, 1..VIRTIO_BALLOON_STATS_INTERVAL_MAX);
 * the next update is asked for at once. -EINVAL when statistics were not
 * enabled at creation, or for 0 (they cannot be turned off live). */
int virtio_balloon_set_stats_interval(struct virtio_balloon *b, unsigned secs,
                                      struct error *err);

#endif
