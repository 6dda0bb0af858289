/* The riscv-virt board: QEMU virt's memory map, an explicit ordered device
 * table, image placement, the device tree and OpenSBI fw_dynamic handover.
 *
 *   0x00100000  syscon (sifive test)   0x00101000  goldfish RTC (IRQ 11)
 *   0x02000000  CLINT/ACLINT           0x0c000000  PLIC
 *   0x10000000  UART0 16550 (IRQ 10)   0x10001000+ virtio-mmio (IRQ 1+n)
 *   0x80000000  RAM: firmware, then the kernel at +2 MiB, initrd, FDT at top
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "board/board_riscv_virt.h"
#include "condo/fdt_riscv_virt.h"
#include "condo/loader.h"

#define RAM_BASE 0x80000000ull
#define KERNEL_OFFSET 0x200000ull /* RV64 kernels want 2 MiB alignment */
#define FDT_MAX 0x10000
#define FW_DYNAMIC_MAGIC 0x4942534full /* "OSBI" */
#define FW_DYNAMIC_VERSION 2
#define VIRTIO_BASE 0x10001000ull

enum { IRQ_UART0 = 10, IRQ_RTC = 11 };

static void plic_notify(void *opaque, unsigned ctx, int level)
{
    struct riscv_virt *m = opaque;
    /* context 0: M-mode external interrupt; context 1: S-mode */
    riscv_cpu_set_mip(&m->cpu, ctx == 0 ? MIP_MEIP : MIP_SEIP, level);
}

static void aclint_set_mip(void *opaque, unsigned hart, uint32_t mask, int level)
{
    struct riscv_virt *m = opaque;
    if (hart == 0)
        riscv_cpu_set_mip(&m->cpu, mask, level);
}

static void syscon_action(void *opaque, enum syscon_action act, unsigned code)
{
    struct riscv_virt *m = opaque;
    m->syscon_act = act;
    m->syscon_code = code;
    m->syscon_fired = true;
    m->cpu.exit_request = RISCV_EXIT_REQUEST;
}

/* The device table, in snapshot order. */
struct board_dev {
    uint64_t base, size;
    const struct dev_ops *ops;
    size_t offset; /* of the device state inside struct riscv_virt */
};

static const struct board_dev board_devices[] = {
    { 0x00100000, SYSCON_SIZE, &syscon_ops, offsetof(struct riscv_virt, syscon) },
    { 0x00101000, GOLDFISH_RTC_SIZE, &goldfish_rtc_ops, offsetof(struct riscv_virt, rtc) },
    { 0x02000000, ACLINT_SIZE, &aclint_ops, offsetof(struct riscv_virt, aclint) },
    { 0x0c000000, PLIC_SIZE, &plic_ops, offsetof(struct riscv_virt, plic) },
    { 0x10000000, UART16550_SIZE, &uart16550_ops, offsetof(struct riscv_virt, uart) },
};

static int load_images(struct riscv_virt *m, const struct riscv_virt_config *cfg,
                       struct error *err)
{
    struct guest_ram *ram = &m->ram;
    uint64_t ram_end = ram->base + ram->size;
    int r;

    if (cfg->bare_metal) {
        struct elf_info ei;
        r = loader_load_elf(ram, cfg->kernel, &ei, err);
        if (r < 0)
            return r;
        m->entry = ei.entry;
        m->cpu.htif_tohost = ei.tohost;
        m->cpu.htif_fromhost = ei.fromhost;
        m->fdt_addr = 0;
        return 0;
    }

    uint64_t fw_size = 0;
    r = loader_load_raw(ram, cfg->bios, RAM_BASE, &fw_size, err);
    if (r < 0)
        return r;
    if (fw_size > KERNEL_OFFSET)
        return error_set(err, -E2BIG, "firmware %s is larger than 2 MiB", cfg->bios);
    struct linux_image_info ki;
    r = loader_load_linux_image(ram, cfg->kernel, RAM_BASE + KERNEL_OFFSET, &ki, err);
    if (r < 0)
        return r;

