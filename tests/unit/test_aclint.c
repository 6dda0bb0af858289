/* ACLINT (CLINT layout): MSIP, MTIMECMP with 8-byte and 4-byte accesses,
 * MTIME tied to the VM clock, MTIP following time, save/load continuing.
 * The VM clock reads a fake host clock that only the test moves: every
 * time is exact and nothing depends on how fast the machine runs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "condo/dev_aclint.h"
#include "state_check.h"

#define NHARTS 2
#define MSIP(h) (4u * (h))
#define MTIMECMP(h) (0x4000u + 8u * (h))
#define MTIME 0xbff8u

struct cpus {
    uint32_t mip[ACLINT_MAX_HARTS];
    unsigned calls;
};

static void set_mip(void *opaque, unsigned hart, uint32_t mask, int level)
{
    struct cpus *c = opaque;
    assert_true(hart < NHARTS);
    assert_true(mask == ACLINT_MIP_MSIP || mask == ACLINT_MIP_MTIP);
    if (level)
        c->mip[hart] |= mask;
    else
        c->mip[hart] &= ~mask;
    c->calls++;
}

/* The fake host clock (nanoseconds); starts far from zero so offsets are
 * exercised. */
static uint64_t fake_ns;

static uint64_t fake_monotonic(void *opaque)
{
    (void)opaque;
    return fake_ns;
}

static const struct vm_clock_source fake_source = { fake_monotonic, NULL, NULL };

static void advance_ms(unsigned ms)
{
    fake_ns += (uint64_t)ms * 1000000ull;
}

struct fixture {
    struct vm_clock clk;
    struct aclint a;
    struct cpus cpu;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    memset(f.cpu.mip, 0xff, sizeof(f.cpu.mip)); /* prove init drives them */
    fake_ns = 123456789000ull;
    vm_clock_init_source(&f.clk, &fake_source);
    aclint_init(&f.a, NHARTS, &f.clk, set_mip, &f.cpu);
    *state = &f;
    return 0;
}

static uint64_t rd(struct aclint *a, uint32_t off, unsigned size)
{
    uint64_t v = 0xdeadbeefdeadbeefull;
    aclint_ops.read(a, off, size, &v);
    if (size == 4)
        assert_true(v <= 0xffffffffu);
    return v;
}

static void wr(struct aclint *a, uint32_t off, unsigned size, uint64_t v)
{
    aclint_ops.write(a, off, size, v);
}

static void test_init(void **state)
{
    struct fixture *f = *state;
    for (unsigned h = 0; h < NHARTS; h++) {
        assert_int_equal(f->cpu.mip[h] & (ACLINT_MIP_MSIP | ACLINT_MIP_MTIP), 0);
        assert_int_equal(rd(&f->a, MSIP(h), 4), 0);
        assert_true(rd(&f->a, MTIMECMP(h), 8) == UINT64_MAX);
    }
    assert_true(aclint_next_deadline(&f->a) == UINT64_MAX);
    aclint_update(&f->a);
    assert_int_equal(f->cpu.mip[0] & ACLINT_MIP_MTIP, 0);
}

static void test_mtime(void **state)
{
    struct fixture *f = *state;
    /* A fresh board starts at zero. */
    assert_int_equal(rd(&f->a, MTIME, 8), 0);
    uint64_t t0 = rd(&f->a, MTIME, 8);
    advance_ms(2);
    uint64_t t1 = rd(&f->a, MTIME, 8);
    assert_int_equal(t1, t0 + 20000); /* 10 MHz: 2 ms = 20000 ticks */
    assert_int_equal(vm_clock_mtime(&f->clk), t1);
    fake_ns += 99; /* less than a tick */
    assert_int_equal(rd(&f->a, MTIME, 8), t1);
    fake_ns += 1;
    assert_int_equal(rd(&f->a, MTIME, 8), t1 + 1);

    /* Writing mtime moves the shared clock (the time CSR follows). */
    wr(&f->a, MTIME, 8, 0x123456789abull);
    assert_int_equal(vm_clock_mtime(&f->clk), 0x123456789abull);
    advance_ms(1);
    assert_int_equal(vm_clock_mtime(&f->clk), 0x123456789abull + 10000);
    /* 4-byte halves: each replaces its half of the running value. */
    wr(&f->a, MTIME + 4, 4, 0x7);
    assert_int_equal(rd(&f->a, MTIME + 4, 4), 0x7);
    assert_int_equal(rd(&f->a, MTIME, 4), 0x456789abu + 10000);
    wr(&f->a, MTIME, 4, 0x10);
    assert_int_equal(rd(&f->a, MTIME, 4), 0x10);
    assert_int_equal(rd(&f->a, MTIME + 4, 4), 0x7);
    assert_int_equal(rd(&f->a, MTIME, 8), 0x700000010ull);
}

