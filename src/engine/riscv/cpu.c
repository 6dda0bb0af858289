/* Hart lifecycle, traps and interrupts, the Sstc timer, and save/load. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    cpu->bcache->arena = malloc(BCACHE_ARENA_SIZE);
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
        free(cpu->bcache->arena);
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

#define CPU_STATE_VERSION 1

void riscv_cpu_save(struct riscv_cpu *cpu, struct state_buf *s)
{
    state_put_u8(s, CPU_STATE_VERSION);
    for (int i = 0; i < 32; i++)
        state_put_u64(s, cpu->x[i]);
    state_put_u64(s, cpu->pc);
    for (int i = 0; i < 32; i++)
        state_put_u64(s, cpu->f[i]);
    state_put_u32(s, cpu->fflags);
    state_put_u32(s, cpu->frm);
    state_put_u32(s, cpu->priv);
    const uint64_t csrs[] = { cpu->mstatus, cpu->misa, cpu->medeleg, cpu->mideleg, cpu->mie,
                              cpu->mip, cpu->mtvec, cpu->mscratch, cpu->mepc, cpu->mcause,
                              cpu->mtval, cpu->mcounteren, cpu->menvcfg, cpu->mcountinhibit,
                              cpu->stvec, cpu->sscratch, cpu->sepc, cpu->scause, cpu->stval,
                              cpu->satp, cpu->scounteren, cpu->senvcfg, cpu->stimecmp,
                              cpu->instret, cpu->reservation, cpu->mhartid };
    for (size_t i = 0; i < ARRAY_SIZE(csrs); i++)
        state_put_u64(s, csrs[i]);
    for (int i = 0; i < 2; i++)
        state_put_u64(s, cpu->pmpcfg[i]);
    for (int i = 0; i < 16; i++)
        state_put_u64(s, cpu->pmpaddr[i]);
    state_put_u8(s, cpu->wfi);
}

int riscv_cpu_load(struct riscv_cpu *cpu, struct state_buf *s)
{
    if (state_get_u8(s) != CPU_STATE_VERSION)
        return -EINVAL;
    for (int i = 0; i < 32; i++)
        cpu->x[i] = state_get_u64(s);
    cpu->x[0] = 0;
    cpu->pc = state_get_u64(s);
    for (int i = 0; i < 32; i++)
        cpu->f[i] = state_get_u64(s);
    cpu->fflags = state_get_u32(s) & 0x1f;
    cpu->frm = state_get_u32(s) & 7;
    cpu->priv = state_get_u32(s);
    if (cpu->priv == 2)
        return -EINVAL;
    uint64_t *csrs[] = { &cpu->mstatus, &cpu->misa, &cpu->medeleg, &cpu->mideleg, &cpu->mie,
                         &cpu->mip, &cpu->mtvec, &cpu->mscratch, &cpu->mepc, &cpu->mcause,
                         &cpu->mtval, &cpu->mcounteren, &cpu->menvcfg, &cpu->mcountinhibit,
                         &cpu->stvec, &cpu->sscratch, &cpu->sepc, &cpu->scause, &cpu->stval,
                         &cpu->satp, &cpu->scounteren, &cpu->senvcfg, &cpu->stimecmp,
                         &cpu->instret, &cpu->reservation, &cpu->mhartid };
    for (size_t i = 0; i < ARRAY_SIZE(csrs); i++)
        *csrs[i] = state_get_u64(s);
    for (int i = 0; i < 2; i++)
        cpu->pmpcfg[i] = state_get_u64(s);
    for (int i = 0; i < 16; i++)
        cpu->pmpaddr[i] = state_get_u64(s);
    cpu->wfi = state_get_u8(s);
    if (s->err || cpu->priv > PRV_M)
        return -EINVAL;
    riscv_tlb_reset(cpu);
    return 0;
}
