/* CSR numbers that do not exist on this hart are illegal instructions, for
 * reads and writes: RV32-only CSRs (cycleh, timeh, instreth, mstatush),
 * hypervisor and vector CSRs (no H, no V), unallocated standard numbers and
 * custom ranges. Also: accessing a CSR above the current privilege level
 * (bits 9:8 of the number) from S/U is illegal. */
#include "test.h"

#define ILLEGAL(n, insn...) EXPECT_TRAP(n, CAUSE_ILLEGAL_INSN, insn)

    .text
    .globl test_main
test_main:
    ILLEGAL(1, csrr a0, 0xc80)      /* cycleh */
    ILLEGAL(2, csrr a0, 0xc81)      /* timeh */
    ILLEGAL(3, csrr a0, 0xc82)      /* instreth */
    ILLEGAL(4, csrr a0, 0x310)      /* mstatush */
    ILLEGAL(5, csrr a0, 0xb80)      /* mcycleh */
    ILLEGAL(6, csrr a0, 0x600)      /* hstatus */
    ILLEGAL(7, csrr a0, 0x200)      /* vsstatus */
    ILLEGAL(8, csrr a0, 0x008)      /* vstart */
    ILLEGAL(9, csrr a0, 0xc20)      /* vl */
    ILLEGAL(10, csrr a0, 0x0ff)     /* unallocated */
    ILLEGAL(11, csrr a0, 0x8ff)     /* custom user */
    ILLEGAL(12, csrr a0, 0x7ff)     /* custom machine read/write */
    ILLEGAL(13, csrw 0x0ff, zero)
    ILLEGAL(14, csrw 0x8ff, a0)
    ILLEGAL(15, csrrs a0, 0xfff, x0) /* custom machine read-only */
    ILLEGAL(16, csrr a0, 0x3a1)     /* pmpcfg1: RV32 only */
    ILLEGAL(17, csrr a0, 0x3a3)     /* pmpcfg3: RV32 only */
    ILLEGAL(18, csrr a0, 0x7b0)     /* dcsr: debug mode only */
    ILLEGAL(19, csrr a0, 0x5ff)     /* custom supervisor read/write */
    j pass
