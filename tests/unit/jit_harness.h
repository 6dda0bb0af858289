/* Shared by the JIT's differential tests (test_jit*.c): two harts with
 * identical RAM, `ma` interpreted and `mb` running compiled code, RISC-V
 * encoders, and run_both(), which runs a program's first block both ways
 * and compares every register (integer and FP), fflags, frm, mstatus, the
 * pc, instret, the trap CSRs and all of RAM. */
#ifndef CONDO_TEST_JIT_HARNESS_H
#define CONDO_TEST_JIT_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/riscv/internal.h"
#include "engine/riscv/jit.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (64u << 10)
#define CODE RAM_BASE
#define DATA (RAM_BASE + 0x8000)      /* pages 8 and 9: in the TLB */
#define COLD (RAM_BASE + 0xa000)      /* page 10: never in the TLB */

struct machine {
    struct guest_ram ram;
    struct bus bus;
    struct riscv_cpu cpu;
};

static struct machine ma, mb; /* a: interpreted, b: compiled */

/* ---- RISC-V encodings ---- */

static inline uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd,
                      unsigned opc)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static inline uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned opc)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static inline uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | 0x23;
}

static inline uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 |
           f3 << 12 | ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}

static inline uint32_t enc_u(uint32_t imm20, unsigned rd, unsigned opc)
{
    return imm20 << 12 | rd << 7 | opc;
}

static inline uint32_t enc_j(int32_t imm, unsigned rd)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 |
           ((u >> 12) & 0xff) << 12 | rd << 7 | 0x6f;
}


#define EBREAK 0x00100073u
#define CSRR_MSCRATCH(rd) enc_i(0x340, 0, 2, (rd), 0x73)
#define CSRR_MINSTRET(rd) enc_i(0xb02, 0, 2, (rd), 0x73)
/* csrrw / csrrs / csrrc (f3 1-3) and the immediate forms (f3 5-7) */
#define CSR(f3, rd, rs1, csr) enc_i((csr), (rs1), (f3), (rd), 0x73)
#define SELF_LOOP enc_j(0, 0) /* jal x0, . : ends the block */
#define AMOADD_W(rd, rs2, rs1) ((rs2) << 20 | (rs1) << 15 | 2 << 12 | (rd) << 7 | 0x2f)

/* FP state prepare() gives both harts, when `on` (the F/D tests set it). */
struct fp_setup {
    bool on;
    uint64_t f[32];
    uint32_t fflags, frm;
    uint64_t fs; /* mstatus.FS bits */
};
static struct fp_setup fp_setup;

/* ---- code buffers with 16- and 32-bit instructions ---- */

struct prog {
    uint8_t b[0x4000];
    unsigned len;
};

static inline void put32(struct prog *p, uint32_t v)
{
    assert_true(p->len + 4 <= sizeof(p->b));
    for (int i = 0; i < 4; i++)
        p->b[p->len++] = (uint8_t)(v >> (8 * i));
}

static inline void put16(struct prog *p, uint16_t v)
{
    assert_true(p->len + 2 <= sizeof(p->b));
    p->b[p->len++] = (uint8_t)v;
    p->b[p->len++] = (uint8_t)(v >> 8);
}

/* ---- the two harts ---- */

static inline int machine_init(struct machine *m)
{
    if (guest_ram_init(&m->ram, RAM_BASE, RAM_SIZE) < 0)
        return -1;
    bus_init(&m->bus);
    return riscv_cpu_init(&m->cpu, &m->ram, &m->bus, NULL, 0);
}

static inline void machine_free(struct machine *m)
{
    riscv_cpu_free(&m->cpu);
    guest_ram_free(&m->ram);
}

static inline int setup(void **state)
{
    (void)state;
    if (machine_init(&ma) < 0 || machine_init(&mb) < 0)
        return -1;
    return 0;
}

static inline int teardown(void **state)
{
    (void)state;
    machine_free(&ma);
    machine_free(&mb);
    return 0;
}

static inline uint64_t data_pattern(unsigned i)
{
    uint64_t v = (uint64_t)i * 0x9e3779b97f4a7c15ull;
    return v ^ (v >> 29);
}

