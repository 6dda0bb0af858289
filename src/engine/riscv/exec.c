/* The interpreter: runs decoded blocks with a computed-goto dispatch.
 * Loads and stores hit the software TLB (one compare that also rejects
 * misaligned accesses) and fall back to mmu.c. Interrupts are checked at
 * block boundaries; CSR and system instructions end their block so their
 * effects are seen there. */
#include <string.h>

#include "internal.h"
#include "jit.h"

static inline uint64_t box_s(uint32_t v)
{
    return 0xffffffff00000000ull | v;
}

static inline int64_t sx32(uint64_t v)
{
    return (int64_t)(int32_t)(uint32_t)v;
}

/* The block that followed `prev` last time, if that link still holds: the
 * fetch TLB maps the pc's page as it did then, and the page is unchanged. */
static inline struct riscv_block *follow_link(struct riscv_cpu *cpu, struct riscv_block *prev)
{
    uint64_t pc = cpu->pc;
    const struct riscv_tlb_entry *e = &cpu->tlb_fetch->x[(pc >> 12) & (RISCV_TLB_SIZE - 1)];
    for (int i = 0; i < 2; i++) {
        struct riscv_link *l = &prev->link[i];
        if (l->vpc == pc && l->block && e->tag == (pc & ~0xfffull) && e->addend == l->addend &&
            l->block->gen == cpu->ram->page_gen[l->block->ram_page])
            return l->block;
    }
    return NULL;
}

static void add_link(struct riscv_cpu *cpu, struct riscv_block *prev, struct riscv_block *b)
{
    /* keep the most recent successor in slot 0, the one before in slot 1 */
    const struct riscv_tlb_entry *e = &cpu->tlb_fetch->x[(cpu->pc >> 12) & (RISCV_TLB_SIZE - 1)];
    prev->link[1] = prev->link[0];
    prev->link[0] = (struct riscv_link){ cpu->pc, b, e->addend };
}

enum riscv_run_result riscv_cpu_run(struct riscv_cpu *cpu, uint64_t budget)
{
    static const void *const labels[OP_COUNT] = {
#define X(name) [OP_##name] = &&L_##name,
        RISCV_OPS(X)
#undef X
    };
    uint64_t *const x = cpu->x;
    uint64_t *const f = cpu->f;
    int64_t left = (int64_t)budget;
    struct riscv_block *b, *prev = NULL;
    uint64_t flushes = cpu->bcache->flushes;
    const bool jit_on = riscv_jit_available();
    /* The last block ended in compiled code (through chain_site, when it
     * can be linked): tell the JIT which block came next. */
    bool chain = false;
    void *chain_site = NULL;
    const struct rv_insn *in;
    struct riscv_tlb_set *tlbd;
    uint64_t bpc;

