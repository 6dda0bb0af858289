/* condo bench: a CPU-bound workload in three parts, run bare-metal.
 *
 *   int  CRC-32 over a 1 MiB buffer, quicksort of 128 Ki 32-bit keys,
 *        64-bit modular exponentiation (mul, div, rem)
 *   mem  pointer chasing through a random single cycle of 64-byte nodes
 *        spread over 16 MiB, then strided read-modify-write passes
 *   fp   n-body (+ - * / sqrt on doubles) and a dense matrix multiply
 *
 * Each part folds its results into one 64-bit checksum. The SAME file is
 * compiled twice: natively for the host with -DBENCH_HOST (bench-ref prints
 * the checksums as a header, expected.h) and for RISC-V bare metal with
 * that header included, where main() compares and fails with a tohost code
 * (1 int, 2 mem, 3 fp) on a mismatch. Floating point uses only IEEE-exact
 * operations (no libm, -ffp-contract=off on both sides, no reassociation),
 * so host and guest must agree bit for bit.
 *
 * BENCH_PARTS selects the parts (bit 0 int, bit 1 mem, bit 2 fp); 0 builds
 * the trivial program that passes at once (the emulator's fixed cost).
 */
#include <stddef.h>
#include <stdint.h>

#ifndef BENCH_PARTS
#define BENCH_PARTS 7
#endif
#define PART_INT 1
#define PART_MEM 2
#define PART_FP  4

/* Sizes: chosen so QEMU 7.2 TCG needs roughly 1 s per part on the
 * reference machine (see docs/BENCHMARKS.md). */
#ifndef CRC_BYTES
#define CRC_BYTES     (1u << 20)
#endif
#ifndef CRC_PASSES
#define CRC_PASSES    80
#endif
#ifndef SORT_KEYS
#define SORT_KEYS     (1u << 18)
#endif
#ifndef SORT_ROUNDS
#define SORT_ROUNDS   9
#endif
#ifndef MODPOW_COUNT
#define MODPOW_COUNT  400000
#endif
#ifndef MEM_BYTES
#define MEM_BYTES     (16u << 20)
#endif
#ifndef CHASE_STEPS
#define CHASE_STEPS   (5u << 19)
#endif
#ifndef STRIDE_ROUNDS
#define STRIDE_ROUNDS 5
#endif
#ifndef NBODY_STEPS
#define NBODY_STEPS   500000
#endif
#ifndef MAT_N
#define MAT_N         96
#endif
#ifndef MAT_ROUNDS
#define MAT_ROUNDS    8
#endif

#ifdef BENCH_HOST
#include <stdio.h>
#else
/* gcc may emit calls to these even in freestanding code. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}
#endif

/* xorshift64*: deterministic on any LP64 target. */
static uint64_t rng_state __attribute__((unused));

__attribute__((unused)) static void rng_seed(uint64_t s)
{
    rng_state = s ? s : 0x9e3779b97f4a7c15ull;
}

__attribute__((unused)) static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Folds a value into a running checksum (order-sensitive). */
__attribute__((unused)) static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

