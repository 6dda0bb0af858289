/* Block backends: what a virtio-blk device reads and writes. One interface,
 * several formats (raw files, qcow2 versions 2 and 3 with backing files);
 * docs/DISKS.md describes formats, limits and the crash-safe write order.
 * All offsets and lengths are in bytes; requests are whole 512-byte
 * sectors inside the disk. A backend may be used from any thread (qcow2
 * serialises its requests internally), but close only when none is in
 * flight. */
#ifndef CONDO_BLOCK_H
#define CONDO_BLOCK_H

#include <sys/uio.h>

#include "condo/common.h"
#include "condo/error.h"
#include "condo/log.h"

enum block_format { BLOCK_FORMAT_AUTO = 0, BLOCK_FORMAT_RAW, BLOCK_FORMAT_QCOW2 };

struct block_backend;

struct block_ops {
    const char *name; /* "raw" or "qcow2" */
    int (*preadv)(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
    int (*pwritev)(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
    /* Durable: returns only when written data is on the host disk. */
    int (*flush)(struct block_backend *b);
    void (*close)(struct block_backend *b);
    /* Optional: the whole read at once if it needs no host disk I/O and
     * no waiting (the data is in the host's page cache), else -EAGAIN;
     * -EOPNOTSUPP if the backend never can. Must not change any state. */
    int (*preadv_nowait)(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
};

struct block_backend {
    const struct block_ops *ops;
    uint64_t size;  /* virtual disk size in bytes */
    bool read_only;
    char *path;
    void *priv;
    /* Run-time errors (a read that failed, a damaged table met on the
     * way): rate-limited, so a bad image cannot flood the host's log. */
    struct log_limit log;
    /* block.c's registry of the images this process has open (one VM
     * must not open an image twice when either opening writes). */
    uint64_t dev, ino;
    struct block_backend *open_next;
    bool registered;
};

/* The value of block_open_options.backing that opens an overlay without
 * its base (`--disk FILE,backing=none`). */
#define BLOCK_BACKING_NONE "none"

struct block_open_options {
    enum block_format format; /* AUTO: qcow2 if the file has qcow2's magic, else raw */
    bool read_only;
    /* The base of a qcow2 overlay. NULL: the backing file the image names,
     * followed only under the backing rule below. A path: that file is the
     * base (the user named it, so the rule does not apply to it; the
     * base's own backing file follows the rule again). BLOCK_BACKING_NONE:
     * the top layer alone, unwritten parts reading as zeros (read-only
     * only: a write would fill partly written clusters with zeros instead
     * of the base's data). */
    const char *backing;
};

/* Open a disk image. Nothing opened can block (FIFOs, devices): the top
 * image must be a regular file or a block device, a backing file a
 * regular file. Writers lock the image exclusively, readers shared: a
 * conflict with another process is -EBUSY; so is an image this process
 * already has open when either open writes (the same image attached
 * twice). Backing files are opened read-only.
 *
 * The backing rule. The backing file name inside a qcow2 image is data
 * from whoever made the image, so condo follows it only to a regular file
 * in the naming image's own directory (or below it) or in condo's image
 * store (include/condo/paths.h), after resolving symbolic links, and opens
 * it so that it cannot escape from there; a relative name is taken from
 * the naming image's directory, as QEMU does. Anything else is refused
 * (-EPERM) with a message naming the file and how to allow it.
 *
 * Errors: the errno of a failed open (-ENOENT, -EACCES, ...), -EINVAL for
 * a damaged image or a file that is not an image, -ENOTSUP for a feature
 * condo does not implement (encryption, external data files, subclusters,
 * internal snapshots when writing, ...), -ELOOP for a backing chain that
 * loops or is deeper than 16; err says which file and what to do. On
 * failure *out is NULL. */
int block_open_with(const char *path, const struct block_open_options *opt,
                    struct block_backend **out, struct error *err);
/* The same with format and read_only only. */
int block_open(const char *path, enum block_format fmt, bool read_only,
               struct block_backend **out, struct error *err);
/* Writes back what is cached (qcow2) and closes; NULL is fine. */
void block_close(struct block_backend *b);
/* 0 or negative errno: -EINVAL for a request not in whole sectors or
 * beyond the disk's end, -EROFS for a write to a read-only backend, -EIO
 * for a damaged table met on the way or an image file that shrank under
 * the VM, -ENOTSUP for a compressed qcow2 cluster. Never short: on success
 * all bytes were transferred. */
int block_preadv(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
int block_pwritev(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
/* A read that never waits: 0 when all of it was copied from memory the
 * host already holds, -EAGAIN when it would have to wait (do it with
 * block_preadv on a thread that may), -EOPNOTSUPP for backends that cannot
 * tell (qcow2), or the checks' -EINVAL. Safe on another thread than the
 * one doing block_preadv/pwritev only for raw images (no state). */
int block_preadv_nowait(struct block_backend *b, const struct iovec *iov, int n, uint64_t off);
/* Durable (fdatasync, after qcow2's ordered metadata write-back); 0 for a
 * read-only backend. */
int block_flush(struct block_backend *b);

/* Create an image (condo disk create): raw (a sparse file) or qcow2 v3
 * (64 KiB clusters), optionally with a backing file (qcow2 only; AUTO
 * picks qcow2 when a backing file is given or path ends in .qcow2). A
 * relative backing name is resolved from path's directory, as QEMU does,
 * and stored as given; it must satisfy the backing rule (so that the new
 * image can be opened), it must open, and its format is recorded. size
 * must be a multiple of 512; 0 with a backing file means the backing
 * file's size. Never overwrites an existing file (-EEXIST). */
int block_create(const char *path, enum block_format fmt, uint64_t size, const char *backing,
                 struct error *err);

/* --- inspecting a chain (condo disk info) ------------------------------ */

#define BLOCK_MAX_CHAIN 16
#define BLOCK_PATH_MAX 4096

/* One layer of a chain, as its header describes it. */
struct block_layer_info {
    char path[BLOCK_PATH_MAX]; /* the top as given; below, the resolved path */
    enum block_format format;
    unsigned version;          /* qcow2 version; 0 for raw */
    uint64_t virtual_size;
    uint64_t file_size;
    unsigned cluster_size;     /* qcow2 */
    bool dirty, corrupt;       /* qcow2 incompatible bits */
    char backing_name[1024];   /* as stored in the header; "" for none */
    enum block_format backing_format; /* the header's record; AUTO if none */
    /* Where the name leads: the resolved path ("" when it cannot be
     * resolved), and whether the backing rule lets condo follow it (0) or
     * why not (a negative errno, with backing_why the one-line reason). */
    char backing_path[BLOCK_PATH_MAX];
    int backing_status;
    char backing_why[ERROR_MSG_MAX];
};

/* Reads the headers of path and of every backing file the rule allows,
 * top first, into layers (room for BLOCK_MAX_CHAIN + 1); *n gets the
 * count. Layers are read, never opened for I/O or locked; a backing file
 * the rule refuses is described (name, resolved path, reason) but not
 * opened. Fails only when the top image itself cannot be read or parsed
 * (a damaged layer further down ends the chain with backing_why set). */
int block_info_chain(const char *path, enum block_format fmt, struct block_layer_info *layers,
                     unsigned *n, struct error *err);

#endif
