/* The seccomp allow-list (libseccomp), installed on every thread at once
 * (TSYNC). Anything not listed kills the whole process
 * (SECCOMP_RET_KILL_PROCESS: a VM dies alone, with SIGSYS, and the kernel
 * log names the call); CONDO_SECCOMP_LOG=1 logs instead (the call goes
 * through), to find a missing one. A few calls that libraries may try
 * and handle are refused with an errno rather than killing: a new socket
 * of another family (EAFNOSUPPORT), an open for writing (EACCES), clone3
 * (ENOSYS, so the C library creates threads through clone, whose flags a
 * filter can check).
 *
 * The list was found by running real workloads (docs/SANDBOX.md): boot,
 * raw and qcow2 disks written and flushed, --net user with hostfwd and
 * guest downloads, --net switch, --net tap, the console on a terminal and
 * on pipes, reboot, Ctrl-A x, signals; plus room for what the control API
 * and console servers do on their sockets. Every entry says who needs it. */
#include <errno.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/sandbox_internal.h"

struct filter {
    scmp_filter_ctx ctx;
    int rc;           /* first error */
    unsigned allowed; /* system calls allowed in some form */
};

static void rule(struct filter *f, uint32_t action, int nr, unsigned n,
                 const struct scmp_arg_cmp *cmp)
{
    if (f->rc < 0 || nr < 0)
        return;
    int r = seccomp_rule_add_array(f->ctx, action, nr, n, cmp);
    if (r < 0)
        f->rc = r;
}

/* Allowed whatever the arguments. */
static void allow(struct filter *f, int nr)
{
    rule(f, SCMP_ACT_ALLOW, nr, 0, NULL);
    f->allowed++;
}

/* Allowed when arg `a` equals v (one of several rules of the call: count
 * it once, with first). */
static void allow_eq(struct filter *f, int nr, unsigned a, uint64_t v, bool first)
{
    struct scmp_arg_cmp c = { a, SCMP_CMP_EQ, v, 0 };
    rule(f, SCMP_ACT_ALLOW, nr, 1, &c);
    f->allowed += first;
}

/* Allowed when (arg `a` & mask) == v. */
static void allow_masked(struct filter *f, int nr, unsigned a, uint64_t mask, uint64_t v,
                         bool first)
{
    struct scmp_arg_cmp c = { a, SCMP_CMP_MASKED_EQ, mask, v };
    rule(f, SCMP_ACT_ALLOW, nr, 1, &c);
    f->allowed += first;
}

static void refuse_masked(struct filter *f, int nr, int err, unsigned a, uint64_t mask,
                          uint64_t v)
{
    struct scmp_arg_cmp c = { a, SCMP_CMP_MASKED_EQ, mask, v };
    rule(f, SCMP_ACT_ERRNO((uint32_t)err), nr, 1, &c);
}

/* socket(): AF_INET and AF_INET6 for libslirp; any other family fails
 * with EAFNOSUPPORT (glibc's if_nametoindex, say, copes with that). */
static void socket_rules(struct filter *f, bool inet)
{
    int nr = SCMP_SYS(socket);
    uint32_t no = SCMP_ACT_ERRNO(EAFNOSUPPORT);
    if (!inet) {
        rule(f, no, nr, 0, NULL);
        return;
    }
    allow_eq(f, nr, 0, AF_INET, true);
    allow_eq(f, nr, 0, AF_INET6, false);
    /* every other family, as ranges around 2 and 10 */
    struct scmp_arg_cmp lo = { 0, SCMP_CMP_LT, AF_INET, 0 };
    struct scmp_arg_cmp hi = { 0, SCMP_CMP_GT, AF_INET6, 0 };
    rule(f, no, nr, 1, &lo);
    rule(f, no, nr, 1, &hi);
    for (int fam = AF_INET + 1; fam < AF_INET6; fam++) {
        struct scmp_arg_cmp c = { 0, SCMP_CMP_EQ, (uint64_t)fam, 0 };
        rule(f, no, nr, 1, &c);
    }
}

