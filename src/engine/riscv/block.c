/* The decoded-block cache: blocks keyed by guest-physical address, checked
 * against the page generation (a write to a code page bumps it, which makes
 * every block decoded from that page stale), plus a jump cache from
 * (virtual pc, privilege) to block so the common case skips translation. */
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "jit.h"

static unsigned bhash(uint64_t pa)
{
    return (unsigned)((pa >> 1) ^ (pa >> 17)) & ((1u << BCACHE_HASH_BITS) - 1);
}

static void bcache_flush(struct riscv_cpu *cpu)
{
    struct riscv_block_cache *bc = cpu->bcache;
    memset(bc->hash, 0, sizeof(bc->hash));
    bc->arena_used = 0;
    bc->flushes++;
    riscv_jit_flush(cpu);
    memset(cpu->jc, 0, sizeof(cpu->jc));
}

/* Below this the caches are not worth emptying: an idle guest's own
 * working set (its idle loop, timer interrupt, a shell waiting on the
 * console) is decoded again within a few hundred KiB. */
#define TRIM_MIN_BYTES (1u << 20)

size_t riscv_cpu_trim(struct riscv_cpu *cpu)
{
    struct riscv_block_cache *bc = cpu->bcache;
    size_t held = bc->arena_used + riscv_jit_used(cpu);
    if (held < TRIM_MIN_BYTES)
        return 0;
    bcache_flush(cpu);
    riscv_jit_trim(cpu);
    /* zero-filled again on the next touch; advice: a failure keeps them */
    madvise(bc->arena, bc->arena_size, MADV_DONTNEED);
    return held;
}

/* A page becomes a code page: drop fast-path write mappings to it on every
 * hart, so the next store to it anywhere takes the slow path and
 * invalidates the blocks. A hart filling a write mapping at the same time
 * checks has_code again after its fill (mmu.c: tlb_fill_write); the
 * sequentially consistent store here and its fence there make sure one of
 * the two sees the other. */
static void mark_code_page(struct riscv_cpu *cpu, uint64_t page)
{
    struct guest_ram *ram = cpu->ram;
    if (__atomic_load_n(&ram->has_code[page], __ATOMIC_SEQ_CST))
        return;
    __atomic_store_n(&ram->has_code[page], 1, __ATOMIC_SEQ_CST);
    if (!cpu->harts) {
        riscv_tlb_drop_writes(cpu, page);
        return;
    }
    for (unsigned h = 0; h < cpu->nharts; h++)
        riscv_tlb_drop_writes(cpu->harts[h], page);
}

static struct riscv_block *block_alloc(struct riscv_cpu *cpu)
{
    struct riscv_block_cache *bc = cpu->bcache;
    size_t need = sizeof(struct riscv_block) + (BLOCK_MAX_INSNS + 1) * sizeof(struct rv_insn);
    if (bc->arena_used + need > bc->arena_size || riscv_jit_needs_flush(cpu))
        bcache_flush(cpu);
    return (struct riscv_block *)(bc->arena + bc->arena_used);
}

/* An instruction whose halves lie on two pages: decoded into a one-off
 * block that is never cached (it depends on two pages and translations). */
static struct riscv_block *block_decode_straddle(struct riscv_cpu *cpu, uint64_t pc,
                                                 uint16_t lo)
{
    uint64_t pa2;
    if (riscv_translate(cpu, pc + 2, ACC_FETCH, &pa2) < 0)
        return NULL;
    uint8_t *h = guest_ram_ptr(cpu->ram, pa2, 2);
    if (!h) {
        cpu->exc_cause = EXC_INSN_ACCESS;
        cpu->exc_tval = pc + 2;
        return NULL;
    }
    /* one per thread: every hart has its own thread */
    static _Thread_local struct {
        struct riscv_block b;
        struct rv_insn in[2];
    } one;
    struct riscv_block *b = &one.b;
    b->ppc = ~0ull;
    b->vpc = pc;
    b->jit = NULL;
    b->ninsns = 1;
    riscv_decode((uint32_t)lo | ((uint32_t)le16_load(h) << 16), &b->insns[0]);
    b->insns[0].pcoff = 0;
    memset(&b->insns[1], 0, sizeof(b->insns[1]));
    b->insns[1].op = OP_END_BLOCK;
    b->insns[1].pcoff = 4;
    b->bytes = 4;
    return b;
}

static struct riscv_block *block_decode(struct riscv_cpu *cpu, uint64_t pc, uint64_t pa)
{
    struct guest_ram *ram = cpu->ram;
    uint64_t page = (pa - ram->base) >> GUEST_PAGE_SHIFT;
    const uint8_t *host = ram->host + (pa - ram->base);
    unsigned avail = (unsigned)(GUEST_PAGE_SIZE - (pa & (GUEST_PAGE_SIZE - 1)));
    uint16_t first = le16_load(host);
    if ((first & 3) == 3 && avail < 4)
        return block_decode_straddle(cpu, pc, first);

