/* Software IEEE 754 binary32/binary64 with RISC-V F/D semantics.
 *
 * Everything here is integer arithmetic, so it is exact on any host and in
 * any host floating-point environment. fpu.c uses it for what the host FPU
 * cannot do (RMM, the RISC-V NaN rules of fused multiply-add, saturating
 * conversions...) and as the reference its fast path is tested against.
 *
 * One generic implementation serves both formats: every helper takes the
 * precision P (significand bits including the hidden one: 24 or 53) and the
 * exponent width EW (8 or 11) as arguments; the wrappers at the end pass
 * constants, and the compiler specialises the inlined helpers.
 *
 * Representation inside: an unpacked finite non-zero value is
 * sig * 2^(exp - (P-1)) with sig's leading one at bit P-1 (subnormals are
 * normalised on unpacking). The rounder takes a 63-bit significand with its
 * leading one at bit 62 (value = sig * 2^(exp - 62)) whose bit 0 is sticky:
 * every producer keeps at least two bits below the rounding position, so
 * "bit 0 ORed with whatever was shifted out" is an exact summary of the
 * discarded part. */
#include <stdint.h>

#include "condo/riscv_fpu.h"
#include "fpu_soft.h"

__extension__ typedef unsigned __int128 u128;

/* The generic helpers take the format as arguments; forcing them inline
 * lets every exported wrapper get a copy specialised to its format (the
 * shifts and masks become constants), which made them several times faster
 * than one shared copy. */
#define GEN static inline __attribute__((always_inline))

enum { K_ZERO, K_FINITE, K_INF, K_QNAN, K_SNAN };

typedef struct {
    int kind;
    int sign;
    int exp;      /* unbiased exponent of the leading one (K_FINITE) */
    uint64_t sig; /* leading one at bit P-1 (K_FINITE) */
} unp_t;

#define F32 24, 8
#define F64 53, 11

static inline int bias_of(int EW) { return (1 << (EW - 1)) - 1; }
static inline uint64_t sign_bit(int P, int EW) { return 1ull << (P - 1 + EW); }
static inline uint64_t inf_bits(int P, int EW) { return ((1ull << EW) - 1) << (P - 1); }
static inline uint64_t canon_nan(int P, int EW) { return inf_bits(P, EW) | (1ull << (P - 2)); }
static inline uint64_t zero_bits(int P, int EW, int sign) { return sign ? sign_bit(P, EW) : 0; }
static inline uint64_t inf_signed(int P, int EW, int sign)
{
    return inf_bits(P, EW) | zero_bits(P, EW, sign);
}

static inline int clz64(uint64_t x) { return __builtin_clzll(x); } /* x != 0 */
static inline int clz128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? clz64(hi) : 64 + clz64((uint64_t)x);
}

static inline uint64_t shr_sticky64(uint64_t x, int d)
{
    if (d <= 0)
        return x;
    if (d >= 63)
        return x != 0;
    return (x >> d) | ((x & ((1ull << d) - 1)) != 0);
}

static inline u128 shr_sticky128(u128 x, int d)
{
    if (d <= 0)
        return x;
    if (d >= 127)
        return x != 0;
    return (x >> d) | (u128)((x << (128 - d)) != 0);
}

/* Reduce a non-zero 128-bit significand to the rounder's 63-bit form.
 * Returns the new significand; *shift is how many bits the value moved
 * right (negative: left), so exponents adjust by msb - 62. */
static inline uint64_t to_sig63(u128 x, int *msb_out)
{
    int msb = 127 - clz128(x);
    *msb_out = msb;
    if (msb > 62)
        return (uint64_t)shr_sticky128(x, msb - 62);
    return (uint64_t)x << (62 - msb);
}

