/* The x86-64 JIT's register allocation for block-local guest registers.
 *
 * The global guest registers (jit_global_reg[]) always live in their host
 * registers. Every other guest register lives in cpu->x[] at block
 * boundaries; within a block it is brought into one of the NLOCAL local
 * host registers when it is used again later in the block (a register
 * used once is cheaper as a memory operand), lazily, at its first use. When
 * all local registers are taken, the one whose next use in the block is
 * farthest goes (written back first when dirty), unless the newcomer's
 * next use is farther still (Belady's rule: the block's whole future is
 * known). Results for a local register stay in it, dirty, until it is
 * evicted or the block leaves: every exit writes back exactly the dirty
 * ones of that point (side exits carry a snapshot of them).
 *
 * Every block starts with the registers it uses most (at least twice)
 * loaded: its top state. A block that loops onto its own start restores
 * that state on the back edge (writing back or loading what differs), so
 * the loop keeps them in host registers from one round to the next. */
#include "jit.h"

#if defined(__x86_64__)

#include <string.h>

#include "jit_x86_64.h"

static bool is_global(unsigned r)
{
    for (int i = 0; i < NGLOBAL; i++)
        if (jit_global_reg[i] == r)
            return true;
    return false;
}

/* The integer registers an instruction reads, and the one it writes. */
static void insn_regs(const struct rv_insn *in, struct jit_use *u)
{
    memset(u, 0, sizeof(*u));
    unsigned op = in->op;
    int m = jit_op_uses(op);
    if (op >= OP_CSRRW && op <= OP_CSRRCI) {
        /* raw register numbers: rd 0 is x0; immediate forms have no rs1;
         * the helper writes rd in memory */
        if (op <= OP_CSRRC && in->rs1)
            u->rs[u->nrs++] = in->rs1;
        u->rd = in->rd;
        u->helper_rd = true;
        return;
    }
    if (m < 0) {
        /* F/D: the few with integer operands */
        if (op == OP_FLW || op == OP_FLD || op == OP_FSW || op == OP_FSD)
            m = U_RS1;
        else if ((op >= OP_FCVT_S_W && op <= OP_FMV_W_X) || (op >= OP_FCVT_D_W && op <= OP_FMV_D_X))
            m = U_RS1;
        else if ((op >= OP_FCVT_W_S && op <= OP_FCLASS_S) || (op >= OP_FCVT_W_D && op <= OP_FCLASS_D)) {
            m = U_RD;
            u->helper_rd = true;
        } else
            m = 0;
    }
    if ((m & U_RS1) && in->rs1)
        u->rs[u->nrs++] = in->rs1;
    if ((m & U_RS2) && in->rs2 && in->rs2 != in->rs1)
        u->rs[u->nrs++] = in->rs2;
    if (m & U_RD)
        u->rd = in->rd;
}

static bool is_local_candidate(unsigned r)
{
    return r != 0 && r < 32 && !is_global(r);
}

/* The next instruction at or after `from` that reads or writes r, or
 * c->n (never). */
static unsigned next_use(const struct jit_ctx *c, unsigned r, unsigned from)
{
    for (unsigned i = from; i < c->n; i++) {
        const struct jit_use *u = &c->use[i];
        if (u->rd == r)
            return i;
        for (unsigned k = 0; k < u->nrs; k++)
            if (u->rs[k] == r)
                return i;
    }
    return c->n;
}

void jit_ra_apply(struct jit_ctx *c)
{
    for (int r = 1; r < 32; r++) {
        if (!is_global((unsigned)r)) {
            c->host[r] = -1;
            c->local[r] = false;
        }
    }
    for (int l = 0; l < NLOCAL; l++) {
        int g = c->ra.guest[l];
        if (g > 0) {
            c->host[g] = jit_local_host[l];
            c->local[g] = true;
        }
    }
}

void jit_ra_init(struct jit_ctx *c, unsigned n)
{
    c->n = n;
    int count[33] = { 0 };
    bool written[33] = { false };
    for (unsigned i = 0; i < n; i++) {
        struct jit_use *u = &c->use[i];
        insn_regs(&c->b->insns[i], u);
        for (unsigned k = 0; k < u->nrs; k++)
            count[u->rs[k]]++;
        if (u->rd && u->rd < 32) {
            count[u->rd]++;
            written[u->rd] = true;
        }
    }
    memcpy(c->written, written, sizeof(c->written));
    memset(c->host, -1, sizeof(c->host));
    for (int i = 0; i < NGLOBAL; i++)
        c->host[jit_global_reg[i]] = jit_global_host[i];
    for (int l = 0; l < NLOCAL; l++) {
        c->ra.guest[l] = -1;
        c->ra.dirty[l] = false;
        c->ra.valid[l] = false;
    }
    /* The top state: the most used registers (at least twice), loaded by
     * the prologue. Dirty there when the block writes them anywhere: a
     * loop's back edge arrives with them so. */
    for (int l = 0; l < NLOCAL; l++) {
        int best = -1;
        for (int r = 1; r < 32; r++) {
            bool taken = false;
            for (int k = 0; k < l; k++)
                taken |= c->ra.guest[k] == r;
            if (!taken && is_local_candidate((unsigned)r) && count[r] >= 2 &&
                (best < 0 || count[r] > count[best]))
                best = r;
        }
        if (best < 0)
            break;
        c->ra.guest[l] = (int8_t)best;
        c->ra.valid[l] = true;
        c->ra.dirty[l] = written[best];
    }
    c->top_ra = c->ra;
    jit_ra_apply(c);
}

