/* condo SMP tests: NHARTS harts on their own host threads share memory.
 * Every result is exact (no timing): counters that lose no update, locks
 * that exclude, the two ordering rules a TSO host must still be made to
 * keep (store buffering with fences; message passing), and code one hart
 * rewrites while another runs it.
 *
 * Cases (the exit code names the one that failed):
 *   1  amoadd.w / amoadd.d counters, amoor / amoand bit masks, amomax
 *   2  lr.w / sc.w increment loops
 *   3  an LR/SC spin lock around plain loads and stores
 *   4  an amoswap.w.aq spin lock released by amoswap.w.rl
 *   5  store buffering with fence rw,rw: both loads 0 is forbidden
 *   6  message passing with fence w,w / fence r,r
 *   7  cross-modifying code: hart 1 rewrites `li a0, N` in patchable(),
 *      hart 0 (running it all along) sees each N after fence.i */
#include <stdint.h>

#define ITER_AMO (80000 / NHARTS) /* the same total work for every hart count */
#define ITER_LRSC (40000 / NHARTS)
#define ITER_LOCK (8000 / NHARTS)
#define ROUNDS 1000

long patchable(void);

static volatile uint32_t bar_count, bar_sense;
static volatile uint32_t amo_w, amo_or, amo_and = ~0u;
static volatile uint64_t amo_d;
static volatile int64_t amo_max;
static volatile uint32_t lrsc_w;
static volatile uint32_t lock1, lock2;
static volatile uint64_t in_lock1a, in_lock1b, in_lock2;
static volatile uint64_t sb_x, sb_y, sb_r[2];
static volatile uint64_t mp_data, mp_flag;
static volatile uint64_t smc_flag, smc_ack;
static volatile uint32_t failed;

static inline uint32_t amoadd_w(volatile uint32_t *p, uint32_t v)
{
    uint32_t old;
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(v) : "memory");
    return old;
}

static inline void amoadd_d(volatile uint64_t *p, uint64_t v)
{
    __asm__ volatile("amoadd.d zero, %1, (%0)" : : "r"(p), "r"(v) : "memory");
}

static inline void amoor_w(volatile uint32_t *p, uint32_t v)
{
    __asm__ volatile("amoor.w zero, %1, (%0)" : : "r"(p), "r"(v) : "memory");
}

static inline void amoand_w(volatile uint32_t *p, uint32_t v)
{
    __asm__ volatile("amoand.w zero, %1, (%0)" : : "r"(p), "r"(v) : "memory");
}

static inline void amomax_d(volatile int64_t *p, int64_t v)
{
    __asm__ volatile("amomax.d zero, %1, (%0)" : : "r"(p), "r"(v) : "memory");
}

static inline void lrsc_inc(volatile uint32_t *p)
{
    uint32_t t, fail;
    __asm__ volatile("1: lr.w %0, (%2)\n"
                     "   addiw %0, %0, 1\n"
                     "   sc.w %1, %0, (%2)\n"
                     "   bnez %1, 1b"
                     : "=&r"(t), "=&r"(fail)
                     : "r"(p)
                     : "memory");
}

static inline void lrsc_lock(volatile uint32_t *l)
{
    uint32_t t, fail;
    __asm__ volatile("1: lr.w.aq %0, (%2)\n"
                     "   bnez %0, 1b\n"
                     "   li %0, 1\n"
                     "   sc.w %1, %0, (%2)\n"
                     "   bnez %1, 1b"
                     : "=&r"(t), "=&r"(fail)
                     : "r"(l)
                     : "memory");
}

static inline void fence_unlock(volatile uint32_t *l)
{
    __asm__ volatile("fence rw, w\n sw zero, (%0)" : : "r"(l) : "memory");
}

static inline void swap_lock(volatile uint32_t *l)
{
    uint32_t old;
    do {
        __asm__ volatile("amoswap.w.aq %0, %2, (%1)" : "=r"(old) : "r"(l), "r"(1u) : "memory");
    } while (old);
}

static inline void swap_unlock(volatile uint32_t *l)
{
    __asm__ volatile("amoswap.w.rl zero, zero, (%0)" : : "r"(l) : "memory");
}

static inline void fence_rw_rw(void)
{
    __asm__ volatile("fence rw, rw" ::: "memory");
}

/* Sense-reversing barrier of `n` harts on (count, flag). */
static void barrier_of(volatile uint32_t *count, volatile uint32_t *flag, uint32_t n,
                       uint32_t *sense)
{
    uint32_t s = !*sense;
    *sense = s;
    if (amoadd_w(count, 1) == n - 1) {
        *count = 0;
        fence_rw_rw();
        *flag = s;
    } else {
        while (*flag != s)
            ;
    }
    fence_rw_rw();
}

static void barrier(uint32_t *sense)
{
    barrier_of(&bar_count, &bar_sense, NHARTS, sense);
}