    /* FDT at the top of RAM (2 MiB aligned down, as QEMU does), the
     * fw_dynamic info just below it, the initrd below that but above the
     * kernel's whole footprint (its header's image_size includes BSS). */
    m->fdt_addr = (ram_end - FDT_MAX) & ~(KERNEL_OFFSET - 1);
    if (m->fdt_addr < ki.load_addr + ki.image_size + FDT_MAX)
        return error_set(err, -E2BIG,
                         "not enough guest memory for the kernel (%llu MiB) and device tree: "
                         "give the VM more memory (--memory)",
                         (unsigned long long)(ki.image_size >> 20));
    m->dyninfo_addr = m->fdt_addr - 0x1000;
    uint64_t initrd_start = 0, initrd_end = 0;
    if (cfg->initrd) {
        uint8_t *d;
        size_t n;
        r = loader_read_file(cfg->initrd, &d, &n, err);
        if (r < 0)
            return r;
        uint64_t lowest = (ki.load_addr + ki.image_size + 0xfffff) & ~0xfffffull;
        /* As high as possible below the fw_dynamic info, page aligned. */
        uint64_t start = (m->dyninfo_addr - n) & ~0xfffull;
        if (n >= m->dyninfo_addr || start < lowest) {
            free(d);
            return error_set(err, -E2BIG,
                             "initrd %s (%zu MiB) does not fit in guest memory above the "
                             "kernel: give the VM more memory (--memory)",
                             cfg->initrd, n >> 20);
        }
        guest_ram_write(ram, start, d, n);
        free(d);
        initrd_start = start;
        initrd_end = start + n;
    }

    struct riscv_virt_fdt_config fc = {
        .nharts = 1,
        .ram_base = ram->base,
        .ram_size = ram->size,
        .isa = RISCV_ISA_STRING,
        .mmu_type = RISCV_MMU_TYPE,
        .bootargs = cfg->append,
        .initrd_start = initrd_start,
        .initrd_end = initrd_end,
        .nvirtio = m->nvirtio,
    };
    uint8_t *fdt = guest_ram_ptr(ram, m->fdt_addr, FDT_MAX);
    r = riscv_virt_build_fdt(&fc, fdt, FDT_MAX);
    if (r < 0)
        return error_set(err, r, "building the device tree failed (%d)", r);
    guest_ram_note_write(ram, m->fdt_addr, FDT_MAX);

    /* struct fw_dynamic_info: magic, version, next_addr, next_mode (1 = S),
     * options, boot_hart; each an unsigned long. */
    uint64_t info[6] = { FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, ki.load_addr, 1, 0, 0 };
    uint8_t buf[sizeof(info)];
    for (int i = 0; i < 6; i++)
        le64_store(buf + 8 * i, info[i]);
    guest_ram_write(ram, m->dyninfo_addr, buf, sizeof(buf));
    m->entry = RAM_BASE;
    return 0;
}

/* Power-on (and reboot): reset devices and the hart, reload images. */
int riscv_virt_reset(struct riscv_virt *m, const struct riscv_virt_config *cfg,
                     struct error *err)
{
    for (size_t i = 0; i < ARRAY_SIZE(board_devices); i++) {
        const struct board_dev *d = &board_devices[i];
        if (d->ops->reset)
            d->ops->reset((uint8_t *)m + d->offset);
    }
    for (unsigned i = 0; i < m->nvirtio; i++)
        virtio_mmio_ops.reset(m->virtio[i]);
    int r = load_images(m, cfg, err);
    if (r < 0)
        return r;
    riscv_cpu_reset(&m->cpu, m->entry);
    m->cpu.x[10] = 0;            /* a0: hart id */
    m->cpu.x[11] = m->fdt_addr;  /* a1: device tree */
    m->cpu.x[12] = m->dyninfo_addr; /* a2: fw_dynamic info */
    m->syscon_fired = false;
    return 0;
}

/* The next virtio-mmio slot: its interrupt line and bus window. */
static int add_slot(struct riscv_virt *m, struct virtio_mmio *t, struct error *err)
{
    if (m->nvirtio >= RISCV_VIRT_VIRTIO_SLOTS)
        return error_set(err, -E2BIG, "too many virtio devices: at most %d disks and NICs together",
                         RISCV_VIRT_VIRTIO_SLOTS - 1);
    int r = bus_map(&m->bus, VIRTIO_BASE + m->nvirtio * VIRTIO_MMIO_SIZE, VIRTIO_MMIO_SIZE,
                    &virtio_mmio_ops, t);
    if (r < 0)
        return error_set(err, r, "cannot map virtio slot %u", m->nvirtio);
    m->virtio[m->nvirtio++] = t;
    return 0;
}

static struct irq_line slot_irq(struct riscv_virt *m)
{
    return (struct irq_line){ plic_set_irq, &m->plic, 1 + m->nvirtio };
}

/* Disks first (so the first --disk is /dev/vda), then NICs, then the
 * entropy device that every VM gets. */
