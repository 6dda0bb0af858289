/* condo ISA tests: shared definitions for assembly (.S) and C tests.
 *
 * A test provides `test_main` (C: `long test_main(void)`; assembly: a
 * function of the same name). It runs in M-mode after crt.S set up a stack,
 * mtvec/stvec trap vectors, a PMP entry granting S/U access to everything,
 * mstatus.FS = Initial and fcsr = 0. Returning 0 passes; returning N (1..239)
 * fails with code N. Assembly tests may also `j fail` with the test number in
 * TESTNUM (gp), or `j pass`.
 *
 * Exit codes (HTIF tohost = (code << 1) | 1):
 *   1..239   failing test case number
 *   239      unexpected interrupt
 *   240+c    unexpected exception with cause c (c <= 15)
 *
 * Registers t5 and t6 are scratch for the macros below; gp holds TESTNUM.
 */
#ifndef CONDO_ISA_TEST_H
#define CONDO_ISA_TEST_H

/* ---- CSR fields ---- */
#define MSTATUS_SIE   (1 << 1)
#define MSTATUS_MIE   (1 << 3)
#define MSTATUS_SPIE  (1 << 5)
#define MSTATUS_UBE   (1 << 6)
#define MSTATUS_MPIE  (1 << 7)
#define MSTATUS_SPP   (1 << 8)
#define MSTATUS_VS    (3 << 9)
#define MSTATUS_MPP   (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_MPP_M (3 << 11)
#define MSTATUS_FS    (3 << 13)
#define MSTATUS_FS_INITIAL (1 << 13)
#define MSTATUS_FS_CLEAN   (2 << 13)
#define MSTATUS_FS_DIRTY   (3 << 13)
#define MSTATUS_XS    (3 << 15)
#define MSTATUS_MPRV  (1 << 17)
#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)
#define MSTATUS_UXL_SHIFT 32
#define MSTATUS_SXL_SHIFT 34
#define MSTATUS_SD_BIT 63

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define IRQ_S_SOFT  1
#define IRQ_M_SOFT  3
#define IRQ_S_TIMER 5
#define IRQ_M_TIMER 7
#define IRQ_S_EXT   9
#define IRQ_M_EXT   11
#define MIP_SSIP (1 << IRQ_S_SOFT)
#define MIP_MSIP (1 << IRQ_M_SOFT)
#define MIP_STIP (1 << IRQ_S_TIMER)
#define MIP_MTIP (1 << IRQ_M_TIMER)
#define MIP_SEIP (1 << IRQ_S_EXT)
#define MIP_MEIP (1 << IRQ_M_EXT)

#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS     1
#define CAUSE_ILLEGAL_INSN     2
#define CAUSE_BREAKPOINT       3
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS     7
#define CAUSE_USER_ECALL       8
#define CAUSE_SUPERVISOR_ECALL 9
#define CAUSE_MACHINE_ECALL    11
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT  13
#define CAUSE_STORE_PAGE_FAULT 15
#define CAUSE_INTR_BIT 63
#define NO_TRAP (-1)

/* ---- page tables ---- */
#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_G (1 << 5)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define SATP_MODE_SHIFT 60
#define SATP_MODE_BARE 0
#define SATP_MODE_SV39 8
#define SATP_MODE_SV48 9
#define SATP_MODE_SV57 10

/* ---- machine: the CLINT sits at the same address on QEMU virt, QEMU spike
 * and condo; mtime counts at 10 MHz on all three. ---- */
#define CLINT_BASE     0x02000000
#define CLINT_MSIP     (CLINT_BASE + 0x0)
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000)
#define CLINT_MTIME    (CLINT_BASE + 0xbff8)
/* QEMU virt / condo only (not on QEMU's spike machine) */
#define PLIC_BASE      0x0c000000
#define UART0_BASE     0x10000000
#define UART0_IRQ      10

/* An address with nothing behind it on QEMU spike, QEMU virt and condo's
 * virt map: the first page (QEMU's boot ROM starts at 0x1000). */
#define UNMAPPED_ADDR 0x0

/* ref_quirks bits (see link.ld): deviations of QEMU 7.2 from the spec that
 * make check-qemu tolerates; condo runs see 0 and are checked strictly. */
