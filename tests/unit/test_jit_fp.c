/* The x86-64 JIT's F and D code against the interpreter (jit_harness.h):
 * every F/D instruction on edge operands (zeros, subnormals, the normal
 * range's ends, infinities, quiet and signalling NaNs, integer-conversion
 * boundaries, unboxed singles), in every rounding mode (static, dynamic,
 * and invalid ones), with NX clear and set beforehand and with FS off;
 * results, fflags, mstatus.FS and the exceptions must match the
 * interpreter bit for bit. Then random blocks mixing F/D, integer ops and
 * FP loads and stores, and checks that the inline fast paths really run
 * (no call of the shared helper) where they should. */
#include "jit_harness.h"

#include "condo/riscv_fpu.h"

#define FS_INITIAL (1ull << 13)

enum shape { F2, F1, F3, XF, XFF, FX };

struct fpop {
    const char *name;
    uint32_t base; /* the encoding with rd, rs1, rs2 (when a register), rs3 and rm zero */
    enum shape shape;
    bool rm;   /* funct3 is a rounding mode */
    bool dbl;  /* operands are doubles (else singles) */
};

#define OPF(f7, rs2, f3) ((uint32_t)(f7) << 25 | (uint32_t)(rs2) << 20 | (uint32_t)(f3) << 12 | 0x53)
#define FUSED(opc, fmt) ((uint32_t)(fmt) << 25 | (opc))

static const struct fpop fpops[] = {
    { "fadd.s", OPF(0x00, 0, 0), F2, true, false },
    { "fsub.s", OPF(0x04, 0, 0), F2, true, false },
    { "fmul.s", OPF(0x08, 0, 0), F2, true, false },
    { "fdiv.s", OPF(0x0c, 0, 0), F2, true, false },
    { "fsqrt.s", OPF(0x2c, 0, 0), F1, true, false },
    { "fadd.d", OPF(0x01, 0, 0), F2, true, true },
    { "fsub.d", OPF(0x05, 0, 0), F2, true, true },
    { "fmul.d", OPF(0x09, 0, 0), F2, true, true },
    { "fdiv.d", OPF(0x0d, 0, 0), F2, true, true },
    { "fsqrt.d", OPF(0x2d, 0, 0), F1, true, true },
    { "fsgnj.s", OPF(0x10, 0, 0), F2, false, false },
    { "fsgnjn.s", OPF(0x10, 0, 1), F2, false, false },
    { "fsgnjx.s", OPF(0x10, 0, 2), F2, false, false },
    { "fsgnj.d", OPF(0x11, 0, 0), F2, false, true },
    { "fsgnjn.d", OPF(0x11, 0, 1), F2, false, true },
    { "fsgnjx.d", OPF(0x11, 0, 2), F2, false, true },
    { "fmin.s", OPF(0x14, 0, 0), F2, false, false },
    { "fmax.s", OPF(0x14, 0, 1), F2, false, false },
    { "fmin.d", OPF(0x15, 0, 0), F2, false, true },
    { "fmax.d", OPF(0x15, 0, 1), F2, false, true },
    { "fcvt.s.d", OPF(0x20, 1, 0), F1, true, true },
    { "fcvt.d.s", OPF(0x21, 0, 0), F1, true, false },
    { "feq.s", OPF(0x50, 0, 2), XFF, false, false },
    { "flt.s", OPF(0x50, 0, 1), XFF, false, false },
    { "fle.s", OPF(0x50, 0, 0), XFF, false, false },
    { "feq.d", OPF(0x51, 0, 2), XFF, false, true },
    { "flt.d", OPF(0x51, 0, 1), XFF, false, true },
    { "fle.d", OPF(0x51, 0, 0), XFF, false, true },
    { "fcvt.w.s", OPF(0x60, 0, 0), XF, true, false },
    { "fcvt.wu.s", OPF(0x60, 1, 0), XF, true, false },
    { "fcvt.l.s", OPF(0x60, 2, 0), XF, true, false },
    { "fcvt.lu.s", OPF(0x60, 3, 0), XF, true, false },
    { "fcvt.w.d", OPF(0x61, 0, 0), XF, true, true },
    { "fcvt.wu.d", OPF(0x61, 1, 0), XF, true, true },
    { "fcvt.l.d", OPF(0x61, 2, 0), XF, true, true },
    { "fcvt.lu.d", OPF(0x61, 3, 0), XF, true, true },
    { "fcvt.s.w", OPF(0x68, 0, 0), FX, true, false },
    { "fcvt.s.wu", OPF(0x68, 1, 0), FX, true, false },
    { "fcvt.s.l", OPF(0x68, 2, 0), FX, true, false },
    { "fcvt.s.lu", OPF(0x68, 3, 0), FX, true, false },
    { "fcvt.d.w", OPF(0x69, 0, 0), FX, true, true },
    { "fcvt.d.wu", OPF(0x69, 1, 0), FX, true, true },
    { "fcvt.d.l", OPF(0x69, 2, 0), FX, true, true },
    { "fcvt.d.lu", OPF(0x69, 3, 0), FX, true, true },
    { "fmv.x.w", OPF(0x70, 0, 0), XF, false, false },
    { "fclass.s", OPF(0x70, 0, 1), XF, false, false },
    { "fmv.x.d", OPF(0x71, 0, 0), XF, false, true },
    { "fclass.d", OPF(0x71, 0, 1), XF, false, true },
    { "fmv.w.x", OPF(0x78, 0, 0), FX, false, false },
    { "fmv.d.x", OPF(0x79, 0, 0), FX, false, true },
    { "fmadd.s", FUSED(0x43, 0), F3, true, false },
    { "fmsub.s", FUSED(0x47, 0), F3, true, false },
    { "fnmsub.s", FUSED(0x4b, 0), F3, true, false },
    { "fnmadd.s", FUSED(0x4f, 0), F3, true, false },
    { "fmadd.d", FUSED(0x43, 1), F3, true, true },
    { "fmsub.d", FUSED(0x47, 1), F3, true, true },
    { "fnmsub.d", FUSED(0x4b, 1), F3, true, true },
    { "fnmadd.d", FUSED(0x4f, 1), F3, true, true },
};
#define NFPOPS (sizeof(fpops) / sizeof(fpops[0]))

