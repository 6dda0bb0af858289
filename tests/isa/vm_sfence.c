/* sfence.vma after page-table changes (Sv39): after S rewrites a PTE and
 * executes sfence.vma (by address, by address+ASID, or global) the new
 * translation is used; an invalidated PTE faults; writing satp with a new
 * root (plus sfence.vma) switches address spaces; a PTE change that makes
 * a code page non-executable takes effect for fetches too. */
#include "lib.h"

static uint64_t *root, *root2;
static uint64_t *page_a, *page_b;
static volatile uint64_t *pte;
static uint64_t satp2;

static uint64_t leaf(void *pa, uint64_t flags)
{
    return (((uint64_t)pa >> 12) << 10) | flags | PTE_V | PTE_A | PTE_D;
}

static long s_body(long unused)
{
    (void)unused;
    CHECK(1, probe_load(VA_4K) == -1 && try_result == 0xaaaa);
    /* remap to page B, flush that address */
    *pte = leaf(page_b, PTE_R | PTE_W);
    __asm__ volatile("sfence.vma %0, zero" :: "r"(VA_4K) : "memory");
    CHECK(2, probe_load(VA_4K) == -1 && try_result == 0xbbbb);
    /* invalidate, flush everything */
    *pte = 0;
    __asm__ volatile("sfence.vma zero, zero" ::: "memory");
    CHECK(3, probe_load(VA_4K) == CAUSE_LOAD_PAGE_FAULT && trap_m_tval == VA_4K);
    /* back to A, flush by address and ASID 0 */
    *pte = leaf(page_a, PTE_R | PTE_W);
    __asm__ volatile("sfence.vma %0, %1" :: "r"(VA_4K), "r"(0) : "memory");
    CHECK(4, probe_load(VA_4K) == -1 && try_result == 0xaaaa);
    /* read-only now: stores fault, loads work */
    *pte = leaf(page_a, PTE_R);
    __asm__ volatile("sfence.vma %0" :: "r"(VA_4K) : "memory");
    CHECK(5, probe_store(VA_4K, 1) == CAUSE_STORE_PAGE_FAULT);
    CHECK(6, probe_load(VA_4K) == -1 && try_result == 0xaaaa);
    /* code page: executable, then not */
    uint64_t code_page = (uint64_t)ret42 & ~(PAGE_SIZE - 1);
    uint64_t va_code = VA_4K + PAGE_SIZE;
    volatile uint64_t *cpte = pt_pte(root, 3, va_code, 0);
    CHECK(7, probe_exec(va_code + ((uint64_t)ret42 & (PAGE_SIZE - 1))) == -1 && try_result == 42);
    *cpte = leaf((void *)code_page, PTE_R);
    __asm__ volatile("sfence.vma" ::: "memory");
    CHECK(8, probe_exec(va_code + ((uint64_t)ret42 & (PAGE_SIZE - 1))) == CAUSE_FETCH_PAGE_FAULT);
    /* another address space */
    uint64_t old = csr_read(satp);
    csr_write(satp, satp2);
    sfence_vma();
    CHECK(9, probe_load(VA_4K) == -1 && try_result == 0xbbbb);
    csr_write(satp, old);
    sfence_vma();
    CHECK(10, probe_load(VA_4K) == -1 && try_result == 0xaaaa);
    return 0;
}

long test_main(void)
{
    root = pt_new();
    root2 = pt_new();
    pt_map_identity(root, 3, PTE_R | PTE_W | PTE_X);
    pt_map_identity(root2, 3, PTE_R | PTE_W | PTE_X);
    page_a = page_alloc();
    page_b = page_alloc();
    page_a[0] = 0xaaaa;
    page_b[0] = 0xbbbb;
    pt_map(root, 3, VA_4K, (uint64_t)page_a, 0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    pt_map(root, 3, VA_4K + PAGE_SIZE, (uint64_t)ret42 & ~(PAGE_SIZE - 1), 0,
           PTE_V | PTE_R | PTE_X | PTE_A | PTE_D);
    pt_map(root2, 3, VA_4K, (uint64_t)page_b, 0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    pte = pt_pte(root, 3, VA_4K, 0);
    satp2 = pt_satp(root2, 3);
    return vm_run(pt_satp(root, 3), PRV_S, s_body, 0);
}