GEN unp_t unpack(int P, int EW, uint64_t x)
{
    const int MB = P - 1;
    unp_t u;
    uint64_t mant = x & ((1ull << MB) - 1);
    int e = (int)((x >> MB) & ((1u << EW) - 1));
    u.sign = (int)((x >> (MB + EW)) & 1);
    u.exp = 0;
    u.sig = 0;
    if (e == (1 << EW) - 1) {
        u.kind = mant == 0 ? K_INF : ((mant >> (MB - 1)) & 1) ? K_QNAN : K_SNAN;
    } else if (e == 0) {
        if (mant == 0) {
            u.kind = K_ZERO;
        } else {
            int lz = clz64(mant) - (63 - MB); /* brings the leading one to bit MB */
            u.kind = K_FINITE;
            u.sig = mant << lz;
            u.exp = 1 - bias_of(EW) - lz;
        }
    } else {
        u.kind = K_FINITE;
        u.sig = mant | (1ull << MB);
        u.exp = e - bias_of(EW);
    }
    return u;
}

static inline int is_nan_k(int k) { return k == K_QNAN || k == K_SNAN; }

/* Whether to add one unit in the last place, given the discarded part r,
 * half of that unit, and the kept part's lowest bit. */
GEN int round_up(int rm, int sign, uint64_t r, uint64_t half, uint64_t lsb)
{
    switch (rm) {
    case FPU_RTZ:
        return 0;
    case FPU_RDN:
        return sign && r;
    case FPU_RUP:
        return !sign && r;
    case FPU_RMM:
        return r >= half;
    default: /* FPU_RNE; the engine never passes 5..7 (reserved) */
        return r > half || (r == half && (lsb & 1));
    }
}

GEN uint64_t overflow_result(int P, int EW, int sign, int rm, uint32_t *fl)
{
    int to_inf;
    *fl |= FPU_OF | FPU_NX;
    switch (rm) {
    case FPU_RTZ:
        to_inf = 0;
        break;
    case FPU_RDN:
        to_inf = sign;
        break;
    case FPU_RUP:
        to_inf = !sign;
        break;
    default:
        to_inf = 1;
        break;
    }
    return zero_bits(P, EW, sign) | (to_inf ? inf_bits(P, EW) : inf_bits(P, EW) - 1);
}

/* Round sign * sig * 2^(exp-62) (sig's leading one at bit 62, bit 0 sticky)
 * to the format, with flags. Underflow follows RISC-V/IEEE "tininess after
 * rounding": the value is tiny when, rounded to P bits with an unbounded
 * exponent, it is below the smallest normal; UF is raised when tiny and
 * inexact. */
GEN uint64_t round_pack(int P, int EW, int sign, int exp, uint64_t sig, int rm,
                           uint32_t *fl)
{
    const int bias = bias_of(EW), emin = 1 - bias;
    const uint64_t sbit = zero_bits(P, EW, sign);
    int sh = 63 - P; /* bits below the kept P */
    uint64_t m, r;

    if (exp < emin) {
        int tiny = 1;
        if (exp == emin - 1) {
            /* Only an all-ones significand rounding up can reach 2^emin. */
            m = sig >> sh;
            r = sig & ((1ull << sh) - 1);
            if (m == (1ull << P) - 1 && round_up(rm, sign, r, 1ull << (sh - 1), m))
                tiny = 0;
        }
        sh += emin - exp;
        if (sh > 63) { /* all below half the smallest subnormal: only sticky */
            sig = 1;
            sh = 63;
        }
        m = sig >> sh;
        r = sig & ((1ull << sh) - 1);
        if (r) {
            *fl |= FPU_NX;
            if (tiny)
                *fl |= FPU_UF;
        }
        /* Exponent field 0; a carry into bit P-1 yields the smallest normal. */
        return sbit | (m + round_up(rm, sign, r, 1ull << (sh - 1), m));
    }
    m = sig >> sh;
    r = sig & ((1ull << sh) - 1);
    m += round_up(rm, sign, r, 1ull << (sh - 1), m);
    if (exp + bias >= (1 << EW) - 1)
        return overflow_result(P, EW, sign, rm, fl);
    /* m's leading one (bit P-1, or bit P after a carry) adds to the
     * exponent field, hence the -1. */
    uint64_t bits = ((uint64_t)(exp + bias - 1) << (P - 1)) + m;
    if ((bits >> (P - 1)) >= (1ull << EW) - 1)
        return overflow_result(P, EW, sign, rm, fl);
    if (r)
        *fl |= FPU_NX;
    return sbit | bits;
}

