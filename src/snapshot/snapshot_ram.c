/* The RAM section of a snapshot: mapped (RAM raw and page-aligned after
 * the snapshot's last section, zero pages left as holes: a restore maps
 * it copy-on-write instead of copying), inline (a bitmap of the pages
 * that are not all zero, then those pages as one zstd frame: for export)
 * or a reference to a separate memory file laid out like mapped RAM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "snapshot_internal.h"

#define ZSTD_LEVEL 1 /* the guest is paused while this runs: fast beats small */
#define MEM_PATH_MAX 4096

static bool page_is_zero(const uint8_t *p)
{
    static const uint8_t zero[SNAP_PAGE];
    return memcmp(p, zero, SNAP_PAGE) == 0;
}

/* Mark the pages of a file-backed RAM that lie over the file's data
 * extents (SEEK_DATA/SEEK_HOLE; a file system without holes reports all
 * of it as data). false when the file cannot be asked. */
static bool mark_file_data(const struct guest_ram *ram, uint8_t *t)
{
    int fd = ram->backing_fd;
    off_t start = (off_t)ram->backing_off, end = start + (off_t)ram->size;
    off_t pos = start;
    while (pos < end) {
        off_t d = lseek(fd, pos, SEEK_DATA);
        if (d < 0)
            return errno == ENXIO; /* no data after pos */
        if (d >= end)
            break;
        off_t h = lseek(fd, d, SEEK_HOLE);
        if (h < 0)
            return false;
        if (h > end)
            h = end;
        for (uint64_t p = (uint64_t)(d - start) / SNAP_PAGE;
             p < ram->npages && (off_t)(p * SNAP_PAGE) < h - start; p++)
            t[p] = 1;
        pos = h;
    }
    return true;
}

/* Which pages of RAM were ever touched: a page neither present nor
 * swapped out (/proc/self/pagemap bits 63 and 62; readable without
 * privilege) reads as zero, and reading it would cost a page fault (about
 * 40 us each: seconds for untouched RAM, all while the guest is paused).
 * RAM mapped from a file (a restored snapshot) is the exception: a page
 * not touched since holds the file's bytes, so pages over the file's data
 * (not its holes) are looked at too.
 * Returns a malloc'd byte per page, 1 = look at it; NULL when pagemap
 * cannot be read (then every page is looked at). */
static uint8_t *touched_pages(const struct guest_ram *ram)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    uint8_t *t = malloc((size_t)ram->npages);
    enum { CHUNK = 4096 };
    uint64_t *e = malloc(CHUNK * sizeof(uint64_t));
    long psz = sysconf(_SC_PAGESIZE);
    bool ok = t && e && psz == SNAP_PAGE;
    uint64_t first = (uint64_t)(uintptr_t)ram->host / SNAP_PAGE;
    for (uint64_t p = 0; ok && p < ram->npages; p += CHUNK) {
        uint64_t n = ram->npages - p < CHUNK ? ram->npages - p : CHUNK;
        ssize_t got = pread(fd, e, n * 8, (off_t)((first + p) * 8));
        if (got != (ssize_t)(n * 8)) {
            ok = false;
            break;
        }
        for (uint64_t i = 0; i < n; i++)
            t[p + i] = (e[i] >> 62) != 0;
    }
    close(fd);
    free(e);
    if (ok && guest_ram_backed(ram))
        ok = mark_file_data(ram, t);
    if (!ok) {
        free(t);
        return NULL;
    }
    return t;
}

