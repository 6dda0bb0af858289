/* PLIC: priorities, thresholds, per-context enables, claim/complete with
 * level-triggered gateways, output notifications, save/load. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "condo/dev_plic.h"
#include "state_check.h"

#define NCTX 4

struct outs {
    int level[PLIC_MAX_CONTEXTS];
    unsigned calls[PLIC_MAX_CONTEXTS];
};

static void notify(void *opaque, unsigned ctx, int level)
{
    struct outs *o = opaque;
    assert_true(ctx < NCTX);
    o->level[ctx] = level;
    o->calls[ctx]++;
}

struct fixture {
    struct plic p;
    struct outs o;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    for (unsigned c = 0; c < PLIC_MAX_CONTEXTS; c++)
        f.o.level[c] = -1;
    plic_init(&f.p, NCTX, notify, &f.o);
    *state = &f;
    return 0;
}

static uint32_t rd(struct plic *p, uint32_t off)
{
    uint64_t v = 0xdeadbeefcafe;
    plic_ops.read(p, off, 4, &v);
    assert_true(v <= 0xffffffffu);
    return (uint32_t)v;
}

static void wr(struct plic *p, uint32_t off, uint32_t v)
{
    plic_ops.write(p, off, 4, v);
}

#define PRIO(src) (4u * (src))
#define PENDING(w) (0x1000u + 4u * (w))
#define ENABLE(ctx, w) (0x2000u + 0x80u * (ctx) + 4u * (w))
#define THRESH(ctx) (0x200000u + 0x1000u * (ctx))
#define CLAIM(ctx) (0x200004u + 0x1000u * (ctx))

static void enable_src(struct plic *p, unsigned ctx, unsigned src)
{
    uint32_t w = rd(p, ENABLE(ctx, src / 32));
    wr(p, ENABLE(ctx, src / 32), w | (1u << (src % 32)));
}

static void test_init(void **state)
{
    struct fixture *f = *state;
    for (unsigned c = 0; c < NCTX; c++) {
        assert_int_equal(f->o.level[c], 0); /* driven at init */
        assert_int_equal(rd(&f->p, THRESH(c)), 0);
        assert_int_equal(rd(&f->p, CLAIM(c)), 0);
    }
    for (unsigned w = 0; w < PLIC_WORDS; w++)
        assert_int_equal(rd(&f->p, PENDING(w)), 0);
}

static void test_claim_complete(void **state)
{
    struct fixture *f = *state;
    wr(&f->p, PRIO(10), 1);
    enable_src(&f->p, 1, 10);
    plic_set_irq(&f->p, 10, 1);
    assert_int_equal(f->o.level[1], 1);
    assert_int_equal(f->o.level[0], 0); /* not enabled in context 0 */
    assert_int_equal(rd(&f->p, PENDING(0)), 1u << 10);

    assert_int_equal(rd(&f->p, CLAIM(1)), 10);
    assert_int_equal(f->o.level[1], 0);
    assert_int_equal(rd(&f->p, PENDING(0)), 0);
    assert_int_equal(rd(&f->p, CLAIM(1)), 0); /* nothing else */

    /* Level still high at complete: pending again, output rises. */
    wr(&f->p, CLAIM(1), 10);
    assert_int_equal(f->o.level[1], 1);
    assert_int_equal(rd(&f->p, CLAIM(1)), 10);
    /* Device deasserts while claimed; complete leaves it idle. */
    plic_set_irq(&f->p, 10, 0);
    wr(&f->p, CLAIM(1), 10);
    assert_int_equal(f->o.level[1], 0);
    assert_int_equal(rd(&f->p, PENDING(0)), 0);

    /* Level toggling while claimed does not re-pend before complete. */
    plic_set_irq(&f->p, 10, 1);
    assert_int_equal(rd(&f->p, CLAIM(1)), 10);
    plic_set_irq(&f->p, 10, 0);
    plic_set_irq(&f->p, 10, 1);
    assert_int_equal(rd(&f->p, PENDING(0)), 0);
    assert_int_equal(f->o.level[1], 0);
    wr(&f->p, CLAIM(1), 10);
    assert_int_equal(f->o.level[1], 1);

    /* A request withdrawn before it is claimed is not delivered. */
    plic_set_irq(&f->p, 10, 0);
    assert_int_equal(f->o.level[1], 0);
    assert_int_equal(rd(&f->p, CLAIM(1)), 0);
}