void jit_ra_prologue(struct jit_ctx *c)
{
    for (int l = 0; l < NLOCAL; l++)
        if (c->ra.guest[l] > 0)
            jit_mov_load(&c->e, jit_local_host[l], jit_xmem((unsigned)c->ra.guest[l]));
}

static int slot_of(const struct jit_ctx *c, unsigned r)
{
    for (int l = 0; l < NLOCAL; l++)
        if (c->ra.guest[l] == (int)r)
            return l;
    return -1;
}

static bool pinned(const struct jit_use *u, int g)
{
    if (g <= 0)
        return false;
    if (u->rd == g)
        return true;
    for (unsigned k = 0; k < u->nrs; k++)
        if (u->rs[k] == g)
            return true;
    return false;
}

/* A local register for r (next used at `nu` after this instruction), or
 * -1 when r is better left in memory. */
static int alloc_slot(struct jit_ctx *c, const struct jit_use *u, unsigned i, unsigned nu)
{
    int victim = -1;
    unsigned far = 0;
    for (int l = 0; l < NLOCAL; l++) {
        int g = c->ra.guest[l];
        if (g < 0)
            return l;
        if (pinned(u, g))
            continue;
        unsigned gn = next_use(c, (unsigned)g, i);
        if (victim < 0 || gn > far) {
            victim = l;
            far = gn;
        }
    }
    if (victim < 0 || far <= nu)
        return -1;
    if (c->ra.dirty[victim])
        jit_mov_store(&c->e, jit_xmem((unsigned)c->ra.guest[victim]), jit_local_host[victim]);
    c->ra.guest[victim] = -1;
    c->ra.dirty[victim] = false;
    c->ra.valid[victim] = false;
    return victim;
}

void jit_ra_before(struct jit_ctx *c, unsigned i)
{
    const struct jit_use *u = &c->use[i];
    for (unsigned k = 0; k < u->nrs; k++) {
        unsigned r = u->rs[k];
        if (!is_local_candidate(r) || slot_of(c, r) >= 0)
            continue;
        unsigned nu = next_use(c, r, i + 1);
        if (nu >= c->n)
            continue; /* read here only: a memory operand */
        int l = alloc_slot(c, u, i, nu);
        if (l < 0)
            continue;
        jit_mov_load(&c->e, jit_local_host[l], jit_xmem(r));
        c->ra.guest[l] = (int8_t)r;
        c->ra.valid[l] = true;
        c->ra.dirty[l] = false;
    }
    unsigned rd = u->rd;
    if (is_local_candidate(rd) && !u->helper_rd && slot_of(c, rd) < 0) {
        unsigned nu = next_use(c, rd, i + 1);
        if (nu < c->n) {
            int l = alloc_slot(c, u, i, nu);
            if (l >= 0) {
                c->ra.guest[l] = (int8_t)rd; /* not valid until written */
                c->ra.valid[l] = false;
                c->ra.dirty[l] = false;
            }
        }
    }
    jit_ra_apply(c);
}

void jit_ra_written(struct jit_ctx *c, unsigned rd)
{
    int l = slot_of(c, rd);
    if (l >= 0) {
        c->ra.valid[l] = true;
        c->ra.dirty[l] = true;
    }
}

void jit_ra_after(struct jit_ctx *c, unsigned i)
{
    unsigned rd = c->use[i].rd;
    if (rd && rd < 32)
        jit_ra_written(c, rd);
}

void jit_writeback_locals(struct jit_ctx *c)
{
    for (int l = 0; l < NLOCAL; l++)
        if (c->ra.guest[l] > 0 && c->ra.dirty[l])
            jit_mov_store(&c->e, jit_xmem((unsigned)c->ra.guest[l]), jit_local_host[l]);
}

void jit_ra_to_top(struct jit_ctx *c)
{
    for (int l = 0; l < NLOCAL; l++) {
        int g = c->ra.guest[l];
        if (g > 0 && g != c->top_ra.guest[l] && c->ra.dirty[l])
            jit_mov_store(&c->e, jit_xmem((unsigned)g), jit_local_host[l]);
    }
    for (int l = 0; l < NLOCAL; l++) {
        int want = c->top_ra.guest[l];
        if (want > 0 && (c->ra.guest[l] != want || !c->ra.valid[l]))
            jit_mov_load(&c->e, jit_local_host[l], jit_xmem((unsigned)want));
    }
    c->ra = c->top_ra;
    jit_ra_apply(c);
}

#endif
