/* fork_exec_pipes: fork, pipes between parent and child, waitpid exit codes
 * and signal deaths, execve of this program with arguments, dup2,
 * close-on-exec, posix_spawn, and a three-process pipeline.
 *
 * Output order is fixed: a child prints only while its parent is blocked in
 * waitpid for it, and stdout is flushed before every fork.
 *
 * Re-executing itself: the program execs the path in $SELF_EXE if set, else
 * argv[0].  In the guest it is started by absolute path, so argv[0] works.
 * Under qemu-riscv64 (user mode) an execve is a host execve, which cannot
 * run a RISC-V binary without binfmt_misc; the reference run therefore sets
 * SELF_EXE to a host script that starts qemu-riscv64 on this program. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int failures;
static const char *self_path;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("CHECK FAILED line %d: %s\n", __LINE__, #cond); \
			failures++;                                        \
		}                                                          \
	} while (0)

static void die(const char *what)
{
	printf("FATAL: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	_exit(99);
}

static pid_t xfork(void)
{
	fflush(stdout);
	pid_t p = fork();
	if (p < 0)
		die("fork");
	return p;
}

static void describe_status(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exited with %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: status 0x%x\n", what, st);
}

static int xwait(pid_t p)
{
	int st;
	pid_t r;
	do {
		r = waitpid(p, &st, 0);
	} while (r < 0 && errno == EINTR);
	if (r != p)
		die("waitpid");
	return st;
}

static ssize_t write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Build an environment for exec: keep SELF_EXE (the reference run needs it
 * in the grandchildren too) and add one variable of our own. */
static char **child_env(void)
{
	static char self_var[4096];
	static char *envp[3];
	int n = 0;
	const char *s = getenv("SELF_EXE");
	if (s) {
		snprintf(self_var, sizeof self_var, "SELF_EXE=%s", s);
		envp[n++] = self_var;
	}
	envp[n++] = "GUEST_TEST_VAR=condo says hello";
	envp[n] = NULL;
	return envp;
}

/* ---- modes entered after execve ---- */

static int mode_exec_child(int argc, char **argv)
{
	printf("  exec child: argc=%d", argc);
	for (int i = 1; i < argc; i++)
		printf(" [%s]", argv[i]);
	printf("\n");
	const char *v = getenv("GUEST_TEST_VAR");
	printf("  exec child: GUEST_TEST_VAR=%s\n", v ? v : "(unset)");
	return 3;
}

static int mode_check_cloexec(int argc, char **argv)
{
	if (argc < 4)
		return 90;
	int fd_cloexec = atoi(argv[2]), fd_kept = atoi(argv[3]);
	int a = fcntl(fd_cloexec, F_GETFD);
	int a_errno = errno;
	int b = fcntl(fd_kept, F_GETFD);
	printf("  after exec: O_CLOEXEC fd %s, plain fd %s\n",
	       a < 0 && a_errno == EBADF ? "closed" : "STILL OPEN",
	       b >= 0 ? "open" : "CLOSED");
	if (b >= 0) {
		const char msg[] = "written by the exec'd child\n";
		if (write_all(fd_kept, msg, sizeof msg - 1) < 0)
			return 91;
	}
	return a < 0 && b >= 0 ? 0 : 1;
}

/* Pipeline middle stage: read decimal numbers, write squares of odd ones. */
static int mode_filter(void)
{
	char line[64];
	unsigned long in = 0;
	while (fgets(line, sizeof line, stdin)) {
		unsigned long long v = strtoull(line, NULL, 10);
		in++;
		if (v & 1) {
			printf("%llu\n", v * v);
		}
	}
	fflush(stdout);
	return in == 0 ? 1 : 0;
}

/* ---- tests ---- */

static void test_pipe_roundtrip(void)
{
	int to_child[2], to_parent[2];
	if (pipe(to_child) || pipe(to_parent))
		die("pipe");
	pid_t parent = getpid();
	pid_t p = xfork();
	if (p == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		/* read numbers from the parent, answer with their running sum */
		uint32_t v, sum = 0;
		unsigned n = 0;
		while (read(to_child[0], &v, sizeof v) == (ssize_t)sizeof v) {
			sum += v;
			n++;
			if (write_all(to_parent[1], &sum, sizeof sum) < 0)
				_exit(98);
		}
		int ppid_ok = getppid() == parent;
		_exit(ppid_ok ? (int)(n % 200) : 97);
	}
	close(to_child[0]);
	close(to_parent[1]);
	uint32_t last = 0, check = 0;
	int ok = 1;
	for (uint32_t i = 1; i <= 1000; i++) {
		if (write_all(to_child[1], &i, sizeof i) < 0)
			die("write");
		if (read(to_parent[0], &last, sizeof last) != (ssize_t)sizeof last)
			die("read");
		check += i;
		if (last != check)
			ok = 0;
	}
	close(to_child[1]);
	char extra;
	ssize_t eof = read(to_parent[0], &extra, 1);
	close(to_parent[0]);
	int st = xwait(p);
	printf("pipe roundtrip: last sum %u, all sums right: %s, eof after close: %s\n",
	       (unsigned)last, ok ? "yes" : "no", eof == 0 ? "yes" : "no");
	describe_status("pipe child", st);
	CHECK(ok && eof == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1000 % 200);
}

