/* Accesses that straddle a page boundary (Sv39, S-mode), with the two
 * virtual pages on non-adjacent physical pages: a 32-bit instruction split
 * across pages executes with the right bytes; when its second page is
 * unmapped the fetch page fault has mepc = the instruction and mtval = the
 * start of the unmapped page; misaligned loads/stores across pages use both
 * physical pages (or raise address-misaligned), and across into an
 * unmapped page raise address-misaligned or a page fault. */
#include "lib.h"

#define P(i) (VA_4K + (uint64_t)(i) * PAGE_SIZE)

static uint64_t *root;
static uint8_t *code_a, *code_b, *data_a, *data_b;

static long s_body(long unused)
{
    (void)unused;
    /* the split instruction: entry at P(0) + 4090 */
    CHECK(1, probe_exec(P(0) + 4090) == -1 && try_result == 0x55);
    /* misaligned 8-byte load across P(2)/P(3) */
    long r = probe_load(P(3) - 4);
    if (r == -1)
        CHECK(2, try_result == 0x1716151403020100ull);
    else
        CHECK(3, r == CAUSE_MISALIGNED_LOAD && trap_m_tval == P(3) - 4);
    /* misaligned store across P(2)/P(3) */
    r = probe_store(P(3) - 2, 0xa1a2a3a4a5a6a7a8ull);
    if (r == -1) {
        CHECK(4, data_a[4094] == 0xa8 && data_a[4095] == 0xa7);
        CHECK(5, data_b[0] == 0xa6 && data_b[5] == 0xa1 && data_b[6] == 0x1a);
    } else {
        CHECK(6, r == CAUSE_MISALIGNED_STORE && trap_m_tval == P(3) - 2);
    }
    /* into an unmapped page (P(4)) */
    r = probe_load(P(4) - 4);
    CHECK(7, r == CAUSE_MISALIGNED_LOAD || r == CAUSE_LOAD_PAGE_FAULT);
    if (r == CAUSE_LOAD_PAGE_FAULT)
        CHECK(8, trap_m_tval == P(4) - 4 || trap_m_tval == P(4));
    else
        CHECK(9, trap_m_tval == P(4) - 4);
    r = probe_store(P(4) - 2, 1);
    CHECK(10, r == CAUSE_MISALIGNED_STORE || r == CAUSE_STORE_PAGE_FAULT);
    if (r == CAUSE_STORE_PAGE_FAULT)
        CHECK(11, trap_m_tval == P(4) - 2 || trap_m_tval == P(4));
    /* the split instruction with its second half unmapped */
    *pt_pte(root, 3, P(1), 0) = 0;
    sfence_vma();
    CHECK(12, probe_exec(P(0) + 4090) == CAUSE_FETCH_PAGE_FAULT);
    CHECK(13, trap_m_epc == P(0) + 4094);
    CHECK(14, trap_m_tval == P(1));
    return 0;
}

long test_main(void)
{
    root = pt_new();
    pt_map_identity(root, 3, PTE_R | PTE_W | PTE_X);
    /* allocate with gaps so that the pairs are not physically adjacent */
    code_a = page_alloc();
    uint8_t *gap = page_alloc();
    code_b = page_alloc();
    data_a = page_alloc();
    (void)page_alloc();
    data_b = page_alloc();
    /* what a wrong (physically contiguous) fetch would find: 0x0000 */
    memset(gap, 0, PAGE_SIZE);
    /* c.li a0, 0 ; c.nop ; addi a0, a0, 0x55 (split) ; c.jr ra */
    code_a[4090] = 0x01; code_a[4091] = 0x45;           /* c.li a0, 0 = 0x4501 */
    code_a[4092] = 0x01; code_a[4093] = 0x00;           /* c.nop */
    uint32_t addi = 0x05550513;                          /* addi a0, a0, 0x55 */
    code_a[4094] = addi & 0xff; code_a[4095] = (addi >> 8) & 0xff;
    code_b[0] = (addi >> 16) & 0xff; code_b[1] = addi >> 24;
    code_b[2] = 0x82; code_b[3] = 0x80;                 /* c.jr ra = 0x8082 */
    fence_i();
    for (int i = 0; i < 4; i++)
        data_a[4092 + i] = (uint8_t)i;
    for (int i = 0; i < 8; i++)
        data_b[i] = (uint8_t)(0x14 + i);
    const uint64_t F = PTE_V | PTE_A | PTE_D;
    pt_map(root, 3, P(0), (uint64_t)code_a, 0, F | PTE_R | PTE_X);
    pt_map(root, 3, P(1), (uint64_t)code_b, 0, F | PTE_R | PTE_X);
    pt_map(root, 3, P(2), (uint64_t)data_a, 0, F | PTE_R | PTE_W);
    pt_map(root, 3, P(3), (uint64_t)data_b, 0, F | PTE_R | PTE_W);
    return vm_run(pt_satp(root, 3), PRV_S, s_body, 0);
}
