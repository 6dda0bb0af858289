/* The software RISC-V RV64GC engine: one hart's architectural state plus the
 * engine's caches (software TLB, decoded-block cache). Privileged spec 1.12,
 * M/S/U, Sv39/Sv48, Sstc. The engine knows guest RAM and the MMIO bus; it
 * does not know which devices sit on the bus. */
#ifndef CONDO_RISCV_H
#define CONDO_RISCV_H

#include "condo/bus.h"
#include "condo/clock.h"
#include "condo/guest_ram.h"
#include "condo/state.h"

enum { PRV_U = 0, PRV_S = 1, PRV_M = 3 };

/* mip/mie bits */
#define MIP_SSIP (1ull << 1)
#define MIP_MSIP (1ull << 3)
#define MIP_STIP (1ull << 5)
#define MIP_MTIP (1ull << 7)
#define MIP_SEIP (1ull << 9)
#define MIP_MEIP (1ull << 11)

#define RISCV_TLB_SIZE 256
#define RISCV_TLB_CTX 8
#define RISCV_JC_SIZE 4096

struct riscv_tlb_entry {
    uint64_t tag;     /* virtual page address; ~0 when empty */
    uintptr_t addend; /* host address = vaddr + addend (RAM only) */
};

/* Direct-mapped TLBs for reads, writes and fetches. */
struct riscv_tlb_set {
    struct riscv_tlb_entry r[RISCV_TLB_SIZE];
    struct riscv_tlb_entry w[RISCV_TLB_SIZE];
    struct riscv_tlb_entry x[RISCV_TLB_SIZE];
};

/* The translations of one address space: one satp value (mode, ASID and
 * root table). A hart keeps several, so switching address spaces and back
 * finds them still there; sfence.vma with an ASID drops only that ASID's. */
struct riscv_tlb_ctx {
    uint64_t satp;  /* the address space; ~0 when the context is unused */
    uint64_t stamp; /* last time it was switched to (least recently used goes) */
    struct riscv_tlb_set u;   /* U-mode accesses */
    struct riscv_tlb_set s;   /* S-mode accesses */
    struct riscv_tlb_set sum; /* S-mode loads and stores with mstatus.SUM set */
};

struct riscv_block;

/* Jump cache: virtual pc -> block. An entry holds while the fetch TLB
 * still maps the pc's page as it did when the entry was made (addend). */
struct riscv_jc_entry {
    uint64_t vpc;
    struct riscv_block *block;
    uintptr_t addend;
};

enum riscv_run_result {
    RISCV_RUN_BUDGET = 0, /* instruction budget used up */
    RISCV_RUN_WFI,        /* hart waits for an interrupt */
    RISCV_RUN_EXIT,       /* exit requested (poweroff, HTIF, fault) */
};

struct riscv_cpu {
    /* --- architectural state (saved) --- */
    uint64_t x[33]; /* x[32] is a write sink for rd = x0 */
    uint64_t pc;
    uint64_t f[32];
    uint32_t fflags, frm;
    uint32_t priv;
    uint64_t mstatus, misa, medeleg, mideleg, mie, mip, mtvec, mscratch, mepc, mcause,
        mtval, mcounteren, menvcfg, mcountinhibit;
    uint64_t stvec, sscratch, sepc, scause, stval, satp, scounteren, senvcfg, stimecmp;
    uint64_t pmpcfg[2], pmpaddr[16];
    uint64_t instret;
    uint64_t reservation; /* LR/SC: reserved address; ~0 when none */
    uint64_t reservation_val; /* what the LR read there (SC compares it) */
    /* every hart of the machine, this one included (NULL: this one only):
     * a page that becomes a code page is write-protected on all of them */
    struct riscv_cpu *const *harts;
    unsigned nharts;
    uint64_t mhartid;
    bool wfi;

