/* Native code for hot blocks on x86-64 hosts: not written yet. */
#include "jit.h"

bool riscv_jit_available(void)
{
    return false;
}

riscv_jit_fn riscv_jit_compile(struct riscv_cpu *cpu, const struct riscv_block *b)
{
    (void)cpu;
    (void)b;
    return NULL;
}

void riscv_jit_flush(void)
{
}

bool riscv_jit_needs_flush(void)
{
    return false;
}
