/* The sandbox's self-test (condo run --sandbox-selftest, or
 * CONDO_SANDBOX_SELFTEST=1): forbidden things, tried one at a time, each
 * of which must fail. One line each on stderr:
 *
 *   condo: sandbox-selftest: execve /bin/true: refused (killed by SIGSYS)
 *   condo: sandbox-selftest: open /etc/passwd: refused (Permission denied)
 *   condo: sandbox-selftest: 24 attempts, all refused
 *
 * Calls the filter answers by killing are tried in forked children (before
 * the VM's own sandbox goes up, each child puts up the same sandbox, then
 * makes its one call): the parent sees the child die of SIGSYS. Calls that
 * fail with an errno are tried in the VM process itself, after its
 * sandbox is up. A positive control (re-reading the kernel image, as a
 * reboot does) must succeed. tests/guest/test_sandbox.py reads the lines. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/sandbox_internal.h"

struct tally {
    int n, allowed;
};

static void result(struct tally *t, const char *what, bool refused, const char *how)
{
    t->n++;
    if (!refused)
        t->allowed++;
    condo_err("sandbox-selftest: %s: %s (%s)", what, refused ? "refused" : "ALLOWED", how);
}

/* errno of a call that returned, or 0 when it succeeded */
static int outcome(long r)
{
    return r < 0 ? errno : 0;
}

/* --- in children: calls the filter kills --- */

enum attempt {
    T_EXECVE, T_FORK, T_PTRACE_ME, T_PTRACE_PARENT, T_MOUNT, T_SETUID, T_MMAP_RWX,
    T_MPROTECT_RWX, T_KILL_PARENT, T_UNSHARE, T_VM_READ, T_CHROOT, T_TIOCSTI, T_COUNT
};

static const char *const attempt_name[T_COUNT] = {
    [T_EXECVE] = "execve /bin/true",
    [T_FORK] = "a forked child runs a program",
    [T_PTRACE_ME] = "ptrace(PTRACE_TRACEME)",
    [T_PTRACE_PARENT] = "ptrace-attach another process",
    [T_MOUNT] = "mount a tmpfs",
    [T_SETUID] = "setuid(0)",
    [T_MMAP_RWX] = "map memory writable and executable",
    [T_MPROTECT_RWX] = "make writable memory executable",
    [T_KILL_PARENT] = "signal another process",
    [T_UNSHARE] = "unshare a user namespace",
    [T_VM_READ] = "read another process's memory (process_vm_readv)",
    [T_CHROOT] = "chroot",
    [T_TIOCSTI] = "type into the terminal (TIOCSTI)",
};

