/* RV64I register-register and register-immediate ALU instructions (64-bit
 * forms): results, shifts by 0/1/31/32/63, shift amounts taken mod 64,
 * sign extension of immediates, lui/auipc, writes to x0 discarded. */
#include "test.h"

    .text
    .globl test_main
test_main:
    TEST_RR(1, add, 0x0000000000000003, 1, 2)
    TEST_RR(2, add, 0x0000000000000000, -1, 1)
    TEST_RR(3, add, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_RR(4, add, 0x0000000100000000, 0xffffffff, 1)
    TEST_RR(5, sub, 0xffffffffffffffff, 0, 1)
    TEST_RR(6, sub, 0x7fffffffffffffff, 0x8000000000000000, 1)
    TEST_RR(7, sub, 0x00000000ffffffff, 0x100000000, 1)
    TEST_RI(8, addi, 0xfffffffffffff800, 0, -2048)
    TEST_RI(9, addi, 0x00000000000007ff, 0, 2047)
    TEST_RI(10, addi, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_RI(11, addi, 0x00000000ffffffff, 0x100000000, -1)

    TEST_RR(12, and, 0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR(13, or,  0xff0fff0fff0fff0f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR(14, xor, 0xf00ff00ff00ff00f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RI(15, andi, 0xff00ff00ff00ff00, 0xff00ff00ff00ff00, -1)
    TEST_RI(16, andi, 0x0000000000000700, 0xff00ff00ff00ff00, 0x7f0)
    TEST_RI(17, ori,  0xfffffffffffff80f, 0x000000000000000f, -2048)
    TEST_RI(18, xori, 0x00ff00ff00ff00ff, 0xff00ff00ff00ff00, -1)
    TEST_RI(19, xori, 0xff00ff00ff00f8ff, 0xff00ff00ff00ff00, 0x7ff)

    TEST_RR(20, slt,  1, -1, 0)
    TEST_RR(21, slt,  0, 0, -1)
    TEST_RR(22, slt,  1, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RR(23, slt,  0, 5, 5)
    TEST_RR(24, sltu, 0, -1, 0)
    TEST_RR(25, sltu, 1, 0, -1)
    TEST_RR(26, sltu, 0, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RI(27, slti, 1, -2049, -2048)
    TEST_RI(28, slti, 0, -2048, -2048)
    TEST_RI(29, sltiu, 1, 5, -1)      /* imm sign-extends, then compares unsigned */
    TEST_RI(30, sltiu, 0, -1, -1)
    TEST_RI(31, sltiu, 1, 0, 1)       /* seqz */
    TEST_RI(32, sltiu, 0, 7, 1)

    TEST_RR(33, sll, 0x0000000000000001, 1, 0)
    TEST_RR(34, sll, 0x0000000080000000, 1, 31)
    TEST_RR(35, sll, 0x0000000100000000, 1, 32)
    TEST_RR(36, sll, 0x8000000000000000, 1, 63)
    TEST_RR(37, sll, 0x0000000000000002, 1, 65)     /* only the low 6 bits count */
    TEST_RR(38, sll, 0x8000000000000000, 1, -1)
    TEST_RR(39, srl, 0x0000000000000001, 0x8000000000000000, 63)
    TEST_RR(40, srl, 0x0000000080000000, 0x8000000000000000, 32)
    TEST_RR(41, srl, 0x0000000100000000, 0x8000000000000000, 31)
    TEST_RR(42, srl, 0x4000000000000000, 0x8000000000000000, 65)
    TEST_RR(43, sra, 0xffffffffffffffff, 0x8000000000000000, 63)
    TEST_RR(44, sra, 0xffffffff80000000, 0x8000000000000000, 32)
    TEST_RR(45, sra, 0x3fffffffffffffff, 0x7fffffffffffffff, 1)
    TEST_RR(46, sra, 0xc000000000000000, 0x8000000000000000, 0x41)
    TEST_RI(47, slli, 0x8000000000000000, 1, 63)
    TEST_RI(48, slli, 0x0000000100000000, 1, 32)
    TEST_RI(49, slli, 0xffffffff00000000, 0xffffffffffffffff, 32)
    TEST_RI(50, srli, 0x00000000ffffffff, 0xffffffffffffffff, 32)
    TEST_RI(51, srli, 0x0000000000000001, 0xffffffffffffffff, 63)
    TEST_RI(52, srai, 0xffffffffffffffff, 0x8000000000000000, 63)
    TEST_RI(53, srai, 0xffffffff80000000, 0x8000000000000000, 32)
    TEST_RI(54, srai, 0x0000000000000000, 0x7fffffffffffffff, 63)
    TEST_RI(55, srai, 0x8000000000000000, 0x8000000000000000, 0)

    /* lui sign-extends bit 31 into the upper half */
    TEST_CASE(56, a0, 0xffffffff80000000, lui a0, 0x80000)
    TEST_CASE(57, a0, 0x000000007ffff000, lui a0, 0x7ffff)
    TEST_CASE(58, a0, 0xfffffffffffff000, lui a0, 0xfffff)
    /* auipc adds to its own address */
    TEST_CASE(59, a0, 0x0000000000000000, 1: auipc a0, 0; la a1, 1b; sub a0, a0, a1)
    TEST_CASE(60, a0, 0x0000000000001000, 1: auipc a0, 1; la a1, 1b; sub a0, a0, a1)
    TEST_CASE(61, a0, 0xffffffff80000000, 1: auipc a0, 0x80000; la a1, 1b; sub a0, a0, a1)

    /* x0 stays zero whatever is written to it */
    TEST_CASE(62, a0, 0, li a1, 5; add x0, a1, a1; mv a0, x0)
    TEST_CASE(63, a0, 0, addi x0, x0, 1; lui x0, 1; auipc x0, 1; mv a0, x0)
    /* rd == rs1 == rs2 */
    TEST_CASE(64, a0, 0x0000000000000a00, li a0, 5; slli a0, a0, 8; add a0, a0, a0)
    TEST_CASE(65, a0, 0, li a0, 0x123456789; sub a0, a0, a0)
    j pass