static bool page_has_data(const struct guest_ram *ram, const uint8_t *touched, uint64_t p)
{
    if (touched && !touched[p])
        return false;
    return !page_is_zero(ram->host + p * SNAP_PAGE);
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* The memory file: header, then every page that is not all zero at its
 * own offset; written to a temporary name, fsynced, renamed. */
static int write_mem_file(const struct guest_ram *ram, const char *path, uint64_t nonce,
                          uint64_t *pages, uint64_t *bytes, struct error *err)
{
    char tmp[MEM_PATH_MAX + 32];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return error_set(err, -ENAMETOOLONG, "memory file %s: the path is too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return error_set_errno(err, -errno, "cannot create the memory file %s", tmp);
    uint8_t *touched = touched_pages(ram);
    uint8_t hdr[SNAP_MEM_HEADER] = { 0 };
    memcpy(hdr, SNAP_MEM_MAGIC, 8);
    le64_store(hdr + 8, ram->size);
    le64_store(hdr + 16, nonce);
    int r = write_all(fd, hdr, sizeof(hdr), 0);
    for (uint64_t p = 0; r == 0 && p < ram->npages; p++) {
        const uint8_t *src = ram->host + p * SNAP_PAGE;
        if (!page_has_data(ram, touched, p))
            continue;
        (*pages)++;
        r = write_all(fd, src, SNAP_PAGE, SNAP_MEM_HEADER + p * SNAP_PAGE);
    }
    if (r == 0 && ftruncate(fd, (off_t)(SNAP_MEM_HEADER + ram->size)) < 0)
        r = -errno;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    free(touched);
    struct stat st;
    if (r == 0 && fstat(fd, &st) == 0)
        *bytes = (uint64_t)st.st_blocks * 512;
    close(fd);
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        return error_set_errno(err, r, "cannot write the memory file %s", path);
    }
    return 0;
}

int snap_ram_write_mapped(const struct guest_ram *ram, int fd, uint64_t off, uint64_t *pages)
{
    uint8_t *touched = touched_pages(ram);
    int r = 0;
    *pages = 0;
    /* runs of pages with data in one write each (at most 1 MiB) */
    for (uint64_t p = 0; r == 0 && p < ram->npages;) {
        if (!page_has_data(ram, touched, p)) {
            p++;
            continue;
        }
        uint64_t q = p + 1;
        while (q < ram->npages && q - p < 256 && page_has_data(ram, touched, q))
            q++;
        *pages += q - p;
        r = write_all(fd, ram->host + p * SNAP_PAGE, (size_t)((q - p) * SNAP_PAGE),
                      off + p * SNAP_PAGE);
        p = q;
    }
    free(touched);
    if (r == 0 && ftruncate(fd, (off_t)(off + ram->size)) < 0)
        r = -errno;
    return r;
}

static int encode_inline(const struct guest_ram *ram, struct state_buf *out, uint64_t *pages,
                         struct error *err)
{
    size_t bm_len = (size_t)((ram->npages + 7) / 8);
    uint8_t *bm = calloc(1, bm_len ? bm_len : 1);
    if (!bm)
        return error_set(err, -ENOMEM, "out of memory for the snapshot's page bitmap");
    uint8_t *touched = touched_pages(ram);
    for (uint64_t p = 0; p < ram->npages; p++)
        if (page_has_data(ram, touched, p)) {
            bm[p / 8] |= (uint8_t)(1u << (p % 8));
            (*pages)++;
        }
    free(touched);
    state_put_u64(out, ram->npages);
    state_put_bytes(out, bm, bm_len);

    /* One frame with its content size: the reader checks it against the
     * bitmap before it writes anything. */
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound((size_t)(*pages * SNAP_PAGE));
    uint8_t *dst = cc ? malloc(cap) : NULL;
    int r = 0;
    if (!dst) {
        r = error_set(err, -ENOMEM, "out of memory for the compressed RAM");
        goto out;
    }
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, ZSTD_LEVEL);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setPledgedSrcSize(cc, *pages * SNAP_PAGE);
    ZSTD_outBuffer ob = { dst, cap, 0 };
    for (uint64_t p = 0; p < ram->npages; p++) {
        if (!(bm[p / 8] & (1u << (p % 8))))
            continue;
        ZSTD_inBuffer ib = { ram->host + p * SNAP_PAGE, SNAP_PAGE, 0 };
        while (ib.pos < ib.size) {
            size_t z = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_continue);
            if (ZSTD_isError(z)) {
                r = error_set(err, -EIO, "compressing RAM failed: %s", ZSTD_getErrorName(z));
                goto out;
            }
        }
    }
    for (;;) {
        ZSTD_inBuffer ib = { NULL, 0, 0 };
        size_t z = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
        if (ZSTD_isError(z)) {
            r = error_set(err, -EIO, "compressing RAM failed: %s", ZSTD_getErrorName(z));
            goto out;
        }
        if (z == 0)
            break;
    }
    state_put_bytes(out, dst, ob.pos);