/* NaN result of an operation with NaN operands: canonical, NV if any is
 * signalling. */
static inline uint64_t nan_result(int P, int EW, int snan, uint32_t *fl)
{
    if (snan)
        *fl |= FPU_NV;
    return canon_nan(P, EW);
}

static inline uint64_t invalid(int P, int EW, uint32_t *fl)
{
    *fl |= FPU_NV;
    return canon_nan(P, EW);
}

/* ---- add / sub ---------------------------------------------------------- */

GEN uint64_t g_add(int P, int EW, uint64_t a, uint64_t b, int negb, int rm,
                      uint32_t *fl)
{
    if (negb)
        b ^= sign_bit(P, EW);
    unp_t x = unpack(P, EW, a), y = unpack(P, EW, b);

    if (is_nan_k(x.kind) || is_nan_k(y.kind))
        return nan_result(P, EW, x.kind == K_SNAN || y.kind == K_SNAN, fl);
    if (x.kind == K_INF) {
        if (y.kind == K_INF && x.sign != y.sign)
            return invalid(P, EW, fl);
        return a;
    }
    if (y.kind == K_INF)
        return b;
    if (x.kind == K_ZERO) {
        if (y.kind == K_ZERO) /* x + y of zeros: -0 only if both are, or under RDN */
            return zero_bits(P, EW, x.sign == y.sign ? x.sign : rm == FPU_RDN);
        return b;
    }
    if (y.kind == K_ZERO)
        return a;

    /* Both finite non-zero. Leading ones to bit 61: room for a carry. */
    uint64_t sx = x.sig << (61 - (P - 1)), sy = y.sig << (61 - (P - 1));
    if (x.exp < y.exp || (x.exp == y.exp && sx < sy)) {
        unp_t t = x;
        x = y;
        y = t;
        uint64_t ts = sx;
        sx = sy;
        sy = ts;
    }
    sy = shr_sticky64(sy, x.exp - y.exp);
    uint64_t s = x.sign == y.sign ? sx + sy : sx - sy;
    if (s == 0) /* exact cancellation: +0, or -0 under RDN */
        return zero_bits(P, EW, rm == FPU_RDN);
    int k = clz64(s) - 1; /* left shift bringing the leading one to bit 62 */
    return round_pack(P, EW, x.sign, x.exp + 1 - k, s << k, rm, fl);
}

/* ---- mul ---------------------------------------------------------------- */

GEN uint64_t g_mul(int P, int EW, uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    unp_t x = unpack(P, EW, a), y = unpack(P, EW, b);
    int sign = x.sign ^ y.sign;

    if (is_nan_k(x.kind) || is_nan_k(y.kind))
        return nan_result(P, EW, x.kind == K_SNAN || y.kind == K_SNAN, fl);
    if (x.kind == K_INF || y.kind == K_INF) {
        if (x.kind == K_ZERO || y.kind == K_ZERO)
            return invalid(P, EW, fl);
        return inf_signed(P, EW, sign);
    }
    if (x.kind == K_ZERO || y.kind == K_ZERO)
        return zero_bits(P, EW, sign);
    int msb;
    uint64_t sig = to_sig63((u128)x.sig * y.sig, &msb);
    return round_pack(P, EW, sign, x.exp + y.exp + msb - 2 * (P - 1), sig, rm, fl);
}

/* ---- div ---------------------------------------------------------------- */

