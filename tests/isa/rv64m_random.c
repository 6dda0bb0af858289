/* RV64M against software references on a few thousand pseudo-random
 * operand pairs mixed with edge values: the high products (mulh, mulhu,
 * mulhsu) against 32x32-bit partial products, mul/mulw low halves, and
 * div/divu/rem/remu (and W forms) against the quotient/remainder identity
 * and the spec's divide-by-zero and overflow results. */
#include "lib.h"

#define OP(insn, a, b) ({ uint64_t r_; __asm__ volatile(insn " %0, %1, %2" : "=r"(r_) : "r"(a), "r"(b)); r_; })

static uint64_t seed = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static const uint64_t edges[] = {
    0, 1, 2, 3, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
    0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
    0xfffffffffffffffeull, 0xffffffff80000000ull, 0x00000000ffffffffull,
};

static uint64_t pick(void)
{
    uint64_t r = rnd();
    switch (r & 7) {
    case 0: return edges[(r >> 8) % (sizeof edges / sizeof edges[0])];
    case 1: return (r >> 8) & 0xff;                 /* small */
    case 2: return (uint64_t)-(int64_t)((r >> 8) & 0xff);  /* small negative */
    case 3: return (uint64_t)(int64_t)(int32_t)rnd(); /* sign-extended word */
    default: return rnd();
    }
}

/* full 128-bit unsigned product from 32-bit halves */
static void mul128(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a0 = a & 0xffffffff, a1 = a >> 32, b0 = b & 0xffffffff, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
    *lo = (p00 & 0xffffffff) | (mid << 32);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

static uint64_t sext32(uint64_t x) { return (uint64_t)(int64_t)(int32_t)x; }

static long check_div(uint64_t a, uint64_t b)
{
    int64_t sa = (int64_t)a, sb = (int64_t)b;
    uint64_t q = OP("div", a, b), r = OP("rem", a, b);
    uint64_t qu = OP("divu", a, b), ru = OP("remu", a, b);
    if (b == 0) {
        if (q != ~0ull || r != a || qu != ~0ull || ru != a)
            return 1;
    } else if (sa == INT64_MIN && sb == -1) {
        if (q != a || r != 0)
            return 2;
    } else {
        /* a = q*b + r, |r| < |b|, r has a's sign (or is 0) */
        uint64_t hi, lo;
        mul128(q, b, &hi, &lo);
        if (lo + r != a)
            return 3;
        uint64_t mr = (int64_t)r < 0 ? -r : r, mb = sb < 0 ? -b : b;
        if (mr >= mb)
            return 4;
        if (r != 0 && (((int64_t)r < 0) != (sa < 0)))
            return 5;
    }
    if (b != 0) {
        uint64_t hi, lo;
        mul128(qu, b, &hi, &lo);
        if (hi != 0 || lo + ru != a || ru >= b || lo > a)
            return 6;
    }
    /* W forms on the low words, results sign-extended */
    uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b;
    int32_t sa32 = (int32_t)a32, sb32 = (int32_t)b32;
    uint64_t qw = OP("divw", a, b), rw = OP("remw", a, b);
    uint64_t quw = OP("divuw", a, b), ruw = OP("remuw", a, b);
    if (b32 == 0) {
        if (qw != ~0ull || rw != sext32(a32) || quw != ~0ull || ruw != sext32(a32))
            return 7;
    } else {
        /* references through the 64-bit instructions checked above (so the
         * W forms are not checked against themselves) */
        int64_t x = sa32, y = sb32;
        uint64_t ux = a32, uy = b32;
        /* hide the value ranges, or GCC picks the W instructions itself */
        __asm__("" : "+r"(x), "+r"(y), "+r"(ux), "+r"(uy));
        int64_t eq = x / y, er = x % y;
        if (qw != sext32((uint64_t)eq) || rw != sext32((uint64_t)er))
            return 8;
        uint64_t equ = ux / uy, eru = ux % uy;
        if (quw != sext32(equ) || ruw != sext32(eru))
            return 9;
    }
    return 0;
}

long test_main(void)
{
    for (int i = 0; i < 3000; i++) {
        uint64_t a = pick(), b = pick();
        uint64_t hi, lo;
        mul128(a, b, &hi, &lo);
        CHECK(1, OP("mul", a, b) == lo);
        CHECK(2, OP("mulhu", a, b) == hi);
        uint64_t sh = hi - ((int64_t)a < 0 ? b : 0) - ((int64_t)b < 0 ? a : 0);
        CHECK(3, OP("mulh", a, b) == sh);
        uint64_t su = hi - ((int64_t)a < 0 ? b : 0);
        CHECK(4, OP("mulhsu", a, b) == su);
        uint64_t wlo, whi;
        mul128(a & 0xffffffff, b & 0xffffffff, &whi, &wlo);
        CHECK(5, OP("mulw", a, b) == sext32(wlo));
        long e = check_div(a, b);
        if (e)
            return 10 + e;
    }
    return 0;
}
