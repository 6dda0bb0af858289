/* Control and status registers (privileged spec 1.12). Every CSR not listed
 * here raises an illegal-instruction exception: OpenSBI and Linux probe
 * features that way. */
#include "internal.h"

enum {
    CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
    CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02,
    CSR_HPMCOUNTER3 = 0xc03, CSR_HPMCOUNTER31 = 0xc1f,
    CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105, CSR_SCOUNTEREN = 0x106,
    CSR_SENVCFG = 0x10a, CSR_SSCRATCH = 0x140, CSR_SEPC = 0x141, CSR_SCAUSE = 0x142,
    CSR_STVAL = 0x143, CSR_SIP = 0x144, CSR_STIMECMP = 0x14d, CSR_SATP = 0x180,
    CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13, CSR_MHARTID = 0xf14,
    CSR_MCONFIGPTR = 0xf15,
    CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302, CSR_MIDELEG = 0x303,
    CSR_MIE = 0x304, CSR_MTVEC = 0x305, CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a,
    CSR_MCOUNTINHIBIT = 0x320, CSR_MHPMEVENT3 = 0x323, CSR_MHPMEVENT31 = 0x33f,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342, CSR_MTVAL = 0x343,
    CSR_MIP = 0x344, CSR_PMPCFG0 = 0x3a0, CSR_PMPCFG2 = 0x3a2, CSR_PMPADDR0 = 0x3b0,
    CSR_PMPADDR15 = 0x3bf,
    CSR_TSELECT = 0x7a0, CSR_TDATA1 = 0x7a1, CSR_TDATA2 = 0x7a2, CSR_TDATA3 = 0x7a3,
    CSR_TINFO = 0x7a4, CSR_TCONTROL = 0x7a5,
    CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02, CSR_MHPMCOUNTER3 = 0xb03,
    CSR_MHPMCOUNTER31 = 0xb1f,
};

#define SSTATUS_MASK (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_XS | \
                      MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)
#define SSTATUS_WRITE (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | \
                       MSTATUS_MXR)
#define MSTATUS_WRITE (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | \
                       MSTATUS_MPP | MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR |  \
                       MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)
#define S_INTS (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define M_INTS (S_INTS | MIP_MSIP | MIP_MTIP | MIP_MEIP)
#define DELEG_EXC_MASK 0xb3ffull /* exceptions 0-15 except 10, 11 (ecall M), 14 */

static uint64_t mstatus_read(const struct riscv_cpu *cpu)
{
    uint64_t v = cpu->mstatus;
    if ((v & MSTATUS_FS) == MSTATUS_FS_DIRTY)
        v |= MSTATUS_SD;
    return v;
}

/* The interpreter counts a block's instructions when it enters the block,
 * and a CSR instruction always ends its block: the count the CSR
 * instruction itself must see (those retired before it) is one less. */
static uint64_t retired_before(const struct riscv_cpu *cpu)
{
    return cpu->instret - 1;
}

static bool fp_enabled(const struct riscv_cpu *cpu)
{
    return (cpu->mstatus & MSTATUS_FS) != 0;
}

/* Counter access from S/U is gated by mcounteren (and scounteren for U). */
static bool counter_allowed(const struct riscv_cpu *cpu, unsigned idx)
{
    if (cpu->priv == PRV_M)
        return true;
    if (!((cpu->mcounteren >> idx) & 1))
        return false;
    if (cpu->priv == PRV_U && !((cpu->scounteren >> idx) & 1))
        return false;
    return true;
}

uint64_t riscv_read_mip(struct riscv_cpu *cpu)
{
    if (cpu->menvcfg & MENVCFG_STCE)
        riscv_cpu_update_timer(cpu);
    return cpu->mip;
}

