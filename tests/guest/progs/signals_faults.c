/* signals_faults: synchronous faults turned into signals (SIGSEGV on
 * PROT_NONE, read-only, unmapped and non-executable pages, SIGBUS past the
 * end of a mapped file, SIGILL, SIGTRAP), recovery with siglongjmp or by
 * editing the saved pc, mprotect toggles, a guard page, self-modifying
 * code, stack growth and stack overflow caught on an alternate stack,
 * plus asynchronous signals: SIGUSR1/SIGUSR2 to self with masks, queued
 * real-time signals, SIGCHLD, SIGALRM from setitimer (only counted, never
 * timed), EINTR, and FP/integer state preserved across interrupting
 * handlers.  RISC-V does not trap on integer division by zero, so there is
 * no SIGFPE: the division result is printed instead.
 * Addresses are printed as offsets from the mapping, never absolute. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static int failures;
static long page;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("CHECK FAILED line %d: %s\n", __LINE__, #cond); \
			failures++;                                        \
		}                                                          \
	} while (0)

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig, fault_code;
static volatile uintptr_t fault_addr;
static volatile sig_atomic_t fault_armed;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	fault_sig = sig;
	fault_code = si->si_code;
	fault_addr = (uintptr_t)si->si_addr;
	if (fault_armed) {
		fault_armed = 0;
		siglongjmp(fault_jmp, 1);
	}
	/* not expected: report and leave without looping on the fault */
	static const char msg[] = "unexpected fault signal\n";
	ssize_t r = write(1, msg, sizeof msg - 1);
	(void)r;
	_exit(70);
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL)) {
		printf("sigaction(%d) failed: %s\n", sig, strerror(errno));
		exit(2);
	}
}

static const char *code_name(int sig, int code)
{
	if (sig == SIGSEGV)
		return code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : "?";
	if (sig == SIGBUS)
		return code == BUS_ADRERR ? "BUS_ADRERR" : code == BUS_ADRALN ? "BUS_ADRALN" : "?";
	if (sig == SIGILL)
		return code == ILL_ILLOPC ? "ILL_ILLOPC" : "?";
	if (sig == SIGTRAP)
		return code == TRAP_BRKPT ? "TRAP_BRKPT" : "?";
	return "?";
}

/* Run one access that should fault; report signal, code and the fault
 * address as an offset from base. */
#define EXPECT_FAULT(label, base, stmt)                                                  \
	do {                                                                             \
		fault_sig = 0;                                                           \
		fault_armed = 1;                                                         \
		if (sigsetjmp(fault_jmp, 1) == 0) {                                      \
			stmt;                                                            \
			fault_armed = 0;                                                 \
			printf("%-34s no fault\n", label);                               \
		} else {                                                                 \
			printf("%-34s signal %d %s at base%+ld\n", label, (int)fault_sig, \
			       code_name(fault_sig, fault_code),                         \
			       (long)(fault_addr - (uintptr_t)(base)));                  \
		}                                                                        \
	} while (0)

#define EXPECT_NO_FAULT(label, stmt)                                          \
	do {                                                                  \
		fault_sig = 0;                                                \
		fault_armed = 1;                                              \
		if (sigsetjmp(fault_jmp, 1) == 0) {                           \
			stmt;                                                 \
			fault_armed = 0;                                      \
			printf("%-34s ok\n", label);                          \
		} else {                                                      \
			printf("%-34s UNEXPECTED signal %d\n", label, (int)fault_sig); \
			failures++;                                           \
		}                                                             \
	} while (0)

