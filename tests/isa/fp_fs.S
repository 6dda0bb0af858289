/* mstatus.FS: with FS = Off every F/D instruction and every access to
 * fflags/frm/fcsr is an illegal instruction (mtval = 0 or the encoding), in
 * M-mode and in S-mode, and nothing changes; an instruction that writes FP
 * state (f registers or fflags/frm) sets FS to Dirty from Initial or Clean,
 * and SD (bit 63) reflects it; sstatus shows the same FS and SD. */
#include "test.h"
#include "fp.h"

#define FS_OFF      csrc mstatus, t4
#define SET_FS(v)   csrc mstatus, t4; li t3, (v) << 13; csrs mstatus, t3

/* CHECK_FS(n, v): mstatus.FS == v and SD == (v == 3) */
#define CHECK_FS(n, v)                  \
    li TESTNUM, n;                      \
    csrr a0, mstatus;                   \
    srli a1, a0, 13;                    \
    andi a1, a1, 3;                     \
    CHECK_REG(a1, v);                   \
    srli a1, a0, 63;                    \
    CHECK_REG(a1, ((v) == 3) & 1)   /* gas: true is -1 */

/* ILLEGAL_FP(n, insn...): traps as illegal; mtval is 0 or the encoding */
#define ILLEGAL_FP(n, insn...)                     \
    EXPECT_TRAP(n, CAUSE_ILLEGAL_INSN, insn);      \
    call check_tval

    .data
    .balign 8
mem:    .dword 0x3ff0000000000000

    .text
    .globl test_main
test_main:
    li t4, MSTATUS_FS
    la s0, mem
    /* make f1 known before FS goes off */
    fld f1, 0(s0)
    FS_OFF
    CHECK_FS(1, 0)
    ILLEGAL_FP(2, fadd.s fa0, fa1, fa2)
    ILLEGAL_FP(3, fadd.d fa0, fa1, fa2)
    ILLEGAL_FP(4, fld fa0, 0(s0))
    ILLEGAL_FP(5, fsd fa0, 0(s0))
    ILLEGAL_FP(6, flw fa0, 0(s0))
    ILLEGAL_FP(7, fsw fa0, 0(s0))
    ILLEGAL_FP(8, fmv.x.d a0, f1)
    ILLEGAL_FP(9, fmv.w.x fa0, zero)
    ILLEGAL_FP(10, fcvt.d.l fa0, zero)
    ILLEGAL_FP(11, fmadd.d fa0, fa1, fa2, fa3)
    ILLEGAL_FP(12, fclass.d a0, fa1)
    ILLEGAL_FP(13, feq.s a0, fa1, fa2)
    ILLEGAL_FP(14, fsgnj.d fa0, fa1, fa1)
    ILLEGAL_FP(15, csrr a0, fcsr)
    ILLEGAL_FP(16, csrr a0, fflags)
    ILLEGAL_FP(17, csrr a0, frm)
    ILLEGAL_FP(18, csrwi fflags, 1)
    ILLEGAL_FP(19, csrw fcsr, zero)
    ILLEGAL_FP(20, c.fld fa0, 0(s0))
    ILLEGAL_FP(21, c.fsdsp fa0, 0(sp))
    ILLEGAL_FP(22, fmin.d fa0, fa1, fa2)
    CHECK_FS(23, 0)
    /* nothing was written while off */
    li TESTNUM, 24
    li t3, 1 << 13
    csrs mstatus, t3
    fmv.x.d a0, f1
    CHECK_REG(a0, 0x3ff0000000000000)
    ld a0, 0(s0)
    CHECK_REG(a0, 0x3ff0000000000000)

    /* Initial -> Dirty on an f-register write */
    SET_FS(1)
    CHECK_FS(30, 1)
    fmv.d.x fa0, zero
    CHECK_FS(31, 3)
    /* Clean -> Dirty on arithmetic, loads, fflags/frm writes, and on an
     * instruction that only sets fflags */
    SET_FS(2)
    CHECK_FS(32, 2)
    fadd.d fa0, f1, f1
    CHECK_FS(33, 3)
    SET_FS(2)
    fld fa0, 0(s0)
    CHECK_FS(34, 3)
    SET_FS(2)
    csrwi fflags, 0
    CHECK_FS(35, 3)
    SET_FS(2)
    csrwi frm, 0
    CHECK_FS(36, 3)
    SET_FS(2)
    li a0, S_SNAN
    fmv.w.x fa1, a0      /* dirty: a write */
    SET_FS(2)
    feq.s a0, fa1, fa1   /* writes only fflags (NV) */
    ld t6, ref_quirks
    andi t6, t6, QUIRK_FFLAGS_WRITE_NOT_DIRTY
    bnez t6, 1f
    CHECK_FS(37, 3)
    SET_FS(2)
    fcvt.w.d a0, f1, rtz /* 1.0: exact, writes nothing but a0 */
    fsflags zero         /* make sure fflags is 0 */
    SET_FS(2)
    li a0, 0x3ff8000000000000
    fmv.d.x fa1, a0
    SET_FS(2)
    fcvt.w.d a0, fa1     /* 1.5: sets NX only */
    CHECK_FS(42, 3)
1:
    SET_FS(2)
    flw fa0, 0(s0)
    CHECK_FS(38, 3)
    /* sstatus shows FS and SD */
    li TESTNUM, 39
    SET_FS(3)
    csrr a0, sstatus
    srli a1, a0, 13
    andi a1, a1, 3
    CHECK_REG(a1, 3)
    srli a1, a0, 63
    CHECK_REG(a1, 1)
    /* sstatus can write FS */
    li TESTNUM, 40
    li t3, MSTATUS_FS
    csrc sstatus, t3
    CHECK_FS(40, 0)
    li t3, MSTATUS_FS_CLEAN
    csrs sstatus, t3
    CHECK_FS(41, 2)

    /* FS = Off in S-mode traps too */
    FS_OFF
    li a0, PRV_S
    la a1, s_mode_fp
    li a2, 0
    call go_mode
    li TESTNUM, 50
    CHECK_REG(a0, 0x55)
    SET_FS(1)
    j pass

s_mode_fp:
    EXPECT_TRAP(51, CAUSE_ILLEGAL_INSN, fadd.d fa0, fa1, fa1)
    ld t6, trap_m_status
    srli t6, t6, 11
    andi t6, t6, 3
    li t5, PRV_S
    bne t6, t5, fail            /* MPP = S */
    EXPECT_TRAP(52, CAUSE_ILLEGAL_INSN, csrr a0, fflags)
    li a0, 0x55
    ret

/* mtval after an illegal instruction: 0 or the instruction bits */
check_tval:
    ld t6, trap_m_tval
    beqz t6, 1f
    ld t5, trap_m_epc
    lhu t3, 0(t5)
    andi t2, t3, 3
    li t1, 3
    bne t2, t1, 2f          /* 16-bit instruction */
    lwu t3, 0(t5)
2:  bne t6, t3, fail
1:  ret
