/* FPU reference vector generator: a riscv64 Linux program.
 *
 * Runs every F/D instruction that include/condo/riscv_fpu.h models, on a
 * deterministic set of operands, under every rounding mode (set with fsrm;
 * the instructions use the dynamic rm), clearing fflags before each one and
 * reading them after, and prints one line per execution:
 *
 *     <op> <rm> <a> <b> <c> <result> <fflags>
 *
 * op is the instruction mnemonic (fadd.s, fcvt.wu.d, ...); rm 0..4 (0 for
 * instructions without rounding); a, b, c the operands as hex bit patterns
 * (0 when unused; integer operands as the instruction reads them); result
 * the destination register's meaningful bits (32 for .s results and .w/.wu
 * integers, 64 otherwise, 1 bit for compares); fflags the accrued flags.
 *
 * Run under qemu-riscv64 (tests/fpu-ref/make-vectors.sh), whose softfloat
 * is the reference that tests/unit/test_fpu.c checks our implementation
 * against; nothing here computes an expected result itself.
 *
 * Operands: special values (zeros, infinities, quiet/signalling NaNs with
 * various payloads and signs, subnormal/normal boundaries, largest finite,
 * values near 1, integer-conversion limits), then pseudo-random values
 * (fixed seed) biased toward the interesting regions: exponents near the
 * underflow and overflow thresholds, aligned exponents for cancellation,
 * significands with long runs of ones/zeros and exact rounding ties, fused
 * operands whose product nearly cancels the addend. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef __riscv
#error "build this with a riscv64 compiler (tests/fpu-ref/make-vectors.sh)"
#endif

/* ---- instruction wrappers ------------------------------------------------ */

typedef uint64_t (*run_fn)(uint64_t a, uint64_t b, uint64_t c, int rm, unsigned *fl);

#define PRE "csrw frm, %[rm]\n\tcsrw fflags, zero\n\t"
#define POST "csrr %[f], fflags\n\tcsrw frm, zero\n\t"
#define IN_RM [rm] "r"((unsigned long)rm)

/* fd = op(fs1, fs2) */
#define W_FFF(fn, insn, mvi, mvo)                                                     \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, unsigned *fl)      \
    {                                                                                 \
        uint64_t r;                                                                   \
        unsigned long f;                                                              \
        (void)c;                                                                      \
        __asm__ volatile(mvi " ft0, %[a]\n\t" mvi " ft1, %[b]\n\t" PRE insn          \
                         " ft2, ft0, ft1\n\t" POST mvo " %[r], ft2"                   \
                         : [r] "=&r"(r), [f] "=&r"(f)                                 \
                         : [a] "r"(a), [b] "r"(b), IN_RM                              \
                         : "ft0", "ft1", "ft2");                                      \
        *fl = (unsigned)f;                                                            \
        return r;                                                                     \
    }
/* fd = op(fs1) */
#define W_FF(fn, insn, mvi, mvo)                                                      \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, unsigned *fl)      \
    {                                                                                 \
        uint64_t r;                                                                   \
        unsigned long f;                                                              \
        (void)b;                                                                      \
        (void)c;                                                                      \
        __asm__ volatile(mvi " ft0, %[a]\n\t" PRE insn " ft2, ft0\n\t" POST mvo       \
                         " %[r], ft2"                                                 \
                         : [r] "=&r"(r), [f] "=&r"(f)                                 \
                         : [a] "r"(a), IN_RM                                          \
                         : "ft0", "ft2");                                             \
        *fl = (unsigned)f;                                                            \
        return r;                                                                     \
    }
/* fd = op(fs1, fs2, fs3) */
#define W_FFFF(fn, insn, mvi, mvo)                                                    \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, unsigned *fl)      \
    {                                                                                 \
        uint64_t r;                                                                   \
        unsigned long f;                                                              \
        __asm__ volatile(mvi " ft0, %[a]\n\t" mvi " ft1, %[b]\n\t" mvi               \
                             " ft3, %[c]\n\t" PRE insn " ft2, ft0, ft1, ft3\n\t" POST  \
                             mvo " %[r], ft2"                                         \
                         : [r] "=&r"(r), [f] "=&r"(f)                                 \
                         : [a] "r"(a), [b] "r"(b), [c] "r"(c), IN_RM                  \
                         : "ft0", "ft1", "ft2", "ft3");                               \
        *fl = (unsigned)f;                                                            \
        return r;                                                                     \
    }
