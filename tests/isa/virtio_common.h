/* A minimal virtio-mmio (version 2) driver for the bare-metal virtio tests:
 * find a device by ID among the virt board's eight slots, probe it the way
 * Linux does, one split queue of VQ_NUM entries in static memory. No
 * paging, no interrupts taken (InterruptStatus is polled). These tests
 * need a virtio-blk disk: `make check-virtio` runs them with one. */
#ifndef CONDO_ISA_VIRTIO_COMMON_H
#define CONDO_ISA_VIRTIO_COMMON_H

#include "lib.h"

#define VIRTIO_SLOT0 0x10001000ull
#define VIRTIO_SLOTS 8
#define VIRTIO_SLOT_SIZE 0x1000

#define V_MAGIC 0x000
#define V_VERSION 0x004
#define V_DEVICE_ID 0x008
#define V_DEVICE_FEATURES 0x010
#define V_DEVICE_FEATURES_SEL 0x014
#define V_DRIVER_FEATURES 0x020
#define V_DRIVER_FEATURES_SEL 0x024
#define V_QUEUE_SEL 0x030
#define V_QUEUE_NUM_MAX 0x034
#define V_QUEUE_NUM 0x038
#define V_QUEUE_READY 0x044
#define V_QUEUE_NOTIFY 0x050
#define V_INTERRUPT_STATUS 0x060
#define V_INTERRUPT_ACK 0x064
#define V_STATUS 0x070
#define V_QUEUE_DESC_LOW 0x080
#define V_QUEUE_DESC_HIGH 0x084
#define V_QUEUE_DRIVER_LOW 0x090
#define V_QUEUE_DRIVER_HIGH 0x094
#define V_QUEUE_DEVICE_LOW 0x0a0
#define V_QUEUE_DEVICE_HIGH 0x0a4
#define V_CONFIG 0x100

#define S_ACKNOWLEDGE 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64

#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4

#define VQ_NUM 8
/* Spins before a device that does not answer counts as a failure. */
#define SPIN_LIMIT 20000000

struct vdesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

struct vring {
    struct vdesc desc[VQ_NUM] __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx, ring[VQ_NUM], used_event;
    } avail __attribute__((aligned(16)));
    struct {
        uint16_t flags, idx;
        struct {
            uint32_t id, len;
        } ring[VQ_NUM];
        uint16_t avail_event;
    } used __attribute__((aligned(16)));
};

static uintptr_t vdev; /* the device's register window */

static inline uint32_t vr(uint32_t off) { return mmio_read32(vdev + off); }
static inline void vw(uint32_t off, uint32_t v) { mmio_write32(vdev + off, v); }
static inline void mb(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

/* The first slot holding device `id`; 0 if none. */
static uintptr_t virtio_find(uint32_t id)
{
    for (unsigned s = 0; s < VIRTIO_SLOTS; s++) {
        uintptr_t b = VIRTIO_SLOT0 + s * VIRTIO_SLOT_SIZE;
        if (mmio_read32(b + V_MAGIC) == 0x74726976u && mmio_read32(b + V_VERSION) == 2 &&
            mmio_read32(b + V_DEVICE_ID) == id)
            return b;
    }
    return 0;
}

static uint64_t virtio_device_features(void)
{
    vw(V_DEVICE_FEATURES_SEL, 1);
    uint64_t f = (uint64_t)vr(V_DEVICE_FEATURES) << 32;
    vw(V_DEVICE_FEATURES_SEL, 0);
    return f | vr(V_DEVICE_FEATURES);
}

/* Reset, negotiate `features`; returns the status read back. */
static uint32_t virtio_negotiate(uint64_t features)
{
    vw(V_STATUS, 0);
    vw(V_STATUS, S_ACKNOWLEDGE);
    vw(V_STATUS, S_ACKNOWLEDGE | S_DRIVER);
    vw(V_DRIVER_FEATURES_SEL, 0);
    vw(V_DRIVER_FEATURES, (uint32_t)features);
    vw(V_DRIVER_FEATURES_SEL, 1);
    vw(V_DRIVER_FEATURES, (uint32_t)(features >> 32));
    vw(V_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    return vr(V_STATUS);
}

static void virtio_queue(struct vring *r, uint32_t num)
{
    memset(r, 0, sizeof(*r));
    mb();
    vw(V_QUEUE_SEL, 0);
    vw(V_QUEUE_NUM, num);
    vw(V_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)r->desc);
    vw(V_QUEUE_DESC_HIGH, (uint32_t)((uint64_t)(uintptr_t)r->desc >> 32));
    vw(V_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)&r->avail);
    vw(V_QUEUE_DRIVER_HIGH, (uint32_t)((uint64_t)(uintptr_t)&r->avail >> 32));
    vw(V_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)&r->used);
    vw(V_QUEUE_DEVICE_HIGH, (uint32_t)((uint64_t)(uintptr_t)&r->used >> 32));
    vw(V_QUEUE_READY, 1);
}

/* The full probe with VIRTIO_F_VERSION_1 only; 0 on success. */
static int virtio_probe(struct vring *r)
{
    if (!(virtio_device_features() & (1ull << 32)))
        return -1;
    if (!(virtio_negotiate(1ull << 32) & S_FEATURES_OK))
        return -1;
    if (vr(V_QUEUE_NUM_MAX) < VQ_NUM)
        return -1;
    virtio_queue(r, VQ_NUM);
    if (vr(V_QUEUE_READY) != 1)
        return -1;
    vw(V_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    return vr(V_STATUS) == (S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK) ? 0 : -1;
}

/* Publish descriptor `head` and notify. */
static void virtio_submit(struct vring *r, uint16_t head)
{
    r->avail.ring[r->avail.idx % VQ_NUM] = head;
    mb();
    r->avail.idx++;
    mb();
    vw(V_QUEUE_NOTIFY, 0);
}

/* Wait until the used idx reaches `idx`: 1, or 0 on timeout. */
static int virtio_wait_used(struct vring *r, uint16_t idx)
{
    for (long i = 0; i < SPIN_LIMIT; i++) {
        mb();
        if (*(volatile uint16_t *)&r->used.idx == idx)
            return 1;
    }
    return 0;
}

/* Wait for DEVICE_NEEDS_RESET: 1, or 0 on timeout. */
static int virtio_wait_needs_reset(void)
{
    for (long i = 0; i < SPIN_LIMIT; i++)
        if (vr(V_STATUS) & S_NEEDS_RESET)
            return 1;
    return 0;
}

#endif
