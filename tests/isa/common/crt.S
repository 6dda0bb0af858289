/* condo ISA tests: start-up, trap vectors, mode switching and exit.
 * See test.h for the contract a test relies on. */
#include "test.h"

#define SAVE_REGS                                                       \
    sd x1, FRAME_X(1)(sp);   sd x3, FRAME_X(3)(sp);   sd x4, FRAME_X(4)(sp);   \
    sd x5, FRAME_X(5)(sp);   sd x6, FRAME_X(6)(sp);   sd x7, FRAME_X(7)(sp);   \
    sd x8, FRAME_X(8)(sp);   sd x9, FRAME_X(9)(sp);   sd x10, FRAME_X(10)(sp); \
    sd x11, FRAME_X(11)(sp); sd x12, FRAME_X(12)(sp); sd x13, FRAME_X(13)(sp); \
    sd x14, FRAME_X(14)(sp); sd x15, FRAME_X(15)(sp); sd x16, FRAME_X(16)(sp); \
    sd x17, FRAME_X(17)(sp); sd x18, FRAME_X(18)(sp); sd x19, FRAME_X(19)(sp); \
    sd x20, FRAME_X(20)(sp); sd x21, FRAME_X(21)(sp); sd x22, FRAME_X(22)(sp); \
    sd x23, FRAME_X(23)(sp); sd x24, FRAME_X(24)(sp); sd x25, FRAME_X(25)(sp); \
    sd x26, FRAME_X(26)(sp); sd x27, FRAME_X(27)(sp); sd x28, FRAME_X(28)(sp); \
    sd x29, FRAME_X(29)(sp); sd x30, FRAME_X(30)(sp); sd x31, FRAME_X(31)(sp)

#define LOAD_REGS                                                       \
    ld x1, FRAME_X(1)(sp);   ld x3, FRAME_X(3)(sp);   ld x4, FRAME_X(4)(sp);   \
    ld x5, FRAME_X(5)(sp);   ld x6, FRAME_X(6)(sp);   ld x7, FRAME_X(7)(sp);   \
    ld x8, FRAME_X(8)(sp);   ld x9, FRAME_X(9)(sp);   ld x10, FRAME_X(10)(sp); \
    ld x11, FRAME_X(11)(sp); ld x12, FRAME_X(12)(sp); ld x13, FRAME_X(13)(sp); \
    ld x14, FRAME_X(14)(sp); ld x15, FRAME_X(15)(sp); ld x16, FRAME_X(16)(sp); \
    ld x17, FRAME_X(17)(sp); ld x18, FRAME_X(18)(sp); ld x19, FRAME_X(19)(sp); \
    ld x20, FRAME_X(20)(sp); ld x21, FRAME_X(21)(sp); ld x22, FRAME_X(22)(sp); \
    ld x23, FRAME_X(23)(sp); ld x24, FRAME_X(24)(sp); ld x25, FRAME_X(25)(sp); \
    ld x26, FRAME_X(26)(sp); ld x27, FRAME_X(27)(sp); ld x28, FRAME_X(28)(sp); \
    ld x29, FRAME_X(29)(sp); ld x30, FRAME_X(30)(sp); ld x31, FRAME_X(31)(sp); \
    ld x2, FRAME_X(2)(sp)

/* mode_ctx layout: ra, sp, s0..s11, gp, tp, mstatus */
#define CTX_RA 0
#define CTX_SP 8
#define CTX_S(i) (16 + (i) * 8)
#define CTX_GP (16 + 12 * 8)
#define CTX_TP (CTX_GP + 8)
#define CTX_MSTATUS (CTX_TP + 8)
#define CTX_SIZE (CTX_MSTATUS + 8)

    .section .text.init, "ax"
    .globl _start
_start:
    /* A trap vector first, so even a fault during set-up is reported. */
    la t0, trap_entry_m
    csrw mtvec, t0
    la sp, stack_top
    la t0, trap_m_stack_top
    csrw mscratch, t0
    la t0, _bss_start
    la t1, _bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  la t0, trap_entry_s
    csrw stvec, t0
    la t0, trap_s_stack_top
    csrw sscratch, t0
    csrw mie, zero
    csrw mip, zero
    csrw medeleg, zero
    csrw mideleg, zero
    csrw satp, zero
    /* One NAPOT entry over all of memory: S/U accesses are denied when PMP
     * is implemented and no entry matches. */
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    /* Counters readable from S and U unless a test says otherwise. */
    li t0, 7
    csrw mcounteren, t0
    csrw scounteren, t0
    li t0, MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR | MSTATUS_MIE | MSTATUS_SIE
    csrc mstatus, t0
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    csrw fcsr, zero
    li gp, 0
    li tp, 0
    call test_main
    j test_exit

