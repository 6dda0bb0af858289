/* --cpu-weight's mapping (src/manager/cpu_share.c): the nice value whose
 * CFS load weight matches the weight (the kernel's cpu.weight.nice
 * conversion: a factor of 1.25 per nice step), cgroup v1 cpu.shares, and
 * that the unset weight applies nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "condo/manager.h"

static void test_nice(void **state)
{
    (void)state;
    assert_int_equal(cpu_share_nice(100), 0);
    assert_int_equal(cpu_share_nice(0), 0); /* unset: the default */
    assert_int_equal(cpu_share_nice(400), -6);
    assert_int_equal(cpu_share_nice(25), 6);
    assert_int_equal(cpu_share_nice(125), -1);
    assert_int_equal(cpu_share_nice(80), 1);
    assert_int_equal(cpu_share_nice(1), 19);     /* 20.6 steps: clamped */
    assert_int_equal(cpu_share_nice(10000), -20); /* -20.6: clamped */
    /* monotonic: a larger weight never gets a larger nice */
    for (unsigned w = 1; w < 10000; w++)
        assert_true(cpu_share_nice(w + 1) <= cpu_share_nice(w));
}

static void test_v1_shares(void **state)
{
    (void)state;
    assert_int_equal(cpu_share_v1_shares(100), 1024);
    assert_int_equal(cpu_share_v1_shares(400), 4096);
    assert_int_equal(cpu_share_v1_shares(1), 10);
    assert_int_equal(cpu_share_v1_shares(10000), 102400);
}

static void test_unset_applies_nothing(void **state)
{
    (void)state;
    struct cpu_share cs;
    assert_int_equal(cpu_share_apply("unit", 0, &cs), 0);
    assert_string_equal(cs.mechanism, "none");
    assert_string_equal(cs.cgroup, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice),
        cmocka_unit_test(test_v1_shares),
        cmocka_unit_test(test_unset_applies_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
