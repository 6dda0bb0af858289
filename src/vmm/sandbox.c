/* The VM process's sandbox: what it is derived from (sandbox_prepare), the
 * order its layers go up in (sandbox_apply), the rlimits and the identity
 * change. The layers themselves live in sandbox_jail.c, sandbox_landlock.c
 * and sandbox_seccomp.c; docs/SANDBOX.md explains each.
 *
 * Order matters: rlimits and the jail need calls the seccomp filter later
 * forbids (setrlimit, mount, pivot_root); the identity change must follow
 * the jail (mounting needs root) and precede Landlock and seccomp; the
 * seccomp filter is last, so it need not allow any of the setup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "condo/block.h"
#include "condo/net.h"
#include "vmm/sandbox_internal.h"

#define MIB (1ull << 20)
/* Descriptors allowed above the highest one open at setup: the API's and
 * the console's clients, a reboot's image reads; libslirp opens one host
 * socket per guest connection, hence more with --net user. */
#define NOFILE_MARGIN 64
#define NOFILE_MARGIN_USER_NET 256
/* The file size cap never goes below this: the JIT's code memfd (64 MiB
 * per CPU) and a detached VM's log file must fit. */
#define FSIZE_FLOOR (1024 * MIB)

void sandbox_note(struct sandbox *sb, const char *fmt, ...)
{
    if (sb->nreport >= sizeof(sb->report) / sizeof(sb->report[0]))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sb->report[sb->nreport++], sizeof(sb->report[0]), fmt, ap);
    va_end(ap);
}

int sandbox_parse_mode(const char *s, enum sandbox_mode *out, struct error *err)
{
    if (!strcmp(s, "on"))
        *out = SANDBOX_ON;
    else if (!strcmp(s, "off"))
        *out = SANDBOX_OFF;
    else if (!strcmp(s, "strict"))
        *out = SANDBOX_STRICT;
    else
        return error_set(err, -EINVAL, "--sandbox wants on, off or strict, not '%s'", s);
    return 0;
}

static int parse_id(const char *s, size_t n, unsigned long *out)
{
    if (n == 0 || n > 10)
        return -EINVAL;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 0xfffffffeul)
        return -EINVAL;
    *out = v;
    return 0;
}

int sandbox_parse_user(const char *s, struct sandbox_config *cfg, struct error *err)
{
    const char *colon = strchr(s, ':');
    unsigned long uid, gid;
    size_t ulen = colon ? (size_t)(colon - s) : strlen(s);
    if (parse_id(s, ulen, &uid) < 0 || (colon && parse_id(colon + 1, strlen(colon + 1), &gid) < 0))
        return error_set(err, -EINVAL,
                         "--sandbox-user wants UID[:GID] as numbers (e.g. 65534:65534), "
                         "not '%s'",
                         s);
    if (!colon)
        gid = uid;
    if (uid == 0 || gid == 0)
        return error_set(err, -EINVAL,
                         "--sandbox-user %s: the VM must not keep uid or gid 0; give an "
                         "unprivileged identity",
                         s);
    cfg->uid = (uid_t)uid;
    cfg->gid = (gid_t)gid;
    return 0;
}

int sandbox_allow_path(struct sandbox *sb, const char *path, unsigned access, struct error *err)
{
    if (sb->cfg.mode == SANDBOX_OFF)
        return 0;
    for (unsigned i = 0; i < sb->npaths; i++) {
        if (!strcmp(sb->paths[i].path, path)) {
            sb->paths[i].access |= access;
            return 0;
        }
    }
    if (sb->npaths >= SANDBOX_MAX_PATHS)
        return error_set(err, -E2BIG, "sandbox: more than %d paths to keep", SANDBOX_MAX_PATHS);
    char *copy = strdup(path);
    if (!copy)
        return error_set(err, -ENOMEM, "out of memory");
    sb->paths[sb->npaths++] = (struct sandbox_path){ copy, access };
    return 0;
}

/* The largest size a writable disk image may legitimately reach: a raw
 * image never grows (the guest sees the file's size); a qcow2 image at
 * most by its virtual size plus its tables (L2 and refcount tables are
 * far below an eighth of the data) plus slack. 0 for what is not a
 * regular file (a block device) or cannot be read. */
