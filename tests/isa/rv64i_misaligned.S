/* Misaligned loads and stores: the hart may either perform them (with the
 * right little-endian result) or raise address-misaligned (cause 4 for
 * loads, 6 for stores) with mtval = the address; both are accepted. A
 * misaligned access that is emulated must not disturb neighbouring bytes. */
#include "test.h"

    .data
    .balign 16
buf:    .dword 0x0706050403020100, 0x0f0e0d0c0b0a0908, 0x9796959493929190

    .text
    .globl test_main


test_main:
    addi sp, sp, -16
    sd ra, 0(sp)
    la s0, buf

    li s1, 1
    li s2, 0x0000000000000201
    call check_load_lh
    li s1, 1
    li s2, 0x0000000000000201
    call check_load_lhu
    li s1, 3
    li s2, 0x0000000006050403
    call check_load_lw
    li s1, 5
    li s2, 0x0000000008070605
    call check_load_lwu
    li s1, 1
    li s2, 0x0807060504030201
    call check_load_ld
    li s1, 7
    li s2, 0x0e0d0c0b0a090807
    call check_load_ld
    li s1, 15
    li s2, 0xffffffffffff900f
    call check_load_lh
    li s1, 15
    li s2, 0x000000000000900f
    call check_load_lhu
    li s1, 14
    li s2, 0xffffffff91900f0e
    call check_load_lw
    li s1, 14
    li s2, 0x0000000091900f0e
    call check_load_lwu
    li s1, 0xd
    li s2, 0x94939291900f0e0d
    call check_load_ld

    /* stores */
    li s1, 3
    li s3, 0x11223344
    call check_store_sw
    li s1, 9
    li s3, 0xaabbccddeeff0011
    call check_store_sd
    li s1, 15
    li s3, 0x5566
    call check_store_sh

    ld ra, 0(sp)
    addi sp, sp, 16
    li a0, 0
    ret

/* Each checker: s1 = offset, s2 = expected value; TESTNUM counts up. Uses
 * trap_m_resume directly so that the load either completes or traps. */
#define LOAD_CHECKER(name, insn)                    \
check_load_##name:                                   \
    addi TESTNUM, TESTNUM, 1;                        \
    add a1, s0, s1;                                  \
    li a0, 0x5a5a5a5a;                               \
    li t6, -1;                                       \
    sd t6, trap_m_cause, t5;                         \
    la t6, 1f;                                       \
    sd t6, trap_m_resume, t5;                        \
    insn a0, 0(a1);                                  \
1:  sd zero, trap_m_resume, t5;                      \
    ld t6, trap_m_cause;                             \
    li t5, -1;                                       \
    beq t6, t5, 2f;                                  \
    /* trapped: must be load-misaligned at a1 */     \
    li t5, CAUSE_MISALIGNED_LOAD;                    \
    bne t6, t5, fail;                                \
    ld t6, trap_m_tval;                              \
    bne t6, a1, fail;                                \
    li t5, 0x5a5a5a5a;                               \
    bne a0, t5, fail;                                \
    ret;                                             \
2:  bne a0, s2, fail;                                \
    ret

LOAD_CHECKER(lh, lh)
LOAD_CHECKER(lhu, lhu)
LOAD_CHECKER(lw, lw)
LOAD_CHECKER(lwu, lwu)
LOAD_CHECKER(ld, ld)

/* Store s3 at buf+s1, then verify the bytes around it (or that nothing was
 * written if it trapped). Restores buf afterwards. */
#define STORE_CHECKER(name, insn, size)              \
check_store_##name:                                  \
    addi TESTNUM, TESTNUM, 1;                        \
    add a1, s0, s1;                                  \
    li t6, -1;                                       \
    sd t6, trap_m_cause, t5;                         \
    la t6, 1f;                                       \
    sd t6, trap_m_resume, t5;                        \
    insn s3, 0(a1);                                  \
1:  sd zero, trap_m_resume, t5;                      \
    ld t6, trap_m_cause;                             \
    li t5, -1;                                       \
    li a2, 0;                                        \
    beq t6, t5, 2f;                                  \
    li t5, CAUSE_MISALIGNED_STORE;                   \
    bne t6, t5, fail;                                \
    ld t6, trap_m_tval;                              \
    bne t6, a1, fail;                                \
    li a2, 1;                                        \
2:  /* walk all 24 bytes */                          \
    li a3, 0;                                        \
3:  add a4, s0, a3;                                  \
    lbu a5, 0(a4);                                   \
    mv a6, a3;                 /* original byte */   \
    li t5, 16;                                       \
    bltu a3, t5, 6f;                                 \
    addi a6, a3, 0x80;                               \
6:  nop;                                             \
    beqz a2, 4f;                                     \
    j 5f;                                            \
4:  sub a7, a3, s1;            /* inside store? */   \
    bltz a7, 5f;                                     \
    li t5, size;                                     \
    bgeu a7, t5, 5f;                                 \
    slli a7, a7, 3;                                  \
    srl a6, s3, a7;                                  \
    andi a6, a6, 0xff;                               \
5:  bne a5, a6, fail;                                \
    li t5, 16;                                       \
    mv a6, a3;                                       \
    bltu a3, t5, 7f;                                 \
    addi a6, a3, 0x80;                               \
7:  sb a6, 0(a4);              /* restore */         \
    addi a3, a3, 1;                                  \
    li t5, 24;                                       \
    bltu a3, t5, 3b;                                 \
    ret

STORE_CHECKER(sh, sh, 2)
STORE_CHECKER(sw, sw, 4)
STORE_CHECKER(sd, sd, 8)
