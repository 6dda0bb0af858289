/* The riscv-virt memory map (QEMU virt's, so that OpenSBI's generic
 * platform and the stock kernel find what they expect, and QEMU can run the
 * same images as a reference). This table is the only place the map is
 * written: the board maps bus windows and wires interrupts from it, and the
 * device tree describes it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "condo/dev_aclint.h"
#include "condo/dev_goldfish_rtc.h"
#include "condo/dev_plic.h"
#include "condo/dev_syscon.h"
#include "condo/dev_uart16550.h"
#include "condo/dev_vmgenid.h"
#include "condo/riscv_virt.h"
#include "condo/virtio.h"

#define VIRTIO_BASE 0x10001000ull
#define VIRTIO_IRQ 1 /* slot n interrupts on PLIC source 1 + n */
/* in a hole of QEMU virt's map, after the RTC; the source after the RTC's */
static const struct riscv_virt_dev vmgenid_dev = { RISCV_VIRT_VMGENID, "vmgenid", 0x00102000ull,
                                                   VMGENID_SIZE, 12 };

static const struct riscv_virt_dev fixed_devs[] = {
    { RISCV_VIRT_SYSCON, "syscon", 0x00100000ull, SYSCON_SIZE, 0 },
    { RISCV_VIRT_RTC, "rtc", 0x00101000ull, GOLDFISH_RTC_SIZE, 11 },
    { RISCV_VIRT_ACLINT, "aclint", 0x02000000ull, ACLINT_SIZE, 0 },
    { RISCV_VIRT_PLIC, "plic", 0x0c000000ull, PLIC_SIZE, 0 },
    { RISCV_VIRT_UART, "uart0", 0x10000000ull, UART16550_SIZE, 10 },
};

int riscv_virt_layout(unsigned nvirtio, struct riscv_virt_dev *out)
{
    if (nvirtio > RISCV_VIRT_VIRTIO_SLOTS)
        return -EINVAL;
    unsigned n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(fixed_devs); i++)
        out[n++] = fixed_devs[i];
    for (unsigned s = 0; s < nvirtio; s++) {
        struct riscv_virt_dev *d = &out[n++];
        d->kind = RISCV_VIRT_VIRTIO;
        snprintf(d->name, sizeof(d->name), "virtio%u", s);
        d->base = VIRTIO_BASE + s * VIRTIO_MMIO_SIZE;
        d->size = VIRTIO_MMIO_SIZE;
        d->irq = VIRTIO_IRQ + s;
    }
    out[n++] = vmgenid_dev;
    return (int)n;
}
