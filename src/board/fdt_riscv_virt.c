/* The riscv-virt device tree, shaped like QEMU virt's so that OpenSBI's
 * generic platform and the stock Linux kernel find what they expect.
 * Built with libfdt's sequential-write API: nodes appear in the order they
 * are written (so virtio slots probe in ascending order), and phandles are
 * fixed numbers assigned up front. One function per kind of device; the
 * devices, their windows and interrupts come from the board's table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "condo/riscv_virt.h"

/* Device-tree constants of the board (addresses and interrupt lines come
 * from the device table, src/board/riscv_virt_map.c). */
#define VIRT_MAX_HARTS RISCV_VIRT_MAX_HARTS
#define VIRT_PLIC_NDEV 95 /* as QEMU virt: sources 1..95 */
#define VIRT_TIMEBASE 10000000u
#define VIRT_UART_CLOCK 3686400u

/* mip bit numbers the interrupt controllers connect to. */
#define IRQ_M_SOFT 3
#define IRQ_M_TIMER 7
#define IRQ_S_EXT 9
#define IRQ_M_EXT 11

/* Fixed phandles. */
#define PH_PLIC 1
#define PH_TEST 2
#define PH_CPU_INTC(h) (16 + (h))

#define FINISHER_PASS 0x5555
#define FINISHER_RESET 0x7777

static int fdt_errno(int err)
{
    if (err >= 0)
        return 0;
    return err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

/* Evaluate a libfdt call (or a node function); on failure return its
 * negative libfdt error from the enclosing function. Node functions speak
 * libfdt errors; riscv_virt_build_fdt() turns them into errno once. */
#define TRY(expr)                                                                        \
    do {                                                                                 \
        int _r = (expr);                                                                 \
        if (_r < 0)                                                                      \
            return _r;                                                                   \
    } while (0)

/* reg = <addr size> with #address-cells = #size-cells = 2. */
static int prop_reg64(void *fdt, uint64_t addr, uint64_t size)
{
    fdt64_t reg[2] = {cpu_to_fdt64(addr), cpu_to_fdt64(size)};
    return fdt_property(fdt, "reg", reg, sizeof(reg));
}

static int begin_node_at(void *fdt, const char *name, uint64_t addr)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s@%llx", name, (unsigned long long)addr);
    return fdt_begin_node(fdt, buf);
}

/* interrupts-extended = <&cpuN_intc irq_a &cpuN_intc irq_b> for each hart. */
static int prop_irqs_ext(void *fdt, unsigned nharts, uint32_t irq_a, uint32_t irq_b)
{
    fdt32_t cells[VIRT_MAX_HARTS * 4];
    for (unsigned h = 0; h < nharts; h++) {
        cells[h * 4 + 0] = cpu_to_fdt32(PH_CPU_INTC(h));
        cells[h * 4 + 1] = cpu_to_fdt32(irq_a);
        cells[h * 4 + 2] = cpu_to_fdt32(PH_CPU_INTC(h));
        cells[h * 4 + 3] = cpu_to_fdt32(irq_b);
    }
    return fdt_property(fdt, "interrupts-extended", cells, nharts * 4 * sizeof(fdt32_t));
}

static const struct riscv_virt_dev *find_kind(const struct riscv_virt_fdt_config *cfg,
                                              enum riscv_virt_kind kind)
{
    for (unsigned i = 0; i < cfg->ndevs; i++)
        if (cfg->devs[i].kind == kind)
            return &cfg->devs[i];
    return NULL;
}

static int node_chosen(void *fdt, const struct riscv_virt_fdt_config *cfg)
{
    char stdout_path[64];
    const struct riscv_virt_dev *uart = find_kind(cfg, RISCV_VIRT_UART);

    TRY(fdt_begin_node(fdt, "chosen"));
    if (cfg->bootargs)
        TRY(fdt_property_string(fdt, "bootargs", cfg->bootargs));
    if (uart) {
        snprintf(stdout_path, sizeof(stdout_path), "/soc/serial@%llx",
                 (unsigned long long)uart->base);
        TRY(fdt_property_string(fdt, "stdout-path", stdout_path));
    }
    if (cfg->initrd_start || cfg->initrd_end) {
        TRY(fdt_property_u64(fdt, "linux,initrd-start", cfg->initrd_start));
        TRY(fdt_property_u64(fdt, "linux,initrd-end", cfg->initrd_end));
    }
    TRY(fdt_end_node(fdt));
    return 0;
}

static int node_memory(void *fdt, const struct riscv_virt_fdt_config *cfg)
{
    TRY(begin_node_at(fdt, "memory", cfg->ram_base));
    TRY(fdt_property_string(fdt, "device_type", "memory"));
    TRY(prop_reg64(fdt, cfg->ram_base, cfg->ram_size));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int node_cpu(void *fdt, const struct riscv_virt_fdt_config *cfg, unsigned h)
{
    TRY(begin_node_at(fdt, "cpu", h));
    TRY(fdt_property_string(fdt, "device_type", "cpu"));
    TRY(fdt_property_cell(fdt, "reg", h));
    TRY(fdt_property_string(fdt, "status", "okay"));
    TRY(fdt_property_string(fdt, "compatible", "riscv"));
    TRY(fdt_property_string(fdt, "riscv,isa", cfg->isa));
    if (cfg->mmu_type)
        TRY(fdt_property_string(fdt, "mmu-type", cfg->mmu_type));

    TRY(fdt_begin_node(fdt, "interrupt-controller"));
    TRY(fdt_property_cell(fdt, "#address-cells", 0));
    TRY(fdt_property_cell(fdt, "#interrupt-cells", 1));
    TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
    TRY(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"));
    TRY(fdt_property_cell(fdt, "phandle", PH_CPU_INTC(h)));
    TRY(fdt_end_node(fdt));

    TRY(fdt_end_node(fdt));
    return 0;
}

static int node_cpus(void *fdt, const struct riscv_virt_fdt_config *cfg)
{
    TRY(fdt_begin_node(fdt, "cpus"));
    TRY(fdt_property_cell(fdt, "#address-cells", 1));
    TRY(fdt_property_cell(fdt, "#size-cells", 0));
    TRY(fdt_property_cell(fdt, "timebase-frequency", VIRT_TIMEBASE));
    for (unsigned h = 0; h < cfg->nharts; h++)
        TRY(node_cpu(fdt, cfg, h));
    TRY(fdt_end_node(fdt));
    return 0;
}

/* Memory the kernel must neither use nor map (the firmware, when there is no
 * PMP for OpenSBI to protect itself with and so add this node itself). */
static int node_reserved(void *fdt, const struct riscv_virt_fdt_config *cfg)
{
    TRY(fdt_begin_node(fdt, "reserved-memory"));
    TRY(fdt_property_cell(fdt, "#address-cells", 2));
    TRY(fdt_property_cell(fdt, "#size-cells", 2));
    TRY(fdt_property(fdt, "ranges", NULL, 0));
    TRY(begin_node_at(fdt, "mmode_resv0", cfg->reserved_base));
    TRY(prop_reg64(fdt, cfg->reserved_base, cfg->reserved_size));
    TRY(fdt_property(fdt, "no-map", NULL, 0));
    TRY(fdt_end_node(fdt));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int node_test(void *fdt, const struct riscv_virt_dev *d)
{
    static const char compat[] = "sifive,test1\0sifive,test0\0syscon\0simple-mfd";

    TRY(begin_node_at(fdt, "test", d->base));
    TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
    TRY(prop_reg64(fdt, d->base, d->size));
    TRY(fdt_property_cell(fdt, "phandle", PH_TEST));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int prop_plic_irq(void *fdt, unsigned irq)
{
    TRY(fdt_property_cell(fdt, "interrupt-parent", PH_PLIC));
    TRY(fdt_property_cell(fdt, "interrupts", irq));
    return 0;
}

static int node_rtc(void *fdt, const struct riscv_virt_dev *d)
{
    TRY(begin_node_at(fdt, "rtc", d->base));
    TRY(fdt_property_string(fdt, "compatible", "google,goldfish-rtc"));
    TRY(prop_reg64(fdt, d->base, d->size));
    TRY(prop_plic_irq(fdt, d->irq));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int node_vmgenid(void *fdt, const struct riscv_virt_dev *d)
{
    TRY(begin_node_at(fdt, "vmgenid", d->base));
    TRY(fdt_property_string(fdt, "compatible", "microsoft,vmgenid"));
    TRY(prop_reg64(fdt, d->base, d->size));
    TRY(prop_plic_irq(fdt, d->irq));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int node_clint(void *fdt, const struct riscv_virt_fdt_config *cfg,
                      const struct riscv_virt_dev *d)
{
    static const char compat[] = "sifive,clint0\0riscv,clint0";

    TRY(begin_node_at(fdt, "clint", d->base));
    TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
    TRY(prop_reg64(fdt, d->base, d->size));
    TRY(prop_irqs_ext(fdt, cfg->nharts, IRQ_M_SOFT, IRQ_M_TIMER));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int node_plic(void *fdt, const struct riscv_virt_fdt_config *cfg,
                     const struct riscv_virt_dev *d)
{
    static const char compat[] = "sifive,plic-1.0.0\0riscv,plic0";

    TRY(begin_node_at(fdt, "plic", d->base));
    TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
    TRY(prop_reg64(fdt, d->base, d->size));
    TRY(fdt_property_cell(fdt, "#address-cells", 0));
    TRY(fdt_property_cell(fdt, "#interrupt-cells", 1));
    TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
    /* Context 2h is hart h's M-mode external interrupt, 2h+1 its S-mode. */
    TRY(prop_irqs_ext(fdt, cfg->nharts, IRQ_M_EXT, IRQ_S_EXT));
    TRY(fdt_property_cell(fdt, "riscv,ndev", VIRT_PLIC_NDEV));
    TRY(fdt_property_cell(fdt, "phandle", PH_PLIC));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int node_serial(void *fdt, const struct riscv_virt_dev *d)
{
    TRY(begin_node_at(fdt, "serial", d->base));
    TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
    TRY(prop_reg64(fdt, d->base, d->size));
    TRY(fdt_property_cell(fdt, "clock-frequency", VIRT_UART_CLOCK));
    TRY(prop_plic_irq(fdt, d->irq));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int node_virtio(void *fdt, const struct riscv_virt_dev *d)
{
    TRY(begin_node_at(fdt, "virtio_mmio", d->base));
    TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
    TRY(prop_reg64(fdt, d->base, d->size));
    TRY(prop_plic_irq(fdt, d->irq));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int node_soc(void *fdt, const struct riscv_virt_fdt_config *cfg)
{
    TRY(fdt_begin_node(fdt, "soc"));
    TRY(fdt_property_cell(fdt, "#address-cells", 2));
    TRY(fdt_property_cell(fdt, "#size-cells", 2));
    TRY(fdt_property_string(fdt, "compatible", "simple-bus"));
    TRY(fdt_property(fdt, "ranges", NULL, 0));
    for (unsigned i = 0; i < cfg->ndevs; i++) {
        const struct riscv_virt_dev *d = &cfg->devs[i];
        switch (d->kind) {
        case RISCV_VIRT_SYSCON: TRY(node_test(fdt, d)); break;
        case RISCV_VIRT_RTC: TRY(node_rtc(fdt, d)); break;
        case RISCV_VIRT_ACLINT: TRY(node_clint(fdt, cfg, d)); break;
        case RISCV_VIRT_PLIC: TRY(node_plic(fdt, cfg, d)); break;
        case RISCV_VIRT_UART: TRY(node_serial(fdt, d)); break;
        case RISCV_VIRT_VIRTIO: TRY(node_virtio(fdt, d)); break;
        case RISCV_VIRT_VMGENID: TRY(node_vmgenid(fdt, d)); break;
        }
    }
    TRY(fdt_end_node(fdt));
    return 0;
}

/* syscon-poweroff / syscon-reboot drive the test device through its regmap;
 * top-level nodes, as in QEMU virt. */
static int node_syscon_action(void *fdt, const char *name, const char *compat, uint32_t value)
{
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property_string(fdt, "compatible", compat));
    TRY(fdt_property_cell(fdt, "regmap", PH_TEST));
    TRY(fdt_property_cell(fdt, "offset", 0));
    TRY(fdt_property_cell(fdt, "value", value));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int check_config(const struct riscv_virt_fdt_config *cfg, struct error *err)
{
    if (cfg->nharts == 0 || cfg->nharts > VIRT_MAX_HARTS)
        return error_set(err, -EINVAL, "device tree: %u harts configured; riscv-virt supports 1 to %u",
                         cfg->nharts, VIRT_MAX_HARTS);
    if (cfg->ram_size == 0 || cfg->ram_base + cfg->ram_size < cfg->ram_base)
        return error_set(err, -EINVAL, "device tree: RAM of 0x%llx bytes at 0x%llx is empty or wraps",
                         (unsigned long long)cfg->ram_size, (unsigned long long)cfg->ram_base);
    if (!cfg->isa || !cfg->isa[0])
        return error_set(err, -EINVAL, "device tree: no ISA string configured for the harts");
    if (cfg->ndevs && !cfg->devs)
        return error_set(err, -EINVAL, "device tree: %u devices but no table", cfg->ndevs);
    unsigned nvirtio = 0;
    for (unsigned i = 0; i < cfg->ndevs; i++) {
        const struct riscv_virt_dev *d = &cfg->devs[i];
        if (d->kind == RISCV_VIRT_VIRTIO)
            nvirtio++;
        if (d->size == 0 || d->base + d->size < d->base)
            return error_set(err, -EINVAL, "device tree: device %.16s at 0x%llx is empty or wraps",
                             d->name, (unsigned long long)d->base);
    }
    if (nvirtio > RISCV_VIRT_VIRTIO_SLOTS)
        return error_set(err, -EINVAL, "device tree: %u virtio-mmio slots configured; riscv-virt has %u",
                         nvirtio, RISCV_VIRT_VIRTIO_SLOTS);
    if (cfg->initrd_end < cfg->initrd_start)
        return error_set(err, -EINVAL, "device tree: initrd end 0x%llx lies before its start 0x%llx",
                         (unsigned long long)cfg->initrd_end, (unsigned long long)cfg->initrd_start);
    if (cfg->reserved_size && cfg->reserved_base + cfg->reserved_size < cfg->reserved_base)
        return error_set(err, -EINVAL, "device tree: reserved region at 0x%llx wraps",
                         (unsigned long long)cfg->reserved_base);
    return 0;
}

static int build(const struct riscv_virt_fdt_config *cfg, void *fdt, size_t bufsize)
{
    TRY(fdt_create(fdt, (int)bufsize));
    TRY(fdt_finish_reservemap(fdt));
    TRY(fdt_begin_node(fdt, ""));
    TRY(fdt_property_cell(fdt, "#address-cells", 2));
    TRY(fdt_property_cell(fdt, "#size-cells", 2));
    TRY(fdt_property_string(fdt, "compatible", "riscv-virtio"));
    TRY(fdt_property_string(fdt, "model", "condo,riscv-virt"));
    TRY(node_chosen(fdt, cfg));
    TRY(node_memory(fdt, cfg));
    TRY(node_cpus(fdt, cfg));
    if (cfg->reserved_size)
        TRY(node_reserved(fdt, cfg));
    TRY(node_soc(fdt, cfg));
    TRY(node_syscon_action(fdt, "poweroff", "syscon-poweroff", FINISHER_PASS));
    TRY(node_syscon_action(fdt, "reboot", "syscon-reboot", FINISHER_RESET));
    TRY(fdt_end_node(fdt));
    TRY(fdt_finish(fdt));
    /* Spread the finished tree over the whole buffer: the free space lets
     * firmware and kernel edit the tree in place (OpenSBI adds nodes). */
    TRY(fdt_open_into(fdt, fdt, (int)bufsize));
    TRY(fdt_check_header(fdt));
    return 0;
}

int riscv_virt_build_fdt(const struct riscv_virt_fdt_config *cfg, void *buf, size_t bufsize,
                         struct error *err)
{
    if (!cfg || !buf)
        return error_set(err, -EINVAL, "device tree: no configuration or buffer");
    if (bufsize > INT32_MAX || bufsize < sizeof(struct fdt_header))
        return bufsize < sizeof(struct fdt_header)
                   ? error_set(err, -ENOSPC, "device tree: a %zu-byte buffer is too small", bufsize)
                   : error_set(err, -EINVAL, "device tree: a %zu-byte buffer is too large", bufsize);
    int r = check_config(cfg, err);
    if (r < 0)
        return r;
    r = fdt_errno(build(cfg, buf, bufsize));
    if (r == -ENOSPC)
        return error_set(err, r, "device tree: it does not fit in %zu bytes", bufsize);
    if (r < 0)
        return error_set_errno(err, r, "device tree: building it failed");
    return 0;
}
