/* Every register a guest can reach, in every device of the board, written
 * and read with every access size (1, 2, 4, 8 bytes, aligned and not) and
 * with extreme values (0, 1, all ones, INT64_MAX, INT64_MIN, ...): syscon,
 * goldfish RTC, ACLINT (mtime, mtimecmp, msip), PLIC (priorities, pending,
 * enables, thresholds, claims, absent sources and contexts), the UART (with
 * and without DLAB) and all eight virtio-mmio slots (their registers and
 * config space; run with a disk, a NIC and --balloon so blk, net, rng,
 * input and the balloon are there).
 * Besides the known registers each window is probed just past them and at
 * its last word. After each device the hart spins for a few CPU slices so
 * the VM loop ticks the timers and devices with whatever the storm left.
 *
 * An access may complete or raise an access fault (or a misaligned trap);
 * anything else fails. The test passes when condo is still alive at the
 * end: `make check-hostile` runs it against the ASan/UBSan build
 * (build-asan/condo), where any undefined behaviour or bad memory access a
 * guest can reach aborts the run. The syscon finisher values (0x3333,
 * 0x5555, 0x7777 in the low half-word) are never among the values, so the
 * storm cannot power the VM off. */
#include "lib.h"

#define SYSCON_BASE 0x00100000ull
#define RTC_BASE 0x00101000ull
#define VIRTIO_BASE 0x10001000ull
#define VIRTIO_SLOTS 8

static const uint64_t values[] = {
    0x0000000000000000ull, 0x0000000000000001ull, 0x000000000000007full,
    0x0000000000000080ull, 0xffffffffffffffffull, 0x7fffffffffffffffull,
    0x8000000000000000ull, 0x00000000ffffffffull, 0xffffffff00000000ull,
    0x000000007fffffffull, 0x0000000080000000ull, 0x5a5a5a5a5a5a5a5aull,
};

/* try_call takes one argument: the access goes through these. */
static volatile uint64_t acc_addr, acc_value;

static long st8(long unused) { (void)unused; *(volatile uint8_t *)acc_addr = (uint8_t)acc_value; return 0; }
static long st16(long unused) { (void)unused; *(volatile uint16_t *)acc_addr = (uint16_t)acc_value; return 0; }
static long st32(long unused) { (void)unused; *(volatile uint32_t *)acc_addr = (uint32_t)acc_value; return 0; }
static long st64(long unused) { (void)unused; *(volatile uint64_t *)acc_addr = acc_value; return 0; }
static long ld8(long unused) { (void)unused; return *(volatile uint8_t *)acc_addr; }
static long ld16(long unused) { (void)unused; return *(volatile uint16_t *)acc_addr; }
static long ld32(long unused) { (void)unused; return *(volatile uint32_t *)acc_addr; }
static long ld64(long unused) { (void)unused; return (long)*(volatile uint64_t *)acc_addr; }

static long (*const stores[4])(long) = { st8, st16, st32, st64 };
static long (*const loads[4])(long) = { ld8, ld16, ld32, ld64 };

static unsigned long accesses, faults;

/* One access: 0 when it completed or faulted as a bus may make it fault. */
static long access(long (*fn)(long), uint64_t addr, uint64_t value)
{
    acc_addr = addr;
    acc_value = value;
    long r = try_call(fn, 0);
    accesses++;
    if (r == -1)
        return 0;
    faults++;
    if (r == CAUSE_LOAD_ACCESS || r == CAUSE_STORE_ACCESS || r == CAUSE_MISALIGNED_LOAD ||
        r == CAUSE_MISALIGNED_STORE)
        return 0;
    return r + 1;
}

/* Every size and value at base+off (and misaligned by one byte), each
 * write followed by a read of the same size. */
static long storm_reg(uint64_t addr)
{
    for (unsigned s = 0; s < 4; s++) {
        for (unsigned v = 0; v < sizeof values / sizeof values[0]; v++) {
            long r = access(stores[s], addr, values[v]);
            if (!r)
                r = access(loads[s], addr, 0);
            if (!r && s > 0 && v == 4) {
                r = access(stores[s], addr + 1, values[v]);
                if (!r)
                    r = access(loads[s], addr + 1, 0);
            }
            if (r)
                return r;
        }
    }
    return 0;
}