out:
    free(dst);
    ZSTD_freeCCtx(cc);
    free(bm);
    return r;
}

int snap_ram_encode(const struct guest_ram *ram, const char *mem_path, uint64_t map_off,
                    struct state_buf *out, uint32_t *flags, uint64_t *pages, uint64_t *mem_bytes,
                    struct error *err)
{
    *pages = 0;
    *mem_bytes = 0;
    state_put_u8(out, SNAP_RAM_VERSION);
    if (!mem_path && map_off) {
        *flags = SNAP_RAM_MAPPED;
        state_put_u64(out, ram->size);
        state_put_u64(out, map_off);
        return 0;
    }
    if (!mem_path) {
        *flags = SNAP_RAM_INLINE;
        return encode_inline(ram, out, pages, err);
    }
    *flags = SNAP_RAM_MEMFILE;
    size_t n = strlen(mem_path);
    if (n == 0 || n >= MEM_PATH_MAX)
        return error_set(err, -EINVAL, "memory file path '%s': empty or too long", mem_path);
    uint64_t nonce;
    if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
        nonce = condo_clock_ns() ^ ((uint64_t)getpid() << 32);
    int r = write_mem_file(ram, mem_path, nonce, pages, mem_bytes, err);
    if (r < 0)
        return r;
    state_put_u64(out, ram->size);
    state_put_u64(out, nonce);
    state_put_u16(out, (uint16_t)n);
    state_put_bytes(out, mem_path, n);
    return 0;
}

/* --- reading --- */

struct ram_view {
    /* inline */
    uint64_t npages;
    const uint8_t *bitmap;
    const uint8_t *frame;
    size_t frame_len;
    uint64_t pages; /* bits set */
    /* memory file; mapped: size and map_off */
    uint64_t size, nonce, map_off;
    char path[MEM_PATH_MAX];
};

