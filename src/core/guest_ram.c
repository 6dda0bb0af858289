/* Guest RAM: an anonymous private mapping (zero pages cost nothing until
 * touched), with per-page code tracking for the decoded-block cache.
 *
 * The mapping is 2 MiB aligned and advised for transparent huge pages (as
 * QEMU does): a guest touching its memory then costs the host one page
 * fault per 2 MiB instead of per 4 KiB (page faults were ~10% of a boot's
 * host time), and the host TLB covers more of guest RAM. Where THP is off
 * the advice is simply ignored. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "condo/guest_ram.h"

int guest_ram_init(struct guest_ram *r, uint64_t base, uint64_t size)
{
    memset(r, 0, sizeof(*r));
    r->backing_fd = -1;
    if (size == 0 || (size & (GUEST_PAGE_SIZE - 1)) || base + size < base)
        return -EINVAL;
    const uint64_t huge = 2u << 20;
    if (size > UINT64_MAX - huge)
        return -EINVAL;
    uint8_t *p = mmap(NULL, size + huge, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    /* keep the 2 MiB-aligned part, give back the rest */
    uint8_t *a = (uint8_t *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (a + size < p + size + huge)
        munmap(a + size, (size_t)(p + size + huge - (a + size)));
    madvise(a, size, MADV_HUGEPAGE); /* advice: failure changes nothing */
    r->host = a;
    r->base = base;
    r->size = size;
    r->npages = size >> GUEST_PAGE_SHIFT;
    r->page_gen = calloc(r->npages, sizeof(*r->page_gen));
    r->has_code = calloc(r->npages, 1);
    if (!r->page_gen || !r->has_code) {
        guest_ram_free(r);
        return -ENOMEM;
    }
    return 0;
}

void guest_ram_small_pages(struct guest_ram *r)
{
    if (r->host)
        madvise(r->host, r->size, MADV_NOHUGEPAGE); /* advice: failure changes nothing */
}

void guest_ram_free(struct guest_ram *r)
{
    if (r->host)
        munmap(r->host, r->size);
    free(r->page_gen);
    free(r->has_code);
    if (guest_ram_backed(r))
        close(r->backing_fd);
    memset(r, 0, sizeof(*r));
    r->backing_fd = -1;
}

int guest_ram_map_file(struct guest_ram *r, int fd, uint64_t off)
{
    if (off & (GUEST_PAGE_SIZE - 1) || off > (uint64_t)INT64_MAX - r->size)
        return -EINVAL;
    int keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (keep < 0)
        return -errno;
    /* MAP_FIXED replaces the anonymous pages in place: the host address
     * (which the engine's fast paths hold) stays the same */
    void *p = mmap(r->host, (size_t)r->size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, (off_t)off);
    if (p == MAP_FAILED) {
        int e = -errno;
        close(keep);
        return e;
    }
    if (guest_ram_backed(r))
        close(r->backing_fd);
    r->backing_fd = keep;
    r->backing_off = off;
    return 0;
}

void guest_ram_note_write_slow(struct guest_ram *r, uint64_t addr, uint64_t len)
{
    if (!len || !guest_ram_contains(r, addr, len))
        return;
    uint64_t first = (addr - r->base) >> GUEST_PAGE_SHIFT;
    uint64_t last = (addr + len - 1 - r->base) >> GUEST_PAGE_SHIFT;
    for (uint64_t p = first; p <= last; p++) {
        /* atomics: harts decode and write pages at the same time */
        if (__atomic_load_n(&r->has_code[p], __ATOMIC_SEQ_CST)) {
            __atomic_store_n(&r->has_code[p], 0, __ATOMIC_SEQ_CST);
            __atomic_fetch_add(&r->page_gen[p], 1, __ATOMIC_SEQ_CST);
            if (r->code_written)
                r->code_written(r->code_opaque, p);
        }
    }
}

int64_t guest_ram_discard(struct guest_ram *r, uint64_t addr, uint64_t len)
{
    if (!guest_ram_contains(r, addr, len))
        return -EFAULT;
    uint64_t first = (addr - r->base + GUEST_PAGE_SIZE - 1) & ~(GUEST_PAGE_SIZE - 1);
    uint64_t end = (addr - r->base + len) & ~(GUEST_PAGE_SIZE - 1);
    if (end <= first)
        return 0;
    uint8_t *p = r->host + first;
    size_t n = (size_t)(end - first);
    int rc = 0;
    if (guest_ram_backed(r)) {
        /* RAM mapped from a file (a restored snapshot): MADV_DONTNEED
         * would bring the file's bytes back, so fresh anonymous zero
         * pages go over the file's */
        void *m = mmap(p, n, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        if (m == MAP_FAILED)
            rc = -errno;
    } else if (madvise(p, n, MADV_DONTNEED) < 0) {
        rc = -errno;
    }
    if (rc < 0)
        memset(p, 0, n); /* still zero, as promised, though not given back */
    guest_ram_note_write_slow(r, r->base + first, n);
    return rc < 0 ? rc : (int64_t)n;
}

static bool page_zero(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)p;
    for (unsigned i = 0; i < GUEST_PAGE_SIZE / 8; i += 4)
        if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
            return false;
    return true;
}

int64_t guest_ram_discard_zero(struct guest_ram *r)
{
    if (!r->host || sysconf(_SC_PAGESIZE) != GUEST_PAGE_SIZE)
        return -ENOTSUP;
    enum { CHUNK = 4096 }; /* pages asked about per mincore call */
    unsigned char vec[CHUNK];
    int64_t freed = 0;
    for (uint64_t p0 = 0; p0 < r->npages; p0 += CHUNK) {
        uint64_t n = r->npages - p0 < CHUNK ? r->npages - p0 : CHUNK;
        if (mincore(r->host + (p0 << GUEST_PAGE_SHIFT), n << GUEST_PAGE_SHIFT, vec) < 0)
            return freed ? freed : -errno;
        uint64_t run = 0; /* zero pages in a row ending before p */
        for (uint64_t i = 0; i <= n; i++) {
            bool z = i < n && (vec[i] & 1) &&
                     page_zero(r->host + ((p0 + i) << GUEST_PAGE_SHIFT));
            if (z) {
                run++;
                continue;
            }
            if (run) {
                uint64_t first = p0 + i - run;
                int64_t d = guest_ram_discard(r, r->base + (first << GUEST_PAGE_SHIFT),
                                              run << GUEST_PAGE_SHIFT);
                if (d > 0)
                    freed += d;
                run = 0;
            }
        }
    }
    return freed;
}

int guest_ram_read(const struct guest_ram *r, uint64_t addr, void *buf, uint64_t len)
{
    const void *p = guest_ram_ptr(r, addr, len);
    if (!p)
        return -EFAULT;
    memcpy(buf, p, len);
    return 0;
}

int guest_ram_write(struct guest_ram *r, uint64_t addr, const void *buf, uint64_t len)
{
    void *p = guest_ram_ptr(r, addr, len);
    if (!p)
        return -EFAULT;
    memcpy(p, buf, len);
    guest_ram_note_write(r, addr, len);
    return 0;
}
