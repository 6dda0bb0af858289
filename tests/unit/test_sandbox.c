/* The sandbox module without a guest: option parsing, and sandbox_apply
 * in a forked child that already runs a second thread (as the VMM runs
 * the control API's thread before the sandbox goes up): the filter and
 * no_new_privs must cover that thread too, and a forbidden call from it
 * must kill the whole process with SIGSYS. In a sanitizer build the
 * seccomp layer is skipped by design (ASan/LSan need ptrace), so only the
 * other layers are asserted there. tests/guest/test_sandbox.py covers
 * the sandbox around a real guest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "condo/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_SECCOMP 0
#else
#define HAVE_SECCOMP 1
#endif

static void test_parse(void **state)
{
    (void)state;
    struct error err = ERROR_INIT;
    enum sandbox_mode m;
    assert_int_equal(sandbox_parse_mode("strict", &m, &err), 0);
    assert_int_equal(m, SANDBOX_STRICT);
    assert_int_equal(sandbox_parse_mode("off", &m, &err), 0);
    assert_int_equal(m, SANDBOX_OFF);
    assert_int_equal(sandbox_parse_mode("maybe", &m, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "maybe"));

    struct sandbox_config c = { 0 };
    error_clear(&err);
    assert_int_equal(sandbox_parse_user("1000:100", &c, &err), 0);
    assert_int_equal(c.uid, 1000);
    assert_int_equal(c.gid, 100);
    assert_int_equal(sandbox_parse_user("4242", &c, &err), 0);
    assert_int_equal(c.gid, 4242);
    const char *bad[] = { "0", "1000:0", "root", "-1", "12:ab", "", "99999999999" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        error_clear(&err);
        assert_int_equal(sandbox_parse_user(bad[i], &c, &err), -EINVAL);
    }
}

static int gate[2]; /* the second thread waits here for its order */

static void *second_thread(void *arg)
{
    (void)arg;
    char c;
    if (read(gate[0], &c, 1) == 1 && c == 'x')
        syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); /* forbidden */
    return NULL;
}

/* Read a status file once (its descriptor at offset 0: the filter allows
 * read, not pread). */
static void slurp(int fd, char *buf, size_t size)
{
    ssize_t n = read(fd, buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
}

static int field(const char *buf, const char *name)
{
    const char *p = strstr(buf, name);
    return p ? atoi(p + strlen(name)) : -1;
}

/* The child: a second thread, then the sandbox; its exit status tells
 * the parent what it saw (or it dies of SIGSYS). */
static void child(bool forbidden)
{
    if (pipe(gate) < 0)
        _exit(10);
    pthread_t t;
    if (pthread_create(&t, NULL, second_thread, NULL))
        _exit(11);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%ld/status", (long)syscall(SYS_gettid));
    int self = open(path, O_RDONLY | O_CLOEXEC);
    int other = -1;
    /* the other thread's status: opened now, read after (Landlock and the
     * jail forbid new opens of /proc) */
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    while (d && (de = readdir(d)) && other < 0) {
        if (de->d_name[0] == '.' || atol(de->d_name) == syscall(SYS_gettid))
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%.20s/status", de->d_name);
        other = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (d)
        closedir(d);
    if (self < 0 || other < 0)
        _exit(12);
    struct sandbox sb;
    struct sandbox_config cfg = { .mode = SANDBOX_ON };
    struct machine_config hw = { 0 };
    struct error err = ERROR_INIT;
    if (sandbox_prepare(&sb, &cfg, &hw, &err) < 0 || sandbox_apply(&sb, &err) < 0) {
        fprintf(stderr, "sandbox: %s\n", err.msg);
        _exit(13);
    }
    static char a[8192], b[8192];
    slurp(self, a, sizeof(a));
    slurp(other, b, sizeof(b));
    int want = HAVE_SECCOMP ? 2 : 0;
    if (field(a, "Seccomp:") != want || field(b, "Seccomp:") != want)
        _exit(14);
    /* no_new_privs reaches a thread already running through the filter's
     * TSYNC only */
    if (field(a, "NoNewPrivs:") != 1 || field(b, "NoNewPrivs:") != HAVE_SECCOMP)
        _exit(15);
    /* as root: dropped to 65534 (read from the status: getuid is not on
     * the allow-list, nothing after setup needs it) */
    if (field(a, "Uid:") == 0 || field(b, "Uid:") == 0)
        _exit(16);
    ssize_t w = write(gate[1], forbidden ? "x" : "q", 1);
    (void)w;
    pthread_join(t, NULL);
    _exit(0);
}

static int run_child(bool forbidden)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child(forbidden);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_threads_covered(void **state)
{
    (void)state;
    int status = run_child(false);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_forbidden_call_kills_process(void **state)
{
    (void)state;
    if (!HAVE_SECCOMP)
        return; /* no filter in a sanitizer build: the call would succeed */
    int status = run_child(true);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_threads_covered),
        cmocka_unit_test(test_forbidden_call_kills_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
