/* The file broker (vm_files.h): the VMM's side (file_ops routed through a
 * socket pair) and the broker's loop. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condo/file_ops.h"
#include "vm_files.h"

enum { OP_CREATE = 1, OP_RENAME, OP_UNLINK };
#define NAME_MAX_ 255

struct request {
    uint32_t op, dir;
    int32_t flags;
    uint32_t mode;
    char a[NAME_MAX_ + 1], b[NAME_MAX_ + 1];
};

static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;

/* --- the broker --- */

/* One directory entry's name: no path, nothing hidden behind '.' names. */
static bool plain_name(const char *s)
{
    size_t n = strnlen(s, NAME_MAX_ + 1);
    return n > 0 && n <= NAME_MAX_ && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static void reply(int sock, int result, int fd)
{
    struct iovec iov = { &result, sizeof(result) };
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof(cbuf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

static int serve(const struct request *q, const int *dirfd, unsigned ndirs, int *fd_out)
{
    if (q->dir >= ndirs || !plain_name(q->a))
        return -EPERM;
    int d = dirfd[q->dir];
    switch (q->op) {
    case OP_CREATE: {
        int flags = q->flags & (O_WRONLY | O_RDWR | O_EXCL | O_TRUNC);
        int fd = openat(d, q->a, flags | O_CREAT | O_CLOEXEC | O_NOFOLLOW, q->mode & 0600);
        if (fd < 0)
            return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return -EINVAL;
        }
        *fd_out = fd;
        return 0;
    }
    case OP_RENAME:
        if (!plain_name(q->b))
            return -EPERM;
        if (renameat(d, q->a, d, q->b) < 0)
            return -errno;
        fsync(d);
        return 0;
    case OP_UNLINK:
        return unlinkat(d, q->a, 0) < 0 ? -errno : 0;
    }
    return -EINVAL;
}

static void broker_main(int sock, const int *dirfd, unsigned ndirs)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    prctl(PR_SET_NAME, "condo-files", 0, 0, 0);
    /* the terminal's signals are the VMM's business; we end with it */
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    /* Keep nothing of the VMM's but the socket and the directories: no
     * disk, lock or console descriptor may outlive the VMM here. */
    long maxfd = sysconf(_SC_OPEN_MAX);
    if (maxfd < 0 || maxfd > 65536)
        maxfd = 65536;
    for (int fd = 0; fd < maxfd; fd++) {
        bool keep = fd == sock;
        for (unsigned i = 0; i < ndirs; i++)
            keep |= fd == dirfd[i];
        if (!keep)
            close(fd);
    }
    for (;;) {
        struct request q;
        ssize_t n = recv(sock, &q, sizeof(q), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0);
        if ((size_t)n != sizeof(q)) {
            reply(sock, -EINVAL, -1);
            continue;
        }
        q.a[NAME_MAX_] = q.b[NAME_MAX_] = 0;
        int fd = -1;
        int r = serve(&q, dirfd, ndirs, &fd);
        reply(sock, r, fd);
        if (fd >= 0)
            close(fd);
    }
}

/* --- the VMM's side --- */

/* Which directory path lies in, and its last component. */
static int locate(const struct vm_files *f, const char *path, const char **name)
{
    const char *slash = strrchr(path, '/');
    if (!slash || !plain_name(slash + 1))
        return -1;
    size_t dl = slash == path ? 1 : (size_t)(slash - path);
    for (unsigned i = 0; i < f->ndirs; i++) {
        if ((strlen(f->dir[i]) == dl && !strncmp(f->dir[i], path, dl)) ||
            (strlen(f->real[i]) == dl && !strncmp(f->real[i], path, dl))) {
            *name = slash + 1;
            return (int)i;
        }
    }
    return -1;
}

bool vm_files_covers(const struct vm_files *f, const char *path)
{
    const char *name;
    return f->sock >= 0 && locate(f, path, &name) >= 0;
}

static int call(struct vm_files *f, struct request *q, int *fd_out)
{
    pthread_mutex_lock(&call_lock);
    int r;
    ssize_t n;
    while ((n = send(f->sock, q, sizeof(*q), MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof(*q)) {
        pthread_mutex_unlock(&call_lock);
        return -EPIPE;
    }
    int result = -EPIPE;
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &result, sizeof(result) };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof(cbuf) };
    while ((n = recvmsg(f->sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    pthread_mutex_unlock(&call_lock);
    if (n != (ssize_t)sizeof(result))
        return -EPIPE;
    r = result;
    int fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
    if (fd_out)
        *fd_out = fd;
    else if (fd >= 0)
        close(fd);
    return r;
}

static int fb_create(void *ctx, const char *path, int flags, mode_t mode)
{
    struct vm_files *f = ctx;
    const char *name;
    int d = locate(f, path, &name);
    if (d < 0)
        return file_create_plain(path, flags, mode);
    struct request q = { .op = OP_CREATE, .dir = (uint32_t)d, .flags = flags, .mode = mode };
    snprintf(q.a, sizeof(q.a), "%s", name);
    int fd = -1;
    int r = call(f, &q, &fd);
    if (r < 0) {
        if (fd >= 0)
            close(fd);
        return r;
    }
    return fd >= 0 ? fd : -EPIPE;
}

static int fb_rename(void *ctx, const char *from, const char *to)
{
    struct vm_files *f = ctx;
    const char *na, *nb;
    int da = locate(f, from, &na), db = locate(f, to, &nb);
    if (da < 0 && db < 0)
        return file_rename_plain(from, to);
    if (da != db)
        return -EXDEV;
    struct request q = { .op = OP_RENAME, .dir = (uint32_t)da };
    snprintf(q.a, sizeof(q.a), "%s", na);
    snprintf(q.b, sizeof(q.b), "%s", nb);
    return call(f, &q, NULL);
}

static int fb_unlink(void *ctx, const char *path)
{
    struct vm_files *f = ctx;
    const char *name;
    int d = locate(f, path, &name);
    if (d < 0)
        return unlink(path) < 0 ? -errno : 0;
    struct request q = { .op = OP_UNLINK, .dir = (uint32_t)d };
    snprintf(q.a, sizeof(q.a), "%s", name);
    return call(f, &q, NULL);
}

static struct file_ops broker_ops = {
    .create = fb_create, .rename = fb_rename, .unlink = fb_unlink,
};

int vm_files_start(struct vm_files *f, const char *const *dirs, unsigned n, struct error *err)
{
    f->sock = -1;
    f->pid = 0;
    f->ndirs = 0;
    int dirfd[VM_FILES_MAX_DIRS];
    for (unsigned i = 0; i < n && f->ndirs < VM_FILES_MAX_DIRS; i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        char real[PATH_MAX];
        if (!realpath(dirs[i], real))
            continue; /* nothing there: nothing to write into */
        bool dup = false;
        for (unsigned k = 0; k < f->ndirs; k++)
            dup |= !strcmp(f->real[k], real);
        if (dup)
            continue;
        int fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue;
        /* O_PATH cannot be used with openat for creation on every kernel:
         * a real directory descriptor */
        close(fd);
        fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue;
        dirfd[f->ndirs] = fd;
        snprintf(f->dir[f->ndirs], sizeof(f->dir[0]), "%s", dirs[i]);
        snprintf(f->real[f->ndirs], sizeof(f->real[0]), "%s", real);
        f->ndirs++;
    }
    if (!f->ndirs)
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        int e = errno;
        for (unsigned i = 0; i < f->ndirs; i++)
            close(dirfd[i]);
        return error_set_errno(err, -e, "cannot create the file broker's socket");
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        for (unsigned i = 0; i < f->ndirs; i++)
            close(dirfd[i]);
        return error_set_errno(err, -e, "cannot start the file broker");
    }
    if (pid == 0) {
        close(sv[0]);
        broker_main(sv[1], dirfd, f->ndirs);
        _exit(0);
    }
    close(sv[1]);
    for (unsigned i = 0; i < f->ndirs; i++)
        close(dirfd[i]);
    f->sock = sv[0];
    f->pid = pid;
    broker_ops.ctx = f;
    file_ops_set(&broker_ops);
    return 0;
}

void vm_files_stop(struct vm_files *f)
{
    if (f->sock < 0)
        return;
    file_ops_set(NULL);
    close(f->sock);
    f->sock = -1;
}
