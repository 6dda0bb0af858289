/* Shared by the x86-64 JIT's files (jit_x86_64*.c): the compile context,
 * the register convention and the helpers the op templates use. Not part
 * of the engine's interface (that is jit.h).
 *
 * Registers while compiled code runs:
 *   rdi       cpu (guest x[] at offsetof(x), f[] at offsetof(f))
 *   rsp       [rsp] = the struct riscv_jit_run of the call
 *   r15       the budget `left` (run->left), so a block boundary costs
 *             no memory access for it
 *   rbx, rbp, r12, r13, r14
 *             global guest registers (jit_global_reg[]): loaded when C code
 *             enters compiled code and stored when it returns, so they stay
 *             in host registers across chained blocks
 *   rsi, r8, r9, r10, r11
 *             block-local guest registers: each block keeps its most used
 *             other registers here, loaded at its start and written back at
 *             its exits
 *   rax, rcx, rdx, xmm0-xmm2
 *             scratch (rcx shift counts, rdx:rax multiply and divide)
 * The globals sit in callee-saved registers, so a call to a C helper only
 * saves the block-local registers and rdi. */
#ifndef CONDO_RISCV_JIT_X86_64_H
#define CONDO_RISCV_JIT_X86_64_H

#include <stddef.h>

#include "jit.h"
#include "jit_x86_64_emit.h"

#define CPU_OFF(field) ((int32_t)offsetof(struct riscv_cpu, field))
#define RUN_OFF(field) ((int32_t)offsetof(struct riscv_jit_run, field))
#define BLK_OFF(field) ((int32_t)offsetof(struct riscv_block, field))

/* A block's code starts with its chain entry: the budget check
 *   test r15, r15 / jle <budget exit> / sub r15, ninsns
 * then its body. Links jump to the chain entry, C enters at the body (the
 * loop has counted that block already). */
#define JIT_CHAIN_LEN 13

#define NGLOBAL 5
#define NLOCAL 5
extern const int8_t jit_global_host[NGLOBAL];
extern const uint8_t jit_global_reg[NGLOBAL];
extern const int8_t jit_local_host[NLOCAL];

#define MAX_FIXUPS (2 * (BLOCK_MAX_INSNS + 1))
#define MAX_SLOW (BLOCK_MAX_INSNS + 1)
#define JIT_SLOW_RELS 8

/* Which guest register each local host register holds (jit_x86_64_ra.c):
 * valid = holds its value, dirty = newer than cpu->x[]. */
struct jit_ra {
    int8_t guest[NLOCAL]; /* -1: free */
    bool valid[NLOCAL];
    bool dirty[NLOCAL];
};

/* The integer registers one instruction reads and writes. */
struct jit_use {
    uint8_t rs[2], nrs;
    uint8_t rd;     /* 0 or >= 32: none */
    bool helper_rd; /* rd may be written by a C helper, in memory */
};

struct riscv_jit_code;
struct jit_ctx {
    struct jit_emit e;
    struct riscv_jit_code *code;
    const struct riscv_block *b;
    uint64_t vpc;      /* the block's virtual pc: all its pcs are constants */
    int8_t host[33];   /* host register holding guest x[i], -1: in memory */
    bool local[33];    /* that register is in a local host register now */
    bool written[33];  /* guest register written by the compiled code */
    struct jit_ra ra, top_ra; /* local registers now, and at the loop top */
    struct jit_use use[BLOCK_MAX_INSNS + 1];
    unsigned n;        /* instructions compiled */
    struct {
        uint8_t *rel;
        unsigned k;
        struct jit_ra ra; /* what to write back there */
    } fix[MAX_FIXUPS]; /* side exits: jumps to "return k" stubs */
    unsigned nfix;
    struct {
        uint8_t *rel[JIT_SLOW_RELS]; /* jccs into the slow path */
        unsigned nrel;
        uint8_t *resume;
        const struct rv_insn *in;
        unsigned k;
        struct jit_ra ra;
    } slow[MAX_SLOW];  /* out-of-line helper calls of FP ops */
    unsigned nslow;
    struct {
        uint8_t *rel;  /* the site check's jne */
        uint8_t *resume;
        const struct rv_insn *in;
        int8_t base;   /* host register holding x[rs1], -1: rs1 is x0 */
        uint8_t size;
        bool write;
        unsigned k;
        uint64_t *site;
        struct jit_ra ra;
    } miss[BLOCK_MAX_INSNS + 1]; /* out-of-line TLB lookups of memory ops */
    unsigned nmiss;
    uint8_t *slot[2];  /* chainable exits: rel32 of their jmp */
    uint64_t slot_pc[2];
    unsigned nslot;
    unsigned page_off; /* the block's offset in its page */
    unsigned ninsns;   /* the block's instruction count (for loops) */
    uint8_t *top;      /* the body after the register loads */
    uint8_t *budget_exit_rel; /* the chain entry's jle */
    bool fs_checked;   /* mstatus.FS checked (once per block) */
    bool fs_dirtied;   /* mstatus.FS set dirty (once per block) */
};