static long storm_list(uint64_t base, const uint32_t *offs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        long r = storm_reg(base + offs[i]);
        if (r)
            return r;
    }
    return 0;
}

/* A few CPU slices (the VM loop runs every 100 000 instructions): timers,
 * the RTC alarm and the devices' polls run on the state the storm left. */
static void spin(void)
{
    for (volatile unsigned long i = 0; i < 150000; i++)
        ;
}

static const uint32_t syscon_regs[] = { 0x0, 0x4, 0x8, 0x10, 0xffc };
static const uint32_t rtc_regs[] = { 0x00, 0x04, 0x08, 0x0c, 0x10, 0x14,
                                     0x18, 0x1c, 0x20, 0x24, 0xffc };
static const uint32_t aclint_regs[] = {
    0x0000, 0x0004, 0x0020, 0x3ffc,         /* msip: hart 0, absent harts */
    0x4000, 0x4004, 0x4008, 0x4038, 0xbff0, /* mtimecmp: hart 0, absent */
    0xbff8, 0xbffc, 0xc000, 0xfff8, 0xfffc, /* mtime, past it, the end */
    0x4000,                                 /* mtimecmp again, after mtime */
};
static const uint32_t plic_regs[] = {
    0x000000, 0x000004, 0x000028, 0x00002c, 0x00017c, 0x000180, 0x000ffc, /* priority */
    0x001000, 0x001004, 0x001008, 0x00100c, 0x001080, 0x001ffc,           /* pending */
    0x002000, 0x002004, 0x00200c, 0x002010, 0x002080, 0x002084,           /* enables */
    0x002780, 0x002800, 0x1f1ffc,                                         /* ctx 15, 16 */
    0x200000, 0x200004, 0x200008, 0x201000, 0x201004,                     /* threshold, claim */
    0x202000, 0x202004, 0x20f000, 0x20f004, 0x210000, 0x210004, 0x5ffffc, /* absent ctxs */
    0x200004, 0x201004,                                                   /* claim again */
};
static const uint32_t uart_regs[] = { 0, 1, 2, 3, 4, 5, 6, 7, 3, 0, 1, 8, 0xfc, 0xff, 3 };

long test_main(void)
{
    long r;
    if ((r = storm_list(SYSCON_BASE, syscon_regs, sizeof syscon_regs / 4)))
        return 10 + (r > 16 ? 16 : r);
    spin();
    if ((r = storm_list(RTC_BASE, rtc_regs, sizeof rtc_regs / 4)))
        return 30 + (r > 16 ? 16 : r);
    spin();
    if ((r = storm_list(CLINT_BASE, aclint_regs, sizeof aclint_regs / 4)))
        return 50 + (r > 16 ? 16 : r);
    spin();
    if ((r = storm_list(PLIC_BASE, plic_regs, sizeof plic_regs / 4)))
        return 70 + (r > 16 ? 16 : r);
    spin();
    if ((r = storm_list(UART0_BASE, uart_regs, sizeof uart_regs / 4)))
        return 90 + (r > 16 ? 16 : r);
    spin();
    /* virtio-mmio: the transport registers, then the config space. */
    for (unsigned slot = 0; slot < VIRTIO_SLOTS; slot++) {
        uint64_t base = VIRTIO_BASE + slot * 0x1000ull;
        for (uint32_t off = 0; off < 0x200; off += 4)
            if ((r = storm_reg(base + off)))
                return 110 + (r > 16 ? 16 : r);
        if ((r = storm_reg(base + 0xffc)))
            return 130 + (r > 16 ? 16 : r);
        spin();
    }
    /* Everything once more, now that every device is in a strange state. */
    if ((r = storm_list(CLINT_BASE, aclint_regs, sizeof aclint_regs / 4)) ||
        (r = storm_list(RTC_BASE, rtc_regs, sizeof rtc_regs / 4)) ||
        (r = storm_list(PLIC_BASE, plic_regs, sizeof plic_regs / 4)))
        return 150 + (r > 16 ? 16 : r);
    spin();
    /* The storm must have reached devices: most accesses completed. */
    CHECK(200, accesses > 50000 && faults < accesses);
    return 0;
}