static uint32_t fp_enc(const struct fpop *o, unsigned rd, unsigned rs1, unsigned rs2,
                       unsigned rs3, unsigned rm)
{
    uint32_t v = o->base | rd << 7 | rs1 << 15;
    if (o->shape == F2 || o->shape == XFF || o->shape == F3)
        v |= rs2 << 20;
    if (o->shape == F3)
        v |= rs3 << 27;
    if (o->rm)
        v |= rm << 12;
    return v;
}

#define BOX(v) (0xffffffff00000000ull | (uint32_t)(v))

static const uint64_t dvals[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x3ff8000000000000ull, 0x4008000000000000ull, 0x3fb999999999999aull, 0x3fd5555555555555ull,
    0x7e37e43c8800759cull, 0xfe37e43c8800759cull, 0x01a56e1fc2f8f359ull, 0x0010000000000000ull,
    0x0018000000000000ull, 0x0000000000000001ull, 0x800fffffffffffffull, 0x7fefffffffffffffull,
    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull,
    0xfff8000000000001ull, 0x4340000000000000ull, 0x4340000000000001ull, 0x43e0000000000000ull,
    0xc3e0000000000000ull, 0x43f0000000000000ull, 0x41e0000000000000ull, 0xc1e0000000000000ull,
    0x41dfffffffc00000ull, 0x41efffffffe00000ull, 0x3fe0000000000000ull, 0x4004000000000000ull,
    0xbfe0000000000000ull, 0xc004000000000000ull, 0x3ff0000000000001ull, 0x47efffffe0000000ull,
    0x36a0000000000000ull, 0x3810000000000000ull, 0x0030000000000000ull, 0x7fdfffffffffffffull,
    0xc1dfffffffffffffull, 0x43dfffffffffffffull, BOX(0x3f800000),
};
#define NDVALS (sizeof(dvals) / sizeof(dvals[0]))