/* One code buffer per block cache (so per hart). */
struct riscv_jit_code {
    uint8_t *base;        /* the writable view */
    ptrdiff_t exec_delta; /* executable view = base + exec_delta */
    size_t used;
    /* int enter(cpu, body, run): the C entry (first bytes of the buffer) */
    int (*enter)(struct riscv_cpu *cpu, void *body, struct riscv_jit_run *run);
    /* the shared exit: eax = the result, rdx = the block for run->b */
    uint8_t *exit;
    size_t reserved; /* bytes of the buffer that survive a flush */
    size_t data_low; /* data (memory-op sites) grows down from the end to here */
    bool full;
    struct jit_ctx ctx; /* compile scratch: per hart, not on the stack */
};

/* memory operands */
static inline struct jit_rm jit_xmem(unsigned r)
{
    return jit_m(RDI, (int32_t)(offsetof(struct riscv_cpu, x) + 8 * r));
}

static inline struct jit_rm jit_fmem(unsigned r, int32_t extra)
{
    return jit_m(RDI, (int32_t)(offsetof(struct riscv_cpu, f) + 8 * r) + extra);
}

static inline struct jit_rm jit_xsrc(const struct jit_ctx *c, unsigned r)
{
    return c->host[r] >= 0 ? jit_r(c->host[r]) : jit_xmem(r);
}

/* h = x[r] */
void jit_load_to(struct jit_ctx *c, int h, unsigned r);
/* x[rd] = h; x0 (rd 32, the interpreter's sink) keeps nothing */
void jit_store_from(struct jit_ctx *c, unsigned rd, int h);
/* Where to compute a result for rd: its own host register, unless the
 * operand `keep` (still needed after the first write) lives there. */
int jit_dest(const struct jit_ctx *c, unsigned rd, int keep);
/* A jump (rel32 field) that leaves the block returning k. */
void jit_side_exit(struct jit_ctx *c, uint8_t *rel, unsigned k);
/* Call fn(cpu, rsi, edx) (rsi: `arg`, or rax when arg_in_rax), saving the
 * caller-saved registers in use; the result is in eax. */
void jit_emit_call(struct jit_ctx *c, const void *fn, bool arg_in_rax, uint64_t arg,
                   uint32_t arg2);
/* Call fn(cpu, in) for an instruction the helper executes itself, reading
 * x[rs] and writing x[rd] (0: none) in memory. */
void jit_emit_helper(struct jit_ctx *c, const void *fn, const struct rv_insn *in, unsigned rs,
                     unsigned rd);
/* Call riscv_fp_exec(cpu, in) right here; leave returning k when it
 * refuses (the interpreter then raises the exception). */
void jit_emit_fp_call(struct jit_ctx *c, const struct rv_insn *in, unsigned k);
/* The software-TLB fast path of a load or store of `size` bytes at
 * x[rs1] + imm: returns the host memory operand to access (it uses rcx;
 * rax and rdx are free again), or leaves returning k on a TLB miss or a
 * misaligned address. */
struct jit_rm jit_emit_access(struct jit_ctx *c, const struct rv_insn *in, unsigned k,
                              unsigned size, bool write);

/* jit_x86_64_ra.c: the local registers */
void jit_ra_init(struct jit_ctx *c, unsigned n);
void jit_ra_prologue(struct jit_ctx *c);
void jit_ra_apply(struct jit_ctx *c);
void jit_ra_before(struct jit_ctx *c, unsigned i);
void jit_ra_after(struct jit_ctx *c, unsigned i);
/* rd's local register (if it has one) now holds its newest value. */
void jit_ra_written(struct jit_ctx *c, unsigned rd);
/* Store the dirty local registers (the state stays as it is). */
void jit_writeback_locals(struct jit_ctx *c);
/* Back to the loop top's state (a loop's back edge). */
void jit_ra_to_top(struct jit_ctx *c);

/* jit_x86_64_ops.c: integer, memory and control-flow ops */
int jit_op_uses(unsigned op);
void jit_emit_insn(struct jit_ctx *c, const struct rv_insn *in, unsigned k);
/* jit_x86_64_fp.c: F and D */
bool jit_fp_compiles(unsigned op);
void jit_emit_fp(struct jit_ctx *c, const struct rv_insn *in, unsigned k);
bool jit_host_fma(void);

/* What a compiled op reads and writes (of the integer registers). */
enum { U_RS1 = 1, U_RS2 = 2, U_RD = 4, U_MEM = 8 };

#endif
