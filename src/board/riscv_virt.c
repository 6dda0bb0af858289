/* The riscv-virt board: QEMU virt's machine as a `struct machine_ops`.
 *
 * One ordered table of devices (riscv_virt_layout(): the fixed devices,
 * then the virtio-mmio slots) is the board's description: bus windows,
 * interrupt lines, the device tree, reset, device timers and the snapshot
 * sections are all derived from it by walking it in order.
 *
 * RAM at 0x80000000 holds the firmware, the kernel at +2 MiB, the initrd
 * high, the fw_dynamic info and the device tree at the top. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "condo/block.h"
#include "condo/boards.h"
#include "condo/bus.h"
#include "condo/clock.h"
#include "condo/dev_aclint.h"
#include "condo/dev_goldfish_rtc.h"
#include "condo/dev_plic.h"
#include "condo/dev_syscon.h"
#include "condo/dev_uart16550.h"
#include "condo/dev_vmgenid.h"
#include "condo/event_loop.h"
#include "condo/guest_ram.h"
#include "condo/loader.h"
#include "condo/machine.h"
#include "condo/net.h"
#include "condo/riscv.h"
#include "condo/riscv_virt.h"
#include "condo/virtio_balloon.h"
#include "condo/virtio_blk.h"
#include "condo/virtio_input.h"
#include "condo/virtio_net.h"
#include "condo/virtio_rng.h"

#define KERNEL_OFFSET 0x200000ull /* RV64 kernels want 2 MiB alignment */
#define FDT_MAX 0x10000
#define FW_DYNAMIC_MAGIC 0x4942534full /* "OSBI" */
#define FW_DYNAMIC_VERSION 2
#define MACHINE_STATE_VERSION 1
/* The network backends still print their own setup failures: an error
 * with this (empty) message says the cause is already on stderr. */
#define REPORTED "%s", ""

/* One row of the table, instantiated: the device behind a window. */
struct board_dev {
    const struct dev_ops *ops;
    void *state;
};

struct riscv_virt {
    struct machine base;
    const struct machine_config *cfg; /* owned by the caller; outlives us */
    struct machine_env env;
    struct guest_ram ram;
    struct bus bus;
    struct vm_clock clock;
    unsigned ncpus;
    struct riscv_cpu *cpu[RISCV_VIRT_MAX_HARTS];
    /* the earliest device deadline at the last io_tick: what the I/O
     * thread sleeps to (machine lock) */
    uint64_t io_deadline;

    /* the table, and what sits in each row */
    struct riscv_virt_dev devs[RISCV_VIRT_MAX_DEVS];
    struct board_dev impl[RISCV_VIRT_MAX_DEVS];
    unsigned ndevs;

    struct syscon syscon;
    struct goldfish_rtc rtc;
    struct vmgenid vmgenid;
    struct aclint aclint;
    struct plic plic;
    struct uart16550 uart;
    /* virtio slots in order: disks (vda, vdb, ...), NICs, entropy, buttons */
    struct block_backend *disk[VM_MAX_DISKS];
    struct virtio_blk *blk[VM_MAX_DISKS];
    unsigned nblk;
    struct net_backend *netb[VM_MAX_NETS];
    struct virtio_net *net[VM_MAX_NETS];
    unsigned nnet;
    struct virtio_rng *rng;
    struct virtio_input *input;
    struct virtio_balloon *balloon; /* NULL unless cfg->balloon.enabled */

    uint64_t entry, fdt_addr, dyninfo_addr;
    struct machine_exit exit; /* what a CPU's MACHINE_RUN_EXIT means */
};

static struct riscv_virt *to_virt(struct machine *m)
{
    return (struct riscv_virt *)m;
}

static const struct riscv_virt *to_virt_const(const struct machine *m)
{
    return (const struct riscv_virt *)m;
}

/* Something changed for a hart: end its slice soon, and wake its thread if
 * it waits. */
static void kick(struct riscv_virt *v, unsigned hart)
{
    riscv_cpu_interrupt(v->cpu[hart]);
    if (v->env.kick_cpu)
        v->env.kick_cpu(v->env.opaque, hart);
}

/* --- interrupt wiring --- */

static void plic_notify(void *opaque, unsigned ctx, int level)
{
    struct riscv_virt *v = opaque;
    /* context 2h: hart h's M-mode external interrupt; 2h + 1: its S-mode */
    unsigned hart = ctx / 2;
    if (hart >= v->ncpus)
        return;
    riscv_cpu_set_mip(v->cpu[hart], (ctx & 1) ? MIP_SEIP : MIP_MEIP, level);
    if (level)
        kick(v, hart);
}

static void aclint_set_mip(void *opaque, unsigned hart, uint32_t mask, int level)
{
    struct riscv_virt *v = opaque;
    if (hart >= v->ncpus)
        return;
    riscv_cpu_set_mip(v->cpu[hart], mask, level);
    /* A raised line wakes the hart; a newly armed timer must too, so its
     * wait recomputes the deadline: kick on every change. */
    kick(v, hart);
}

