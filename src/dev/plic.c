/* SiFive-compatible PLIC (layout as on QEMU virt and the SiFive FU540):
 *   0x000000 + 4*src        source priority (3 bits, 0 = never interrupts)
 *   0x001000 + 4*word       pending bits (read-only)
 *   0x002000 + 0x80*ctx     enable bits, one word per 32 sources
 *   0x200000 + 0x1000*ctx   priority threshold; +4: claim (read) / complete
 *
 * Level-triggered gateways: while a source is not claimed its pending bit
 * follows its input level (a request withdrawn before it is claimed is not
 * delivered, as QEMU does; this spares Linux spurious claims). Claiming
 * clears pending and closes the gateway until the source is completed;
 * completing reopens it, and a level still high becomes pending again.
 * A complete for a source not enabled in that context is ignored, as the
 * spec says; Linux's plic_irq_eoi() works around exactly that. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "condo/dev_plic.h"

#define PLIC_PRIORITY_BASE 0x000000u
#define PLIC_PENDING_BASE 0x001000u
#define PLIC_ENABLE_BASE 0x002000u
#define PLIC_ENABLE_STRIDE 0x80u
#define PLIC_CONTEXT_BASE 0x200000u
#define PLIC_CONTEXT_STRIDE 0x1000u
#define PLIC_CONTEXT_THRESHOLD 0x0u
#define PLIC_CONTEXT_CLAIM 0x4u

/* Seven priority levels, as QEMU virt (WARL: higher bits read as zero). */
#define PLIC_PRIO_MASK 7u

#define PLIC_STATE_VERSION 2

/* Bits of word `w` that name existing sources (source 0 does not exist). */
static uint32_t plic_valid_mask(unsigned w)
{
    uint32_t m = 0xffffffffu;
    if (w == 0)
        m &= ~1u;
    unsigned first = w * 32;
    if (first + 32 > PLIC_MAX_SOURCES) {
        unsigned n = PLIC_MAX_SOURCES > first ? PLIC_MAX_SOURCES - first : 0;
        m &= n ? (uint32_t)((1ull << n) - 1) : 0;
    }
    return m;
}

static bool bit_test(const uint32_t *words, unsigned src)
{
    return (words[src / 32] >> (src % 32)) & 1;
}

static void bit_assign(uint32_t *words, unsigned src, bool v)
{
    uint32_t b = 1u << (src % 32);
    if (v)
        words[src / 32] |= b;
    else
        words[src / 32] &= ~b;
}

/* Highest-priority pending source enabled in `ctx` above its threshold;
 * ties go to the lowest id. 0 if none. */
static unsigned plic_best(const struct plic *p, unsigned ctx)
{
    unsigned best = 0;
    uint32_t best_prio = p->threshold[ctx];

    for (unsigned w = 0; w < PLIC_WORDS; w++) {
        uint32_t cand = p->pending[w] & p->enable[ctx][w] & plic_valid_mask(w);
        while (cand) {
            unsigned bit = (unsigned)__builtin_ctz(cand);
            cand &= cand - 1;
            unsigned src = w * 32 + bit;
            if (p->priority[src] > best_prio) {
                best_prio = p->priority[src];
                best = src;
            }
        }
    }
    return best;
}

static void plic_update_ctx(struct plic *p, unsigned ctx, bool force)
{
    int level = plic_best(p, ctx) != 0;
    if (force || level != p->out_level[ctx]) {
        p->out_level[ctx] = level;
        if (p->notify)
            p->notify(p->notify_opaque, ctx, level);
    }
}

static void plic_update(struct plic *p, bool force)
{
    for (unsigned c = 0; c < p->ncontexts; c++)
        plic_update_ctx(p, c, force);
}

/* Gateway: a source neither claimed nor masked by a closed gateway is
 * pending exactly while its level is high. */
static void plic_gateway(struct plic *p, unsigned src)
{
    if (!bit_test(p->claimed, src))
        bit_assign(p->pending, src, bit_test(p->level, src));
}

void plic_set_irq(void *opaque, unsigned src, int level)
{
    struct plic *p = opaque;

    if (src == 0 || src >= PLIC_MAX_SOURCES) {
        condo_err("plic: interrupt source %u out of range (1..%u)", src,
                  PLIC_MAX_SOURCES - 1);
        return;
    }
    bool lv = level != 0;
    if (bit_test(p->level, src) == lv)
        return;
    bit_assign(p->level, src, lv);
    plic_gateway(p, src);
    plic_update(p, false);
}

