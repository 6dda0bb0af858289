/* int_ops: integer arithmetic, overflow, division edge cases, bit loops,
 * a buffer hash, qsort and a sieve.  Prints every result so a mistake in the
 * emulated integer unit shows up as a diff against qemu-riscv64.
 * Values come through volatile variables so the compiler cannot fold them:
 * the point is to execute the instructions, not the constant folder. */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("CHECK FAILED line %d: %s\n", __LINE__, #cond); \
			failures++;                                        \
		}                                                          \
	} while (0)

/* A small xorshift generator: same sequence on every machine. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static volatile int64_t v64[] = {
	0, 1, -1, 2, -2, 7, -7, 1000000007, INT64_MAX, INT64_MIN,
	(int64_t)0x00000000ffffffffll, (int64_t)0x0000000080000000ll,
	(int64_t)0xffffffff80000000ll, 0x123456789abcdef0ll, -0x123456789abcdefll,
};
#define N64 (sizeof v64 / sizeof v64[0])

static volatile int32_t v32[] = {
	0, 1, -1, 2, -2, 3, -3, 65537, INT32_MAX, INT32_MIN, 0x7fff, -0x8000,
	0x12345678, -0x12345678,
};
#define N32 (sizeof v32 / sizeof v32[0])

static void test_arith64(void)
{
	uint64_t acc = 0;
	for (unsigned i = 0; i < N64; i++) {
		for (unsigned j = 0; j < N64; j++) {
			int64_t a = v64[i], b = v64[j];
			uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
			/* wrap-around arithmetic done in unsigned to stay defined */
			uint64_t add = ua + ub, sub = ua - ub, mul = ua * ub;
			/* high halves of the 128-bit product: mulh, mulhu, mulhsu */
			int64_t mulh = (int64_t)(((__int128)a * (__int128)b) >> 64);
			uint64_t mulhu = (uint64_t)(((unsigned __int128)ua * ub) >> 64);
			int64_t mulhsu = (int64_t)(((__int128)a * (__int128)(unsigned __int128)ub) >> 64);
			uint64_t cmp = (uint64_t)(a < b) | (uint64_t)(ua < ub) << 1;
			acc = acc * 31 + add;
			acc = acc * 31 + sub;
			acc = acc * 31 + mul;
			acc = acc * 31 + (uint64_t)mulh;
			acc = acc * 31 + mulhu;
			acc = acc * 31 + (uint64_t)mulhsu;
			acc = acc * 31 + cmp;
		}
	}
	printf("arith64 digest %016" PRIx64 "\n", acc);
	printf("INT64_MAX+1 wraps to %" PRId64 "\n",
	       (int64_t)((uint64_t)v64[8] + (uint64_t)v64[1]));
	printf("INT64_MIN*-1 wraps to %" PRId64 "\n",
	       (int64_t)((uint64_t)v64[9] * (uint64_t)v64[2]));
	printf("mulhu(-1,-1) = %016" PRIx64 "\n",
	       (uint64_t)(((unsigned __int128)(uint64_t)v64[2] * (uint64_t)v64[2]) >> 64));
	printf("mulh(MIN,MIN) = %016" PRIx64 "\n",
	       (uint64_t)(((__int128)v64[9] * (__int128)v64[9]) >> 64));
}

static void test_arith32(void)
{
	/* The *W instructions: 32-bit results sign-extended into 64 bits. */
	uint64_t acc = 0;
	for (unsigned i = 0; i < N32; i++) {
		for (unsigned j = 0; j < N32; j++) {
			int32_t a = v32[i], b = v32[j];
			int32_t add = (int32_t)((uint32_t)a + (uint32_t)b);
			int32_t sub = (int32_t)((uint32_t)a - (uint32_t)b);
			int32_t mul = (int32_t)((uint32_t)a * (uint32_t)b);
			int64_t wide = (int64_t)add; /* must be sign-extended */
			unsigned sh = (unsigned)b & 31;
			int32_t sll = (int32_t)((uint32_t)a << sh);
			int32_t srl = (int32_t)((uint32_t)a >> sh);
			int32_t sra = a >> sh;
			acc = acc * 131 + (uint64_t)wide;
			acc = acc * 131 + (uint64_t)(int64_t)sub;
			acc = acc * 131 + (uint64_t)(int64_t)mul;
			acc = acc * 131 + (uint64_t)(int64_t)sll;
			acc = acc * 131 + (uint64_t)(int64_t)srl;
			acc = acc * 131 + (uint64_t)(int64_t)sra;
		}
	}
	printf("arith32 digest %016" PRIx64 "\n", acc);
	int32_t big = (int32_t)((uint32_t)v32[8] + 1u);
	printf("INT32_MAX+1 wraps to %d (as int64 %" PRId64 ")\n", big, (int64_t)big);
	uint32_t u = (uint32_t)v32[2];
	printf("0xffffffff as u32->u64 = %" PRIu64 "\n", (uint64_t)u);
}