static void syscon_action(void *opaque, enum syscon_action act, unsigned code)
{
    struct riscv_virt *v = opaque;
    v->exit.kind = act == SYSCON_POWEROFF ? MACHINE_EXIT_POWEROFF
                   : act == SYSCON_FAIL   ? MACHINE_EXIT_FAIL
                                          : MACHINE_EXIT_RESET;
    v->exit.code = (int)code;
    for (unsigned h = 0; h < v->ncpus; h++)
        __atomic_store_n(&v->cpu[h]->exit_request, RISCV_EXIT_REQUEST, __ATOMIC_RELEASE);
}

static void uart_room(void *opaque)
{
    struct riscv_virt *v = opaque;
    if (v->env.console_room)
        v->env.console_room(v->env.opaque);
}

/* A write to a device with timers may move its deadline: let the I/O
 * thread recompute its wait. */
static void bus_written(void *opaque, const struct bus_region *r)
{
    struct riscv_virt *v = opaque;
    if (!r->ops->poll || !v->env.loop)
        return;
    /* most writes (a virtio notify) move nothing: no wake, no I/O thread
     * round per request */
    if (r->ops->next_deadline && r->ops->next_deadline(r->opaque) >= v->io_deadline)
        return;
    event_loop_wake(v->env.loop);
}

/* --- images --- */

static int load_images(struct riscv_virt *v, struct error *err)
{
    const struct machine_config *cfg = v->cfg;
    struct guest_ram *ram = &v->ram;
    uint64_t ram_end = ram->base + ram->size;
    int r;

    if (cfg->bare_metal) {
        struct elf_info ei;
        r = loader_load_elf(ram, cfg->kernel, &ei, err);
        if (r < 0)
            return r;
        v->entry = ei.entry;
        for (unsigned h = 0; h < v->ncpus; h++) {
            v->cpu[h]->htif_tohost = ei.tohost;
            v->cpu[h]->htif_fromhost = ei.fromhost;
        }
        v->fdt_addr = 0;
        v->dyninfo_addr = 0;
        return 0;
    }

    uint64_t fw_size = 0;
    r = loader_load_raw(ram, cfg->bios, RISCV_VIRT_RAM_BASE, &fw_size, err);
    if (r < 0)
        return r;
    if (fw_size > KERNEL_OFFSET)
        return error_set(err, -E2BIG, "firmware %s is larger than 2 MiB", cfg->bios);
    struct linux_image_info ki;
    r = loader_load_linux_image(ram, cfg->kernel, RISCV_VIRT_RAM_BASE + KERNEL_OFFSET, &ki,
                                err);
    if (r < 0)
        return r;

    /* FDT at the top of RAM (2 MiB aligned down, as QEMU does), the
     * fw_dynamic info just below it, the initrd below that but above the
     * kernel's whole footprint (its header's image_size includes BSS). */
    v->fdt_addr = (ram_end - FDT_MAX) & ~(KERNEL_OFFSET - 1);
    if (v->fdt_addr < ki.load_addr + ki.image_size + FDT_MAX)
        return error_set(err, -E2BIG,
                         "%llu MiB of guest memory is too little for the kernel (%llu MiB "
                         "with its BSS) and the device tree: give the VM more (--memory)",
                         (unsigned long long)(ram->size >> 20),
                         (unsigned long long)(ki.image_size >> 20));
    v->dyninfo_addr = v->fdt_addr - 0x1000;
    uint64_t initrd_start = 0, initrd_end = 0;
    if (cfg->initrd) {
        uint8_t *d;
        size_t n;
        r = loader_read_file(cfg->initrd, &d, &n, err);
        if (r < 0)
            return r;
        uint64_t lowest = (ki.load_addr + ki.image_size + 0xfffff) & ~0xfffffull;
        /* As high as possible below the fw_dynamic info, page aligned. */
        uint64_t start = (v->dyninfo_addr - n) & ~0xfffull;
        if (n >= v->dyninfo_addr || start < lowest) {
            free(d);
            return error_set(err, -E2BIG,
                             "the initrd %s (%zu MiB) does not fit in %llu MiB of guest "
                             "memory above the kernel: give the VM more (--memory)",
                             cfg->initrd, n >> 20, (unsigned long long)(ram->size >> 20));
        }
        guest_ram_write(ram, start, d, n);
        free(d);
        initrd_start = start;
        initrd_end = start + n;
    }

    struct riscv_virt_fdt_config fc = {
        .nharts = v->ncpus,
        .ram_base = ram->base,
        .ram_size = ram->size,
        .isa = RISCV_ISA_STRING,
        .mmu_type = RISCV_MMU_TYPE,
        .bootargs = cfg->append,
        .initrd_start = initrd_start,
        .initrd_end = initrd_end,
        .devs = v->devs,
        .ndevs = v->ndevs,
    };
    uint8_t *fdt = guest_ram_ptr(ram, v->fdt_addr, FDT_MAX);
    r = riscv_virt_build_fdt(&fc, fdt, FDT_MAX, err);
    if (r < 0)
        return r;
    guest_ram_note_write(ram, v->fdt_addr, FDT_MAX);

    /* struct fw_dynamic_info: magic, version, next_addr, next_mode (1 = S),
     * options, boot_hart; each an unsigned long. Hart 0 boots; the others
     * wait in OpenSBI until the kernel starts them (SBI HSM). */
    uint64_t info[6] = { FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, ki.load_addr, 1, 0, 0 };
    uint8_t buf[sizeof(info)];
    for (int i = 0; i < 6; i++)
        le64_store(buf + 8 * i, info[i]);
    guest_ram_write(ram, v->dyninfo_addr, buf, sizeof(buf));
    v->entry = RISCV_VIRT_RAM_BASE;
    return 0;
}