GEN uint64_t g_div(int P, int EW, uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    unp_t x = unpack(P, EW, a), y = unpack(P, EW, b);
    int sign = x.sign ^ y.sign;

    if (is_nan_k(x.kind) || is_nan_k(y.kind))
        return nan_result(P, EW, x.kind == K_SNAN || y.kind == K_SNAN, fl);
    if (x.kind == K_INF) {
        if (y.kind == K_INF)
            return invalid(P, EW, fl);
        return inf_signed(P, EW, sign);
    }
    if (y.kind == K_INF)
        return zero_bits(P, EW, sign);
    if (y.kind == K_ZERO) {
        if (x.kind == K_ZERO)
            return invalid(P, EW, fl);
        *fl |= FPU_DZ;
        return inf_signed(P, EW, sign);
    }
    if (x.kind == K_ZERO)
        return zero_bits(P, EW, sign);

    /* Quotient of at least 62 bits (>= P+2), remainder folded into bit 0. */
    uint64_t q;
    int rem;
    if (P <= 24) {
        uint64_t n = x.sig << 39;
        q = n / y.sig;
        rem = (n % y.sig) != 0;
        q <<= 23; /* same scale as the 128-bit branch: n was sig << 62 */
    } else {
        u128 n = (u128)x.sig << 62;
        q = (uint64_t)(n / y.sig);
        rem = (n % y.sig) != 0;
    }
    q |= (uint64_t)rem;
    int k = clz64(q) - 1;
    return round_pack(P, EW, sign, x.exp - y.exp - k, q << k, rm, fl);
}

/* ---- sqrt --------------------------------------------------------------- */

/* floor(sqrt(n)) for n < 2^64 (32-bit root), and whether inexact. */
static uint64_t isqrt64(uint64_t n, int *inexact)
{
    uint64_t rem = 0, root = 0;
    for (int i = 0; i < 32; i++) {
        rem = (rem << 2) | (n >> 62);
        n <<= 2;
        root <<= 1;
        uint64_t t = (root << 1) | 1;
        uint64_t take = -(uint64_t)(rem >= t); /* branch-free: unpredictable */
        rem -= t & take;
        root |= take & 1;
    }
    *inexact = rem != 0;
    return root;
}

GEN uint64_t g_sqrt(int P, int EW, uint64_t a, int rm, uint32_t *fl)
{
    unp_t x = unpack(P, EW, a);

    if (is_nan_k(x.kind))
        return nan_result(P, EW, x.kind == K_SNAN, fl);
    if (x.kind == K_ZERO) /* sqrt(-0) = -0 */
        return a;
    if (x.sign)
        return invalid(P, EW, fl);
    if (x.kind == K_INF)
        return a;

    /* value = s * 2^t with s's leading one at bit 62 and t made even. */
    uint64_t s = x.sig << (62 - (P - 1));
    int t = x.exp - 62;
    if (t & 1) {
        s <<= 1; /* s < 2^64 still */
        t -= 1;
    }
    uint64_t root;
    int inexact;
    if (P <= 24) {
        /* 32-bit root of the top 64 bits is >= 31 bits >= P+2; scale back
         * up to bit 62: sqrt(s * 2^62) = root(s) * 2^31. */
        root = isqrt64(s, &inexact) << 31;
    } else {
        /* floor(sqrt(N)), N = s * 2^62 in [2^124, 2^126): the 32-bit root of
         * s scaled up is within 2^31 below it; one Newton step from below
         * lands on the root or one above it. */
        u128 n = (u128)s << 62;
        int unused;
        uint64_t r0 = isqrt64(s, &unused) << 31; /* >= 2^62 */
        root = (uint64_t)((r0 + (u128)(uint64_t)(n / r0)) >> 1);
        while ((u128)root * root > n)
            root--;
        inexact = (u128)root * root != n; /* root in [2^62, 2^63) */
    }
    /* sqrt(s * 2^62 * 2^(t-62)) = root * 2^((t-62)/2); root's lead is bit 62 */
    return round_pack(P, EW, 0, (t - 62) / 2 + 62, root | (uint64_t)inexact, rm, fl);
}