#define REF_QUIRKS_ADDR 0x801ff000
#define QUIRK_AMO_LOAD_CAUSE            (1 << 0) /* AMO/SC faults use load causes 4/5, not 6/7 */
#define QUIRK_SC_MISALIGNED_NO_TRAP     (1 << 1) /* misaligned SC without reservation just fails */
#define QUIRK_FFLAGS_WRITE_NOT_DIRTY    (1 << 2) /* an FP op writing only fflags leaves FS clean */
#define QUIRK_MEDELEG_MECALL_WRITABLE   (1 << 3) /* medeleg[11] is writable */
#define QUIRK_MRET_KEEPS_MPRV           (1 << 4) /* mret to S/U leaves MPRV set */
#define QUIRK_MPP_HOLDS_2               (1 << 5) /* mstatus.MPP accepts the reserved value 2 */
#define QUIRK_CSRRS_ZERO_REG_NO_WRITE   (1 << 6) /* csrrs/csrrc rd, ro_csr, rs1(=0) does not trap */
#define QUIRK_INSTRET_NOT_EXACT         (1 << 7) /* instret counts host ticks, not instructions */
#define QUIRK_IRQ_LOWEST_FIRST          (1 << 8) /* pending interrupts taken lowest cause first */
#define QUIRK_SUM_EXEC_AFTER_LOAD       (1 << 10) /* S fetches from a U page once SUM let it load there */
#define QUIRK_NO_PLIC_UART              (1 << 11) /* QEMU spike: no PLIC, no UART */
#define QUIRK_EPC_BIT0_KEPT             (1 << 12) /* mepc/sepc bit 0 keeps what is written */
#define QUIRK_NO_TIME_CSR               (1 << 9)  /* QEMU spike: the time CSR is not implemented */

/* Exit codes beyond test case numbers */
#define EXIT_UNEXPECTED_IRQ 239
#define EXIT_UNEXPECTED_EXC 240

#ifdef __ASSEMBLER__

#define TESTNUM gp

/* TEST_CASE(n, reg, expected, code...): run code, then check reg == expected
 * (a 64-bit immediate); on mismatch fail with code n. */
#define TEST_CASE(n, reg, expected, code...) \
    li TESTNUM, n;                           \
    code;                                    \
    li t6, expected;                         \
    bne reg, t6, fail

/* TEST_RR(n, insn, expected, a, b): rd=a0, rs1=a1, rs2=a2 */
#define TEST_RR(n, insn, expected, a, b) \
    TEST_CASE(n, a0, expected, li a1, a; li a2, b; insn a0, a1, a2)
/* TEST_RI(n, insn, expected, a, imm) */
#define TEST_RI(n, insn, expected, a, imm) \
    TEST_CASE(n, a0, expected, li a1, a; insn a0, a1, imm)

/* Expect `code` to raise an exception handled by M-mode with the given
 * cause; execution resumes after `code` (in the mode that trapped).
 * trap_m_epc/trap_m_tval hold what the handler saw. */
#define EXPECT_TRAP(n, cause, code...)   \
    li TESTNUM, n;                       \
    li t6, -1;                           \
    sd t6, trap_m_cause, t5;             \
    la t6, 9970f;                        \
    sd t6, trap_m_resume, t5;            \
    code;                                \
9970:                                    \
    sd zero, trap_m_resume, t5;          \
    ld t6, trap_m_cause;                 \
    li t5, cause;                        \
    bne t6, t5, fail

/* Same for a trap taken in S-mode (delegated through medeleg/mideleg). */
#define EXPECT_TRAP_S(n, cause, code...) \
    li TESTNUM, n;                       \
    li t6, -1;                           \
    sd t6, trap_s_cause, t5;             \
    la t6, 9971f;                        \
    sd t6, trap_s_resume, t5;            \
    code;                                \
9971:                                    \
    sd zero, trap_s_resume, t5;          \
    ld t6, trap_s_cause;                 \
    li t5, cause;                        \
    bne t6, t5, fail

/* EXPECT_TRAP for an AMO: under QUIRK_AMO_LOAD_CAUSE the load-side cause
 * (store cause - 2) is accepted too. */
#define EXPECT_TRAP_AMO(n, cause, code...) \
    li TESTNUM, n;                       \
    li t6, -1;                           \
    sd t6, trap_m_cause, t5;             \
    la t6, 9973f;                        \
    sd t6, trap_m_resume, t5;            \
    code;                                \
9973:                                    \
    sd zero, trap_m_resume, t5;          \
    ld t6, trap_m_cause;                 \
    li t5, cause;                        \
    beq t6, t5, 9974f;                   \
    ld t5, ref_quirks;                   \
    andi t5, t5, QUIRK_AMO_LOAD_CAUSE;   \
    beqz t5, fail;                       \
    li t5, (cause) - 2;                  \
    bne t6, t5, fail;                    \
9974:

/* Expect `code` NOT to trap to M-mode (a trap would resume past it). */
#define EXPECT_NO_TRAP(n, code...)       \
    li TESTNUM, n;                       \
    li t6, -1;                           \
    sd t6, trap_m_cause, t5;             \
    la t6, 9972f;                        \
    sd t6, trap_m_resume, t5;            \
    code;                                \