static void test_exit_codes(void)
{
	static const int codes[] = {0, 1, 42, 127, 255, 256 + 5};
	pid_t pids[sizeof codes / sizeof codes[0]];
	for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		pids[i] = xfork();
		if (pids[i] == 0)
			_exit(codes[i]);
	}
	/* reap in reverse order: waitpid must pick the right child */
	for (unsigned i = sizeof codes / sizeof codes[0]; i-- > 0;) {
		char what[64];
		snprintf(what, sizeof what, "child _exit(%d)", codes[i]);
		describe_status(what, xwait(pids[i]));
	}

	/* deaths by signal */
	static const int sigs[] = {SIGKILL, SIGTERM, SIGUSR2, SIGABRT};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		pid_t p = xfork();
		if (p == 0) {
			if (sigs[i] == SIGABRT) {
				/* no core file: the guest's cwd may be read-only */
				abort();
			}
			raise(sigs[i]);
			_exit(50);
		}
		char what[64];
		snprintf(what, sizeof what, "child raising signal %d", sigs[i]);
		describe_status(what, xwait(p));
	}

	/* the parent kills a child blocked in pause() */
	int ready[2];
	if (pipe(ready))
		die("pipe");
	pid_t p = xfork();
	if (p == 0) {
		close(ready[0]);
		if (write_all(ready[1], "r", 1) < 0)
			_exit(96);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	if (read(ready[0], &c, 1) != 1)
		die("read ready");
	close(ready[0]);
	kill(p, SIGTERM);
	describe_status("paused child sent SIGTERM", xwait(p));

	/* WNOHANG on a running child, then ECHILD when none are left */
	int hold[2];
	if (pipe(hold))
		die("pipe");
	p = xfork();
	if (p == 0) {
		close(hold[1]);
		char b;
		while (read(hold[0], &b, 1) > 0)
			;
		_exit(6);
	}
	close(hold[0]);
	int st;
	pid_t r = waitpid(p, &st, WNOHANG);
	printf("WNOHANG on running child returns %s\n", r == 0 ? "0" : "something else");
	close(hold[1]); /* child sees EOF and exits */
	describe_status("released child", xwait(p));
	r = waitpid(-1, &st, 0);
	printf("waitpid with no children: %s\n", r < 0 && errno == ECHILD ? "ECHILD" : "??");
}

static void test_exec_self(void)
{
	char *args[] = {(char *)self_path, "exec-child", "arg one", "", "last", NULL};
	pid_t p = xfork();
	if (p == 0) {
		execve(self_path, args, child_env());
		printf("  execve failed: %s\n", strerror(errno));
		fflush(stdout);
		_exit(127);
	}
	describe_status("execve self", xwait(p));

	/* execve of a missing file fails with ENOENT and returns */
	char *none[] = {"/nonexistent/program", NULL};
	int rc = execve(none[0], none, environ);
	printf("execve missing file: rc=%d errno=%s\n", rc, errno == ENOENT ? "ENOENT" : "other");
}