    /* --- engine state (rebuilt, not saved) --- */
    struct guest_ram *ram;
    struct bus *bus;
    struct vm_clock *clock;
    struct riscv_tlb_set tlb_m;  /* M-mode accesses (no translation) */
    struct riscv_tlb_ctx tlb_ctx[RISCV_TLB_CTX];
    struct riscv_tlb_ctx *ctx;   /* the one for satp */
    uint64_t ctx_stamp;
    struct riscv_tlb_set *tlb_data; /* set for loads/stores (MPRV, SUM aware) */
    struct riscv_tlb_set *tlb_fetch;
    struct riscv_jc_entry jc[RISCV_JC_SIZE];
    struct riscv_block_cache *bcache;
    /* Proof that compiled code ran (tests read these): calls from the
     * interpreter loop into a block's native code, and how many of them
     * went on into other blocks' native code through chained links. */
    uint64_t jit_calls, jit_went_on;
    int exit_request;
    /* exception being raised by a helper */
    uint64_t exc_cause, exc_tval;
    /* HTIF (bare-metal tests): guest-physical tohost/fromhost, 0 = none */
    uint64_t htif_tohost, htif_fromhost;
    int htif_exit_code; /* valid when exit_request == RISCV_EXIT_HTIF */
    /* Counters for tests and debugging: entries into compiled code and
     * what the last one returned (-1, or the index the interpreter took
     * over at); calls of the shared F/D helper (interpreter and JIT). */
    uint64_t jit_runs;
    int jit_last_k;
    uint64_t fp_exec_calls;
};

enum {
    RISCV_EXIT_NONE = 0,
    RISCV_EXIT_HTIF = 1,    /* the bare-metal program wrote tohost */
    RISCV_EXIT_REQUEST = 2, /* a device asked the machine to stop (syscon) */
    RISCV_EXIT_FAULT = 3,
    RISCV_EXIT_KICK = 4,    /* another thread wants the slice to end early */
};

int riscv_cpu_init(struct riscv_cpu *cpu, struct guest_ram *ram, struct bus *bus,
                   struct vm_clock *clock, unsigned hartid);
void riscv_cpu_free(struct riscv_cpu *cpu);
void riscv_cpu_reset(struct riscv_cpu *cpu, uint64_t pc);
/* An idle hart gives its engine caches' memory back to the host: its
 * decoded blocks and their compiled code are dropped (as when the caches
 * fill up) and their pages released; what the guest runs next is decoded
 * again. Only from the hart's own thread, between riscv_cpu_run calls.
 * Returns the bytes the caches held (0: too little to be worth it, nothing
 * done). */
size_t riscv_cpu_trim(struct riscv_cpu *cpu);
/* Run until the budget (instructions, roughly: checked at block ends) is
 * used, the hart waits (WFI with nothing pending) or an exit is requested. */
enum riscv_run_result riscv_cpu_run(struct riscv_cpu *cpu, uint64_t budget);
/* End the current riscv_cpu_run soon (at the next block boundary the
 * interpreter sees; it returns RISCV_RUN_EXIT with exit_request
 * RISCV_EXIT_KICK, which the caller clears). Any thread. */
void riscv_cpu_interrupt(struct riscv_cpu *cpu);
/* Set or clear hardware-driven mip bits (ACLINT, PLIC). Any thread: the
 * update is atomic. */
void riscv_cpu_set_mip(struct riscv_cpu *cpu, uint64_t mask, int level);
/* Re-evaluate Sstc STIP against the clock; returns the next stimecmp
 * deadline in mtime ticks (UINT64_MAX if none). */
uint64_t riscv_cpu_update_timer(struct riscv_cpu *cpu);
/* True if an interrupt is pending and enabled in mie (wakes WFI). */
static inline bool riscv_cpu_has_wakeup(const struct riscv_cpu *cpu)
{
    return (cpu->mip & cpu->mie) != 0;
}

void riscv_cpu_save(struct riscv_cpu *cpu, struct state_buf *s);
int riscv_cpu_load(struct riscv_cpu *cpu, struct state_buf *s);

/* The ISA string we advertise in the device tree: only what is implemented. */
#define RISCV_ISA_STRING "rv64imafdc_zicntr_zicsr_zifencei_sstc"
#define RISCV_MMU_TYPE "riscv,sv48"

#endif