9972:                                    \
    sd zero, trap_m_resume, t5;          \
    ld t6, trap_m_cause;                 \
    li t5, -1;                           \
    bne t6, t5, fail

/* Jump to label when the reference simulator has the given quirk. */
#define IF_QUIRK(bit, label)        \
    ld t6, ref_quirks;              \
    li t5, bit;                     \
    and t6, t6, t5;                 \
    bnez t6, label

/* Check a 64-bit variable in memory against an immediate. */
#define CHECK_VAR(n, var, expected) \
    li TESTNUM, n;                  \
    ld t6, var;                     \
    li t5, expected;                \
    bne t6, t5, fail

/* Check a register against an immediate under the current TESTNUM. */
#define CHECK_REG(reg, expected) \
    li t6, expected;             \
    bne reg, t6, fail

#define SET_TESTNUM(n) li TESTNUM, n

/* Trap frame layout (offsets in bytes): x0..x31 (x2 = interrupted sp),
 * then epc, cause, tval, status. Hooks may edit any of them. */
#define FRAME_X(r)     ((r) * 8)
#define FRAME_EPC      (32 * 8)
#define FRAME_CAUSE    (33 * 8)
#define FRAME_TVAL     (34 * 8)
#define FRAME_STATUS   (35 * 8)
#define FRAME_SIZE     (36 * 8)

#else /* C */

#include <stdint.h>

#define FRAME_EPC_IDX 32
struct trap_frame {
    uint64_t x[32];
    uint64_t epc, cause, tval, status;
};

/* What the last M-mode / S-mode trap saw (cause is -1 before any). */
extern volatile uint64_t trap_m_cause, trap_m_epc, trap_m_tval, trap_m_status, trap_m_count;
extern volatile uint64_t trap_s_cause, trap_s_epc, trap_s_tval, trap_s_status, trap_s_count;
/* Resume address for the next trap (0 = none: an unexpected trap fails). */
extern volatile uint64_t trap_m_resume, trap_s_resume;
/* Hooks: called with the trap frame; return nonzero when handled (the frame,
 * including epc and status, is then restored and xRET executed). */
typedef int (*trap_hook_fn)(struct trap_frame *f);
extern volatile trap_hook_fn trap_m_hook, trap_s_hook;

/* Call fn(arg) and catch a trap (M or S): returns -1 if fn returned normally
 * (its return value is then in try_result), else the trap cause (M-mode's if
 * M took one, else S-mode's). Callee-saved registers are restored. */
long try_call(long (*fn)(long), long arg);
extern volatile uint64_t try_result;
extern volatile uint64_t ref_quirks;

/* Execute one instruction word (32-bit, or 16-bit if its low bits are not
 * 11) placed in a RAM buffer, with a0..a2 = the given values; returns like
 * try_call, a0 afterwards in try_result. */
long try_insn(uint32_t insn, uint64_t a0, uint64_t a1, uint64_t a2);

/* Run fn(arg) in mode (PRV_U or PRV_S) via mret and return its result
 * when it returns (an ecall from a trampoline brings it back to M). The
 * lower mode uses its own stack. fn must not be reached through a mapping
 * other than the identity one unless it is position independent. */
long go_mode(long mode, long (*fn)(long), long arg);

/* The stack pointer go_mode gives the lower mode (default: a stack of its
 * own in RAM; U-mode code under paging needs a user-accessible alias). */
extern volatile uint64_t go_mode_sp;
extern char lower_stack_top[];

/* Fail/pass right now, from any mode that can reach tohost. */
void test_exit(long code) __attribute__((noreturn));

#define CHECK(n, cond) do { if (!(cond)) return (n); } while (0)

#define STR_(x) #x
#define STR(x) STR_(x)
#define csr_read(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " STR(csr) : "=r"(v_) :: "memory"); v_; })
#define csr_write(csr, val) __asm__ volatile("csrw " STR(csr) ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_set(csr, val) __asm__ volatile("csrs " STR(csr) ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " STR(csr) ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_swap(csr, val) ({ uint64_t v_; __asm__ volatile("csrrw %0, " STR(csr) ", %1" : "=r"(v_) : "rK"((uint64_t)(val)) : "memory"); v_; })

static inline void sfence_vma(void) { __asm__ volatile("sfence.vma" ::: "memory"); }
static inline void fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

static inline uint64_t mmio_read64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void mmio_write64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

#define INTR_CAUSE(n) ((1ull << CAUSE_INTR_BIT) | (n))

#endif /* __ASSEMBLER__ */
#endif