/* --- lifecycle --- */

/* images: false when a snapshot is about to replace RAM and the harts
 * (reading firmware, kernel and initrd and building the device tree is
 * most of a restore's time otherwise). */
static int virt_reset_images(struct machine *m, bool images, struct error *err)
{
    struct riscv_virt *v = to_virt(m);
    for (unsigned i = 0; i < v->ndevs; i++)
        if (v->impl[i].ops->reset)
            v->impl[i].ops->reset(v->impl[i].state);
    int r = images ? load_images(v, err) : 0;
    if (r < 0)
        return r;
    for (unsigned h = 0; h < v->ncpus; h++) {
        struct riscv_cpu *c = v->cpu[h];
        riscv_cpu_reset(c, v->entry);
        c->x[10] = h;               /* a0: hart id */
        c->x[11] = v->fdt_addr;     /* a1: device tree */
        c->x[12] = v->dyninfo_addr; /* a2: fw_dynamic info */
    }
    memset(&v->exit, 0, sizeof(v->exit));
    return 0;
}

static int virt_reset(struct machine *m, struct error *err)
{
    return virt_reset_images(m, true, err);
}

/* Fill row `i` of the table with its device. */
static void set_impl(struct riscv_virt *v, enum riscv_virt_kind kind, unsigned slot,
                     const struct dev_ops *ops, void *state)
{
    unsigned seen = 0;
    for (unsigned i = 0; i < v->ndevs; i++) {
        if (v->devs[i].kind != kind)
            continue;
        if (seen++ == slot) {
            v->impl[i] = (struct board_dev){ ops, state };
            return;
        }
    }
}

static const struct riscv_virt_dev *find_dev(const struct riscv_virt *v,
                                             enum riscv_virt_kind kind, unsigned slot)
{
    unsigned seen = 0;
    for (unsigned i = 0; i < v->ndevs; i++)
        if (v->devs[i].kind == kind && seen++ == slot)
            return &v->devs[i];
    return NULL;
}

static struct irq_line plic_line(struct riscv_virt *v, unsigned src)
{
    return (struct irq_line){ plic_set_irq, &v->plic, src };
}

/* Disks first (so the first --disk is /dev/vda), then NICs, then the
 * entropy device and the input device (power button, Ctrl+Alt+Del) that
 * every VM gets. */
