/* libFuzzer target: a hostile disk image. The input (after one byte of
 * options) is written to a file and opened as condo run --disk would open
 * it: qcow2 headers, header extensions, backing names and formats, L1,
 * refcount and L2 tables, all fuzzed; then block_info_chain (condo disk
 * info) on it, reads over the whole disk and, when opened writable, writes,
 * a flush and a close that writes tables back.
 *
 * Besides crashes and sanitizer reports, the target traps when the backing
 * rule is broken: every layer of an opened chain must lie inside the
 * fuzzing directory (the image's own, where a raw base.img and a qcow2
 * mid.qcow2 wait to be named) or the image store below it, whatever name
 * the image gives (absolute paths, ../, /dev/..., itself). The fuzzer's
 * files live in a private temporary directory.
 *
 * Options byte: bit 0 writable, bit 1 format given as qcow2 (else probed),
 * bit 2 backing=none, bit 3 backing=base.img named explicitly, bits 4-7
 * choose the request sizes.
 *
 *   tests/fuzz/run.sh SECONDS image     build into build/fuzz and run */
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/block_qcow2.h"
#include "condo/block.h"

#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c))                                                                             \
            __builtin_trap();                                                                 \
    } while (0)

/* Reads stop after this many bytes of virtual disk (a fuzzed size can be
 * 2^62): enough to walk several L2 tables with small clusters. */
#define READ_BUDGET (1u << 20)

static char dir[64], img[128], store[128], base[128], mid[128];
static struct log_limit saved_log[BLOCK_MAX_CHAIN + 2];
static bool have_saved_log;
static struct block_layer_info layers[BLOCK_MAX_CHAIN + 1];
static uint8_t buf[128 * 1024];

static void write_file(const char *path, const uint8_t *d, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, d, n) == (ssize_t)n);
    close(fd);
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)type;
    (void)f;
    return remove(p);
}

/* The temporary directory goes when the fuzzer exits. */
static void cleanup(void)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "%s/condo-fuzz-image-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"); /* tmpfs: fdatasync is free */
    CHECK(mkdtemp(dir) != NULL);
    atexit(cleanup);
    snprintf(img, sizeof(img), "%s/fuzz.img", dir);
    snprintf(base, sizeof(base), "%s/base.img", dir);
    snprintf(mid, sizeof(mid), "%s/mid.qcow2", dir);
    snprintf(store, sizeof(store), "%s/home", dir);
    setenv("CONDO_HOME", store, 1);
    snprintf(store, sizeof(store), "%s/home/images", dir);
    CHECK(mkdir(store, 0700) == 0 || errno == ENOENT);
    char home[128];
    snprintf(home, sizeof(home), "%s/home", dir);
    mkdir(home, 0700);
    mkdir(store, 0700);
    /* Something for backing names to find: a raw base with a pattern, and
     * a qcow2 overlay on it (whose own backing name is "base.img"). */
    static uint8_t pattern[64 * 1024];
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(i * 13 + 7);
    write_file(base, pattern, sizeof(pattern));
    char in_store[160];
    snprintf(in_store, sizeof(in_store), "%s/store.img", store);
    write_file(in_store, pattern, 4096);
    struct error err = ERROR_INIT;
    unlink(mid);
    CHECK(block_create(mid, BLOCK_FORMAT_QCOW2, 0, "base.img", &err) == 0);
    return 0;
}

static bool inside(const char *path)
{
    char real[BLOCK_PATH_MAX];
    if (!realpath(path, real))
        return false;
    size_t n = strlen(dir);
    return !strncmp(real, dir, n) && real[n] == '/';
}

/* The layers of an opened chain, top first. */
static unsigned chain(struct block_backend *b, struct block_backend **out)
{
    unsigned n = 0;
    while (b && n < BLOCK_MAX_CHAIN + 2) {
        out[n++] = b;
        b = b->ops && !strcmp(b->ops->name, "qcow2") ? ((struct qcow2 *)b->priv)->backing : NULL;
    }
    return n;
}

