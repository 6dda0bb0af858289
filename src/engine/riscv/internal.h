/* Engine-internal definitions shared by decode, mmu, csr and the
 * interpreter. Not part of the public surface (see include/condo/riscv.h). */
#ifndef CONDO_RISCV_INTERNAL_H
#define CONDO_RISCV_INTERNAL_H

#include "condo/riscv.h"
#include "ops.h"

enum riscv_op {
#define X(name) OP_##name,
    RISCV_OPS(X)
#undef X
        OP_COUNT
};

/* One decoded instruction. rd = 32 means "x0": results go to a sink. */
struct rv_insn {
    uint16_t op;
    uint8_t rd, rs1, rs2, rs3;
    uint8_t rm;  /* FP rounding mode field */
    uint8_t len; /* 2 or 4 bytes */
    uint16_t pcoff; /* byte offset of this instruction in its block */
    int32_t imm; /* immediate; CSR number for CSR ops */
    uint32_t raw; /* encoding, for mtval on illegal instruction */
};

#define BLOCK_MAX_INSNS 64

/* How the interpreter's loop (exec.c) and compiled code (jit.h) hand over.
 * The loop has counted the block into cpu->instret and `left` and calls
 * riscv_jit_run(). Compiled code returns -1 when it ran whole blocks and
 * cpu->pc is the next pc, or the index k of the first instruction of `b`
 * it did not execute: the interpreter resumes there (an op left to it, a
 * software-TLB miss, ...). Compiled code never raises exceptions. It may
 * go on into the compiled code of following blocks, as the loop would:
 * only while left > 0, taking each block's instruction count from it (the
 * loop then adds what it took to cpu->instret). */
struct riscv_cpu;
struct riscv_block;
struct riscv_jit_run {
    struct riscv_block *b; /* in: the block to run; out: the block it stopped
                            * in, or NULL when it stopped between blocks */
    int64_t left;          /* the loop's instruction budget (riscv_cpu_run) */
    void *exit_site;       /* out: an exit riscv_jit_chain() can link, or NULL */
};

/* A run of decoded instructions from one physical page, ending at a
 * control-flow or system instruction (or the page end), for one virtual
 * pc: the same code mapped at two addresses makes two blocks. */
struct riscv_block {
    uint64_t ppc;     /* guest-physical address of the first instruction */
    uint64_t vpc;     /* the virtual pc it was found at */
    uint64_t ram_page;
    uint32_t gen;     /* page generation when decoded */
    uint16_t ninsns;
    uint16_t bytes;
    struct riscv_block *hash_next;
    /* Links to the blocks that followed this one (a direct successor
     * cache: most blocks have one or two), valid while the fetch TLB maps
     * vpc's page with the same addend. */
    struct riscv_link {
        uint64_t vpc;
        struct riscv_block *block;
        uintptr_t addend;
    } link[2];
    /* Native code for this block (jit.h), compiled once the block has run
     * JIT_THRESHOLD times; NULL until then or when nothing compiles. */
    void *jit;
    uint32_t exec_count;
    struct rv_insn insns[];
};

/* Decoded-block cache: a hash of blocks by physical address, allocated from
 * one arena. When the arena is full, everything is dropped at once. */
#define BCACHE_HASH_BITS 16
struct riscv_block_cache {
    struct riscv_block *hash[1u << BCACHE_HASH_BITS];
    uint8_t *arena;
    size_t arena_size, arena_used;
    uint64_t flushes; /* arena flushes: blocks from before are gone */
    struct riscv_jit_code *jit; /* native code of these blocks (jit.h), or NULL */
};

/* exception causes */
enum {
    EXC_INSN_MISALIGNED = 0,
    EXC_INSN_ACCESS = 1,
    EXC_ILLEGAL = 2,
    EXC_BREAKPOINT = 3,
    EXC_LOAD_MISALIGNED = 4,
    EXC_LOAD_ACCESS = 5,
    EXC_STORE_MISALIGNED = 6,
    EXC_STORE_ACCESS = 7,
    EXC_ECALL_U = 8,
    EXC_ECALL_S = 9,
    EXC_ECALL_M = 11,
    EXC_INSN_PAGE = 12,
    EXC_LOAD_PAGE = 13,
    EXC_STORE_PAGE = 15,
};

enum access_type { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 };

/* mstatus bits */
#define MSTATUS_SIE (1ull << 1)
#define MSTATUS_MIE (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP (1ull << 8)
#define MSTATUS_VS (3ull << 9)
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_MPP (3ull << 11)
#define MSTATUS_FS (3ull << 13)
#define MSTATUS_FS_DIRTY (3ull << 13)
#define MSTATUS_XS (3ull << 15)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)
#define MSTATUS_TVM (1ull << 20)
#define MSTATUS_TW (1ull << 21)
#define MSTATUS_TSR (1ull << 22)
#define MSTATUS_UXL (3ull << 32)
#define MSTATUS_SXL (3ull << 34)
#define MSTATUS_SD (1ull << 63)

#define MENVCFG_STCE (1ull << 63)

/* decode.c */
/* Decode one instruction from its (up to) 32 bits; returns its length. */
unsigned riscv_decode(uint32_t raw, struct rv_insn *in);
bool riscv_op_ends_block(unsigned op);

/* block.c */
struct riscv_block *riscv_block_lookup(struct riscv_cpu *cpu, uint64_t pc);

