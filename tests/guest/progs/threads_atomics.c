/* threads_atomics: four pthreads hammer shared state with C11 atomics
 * (fetch_add, compare-exchange loops, exchange; 8-, 16-, 32- and 64-bit),
 * the A extension's min/max AMOs, a spinlock on atomic_flag, a
 * mutex-protected counter and a condition-variable round robin.
 * Only totals and invariants are printed, and the round robin fixes the
 * order, so the output does not depend on scheduling. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 4
#define ITERS 50000
#define ROUNDS 250

static int failures;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("CHECK FAILED line %d: %s\n", __LINE__, #cond); \
			failures++;                                        \
		}                                                          \
	} while (0)

static _Atomic uint64_t add64;
static _Atomic uint32_t add32;
static _Atomic uint16_t add16;
static _Atomic uint8_t add8;
static _Atomic uint64_t cas64;
static _Atomic uint32_t cas32;
static _Atomic uint64_t xchg64_slot;
static _Atomic uint32_t xchg32_slot;
static _Atomic uint64_t bits64;
static _Atomic uint32_t bits32;
static int64_t amo_max64 = INT64_MIN;
static int32_t amo_min32 = INT32_MAX;
static uint64_t amo_maxu64;
static uint32_t amo_minu32 = UINT32_MAX;
static atomic_flag spin = ATOMIC_FLAG_INIT;
static uint64_t spin_counter;

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static uint64_t mutex_counter;

static pthread_mutex_t rr_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rr_cond = PTHREAD_COND_INITIALIZER;
static unsigned rr_turn;
static unsigned char rr_log[NTHREADS * ROUNDS];

static pthread_barrier_t barrier;

struct result {
	uint64_t xchg64_got; /* sum of values this thread took out */
	uint64_t xchg64_put;
	uint64_t xchg32_got;
	uint64_t xchg32_put;
	unsigned cas_retries_nonneg;
};
static struct result results[NTHREADS];

static void amo_max_d(int64_t *p, int64_t v)
{
	int64_t old;
	__asm__ volatile("amomax.d.aqrl %0, %2, %1" : "=r"(old), "+A"(*p) : "r"(v) : "memory");
	(void)old;
}
static void amo_min_w(int32_t *p, int32_t v)
{
	int32_t old;
	__asm__ volatile("amomin.w.aqrl %0, %2, %1" : "=r"(old), "+A"(*p) : "r"(v) : "memory");
	(void)old;
}
static void amo_maxu_d(uint64_t *p, uint64_t v)
{
	uint64_t old;
	__asm__ volatile("amomaxu.d.aqrl %0, %2, %1" : "=r"(old), "+A"(*p) : "r"(v) : "memory");
	(void)old;
}
static void amo_minu_w(uint32_t *p, uint32_t v)
{
	uint32_t old;
	__asm__ volatile("amominu.w.aqrl %0, %2, %1" : "=r"(old), "+A"(*p) : "r"(v) : "memory");
	(void)old;
}

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	struct result *res = &results[id];
	uint64_t seed = 0x1234567ull * (id + 1);

	pthread_barrier_wait(&barrier);
	for (unsigned i = 0; i < ITERS; i++) {
		atomic_fetch_add(&add64, (uint64_t)(id + 1) << 32 | 1u);
		atomic_fetch_add_explicit(&add32, id + 1, memory_order_relaxed);
		atomic_fetch_add(&add16, 1);
		atomic_fetch_sub(&add8, 1);

		/* CAS loops: a multiply-add on 64 bits, a rotate-xor on 32 */
		uint64_t old = atomic_load(&cas64), nv;
		do {
			nv = old + (id + 1);
		} while (!atomic_compare_exchange_weak(&cas64, &old, nv));
		uint32_t o32 = atomic_load(&cas32), n32;
		do {
			n32 = o32 + 3;
		} while (!atomic_compare_exchange_strong(&cas32, &o32, n32));

		/* exchange: whatever one thread puts in, another takes out */
		uint64_t put = ((uint64_t)id << 40) + i + 1;
		res->xchg64_got += atomic_exchange(&xchg64_slot, put);
		res->xchg64_put += put;
		uint32_t put32 = id * 100000u + i + 1;
		res->xchg32_got += atomic_exchange(&xchg32_slot, put32);
		res->xchg32_put += put32;

		/* and/or/xor: each thread owns one byte lane of the mask */
		if (i % 2 == 0) {
			atomic_fetch_or(&bits64, 0xffull << (8 * id));
			atomic_fetch_or(&bits32, 0xffu << (8 * id));
		} else {
			atomic_fetch_and(&bits64, ~(0xffull << (8 * id)));
			atomic_fetch_and(&bits32, ~(0xffu << (8 * id)));
		}
		if (i % 1000 == 0)
			atomic_fetch_xor(&bits64, 1ull << (48 + id));

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		if (i % 8 == 0) {
			amo_max_d(&amo_max64, (int64_t)seed >> 1);
			amo_min_w(&amo_min32, (int32_t)(seed >> 32));
			amo_maxu_d(&amo_maxu64, seed >> 3);
			amo_minu_w(&amo_minu32, (uint32_t)(seed >> 20) | 0x100u);
		}

		if (i % 4 == 0) {
			while (atomic_flag_test_and_set_explicit(&spin, memory_order_acquire))
				;
			spin_counter++;
			atomic_flag_clear_explicit(&spin, memory_order_release);
		}

		pthread_mutex_lock(&mtx);
		mutex_counter += id + 1;
		pthread_mutex_unlock(&mtx);
	}

	pthread_barrier_wait(&barrier);

	/* condition variable round robin: thread k runs turns k, k+4, ... */
	for (unsigned r = 0; r < ROUNDS; r++) {
		pthread_mutex_lock(&rr_mtx);
		while (rr_turn % NTHREADS != id)
			pthread_cond_wait(&rr_cond, &rr_mtx);
		rr_log[rr_turn] = (unsigned char)id;
		rr_turn++;
		pthread_cond_broadcast(&rr_cond);
		pthread_mutex_unlock(&rr_mtx);
	}
	return NULL;
}

