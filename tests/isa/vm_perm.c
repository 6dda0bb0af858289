/* Sv39 permissions: R/W/X checked per access type (store needs W, fetch
 * needs X, load needs R unless MXR lets X pages be read); the U bit: S-mode
 * touches U pages only with sstatus.SUM and never executes them; U-mode
 * touches only U pages; MXR applies to both modes; SUM does not open
 * supervisor pages to U. Faults are page faults (12/13/15), mtval = va. */
#include "lib.h"

static uint64_t *data_page;
static uint64_t code_off;
/* word 0 of both the data page and the code page (loads may hit either) */
static uint64_t data_page_word0;

#define P(i) (VA_4K + (uint64_t)(i) * PAGE_SIZE)
#define PF(n, call, cause, va) do {                          \
        long c_ = (call);                                    \
        if (c_ != (cause)) return (n);                       \
        if (trap_m_tval != (uint64_t)(va)) return (n) + 100; \
    } while (0)
#define OK_LOAD(n, va, want) CHECK(n, probe_load(va) == -1 && try_result == (want))
#define OK_STORE(n, va) CHECK(n, probe_store(va, 0x77) == -1)
#define OK_EXEC(n, va) CHECK(n, probe_exec(va) == -1 && try_result == 42)

enum { P_R, P_RW, P_X, P_RX, P_URW, P_URX, P_UX, P_URWX, P_COUNT };

static long s_body(long unused)
{
    (void)unused;
    uint64_t v = data_page_word0;
    OK_LOAD(1, P(P_R), v);
    PF(2, probe_store(P(P_R), 1), CAUSE_STORE_PAGE_FAULT, P(P_R));
    OK_LOAD(3, P(P_RW) + 8, 0);
    OK_STORE(4, P(P_RW) + 8);
    PF(5, probe_load(P(P_X)), CAUSE_LOAD_PAGE_FAULT, P(P_X));
    PF(6, probe_store(P(P_X), 1), CAUSE_STORE_PAGE_FAULT, P(P_X));
    OK_EXEC(7, P(P_X) + code_off);
    OK_EXEC(8, P(P_RX) + code_off);
    PF(9, probe_exec(P(P_R) + code_off), CAUSE_FETCH_PAGE_FAULT, P(P_R) + code_off);
    PF(10, probe_exec(P(P_RW) + code_off), CAUSE_FETCH_PAGE_FAULT, P(P_RW) + code_off);
    /* U pages from S without SUM */
    PF(11, probe_load(P(P_URW)), CAUSE_LOAD_PAGE_FAULT, P(P_URW));
    PF(12, probe_store(P(P_URW), 1), CAUSE_STORE_PAGE_FAULT, P(P_URW));
    PF(13, probe_exec(P(P_URX) + code_off), CAUSE_FETCH_PAGE_FAULT, P(P_URX) + code_off);
    /* with SUM: data yes, code never */
    csr_set(sstatus, MSTATUS_SUM);
    OK_LOAD(14, P(P_URW), v);
    OK_STORE(15, P(P_URW) + 16);
    PF(16, probe_exec(P(P_URX) + code_off), CAUSE_FETCH_PAGE_FAULT, P(P_URX) + code_off);
    OK_LOAD(17, P(P_URX), v);
    /* still not executable after a (SUM) load has touched the page */
    if (!(ref_quirks & QUIRK_SUM_EXEC_AFTER_LOAD))
        PF(25, probe_exec(P(P_URX) + code_off), CAUSE_FETCH_PAGE_FAULT, P(P_URX) + code_off);
    PF(18, probe_exec(P(P_URWX) + code_off), CAUSE_FETCH_PAGE_FAULT, P(P_URWX) + code_off);
    PF(19, probe_load(P(P_UX)), CAUSE_LOAD_PAGE_FAULT, P(P_UX));
    /* MXR: execute-only pages become readable */
    csr_set(sstatus, MSTATUS_MXR);
    OK_LOAD(20, P(P_X), v);
    OK_LOAD(21, P(P_UX), v);
    PF(22, probe_store(P(P_X), 1), CAUSE_STORE_PAGE_FAULT, P(P_X));
    csr_clear(sstatus, MSTATUS_MXR);
    PF(23, probe_load(P(P_X)), CAUSE_LOAD_PAGE_FAULT, P(P_X));
    csr_clear(sstatus, MSTATUS_SUM);
    PF(24, probe_load(P(P_URX)), CAUSE_LOAD_PAGE_FAULT, P(P_URX));
    return 0;
}

