/* RISC-V F/D arithmetic: the fast path on the host FPU.
 *
 * For RNE, RTZ, RDN and RUP the host computes add, sub, mul, div, sqrt,
 * fused multiply-add and fcvt.s.d itself; IEEE 754 fixes those results
 * bit for bit, and the host's exception flags are the RISC-V ones. What the
 * host cannot give us goes to the software path in fpu_soft.c: RMM (no host
 * has it), fused multiply-add with a NaN operand (RISC-V raises NV for
 * inf*0 even when the addend is a quiet NaN, x86 does not), and, on hosts
 * that detect tininess before rounding, results that may have underflowed.
 * NaN results only need canonicalising: whether NV is raised does not
 * depend on the NaN's payload, and the host raises it in the same cases.
 *
 * Backends, chosen at build time:
 *  - "sse" (x86-64): each operation is one asm statement that loads MXCSR
 *    (rounding mode, flags cleared), runs the instruction and stores MXCSR,
 *    so the compiler can neither move the arithmetic out of the window nor
 *    constant-fold it. x86 detects tininess after rounding, like RISC-V, so
 *    its UE flag is used as is (tests/unit/test_fpu.c checks this against
 *    QEMU). Costs one ldmxcsr+stmxcsr per operation, plus one ldmxcsr to
 *    restore round-to-nearest after a directed mode.
 *  - "fenv" (any C99 host with the four rounding modes): fesetround,
 *    feclearexcept, the operation on volatile operands (the volatile accesses
 *    keep it between the calls), fetestexcept. Tininess detection is not
 *    portable, so inexact results at or below the smallest normal are redone
 *    in software. Slower (the calls), same results.
 *  - "soft": everything in fpu_soft.c (build with -DCONDO_FPU_FORCE_SOFT, or
 *    automatically when neither of the above is available).
 * -DCONDO_FPU_FORCE_FENV selects "fenv" on x86-64, to test it.
 *
 * Host environment contract: the process runs with the default environment
 * (round to nearest, exceptions masked, no flush-to-zero/denormals-are-zero).
 * Every call leaves the host in round-to-nearest; the host's accrued
 * exception flags are not preserved (nothing in condo reads them). */
#include <stdint.h>
#include <string.h>

#include "condo/riscv_fpu.h"
#include "fpu_soft.h"

#if defined(CONDO_FPU_FORCE_SOFT)
#define FPU_BACKEND_SOFT 1
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(CONDO_FPU_FORCE_FENV)
#define FPU_BACKEND_SSE 1
#else
#include <fenv.h>
#include <math.h>
#if defined(FE_TONEAREST) && defined(FE_TOWARDZERO) && defined(FE_DOWNWARD) &&          \
    defined(FE_UPWARD) && defined(FE_INEXACT) && defined(FE_UNDERFLOW) &&               \
    defined(FE_OVERFLOW) && defined(FE_DIVBYZERO) && defined(FE_INVALID)
#define FPU_BACKEND_FENV 1
#else
#define FPU_BACKEND_SOFT 1
#endif
#endif

#define F32_ABS 0x7fffffffu
#define F32_INF 0x7f800000u
#define F32_MIN_NORMAL 0x00800000u
#define F64_ABS 0x7fffffffffffffffull
#define F64_INF 0x7ff0000000000000ull
#define F64_MIN_NORMAL 0x0010000000000000ull

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

#if defined(FPU_BACKEND_SSE)

const char *fpu_host_backend(void) { return "sse"; }

/* MXCSR images: all exceptions masked, flags clear, no FTZ/DAZ; RC field
 * (bits 13-14) 00 nearest, 01 down, 10 up, 11 toward zero. Indexed by rm. */
static const uint32_t sse_csr[4] = {0x1f80, 0x7f80, 0x3f80, 0x5f80};
static const uint32_t sse_csr_default = 0x1f80;

/* MXCSR flags (IE DE ZE OE UE PE, bits 0-5) to fflags. DE (denormal
 * operand) has no RISC-V counterpart. */
static inline uint32_t sse_flags(uint32_t st)
{
    return ((st & 0x01) << 4) | ((st & 0x04) << 1) | ((st & 0x08) >> 1) |
           ((st & 0x10) >> 3) | ((st & 0x20) >> 5);
}

