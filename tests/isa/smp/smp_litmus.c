/* condo SMP litmus tests: classic shapes of the RVWMO memory model, each
 * run ROUNDS times with the harts started together by a barrier, and each
 * checked for the one outcome the model forbids. A TSO host forbids most of
 * them by itself; what matters is that the engine (interpreter and compiled
 * code, fences, AMOs with .aq/.rl, LR/SC) never lets a forbidden outcome
 * through, e.g. by reordering or caching a guest access in a register
 * across a fence. Results are exact: no timing is assumed, a forbidden
 * outcome seen once fails.
 *
 * Cases (the exit code names the one that failed):
 *   1  CoRR: a hart reading one location twice never sees it go back
 *      (coherence), while another hart counts it up
 *   2  MP with release/acquire AMOs: amoswap.w.rl publishes, lr.w.aq
 *      observes; the data written before must be seen
 *   3  SB with amoswap.d.aqrl on both sides: both loads 0 is forbidden
 *   4  2+2W with fence w,w: final x = 1 and y = 1 is forbidden
 *   5  IRIW with fence r,r on both readers (4 harts or more): the two
 *      readers must not see the two writes in opposite orders (RVWMO is
 *      multi-copy atomic)
 *   6  S: x = 2; fence w,w; y = 1  ||  r = y; (if r = 1) x = 1 by an
 *      amoswap.aq: the final x must be 1 when r = 1 (a store ordered
 *      after a load it depends on) */
#include <stdint.h>

/* every round is two barriers of all harts: with more harts than host
 * cores a barrier waits for the host scheduler, so fewer rounds */
#define ROUNDS (NHARTS <= 2 ? 2000 : 40)

static volatile uint32_t bar_count, bar_sense;
static volatile uint32_t failed;

static volatile uint64_t co_x;
static volatile uint32_t mp_flag;
static volatile uint64_t mp_data;
static volatile uint64_t sb_x, sb_y, sb_r[2];
static volatile uint64_t ww_x, ww_y;
static volatile uint64_t iw_x, iw_y, iw_r[4];
static volatile uint64_t s_x, s_y, s_r;