static int parse(const uint8_t *sec, size_t len, uint32_t flags, const struct guest_ram *ram,
                 uint64_t file_len, const char *name, struct ram_view *v, struct error *err)
{
    struct state_buf s;
    state_init_reader(&s, sec, len);
    memset(v, 0, sizeof(*v));
    uint8_t version = state_get_u8(&s);
    if (s.err || version < SNAP_RAM_VERSION_MIN || version > SNAP_RAM_VERSION)
        return error_set(err, -EINVAL, "%s: RAM section version %u, this condo reads %u to %u",
                         name, version, SNAP_RAM_VERSION_MIN, SNAP_RAM_VERSION);
    if (flags == SNAP_RAM_MAPPED) {
        v->size = state_get_u64(&s);
        v->map_off = state_get_u64(&s);
        if (s.err || s.pos != s.len || version < 2)
            return error_set(err, -EINVAL, "%s: the RAM section is malformed", name);
        if (v->size != ram->size)
            return error_set(err, -EINVAL, "%s: RAM of %llu bytes, this machine has %llu", name,
                             (unsigned long long)v->size, (unsigned long long)ram->size);
        if (v->map_off < SNAP_PAGE || v->map_off % SNAP_PAGE || v->map_off > file_len ||
            v->size > file_len - v->map_off)
            return error_set(err, -EINVAL,
                             "%s: the RAM (%llu MiB at offset %llu) lies beyond the end of the "
                             "file (%llu bytes: truncated?)",
                             name, (unsigned long long)(v->size >> 20),
                             (unsigned long long)v->map_off, (unsigned long long)file_len);
        return 0;
    }
    if (flags == SNAP_RAM_INLINE) {
        v->npages = state_get_u64(&s);
        if (s.err || v->npages != ram->npages)
            return error_set(err, -EINVAL,
                             "%s: the RAM section holds %llu pages, this machine has %llu", name,
                             (unsigned long long)v->npages, (unsigned long long)ram->npages);
        size_t bm_len = (size_t)((v->npages + 7) / 8);
        if (bm_len > s.len - s.pos)
            return error_set(err, -EINVAL, "%s: the RAM section is truncated", name);
        v->bitmap = sec + s.pos;
        for (size_t i = 0; i < bm_len; i++)
            v->pages += (uint64_t)__builtin_popcount(v->bitmap[i]);
        if ((v->npages % 8) && (v->bitmap[bm_len - 1] >> (v->npages % 8)))
            return error_set(err, -EINVAL, "%s: the RAM bitmap names pages beyond RAM", name);
        v->frame = sec + s.pos + bm_len;
        v->frame_len = len - s.pos - bm_len;
        unsigned long long content = ZSTD_getFrameContentSize(v->frame, v->frame_len);
        size_t csize = ZSTD_findFrameCompressedSize(v->frame, v->frame_len);
        if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN ||
            content != v->pages * SNAP_PAGE || ZSTD_isError(csize) || csize != v->frame_len)
            return error_set(err, -EINVAL,
                             "%s: the compressed RAM does not match its page bitmap", name);
        return 0;
    }
    if (flags != SNAP_RAM_MEMFILE)
        return error_set(err, -EINVAL, "%s: unknown RAM encoding %u", name, flags);
    v->size = state_get_u64(&s);
    v->nonce = state_get_u64(&s);
    uint16_t n = state_get_u16(&s);
    if (s.err || n == 0 || n >= sizeof(v->path) || n != s.len - s.pos)
        return error_set(err, -EINVAL, "%s: the RAM section's memory file reference is malformed",
                         name);
    state_get_bytes(&s, v->path, n);
    v->path[n] = 0;
    if (memchr(v->path, 0, n))
        return error_set(err, -EINVAL, "%s: the memory file name holds a NUL byte", name);
    if (v->size != ram->size)
        return error_set(err, -EINVAL, "%s: RAM of %llu bytes, this machine has %llu", name,
                         (unsigned long long)v->size, (unsigned long long)ram->size);
    return 0;
}