/* The restore depends on the stored status so it cannot move above it. */
#define SSE_RESTORE(rm, st)                                                            \
    do {                                                                               \
        if ((rm) != FPU_RNE)                                                           \
            __asm__ volatile("ldmxcsr %0" ::"m"(sse_csr_default), "r"(st));            \
    } while (0)

/* x = x OP y under rm; st = MXCSR afterwards. */
#define SSE_OP2(insn, x, y, rm, st)                                                    \
    __asm__ volatile("ldmxcsr %[c]\n\t" insn " %[b], %[a]\n\tstmxcsr %[s]"           \
                     : [a] "+x"(x), [s] "=m"(st)                                       \
                     : [b] "x"(y), [c] "m"(sse_csr[rm]))

/* r = OP x under rm. */
#define SSE_OP1(insn, r, x, rm, st)                                                    \
    __asm__ volatile("ldmxcsr %[c]\n\t" insn " %[a], %[r]\n\tstmxcsr %[s]"           \
                     : [r] "=x"(r), [s] "=m"(st)                                       \
                     : [a] "x"(x), [c] "m"(sse_csr[rm]))

/* acc = x*y + acc under rm, single rounding (VEX-encoded FMA3). */
#define SSE_FMA(insn, acc, x, y, rm, st)                                               \
    __asm__ volatile("ldmxcsr %[c]\n\t" insn " %[b], %[a], %[acc]\n\tstmxcsr %[s]"   \
                     : [acc] "+x"(acc), [s] "=m"(st)                                   \
                     : [a] "x"(x), [b] "x"(y), [c] "m"(sse_csr[rm]))

static inline int host_has_fma(void) { return __builtin_cpu_supports("fma"); }

#define HOST_OP2_F32(insn, a, b, rm, fl)                                               \
    do {                                                                               \
        float x_ = f32_of(a), y_ = f32_of(b);                                          \
        uint32_t st_;                                                                  \
        SSE_OP2(insn, x_, y_, rm, st_);                                                \
        SSE_RESTORE(rm, st_);                                                          \
        return f32_done(bits_f32(x_), sse_flags(st_), fl);                             \
    } while (0)

#define HOST_OP2_F64(insn, a, b, rm, fl)                                               \
    do {                                                                               \
        double x_ = f64_of(a), y_ = f64_of(b);                                         \
        uint32_t st_;                                                                  \
        SSE_OP2(insn, x_, y_, rm, st_);                                                \
        SSE_RESTORE(rm, st_);                                                          \
        return f64_done(bits_f64(x_), sse_flags(st_), fl);                             \
    } while (0)

static inline uint32_t f32_done(uint32_t r, uint32_t hf, uint32_t *fl)
{
    *fl |= hf;
    return (r & F32_ABS) > F32_INF ? FPU_F32_CANON_NAN : r;
}
static inline uint64_t f64_done(uint64_t r, uint32_t hf, uint32_t *fl)
{
    *fl |= hf;
    return (r & F64_ABS) > F64_INF ? FPU_F64_CANON_NAN : r;
}

#define HOST_RM_OK(rm) ((unsigned)(rm) <= FPU_RUP)

uint32_t fpu_f32_add(uint32_t a, uint32_t b, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm))
        HOST_OP2_F32("addss", a, b, rm, fl);
    return fpu_soft_f32_add(a, b, rm, fl);
}
uint32_t fpu_f32_sub(uint32_t a, uint32_t b, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm))
        HOST_OP2_F32("subss", a, b, rm, fl);
    return fpu_soft_f32_sub(a, b, rm, fl);
}
uint32_t fpu_f32_mul(uint32_t a, uint32_t b, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm))
        HOST_OP2_F32("mulss", a, b, rm, fl);
    return fpu_soft_f32_mul(a, b, rm, fl);
}
uint32_t fpu_f32_div(uint32_t a, uint32_t b, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm))
        HOST_OP2_F32("divss", a, b, rm, fl);
    return fpu_soft_f32_div(a, b, rm, fl);
}
uint64_t fpu_f64_add(uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm))
        HOST_OP2_F64("addsd", a, b, rm, fl);
    return fpu_soft_f64_add(a, b, rm, fl);
}
uint64_t fpu_f64_sub(uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm))
        HOST_OP2_F64("subsd", a, b, rm, fl);
    return fpu_soft_f64_sub(a, b, rm, fl);
}
uint64_t fpu_f64_mul(uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm))
        HOST_OP2_F64("mulsd", a, b, rm, fl);
    return fpu_soft_f64_mul(a, b, rm, fl);
}
uint64_t fpu_f64_div(uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm))
        HOST_OP2_F64("divsd", a, b, rm, fl);
    return fpu_soft_f64_div(a, b, rm, fl);
}

