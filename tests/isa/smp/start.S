/* condo SMP tests: start-up for NHARTS harts (every hart enters _start
 * with its id in mhartid), each on its own 16 KiB stack, into
 * smp_main(hartid). Hart 0's return value is the result: 0 passes, else
 * the failing case; reported through HTIF tohost and the SiFive test
 * finisher like the single-hart tests (common/crt.S). Any trap fails
 * with code 99: these tests take none. */
    .section .text.init, "ax"
    .globl _start
_start:
    la t0, trap
    csrw mtvec, t0
    csrr a0, mhartid
    li t0, NHARTS
    bgeu a0, t0, park
    la sp, stacks
    addi t1, a0, 1
    slli t1, t1, 14
    add sp, sp, t1
    call smp_main
    /* only hart 0 returns */
    j smp_exit
park:
    wfi
    j park

    .balign 4
trap:
    li a0, 99
    .globl smp_exit
smp_exit:
    slli t0, a0, 1
    ori t0, t0, 1
    bnez a0, 1f
    li t0, 1
1:  fence
    la t1, tohost
    sd t0, 0(t1)
    li t1, 0x5555
    beqz a0, 3f
    slli t1, a0, 16
    li t2, 0x3333
    or t1, t1, t2
3:  li t2, 0x100000
    sw t1, 0(t2)
2:  j 2b

/* A function alone on its page, rewritten by one hart while another runs
 * it: `li a0, N; ret` (smp_atomics.c, case 7). */
    .section .text.patch, "ax"
    .balign 4096
    .globl patchable
    .option push
    .option norvc /* a 4-byte addi, rewritten in one store */
patchable:
    addi a0, zero, 0
    ret
    .option pop
    .balign 4096

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost, fromhost
tohost:   .dword 0
    .balign 64
fromhost: .dword 0

    .bss
    .balign 16
stacks:
    .space 16384 * NHARTS
