/* Goldfish RTC (host wall-clock time, guest-set offset, alarm interrupt) and
 * the SiFive test/syscon finisher. The RTC reads a fake host wall clock
 * that only the test moves: every time is exact and nothing depends on how
 * fast the machine runs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "condo/clock.h"
#include "condo/dev_goldfish_rtc.h"
#include "condo/dev_syscon.h"
#include "state_check.h"

#define TIME_LOW 0x00
#define TIME_HIGH 0x04
#define ALARM_LOW 0x08
#define ALARM_HIGH 0x0c
#define IRQ_ENABLED 0x10
#define CLEAR_ALARM 0x14
#define ALARM_STATUS 0x18
#define CLEAR_INTERRUPT 0x1c

#define NS 1000000000ull

struct irqrec {
    int level;
    unsigned calls;
};

static void irq_rec(void *opaque, unsigned line, int level)
{
    struct irqrec *r = opaque;
    assert_int_equal(line, 11);
    r->level = level;
    r->calls++;
}

/* The fake host wall clock: 2023-11-14 22:13:20 UTC plus what the test
 * lets pass. */
#define HOST_START (1700000000ull * NS)
static uint64_t fake_wall_ns;

static uint64_t fake_wall(void *opaque)
{
    (void)opaque;
    return fake_wall_ns;
}

static const struct vm_clock_source fake_source = { NULL, fake_wall, NULL };
static struct vm_clock fake_clock;

static void advance_ms(unsigned ms)
{
    fake_wall_ns += (uint64_t)ms * 1000000ull;
}

static uint32_t rd(struct goldfish_rtc *r, uint32_t off)
{
    uint64_t v = 0xdeadbeefcafe;
    goldfish_rtc_ops.read(r, off, 4, &v);
    assert_true(v <= 0xffffffffu);
    return (uint32_t)v;
}

static void wr(struct goldfish_rtc *r, uint32_t off, uint32_t v)
{
    goldfish_rtc_ops.write(r, off, 4, v);
}

/* As Linux's goldfish_rtc_read_time: TIME_LOW first (latches), then HIGH. */
static uint64_t read_time(struct goldfish_rtc *r)
{
    uint64_t lo = rd(r, TIME_LOW);
    uint64_t hi = rd(r, TIME_HIGH);
    return (hi << 32) | lo;
}

/* As Linux's goldfish_rtc_set_time: HIGH first, then LOW. */
static void set_time(struct goldfish_rtc *r, uint64_t t)
{
    wr(r, TIME_HIGH, (uint32_t)(t >> 32));
    wr(r, TIME_LOW, (uint32_t)t);
}

static void set_alarm(struct goldfish_rtc *r, uint64_t t)
{
    wr(r, ALARM_HIGH, (uint32_t)(t >> 32));
    wr(r, ALARM_LOW, (uint32_t)t);
    wr(r, IRQ_ENABLED, 1);
}

struct fixture {
    struct goldfish_rtc r;
    struct irqrec irq;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    f.irq.level = -1;
    fake_wall_ns = HOST_START;
    vm_clock_init_source(&fake_clock, &fake_source);
    goldfish_rtc_init(&f.r, (struct irq_line){irq_rec, &f.irq, 11}, &fake_clock);
    *state = &f;
    return 0;
}

static void test_host_time(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->irq.level, 0);
    assert_int_equal(read_time(&f->r), HOST_START); /* `date` shows the host's time */
    advance_ms(1500);
    assert_int_equal(read_time(&f->r), HOST_START + 1500000000ull);
    /* TIME_HIGH is the latched value, stable until TIME_LOW is read again. */
    uint32_t hi = rd(&f->r, TIME_HIGH);
    fake_wall_ns += 1ull << 33; /* the high word moves on... */
    assert_int_equal(rd(&f->r, TIME_HIGH), hi); /* ...the latch does not */
    assert_int_equal(rd(&f->r, TIME_LOW), (uint32_t)(HOST_START + 1500000000ull));
    assert_int_equal(rd(&f->r, TIME_HIGH), hi + 2);

    /* Without a clock the RTC shows the host's real wall clock; only
     * checked to be a plausible date (after 2020-01-01), not a window. */
    struct goldfish_rtc host_rtc;
    struct irqrec irq = {.level = -1};
    goldfish_rtc_init(&host_rtc, (struct irq_line){irq_rec, &irq, 11}, NULL);
    assert_true(read_time(&host_rtc) / NS > 1577836800ull);
}