uint32_t fpu_f32_sqrt(uint32_t a, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm)) {
        float x = f32_of(a), r;
        uint32_t st;
        SSE_OP1("sqrtss", r, x, rm, st);
        SSE_RESTORE(rm, st);
        return f32_done(bits_f32(r), sse_flags(st), fl);
    }
    return fpu_soft_f32_sqrt(a, rm, fl);
}
uint64_t fpu_f64_sqrt(uint64_t a, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm)) {
        double x = f64_of(a), r;
        uint32_t st;
        SSE_OP1("sqrtsd", r, x, rm, st);
        SSE_RESTORE(rm, st);
        return f64_done(bits_f64(r), sse_flags(st), fl);
    }
    return fpu_soft_f64_sqrt(a, rm, fl);
}

uint32_t fpu_f64_to_f32(uint64_t a, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm)) {
        double x = f64_of(a);
        float r;
        uint32_t st;
        SSE_OP1("cvtsd2ss", r, x, rm, st);
        SSE_RESTORE(rm, st);
        return f32_done(bits_f32(r), sse_flags(st), fl);
    }
    return fpu_soft_f64_to_f32(a, rm, fl);
}

/* Fused: the sign flips are exact, so every variant is one a*b+c. NaN
 * operands go to software for the inf*0+qNaN rule. */
static inline uint32_t f32_fma(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fl,
                               uint32_t (*soft)(uint32_t, uint32_t, uint32_t, int, uint32_t *),
                               uint32_t na, uint32_t nc)
{
    if (HOST_RM_OK(rm) && (a & F32_ABS) <= F32_INF && (b & F32_ABS) <= F32_INF &&
        (c & F32_ABS) <= F32_INF && host_has_fma()) {
        float x = f32_of(a ^ na), y = f32_of(b), acc = f32_of(c ^ nc);
        uint32_t st;
        SSE_FMA("vfmadd231ss", acc, x, y, rm, st);
        SSE_RESTORE(rm, st);
        return f32_done(bits_f32(acc), sse_flags(st), fl);
    }
    return soft(a, b, c, rm, fl);
}
static inline uint64_t f64_fma(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl,
                               uint64_t (*soft)(uint64_t, uint64_t, uint64_t, int, uint32_t *),
                               uint64_t na, uint64_t nc)
{
    if (HOST_RM_OK(rm) && (a & F64_ABS) <= F64_INF && (b & F64_ABS) <= F64_INF &&
        (c & F64_ABS) <= F64_INF && host_has_fma()) {
        double x = f64_of(a ^ na), y = f64_of(b), acc = f64_of(c ^ nc);
        uint32_t st;
        SSE_FMA("vfmadd231sd", acc, x, y, rm, st);
        SSE_RESTORE(rm, st);
        return f64_done(bits_f64(acc), sse_flags(st), fl);
    }
    return soft(a, b, c, rm, fl);
}

#elif defined(FPU_BACKEND_FENV)

const char *fpu_host_backend(void) { return "fenv"; }

static const int fenv_round[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};

static inline void fenv_begin(int rm)
{
    if (rm != FPU_RNE)
        fesetround(fenv_round[rm]);
    feclearexcept(FE_ALL_EXCEPT);
}

static inline uint32_t fenv_end(int rm)
{
    int ex = fetestexcept(FE_ALL_EXCEPT);
    if (rm != FPU_RNE)
        fesetround(FE_TONEAREST);
    return (ex & FE_INVALID ? FPU_NV : 0) | (ex & FE_DIVBYZERO ? FPU_DZ : 0) |
           (ex & FE_OVERFLOW ? FPU_OF : 0) | (ex & FE_UNDERFLOW ? FPU_UF : 0) |
           (ex & FE_INEXACT ? FPU_NX : 0);
}

