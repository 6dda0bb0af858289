/* The software TLBs: which sets a hart uses, and dropping translations.
 *
 * M-mode has one set (no translation). S and U translations live in
 * contexts, one per address space (satp: mode, ASID and root table):
 * switching satp selects the context (the least recently used one is
 * reused, cleared, for a new address space), so a process switch and back
 * keeps both processes' translations, and sfence.vma with an ASID drops
 * only that ASID's contexts. S-mode loads and stores with mstatus.SUM set
 * use a set of their own, so the kernel toggling SUM around every user
 * copy switches a pointer instead of flushing.
 *
 * Nothing else caches a translation on its own: the jump cache, block
 * links and compiled code's links all check that the fetch TLB still maps
 * the page as it did (tag and addend), so dropping TLB entries is all a
 * flush takes (docs/JIT.md). */
#include <string.h>

#include "internal.h"

/* ~0 tags never match: an access's page address has its low bits clear. */
static void set_clear(struct riscv_tlb_set *t)
{
    memset(t, 0xff, sizeof(*t));
}

static void ctx_clear(struct riscv_tlb_ctx *c)
{
    set_clear(&c->u);
    set_clear(&c->s);
    set_clear(&c->sum);
}

static uint64_t satp_asid(uint64_t satp)
{
    return (satp >> 44) & 0xffff;
}

void riscv_mode_changed(struct riscv_cpu *cpu)
{
    struct riscv_tlb_ctx *c = cpu->ctx;
    unsigned dp = riscv_data_priv(cpu);
    cpu->tlb_data = dp == PRV_M   ? &cpu->tlb_m
                    : dp == PRV_U ? &c->u
                    : (cpu->mstatus & MSTATUS_SUM) ? &c->sum : &c->s;
    cpu->tlb_fetch = cpu->priv == PRV_M ? &cpu->tlb_m : cpu->priv == PRV_U ? &c->u : &c->s;
}

void riscv_tlb_switch(struct riscv_cpu *cpu)
{
    struct riscv_tlb_ctx *pick = NULL;
    for (unsigned i = 0; i < RISCV_TLB_CTX; i++) {
        struct riscv_tlb_ctx *c = &cpu->tlb_ctx[i];
        if (c->satp == cpu->satp) {
            pick = c;
            break;
        }
        if (!pick || c->satp == ~0ull || (pick->satp != ~0ull && c->stamp < pick->stamp))
            pick = c;
    }
    if (pick->satp != cpu->satp) {
        ctx_clear(pick);
        pick->satp = cpu->satp;
    }
    pick->stamp = ++cpu->ctx_stamp;
    cpu->ctx = pick;
    riscv_mode_changed(cpu);
}

void riscv_tlb_flush(struct riscv_cpu *cpu)
{
    /* Other address spaces are only marked unused (cleared when reused);
     * the current one is cleared now. */
    for (unsigned i = 0; i < RISCV_TLB_CTX; i++)
        cpu->tlb_ctx[i].satp = ~0ull;
    riscv_tlb_switch(cpu);
}

void riscv_tlb_reset(struct riscv_cpu *cpu)
{
    set_clear(&cpu->tlb_m);
    for (unsigned i = 0; i < RISCV_TLB_CTX; i++) {
        cpu->tlb_ctx[i].satp = ~0ull;
        cpu->tlb_ctx[i].stamp = 0;
    }
    cpu->ctx_stamp = 0;
    memset(cpu->jc, 0, sizeof(cpu->jc));
    riscv_tlb_switch(cpu);
}

void riscv_tlb_flush_asid(struct riscv_cpu *cpu, uint64_t asid)
{
    for (unsigned i = 0; i < RISCV_TLB_CTX; i++) {
        struct riscv_tlb_ctx *c = &cpu->tlb_ctx[i];
        if (c->satp == ~0ull || satp_asid(c->satp) != (asid & 0xffff))
            continue;
        if (c == cpu->ctx)
            ctx_clear(c);
        else
            c->satp = ~0ull;
    }
}

static void set_flush_page(struct riscv_tlb_set *t, uint64_t vpage, unsigned idx)
{
    if (t->r[idx].tag == vpage)
        riscv_tlb_entry_clear(&t->r[idx]);
    if (t->w[idx].tag == vpage)
        riscv_tlb_entry_clear(&t->w[idx]);
    if (t->x[idx].tag == vpage)
        riscv_tlb_entry_clear(&t->x[idx]);
}

void riscv_tlb_flush_page(struct riscv_cpu *cpu, uint64_t va, int64_t asid)
{
    uint64_t vpage = va & ~0xfffull;
    unsigned idx = (unsigned)(va >> 12) & (RISCV_TLB_SIZE - 1);
    for (unsigned i = 0; i < RISCV_TLB_CTX; i++) {
        struct riscv_tlb_ctx *c = &cpu->tlb_ctx[i];
        if (c->satp == ~0ull || (asid >= 0 && satp_asid(c->satp) != ((uint64_t)asid & 0xffff)))
            continue;
        set_flush_page(&c->u, vpage, idx);
        set_flush_page(&c->s, vpage, idx);
        set_flush_page(&c->sum, vpage, idx);
    }
}

static void set_drop_writes(struct riscv_tlb_set *t, uintptr_t host_page)
{
    for (unsigned i = 0; i < RISCV_TLB_SIZE; i++) {
        struct riscv_tlb_entry *e = &t->w[i];
        if (e->tag + e->addend == host_page && e->tag != ~0ull)
            riscv_tlb_entry_clear(e);
    }
}

void riscv_tlb_drop_writes(struct riscv_cpu *cpu, uint64_t ram_page)
{
    uintptr_t host_page = (uintptr_t)(cpu->ram->host + (ram_page << GUEST_PAGE_SHIFT));
    set_drop_writes(&cpu->tlb_m, host_page);
    for (unsigned i = 0; i < RISCV_TLB_CTX; i++) {
        struct riscv_tlb_ctx *c = &cpu->tlb_ctx[i];
        if (c->satp == ~0ull)
            continue;
        set_drop_writes(&c->u, host_page);
        set_drop_writes(&c->s, host_page);
        set_drop_writes(&c->sum, host_page);
    }
}
