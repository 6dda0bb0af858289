/* A bare-metal program for condo's command-line tests
 * (tests/guest/test_cli.sh builds it with -D options into build/tiny/).
 * It stores TOHOST to the HTIF `tohost` word at once: 1 = pass,
 * (code << 1) | 1 = fail with code, 0 = never report (runs until stopped).
 * So `condo run --bios none --kernel tiny.elf` ends in milliseconds and its
 * exit status proves the VM was built and ran.
 * With -DPARK_WFI it then waits in WFI, as a real program may after its
 * last store; otherwise it spins in a plain loop. */
#ifndef TOHOST
#define TOHOST 1
#endif
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    li   t0, TOHOST
    la   t1, tohost
    sd   t0, 0(t1)
1:
#ifdef PARK_WFI
    wfi
#else
    nop
#endif
    j    1b

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost:   .dword 0
    .globl fromhost
fromhost: .dword 0
