/* The riscv-virt device tree: every node and property OpenSBI and Linux
 * look for, checked with libfdt; bad configurations and small buffers are
 * refused cleanly; `dtc` (when installed) decompiles it without warnings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include "condo/riscv_virt.h"

#define BUFSZ 0x10000

static uint8_t buf[BUFSZ];

/* The board's table with n virtio slots (n may exceed the board's slots:
 * then the extra rows are made up, for the bad-config checks). */
static struct riscv_virt_dev devs[RISCV_VIRT_MAX_DEVS + 8];

static void set_virtio(struct riscv_virt_fdt_config *cfg, unsigned n)
{
    unsigned k = n > RISCV_VIRT_VIRTIO_SLOTS ? RISCV_VIRT_VIRTIO_SLOTS : n;
    int count = riscv_virt_layout(k, devs);
    assert_true(count > 0);
    int last = count - 1; /* the last virtio slot (the VM generation ID follows it) */
    while (last > 0 && devs[last].kind != RISCV_VIRT_VIRTIO)
        last--;
    for (unsigned i = k; i < n; i++) {
        devs[count] = devs[last];
        devs[count].base += 0x1000 * (i - k + 1);
        devs[count].irq += i - k + 1;
        count++;
    }
    cfg->devs = devs;
    cfg->ndevs = (unsigned)count;
}

static struct riscv_virt_fdt_config base_cfg(void)
{
    return (struct riscv_virt_fdt_config){
        .nharts = 1,
        .ram_base = 0x80000000ull,
        .ram_size = 512ull << 20,
        .isa = "rv64imafdc_zicntr_zicsr_zifencei_sstc",
        .mmu_type = "riscv,sv48",
        .bootargs = "console=ttyS0 earlycon",
        .initrd_start = 0x84000000ull,
        .initrd_end = 0x84123456ull,
        .reserved_base = 0,
        .reserved_size = 0,
    };
}

static struct riscv_virt_fdt_config base_cfg2(void)
{
    struct riscv_virt_fdt_config c = base_cfg();
    set_virtio(&c, 2);
    return c;
}

static int node(const void *fdt, const char *path)
{
    int off = fdt_path_offset(fdt, path);
    if (off < 0)
        fail_msg("node %s missing: %s", path, fdt_strerror(off));
    return off;
}

static const void *prop(const void *fdt, int off, const char *name, int *len)
{
    const void *p = fdt_getprop(fdt, off, name, len);
    if (!p)
        fail_msg("property %s missing", name);
    return p;
}

static uint32_t cell(const void *fdt, int off, const char *name)
{
    int len;
    const fdt32_t *p = prop(fdt, off, name, &len);
    assert_int_equal(len, 4);
    return fdt32_to_cpu(*p);
}

static uint64_t u64prop(const void *fdt, int off, const char *name)
{
    int len;
    const void *p = prop(fdt, off, name, &len);
    assert_int_equal(len, 8);
    fdt64_t v; /* properties are only 4-byte aligned in the blob */
    memcpy(&v, p, sizeof(v));
    return fdt64_to_cpu(v);
}

static void check_str(const void *fdt, int off, const char *name, const char *want)
{
    int len;
    const char *s = prop(fdt, off, name, &len);
    assert_int_equal(len, (int)strlen(want) + 1);
    assert_string_equal(s, want);
}

static void check_reg(const void *fdt, int off, uint64_t addr, uint64_t size)
{
    int len;
    const fdt32_t *p = prop(fdt, off, "reg", &len);
    assert_int_equal(len, 16);
    uint64_t a = ((uint64_t)fdt32_to_cpu(p[0]) << 32) | fdt32_to_cpu(p[1]);
    uint64_t s = ((uint64_t)fdt32_to_cpu(p[2]) << 32) | fdt32_to_cpu(p[3]);
    assert_true(a == addr);
    assert_true(s == size);
}

static void check_compat(const void *fdt, int off, const char *c)
{
    if (fdt_node_check_compatible(fdt, off, c) != 0)
        fail_msg("node %s not compatible with %s", fdt_get_name(fdt, off, NULL), c);
}

static void check_has(const void *fdt, int off, const char *name)
{
    int len = -1;
    assert_non_null(fdt_getprop(fdt, off, name, &len));
    assert_int_equal(len, 0); /* boolean property */
}