/* ------------------------------------------------------------------ int */
#if BENCH_PARTS & PART_INT
static uint8_t crc_buf[CRC_BYTES];
static uint32_t crc_table[256];
static uint32_t keys[SORT_KEYS];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void swap_u32(uint32_t *a, uint32_t *b)
{
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

/* Quicksort (median of three, insertion sort below 16), recursing into the
 * smaller half so the stack stays shallow. */
static void sort_u32(uint32_t *a, long n)
{
    while (n > 16) {
        long m = n / 2;
        if (a[m] < a[0])
            swap_u32(&a[m], &a[0]);
        if (a[n - 1] < a[0])
            swap_u32(&a[n - 1], &a[0]);
        if (a[n - 1] < a[m])
            swap_u32(&a[n - 1], &a[m]);
        uint32_t pivot = a[m];
        long i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap_u32(&a[i], &a[j]);
            i++;
            j--;
        }
        long left = j + 1;
        if (left < n - left) {
            sort_u32(a, left);
            a += left;
            n -= left;
        } else {
            sort_u32(a + left, n - left);
            n = left;
        }
    }
    for (long i = 1; i < n; i++) {
        uint32_t v = a[i];
        long j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static uint64_t modpow(uint64_t b, uint64_t e, uint64_t m)
{
    uint64_t r = 1 % m;
    b %= m;
    while (e) {
        if (e & 1)
            r = r * b % m;
        b = b * b % m;
        e >>= 1;
    }
    return r;
}

static uint64_t part_int(void)
{
    uint64_t h = 1;
    rng_seed(1);
    for (uint32_t i = 0; i < CRC_BYTES; i += 8) {
        uint64_t v = rng();
        for (int k = 0; k < 8; k++)
            crc_buf[i + k] = (uint8_t)(v >> (8 * k));
    }
    crc_init();
    uint32_t crc = 0;
    for (int pass = 0; pass < CRC_PASSES; pass++) {
        crc = crc32(crc, crc_buf, CRC_BYTES);
        crc_buf[(crc >> 8) % CRC_BYTES] ^= (uint8_t)crc;
        h = mix(h, crc);
    }
    for (int round = 0; round < SORT_ROUNDS; round++) {
        for (uint32_t i = 0; i < SORT_KEYS; i++)
            keys[i] = (uint32_t)(rng() >> 32) >> (round * 3); /* more duplicates each round */
        sort_u32(keys, SORT_KEYS);
        uint64_t s = 0;
        for (uint32_t i = 0; i < SORT_KEYS; i++) {
            if (i && keys[i - 1] > keys[i])
                return 0; /* unsorted: cannot match the reference */
            s += (uint64_t)keys[i] * (i + 1);
        }
        h = mix(h, s);
    }
    uint64_t acc = 0;
    for (uint32_t i = 0; i < MODPOW_COUNT; i++) {
        /* One call per statement: argument evaluation order is unspecified
         * and must not differ between the host and the target compiler. */
        uint64_t m = (rng() >> 33) | 1;  /* < 2^31 so products fit 64 bits */
        uint64_t b = rng();
        uint64_t e = rng() >> 40;
        uint64_t q = rng() / m;
        acc += modpow(b, e, m) ^ q;
    }
    return mix(h, acc);
}
#endif

/* ------------------------------------------------------------------ mem */
#if BENCH_PARTS & PART_MEM
#define MEM_WORDS (MEM_BYTES / 8)
#define NODE_WORDS 8                      /* 64-byte nodes */
#define NODES (MEM_WORDS / NODE_WORDS)
static uint64_t arena[MEM_WORDS] __attribute__((aligned(64)));

static uint64_t part_mem(void)
{
    uint64_t h = 2;
    rng_seed(2);
    /* Sattolo's algorithm: a random permutation that is one single cycle,
     * so the chase visits every node before repeating. */
    for (uint64_t i = 0; i < NODES; i++)
        arena[i * NODE_WORDS] = i;
    for (uint64_t i = NODES - 1; i > 0; i--) {
        uint64_t j = rng() % i;
        uint64_t t = arena[i * NODE_WORDS];
        arena[i * NODE_WORDS] = arena[j * NODE_WORDS];
        arena[j * NODE_WORDS] = t;
    }
    uint64_t p = 0, sum = 0;
    for (uint32_t step = 0; step < CHASE_STEPS; step++) {
        uint64_t *node = &arena[p * NODE_WORDS];
        node[1 + (step & 3)] += step;
        sum += node[2] ^ p;
        p = node[0];
    }
    h = mix(h, sum);
    h = mix(h, p);
    /* Strided passes: sequential words, one word per 64-byte line, and one
     * word per 4 KiB + 8 (a new page every access). */
    static const uint32_t strides[] = { 1, 8, 513 };
    for (int round = 0; round < STRIDE_ROUNDS; round++) {
        for (unsigned s = 0; s < sizeof strides / sizeof strides[0]; s++) {
            uint64_t acc = 0;
            uint32_t st = strides[s];
            for (uint32_t start = 0; start < st; start += (st > 8 ? 37 : 1)) {
                for (uint32_t i = start; i < MEM_WORDS; i += st) {
                    uint64_t v = arena[i];
                    acc += v;
                    arena[i] = v * 3 + i;
                }
            }
            h = mix(h, acc);
        }
    }
    return h;
}
#endif

/* ------------------------------------------------------------------- fp */
#if BENCH_PARTS & PART_FP
typedef union {
    double d;
    uint64_t u;
} dbits;

static uint64_t bits(double d)
{
    dbits b;
    b.d = d;
    return b.u;
}

struct body {
    double x, y, z, vx, vy, vz, mass;
};

#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24

static struct body bodies[5] = {
    { 0, 0, 0, 0, 0, 0, SOLAR_MASS },
    { 4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
      1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
      -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS },
    { 8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
      -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
      2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS },
    { 1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
      2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
      -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS },
    { 1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
      2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
      -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS },
};

static void nbody_advance(struct body *b, int n, double dt)
{
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            double dx = b[i].x - b[j].x;
            double dy = b[i].y - b[j].y;
            double dz = b[i].z - b[j].z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * __builtin_sqrt(d2));
            b[i].vx -= dx * b[j].mass * mag;
            b[i].vy -= dy * b[j].mass * mag;
            b[i].vz -= dz * b[j].mass * mag;
            b[j].vx += dx * b[i].mass * mag;
            b[j].vy += dy * b[i].mass * mag;
            b[j].vz += dz * b[i].mass * mag;
        }
    }
    for (int i = 0; i < n; i++) {
        b[i].x += dt * b[i].vx;
        b[i].y += dt * b[i].vy;
        b[i].z += dt * b[i].vz;
    }
}