static int add_virtio_devices(struct riscv_virt *m, const struct riscv_virt_config *cfg,
                              struct error *err)
{
    int r;
    for (unsigned i = 0; i < cfg->ndisks; i++) {
        const struct vm_disk_config *dc = &cfg->disks[i];
        struct block_open_options bo = { (enum block_format)dc->format, dc->read_only,
                                         dc->backing };
        r = block_open_with(dc->path, &bo, &m->disk[i], err);
        if (r < 0)
            return r;
        m->blk[i] = calloc(1, sizeof(*m->blk[i]));
        if (!m->blk[i])
            return error_set(err, -ENOMEM, "out of memory for disk %s", dc->path);
        m->nblk = i + 1;
        struct rate_limit_config rl = { .bps = dc->bps, .iops = dc->iops };
        r = virtio_blk_init(m->blk[i], m->disk[i], &rl, &m->ram, slot_irq(m));
        if (r < 0)
            return error_set(err, r, "disk %s: cannot set up its device", dc->path);
        r = add_slot(m, &m->blk[i]->mmio, err);
        if (r < 0)
            return r;
    }
    for (unsigned i = 0; i < cfg->nnets; i++) {
        r = net_backend_open(cfg->nets[i], cfg->loop, &m->netb[i]);
        if (r < 0)
            return r;
        m->net[i] = calloc(1, sizeof(*m->net[i]));
        if (!m->net[i])
            return error_set(err, -ENOMEM, "out of memory for a network card");
        m->nnet = i + 1;
        virtio_net_init(m->net[i], m->netb[i], &m->ram, slot_irq(m));
        r = add_slot(m, &m->net[i]->mmio, err);
        if (r < 0)
            return r;
    }
    m->rng = calloc(1, sizeof(*m->rng));
    if (!m->rng)
        return error_set(err, -ENOMEM, "out of memory for the entropy device");
    virtio_rng_init(m->rng, &m->ram, slot_irq(m));
    return add_slot(m, &m->rng->mmio, err);
}

int riscv_virt_init(struct riscv_virt *m, const struct riscv_virt_config *cfg,
                    struct error *err)
{
    memset(m, 0, sizeof(*m));
    int r = guest_ram_init(&m->ram, RAM_BASE, cfg->memory);
    if (r < 0)
        return error_set_errno(err, r, "cannot allocate %llu MiB of guest memory",
                               (unsigned long long)(cfg->memory >> 20));
    vm_clock_init(&m->clock);
    bus_init(&m->bus);
    r = riscv_cpu_init(&m->cpu, &m->ram, &m->bus, &m->clock, 0);
    if (r < 0)
        return error_set_errno(err, r, "cannot set up the CPU");
    plic_init(&m->plic, 2, plic_notify, m);
    aclint_init(&m->aclint, 1, &m->clock, aclint_set_mip, m);
    syscon_init(&m->syscon, syscon_action, m);
    goldfish_rtc_init(&m->rtc, (struct irq_line){ plic_set_irq, &m->plic, IRQ_RTC });
    uart16550_init(&m->uart, (struct irq_line){ plic_set_irq, &m->plic, IRQ_UART0 },
                   cfg->console_out);
    for (size_t i = 0; i < ARRAY_SIZE(board_devices); i++) {
        const struct board_dev *d = &board_devices[i];
        r = bus_map(&m->bus, d->base, d->size, d->ops, (uint8_t *)m + d->offset);
        if (r < 0)
            return error_set(err, r, "cannot map device %s", d->ops->name);
    }
    if (!cfg->bare_metal || cfg->ndisks || cfg->nnets) {
        r = add_virtio_devices(m, cfg, err);
        if (r < 0)
            return r;
    }
    return riscv_virt_reset(m, cfg, err);
}

void riscv_virt_free(struct riscv_virt *m)
{
    for (unsigned i = 0; i < m->nnet; i++) {
        if (m->netb[i])
            net_backend_close(m->netb[i]);
        free(m->net[i]);
    }
    for (unsigned i = 0; i < m->nblk; i++) {
        if (m->disk[i])
            block_close(m->disk[i]);
        free(m->blk[i]);
    }
    for (unsigned i = m->nblk; i < VM_MAX_DISKS; i++)
        if (m->disk[i])
            block_close(m->disk[i]);
    free(m->rng);
    riscv_cpu_free(&m->cpu);
    guest_ram_free(&m->ram);
}

/* Let time-driven devices catch up; returns the next deadline in mtime
 * ticks (UINT64_MAX if none). */
uint64_t riscv_virt_tick(struct riscv_virt *m)
{
    aclint_update(&m->aclint);
    uint64_t d1 = aclint_next_deadline(&m->aclint);
    uint64_t d2 = riscv_cpu_update_timer(&m->cpu);
    goldfish_rtc_update(&m->rtc);
    for (unsigned i = 0; i < m->nblk; i++)
        virtio_blk_poll(m->blk[i]);
    return d1 < d2 ? d1 : d2;
}

uint64_t riscv_virt_io_deadline_ns(struct riscv_virt *m)
{
    uint64_t d = UINT64_MAX;
    for (unsigned i = 0; i < m->nblk; i++) {
        uint64_t t = virtio_blk_next_deadline_ns(m->blk[i]);
        if (t < d)
            d = t;
    }
    return d;
}