static long try_attempt(enum attempt a, pid_t parent)
{
    switch (a) {
    case T_EXECVE: {
        char *argv[] = { "/bin/true", NULL };
        return execve("/bin/true", argv, environ);
    }
    case T_FORK: {
        /* fork itself is allowed (a snapshot's copy-on-write writer); the
         * child inherits the filter, so running a program from it must fail */
        pid_t p = fork();
        if (p < 0)
            return -1;
        if (p == 0) {
            char *argv[] = { "/bin/true", NULL };
            execve("/bin/true", argv, environ);
            _exit(127);
        }
        int st = 0;
        while (waitpid(p, &st, 0) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            return 0;
        errno = EPERM;
        return -1;
    }
    case T_PTRACE_ME:
        return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    case T_PTRACE_PARENT:
        return ptrace(PTRACE_ATTACH, parent, NULL, NULL);
    case T_MOUNT:
        return mount("none", "/", "tmpfs", 0, NULL);
    case T_SETUID:
        return syscall(SYS_setuid, 0);
    case T_MMAP_RWX: {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? -1 : 0;
    }
    case T_MPROTECT_RWX: {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return -1;
        return mprotect(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    }
    case T_KILL_PARENT:
        return kill(parent, 0);
    case T_UNSHARE:
        return unshare(CLONE_NEWUSER);
    case T_VM_READ: {
        char buf[8];
        struct iovec l = { buf, sizeof(buf) }, r = { (void *)&try_attempt, sizeof(buf) };
        return process_vm_readv(parent, &l, 1, &r, 1, 0);
    }
    case T_CHROOT:
        return chroot(".");
    case T_TIOCSTI: {
        char c = '\n';
        return ioctl(STDIN_FILENO, TIOCSTI, &c);
    }
    case T_COUNT:
        break;
    }
    errno = EINVAL;
    return -1;
}

static void child_attempt(struct tally *t, const struct sandbox *sb, enum attempt a)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        result(t, attempt_name[a], false, "cannot make a pipe");
        return;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        struct sandbox copy = *sb;
        struct error err = ERROR_INIT;
        int verbosity = condo_verbosity;
        condo_verbosity = 0;
        int r = sandbox_apply(&copy, &err);
        condo_verbosity = verbosity;
        int msg[2] = { r < 0 ? 1 : 0, r < 0 ? -r : 0 };
        if (r == 0) {
            long k = try_attempt(a, parent);
            msg[1] = outcome(k);
        }
        ssize_t w = write(p[1], msg, sizeof(msg));
        (void)w;
        _exit(0);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        result(t, attempt_name[a], false, "cannot fork");
        return;
    }
    int msg[2] = { 0, 0 };
    ssize_t n = read(p[0], msg, sizeof(msg));
    close(p[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char how[160];
    if (WIFSIGNALED(status)) {
        snprintf(how, sizeof(how), "killed by %s", WTERMSIG(status) == SIGSYS
                                                       ? "SIGSYS"
                                                       : strsignal(WTERMSIG(status)));
        result(t, attempt_name[a], WTERMSIG(status) == SIGSYS, how);
    } else if (n != (ssize_t)sizeof(msg) || msg[0]) {
        snprintf(how, sizeof(how), "the child could not set up the sandbox: %s",
                 strerror(msg[1]));
        result(t, attempt_name[a], false, how);
    } else {
        snprintf(how, sizeof(how), "%s", msg[1] ? strerror(msg[1]) : "it succeeded");
        result(t, attempt_name[a], msg[1] != 0, how);
    }
}

static struct tally children;

int sandbox_selftest_children(struct sandbox *sb)
{
    if (sb->cfg.mode == SANDBOX_OFF)
        return 0;
    for (int a = 0; a < T_COUNT; a++)
        child_attempt(&children, sb, (enum attempt)a);
    return children.allowed;
}

/* --- in the VM process: calls that fail with an errno --- */

static void try_open(struct tally *t, const char *what, const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0600);
    int e = errno;
    if (fd >= 0) {
        close(fd);
        if (flags & O_CREAT)
            unlink(path);
    }
    result(t, what, fd < 0, fd < 0 ? strerror(e) : "it opened");
}

static void try_socket(struct tally *t, const char *what, int domain, int type)
{
    int fd = socket(domain, type | SOCK_CLOEXEC, 0);
    int e = errno;
    if (fd >= 0)
        close(fd);
    result(t, what, fd < 0, fd < 0 ? strerror(e) : "it was created");
}

int sandbox_selftest_inside(struct sandbox *sb)
{
    struct tally t = children;
    if (sb->cfg.mode == SANDBOX_OFF) {
        condo_err("sandbox-selftest: the sandbox is off: nothing to test");
        return 1;
    }
    try_open(&t, "open /etc/passwd", "/etc/passwd", O_RDONLY);
    try_open(&t, "open /proc/self/mem", "/proc/self/mem", O_RDONLY);
    try_open(&t, "list the working directory", ".", O_RDONLY | O_DIRECTORY);
    try_open(&t, "create a file in the working directory", "condo-sandbox-selftest",
             O_WRONLY | O_CREAT | O_EXCL);
    try_open(&t, "create a file in /tmp", "/tmp/condo-sandbox-selftest",
             O_WRONLY | O_CREAT | O_EXCL);
    /* the first path kept (a boot image): readable, but not writable, and
     * its directory not listable */
    const char *image = NULL;
    for (unsigned i = 0; i < sb->npaths && !image; i++)
        if (sb->paths[i].access == SANDBOX_READ)
            image = sb->paths[i].path;
    if (image) {
        char what[300], dir[4096];
        snprintf(what, sizeof(what), "open %s for writing", image);
        try_open(&t, what, image, O_WRONLY);
        snprintf(dir, sizeof(dir), "%s", image);
        snprintf(what, sizeof(what), "list %s", dirname(dir));
        try_open(&t, what, dir, O_RDONLY | O_DIRECTORY);
        /* the control: a reboot reads it again */
        int fd = open(image, O_RDONLY | O_CLOEXEC);
        int e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(what, sizeof(what), "control: read %s (a reboot does)", image);
        condo_err("sandbox-selftest: %s: %s (%s)", what, fd >= 0 ? "allowed" : "REFUSED",
                  fd >= 0 ? "as it must be" : strerror(e));
        if (fd < 0) {
            t.n++;
            t.allowed++; /* counted as a failure of the test */
        }
    }
    try_socket(&t, "new AF_UNIX socket", AF_UNIX, SOCK_STREAM);
    try_socket(&t, "new AF_NETLINK socket", AF_NETLINK, SOCK_RAW);
    try_socket(&t, "new AF_PACKET socket", AF_PACKET, SOCK_RAW);
    if (!sb->user_net)
        try_socket(&t, "new AF_INET socket (no --net user)", AF_INET, SOCK_STREAM);
    /* unfiltered, the kernel says EINVAL (no arguments): ENOSYS is the filter */
    long r = syscall(SYS_clone3, NULL, 0);
    int e = errno;
    result(&t, "clone3 (threads must use clone, whose flags are checked)",
           r < 0 && e == ENOSYS, r < 0 ? strerror(e) : "it returned");
    if (t.allowed)
        condo_err("sandbox-selftest: FAILED: %d of %d attempts were not refused", t.allowed,
                  t.n);
    else
        condo_err("sandbox-selftest: %d attempts, all refused", t.n);
    return t.allowed;
}

void sandbox_selftest_die(void)
{
    condo_err("sandbox-selftest: making a forbidden call (ptrace); the VM must die of SIGSYS");
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    condo_err("sandbox-selftest: FAILED: the forbidden call returned");
}