static const uint64_t svals[] = {
    BOX(0x00000000), BOX(0x80000000), BOX(0x3f800000), BOX(0xbf800000), BOX(0x3fc00000),
    BOX(0x40400000), BOX(0x3dcccccd), BOX(0x3eaaaaab), BOX(0x7e967699), BOX(0x00800000),
    BOX(0x00000001), BOX(0x807fffff), BOX(0x7f7fffff), BOX(0x7f800000), BOX(0xff800000),
    BOX(0x7fc00000), BOX(0x7fa00000), BOX(0xffc00001), BOX(0x4b800000), BOX(0x4b800001),
    BOX(0x5f000000), BOX(0xdf000000), BOX(0x4f000000), BOX(0xcf000000), BOX(0x3f000000),
    BOX(0x40200000), BOX(0xbf000000), BOX(0x5f800000), BOX(0x4f800000), BOX(0x01800000),
    BOX(0x7effffff), BOX(0x4effffff), BOX(0xcf000001), BOX(0x3f800001),
    0x000000003f800000ull, 0x7ff0000000000000ull, 0xfffffffe3f800000ull,
};
#define NSVALS (sizeof(svals) / sizeof(svals[0]))

static const uint64_t ivals[] = {
    0, 1, ~0ull, 2, 0x8000000000000000ull, 0x7fffffffffffffffull, 0x80000000ull,
    0x7fffffffull, 0xffffffffull, 0xffffffff80000000ull, 0x20000000000000ull,
    0x20000000000001ull, 0xffdfffffffffffffull, 0x1000000ull, 0x1000001ull, 0xfffffffffeffffffull,
    12345, 0xfffffffffffffff6ull, 0x123456789abcdef0ull, 0xfedcba9876543210ull,
};
#define NIVALS (sizeof(ivals) / sizeof(ivals[0]))

/* Rounding settings: the rm field, and frm for the dynamic mode. */
struct rmset {
    unsigned rm, frm;
};
static const struct rmset rm_fast = { 7, 0 }; /* what gcc emits, in RNE */
static const struct rmset rm_others[] = { { 0, 0 }, { 1, 0 }, { 2, 0 }, { 3, 0 }, { 4, 0 },
                                          { 7, 1 }, { 7, 3 }, { 7, 4 }, { 5, 0 }, { 7, 6 } };
#define NRM_OTHERS (sizeof(rm_others) / sizeof(rm_others[0]))

static const struct fpop *op_named(const char *name)
{
    for (unsigned i = 0; i < NFPOPS; i++)
        if (strcmp(fpops[i].name, name) == 0)
            return &fpops[i];
    fail_msg("no op %s", name);
    return NULL;
}

static unsigned runs_total, runs_native;

/* One instruction (then a jump that ends the block), both ways. Operands:
 * f1, f2, f3 (or x5 for an integer source), result in f4 or x6; one
 * variant writes over its first operand. */