static void test_priority_threshold(void **state)
{
    struct fixture *f = *state;
    wr(&f->p, PRIO(5), 2);
    wr(&f->p, PRIO(7), 5);
    wr(&f->p, PRIO(9), 5);
    wr(&f->p, PRIO(40), 0); /* priority 0: never interrupts */
    unsigned srcs[] = {5, 7, 9, 40};
    for (unsigned i = 0; i < 4; i++) {
        enable_src(&f->p, 0, srcs[i]);
        plic_set_irq(&f->p, srcs[i], 1);
    }
    assert_int_equal(rd(&f->p, PENDING(1)), 1u << 8);

    wr(&f->p, THRESH(0), 5);
    assert_int_equal(f->o.level[0], 0);
    assert_int_equal(rd(&f->p, CLAIM(0)), 0);
    wr(&f->p, THRESH(0), 4);
    assert_int_equal(f->o.level[0], 1);
    assert_int_equal(rd(&f->p, CLAIM(0)), 7); /* tie 7/9: lowest id */
    assert_int_equal(rd(&f->p, CLAIM(0)), 9);
    assert_int_equal(f->o.level[0], 0); /* 5 is below the threshold */
    wr(&f->p, THRESH(0), 0);
    assert_int_equal(f->o.level[0], 1);
    assert_int_equal(rd(&f->p, CLAIM(0)), 5);
    assert_int_equal(rd(&f->p, CLAIM(0)), 0); /* 40 has priority 0 */
    assert_int_equal(f->o.level[0], 0);
    /* Raising 40's priority lets it through. */
    wr(&f->p, PRIO(40), 1);
    assert_int_equal(f->o.level[0], 1);
    assert_int_equal(rd(&f->p, CLAIM(0)), 40);
}

static void test_enable_routing(void **state)
{
    struct fixture *f = *state;
    wr(&f->p, PRIO(33), 1);
    enable_src(&f->p, 2, 33);
    enable_src(&f->p, 3, 33);
    plic_set_irq(&f->p, 33, 1);
    assert_int_equal(f->o.level[2], 1);
    assert_int_equal(f->o.level[3], 1);
    /* One context claims: the other's output drops too (shared gateway). */
    assert_int_equal(rd(&f->p, CLAIM(3)), 33);
    assert_int_equal(f->o.level[2], 0);
    assert_int_equal(f->o.level[3], 0);
    /* Complete from a context where it is not enabled is ignored. */
    wr(&f->p, CLAIM(0), 33);
    assert_int_equal(f->o.level[2], 0);
    /* Disabling it in 3 makes 3's complete ignored as well... */
    wr(&f->p, ENABLE(3, 1), 0);
    wr(&f->p, CLAIM(3), 33);
    assert_int_equal(f->o.level[2], 0);
    /* ...so Linux re-enables it around the complete (plic_irq_eoi). */
    enable_src(&f->p, 3, 33);
    wr(&f->p, CLAIM(3), 33);
    assert_int_equal(f->o.level[2], 1);
    assert_int_equal(f->o.level[3], 1);
    /* Disabling the source in a context drops that context's output. */
    wr(&f->p, ENABLE(2, 1), 0);
    assert_int_equal(f->o.level[2], 0);
    assert_int_equal(f->o.level[3], 1);
}

static void test_warl_and_readonly(void **state)
{
    struct fixture *f = *state;
    wr(&f->p, PRIO(1), 0xffffffff);
    assert_int_equal(rd(&f->p, PRIO(1)), 7);
    wr(&f->p, THRESH(1), 0xffffffff);
    assert_int_equal(rd(&f->p, THRESH(1)), 7);
    wr(&f->p, ENABLE(1, 0), 0xffffffff);
    assert_int_equal(rd(&f->p, ENABLE(1, 0)), 0xfffffffe); /* no source 0 */
    wr(&f->p, PENDING(0), 0xffffffff);
    assert_int_equal(rd(&f->p, PENDING(0)), 0);
    assert_int_equal(f->o.level[1], 0);
    /* Writes to priority 0 and to beyond the last source go nowhere. */
    wr(&f->p, PRIO(0), 5);
    assert_int_equal(rd(&f->p, PRIO(0)), 0);
    wr(&f->p, PRIO(PLIC_MAX_SOURCES), 5);
    assert_int_equal(rd(&f->p, PRIO(PLIC_MAX_SOURCES)), 0);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    wr(&f->p, PRIO(10), 3);
    wr(&f->p, PRIO(1), 2);
    wr(&f->p, PRIO(2), 1);
    enable_src(&f->p, 1, 10);
    enable_src(&f->p, 1, 1);
    enable_src(&f->p, 1, 2);
    wr(&f->p, THRESH(1), 1);
    plic_set_irq(&f->p, 10, 1);
    assert_int_equal(rd(&f->p, CLAIM(1)), 10); /* 10 claimed */
    plic_set_irq(&f->p, 1, 1);                 /* 1 pending */
    plic_set_irq(&f->p, 2, 1);                 /* 2 pending, below threshold */

    struct state_buf s;
    state_init_writer(&s);
    plic_ops.save(&f->p, &s);
    assert_int_equal(s.err, 0);

    struct plic p2;
    struct outs o2;
    memset(&o2, 0, sizeof(o2));
    plic_init(&p2, NCTX, notify, &o2);
    assert_int_equal(o2.level[1], 0);
    struct state_buf r;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(plic_ops.load(&p2, &r), 0);
    assert_int_equal(o2.level[1], 1);
    assert_int_equal(rd(&p2, PRIO(10)), 3);
    assert_int_equal(rd(&p2, THRESH(1)), 1);
    /* It continues delivering: 1 then nothing (2 is at the threshold). */
    assert_int_equal(rd(&p2, CLAIM(1)), 1);
    assert_int_equal(rd(&p2, CLAIM(1)), 0);
    /* 10 was claimed at save time; its line is still high, so the
     * complete re-pends it. */
    wr(&p2, CLAIM(1), 10);
    assert_int_equal(o2.level[1], 1);
    assert_int_equal(rd(&p2, CLAIM(1)), 10);
    plic_set_irq(&p2, 10, 0);
    wr(&p2, CLAIM(1), 10);
    plic_set_irq(&p2, 1, 0);
    wr(&p2, CLAIM(1), 1);
    assert_int_equal(o2.level[1], 0);
    /* New interrupts still flow. */
    plic_set_irq(&p2, 10, 1);
    assert_int_equal(o2.level[1], 1);

    for (size_t cut = 0; cut < s.len; cut += 3) {
        struct state_buf t;
        state_init_reader(&t, s.data, cut);
        assert_int_equal(plic_ops.load(&p2, &t), -EINVAL);
    }
    /* A failed load leaves the device as it was. */
    assert_int_equal(rd(&p2, PRIO(10)), 3);

    s.data[0] = 0xee;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(plic_ops.load(&p2, &r), -EINVAL);
    s.data[0] = 1;

    /* A stream from a PLIC with another context count is foreign. */
    struct plic p3;
    plic_init(&p3, 2, NULL, NULL);
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(plic_ops.load(&p3, &r), -EINVAL);
    state_free(&s);
}