static uint32_t plic_phandle(const void *fdt)
{
    return fdt_get_phandle(fdt, node(fdt, "/soc/plic@c000000"));
}

/* interrupt-parent = PLIC and interrupts = <irq>. */
static void check_plic_irq(const void *fdt, int off, uint32_t irq)
{
    assert_int_equal(cell(fdt, off, "interrupt-parent"), plic_phandle(fdt));
    assert_int_equal(cell(fdt, off, "interrupts"), irq);
}

static void build(const struct riscv_virt_fdt_config *cfg)
{
    memset(buf, 0xa5, sizeof(buf));
    assert_int_equal(riscv_virt_build_fdt(cfg, buf, sizeof(buf), NULL), 0);
    assert_int_equal(fdt_check_header(buf), 0);
    assert_int_equal(fdt_totalsize(buf), sizeof(buf));
}

static void test_root_chosen_memory(void **state)
{
    (void)state;
    struct riscv_virt_fdt_config cfg = base_cfg2();
    build(&cfg);
    int root = node(buf, "/");
    assert_int_equal(cell(buf, root, "#address-cells"), 2);
    assert_int_equal(cell(buf, root, "#size-cells"), 2);
    check_compat(buf, root, "riscv-virtio");

    int ch = node(buf, "/chosen");
    check_str(buf, ch, "bootargs", "console=ttyS0 earlycon");
    check_str(buf, ch, "stdout-path", "/soc/serial@10000000");
    assert_true(u64prop(buf, ch, "linux,initrd-start") == 0x84000000ull);
    assert_true(u64prop(buf, ch, "linux,initrd-end") == 0x84123456ull);
    /* stdout-path names a real node. */
    const char *sp = fdt_getprop(buf, ch, "stdout-path", NULL);
    assert_true(fdt_path_offset(buf, sp) >= 0);

    int mem = node(buf, "/memory@80000000");
    check_str(buf, mem, "device_type", "memory");
    check_reg(buf, mem, 0x80000000ull, 512ull << 20);

    /* No initrd, no bootargs: the properties are absent. */
    cfg.bootargs = NULL;
    cfg.initrd_start = cfg.initrd_end = 0;
    build(&cfg);
    ch = node(buf, "/chosen");
    assert_null(fdt_getprop(buf, ch, "bootargs", NULL));
    assert_null(fdt_getprop(buf, ch, "linux,initrd-start", NULL));
    assert_null(fdt_getprop(buf, ch, "linux,initrd-end", NULL));
    assert_non_null(fdt_getprop(buf, ch, "stdout-path", NULL));
    assert_true(fdt_path_offset(buf, "/reserved-memory") < 0);
}

