/* Optional native-code compiler for hot blocks (x86-64 hosts). On other
 * hosts, or with CONDO_JIT=0 in the environment, riscv_jit_available()
 * is false and everything is interpreted. */
#ifndef CONDO_RISCV_JIT_H
#define CONDO_RISCV_JIT_H

#include "internal.h"

#define JIT_THRESHOLD 8

bool riscv_jit_available(void);
/* Compile b (or its first part) for b->vpc and set b->jit; false when not
 * even its first instruction compiles or the code buffer is full. */
bool riscv_jit_compile(struct riscv_cpu *cpu, struct riscv_block *b);
/* Run run->b's compiled code (see struct riscv_jit_run in internal.h). */
int riscv_jit_run(struct riscv_cpu *cpu, struct riscv_jit_run *run);
/* Compiled code ended with cpu->pc the start of `next`, a compiled block
 * just found valid for that pc: make the exit it took (`exit_site` from
 * riscv_jit_run, NULL for a jalr) lead straight into next's code in future,
 * guarded by checks that the translation and next's page still hold. */
void riscv_jit_chain(struct riscv_cpu *cpu, void *exit_site, struct riscv_block *next);
/* Turn compiling on or off for riscv_cpu_run calls from now on (tests
 * compare against the interpreter so). Off on hosts without a JIT. */
void riscv_jit_enable(bool on);
/* Drop all of cpu's compiled code (called when its block cache is
 * flushed: each block cache has its own code buffer). */
void riscv_jit_flush(struct riscv_cpu *cpu);
/* True when cpu's code buffer filled up: the block cache flushes (blocks
 * and code together) at its next allocation. */
bool riscv_jit_needs_flush(struct riscv_cpu *cpu);
/* Give the code buffer's pages back to the host (after riscv_jit_flush:
 * only the entry and exit stubs stay). Returns the bytes used before. */
size_t riscv_jit_trim(struct riscv_cpu *cpu);
/* Bytes of code and sites the buffer holds now. */
size_t riscv_jit_used(struct riscv_cpu *cpu);
/* Release cpu's code buffer (riscv_cpu_free). */
void riscv_jit_free(struct riscv_cpu *cpu);

#endif
