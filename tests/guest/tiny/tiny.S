/* A bare-metal program for condo's command-line tests: it stores TOHOST
 * (1 = pass, (code << 1) | 1 = fail with code) to the HTIF tohost word at
 * once, so `condo run --bios none --kernel tiny.elf` ends in milliseconds
 * and its exit status says that the VM was built and ran. */
#ifndef TOHOST
#define TOHOST 1
#endif
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    li   t0, TOHOST
    la   t1, tohost
    sd   t0, 0(t1)
1:  wfi                 /* condo stops at the store; spin if it does not */
    j    1b

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost:   .dword 0
    .globl fromhost
fromhost: .dword 0
