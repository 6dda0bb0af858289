/* AMOs against C references on pseudo-random values and edge values:
 * every amo*.d and amo*.w returns the old value (sign-extended for .w) and
 * leaves op(old, rs2) in memory, without touching the other word. */
#include "lib.h"

static uint64_t seed = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    if ((seed & 15) == 0)
        return 0x8000000000000000ull >> (seed >> 58);
    if ((seed & 15) == 1)
        return (uint64_t)(int64_t)(int32_t)(seed >> 16);
    return seed;
}

static volatile uint64_t mem[2] __attribute__((aligned(16)));

#define AMO(insn, addr, v) ({ uint64_t r_; __asm__ volatile(insn " %0, %2, (%1)" : "=r"(r_) : "r"(addr), "r"(v) : "memory"); r_; })

static uint64_t sext32(uint64_t x) { return (uint64_t)(int64_t)(int32_t)x; }

enum { SWAP, ADD, AND, OR, XOR, MIN, MAX, MINU, MAXU };

static uint64_t ref64(int op, uint64_t a, uint64_t b)
{
    switch (op) {
    case SWAP: return b;
    case ADD: return a + b;
    case AND: return a & b;
    case OR: return a | b;
    case XOR: return a ^ b;
    case MIN: return (int64_t)a < (int64_t)b ? a : b;
    case MAX: return (int64_t)a > (int64_t)b ? a : b;
    case MINU: return a < b ? a : b;
    default: return a > b ? a : b;
    }
}

static uint32_t ref32(int op, uint32_t a, uint32_t b)
{
    switch (op) {
    case SWAP: return b;
    case ADD: return a + b;
    case AND: return a & b;
    case OR: return a | b;
    case XOR: return a ^ b;
    case MIN: return (int32_t)a < (int32_t)b ? a : b;
    case MAX: return (int32_t)a > (int32_t)b ? a : b;
    case MINU: return a < b ? a : b;
    default: return a > b ? a : b;
    }
}

static uint64_t do64(int op, volatile uint64_t *p, uint64_t v)
{
    switch (op) {
    case SWAP: return AMO("amoswap.d", p, v);
    case ADD: return AMO("amoadd.d", p, v);
    case AND: return AMO("amoand.d", p, v);
    case OR: return AMO("amoor.d", p, v);
    case XOR: return AMO("amoxor.d", p, v);
    case MIN: return AMO("amomin.d", p, v);
    case MAX: return AMO("amomax.d", p, v);
    case MINU: return AMO("amominu.d", p, v);
    default: return AMO("amomaxu.d", p, v);
    }
}

static uint64_t do32(int op, volatile uint32_t *p, uint64_t v)
{
    switch (op) {
    case SWAP: return AMO("amoswap.w", p, v);
    case ADD: return AMO("amoadd.w", p, v);
    case AND: return AMO("amoand.w", p, v);
    case OR: return AMO("amoor.w", p, v);
    case XOR: return AMO("amoxor.w", p, v);
    case MIN: return AMO("amomin.w", p, v);
    case MAX: return AMO("amomax.w", p, v);
    case MINU: return AMO("amominu.w", p, v);
    default: return AMO("amomaxu.w", p, v);
    }
}

long test_main(void)
{
    for (int i = 0; i < 2000; i++) {
        int op = (int)(rnd() % 9);
        uint64_t old = rnd(), v = rnd(), guard = rnd();
        mem[0] = old;
        mem[1] = guard;
        CHECK(1 + op, do64(op, &mem[0], v) == old);
        CHECK(10 + op, mem[0] == ref64(op, old, v));
        CHECK(20, mem[1] == guard);
        /* word at the upper half of mem[0] */
        mem[0] = old;
        volatile uint32_t *w = (volatile uint32_t *)&mem[0] + 1;
        CHECK(30 + op, do32(op, w, v) == sext32(old >> 32));
        uint64_t want = ((uint64_t)ref32(op, (uint32_t)(old >> 32), (uint32_t)v) << 32) | (old & 0xffffffff);
        CHECK(40 + op, mem[0] == want);
        CHECK(50, mem[1] == guard);
    }
    return 0;
}