static int add_virtio_devices(struct riscv_virt *v, struct error *err)
{
    const struct machine_config *cfg = v->cfg;
    unsigned slot = 0;
    int r;
    for (unsigned i = 0; i < cfg->ndisks; i++, slot++) {
        const struct vm_disk_config *dc = &cfg->disks[i];
        struct block_open_options bo = { (enum block_format)dc->format, dc->read_only,
                                         dc->backing };
        r = block_open_with(dc->path, &bo, &v->disk[i], err);
        if (r < 0)
            return r;
        v->blk[i] = calloc(1, sizeof(*v->blk[i]));
        if (!v->blk[i])
            return error_set(err, -ENOMEM, "out of memory for disk %s", dc->path);
        v->nblk = i + 1;
        struct rate_limit_config rl = { .bps = dc->bps, .iops = dc->iops };
        r = virtio_blk_init(v->blk[i], v->disk[i], &rl, &v->ram,
                            plic_line(v, find_dev(v, RISCV_VIRT_VIRTIO, slot)->irq));
        if (r < 0)
            return error_set(err, r, "disk %s: the virtio-blk device cannot be set up",
                             dc->path);
        /* the machine env's loop: completions of its I/O thread */
        if (v->env.loop) {
            r = virtio_blk_set_loop(v->blk[i], v->env.loop);
            if (r < 0)
                return error_set(err, r, "disk %s: the event loop has no room for its "
                                 "completions (too many devices)", dc->path);
        }
        set_impl(v, RISCV_VIRT_VIRTIO, slot, &virtio_mmio_ops, &v->blk[i]->mmio);
    }
    for (unsigned i = 0; i < cfg->nnets; i++, slot++) {
        r = net_backend_open(cfg->nets[i], v->env.loop, &v->netb[i]);
        if (r < 0)
            return error_set(err, r, REPORTED);
        v->net[i] = calloc(1, sizeof(*v->net[i]));
        if (!v->net[i])
            return error_set(err, -ENOMEM, "out of memory for network card %u", i);
        v->nnet = i + 1;
        virtio_net_init(v->net[i], v->netb[i], &v->ram,
                        plic_line(v, find_dev(v, RISCV_VIRT_VIRTIO, slot)->irq));
        if (v->env.loop && virtio_net_set_loop(v->net[i], v->env.loop) < 0)
            return error_set(err, -ENOSPC, "network card %u: the event loop has no room for "
                             "its transmit queue (too many devices)", i);
        set_impl(v, RISCV_VIRT_VIRTIO, slot, &virtio_mmio_ops, &v->net[i]->mmio);
    }
    v->rng = calloc(1, sizeof(*v->rng));
    if (!v->rng)
        return error_set(err, -ENOMEM, "out of memory for the entropy device");
    virtio_rng_init(v->rng, &v->ram, plic_line(v, find_dev(v, RISCV_VIRT_VIRTIO, slot)->irq));
    set_impl(v, RISCV_VIRT_VIRTIO, slot, &virtio_mmio_ops, &v->rng->mmio);
    slot++;
    v->input = calloc(1, sizeof(*v->input));
    if (!v->input)
        return error_set(err, -ENOMEM, "out of memory for the input device");
    virtio_input_init(v->input, &v->ram,
                      plic_line(v, find_dev(v, RISCV_VIRT_VIRTIO, slot)->irq));
    set_impl(v, RISCV_VIRT_VIRTIO, slot, &virtio_mmio_ops, &v->input->mmio);
    slot++;
    if (cfg->balloon.enabled) {
        v->balloon = calloc(1, sizeof(*v->balloon));
        if (!v->balloon)
            return error_set(err, -ENOMEM, "out of memory for the balloon device");
        uint64_t pages = cfg->balloon.amount_mib << (20 - VIRTIO_BALLOON_PFN_SHIFT);
        if (cfg->balloon.amount_mib > (cfg->memory >> 20))
            return error_set(err, -EINVAL, "--balloon amount_mib %llu: larger than the guest's "
                             "%llu MiB of RAM", (unsigned long long)cfg->balloon.amount_mib,
                             (unsigned long long)(cfg->memory >> 20));
        struct virtio_balloon_config bc = {
            .reporting = cfg->balloon.reporting,
            .deflate_on_oom = cfg->balloon.deflate_on_oom,
            .stats_interval_s = cfg->balloon.stats_interval_s,
            .target_pages = (uint32_t)pages,
        };
        virtio_balloon_init(v->balloon, &bc, &v->ram,
                            plic_line(v, find_dev(v, RISCV_VIRT_VIRTIO, slot)->irq));
        set_impl(v, RISCV_VIRT_VIRTIO, slot, &virtio_mmio_ops, &v->balloon->mmio);
    }
    return 0;
}

static void virt_destroy(struct machine *m)
{
    struct riscv_virt *v = to_virt(m);
    if (!v)
        return;
    for (unsigned i = 0; i < VM_MAX_NETS; i++) {
        if (v->net[i])
            virtio_net_unset_loop(v->net[i]);
        if (v->netb[i])
            net_backend_close(v->netb[i]);
        free(v->net[i]);
    }
    for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
        if (v->blk[i])
            virtio_blk_destroy(v->blk[i]); /* no request on the disk any more */
        if (v->disk[i])
            block_close(v->disk[i]);
        free(v->blk[i]);
    }
    free(v->rng);
    free(v->input);
    free(v->balloon);
    for (unsigned h = 0; h < v->ncpus; h++) {
        if (v->cpu[h]) {
            riscv_cpu_free(v->cpu[h]);
            free(v->cpu[h]);
        }
    }
    guest_ram_free(&v->ram);
    free(v);
}

static int virt_create(const struct machine_config *cfg, const struct machine_env *env,
                       struct machine **out, struct error *err)
{
    *out = NULL;
    if (cfg->cpus < 1 || cfg->cpus > RISCV_VIRT_MAX_HARTS)
        return error_set(err, -EINVAL, "riscv-virt has 1 to %d harts, not %u",
                         RISCV_VIRT_MAX_HARTS, cfg->cpus);
    struct riscv_virt *v = calloc(1, sizeof(*v));
    if (!v)
        return error_set(err, -ENOMEM, "out of memory for the machine");
    v->base.ops = &riscv_virt_machine;
    v->cfg = cfg;
    v->env = *env;
    v->ncpus = cfg->cpus;
    int r = guest_ram_init(&v->ram, RISCV_VIRT_RAM_BASE, cfg->memory);
    if (r < 0) {
        error_set_errno(err, r, "cannot allocate %llu MiB of guest memory",
                        (unsigned long long)(cfg->memory >> 20));
        goto fail;
    }
    if (cfg->balloon.enabled)
        guest_ram_small_pages(&v->ram);
    vm_clock_init(&v->clock);
    bus_init(&v->bus);
    v->bus.lock = env->lock;
    v->bus.written = bus_written;
    v->bus.written_opaque = v;
    for (unsigned h = 0; h < v->ncpus; h++) {
        v->cpu[h] = calloc(1, sizeof(*v->cpu[h]));
        r = v->cpu[h] ? riscv_cpu_init(v->cpu[h], &v->ram, &v->bus, &v->clock, h) : -ENOMEM;
        if (r < 0) {
            error_set(err, r, "out of memory for hart %u", h);
            goto fail;
        }
    }
    for (unsigned h = 0; h < v->ncpus; h++) {
        v->cpu[h]->harts = v->cpu;
        v->cpu[h]->nharts = v->ncpus;
    }