static double nbody_energy(const struct body *b, int n)
{
    double e = 0.0;
    for (int i = 0; i < n; i++) {
        e += 0.5 * b[i].mass * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < n; j++) {
            double dx = b[i].x - b[j].x;
            double dy = b[i].y - b[j].y;
            double dz = b[i].z - b[j].z;
            e -= b[i].mass * b[j].mass / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static double mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];

static uint64_t part_fp(void)
{
    uint64_t h = 3;
    /* Offset the sun's momentum so the system's total momentum is zero. */
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < 5; i++) {
        px += bodies[i].vx * bodies[i].mass;
        py += bodies[i].vy * bodies[i].mass;
        pz += bodies[i].vz * bodies[i].mass;
    }
    bodies[0].vx = -px / SOLAR_MASS;
    bodies[0].vy = -py / SOLAR_MASS;
    bodies[0].vz = -pz / SOLAR_MASS;
    h = mix(h, bits(nbody_energy(bodies, 5)));
    for (int s = 0; s < NBODY_STEPS; s++)
        nbody_advance(bodies, 5, 0.01);
    h = mix(h, bits(nbody_energy(bodies, 5)));
    for (int i = 0; i < 5; i++)
        h = mix(h, bits(bodies[i].x) ^ bits(bodies[i].vy));

    rng_seed(3);
    for (int i = 0; i < MAT_N; i++) {
        for (int j = 0; j < MAT_N; j++) {
            /* exact small values, then a division for inexact ones */
            mat_a[i][j] = (double)(int64_t)(rng() % 2001) / 1000.0 - 1.0;
            mat_b[i][j] = (double)(int64_t)(rng() % 3001) / 7.0;
        }
    }
    for (int round = 0; round < MAT_ROUNDS; round++) {
        for (int i = 0; i < MAT_N; i++) {
            for (int j = 0; j < MAT_N; j++)
                mat_c[i][j] = 0.0;
            for (int k = 0; k < MAT_N; k++) {
                double a = mat_a[i][k];
                for (int j = 0; j < MAT_N; j++)
                    mat_c[i][j] += a * mat_b[k][j];
            }
        }
        /* Feed the product back, scaled, so rounds depend on each other. */
        double tr = 0.0;
        for (int i = 0; i < MAT_N; i++)
            tr += mat_c[i][i];
        h = mix(h, bits(tr));
        for (int i = 0; i < MAT_N; i++)
            for (int j = 0; j < MAT_N; j++)
                mat_b[i][j] = mat_c[i][j] / (1.0 + __builtin_sqrt(mat_c[i][j] * mat_c[i][j] + 1.0));
    }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++)
            h = mix(h, bits(mat_b[i][j]));
    return h;
}
#endif

/* ----------------------------------------------------------------- main */
#ifdef BENCH_HOST
int main(void)
{
    printf("/* generated by bench-ref (bench/cpu/workload.c built for the host) */\n");
#if BENCH_PARTS & PART_INT
    printf("#define EXPECT_INT 0x%016llxull\n", (unsigned long long)part_int());
#endif
#if BENCH_PARTS & PART_MEM
    printf("#define EXPECT_MEM 0x%016llxull\n", (unsigned long long)part_mem());
#endif
#if BENCH_PARTS & PART_FP
    printf("#define EXPECT_FP 0x%016llxull\n", (unsigned long long)part_fp());
#endif
    return 0;
}
#else
int main(void);

int main(void)
{
#if BENCH_PARTS & PART_INT
    if (part_int() != EXPECT_INT)
        return 1;
#endif
#if BENCH_PARTS & PART_MEM
    if (part_mem() != EXPECT_MEM)
        return 2;
#endif
#if BENCH_PARTS & PART_FP
    if (part_fp() != EXPECT_FP)
        return 3;
#endif
    return 0;
}
#endif