/* mmu.c */
int riscv_translate(struct riscv_cpu *cpu, uint64_t va, enum access_type acc, uint64_t *pa);
/* Slow paths: return 0, or -1 with cpu->exc_cause/exc_tval set. */
int riscv_load_slow(struct riscv_cpu *cpu, uint64_t va, unsigned size, uint64_t *val);
int riscv_store_slow(struct riscv_cpu *cpu, uint64_t va, unsigned size, uint64_t val);
/* Fill the data TLB for an aligned RAM access of how & 0xff bytes (a
 * store when how & 0x100) at va, changing nothing else: 0, or -1 when it
 * needs the slow path (a fault, MMIO, a store to a code page or tohost). */
int riscv_tlb_fill_data(struct riscv_cpu *cpu, uint64_t va, unsigned how);
/* Host pointer for an aligned RAM access of `size` bytes for an AMO/LR/SC. */
void *riscv_amo_ptr(struct riscv_cpu *cpu, uint64_t va, unsigned size, bool write);
/* After a read-modify-write through riscv_amo_ptr's pointer: the page's
 * blocks go if another hart decoded it meanwhile. */
void riscv_amo_done(struct riscv_cpu *cpu, const void *host, unsigned size);
/* Effective privilege for loads/stores (MPRV makes M-mode use MPP's). */
static inline unsigned riscv_data_priv(const struct riscv_cpu *cpu)
{
    if (cpu->priv == PRV_M && (cpu->mstatus & MSTATUS_MPRV))
        return (unsigned)((cpu->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    return cpu->priv;
}

/* tlb.c */
/* Drop every translation (sfence.vma x0, x0; a change of mstatus.MXR). */
void riscv_tlb_flush(struct riscv_cpu *cpu);
/* Drop everything, M-mode mappings and the jump cache included (reset). */
void riscv_tlb_reset(struct riscv_cpu *cpu);
/* sfence.vma x0, rs2: drop one ASID's translations. */
void riscv_tlb_flush_asid(struct riscv_cpu *cpu, uint64_t asid);
/* sfence.vma rs1, rs2: drop one page's translations (asid < 0: all). */
void riscv_tlb_flush_page(struct riscv_cpu *cpu, uint64_t va, int64_t asid);
/* satp was written: switch to the address space's context. */
void riscv_tlb_switch(struct riscv_cpu *cpu);
/* A RAM page now holds decoded code: no fast-path writes to it. */
void riscv_tlb_drop_writes(struct riscv_cpu *cpu, uint64_t ram_page);
/* The privilege, MPRV/MPP or SUM changed: pick the TLB sets to use. */
void riscv_mode_changed(struct riscv_cpu *cpu);

/* fp_exec.c: one F/D operation (not a load or store) with its checks and
 * flags; -1 (nothing changed) when it is illegal (FS off, bad rm). */
int riscv_fp_exec(struct riscv_cpu *cpu, const struct rv_insn *in);

/* csr.c */
int riscv_csr_read(struct riscv_cpu *cpu, unsigned csr, uint64_t *val);
int riscv_csr_write(struct riscv_cpu *cpu, unsigned csr, uint64_t val);
/* A CSR instruction: 0, or -1 when illegal (nothing changed). */
int riscv_csr_op(struct riscv_cpu *cpu, const struct rv_insn *in);
/* The CSR reads or writes the retired-instruction count (which compiled
 * code does not keep up to date in cpu->instret while it runs). */
bool riscv_csr_uses_instret(unsigned csr);
/* riscv_csr_op() for compiled code: -1 illegal, 1 when the interpreter's
 * loop must run next (an interrupt may be due, satp or MXR changed), 0. */
int riscv_jit_csr(struct riscv_cpu *cpu, const struct rv_insn *in);

/* cpu.c */
void riscv_raise(struct riscv_cpu *cpu, uint64_t cause, uint64_t tval, bool interrupt);
bool riscv_check_interrupts(struct riscv_cpu *cpu);
uint64_t riscv_read_mip(struct riscv_cpu *cpu);

/* mip is shared with other threads (devices raise interrupts from the I/O
 * thread): every change is one atomic read-modify-write of the bits it
 * owns, so no update is lost. */
static inline void riscv_mip_assign(struct riscv_cpu *cpu, uint64_t mask, uint64_t val)
{
    __atomic_fetch_and(&cpu->mip, ~(mask & ~val), __ATOMIC_RELAXED);
    __atomic_fetch_or(&cpu->mip, mask & val, __ATOMIC_RELAXED);
}

/* FENCE's imm is bits 31:20 (fm, pred, succ; W = 1, R = 2 in each set).
 * On the x86-64 host (TSO) the only order a fence must add is an earlier
 * store before a later load; FENCE.TSO (fm = 8) never asks for it. */
static inline bool riscv_fence_orders_store_load(int32_t imm)
{
    unsigned fm = ((unsigned)imm >> 8) & 0xf, pred = ((unsigned)imm >> 4) & 0xf,
             succ = (unsigned)imm & 0xf;
    return fm != 8 && (pred & 1) && (succ & 2);
}

static inline void riscv_tlb_entry_clear(struct riscv_tlb_entry *e)
{
    e->tag = ~0ull;
}

/* The guest RAM page a (valid) TLB entry maps. */
static inline uint64_t riscv_tlb_ram_page(const struct guest_ram *ram,
                                          const struct riscv_tlb_entry *e)
{
    return (uint64_t)((e->tag + e->addend) - (uintptr_t)ram->host) >> GUEST_PAGE_SHIFT;
}

#endif
