/* The two-bucket rate limiter, with an injected clock: bursts, refill
 * exactness, operations larger than a bucket, unlimited buckets, wait
 * times that agree with consume, clocks that stand still or go back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "condo/rate_limit.h"

#define NS 1000000000ull

static uint64_t now;

static uint64_t fake_clock(void *opaque)
{
    (void)opaque;
    return now;
}

static void init(struct rate_limit *rl, uint64_t bps, uint64_t iops)
{
    struct rate_limit_config c = { .bps = bps, .iops = iops };
    now = 5 * NS;
    rate_limit_init(rl, &c);
    rate_limit_set_clock(rl, fake_clock, NULL);
}

static void test_unlimited(void **state)
{
    (void)state;
    struct rate_limit rl;
    init(&rl, 0, 0);
    assert_false(rate_limit_enabled(&rl));
    for (int i = 0; i < 100000; i++)
        assert_true(rate_limit_consume(&rl, UINT64_MAX));
    assert_int_equal(rate_limit_wait_ns(&rl, UINT64_MAX), 0);
    rate_limit_init(&rl, NULL); /* NULL config: unlimited, real clock */
    assert_true(rate_limit_consume(&rl, 1ull << 40));
    assert_int_equal(rate_limit_wait_ns(&rl, 1ull << 40), 0);
}

static void test_iops(void **state)
{
    (void)state;
    struct rate_limit rl;
    init(&rl, 0, 10);
    assert_true(rate_limit_enabled(&rl));
    /* the burst: one second's worth at once */
    for (int i = 0; i < 10; i++)
        assert_true(rate_limit_consume(&rl, 1ull << 30));
    assert_false(rate_limit_consume(&rl, 0));
    assert_int_equal(rate_limit_wait_ns(&rl, 0), NS / 10);
    now += NS / 10 - 1;
    assert_false(rate_limit_consume(&rl, 0));
    assert_int_equal(rate_limit_wait_ns(&rl, 0), 1);
    now += 1;
    assert_int_equal(rate_limit_wait_ns(&rl, 0), 0);
    assert_true(rate_limit_consume(&rl, 0));
    assert_false(rate_limit_consume(&rl, 0));
    /* a long idle time fills the bucket, never more */
    now += 1000 * NS;
    for (int i = 0; i < 10; i++)
        assert_true(rate_limit_consume(&rl, 0));
    assert_false(rate_limit_consume(&rl, 0));
}

/* Asked often, in tiny steps, the limiter loses no fraction of a token:
 * over 10 s at 3 ops/s exactly 30 operations pass (after the burst). */
static void test_no_rounding_loss(void **state)
{
    (void)state;
    struct rate_limit rl;
    init(&rl, 0, 3);
    for (int i = 0; i < 3; i++)
        assert_true(rate_limit_consume(&rl, 0));
    unsigned passed = 0;
    for (uint64_t t = 0; t < 10 * NS; t += 7777) {
        now += 7777;
        while (rate_limit_consume(&rl, 0))
            passed++;
    }
    assert_int_equal(passed, 30);
}

static void test_bytes(void **state)
{
    (void)state;
    struct rate_limit rl;
    init(&rl, 1000, 0);
    assert_true(rate_limit_consume(&rl, 600));
    assert_false(rate_limit_consume(&rl, 600)); /* 400 left */
    assert_true(rate_limit_consume(&rl, 400));
    assert_int_equal(rate_limit_wait_ns(&rl, 500), NS / 2);
    now += NS / 4;
    assert_int_equal(rate_limit_wait_ns(&rl, 500), NS / 4);
    assert_false(rate_limit_consume(&rl, 500));
    now += NS / 4;
    assert_true(rate_limit_consume(&rl, 500));
    /* zero bytes pass whenever the bucket is not in debt */
    assert_true(rate_limit_consume(&rl, 0));
}

/* An operation larger than the bucket waits for a full bucket, then goes
 * and leaves debt: the average rate holds and nothing waits forever. */
static void test_oversized(void **state)
{
    (void)state;
    struct rate_limit rl;
    init(&rl, 1000, 0);
    assert_true(rate_limit_consume(&rl, 1));
    assert_int_equal(rate_limit_wait_ns(&rl, 5000), NS / 1000);
    assert_false(rate_limit_consume(&rl, 5000));
    now += NS / 1000;
    assert_true(rate_limit_consume(&rl, 5000)); /* level now -4000 */
    assert_int_equal(rate_limit_wait_ns(&rl, 0), 4 * NS);
    assert_int_equal(rate_limit_wait_ns(&rl, 1000), 5 * NS);
    now += 5 * NS;
    assert_true(rate_limit_consume(&rl, 1000));
    /* absurd sizes neither overflow nor block forever */
    now += 10 * NS;
    assert_true(rate_limit_consume(&rl, UINT64_MAX));
    assert_true(rate_limit_wait_ns(&rl, 1) > 0);
}

static void test_both_buckets(void **state)
{
    (void)state;
    struct rate_limit rl;
    init(&rl, 1000, 2);
    assert_true(rate_limit_consume(&rl, 100));
    assert_true(rate_limit_consume(&rl, 100));
    /* ops empty: nothing is charged to the byte bucket either */
    assert_false(rate_limit_consume(&rl, 100));
    assert_int_equal(rate_limit_wait_ns(&rl, 100), NS / 2);
    now += NS / 2;
    assert_true(rate_limit_consume(&rl, 800));
    /* bytes: 1000 (capped) - 800 = 200, +500 in the next half second */
    now += NS / 2; /* ops: 1 token; bytes: 700, 200 short of 900 */
    assert_int_equal(rate_limit_wait_ns(&rl, 900), 2 * NS / 10);
    assert_false(rate_limit_consume(&rl, 900));
    now += 2 * NS / 10;
    assert_true(rate_limit_consume(&rl, 900));
}

static void test_clock_backwards(void **state)
{
    (void)state;
    struct rate_limit rl;
    init(&rl, 0, 1);
    assert_true(rate_limit_consume(&rl, 0));
    now -= NS; /* a clock that goes back gives nothing */
    assert_false(rate_limit_consume(&rl, 0));
    now += NS;
    assert_false(rate_limit_consume(&rl, 0));
    now += NS;
    assert_true(rate_limit_consume(&rl, 0));
    /* explicit-time variants */
    assert_false(rate_limit_consume_at(&rl, 0, now));
    assert_int_equal(rate_limit_wait_ns_at(&rl, 0, now + NS / 2), NS / 2);
    assert_true(rate_limit_consume_at(&rl, 0, now + NS));
}

static void test_huge_rates(void **state)
{
    (void)state;
    struct rate_limit rl;
    init(&rl, UINT64_MAX, UINT64_MAX);
    assert_int_equal(rl.bytes.rate, RATE_LIMIT_MAX_RATE);
    for (int i = 0; i < 1000; i++)
        assert_true(rate_limit_consume(&rl, 1ull << 40));
    now += UINT64_MAX / 2;
    assert_true(rate_limit_consume(&rl, 1ull << 40));
    assert_int_equal(rate_limit_wait_ns(&rl, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlimited),      cmocka_unit_test(test_iops),
        cmocka_unit_test(test_no_rounding_loss), cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_oversized),      cmocka_unit_test(test_both_buckets),
        cmocka_unit_test(test_clock_backwards), cmocka_unit_test(test_huge_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
