/* condo ISA tests: C helpers (page tables, memory) for tests written in C. */
#ifndef CONDO_ISA_LIB_H
#define CONDO_ISA_LIB_H

#include <stddef.h>
#include <stdint.h>
#include "test.h"

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#define PAGE_SIZE 4096ull
#define RAM_BASE  0x80000000ull

/* A zeroed 4 KiB page from a static pool (page tables, test data). */
void *page_alloc(void);

/* Page tables of `levels` levels (3 = Sv39, 4 = Sv48). `level` is the leaf
 * level: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB, 3 = 512 GiB (Sv48 only). Missing
 * intermediate tables are allocated. Returns the root for pt_new. */
uint64_t *pt_new(void);
void pt_map(uint64_t *root, int levels, uint64_t va, uint64_t pa, int level, uint64_t flags);
/* The PTE that maps va at `level` (NULL if an intermediate table is missing). */
volatile uint64_t *pt_pte(uint64_t *root, int levels, uint64_t va, int level);
uint64_t pt_satp(uint64_t *root, int levels);
/* Identity-map the 1 GiB of RAM at 0x80000000 (and the CLINT's gigabyte)
 * with `flags` | V | A | D. */
void pt_map_identity(uint64_t *root, int levels, uint64_t flags);

#endif
