/* The riscv-virt board: QEMU virt's memory map as ONE ordered table of
 * devices, from which the board derives its bus windows, interrupt lines,
 * device tree, reset, ticks and snapshot sections; and the device tree
 * built from that table with libfdt. */
#ifndef CONDO_RISCV_VIRT_H
#define CONDO_RISCV_VIRT_H

#include "condo/error.h"

#define RISCV_VIRT_RAM_BASE 0x80000000ull
#define RISCV_VIRT_VIRTIO_SLOTS 8 /* PLIC sources 1..8, below the UART's 10 */
/* Slots every VM with virtio devices gets after its disks and NICs: the
 * entropy device, then the input device (power button, Ctrl+Alt+Del). */
#define RISCV_VIRT_FIXED_VIRTIO 2
#define RISCV_VIRT_MAX_HARTS 8
#define RISCV_VIRT_MAX_DEVS (6 + RISCV_VIRT_VIRTIO_SLOTS + 1)

enum riscv_virt_kind {
    RISCV_VIRT_SYSCON,  /* sifive,test: poweroff and reboot */
    RISCV_VIRT_RTC,     /* goldfish RTC */
    RISCV_VIRT_ACLINT,  /* CLINT-compatible timer and software interrupts */
    RISCV_VIRT_PLIC,    /* external interrupts */
    RISCV_VIRT_UART,    /* ns16550a console */
    RISCV_VIRT_VIRTIO,  /* a virtio-mmio slot */
    RISCV_VIRT_VMGENID, /* microsoft,vmgenid: a new ID on every restore */
};

/* One device of the board: where it sits and how it interrupts. */
struct riscv_virt_dev {
    enum riscv_virt_kind kind;
    char name[16];      /* unique; also its snapshot section's name */
    uint64_t base, size;
    unsigned irq;       /* PLIC source; 0 = none */
};

/* The board's devices in their fixed order (which is also the order of
 * snapshot sections and of nodes in the device tree): the fixed devices of
 * QEMU virt's map, then `nvirtio` virtio-mmio slots at 0x10001000 + n*0x1000
 * with PLIC source 1 + n, then the VM generation ID (last: it has no
 * state, so a snapshot taken before it existed still loads). Fills out[] (RISCV_VIRT_MAX_DEVS entries) and
 * returns the count; -EINVAL when nvirtio is more than the slots. */
int riscv_virt_layout(unsigned nvirtio, struct riscv_virt_dev *out);

struct riscv_virt_fdt_config {
    unsigned nharts;
    uint64_t ram_base, ram_size;
    const char *isa;      /* e.g. "rv64imafdc_zicntr_zicsr_zifencei_sstc" */
    const char *mmu_type; /* e.g. "riscv,sv48"; NULL: none */
    const char *bootargs; /* may be NULL */
    uint64_t initrd_start, initrd_end; /* both 0: no initrd */
    const struct riscv_virt_dev *devs; /* the board's table */
    unsigned ndevs;
    /* Optional reserved-memory region (e.g. the firmware); size 0 = none. */
    uint64_t reserved_base, reserved_size;
};

/* Writes a complete FDT into buf (bufsize bytes). 0 or negative errno
 * (-ENOSPC: buf too small; -EINVAL: inconsistent configuration, with the
 * reason in err). */
int riscv_virt_build_fdt(const struct riscv_virt_fdt_config *cfg, void *buf, size_t bufsize,
                         struct error *err);

#endif