static void build(struct filter *f, const struct sandbox *sb)
{
    const uint64_t pid = (uint64_t)getpid();

    /* --- memory --- */
    allow(f, SCMP_SYS(brk));    /* malloc's main arena */
    allow(f, SCMP_SYS(munmap)); /* free of large blocks, thread stacks at join */
    allow(f, SCMP_SYS(mremap)); /* realloc above malloc's mmap threshold (socket buffers) */
    /* malloc trimming, a finished thread's stack, the balloon's and an idle
     * VM's discards (MADV_DONTNEED), the JIT buffer's (MADV_REMOVE) */
    allow(f, SCMP_SYS(madvise));
    allow(f, SCMP_SYS(mincore)); /* an idle VM's zero-page scan: which pages are resident */
    /* mmap: malloc's arenas and large blocks, thread stacks, the JIT's two
     * views of its code; never writable and executable at once (W^X) */
    allow_masked(f, SCMP_SYS(mmap), 2, PROT_EXEC, 0, true);
    allow_masked(f, SCMP_SYS(mmap), 2, PROT_WRITE, 0, false);
    /* mprotect: malloc growing an arena, a thread stack's guard; never
     * making anything executable */
    allow_masked(f, SCMP_SYS(mprotect), 2, PROT_EXEC, 0, true);
    /* the JIT's code buffer, one per CPU on its first compile */
    allow_eq(f, SCMP_SYS(memfd_create), 1, MFD_CLOEXEC, true);
    allow(f, SCMP_SYS(ftruncate)); /* sizing that memfd; a qcow2 image growing */

    /* --- threads --- */
    /* pthread_create: clone with the C library's thread flags, never a
     * new process or namespace */
    allow_masked(f, SCMP_SYS(clone), 0,
                 SANDBOX_CLONE_THREAD_FLAGS | CLONE_VFORK | CLONE_PARENT | CLONE_NEWNS |
                     CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                     CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_PTRACE | CLONE_UNTRACED,
                 SANDBOX_CLONE_THREAD_FLAGS, true);
    /* fork, and only fork (glibc's flags exactly): a snapshot's writer is
     * a child that sees guest RAM frozen copy-on-write while the guest
     * runs on (src/vmm/vm_snapshot.c); it inherits this filter. With it:
     * the pipe it reports through, its parent-death signal, its reaping. */
    allow_eq(f, SCMP_SYS(clone), 0, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, false);
    allow_eq(f, SCMP_SYS(pipe2), 1, O_CLOEXEC, true);
    allow_eq(f, SCMP_SYS(prctl), 0, PR_SET_PDEATHSIG, true);
    allow(f, SCMP_SYS(getppid));
    allow(f, SCMP_SYS(wait4));
    /* clone3 passes its flags in memory, out of a filter's reach: ENOSYS
     * makes glibc fall back to clone */
    rule(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
    allow(f, SCMP_SYS(set_robust_list)); /* every new thread (glibc) */
    allow(f, SCMP_SYS(rseq));            /* every new thread (glibc 2.35+) */
    allow(f, SCMP_SYS(futex));           /* mutexes, condition variables, joins */
    allow(f, SCMP_SYS(exit));            /* a thread ends */
    allow(f, SCMP_SYS(exit_group));      /* the VM ends */
    allow(f, SCMP_SYS(gettid));          /* abort() and raise() in glibc */
    allow(f, SCMP_SYS(getpid));          /* same; glibc's thread start */

    /* --- signals: only to ourselves --- */
    allow(f, SCMP_SYS(rt_sigprocmask)); /* CPU threads block signals; pthread_create */
    allow(f, SCMP_SYS(rt_sigaction));   /* glibc's first pthread_create; abort */
    allow(f, SCMP_SYS(rt_sigreturn));   /* the end of a signal handler */
    allow(f, SCMP_SYS(restart_syscall)); /* a call interrupted by a signal resumes */
    /* abort() (a failed library assertion must end as SIGABRT, not as a
     * sandbox kill) */
    allow_eq(f, SCMP_SYS(tgkill), 0, pid, true);

    /* --- time --- */
    allow(f, SCMP_SYS(clock_gettime)); /* thread CPU time (the CPU cap): not in the vDSO */
    allow_eq(f, SCMP_SYS(getrusage), 0, RUSAGE_SELF, true); /* the API's CPU figures */

    /* --- descriptors already open --- */
    allow(f, SCMP_SYS(read));    /* console, eventfd, tap, sockets, reloaded images */
    allow(f, SCMP_SYS(write));   /* console, eventfd wakes, tap, log */
    allow(f, SCMP_SYS(writev));  /* tap frames */
    allow(f, SCMP_SYS(preadv));  /* disk images: guest data and qcow2 tables */
    allow(f, SCMP_SYS(preadv2)); /* RWF_NOWAIT: cached disk reads on the vCPU */
    allow(f, SCMP_SYS(pread64)); /* the API's /proc/self/statm (opened before) */
    allow(f, SCMP_SYS(pwritev));
    allow(f, SCMP_SYS(fdatasync)); /* the guest's flush, qcow2's ordered writes */
    /* snapshots: files the file broker created (src/vmm/vm_files.c) are
     * written, made durable; a frozen disk layer's lock becomes shared */
    allow(f, SCMP_SYS(pwrite64));
    allow(f, SCMP_SYS(fsync));
    allow(f, SCMP_SYS(flock));
    allow(f, SCMP_SYS(close));
    allow(f, SCMP_SYS(getrandom)); /* virtio-rng, random MAC addresses */
    allow(f, SCMP_SYS(poll));   /* the event loop; the control API server's */
    allow(f, SCMP_SYS(epoll_create1)); /* the control API server's loop */
    allow(f, SCMP_SYS(epoll_ctl));
    allow(f, SCMP_SYS(epoll_wait));
    allow(f, SCMP_SYS(epoll_pwait));
    /* fcntl: non-blocking mode (the console at exit, libslirp's sockets) */
    allow_eq(f, SCMP_SYS(fcntl), 1, F_GETFL, true);
    allow_eq(f, SCMP_SYS(fcntl), 1, F_SETFL, false);
    /* ioctl: the terminal (isatty, its mode restored at exit), bytes
     * waiting on a UDP socket (libslirp). Not TIOCSTI: no typing into the
     * user's shell. */
    allow_eq(f, SCMP_SYS(ioctl), 1, TCGETS, true);
    allow_eq(f, SCMP_SYS(ioctl), 1, TCSETS, false);
    allow_eq(f, SCMP_SYS(ioctl), 1, FIONREAD, false);
    /* a tap's offloads follow what the guest negotiates (at any time) */
    allow_eq(f, SCMP_SYS(ioctl), 1, TUNSETOFFLOAD, false);
    allow(f, SCMP_SYS(readv)); /* tap frames behind their virtio-net header */

    /* --- the filesystem (Landlock and the jail decide which paths) --- */
    /* openat: read-only (a reboot reloads the boot images; libslirp reads
     * resolv.conf; the switch lists its directory); for writing: EACCES */
    uint64_t wr = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC;
    allow_masked(f, SCMP_SYS(openat), 2, wr, 0, true);
    refuse_masked(f, SCMP_SYS(openat), EACCES, 2, O_WRONLY, O_WRONLY);
    refuse_masked(f, SCMP_SYS(openat), EACCES, 2, O_RDWR, O_RDWR);
    refuse_masked(f, SCMP_SYS(openat), EACCES, 2, O_CREAT, O_CREAT);
    refuse_masked(f, SCMP_SYS(openat), EACCES, 2, O_TRUNC, O_TRUNC);
    allow(f, SCMP_SYS(newfstatat)); /* glibc's fstat, stat, lstat: images, switch ports */
    allow(f, SCMP_SYS(getdents64)); /* the switch lists its peers */
    allow(f, SCMP_SYS(unlink));     /* the switch: stale peers, its own port at exit */
    allow(f, SCMP_SYS(rmdir));      /* the last port out removes the switch */

    /* --- sockets already bound or accepted; new ones for libslirp --- */
    allow(f, SCMP_SYS(sendmsg));  /* switch frames; the API and console servers */
    allow(f, SCMP_SYS(recvmsg));
    allow(f, SCMP_SYS(sendto));   /* switch probes, libslirp's UDP and TCP */
    allow(f, SCMP_SYS(recvfrom));
    allow(f, SCMP_SYS(accept));   /* hostfwd connections; API and console clients */
    allow(f, SCMP_SYS(accept4));
    allow(f, SCMP_SYS(shutdown)); /* a half-closed connection */
    allow(f, SCMP_SYS(getsockname));
    allow(f, SCMP_SYS(getpeername));
    allow(f, SCMP_SYS(getsockopt)); /* SO_ERROR of a connect in progress */
    allow(f, SCMP_SYS(setsockopt));
    socket_rules(f, sb->user_net);
    if (sb->user_net) {
        /* libslirp: the guest's outgoing connections and UDP flows
         * (Landlock forbids binding TCP ports; hostfwd listeners were
         * bound at setup) */
        allow(f, SCMP_SYS(connect));
        allow(f, SCMP_SYS(bind));
        allow(f, SCMP_SYS(listen));
    }
}

int sandbox_seccomp(struct sandbox *sb, struct error *err)
{
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's runtime (LeakSanitizer at exit stops the world with ptrace
     * from a forked task) needs what the list forbids */
    (void)build;
    (void)err;
    sandbox_note(sb, "seccomp: skipped in a sanitizer build (ASan/LSan need ptrace)");
    return 0;
#else
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
        sandbox_note(sb, "seccomp: unavailable (the kernel lacks CONFIG_SECCOMP_FILTER)");
        return 0;
    }
    struct filter f = { 0 };
    uint32_t deflt = sb->seccomp_log ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
    f.ctx = seccomp_init(deflt);
    if (!f.ctx)
        return error_set(err, -ENOMEM, "sandbox: cannot start a seccomp filter");
    /* every thread at once (the API's may already run). The kernel logs
     * the kills (and, with CONDO_SECCOMP_LOG, what would have been one);
     * the errno answers stay quiet. */
    int r = seccomp_attr_set(f.ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (r < 0) {
        seccomp_release(f.ctx);
        return error_set_errno(err, r, "sandbox: libseccomp cannot synchronise threads");
    }
    build(&f, sb);
    if (f.rc < 0) {
        seccomp_release(f.ctx);
        return error_set_errno(err, f.rc, "sandbox: cannot build the seccomp filter");
    }
    r = seccomp_load(f.ctx);
    seccomp_release(f.ctx);
    if (r < 0)
        return error_set_errno(err, r, "sandbox: cannot load the seccomp filter");
    sandbox_note(sb, "seccomp: %u system calls allowed (arguments checked for clone, mmap, "
                 "mprotect, memfd_create, openat, socket, fcntl, ioctl, tgkill), others %s",
                 f.allowed,
                 sb->seccomp_log ? "LOGGED and allowed (CONDO_SECCOMP_LOG=1)"
                                 : "kill the process (SIGSYS)");
    return 1;
#endif
}