int riscv_csr_read(struct riscv_cpu *cpu, unsigned csr, uint64_t *val)
{
    if (((csr >> 8) & 3) > cpu->priv)
        return -1;
    switch (csr) {
    case CSR_FFLAGS:
        if (!fp_enabled(cpu)) return -1;
        *val = cpu->fflags;
        return 0;
    case CSR_FRM:
        if (!fp_enabled(cpu)) return -1;
        *val = cpu->frm;
        return 0;
    case CSR_FCSR:
        if (!fp_enabled(cpu)) return -1;
        *val = (cpu->frm << 5) | cpu->fflags;
        return 0;
    case CSR_CYCLE:
    case CSR_INSTRET:
        if (!counter_allowed(cpu, csr - CSR_CYCLE)) return -1;
        *val = retired_before(cpu);
        return 0;
    case CSR_TIME:
        if (!counter_allowed(cpu, 1)) return -1;
        *val = vm_clock_mtime(cpu->clock);
        return 0;
    case CSR_MCYCLE:
    case CSR_MINSTRET:
        *val = retired_before(cpu);
        return 0;
    /* Debug triggers (Sdtrig) with no triggers: tselect and tdata* exist,
     * tdata1 reads type 0 ("no trigger"), tinfo says only type 0; writes are
     * ignored. Debuggers and riscv-tests probe them this way. */
    case CSR_TSELECT: case CSR_TDATA1: case CSR_TDATA2: case CSR_TDATA3: case CSR_TCONTROL:
        *val = 0;
        return 0;
    case CSR_TINFO:
        *val = 1;
        return 0;
    case CSR_SSTATUS: *val = mstatus_read(cpu) & SSTATUS_MASK; return 0;
    case CSR_SIE: *val = cpu->mie & cpu->mideleg; return 0;
    case CSR_STVEC: *val = cpu->stvec; return 0;
    case CSR_SCOUNTEREN: *val = cpu->scounteren; return 0;
    case CSR_SENVCFG: *val = cpu->senvcfg; return 0;
    case CSR_SSCRATCH: *val = cpu->sscratch; return 0;
    case CSR_SEPC: *val = cpu->sepc; return 0;
    case CSR_SCAUSE: *val = cpu->scause; return 0;
    case CSR_STVAL: *val = cpu->stval; return 0;
    case CSR_SIP: *val = riscv_read_mip(cpu) & cpu->mideleg; return 0;
    case CSR_STIMECMP:
        if (cpu->priv == PRV_S && (!(cpu->menvcfg & MENVCFG_STCE) || !(cpu->mcounteren & 2)))
            return -1;
        *val = cpu->stimecmp;
        return 0;
    case CSR_SATP:
        if (cpu->priv == PRV_S && (cpu->mstatus & MSTATUS_TVM)) return -1;
        *val = cpu->satp;
        return 0;
    case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID: case CSR_MCONFIGPTR:
        *val = 0;
        return 0;
    case CSR_MHARTID: *val = cpu->mhartid; return 0;
    case CSR_MSTATUS: *val = mstatus_read(cpu); return 0;
    case CSR_MISA: *val = cpu->misa; return 0;
    case CSR_MEDELEG: *val = cpu->medeleg; return 0;
    case CSR_MIDELEG: *val = cpu->mideleg; return 0;
    case CSR_MIE: *val = cpu->mie; return 0;
    case CSR_MTVEC: *val = cpu->mtvec; return 0;
    case CSR_MCOUNTEREN: *val = cpu->mcounteren; return 0;
    case CSR_MENVCFG: *val = cpu->menvcfg; return 0;
    case CSR_MCOUNTINHIBIT: *val = cpu->mcountinhibit; return 0;
    case CSR_MSCRATCH: *val = cpu->mscratch; return 0;
    case CSR_MEPC: *val = cpu->mepc; return 0;
    case CSR_MCAUSE: *val = cpu->mcause; return 0;
    case CSR_MTVAL: *val = cpu->mtval; return 0;
    case CSR_MIP: *val = riscv_read_mip(cpu); return 0;
    case CSR_PMPCFG0: *val = cpu->pmpcfg[0]; return 0;
    case CSR_PMPCFG2: *val = cpu->pmpcfg[1]; return 0;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR15) {
        *val = cpu->pmpaddr[csr - CSR_PMPADDR0];
        return 0;
    }
    /* hpm counters and events: implemented as read-only zero */
    if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
        (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31)) {
        *val = 0;
        return 0;
    }
    if (csr >= CSR_HPMCOUNTER3 && csr <= CSR_HPMCOUNTER31) {
        if (!counter_allowed(cpu, csr - CSR_CYCLE)) return -1;
        *val = 0;
        return 0;
    }
    return -1;
}

/* PMP: WARL storage (OpenSBI detects regions and granularity by writing
 * and reading back); not enforced. Locked entries ignore writes. */