/* The expected AMO results, recomputed sequentially. */
static void expected_amo(int64_t *mx, int32_t *mn, uint64_t *mxu, uint32_t *mnu)
{
	*mx = INT64_MIN;
	*mn = INT32_MAX;
	*mxu = 0;
	*mnu = UINT32_MAX;
	for (unsigned id = 0; id < NTHREADS; id++) {
		uint64_t seed = 0x1234567ull * (id + 1);
		for (unsigned i = 0; i < ITERS; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			if (i % 8)
				continue;
			if ((int64_t)seed >> 1 > *mx)
				*mx = (int64_t)seed >> 1;
			if ((int32_t)(seed >> 32) < *mn)
				*mn = (int32_t)(seed >> 32);
			if (seed >> 3 > *mxu)
				*mxu = seed >> 3;
			if (((uint32_t)(seed >> 20) | 0x100u) < *mnu)
				*mnu = (uint32_t)(seed >> 20) | 0x100u;
		}
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("threads_atomics start: %d threads x %d iterations\n", NTHREADS, ITERS);
	pthread_t th[NTHREADS];
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	atomic_store(&xchg64_slot, 7);
	atomic_store(&xchg32_slot, 9);
	for (unsigned i = 0; i < NTHREADS; i++) {
		int e = pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
		if (e) {
			printf("pthread_create failed: %d\n", e);
			return 2;
		}
	}
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);

	uint64_t sum_ids = 0;
	for (unsigned i = 0; i < NTHREADS; i++)
		sum_ids += i + 1;

	uint64_t a64 = atomic_load(&add64);
	printf("fetch_add64 = %016" PRIx64 "\n", a64);
	CHECK(a64 == ((sum_ids * ITERS) << 32 | (uint64_t)NTHREADS * ITERS));
	printf("fetch_add32 = %" PRIu32 "\n", atomic_load(&add32));
	CHECK(atomic_load(&add32) == sum_ids * ITERS);
	printf("fetch_add16 = %u (mod 65536)\n", (unsigned)atomic_load(&add16));
	CHECK(atomic_load(&add16) == (uint16_t)(NTHREADS * ITERS));
	printf("fetch_sub8 = %u (mod 256)\n", (unsigned)atomic_load(&add8));
	CHECK(atomic_load(&add8) == (uint8_t)(0u - NTHREADS * ITERS));
	printf("cas64 = %" PRIu64 ", cas32 = %" PRIu32 "\n", atomic_load(&cas64),
	       atomic_load(&cas32));
	CHECK(atomic_load(&cas64) == sum_ids * ITERS);
	CHECK(atomic_load(&cas32) == 3u * NTHREADS * ITERS);

	uint64_t got = 0, put = 0, got32 = 0, put32 = 0;
	for (unsigned i = 0; i < NTHREADS; i++) {
		got += results[i].xchg64_got;
		put += results[i].xchg64_put;
		got32 += results[i].xchg32_got;
		put32 += results[i].xchg32_put;
	}
	uint64_t final64 = atomic_load(&xchg64_slot);
	uint32_t final32 = atomic_load(&xchg32_slot);
	/* the final value is the last put of some thread */
	int conserved64 = got + final64 == put + 7;
	int conserved32 = got32 + final32 == put32 + 9;
	printf("exchange64 conserved: %s, exchange32 conserved: %s\n",
	       conserved64 ? "yes" : "no", conserved32 ? "yes" : "no");
	printf("exchange totals put64 %" PRIu64 " put32 %" PRIu64 "\n", put, put32);
	CHECK(conserved64 && conserved32);

	uint64_t b64 = atomic_load(&bits64);
	printf("and/or/xor: bits64 = %016" PRIx64 ", bits32 = %08" PRIx32 "\n", b64,
	       atomic_load(&bits32));
	CHECK(atomic_load(&bits32) == 0); /* last op of every lane is an and */

	int64_t emx;
	int32_t emn;
	uint64_t emxu;
	uint32_t emnu;
	expected_amo(&emx, &emn, &emxu, &emnu);
	printf("amomax.d %" PRId64 " amomin.w %" PRId32 "\n", amo_max64, amo_min32);
	printf("amomaxu.d %" PRIu64 " amominu.w %" PRIu32 "\n", amo_maxu64, amo_minu32);
	CHECK(amo_max64 == emx && amo_min32 == emn && amo_maxu64 == emxu && amo_minu32 == emnu);

	printf("spinlock counter = %" PRIu64 "\n", spin_counter);
	CHECK(spin_counter == (uint64_t)NTHREADS * ((ITERS + 3) / 4));
	printf("mutex counter = %" PRIu64 "\n", mutex_counter);
	CHECK(mutex_counter == sum_ids * ITERS);

	int in_order = 1;
	uint32_t h = 0;
	for (unsigned t = 0; t < NTHREADS * ROUNDS; t++) {
		if (rr_log[t] != t % NTHREADS)
			in_order = 0;
		h = h * 31 + rr_log[t];
	}
	printf("condvar round robin: %u turns, in order: %s, digest %08" PRIx32 "\n", rr_turn,
	       in_order ? "yes" : "no", h);
	CHECK(in_order && rr_turn == NTHREADS * ROUNDS);

	pthread_barrier_destroy(&barrier);
	printf("threads_atomics done, %d check failures\n", failures);
	return failures ? 1 : 0;
}