static void test_segv(void)
{
	install(SIGSEGV, fault_handler, 0);
	install(SIGBUS, fault_handler, 0);

	/* guard page between two usable pages */
	char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		printf("mmap failed\n");
		exit(2);
	}
	volatile char *v = m;
	if (mprotect(m + page, page, PROT_NONE))
		printf("mprotect failed: %s\n", strerror(errno));
	EXPECT_NO_FAULT("write below the guard page", v[page - 1] = 1);
	EXPECT_FAULT("write to the guard page", m, v[page + 123] = 2);
	EXPECT_FAULT("read from the guard page", m, (void)v[2 * page - 8]);
	EXPECT_NO_FAULT("read above the guard page", (void)v[2 * page]);

	/* mprotect toggles keep the data */
	v[16] = 'x';
	mprotect(m, page, PROT_READ);
	EXPECT_NO_FAULT("read of read-only page", CHECK(v[16] == 'x'));
	EXPECT_FAULT("write to read-only page", m, v[17] = 'y');
	mprotect(m, page, PROT_NONE);
	EXPECT_FAULT("read of PROT_NONE page", m, (void)v[18]);
	mprotect(m, page, PROT_READ | PROT_WRITE);
	EXPECT_NO_FAULT("write after restoring RW", v[17] = 'y');
	printf("data kept across toggles: %s\n", v[16] == 'x' && v[17] == 'y' ? "yes" : "no");
	/* unmapped memory */
	munmap(m + 2 * page, page);
	EXPECT_FAULT("read of unmapped page", m, (void)v[2 * page + 5]);
	int *volatile low = (int *)(uintptr_t)64;
	EXPECT_FAULT("write through NULL+64", (char *)0, *(volatile int *)low = 1);
	munmap(m, 2 * page);

	/* SIGBUS: a shared file mapping past the end of its file (a memfd, so
	 * no writable filesystem is needed) */
	int fd = memfd_create("sigbus-test", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, page) == 0) {
		char *fm = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (fm != MAP_FAILED) {
			volatile char *fv = fm;
			EXPECT_NO_FAULT("write inside the file", fv[10] = 'f');
			EXPECT_FAULT("read past end of file", fm, (void)fv[page + 1]);
			munmap(fm, 2 * page);
		} else {
			printf("file mmap failed: %s\n", strerror(errno));
			failures++;
		}
	} else {
		printf("memfd_create/ftruncate failed: %s\n", strerror(errno));
		failures++;
	}
	if (fd >= 0)
		close(fd);
}

/* Misaligned loads and stores, none crossing into a bad page (there
 * hardware support and kernel emulation legitimately differ).  Linux either
 * has them done in hardware or emulates them in its trap handler; the
 * program sees only the data. */
static void test_misaligned(void)
{
	static uint8_t buf[64] __attribute__((aligned(16)));
	for (int i = 0; i < 64; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	uint64_t d, w, h, wu, hu;
	uint8_t *p = buf + 3;
	__asm__ volatile("ld %0, 0(%1)" : "=r"(d) : "r"(p));
	__asm__ volatile("lw %0, 1(%1)" : "=r"(w) : "r"(p));
	__asm__ volatile("lh %0, 0(%1)" : "=r"(h) : "r"(p));
	__asm__ volatile("lwu %0, 2(%1)" : "=r"(wu) : "r"(p));
	__asm__ volatile("lhu %0, 4(%1)" : "=r"(hu) : "r"(p));
	printf("misaligned loads: %016llx %016llx %016llx %016llx %016llx\n",
	       (unsigned long long)d, (unsigned long long)w, (unsigned long long)h,
	       (unsigned long long)wu, (unsigned long long)hu);
	uint64_t val = 0x0123456789abcdefull;
	__asm__ volatile("sd %0, 0(%1)" ::"r"(val), "r"(buf + 33) : "memory");
	__asm__ volatile("sw %0, 0(%1)" ::"r"(val), "r"(buf + 43) : "memory");
	__asm__ volatile("sh %0, 0(%1)" ::"r"(val), "r"(buf + 49) : "memory");
	double dv = 3.5, dr;
	__asm__ volatile("fsd %0, 0(%1)" ::"f"(dv), "r"(buf + 53) : "memory");
	__asm__ volatile("fld %0, 0(%1)" : "=f"(dr) : "r"(buf + 53));
	uint32_t hsh = 0;
	for (int i = 0; i < 64; i++)
		hsh = hsh * 31 + buf[i];
	printf("misaligned stores: digest %08x, fld back %g\n", hsh, dr);
}

/* SIGILL and SIGTRAP: the handler skips the instruction by advancing the
 * saved pc, which the kernel restores in sigreturn. */
static volatile sig_atomic_t ill_count, trap_count, ill_code, trap_code;
static void skip_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	if (sig == SIGILL) {
		ill_count++;
		ill_code = si->si_code;
	} else {
		trap_count++;
		trap_code = si->si_code;
	}
	uc->uc_mcontext.__gregs[REG_PC] += 4;
}

