/* condo ISA tests: interrupt helpers (assembly only). */
#ifndef CONDO_ISA_IRQ_H
#define CONDO_ISA_IRQ_H

#define INTR(n) ((1 << 63) | (n))

/* a0 = mtime */
#define READ_MTIME(reg) li t6, CLINT_MTIME; ld reg, 0(t6)
/* mtimecmp = reg */
#define SET_MTIMECMP(reg) li t6, CLINT_MTIMECMP; sd reg, 0(t6)
#define MTIMECMP_OFF li t5, -1; SET_MTIMECMP(t5)
#define MTIMECMP_NOW li t5, 0; SET_MTIMECMP(t5)
#define SET_MSIP(v) li t6, CLINT_MSIP; li t5, v; sw t5, 0(t6)

/* Spin up to `count` iterations waiting for a trap that resumes at
 * `label`; fall through to fail if none comes. */
#define SPIN_FOR_TRAP(count)  \
    li t4, count;             \
9980:                         \
    addi t4, t4, -1;          \
    bnez t4, 9980b;           \
    j fail

#define SPIN_LIMIT 2000000

#endif