static uint64_t disk_bound(const struct vm_disk_config *d)
{
    struct stat st;
    if (d->read_only || stat(d->path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    uint64_t bound = (uint64_t)st.st_size;
    if (d->format == BLOCK_FORMAT_RAW)
        return bound;
    int fd = open(d->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bound;
    uint8_t h[32];
    if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && !memcmp(h, "QFI\xfb", 4)) {
        uint64_t vsize = 0;
        for (int i = 0; i < 8; i++)
            vsize = vsize << 8 | h[24 + i];
        if (vsize < (1ull << 60))
            bound += vsize + vsize / 8 + 64 * MIB;
    }
    close(fd);
    return bound;
}

/* "switch,name=NAME,..." -> NAME (into buf), or NULL */
static const char *switch_name(const char *spec, char *buf, size_t size)
{
    const char *p = strstr(spec, ",name=");
    if (!p)
        return NULL;
    p += 6;
    size_t n = strcspn(p, ",");
    if (n == 0 || n >= size)
        return NULL;
    memcpy(buf, p, n);
    buf[n] = 0;
    return buf;
}

static bool net_kind(const char *spec, const char *kind)
{
    size_t n = strlen(kind);
    return !strncmp(spec, kind, n) && (spec[n] == 0 || spec[n] == ',');
}

int sandbox_prepare(struct sandbox *sb, const struct sandbox_config *cfg,
                    const struct machine_config *hw, struct error *err)
{
    memset(sb, 0, sizeof(*sb));
    sb->cfg = *cfg;
    if (!sb->cfg.uid)
        sb->cfg.uid = SANDBOX_DEFAULT_ID;
    if (!sb->cfg.gid)
        sb->cfg.gid = SANDBOX_DEFAULT_ID;
    const char *env = getenv("CONDO_SECCOMP_LOG");
    sb->seccomp_log = env && !strcmp(env, "1");
    env = getenv("CONDO_SANDBOX_SELFTEST");
    if (!sb->cfg.selftest && env && *env)
        sb->cfg.selftest = !strcmp(env, "die") ? "die" : "try";
    if (sb->cfg.mode == SANDBOX_OFF)
        return 0;
    sb->root = geteuid() == 0;
    if (!getcwd(sb->cwd, sizeof(sb->cwd)))
        return error_set_errno(err, -errno, "sandbox: cannot tell the working directory");

    /* The boot images are read again on every reboot (the board reloads
     * them from their files). */
    int r = 0;
    if (hw->kernel)
        r = sandbox_allow_path(sb, hw->kernel, SANDBOX_READ, err);
    if (r == 0 && hw->bios && !hw->bare_metal)
        r = sandbox_allow_path(sb, hw->bios, SANDBOX_READ, err);
    if (r == 0 && hw->initrd && !hw->bare_metal)
        r = sandbox_allow_path(sb, hw->initrd, SANDBOX_READ, err);

    for (unsigned i = 0; r == 0 && i < hw->nnets; i++) {
        const char *spec = hw->nets[i];
        if (net_kind(spec, "user")) {
            /* libslirp opens host sockets for the guest's connections and
             * reads the host's DNS servers when the guest asks 10.0.2.3 */
            sb->user_net = true;
            r = sandbox_allow_path(sb, "/etc/resolv.conf", SANDBOX_READ, err);
        } else if (net_kind(spec, "switch")) {
            /* a port lists the switch directory to flood, removes stale
             * peers' sockets, and at exit its own and (last one out) the
             * directory */
            char name[80], dir[256];
            if (!switch_name(spec, name, sizeof(name)) ||
                net_switch_dir(name, dir, sizeof(dir)) < 0)
                continue; /* a bad spec: the backend refuses it */
            r = sandbox_allow_path(sb, dir, SANDBOX_LIST | SANDBOX_REMOVE_FILES, err);
            char *slash = strrchr(dir, '/');
            if (r == 0 && slash && slash != dir) {
                *slash = 0;
                r = sandbox_allow_path(sb, dir, SANDBOX_REMOVE_DIRS, err);
            }
            if (sb->root)
                net_switch_share_group((int)sb->cfg.gid);
        }
    }
    if (r < 0)
        return r;

    uint64_t fsize = FSIZE_FLOOR;
    for (unsigned i = 0; i < hw->ndisks; i++) {
        uint64_t b = disk_bound(&hw->disks[i]);
        if (b > fsize)
            fsize = b;
    }
    /* a snapshot's memory file holds RAM raw (plus a header page) */
    if (hw->memory + 64 * MIB > fsize)
        fsize = hw->memory + 64 * MIB;
    sb->fsize = fsize;
    sb->nofile_extra = NOFILE_MARGIN + (sb->user_net ? NOFILE_MARGIN_USER_NET : 0);
    return 0;
}

/* --- rlimits --- */

static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int max = -1, self = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        int fd = atoi(de->d_name);
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd != self && fd > max)
            max = fd;
    }
    closedir(d);
    return max;
}

static int lower_limit(int res, rlim_t v)
{
    struct rlimit rl;
    if (getrlimit(res, &rl) < 0)
        return -errno;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
        v = rl.rlim_max;
    rl.rlim_cur = rl.rlim_max = v;
    return setrlimit(res, &rl) < 0 ? -errno : 0;
}

