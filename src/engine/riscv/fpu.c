/* RISC-V F/D arithmetic: the fast path on the host FPU.
 *
 * The host computes each operation in round-to-nearest-even, its default
 * mode, which we never change. An error-free transformation then gives the
 * exact error of that result (its sign, and whether it is exactly half an
 * ulp), and from the nearest result and that error the result in any of the
 * five RISC-V modes, RMM included, follows by at most one step to the
 * neighbouring float; the error being zero or not is NX. So no host
 * rounding mode is switched and no host flag is read: on x86 reading MXCSR
 * (stmxcsr) waits for the FP pipeline to drain and was measured at ~6 ns,
 * more than the operation, while the transformations below are a few
 * pipelined FP operations.
 *
 *   add/sub  2Sum (Knuth): s = a+b, err = (a-(s-bb)) + (b-bb), bb = s-a.
 *   mul      p = a*b, err = fma(a, b, -p).
 *   div      q = a/b, rem = fma(-q, b, a); sign(err) = sign(rem)*sign(b).
 *   sqrt     s = sqrt(a), rem = fma(-s, s, a).
 *   fma      ErrFma (Boldo & Muller, "Exact and approximated error of the
 *            FMA", IEEE TC 2011): a*b+c = r1 + r2 + r3 exactly, with
 *            r2 = RN(r2 + r3), so sign(err) = sign(r2) and err = 0 iff r2 = 0.
 *   fcvt.s.d r = (float)x, err = x - (double)r (exact: Sterbenz).
 * Quotients and square roots are never exactly halfway between two floats
 * in the normal range, so RMM equals RNE for them there.
 *
 * These identities hold when nothing overflows and nothing is so small
 * that the error terms fall below the subnormal grid: each operation checks
 * exponent bounds on its operands and result (integer compares) and sends
 * everything else - NaN, infinities, division by zero, overflow, results
 * near or below the smallest normal, huge operands - to the exact software
 * implementation in fpu_soft.c, which also gives the RISC-V NaN rules.
 * Exact zeros from zero operands are common and stay on the fast path.
 *
 * Host requirements: IEEE binary32/binary64 arithmetic evaluated in its own
 * precision (FLT_EVAL_METHOD 0: x86-64 SSE, AArch64, RISC-V; not x87),
 * round-to-nearest in effect and no flush-to-zero/denormals-are-zero (the
 * process defaults; nothing in condo changes them), and for mul, div, sqrt
 * and the fused operations a hardware fused multiply-add (x86-64: detected
 * at run time, FMA3; elsewhere when the compiler says fma() is fast).
 * Without one those operations use fpu_soft.c. The compiler must not
 * reassociate FP arithmetic (no -ffast-math) - the build never asks it to.
 * -DCONDO_FPU_FORCE_SOFT sends every operation to software (tests);
 * -DCONDO_FPU_NO_HOST_FMA pretends there is no hardware FMA (tests). */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "condo/riscv_fpu.h"
#include "fpu_soft.h"

#if defined(CONDO_FPU_FORCE_SOFT) || !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0 || \
    defined(__FAST_MATH__)
#define FPU_FAST 0
#else
#define FPU_FAST 1
#endif

#if !FPU_FAST || defined(CONDO_FPU_NO_HOST_FMA)
#define have_fma() 0
#elif defined(__FP_FAST_FMA) && defined(__FP_FAST_FMAF)
/* The compiler turns fma() into one instruction on this target. */
#define have_fma() 1
#define FPU_HOST_FMA_DEFINED 1
#define host_fma(a, b, c) __builtin_fma(a, b, c)
#define host_fmaf(a, b, c) __builtin_fmaf(a, b, c)
#elif defined(__x86_64__) && defined(__GNUC__)
/* Baseline x86-64 has no FMA; most CPUs since 2013 do. The check reads a
 * word libgcc filled at startup. */
#define have_fma() __builtin_cpu_supports("fma")
#define FPU_HOST_FMA_DEFINED 1
static inline double host_fma(double a, double b, double c)
{
    __asm__("vfmadd231sd %[b], %[a], %[c]" : [c] "+x"(c) : [a] "x"(a), [b] "x"(b));
    return c;
}
static inline float host_fmaf(float a, float b, float c)
{
    __asm__("vfmadd231ss %[b], %[a], %[c]" : [c] "+x"(c) : [a] "x"(a), [b] "x"(b));
    return c;
}
#else
#define have_fma() 0
#endif