    /* The table: the fixed devices, then as many virtio slots as needed:
     * the disks and NICs, and the devices every VM gets (entropy, input). */
    unsigned nvirtio = 0;
    unsigned fixed = RISCV_VIRT_FIXED_VIRTIO + (cfg->balloon.enabled ? 1 : 0);
    if (!cfg->bare_metal || cfg->ndisks || cfg->nnets || cfg->balloon.enabled)
        nvirtio = cfg->ndisks + cfg->nnets + fixed;
    if (nvirtio > RISCV_VIRT_VIRTIO_SLOTS) {
        r = error_set(err, -EINVAL,
                      "too many virtio devices: %u disks and %u network cards given, at most %u "
                      "together (riscv-virt has %d virtio slots; the entropy and input devices%s "
                      "take %u): drop some --disk or --net options%s",
                      cfg->ndisks, cfg->nnets, RISCV_VIRT_VIRTIO_SLOTS - fixed,
                      RISCV_VIRT_VIRTIO_SLOTS, cfg->balloon.enabled ? " and the balloon" : "",
                      fixed, cfg->balloon.enabled ? ", or give --balloon off" : "");
        goto fail;
    }
    v->ndevs = (unsigned)riscv_virt_layout(nvirtio, v->devs);

    plic_init(&v->plic, 2 * v->ncpus, plic_notify, v);
    aclint_init(&v->aclint, v->ncpus, &v->clock, aclint_set_mip, v);
    syscon_init(&v->syscon, syscon_action, v);
    goldfish_rtc_init(&v->rtc, plic_line(v, find_dev(v, RISCV_VIRT_RTC, 0)->irq), &v->clock);
    uart16550_init(&v->uart, plic_line(v, find_dev(v, RISCV_VIRT_UART, 0)->irq), env->console);
    v->uart.rx_room = uart_room;
    v->uart.rx_room_opaque = v;
    set_impl(v, RISCV_VIRT_SYSCON, 0, &syscon_ops, &v->syscon);
    set_impl(v, RISCV_VIRT_RTC, 0, &goldfish_rtc_ops, &v->rtc);
    set_impl(v, RISCV_VIRT_ACLINT, 0, &aclint_ops, &v->aclint);
    set_impl(v, RISCV_VIRT_PLIC, 0, &plic_ops, &v->plic);
    set_impl(v, RISCV_VIRT_UART, 0, &uart16550_ops, &v->uart);
    vmgenid_init(&v->vmgenid, plic_line(v, find_dev(v, RISCV_VIRT_VMGENID, 0)->irq));
    set_impl(v, RISCV_VIRT_VMGENID, 0, &vmgenid_ops, &v->vmgenid);
    if (nvirtio) {
        r = add_virtio_devices(v, err);
        if (r < 0)
            goto fail;
    }
    for (unsigned i = 0; i < v->ndevs; i++) {
        const struct riscv_virt_dev *d = &v->devs[i];
        r = bus_map(&v->bus, d->base, d->size, v->impl[i].ops, v->impl[i].state);
        if (r < 0) {
            error_set(err, r, "device %s at 0x%llx cannot be mapped", d->name,
                      (unsigned long long)d->base);
            goto fail;
        }
    }
    /* a bare-metal program's HTIF addresses come from its ELF: loaded
     * even for a restore */
    r = virt_reset_images(&v->base, !env->restoring || cfg->bare_metal, err);
    if (r < 0)
        goto fail;
    *out = &v->base;
    return 0;
fail:
    virt_destroy(&v->base);
    return r < 0 ? r : -EINVAL;
}

static unsigned virt_ncpus(const struct machine *m)
{
    return to_virt_const(m)->ncpus;
}

/* --- the CPU threads --- */