    /* The generation before the bytes: a store that lands while they are
     * read bumps it after (guest_ram_note_write follows every slow store),
     * provided it finds the page marked. So the mark must still hold once
     * the generation is read: another hart's slow store may have cleared
     * it (and bumped the generation) just after mark_code_page saw it set,
     * and then its next stores would bump nothing while this block, of the
     * old bytes, carried the new generation. Each retry needs another
     * hart's slow store in between; after a few the block is made stale
     * from the start (it runs once, as a store racing with it allows). */
    uint32_t gen = 0;
    for (int tries = 0;; tries++) {
        mark_code_page(cpu, page);
        gen = __atomic_load_n(&ram->page_gen[page], __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&ram->has_code[page], __ATOMIC_SEQ_CST))
            break;
        if (tries == 16) {
            gen--;
            break;
        }
    }
    struct riscv_block *b = block_alloc(cpu);
    unsigned off = 0, n = 0;
    while (n < BLOCK_MAX_INSNS && off + 2 <= avail) {
        uint32_t raw = le16_load(host + off);
        if ((raw & 3) == 3) {
            if (off + 4 > avail)
                break; /* straddles the page: starts its own block */
            raw |= (uint32_t)le16_load(host + off + 2) << 16;
        }
        struct rv_insn *in = &b->insns[n++];
        unsigned len = riscv_decode(raw, in);
        in->pcoff = (uint16_t)off;
        off += len;
        if (riscv_op_ends_block(in->op))
            break;
    }
    b->ninsns = (uint16_t)n;
    b->bytes = (uint16_t)off;
    if (n == 0 || !riscv_op_ends_block(b->insns[n - 1].op)) {
        struct rv_insn *end = &b->insns[n];
        memset(end, 0, sizeof(*end));
        end->op = OP_END_BLOCK;
        end->pcoff = (uint16_t)off;
    }
    b->ppc = pa;
    b->vpc = pc;
    memset(b->link, 0, sizeof(b->link));
    b->jit = NULL;
    b->exec_count = 0;
    b->ram_page = page;
    b->gen = gen;
    struct riscv_block_cache *bc = cpu->bcache;
    size_t used = sizeof(*b) + (size_t)(n + 1) * sizeof(struct rv_insn);
    bc->arena_used += (used + 15) & ~(size_t)15;
    unsigned h = bhash(pa);
    b->hash_next = bc->hash[h];
    bc->hash[h] = b;
    return b;
}

/* Find (or decode) the block at virtual pc. NULL with the fetch exception
 * set in cpu->exc_* when the fetch faults. */
struct riscv_block *riscv_block_lookup(struct riscv_cpu *cpu, uint64_t pc)
{
    struct guest_ram *ram = cpu->ram;
    struct riscv_jc_entry *j = &cpu->jc[(pc >> 1) & (RISCV_JC_SIZE - 1)];
    struct riscv_block *b = j->block;
    struct riscv_tlb_entry *e = &cpu->tlb_fetch->x[(pc >> 12) & (RISCV_TLB_SIZE - 1)];
    bool mapped = e->tag == (pc & ~0xfffull);
    /* a hit needs the page still mapped as when the entry was made */
    if (likely(b && j->vpc == pc && mapped && e->addend == j->addend &&
               b->gen == ram->page_gen[b->ram_page]))
        return b;

    uint64_t pa;
    if (mapped) {
        pa = ram->base + (riscv_tlb_ram_page(ram, e) << GUEST_PAGE_SHIFT) + (pc & 0xfff);
    } else {
        if (riscv_translate(cpu, pc, ACC_FETCH, &pa) < 0)
            return NULL;
        if (!guest_ram_contains(ram, pa, 2)) {
            cpu->exc_cause = EXC_INSN_ACCESS;
            cpu->exc_tval = pc;
            return NULL;
        }
        uint64_t page = (pa - ram->base) >> GUEST_PAGE_SHIFT;
        e->tag = pc & ~0xfffull;
        e->addend = (uintptr_t)(ram->host + (page << GUEST_PAGE_SHIFT)) - (uintptr_t)e->tag;
    }
    uint64_t page = (pa - ram->base) >> GUEST_PAGE_SHIFT;
    uint32_t gen = ram->page_gen[page];
    /* After a TLB flush the jump cache entry fails only its translation
     * check: the page walk just done says whether its block still fits. */
    b = j->block;
    if (b && j->vpc == pc && b->ppc == pa && b->gen == gen) {
        j->addend = e->addend;
        return b;
    }
    /* Compare the keys before the generation: the chain's blocks are
     * mostly cold in the cache, and the page_gen read is another miss. */
    struct riscv_block **pp = &cpu->bcache->hash[bhash(pa)];
    while ((b = *pp) != NULL) {
        if (b->ppc == pa && b->vpc == pc) {
            if (b->gen == gen)
                break;
            *pp = b->hash_next; /* stale: its page was written since */
            continue;
        }
        pp = &b->hash_next;
    }
    if (!b) {
        b = block_decode(cpu, pc, pa);
        if (!b || b->ppc == ~0ull)
            return b; /* fault, or an uncached straddling block */
    }
    j->vpc = pc;
    j->block = b;
    j->addend = e->addend;
    return b;
}