const char *fpu_host_backend(void)
{
    if (!FPU_FAST)
        return "soft";
    return have_fma() ? "host+fma" : "host (add/sub/fcvt.s.d only)";
}

#if FPU_FAST

static inline float f32_of(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}
static inline double f64_of(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}
static inline uint32_t bits_f32(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}
static inline uint64_t bits_f64(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

#define likely(x) __builtin_expect(!!(x), 1)

/* Hides a value's origin from the optimiser: under -ffp-contract=fast (the
 * GNU C default) a product feeding an addition may otherwise be fused, and
 * ErrFma needs the rounded product. Costs nothing (no instruction). */
#if defined(__x86_64__)
#define FP_OPAQUE(v) __asm__("" : "+x"(v))
#elif defined(__aarch64__)
#define FP_OPAQUE(v) __asm__("" : "+w"(v))
#elif defined(__riscv)
#define FP_OPAQUE(v) __asm__("" : "+f"(v))
#else
#define FP_OPAQUE(v)                                                                   \
    do {                                                                               \
        volatile __typeof__(v) v_ = (v);                                               \
        (v) = v_;                                                                      \
    } while (0)
#endif

/* Everything per format: P precision, EW exponent width. */
#define FMT_HELPERS(PFX, T, U, P, EW)                                                  \
    enum {                                                                             \
        PFX##_MB = (P)-1,                                                              \
        PFX##_EMAXF = (1 << (EW)) - 1, /* all-ones exponent field */                   \
    };                                                                                 \
    static const U PFX##_SIGN = (U)1 << ((P)-1 + (EW));                                \
    static const U PFX##_ABS = ((U)1 << ((P)-1 + (EW))) - 1;                           \
    static const U PFX##_INF = (U)((1u << (EW)) - 1) << ((P)-1);                       \
    static inline int PFX##_field(U b) { return (int)((b >> PFX##_MB) & PFX##_EMAXF); } \
    /* Bits of half an ulp of a float whose exponent field is e >= 2. */               \
    static inline U PFX##_half_ulp(int e)                                              \
    {                                                                                  \
        return e > (P) ? (U)(e - (P)) << PFX##_MB : (U)1 << (e - 2);                   \
    }                                                                                  \
    /* From the round-to-nearest result rn (finite, exponent field >= 2) and          \
     * the exact error's sign es (exact - rn: -1, 0, 1) and whether it is             \
     * exactly half an ulp, the result under rm. Stepping the bit pattern by          \
     * one moves to the neighbouring float (away from zero for +1).      */          \
    static inline U PFX##_fix(U rn, int es, int tie, int rm, uint32_t *fl)             \
    {                                                                                  \
        if (!es)                                                                       \
            return rn;                                                                 \
        *fl |= FPU_NX;                                                                 \
        int neg = (rn & PFX##_SIGN) != 0;                                              \
        int away = (es > 0) != neg; /* exact farther from zero than rn */             \
        U r = rn;                                                                      \
        switch (rm) {                                                                  \
        case FPU_RTZ:                                                                  \
            r = away ? rn : rn - 1;                                                    \
            break;                                                                     \
        case FPU_RDN:                                                                  \
            r = es < 0 ? (neg ? rn + 1 : rn - 1) : rn;                                 \
            break;                                                                     \
        case FPU_RUP:                                                                  \
            r = es > 0 ? (neg ? rn - 1 : rn + 1) : rn;                                 \
            break;                                                                     \
        case FPU_RMM:                                                                  \
            r = tie && away ? rn + 1 : rn;                                             \
            break;                                                                     \
        default: /* FPU_RNE */                                                         \
            return rn;                                                                 \
        }                                                                              \
        if ((r & PFX##_ABS) == PFX##_INF) /* stepped past the largest finite */        \
            *fl |= FPU_OF;                                                             \
        return r;                                                                      \
    }                                                                                  \
    static inline int PFX##_sgn(T x) { return (x > 0) - (x < 0); }

FMT_HELPERS(f32, float, uint32_t, 24, 8)
FMT_HELPERS(f64, double, uint64_t, 53, 11)

/* Generates add, sub, mul, div, sqrt and the four fused operations. */
#define FAST_OPS(PFX, T, U, P, OF, BITS, FMA)                                          \
    static inline __attribute__((always_inline)) U PFX##_add_fast(U a, U b, int rm, uint32_t *fl, \
                                   U (*soft)(U, U, int, uint32_t *), U nb)              \
    {                                                                                  \
        U bb_ = b ^ nb;                                                                \
        /* |a|, |b| < 2^(emax-1): 2Sum cannot overflow if the sum does not */          \
        if (likely(PFX##_field(a) < PFX##_EMAXF - 1 && PFX##_field(bb_) < PFX##_EMAXF - 1)) { \
            T x = OF(a), y = OF(bb_), s = x + y;                                       \
            U r = BITS(s);                                                             \
            int e = PFX##_field(r);                                                    \
            if (likely(e != PFX##_EMAXF)) {                                            \
                if ((r & PFX##_ABS) == 0 && rm == FPU_RDN)                             \
                    return soft(a, b, rm, fl); /* exact zero is -0 under RDN */        \
                T bv = s - x, err = (x - (s - bv)) + (y - bv);                         \
                int es = PFX##_sgn(err);                                               \
                /* An inexact sum is >= 2^(emin+1): fix's precondition holds;          \
                 * subnormal and zero sums are exact. */                               \
                return PFX##_fix(r, es, es && (BITS(err) & PFX##_ABS) == PFX##_half_ulp(e), rm, fl); \
            }                                                                          \
        }                                                                              \
        return soft(a, b, rm, fl);                                                     \
    }                                                                                  \
    U fpu_##PFX##_add(U a, U b, int rm, uint32_t *fl)                                  \
    {                                                                                  \
        return PFX##_add_fast(a, b, rm, fl, fpu_soft_##PFX##_add, 0);                  \
    }                                                                                  \
    U fpu_##PFX##_sub(U a, U b, int rm, uint32_t *fl)                                  \
    {                                                                                  \
        return PFX##_add_fast(a, b, rm, fl, fpu_soft_##PFX##_sub, PFX##_SIGN);         \
    }                                                                                  \
    U fpu_##PFX##_mul(U a, U b, int rm, uint32_t *fl)                                  \
    {                                                                                  \
        if (likely(have_fma())) {                                                      \
            T x = OF(a), y = OF(b), p = x * y;                                         \
            U r = BITS(p);                                                             \
            int e = PFX##_field(r);                                                    \
            /* |p| >= 2^(emin+P+1): the product's error is representable */            \
            if (likely(e >= (P) + 2 && e != PFX##_EMAXF)) {                            \
                T err = FMA(x, y, -p);                                                 \
                int es = PFX##_sgn(err);                                               \
                return PFX##_fix(r, es, es && (BITS(err) & PFX##_ABS) == PFX##_half_ulp(e), rm, fl); \
            }                                                                          \
            /* a zero operand times a finite one: exact, sign is rm-free */            \
            if ((r & PFX##_ABS) == 0 && (((a & PFX##_ABS) == 0) || ((b & PFX##_ABS) == 0))) \
                return r;                                                              \
        }                                                                              \
        return fpu_soft_##PFX##_mul(a, b, rm, fl);                                     \
    }                                                                                  \
    U fpu_##PFX##_div(U a, U b, int rm, uint32_t *fl)                                  \
    {                                                                                  \
        if (likely(have_fma() && (b & PFX##_ABS) != 0)) {                              \
            T x = OF(a), y = OF(b), q = x / y;                                         \
            U r = BITS(q);                                                             \
            int e = PFX##_field(r), ea = PFX##_field(a);                               \
            /* remainder exact when |a| >= 2^(emin+P+2); no halfway quotients */       \
            if (likely(e >= (P) + 2 && e != PFX##_EMAXF && ea >= (P) + 3 &&            \
                       ea != PFX##_EMAXF)) {                                           \
                T rem = FMA(-q, y, x);                                                 \
                int es = PFX##_sgn(rem);                                               \
                return PFX##_fix(r, (b & PFX##_SIGN) ? -es : es, 0, rm, fl);           \
            }                                                                          \
            /* zero / finite non-zero: exact */                                        \
            if ((a & PFX##_ABS) == 0 && PFX##_field(b) != PFX##_EMAXF)                 \
                return r;                                                              \
        }                                                                              \
        return fpu_soft_##PFX##_div(a, b, rm, fl);                                     \
    }                                                                                  \
    U fpu_##PFX##_sqrt(U a, int rm, uint32_t *fl)                                      \
    {                                                                                  \
        int ea = PFX##_field(a);                                                       \
        /* positive, finite, >= 2^(emin+P+2): s*s - a is representable */             \
        if (likely(have_fma() && !(a & PFX##_SIGN) && ea >= (P) + 3 && ea != PFX##_EMAXF)) { \
            T x = OF(a), s = SQRT(x);                                                  \
            T rem = FMA(-s, s, x);                                                     \
            return PFX##_fix(BITS(s), PFX##_sgn(rem), 0, rm, fl);                      \
        }                                                                              \
        if ((a & PFX##_ABS) == 0) /* sqrt(+-0) = +-0 */                                \
            return a;                                                                  \
        return fpu_soft_##PFX##_sqrt(a, rm, fl);                                       \
    }                                                                                  \
    /* (-1)^np a*b + (-1)^nc c. NaN operands always go to software (RISC-V            \
     * raises NV for inf*0 even with a quiet-NaN addend).  */                          \
    static inline __attribute__((always_inline)) U PFX##_fma_fast(U a, U b, U c, int rm, uint32_t *fl, \
                                   U (*soft)(U, U, U, int, uint32_t *), U np, U nc)     \
    {                                                                                  \
        if (likely(have_fma())) {                                                      \
            U a2 = a ^ np, c2 = c ^ nc;                                                \
            T x = OF(a2), y = OF(b), z = OF(c2);                                       \
            T r1 = FMA(x, y, z), u1 = x * y;                                           \
            FP_OPAQUE(u1);                                                             \
            U r = BITS(r1);                                                            \
            int e = PFX##_field(r), eu = PFX##_field(BITS(u1));                        \
            int ec = PFX##_field(c2);                                                  \
            /* no overflow in any step; product error representable; r1 normal,       \
             * above the smallest normal's binade so no underflow question */         \
            if (likely(e >= 2 && e < PFX##_EMAXF - 1 && eu >= (P) + 2 &&               \
                       eu < PFX##_EMAXF - 1 && ec < PFX##_EMAXF - 1)) {                \
                T u2 = FMA(x, y, -u1);                                                 \
                T a1 = z + u2, t1 = a1 - z;                                            \
                T a2_ = (z - (a1 - t1)) + (u2 - t1); /* 2Sum(z, u2) */                 \
                T b1 = u1 + a1, t2 = b1 - u1;                                          \
                T b2 = (u1 - (b1 - t2)) + (a1 - t2); /* 2Sum(u1, a1) */                \
                T g = (b1 - r1) + b2;                                                  \
                T r2 = g + a2_, r3 = a2_ - (r2 - g); /* Fast2Sum(g, a2) */             \
                int es = PFX##_sgn(r2);                                                \
                int tie = es && r3 == 0 && (BITS(r2) & PFX##_ABS) == PFX##_half_ulp(e); \
                return PFX##_fix(r, es, tie, rm, fl);                                  \
            }                                                                          \
            /* zero product, finite non-zero addend: exactly the addend */             \
            if (((a & PFX##_ABS) == 0 || (b & PFX##_ABS) == 0) &&                      \
                PFX##_field(a) != PFX##_EMAXF && PFX##_field(b) != PFX##_EMAXF &&      \
                (c & PFX##_ABS) != 0 && ec != PFX##_EMAXF)                             \
                return c2;                                                             \
        }                                                                              \
        return soft(a, b, c, rm, fl);                                                  \
    }                                                                                  \
    U fpu_##PFX##_madd(U a, U b, U c, int rm, uint32_t *fl)                            \
    {                                                                                  \
        return PFX##_fma_fast(a, b, c, rm, fl, fpu_soft_##PFX##_madd, 0, 0);           \
    }                                                                                  \
    U fpu_##PFX##_msub(U a, U b, U c, int rm, uint32_t *fl)                            \
    {                                                                                  \
        return PFX##_fma_fast(a, b, c, rm, fl, fpu_soft_##PFX##_msub, 0, PFX##_SIGN);  \
    }                                                                                  \
    U fpu_##PFX##_nmsub(U a, U b, U c, int rm, uint32_t *fl)                           \
    {                                                                                  \
        return PFX##_fma_fast(a, b, c, rm, fl, fpu_soft_##PFX##_nmsub, PFX##_SIGN, 0); \
    }                                                                                  \
    U fpu_##PFX##_nmadd(U a, U b, U c, int rm, uint32_t *fl)                           \
    {                                                                                  \
        return PFX##_fma_fast(a, b, c, rm, fl, fpu_soft_##PFX##_nmadd, PFX##_SIGN,     \
                              PFX##_SIGN);                                             \
    }

/* sqrtss/sqrtsd without the errno handling sqrt() may bring (operands are
 * positive here anyway). */
#if defined(__x86_64__) && defined(__GNUC__)
static inline float host_sqrtf(float x)
{
    float r;
    __asm__("sqrtss %1, %0" : "=x"(r) : "x"(x));
    return r;
}
static inline double host_sqrt(double x)
{
    double r;
    __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(x));
    return r;
}
#else
#define host_sqrtf(x) __builtin_sqrtf(x)
#define host_sqrt(x) __builtin_sqrt(x)
#endif

#ifndef FPU_HOST_FMA_DEFINED
/* Never called (have_fma() is 0); keeps the generated code compiling. */
#define host_fma(a, b, c) ((a) * (b) + (c))
#define host_fmaf(a, b, c) ((a) * (b) + (c))
#endif

#define SQRT host_sqrtf
FAST_OPS(f32, float, uint32_t, 24, f32_of, bits_f32, host_fmaf)
#undef SQRT
#define SQRT host_sqrt
FAST_OPS(f64, double, uint64_t, 53, f64_of, bits_f64, host_fma)
#undef SQRT

uint32_t fpu_f64_to_f32(uint64_t a, int rm, uint32_t *fl)
{
    /* |x| in [2^-126, 2^127): the conversion stays finite and above the
     * smallest normal's binade (no overflow, no underflow question). */
    int ea = f64_field(a);
    if (likely(ea >= 1023 - 126 && ea < 1023 + 127)) {
        double x = f64_of(a);
        float f = (float)x;
        uint32_t r = bits_f32(f);
        int e = f32_field(r);
        double err = x - (double)f; /* exact: x and f within a factor 2 */
        int es = f64_sgn(err);
        /* half an ulp of f, as a binary64 bit pattern: 2^(e-127-24) */
        uint64_t half = (uint64_t)(e - 127 - 24 + 1023) << 52;
        return f32_fix(r, es, es && (bits_f64(err) & f64_ABS) == half, rm, fl);
    }
    if ((a & f64_ABS) == 0) /* +-0 */
        return (uint32_t)(a >> 32);
    return fpu_soft_f64_to_f32(a, rm, fl);
}

#else /* !FPU_FAST: everything in software */

#define SOFT2(PFX, U, name)                                                            \
    U fpu_##PFX##_##name(U a, U b, int rm, uint32_t *fl)                               \
    {                                                                                  \
        return fpu_soft_##PFX##_##name(a, b, rm, fl);                                  \
    }
#define SOFT3(PFX, U, name)                                                            \
    U fpu_##PFX##_##name(U a, U b, U c, int rm, uint32_t *fl)                          \
    {                                                                                  \
        return fpu_soft_##PFX##_##name(a, b, c, rm, fl);                               \
    }
#define SOFT_ALL(PFX, U)                                                               \
    SOFT2(PFX, U, add)                                                                 \
    SOFT2(PFX, U, sub)                                                                 \
    SOFT2(PFX, U, mul)                                                                 \
    SOFT2(PFX, U, div)                                                                 \
    SOFT3(PFX, U, madd)                                                                \
    SOFT3(PFX, U, msub)                                                                \
    SOFT3(PFX, U, nmsub)                                                               \
    SOFT3(PFX, U, nmadd)                                                               \
    U fpu_##PFX##_sqrt(U a, int rm, uint32_t *fl) { return fpu_soft_##PFX##_sqrt(a, rm, fl); }

SOFT_ALL(f32, uint32_t)
SOFT_ALL(f64, uint64_t)

uint32_t fpu_f64_to_f32(uint64_t a, int rm, uint32_t *fl)
{
    return fpu_soft_f64_to_f32(a, rm, fl);
}

#endif