/* Harts 0 and 1 only (the two-hart cases; the others wait at the next
 * barrier of all, not in every round). */
static volatile uint32_t pair_count, pair_sense;
static void barrier2(uint32_t *sense)
{
    barrier_of(&pair_count, &pair_sense, 2, sense);
}

static void fail(uint32_t c)
{
    amoor_w(&failed, 1u << c);
}

/* `addi a0, zero, n` */
static uint32_t li_a0(uint32_t n)
{
    return (n << 20) | (10 << 7) | 0x13;
}

int smp_main(unsigned long hart)
{
    uint32_t sense = 0;
    barrier(&sense);

    /* 1: AMOs */
    for (int i = 0; i < ITER_AMO; i++) {
        amoadd_w(&amo_w, 1);
        amoadd_d(&amo_d, 3);
        amomax_d(&amo_max, (int64_t)(hart * ITER_AMO + (unsigned)i));
    }
    amoor_w(&amo_or, 1u << hart);
    amoand_w(&amo_and, ~(1u << hart));
    barrier(&sense);
    if (hart == 0 &&
        (amo_w != NHARTS * ITER_AMO || amo_d != 3ull * NHARTS * ITER_AMO ||
         amo_or != (1u << NHARTS) - 1 || amo_and != ~((1u << NHARTS) - 1) ||
         amo_max != (int64_t)(NHARTS * ITER_AMO - 1)))
        fail(1);

    /* 2: LR/SC increments */
    for (int i = 0; i < ITER_LRSC; i++)
        lrsc_inc(&lrsc_w);
    barrier(&sense);
    if (hart == 0 && lrsc_w != NHARTS * ITER_LRSC)
        fail(2);

    /* 3, 4: locks around plain read-modify-writes */
    for (int i = 0; i < ITER_LOCK; i++) {
        lrsc_lock(&lock1);
        in_lock1a = in_lock1a + 1;
        in_lock1b = in_lock1b + 2;
        fence_unlock(&lock1);
        swap_lock(&lock2);
        in_lock2 = in_lock2 + 1;
        swap_unlock(&lock2);
    }
    barrier(&sense);
    if (hart == 0 && (in_lock1a != NHARTS * ITER_LOCK || in_lock1b != 2ull * NHARTS * ITER_LOCK))
        fail(3);
    if (hart == 0 && in_lock2 != NHARTS * ITER_LOCK)
        fail(4);

    /* 5: store buffering, harts 0 and 1 */
    uint32_t psense = 0;
    for (int r = 0; r < ROUNDS && hart < 2; r++) {
        barrier2(&psense);
        if (hart == 0) {
            sb_x = 1;
            fence_rw_rw();
            sb_r[0] = sb_y;
        } else if (hart == 1) {
            sb_y = 1;
            fence_rw_rw();
            sb_r[1] = sb_x;
        }
        barrier2(&psense);
        if (hart == 0) {
            if (sb_r[0] == 0 && sb_r[1] == 0)
                fail(5);
            sb_x = sb_y = 0;
        }
    }
    barrier(&sense);

    /* 6: message passing, hart 1 to hart 0 */
    for (uint64_t r = 1; r <= ROUNDS; r++) {
        if (hart == 1) {
            mp_data = r * 7;
            __asm__ volatile("fence w, w" ::: "memory");
            mp_flag = r;
            while (smc_ack != r) /* hart 0 read it: next round */
                ;
        } else if (hart == 0) {
            while (mp_flag != r)
                ;
            __asm__ volatile("fence r, r" ::: "memory");
            if (mp_data != r * 7)
                fail(6);
            smc_ack = r;
        }
    }
    barrier(&sense);
    smc_ack = 0;
    barrier(&sense);

    /* 7: cross-modifying code */
    volatile uint32_t *insn = (volatile uint32_t *)(uintptr_t)patchable;
    for (uint64_t r = 1; r <= ROUNDS; r++) {
        uint32_t n = (uint32_t)(r & 0x7ff);
        if (hart == 1) {
            __asm__ volatile("sw %0, 0(%1)" : : "r"(li_a0(n)), "r"(insn) : "memory");
            __asm__ volatile("fence w, w" ::: "memory");
            smc_flag = r;
            while (smc_ack != r)
                ;
        } else if (hart == 0) {
            while (smc_flag != r)
                (void)patchable(); /* hot: compiled, chained, cached */
            __asm__ volatile("fence r, r\n fence.i" ::: "memory");
            if ((uint32_t)patchable() != n)
                fail(7);
            smc_ack = r;
        }
    }
    barrier(&sense);

    if (hart != 0)
        for (;;)
            __asm__ volatile("wfi");
    for (uint32_t c = 1; c < 32; c++)
        if (failed & (1u << c))
            return (int)c;
    return 0;
}