static long u_body(long mxr)
{
    uint64_t v = data_page_word0;
    OK_LOAD(40, P(P_URW), v);
    OK_STORE(41, P(P_URW) + 24);
    OK_LOAD(42, P(P_URX), v);
    OK_EXEC(43, P(P_URX) + code_off);
    OK_EXEC(44, P(P_UX) + code_off);
    OK_EXEC(45, P(P_URWX) + code_off);
    PF(46, probe_store(P(P_URX), 1), CAUSE_STORE_PAGE_FAULT, P(P_URX));
    /* supervisor pages (SUM is set by M for this run: no effect on U) */
    PF(47, probe_load(P(P_R)), CAUSE_LOAD_PAGE_FAULT, P(P_R));
    PF(48, probe_store(P(P_RW), 1), CAUSE_STORE_PAGE_FAULT, P(P_RW));
    PF(49, probe_exec(P(P_RX) + code_off), CAUSE_FETCH_PAGE_FAULT, P(P_RX) + code_off);
    PF(50, probe_load(RAM_BASE + PAGE_SIZE), CAUSE_LOAD_PAGE_FAULT, RAM_BASE + PAGE_SIZE);
    if (mxr) {
        OK_LOAD(51, P(P_UX), v);
        PF(52, probe_load(P(P_X)), CAUSE_LOAD_PAGE_FAULT, P(P_X));
    } else {
        PF(53, probe_load(P(P_UX)), CAUSE_LOAD_PAGE_FAULT, P(P_UX));
    }
    return 0;
}

long test_main(void)
{
    uint64_t *root = pt_new();
    pt_map_identity(root, 3, PTE_R | PTE_W | PTE_X);
    pt_map(root, 3, VA_UALIAS, RAM_BASE, 2, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
    data_page = page_alloc();
    uint64_t code_page = (uint64_t)ret42 & ~(PAGE_SIZE - 1);
    code_off = (uint64_t)ret42 & (PAGE_SIZE - 1);
    /* loads check word 0, whichever page is behind the mapping */
    data_page[0] = *(volatile uint64_t *)code_page;
    data_page_word0 = data_page[0];
    const uint64_t AD = PTE_V | PTE_A | PTE_D;
    pt_map(root, 3, P(P_R), (uint64_t)data_page, 0, AD | PTE_R);
    pt_map(root, 3, P(P_RW), (uint64_t)data_page, 0, AD | PTE_R | PTE_W);
    pt_map(root, 3, P(P_X), code_page, 0, AD | PTE_X);
    pt_map(root, 3, P(P_RX), code_page, 0, AD | PTE_R | PTE_X);
    pt_map(root, 3, P(P_URW), (uint64_t)data_page, 0, AD | PTE_U | PTE_R | PTE_W);
    pt_map(root, 3, P(P_URX), code_page, 0, AD | PTE_U | PTE_R | PTE_X);
    pt_map(root, 3, P(P_UX), code_page, 0, AD | PTE_U | PTE_X);
    pt_map(root, 3, P(P_URWX), code_page, 0, AD | PTE_U | PTE_R | PTE_W | PTE_X);
    data_page[1] = 0;
    uint64_t satp = pt_satp(root, 3);
    long r = vm_run(satp, PRV_S, s_body, 0);
    if (r)
        return r;
    /* U-mode, with SUM set (it must not matter) and MXR clear, then set */
    csr_set(mstatus, MSTATUS_SUM);
    r = vm_run(satp, PRV_U, u_body, 0);
    if (r)
        return r;
    csr_set(mstatus, MSTATUS_MXR);
    r = vm_run(satp, PRV_U, u_body, 1);
    csr_clear(mstatus, MSTATUS_SUM | MSTATUS_MXR);
    return r;
}