/* Load the program, RAM pattern and registers; warm the data TLB. */
static inline void prepare(struct machine *m, const struct prog *p, const uint64_t *regs)
{
    riscv_cpu_reset(&m->cpu, CODE);
    assert_int_equal(guest_ram_write(&m->ram, CODE, p->b, p->len), 0);
    for (unsigned i = 0; i < 3 * 4096 / 8; i++) {
        uint64_t v = data_pattern(i);
        assert_int_equal(guest_ram_write(&m->ram, DATA + 8 * i, &v, 8), 0);
    }
    for (int r = 1; r < 32; r++)
        m->cpu.x[r] = regs[r];
    if (fp_setup.on) {
        memcpy(m->cpu.f, fp_setup.f, sizeof(m->cpu.f));
        m->cpu.fflags = fp_setup.fflags;
        m->cpu.frm = fp_setup.frm;
        m->cpu.mstatus = (m->cpu.mstatus & ~MSTATUS_FS) | fp_setup.fs;
    }
    uint64_t v;
    for (uint64_t va = DATA; va < COLD; va += 4096) {
        assert_int_equal(riscv_load_slow(&m->cpu, va, 8, &v), 0);
        assert_int_equal(riscv_store_slow(&m->cpu, va, 8, v), 0);
    }
    assert_int_equal(riscv_load_slow(&m->cpu, CODE, 8, &v), 0); /* loads only */
}

/* Compile the block at CODE on hart b (emptying the code buffer first when
 * long test runs have filled it: the program's blocks are stale anyway). */
static inline struct riscv_block *compile_b(bool *ok)
{
    struct riscv_block *b = riscv_block_lookup(&mb.cpu, CODE);
    assert_non_null(b);
    *ok = riscv_jit_compile(&mb.cpu, b);
    if (!*ok && riscv_jit_needs_flush(&mb.cpu)) {
        riscv_jit_flush(&mb.cpu);
        *ok = riscv_jit_compile(&mb.cpu, b);
    }
    return b;
}

static inline void compare(const char *what)
{
    for (int r = 0; r < 32; r++) {
        if (ma.cpu.x[r] != mb.cpu.x[r]) {
            print_error("%s: x%d interpreted %#llx compiled %#llx\n", what, r,
                        (unsigned long long)ma.cpu.x[r], (unsigned long long)mb.cpu.x[r]);
            fail();
        }
    }
    if (ma.cpu.pc != mb.cpu.pc) {
        print_error("%s: pc interpreted %#llx compiled %#llx\n", what,
                    (unsigned long long)ma.cpu.pc, (unsigned long long)mb.cpu.pc);
        fail();
    }
    for (int r = 0; r < 32; r++) {
        if (ma.cpu.f[r] != mb.cpu.f[r]) {
            print_error("%s: f%d interpreted %#llx compiled %#llx\n", what, r,
                        (unsigned long long)ma.cpu.f[r], (unsigned long long)mb.cpu.f[r]);
            fail();
        }
    }
    if (ma.cpu.fflags != mb.cpu.fflags || ma.cpu.frm != mb.cpu.frm ||
        ma.cpu.mstatus != mb.cpu.mstatus) {
        print_error("%s: fflags %#x/%#x frm %u/%u mstatus %#llx/%#llx (interpreted/compiled)\n",
                    what, ma.cpu.fflags, mb.cpu.fflags, ma.cpu.frm, mb.cpu.frm,
                    (unsigned long long)ma.cpu.mstatus, (unsigned long long)mb.cpu.mstatus);
        fail();
    }
    assert_int_equal(ma.cpu.instret, mb.cpu.instret);
    assert_int_equal(ma.cpu.mcause, mb.cpu.mcause);
    assert_int_equal(ma.cpu.mepc, mb.cpu.mepc);
    if (memcmp(ma.ram.host, mb.ram.host, RAM_SIZE) != 0) {
        for (unsigned i = 0; i < RAM_SIZE; i++)
            if (ma.ram.host[i] != mb.ram.host[i]) {
                print_error("%s: RAM differs at %#llx\n", what,
                            (unsigned long long)(RAM_BASE + i));
                break;
            }
        fail();
    }
}

/* Run the program's first block both ways; returns what the compiled code
 * returned (-1: all of it ran natively). */
static inline int run_both(const struct prog *p, const uint64_t *regs, const char *what)
{
    prepare(&ma, p, regs);
    prepare(&mb, p, regs);
    riscv_jit_enable(false);
    riscv_cpu_run(&ma.cpu, 1); /* one block, interpreted */
    riscv_jit_enable(true);
    bool ok;
    compile_b(&ok);
    if (!ok) {
        print_error("%s: nothing compiled\n", what);
        fail();
    }
    uint64_t runs = mb.cpu.jit_runs;
    riscv_cpu_run(&mb.cpu, 1);
    assert_int_equal(mb.cpu.jit_runs, runs + 1); /* the compiled code ran */
    compare(what);
    return mb.cpu.jit_last_k;
}

/* Run only the compiled code of the first block on hart b. */
static inline int run_native(const struct prog *p, const uint64_t *regs)
{
    prepare(&mb, p, regs);
    bool ok;
    struct riscv_block *b = compile_b(&ok);
    assert_true(ok);
    struct riscv_jit_run run = { b, 1000, NULL };
    int k = riscv_jit_run(&mb.cpu, &run);
    assert_ptr_equal(run.b, b); /* nothing linked: it stays in its block */
    assert_int_equal(run.left, 1000);
    return k;
}

#endif
