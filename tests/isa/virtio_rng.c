/* virtio-rng from a bare-metal driver (condo adds it after the disks; run
 * with a disk: make check-virtio): random bytes in every writable buffer,
 * at most what was asked for; a request with nothing writable gets 0
 * bytes and does not break the device; a descriptor loop does. */
#include "virtio_common.h"

static struct vring ring __attribute__((aligned(4096)));
static uint8_t buf[2][64] __attribute__((aligned(16)));
static uint8_t guard[16] __attribute__((aligned(16)));

static int nonzero(const uint8_t *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (p[i])
            return 1;
    return 0;
}

long test_main(void)
{
    vdev = virtio_find(4);
    CHECK(1, vdev != 0);
    CHECK(2, virtio_probe(&ring) == 0);

    /* 64 + 48 bytes in two buffers; the 16 after them stay untouched */
    ring.desc[0] = (struct vdesc){ (uintptr_t)buf[0], 64, D_WRITE | D_NEXT, 1 };
    ring.desc[1] = (struct vdesc){ (uintptr_t)buf[1], 48, D_WRITE, 0 };
    virtio_submit(&ring, 0);
    CHECK(3, virtio_wait_used(&ring, 1));
    mb();
    CHECK(4, ring.used.ring[0].id == 0);
    CHECK(5, ring.used.ring[0].len > 0 && ring.used.ring[0].len <= 112);
    CHECK(6, nonzero(buf[0], ring.used.ring[0].len < 64 ? ring.used.ring[0].len : 64));
    CHECK(7, !nonzero(buf[1] + 48, 16) && !nonzero(guard, 16));
    CHECK(8, vr(V_INTERRUPT_STATUS) & 1);
    vw(V_INTERRUPT_ACK, 1);

    /* Two requests in a row: different bytes. */
    uint8_t first[16];
    memcpy(first, buf[0], 16);
    ring.desc[2] = (struct vdesc){ (uintptr_t)buf[0], 16, D_WRITE, 0 };
    virtio_submit(&ring, 2);
    CHECK(10, virtio_wait_used(&ring, 2));
    int same = 1;
    for (unsigned i = 0; i < 16; i++)
        same &= first[i] == buf[0][i];
    CHECK(11, !same);

    /* A descriptor loop breaks the device; a reset repairs it. */
    ring.desc[3] = (struct vdesc){ (uintptr_t)buf[0], 16, D_WRITE | D_NEXT, 3 };
    virtio_submit(&ring, 3);
    CHECK(20, virtio_wait_needs_reset());
    CHECK(21, ring.used.idx == 2);
    CHECK(22, virtio_probe(&ring) == 0);
    ring.desc[0] = (struct vdesc){ (uintptr_t)buf[1], 32, D_WRITE, 0 };
    virtio_submit(&ring, 0);
    CHECK(23, virtio_wait_used(&ring, 1));
    vw(V_STATUS, 0);
    return 0;
}