static void test_dup2_and_cloexec(void)
{
	/* child's stdout redirected into a pipe with dup2 */
	int pfd[2];
	if (pipe(pfd))
		die("pipe");
	pid_t p = xfork();
	if (p == 0) {
		close(pfd[0]);
		if (dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(95);
		close(pfd[1]);
		for (int i = 0; i < 300; i++)
			printf("line %03d of redirected output\n", i);
		fflush(stdout);
		_exit(0);
	}
	close(pfd[1]);
	char buf[4096];
	size_t total = 0;
	unsigned lines = 0;
	uint32_t h = 2166136261u;
	ssize_t n;
	while ((n = read(pfd[0], buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			h = (h ^ (uint8_t)buf[i]) * 16777619u;
			lines += buf[i] == '\n';
		}
		total += (size_t)n;
	}
	close(pfd[0]);
	int st = xwait(p);
	printf("dup2 stdout capture: %zu bytes, %u lines, fnv %08x\n", total, lines, h);
	describe_status("dup2 child", st);
	CHECK(lines == 300 && total == 300 * 30);

	/* dup2 onto itself, and dup2 onto an open descriptor closes it first */
	int a = dup(STDOUT_FILENO);
	int same = dup2(a, a);
	printf("dup2(fd, fd) returns fd: %s\n", same == a ? "yes" : "no");
	close(a);

	/* O_CLOEXEC descriptors vanish across execve, plain ones stay */
	int ce[2], kept[2];
	if (pipe2(ce, O_CLOEXEC) || pipe(kept))
		die("pipe2");
	p = xfork();
	if (p == 0) {
		close(kept[0]);
		char s1[16], s2[16];
		snprintf(s1, sizeof s1, "%d", ce[1]);
		snprintf(s2, sizeof s2, "%d", kept[1]);
		char *args[] = {(char *)self_path, "check-cloexec", s1, s2, NULL};
		execve(self_path, args, child_env());
		_exit(127);
	}
	close(ce[1]);
	close(kept[1]);
	int st2 = xwait(p);
	n = read(kept[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("parent read from kept pipe: %s", n > 0 ? buf : "(nothing)\n");
	n = read(ce[0], buf, 1);
	printf("cloexec pipe at EOF: %s\n", n == 0 ? "yes" : "no");
	close(kept[0]);
	close(ce[0]);
	describe_status("cloexec child", st2);
}

static void test_posix_spawn(void)
{
	char *args[] = {(char *)self_path, "exec-child", "spawned", NULL};
	pid_t p;
	fflush(stdout);
	int e = posix_spawn(&p, self_path, NULL, NULL, args, child_env());
	if (e) {
		printf("posix_spawn failed: %s\n", strerror(e));
		failures++;
		return;
	}
	describe_status("posix_spawn self", xwait(p));
}

/* gen | filter (exec'd) | sum; the sum comes back to us through a 4th pipe */
static void test_pipeline(void)
{
	enum { N = 30000 };
	int p1[2], p2[2], back[2];
	if (pipe(p1) || pipe(p2) || pipe(back))
		die("pipe");

	pid_t gen = xfork();
	if (gen == 0) {
		close(p1[0]);
		close(p2[0]);
		close(p2[1]);
		close(back[0]);
		close(back[1]);
		FILE *out = fdopen(p1[1], "w");
		if (!out)
			_exit(94);
		for (unsigned i = 1; i <= N; i++)
			fprintf(out, "%u\n", i);
		_exit(fclose(out) == 0 ? 0 : 93);
	}

	pid_t filt = xfork();
	if (filt == 0) {
		if (dup2(p1[0], STDIN_FILENO) < 0 || dup2(p2[1], STDOUT_FILENO) < 0)
			_exit(92);
		close(p1[0]);
		close(p1[1]);
		close(p2[0]);
		close(p2[1]);
		close(back[0]);
		close(back[1]);
		char *args[] = {(char *)self_path, "filter", NULL};
		execve(self_path, args, child_env());
		_exit(127);
	}

	pid_t sum = xfork();
	if (sum == 0) {
		close(p1[0]);
		close(p1[1]);
		close(p2[1]);
		close(back[0]);
		FILE *in = fdopen(p2[0], "r");
		if (!in)
			_exit(91);
		char line[64];
		unsigned long long total = 0;
		unsigned count = 0;
		while (fgets(line, sizeof line, in)) {
			total += strtoull(line, NULL, 10);
			count++;
		}
		char msg[128];
		int len = snprintf(msg, sizeof msg, "%u values, sum of odd squares %llu\n", count,
				   total);
		if (write_all(back[1], msg, (size_t)len) < 0)
			_exit(90);
		_exit(0);
	}

	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	close(back[1]);
	char buf[256];
	ssize_t n = read(back[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	close(back[0]);
	printf("pipeline result: %s", n > 0 ? buf : "(nothing)\n");
	/* sum of (2k-1)^2 for k = 1..N/2 = m(2m-1)(2m+1)/3 with m = N/2 */
	unsigned long long m = N / 2;
	printf("pipeline expected: %llu\n", m * (2 * m - 1) * (2 * m + 1) / 3);
	describe_status("pipeline gen", xwait(gen));
	describe_status("pipeline filter", xwait(filt));
	describe_status("pipeline sum", xwait(sum));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	self_path = getenv("SELF_EXE");
	if (!self_path || !*self_path)
		self_path = argv[0];

	if (argc > 1 && strcmp(argv[1], "exec-child") == 0)
		return mode_exec_child(argc, argv);
	if (argc > 1 && strcmp(argv[1], "check-cloexec") == 0)
		return mode_check_cloexec(argc, argv);
	if (argc > 1 && strcmp(argv[1], "filter") == 0)
		return mode_filter();

	printf("fork_exec_pipes start\n");
	/* a SIGPIPE would kill us silently: turn it into EPIPE */
	signal(SIGPIPE, SIG_IGN);
	test_pipe_roundtrip();
	test_exit_codes();
	test_exec_self();
	test_dup2_and_cloexec();
	test_posix_spawn();
	test_pipeline();
	printf("fork_exec_pipes done, %d check failures\n", failures);
	return failures ? 1 : 0;
}