static void pmpcfg_write(struct riscv_cpu *cpu, unsigned idx, uint64_t val)
{
    uint64_t old = cpu->pmpcfg[idx], nv = 0;
    for (unsigned b = 0; b < 8; b++) {
        uint8_t o = (uint8_t)(old >> (8 * b)), n = (uint8_t)(val >> (8 * b));
        if (o & 0x80)
            n = o;                 /* locked */
        else
            n &= 0x9f;             /* bits 5-6 reserved */
        if ((n & 3) == 2)          /* W without R is reserved: drop W */
            n &= (uint8_t)~2;
        nv |= (uint64_t)n << (8 * b);
    }
    cpu->pmpcfg[idx] = nv;
}

int riscv_csr_write(struct riscv_cpu *cpu, unsigned csr, uint64_t val)
{
    if (((csr >> 8) & 3) > cpu->priv || ((csr >> 10) & 3) == 3)
        return -1;
    switch (csr) {
    case CSR_FFLAGS:
        if (!fp_enabled(cpu)) return -1;
        cpu->fflags = val & 0x1f;
        cpu->mstatus |= MSTATUS_FS_DIRTY;
        return 0;
    case CSR_FRM:
        if (!fp_enabled(cpu)) return -1;
        cpu->frm = val & 7;
        cpu->mstatus |= MSTATUS_FS_DIRTY;
        return 0;
    case CSR_FCSR:
        if (!fp_enabled(cpu)) return -1;
        cpu->fflags = val & 0x1f;
        cpu->frm = (val >> 5) & 7;
        cpu->mstatus |= MSTATUS_FS_DIRTY;
        return 0;
    case CSR_SSTATUS:
        val = (cpu->mstatus & ~SSTATUS_WRITE) | (val & SSTATUS_WRITE);
        goto write_mstatus;
    case CSR_MSTATUS:
        val = (cpu->mstatus & ~MSTATUS_WRITE) | (val & MSTATUS_WRITE);
    write_mstatus: {
        uint64_t mpp = (val & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
        if (mpp == 2) /* reserved: keep the old MPP */
            val = (val & ~MSTATUS_MPP) | (cpu->mstatus & MSTATUS_MPP);
        uint64_t changed = cpu->mstatus ^ val;
        cpu->mstatus = (val & ~MSTATUS_SD & ~(MSTATUS_UXL | MSTATUS_SXL)) |
                       (2ull << 32) | (2ull << 34);
        if (changed & MSTATUS_MXR)
            riscv_tlb_flush(cpu); /* rare: read permissions change everywhere */
        if (changed & (MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM))
            riscv_mode_changed(cpu); /* SUM has a TLB set of its own */
        return 0;
    }
    case CSR_SIE:
        cpu->mie = (cpu->mie & ~cpu->mideleg) | (val & cpu->mideleg & S_INTS);
        return 0;
    case CSR_STVEC: cpu->stvec = val & ~2ull; return 0;
    case CSR_SCOUNTEREN: cpu->scounteren = val & 7; return 0;
    case CSR_SENVCFG: cpu->senvcfg = val & 1; return 0;
    case CSR_SSCRATCH: cpu->sscratch = val; return 0;
    case CSR_SEPC: cpu->sepc = val & ~1ull; return 0;
    case CSR_SCAUSE: cpu->scause = val; return 0;
    case CSR_STVAL: cpu->stval = val; return 0;
    case CSR_SIP:
        /* only SSIP is writable through sip, and only when delegated */
        if (cpu->mideleg & MIP_SSIP)
            riscv_mip_assign(cpu, MIP_SSIP, val);
        return 0;
    case CSR_STIMECMP:
        if (cpu->priv == PRV_S && (!(cpu->menvcfg & MENVCFG_STCE) || !(cpu->mcounteren & 2)))
            return -1;
        cpu->stimecmp = val;
        riscv_cpu_update_timer(cpu);
        return 0;
    case CSR_SATP: {
        if (cpu->priv == PRV_S && (cpu->mstatus & MSTATUS_TVM)) return -1;
        uint64_t mode = val >> 60;
        if (mode != 0 && mode != 8 && mode != 9)
            return 0; /* unsupported mode: the whole write is ignored */
        /* ASID: 16 bits writable; PPN: 44 bits */
        cpu->satp = val & ((0xfull << 60) | (0xffffull << 44) | ((1ull << 44) - 1));
        if (mode == 0)
            cpu->satp = 0;
        /* No flush: translations are kept per address space, and a guest
         * that changed page tables says so with sfence.vma. */
        riscv_tlb_switch(cpu);
        return 0;
    }
    case CSR_MISA: return 0; /* WARL: fixed */
    case CSR_MEDELEG: cpu->medeleg = val & DELEG_EXC_MASK; return 0;
    case CSR_MIDELEG: cpu->mideleg = val & S_INTS; return 0;
    case CSR_MIE: cpu->mie = val & M_INTS; return 0;
    case CSR_MTVEC: cpu->mtvec = val & ~2ull; return 0;
    case CSR_MCOUNTEREN: cpu->mcounteren = val & 7; return 0;
    case CSR_MENVCFG:
        cpu->menvcfg = val & (MENVCFG_STCE | 1);
        riscv_cpu_update_timer(cpu);
        return 0;
    case CSR_MCOUNTINHIBIT: cpu->mcountinhibit = val & 5; return 0;
    case CSR_MSCRATCH: cpu->mscratch = val; return 0;
    case CSR_MEPC: cpu->mepc = val & ~1ull; return 0;
    case CSR_MCAUSE: cpu->mcause = val; return 0;
    case CSR_MTVAL: cpu->mtval = val; return 0;
    case CSR_MIP: {
        uint64_t mask = MIP_SSIP | MIP_SEIP;
        if (!(cpu->menvcfg & MENVCFG_STCE))
            mask |= MIP_STIP;
        riscv_mip_assign(cpu, mask, val);
        return 0;
    }
    case CSR_MCYCLE: case CSR_MINSTRET:
        /* the next instruction reads `val`: the interpreter will count
         * that one when it enters its block */
        cpu->instret = val;
        return 0;
    case CSR_TSELECT: case CSR_TDATA1: case CSR_TDATA2: case CSR_TDATA3: case CSR_TINFO:
    case CSR_TCONTROL:
        return 0;
    case CSR_PMPCFG0: pmpcfg_write(cpu, 0, val); return 0;
    case CSR_PMPCFG2: pmpcfg_write(cpu, 1, val); return 0;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR15) {
        unsigned i = csr - CSR_PMPADDR0;
        uint8_t cfg = (uint8_t)(cpu->pmpcfg[i / 8] >> (8 * (i % 8)));
        if (!(cfg & 0x80))
            cpu->pmpaddr[i] = val & ((1ull << 54) - 1);
        return 0;
    }
    if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
        (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31))
        return 0;
    return -1;
}

