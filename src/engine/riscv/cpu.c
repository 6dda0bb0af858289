/* Hart lifecycle, traps and interrupts, the Sstc timer, and save/load. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "jit.h"

#define BCACHE_ARENA_SIZE (32u << 20)

int riscv_cpu_init(struct riscv_cpu *cpu, struct guest_ram *ram, struct bus *bus,
                   struct vm_clock *clock, unsigned hartid)
{
    memset(cpu, 0, sizeof(*cpu));
    cpu->ram = ram;
    cpu->bus = bus;
    cpu->clock = clock;
    cpu->mhartid = hartid;
    (void)riscv_jit_available(); /* read CONDO_JIT now, before any hart's thread runs */
    cpu->bcache = calloc(1, sizeof(*cpu->bcache));
    if (!cpu->bcache)
        return -ENOMEM;
    /* its own mapping, so riscv_cpu_trim can give its pages back */
    void *arena = mmap(NULL, BCACHE_ARENA_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cpu->bcache->arena = arena == MAP_FAILED ? NULL : arena;
    if (!cpu->bcache->arena) {
        free(cpu->bcache);
        cpu->bcache = NULL;
        return -ENOMEM;
    }
    cpu->bcache->arena_size = BCACHE_ARENA_SIZE;
    riscv_cpu_reset(cpu, ram->base);
    return 0;
}

void riscv_cpu_free(struct riscv_cpu *cpu)
{
    if (cpu->bcache) {
        riscv_jit_free(cpu);
        munmap(cpu->bcache->arena, cpu->bcache->arena_size);
        free(cpu->bcache);
        cpu->bcache = NULL;
    }
}

void riscv_cpu_reset(struct riscv_cpu *cpu, uint64_t pc)
{
    memset(cpu->x, 0, sizeof(cpu->x));
    memset(cpu->f, 0, sizeof(cpu->f));
    cpu->pc = pc;
    cpu->priv = PRV_M;
    cpu->fflags = cpu->frm = 0;
    cpu->mstatus = (2ull << 32) | (2ull << 34); /* UXL = SXL = 64 */
    /* MXL = 64; extensions A C D F I M S U */
    cpu->misa = (2ull << 62) | (1u << 0) | (1u << 2) | (1u << 3) | (1u << 5) | (1u << 8) |
                (1u << 12) | (1u << 18) | (1u << 20);
    cpu->medeleg = cpu->mideleg = cpu->mie = cpu->mip = 0;
    cpu->mtvec = cpu->mscratch = cpu->mepc = cpu->mcause = cpu->mtval = 0;
    cpu->mcounteren = cpu->menvcfg = cpu->mcountinhibit = 0;
    cpu->stvec = cpu->sscratch = cpu->sepc = cpu->scause = cpu->stval = cpu->satp = 0;
    cpu->scounteren = cpu->senvcfg = 0;
    cpu->stimecmp = UINT64_MAX;
    memset(cpu->pmpcfg, 0, sizeof(cpu->pmpcfg));
    memset(cpu->pmpaddr, 0, sizeof(cpu->pmpaddr));
    cpu->instret = 0;
    cpu->reservation = ~0ull;
    cpu->wfi = false;
    cpu->exit_request = 0;
    riscv_tlb_reset(cpu);
}

