/* RV64M: mul/mulh/mulhsu/mulhu, div/divu/rem/remu (incl. by zero and the
 * signed overflow case), and the W forms (sign-extended 32-bit results,
 * upper input bits ignored). */
#include "test.h"

    .text
    .globl test_main
test_main:
    TEST_RR(1, mul, 0x0000000000000006, 2, 3)
    TEST_RR(2, mul, 0xfffffffffffffffa, -2, 3)
    TEST_RR(3, mul, 0x0000000000000001, -1, -1)
    TEST_RR(4, mul, 0x0000000000000000, 0x8000000000000000, 2)
    TEST_RR(5, mul, 0x4458fab20783af02, 0x123456789abcdef1, 0x0fedcba987654322)
    TEST_RR(6, mulh, 0x0000000000000000, 2, 3)
    TEST_RR(7, mulh, 0xffffffffffffffff, -2, 3)
    TEST_RR(8, mulh, 0x0000000000000000, -1, -1)
    TEST_RR(9, mulh, 0x4000000000000000, 0x8000000000000000, 0x8000000000000000)
    TEST_RR(10, mulh, 0xc000000000000000, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RR(11, mulhu, 0xfffffffffffffffe, -1, -1)
    TEST_RR(12, mulhu, 0x0000000000000001, 0x8000000000000000, 2)
    TEST_RR(13, mulhu, 0x0000000000000000, 0xffffffff, 0xffffffff)
    TEST_RR(14, mulhsu, 0xffffffffffffffff, -1, -1)   /* -1 * (2^64-1) */
    TEST_RR(15, mulhsu, 0x0000000000000000, 1, -1)
    TEST_RR(16, mulhsu, 0xc000000000000000, 0x8000000000000000, 0x8000000000000000)
    TEST_RR(17, mulhsu, 0x7ffffffffffffffe, 0x7fffffffffffffff, -1)
    TEST_RR(18, mulh, 0x0121fa00ad77d742, 0x123456789abcdef1, 0x0fedcba987654322)

    TEST_RR(19, div, 3, 20, 6)
    TEST_RR(20, div, -3, -20, 6)          /* rounds toward zero */
    TEST_RR(21, div, -3, 20, -6)
    TEST_RR(22, div, 3, -20, -6)
    TEST_RR(23, div, -1, 20, 0)           /* by zero: all ones */
    TEST_RR(24, div, -1, -20, 0)
    TEST_RR(25, div, 0x8000000000000000, 0x8000000000000000, -1)   /* overflow */
    TEST_RR(26, divu, 3, 20, 6)
    TEST_RR(27, divu, 0x2aaaaaaaaaaaaaa7, -20, 6)
    TEST_RR(28, divu, -1, 20, 0)
    TEST_RR(29, divu, 0, 0x8000000000000000, -1)
    TEST_RR(30, rem, 2, 20, 6)
    TEST_RR(31, rem, -2, -20, 6)          /* sign of the dividend */
    TEST_RR(32, rem, 2, 20, -6)
    TEST_RR(33, rem, -2, -20, -6)
    TEST_RR(34, rem, 20, 20, 0)           /* by zero: the dividend */
    TEST_RR(35, rem, -20, -20, 0)
    TEST_RR(36, rem, 0, 0x8000000000000000, -1)   /* overflow: 0 */
    TEST_RR(37, remu, 2, 20, 6)
    TEST_RR(38, remu, 2, -20, 6)
    TEST_RR(39, remu, -20, -20, 0)
    TEST_RR(40, remu, 0x8000000000000000, 0x8000000000000000, -1)

    TEST_RR(41, mulw, 0x0000000000000006, 2, 3)
    TEST_RR(42, mulw, 0xffffffff80000000, 0x40000000, 2)
    TEST_RR(43, mulw, 0x0000000000000001, 0xffffffffffffffff, 0x00000000ffffffff)
    TEST_RR(44, mulw, 0x0000000000000000, 0x100000000, 0x100000000)
    TEST_RR(45, mulw, 0xfffffffffffffffa, 0x12345678fffffffe, 0xabcdef0000000003)
    TEST_RR(46, divw, 3, 20, 6)
    TEST_RR(47, divw, -3, 0xffffffffffffffec, 6)
    TEST_RR(48, divw, -3, 0x00000000ffffffec, 6)  /* upper bits ignored */
    TEST_RR(49, divw, -1, 20, 0x100000000)        /* low 32 bits are zero */
    TEST_RR(50, divw, 0xffffffff80000000, 0x80000000, -1)  /* overflow */
    TEST_RR(51, divuw, 0x000000002aaaaaa7, 0xffffffec, 6)
    TEST_RR(52, divuw, -1, 20, 0)
    TEST_RR(53, divuw, 0xffffffff80000000, 0x80000000, 1)  /* result sign-extended */
    TEST_RR(54, remw, -2, 0xffffffec, 6)
    TEST_RR(55, remw, 0xffffffff80000000, 0x80000000, 0)   /* sign-extended dividend */
    TEST_RR(56, remw, 0, 0x80000000, -1)
    TEST_RR(57, remw, 2, 0x1000000014, 6)
    TEST_RR(58, remuw, 2, 0xffffffec, 6)
    TEST_RR(59, remuw, 0xffffffffffffffec, 0xffffffec, 0)  /* dividend sign-extended */
    TEST_RR(60, remuw, 0xffffffff80000000, 0x80000000, 0xffffffff)
    /* rd == rs1 == rs2 */
    TEST_CASE(61, a0, 49, li a0, 7; mul a0, a0, a0)
    TEST_CASE(62, a0, 1, li a0, -7; div a0, a0, a0)
    j pass