#define HOST_RM_OK(rm) ((unsigned)(rm) <= FPU_RUP)

/* Returns 0 when the result must be redone in software: inexact and at or
 * below the smallest normal, where the host's tininess rule may differ. */
static inline int f32_done(uint32_t *r, uint32_t hf, uint32_t *fl)
{
    uint32_t m = *r & F32_ABS;
    if (m > F32_INF)
        *r = FPU_F32_CANON_NAN;
    else if ((hf & FPU_NX) && m <= F32_MIN_NORMAL)
        return 0;
    *fl |= hf;
    return 1;
}
static inline int f64_done(uint64_t *r, uint32_t hf, uint32_t *fl)
{
    uint64_t m = *r & F64_ABS;
    if (m > F64_INF)
        *r = FPU_F64_CANON_NAN;
    else if ((hf & FPU_NX) && m <= F64_MIN_NORMAL)
        return 0;
    *fl |= hf;
    return 1;
}

#define FENV_OP(T, BITS, OF, DONE, expr, rm, fl)                                       \
    do {                                                                               \
        fenv_begin(rm);                                                                \
        volatile T r_ = (expr);                                                        \
        uint32_t hf_ = fenv_end(rm);                                                   \
        BITS rb_ = bits_##OF(r_);                                                      \
        if (DONE(&rb_, hf_, fl))                                                       \
            return rb_;                                                                \
    } while (0)

#define DEF_FENV_BIN(PFX, T, BITS, op, name)                                           \
    BITS fpu_##PFX##_##name(BITS a, BITS b, int rm, uint32_t *fl)                      \
    {                                                                                  \
        if (HOST_RM_OK(rm)) {                                                          \
            volatile T x_ = PFX##_of(a), y_ = PFX##_of(b);                             \
            FENV_OP(T, BITS, PFX, PFX##_done, x_ op y_, rm, fl);                       \
        }                                                                              \
        return fpu_soft_##PFX##_##name(a, b, rm, fl);                                  \
    }

DEF_FENV_BIN(f32, float, uint32_t, +, add)
DEF_FENV_BIN(f32, float, uint32_t, -, sub)
DEF_FENV_BIN(f32, float, uint32_t, *, mul)
DEF_FENV_BIN(f32, float, uint32_t, /, div)
DEF_FENV_BIN(f64, double, uint64_t, +, add)
DEF_FENV_BIN(f64, double, uint64_t, -, sub)
DEF_FENV_BIN(f64, double, uint64_t, *, mul)
DEF_FENV_BIN(f64, double, uint64_t, /, div)

uint32_t fpu_f32_sqrt(uint32_t a, int rm, uint32_t *fl)
{
    /* Negative operands: sqrtf may set errno; the result is software's. */
    if (HOST_RM_OK(rm) && !(a >> 31)) {
        volatile float x = f32_of(a);
        FENV_OP(float, uint32_t, f32, f32_done, sqrtf(x), rm, fl);
    }
    return fpu_soft_f32_sqrt(a, rm, fl);
}
uint64_t fpu_f64_sqrt(uint64_t a, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm) && !(a >> 63)) {
        volatile double x = f64_of(a);
        FENV_OP(double, uint64_t, f64, f64_done, sqrt(x), rm, fl);
    }
    return fpu_soft_f64_sqrt(a, rm, fl);
}

uint32_t fpu_f64_to_f32(uint64_t a, int rm, uint32_t *fl)
{
    if (HOST_RM_OK(rm)) {
        volatile double x = f64_of(a);
        FENV_OP(float, uint32_t, f32, f32_done, (float)x, rm, fl);
    }
    return fpu_soft_f64_to_f32(a, rm, fl);
}