/* ---- fused multiply-add ------------------------------------------------- */

/* (-1)^negp * a*b + (-1)^negc * c, one rounding. */
GEN uint64_t g_fma(int P, int EW, uint64_t a, uint64_t b, uint64_t c, int negp, int negc,
                      int rm, uint32_t *fl)
{
    unp_t x = unpack(P, EW, a), y = unpack(P, EW, b), z = unpack(P, EW, c);
    int inf_zero = (x.kind == K_INF && y.kind == K_ZERO) || (x.kind == K_ZERO && y.kind == K_INF);

    if (is_nan_k(x.kind) || is_nan_k(y.kind) || is_nan_k(z.kind)) {
        /* RISC-V: inf * 0 raises NV even when the addend is a quiet NaN. */
        int snan = x.kind == K_SNAN || y.kind == K_SNAN || z.kind == K_SNAN;
        return nan_result(P, EW, snan || inf_zero, fl);
    }
    if (inf_zero)
        return invalid(P, EW, fl);
    int ps = x.sign ^ y.sign ^ negp, cs = z.sign ^ negc;
    if (x.kind == K_INF || y.kind == K_INF) {
        if (z.kind == K_INF && cs != ps)
            return invalid(P, EW, fl);
        return inf_signed(P, EW, ps);
    }
    if (z.kind == K_INF)
        return inf_signed(P, EW, cs);
    if (x.kind == K_ZERO || y.kind == K_ZERO) {
        if (z.kind == K_ZERO)
            return zero_bits(P, EW, ps == cs ? ps : rm == FPU_RDN);
        return c ^ (negc ? sign_bit(P, EW) : 0); /* exact: c itself */
    }

    u128 pm = (u128)x.sig * y.sig; /* leading one at bit 2(P-1) or 2(P-1)+1 */
    int pmsb = 127 - clz128(pm);
    int pe = x.exp + y.exp + pmsb - 2 * (P - 1); /* exponent of its leading one */
    if (z.kind == K_ZERO) {
        int msb;
        uint64_t sig = to_sig63(pm, &msb);
        return round_pack(P, EW, ps, pe, sig, rm, fl);
    }

    /* Both terms with their leading one at bit 125; the product's lowest
     * bit is then >= bit 20 and c's >= bit 73, so an alignment shift of 0
     * or 1 (the only case where cancellation can be massive) loses nothing,
     * and larger shifts leave >= 70 guard bits above the sticky. */
    pm <<= 125 - pmsb;
    u128 cm = (u128)z.sig << (125 - (P - 1));
    int ce = z.exp, es, ss;
    u128 big, small;
    if (pe > ce || (pe == ce && pm >= cm)) {
        big = pm;
        small = shr_sticky128(cm, pe - ce);
        es = pe;
        ss = ps;
    } else {
        big = cm;
        small = shr_sticky128(pm, ce - pe);
        es = ce;
        ss = cs;
    }
    u128 s = ps == cs ? big + small : big - small;
    if (s == 0)
        return zero_bits(P, EW, rm == FPU_RDN);
    int msb;
    uint64_t sig = to_sig63(s, &msb);
    return round_pack(P, EW, ss, es + msb - 125, sig, rm, fl);
}

/* ---- min / max / compare / classify ------------------------------------- */

static inline int bits_is_nan(int P, int EW, uint64_t x)
{
    return (x & ~sign_bit(P, EW)) > inf_bits(P, EW);
}
static inline int bits_is_snan(int P, int EW, uint64_t x)
{
    return bits_is_nan(P, EW, x) && !((x >> (P - 2)) & 1);
}

/* a < b for non-NaN operands (-0 == +0). */
static inline int ord_lt(int P, int EW, uint64_t a, uint64_t b)
{
    const uint64_t sb = sign_bit(P, EW);
    int as = (a & sb) != 0, bs = (b & sb) != 0;
    if (as != bs)
        return as && ((a | b) & ~sb) != 0;
    return as ? a > b : a < b;
}

