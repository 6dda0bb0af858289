/* smp_stress: what several harts running one process's threads (and many
 * processes) must get exactly right: an LR/SC spin lock around plain
 * read-modify-writes, raw lr.d/sc.d increments, futex ping-pong between
 * two threads, a lock-free single-producer single-consumer ring, and a
 * fork/exec storm. Only totals and invariants are printed, so the output
 * does not depend on scheduling or on the number of CPUs. */
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 4
#define LOCK_ITERS 20000
#define LRSC_ITERS 20000
#define PINGPONG 2000
#define RING_ITEMS 200000
#define RING_SIZE 64
#define FORKS 64
#define EXECS 16

static int failures;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("CHECK FAILED line %d: %s\n", __LINE__, #cond); \
			failures++;                                        \
		}                                                          \
	} while (0)

/* --- LR/SC spin lock and raw LR/SC increments --- */

static uint32_t lock;
static volatile uint64_t plain_a, plain_b;
static uint64_t lrsc_counter;

static void spin_lock(uint32_t *l)
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

static void spin_unlock(uint32_t *l)
{
	__asm__ volatile("fence rw, w\n sw zero, (%0)" : : "r"(l) : "memory");
}

static void lrsc_add(uint64_t *p, uint64_t v)
{
	uint64_t t, fail;
	__asm__ volatile("1: lr.d %0, (%2)\n"
			 "   add %0, %0, %3\n"
			 "   sc.d %1, %0, (%2)\n"
			 "   bnez %1, 1b"
			 : "=&r"(t), "=&r"(fail)
			 : "r"(p), "r"(v)
			 : "memory");
}

static void *locker(void *arg)
{
	(void)arg;
	for (int i = 0; i < LOCK_ITERS; i++) {
		spin_lock(&lock);
		plain_a = plain_a + 1;
		plain_b = plain_b + 3;
		spin_unlock(&lock);
		lrsc_add(&lrsc_counter, 5);
	}
	return NULL;
}

/* --- futex ping-pong --- */

static _Atomic int turn;

static void futex_wait(_Atomic int *addr, int val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic int *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *pingpong(void *arg)
{
	int me = (int)(intptr_t)arg;
	long *rounds = malloc(sizeof(*rounds));
	*rounds = 0;
	for (int i = 0; i < PINGPONG; i++) {
		int v;
		while ((v = atomic_load(&turn)) != me)
			futex_wait(&turn, v);
		(*rounds)++;
		atomic_store(&turn, !me);
		futex_wake(&turn);
	}
	return rounds;
}

/* --- lock-free SPSC ring --- */

static uint64_t ring[RING_SIZE];
static _Atomic uint64_t head, tail; /* head: next to write, tail: next to read */

static void *producer(void *arg)
{
	(void)arg;
	for (uint64_t v = 1; v <= RING_ITEMS; v++) {
		uint64_t h = atomic_load_explicit(&head, memory_order_relaxed);
		while (h - atomic_load_explicit(&tail, memory_order_acquire) == RING_SIZE)
			sched_yield(); /* one CPU: let the consumer run */
		ring[h % RING_SIZE] = v * 2654435761u;
		atomic_store_explicit(&head, h + 1, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	uint64_t *bad = arg;
	for (uint64_t v = 1; v <= RING_ITEMS; v++) {
		uint64_t t = atomic_load_explicit(&tail, memory_order_relaxed);
		while (atomic_load_explicit(&head, memory_order_acquire) == t)
			sched_yield();
		if (ring[t % RING_SIZE] != v * 2654435761u)
			(*bad)++;
		atomic_store_explicit(&tail, t + 1, memory_order_release);
	}
	return NULL;
}

/* --- fork/exec storm --- */

static void storm(void)
{
	pid_t pids[FORKS];
	for (int i = 0; i < FORKS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			/* a little work of its own, then a known status */
			volatile uint64_t x = (uint64_t)i;
			for (int k = 0; k < 10000; k++)
				x = x * 6364136223846793005ull + 1;
			_exit(i & 0x7f);
		}
		CHECK(pids[i] > 0);
	}
	int sum = 0, ok = 0;
	for (int i = 0; i < FORKS; i++) {
		int st;
		if (pids[i] > 0 && waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st)) {
			sum += WEXITSTATUS(st);
			ok++;
		}
	}
	printf("fork storm: %d children exited, status sum %d\n", ok, sum);
	CHECK(ok == FORKS && sum == FORKS * (FORKS - 1) / 2);

	int execs = 0;
	for (int i = 0; i < EXECS; i++) {
		pid_t p = fork();
		if (p == 0) {
			execl("/bin/sh", "sh", "-c", "exit 7", (char *)NULL);
			_exit(127);
		}
		int st;
		if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 7)
			execs++;
	}
	printf("exec storm: %d of %d shells exited 7\n", execs, EXECS);
	CHECK(execs == EXECS);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_t t[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, locker, NULL) == 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	printf("lr/sc lock: a=%" PRIu64 " b=%" PRIu64 " lr.d/sc.d=%" PRIu64 "\n", plain_a, plain_b,
	       lrsc_counter);
	CHECK(plain_a == (uint64_t)NTHREADS * LOCK_ITERS);
	CHECK(plain_b == 3ull * NTHREADS * LOCK_ITERS);
	CHECK(lrsc_counter == 5ull * NTHREADS * LRSC_ITERS);

	void *r0, *r1;
	pthread_create(&t[0], NULL, pingpong, (void *)(intptr_t)0);
	pthread_create(&t[1], NULL, pingpong, (void *)(intptr_t)1);
	pthread_join(t[0], &r0);
	pthread_join(t[1], &r1);
	printf("futex ping-pong: %ld + %ld rounds\n", *(long *)r0, *(long *)r1);
	CHECK(*(long *)r0 == PINGPONG && *(long *)r1 == PINGPONG);
	free(r0);
	free(r1);

	uint64_t bad = 0;
	pthread_create(&t[0], NULL, producer, NULL);
	pthread_create(&t[1], NULL, consumer, &bad);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	printf("spsc ring: %d items, %" PRIu64 " out of order or torn\n", RING_ITEMS, bad);
	CHECK(bad == 0);

	storm();

	printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
