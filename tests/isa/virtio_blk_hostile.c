/* A hostile guest against virtio-blk (needs a disk: make check-virtio).
 * First a well-behaved driver writes a sector and reads it back; then the
 * driver misbehaves: features never offered, a queue size that is not a
 * power of 2, a descriptor loop, buffers outside RAM or wrapping around
 * the address space, a next index out of range, an avail index that jumps,
 * a head out of range, a request header too short, a sector past the end,
 * a reset with requests pending. Each time the device must refuse or mark
 * itself DEVICE_NEEDS_RESET (and raise the config interrupt), the VMM must
 * keep running, and after a reset the disk must work again. */
#include "virtio_common.h"

#define T_IN 0
#define T_OUT 1
#define S_OK 0
#define S_IOERR 1

struct blk_hdr {
    uint32_t type, reserved;
    uint64_t sector;
};

static struct vring ring __attribute__((aligned(4096)));
static struct blk_hdr hdr __attribute__((aligned(16)));
static uint8_t wbuf[512] __attribute__((aligned(16)));
static uint8_t rbuf[512] __attribute__((aligned(16)));
static volatile uint8_t status;

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    ring.desc[i] = (struct vdesc){ addr, len, flags, next };
}

/* header | data | status in descriptors 0, 1, 2; returns the status, or
 * -1 when the device did not answer. */
static int blk_rw(uint32_t type, uint64_t sector, uint8_t *buf)
{
    uint16_t want = (uint16_t)(ring.used.idx + 1);
    hdr = (struct blk_hdr){ type, 0, sector };
    status = 0xee;
    set_desc(0, (uintptr_t)&hdr, sizeof(hdr), D_NEXT, 1);
    set_desc(1, (uintptr_t)buf, 512, (uint16_t)(D_NEXT | (type == T_IN ? D_WRITE : 0)), 2);
    set_desc(2, (uintptr_t)&status, 1, D_WRITE, 0);
    virtio_submit(&ring, 0);
    if (!virtio_wait_used(&ring, want))
        return -1;
    mb();
    return status;
}

/* Reset and probe; then a write and a read back of `sector`. */
static int blk_works(uint64_t sector, uint8_t seed)
{
    if (virtio_probe(&ring) != 0)
        return 0;
    for (unsigned i = 0; i < 512; i++)
        wbuf[i] = (uint8_t)(seed + i * 13);
    memset(rbuf, 0, sizeof(rbuf));
    if (blk_rw(T_OUT, sector, wbuf) != S_OK || blk_rw(T_IN, sector, rbuf) != S_OK)
        return 0;
    for (unsigned i = 0; i < 512; i++)
        if (rbuf[i] != wbuf[i])
            return 0;
    return 1;
}

/* Submit descriptor 0 (already laid out) and expect the device to break:
 * DEVICE_NEEDS_RESET, config interrupt, nothing in the used ring. */
static int breaks_device(void)
{
    uint16_t used = ring.used.idx;
    virtio_submit(&ring, 0);
    if (!virtio_wait_needs_reset())
        return 0;
    if (!(vr(V_INTERRUPT_STATUS) & 2))
        return 0;
    mb();
    return ring.used.idx == used;
}