/* RISC-V defines division by zero and signed overflow instead of trapping:
 * x/0 = -1 (all ones), x%0 = x, MIN/-1 = MIN, MIN%-1 = 0.  C calls these
 * undefined, so compute them with inline assembly to get the instruction's
 * own answer. */
static int64_t rv_div(int64_t a, int64_t b)
{
	int64_t r;
	__asm__ volatile("div %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
	return r;
}
static int64_t rv_rem(int64_t a, int64_t b)
{
	int64_t r;
	__asm__ volatile("rem %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
	return r;
}
static uint64_t rv_divu(uint64_t a, uint64_t b)
{
	uint64_t r;
	__asm__ volatile("divu %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
	return r;
}
static uint64_t rv_remu(uint64_t a, uint64_t b)
{
	uint64_t r;
	__asm__ volatile("remu %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
	return r;
}
static int64_t rv_divw(int64_t a, int64_t b)
{
	int64_t r;
	__asm__ volatile("divw %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
	return r;
}
static int64_t rv_remw(int64_t a, int64_t b)
{
	int64_t r;
	__asm__ volatile("remw %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
	return r;
}
static int64_t rv_divuw(int64_t a, int64_t b)
{
	int64_t r;
	__asm__ volatile("divuw %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
	return r;
}
static int64_t rv_remuw(int64_t a, int64_t b)
{
	int64_t r;
	__asm__ volatile("remuw %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
	return r;
}

static void test_division(void)
{
	int64_t a = v64[5], z = v64[0], m1 = v64[2], mn = v64[9];
	printf("div 7/0 = %" PRId64 ", rem 7%%0 = %" PRId64 "\n", rv_div(a, z), rv_rem(a, z));
	printf("divu 7/0 = %016" PRIx64 ", remu 7%%0 = %" PRIu64 "\n",
	       rv_divu((uint64_t)a, 0), rv_remu((uint64_t)a, 0));
	printf("div MIN/-1 = %" PRId64 ", rem MIN%%-1 = %" PRId64 "\n",
	       rv_div(mn, m1), rv_rem(mn, m1));
	printf("divw 7/0 = %" PRId64 ", remw 7%%0 = %" PRId64 "\n", rv_divw(a, z), rv_remw(a, z));
	printf("divw MIN32/-1 = %" PRId64 ", remw = %" PRId64 "\n",
	       rv_divw(INT32_MIN, m1), rv_remw(INT32_MIN, m1));
	printf("divuw 0xfffffff9/2 = %" PRId64 ", remuw = %" PRId64 "\n",
	       rv_divuw(-7, 2), rv_remuw(-7, 2));
	printf("divuw x/0 = %" PRId64 ", remuw x/0 = %" PRId64 "\n",
	       rv_divuw(0x1234567812345678ll, 0), rv_remuw(0x1234567812345678ll, 0));
	/* divw must ignore the upper 32 bits of its operands */
	printf("divw ignores high bits: %" PRId64 "\n",
	       rv_divw(0x7fffffff00000064ll, 0x1234567800000007ll));

	uint64_t acc = 0;
	for (unsigned i = 0; i < N64; i++) {
		for (unsigned j = 0; j < N64; j++) {
			int64_t x = v64[i], y = v64[j];
			acc = acc * 37 + (uint64_t)rv_div(x, y);
			acc = acc * 37 + (uint64_t)rv_rem(x, y);
			acc = acc * 37 + rv_divu((uint64_t)x, (uint64_t)y);
			acc = acc * 37 + rv_remu((uint64_t)x, (uint64_t)y);
			acc = acc * 37 + (uint64_t)rv_divw(x, y);
			acc = acc * 37 + (uint64_t)rv_remw(x, y);
			acc = acc * 37 + (uint64_t)rv_divuw(x, y);
			acc = acc * 37 + (uint64_t)rv_remuw(x, y);
		}
	}
	printf("division digest %016" PRIx64 "\n", acc);

	/* C semantics for defined cases: truncation toward zero */
	volatile int64_t n = -7, d = 2;
	printf("C: -7/2 = %" PRId64 ", -7%%2 = %" PRId64 "\n", n / d, n % d);
	CHECK(n / d == -3 && n % d == -1);
}

static unsigned popcount_loop(uint64_t x)
{
	unsigned n = 0;
	while (x) {
		x &= x - 1;
		n++;
	}
	return n;
}

static unsigned clz_loop(uint64_t x)
{
	unsigned n = 0;
	if (!x)
		return 64;
	while (!(x & (1ull << 63))) {
		x <<= 1;
		n++;
	}
	return n;
}

static uint64_t bitrev_loop(uint64_t x)
{
	uint64_t r = 0;
	for (int i = 0; i < 64; i++) {
		r = (r << 1) | (x & 1);
		x >>= 1;
	}
	return r;
}

static void test_bits(void)
{
	uint64_t acc = 0;
	unsigned bad = 0;
	for (int i = 0; i < 4000; i++) {
		uint64_t x = rng_next();
		if (i % 7 == 0)
			x >>= (unsigned)(i % 64);
		unsigned pc = popcount_loop(x), lz = clz_loop(x);
		if (pc != (unsigned)__builtin_popcountll(x))
			bad++;
		if (x && lz != (unsigned)__builtin_clzll(x))
			bad++;
		unsigned sh = (unsigned)(x >> 58);
		uint64_t rotl = (x << sh) | (x >> ((64 - sh) & 63));
		uint64_t rev = bitrev_loop(x);
		if (bitrev_loop(rev) != x)
			bad++;
		acc ^= rotl + rev + pc * 0x100000001ull + lz;
		acc = (acc << 5) | (acc >> 59);
		/* arithmetic vs logical right shift on negative values */
		int64_t s = (int64_t)x;
		acc += (uint64_t)(s >> (sh & 63)) ^ (x >> (sh & 63));
	}
	printf("bits digest %016" PRIx64 " mismatches %u\n", acc, bad);
	CHECK(bad == 0);
	printf("popcount(0xdeadbeefcafebabe) = %u\n", popcount_loop(0xdeadbeefcafebabeull));
	printf("clz(1) = %u, clz(0) = %u\n", clz_loop(1), clz_loop(0));
	printf("bitrev(1) = %016" PRIx64 "\n", bitrev_loop(1));
}

/* FNV-1a, 64-bit, over a pseudo-random buffer, plus a byte/halfword/word
 * mix that exercises every load width and sign extension. */
static void test_hash(void)
{
	static uint8_t buf[1 << 18];
	for (size_t i = 0; i < sizeof buf; i += 8) {
		uint64_t r = rng_next();
		memcpy(buf + i, &r, 8);
	}
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < sizeof buf; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ull;
	}
	printf("fnv1a64 = %016" PRIx64 "\n", h);

	int64_t mix = 0;
	for (size_t i = 0; i + 8 <= sizeof buf; i += 61) {
		int8_t sb;
		int16_t sh;
		int32_t sw;
		uint16_t uh;
		uint32_t uw;
		memcpy(&sb, buf + i, 1);
		memcpy(&sh, buf + i + 1, 2); /* unaligned on purpose */
		memcpy(&sw, buf + i + 3, 4);
		memcpy(&uh, buf + i + 2, 2);
		memcpy(&uw, buf + i + 4, 4);
		mix = (int64_t)((uint64_t)mix * 3 + (uint64_t)(sb + sh + sw) + uh + uw);
	}
	printf("load-width mix = %" PRId64 "\n", mix);

	/* memmove with overlap, memcmp ordering */
	memmove(buf + 1, buf, 4096);
	memmove(buf, buf + 3, 4096);
	uint32_t c = 0;
	for (int i = 0; i < 8192; i++)
		c = c * 33 + buf[i];
	printf("memmove digest %08x memcmp sign %d\n", c,
	       memcmp("abc\x80", "abc\x01", 4) > 0 ? 1 : -1);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

struct rec {
	uint32_t key;
	uint32_t seq;
};
static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void test_qsort(void)
{
	enum { N = 20000 };
	static int64_t a[N];
	static struct rec r[N];
	for (int i = 0; i < N; i++) {
		a[i] = (int64_t)rng_next();
		r[i].key = (uint32_t)(rng_next() % 1000);
		r[i].seq = (uint32_t)i;
	}
	qsort(a, N, sizeof a[0], cmp_i64);
	qsort(r, N, sizeof r[0], cmp_rec);
	int sorted = 1;
	uint64_t h = 0;
	for (int i = 0; i < N; i++) {
		if (i && (a[i - 1] > a[i] || cmp_rec(&r[i - 1], &r[i]) > 0))
			sorted = 0;
		h = h * 1099511628211ull + (uint64_t)a[i] + r[i].key * 65536ull + r[i].seq;
	}
	printf("qsort sorted=%d min=%" PRId64 " max=%" PRId64 " digest %016" PRIx64 "\n",
	       sorted, a[0], a[N - 1], h);
	CHECK(sorted);
}

static void test_sieve(void)
{
	enum { LIMIT = 2000000 };
	static uint8_t composite[LIMIT + 1];
	unsigned count = 0;
	uint64_t sum = 0;
	unsigned last = 0;
	for (unsigned i = 2; i <= LIMIT; i++) {
		if (composite[i])
			continue;
		count++;
		sum += i;
		last = i;
		for (uint64_t j = (uint64_t)i * i; j <= LIMIT; j += i)
			composite[j] = 1;
	}
	printf("sieve(%d): %u primes, sum %" PRIu64 ", largest %u\n", LIMIT, count, sum, last);
	CHECK(count == 148933);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("int_ops start\n");
	test_arith64();
	test_arith32();
	test_division();
	test_bits();
	test_hash();
	test_qsort();
	test_sieve();
	printf("int_ops done, %d check failures\n", failures);
	return failures ? 1 : 0;
}