/* A CSR instruction (rd and rs1 are the raw register numbers here). A CSR
 * is read only when the instruction reads it (csrrw/csrrwi with rd = x0
 * does not) and written only when it writes it (csrrs/csrrc with rs1 = x0
 * and their immediate forms with 0 do not), so side effects match the ISA.
 * -1: illegal, and nothing changed. */
int riscv_csr_op(struct riscv_cpu *cpu, const struct rv_insn *in)
{
    unsigned csr = (unsigned)in->imm & 0xfff, op = in->op;
    bool imm = op == OP_CSRRWI || op == OP_CSRRSI || op == OP_CSRRCI;
    uint64_t v = imm ? in->rs1 : cpu->x[in->rs1];
    bool rd_live = in->rd != 0;
    bool swap = op == OP_CSRRW || op == OP_CSRRWI;
    bool write = swap || in->rs1 != 0;
    uint64_t old = 0;
    if ((!swap || rd_live) && riscv_csr_read(cpu, csr, &old) < 0)
        return -1;
    if (write) {
        uint64_t nv = swap ? v : (op == OP_CSRRS || op == OP_CSRRSI) ? old | v : old & ~v;
        if (riscv_csr_write(cpu, csr, nv) < 0)
            return -1;
    }
    if (rd_live)
        cpu->x[in->rd] = old;
    return 0;
}

bool riscv_csr_uses_instret(unsigned csr)
{
    return csr == CSR_CYCLE || csr == CSR_INSTRET || csr == CSR_MCYCLE || csr == CSR_MINSTRET;
}

int riscv_jit_csr(struct riscv_cpu *cpu, const struct rv_insn *in)
{
    uint64_t satp = cpu->satp, mstatus = cpu->mstatus;
    if (riscv_csr_op(cpu, in) < 0)
        return -1;
    /* Compiled code goes on to the next block unless the loop has
     * something to do: take an interrupt (the interpreter's loop checks
     * after every CSR instruction), or stop trusting links made under the
     * old address space or before a TLB flush (a change of MXR). */
    if ((cpu->mip & cpu->mie) || cpu->satp != satp || ((cpu->mstatus ^ mstatus) & MSTATUS_MXR) ||
        cpu->exit_request)
        return 1;
    return 0;
}
