/* Builds the flattened device tree of the riscv-virt board with libfdt,
 * from the configured devices (QEMU virt memory map; see DESIGN.md). */
#ifndef CONDO_FDT_RISCV_VIRT_H
#define CONDO_FDT_RISCV_VIRT_H

#include "condo/common.h"

struct riscv_virt_fdt_config {
    unsigned nharts;
    uint64_t ram_base, ram_size;
    const char *isa;      /* e.g. "rv64imafdc_zicntr_zicsr_zifencei_sstc" */
    const char *mmu_type; /* e.g. "riscv,sv48" */
    const char *bootargs; /* may be NULL */
    uint64_t initrd_start, initrd_end; /* both 0: no initrd */
    unsigned nvirtio;     /* virtio-mmio slots at 0x10001000 + n*0x1000, IRQ 1+n */
    /* Optional reserved-memory region (e.g. the firmware); size 0 = none. */
    uint64_t reserved_base, reserved_size;
};

/* Writes a complete FDT into buf (bufsize bytes). 0 or negative errno. */
int riscv_virt_build_fdt(const struct riscv_virt_fdt_config *cfg, void *buf, size_t bufsize);

#endif