static void run_fp(const struct fpop *o, uint64_t a, uint64_t b, uint64_t cc, struct rmset rm,
                   uint32_t fflags, bool in_place)
{
    uint64_t regs[32] = { 0 };
    regs[10] = DATA;
    memset(&fp_setup, 0, sizeof(fp_setup));
    fp_setup.on = true;
    for (int r = 0; r < 32; r++)
        fp_setup.f[r] = BOX(0x40000000 + (unsigned)r); /* unrelated values */
    fp_setup.f[1] = a;
    fp_setup.f[2] = b;
    fp_setup.f[3] = cc;
    regs[5] = a;
    fp_setup.fflags = fflags;
    fp_setup.frm = rm.frm;
    fp_setup.fs = FS_INITIAL;
    unsigned rd = (o->shape == XF || o->shape == XFF) ? 6 : (in_place ? 1 : 4);
    unsigned rs1 = o->shape == FX ? 5 : 1;
    struct prog p = { .len = 0 };
    put32(&p, fp_enc(o, rd, rs1, 2, 3, rm.rm));
    put32(&p, SELF_LOOP);
    char what[96];
    snprintf(what, sizeof(what), "%s %#llx %#llx %#llx rm %u/%u fflags %#x", o->name,
             (unsigned long long)a, (unsigned long long)b, (unsigned long long)cc, rm.rm,
             rm.frm, fflags);
    int k = run_both(&p, regs, what);
    runs_total++;
    if (k == -1)
        runs_native++;
    /* it ran natively to the end, or handed over at the op itself only
     * because the op raises (an invalid rounding mode) */
    if (k != -1 && !(k == 0 && ma.cpu.mcause == EXC_ILLEGAL)) {
        print_error("%s: compiled code returned %d\n", what, k);
        fail();
    }
}

static void test_fp_edges(void **state)
{
    (void)state;
    for (unsigned i = 0; i < NFPOPS; i++) {
        const struct fpop *o = &fpops[i];
        const uint64_t *v = o->dbl ? dvals : svals;
        unsigned n = o->dbl ? NDVALS : NSVALS;
        if (o->shape == FX) {
            v = ivals;
            n = NIVALS;
        }
        bool binary = o->shape == F2 || o->shape == XFF || o->shape == F3;
        for (unsigned fl = 0; fl < 2; fl++) {
            uint32_t fflags = fl ? FPU_NX : 0;
            /* the fast path's mode: every pair of operands */
            for (unsigned a = 0; a < n; a++) {
                for (unsigned b = 0; b < (binary ? n : 1); b++) {
                    uint64_t c3 = v[(a * 7 + b * 3 + 1) % n];
                    run_fp(o, v[a], v[b], c3, rm_fast, fflags, (a + b) % 5 == 0);
                }
            }
            /* every other mode, valid or not: each operand with a few partners */
            for (unsigned r = 0; r < (o->rm ? NRM_OTHERS : 0); r++) {
                for (unsigned a = 0; a < n; a++) {
                    for (unsigned t = 0; t < (binary ? 3 : 1); t++) {
                        unsigned b = (a * 5 + t * 11 + r) % n;
                        run_fp(o, v[a], v[b], v[(a + b + t) % n], rm_others[r], fflags,
                               t == 1);
                    }
                }
            }
        }
    }
    /* all flags set, an odd frm: nothing changes in the fast path's view */
    run_fp(op_named("fadd.d"), dvals[2], dvals[6], 0, rm_fast, 0x1f, false);
    print_message("F/D edge cases: %u runs, %u ran natively to the end\n", runs_total,
                  runs_native);
    assert_true(runs_native > runs_total / 2);
}

/* FS off: the compiled code stops at the first F/D op (after the integer op
 * before it); the interpreter raises illegal-instruction there. */
static void test_fp_disabled(void **state)
{
    (void)state;
    uint64_t regs[32] = { 0 };
    regs[10] = DATA;
    for (unsigned i = 0; i < NFPOPS; i++) {
        memset(&fp_setup, 0, sizeof(fp_setup));
        fp_setup.on = true;
        fp_setup.fs = 0;
        struct prog p = { .len = 0 };
        put32(&p, enc_i(7, 0, 0, 7, 0x13)); /* li x7, 7 */
        put32(&p, fp_enc(&fpops[i], 4, 1, 2, 3, 7));
        put32(&p, SELF_LOOP);
        assert_int_equal(run_both(&p, regs, fpops[i].name), 1);
        assert_int_equal(mb.cpu.mcause, EXC_ILLEGAL);
        assert_int_equal(mb.cpu.x[7], 7);
    }
    /* loads and stores too */
    static const uint32_t mem[] = { 0x00052207, 0x00053207, 0x00452027, 0x00453027 };
    for (unsigned i = 0; i < 4; i++) {
        struct prog p = { .len = 0 };
        put32(&p, enc_i(7, 0, 0, 7, 0x13));
        put32(&p, mem[i]); /* flw/fld f4, 0(x10); fsw/fsd f4, 0(x10) */
        put32(&p, SELF_LOOP);
        assert_int_equal(run_both(&p, regs, "FP load/store with FS off"), 1);
        assert_int_equal(mb.cpu.mcause, EXC_ILLEGAL);
    }
    memset(&fp_setup, 0, sizeof(fp_setup));
}

