/* Starting a named VM: `condo start` forks a monitor (in a new session, so
 * the VM outlives the terminal), the monitor takes the VM's lock and forks
 * the VMM (`condo run --config ...` of this same binary) with the lock
 * inherited; the VMM reports on a pipe once its CPUs run (or why it could
 * not start), and `condo start` returns then. The monitor waits for the VMM
 * and writes exit.json: how it ended, in words (`condo ls` shows it). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "condo/manager.h"

#define START_TIMEOUT_MS 60000
#define LOG_MAX_BYTES (1 << 20)

static void write_exit_json(const char *path, const char *state, const char *reason, int status)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:I}", "state", state, "reason", reason, "status",
                          status, "time", (json_int_t)time(NULL));
    if (!o)
        return;
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (json_dump_file(o, tmp, JSON_INDENT(2)) == 0)
        rename(tmp, path);
    json_decref(o);
}

/* How the VMM ended, in words. */
static void classify(int st, bool stop_requested, const char **state, char *reason, size_t n)
{
    *state = "stopped";
    if (WIFEXITED(st)) {
        int c = WEXITSTATUS(st);
        switch (c) {
        case 0: snprintf(reason, n, "the guest powered off"); return;
        case 1: snprintf(reason, n, "the guest powered off reporting failure"); return;
        case 2: snprintf(reason, n, "could not start: bad definition or files (see vmm.log)"); return;
        case 5: snprintf(reason, n, "quit from the console"); return;
        case 6: snprintf(reason, n, "could not start: the host lacks resources (see vmm.log)"); return;
        case 3:
            *state = "crashed";
            snprintf(reason, n, "the guest kept resetting (kernel panic?)");
            return;
        case 4:
            *state = "crashed";
            snprintf(reason, n, "emulator fault (see vmm.log)");
            return;
        default:
            if (c > 128 && stop_requested) {
                snprintf(reason, n, "stopped by condo stop (signal %d)", c - 128);
                return;
            }
            *state = "crashed";
            if (c > 128)
                snprintf(reason, n, "stopped by signal %d (%s)", c - 128, strsignal(c - 128));
            else
                snprintf(reason, n, "the VMM exited with status %d (see vmm.log)", c);
            return;
        }
    }
    int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    if (stop_requested && (sig == SIGKILL || sig == SIGTERM)) {
        snprintf(reason, n, "forced off by condo stop");
        return;
    }
    *state = "crashed";
    if (sig == SIGSYS)
        snprintf(reason, n, "killed by the sandbox: a forbidden system call (see vmm.log)");
    else
        snprintf(reason, n, "the VMM was killed by signal %d (%s)", sig, strsignal(sig));
}

static int open_log(const char *path)
{
    struct stat st;
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
    if (stat(path, &st) == 0 && st.st_size > LOG_MAX_BYTES)
        flags |= O_TRUNC;
    return open(path, flags, 0600);
}

static void write_str(int fd, const char *s)
{
    ssize_t r = write(fd, s, strlen(s));
    (void)r;
}

