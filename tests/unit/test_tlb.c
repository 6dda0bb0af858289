/* The software TLB's address-space contexts (src/engine/riscv/tlb.c):
 * translations survive satp switches, sfence.vma drops exactly what the
 * ISA says (all, one ASID, one page, one page of one ASID), and S-mode
 * loads with and without mstatus.SUM never share a cached permission.
 * Sv39 page tables built by hand; accesses through the engine's slow path,
 * which fills and then uses the TLB like the interpreter does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/riscv/internal.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1u << 20)
#define VA 0x40000000ull       /* the page under test */
#define VA_USER 0x40001000ull  /* a U page */
#define ROOT(n) (RAM_BASE + 0x10000 * (n))            /* per address space */
#define L1(n) (ROOT(n) + 0x1000)
#define L0(n) (ROOT(n) + 0x2000)
#define DATA(i) (RAM_BASE + 0x80000 + 0x1000 * (i))   /* data pages */

static struct guest_ram ram;
static struct bus bus;
static struct riscv_cpu cpu;

static void put64(uint64_t pa, uint64_t v)
{
    assert_int_equal(guest_ram_write(&ram, pa, &v, 8), 0);
}

static uint64_t pte(uint64_t pa, uint64_t flags)
{
    return (pa >> 12) << 10 | flags;
}

#define LEAF 0xc7   /* V R W A D */
#define ULEAF 0xd7  /* V R W U A D */

/* Address space n: VA -> DATA(page), VA_USER -> DATA(9) (a U page). */
static void map(unsigned n, unsigned page)
{
    put64(ROOT(n) + 8 * 1, pte(L1(n), 1));
    put64(L1(n), pte(L0(n), 1));
    put64(L0(n), pte(DATA(page), LEAF));
    put64(L0(n) + 8, pte(DATA(9), ULEAF));
}

static uint64_t satp(unsigned n, unsigned asid)
{
    return 8ull << 60 | (uint64_t)asid << 44 | ROOT(n) >> 12;
}

static int setup(void **state)
{
    (void)state;
    if (guest_ram_init(&ram, RAM_BASE, RAM_SIZE) < 0)
        return -1;
    bus_init(&bus);
    if (riscv_cpu_init(&cpu, &ram, &bus, NULL, 0) < 0)
        return -1;
    for (unsigned i = 0; i < 10; i++)
        put64(DATA(i), 0x1000 + i); /* each data page says which it is */
    map(1, 1);
    map(2, 2);
    cpu.priv = PRV_S;
    riscv_mode_changed(&cpu);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    riscv_cpu_free(&cpu);
    guest_ram_free(&ram);
    return 0;
}

static void set_satp(uint64_t v)
{
    assert_int_equal(riscv_csr_write(&cpu, 0x180, v), 0);
}

/* which data page VA reads as, read as the interpreter does: the TLB's
 * fast path first, the slow path (a walk, which fills it) on a miss */
static uint64_t page_at(uint64_t va)
{
    uint64_t v;
    const struct riscv_tlb_entry *e = &cpu.tlb_data->r[(va >> 12) & (RISCV_TLB_SIZE - 1)];
    if (e->tag == (va & ~0xfffull))
        memcpy(&v, (void *)(e->addend + (uintptr_t)va), 8);
    else
        assert_int_equal(riscv_load_slow(&cpu, va, 8, &v), 0);
    return v - 0x1000;
}