static void test_set_time(void **state)
{
    struct fixture *f = *state;
    const uint64_t y2k = 946684800ull * NS;
    set_time(&f->r, y2k);
    assert_int_equal(read_time(&f->r), y2k);
    advance_ms(3);
    assert_int_equal(read_time(&f->r), y2k + 3000000ull); /* keeps running */
    /* Reset (a reboot) keeps the battery-backed time. */
    goldfish_rtc_ops.reset(&f->r);
    assert_int_equal(read_time(&f->r), y2k + 3000000ull);
    /* Each half alone: TIME_LOW keeps the high word, TIME_HIGH the low. */
    wr(&f->r, TIME_LOW, 0x1234);
    assert_int_equal(read_time(&f->r), ((y2k + 3000000ull) & ~0xffffffffull) | 0x1234);
    wr(&f->r, TIME_HIGH, 0x42);
    assert_int_equal(read_time(&f->r), (0x42ull << 32) | 0x1234);
}

static void test_alarm(void **state)
{
    struct fixture *f = *state;
    uint64_t now = read_time(&f->r);
    set_alarm(&f->r, now + 200000000ull); /* 200 ms */
    assert_int_equal(rd(&f->r, ALARM_STATUS), 1);
    assert_int_equal(rd(&f->r, ALARM_LOW), (uint32_t)(now + 200000000ull));
    assert_int_equal(rd(&f->r, ALARM_HIGH), (uint32_t)((now + 200000000ull) >> 32));
    assert_int_equal(rd(&f->r, IRQ_ENABLED), 1);
    goldfish_rtc_update(&f->r);
    assert_int_equal(f->irq.level, 0);
    fake_wall_ns += 200000000ull - 1; /* 1 ns early: not yet */
    goldfish_rtc_update(&f->r);
    assert_int_equal(f->irq.level, 0);
    assert_int_equal(rd(&f->r, ALARM_STATUS), 1);
    fake_wall_ns += 1;
    goldfish_rtc_update(&f->r);
    assert_int_equal(f->irq.level, 1);
    assert_int_equal(rd(&f->r, ALARM_STATUS), 0);
    /* Handler: CLEAR_INTERRUPT drops the line. */
    wr(&f->r, CLEAR_INTERRUPT, 1);
    assert_int_equal(f->irq.level, 0);
    goldfish_rtc_update(&f->r);
    assert_int_equal(f->irq.level, 0); /* one-shot */

    /* An alarm in the past fires at once. */
    set_alarm(&f->r, now - 1);
    assert_int_equal(f->irq.level, 1);
    wr(&f->r, CLEAR_INTERRUPT, 1);

    /* IRQ_ENABLED gates the line, not the pending state. */
    wr(&f->r, IRQ_ENABLED, 0);
    wr(&f->r, ALARM_HIGH, 0);
    wr(&f->r, ALARM_LOW, 1); /* 1970: past */
    assert_int_equal(f->irq.level, 0);
    wr(&f->r, IRQ_ENABLED, 1);
    assert_int_equal(f->irq.level, 1);
    wr(&f->r, CLEAR_INTERRUPT, 1);
    assert_int_equal(f->irq.level, 0);

    /* CLEAR_ALARM disarms. */
    set_alarm(&f->r, read_time(&f->r) + 20000000ull);
    wr(&f->r, CLEAR_ALARM, 1);
    assert_int_equal(rd(&f->r, ALARM_STATUS), 0);
    advance_ms(30);
    goldfish_rtc_update(&f->r);
    assert_int_equal(f->irq.level, 0);

    /* Moving the clock past an armed alarm fires it. */
    set_alarm(&f->r, read_time(&f->r) + 3600 * NS);
    set_time(&f->r, read_time(&f->r) + 7200 * NS);
    assert_int_equal(f->irq.level, 1);
}

static void test_rtc_save_load(void **state)
{
    struct fixture *f = *state;
    const uint64_t when = 1700000000ull * NS;
    set_time(&f->r, when);
    uint64_t t = read_time(&f->r);
    set_alarm(&f->r, t + 200000000ull); /* 200 ms */

    struct state_buf s;
    state_init_writer(&s);
    goldfish_rtc_ops.save(&f->r, &s);
    assert_int_equal(s.err, 0);

    /* Restored at the same host time: the guest's time is where it was. */
    struct goldfish_rtc r2;
    struct irqrec irq2 = {.level = -1};
    goldfish_rtc_init(&r2, (struct irq_line){irq_rec, &irq2, 11}, &fake_clock);
    struct state_buf rd_s;
    state_init_reader(&rd_s, s.data, s.len);
    assert_int_equal(goldfish_rtc_ops.load(&r2, &rd_s), 0);
    assert_int_equal(read_time(&r2), t);
    assert_int_equal(rd(&r2, ALARM_STATUS), 1);
    assert_int_equal(irq2.level, 0);
    advance_ms(199);
    goldfish_rtc_update(&r2);
    assert_int_equal(irq2.level, 0);
    advance_ms(1);
    goldfish_rtc_update(&r2);
    assert_int_equal(irq2.level, 1); /* the restored alarm still fires */

    for (size_t cut = 0; cut < s.len; cut++) {
        struct state_buf c;
        state_init_reader(&c, s.data, cut);
        assert_int_equal(goldfish_rtc_ops.load(&r2, &c), -EINVAL);
    }
    s.data[0] = 0;
    state_init_reader(&rd_s, s.data, s.len);
    assert_int_equal(goldfish_rtc_ops.load(&r2, &rd_s), -EINVAL);
    s.data[0] = 1;
    s.data[1 + 8 + 4 + 8] = 7; /* alarm_armed must be 0 or 1 */
    state_init_reader(&rd_s, s.data, s.len);
    assert_int_equal(goldfish_rtc_ops.load(&r2, &rd_s), -EINVAL);
    state_free(&s);
}