/* IEEE 754-2019 minimumNumber/maximumNumber as RISC-V F/D 2.2 defines them. */
GEN uint64_t g_minmax(int P, int EW, uint64_t a, uint64_t b, int want_max, uint32_t *fl)
{
    int an = bits_is_nan(P, EW, a), bn = bits_is_nan(P, EW, b);
    if (bits_is_snan(P, EW, a) || bits_is_snan(P, EW, b))
        *fl |= FPU_NV;
    if (an && bn)
        return canon_nan(P, EW);
    if (an)
        return b;
    if (bn)
        return a;
    if (((a | b) & ~sign_bit(P, EW)) == 0) /* both zeros: -0 < +0 here */
        return want_max ? (a & b) : (a | b);
    return ord_lt(P, EW, a, b) != want_max ? a : b;
}

GEN int g_eq(int P, int EW, uint64_t a, uint64_t b, uint32_t *fl)
{
    if (bits_is_nan(P, EW, a) || bits_is_nan(P, EW, b)) {
        if (bits_is_snan(P, EW, a) || bits_is_snan(P, EW, b))
            *fl |= FPU_NV;
        return 0;
    }
    return a == b || ((a | b) & ~sign_bit(P, EW)) == 0;
}

GEN int g_lt(int P, int EW, uint64_t a, uint64_t b, int or_equal, uint32_t *fl)
{
    if (bits_is_nan(P, EW, a) || bits_is_nan(P, EW, b)) {
        *fl |= FPU_NV; /* signalling compares: any NaN */
        return 0;
    }
    if (or_equal && (a == b || ((a | b) & ~sign_bit(P, EW)) == 0))
        return 1;
    return ord_lt(P, EW, a, b);
}

GEN uint32_t g_classify(int P, int EW, uint64_t a)
{
    unp_t x = unpack(P, EW, a);
    int subnormal = x.kind == K_FINITE && ((a >> (P - 1)) & ((1ull << EW) - 1)) == 0;
    switch (x.kind) {
    case K_INF:
        return x.sign ? 1u << 0 : 1u << 7;
    case K_ZERO:
        return x.sign ? 1u << 3 : 1u << 4;
    case K_SNAN:
        return 1u << 8;
    case K_QNAN:
        return 1u << 9;
    default:
        if (subnormal)
            return x.sign ? 1u << 2 : 1u << 5;
        return x.sign ? 1u << 1 : 1u << 6;
    }
}

/* ---- conversions -------------------------------------------------------- */

/* To a `width`-bit integer, RISC-V style: NaN gives the largest positive
 * value, out-of-range values saturate, both raise NV (and not NX); a
 * negative value that rounds to 0 is valid for unsigned targets. */
GEN uint64_t g_to_int(int P, int EW, uint64_t a, int rm, int is_signed, int width,
                         uint32_t *fl)
{
    const uint64_t umax = width == 64 ? ~0ull : (1ull << width) - 1;
    const uint64_t smax = umax >> 1;
    const uint64_t maxv = is_signed ? smax : umax;
    const uint64_t minv = is_signed ? ~smax : 0; /* -2^(width-1) or 0, as bits */
    const int MB = P - 1;
    unp_t x = unpack(P, EW, a);

    switch (x.kind) {
    case K_QNAN:
    case K_SNAN:
        *fl |= FPU_NV;
        return maxv;
    case K_INF:
        *fl |= FPU_NV;
        return x.sign ? minv : maxv;
    case K_ZERO:
        return 0;
    default:
        break;
    }
    if (x.exp >= 64) {
        *fl |= FPU_NV;
        return x.sign ? minv : maxv;
    }
    uint64_t ip, r, half;
    if (x.exp >= MB) {
        ip = x.sig << (x.exp - MB);
        r = 0;
        half = 1;
    } else if (x.exp >= -1) {
        int s = MB - x.exp; /* 1 .. P */
        ip = x.sig >> s;
        r = x.sig & ((1ull << s) - 1);
        half = 1ull << (s - 1);
    } else { /* |value| < 1/2: below half, non-zero */
        ip = 0;
        r = 1;
        half = 2;
    }
    ip += round_up(rm, x.sign, r, half, ip);
    if (x.sign) {
        uint64_t lim = is_signed ? smax + 1 : 0;
        if (ip > lim) {
            *fl |= FPU_NV;
            return minv;
        }
        ip = -ip;
    } else if (ip > maxv) {
        *fl |= FPU_NV;
        return maxv;
    }
    if (r)
        *fl |= FPU_NX;
    return ip & umax;
}

