/* condo ISA tests: C helpers linked into every test. */
#include "lib.h"

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

#define POOL_PAGES 32
static unsigned char page_pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(4096)));
static unsigned page_next;

void *page_alloc(void)
{
    if (page_next >= POOL_PAGES)
        test_exit(238); /* pool exhausted: a test bug */
    void *p = page_pool[page_next++];
    memset(p, 0, PAGE_SIZE);
    return p;
}

uint64_t *pt_new(void)
{
    return page_alloc();
}

static unsigned vpn(uint64_t va, int level)
{
    return (va >> (12 + 9 * level)) & 511;
}

void pt_map(uint64_t *root, int levels, uint64_t va, uint64_t pa, int level, uint64_t flags)
{
    uint64_t *t = root;
    for (int l = levels - 1; l > level; l--) {
        uint64_t *e = &t[vpn(va, l)];
        if (!(*e & PTE_V)) {
            uint64_t *n = page_alloc();
            *e = (((uint64_t)n >> 12) << 10) | PTE_V;
        }
        t = (uint64_t *)((*e >> 10) << 12);
    }
    t[vpn(va, level)] = ((pa >> 12) << 10) | flags;
}

volatile uint64_t *pt_pte(uint64_t *root, int levels, uint64_t va, int level)
{
    uint64_t *t = root;
    for (int l = levels - 1; l > level; l--) {
        uint64_t e = t[vpn(va, l)];
        if (!(e & PTE_V) || (e & (PTE_R | PTE_W | PTE_X)))
            return 0;
        t = (uint64_t *)((e >> 10) << 12);
    }
    return &t[vpn(va, level)];
}

uint64_t pt_satp(uint64_t *root, int levels)
{
    uint64_t mode = levels == 4 ? SATP_MODE_SV48 : SATP_MODE_SV39;
    return (mode << SATP_MODE_SHIFT) | ((uint64_t)root >> 12);
}

void pt_map_identity(uint64_t *root, int levels, uint64_t flags)
{
    flags |= PTE_V | PTE_A | PTE_D;
    pt_map(root, levels, RAM_BASE, RAM_BASE, 2, flags);
    pt_map(root, levels, 0, 0, 2, (flags & ~(uint64_t)PTE_X) | PTE_R | PTE_W);
}

long vm_run(uint64_t satp, long mode, long (*fn)(long), long arg)
{
    uint64_t fnv = (uint64_t)fn;
    uint64_t saved_sp = go_mode_sp;
    if (mode == PRV_U && satp != 0) {
        fnv = U_ALIAS(fnv);
        go_mode_sp = U_ALIAS(lower_stack_top);
    }
    csr_write(satp, satp);
    sfence_vma();
    long r = go_mode(mode, (long (*)(long))fnv, arg);
    csr_write(satp, 0);
    sfence_vma();
    go_mode_sp = saved_sp;
    return r;
}

static long load_fn(long va)
{
    return (long)*(volatile uint64_t *)va;
}

static volatile uint64_t store_value;
static long store_fn(long va)
{
    *(volatile uint64_t *)va = store_value;
    return 0;
}

static long exec_fn(long va)
{
    return ((long (*)(long))va)(0);
}

long probe_load(uint64_t va)
{
    return try_call(load_fn, (long)va);
}

long probe_store(uint64_t va, uint64_t value)
{
    store_value = value;
    return try_call(store_fn, (long)va);
}

long probe_exec(uint64_t va)
{
    return try_call(exec_fn, (long)va);
}

/* Aligned to its own 64 bytes so tests can find it at a known page offset */
__attribute__((aligned(64), noinline)) long ret42(long unused)
{
    (void)unused;
    return 42;
}