static void test_cpus(void **state)
{
    (void)state;
    struct riscv_virt_fdt_config cfg = base_cfg2();
    cfg.nharts = 2;
    build(&cfg);
    int cpus = node(buf, "/cpus");
    assert_int_equal(cell(buf, cpus, "timebase-frequency"), 10000000);
    assert_int_equal(cell(buf, cpus, "#address-cells"), 1);
    assert_int_equal(cell(buf, cpus, "#size-cells"), 0);
    uint32_t intc_ph[2];
    for (unsigned h = 0; h < 2; h++) {
        char path[64];
        snprintf(path, sizeof(path), "/cpus/cpu@%u", h);
        int c = node(buf, path);
        check_str(buf, c, "device_type", "cpu");
        assert_int_equal(cell(buf, c, "reg"), h);
        check_str(buf, c, "status", "okay");
        check_compat(buf, c, "riscv");
        check_str(buf, c, "riscv,isa", cfg.isa);
        check_str(buf, c, "mmu-type", "riscv,sv48");
        snprintf(path, sizeof(path), "/cpus/cpu@%u/interrupt-controller", h);
        int ic = node(buf, path);
        check_compat(buf, ic, "riscv,cpu-intc");
        assert_int_equal(cell(buf, ic, "#interrupt-cells"), 1);
        check_has(buf, ic, "interrupt-controller");
        intc_ph[h] = fdt_get_phandle(buf, ic);
        assert_true(intc_ph[h] != 0 && intc_ph[h] != ~0u);
        assert_int_equal(fdt_node_offset_by_phandle(buf, intc_ph[h]), ic);
    }
    assert_int_not_equal(intc_ph[0], intc_ph[1]);
    assert_true(fdt_path_offset(buf, "/cpus/cpu@2") < 0);

    /* PLIC: M-mode (11) and S-mode (9) external per hart, in context order. */
    int plic = node(buf, "/soc/plic@c000000");
    int len;
    const fdt32_t *ie = prop(buf, plic, "interrupts-extended", &len);
    assert_int_equal(len, 2 * 4 * 4);
    for (unsigned h = 0; h < 2; h++) {
        assert_int_equal(fdt32_to_cpu(ie[h * 4 + 0]), intc_ph[h]);
        assert_int_equal(fdt32_to_cpu(ie[h * 4 + 1]), 11);
        assert_int_equal(fdt32_to_cpu(ie[h * 4 + 2]), intc_ph[h]);
        assert_int_equal(fdt32_to_cpu(ie[h * 4 + 3]), 9);
    }
    /* CLINT: M software (3) and M timer (7) per hart. */
    int clint = node(buf, "/soc/clint@2000000");
    ie = prop(buf, clint, "interrupts-extended", &len);
    assert_int_equal(len, 2 * 4 * 4);
    for (unsigned h = 0; h < 2; h++) {
        assert_int_equal(fdt32_to_cpu(ie[h * 4 + 0]), intc_ph[h]);
        assert_int_equal(fdt32_to_cpu(ie[h * 4 + 1]), 3);
        assert_int_equal(fdt32_to_cpu(ie[h * 4 + 2]), intc_ph[h]);
        assert_int_equal(fdt32_to_cpu(ie[h * 4 + 3]), 7);
    }

    /* mmu-type may be left out (bare-metal configurations). */
    cfg.mmu_type = NULL;
    build(&cfg);
    assert_null(fdt_getprop(buf, node(buf, "/cpus/cpu@0"), "mmu-type", NULL));
}

static void test_soc_devices(void **state)
{
    (void)state;
    struct riscv_virt_fdt_config cfg = base_cfg2();
    build(&cfg);
    int soc = node(buf, "/soc");
    check_compat(buf, soc, "simple-bus");
    check_has(buf, soc, "ranges");
    assert_int_equal(cell(buf, soc, "#address-cells"), 2);
    assert_int_equal(cell(buf, soc, "#size-cells"), 2);

    int uart = node(buf, "/soc/serial@10000000");
    check_compat(buf, uart, "ns16550a");
    check_reg(buf, uart, 0x10000000, 0x100);
    assert_int_equal(cell(buf, uart, "clock-frequency"), 3686400);
    check_plic_irq(buf, uart, 10);

    int plic = node(buf, "/soc/plic@c000000");
    check_compat(buf, plic, "riscv,plic0");
    check_compat(buf, plic, "sifive,plic-1.0.0");
    check_reg(buf, plic, 0xc000000, 0x600000);
    check_has(buf, plic, "interrupt-controller");
    assert_int_equal(cell(buf, plic, "#interrupt-cells"), 1);
    assert_int_equal(cell(buf, plic, "riscv,ndev"), 95);

    int clint = node(buf, "/soc/clint@2000000");
    check_compat(buf, clint, "sifive,clint0");
    check_compat(buf, clint, "riscv,clint0");
    check_reg(buf, clint, 0x2000000, 0x10000);

    int rtc = node(buf, "/soc/rtc@101000");
    check_compat(buf, rtc, "google,goldfish-rtc");
    check_reg(buf, rtc, 0x101000, 0x1000);
    check_plic_irq(buf, rtc, 11);

    /* Linux's drivers/virt/vmgenid.c: one reg (the 16-byte ID), one interrupt */
    int gen = node(buf, "/soc/vmgenid@102000");
    check_compat(buf, gen, "microsoft,vmgenid");
    check_reg(buf, gen, 0x102000, 0x1000);
    check_plic_irq(buf, gen, 12);

    int test = node(buf, "/soc/test@100000");
    static const char *const test_compat[] = {"sifive,test1", "sifive,test0", "syscon",
                                              "simple-mfd"};
    for (unsigned i = 0; i < 4; i++) {
        check_compat(buf, test, test_compat[i]);
        assert_int_equal(fdt_stringlist_search(buf, test, "compatible", test_compat[i]), (int)i);
    }
    check_reg(buf, test, 0x100000, 0x1000);
    uint32_t test_ph = fdt_get_phandle(buf, test);
    assert_true(test_ph != 0);

    int po = node(buf, "/poweroff");
    check_compat(buf, po, "syscon-poweroff");
    assert_int_equal(cell(buf, po, "regmap"), test_ph);
    assert_int_equal(cell(buf, po, "offset"), 0);
    assert_int_equal(cell(buf, po, "value"), 0x5555);
    int rb = node(buf, "/reboot");
    check_compat(buf, rb, "syscon-reboot");
    assert_int_equal(cell(buf, rb, "regmap"), test_ph);
    assert_int_equal(cell(buf, rb, "offset"), 0);
    assert_int_equal(cell(buf, rb, "value"), 0x7777);

    /* Phandles are unique across the tree. */
    uint32_t seen[64];
    unsigned n = 0;
    for (int off = fdt_next_node(buf, -1, NULL); off >= 0; off = fdt_next_node(buf, off, NULL)) {
        uint32_t ph = fdt_get_phandle(buf, off);
        if (!ph)
            continue;
        for (unsigned i = 0; i < n; i++)
            assert_int_not_equal(seen[i], ph);
        assert_true(n < ARRAY_SIZE(seen));
        seen[n++] = ph;
    }
    assert_true(n >= 3);
}