/* xd = op(fs1, fs2) */
#define W_XFF(fn, insn, mvi)                                                          \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, unsigned *fl)      \
    {                                                                                 \
        uint64_t r;                                                                   \
        unsigned long f;                                                              \
        (void)c;                                                                      \
        __asm__ volatile(mvi " ft0, %[a]\n\t" mvi " ft1, %[b]\n\t" PRE insn          \
                         " %[r], ft0, ft1\n\t" POST                                   \
                         : [r] "=&r"(r), [f] "=&r"(f)                                 \
                         : [a] "r"(a), [b] "r"(b), IN_RM                              \
                         : "ft0", "ft1");                                             \
        *fl = (unsigned)f;                                                            \
        return r;                                                                     \
    }
/* xd = op(fs1) */
#define W_XF(fn, insn, mvi)                                                           \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, unsigned *fl)      \
    {                                                                                 \
        uint64_t r;                                                                   \
        unsigned long f;                                                              \
        (void)b;                                                                      \
        (void)c;                                                                      \
        __asm__ volatile(mvi " ft0, %[a]\n\t" PRE insn " %[r], ft0\n\t" POST          \
                         : [r] "=&r"(r), [f] "=&r"(f)                                 \
                         : [a] "r"(a), IN_RM                                          \
                         : "ft0");                                                    \
        *fl = (unsigned)f;                                                            \
        return r;                                                                     \
    }
/* fd = op(xs1) */
#define W_FX(fn, insn, mvo)                                                           \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c, int rm, unsigned *fl)      \
    {                                                                                 \
        uint64_t r;                                                                   \
        unsigned long f;                                                              \
        (void)b;                                                                      \
        (void)c;                                                                      \
        __asm__ volatile(PRE insn " ft2, %[a]\n\t" POST mvo " %[r], ft2"              \
                         : [r] "=&r"(r), [f] "=&r"(f)                                 \
                         : [a] "r"(a), IN_RM                                          \
                         : "ft2");                                                    \
        *fl = (unsigned)f;                                                            \
        return r;                                                                     \
    }