void riscv_cpu_interrupt(struct riscv_cpu *cpu)
{
    /* Only when no exit is pending: a real exit (HTIF, a device request)
     * must not be overwritten by a kick. */
    int none = RISCV_EXIT_NONE;
    __atomic_compare_exchange_n(&cpu->exit_request, &none, RISCV_EXIT_KICK, false,
                                __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

void riscv_cpu_set_mip(struct riscv_cpu *cpu, uint64_t mask, int level)
{
    riscv_mip_assign(cpu, mask, level ? mask : 0);
}

uint64_t riscv_cpu_update_timer(struct riscv_cpu *cpu)
{
    if (!(cpu->menvcfg & MENVCFG_STCE))
        return UINT64_MAX;
    if (vm_clock_mtime(cpu->clock) >= cpu->stimecmp) {
        riscv_mip_assign(cpu, MIP_STIP, MIP_STIP);
        return UINT64_MAX;
    }
    riscv_mip_assign(cpu, MIP_STIP, 0);
    return cpu->stimecmp;
}

/* Take a trap: exception or interrupt `cause`, to S if delegated and we are
 * not in M, else to M. */
void riscv_raise(struct riscv_cpu *cpu, uint64_t cause, uint64_t tval, bool interrupt)
{
    uint64_t deleg = interrupt ? cpu->mideleg : cpu->medeleg;
    uint64_t mcause = cause | (interrupt ? (1ull << 63) : 0);
    cpu->wfi = false;
    if (cpu->priv <= PRV_S && ((deleg >> cause) & 1)) {
        cpu->scause = mcause;
        cpu->sepc = cpu->pc;
        cpu->stval = tval;
        uint64_t s = cpu->mstatus;
        s = (s & ~MSTATUS_SPIE) | ((s & MSTATUS_SIE) ? MSTATUS_SPIE : 0);
        s &= ~(MSTATUS_SIE | MSTATUS_SPP);
        if (cpu->priv == PRV_S)
            s |= MSTATUS_SPP;
        cpu->mstatus = s;
        uint64_t base = cpu->stvec & ~3ull;
        cpu->pc = (interrupt && (cpu->stvec & 1)) ? base + 4 * cause : base;
        cpu->priv = PRV_S;
    } else {
        cpu->mcause = mcause;
        cpu->mepc = cpu->pc;
        cpu->mtval = tval;
        uint64_t s = cpu->mstatus;
        s = (s & ~MSTATUS_MPIE) | ((s & MSTATUS_MIE) ? MSTATUS_MPIE : 0);
        s &= ~(MSTATUS_MIE | MSTATUS_MPP);
        s |= (uint64_t)cpu->priv << MSTATUS_MPP_SHIFT;
        cpu->mstatus = s;
        uint64_t base = cpu->mtvec & ~3ull;
        cpu->pc = (interrupt && (cpu->mtvec & 1)) ? base + 4 * cause : base;
        cpu->priv = PRV_M;
    }
    riscv_mode_changed(cpu);
}

/* Interrupt priority order from the privileged spec. */
static const uint8_t irq_order[] = { 11, 3, 7, 9, 1, 5 };

bool riscv_check_interrupts(struct riscv_cpu *cpu)
{
    uint64_t pending = cpu->mip & cpu->mie;
    if (!pending)
        return false;
    uint64_t m = pending & ~cpu->mideleg;
    uint64_t s = pending & cpu->mideleg;
    bool m_on = cpu->priv < PRV_M || (cpu->mstatus & MSTATUS_MIE);
    bool s_on = cpu->priv < PRV_S || (cpu->priv == PRV_S && (cpu->mstatus & MSTATUS_SIE));
    uint64_t take = m_on && m ? m : (s_on && s ? s : 0);
    if (!take)
        return false;
    for (unsigned i = 0; i < sizeof(irq_order); i++) {
        if (take & (1ull << irq_order[i])) {
            riscv_raise(cpu, irq_order[i], 0, true);
            return true;
        }
    }
    return false;
}

#define CPU_STATE_VERSION 2

/* The architectural state, described once for save and load. */
#define F(m) STATE_FIELD(struct riscv_cpu, m)
static const struct state_field cpu_fields[] = {
    STATE_ARRAY_N(struct riscv_cpu, x, 32), /* x[32] is a write sink, not state */
    F(pc), STATE_ARRAY(struct riscv_cpu, f),
    STATE_FIELD_MAX(struct riscv_cpu, fflags, 0x1f), STATE_FIELD_MAX(struct riscv_cpu, frm, 7),
    STATE_FIELD_MAX(struct riscv_cpu, priv, PRV_M),
    F(mstatus), F(misa), F(medeleg), F(mideleg), F(mie), F(mip), F(mtvec), F(mscratch),
    F(mepc), F(mcause), F(mtval), F(mcounteren), F(menvcfg), F(mcountinhibit),
    F(stvec), F(sscratch), F(sepc), F(scause), F(stval), F(satp), F(scounteren), F(senvcfg),
    F(stimecmp), F(instret), F(reservation), F(reservation_val), F(mhartid),
    STATE_ARRAY(struct riscv_cpu, pmpcfg), STATE_ARRAY(struct riscv_cpu, pmpaddr),
    STATE_BOOL(struct riscv_cpu, wfi),
};
#undef F

void riscv_cpu_save(struct riscv_cpu *cpu, struct state_buf *s)
{
    state_put_u8(s, CPU_STATE_VERSION);
    state_put_fields(s, cpu_fields, ARRAY_SIZE(cpu_fields), cpu);
}

/* Parsed into a scratch hart and checked; the live hart changes only when
 * everything is valid. */
int riscv_cpu_load(struct riscv_cpu *cpu, struct state_buf *s)
{
    if (state_get_u8(s) != CPU_STATE_VERSION || s->err)
        return -EINVAL;
    struct riscv_cpu *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    state_get_fields(s, cpu_fields, ARRAY_SIZE(cpu_fields), n);
    /* priv 2 is reserved; a hart's id is the board's, not the stream's */
    int r = s->err || n->priv == 2 || n->x[0] != 0 || n->mhartid != cpu->mhartid ? -EINVAL : 0;
    if (r == 0) {
        state_copy_fields(cpu_fields, ARRAY_SIZE(cpu_fields), cpu, n);
        riscv_tlb_reset(cpu); /* contexts, M-mode mappings and jump cache alike */
        riscv_mode_changed(cpu);
    }
    free(n);
    return r;
}