static void test_ill_trap(void)
{
	install(SIGILL, skip_handler, 0);
	install(SIGTRAP, skip_handler, 0);
	long r = 5;
	/* an all-zero word is defined illegal; the addi after it must run */
	__asm__ volatile(".option push\n.option norvc\n"
			 ".word 0\n"
			 "addi %0, %0, 1\n"
			 ".word 0xffffffff\n" /* reserved, also illegal */
			 "addi %0, %0, 10\n"
			 ".option pop\n"
			 : "+r"(r));
	printf("SIGILL x%d %s, execution resumed: r=%ld\n", (int)ill_count,
	       code_name(SIGILL, ill_code), r);
	/* a CSR that user mode may not access */
	long m;
	__asm__ volatile(".option push\n.option norvc\n"
			 "li %0, 77\n"
			 "csrr %0, mstatus\n"
			 ".option pop\n"
			 : "=r"(m));
	printf("csrr mstatus from user: SIGILL count %d, value kept %ld\n", (int)ill_count, m);
	__asm__ volatile(".option push\n.option norvc\nebreak\naddi %0, %0, 100\n.option pop\n"
			 : "+r"(r));
	printf("SIGTRAP x%d %s, r=%ld\n", (int)trap_count, code_name(SIGTRAP, trap_code), r);
	/* the time CSR must be readable from user mode (rdcycle and rdinstret
	 * are not tested: Linux 6.6+ denies them by default, QEMU user mode
	 * allows them) */
	unsigned long t1, t2;
	__asm__ volatile("rdtime %0" : "=r"(t1));
	__asm__ volatile("rdtime %0" : "=r"(t2));
	printf("rdtime readable without trap: %s, monotonic: %s\n", ill_count == 3 ? "yes" : "no",
	       t2 >= t1 ? "yes" : "no");
	signal(SIGILL, SIG_DFL);
	signal(SIGTRAP, SIG_DFL);
}

/* Code written at run time: call it, rewrite it, call it again.  The
 * emulator must notice stores to code it has already decoded (after the
 * fence.i that __builtin___clear_cache issues through the kernel). */
static void test_code_pages(void)
{
	uint32_t *code = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			      0);
	if (code == MAP_FAILED) {
		printf("mmap failed\n");
		return;
	}
	typedef long (*fn_t)(long);
	/* addi a0, a0, IMM ; ret */
#define ADDI_A0(imm) (((uint32_t)(imm) << 20) | (10u << 15) | (10u << 7) | 0x13u)
	const uint32_t ret = 0x00008067u;
	fn_t fn = (fn_t)(void *)code;
	code[0] = ADDI_A0(42);
	code[1] = ret;
	EXPECT_FAULT("call into non-exec page", code, (void)fn(0));
	mprotect(code, page, PROT_READ | PROT_EXEC);
	__builtin___clear_cache((char *)code, (char *)(code + 2));
	long a = fn(1);
	EXPECT_FAULT("write to read+exec page", code, code[0] = 0);
	mprotect(code, page, PROT_READ | PROT_WRITE | PROT_EXEC);
	long sum = 0;
	for (int i = 0; i < 200; i++) {
		code[0] = ADDI_A0(i);
		__builtin___clear_cache((char *)code, (char *)(code + 2));
		sum += fn(1000);
	}
	printf("generated code: first call %ld, 200 rewrites sum %ld\n", a, sum);
	CHECK(a == 43 && sum == 200 * 1000 + 199 * 200 / 2);
	munmap(code, page);
#undef ADDI_A0
}

/* Recursion whose frames touch fresh stack pages: the kernel grows the
 * stack on demand. */
static __attribute__((noinline)) uint64_t deep(unsigned n, uint64_t acc)
{
	volatile char frame[1024];
	frame[0] = (char)n;
	frame[sizeof frame - 1] = (char)(n >> 8);
	if (n == 0)
		return acc;
	uint64_t r = deep(n - 1, acc * 31 + (uint64_t)frame[0] + (uint64_t)frame[1023]);
	return r ^ frame[0];
}

static volatile sig_atomic_t overflow_caught;
static volatile unsigned long overflow_limit = ~0ul; /* never reached */
static __attribute__((noinline)) unsigned long forever(unsigned long n)
{
	volatile char frame[4096];
	frame[0] = (char)n;
	frame[sizeof frame - 1] = (char)n;
	if (n >= overflow_limit)
		return n;
	return forever(n + 1) + frame[0];
}