/* The inline fast paths run without the helper: RNE (dynamic, frm = 0) and
 * NX already set, on ordinary operands. With NX clear the arithmetic goes
 * to the helper (which raises NX), the rest stays inline. */
static void test_fp_fast_path(void **state)
{
    (void)state;
    uint64_t regs[32] = { 0 };
    regs[10] = DATA;
    regs[5] = 12345;
    memset(&fp_setup, 0, sizeof(fp_setup));
    fp_setup.on = true;
    fp_setup.fs = FS_INITIAL;
    fp_setup.f[1] = 0x3ff8000000000000ull; /* 1.5 */
    fp_setup.f[2] = 0x3fb999999999999aull; /* 0.1 */
    fp_setup.f[3] = 0x4008000000000000ull; /* 3 */
    fp_setup.f[11] = BOX(0x3fc00000);
    fp_setup.f[12] = BOX(0x3dcccccd);
    fp_setup.f[13] = BOX(0x40400000);
    static const char *const names[] = {
        "fadd.d", "fsub.d", "fmul.d", "fdiv.d", "fsqrt.d", "fmadd.d", "fnmsub.d",
        "fadd.s", "fmul.s", "fdiv.s", "fmadd.s", "fsgnjn.d", "fmin.d", "fmax.s",
        "fcvt.s.d", "fcvt.d.s", "feq.d", "flt.s", "fcvt.w.d", "fcvt.l.d", "fcvt.wu.s",
        "fcvt.d.w", "fcvt.d.l", "fcvt.s.w", "fmv.x.d", "fmv.d.x",
    };
    for (int nx = 1; nx >= 0; nx--) {
        fp_setup.fflags = nx ? FPU_NX : 0;
        for (unsigned n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
            const struct fpop *o = op_named(names[n]);
            unsigned base = o->dbl || o->shape == FX ? 1 : 11;
            struct prog p = { .len = 0 };
            put32(&p, fp_enc(o, o->shape == XF || o->shape == XFF ? 6 : 4,
                             o->shape == FX ? 5 : base, base + 1, base + 2, 7));
            put32(&p, SELF_LOOP);
            prepare(&mb, &p, regs);
            uint64_t calls = mb.cpu.fp_exec_calls;
            assert_int_equal(run_native(&p, regs), -1);
            bool arith = strncmp(names[n], "fadd", 4) == 0 || strncmp(names[n], "fsub", 4) == 0 ||
                         strncmp(names[n], "fmul", 4) == 0 || strncmp(names[n], "fdiv", 4) == 0 ||
                         strncmp(names[n], "fsqrt", 5) == 0 || strncmp(names[n], "fmadd", 5) == 0 ||
                         strncmp(names[n], "fnm", 3) == 0;
            uint64_t want = (!nx && arith) ? 1 : 0;
            if (mb.cpu.fp_exec_calls - calls != want) {
                print_error("%s with NX %s: %llu helper calls, expected %llu\n", names[n],
                            nx ? "set" : "clear",
                            (unsigned long long)(mb.cpu.fp_exec_calls - calls),
                            (unsigned long long)want);
                fail();
            }
            assert_int_equal(mb.cpu.mstatus & MSTATUS_FS,
                             strncmp(names[n], "fmv.x", 5) == 0 ? FS_INITIAL : MSTATUS_FS_DIRTY);
        }
    }
    memset(&fp_setup, 0, sizeof(fp_setup));
}