long test_main(void)
{
    vdev = virtio_find(2);
    CHECK(1, vdev != 0); /* no virtio-blk: run with a disk */

    /* A well-behaved driver. */
    CHECK(2, blk_works(1, 0x11));
    CHECK(3, vr(V_INTERRUPT_STATUS) & 1);
    vw(V_INTERRUPT_ACK, vr(V_INTERRUPT_STATUS));
    CHECK(4, vr(V_INTERRUPT_STATUS) == 0);
    CHECK(5, ring.used.ring[0].id == 0 && ring.used.ring[1].len == 513);

    /* A feature never offered: FEATURES_OK refused. */
    uint64_t offered = virtio_device_features();
    unsigned bit = 0;
    while (bit < 24 && (offered >> bit) & 1)
        bit++;
    CHECK(10, !(virtio_negotiate((1ull << 32) | (1ull << bit)) & S_FEATURES_OK));
    /* Legacy (no VERSION_1) is not offered either. */
    CHECK(11, !(virtio_negotiate(0) & S_FEATURES_OK));

    /* A queue size that is not a power of 2. */
    CHECK(12, virtio_negotiate(1ull << 32) & S_FEATURES_OK);
    virtio_queue(&ring, 3);
    CHECK(13, vr(V_QUEUE_READY) == 0);
    CHECK(14, blk_works(2, 0x22));

    /* A descriptor that is its own successor. */
    set_desc(0, (uintptr_t)&hdr, sizeof(hdr), D_NEXT, 0);
    CHECK(20, breaks_device());
    CHECK(21, blk_works(3, 0x33));

    /* A loop through every descriptor. */
    for (unsigned i = 0; i < VQ_NUM; i++)
        set_desc(i, (uintptr_t)&status, 1, D_WRITE | D_NEXT, (uint16_t)((i + 1) % VQ_NUM));
    CHECK(22, breaks_device());
    CHECK(23, blk_works(3, 0x34));

    /* A buffer outside RAM (address 0, then the UART's registers). */
    set_desc(0, (uintptr_t)&hdr, sizeof(hdr), D_NEXT, 1);
    set_desc(1, 0x0, 512, D_WRITE | D_NEXT, 2);
    set_desc(2, (uintptr_t)&status, 1, D_WRITE, 0);
    CHECK(30, breaks_device());
    CHECK(31, blk_works(4, 0x44));
    set_desc(0, (uintptr_t)&hdr, sizeof(hdr), D_NEXT, 1);
    set_desc(1, UART0_BASE, 512, D_WRITE | D_NEXT, 2);
    set_desc(2, (uintptr_t)&status, 1, D_WRITE, 0);
    CHECK(32, breaks_device());
    CHECK(33, blk_works(4, 0x45));

    /* A length that wraps around the address space. */
    set_desc(0, 0xfffffffffffff000ull, 0x2000, D_NEXT, 1);
    set_desc(1, (uintptr_t)&status, 1, D_WRITE, 0);
    CHECK(40, breaks_device());
    CHECK(41, blk_works(5, 0x55));

    /* A next index out of range. */
    set_desc(0, (uintptr_t)&hdr, sizeof(hdr), D_NEXT, 200);
    CHECK(50, breaks_device());
    CHECK(51, blk_works(6, 0x66));

    /* An avail idx that jumps past the queue size. */
    set_desc(0, (uintptr_t)&hdr, sizeof(hdr), D_NEXT, 1);
    set_desc(1, (uintptr_t)&status, 1, D_WRITE, 0);
    hdr = (struct blk_hdr){ T_IN, 0, 0 };
    ring.avail.ring[0] = 0;
    mb();
    ring.avail.idx = 100;
    mb();
    vw(V_QUEUE_NOTIFY, 0);
    CHECK(60, virtio_wait_needs_reset());
    CHECK(61, blk_works(7, 0x77));

    /* A head out of range. */
    ring.avail.ring[ring.avail.idx % VQ_NUM] = VQ_NUM + 1;
    mb();
    ring.avail.idx++;
    mb();
    vw(V_QUEUE_NOTIFY, 0);
    CHECK(70, virtio_wait_needs_reset());
    CHECK(71, blk_works(8, 0x88));

    /* A request header too short to hold type and sector. */
    set_desc(0, (uintptr_t)&hdr, 8, D_NEXT, 1);
    set_desc(1, (uintptr_t)&status, 1, D_WRITE, 0);
    CHECK(80, breaks_device());
    CHECK(81, blk_works(9, 0x99));

    /* A sector past the end: an I/O error, the device keeps working. */
    CHECK(90, blk_rw(T_IN, 0xffffffffffull, rbuf) == S_IOERR);
    CHECK(91, blk_rw(T_IN, (1ull << 63) / 256, rbuf) == S_IOERR);
    CHECK(92, !(vr(V_STATUS) & S_NEEDS_RESET));
    CHECK(93, blk_rw(T_IN, 9, rbuf) == S_OK && rbuf[0] == (uint8_t)0x99);

    /* A reset with requests available but not yet notified: after the new
     * probe nothing of the old queue is done. */
    hdr = (struct blk_hdr){ T_OUT, 0, 10 };
    for (unsigned i = 0; i < 512; i++)
        wbuf[i] = 0xa5;
    set_desc(0, (uintptr_t)&hdr, sizeof(hdr), D_NEXT, 1);
    set_desc(1, (uintptr_t)wbuf, 512, D_NEXT, 2);
    set_desc(2, (uintptr_t)&status, 1, D_WRITE, 0);
    ring.avail.ring[ring.avail.idx % VQ_NUM] = 0;
    mb();
    ring.avail.idx++;
    mb();
    vw(V_STATUS, 0);
    CHECK(100, vr(V_STATUS) == 0);
    CHECK(101, virtio_probe(&ring) == 0);
    memset(rbuf, 0x5a, sizeof(rbuf));
    vw(V_QUEUE_NOTIFY, 0);
    CHECK(102, blk_rw(T_IN, 10, rbuf) == S_OK);
    CHECK(103, ring.used.idx == 1 && rbuf[0] != 0xa5);

    /* Still alive and well. */
    CHECK(110, blk_works(11, 0xbb));
    vw(V_STATUS, 0);
    return 0;
}