#define DEFS(S, MVI, MVO)                                                             \
    W_FFF(r_fadd_##S, "fadd." #S, MVI, MVO)                                           \
    W_FFF(r_fsub_##S, "fsub." #S, MVI, MVO)                                           \
    W_FFF(r_fmul_##S, "fmul." #S, MVI, MVO)                                           \
    W_FFF(r_fdiv_##S, "fdiv." #S, MVI, MVO)                                           \
    W_FF(r_fsqrt_##S, "fsqrt." #S, MVI, MVO)                                          \
    W_FFFF(r_fmadd_##S, "fmadd." #S, MVI, MVO)                                        \
    W_FFFF(r_fmsub_##S, "fmsub." #S, MVI, MVO)                                        \
    W_FFFF(r_fnmsub_##S, "fnmsub." #S, MVI, MVO)                                      \
    W_FFFF(r_fnmadd_##S, "fnmadd." #S, MVI, MVO)                                      \
    W_FFF(r_fmin_##S, "fmin." #S, MVI, MVO)                                           \
    W_FFF(r_fmax_##S, "fmax." #S, MVI, MVO)                                           \
    W_XFF(r_feq_##S, "feq." #S, MVI)                                                  \
    W_XFF(r_flt_##S, "flt." #S, MVI)                                                  \
    W_XFF(r_fle_##S, "fle." #S, MVI)                                                  \
    W_XF(r_fclass_##S, "fclass." #S, MVI)                                             \
    W_XF(r_fcvt_w_##S, "fcvt.w." #S, MVI)                                             \
    W_XF(r_fcvt_wu_##S, "fcvt.wu." #S, MVI)                                           \
    W_XF(r_fcvt_l_##S, "fcvt.l." #S, MVI)                                             \
    W_XF(r_fcvt_lu_##S, "fcvt.lu." #S, MVI)                                           \
    W_FX(r_fcvt_##S##_w, "fcvt." #S ".w", MVO)                                        \
    W_FX(r_fcvt_##S##_wu, "fcvt." #S ".wu", MVO)                                      \
    W_FX(r_fcvt_##S##_l, "fcvt." #S ".l", MVO)                                        \
    W_FX(r_fcvt_##S##_lu, "fcvt." #S ".lu", MVO)

DEFS(s, "fmv.w.x", "fmv.x.w")
DEFS(d, "fmv.d.x", "fmv.x.d")
W_FF(r_fcvt_s_d, "fcvt.s.d", "fmv.d.x", "fmv.x.w")
W_FF(r_fcvt_d_s, "fcvt.d.s", "fmv.w.x", "fmv.x.d")

/* ---- deterministic operands ---------------------------------------------- */

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static int rndn(int n) { return (int)(rnd() % (uint64_t)n); }

typedef struct {
    int P, EW; /* precision (with hidden bit), exponent width */
} fmt_t;
static const fmt_t FS = {24, 8}, FD = {53, 11};

static int bias(fmt_t f) { return (1 << (f.EW - 1)) - 1; }
static int emaxf(fmt_t f) { return (1 << f.EW) - 1; } /* all-ones field */
static uint64_t mk(fmt_t f, int sign, int bexp, uint64_t mant)
{
    return ((uint64_t)sign << (f.P - 1 + f.EW)) | ((uint64_t)bexp << (f.P - 1)) |
           (mant & ((1ull << (f.P - 1)) - 1));
}
static int exp_of(fmt_t f, uint64_t x) { return (int)((x >> (f.P - 1)) & ((1u << f.EW) - 1)); }
static uint64_t mask_of(fmt_t f) { return f.P == 24 ? 0xffffffffull : ~0ull; }

/* A significand field with structure: runs of ones and zeros, ties. */
static uint64_t rnd_mant(fmt_t f)
{
    int mb = f.P - 1, k = rndn(mb) + 1;
    uint64_t all = (1ull << mb) - 1;
    switch (rndn(9)) {
    case 0: return 0;
    case 1: return all;
    case 2: return (1ull << k) - 1;                 /* low ones */
    case 3: return all & ~((1ull << k) - 1);        /* high ones */
    case 4: return 1ull << (k - 1);                 /* one bit */
    case 5: return rnd() & all & ~((1ull << k) - 1); /* short significand */
    case 6: return (rnd() & all) | 1;
    default: return rnd() & all;
    }
}

static uint64_t rnd_float(fmt_t f)
{
    int sign = rndn(2), top = emaxf(f), b = bias(f), e;
    switch (rndn(10)) {
    case 0:
        return rnd() & mask_of(f);
    case 1:
    case 2:
    case 3:
        e = b - 4 + rndn(9);
        break;
    case 4:
        e = rndn(3); /* subnormal, smallest normals */
        break;
    case 5:
        e = top - 1 - rndn(3);
        break;
    default:
        e = rndn(top);
        break;
    }
    return mk(f, sign, e, rnd_mant(f));
}

static int clampe(fmt_t f, int e)
{
    if (e < 0)
        return 0;
    if (e > emaxf(f) - 1)
        return emaxf(f) - 1;
    return e;
}

/* Special values of a format. */
static int specials(fmt_t f, uint64_t *out)
{
    int n = 0, b = bias(f), top = emaxf(f), mb = f.P - 1;
    uint64_t all = (1ull << mb) - 1, q = 1ull << (mb - 1);
    for (int s = 0; s < 2; s++) {
        out[n++] = mk(f, s, 0, 0);        /* zero */
        out[n++] = mk(f, s, top, 0);      /* inf */
        out[n++] = mk(f, s, 0, 1);        /* min subnormal */
        out[n++] = mk(f, s, 0, all);      /* max subnormal */
        out[n++] = mk(f, s, 1, 0);        /* min normal */
        out[n++] = mk(f, s, 1, 1);
        out[n++] = mk(f, s, top - 1, all); /* max finite */
        out[n++] = mk(f, s, b, 0);        /* 1 */
        out[n++] = mk(f, s, b, 1);        /* 1 + ulp */
        out[n++] = mk(f, s, b - 1, all);  /* 1 - ulp/2 */
        out[n++] = mk(f, s, b - 1, 0);    /* 0.5 */
        out[n++] = mk(f, s, b, q);        /* 1.5 */
        out[n++] = mk(f, s, b + 1, q);    /* 3 */
    }
    out[n++] = mk(f, 0, top, q);           /* canonical qNaN */
    out[n++] = mk(f, 1, top, q | 1);       /* negative qNaN with payload */
    out[n++] = mk(f, 0, top, all);         /* qNaN all payload */
    out[n++] = mk(f, 0, top, 1);           /* sNaN */
    out[n++] = mk(f, 1, top, q - 1);       /* negative sNaN, max payload */
    out[n++] = mk(f, 0, top - 2, all);     /* near max */
    out[n++] = mk(f, 0, b + mb, 0);        /* 2^(P-1): integers from here */
    out[n++] = mk(f, 0, b + mb - 1, all);  /* 2^(P-1) - 1/2 */
    out[n++] = mk(f, 0, b + 31, 0);        /* 2^31 */
    out[n++] = mk(f, 1, b + 31, 0);        /* -2^31 */
    out[n++] = mk(f, 0, b + 32, 0);        /* 2^32 */
    out[n++] = mk(f, 0, b + 63, 0);        /* 2^63 */
    out[n++] = mk(f, 1, b + 63, 0);        /* -2^63 */
    out[n++] = mk(f, 0, b + 64, 0);        /* 2^64 */
    out[n++] = mk(f, 0, b - 3, all / 3);   /* ~0.1 */
    out[n++] = mk(f, 1, 2, all / 5);
    return n;
}

/* A smaller set for operand triples. */
static int specials_small(fmt_t f, uint64_t *out)
{
    int n = 0, b = bias(f), top = emaxf(f), mb = f.P - 1;
    uint64_t all = (1ull << mb) - 1, q = 1ull << (mb - 1);
    out[n++] = mk(f, 0, 0, 0);
    out[n++] = mk(f, 1, 0, 0);
    out[n++] = mk(f, 0, top, 0);
    out[n++] = mk(f, 1, top, 0);
    out[n++] = mk(f, 0, top, q);
    out[n++] = mk(f, 0, top, 1);
    out[n++] = mk(f, 0, b, 0);
    out[n++] = mk(f, 1, b, 1);
    out[n++] = mk(f, 0, 0, 1);
    out[n++] = mk(f, 1, 0, all);
    out[n++] = mk(f, 0, 1, 0);
    out[n++] = mk(f, 0, top - 1, all);
    out[n++] = mk(f, 1, b - 1, all);
    return n;
}

/* ---- operand sets -------------------------------------------------------- */

/* Random operand sets per operation; argv[1] overrides (deeper one-off
 * runs), argv[2] reseeds. */
static int N_RAND = 2500;

typedef struct {
    uint64_t (*v)[3];
    int n, cap;
} set_t;

static void add3(set_t *s, uint64_t a, uint64_t b, uint64_t c)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->v = realloc(s->v, (size_t)s->cap * sizeof *s->v);
        if (!s->v) {
            perror("realloc");
            exit(1);
        }
    }
    s->v[s->n][0] = a;
    s->v[s->n][1] = b;
    s->v[s->n][2] = c;
    s->n++;
}

static double dbl(uint64_t x)
{
    double d;
    memcpy(&d, &x, 8);
    return d;
}
static uint64_t bits_d(double d)
{
    uint64_t x;
    memcpy(&x, &d, 8);
    return x;
}
static float flt(uint64_t x)
{
    uint32_t u = (uint32_t)x;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint64_t bits_f(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void unary_set(fmt_t f, set_t *s)
{
    uint64_t sp[64];
    int n = specials(f, sp);
    for (int i = 0; i < n; i++)
        add3(s, sp[i], 0, 0);
    for (int i = 0; i < N_RAND; i++)
        add3(s, rnd_float(f), 0, 0);
    /* perfect squares and their neighbours (sqrt exactness) */
    for (int i = 0; i < 100; i++) {
        uint64_t x = rnd_float(f) & ~(1ull << (f.P - 1 + f.EW));
        if (f.P == 24) {
            float v = flt(x);
            x = bits_f(v * v);
        } else {
            double v = dbl(x);
            x = bits_d(v * v);
        }
        add3(s, x, 0, 0);
        add3(s, x + 1, 0, 0);
        add3(s, x - 1, 0, 0);
    }
}

static void binary_set(fmt_t f, set_t *s)
{
    uint64_t sp[64];
    int n = specials(f, sp), b = bias(f);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            add3(s, sp[i], sp[j], 0);
    for (int i = 0; i < N_RAND; i++) {
        uint64_t x = rnd_float(f), y;
        int ex = exp_of(f, x);
        switch (rndn(5)) {
        case 0:
            y = rnd_float(f);
            break;
        case 1: /* close exponents: alignment, cancellation */
            y = mk(f, rndn(2), clampe(f, ex + rndn(2 * f.P + 7) - f.P - 3), rnd_mant(f));
            break;
        case 2: /* nearly equal magnitudes */
            y = (x ^ (rnd() & 0xff)) ^ ((uint64_t)rndn(2) << (f.P - 1 + f.EW));
            break;
        case 3: { /* product or quotient near the underflow threshold */
            int t = -b - f.P - 2 + rndn(f.P + 6); /* target unbiased exponent */
            int ey = rndn(2) ? t - (ex - b) + b : (ex - b) - t + b;
            y = mk(f, rndn(2), clampe(f, ey), rnd_mant(f));
            break;
        }
        default: { /* near the overflow threshold */
            int t = b - 2 + rndn(4);
            int ey = rndn(2) ? t - (ex - b) + b : (ex - b) - t + b;
            y = mk(f, rndn(2), clampe(f, ey), rnd_mant(f));
            break;
        }
        }
        add3(s, x, y, 0);
    }
    /* subnormal quotients that are exact ties (odd significand / 2^k) */
    for (int i = 0; i < 40; i++) {
        uint64_t x = mk(f, rndn(2), 0, rnd() | 1);
        add3(s, x, mk(f, rndn(2), b + 1 + rndn(3), 0), 0);
    }
}

static void ternary_set(fmt_t f, set_t *s)
{
    uint64_t sp[32];
    int n = specials_small(f, sp), b = bias(f);
    uint64_t sbit = 1ull << (f.P - 1 + f.EW);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int k = 0; k < n; k++)
                add3(s, sp[i], sp[j], sp[k]);
    for (int i = 0; i < N_RAND; i++) {
        uint64_t x = rnd_float(f), y = rnd_float(f), z;
        switch (rndn(5)) {
        case 0:
            z = rnd_float(f);
            break;
        case 1: { /* c ~ +-a*b: cancellation, exact zeros, sticky effects */
            x = mk(f, rndn(2), b - 2 + rndn(5), rnd_mant(f));
            y = mk(f, rndn(2), b - 2 + rndn(5), rnd_mant(f));
            uint64_t p = f.P == 24 ? bits_f(flt(x) * flt(y)) : bits_d(dbl(x) * dbl(y));
            z = (p + (uint64_t)(rndn(7) - 3)) ^ (rndn(2) ? sbit : 0);
            break;
        }
        case 2: { /* addend exponent near the product's */
            int ep = exp_of(f, x) + exp_of(f, y) - b;
            z = mk(f, rndn(2), clampe(f, ep + rndn(4 * f.P + 9) - 2 * f.P - 4), rnd_mant(f));
            break;
        }
        case 3: { /* product near underflow, small addend */
            int t = -b - f.P - 2 + rndn(f.P + 6);
            int ex = exp_of(f, x);
            y = mk(f, rndn(2), clampe(f, t - (ex - b) + b), rnd_mant(f));
            z = mk(f, rndn(2), rndn(3), rnd_mant(f));
            break;
        }
        default: { /* product near overflow */
            int t = b - 1 + rndn(3), ex = exp_of(f, x);
            y = mk(f, rndn(2), clampe(f, t - (ex - b) + b), rnd_mant(f));
            z = rnd_float(f);
            break;
        }
        }
        add3(s, x, y, z);
    }
}

/* Operands of float -> integer conversions. */
static void toint_set(fmt_t f, set_t *s)
{
    uint64_t sp[64];
    int n = specials(f, sp), b = bias(f);
    for (int i = 0; i < n; i++)
        add3(s, sp[i], 0, 0);
    static const int lim[] = {31, 32, 63, 64};
    for (unsigned i = 0; i < sizeof lim / sizeof lim[0]; i++)
        for (int sg = 0; sg < 2; sg++) {
            uint64_t x = mk(f, sg, b + lim[i], 0);
            for (int d = -3; d <= 3; d++)
                add3(s, x + (uint64_t)d, 0, 0);
        }
    static const double small[] = {0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.5, 3.5,
                                   4.5, 0.4999999, 0.5000001, 1e-30, 7.0, 2147483647.5,
                                   4294967295.5, 2147483648.5};
    for (unsigned i = 0; i < sizeof small / sizeof small[0]; i++)
        for (int sg = 0; sg < 2; sg++) {
            double d = sg ? -small[i] : small[i];
            add3(s, f.P == 24 ? bits_f((float)d) : bits_d(d), 0, 0);
        }
    for (int i = 0; i < N_RAND; i++) {
        int e = rndn(4) ? b - 2 + rndn(68) : rndn(emaxf(f) + 1);
        add3(s, mk(f, rndn(2), e, rnd_mant(f)), 0, 0);
    }
}

/* Integer operands of integer -> float conversions (64-bit patterns; the
 * .w/.wu forms read the low 32 bits). */
static void fromint_set(set_t *s)
{
    static const uint64_t sp[] = {
        0, 1, 2, 3, 0xffffffffffffffffull, 0x7fffffff, 0x80000000, 0xffffffff,
        0xffffffff80000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
        (1ull << 24) - 1, (1ull << 24) + 1, (1ull << 24) + 2, (1ull << 24) + 3,
        (1ull << 25) + 1, (1ull << 25) + 2, (1ull << 25) + 3, (1ull << 25) + 6,
        (1ull << 53) - 1, (1ull << 53) + 1, (1ull << 53) + 2, (1ull << 53) + 3,
        (1ull << 54) + 2, (1ull << 54) + 6, -(1ull << 24) - 1, -(1ull << 53) - 1,
        0xffffff80ull, 0xffffff7fffffffffull, 0x7fffff7fffffffffull, 0xfffffffffffff800ull,
        0xfffffffffffffc00ull, 0xfffffffffffffbffull,
    };
    for (unsigned i = 0; i < sizeof sp / sizeof sp[0]; i++)
        add3(s, sp[i], 0, 0);
    for (int i = 0; i < N_RAND; i++) {
        uint64_t v;
        switch (rndn(4)) {
        case 0: /* exact tie at 24 or 53 bits */ {
            int p = rndn(2) ? 24 : 53, sh = rndn(64 - p);
            uint64_t m = (rnd() | (1ull << p)) & ((2ull << p) - 1);
            v = (m | 1) << sh;
            break;
        }
        case 1: /* 32-bit range */
            v = rnd() >> (32 + rndn(32));
            break;
        default:
            v = rnd() >> rndn(64);
            break;
        }
        if (rndn(3) == 0)
            v = -v;
        add3(s, v, 0, 0);
    }
}

/* Binary64 operands of fcvt.s.d: around binary32's range limits. */
static void narrow_set(set_t *s)
{
    uint64_t sp[64];
    int n = specials(FD, sp);
    for (int i = 0; i < n; i++)
        add3(s, sp[i], 0, 0);
    static const uint64_t edge[] = {
        0x380fffffe0000000ull, /* max binary32 subnormal */
        0x380ffffff0000000ull, /* 2^-126 (1 - 2^-25): rounds to min normal or not */
        0x380ffffff0000001ull, 0x380fffffefffffffull, 0x3810000000000000ull,
        0x36a0000000000000ull, /* 2^-149 */
        0x3690000000000000ull, /* 2^-150: half the min subnormal */
        0x3690000000000001ull, 0x368fffffffffffffull, 0x36a8000000000000ull,
        0x47efffffe0000000ull, /* max binary32 */
        0x47effffff0000000ull, /* max + half ulp */
        0x47efffffefffffffull, 0x47effffff0000001ull, 0x47f0000000000000ull,
    };
    for (unsigned i = 0; i < sizeof edge / sizeof edge[0]; i++)
        for (int sg = 0; sg < 2; sg++)
            add3(s, edge[i] | ((uint64_t)sg << 63), 0, 0);
    for (int i = 0; i < N_RAND; i++) {
        int e = rndn(4) ? 1023 - 155 + rndn(290) : rndn(2047);
        uint64_t m = rnd_mant(FD);
        if (rndn(3) == 0) /* tie or near tie at binary32 precision */
            m = (m & ~((1ull << 29) - 1)) | (1ull << 28) | (uint64_t)rndn(2);
        add3(s, mk(FD, rndn(2), e, m), 0, 0);
    }
}

/* ---- output -------------------------------------------------------------- */

enum { W32 = 8, W64 = 16 };

static void emit(const char *name, run_fn fn, const set_t *s, int has_rm, int nin,
                 int win, int wout)
{
    uint64_t inm = win == W32 ? 0xffffffffull : ~0ull;
    uint64_t outm = wout == W32 ? 0xffffffffull : wout == 1 ? 1 : ~0ull;
    for (int rm = 0; rm < (has_rm ? 5 : 1); rm++)
        for (int i = 0; i < s->n; i++) {
            uint64_t a = s->v[i][0] & inm, b = nin > 1 ? s->v[i][1] & inm : 0;
            uint64_t c = nin > 2 ? s->v[i][2] & inm : 0;
            unsigned fl;
            uint64_t r = fn(a, b, c, rm, &fl) & outm;
            printf("%s %d %0*llx %0*llx %0*llx %0*llx %02x\n", name, rm, win,
                   (unsigned long long)a, win, (unsigned long long)b, win,
                   (unsigned long long)c, wout == 1 ? 1 : wout, (unsigned long long)r, fl);
        }
}

#define EMIT_PREC(S, F, W)                                                            \
    do {                                                                              \
        set_t un = {0}, bin = {0}, ter = {0}, ti = {0};                               \
        unary_set(F, &un);                                                            \
        binary_set(F, &bin);                                                          \
        ternary_set(F, &ter);                                                         \
        toint_set(F, &ti);                                                            \
        emit("fadd." #S, r_fadd_##S, &bin, 1, 2, W, W);                               \
        emit("fsub." #S, r_fsub_##S, &bin, 1, 2, W, W);                               \
        emit("fmul." #S, r_fmul_##S, &bin, 1, 2, W, W);                               \
        emit("fdiv." #S, r_fdiv_##S, &bin, 1, 2, W, W);                               \
        emit("fsqrt." #S, r_fsqrt_##S, &un, 1, 1, W, W);                              \
        emit("fmadd." #S, r_fmadd_##S, &ter, 1, 3, W, W);                             \
        emit("fmsub." #S, r_fmsub_##S, &ter, 1, 3, W, W);                             \
        emit("fnmsub." #S, r_fnmsub_##S, &ter, 1, 3, W, W);                           \
        emit("fnmadd." #S, r_fnmadd_##S, &ter, 1, 3, W, W);                           \
        emit("fmin." #S, r_fmin_##S, &bin, 0, 2, W, W);                               \
        emit("fmax." #S, r_fmax_##S, &bin, 0, 2, W, W);                               \
        emit("feq." #S, r_feq_##S, &bin, 0, 2, W, 1);                                 \
        emit("flt." #S, r_flt_##S, &bin, 0, 2, W, 1);                                 \
        emit("fle." #S, r_fle_##S, &bin, 0, 2, W, 1);                                 \
        emit("fclass." #S, r_fclass_##S, &un, 0, 1, W, W32);                          \
        emit("fcvt.w." #S, r_fcvt_w_##S, &ti, 1, 1, W, W32);                          \
        emit("fcvt.wu." #S, r_fcvt_wu_##S, &ti, 1, 1, W, W32);                        \
        emit("fcvt.l." #S, r_fcvt_l_##S, &ti, 1, 1, W, W64);                          \
        emit("fcvt.lu." #S, r_fcvt_lu_##S, &ti, 1, 1, W, W64);                        \
        emit("fcvt." #S ".w", r_fcvt_##S##_w, &ints, 1, 1, W32, W);                   \
        emit("fcvt." #S ".wu", r_fcvt_##S##_wu, &ints, 1, 1, W32, W);                 \
        emit("fcvt." #S ".l", r_fcvt_##S##_l, &ints, 1, 1, W64, W);                   \
        emit("fcvt." #S ".lu", r_fcvt_##S##_lu, &ints, 1, 1, W64, W);                 \
        free(un.v);                                                                   \
        free(bin.v);                                                                  \
        free(ter.v);                                                                  \
        free(ti.v);                                                                   \
    } while (0)

int main(int argc, char **argv)
{
    if (argc > 1)
        N_RAND = atoi(argv[1]);
    if (argc > 2)
        rng = strtoull(argv[2], NULL, 0);
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    set_t ints = {0}, narrow = {0}, widen = {0};
    fromint_set(&ints);
    EMIT_PREC(s, FS, W32);
    EMIT_PREC(d, FD, W64);
    narrow_set(&narrow);
    emit("fcvt.s.d", r_fcvt_s_d, &narrow, 1, 1, W64, W32);
    unary_set(FS, &widen);
    emit("fcvt.d.s", r_fcvt_d_s, &widen, 0, 1, W32, W64);
    free(ints.v);
    free(narrow.v);
    free(widen.v);
    return fflush(stdout) == 0 ? 0 : 1;
}
