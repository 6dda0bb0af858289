/* The jail of a VMM started as root, after Firecracker's jailer but for a
 * process that already holds its files and sockets: it cannot exec into a
 * prepared chroot, so it moves itself.
 *
 *   unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS)
 *   every mount private (nothing propagates back to the host)
 *   a small tmpfs over /tmp, pivot_root into it, the host's tree below
 *   /.condo-oldroot
 *   each path the VMM re-opens bind-mounted at the same name (nosuid,
 *   nodev, noexec; read-only unless entries are removed there), the
 *   working directory recreated so relative names still resolve
 *   the host's tree detached and its mount point removed
 *   the new root remounted read-only
 *
 * No PID namespace: a process enters a new one only through fork, and the
 * VMM cannot fork after setup without a second process per VM (and copies
 * of the guest pages already loaded). What a PID namespace would hide -
 * other processes - is hidden otherwise: no /proc in the jail, Landlock,
 * and a seccomp filter that allows signals only to the process itself and
 * forbids ptrace and process_vm_*. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/sandbox_internal.h"

#define OLDROOT "/.condo-oldroot"
#define JAIL_MOUNT "/tmp"
#define JAIL_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

struct bind {
    char target[PATH_MAX]; /* the name the VMM uses, made absolute */
    char source[PATH_MAX]; /* the host file it resolves to */
    bool dir;
    bool writable;
    bool covered; /* inside another bind: visible through it */
};

/* mkdir -p of every component of path before its last one (when `all`,
 * the last one too), 0755. The jail's own directories: nothing else. */
static int make_dirs(const char *path, bool all)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof(tmp))
        return -ENAMETOOLONG;
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && !(all && tmp[i] == 0))
            continue;
        char c = tmp[i];
        tmp[i] = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -errno;
        tmp[i] = c;
        if (c == 0)
            break;
    }
    return 0;
}

static int absolute(const struct sandbox *sb, const char *path, char *out, size_t size)
{
    int n = path[0] == '/' ? snprintf(out, size, "%s", path)
                           : snprintf(out, size, "%s/%s", sb->cwd, path);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool beneath(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return !strncmp(path, dir, n) && (path[n] == '/' || (n == 1 && dir[0] == '/'));
}

static int jail_fail(struct error *err, int code, const char *what, const char *path)
{
    return error_set_errno(err, code, "sandbox: cannot set up the jail: %s %s", what,
                           path ? path : "");
}

/* Resolve the paths (in the host's view, before anything moves). */
static int plan(struct sandbox *sb, struct bind *b, unsigned *nb, struct error *err)
{
    *nb = 0;
    for (unsigned i = 0; i < sb->npaths; i++) {
        struct bind *x = &b[*nb];
        memset(x, 0, sizeof(*x));
        if (absolute(sb, sb->paths[i].path, x->target, sizeof(x->target)) < 0)
            return error_set(err, -ENAMETOOLONG, "sandbox: path too long: %s",
                             sb->paths[i].path);
        if (!realpath(sb->paths[i].path, x->source))
            continue; /* not there (e.g. no /etc/resolv.conf): nothing to keep */
        struct stat st;
        if (stat(x->source, &st) < 0)
            continue;
        x->dir = S_ISDIR(st.st_mode);
        x->writable = sb->paths[i].access & (SANDBOX_REMOVE_FILES | SANDBOX_REMOVE_DIRS);
        (*nb)++;
    }
    /* a path inside a directory that is bound anyway needs no bind of its
     * own (a switch directory inside its parent: the parent is bound so
     * the switch directory, not being a mount point, can be removed) */
    for (unsigned i = 0; i < *nb; i++)
        for (unsigned j = 0; j < *nb; j++)
            if (i != j && b[j].dir && !b[j].covered && beneath(b[i].target, b[j].target))
                b[i].covered = true;
    return 0;
}

static int bind_one(const struct bind *x, struct error *err)
{
    char src[PATH_MAX + sizeof(OLDROOT)];
    snprintf(src, sizeof(src), OLDROOT "%s", x->source);
    int r = make_dirs(x->target, x->dir);
    if (r < 0)
        return jail_fail(err, r, "mkdir", x->target);
    if (!x->dir) {
        int fd = open(x->target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return jail_fail(err, -errno, "create", x->target);
        close(fd);
    }
    if (mount(src, x->target, NULL, MS_BIND, NULL) < 0)
        return jail_fail(err, -errno, "bind", x->target);
    unsigned long fl = MS_REMOUNT | MS_BIND | JAIL_FLAGS | (x->writable ? 0 : MS_RDONLY);
    if (mount(NULL, x->target, NULL, fl, NULL) < 0)
        return jail_fail(err, -errno, "remount", x->target);
    return 0;
}

int sandbox_jail(struct sandbox *sb, struct error *err)
{
    static struct bind binds[SANDBOX_MAX_PATHS]; /* too big for the stack */
    unsigned nb;
    int r = plan(sb, binds, &nb, err);
    if (r < 0)
        return r;
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0) {
        int e = errno;
        if (e == EPERM || e == EINVAL || e == ENOSYS) {
            /* root without CAP_SYS_ADMIN (a container) or no namespaces */
            sandbox_note(sb, "jail: unavailable (unshare: %s)", strerror(e));
            return 0;
        }
        return jail_fail(err, -e, "unshare", NULL);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return jail_fail(err, -errno, "make private", "/");
    if (mount("condo-jail", JAIL_MOUNT, "tmpfs", JAIL_FLAGS, "mode=0755,size=256k,nr_inodes=1024") <
        0)
        return jail_fail(err, -errno, "mount a tmpfs on", JAIL_MOUNT);
    if (mkdir(JAIL_MOUNT OLDROOT, 0700) < 0)
        return jail_fail(err, -errno, "mkdir", JAIL_MOUNT OLDROOT);
    if (syscall(SYS_pivot_root, JAIL_MOUNT, JAIL_MOUNT OLDROOT) < 0)
        return jail_fail(err, -errno, "pivot_root to", JAIL_MOUNT);
    if (chdir("/") < 0)
        return jail_fail(err, -errno, "chdir", "/");

    unsigned kept = 0;
    for (unsigned i = 0; i < nb; i++) {
        if (binds[i].covered)
            continue;
        r = bind_one(&binds[i], err);
        if (r < 0)
            return r;
        kept++;
    }
    /* relative names (--kernel build/guest/Image) resolve as before */
    r = make_dirs(sb->cwd, true);
    if (r < 0)
        return jail_fail(err, r, "mkdir", sb->cwd);

    if (umount2(OLDROOT, MNT_DETACH) < 0)
        return jail_fail(err, -errno, "detach the host's tree", NULL);
    if (rmdir(OLDROOT) < 0)
        return jail_fail(err, -errno, "rmdir", OLDROOT);
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | JAIL_FLAGS, NULL) < 0)
        return jail_fail(err, -errno, "remount read-only", "/");
    if (chdir(sb->cwd) < 0)
        return jail_fail(err, -errno, "chdir", sb->cwd);
    sandbox_note(sb, "jail: private mount, IPC and UTS namespaces; read-only root holding "
                 "%u bind mount%s (of %u paths kept), the host's tree detached",
                 kept, kept == 1 ? "" : "s", sb->npaths);
    return 1;
}