/* Open the memory file and check it is the one the snapshot names. */
static int open_mem(const struct ram_view *v, const char *name, struct error *err)
{
    int fd = open(v->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return error_set_errno(err, -errno, "%s: cannot open its memory file %s", name, v->path);
    struct stat st;
    uint8_t hdr[24];
    int r = 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        r = error_set(err, -EINVAL, "%s: memory file %s is not a regular file", name, v->path);
    else if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
             memcmp(hdr, SNAP_MEM_MAGIC, 8) != 0)
        r = error_set(err, -EINVAL, "%s: %s is not a condo memory file", name, v->path);
    else if (le64_load(hdr + 8) != v->size || le64_load(hdr + 16) != v->nonce)
        r = error_set(err, -EINVAL,
                      "%s: memory file %s belongs to another snapshot (it was overwritten): "
                      "use the memory file saved with this snapshot",
                      name, v->path);
    else if ((uint64_t)st.st_size < SNAP_MEM_HEADER + v->size)
        r = error_set(err, -EINVAL, "%s: memory file %s is truncated (%lld bytes, needs %llu)",
                      name, v->path, (long long)st.st_size,
                      (unsigned long long)(SNAP_MEM_HEADER + v->size));
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

int snap_ram_check(const uint8_t *sec, size_t len, uint32_t flags, const struct guest_ram *ram,
                   uint64_t file_len, const char *name, struct error *err)
{
    struct ram_view *v = malloc(sizeof(*v));
    if (!v)
        return error_set(err, -ENOMEM, "out of memory");
    int r = parse(sec, len, flags, ram, file_len, name, v, err);
    if (r == 0 && flags == SNAP_RAM_MEMFILE) {
        int fd = open_mem(v, name, err);
        if (fd < 0)
            r = fd;
        else
            close(fd);
    }
    free(v);
    return r;
}

static int apply_inline(const struct ram_view *v, struct guest_ram *ram, const char *name,
                        struct error *err)
{
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    if (!dc)
        return error_set(err, -ENOMEM, "out of memory");
    ZSTD_inBuffer ib = { v->frame, v->frame_len, 0 };
    int r = 0;
#ifdef MADV_POPULATE_WRITE
    /* Fault in the pages about to be written, a run at a time: one call
     * per run instead of a page fault per page (about 40 us each here). */
    for (uint64_t p = 0; p < v->npages;) {
        if (!(v->bitmap[p / 8] & (1u << (p % 8)))) {
            p++;
            continue;
        }
        uint64_t q = p;
        while (q < v->npages && (v->bitmap[q / 8] & (1u << (q % 8))))
            q++;
        (void)madvise(ram->host + p * SNAP_PAGE, (size_t)((q - p) * SNAP_PAGE),
                      MADV_POPULATE_WRITE);
        p = q;
    }
#endif
    uint64_t zero_from = UINT64_MAX;
    for (uint64_t p = 0; p <= v->npages && r == 0; p++) {
        bool data = p < v->npages && (v->bitmap[p / 8] & (1u << (p % 8)));
        if (!data) {
            if (p < v->npages && zero_from == UINT64_MAX)
                zero_from = p;
            if (p < v->npages)
                continue;
        }
        if (zero_from != UINT64_MAX) {
            /* a run of zero pages: drop them (anonymous memory reads zero
             * again), no copy and no memset */
            uint8_t *z = ram->host + zero_from * SNAP_PAGE;
            size_t zl = (size_t)((p - zero_from) * SNAP_PAGE);
            if (madvise(z, zl, MADV_DONTNEED) < 0)
                memset(z, 0, zl);
            zero_from = UINT64_MAX;
        }
        if (p == v->npages)
            break;
        ZSTD_outBuffer ob = { ram->host + p * SNAP_PAGE, SNAP_PAGE, 0 };
        while (ob.pos < ob.size) {
            size_t z = ZSTD_decompressStream(dc, &ob, &ib);
            if (ZSTD_isError(z) || (z != 0 && ib.pos == ib.size && ob.pos < ob.size) ||
                (z == 0 && ob.pos < ob.size)) {
                r = error_set(err, -EINVAL, "%s: the compressed RAM is corrupt%s%s", name,
                              ZSTD_isError(z) ? ": " : "", ZSTD_isError(z) ? ZSTD_getErrorName(z) : "");
                break;
            }
        }
    }
    ZSTD_freeDCtx(dc);
    return r;
}

int snap_ram_apply(const uint8_t *sec, size_t len, uint32_t flags, struct guest_ram *ram,
                   const uint8_t *file, uint64_t file_len, int fd, const char *name,
                   struct error *err)
{
    struct ram_view *v = malloc(sizeof(*v));
    if (!v)
        return error_set(err, -ENOMEM, "out of memory");
    int r = parse(sec, len, flags, ram, file_len, name, v, err);
    if (r == 0 && flags == SNAP_RAM_INLINE) {
        r = apply_inline(v, ram, name, err);
    } else if (r == 0 && flags == SNAP_RAM_MAPPED) {
        /* RAM becomes a private, copy-on-write view of the snapshot file:
         * pages are read when first touched, writes never reach the file,
         * and clones of one snapshot share the pages they did not write */
        if (fd >= 0)
            r = guest_ram_map_file(ram, fd, v->map_off);
        else
            memcpy(ram->host, file + v->map_off, (size_t)v->size);
        if (r < 0)
            error_set_errno(err, r, "%s: cannot map its RAM", name);
    } else if (r == 0) {
        int mfd = open_mem(v, name, err);
        if (mfd < 0) {
            r = mfd;
        } else {
            r = guest_ram_map_file(ram, mfd, SNAP_MEM_HEADER);
            if (r < 0)
                error_set_errno(err, r, "%s: cannot map memory file %s", name, v->path);
            close(mfd);
        }
    }
    if (r == 0)
        guest_ram_note_write(ram, ram->base, ram->size);
    free(v);
    return r;
}