/* The monitor: never returns. */
static void monitor(const struct vm_paths *vp, const char *name, const char *restore,
                    unsigned cpu_weight, int ready_w)
{
    prctl(PR_SET_NAME, "condo-monitor", 0, 0, 0);
    int lock = open(vp->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
        dprintf(ready_w, "E %d the VM's lock is held: is it starting or running already?\n",
                EALREADY);
        _exit(1);
    }
    unlink(vp->exit);
    unlink(vp->api);
    unlink(vp->console);
    cpu_share_release(vp->cpu_share); /* a record left by a VMM killed with its monitor */
    char stopfile[PATH_MAX + 16];
    snprintf(stopfile, sizeof(stopfile), "%s/stop-requested", vp->rundir);
    unlink(stopfile);
    int log = open_log(vp->log);
    pid_t vmm = fork();
    if (vmm < 0) {
        dprintf(ready_w, "E %d cannot fork the VMM process\n", EAGAIN);
        _exit(1);
    }
    if (vmm == 0) {
        /* The VMM: fd 3 the ready pipe, fd 4 the lock (shared with us). */
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || log < 0 || dup2(devnull, 0) < 0 || dup2(log, 1) < 0 ||
            dup2(log, 2) < 0 || dup2(ready_w, 3) < 0 || dup2(lock, 4) < 0)
            _exit(127);
        for (int fd = 5; fd < 1024; fd++)
            close(fd);
        /* --cpu-weight: set on this process before exec, so every thread
         * the VMM makes inherits it */
        struct cpu_share cs;
        cpu_share_apply(name, cpu_weight, &cs);
        cpu_share_save(&cs, vp->cpu_share);
        /* the definition: vm.json, or the snapshot's own (--restore) */
        char *argv[] = { "condo",      "run",        restore ? "--restore" : "--config",
                         restore ? (char *)restore : (char *)vp->def,
                         "--name",     (char *)name, "--api-sock", (char *)vp->api,
                         "--console-sock", (char *)vp->console, "--ready-fd", "3",
                         "--snapshot-dir", (char *)vp->snaps, NULL };
        execv("/proc/self/exe", argv);
        dprintf(3, "E %d cannot run the VMM: %s\n", ENOEXEC, strerror(errno));
        _exit(127);
    }
    close(ready_w);
    char pidbuf[32];
    snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)vmm);
    int pf = open(vp->pid, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (pf >= 0) {
        write_str(pf, pidbuf);
        close(pf);
    }
    int st = 0;
    while (waitpid(vmm, &st, 0) < 0 && errno == EINTR)
        ;
    bool stop_requested = access(stopfile, F_OK) == 0;
    const char *state;
    char reason[256];
    classify(st, stop_requested, &state, reason, sizeof(reason));
    write_exit_json(vp->exit, state, reason, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    if (log >= 0) {
        dprintf(log, "condo-monitor: VMM %ld ended: %s: %s\n", (long)vmm, state, reason);
        close(log);
    }
    unlink(vp->api);
    unlink(vp->console);
    unlink(vp->pid);
    cpu_share_release(vp->cpu_share);
    unlink(stopfile);
    close(lock);
    _exit(0);
}

int vm_start_process(const struct condo_paths *p, const char *name, pid_t *pid_out,
                     struct error *err)
{
    return vm_start_process_from(p, name, NULL, pid_out, err);
}

int vm_start_process_from(const struct condo_paths *p, const char *name, const char *restore,
                          pid_t *pid_out, struct error *err)
{
    struct vm_paths vp;
    int r = vm_paths_get(p, name, &vp, err);
    if (!r)
        r = condo_mkdir(vp.rundir, err);
    if (!r)
        r = condo_mkdir(vp.snaps, err); /* Ctrl-A s and the snapshot verbs write here */
    if (r)
        return r;
    struct vm_info vi;
    r = vm_info_get(p, name, &vi, err);
    unsigned cpu_weight = vi.def.cfg.cpu_weight;
    vm_info_free(&vi);
    if (r)
        return r;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return error_set_errno(err, -errno, "cannot create a pipe");
    fflush(NULL);
    pid_t a = fork();
    if (a < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return error_set_errno(err, -errno, "cannot fork");
    }
    if (a == 0) {
        /* Detach: a new session, then the monitor as a grandchild, so it
         * is nobody's child but init's (or a subreaper's). */
        close(pipefd[0]);
        /* Nothing of the caller's may live on in the VM's processes (a
         * held lock would never be released). */
        for (int fd = 3; fd < 1024; fd++)
            if (fd != pipefd[1])
                close(fd);
        setsid();
        signal(SIGHUP, SIG_IGN);
        pid_t m = fork();
        if (m == 0) {
            int devnull = open("/dev/null", O_RDWR);
            if (devnull >= 0) {
                dup2(devnull, 0);
                dup2(devnull, 1);
                dup2(devnull, 2);
            }
            monitor(&vp, name, restore, cpu_weight, pipefd[1]);
        }
        _exit(m < 0 ? 1 : 0);
    }
    close(pipefd[1]);
    int st;
    while (waitpid(a, &st, 0) < 0 && errno == EINTR)
        ;
    /* Wait for "OK" (the VM runs) or "E message". */
    char buf[1024];
    size_t len = 0;
    uint64_t until = condo_clock_ns() + (uint64_t)START_TIMEOUT_MS * 1000000ull;
    for (;;) {
        uint64_t now = condo_clock_ns();
        if (now >= until) {
            r = error_set(err, -ETIMEDOUT, "VM %s did not report running within %d s (see %s)",
                          name, START_TIMEOUT_MS / 1000, vp.log);
            break;
        }
        struct pollfd pf = { .fd = pipefd[0], .events = POLLIN };
        int pr = poll(&pf, 1, (int)((until - now) / 1000000ull) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        ssize_t n = pr > 0 ? read(pipefd[0], buf + len, sizeof(buf) - 1 - len) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            len += (size_t)n;
            buf[len] = 0;
            if (!strchr(buf, '\n') && len < sizeof(buf) - 1)
                continue;
        }
        buf[len] = 0;
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = 0;
        if (!strncmp(buf, "OK", 2))
            r = 0;
        else if (buf[0] == 'E' && buf[1] == ' ') {
            /* "E <errno> <message>": the VMM's own error, class kept */
            char *end;
            long code = strtol(buf + 2, &end, 10);
            if (code <= 0 || code > 4095 || *end != ' ')
                code = EINVAL, end = buf + 1;
            r = error_set(err, (int)-code, "VM %s could not start: %s", name, end + 1);
        }
        else
            r = error_set(err, -EIO, "VM %s could not start (see %s)", name, vp.log);
        break;
    }
    close(pipefd[0]);
    if (!r && pid_out) {
        *pid_out = 0;
        FILE *f = fopen(vp.pid, "re");
        long v;
        if (f && fscanf(f, "%ld", &v) == 1)
            *pid_out = (pid_t)v;
        if (f)
            fclose(f);
    }
    return r;
}