static int set_rlimits(struct sandbox *sb, struct error *err)
{
    /* no core dumps: they would hold guest memory */
    int r = lower_limit(RLIMIT_CORE, 0);
    if (r < 0)
        return error_set_errno(err, r, "sandbox: cannot set RLIMIT_CORE");
    int maxfd = highest_fd();
    if (maxfd < 2)
        maxfd = 2;
    rlim_t nofile = (rlim_t)maxfd + 1 + sb->nofile_extra;
    r = lower_limit(RLIMIT_NOFILE, nofile);
    if (r < 0)
        return error_set_errno(err, r, "sandbox: cannot set RLIMIT_NOFILE");
    /* past the cap a write fails (EFBIG: an I/O error for the guest)
     * rather than killing the VM with SIGXFSZ */
    signal(SIGXFSZ, SIG_IGN);
    r = lower_limit(RLIMIT_FSIZE, sb->fsize);
    if (r < 0)
        return error_set_errno(err, r, "sandbox: cannot set RLIMIT_FSIZE");
    struct rlimit nf, fs;
    getrlimit(RLIMIT_NOFILE, &nf);
    getrlimit(RLIMIT_FSIZE, &fs);
    sandbox_note(sb, "rlimits: no core dumps, descriptors below %llu (the highest open at "
                 "setup: %d), "
                 "files up to %llu MiB",
                 (unsigned long long)nf.rlim_cur, maxfd,
                 (unsigned long long)(fs.rlim_cur / MIB));
    return 0;
}

/* --- identity --- */

static int drop_capabilities(void)
{
    /* the ambient and the bounding sets matter only across execve, which
     * the filter forbids; emptied all the same */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return -errno;
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof(d));
    if (syscall(SYS_capset, &h, d) < 0)
        return -errno;
    return 0;
}

static int drop_identity(struct sandbox *sb, struct error *err)
{
    uid_t uid = sb->cfg.uid;
    gid_t gid = sb->cfg.gid;
    /* needs CAP_SETPCAP: before the uid change */
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL)
                break; /* past the kernel's last capability */
            return error_set_errno(err, -errno, "sandbox: cannot drop capability %d", cap);
        }
    }
    /* glibc applies these to every thread of the process */
    if (setgroups(0, NULL) < 0)
        return error_set_errno(err, -errno, "sandbox: cannot clear the supplementary groups");
    if (setresgid(gid, gid, gid) < 0)
        return error_set_errno(err, -errno, "sandbox: cannot change to gid %u", (unsigned)gid);
    if (setresuid(uid, uid, uid) < 0)
        return error_set_errno(err, -errno, "sandbox: cannot change to uid %u", (unsigned)uid);
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != uid ||
        eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
        return error_set(err, -EPERM, "sandbox: the uid/gid change to %u:%u did not hold",
                         (unsigned)uid, (unsigned)gid);
    /* the kernel made the process non-dumpable with the uid change (so
     * other processes of that uid cannot ptrace it or read its memory
     * through /proc); make sure */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return 0;
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* A layer the kernel lacks: fine when on, fatal when strict. */
static int missing(struct sandbox *sb, const char *layer, struct error *err)
{
    if (sb->cfg.mode == SANDBOX_STRICT)
        return error_set(err, -ENOTSUP,
                         "--sandbox strict: %s is not available on this host (%s); run "
                         "with --sandbox on to go without it",
                         layer, sb->nreport ? sb->report[sb->nreport - 1] : "?");
    return 0;
}

int sandbox_apply(struct sandbox *sb, struct error *err)
{
    if (sb->applied)
        return error_set(err, -EALREADY, "sandbox: already applied");
    sb->applied = true;
    if (sb->cfg.mode == SANDBOX_OFF) {
        sandbox_note(sb, "off (--sandbox off): the VM keeps every right of its user");
        return 0;
    }
    int threads = count_threads();
    int r = set_rlimits(sb, err);
    if (r < 0)
        return r;

    if (sb->root) {
        r = sandbox_jail(sb, err);
        if (r < 0)
            return r;
        if (r == 0 && missing(sb, "the mount namespace jail", err) < 0)
            return err->code;
        r = drop_identity(sb, err);
        if (r < 0)
            return r;
    }
    r = drop_capabilities();
    if (r < 0)
        return error_set_errno(err, r, "sandbox: cannot drop capabilities");
    if (sb->root)
        sandbox_note(sb, "identity: uid %u gid %u (was root), no groups, no capabilities "
                     "(bounding set emptied), not dumpable",
                     (unsigned)sb->cfg.uid, (unsigned)sb->cfg.gid);
    else
        sandbox_note(sb, "identity: uid %u (not root: no jail, no uid change), no "
                     "capabilities",
                     (unsigned)getuid());

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return error_set_errno(err, -errno, "sandbox: cannot set no_new_privs");
    sandbox_note(sb, "no_new_privs: set (nothing gains privileges through exec)");

    r = sandbox_landlock(sb, err);
    if (r < 0)
        return r;
    if (r == 0 && missing(sb, "Landlock", err) < 0)
        return err->code;

    r = sandbox_seccomp(sb, err);
    if (r < 0)
        return r;
    if (r == 0 && missing(sb, "seccomp", err) < 0)
        return err->code;
    if (threads > 1)
        sandbox_note(sb, "%d threads ran before the sandbox: seccomp, no_new_privs%s and the "
                     "uid cover them; %s only this thread and the threads it starts",
                     threads, sb->landlock_tsync ? ", Landlock" : "",
                     sb->landlock_tsync ? "the jail covers" : "Landlock and the jail cover");
    return 0;
}

void sandbox_report(const struct sandbox *sb)
{
    for (unsigned i = 0; i < sb->nreport; i++)
        condo_info("sandbox: %s", sb->report[i]);
}
