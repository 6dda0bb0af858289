/* The riscv-virt board's state (internal to the VMM). */
#ifndef CONDO_BOARD_RISCV_VIRT_H
#define CONDO_BOARD_RISCV_VIRT_H

#include "condo/bus.h"
#include "condo/chardev.h"
#include "condo/dev_aclint.h"
#include "condo/dev_goldfish_rtc.h"
#include "condo/dev_plic.h"
#include "condo/dev_syscon.h"
#include "condo/dev_uart16550.h"
#include "condo/error.h"
#include "condo/event_loop.h"
#include "condo/guest_ram.h"
#include "condo/riscv.h"
#include "condo/virtio_blk.h"
#include "condo/virtio_net.h"
#include "condo/virtio_rng.h"
#include "condo/machine.h"

#define RISCV_VIRT_VIRTIO_SLOTS 8

struct riscv_virt_config {
    uint64_t memory;
    const char *bios;   /* firmware (fw_dynamic.bin) unless bare_metal */
    const char *kernel; /* Linux Image, or ELF when bare_metal */
    const char *initrd; /* may be NULL */
    const char *append;
    bool bare_metal;
    struct chardev console_out;
    struct event_loop *loop; /* where backends register their fds */
    const struct vm_disk_config *disks;
    unsigned ndisks;
    const char *const *nets;
    unsigned nnets;
};

struct riscv_virt {
    struct guest_ram ram;
    struct bus bus;
    struct vm_clock clock;
    struct riscv_cpu cpu;
    struct syscon syscon;
    struct goldfish_rtc rtc;
    struct aclint aclint;
    struct plic plic;
    struct uart16550 uart;
    /* virtio-mmio slots in order: disks (vda, vdb, ...), NICs, entropy */
    struct virtio_mmio *virtio[RISCV_VIRT_VIRTIO_SLOTS];
    unsigned nvirtio;
    struct block_backend *disk[VM_MAX_DISKS];
    struct virtio_blk *blk[VM_MAX_DISKS];
    unsigned nblk;
    struct net_backend *netb[VM_MAX_NETS];
    struct virtio_net *net[VM_MAX_NETS];
    unsigned nnet;
    struct virtio_rng *rng;
    uint64_t entry, fdt_addr, dyninfo_addr;
    bool syscon_fired;
    enum syscon_action syscon_act;
    unsigned syscon_code;
};

/* Setup failures are values: err says what (the caller prints it). */
int riscv_virt_init(struct riscv_virt *m, const struct riscv_virt_config *cfg,
                    struct error *err);
int riscv_virt_reset(struct riscv_virt *m, const struct riscv_virt_config *cfg,
                     struct error *err);
void riscv_virt_free(struct riscv_virt *m);
uint64_t riscv_virt_tick(struct riscv_virt *m);
/* Host monotonic time (ns) by which device work must run again (rate-
 * limited disks), UINT64_MAX if none. */
uint64_t riscv_virt_io_deadline_ns(struct riscv_virt *m);

#endif