static inline uint32_t f32_fma(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fl,
                               uint32_t (*soft)(uint32_t, uint32_t, uint32_t, int, uint32_t *),
                               uint32_t na, uint32_t nc)
{
    if (HOST_RM_OK(rm) && (a & F32_ABS) <= F32_INF && (b & F32_ABS) <= F32_INF &&
        (c & F32_ABS) <= F32_INF) {
        volatile float x = f32_of(a ^ na), y = f32_of(b), z = f32_of(c ^ nc);
        FENV_OP(float, uint32_t, f32, f32_done, fmaf(x, y, z), rm, fl);
    }
    return soft(a, b, c, rm, fl);
}
static inline uint64_t f64_fma(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl,
                               uint64_t (*soft)(uint64_t, uint64_t, uint64_t, int, uint32_t *),
                               uint64_t na, uint64_t nc)
{
    if (HOST_RM_OK(rm) && (a & F64_ABS) <= F64_INF && (b & F64_ABS) <= F64_INF &&
        (c & F64_ABS) <= F64_INF) {
        volatile double x = f64_of(a ^ na), y = f64_of(b), z = f64_of(c ^ nc);
        FENV_OP(double, uint64_t, f64, f64_done, fma(x, y, z), rm, fl);
    }
    return soft(a, b, c, rm, fl);
}

#else /* FPU_BACKEND_SOFT */

const char *fpu_host_backend(void) { return "soft"; }

#define DEF_SOFT_BIN(PFX, BITS, name)                                                  \
    BITS fpu_##PFX##_##name(BITS a, BITS b, int rm, uint32_t *fl)                      \
    {                                                                                  \
        return fpu_soft_##PFX##_##name(a, b, rm, fl);                                  \
    }
DEF_SOFT_BIN(f32, uint32_t, add)
DEF_SOFT_BIN(f32, uint32_t, sub)
DEF_SOFT_BIN(f32, uint32_t, mul)
DEF_SOFT_BIN(f32, uint32_t, div)
DEF_SOFT_BIN(f64, uint64_t, add)
DEF_SOFT_BIN(f64, uint64_t, sub)
DEF_SOFT_BIN(f64, uint64_t, mul)
DEF_SOFT_BIN(f64, uint64_t, div)

uint32_t fpu_f32_sqrt(uint32_t a, int rm, uint32_t *fl) { return fpu_soft_f32_sqrt(a, rm, fl); }
uint64_t fpu_f64_sqrt(uint64_t a, int rm, uint32_t *fl) { return fpu_soft_f64_sqrt(a, rm, fl); }
uint32_t fpu_f64_to_f32(uint64_t a, int rm, uint32_t *fl)
{
    return fpu_soft_f64_to_f32(a, rm, fl);
}

static inline uint32_t f32_fma(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fl,
                               uint32_t (*soft)(uint32_t, uint32_t, uint32_t, int, uint32_t *),
                               uint32_t na, uint32_t nc)
{
    (void)na;
    (void)nc;
    return soft(a, b, c, rm, fl);
}
static inline uint64_t f64_fma(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl,
                               uint64_t (*soft)(uint64_t, uint64_t, uint64_t, int, uint32_t *),
                               uint64_t na, uint64_t nc)
{
    (void)na;
    (void)nc;
    return soft(a, b, c, rm, fl);
}

#endif

/* madd = a*b+c, msub = a*b-c, nmsub = -(a*b)+c, nmadd = -(a*b)-c */
#define S32 0x80000000u
#define S64 0x8000000000000000ull
uint32_t fpu_f32_madd(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fl)
{
    return f32_fma(a, b, c, rm, fl, fpu_soft_f32_madd, 0, 0);
}
uint32_t fpu_f32_msub(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fl)
{
    return f32_fma(a, b, c, rm, fl, fpu_soft_f32_msub, 0, S32);
}
uint32_t fpu_f32_nmsub(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fl)
{
    return f32_fma(a, b, c, rm, fl, fpu_soft_f32_nmsub, S32, 0);
}
uint32_t fpu_f32_nmadd(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fl)
{
    return f32_fma(a, b, c, rm, fl, fpu_soft_f32_nmadd, S32, S32);
}
uint64_t fpu_f64_madd(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl)
{
    return f64_fma(a, b, c, rm, fl, fpu_soft_f64_madd, 0, 0);
}
uint64_t fpu_f64_msub(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl)
{
    return f64_fma(a, b, c, rm, fl, fpu_soft_f64_msub, 0, S64);
}
uint64_t fpu_f64_nmsub(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl)
{
    return f64_fma(a, b, c, rm, fl, fpu_soft_f64_nmsub, S64, 0);
}
uint64_t fpu_f64_nmadd(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl)
{
    return f64_fma(a, b, c, rm, fl, fpu_soft_f64_nmadd, S64, S64);
}
