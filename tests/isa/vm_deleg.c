/* Page faults delegated to S-mode (medeleg bits 12, 13, 15), as Linux runs:
 * taken by stvec with scause, sepc = the faulting instruction (or the
 * target for fetches) and stval = the virtual address; M sees nothing; from
 * U-mode too (SPP = 0). */
#include "lib.h"

#define P(i) (VA_4K + (uint64_t)(i) * PAGE_SIZE)

static long s_checks(long from_u)
{
    uint64_t m_before = trap_m_count;
    /* unmapped load */
    CHECK(1, probe_load(P(5)) == CAUSE_LOAD_PAGE_FAULT);
    CHECK(2, trap_s_cause == CAUSE_LOAD_PAGE_FAULT && trap_s_tval == P(5));
    CHECK(3, ((trap_s_status & MSTATUS_SPP) != 0) == !from_u);
    /* store to a read-only page */
    CHECK(4, probe_store(P(1), 1) == CAUSE_STORE_PAGE_FAULT);
    CHECK(5, trap_s_tval == P(1));
    /* fetch from an unmapped page: sepc = stval = the target */
    CHECK(6, probe_exec(P(6)) == CAUSE_FETCH_PAGE_FAULT);
    CHECK(7, trap_s_tval == P(6) && trap_s_epc == P(6));
    /* a mapped page works */
    CHECK(8, probe_load(P(1)) == -1 && try_result == 0x4321);
    /* M took no trap in all this */
    CHECK(9, trap_m_count == m_before);
    return 0;
}

long test_main(void)
{
    uint64_t *root = pt_new();
    pt_map_identity(root, 3, PTE_R | PTE_W | PTE_X);
    pt_map(root, 3, VA_UALIAS, RAM_BASE, 2, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
    uint64_t *page = page_alloc();
    page[0] = 0x4321;
    pt_map(root, 3, P(1), (uint64_t)page, 0, PTE_V | PTE_R | PTE_U | PTE_A | PTE_D);
    csr_write(medeleg, (1 << CAUSE_FETCH_PAGE_FAULT) | (1 << CAUSE_LOAD_PAGE_FAULT) |
                           (1 << CAUSE_STORE_PAGE_FAULT));
    csr_set(mstatus, MSTATUS_SUM);  /* S reads the U page P(1) */
    uint64_t satp = pt_satp(root, 3);
    long r = vm_run(satp, PRV_S, s_checks, 0);
    if (r)
        return r;
    r = vm_run(satp, PRV_U, s_checks, 1);
    if (r)
        return r + 20;
    csr_write(medeleg, 0);
    csr_clear(mstatus, MSTATUS_SUM);
    return 0;
}