static void test_stack(void)
{
	/* 3000 frames of >1 KiB: ~3.5 MiB, inside the 8 MiB default limit */
	uint64_t r = deep(3000, 1);
	printf("stack growth recursion: %016llx\n", (unsigned long long)r);

	/* Unbounded recursion hits the stack limit; the SIGSEGV handler runs
	 * on an alternate stack and jumps out.  Cap the limit so the guest's
	 * memory does not decide where it ends. */
	struct rlimit rl;
	getrlimit(RLIMIT_STACK, &rl);
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)8 << 20) {
		rl.rlim_cur = (rlim_t)8 << 20;
		setrlimit(RLIMIT_STACK, &rl);
	}
	static char alt[64 * 1024];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
	if (sigaltstack(&ss, NULL)) {
		printf("sigaltstack failed: %s\n", strerror(errno));
		return;
	}
	install(SIGSEGV, fault_handler, SA_ONSTACK);
	fault_sig = 0;
	fault_armed = 1;
	if (sigsetjmp(fault_jmp, 1) == 0) {
		forever(0);
		printf("stack overflow: no fault?\n");
	} else {
		printf("stack overflow caught on alternate stack: signal %d\n", (int)fault_sig);
	}
	stack_t cur;
	sigaltstack(NULL, &cur);
	printf("alternate stack still registered, not in use: %s\n",
	       !(cur.ss_flags & SS_DISABLE) && !(cur.ss_flags & SS_ONSTACK) ? "yes" : "no");
	install(SIGSEGV, fault_handler, 0);
}

/* ---- asynchronous signals ---- */

static volatile sig_atomic_t order_log[16];
static volatile sig_atomic_t order_n;
static volatile sig_atomic_t usr1_value;
static volatile sig_atomic_t reraise;

static void log_event(int e)
{
	if (order_n < 16)
		order_log[order_n++] = e;
}

static void usr_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGUSR1) {
		log_event(1);
		if (si->si_code == SI_QUEUE)
			usr1_value = si->si_value.sival_int;
		/* SIGUSR1 is blocked while its handler runs (no SA_NODEFER):
		 * raised again here, it must wait until we return.  (sa_mask
		 * with another signal is not tested: qemu-riscv64 7.2 does not
		 * apply it, so the reference would be wrong.) */
		if (reraise) {
			reraise = 0;
			raise(SIGUSR1);
		}
		log_event(2);
	} else {
		log_event(3);
	}
}

static volatile sig_atomic_t rt_count, rt_sum;
static void rt_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	(void)sig;
	rt_count++;
	rt_sum = rt_sum * 10 + si->si_value.sival_int;
}

static void test_self_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = usr_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);

	reraise = 1;
	raise(SIGUSR1);
	printf("SIGUSR1 raised in its own handler waits:");
	for (int i = 0; i < order_n; i++)
		printf(" %d", (int)order_log[i]);
	printf(" (1=start 2=end)\n");

	/* kill() to our own pid */
	order_n = 0;
	kill(getpid(), SIGUSR2);
	printf("kill(getpid(), SIGUSR2) delivered: %s\n", order_n == 1 ? "yes" : "no");

	/* blocked signals stay pending; a standard signal does not queue */
	sigset_t block, old, pend;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	order_n = 0;
	raise(SIGUSR1);
	raise(SIGUSR1);
	raise(SIGUSR1);
	sigpending(&pend);
	printf("while blocked: delivered %d, pending %d\n", (int)order_n,
	       sigismember(&pend, SIGUSR1));
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("after unblock: SIGUSR1 deliveries %d\n", (int)order_n / 2);

	/* sigqueue carries a value */
	union sigval sv = {.sival_int = 4242};
	sigqueue(getpid(), SIGUSR1, sv);
	printf("sigqueue value received: %d\n", (int)usr1_value);

	/* real-time signals queue, and arrive in the order sent */
	install(SIGRTMIN + 1, rt_handler, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (int i = 1; i <= 3; i++) {
		sv.sival_int = i;
		sigqueue(getpid(), SIGRTMIN + 1, sv);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("queued SIGRTMIN+1 x3: delivered %d, values in order %d\n", (int)rt_count,
	       (int)rt_sum);

	/* SIG_IGN discards */
	signal(SIGUSR2, SIG_IGN);
	raise(SIGUSR2);
	printf("ignored SIGUSR2 survived\n");
	signal(SIGUSR2, SIG_DFL);
}

static volatile sig_atomic_t chld_count;
static void chld_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == CLD_EXITED && si->si_status == 9)
		chld_count++;
}

