/* mstatus.MPRV: M-mode loads and stores are translated and checked as if
 * in the mode held by MPP (with SUM/MXR), while M's instruction fetches are
 * not; faults trap to M with the virtual address in mtval; MPP = M (or
 * MPRV = 0) means untranslated accesses. */
#include "lib.h"

static uint64_t *data_page;

/* One access with MPRV set and MPP = mpp; MPRV is cleared again before any
 * other memory access, including after a trap (the resume point). */
static long mprv_load(uint64_t mpp, uint64_t va, uint64_t *val)
{
    uint64_t v = 0x5a5a;
    trap_m_cause = -1;
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, mpp << 11);
    __asm__ volatile(
        "la t0, 1f\n"
        "sd t0, trap_m_resume, t1\n"
        "li t0, %[mprv]\n"
        "csrs mstatus, t0\n"
        "ld %[v], 0(%[va])\n"
        "1: li t0, %[mprv]\n"
        "csrc mstatus, t0\n"
        : [v] "+r"(v)
        : [va] "r"(va), [mprv] "i"(MSTATUS_MPRV)
        : "t0", "t1", "memory");
    trap_m_resume = 0;
    *val = v;
    return (long)trap_m_cause;
}

static long mprv_store(uint64_t mpp, uint64_t va, uint64_t v)
{
    trap_m_cause = -1;
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, mpp << 11);
    __asm__ volatile(
        "la t0, 1f\n"
        "sd t0, trap_m_resume, t1\n"
        "li t0, %[mprv]\n"
        "csrs mstatus, t0\n"
        "sd %[v], 0(%[va])\n"
        "1: li t0, %[mprv]\n"
        "csrc mstatus, t0\n"
        :
        : [v] "r"(v), [va] "r"(va), [mprv] "i"(MSTATUS_MPRV)
        : "t0", "t1", "memory");
    trap_m_resume = 0;
    return (long)trap_m_cause;
}

long test_main(void)
{
    uint64_t *root = pt_new();
    pt_map_identity(root, 3, PTE_R | PTE_W | PTE_X);
    data_page = page_alloc();
    data_page[0] = 0x1234;
    const uint64_t AD = PTE_V | PTE_A | PTE_D;
    pt_map(root, 3, VA_4K, (uint64_t)data_page, 0, AD | PTE_R | PTE_W);               /* S page */
    pt_map(root, 3, VA_4K + PAGE_SIZE, (uint64_t)data_page, 0, AD | PTE_R | PTE_W | PTE_U);
    pt_map(root, 3, VA_4K + 2 * PAGE_SIZE, (uint64_t)data_page, 0, AD | PTE_X);       /* X only */
    csr_write(satp, pt_satp(root, 3));
    sfence_vma();
    uint64_t v;
    /* MPP = S: translated */
    CHECK(1, mprv_load(PRV_S, VA_4K, &v) == -1 && v == 0x1234);
    CHECK(2, mprv_store(PRV_S, VA_4K + 8, 0x99) == -1 && data_page[1] == 0x99);
    /* unmapped: page fault with the virtual address */
    CHECK(3, mprv_load(PRV_S, VA_4K + 3 * PAGE_SIZE, &v) == CAUSE_LOAD_PAGE_FAULT);
    CHECK(4, trap_m_tval == VA_4K + 3 * PAGE_SIZE && v == 0x5a5a);
    CHECK(5, mprv_store(PRV_S, VA_4K + 3 * PAGE_SIZE, 1) == CAUSE_STORE_PAGE_FAULT);
    /* the trap was taken from M: MPP = M in the recorded mstatus */
    CHECK(6, ((trap_m_status >> 11) & 3) == PRV_M);
    /* S and the U page: SUM decides */
    CHECK(7, mprv_load(PRV_S, VA_4K + PAGE_SIZE, &v) == CAUSE_LOAD_PAGE_FAULT);
    csr_set(mstatus, MSTATUS_SUM);
    CHECK(8, mprv_load(PRV_S, VA_4K + PAGE_SIZE, &v) == -1 && v == 0x1234);
    csr_clear(mstatus, MSTATUS_SUM);
    /* MPP = U: only the U page */
    CHECK(9, mprv_load(PRV_U, VA_4K + PAGE_SIZE, &v) == -1 && v == 0x1234);
    CHECK(10, mprv_load(PRV_U, VA_4K, &v) == CAUSE_LOAD_PAGE_FAULT);
    /* MXR */
    CHECK(11, mprv_load(PRV_S, VA_4K + 2 * PAGE_SIZE, &v) == CAUSE_LOAD_PAGE_FAULT);
    csr_set(mstatus, MSTATUS_MXR);
    CHECK(12, mprv_load(PRV_S, VA_4K + 2 * PAGE_SIZE, &v) == -1 && v == 0x1234);
    csr_clear(mstatus, MSTATUS_MXR);
    /* MPP = M: physical, even with satp set */
    CHECK(13, mprv_load(PRV_M, (uint64_t)data_page, &v) == -1 && v == 0x1234);
    CHECK(14, mprv_load(PRV_M, VA_4K, &v) == CAUSE_LOAD_ACCESS);
    csr_clear(mstatus, MSTATUS_MPP);
    csr_write(satp, 0);
    sfence_vma();
    return 0;
}