static inline uint32_t amoadd_w(volatile uint32_t *p, uint32_t v)
{
    uint32_t old;
    __asm__ volatile("amoadd.w.aqrl %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(v) : "memory");
    return old;
}

static inline void fence_rw_rw(void)
{
    __asm__ volatile("fence rw, rw" ::: "memory");
}

/* Sense-reversing barrier of all harts. */
static void barrier(uint32_t *sense)
{
    uint32_t s = !*sense;
    *sense = s;
    if (amoadd_w(&bar_count, 1) == NHARTS - 1) {
        bar_count = 0;
        fence_rw_rw();
        bar_sense = s;
    } else {
        while (bar_sense != s)
            ;
    }
    fence_rw_rw();
}

static void fail(uint32_t c)
{
    __asm__ volatile("amoor.w zero, %1, (%0)" : : "r"(&failed), "r"(1u << c) : "memory");
}

static void corr(unsigned long hart)
{
    if (hart == 1) {
        for (uint64_t i = 1; i <= 200000; i++)
            co_x = i;
    } else if (hart == 0) {
        uint64_t last = 0;
        while (last < 200000) {
            uint64_t a = co_x;
            uint64_t b = co_x;
            if (a < last || b < a)
                fail(1);
            last = b;
        }
    }
}

static void mp_relacq(unsigned long hart)
{
    for (uint32_t r = 1; r <= ROUNDS; r++) {
        if (hart == 1) {
            mp_data = (uint64_t)r * 13;
            __asm__ volatile("amoswap.w.rl zero, %1, (%0)" : : "r"(&mp_flag), "r"(r) : "memory");
            uint32_t f;
            do /* wait until hart 0 acknowledged (flag = 0) */
                __asm__ volatile("lr.w.aq %0, (%1)" : "=r"(f) : "r"(&mp_flag) : "memory");
            while (f != 0);
        } else if (hart == 0) {
            uint32_t f;
            do
                __asm__ volatile("lr.w.aq %0, (%1)" : "=r"(f) : "r"(&mp_flag) : "memory");
            while (f != r);
            if (mp_data != (uint64_t)r * 13)
                fail(2);
            __asm__ volatile("amoswap.w.rl zero, zero, (%0)" : : "r"(&mp_flag) : "memory");
        }
    }
}

static void sb_amo(unsigned long hart, uint32_t *sense)
{
    for (int r = 0; r < ROUNDS; r++) {
        barrier(sense);
        if (hart == 0) {
            __asm__ volatile("amoswap.d.aqrl zero, %1, (%0)" : : "r"(&sb_x), "r"(1ul) : "memory");
            sb_r[0] = sb_y;
        } else if (hart == 1) {
            __asm__ volatile("amoswap.d.aqrl zero, %1, (%0)" : : "r"(&sb_y), "r"(1ul) : "memory");
            sb_r[1] = sb_x;
        }
        barrier(sense);
        if (hart == 0) {
            if (sb_r[0] == 0 && sb_r[1] == 0)
                fail(3);
            sb_x = sb_y = 0;
        }
    }
}

static void two_plus_two_w(unsigned long hart, uint32_t *sense)
{
    for (int r = 0; r < ROUNDS; r++) {
        barrier(sense);
        if (hart == 0) {
            ww_x = 1;
            __asm__ volatile("fence w, w" ::: "memory");
            ww_y = 2;
        } else if (hart == 1) {
            ww_y = 1;
            __asm__ volatile("fence w, w" ::: "memory");
            ww_x = 2;
        }
        barrier(sense);
        if (hart == 0) {
            if (ww_x == 1 && ww_y == 1)
                fail(4);
            ww_x = ww_y = 0;
        }
    }
}

static void iriw(unsigned long hart, uint32_t *sense)
{
    for (int r = 0; r < ROUNDS; r++) {
        barrier(sense);
        switch (hart) {
        case 0:
            iw_x = 1;
            break;
        case 1:
            iw_y = 1;
            break;
        case 2:
            iw_r[0] = iw_x;
            __asm__ volatile("fence r, r" ::: "memory");
            iw_r[1] = iw_y;
            break;
        case 3:
            iw_r[2] = iw_y;
            __asm__ volatile("fence r, r" ::: "memory");
            iw_r[3] = iw_x;
            break;
        }
        barrier(sense);
        if (hart == 0) {
            if (iw_r[0] == 1 && iw_r[1] == 0 && iw_r[2] == 1 && iw_r[3] == 0)
                fail(5);
            iw_x = iw_y = 0;
        }
    }
}

static void s_shape(unsigned long hart, uint32_t *sense)
{
    for (int r = 0; r < ROUNDS; r++) {
        barrier(sense);
        if (hart == 0) {
            s_x = 2;
            __asm__ volatile("fence w, w" ::: "memory");
            s_y = 1;
        } else if (hart == 1) {
            uint64_t v = s_y;
            s_r = v;
            if (v == 1)
                __asm__ volatile("amoswap.d.aq zero, %1, (%0)" : : "r"(&s_x), "r"(1ul) : "memory");
        }
        barrier(sense);
        if (hart == 0) {
            if (s_r == 1 && s_x != 1)
                fail(6);
            s_x = s_y = s_r = 0;
        }
    }
}

int smp_main(unsigned long hart)
{
    uint32_t sense = 0;
    barrier(&sense);
    corr(hart);
    barrier(&sense);
    mp_relacq(hart);
    barrier(&sense);
    sb_amo(hart, &sense);
    two_plus_two_w(hart, &sense);
    if (NHARTS >= 4)
        iriw(hart, &sense);
    s_shape(hart, &sense);
    barrier(&sense);

    if (hart != 0)
        for (;;)
            __asm__ volatile("wfi");
    for (uint32_t c = 1; c < 32; c++)
        if (failed & (1u << c))
            return (int)c;
    return 0;
}
