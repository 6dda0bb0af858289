/* Freezing a disk for a snapshot: the image on top becomes read-only (and
 * part of the snapshot) and a new qcow2 overlay, in the same directory so
 * that it can name its base by file name under the backing rule, takes
 * the guest's writes from then on. The frozen image is not reopened: the
 * overlay is stacked on the backend already open (the VMM is sandboxed
 * and could not open it again), whose lock turns shared so that clones
 * can read it too. The overlay's file comes from the caller (the VM's
 * file broker creates it). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/block_internal.h"

static bool same_dir(const char *a, const char *b)
{
    const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
    size_t la = sa ? (size_t)(sa - a) : 0, lb = sb ? (size_t)(sb - b) : 0;
    return la == lb && strncmp(a, b, la) == 0;
}

int block_freeze(struct block_backend **bp, int fd, const char *overlay, struct error *err)
{
    struct block_backend *b = *bp;
    int r = 0;
    struct stat st;
    if (!b || !b->path)
        r = error_set(err, -EINVAL, "this disk has no image file to freeze");
    else if (b->read_only)
        r = error_set(err, -EROFS, "disk %s is read-only: nothing to freeze", b->path);
    else if (!b->ops->set_read_only)
        r = error_set(err, -ENOTSUP, "disk %s (%s) cannot be frozen", b->path, b->ops->name);
    else if (stat(b->path, &st) == 0 && S_ISBLK(st.st_mode))
        r = error_set(err, -ENOTSUP,
                      "disk %s is a block device: a snapshot cannot freeze it (attach it "
                      "read-only, or use an image file)", b->path);
    else if (!same_dir(b->path, overlay))
        r = error_set(err, -EINVAL, "overlay %s must lie in the directory of %s", overlay,
                      b->path);
    if (r < 0) {
        close(fd);
        return r;
    }
    /* Everything the guest wrote so far is in the image, durably, before
     * it becomes the snapshot's. */
    r = block_flush(b);
    if (r < 0) {
        close(fd);
        return error_set_errno(err, r, "cannot flush disk %s before the snapshot", b->path);
    }
    const char *base = strrchr(b->path, '/') ? strrchr(b->path, '/') + 1 : b->path;
    r = block_qcow2_write_new(fd, overlay, b->size, base, b->ops->name, err);
    if (r < 0) {
        close(fd);
        return r;
    }
    /* read-only first: from here the image is never written again */
    b->ops->set_read_only(b);
    b->read_only = true;
    struct block_backend *nb = NULL;
    r = block_open_fd_over(fd, overlay, b, &nb, err);
    if (r < 0) {
        /* it has not been written since the flush: writable again */
        b->read_only = false;
        return r;
    }
    *bp = nb;
    return 0;
}