static void io(struct block_backend *b, uint8_t opts)
{
    static const size_t sizes[4] = { 512, 4096, 65536 + 512, 128 * 1024 };
    size_t step = sizes[(opts >> 4) & 3];
    uint64_t limit = b->size < READ_BUDGET ? b->size : READ_BUDGET;
    for (uint64_t off = 0; off < limit; off += step) {
        size_t len = limit - off < step ? (size_t)(limit - off) : step;
        len &= ~(size_t)511;
        if (!len)
            break;
        struct iovec v[2] = { { buf, len / 2 & ~(size_t)511 }, { buf + (len / 2 & ~(size_t)511), 0 } };
        v[1].iov_len = len - v[0].iov_len;
        int r = block_preadv(b, v, v[0].iov_len ? 2 : 1, off);
        CHECK(r == 0 || r == -EIO || r == -ENOTSUP || r == -ENOMEM);
        if (!b->read_only && (opts & 0x40) && off % (3 * step) == 0) {
            memset(buf, (int)(off >> 9), len);
            r = block_pwritev(b, v, v[0].iov_len ? 2 : 1, off);
            CHECK(r == 0 || r == -EIO || r == -ENOTSUP || r == -EFBIG || r == -ENOMEM ||
                  r == -ENOSPC);
        }
    }
    /* The last sector and one just past the end. */
    if (b->size >= 512) {
        struct iovec v = { buf, 512 };
        int r = block_preadv(b, &v, 1, b->size - 512);
        CHECK(r == 0 || r == -EIO || r == -ENOTSUP);
        CHECK(block_preadv(b, &v, 1, b->size) == -EINVAL);
    }
    if (!b->read_only) {
        int r = block_flush(b);
        CHECK(r == 0 || r == -EIO || r == -ENOSPC);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opts = data[0];
    write_file(img, data + 1, size - 1);

    struct error err = ERROR_INIT;
    unsigned n = 0;
    int r = block_info_chain(img, (opts & 2) ? BLOCK_FORMAT_QCOW2 : BLOCK_FORMAT_AUTO, layers, &n,
                             &err);
    CHECK(r <= 0);
    CHECK(r < 0 ? error_is_set(&err) && n == 0 : n >= 1 && n <= BLOCK_MAX_CHAIN + 1);
    for (unsigned i = 1; i < n; i++)
        CHECK(inside(layers[i].path));

    struct block_open_options o = {
        .format = (opts & 2) ? BLOCK_FORMAT_QCOW2 : BLOCK_FORMAT_AUTO,
        .read_only = !(opts & 1) || (opts & 4),
        .backing = (opts & 4) ? BLOCK_BACKING_NONE : (opts & 8) ? base : NULL,
    };
    struct block_backend *b = NULL;
    error_clear(&err);
    r = block_open_with(img, &o, &b, &err);
    CHECK((r == 0) == (b != NULL));
    CHECK(r == 0 ? !error_is_set(&err) : err.code == r && err.msg[0]);
    if (r < 0)
        return 0;
    /* Every layer below the top: where the rule (or the user) allows. */
    struct block_backend *layer[BLOCK_MAX_CHAIN + 2];
    unsigned nl = chain(b, layer);
    for (unsigned i = 1; i < nl; i++)
        CHECK(inside(layer[i]->path));
    /* One VM's worth of log budget across all inputs, per layer depth. */
    for (unsigned i = 0; have_saved_log && i < nl; i++)
        layer[i]->log = saved_log[i];
    io(b, opts);
    for (unsigned i = 0; i < nl; i++) {
        saved_log[i] = layer[i]->log;
        layer[i]->log.suppressed = 0; /* the count lives on in saved_log */
    }
    have_saved_log = true;
    block_close(b);
    return 0;
}