/* ---------------------------------------------------------------------- */
    .text
    .globl test_exit, pass, fail
pass:
    li a0, 0
    j test_exit
fail:
    mv a0, TESTNUM
    bnez a0, test_exit
    li a0, 1
test_exit:
    slli t0, a0, 1
    ori t0, t0, 1
    bnez a0, 1f
    li t0, 1
1:  fence
    la t1, tohost
    sd t0, 0(t1)
    /* Not an HTIF machine (QEMU virt): the SiFive test finisher at
     * 0x100000, which condo's virt board has too. */
    li t1, 0x5555
    beqz a0, 3f
    slli t1, a0, 16
    li t2, 0x3333
    or t1, t1, t2
3:  li t2, 0x100000
    sw t1, 0(t2)
2:  j 2b

/* ---------------------------------------------------------------------- */
/* M-mode trap vector (direct mode). */
    .balign 64
    .globl trap_entry_m
trap_entry_m:
    csrrw sp, mscratch, sp
    addi sp, sp, -FRAME_SIZE
    SAVE_REGS
    csrr t0, mscratch
    sd t0, FRAME_X(2)(sp)
    addi t0, sp, FRAME_SIZE
    csrw mscratch, t0
    csrr t0, mepc
    csrr t1, mcause
    csrr t2, mtval
    csrr t3, mstatus
    sd t0, FRAME_EPC(sp)
    sd t1, FRAME_CAUSE(sp)
    sd t2, FRAME_TVAL(sp)
    sd t3, FRAME_STATUS(sp)
    la t4, trap_m_cause
    sd t1, 0(t4)
    sd t0, 8(t4)
    sd t2, 16(t4)
    sd t3, 24(t4)
    ld t5, 32(t4)
    addi t5, t5, 1
    sd t5, 32(t4)
    /* An ecall from the go_mode trampoline returns to M-mode's caller; so
     * does a fetch fault on it (U-mode code under paging returning to the
     * trampoline, which sits on a supervisor page). */
    bltz t1, 3f
    la t2, mode_return
    beq t0, t2, m_mode_return
    la t2, mode_return_s
    beq t0, t2, m_mode_return
3:  ld t0, trap_m_hook
    beqz t0, 4f
    mv a0, sp
    jalr t0
    bnez a0, m_restore
4:  ld t0, trap_m_resume
    beqz t0, m_unexpected
    sd t0, FRAME_EPC(sp)
    sd zero, trap_m_resume, t1
    /* After an interrupt, resume with M interrupts off so a still-pending
     * source does not fire again at once. */
    ld t1, FRAME_CAUSE(sp)
    bgez t1, m_restore
    ld t1, FRAME_STATUS(sp)
    andi t1, t1, ~MSTATUS_MPIE
    sd t1, FRAME_STATUS(sp)
m_restore:
    ld t0, FRAME_EPC(sp)
    csrw mepc, t0
    ld t0, FRAME_STATUS(sp)
    csrw mstatus, t0
    LOAD_REGS
    mret

m_unexpected:
    ld t1, FRAME_CAUSE(sp)
    li a0, EXIT_UNEXPECTED_IRQ
    bltz t1, test_exit
    andi t1, t1, 15
    addi a0, t1, EXIT_UNEXPECTED_EXC
    j test_exit

m_mode_return:
    ld a0, FRAME_X(10)(sp)
    li t0, MSTATUS_MPP
    csrs mstatus, t0
    li t0, MSTATUS_MPRV | MSTATUS_MIE
    csrc mstatus, t0
    la t0, mode_ctx
    ld t1, CTX_MSTATUS(t0)
    andi t1, t1, MSTATUS_MIE
    csrs mstatus, t1
    ld ra, CTX_RA(t0)
    ld sp, CTX_SP(t0)
    ld s0, CTX_S(0)(t0)
    ld s1, CTX_S(1)(t0)
    ld s2, CTX_S(2)(t0)
    ld s3, CTX_S(3)(t0)
    ld s4, CTX_S(4)(t0)
    ld s5, CTX_S(5)(t0)
    ld s6, CTX_S(6)(t0)
    ld s7, CTX_S(7)(t0)
    ld s8, CTX_S(8)(t0)
    ld s9, CTX_S(9)(t0)
    ld s10, CTX_S(10)(t0)
    ld s11, CTX_S(11)(t0)
    ld gp, CTX_GP(t0)
    ld tp, CTX_TP(t0)
    ret