static void test_mtimecmp(void **state)
{
    struct fixture *f = *state;
    uint64_t now = vm_clock_mtime(&f->clk);

    /* In the past: MTIP at once, on that hart only. */
    wr(&f->a, MTIMECMP(1), 8, now);
    assert_int_equal(f->cpu.mip[1] & ACLINT_MIP_MTIP, ACLINT_MIP_MTIP);
    assert_int_equal(f->cpu.mip[0] & ACLINT_MIP_MTIP, 0);
    /* Far future clears it. */
    wr(&f->a, MTIMECMP(1), 8, now + 100000000000ull);
    assert_int_equal(f->cpu.mip[1] & ACLINT_MIP_MTIP, 0);

    /* Near future: not yet; at the deadline aclint_update raises it. */
    now = vm_clock_mtime(&f->clk);
    wr(&f->a, MTIMECMP(0), 8, now + 2000000); /* 200 ms */
    assert_int_equal(f->cpu.mip[0] & ACLINT_MIP_MTIP, 0);
    assert_true(aclint_next_deadline(&f->a) == now + 2000000);
    assert_int_equal(vm_clock_ns_until(&f->clk, aclint_next_deadline(&f->a)), 200000000);
    aclint_update(&f->a);
    assert_int_equal(f->cpu.mip[0] & ACLINT_MIP_MTIP, 0);
    advance_ms(150);
    assert_int_equal(vm_clock_ns_until(&f->clk, aclint_next_deadline(&f->a)), 50000000);
    fake_ns += 50000000 - 100; /* one tick short */
    aclint_update(&f->a);
    assert_int_equal(f->cpu.mip[0] & ACLINT_MIP_MTIP, 0);
    assert_int_equal(vm_clock_ns_until(&f->clk, aclint_next_deadline(&f->a)), 100);
    fake_ns += 100; /* mtime == mtimecmp */
    assert_int_equal(vm_clock_ns_until(&f->clk, aclint_next_deadline(&f->a)), 0);
    unsigned calls = f->cpu.calls;
    aclint_update(&f->a);
    assert_int_equal(f->cpu.mip[0] & ACLINT_MIP_MTIP, ACLINT_MIP_MTIP);
    assert_int_equal(f->cpu.calls, calls + 1);
    aclint_update(&f->a); /* no change, no call */
    assert_int_equal(f->cpu.calls, calls + 1);

    /* RV32-style update through 4-byte halves: low = -1, high, low. */
    wr(&f->a, MTIMECMP(0), 4, 0xffffffff);
    wr(&f->a, MTIMECMP(0) + 4, 4, 0x12345678);
    wr(&f->a, MTIMECMP(0), 4, 0x9abcdef0);
    assert_true(rd(&f->a, MTIMECMP(0), 8) == 0x123456789abcdef0ull);
    assert_int_equal(rd(&f->a, MTIMECMP(0), 4), 0x9abcdef0);
    assert_int_equal(rd(&f->a, MTIMECMP(0) + 4, 4), 0x12345678);
    assert_int_equal(f->cpu.mip[0] & ACLINT_MIP_MTIP, 0);
}