GEN uint64_t g_from_int(int P, int EW, int sign, uint64_t mag, int rm, uint32_t *fl)
{
    if (mag == 0)
        return 0;
    int msb = 63 - clz64(mag);
    uint64_t sig = msb == 63 ? (mag >> 1) | (mag & 1) : mag << (62 - msb);
    return round_pack(P, EW, sign, msb, sig, rm, fl);
}

/* ---- exported wrappers -------------------------------------------------- */

#define SOFT_ARITH(T, PFX, FMT)                                                       \
    T fpu_soft_##PFX##_add(T a, T b, int rm, uint32_t *fl)                            \
    {                                                                                 \
        return (T)g_add(FMT, a, b, 0, rm, fl);                                        \
    }                                                                                 \
    T fpu_soft_##PFX##_sub(T a, T b, int rm, uint32_t *fl)                            \
    {                                                                                 \
        return (T)g_add(FMT, a, b, 1, rm, fl);                                        \
    }                                                                                 \
    T fpu_soft_##PFX##_mul(T a, T b, int rm, uint32_t *fl)                            \
    {                                                                                 \
        return (T)g_mul(FMT, a, b, rm, fl);                                           \
    }                                                                                 \
    T fpu_soft_##PFX##_div(T a, T b, int rm, uint32_t *fl)                            \
    {                                                                                 \
        return (T)g_div(FMT, a, b, rm, fl);                                           \
    }                                                                                 \
    T fpu_soft_##PFX##_sqrt(T a, int rm, uint32_t *fl) { return (T)g_sqrt(FMT, a, rm, fl); } \
    T fpu_soft_##PFX##_madd(T a, T b, T c, int rm, uint32_t *fl)                      \
    {                                                                                 \
        return (T)g_fma(FMT, a, b, c, 0, 0, rm, fl);                                  \
    }                                                                                 \
    T fpu_soft_##PFX##_msub(T a, T b, T c, int rm, uint32_t *fl)                      \
    {                                                                                 \
        return (T)g_fma(FMT, a, b, c, 0, 1, rm, fl);                                  \
    }                                                                                 \
    T fpu_soft_##PFX##_nmsub(T a, T b, T c, int rm, uint32_t *fl)                     \
    {                                                                                 \
        return (T)g_fma(FMT, a, b, c, 1, 0, rm, fl);                                  \
    }                                                                                 \
    T fpu_soft_##PFX##_nmadd(T a, T b, T c, int rm, uint32_t *fl)                     \
    {                                                                                 \
        return (T)g_fma(FMT, a, b, c, 1, 1, rm, fl);                                  \
    }