static enum machine_run virt_run(struct machine *m, unsigned cpu, uint64_t budget)
{
    struct riscv_virt *v = to_virt(m);
    struct riscv_cpu *c = v->cpu[cpu];
    c->wfi = false; /* a wait ended (or never began): go on after the WFI */
    enum riscv_run_result rr = riscv_cpu_run(c, budget);
    int req = __atomic_load_n(&c->exit_request, __ATOMIC_ACQUIRE);
    if (req == RISCV_EXIT_KICK) {
        int kickv = RISCV_EXIT_KICK;
        __atomic_compare_exchange_n(&c->exit_request, &kickv, RISCV_EXIT_NONE, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
        return rr == RISCV_RUN_WFI ? MACHINE_RUN_WAIT : MACHINE_RUN_BUDGET;
    }
    if (req)
        return MACHINE_RUN_EXIT; /* e.g. a store to tohost right before WFI */
    return rr == RISCV_RUN_WFI ? MACHINE_RUN_WAIT : MACHINE_RUN_BUDGET;
}

static size_t virt_cpu_trim(struct machine *m, unsigned cpu)
{
    return riscv_cpu_trim(to_virt(m)->cpu[cpu]);
}

static uint64_t virt_cpu_tick(struct machine *m, unsigned cpu)
{
    struct riscv_virt *v = to_virt(m);
    pthread_mutex_t *lock = v->env.lock;
    if (lock)
        pthread_mutex_lock(lock);
    aclint_update(&v->aclint);
    uint64_t d = v->aclint.mtimecmp[cpu];
    if (lock)
        pthread_mutex_unlock(lock);
    uint64_t s = riscv_cpu_update_timer(v->cpu[cpu]);
    if (s < d)
        d = s;
    if (d == UINT64_MAX)
        return UINT64_MAX;
    uint64_t now = condo_clock_ns();
    uint64_t wait = vm_clock_ns_until(&v->clock, d);
    return wait > UINT64_MAX - now ? UINT64_MAX : now + wait;
}

static bool virt_cpu_wakeup(const struct machine *m, unsigned cpu)
{
    const struct riscv_cpu *c = to_virt_const(m)->cpu[cpu];
    return riscv_cpu_has_wakeup(c) ||
           __atomic_load_n(&c->exit_request, __ATOMIC_ACQUIRE) == RISCV_EXIT_REQUEST;
}

static void virt_cpu_interrupt(struct machine *m, unsigned cpu)
{
    riscv_cpu_interrupt(to_virt(m)->cpu[cpu]);
}

static void virt_exit_reason(struct machine *m, struct machine_exit *out)
{
    struct riscv_virt *v = to_virt(m);
    for (unsigned h = 0; h < v->ncpus; h++) {
        struct riscv_cpu *c = v->cpu[h];
        if (c->exit_request == RISCV_EXIT_HTIF) {
            *out = (struct machine_exit){ .kind = MACHINE_EXIT_TEST,
                                          .code = c->htif_exit_code };
            return;
        }
    }
    if (v->exit.kind != MACHINE_EXIT_NONE) {
        *out = v->exit;
        return;
    }
    *out = (struct machine_exit){ .kind = MACHINE_EXIT_FAULT };
    for (unsigned h = 0; h < v->ncpus; h++) {
        if (v->cpu[h]->exit_request == RISCV_EXIT_FAULT) {
            snprintf(out->detail, sizeof(out->detail), "hart %u stopped at pc 0x%llx", h,
                     (unsigned long long)v->cpu[h]->pc);
            return;
        }
    }
    snprintf(out->detail, sizeof(out->detail), "hart 0 stopped at pc 0x%llx",
             (unsigned long long)v->cpu[0]->pc);
}

/* --- the I/O thread --- */

static uint64_t virt_io_tick(struct machine *m)
{
    struct riscv_virt *v = to_virt(m);
    uint64_t d = UINT64_MAX;
    for (unsigned i = 0; i < v->ndevs; i++) {
        if (!v->impl[i].ops->poll)
            continue;
        uint64_t t = v->impl[i].ops->poll(v->impl[i].state);
        if (t < d)
            d = t;
    }
    v->io_deadline = d; /* what the I/O thread sleeps to (bus_written) */
    return d;
}

static size_t virt_console_room(struct machine *m)
{
    return uart16550_rx_space(&to_virt(m)->uart);
}

static size_t virt_console_input(struct machine *m, const uint8_t *buf, size_t len)
{
    return uart16550_receive(&to_virt(m)->uart, buf, len);
}

/* The buttons: one batch of key events into the input device. A machine
 * without one (a bare-metal program with no virtio devices) cannot take
 * them. */
static int virt_power_button(struct machine *m, struct error *err)
{
    struct riscv_virt *v = to_virt(m);
    if (!v->input)
        return error_set(err, -ENODEV, "this machine has no input device (a bare-metal program "
                                       "without virtio devices): it has no power button");
    return virtio_input_power_button(v->input, err);
}

static int virt_ctrl_alt_del(struct machine *m, struct error *err)
{
    struct riscv_virt *v = to_virt(m);
    if (!v->input)
        return error_set(err, -ENODEV, "this machine has no input device (a bare-metal program "
                                       "without virtio devices): it has no keyboard");
    return virtio_input_ctrl_alt_del(v->input, err);
}

static void virt_stats(const struct machine *m, struct machine_stats *out)
{
    const struct riscv_virt *v = to_virt_const(m);
    memset(out, 0, sizeof(*out));
    for (unsigned h = 0; h < v->ncpus; h++)
        out->instret += v->cpu[h]->instret;
    out->ndisks = v->nblk;
    for (unsigned i = 0; i < v->nblk; i++) {
        const struct virtio_blk *b = v->blk[i];
        out->disks[i] = (struct machine_disk_stats){ b->read_bytes, b->write_bytes, b->read_ops,
                                                     b->write_ops, b->flush_ops };
    }
    out->nnics = v->nnet;
    for (unsigned i = 0; i < v->nnet; i++) {
        const struct virtio_net *n = v->net[i];
        out->nics[i] = (struct machine_nic_stats){ n->rx_bytes,   n->tx_bytes,   n->rx_frames,
                                                   n->tx_frames,  n->rx_dropped, n->tx_dropped };
    }
}

/* Every disk request in flight completed: nothing runs behind the
 * machine's back (pause, snapshots). */
static int virt_drain(struct machine *m)
{
    struct riscv_virt *v = to_virt(m);
    for (unsigned i = 0; i < v->nblk; i++)
        virtio_blk_quiesce(v->blk[i]);
    return 0;
}

static int virt_disk_set_limit(struct machine *m, unsigned disk,
                               const struct rate_limit_config *rl, struct error *err)
{
    struct riscv_virt *v = to_virt(m);
    if (disk >= v->nblk)
        return error_set(err, -ENODEV, "the VM has no disk %u", disk);
    virtio_blk_set_limit(v->blk[disk], rl);
    return 0;
}

static const char *virt_disk_top(const struct machine *m, unsigned disk, bool *read_only)
{
    const struct riscv_virt *v = to_virt_const(m);
    if (disk >= v->nblk || !v->disk[disk] || !v->disk[disk]->path)
        return "";
    *read_only = v->disk[disk]->read_only;
    return v->disk[disk]->path;
}

static int virt_disk_freeze(struct machine *m, unsigned disk, int fd, const char *overlay,
                            struct error *err)
{
    struct riscv_virt *v = to_virt(m);
    if (disk >= v->nblk || !v->disk[disk]) {
        close(fd);
        return error_set(err, -ENODEV, "the VM has no disk %u", disk);
    }
    int r = block_freeze(&v->disk[disk], fd, overlay, err);
    if (r == 0)
        v->blk[disk]->disk = v->disk[disk]; /* nothing in flight: drained */
    return r;
}

/* --- save and load: the harts, then each row of the table by name --- */

static int virt_save(struct machine *m, struct state_buf *s, struct error *err)
{
    struct riscv_virt *v = to_virt(m);
    state_put_u8(s, MACHINE_STATE_VERSION);
    state_put_u32(s, v->ncpus);
    state_put_u32(s, v->ndevs);
    state_put_u64(s, (uint64_t)v->clock.mtime_offset);
    for (unsigned h = 0; h < v->ncpus; h++)
        riscv_cpu_save(v->cpu[h], s);
    for (unsigned i = 0; i < v->ndevs; i++) {
        state_put_bytes(s, v->devs[i].name, sizeof(v->devs[i].name));
        struct state_buf sec;
        state_init_writer(&sec);
        if (v->impl[i].ops->save)
            v->impl[i].ops->save(v->impl[i].state, &sec);
        state_put_u32(s, (uint32_t)sec.len);
        state_put_bytes(s, sec.data, sec.len);
        int e = sec.err;
        state_free(&sec);
        if (e)
            return error_set(err, e, "saving device %s failed", v->devs[i].name);
    }
    if (s->err)
        return error_set(err, s->err, "saving the machine state failed");
    return 0;
}

static int load_rows(struct riscv_virt *v, struct state_buf *s, struct error *err)
{
    if (state_get_u8(s) != MACHINE_STATE_VERSION)
        return error_set(err, -EINVAL, "machine state: unknown version");
    uint32_t ncpus = state_get_u32(s), ndevs = state_get_u32(s);
    /* rows this machine has past the stream's must be stateless (a
     * device added later, like the VM generation ID) */
    bool tail_ok = ndevs <= v->ndevs;
    for (unsigned i = ndevs; tail_ok && i < v->ndevs; i++)
        tail_ok = !v->impl[i].ops->save;
    if (s->err || ncpus != v->ncpus || !tail_ok)
        return error_set(err, -EINVAL,
                         "machine state: %u harts and %u devices, this machine has %u and %u",
                         ncpus, ndevs, v->ncpus, v->ndevs);
    v->clock.mtime_offset = (int64_t)state_get_u64(s);
    for (unsigned h = 0; h < v->ncpus; h++)
        if (riscv_cpu_load(v->cpu[h], s) < 0)
            return error_set(err, -EINVAL, "machine state: hart %u is malformed", h);
    for (unsigned i = 0; i < ndevs; i++) {
        char name[sizeof(v->devs[i].name)];
        state_get_bytes(s, name, sizeof(name));
        uint32_t len = state_get_u32(s);
        if (s->err || memcmp(name, v->devs[i].name, sizeof(name)) != 0 || len > s->len - s->pos)
            return error_set(err, -EINVAL, "machine state: device %s is missing or truncated",
                             v->devs[i].name);
        struct state_buf sec;
        state_init_reader(&sec, s->data + s->pos, len);
        s->pos += len;
        if (v->impl[i].ops->load && v->impl[i].ops->load(v->impl[i].state, &sec) < 0)
            return error_set(err, -EINVAL, "machine state: device %s is malformed",
                             v->devs[i].name);
    }
    return 0;
}

/* All or nothing: a stream that fails part-way leaves the machine exactly as
 * it was (its state is saved first and put back). */
static int virt_load(struct machine *m, struct state_buf *s, struct error *err)
{
    struct riscv_virt *v = to_virt(m);
    struct state_buf backup;
    state_init_writer(&backup);
    int r = virt_save(m, &backup, err);
    if (r < 0) {
        state_free(&backup);
        return r;
    }
    r = load_rows(v, s, err);
    if (r < 0) {
        struct state_buf rb;
        state_init_reader(&rb, backup.data, backup.len);
        load_rows(v, &rb, NULL);
    }
    state_free(&backup);
    return r;
}

static int virt_balloon(struct riscv_virt *v, struct error *err)
{
    if (!v->balloon)
        return error_set(err, -ENODEV, "No balloon device found (this VM was made without one: "
                         "--balloon off)");
    return 0;
}

static int virt_balloon_info(struct machine *m, struct machine_balloon_info *out,
                             struct error *err)
{
    struct riscv_virt *v = to_virt(m);
    memset(out, 0, sizeof(*out));
    int r = virt_balloon(v, err);
    if (r < 0)
        return r;
    const struct virtio_balloon *b = v->balloon;
    out->target_pages = b->num_pages;
    out->actual_pages = b->actual;
    out->stats_interval_s = b->cfg.stats_interval_s;
    out->stats_present = b->stats.present;
    _Static_assert(MACHINE_BALLOON_STATS == VIRTIO_BALLOON_S_NR, "one stats table");
    memcpy(out->stats, b->stats.val, sizeof(out->stats));
    out->inflated_pages = b->count.inflated_pages;
    out->deflated_pages = b->count.deflated_pages;
    out->reported_bytes = b->count.reported_bytes;
    return 0;
}

static int virt_balloon_set_target(struct machine *m, uint64_t pages, struct error *err)
{
    struct riscv_virt *v = to_virt(m);
    int r = virt_balloon(v, err);
    if (r < 0)
        return r;
    if (pages > UINT32_MAX)
        pages = UINT32_MAX; /* refused below: larger than any RAM here */
    return virtio_balloon_set_target(v->balloon, (uint32_t)pages, err);
}

static int virt_balloon_set_stats_interval(struct machine *m, unsigned secs, struct error *err)
{
    struct riscv_virt *v = to_virt(m);
    int r = virt_balloon(v, err);
    if (r < 0)
        return r;
    r = virtio_balloon_set_stats_interval(v->balloon, secs, err);
    if (r == 0 && v->env.loop)
        event_loop_wake(v->env.loop); /* the next update is due now */
    return r;
}

static struct guest_ram *virt_ram(struct machine *m)
{
    return &to_virt(m)->ram;
}

static void virt_new_generation(struct machine *m, uint8_t *id)
{
    struct riscv_virt *v = to_virt(m);
    pthread_mutex_t *lock = v->env.lock;
    if (lock)
        pthread_mutex_lock(lock);
    vmgenid_new_generation(&v->vmgenid, id);
    if (lock)
        pthread_mutex_unlock(lock);
}

const struct machine_ops riscv_virt_machine = {
    .name = "riscv-virt",
    .arch = "riscv64",
    .create = virt_create,
    .destroy = virt_destroy,
    .reset = virt_reset,
    .ncpus = virt_ncpus,
    .run = virt_run,
    .cpu_tick = virt_cpu_tick,
    .cpu_trim = virt_cpu_trim,
    .cpu_wakeup = virt_cpu_wakeup,
    .cpu_interrupt = virt_cpu_interrupt,
    .exit_reason = virt_exit_reason,
    .io_tick = virt_io_tick,
    .console_room = virt_console_room,
    .console_input = virt_console_input,
    .power_button = virt_power_button,
    .ctrl_alt_del = virt_ctrl_alt_del,
    .stats = virt_stats,
    .drain = virt_drain,
    .save = virt_save,
    .load = virt_load,
    .ram = virt_ram,
    .disk_set_limit = virt_disk_set_limit,
    .disk_top = virt_disk_top,
    .disk_freeze = virt_disk_freeze,
    .new_generation = virt_new_generation,
    .balloon_info = virt_balloon_info,
    .balloon_set_target = virt_balloon_set_target,
    .balloon_set_stats_interval = virt_balloon_set_stats_interval,
};