static uint32_t plic_claim(struct plic *p, unsigned ctx)
{
    unsigned src = plic_best(p, ctx);
    if (src) {
        bit_assign(p->pending, src, false);
        bit_assign(p->claimed, src, true);
        plic_update(p, false);
    }
    return src;
}

static void plic_complete(struct plic *p, unsigned ctx, uint32_t src)
{
    if (src == 0 || src >= PLIC_MAX_SOURCES) {
        log_guest(&p->log, "complete of invalid source %u by context %u", src, ctx);
        return;
    }
    if (!bit_test(p->enable[ctx], src))
        return; /* ignored by the spec; not an error (Linux relies on it) */
    if (!bit_test(p->claimed, src))
        return;
    bit_assign(p->claimed, src, false);
    plic_gateway(p, src);
    plic_update(p, false);
}

static void plic_read(void *opaque, uint64_t offset, unsigned size, uint64_t *val)
{
    struct plic *p = opaque;
    uint32_t off = (uint32_t)offset;

    (void)size;
    *val = 0;
    if (offset >= PLIC_SIZE)
        goto bad;
    if (off < PLIC_PENDING_BASE) {
        unsigned src = off / 4;
        if (src == 0 || src >= PLIC_MAX_SOURCES)
            goto bad;
        *val = p->priority[src];
        return;
    }
    if (off < PLIC_ENABLE_BASE) {
        unsigned w = (off - PLIC_PENDING_BASE) / 4;
        if (w >= PLIC_WORDS)
            goto bad;
        *val = p->pending[w] & plic_valid_mask(w);
        return;
    }
    if (off < PLIC_CONTEXT_BASE) {
        unsigned ctx = (off - PLIC_ENABLE_BASE) / PLIC_ENABLE_STRIDE;
        unsigned w = (off - PLIC_ENABLE_BASE) % PLIC_ENABLE_STRIDE / 4;
        if (ctx >= p->ncontexts || w >= PLIC_WORDS)
            goto bad;
        *val = p->enable[ctx][w];
        return;
    }
    unsigned ctx = (off - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE;
    unsigned reg = (off - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE;
    if (ctx >= p->ncontexts)
        goto bad;
    if (reg == PLIC_CONTEXT_THRESHOLD) {
        *val = p->threshold[ctx];
        return;
    }
    if (reg == PLIC_CONTEXT_CLAIM) {
        *val = plic_claim(p, ctx);
        return;
    }
bad:
    log_guest(&p->log, "read of unknown register at offset 0x%llx", (unsigned long long)offset);
}

static void plic_write(void *opaque, uint64_t offset, unsigned size, uint64_t val)
{
    struct plic *p = opaque;
    uint32_t off = (uint32_t)offset;
    uint32_t v = (uint32_t)val;

    (void)size;
    if (offset >= PLIC_SIZE)
        goto bad;
    if (off < PLIC_PENDING_BASE) {
        unsigned src = off / 4;
        if (src == 0 || src >= PLIC_MAX_SOURCES)
            goto bad;
        p->priority[src] = v & PLIC_PRIO_MASK;
        plic_update(p, false);
        return;
    }
    if (off < PLIC_ENABLE_BASE) {
        unsigned w = (off - PLIC_PENDING_BASE) / 4;
        if (w >= PLIC_WORDS)
            goto bad;
        log_guest(&p->log, "write to read-only pending word %u", w);
        return;
    }
    if (off < PLIC_CONTEXT_BASE) {
        unsigned ctx = (off - PLIC_ENABLE_BASE) / PLIC_ENABLE_STRIDE;
        unsigned w = (off - PLIC_ENABLE_BASE) % PLIC_ENABLE_STRIDE / 4;
        if (ctx >= p->ncontexts || w >= PLIC_WORDS)
            goto bad;
        p->enable[ctx][w] = v & plic_valid_mask(w);
        plic_update_ctx(p, ctx, false);
        return;
    }
    unsigned ctx = (off - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE;
    unsigned reg = (off - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE;
    if (ctx >= p->ncontexts)
        goto bad;
    if (reg == PLIC_CONTEXT_THRESHOLD) {
        p->threshold[ctx] = v & PLIC_PRIO_MASK;
        plic_update_ctx(p, ctx, false);
        return;
    }
    if (reg == PLIC_CONTEXT_CLAIM) {
        plic_complete(p, ctx, v);
        return;
    }
bad:
    log_guest(&p->log, "write of unknown register at offset 0x%llx", (unsigned long long)offset);
}

static void plic_reset(void *opaque)
{
    struct plic *p = opaque;

    memset(p->priority, 0, sizeof(p->priority));
    memset(p->claimed, 0, sizeof(p->claimed));
    memset(p->enable, 0, sizeof(p->enable));
    memset(p->threshold, 0, sizeof(p->threshold));
    /* Input levels are wires driven by the devices, not PLIC state: keep
     * them, and let the reopened gateways see them. */
    for (unsigned w = 0; w < PLIC_WORDS; w++)
        p->pending[w] = p->level[w] & plic_valid_mask(w);
    plic_update(p, true);
}

/* Every context's registers are saved (PLIC_MAX_CONTEXTS), so the layout
 * is one table; a stream for another number of contexts is refused. */
static const struct state_field plic_fields[] = {
    STATE_FIELD(struct plic, ncontexts),      STATE_ARRAY(struct plic, priority),
    STATE_ARRAY(struct plic, level),          STATE_ARRAY(struct plic, pending),
    STATE_ARRAY(struct plic, claimed),        STATE_ARRAY(struct plic, threshold),
    /* a two-dimensional array: one run of 32-bit words */
    { "enable", offsetof(struct plic, enable), 4, PLIC_MAX_CONTEXTS * PLIC_WORDS, 0 },
};

static void plic_save(void *opaque, struct state_buf *s)
{
    struct plic *p = opaque;

    state_put_u8(s, PLIC_STATE_VERSION);
    state_put_fields(s, plic_fields, ARRAY_SIZE(plic_fields), p);
}

static int plic_load(void *opaque, struct state_buf *s)
{
    struct plic *p = opaque;

    if (state_get_u8(s) != PLIC_STATE_VERSION)
        return -EINVAL;
    struct plic *n = malloc(sizeof(*n));
    if (!n)
        return -ENOMEM;
    *n = *p;
    state_get_fields(s, plic_fields, ARRAY_SIZE(plic_fields), n);
    /* The board defines the contexts; a stream from another shape is foreign. */
    if (s->err || n->ncontexts != p->ncontexts) {
        free(n);
        return -EINVAL;
    }
    /* Mask everything to what the registers can hold. */
    for (unsigned i = 1; i < PLIC_MAX_SOURCES; i++)
        n->priority[i] &= PLIC_PRIO_MASK;
    n->priority[0] = 0;
    for (unsigned w = 0; w < PLIC_WORDS; w++) {
        uint32_t m = plic_valid_mask(w);
        n->level[w] &= m;
        n->pending[w] &= m;
        n->claimed[w] &= m;
    }
    for (unsigned c = 0; c < PLIC_MAX_CONTEXTS; c++) {
        n->threshold[c] &= PLIC_PRIO_MASK;
        for (unsigned w = 0; w < PLIC_WORDS; w++)
            n->enable[c][w] &= c < p->ncontexts ? plic_valid_mask(w) : 0;
    }
    state_copy_fields(plic_fields, ARRAY_SIZE(plic_fields), p, n);
    free(n);
    /* Tell the harts where their lines stand now. */
    plic_update(p, true);
    return 0;
}

const struct dev_ops plic_ops = {
    .name = "plic",
    .min_access = 4,
    .max_access = 4,
    .read = plic_read,
    .write = plic_write,
    .reset = plic_reset,
    .save = plic_save,
    .load = plic_load,
};

void plic_init(struct plic *p, unsigned ncontexts,
               void (*notify)(void *opaque, unsigned context, int level), void *opaque)
{
    memset(p, 0, sizeof(*p));
    if (ncontexts > PLIC_MAX_CONTEXTS) {
        condo_err("plic: %u contexts requested, at most %u supported", ncontexts,
                  PLIC_MAX_CONTEXTS);
        ncontexts = PLIC_MAX_CONTEXTS;
    }
    p->ncontexts = ncontexts;
    p->notify = notify;
    p->notify_opaque = opaque;
    log_limit_init(&p->log, "plic");
    plic_reset(p);
}
