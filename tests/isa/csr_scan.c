/* All 4096 CSR numbers, read with csrrs rd, csr, x0 from M, S and U: each
 * read either works or raises illegal instruction (never another cause,
 * never a hang); the CSRs condo and Linux rely on exist in M-mode; from S
 * and U, every CSR whose privilege field (bits 9:8) is above the current
 * mode is illegal. Uses try_insn, which runs an instruction word from RAM. */
#include "lib.h"

#define CSRR_A0(csr) (((uint32_t)(csr) << 20) | (2u << 12) | (10u << 7) | 0x73u)

static const uint16_t must_exist[] = {
    0x001, 0x002, 0x003,                        /* fflags frm fcsr */
    0xc00, 0xc02,                               /* cycle instret (time below) */
    0x100, 0x104, 0x105, 0x106, 0x10a,          /* sstatus sie stvec scounteren senvcfg */
    0x140, 0x141, 0x142, 0x143, 0x144, 0x180,   /* sscratch sepc scause stval sip satp */
    0xf11, 0xf12, 0xf13, 0xf14,                 /* mvendorid marchid mimpid mhartid */
    0x300, 0x301, 0x302, 0x303, 0x304, 0x305, 0x306, 0x30a, /* ... mcounteren menvcfg */
    0x320,                                      /* mcountinhibit */
    0x340, 0x341, 0x342, 0x343, 0x344,          /* mscratch mepc mcause mtval mip */
    0x3a0, 0x3a2,                               /* pmpcfg0 pmpcfg2 */
    0x3b0, 0x3b1, 0x3b2, 0x3b3, 0x3b4, 0x3b5, 0x3b6, 0x3b7,
    0x3b8, 0x3b9, 0x3ba, 0x3bb, 0x3bc, 0x3bd, 0x3be, 0x3bf,
    0xb00, 0xb02,                               /* mcycle minstret */
};

/* scan in the current mode; returns 0 or a failure code */
static long scan(long mode)
{
    for (uint32_t csr = 0; csr < 4096; csr++) {
        long r = try_insn(CSRR_A0(csr), 0, 0, 0);
        if (r != -1 && r != CAUSE_ILLEGAL_INSN)
            return 1;
        if (r == -1 && ((csr >> 8) & 3) > (uint32_t)mode)
            return 2;
        /* S/U traps are not delegated here: they reach M */
        if (r != -1 && trap_m_cause != CAUSE_ILLEGAL_INSN)
            return 3;
    }
    return 0;
}

long test_main(void)
{
    for (unsigned i = 0; i < sizeof must_exist / sizeof must_exist[0]; i++)
        CHECK(10, try_insn(CSRR_A0(must_exist[i]), 0, 0, 0) == -1);
    if (!(ref_quirks & QUIRK_NO_TIME_CSR))
        CHECK(11, try_insn(CSRR_A0(0xc01), 0, 0, 0) == -1);
    /* a read returns the CSR's value */
    csr_write(mtval, 0x1234abcd);
    CHECK(12, try_insn(CSRR_A0(0x343), 0, 0, 0) == -1 && try_result == 0x1234abcd);
    long r = scan(PRV_M);
    CHECK(20, r == 0);
    r = go_mode(PRV_S, scan, PRV_S);
    CHECK(21, r == 0);
    r = go_mode(PRV_U, scan, PRV_U);
    CHECK(22, r == 0);
    return 0;
}