static void test_msip(void **state)
{
    struct fixture *f = *state;
    wr(&f->a, MSIP(1), 4, 1);
    assert_int_equal(f->cpu.mip[1] & ACLINT_MIP_MSIP, ACLINT_MIP_MSIP);
    assert_int_equal(f->cpu.mip[0] & ACLINT_MIP_MSIP, 0);
    assert_int_equal(rd(&f->a, MSIP(1), 4), 1);
    wr(&f->a, MSIP(1), 4, 0xfffffffe); /* only bit 0 exists */
    assert_int_equal(f->cpu.mip[1] & ACLINT_MIP_MSIP, 0);
    assert_int_equal(rd(&f->a, MSIP(1), 4), 0);
    /* An 8-byte access spans harts 0 and 1. */
    wr(&f->a, MSIP(0), 8, 0x0000000100000001ull);
    assert_int_equal(f->cpu.mip[0] & ACLINT_MIP_MSIP, ACLINT_MIP_MSIP);
    assert_int_equal(f->cpu.mip[1] & ACLINT_MIP_MSIP, ACLINT_MIP_MSIP);
    assert_true(rd(&f->a, MSIP(0), 8) == 0x0000000100000001ull);
    wr(&f->a, MTIMECMP(0), 8, 0);
    wr(&f->a, MTIME, 8, 1ull << 40);
    assert_int_equal(f->cpu.mip[0] & ACLINT_MIP_MTIP, ACLINT_MIP_MTIP);
    aclint_ops.reset(&f->a);
    assert_int_equal(f->cpu.mip[0] & (ACLINT_MIP_MSIP | ACLINT_MIP_MTIP), 0);
    assert_int_equal(f->cpu.mip[1] & ACLINT_MIP_MSIP, 0);
    /* Reset clears mtime (ACLINT spec) and disarms the comparators. */
    assert_int_equal(vm_clock_mtime(&f->clk), 0);
    assert_true(rd(&f->a, MTIMECMP(0), 8) == UINT64_MAX);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    wr(&f->a, MTIME, 8, 5000000000ull); /* 500 s of guest time */
    uint64_t now = vm_clock_mtime(&f->clk);
    wr(&f->a, MTIMECMP(0), 8, now + 2000000); /* 200 ms */
    wr(&f->a, MTIMECMP(1), 8, now - 1);      /* fired */
    wr(&f->a, MSIP(1), 4, 1);

    struct state_buf s;
    state_init_writer(&s);
    aclint_ops.save(&f->a, &s);
    assert_int_equal(s.err, 0);

    /* Restore into a fresh machine whose clock starts at 0, on a host
     * whose clock reads something else entirely (another host, later). */
    advance_ms(5000);
    fake_ns += 77777777777ull;
    struct vm_clock clk2;
    struct aclint a2;
    struct cpus cpu2;
    memset(&cpu2, 0, sizeof(cpu2));
    vm_clock_init_source(&clk2, &fake_source);
    aclint_init(&a2, NHARTS, &clk2, set_mip, &cpu2);
    assert_int_equal(vm_clock_mtime(&clk2), 0);
    struct state_buf r;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(aclint_ops.load(&a2, &r), 0);
    assert_int_equal(vm_clock_mtime(&clk2), now); /* time continues, no jump */
    assert_int_equal(cpu2.mip[1], ACLINT_MIP_MSIP | ACLINT_MIP_MTIP);
    assert_int_equal(cpu2.mip[0], 0);
    assert_true(aclint_next_deadline(&a2) == now - 1);
    advance_ms(199);
    aclint_update(&a2);
    assert_int_equal(cpu2.mip[0] & ACLINT_MIP_MTIP, 0);
    advance_ms(1);
    aclint_update(&a2);
    assert_int_equal(cpu2.mip[0] & ACLINT_MIP_MTIP, ACLINT_MIP_MTIP); /* still fires */

    for (size_t cut = 0; cut < s.len; cut++) {
        struct state_buf c;
        state_init_reader(&c, s.data, cut);
        assert_int_equal(aclint_ops.load(&a2, &c), -EINVAL);
    }
    uint8_t version = s.data[0];
    s.data[0] = 99;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(aclint_ops.load(&a2, &r), -EINVAL);
    s.data[0] = version;
    struct aclint a3;
    aclint_init(&a3, 1, &clk2, NULL, NULL);
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(aclint_ops.load(&a3, &r), -EINVAL);
    state_free(&s);
}

static void test_hostile(void **state)
{
    struct fixture *f = *state;
    uint64_t cmp0 = rd(&f->a, MTIMECMP(0), 8);
    for (uint32_t off = 0; off < ACLINT_SIZE + 0x100; off += 4) {
        if (off >= MTIME && off < MTIME + 8)
            continue; /* writing mtime is legal; skip to keep time sane */
        if (off >= MTIMECMP(0) && off < MTIMECMP(NHARTS))
            continue;
        if (off < MSIP(NHARTS))
            continue;
        rd(&f->a, off, 4);
        wr(&f->a, off, 4, 0xffffffff);
        if (off % 8 == 0) {
            aclint_ops.read(&f->a, off, 8, &(uint64_t){0});
            wr(&f->a, off, 8, ~0ull);
        }
    }
    /* Absent harts read as zero. */
    assert_int_equal(rd(&f->a, MSIP(NHARTS), 4), 0);
    assert_int_equal(rd(&f->a, MTIMECMP(NHARTS), 8), 0);
    assert_true(rd(&f->a, MTIMECMP(0), 8) == cmp0);
    assert_int_equal(f->cpu.mip[0] & (ACLINT_MIP_MSIP | ACLINT_MIP_MTIP), 0);
    assert_int_equal(f->cpu.mip[1] & (ACLINT_MIP_MSIP | ACLINT_MIP_MTIP), 0);
    /* A device without a clock never crashes either. */
    struct aclint bare;
    aclint_init(&bare, 1, NULL, NULL, NULL);
    wr(&bare, MTIME, 8, 5);
    assert_int_equal(rd(&bare, MTIME, 8), 0);
    wr(&bare, MTIMECMP(0), 8, 0);
    aclint_update(&bare);
    /* Too many harts is clamped, not overflowed. */
    struct aclint big;
    aclint_init(&big, 1000, &f->clk, NULL, NULL);
    assert_int_equal(big.nharts, ACLINT_MAX_HARTS);
    assert_int_equal(aclint_ops.min_access, 4);
    assert_int_equal(aclint_ops.max_access, 8);
}

static void test_state_hostile(void **state)
{
    struct fixture *f = *state;
    wr(&f->a, MTIMECMP(0), 8, 12345);
    assert_true(state_check_device(&f->a, aclint_ops.save, aclint_ops.load) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_init, setup),
        cmocka_unit_test_setup(test_mtime, setup),
        cmocka_unit_test_setup(test_mtimecmp, setup),
        cmocka_unit_test_setup(test_msip, setup),
        cmocka_unit_test_setup(test_save_load, setup),
        cmocka_unit_test_setup(test_hostile, setup),
        cmocka_unit_test_setup(test_state_hostile, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
