/* Illegal instructions (cause 2), mepc = the instruction, mtval = 0 or the
 * instruction bits: the all-zero 16-bit word, all-ones, reserved opcodes,
 * reserved funct fields and shift amounts (slli with imm[11:6] = 010000,
 * slliw with shamt[5] = 1), a load with funct3 = 7, privileged instructions
 * in lower modes (mret from S/U, sret from U, sret with TSR = 1, sfence.vma
 * and satp with TVM = 1), and M CSRs from S-mode. */
#include "test.h"

/* ILLEGAL(n, insn...): cause 2, mepc at the label, mtval 0 or the bits */
#define ILLEGAL(n, insn...)                           \
    EXPECT_TRAP(n, CAUSE_ILLEGAL_INSN, 9960: insn);   \
    la a0, 9960b;                                     \
    call check_illegal

    .text
    .globl test_main
test_main:
    .option push
    .option norvc
    ILLEGAL(1, .hword 0x0000; .hword 0x0001)        /* 0x0000 + padding c.nop */
    ILLEGAL(2, .word 0xffffffff)
    ILLEGAL(3, .word 0x0000005b)                     /* custom-2 opcode */
    ILLEGAL(4, .word 0x0000007b)                     /* custom-3 */
    ILLEGAL(5, .word 0x04b50533)                     /* OP, funct7 = 0000010 */
    ILLEGAL(6, .word 0x40151513)                     /* slli a0,a0,1 with imm[11:6]=010000 */
    ILLEGAL(7, .word 0x0205151b)                     /* slliw a0,a0,32: shamt[5]=1 */
    ILLEGAL(8, .word 0x0205551b)                     /* srliw with shamt[5]=1 */
    ILLEGAL(9, .word 0x00057503)                     /* load funct3 = 7 */
    ILLEGAL(10, .word 0x00a5f023)                    /* store funct3 = 7 */
    ILLEGAL(11, .word 0x00002063)                    /* branch funct3 = 2 */
    ILLEGAL(12, .word 0x00001567)                    /* jalr funct3 = 1 */
    ILLEGAL(13, .word 0x7ff00073)                    /* SYSTEM funct3 = 0, undefined funct12 */
    .option pop

    /* privileged instructions from lower modes */
    li a0, PRV_S
    la a1, in_s
    li a2, 0
    call go_mode
    li TESTNUM, 40
    CHECK_REG(a0, 0x5)
    li a0, PRV_U
    la a1, in_u
    li a2, 0
    call go_mode
    li TESTNUM, 41
    CHECK_REG(a0, 0x7)

    /* mstatus.TSR: sret from S-mode is illegal */
    li t0, MSTATUS_TSR
    csrs mstatus, t0
    li a0, PRV_S
    la a1, in_s_tsr
    call go_mode
    li t0, MSTATUS_TSR
    csrc mstatus, t0
    li TESTNUM, 42
    CHECK_REG(a0, 0x9)
    /* mstatus.TVM: satp and sfence.vma from S-mode are illegal */
    li t0, MSTATUS_TVM
    csrs mstatus, t0
    li a0, PRV_S
    la a1, in_s_tvm
    call go_mode
    li t0, MSTATUS_TVM
    csrc mstatus, t0
    li TESTNUM, 43
    CHECK_REG(a0, 0xb)
    j pass

in_s_tsr:
    addi sp, sp, -16
    sd ra, 0(sp)
    ILLEGAL(50, sret)
    ld ra, 0(sp)
    addi sp, sp, 16
    li a0, 0x9
    ret

in_s_tvm:
    addi sp, sp, -16
    sd ra, 0(sp)
    ILLEGAL(60, sfence.vma)
    ILLEGAL(61, sfence.vma a0, a1)
    ILLEGAL(62, csrr a0, satp)
    ILLEGAL(63, csrw satp, zero)
    ld ra, 0(sp)
    addi sp, sp, 16
    li a0, 0xb
    ret

in_s:
    addi sp, sp, -16
    sd ra, 0(sp)
    ILLEGAL(20, mret)
    ILLEGAL(21, csrr a0, mstatus)
    ILLEGAL(22, csrw mscratch, zero)
    ILLEGAL(23, csrr a0, mepc)
    ILLEGAL(24, csrr a0, mhartid)
    ld ra, 0(sp)
    addi sp, sp, 16
    li a0, 0x5
    ret

in_u:
    addi sp, sp, -16
    sd ra, 0(sp)
    ILLEGAL(30, mret)
    ILLEGAL(31, sret)
    ILLEGAL(32, sfence.vma)
    ILLEGAL(33, csrr a0, sstatus)
    ILLEGAL(34, csrr a0, satp)
    ILLEGAL(35, csrw sscratch, zero)
    ILLEGAL(36, csrr a0, mstatus)
    ld ra, 0(sp)
    addi sp, sp, 16
    li a0, 0x7
    ret

/* a0 = address of the faulting instruction */
check_illegal:
    ld t6, trap_m_epc
    bne t6, a0, fail
    ld t6, trap_m_tval
    beqz t6, 1f
    lhu t3, 0(a0)
    andi t2, t3, 3
    li t1, 3
    bne t2, t1, 2f
    lwu t3, 0(a0)
2:  bne t6, t3, fail
1:  ret