/* ---------------------------------------------------------------------- */
/* S-mode trap vector (direct mode). */
    .balign 64
    .globl trap_entry_s
trap_entry_s:
    csrrw sp, sscratch, sp
    addi sp, sp, -FRAME_SIZE
    SAVE_REGS
    csrr t0, sscratch
    sd t0, FRAME_X(2)(sp)
    addi t0, sp, FRAME_SIZE
    csrw sscratch, t0
    csrr t0, sepc
    csrr t1, scause
    csrr t2, stval
    csrr t3, sstatus
    sd t0, FRAME_EPC(sp)
    sd t1, FRAME_CAUSE(sp)
    sd t2, FRAME_TVAL(sp)
    sd t3, FRAME_STATUS(sp)
    la t4, trap_s_cause
    sd t1, 0(t4)
    sd t0, 8(t4)
    sd t2, 16(t4)
    sd t3, 24(t4)
    ld t5, 32(t4)
    addi t5, t5, 1
    sd t5, 32(t4)
    /* A delegated ecall from the U-mode trampoline: redo it from S-mode so
     * that it reaches M-mode. */
    bltz t1, 3f
    la t2, mode_return
    bne t0, t2, 3f
    li t2, CAUSE_USER_ECALL
    beq t1, t2, 5f
    li t2, CAUSE_FETCH_PAGE_FAULT
    bne t1, t2, 3f
5:  la t0, mode_return_s
    sd t0, FRAME_EPC(sp)
    ld t0, FRAME_STATUS(sp)
    ori t0, t0, MSTATUS_SPP
    sd t0, FRAME_STATUS(sp)
    j s_restore
3:  ld t0, trap_s_hook
    beqz t0, 4f
    mv a0, sp
    jalr t0
    bnez a0, s_restore
4:  ld t0, trap_s_resume
    beqz t0, s_unexpected
    sd t0, FRAME_EPC(sp)
    sd zero, trap_s_resume, t1
    ld t1, FRAME_CAUSE(sp)
    bgez t1, s_restore
    ld t1, FRAME_STATUS(sp)
    andi t1, t1, ~MSTATUS_SPIE
    sd t1, FRAME_STATUS(sp)
s_restore:
    ld t0, FRAME_EPC(sp)
    csrw sepc, t0
    ld t0, FRAME_STATUS(sp)
    csrw sstatus, t0
    LOAD_REGS
    sret

s_unexpected:
    ld t1, FRAME_CAUSE(sp)
    li a0, EXIT_UNEXPECTED_IRQ
    bltz t1, test_exit
    andi t1, t1, 15
    addi a0, t1, EXIT_UNEXPECTED_EXC
    j test_exit

/* ---------------------------------------------------------------------- */
/* long go_mode(long mode, long (*fn)(long), long arg) */
    .globl go_mode, mode_return, mode_return_s
go_mode:
    la t0, mode_ctx
    sd ra, CTX_RA(t0)
    sd sp, CTX_SP(t0)
    sd s0, CTX_S(0)(t0)
    sd s1, CTX_S(1)(t0)
    sd s2, CTX_S(2)(t0)
    sd s3, CTX_S(3)(t0)
    sd s4, CTX_S(4)(t0)
    sd s5, CTX_S(5)(t0)
    sd s6, CTX_S(6)(t0)
    sd s7, CTX_S(7)(t0)
    sd s8, CTX_S(8)(t0)
    sd s9, CTX_S(9)(t0)
    sd s10, CTX_S(10)(t0)
    sd s11, CTX_S(11)(t0)
    sd gp, CTX_GP(t0)
    sd tp, CTX_TP(t0)
    csrr t1, mstatus
    sd t1, CTX_MSTATUS(t0)
    li t1, MSTATUS_MPP
    csrc mstatus, t1
    andi a0, a0, 3
    slli a0, a0, 11
    csrs mstatus, a0
    csrw mepc, a1
    mv a0, a2
    la ra, mode_return
    ld sp, go_mode_sp
    mret
    .balign 4