static void test_virtio_slots(void **state)
{
    (void)state;
    for (unsigned nv = 0; nv <= 8; nv++) {
        struct riscv_virt_fdt_config cfg = base_cfg2();
        set_virtio(&cfg, nv);
        build(&cfg);
        /* Nodes appear in ascending slot order (the order Linux probes). */
        int prev = -1;
        for (unsigned i = 0; i < 8; i++) {
            char path[64];
            uint64_t base = 0x10001000ull + i * 0x1000;
            snprintf(path, sizeof(path), "/soc/virtio_mmio@%llx", (unsigned long long)base);
            int off = fdt_path_offset(buf, path);
            if (i >= nv) {
                assert_true(off < 0);
                continue;
            }
            assert_true(off > prev);
            prev = off;
            check_compat(buf, off, "virtio,mmio");
            check_reg(buf, off, base, 0x1000);
            check_plic_irq(buf, off, 1 + i);
        }
        /* And no others. */
        assert_true(fdt_node_offset_by_compatible(buf, -1, "virtio,mmio") < 0 || nv > 0);
        int count = 0;
        for (int off = fdt_node_offset_by_compatible(buf, -1, "virtio,mmio"); off >= 0;
             off = fdt_node_offset_by_compatible(buf, off, "virtio,mmio"))
            count++;
        assert_int_equal(count, (int)nv);
    }
}

static void test_reserved_memory(void **state)
{
    (void)state;
    struct riscv_virt_fdt_config cfg = base_cfg2();
    cfg.reserved_base = 0x80000000ull;
    cfg.reserved_size = 0x80000;
    build(&cfg);
    int rm = node(buf, "/reserved-memory");
    assert_int_equal(cell(buf, rm, "#address-cells"), 2);
    assert_int_equal(cell(buf, rm, "#size-cells"), 2);
    check_has(buf, rm, "ranges");
    int n = node(buf, "/reserved-memory/mmode_resv0@80000000");
    check_reg(buf, n, 0x80000000ull, 0x80000);
    check_has(buf, n, "no-map");
}

static void test_bad_configs(void **state)
{
    (void)state;
    struct riscv_virt_fdt_config cfg;

    assert_int_equal(riscv_virt_build_fdt(NULL, buf, sizeof(buf), NULL), -EINVAL);
    cfg = base_cfg2();
    assert_int_equal(riscv_virt_build_fdt(&cfg, NULL, sizeof(buf), NULL), -EINVAL);
    cfg.nharts = 0;
    assert_int_equal(riscv_virt_build_fdt(&cfg, buf, sizeof(buf), NULL), -EINVAL);
    cfg.nharts = 9;
    assert_int_equal(riscv_virt_build_fdt(&cfg, buf, sizeof(buf), NULL), -EINVAL);
    cfg = base_cfg2();
    set_virtio(&cfg, 9);
    assert_int_equal(riscv_virt_build_fdt(&cfg, buf, sizeof(buf), NULL), -EINVAL);
    cfg = base_cfg2();
    cfg.isa = NULL;
    assert_int_equal(riscv_virt_build_fdt(&cfg, buf, sizeof(buf), NULL), -EINVAL);
    cfg = base_cfg2();
    cfg.ram_size = 0;
    assert_int_equal(riscv_virt_build_fdt(&cfg, buf, sizeof(buf), NULL), -EINVAL);
    cfg = base_cfg2();
    cfg.ram_base = ~0ull - 10;
    assert_int_equal(riscv_virt_build_fdt(&cfg, buf, sizeof(buf), NULL), -EINVAL);
    cfg = base_cfg2();
    cfg.initrd_end = cfg.initrd_start - 1;
    assert_int_equal(riscv_virt_build_fdt(&cfg, buf, sizeof(buf), NULL), -EINVAL);
    cfg = base_cfg2();
    cfg.reserved_base = ~0ull;
    cfg.reserved_size = 2;
    assert_int_equal(riscv_virt_build_fdt(&cfg, buf, sizeof(buf), NULL), -EINVAL);

    /* Every buffer too small fails with -ENOSPC, never overruns. */
    cfg = base_cfg2();
    cfg.nharts = 8;
    set_virtio(&cfg, 8);
    cfg.reserved_size = 0x1000;
    static uint8_t small[BUFSZ + 64];
    /* Bisect for the smallest size that works; check a spread of sizes. */
    size_t lo = 0, hi = BUFSZ; /* lo fails, hi works */
    size_t probes[24];
    unsigned np = 0;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        memset(small, 0x5a, sizeof(small));
        int r = riscv_virt_build_fdt(&cfg, small, mid, NULL);
        for (size_t i = mid; i < sizeof(small); i++)
            if (small[i] != 0x5a)
                fail_msg("wrote past a %zu-byte buffer at %zu", mid, i);
        if (r == 0) {
            assert_int_equal(fdt_check_header(small), 0);
            assert_int_equal(fdt_totalsize(small), mid);
            hi = mid;
        } else {
            assert_int_equal(r, -ENOSPC);
            lo = mid;
        }
        assert_true(np < ARRAY_SIZE(probes));
        probes[np++] = mid;
    }
    static const size_t tiny[] = {0, 1, 8, 39, 40, 41, 47, 100};
    for (unsigned t = 0; t < ARRAY_SIZE(tiny); t++) {
        size_t sz = tiny[t];
        memset(small, 0x5a, sizeof(small));
        assert_int_equal(riscv_virt_build_fdt(&cfg, small, sz, NULL), -ENOSPC);
        for (size_t i = sz; i < sizeof(small); i++)
            assert_int_equal(small[i], 0x5a);
    }
    size_t need = hi;
    assert_true(need > 0);
}

/* Decompile with dtc, as a human would inspect it; dtc's checks must find
 * nothing to warn about. dtc (device-tree-compiler) is installed by
 * scripts/install-deps.sh: without it this test fails. */
static void test_dtc(void **state)
{
    (void)state;
    if (system("command -v dtc >/dev/null 2>&1") != 0) {
        print_error("dtc not found: install device-tree-compiler (scripts/install-deps.sh)\n");
        fail();
    }
    struct riscv_virt_fdt_config cfg = base_cfg2();
    cfg.nharts = 2;
    set_virtio(&cfg, 8);
    cfg.reserved_base = 0x80000000ull;
    cfg.reserved_size = 0x80000;
    build(&cfg);
    char dtb[] = "/tmp/condo-test-fdt-XXXXXX";
    int fd = mkstemp(dtb);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, fdt_totalsize(buf)), (ssize_t)fdt_totalsize(buf));
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "dtc -q -I dtb -O dts -o /dev/null %s 2>&1 && "
             "dtc -I dtb -O dts -o /dev/null %s 2>&1", dtb, dtb);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    int st = pclose(p);
    unlink(dtb);
    if (n)
        print_message("dtc says:\n%s", out);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_chosen_memory),
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_soc_devices),
        cmocka_unit_test(test_virtio_slots),
        cmocka_unit_test(test_reserved_memory),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_dtc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
