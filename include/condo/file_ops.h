/* Creating, renaming and removing files, through one place that the VM
 * process can redirect. A sandboxed VMM may not create files itself
 * (seccomp refuses openat with O_CREAT, Landlock gives no directory write
 * rights, and as root it runs as another uid): it asks its file broker
 * (src/vmm/vm_files.c), a small process forked before the sandbox that
 * holds the few directories the VM writes in (snapshots, disk layers)
 * and hands back descriptors. Code that writes snapshot files or disk
 * layers calls these functions and never knows which way they went.
 *
 * Without a redirection (the default) they are the plain system calls. */
#ifndef CONDO_FILE_OPS_H
#define CONDO_FILE_OPS_H

#include <sys/types.h>

struct file_ops {
    /* Each returns the result of the plain call (a descriptor or 0), or a
     * negative errno. */
    int (*create)(void *ctx, const char *path, int flags, mode_t mode);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*unlink)(void *ctx, const char *path);
    void *ctx;
};

/* Redirect (ops) or go back to the plain calls (NULL). */
void file_ops_set(const struct file_ops *ops);

/* A new file at path: flags are O_WRONLY or O_RDWR, plus O_EXCL or O_TRUNC;
 * O_CREAT, O_CLOEXEC and O_NOFOLLOW are implied. A descriptor or -errno. */
int file_create(const char *path, int flags, mode_t mode);
/* rename(2) within one directory, then the directory is made durable
 * (fsync). 0 or -errno. */
int file_rename(const char *from, const char *to);
/* unlink(2). 0 or -errno. */
int file_unlink(const char *path);

/* The plain calls (what the broker itself runs). */
int file_create_plain(const char *path, int flags, mode_t mode);
int file_rename_plain(const char *from, const char *to);

#endif