mode_return:
    ecall
mode_return_s:
    ecall

/* ---------------------------------------------------------------------- */
/* long try_call(long (*fn)(long), long arg) */
    .globl try_call
try_call:
    addi sp, sp, -112
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    sd s2, 24(sp)
    sd s3, 32(sp)
    sd s4, 40(sp)
    sd s5, 48(sp)
    sd s6, 56(sp)
    sd s7, 64(sp)
    sd s8, 72(sp)
    sd s9, 80(sp)
    sd s10, 88(sp)
    sd s11, 96(sp)
    sd sp, try_sp, t0
    li t0, -1
    sd t0, trap_m_cause, t1
    sd t0, trap_s_cause, t1
    la t0, 1f
    sd t0, trap_m_resume, t1
    sd t0, trap_s_resume, t1
    mv t0, a0
    mv a0, a1
    jalr t0
    sd a0, try_result, t0
    li a0, -1
    j 2f
1:  ld sp, try_sp
    ld a0, trap_m_cause
    li t1, -1
    bne a0, t1, 2f
    ld a0, trap_s_cause
2:  sd zero, trap_m_resume, t1
    sd zero, trap_s_resume, t1
    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    ld s2, 24(sp)
    ld s3, 32(sp)
    ld s4, 40(sp)
    ld s5, 48(sp)
    ld s6, 56(sp)
    ld s7, 64(sp)
    ld s8, 72(sp)
    ld s9, 80(sp)
    ld s10, 88(sp)
    ld s11, 96(sp)
    addi sp, sp, 112
    ret

/* long try_insn(uint32_t insn, uint64_t a0, uint64_t a1, uint64_t a2) */
    .globl try_insn
try_insn:
    la t0, insn_buf
    andi t1, a0, 3
    li t2, 3
    beq t1, t2, 1f
    sh a0, 0(t0)
    li t1, 0x0001           /* c.nop */
    sh t1, 2(t0)
    j 2f
1:  sw a0, 0(t0)
2:  li t1, 0x00008067       /* ret */
    sw t1, 4(t0)
    fence.i
    la t0, try_args
    sd a1, 0(t0)
    sd a2, 8(t0)
    sd a3, 16(t0)
    la a0, insn_stub
    li a1, 0
    tail try_call
insn_stub:
    la t0, try_args
    ld a0, 0(t0)
    ld a1, 8(t0)
    ld a2, 16(t0)
    la t0, insn_buf
    jr t0

/* ---------------------------------------------------------------------- */
    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost, fromhost
    .type tohost, @object
    .size tohost, 8
tohost:   .dword 0
    .balign 64
    .type fromhost, @object
    .size fromhost, 8
fromhost: .dword 0


    .data
    .balign 8
    .globl trap_m_cause, trap_m_epc, trap_m_tval, trap_m_status, trap_m_count
    .globl trap_s_cause, trap_s_epc, trap_s_tval, trap_s_status, trap_s_count
    .globl trap_m_resume, trap_s_resume, trap_m_hook, trap_s_hook
    .globl try_result, mode_ctx
trap_m_cause:  .dword -1
trap_m_epc:    .dword 0
trap_m_tval:   .dword 0
trap_m_status: .dword 0
trap_m_count:  .dword 0
trap_s_cause:  .dword -1
trap_s_epc:    .dword 0
trap_s_tval:   .dword 0
trap_s_status: .dword 0
trap_s_count:  .dword 0
trap_m_resume: .dword 0
trap_s_resume: .dword 0
trap_m_hook:   .dword 0
trap_s_hook:   .dword 0
try_result:    .dword 0
try_sp:        .dword 0
try_args:      .dword 0, 0, 0
mode_ctx:      .fill CTX_SIZE / 8, 8, 0
    .globl go_mode_sp
go_mode_sp:    .dword lower_stack_top
    .balign 8
insn_buf:      .word 0, 0, 0, 0

    .bss
    .balign 16
    .globl stack_top, lower_stack_top
stack:         .skip 16384
stack_top:
lower_stack:   .skip 16384
lower_stack_top:
trap_m_stack:  .skip 8192
trap_m_stack_top:
trap_s_stack:  .skip 8192
trap_s_stack_top:
