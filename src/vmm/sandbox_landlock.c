/* Landlock (raw system calls: Debian ships no liblandlock, and its kernel
 * headers predate the newer ABIs, so the later constants are defined
 * here). The ruleset handles every filesystem right the kernel's ABI
 * knows; the rules give back only what sb->paths need: read a boot image,
 * list a switch directory, remove its stale sockets. Files opened before
 * (disks, the tap device, sockets, the console) keep working: Landlock
 * checks opens, not descriptors already held.
 *
 *   ABI 1  filesystem rights          ABI 4  TCP bind/connect
 *   ABI 2  REFER (rename/link)        ABI 5  IOCTL_DEV
 *   ABI 3  TRUNCATE                   ABI 6  scopes: abstract UNIX sockets, signals
 *                                     ABI 8  TSYNC: every thread at once
 *
 * Before ABI 8 a ruleset binds the calling thread and the threads it
 * starts later; a thread already running (the control API's) stays
 * outside (sandbox_apply says so). From ABI 8 on, every thread.
 *
 * TCP bind is always handled with no rule (libslirp's listening sockets
 * are bound at setup); TCP connect too unless --net user needs it (the
 * guest's connections). The scopes keep the process from signalling or
 * reaching abstract UNIX sockets outside its own Landlock domain. */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/sandbox_internal.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_TSYNC
#define LANDLOCK_RESTRICT_SELF_TSYNC (1U << 3)
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

/* struct landlock_ruleset_attr as of ABI 6; older kernels get a prefix */
struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

#define FS_ABI1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define FS_FILE_RIGHTS                                                                     \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                          \
     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

static uint64_t fs_rights(int abi)
{
    uint64_t r = FS_ABI1;
    if (abi >= 2)
        r |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        r |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return r;
}

static int add_path(int ruleset, const struct sandbox_path *p, uint64_t handled)
{
    int fd = open(p->path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno; /* nothing there to keep */
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    uint64_t allowed = 0;
    if (p->access & SANDBOX_READ)
        allowed |= LANDLOCK_ACCESS_FS_READ_FILE;
    if (p->access & SANDBOX_LIST)
        allowed |= LANDLOCK_ACCESS_FS_READ_DIR;
    if (p->access & SANDBOX_REMOVE_FILES)
        allowed |= LANDLOCK_ACCESS_FS_REMOVE_FILE;
    if (p->access & SANDBOX_REMOVE_DIRS)
        allowed |= LANDLOCK_ACCESS_FS_REMOVE_DIR;
    if (!S_ISDIR(st.st_mode))
        allowed &= FS_FILE_RIGHTS; /* the kernel refuses directory rights on a file */
    struct landlock_path_beneath_attr pb = { .allowed_access = allowed & handled,
                                             .parent_fd = fd };
    long r = pb.allowed_access ? syscall(SYS_landlock_add_rule, ruleset,
                                         LANDLOCK_RULE_PATH_BENEATH, &pb, 0)
                               : 0;
    int e = errno;
    close(fd);
    return r < 0 ? -e : 1;
}

int sandbox_landlock(struct sandbox *sb, struct error *err)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) {
        int e = errno;
        sandbox_note(sb, "Landlock: unavailable (%s)",
                     e == EOPNOTSUPP ? "disabled at boot: add landlock to the lsm= list"
                     : e == ENOSYS   ? "the kernel lacks it (Linux 5.13+ with "
                                       "CONFIG_SECURITY_LANDLOCK)"
                                     : strerror(e));
        return 0;
    }
    sb->landlock_abi = (int)abi;
    struct ruleset_attr attr = { .handled_access_fs = fs_rights((int)abi) };
    size_t size = sizeof(attr.handled_access_fs);
    if (abi >= 4) {
        attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP;
        if (!sb->user_net)
            attr.handled_access_net |= LANDLOCK_ACCESS_NET_CONNECT_TCP;
        size = offsetof(struct ruleset_attr, scoped);
    }
    if (abi >= 6) {
        attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
        size = sizeof(attr);
    }
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (rs < 0)
        return error_set_errno(err, -errno, "sandbox: cannot create a Landlock ruleset (ABI %ld)",
                               abi);
    unsigned kept = 0;
    for (unsigned i = 0; i < sb->npaths; i++) {
        int r = add_path(rs, &sb->paths[i], attr.handled_access_fs);
        if (r < 0) {
            close(rs);
            return error_set_errno(err, r, "sandbox: cannot add Landlock rule for %s",
                                   sb->paths[i].path);
        }
        kept += (unsigned)r;
    }
    long rr = -1;
    if (abi >= 8) {
        rr = syscall(SYS_landlock_restrict_self, rs, LANDLOCK_RESTRICT_SELF_TSYNC);
        sb->landlock_tsync = rr == 0;
    }
    if (rr < 0)
        rr = syscall(SYS_landlock_restrict_self, rs, 0);
    if (rr < 0) {
        int e = errno;
        close(rs);
        return error_set_errno(err, -e, "sandbox: cannot enforce the Landlock ruleset");
    }
    close(rs);
    sandbox_note(sb, "Landlock ABI %ld: no filesystem access but %u path%s (those the VM "
                 "re-opens)%s%s",
                 abi, kept, kept == 1 ? "" : "s",
                 abi >= 4 ? (sb->user_net ? "; no TCP bind" : "; no TCP bind or connect") : "",
                 abi >= 6 ? "; signals and abstract UNIX sockets scoped to the VM" : "");
    return 1;
}