static void test_rtc_hostile(void **state)
{
    struct fixture *f = *state;
    for (uint32_t off = 0x20; off < GOLDFISH_RTC_SIZE + 0x40; off += 4) {
        assert_int_equal(rd(&f->r, off), 0);
        wr(&f->r, off, 0xffffffff);
    }
    /* Odd offsets inside registers are not registers. */
    uint64_t v;
    goldfish_rtc_ops.read(&f->r, 2, 4, &v);
    assert_int_equal(v, 0);
    goldfish_rtc_ops.write(&f->r, 3, 4, 5);
    assert_int_equal(read_time(&f->r), HOST_START); /* time untouched */
    assert_int_equal(goldfish_rtc_ops.min_access, 4);
    assert_int_equal(goldfish_rtc_ops.max_access, 4);
}

/* ---- syscon ---- */

struct actions {
    int n;
    enum syscon_action act;
    unsigned code;
};

static void on_action(void *opaque, enum syscon_action act, unsigned code)
{
    struct actions *a = opaque;
    a->n++;
    a->act = act;
    a->code = code;
}

static void test_syscon(void **state)
{
    (void)state;
    struct syscon sc;
    struct actions a = {0};
    syscon_init(&sc, on_action, &a);

    syscon_ops.write(&sc, 0, 4, 0x5555);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.act, SYSCON_POWEROFF);
    syscon_ops.write(&sc, 0, 4, (42u << 16) | 0x3333);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.act, SYSCON_FAIL);
    assert_int_equal(a.code, 42);
    syscon_ops.write(&sc, 0, 4, 0x7777);
    assert_int_equal(a.n, 3);
    assert_int_equal(a.act, SYSCON_RESET);
    syscon_ops.write(&sc, 0, 2, 0x5555); /* 16-bit write works too */
    assert_int_equal(a.n, 4);
    assert_int_equal(a.act, SYSCON_POWEROFF);

    /* Unknown commands and registers: nothing happens. */
    syscon_ops.write(&sc, 0, 4, 0x1234);
    syscon_ops.write(&sc, 0, 4, 0);
    syscon_ops.write(&sc, 0, 4, 0xffffffff);
    for (uint32_t off = 2; off < SYSCON_SIZE + 8; off += 2)
        syscon_ops.write(&sc, off, 2, 0x5555);
    assert_int_equal(a.n, 4);
    uint64_t v = 77;
    syscon_ops.read(&sc, 0, 4, &v);
    assert_int_equal(v, 0);
    syscon_ops.read(&sc, 0x800, 4, &v);
    assert_int_equal(v, 0);

    struct state_buf s;
    state_init_writer(&s);
    syscon_ops.save(&sc, &s);
    struct state_buf r;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(syscon_ops.load(&sc, &r), 0);
    state_init_reader(&r, s.data, 0);
    assert_int_equal(syscon_ops.load(&sc, &r), -EINVAL);
    s.data[0] = 9;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(syscon_ops.load(&sc, &r), -EINVAL);
    state_free(&s);
    syscon_ops.reset(&sc);
    syscon_ops.write(&sc, 0, 4, 0x7777);
    assert_int_equal(a.n, 5);

    /* Without a handler, writes are harmless. */
    struct syscon bare;
    syscon_init(&bare, NULL, NULL);
    syscon_ops.write(&bare, 0, 4, 0x5555);
}

static void test_rtc_state_hostile(void **state)
{
    struct fixture *f = *state;
    set_time(&f->r, 1700000000ull * NS);
    set_alarm(&f->r, read_time(&f->r) + 200000000ull);
    assert_true(state_check_device(&f->r, goldfish_rtc_ops.save, goldfish_rtc_ops.load) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_host_time, setup),
        cmocka_unit_test_setup(test_set_time, setup),
        cmocka_unit_test_setup(test_alarm, setup),
        cmocka_unit_test_setup(test_rtc_save_load, setup),
        cmocka_unit_test_setup(test_rtc_hostile, setup),
        cmocka_unit_test_setup(test_rtc_state_hostile, setup),
        cmocka_unit_test(test_syscon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