/* ---- random blocks ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t rnd_fval(void)
{
    switch (rnd() % 6) {
    case 0: return dvals[rnd() % NDVALS];
    case 1: return svals[rnd() % NSVALS];
    case 2: return BOX(rnd());
    case 3: return (rnd() & 0x800fffffffffffffull) | (0x3f0ull + rnd() % 32) << 52; /* ~1 */
    case 4: return BOX((rnd() & 0x807fffff) | (0x70u + (unsigned)(rnd() % 32)) << 23);
    default: return rnd();
    }
}

/* An integer register for FX/XF operands: x5-x9, x12, x14, x15 (some of
 * them live in host registers). */
static unsigned rnd_xreg(void)
{
    static const unsigned r[] = { 5, 6, 7, 8, 9, 12, 14, 15, 0 };
    return r[rnd() % 9];
}

static void random_fp_insn(struct prog *p)
{
    unsigned kind = (unsigned)(rnd() % 10);
    if (kind < 7) {
        const struct fpop *o = &fpops[rnd() % NFPOPS];
        unsigned rm = (rnd() % 4) ? 7 : (unsigned)(rnd() % 8);
        unsigned rd = (o->shape == XF || o->shape == XFF) ? rnd_xreg() : (unsigned)(rnd() % 8);
        unsigned rs1 = o->shape == FX ? rnd_xreg() : (unsigned)(rnd() % 8);
        uint32_t v = fp_enc(o, rd, rs1, (unsigned)(rnd() % 8), (unsigned)(rnd() % 8), rm);
        if (o->rm && (rm == 5 || rm == 6))
            v = (v & ~(7u << 12)) | 7u << 12; /* keep most blocks legal */
        put32(p, v);
    } else if (kind < 9) {
        /* flw/fld/fsw/fsd f0-f7 at x10 + an aligned offset */
        bool dbl = rnd() & 1, st = rnd() & 1;
        int32_t off = (int32_t)((rnd() % 256) * 8) - 1024;
        unsigned f = (unsigned)(rnd() % 8);
        if (st)
            put32(p, enc_s(off, f, 10, dbl ? 3 : 2) - 0x23 + 0x27);
        else
            put32(p, enc_i(off, 10, dbl ? 3 : 2, f, 0x07));
    } else {
        /* an integer op on the integer FP operands */
        put32(p, enc_r(0, rnd_xreg(), rnd_xreg(), (unsigned)(rnd() % 8) == 1 ? 4 : 0,
                       rnd_xreg() ? rnd_xreg() : 5, 0x33));
    }
}

static void test_fp_random_blocks(void **state)
{
    (void)state;
    const char *env = getenv("CONDO_JIT_TEST_ITERS");
    unsigned iters = env ? (unsigned)strtoul(env, NULL, 0) : 4000;
    unsigned native_full = 0;
    for (unsigned it = 0; it < iters; it++) {
        struct prog p = { .len = 0 };
        unsigned n = 1 + (unsigned)(rnd() % 40);
        for (unsigned i = 0; i < n; i++)
            random_fp_insn(&p);
        put32(&p, SELF_LOOP);
        uint64_t regs[32];
        for (int r = 0; r < 32; r++)
            regs[r] = ivals[rnd() % NIVALS];
        regs[10] = DATA + 0x800 + (rnd() % 2) * 0x400;
        memset(&fp_setup, 0, sizeof(fp_setup));
        fp_setup.on = true;
        for (int r = 0; r < 32; r++)
            fp_setup.f[r] = rnd_fval();
        fp_setup.fflags = (rnd() % 3) ? FPU_NX : (uint32_t)(rnd() % 32);
        fp_setup.frm = (rnd() % 4) ? 0 : (unsigned)(rnd() % 8); /* 5-7: dynamic rm illegal */
        fp_setup.fs = (rnd() % 16) ? FS_INITIAL : 0;
        char what[64];
        snprintf(what, sizeof(what), "random FP block %u", it);
        if (run_both(&p, regs, what) == -1)
            native_full++;
    }
    memset(&fp_setup, 0, sizeof(fp_setup));
    assert_true(native_full > iters / 4);
}

