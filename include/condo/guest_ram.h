/* Guest RAM: one host mapping. Also tracks which pages hold decoded code
 * (so a write to such a page invalidates the decoded blocks) - devices that
 * DMA into guest memory must go through guest_ram_write()/guest_ram_ptr()
 * + guest_ram_note_write() for the same reason. */
#ifndef CONDO_GUEST_RAM_H
#define CONDO_GUEST_RAM_H

#include "condo/common.h"

#define GUEST_PAGE_SHIFT 12
#define GUEST_PAGE_SIZE (1ull << GUEST_PAGE_SHIFT)

struct guest_ram {
    uint8_t *host;     /* mapping of `size` bytes */
    uint64_t base;     /* guest-physical base */
    uint64_t size;
    uint64_t npages;
    uint32_t *page_gen; /* bumped when a page that holds code is written */
    uint8_t *has_code;  /* 1 when decoded blocks were made from the page */
    /* Called when a code page gets written (the engine drops fast-path
     * write mappings etc.); may be NULL. */
    void (*code_written)(void *opaque, uint64_t page);
    void *code_opaque;
    /* RAM mapped copy-on-write from a file (a restored snapshot): the
     * file (kept open, always above 2) and where RAM starts in it; -1
     * (or 0, in a zeroed struct) when anonymous. A page not yet touched
     * then holds the file's bytes, not zero. */
    int backing_fd;
    uint64_t backing_off;
};

int guest_ram_init(struct guest_ram *r, uint64_t base, uint64_t size);
/* Withdraw the transparent-huge-page advice (before the guest runs): for
 * RAM a balloon gives back in pieces smaller than 2 MiB, where a huge page
 * would only be split and kept whole until the host runs short, and
 * khugepaged would fill the holes again. */
void guest_ram_small_pages(struct guest_ram *r);
void guest_ram_free(struct guest_ram *r);
/* Replace RAM's contents with a private, copy-on-write mapping of fd at
 * off (page aligned; RAM's size must lie inside the file): pages are read
 * when first touched, writes never reach the file. Keeps a duplicate of
 * fd. A negative errno, RAM unchanged, on failure. */
int guest_ram_map_file(struct guest_ram *r, int fd, uint64_t off);
static inline bool guest_ram_backed(const struct guest_ram *r)
{
    return r->backing_fd > 2;
}

static inline bool guest_ram_contains(const struct guest_ram *r, uint64_t addr, uint64_t len)
{
    return addr >= r->base && len <= r->size && addr - r->base <= r->size - len;
}

/* Host pointer for [addr, addr+len) or NULL if not entirely inside RAM.
 * Writers must call guest_ram_note_write() for the range afterwards. */
static inline void *guest_ram_ptr(const struct guest_ram *r, uint64_t addr, uint64_t len)
{
    if (!guest_ram_contains(r, addr, len))
        return NULL;
    return r->host + (addr - r->base);
}

void guest_ram_note_write_slow(struct guest_ram *r, uint64_t addr, uint64_t len);
static inline void guest_ram_note_write(struct guest_ram *r, uint64_t addr, uint64_t len)
{
    /* Cheap common case: single page without code. */
    uint64_t p = (addr - r->base) >> GUEST_PAGE_SHIFT;
    if (len && ((addr + len - 1 - r->base) >> GUEST_PAGE_SHIFT) == p && p < r->npages &&
        !__atomic_load_n(&r->has_code[p], __ATOMIC_SEQ_CST))
        return;
    guest_ram_note_write_slow(r, addr, len);
}

/* Give the host the pages inside [addr, addr+len) back (only whole
 * 4 KiB pages; a partial page at either end is left alone): they read as
 * zero afterwards, and decoded code from them is dropped. The guest must
 * not be using them (a balloon's inflated or reported free pages). Returns
 * the bytes discarded (0 when no whole page is inside), -EFAULT when the
 * range is not all RAM, or another negative errno when the host refused
 * (the pages are then zeroed in place instead, so they still read as
 * zero). */
int64_t guest_ram_discard(struct guest_ram *r, uint64_t addr, uint64_t len);

/* Give back the resident pages of RAM that hold only zeros (they read as
 * zero afterwards, as before): a booted guest leaves tens of MiB of its
 * RAM zeroed but touched (tables the kernel allocates zeroed and never
 * fills, memory it cleared). Only while nothing can write RAM (every CPU
 * parked, device work drained, the machine lock held): a page written
 * between the check and the discard would be lost. Looks only at pages
 * the host holds (mincore). Returns the bytes given back, or a negative
 * errno when residency cannot be asked (nothing done). */
int64_t guest_ram_discard_zero(struct guest_ram *r);

/* Bounds-checked copies; -EFAULT when the range is not all RAM. */
int guest_ram_read(const struct guest_ram *r, uint64_t addr, void *buf, uint64_t len);
int guest_ram_write(struct guest_ram *r, uint64_t addr, const void *buf, uint64_t len);

#endif
