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

/* Virtual address layout used by the VM tests (all valid Sv39 addresses:
 * below 2^38). RAM and the first gigabyte are identity-mapped. */
#define VA_4K     0x1000000000ull  /* 64 GiB */
#define VA_2M     0x2000000000ull  /* 128 GiB */
#define VA_MISC   0x2800000000ull  /* 160 GiB: odd mappings */
#define VA_1G     0x3000000000ull  /* 192 GiB */
#define VA_UALIAS 0x3800000000ull  /* 224 GiB: RAM again, with U set */
/* Physical scratch areas: 2 MiB-aligned, above any test image */
#define PA_2M_A   0x80200000ull
#define PA_2M_B   0x80400000ull

/* The U-mode alias of an identity-mapped RAM address */
#define U_ALIAS(p) ((uint64_t)(p) - RAM_BASE + VA_UALIAS)

/* Run fn(arg) in mode under the page tables `satp` (installed by M, with
 * an sfence.vma); satp is cleared again afterwards. For U-mode, fn and the
 * stack are reached through the U alias. */
long vm_run(uint64_t satp, long mode, long (*fn)(long), long arg);

/* Probes usable from any mode: return -1 when the access completed (the
 * value is in try_result), else the trap cause (M's or S's). */
long probe_load(uint64_t va);
long probe_store(uint64_t va, uint64_t value);
long probe_exec(uint64_t va);
/* A function that returns 42, to execute through other mappings */
long ret42(long unused);

#endif