static void test_switch_and_asid_fences(void **state)
{
    (void)state;
    set_satp(satp(1, 1));
    assert_int_equal(page_at(VA), 1);
    set_satp(satp(2, 2));
    assert_int_equal(page_at(VA), 2);
    /* Remap VA in space 1 without a fence: the cached translation may
     * stay (the engine keeps it across the switch), a fence for ASID 2
     * does not drop it, one for ASID 1 does. */
    put64(L0(1), pte(DATA(3), LEAF));
    set_satp(satp(1, 1));
    assert_int_equal(page_at(VA), 1);
    riscv_tlb_flush_asid(&cpu, 2);
    assert_int_equal(page_at(VA), 1);
    riscv_tlb_flush_asid(&cpu, 1);
    assert_int_equal(page_at(VA), 3);
    /* ASID 2 was fenced above: it translates afresh, then keeps that */
    set_satp(satp(2, 2));
    assert_int_equal(page_at(VA), 2);
    put64(L0(2), pte(DATA(4), LEAF));
    set_satp(satp(1, 1));
    assert_int_equal(page_at(VA), 3);
    set_satp(satp(2, 2));
    assert_int_equal(page_at(VA), 2);
    /* a page fence for another ASID leaves it, one for its ASID drops it */
    riscv_tlb_flush_page(&cpu, VA, 1);
    assert_int_equal(page_at(VA), 2);
    riscv_tlb_flush_page(&cpu, VA, 2);
    assert_int_equal(page_at(VA), 4);
    /* a page fence for all ASIDs, then a full one */
    put64(L0(2), pte(DATA(5), LEAF));
    put64(L0(1), pte(DATA(6), LEAF));
    riscv_tlb_flush_page(&cpu, VA, -1);
    assert_int_equal(page_at(VA), 5);
    set_satp(satp(1, 1));
    assert_int_equal(page_at(VA), 6);
    put64(L0(1), pte(DATA(7), LEAF));
    put64(L0(2), pte(DATA(8), LEAF));
    riscv_tlb_flush(&cpu);
    assert_int_equal(page_at(VA), 7);
    set_satp(satp(2, 2));
    assert_int_equal(page_at(VA), 8);
}

/* More address spaces than contexts: the least recently used is reused,
 * and every space still translates right. */
static void test_many_spaces(void **state)
{
    (void)state;
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned n = 1; n <= 2; n++) {
            map(n, n);
            for (unsigned asid = 0; asid < RISCV_TLB_CTX + 3; asid++) {
                set_satp(satp(n, 10 * n + asid));
                assert_int_equal(page_at(VA), n);
            }
        }
        riscv_tlb_flush(&cpu);
    }
}

/* S-mode loads of a U page fault without SUM and work with it, in any
 * order: the SUM set never lends its entries to the plain S set. */
static void test_sum(void **state)
{
    (void)state;
    map(1, 1);
    set_satp(satp(1, 7));
    riscv_tlb_flush(&cpu);
    uint64_t v;
    for (unsigned round = 0; round < 3; round++) {
        cpu.mstatus |= MSTATUS_SUM;
        riscv_mode_changed(&cpu);
        assert_int_equal(riscv_load_slow(&cpu, VA_USER, 8, &v), 0);
        assert_int_equal(v, 0x1009);
        assert_int_equal(riscv_load_slow(&cpu, VA_USER, 8, &v), 0); /* now a TLB hit */
        cpu.mstatus &= ~MSTATUS_SUM;
        riscv_mode_changed(&cpu);
        assert_int_equal(riscv_load_slow(&cpu, VA_USER, 8, &v), -1);
        assert_int_equal(cpu.exc_cause, EXC_LOAD_PAGE);
        /* the plain S set never caches the U page */
        const struct riscv_tlb_entry *e = &cpu.tlb_data->r[(VA_USER >> 12) & (RISCV_TLB_SIZE - 1)];
        assert_true(e->tag != VA_USER);
        /* and S reads of S pages work either way */
        assert_int_equal(page_at(VA), 1);
    }
    /* through the csr path too: mstatus writes switch the set */
    assert_int_equal(riscv_csr_write(&cpu, 0x100, MSTATUS_SUM), 0);
    assert_int_equal(riscv_load_slow(&cpu, VA_USER, 8, &v), 0);
    assert_int_equal(riscv_csr_write(&cpu, 0x100, 0), 0);
    assert_int_equal(riscv_load_slow(&cpu, VA_USER, 8, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_switch_and_asid_fences),
        cmocka_unit_test(test_many_spaces),
        cmocka_unit_test(test_sum),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