    while (left > 0) {
        if (unlikely(cpu->exit_request))
            return RISCV_RUN_EXIT;
        if (unlikely(cpu->mip & cpu->mie)) {
            if (riscv_check_interrupts(cpu)) {
                prev = NULL;
                chain = false;
            }
        }
        b = prev ? follow_link(cpu, prev) : NULL;
        if (!b) {
            b = riscv_block_lookup(cpu, cpu->pc);
            if (unlikely(!b)) {
                riscv_raise(cpu, cpu->exc_cause, cpu->exc_tval, false);
                prev = NULL;
                chain = false;
                left--; /* a trap loop on fetch faults must still end the slice */
                continue;
            }
            if (unlikely(cpu->bcache->flushes != flushes)) {
                flushes = cpu->bcache->flushes; /* prev is gone, and its code */
                prev = NULL;
                chain = false;
            }
            if (prev && b->ppc != ~0ull && prev->ppc != ~0ull)
                add_link(cpu, prev, b);
        }
        if (chain) {
            /* compiled code to compiled code: next time without coming here */
            if (b->jit)
                riscv_jit_chain(cpu, chain_site, b);
            chain = false;
        }
        prev = b;
        bpc = cpu->pc;
        tlbd = cpu->tlb_data;
        cpu->instret += b->ninsns;
        left -= b->ninsns;
        in = b->insns;
        if (b->jit) {
            struct riscv_jit_run run = { b, left, NULL };
            int k = riscv_jit_run(cpu, &run);
            cpu->jit_runs++;
            cpu->jit_calls++;
            cpu->jit_went_on += run.b != b;
            cpu->jit_last_k = k;
            /* compiled code may have gone on to other blocks: count them */
            cpu->instret += (uint64_t)(left - run.left);
            left = run.left;
            prev = b = run.b;
            if (k < 0) {
                chain = b != NULL; /* NULL: stopped before a linked block */
                chain_site = run.exit_site;
                goto block_done;
            }
            bpc = b->vpc;
            in = b->insns + k; /* the interpreter takes over from there */
        } else if (jit_on && ++b->exec_count == JIT_THRESHOLD && b->ppc != ~0ull) {
            riscv_jit_compile(cpu, b);
        }
        goto *labels[in->op];

#define NEXT                                                                            \
    do {                                                                                \
        in++;                                                                           \
        goto *labels[in->op];                                                           \
    } while (0)
#define RD x[in->rd]
#define RS1 x[in->rs1]
#define RS2 x[in->rs2]
#define IMM ((int64_t)in->imm)
#define PC (bpc + in->pcoff)
#define NPC (bpc + in->pcoff + in->len)
#define END(target)                                                                     \
    do {                                                                                \
        cpu->pc = (target);                                                             \
        goto block_done;                                                                \
    } while (0)
#define RAISE(cause, tval)                                                              \
    do {                                                                                \
        cpu->exc_cause = (cause);                                                       \
        cpu->exc_tval = (tval);                                                         \
        goto exception;                                                                 \
    } while (0)
#define ILLEGAL() RAISE(EXC_ILLEGAL, in->raw)

/* Fast path: the tag holds the page address; or-ing in the low address bits
 * that must be zero for an aligned access makes one compare check both. */
#define LOAD(type, size, ext)                                                           \
    do {                                                                                \
        uint64_t va = RS1 + IMM;                                                        \
        const struct riscv_tlb_entry *e = &tlbd->r[(va >> 12) & (RISCV_TLB_SIZE - 1)];  \
        if (likely(e->tag == (va & ~(uint64_t)(0xfff & ~(size - 1))))) {               \
            type v;                                                                     \
            memcpy(&v, (void *)(e->addend + (uintptr_t)va), size);                      \
            RD = ext(v);                                                                \
        } else {                                                                        \
            uint64_t v;                                                                 \
            if (riscv_load_slow(cpu, va, size, &v) < 0)                                 \
                goto exception;                                                         \
            RD = ext((type)v);                                                          \
        }                                                                               \
        NEXT;                                                                           \
    } while (0)
#define STORE_VAL(type, size, val)                                                      \
    do {                                                                                \
        uint64_t va = RS1 + IMM;                                                        \
        struct riscv_tlb_entry *e = &tlbd->w[(va >> 12) & (RISCV_TLB_SIZE - 1)];        \
        type v = (type)(val);                                                           \
        if (likely(e->tag == (va & ~(uint64_t)(0xfff & ~(size - 1))))) {               \
            memcpy((void *)(e->addend + (uintptr_t)va), &v, size);                      \
        } else {                                                                        \
            if (riscv_store_slow(cpu, va, size, v) < 0)                                 \
                goto exception;                                                         \
        }                                                                               \
        NEXT;                                                                           \
    } while (0)
#define S8(v) ((int64_t)(int8_t)(v))
#define S16(v) ((int64_t)(int16_t)(v))
#define S32(v) ((int64_t)(int32_t)(v))
#define U(v) ((uint64_t)(v))

    L_ILLEGAL:
        ILLEGAL();
    L_END_BLOCK:
        END(PC);
    L_NOP:
    L_FENCE:
        /* x86-64 is TSO: only a store before a load can be reordered */
        if (riscv_fence_orders_store_load(IMM))
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
        NEXT;
    L_LUI: RD = (uint64_t)IMM; NEXT;
    L_AUIPC: RD = PC + (uint64_t)IMM; NEXT;
    L_JAL: {
        uint64_t t = PC + (uint64_t)IMM;
        RD = NPC;
        END(t);
    }
    L_JALR: {
        uint64_t t = (RS1 + (uint64_t)IMM) & ~1ull;
        RD = NPC;
        END(t);
    }
    L_BEQ: END(RS1 == RS2 ? PC + (uint64_t)IMM : NPC);
    L_BNE: END(RS1 != RS2 ? PC + (uint64_t)IMM : NPC);
    L_BLT: END((int64_t)RS1 < (int64_t)RS2 ? PC + (uint64_t)IMM : NPC);
    L_BGE: END((int64_t)RS1 >= (int64_t)RS2 ? PC + (uint64_t)IMM : NPC);
    L_BLTU: END(RS1 < RS2 ? PC + (uint64_t)IMM : NPC);
    L_BGEU: END(RS1 >= RS2 ? PC + (uint64_t)IMM : NPC);

    L_LB: LOAD(uint8_t, 1, S8);
    L_LH: LOAD(uint16_t, 2, S16);
    L_LW: LOAD(uint32_t, 4, S32);
    L_LD: LOAD(uint64_t, 8, U);
    L_LBU: LOAD(uint8_t, 1, U);
    L_LHU: LOAD(uint16_t, 2, U);
    L_LWU: LOAD(uint32_t, 4, U);
    L_SB: STORE_VAL(uint8_t, 1, RS2);
    L_SH: STORE_VAL(uint16_t, 2, RS2);
    L_SW: STORE_VAL(uint32_t, 4, RS2);
    L_SD: STORE_VAL(uint64_t, 8, RS2);

    L_ADDI: RD = RS1 + (uint64_t)IMM; NEXT;
    L_SLTI: RD = (int64_t)RS1 < IMM; NEXT;
    L_SLTIU: RD = RS1 < (uint64_t)IMM; NEXT;
    L_XORI: RD = RS1 ^ (uint64_t)IMM; NEXT;
    L_ORI: RD = RS1 | (uint64_t)IMM; NEXT;
    L_ANDI: RD = RS1 & (uint64_t)IMM; NEXT;
    L_SLLI: RD = RS1 << in->imm; NEXT;
    L_SRLI: RD = RS1 >> in->imm; NEXT;
    L_SRAI: RD = (uint64_t)((int64_t)RS1 >> in->imm); NEXT;
    L_ADD: RD = RS1 + RS2; NEXT;
    L_SUB: RD = RS1 - RS2; NEXT;
    L_SLL: RD = RS1 << (RS2 & 63); NEXT;
    L_SLT: RD = (int64_t)RS1 < (int64_t)RS2; NEXT;
    L_SLTU: RD = RS1 < RS2; NEXT;
    L_XOR: RD = RS1 ^ RS2; NEXT;
    L_SRL: RD = RS1 >> (RS2 & 63); NEXT;
    L_SRA: RD = (uint64_t)((int64_t)RS1 >> (RS2 & 63)); NEXT;
    L_OR: RD = RS1 | RS2; NEXT;
    L_AND: RD = RS1 & RS2; NEXT;
    L_ADDIW: RD = (uint64_t)sx32(RS1 + (uint64_t)IMM); NEXT;
    L_SLLIW: RD = (uint64_t)sx32((uint32_t)RS1 << in->imm); NEXT;
    L_SRLIW: RD = (uint64_t)sx32((uint32_t)RS1 >> in->imm); NEXT;
    L_SRAIW: RD = (uint64_t)(int64_t)((int32_t)RS1 >> in->imm); NEXT;
    L_ADDW: RD = (uint64_t)sx32(RS1 + RS2); NEXT;
    L_SUBW: RD = (uint64_t)sx32(RS1 - RS2); NEXT;
    L_SLLW: RD = (uint64_t)sx32((uint32_t)RS1 << (RS2 & 31)); NEXT;
    L_SRLW: RD = (uint64_t)sx32((uint32_t)RS1 >> (RS2 & 31)); NEXT;
    L_SRAW: RD = (uint64_t)(int64_t)((int32_t)RS1 >> (RS2 & 31)); NEXT;

    L_MUL: RD = RS1 * RS2; NEXT;
    L_MULH: RD = (uint64_t)(((__int128)(int64_t)RS1 * (__int128)(int64_t)RS2) >> 64); NEXT;
    L_MULHSU:
        RD = (uint64_t)(((__int128)(int64_t)RS1 * (__int128)(unsigned __int128)RS2) >> 64);
        NEXT;
    L_MULHU:
        RD = (uint64_t)(((unsigned __int128)RS1 * (unsigned __int128)RS2) >> 64);
        NEXT;
    L_DIV: {
        int64_t a = (int64_t)RS1, d = (int64_t)RS2;
        RD = d == 0 ? ~0ull : (a == INT64_MIN && d == -1) ? (uint64_t)a : (uint64_t)(a / d);
        NEXT;
    }
    L_DIVU: RD = RS2 == 0 ? ~0ull : RS1 / RS2; NEXT;
    L_REM: {
        int64_t a = (int64_t)RS1, d = (int64_t)RS2;
        RD = d == 0 ? (uint64_t)a : (a == INT64_MIN && d == -1) ? 0 : (uint64_t)(a % d);
        NEXT;
    }
    L_REMU: RD = RS2 == 0 ? RS1 : RS1 % RS2; NEXT;
    L_MULW: RD = (uint64_t)sx32(RS1 * RS2); NEXT;
    L_DIVW: {
        int32_t a = (int32_t)RS1, d = (int32_t)RS2;
        RD = (uint64_t)(int64_t)(d == 0 ? -1 : (a == INT32_MIN && d == -1) ? a : a / d);
        NEXT;
    }
    L_DIVUW: {
        uint32_t a = (uint32_t)RS1, d = (uint32_t)RS2;
        RD = (uint64_t)sx32(d == 0 ? 0xffffffffu : a / d);
        NEXT;
    }
    L_REMW: {
        int32_t a = (int32_t)RS1, d = (int32_t)RS2;
        RD = (uint64_t)(int64_t)(d == 0 ? a : (a == INT32_MIN && d == -1) ? 0 : a % d);
        NEXT;
    }
    L_REMUW: {
        uint32_t a = (uint32_t)RS1, d = (uint32_t)RS2;
        RD = (uint64_t)sx32(d == 0 ? a : a % d);
        NEXT;
    }

    L_FENCE_I: END(NPC); /* blocks follow page generations: nothing to flush */
    L_ECALL:
        RAISE(EXC_ECALL_U + (cpu->priv == PRV_M ? 3 : cpu->priv), 0);
    L_EBREAK:
        RAISE(EXC_BREAKPOINT, PC);
    L_MRET: {
        if (cpu->priv != PRV_M)
            ILLEGAL();
        uint64_t s = cpu->mstatus;
        uint32_t mpp = (uint32_t)((s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
        s = (s & ~MSTATUS_MIE) | ((s & MSTATUS_MPIE) ? MSTATUS_MIE : 0);
        s |= MSTATUS_MPIE;
        s &= ~MSTATUS_MPP;
        if (mpp != PRV_M)
            s &= ~MSTATUS_MPRV;
        cpu->mstatus = s;
        cpu->priv = mpp;
        riscv_mode_changed(cpu);
        END(cpu->mepc);
    }
    L_SRET: {
        if (cpu->priv == PRV_U || (cpu->priv == PRV_S && (cpu->mstatus & MSTATUS_TSR)))
            ILLEGAL();
        uint64_t s = cpu->mstatus;
        uint32_t spp = (s & MSTATUS_SPP) ? PRV_S : PRV_U;
        s = (s & ~MSTATUS_SIE) | ((s & MSTATUS_SPIE) ? MSTATUS_SIE : 0);
        s |= MSTATUS_SPIE;
        s &= ~(MSTATUS_SPP | MSTATUS_MPRV);
        cpu->mstatus = s;
        cpu->priv = spp;
        riscv_mode_changed(cpu);
        END(cpu->sepc);
    }
    L_WFI:
        if (cpu->priv == PRV_U || (cpu->priv == PRV_S && (cpu->mstatus & MSTATUS_TW)))
            ILLEGAL();
        cpu->pc = NPC;
        if (!(cpu->mip & cpu->mie)) {
            cpu->wfi = true;
            return RISCV_RUN_WFI;
        }
        goto block_done;
    L_SFENCE_VMA:
        if (cpu->priv == PRV_U || (cpu->priv == PRV_S && (cpu->mstatus & MSTATUS_TVM)))
            ILLEGAL();
        if (in->rs1)
            riscv_tlb_flush_page(cpu, RS1, in->rs2 ? (int64_t)(RS2 & 0xffff) : -1);
        else if (in->rs2)
            riscv_tlb_flush_asid(cpu, RS2);
        else
            riscv_tlb_flush(cpu);
        END(NPC);

    /* CSRs: csr.c (shared with compiled code) */
    L_CSRRW:
    L_CSRRS:
    L_CSRRC:
    L_CSRRWI:
    L_CSRRSI:
    L_CSRRCI:
        if (riscv_csr_op(cpu, in) < 0)
            ILLEGAL();
        END(NPC);

    /* Atomics: other harts run at the same time, so every read-modify-
     * write is one locked host operation on the (aligned, little-endian)
     * guest word: a compare-and-swap loop, which is also a full barrier
     * (aq and rl need nothing more). */
#define AMO_W(expr)                                                                     \
    do {                                                                                \
        uint32_t *p = (uint32_t *)riscv_amo_ptr(cpu, RS1, 4, true);                     \
        if (!p)                                                                         \
            goto exception;                                                             \
        uint32_t a = __atomic_load_n(p, __ATOMIC_RELAXED), bb = (uint32_t)RS2;          \
        (void)bb;                                                                       \
        while (!__atomic_compare_exchange_n(p, &a, (uint32_t)(expr), false,             \
                                            __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))        \
            ;                                                                           \
        riscv_amo_done(cpu, p, 4);                                                      \
        RD = (uint64_t)sx32(a);                                                         \
        NEXT;                                                                           \
    } while (0)
#define AMO_D(expr)                                                                     \
    do {                                                                                \
        uint64_t *p = (uint64_t *)riscv_amo_ptr(cpu, RS1, 8, true);                     \
        if (!p)                                                                         \
            goto exception;                                                             \
        uint64_t a = __atomic_load_n(p, __ATOMIC_RELAXED), bb = RS2;                    \
        (void)bb;                                                                       \
        while (!__atomic_compare_exchange_n(p, &a, (uint64_t)(expr), false,             \
                                            __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))        \
            ;                                                                           \
        riscv_amo_done(cpu, p, 8);                                                      \
        RD = a;                                                                         \
        NEXT;                                                                           \
    } while (0)
    /* LR/SC across harts: LR notes the address and the value it read; SC
     * stores only if the word still holds that value, as one host
     * compare-and-swap. Another hart's store of a different value in
     * between makes it fail; one that wrote the same value back (A-B-A)
     * goes unnoticed, as under QEMU's MTTCG. */
    L_LR_W: {
        uint32_t *p = (uint32_t *)riscv_amo_ptr(cpu, RS1, 4, false);
        if (!p)
            goto exception;
        uint32_t v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
        cpu->reservation = RS1;
        cpu->reservation_val = v;
        RD = (uint64_t)sx32(v);
        NEXT;
    }
    L_LR_D: {
        uint64_t *p = (uint64_t *)riscv_amo_ptr(cpu, RS1, 8, false);
        if (!p)
            goto exception;
        uint64_t v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
        cpu->reservation = RS1;
        cpu->reservation_val = v;
        RD = v;
        NEXT;
    }
    L_SC_W:
    L_SC_D: {
        unsigned size = in->op == OP_SC_W ? 4 : 8;
        uint64_t va = RS1;
        if (va & (size - 1))
            RAISE(EXC_STORE_MISALIGNED, va);
        if (cpu->reservation != va) {
            cpu->reservation = ~0ull;
            RD = 1;
            NEXT;
        }
        cpu->reservation = ~0ull;
        uint8_t *p = riscv_amo_ptr(cpu, va, size, true);
        if (!p)
            goto exception;
        bool ok;
        if (size == 4) {
            uint32_t old = (uint32_t)cpu->reservation_val;
            ok = __atomic_compare_exchange_n((uint32_t *)p, &old, (uint32_t)RS2, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
        } else {
            uint64_t old = cpu->reservation_val;
            ok = __atomic_compare_exchange_n((uint64_t *)p, &old, RS2, false, __ATOMIC_SEQ_CST,
                                             __ATOMIC_RELAXED);
        }
        if (ok)
            riscv_amo_done(cpu, p, size);
        RD = !ok;
        NEXT;
    }
    L_AMOSWAP_W: AMO_W(bb);
    L_AMOADD_W: AMO_W(a + bb);
    L_AMOXOR_W: AMO_W(a ^ bb);
    L_AMOAND_W: AMO_W(a & bb);
    L_AMOOR_W: AMO_W(a | bb);
    L_AMOMIN_W: AMO_W((int32_t)a < (int32_t)bb ? a : bb);
    L_AMOMAX_W: AMO_W((int32_t)a > (int32_t)bb ? a : bb);
    L_AMOMINU_W: AMO_W(a < bb ? a : bb);
    L_AMOMAXU_W: AMO_W(a > bb ? a : bb);
    L_AMOSWAP_D: AMO_D(bb);
    L_AMOADD_D: AMO_D(a + bb);
    L_AMOXOR_D: AMO_D(a ^ bb);
    L_AMOAND_D: AMO_D(a & bb);
    L_AMOOR_D: AMO_D(a | bb);
    L_AMOMIN_D: AMO_D((int64_t)a < (int64_t)bb ? a : bb);
    L_AMOMAX_D: AMO_D((int64_t)a > (int64_t)bb ? a : bb);
    L_AMOMINU_D: AMO_D(a < bb ? a : bb);
    L_AMOMAXU_D: AMO_D(a > bb ? a : bb);

    /* Floating point: FS=Off makes every F/D instruction illegal. */
#define FP_CHECK()                                                                      \
    do {                                                                                \
        if (unlikely(!(cpu->mstatus & MSTATUS_FS)))                                     \
            ILLEGAL();                                                                  \
    } while (0)
#define FP_DIRTY() (cpu->mstatus |= MSTATUS_FS_DIRTY)

    L_FLW: {
        FP_CHECK();
        uint64_t va = RS1 + IMM, v;
        const struct riscv_tlb_entry *e = &tlbd->r[(va >> 12) & (RISCV_TLB_SIZE - 1)];
        if (likely(e->tag == (va & ~(uint64_t)0xffc))) {
            uint32_t w;
            memcpy(&w, (void *)(e->addend + (uintptr_t)va), 4);
            v = w;
        } else if (riscv_load_slow(cpu, va, 4, &v) < 0) {
            goto exception;
        }
        f[in->rd] = box_s((uint32_t)v);
        FP_DIRTY();
        NEXT;
    }
    L_FLD: {
        FP_CHECK();
        uint64_t va = RS1 + IMM, v;
        const struct riscv_tlb_entry *e = &tlbd->r[(va >> 12) & (RISCV_TLB_SIZE - 1)];
        if (likely(e->tag == (va & ~(uint64_t)0xff8)))
            memcpy(&v, (void *)(e->addend + (uintptr_t)va), 8);
        else if (riscv_load_slow(cpu, va, 8, &v) < 0)
            goto exception;
        f[in->rd] = v;
        FP_DIRTY();
        NEXT;
    }
    L_FSW: FP_CHECK(); STORE_VAL(uint32_t, 4, f[in->rs2]);
    L_FSD: FP_CHECK(); STORE_VAL(uint64_t, 8, f[in->rs2]);

    /* Everything else in F and D: fp_exec.c, shared with compiled code. */
    L_FMADD_S: L_FMSUB_S: L_FNMSUB_S: L_FNMADD_S: L_FMADD_D: L_FMSUB_D: L_FNMSUB_D:
    L_FNMADD_D: L_FADD_S: L_FSUB_S: L_FMUL_S: L_FDIV_S: L_FADD_D: L_FSUB_D: L_FMUL_D:
    L_FDIV_D: L_FSQRT_S: L_FSQRT_D: L_FSGNJ_S: L_FSGNJN_S: L_FSGNJX_S: L_FSGNJ_D:
    L_FSGNJN_D: L_FSGNJX_D: L_FMIN_S: L_FMAX_S: L_FMIN_D: L_FMAX_D: L_FCVT_W_S:
    L_FCVT_WU_S: L_FCVT_L_S: L_FCVT_LU_S: L_FCVT_W_D: L_FCVT_WU_D: L_FCVT_L_D:
    L_FCVT_LU_D: L_FMV_X_W: L_FMV_X_D: L_FEQ_S: L_FLT_S: L_FLE_S: L_FEQ_D: L_FLT_D:
    L_FLE_D: L_FCLASS_S: L_FCLASS_D: L_FCVT_S_W: L_FCVT_S_WU: L_FCVT_S_L: L_FCVT_S_LU:
    L_FCVT_D_W: L_FCVT_D_WU: L_FCVT_D_L: L_FCVT_D_LU: L_FMV_W_X: L_FMV_D_X: L_FCVT_S_D:
    L_FCVT_D_S:
        if (unlikely(riscv_fp_exec(cpu, in) < 0))
            ILLEGAL();
        NEXT;

    exception:
        /* The faulting instruction and those after it did not retire. */
        cpu->instret -= (uint64_t)(b->ninsns - (in - b->insns));
        cpu->pc = PC;
        riscv_raise(cpu, cpu->exc_cause, cpu->exc_tval, false);
        prev = NULL;
    block_done:;
    }
    return RISCV_RUN_BUDGET;
}
