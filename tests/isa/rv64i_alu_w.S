/* RV64I word (W) instructions: operate on the low 32 bits and sign-extend
 * the 32-bit result; upper input bits are ignored; shift amounts use 5 bits
 * (register forms mask rs2 to 5 bits). */
#include "test.h"

    .text
    .globl test_main
test_main:
    TEST_RR(1, addw, 0x0000000000000003, 1, 2)
    TEST_RR(2, addw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_RR(3, addw, 0x0000000000000000, 0xffffffff, 1)
    TEST_RR(4, addw, 0x0000000000000002, 0x1234567800000001, 0xabcdef0000000001)
    TEST_RR(5, subw, 0xffffffffffffffff, 0, 1)
    TEST_RR(6, subw, 0x000000007fffffff, 0x80000000, 1)
    TEST_RR(7, subw, 0x0000000000000000, 0x100000000, 0x200000000)
    TEST_RI(8, addiw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_RI(9, addiw, 0xfffffffffffff800, 0, -2048)
    TEST_RI(10, addiw, 0x0000000012345678, 0xffffffff12345678, 0)  /* sext.w */
    TEST_RI(11, addiw, 0xffffffff87654321, 0x0000000087654321, 0)
    TEST_RI(12, addiw, 0x000000007fffffff, 0x80000000, -1)

    TEST_RR(13, sllw, 0xffffffff80000000, 1, 31)
    TEST_RR(14, sllw, 0x0000000000000001, 1, 32)       /* 32 & 31 = 0 */
    TEST_RR(15, sllw, 0x0000000000000002, 1, 33)
    TEST_RR(16, sllw, 0xffffffff80000000, 1, 63)       /* 63 & 31 = 31 */
    TEST_RR(17, sllw, 0x0000000000000010, 0xffffffff00000001, 4)
    TEST_RR(18, srlw, 0x0000000000000001, 0x80000000, 31)
    TEST_RR(19, srlw, 0xffffffff80000000, 0x80000000, 32) /* shift 0, sign-extend */
    TEST_RR(20, srlw, 0x0000000040000000, 0xffffffff80000000, 1)
    TEST_RR(21, srlw, 0x000000007fffffff, 0xffffffffffffffff, 33)
    TEST_RR(22, sraw, 0xffffffffffffffff, 0x80000000, 31)
    TEST_RR(23, sraw, 0xffffffffc0000000, 0x80000000, 1)
    TEST_RR(24, sraw, 0x0000000000000000, 0x000000017fffffff, 31)  /* bit 32 ignored */
    TEST_RR(25, sraw, 0xffffffff80000000, 0x0000000080000000, 64)
    TEST_RI(26, slliw, 0xffffffff80000000, 1, 31)
    TEST_RI(27, slliw, 0x0000000000000000, 0x100000000, 0)
    TEST_RI(28, slliw, 0x0000000012345678, 0xabcdef0012345678, 0)
    TEST_RI(29, srliw, 0x0000000000000001, 0x80000000, 31)
    TEST_RI(30, srliw, 0xffffffff80000000, 0x80000000, 0)
    TEST_RI(31, srliw, 0x000000000fffffff, 0xffffffffffffffff, 4)
    TEST_RI(32, sraiw, 0xffffffffffffffff, 0x80000000, 31)
    TEST_RI(33, sraiw, 0xfffffffff8000000, 0x80000000, 4)
    TEST_RI(34, sraiw, 0x0000000007ffffff, 0xffffffff7fffffff, 4)
    j pass
