/* Optional native-code compiler for hot blocks (x86-64 hosts). On other
 * hosts, or with CONDO_JIT=0 in the environment, riscv_jit_available()
 * is false and everything is interpreted. */
#ifndef CONDO_RISCV_JIT_H
#define CONDO_RISCV_JIT_H

#include "internal.h"

#define JIT_THRESHOLD 8

bool riscv_jit_available(void);
/* Compile b (or its first part); NULL when not even its first instruction
 * compiles or the code buffer is full. */
riscv_jit_fn riscv_jit_compile(struct riscv_cpu *cpu, const struct riscv_block *b);
/* Drop all compiled code (called when the block cache is flushed). */
void riscv_jit_flush(void);
/* True when the code buffer filled up: the block cache flushes (blocks and
 * code together) at its next allocation. */
bool riscv_jit_needs_flush(void);

#endif
