/* condo disk info: a chain described from its headers. Each layer the
 * backing rule allows is opened read-only, without blocking and without a
 * lock, just long enough to read its header; a layer the rule refuses is
 * described from its name alone and never opened. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/block_internal.h"

/* Fills li from the header of the file open on fd. */
static int probe(int fd, const char *path, enum block_format fmt, struct block_layer_info *li,
                 struct error *err)
{
    uint8_t magic[4] = { 0 };
    int r = block_file_pread(fd, magic, sizeof(magic), 0, true);
    if (r < 0)
        return error_set_errno(err, r, "cannot read disk image %s", path);
    if (fmt == BLOCK_FORMAT_AUTO)
        fmt = be32_load(magic) == QCOW2_MAGIC ? BLOCK_FORMAT_QCOW2 : BLOCK_FORMAT_RAW;
    if (fmt == BLOCK_FORMAT_QCOW2)
        return block_qcow2_probe(fd, path, li, err);
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0)
        return error_set_errno(err, -errno, "cannot find the size of disk image %s", path);
    li->format = BLOCK_FORMAT_RAW;
    li->virtual_size = li->file_size = (uint64_t)end;
    return 0;
}

int block_info_chain(const char *path, enum block_format fmt, struct block_layer_info *layers,
                     unsigned *n, struct error *err)
{
    *n = 0;
    struct block_backing_target t;
    const struct block_backing_target *confine = NULL;
    /* (dev, ino) of the layers so far: a loop ends the walk. */
    uint64_t seen[BLOCK_MAX_CHAIN + 1][2];
    for (unsigned i = 0; i <= BLOCK_MAX_CHAIN; i++) {
        struct block_layer_info *li = &layers[i];
        memset(li, 0, sizeof(*li));
        snprintf(li->path, sizeof(li->path), "%s", i == 0 ? path : t.path);
        int fd = confine ? block_backing_open(confine, O_RDONLY, err)
                         : block_open_plain(path, O_RDONLY, true, err);
        if (fd < 0) {
            if (i == 0)
                return fd;
            layers[i - 1].backing_status = fd;
            snprintf(layers[i - 1].backing_why, sizeof(layers[i - 1].backing_why), "%s",
                     err ? err->msg : "cannot open it");
            error_clear(err);
            return 0;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
            int e = errno;
            close(fd);
            return error_set_errno(err, -e, "cannot read disk image %s", li->path);
        }
        int r = probe(fd, li->path, i == 0 ? fmt : layers[i - 1].backing_format, li, err);
        close(fd);
        if (r < 0) {
            if (i == 0)
                return r;
            /* A damaged layer below: shown, and the chain ends there. */
            layers[i - 1].backing_status = r;
            snprintf(layers[i - 1].backing_why, sizeof(layers[i - 1].backing_why), "%s",
                     err ? err->msg : "damaged");
            error_clear(err);
            return 0;
        }
        *n = i + 1;
        seen[i][0] = (uint64_t)st.st_dev;
        seen[i][1] = (uint64_t)st.st_ino;
        if (!li->backing_name[0])
            return 0;
        struct error why = ERROR_INIT;
        r = block_backing_resolve(li->path, li->backing_name, i == 0 ? path : NULL, &t, &why);
        li->backing_status = r;
        if (r == 0) {
            snprintf(li->backing_path, sizeof(li->backing_path), "%s", t.path);
        } else {
            snprintf(li->backing_why, sizeof(li->backing_why), "%s", why.msg);
            /* Still show where the name leads, without opening it. */
            if (block_backing_join(li->path, li->backing_name, li->backing_path,
                                   sizeof(li->backing_path)) < 0)
                li->backing_path[0] = 0;
            return 0;
        }
        for (unsigned k = 0; k <= i; k++) {
            if (seen[k][0] == t.dev && seen[k][1] == t.ino) {
                li->backing_status = -ELOOP;
                snprintf(li->backing_why, sizeof(li->backing_why),
                         "the chain loops: %.400s is already in it", t.path);
                return 0;
            }
        }
        if (i == BLOCK_MAX_CHAIN) {
            li->backing_status = -ELOOP;
            snprintf(li->backing_why, sizeof(li->backing_why),
                     "the chain is deeper than %d files", BLOCK_MAX_CHAIN);
            return 0;
        }
        confine = &t;
    }
    return 0;
}
