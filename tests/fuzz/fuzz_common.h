/* Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c): reading
 * the input as a little program, guest RAM on the heap (so AddressSanitizer
 * sees every access outside it), and FUZZ_CHECK for the invariants a
 * target asserts beyond "no crash". See docs/TESTING.md, "Fuzzing". */
#ifndef CONDO_FUZZ_COMMON_H
#define CONDO_FUZZ_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "condo/guest_ram.h"

/* An invariant the code under test must keep: a violation is a crash
 * (libFuzzer keeps the input that caused it). */
#define FUZZ_CHECK(c)                                                                         \
    do {                                                                                      \
        if (!(c))                                                                             \
            __builtin_trap();                                                                 \
    } while (0)

/* The fuzzer's bytes, consumed front to back; past the end they read 0. */
struct fuzz_input {
    const uint8_t *p;
    size_t n;
};

static inline uint64_t fuzz_take(struct fuzz_input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        uint8_t b = 0;
        if (in->n) {
            b = *in->p++;
            in->n--;
        }
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

/* Guest RAM of `size` bytes at `base` in one heap block (guest_ram_init
 * maps it, which ASan would not watch). 0 or -1. */
static inline int fuzz_ram_init(struct guest_ram *r, uint64_t base, uint64_t size)
{
    memset(r, 0, sizeof(*r));
    r->host = calloc(1, size);
    r->base = base;
    r->size = size;
    r->npages = size >> GUEST_PAGE_SHIFT;
    r->page_gen = calloc(r->npages ? r->npages : 1, sizeof(*r->page_gen));
    r->has_code = calloc(r->npages ? r->npages : 1, 1);
    return r->host && r->page_gen && r->has_code ? 0 : -1;
}

static inline void fuzz_ram_free(struct guest_ram *r)
{
    free(r->host);
    free(r->page_gen);
    free(r->has_code);
    memset(r, 0, sizeof(*r));
}

#endif
