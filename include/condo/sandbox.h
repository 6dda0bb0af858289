/* The VM process's sandbox: after setup (every file opened, every socket
 * bound) and before the CPU threads start, the process gives up what it no
 * longer needs, in layers, each reported (`condo run -v`):
 *
 *   rlimits     no core dumps, descriptors capped near what is open, file
 *               size capped above what the disks can legitimately reach
 *   jail        (started as root) private mount, IPC and UTS namespaces, a
 *               read-only empty root holding only the files the VM re-opens,
 *               then an unprivileged uid/gid, no capabilities
 *   no_new_privs
 *   Landlock    no filesystem access beyond the same short list of paths
 *   seccomp     a libseccomp allow-list; a forbidden call kills the process
 *
 * docs/SANDBOX.md describes each layer, what it allows and why, and how to
 * debug a kill. Layers the kernel lacks are skipped (and said so) in
 * SANDBOX_ON, refused in SANDBOX_STRICT. */
#ifndef CONDO_SANDBOX_H
#define CONDO_SANDBOX_H

#include <sys/types.h>

#include "condo/error.h"
#include "condo/machine.h"

enum sandbox_mode {
    SANDBOX_ON = 0, /* the default: every layer the kernel has */
    SANDBOX_OFF,    /* nothing (debugging; said so on stderr with -v) */
    SANDBOX_STRICT, /* every layer, or the VM does not start */
};

/* What a path is re-opened for after setup. */
enum {
    SANDBOX_READ = 1,         /* a file read again (boot images on reboot) */
    SANDBOX_LIST = 2,         /* a directory listed */
    SANDBOX_REMOVE_FILES = 4, /* files (sockets) in a directory removed */
    SANDBOX_REMOVE_DIRS = 8,  /* empty directories in a directory removed */
};

#define SANDBOX_MAX_PATHS 24

struct sandbox_path {
    char *path;   /* as the VMM will name it (absolute or relative to the cwd) */
    unsigned access;
};

/* How a VM is sandboxed: part of its definition (condo run options). */
struct sandbox_config {
    enum sandbox_mode mode;
    /* Started as root: the identity the VMM drops to (default 65534:65534,
     * nobody:nogroup). */
    uid_t uid;
    gid_t gid;
    /* Hidden test modes: "try" makes the forbidden attempts of the
     * self-test and prints one line each; "die" makes one forbidden call
     * once the CPUs run (the process must die of SIGSYS). */
    const char *selftest;
};

#define SANDBOX_DEFAULT_ID 65534

/* One VM process's sandbox, from sandbox_prepare to sandbox_apply. */
struct sandbox {
    struct sandbox_config cfg;
    struct sandbox_path paths[SANDBOX_MAX_PATHS];
    unsigned npaths;
    bool user_net;       /* libslirp: AF_INET/AF_INET6 sockets come and go */
    bool root;           /* started with euid 0: jail and identity change */
    bool seccomp_log;    /* CONDO_SECCOMP_LOG=1: log instead of killing */
    uint64_t fsize;      /* RLIMIT_FSIZE to set, 0: leave it */
    unsigned nofile_extra; /* descriptors allowed above the highest open one */
    char cwd[4096];
    /* what sandbox_apply did, for the report and the self-test */
    char report[8][200];
    unsigned nreport;
    int landlock_abi;    /* 0: none */
    bool landlock_tsync; /* Landlock bound every thread (ABI 8+) */
    bool applied;
};

/* Parse a --sandbox value (off|on|strict); -EINVAL with the reason in err. */
int sandbox_parse_mode(const char *s, enum sandbox_mode *out, struct error *err);
/* Parse a --sandbox-user value: UID[:GID] (numbers). */
int sandbox_parse_user(const char *s, struct sandbox_config *cfg, struct error *err);

/* Derive the sandbox of a VM from its definition: the paths it re-opens
 * (boot images, switch directories, /etc/resolv.conf for user networking),
 * whether libslirp needs host sockets, the file size bound of its disks.
 * Before the machine is created (the VMM's later additions go through
 * sandbox_allow_path). Reads the environment (CONDO_SECCOMP_LOG,
 * CONDO_SANDBOX_SELFTEST). */
int sandbox_prepare(struct sandbox *sb, const struct sandbox_config *cfg,
                    const struct machine_config *hw, struct error *err);

/* One more path the VMM opens after the sandbox is up (access: SANDBOX_*).
 * A path that does not exist yet is skipped. */
int sandbox_allow_path(struct sandbox *sb, const char *path, unsigned access,
                       struct error *err);

/* Put the sandbox up, in the calling process, for all its threads where
 * the kernel allows it (seccomp, uid: all; Landlock, mount namespace: the
 * calling thread and the threads it starts later). Call once, from the
 * thread that goes on to start the CPU threads. On failure the process is
 * in an unknown state: it must exit. */
int sandbox_apply(struct sandbox *sb, struct error *err);

/* The layers in force, one line each ("seccomp: 68 system calls allowed,
 * kill on others"): printed by the VMM with -v. */
void sandbox_report(const struct sandbox *sb);

/* The self-test (cfg.selftest "try"): before sandbox_apply, forbidden
 * attempts each in a forked child that sets up the same sandbox (the
 * calls that kill); after it, in the VM process itself (the calls that
 * fail with an errno). Prints one line per attempt; returns the number of
 * attempts that were NOT refused (0 is a pass). */
int sandbox_selftest_children(struct sandbox *sb);
int sandbox_selftest_inside(struct sandbox *sb);
/* cfg.selftest "die": one forbidden call; does not return. */
void sandbox_selftest_die(void);

#endif
