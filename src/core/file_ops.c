/* File creation, rename and removal through an optional redirection: see
 * include/condo/file_ops.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "condo/file_ops.h"

static const struct file_ops *redirect;

void file_ops_set(const struct file_ops *ops)
{
    __atomic_store_n(&redirect, ops, __ATOMIC_RELEASE);
}

static const struct file_ops *current(void)
{
    return __atomic_load_n(&redirect, __ATOMIC_ACQUIRE);
}

int file_create_plain(const char *path, int flags, mode_t mode)
{
    flags &= O_WRONLY | O_RDWR | O_EXCL | O_TRUNC;
    int fd = open(path, flags | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
    return fd < 0 ? -errno : fd;
}

int file_rename_plain(const char *from, const char *to)
{
    if (rename(from, to) < 0)
        return -errno;
    /* the new name durable too: fsync the directory */
    char dir[4096];
    const char *slash = strrchr(to, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == to ? 1 : (int)(slash - to), to);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

int file_create(const char *path, int flags, mode_t mode)
{
    const struct file_ops *o = current();
    return o ? o->create(o->ctx, path, flags, mode) : file_create_plain(path, flags, mode);
}

int file_rename(const char *from, const char *to)
{
    const struct file_ops *o = current();
    return o ? o->rename(o->ctx, from, to) : file_rename_plain(from, to);
}

int file_unlink(const char *path)
{
    const struct file_ops *o = current();
    if (o)
        return o->unlink(o->ctx, path);
    return unlink(path) < 0 ? -errno : 0;
}