#define SOFT_ONLY(T, PFX, FMT)                                                        \
    T fpu_##PFX##_min(T a, T b, uint32_t *fl) { return (T)g_minmax(FMT, a, b, 0, fl); } \
    T fpu_##PFX##_max(T a, T b, uint32_t *fl) { return (T)g_minmax(FMT, a, b, 1, fl); } \
    int fpu_##PFX##_eq(T a, T b, uint32_t *fl) { return g_eq(FMT, a, b, fl); }        \
    int fpu_##PFX##_lt(T a, T b, uint32_t *fl) { return g_lt(FMT, a, b, 0, fl); }     \
    int fpu_##PFX##_le(T a, T b, uint32_t *fl) { return g_lt(FMT, a, b, 1, fl); }     \
    uint32_t fpu_##PFX##_classify(T a) { return g_classify(FMT, a); }                 \
    int32_t fpu_##PFX##_to_i32(T a, int rm, uint32_t *fl)                             \
    {                                                                                 \
        return (int32_t)(uint32_t)g_to_int(FMT, a, rm, 1, 32, fl);                    \
    }                                                                                 \
    uint32_t fpu_##PFX##_to_u32(T a, int rm, uint32_t *fl)                            \
    {                                                                                 \
        return (uint32_t)g_to_int(FMT, a, rm, 0, 32, fl);                             \
    }                                                                                 \
    int64_t fpu_##PFX##_to_i64(T a, int rm, uint32_t *fl)                             \
    {                                                                                 \
        return (int64_t)g_to_int(FMT, a, rm, 1, 64, fl);                              \
    }                                                                                 \
    uint64_t fpu_##PFX##_to_u64(T a, int rm, uint32_t *fl)                            \
    {                                                                                 \
        return g_to_int(FMT, a, rm, 0, 64, fl);                                       \
    }                                                                                 \
    T fpu_##PFX##_from_i32(int32_t v, int rm, uint32_t *fl)                           \
    {                                                                                 \
        uint64_t mag = v < 0 ? -(uint64_t)(int64_t)v : (uint64_t)v;                   \
        return (T)g_from_int(FMT, v < 0, mag, rm, fl);                                \
    }                                                                                 \
    T fpu_##PFX##_from_u32(uint32_t v, int rm, uint32_t *fl)                          \
    {                                                                                 \
        return (T)g_from_int(FMT, 0, v, rm, fl);                                      \
    }                                                                                 \
    T fpu_##PFX##_from_i64(int64_t v, int rm, uint32_t *fl)                           \
    {                                                                                 \
        uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;                            \
        return (T)g_from_int(FMT, v < 0, mag, rm, fl);                                \
    }                                                                                 \
    T fpu_##PFX##_from_u64(uint64_t v, int rm, uint32_t *fl)                          \
    {                                                                                 \
        return (T)g_from_int(FMT, 0, v, rm, fl);                                      \
    }

SOFT_ARITH(uint32_t, f32, F32)
SOFT_ARITH(uint64_t, f64, F64)
SOFT_ONLY(uint32_t, f32, F32)
SOFT_ONLY(uint64_t, f64, F64)

uint64_t fpu_f32_to_f64(uint32_t a, uint32_t *fl)
{
    unp_t x = unpack(F32, a);
    switch (x.kind) {
    case K_QNAN:
    case K_SNAN:
        return nan_result(F64, x.kind == K_SNAN, fl);
    case K_INF:
        return inf_signed(F64, x.sign);
    case K_ZERO:
        return zero_bits(F64, x.sign);
    default: /* exact: every binary32 value is a normal binary64 */
        return zero_bits(F64, x.sign) | ((uint64_t)(x.exp + 1023) << 52) |
               ((x.sig << 29) & ((1ull << 52) - 1));
    }
}

uint32_t fpu_soft_f64_to_f32(uint64_t a, int rm, uint32_t *fl)
{
    unp_t x = unpack(F64, a);
    switch (x.kind) {
    case K_QNAN:
    case K_SNAN:
        return (uint32_t)nan_result(F32, x.kind == K_SNAN, fl);
    case K_INF:
        return (uint32_t)inf_signed(F32, x.sign);
    case K_ZERO:
        return (uint32_t)zero_bits(F32, x.sign);
    default:
        return (uint32_t)round_pack(F32, x.sign, x.exp, x.sig << (62 - 52), rm, fl);
    }
}
