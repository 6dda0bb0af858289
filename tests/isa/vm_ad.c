/* Accessed/Dirty bits (Sv39). A hart may either update A/D in hardware or
 * raise a page fault (Svade); both are accepted, but a hardware update must
 * be right: any access sets A, a store sets D, a load or fetch never sets D,
 * for 4 KiB leaves and for superpage leaves. */
#include "lib.h"

static uint64_t *root;
static uint64_t *data_page;
static uint64_t code_off;

#define P(i) (VA_4K + (uint64_t)(i) * PAGE_SIZE)
#define PTE(va, lvl) (*pt_pte(root, 3, (va), (lvl)))

/* After an access that may have faulted with `cause`: if it faulted, the
 * PTE must be unchanged; otherwise A (and D when `want_d`) must be set and
 * D must stay clear when `want_d` is 0. Returns 0 if fine. */
static int check_ad(long r, long cause, uint64_t va, int lvl, uint64_t before, int want_d)
{
    uint64_t now = PTE(va, lvl);
    if (r != -1 && r != cause)
        return 8;
    /* r == -1: the access completed */
    if (r == -1) {
        if (!(now & PTE_A))
            return 1;
        if (want_d && !(now & PTE_D))
            return 2;
        if (!want_d && (now & PTE_D) && !(before & PTE_D))
            return 3;
        if ((now & ~(uint64_t)(PTE_A | PTE_D)) != (before & ~(uint64_t)(PTE_A | PTE_D)))
            return 4;
        return 0;
    }
    if (trap_m_cause != (uint64_t)cause)
        return 5;
    if (trap_m_tval != va)
        return 6;
    if (now != before)
        return 7;
    return 0;
}

#define AD(n, access, cause, va, lvl, want_d) do {                    \
        uint64_t b_ = PTE((va), lvl);              \
        long r_ = (access);                                           \
        int e_ = check_ad(r_, cause, (va), lvl, b_, want_d);          \
        if (e_) return (n) * 10 + e_;                                 \
    } while (0)

static long s_body(long unused)
{
    (void)unused;
    /* load, no A */
    AD(1, probe_load(P(0)), CAUSE_LOAD_PAGE_FAULT, P(0), 0, 0);
    /* store, A but no D */
    AD(2, probe_store(P(1), 5), CAUSE_STORE_PAGE_FAULT, P(1), 0, 1);
    /* store, neither */
    AD(3, probe_store(P(2), 6), CAUSE_STORE_PAGE_FAULT, P(2), 0, 1);
    /* fetch, no A */
    AD(4, probe_exec(P(3) + code_off), CAUSE_FETCH_PAGE_FAULT, P(3) + code_off, 0, 0);
    /* a load from a page that already has A: nothing changes */
    AD(5, probe_load(P(4)), CAUSE_LOAD_PAGE_FAULT, P(4), 0, 0);
    /* 2 MiB leaf: load then store */
    AD(6, probe_load(VA_2M + 0x10000), CAUSE_LOAD_PAGE_FAULT, VA_2M, 1, 0);
    AD(7, probe_store(VA_2M + 0x20000, 1), CAUSE_STORE_PAGE_FAULT, VA_2M, 1, 1);
    return 0;
}

long test_main(void)
{
    root = pt_new();
    pt_map_identity(root, 3, PTE_R | PTE_W | PTE_X);
    data_page = page_alloc();
    uint64_t code_page = (uint64_t)ret42 & ~(PAGE_SIZE - 1);
    code_off = (uint64_t)ret42 & (PAGE_SIZE - 1);
    const uint64_t RW = PTE_V | PTE_R | PTE_W;
    pt_map(root, 3, P(0), (uint64_t)data_page, 0, RW);
    pt_map(root, 3, P(1), (uint64_t)data_page, 0, RW | PTE_A);
    pt_map(root, 3, P(2), (uint64_t)data_page, 0, RW);
    pt_map(root, 3, P(3), code_page, 0, PTE_V | PTE_X);
    pt_map(root, 3, P(4), (uint64_t)data_page, 0, RW | PTE_A);
    pt_map(root, 3, VA_2M, PA_2M_A, 1, RW);
    return vm_run(pt_satp(root, 3), PRV_S, s_body, 0);
}