static void test_reset(void **state)
{
    struct fixture *f = *state;
    wr(&f->p, PRIO(3), 4);
    enable_src(&f->p, 0, 3);
    plic_set_irq(&f->p, 3, 1);
    assert_int_equal(f->o.level[0], 1);
    plic_ops.reset(&f->p);
    assert_int_equal(f->o.level[0], 0);
    assert_int_equal(rd(&f->p, PRIO(3)), 0);
    assert_int_equal(rd(&f->p, ENABLE(0, 0)), 0);
    /* The wire is still high: after reprogramming it is delivered. */
    wr(&f->p, PRIO(3), 1);
    enable_src(&f->p, 0, 3);
    assert_int_equal(rd(&f->p, CLAIM(0)), 3);
}

static void test_hostile(void **state)
{
    struct fixture *f = *state;
    /* Sweep the window sparsely plus every register edge. */
    uint32_t offs[] = {0,          4,          0x17c,      0x180,      0xffc,
                       0x1000,     0x100c,     0x1010,     0x107c,     0x1ffc,
                       0x2000,     0x200c,     0x2010,     0x2080 * 3, ENABLE(NCTX, 0),
                       0x1f0000,   0x1ffffc,   THRESH(0) + 8, THRESH(NCTX), CLAIM(NCTX),
                       CLAIM(1000), PLIC_SIZE - 4, PLIC_SIZE, 0xfffffffc};
    for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
        uint64_t v;
        plic_ops.read(&f->p, offs[i], 4, &v);
        plic_ops.write(&f->p, offs[i], 4, 0xffffffff);
    }
    for (uint32_t off = 0; off < 0x3000; off += 4) {
        uint64_t v;
        plic_ops.read(&f->p, off, 4, &v);
    }
    plic_ops.write(&f->p, 0x1ull << 40, 4, 1);
    plic_set_irq(&f->p, 0, 1);
    plic_set_irq(&f->p, PLIC_MAX_SOURCES, 1);
    plic_set_irq(&f->p, 100000, 1);
    wr(&f->p, CLAIM(0), 0);
    wr(&f->p, CLAIM(0), 5000);
    wr(&f->p, CLAIM(0), 0xffffffff);
    assert_int_equal(plic_ops.min_access, 4);
    assert_int_equal(plic_ops.max_access, 4);
    /* Still delivers afterwards. */
    wr(&f->p, THRESH(0), 0);
    wr(&f->p, PRIO(20), 1);
    plic_set_irq(&f->p, 20, 1);
    assert_int_equal(rd(&f->p, CLAIM(0)), 20);
}

static void test_state_hostile(void **state)
{
    struct fixture *f = *state;
    wr(&f->p, PRIO(10), 3);
    enable_src(&f->p, 1, 10);
    plic_set_irq(&f->p, 10, 1);
    assert_true(state_check_device(&f->p, plic_ops.save, plic_ops.load) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_init, setup),
        cmocka_unit_test_setup(test_claim_complete, setup),
        cmocka_unit_test_setup(test_priority_threshold, setup),
        cmocka_unit_test_setup(test_enable_routing, setup),
        cmocka_unit_test_setup(test_warl_and_readonly, setup),
        cmocka_unit_test_setup(test_save_load, setup),
        cmocka_unit_test_setup(test_reset, setup),
        cmocka_unit_test_setup(test_hostile, setup),
        cmocka_unit_test_setup(test_state_hostile, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
