/* condo bench: a minimal M-mode runtime for the CPU workload.
 * Sets a trap vector (so a fault is reported instead of hanging), a stack,
 * zeroes .bss, turns the FPU on (mstatus.FS), calls main() and reports its
 * result through HTIF tohost: 0 -> tohost = 1 (pass, exit status 0);
 * N -> tohost = (N << 1) | 1 (exit status N). A trap reports 100 + cause
 * (exceptions) or 99 (an interrupt, which nothing here enables). */
    .section .text.init, "ax"
    .globl _start
_start:
    la t0, trap_entry
    csrw mtvec, t0
    csrw mie, zero
    la sp, _stack_top
    la t0, _bss_start
    la t1, _bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  li t0, (1 << 13)            /* mstatus.FS = Initial: FP instructions legal */
    csrs mstatus, t0
    csrw fcsr, zero             /* round to nearest even, no flags */
    call main
    /* fall through: a0 = main's result */

    .globl bench_exit
bench_exit:
    li t0, 1
    beqz a0, 3f
    slli t0, a0, 1
    ori t0, t0, 1
3:  fence
    la t1, tohost
    sd t0, 0(t1)
4:  j 4b

    .balign 4
trap_entry:
    csrr t0, mcause
    li a0, 99
    bltz t0, bench_exit         /* interrupt */
    andi t0, t0, 63
    addi a0, t0, 100
    j bench_exit

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost:   .dword 0
    .size tohost, 8
    .type tohost, @object
    .balign 64
    .globl fromhost
fromhost: .dword 0
    .size fromhost, 8
    .type fromhost, @object