static void test_sigchld(void)
{
	install(SIGCHLD, chld_handler, SA_RESTART);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	fflush(stdout);
	pid_t p = fork();
	if (p == 0)
		_exit(9);
	sigset_t wait_mask = old;
	sigdelset(&wait_mask, SIGCHLD);
	while (chld_count == 0)
		sigsuspend(&wait_mask);
	sigprocmask(SIG_SETMASK, &old, NULL);
	int st;
	waitpid(p, &st, 0);
	printf("SIGCHLD with CLD_EXITED status 9: %s\n", chld_count == 1 ? "yes" : "no");
	signal(SIGCHLD, SIG_DFL);
}

static volatile sig_atomic_t alarm_count;
static void alarm_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	alarm_count++;
	/* clobber FP and integer registers the interrupted code may be using */
	volatile double x = 1.0;
	for (int i = 0; i < 50; i++)
		x = x * 1.0001 + 0.5;
}

static double fp_step(double acc, long i)
{
	return acc * 0.999 + (double)(i % 97) * 0.25;
}

static void test_alarm(void)
{
	install(SIGALRM, alarm_handler, SA_RESTART);
	struct itimerval it = {.it_interval = {0, 2000}, .it_value = {0, 2000}};
	alarm_count = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	/* compute while the timer interrupts us, then redo it quietly */
	double acc = 0;
	long n = 0;
	uint64_t iacc = 1;
	while (alarm_count < 5 && n < 100000000L) {
		acc = fp_step(acc, n);
		iacc = iacc * 6364136223846793005ull + (uint64_t)n;
		n++;
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	double again = 0;
	uint64_t iagain = 1;
	for (long i = 0; i < n; i++) {
		again = fp_step(again, i);
		iagain = iagain * 6364136223846793005ull + (uint64_t)i;
	}
	printf("SIGALRM from setitimer fired at least 5 times: %s\n",
	       alarm_count >= 5 ? "yes" : "no");
	printf("registers preserved across interrupting handlers: %s\n",
	       acc == again && iacc == iagain ? "yes" : "no");

	/* alarm(): one shot; sigsuspend returns after the handler */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &old);
	alarm_count = 0;
	struct itimerval once = {.it_interval = {0, 0}, .it_value = {0, 20000}};
	setitimer(ITIMER_REAL, &once, NULL);
	sigset_t wait_mask = old;
	sigdelset(&wait_mask, SIGALRM);
	int r = sigsuspend(&wait_mask);
	int e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("sigsuspend woke by SIGALRM: %s (returned %d, %s)\n",
	       alarm_count == 1 ? "yes" : "no", r, e == EINTR ? "EINTR" : "?");

	/* without SA_RESTART a blocking read is interrupted.  The timer
	 * repeats: should a slow or preempted VM let the first expiry land
	 * before read() blocks, the next one still interrupts it. */
	install(SIGALRM, alarm_handler, 0);
	int pfd[2];
	if (pipe(pfd) == 0) {
		struct itimerval rep = {.it_interval = {0, 20000}, .it_value = {0, 20000}};
		setitimer(ITIMER_REAL, &rep, NULL);
		char c;
		ssize_t n2 = read(pfd[0], &c, 1);
		e = errno;
		setitimer(ITIMER_REAL, &off, NULL);
		printf("blocking read interrupted: %s\n",
		       n2 < 0 && e == EINTR ? "EINTR" : "not interrupted");
		close(pfd[0]);
		close(pfd[1]);
	}

	/* alarm(1) replaced at once by alarm(0): the old value comes back */
	alarm(5);
	unsigned left = alarm(0);
	printf("alarm(0) after alarm(5) returns a value in 1..5: %s\n",
	       left >= 1 && left <= 5 ? "yes" : "no");
	signal(SIGALRM, SIG_DFL);
}

static void test_no_sigfpe(void)
{
	volatile long a = 17, z = 0;
	long q, rm;
	__asm__ volatile("div %0, %1, %2" : "=r"(q) : "r"(a), "r"(z));
	__asm__ volatile("rem %0, %1, %2" : "=r"(rm) : "r"(a), "r"(z));
	printf("17/0 on RISC-V (no SIGFPE): quotient %ld, remainder %ld\n", q, rm);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	page = sysconf(_SC_PAGESIZE);
	printf("signals_faults start, page size %ld\n", page);
	test_segv();
	test_misaligned();
	test_ill_trap();
	test_code_pages();
	test_stack();
	test_self_signals();
	test_sigchld();
	test_alarm();
	test_no_sigfpe();
	printf("signals_faults done, %d check failures\n", failures);
	return failures ? 1 : 0;
}