/* A hot FP loop through riscv_cpu_run (compiled after JIT_THRESHOLD runs,
 * chained, looping in place), against the interpreter: x5 counts down,
 * f0 accumulates f1 * f2 + f3 / f0 and is converted to an integer. */
static void test_fp_hot_loop(void **state)
{
    (void)state;
    struct prog p = { .len = 0 };
    put32(&p, enc_i(1000, 0, 0, 5, 0x13));              /* li x5, 1000 */
    unsigned loop = p.len;
    put32(&p, fp_enc(op_named("fmsub.d"), 0, 1, 2, 0, 7));        /* fmsub.d f0, f1, f2, f0 */
    put32(&p, fp_enc(op_named("fdiv.d"), 4, 3, 0, 0, 7));         /* fdiv.d f4, f3, f0 */
    put32(&p, fp_enc(op_named("fadd.d"), 0, 0, 4, 0, 7));         /* fadd.d f0, f0, f4 */
    put32(&p, fp_enc(op_named("fcvt.l.d"), 6, 0, 0, 0, 1));        /* fcvt.l.d x6, f0, rtz */
    put32(&p, enc_r(0, 6, 7, 0, 7, 0x33));               /* add x7, x7, x6 */
    put32(&p, enc_s(0, 0, 10, 3) - 0x23 + 0x27);         /* fsd f0, 0(x10) */
    put32(&p, enc_i(0, 10, 3, 1, 0x07));                 /* fld f1, 0(x10) */
    put32(&p, fp_enc(op_named("fsgnj.d"), 1, 2, 1, 0, 0));        /* fsgnj.d f1, f2, f1 */
    put32(&p, enc_i(-1, 5, 0, 5, 0x13));                 /* addi x5, x5, -1 */
    put32(&p, enc_b((int32_t)loop - (int32_t)p.len, 0, 5, 1)); /* bnez x5, loop */
    put32(&p, SELF_LOOP);
    uint64_t regs[32] = { 0 };
    regs[10] = DATA;
    memset(&fp_setup, 0, sizeof(fp_setup));
    fp_setup.on = true;
    fp_setup.fs = FS_INITIAL;
    fp_setup.f[0] = 0x3ff0000000000000ull;
    fp_setup.f[1] = 0x3ff0000000000001ull;
    fp_setup.f[2] = 0x3fb999999999999aull;
    fp_setup.f[3] = 0x4008000000000000ull;
    static const uint64_t budgets[] = { 1000, 7, 100000 };
    prepare(&ma, &p, regs);
    prepare(&mb, &p, regs);
    for (unsigned r = 0; r < 12; r++) {
        riscv_jit_enable(false);
        riscv_cpu_run(&ma.cpu, budgets[r % 3]);
        riscv_jit_enable(true);
        riscv_cpu_run(&mb.cpu, budgets[r % 3]);
        compare("FP hot loop");
    }
    assert_int_equal(mb.cpu.x[5], 0);
    assert_true(mb.cpu.jit_runs > 0);
    struct riscv_block *b = riscv_block_lookup(&mb.cpu, CODE + loop);
    assert_non_null(b);
    assert_non_null(b->jit);
    memset(&fp_setup, 0, sizeof(fp_setup));
}

int main(void)
{
#if !defined(__x86_64__)
    return 0; /* no JIT on this host */
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fp_fast_path),
        cmocka_unit_test(test_fp_disabled),
        cmocka_unit_test(test_fp_edges),
        cmocka_unit_test(test_fp_random_blocks),
        cmocka_unit_test(test_fp_hot_loop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
