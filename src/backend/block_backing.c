/* The backing-file rule: which file a backing name inside an image may lead
 * to, and opening it so that it cannot lead anywhere else.
 *
 * A backing name is data from whoever made the image. Followed as given it
 * shows the guest any host file the user running condo can read
 * (`qemu-img create -b /etc/shadow ...`), or blocks condo on a FIFO. So a
 * name is followed only to a regular file inside the naming image's own
 * directory (or below it) or inside condo's image store, after resolving
 * every symbolic link; and the file is then opened relative to that
 * directory with openat2(RESOLVE_BENEATH), and checked to be the very file
 * that was resolved, so a link swapped in between cannot lead outside. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend/block_internal.h"
#include "condo/paths.h"

int block_backing_join(const char *image, const char *name, char *out, size_t outsz)
{
    const char *slash = strrchr(image, '/');
    int n;
    if (name[0] == '/' || !slash)
        n = snprintf(out, outsz, "%s", name);
    else
        n = snprintf(out, outsz, "%.*s/%s", (int)(slash - image), image, name);
    return n < 0 || (size_t)n >= outsz ? -ENAMETOOLONG : 0;
}

/* The real path of the directory holding `image` (which may not exist yet:
 * block_create asks before creating it). */
static int image_dir(const char *image, char *out)
{
    char dir[BLOCK_PATH_MAX];
    const char *slash = strrchr(image, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == image)
        snprintf(dir, sizeof(dir), "/");
    else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - image), image) >= (int)sizeof(dir))
        return -ENAMETOOLONG;
    return realpath(dir, out) ? 0 : -errno;
}

static bool beneath(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return path[0] == '/';
    return !strncmp(path, root, n) && path[n] == '/';
}

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
           : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int block_backing_resolve(const char *image, const char *name, const char *top,
                          struct block_backing_target *t, struct error *err)
{
    memset(t, 0, sizeof(*t));
    char cand[BLOCK_PATH_MAX], dir[BLOCK_PATH_MAX], store[BLOCK_PATH_MAX];
    if (block_backing_join(image, name, cand, sizeof(cand)) < 0)
        return error_set(err, -ENAMETOOLONG, "disk image %s: its backing file name '%s' is too long",
                         image, name);
    int r = image_dir(image, dir);
    if (r < 0)
        return error_set_errno(err, r, "disk image %s: cannot resolve its directory", image);
    if (!realpath(cand, t->path)) {
        r = -errno;
        if (r == -ENOENT)
            return error_set(err, r,
                             "disk image %s: its backing file '%s' (%s) does not exist: a "
                             "relative name is taken from the image's directory",
                             image, name, cand);
        return error_set_errno(err, r, "disk image %s: its backing file '%s' (%s)", image, name,
                               cand);
    }
    struct stat st;
    if (stat(t->path, &st) < 0)
        return error_set_errno(err, -errno, "disk image %s: its backing file %s", image, t->path);
    bool in_store = false, have_store = paths_image_store(store, sizeof(store), NULL) == 0;
    char store_real[BLOCK_PATH_MAX];
    if (have_store && realpath(store, store_real))
        in_store = beneath(t->path, store_real);
    else if (have_store) /* not there (yet): nothing can be in it */
        snprintf(store_real, sizeof(store_real), "%s", store);
    else
        snprintf(store_real, sizeof(store_real), "none: CONDO_HOME, XDG_DATA_HOME and HOME unset");
    if (beneath(t->path, dir))
        snprintf(t->root, sizeof(t->root), "%s", dir);
    else if (in_store)
        snprintf(t->root, sizeof(t->root), "%s", store_real);
    else {
        const char *where = store_real;
        if (top)
            return error_set(
                err, -EPERM,
                "disk image %s names the backing file '%s' (%s), which is outside the image's "
                "directory (%s) and condo's image store (%s): condo does not follow such a "
                "name. If you trust the image, name its base yourself: --disk %s,backing=%s "
                "(or backing=none,ro for the top layer alone)",
                image, name, t->path, dir, where, top, t->path);
        return error_set(err, -EPERM,
                         "disk image %s names the backing file '%s' (%s), which is outside the "
                         "image's directory (%s) and condo's image store (%s): condo does not "
                         "follow such a name; move the base beside the image or into the store",
                         image, name, t->path, dir, where);
    }
    if (!S_ISREG(st.st_mode))
        return error_set(err, -EPERM,
                         "disk image %s: its backing file %s is %s: condo follows backing names "
                         "to regular files only",
                         image, t->path, file_kind(st.st_mode));
    size_t n = strlen(t->root);
    t->rel = t->path + (n == 1 ? 1 : n + 1);
    t->dev = (uint64_t)st.st_dev;
    t->ino = (uint64_t)st.st_ino;
    return 0;
}

int block_backing_open(const struct block_backing_target *t, int flags, struct error *err)
{
    flags |= O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC;
    int dfd = open(t->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return error_set_errno(err, -errno, "cannot open directory %s", t->root);
    struct open_how how = {
        .flags = (uint64_t)flags,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int)syscall(SYS_openat2, dfd, t->rel, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS)
        fd = open(t->path, flags); /* before Linux 5.6: the inode check below still holds */
    int e = errno;
    close(dfd);
    if (fd < 0) {
        if (e == EXDEV || e == ELOOP)
            return error_set(err, -EPERM,
                             "backing file %s changed while condo opened it (a symbolic link "
                             "now leads outside %s): refused",
                             t->path, t->root);
        return error_set_errno(err, -e, "cannot open backing file %s", t->path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != t->dev || (uint64_t)st.st_ino != t->ino ||
        !S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(err, -EPERM,
                         "backing file %s changed while condo opened it: refused", t->path);
    }
    return fd;
}
