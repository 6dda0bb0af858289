/* Tests of the RISC-V F/D arithmetic module (src/engine/riscv/fpu*.c).
 *
 * 1. Reference vectors: tests/fpu-ref/gen.c executed the real instructions
 *    under qemu-riscv64 (QEMU's softfloat is the reference; we did not write
 *    it). Every line is checked bit-exactly, result and flags, against the
 *    public functions (host fast path) and against the software path
 *    (fpu_soft_*), so each rounding mode exercises both implementations.
 *    The file is found at $FPU_VECTORS, else argv[1], else
 *    fpu_vectors.txt next to this binary (the Makefile generates it there).
 * 2. Hand-written cases for the rules most easily got wrong, so a failure
 *    reads as the rule that broke.
 * 3. Random cross-check of the host path against the software path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fenv.h>

#include "condo/riscv_fpu.h"
#include "../../src/engine/riscv/fpu_soft.h"

/* ---- reference vectors --------------------------------------------------- */

#define OP_LIST(X)                                                                    \
    X(FADD_S, "fadd.s") X(FSUB_S, "fsub.s") X(FMUL_S, "fmul.s") X(FDIV_S, "fdiv.s")   \
    X(FSQRT_S, "fsqrt.s") X(FMADD_S, "fmadd.s") X(FMSUB_S, "fmsub.s")                 \
    X(FNMSUB_S, "fnmsub.s") X(FNMADD_S, "fnmadd.s") X(FMIN_S, "fmin.s")               \
    X(FMAX_S, "fmax.s") X(FEQ_S, "feq.s") X(FLT_S, "flt.s") X(FLE_S, "fle.s")         \
    X(FCLASS_S, "fclass.s") X(FCVT_W_S, "fcvt.w.s") X(FCVT_WU_S, "fcvt.wu.s")         \
    X(FCVT_L_S, "fcvt.l.s") X(FCVT_LU_S, "fcvt.lu.s") X(FCVT_S_W, "fcvt.s.w")         \
    X(FCVT_S_WU, "fcvt.s.wu") X(FCVT_S_L, "fcvt.s.l") X(FCVT_S_LU, "fcvt.s.lu")       \
    X(FADD_D, "fadd.d") X(FSUB_D, "fsub.d") X(FMUL_D, "fmul.d") X(FDIV_D, "fdiv.d")   \
    X(FSQRT_D, "fsqrt.d") X(FMADD_D, "fmadd.d") X(FMSUB_D, "fmsub.d")                 \
    X(FNMSUB_D, "fnmsub.d") X(FNMADD_D, "fnmadd.d") X(FMIN_D, "fmin.d")               \
    X(FMAX_D, "fmax.d") X(FEQ_D, "feq.d") X(FLT_D, "flt.d") X(FLE_D, "fle.d")         \
    X(FCLASS_D, "fclass.d") X(FCVT_W_D, "fcvt.w.d") X(FCVT_WU_D, "fcvt.wu.d")         \
    X(FCVT_L_D, "fcvt.l.d") X(FCVT_LU_D, "fcvt.lu.d") X(FCVT_D_W, "fcvt.d.w")         \
    X(FCVT_D_WU, "fcvt.d.wu") X(FCVT_D_L, "fcvt.d.l") X(FCVT_D_LU, "fcvt.d.lu")       \
    X(FCVT_S_D, "fcvt.s.d") X(FCVT_D_S, "fcvt.d.s")

#define X_ENUM(e, s) OP_##e,
enum { OP_LIST(X_ENUM) N_OPS };
#define X_NAME(e, s) s,
static const char *const op_names[N_OPS] = {OP_LIST(X_NAME)};

typedef struct {
    uint64_t a, b, c, r;
    uint16_t op;
    uint8_t rm, fl;
} vec_t;

static vec_t *vecs;
static size_t n_vecs;
static char vec_path[4096];

/* Whether op has a separate software implementation (fpu_soft_*). */
static int has_soft(int op)
{
    switch (op) {
    case OP_FADD_S: case OP_FSUB_S: case OP_FMUL_S: case OP_FDIV_S: case OP_FSQRT_S:
    case OP_FMADD_S: case OP_FMSUB_S: case OP_FNMSUB_S: case OP_FNMADD_S:
    case OP_FADD_D: case OP_FSUB_D: case OP_FMUL_D: case OP_FDIV_D: case OP_FSQRT_D:
    case OP_FMADD_D: case OP_FMSUB_D: case OP_FNMSUB_D: case OP_FNMADD_D:
    case OP_FCVT_S_D:
        return 1;
    default:
        return 0;
    }
}

#define PICK(soft, P, fn) ((soft) ? fpu_soft_##P##_##fn : fpu_##P##_##fn)

/* Runs op; returns the result with the same width/meaning as gen.c prints. */
static uint64_t run(int op, int soft, uint64_t a, uint64_t b, uint64_t c, int rm,
                    uint32_t *fl)
{
    uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b, c32 = (uint32_t)c;
    switch (op) {
    case OP_FADD_S: return PICK(soft, f32, add)(a32, b32, rm, fl);
    case OP_FSUB_S: return PICK(soft, f32, sub)(a32, b32, rm, fl);
    case OP_FMUL_S: return PICK(soft, f32, mul)(a32, b32, rm, fl);
    case OP_FDIV_S: return PICK(soft, f32, div)(a32, b32, rm, fl);
    case OP_FSQRT_S: return PICK(soft, f32, sqrt)(a32, rm, fl);
    case OP_FMADD_S: return PICK(soft, f32, madd)(a32, b32, c32, rm, fl);
    case OP_FMSUB_S: return PICK(soft, f32, msub)(a32, b32, c32, rm, fl);
    case OP_FNMSUB_S: return PICK(soft, f32, nmsub)(a32, b32, c32, rm, fl);
    case OP_FNMADD_S: return PICK(soft, f32, nmadd)(a32, b32, c32, rm, fl);
    case OP_FMIN_S: return fpu_f32_min(a32, b32, fl);
    case OP_FMAX_S: return fpu_f32_max(a32, b32, fl);
    case OP_FEQ_S: return (uint64_t)fpu_f32_eq(a32, b32, fl);
    case OP_FLT_S: return (uint64_t)fpu_f32_lt(a32, b32, fl);
    case OP_FLE_S: return (uint64_t)fpu_f32_le(a32, b32, fl);
    case OP_FCLASS_S: return fpu_f32_classify(a32);
    case OP_FCVT_W_S: return (uint32_t)fpu_f32_to_i32(a32, rm, fl);
    case OP_FCVT_WU_S: return fpu_f32_to_u32(a32, rm, fl);
    case OP_FCVT_L_S: return (uint64_t)fpu_f32_to_i64(a32, rm, fl);
    case OP_FCVT_LU_S: return fpu_f32_to_u64(a32, rm, fl);
    case OP_FCVT_S_W: return fpu_f32_from_i32((int32_t)a32, rm, fl);
    case OP_FCVT_S_WU: return fpu_f32_from_u32(a32, rm, fl);
    case OP_FCVT_S_L: return fpu_f32_from_i64((int64_t)a, rm, fl);
    case OP_FCVT_S_LU: return fpu_f32_from_u64(a, rm, fl);
    case OP_FADD_D: return PICK(soft, f64, add)(a, b, rm, fl);
    case OP_FSUB_D: return PICK(soft, f64, sub)(a, b, rm, fl);
    case OP_FMUL_D: return PICK(soft, f64, mul)(a, b, rm, fl);
    case OP_FDIV_D: return PICK(soft, f64, div)(a, b, rm, fl);
    case OP_FSQRT_D: return PICK(soft, f64, sqrt)(a, rm, fl);
    case OP_FMADD_D: return PICK(soft, f64, madd)(a, b, c, rm, fl);
    case OP_FMSUB_D: return PICK(soft, f64, msub)(a, b, c, rm, fl);
    case OP_FNMSUB_D: return PICK(soft, f64, nmsub)(a, b, c, rm, fl);
    case OP_FNMADD_D: return PICK(soft, f64, nmadd)(a, b, c, rm, fl);
    case OP_FMIN_D: return fpu_f64_min(a, b, fl);
    case OP_FMAX_D: return fpu_f64_max(a, b, fl);
    case OP_FEQ_D: return (uint64_t)fpu_f64_eq(a, b, fl);
    case OP_FLT_D: return (uint64_t)fpu_f64_lt(a, b, fl);
    case OP_FLE_D: return (uint64_t)fpu_f64_le(a, b, fl);
    case OP_FCLASS_D: return fpu_f64_classify(a);
    case OP_FCVT_W_D: return (uint32_t)fpu_f64_to_i32(a, rm, fl);
    case OP_FCVT_WU_D: return fpu_f64_to_u32(a, rm, fl);
    case OP_FCVT_L_D: return (uint64_t)fpu_f64_to_i64(a, rm, fl);
    case OP_FCVT_LU_D: return fpu_f64_to_u64(a, rm, fl);
    case OP_FCVT_D_W: return fpu_f64_from_i32((int32_t)a32, rm, fl);
    case OP_FCVT_D_WU: return fpu_f64_from_u32(a32, rm, fl);
    case OP_FCVT_D_L: return fpu_f64_from_i64((int64_t)a, rm, fl);
    case OP_FCVT_D_LU: return fpu_f64_from_u64(a, rm, fl);
    case OP_FCVT_S_D: return soft ? fpu_soft_f64_to_f32(a, rm, fl) : fpu_f64_to_f32(a, rm, fl);
    case OP_FCVT_D_S: return fpu_f32_to_f64(a32, fl);
    default: return ~0ull;
    }
}

static int parse_line(char *s, vec_t *v)
{
    char *tok = strtok(s, " \n");
    if (!tok)
        return -1;
    int op;
    for (op = 0; op < N_OPS; op++)
        if (!strcmp(tok, op_names[op]))
            break;
    if (op == N_OPS)
        return -1;
    uint64_t f[6];
    for (int i = 0; i < 6; i++) {
        char *end;
        tok = strtok(NULL, " \n");
        if (!tok)
            return -1;
        f[i] = strtoull(tok, &end, i == 0 ? 10 : 16);
        if (*end)
            return -1;
    }
    if (f[0] > 4 || f[5] > 0x1f)
        return -1;
    v->op = (uint16_t)op;
    v->rm = (uint8_t)f[0];
    v->a = f[1];
    v->b = f[2];
    v->c = f[3];
    v->r = f[4];
    v->fl = (uint8_t)f[5];
    return 0;
}

static int load_vectors(void **state)
{
    (void)state;
    FILE *fp = fopen(vec_path, "r");
    if (!fp) {
        fprintf(stderr,
                "test_fpu: cannot open reference vectors %s; generate them with "
                "`make unit` (runs tests/fpu-ref/make-vectors.sh) or point FPU_VECTORS "
                "at the file\n",
                vec_path);
        return 0; /* the vector tests then fail with this message above */
    }
    size_t cap = 1 << 20, line_no = 0;
    char line[512];
    vecs = malloc(cap * sizeof *vecs);
    if (!vecs) {
        fclose(fp);
        return -1;
    }
    while (fgets(line, sizeof line, fp)) {
        line_no++;
        if (n_vecs == cap) {
            vec_t *nv = realloc(vecs, 2 * cap * sizeof *vecs);
            if (!nv) {
                fclose(fp);
                return -1;
            }
            vecs = nv;
            cap *= 2;
        }
        if (parse_line(line, &vecs[n_vecs]) < 0) {
            fprintf(stderr, "test_fpu: %s:%zu: malformed line\n", vec_path, line_no);
            fclose(fp);
            free(vecs);
            vecs = NULL;
            n_vecs = 0;
            return 0;
        }
        n_vecs++;
    }
    fclose(fp);
    return 0;
}

static int free_vectors(void **state)
{
    (void)state;
    free(vecs);
    vecs = NULL;
    return 0;
}

static void check_vectors(int soft)
{
    size_t bad = 0, checked = 0, per_op_bad[N_OPS] = {0}, per_op[N_OPS] = {0};
    assert_true(n_vecs > 0); /* see the message above if this fails */
    for (size_t i = 0; i < n_vecs; i++) {
        const vec_t *v = &vecs[i];
        if (soft && !has_soft(v->op))
            continue;
        uint32_t fl = 0;
        uint64_t r = run(v->op, soft, v->a, v->b, v->c, v->rm, &fl);
        checked++;
        per_op[v->op]++;
        if (r != v->r || fl != v->fl) {
            if (bad < 40)
                fprintf(stderr,
                        "MISMATCH (%s) %s rm=%d a=%llx b=%llx c=%llx: "
                        "want %llx fl=%02x, got %llx fl=%02x\n",
                        soft ? "soft" : "public", op_names[v->op], v->rm,
                        (unsigned long long)v->a, (unsigned long long)v->b,
                        (unsigned long long)v->c, (unsigned long long)v->r, v->fl,
                        (unsigned long long)r, fl);
            bad++;
            per_op_bad[v->op]++;
        }
    }
    for (int op = 0; op < N_OPS; op++)
        if (per_op_bad[op])
            fprintf(stderr, "  %s: %zu of %zu differ\n", op_names[op], per_op_bad[op],
                    per_op[op]);
    printf("[ fpu ] %s path (%s backend): %zu of %zu reference vectors match\n",
           soft ? "software" : "public", fpu_host_backend(), checked - bad, checked);
    assert_int_equal(bad, 0);
}

static void test_vectors_public(void **state)
{
    (void)state;
    check_vectors(0);
}

static void test_vectors_soft(void **state)
{
    (void)state;
    check_vectors(1);
}

/* ---- hand-written rules --------------------------------------------------- */

#define QNAN32 0x7fc00000u
#define SNAN32 0x7f800001u
#define ONE32 0x3f800000u
#define PINF32 0x7f800000u
#define NINF32 0xff800000u
#define PZERO32 0x00000000u
#define NZERO32 0x80000000u
#define ONE64 0x3ff0000000000000ull
#define QNAN64 0x7ff8000000000000ull
#define SNAN64 0x7ff0000000000001ull

/* Check one 32-bit result and its exact flags. */
#define EXPECT32(expr, want, want_fl)                                                 \
    do {                                                                              \
        uint32_t fl_ = 0;                                                             \
        uint32_t *fl = &fl_;                                                          \
        assert_int_equal((uint32_t)(expr), (uint32_t)(want));                         \
        assert_int_equal(fl_, (want_fl));                                             \
    } while (0)
#define EXPECT64(expr, want, want_fl)                                                 \
    do {                                                                              \
        uint32_t fl_ = 0;                                                             \
        uint32_t *fl = &fl_;                                                          \
        assert_int_equal((uint64_t)(expr), (uint64_t)(want));                         \
        assert_int_equal(fl_, (want_fl));                                             \
    } while (0)

static void test_nan_rules(void **state)
{
    (void)state;
    /* Any NaN result is canonical; payload and sign are not propagated. */
    EXPECT32(fpu_f32_add(0xffc12345u, ONE32, FPU_RNE, fl), FPU_F32_CANON_NAN, 0);
    EXPECT32(fpu_f32_mul(SNAN32, ONE32, FPU_RNE, fl), FPU_F32_CANON_NAN, FPU_NV);
    EXPECT32(fpu_f32_sub(PINF32, PINF32, FPU_RTZ, fl), FPU_F32_CANON_NAN, FPU_NV);
    EXPECT32(fpu_f32_sqrt(0xbf800000u, FPU_RNE, fl), FPU_F32_CANON_NAN, FPU_NV);
    EXPECT64(fpu_f64_div(0, 0x8000000000000000ull, FPU_RMM, fl), FPU_F64_CANON_NAN, FPU_NV);
    EXPECT64(fpu_f64_add(0xfff8000000000abcull, ONE64, FPU_RMM, fl), FPU_F64_CANON_NAN, 0);
    /* fcvt.d.s is exact but still canonicalises, NV only for sNaN */
    EXPECT64(fpu_f32_to_f64(SNAN32, fl), FPU_F64_CANON_NAN, FPU_NV);
    EXPECT64(fpu_f32_to_f64(0xffc00001u, fl), FPU_F64_CANON_NAN, 0);
    EXPECT32(fpu_f64_to_f32(SNAN64, FPU_RUP, fl), FPU_F32_CANON_NAN, FPU_NV);
    /* sqrt(-0) = -0 without flags */
    EXPECT32(fpu_f32_sqrt(NZERO32, FPU_RNE, fl), NZERO32, 0);
}

static void test_fma_inf_zero_qnan(void **state)
{
    (void)state;
    /* RISC-V: inf * 0 raises NV even when the addend is a quiet NaN. */
    EXPECT32(fpu_f32_madd(PINF32, PZERO32, QNAN32, FPU_RNE, fl), FPU_F32_CANON_NAN, FPU_NV);
    EXPECT32(fpu_f32_nmadd(PZERO32, NINF32, QNAN32, FPU_RMM, fl), FPU_F32_CANON_NAN, FPU_NV);
    EXPECT64(fpu_f64_msub(0x7ff0000000000000ull, 0, QNAN64, FPU_RNE, fl), FPU_F64_CANON_NAN,
             FPU_NV);
    /* A quiet NaN alone is quiet. */
    EXPECT32(fpu_f32_madd(QNAN32, PZERO32, ONE32, FPU_RNE, fl), FPU_F32_CANON_NAN, 0);
    EXPECT32(fpu_f32_madd(ONE32, ONE32, QNAN32, FPU_RNE, fl), FPU_F32_CANON_NAN, 0);
    /* inf - inf inside the fused operation */
    EXPECT32(fpu_f32_madd(PINF32, ONE32, NINF32, FPU_RNE, fl), FPU_F32_CANON_NAN, FPU_NV);
    /* exact zero: +0, or -0 under RDN */
    EXPECT32(fpu_f32_madd(ONE32, ONE32, 0xbf800000u, FPU_RNE, fl), PZERO32, 0);
    EXPECT32(fpu_f32_madd(ONE32, ONE32, 0xbf800000u, FPU_RDN, fl), NZERO32, 0);
    /* single rounding: (1+2^-12)^2 - 1 = 2^-11 + 2^-24 exactly; a rounded
     * product would lose the 2^-24 (a tie to even) and give 2^-11 */
    EXPECT32(fpu_f32_msub(0x3f800800u, 0x3f800800u, ONE32, FPU_RNE, fl), 0x3a000400u, 0);
    EXPECT32(fpu_soft_f32_msub(0x3f800800u, 0x3f800800u, ONE32, FPU_RNE, fl), 0x3a000400u, 0);
}

static void test_min_max(void **state)
{
    (void)state;
    EXPECT32(fpu_f32_min(QNAN32, ONE32, fl), ONE32, 0);
    EXPECT32(fpu_f32_max(ONE32, 0xffc00005u, fl), ONE32, 0);
    EXPECT32(fpu_f32_min(SNAN32, ONE32, fl), ONE32, FPU_NV);
    EXPECT32(fpu_f32_max(QNAN32, SNAN32, fl), FPU_F32_CANON_NAN, FPU_NV);
    EXPECT32(fpu_f32_min(0xffc00000u, 0x7fc00001u, fl), FPU_F32_CANON_NAN, 0);
    EXPECT32(fpu_f32_min(PZERO32, NZERO32, fl), NZERO32, 0);
    EXPECT32(fpu_f32_min(NZERO32, PZERO32, fl), NZERO32, 0);
    EXPECT32(fpu_f32_max(NZERO32, PZERO32, fl), PZERO32, 0);
    EXPECT32(fpu_f32_max(PZERO32, NZERO32, fl), PZERO32, 0);
    EXPECT64(fpu_f64_min(0x8000000000000000ull, 0, fl), 0x8000000000000000ull, 0);
    EXPECT64(fpu_f64_max(SNAN64, 0xbff0000000000000ull, fl), 0xbff0000000000000ull, FPU_NV);
}

static void test_compares(void **state)
{
    (void)state;
    EXPECT32(fpu_f32_eq(QNAN32, QNAN32, fl), 0, 0); /* quiet */
    EXPECT32(fpu_f32_eq(SNAN32, ONE32, fl), 0, FPU_NV);
    EXPECT32(fpu_f32_eq(PZERO32, NZERO32, fl), 1, 0);
    EXPECT32(fpu_f32_lt(QNAN32, ONE32, fl), 0, FPU_NV); /* signalling */
    EXPECT32(fpu_f32_le(ONE32, QNAN32, fl), 0, FPU_NV);
    EXPECT32(fpu_f32_lt(NZERO32, PZERO32, fl), 0, 0);
    EXPECT32(fpu_f32_le(NZERO32, PZERO32, fl), 1, 0);
    EXPECT32(fpu_f32_lt(NINF32, 0xff7fffffu, fl), 1, 0);
    EXPECT64(fpu_f64_lt(0xbff0000000000000ull, 0x8000000000000001ull, fl), 1, 0);
    EXPECT64(fpu_f64_le(QNAN64, QNAN64, fl), 0, FPU_NV);
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(fpu_f32_classify(NINF32), 1u << 0);
    assert_int_equal(fpu_f32_classify(0xbf800000u), 1u << 1);
    assert_int_equal(fpu_f32_classify(0x80000001u), 1u << 2);
    assert_int_equal(fpu_f32_classify(NZERO32), 1u << 3);
    assert_int_equal(fpu_f32_classify(PZERO32), 1u << 4);
    assert_int_equal(fpu_f32_classify(0x007fffffu), 1u << 5);
    assert_int_equal(fpu_f32_classify(ONE32), 1u << 6);
    assert_int_equal(fpu_f32_classify(PINF32), 1u << 7);
    assert_int_equal(fpu_f32_classify(SNAN32), 1u << 8);
    assert_int_equal(fpu_f32_classify(QNAN32), 1u << 9);
    assert_int_equal(fpu_f64_classify(0xfff0000000000001ull), 1u << 8);
    assert_int_equal(fpu_f64_classify(0x000fffffffffffffull), 1u << 5);
}

static void test_int_conversions(void **state)
{
    (void)state;
    /* NaN -> largest positive; infinities and overflow saturate; NV not NX */
    EXPECT32(fpu_f32_to_i32(QNAN32, FPU_RNE, fl), INT32_MAX, FPU_NV);
    EXPECT32(fpu_f32_to_i32(0xffc00000u, FPU_RNE, fl), INT32_MAX, FPU_NV); /* -NaN too */
    EXPECT32(fpu_f32_to_u32(QNAN32, FPU_RNE, fl), UINT32_MAX, FPU_NV);
    EXPECT64(fpu_f64_to_i64(QNAN64, FPU_RNE, fl), INT64_MAX, FPU_NV);
    EXPECT64(fpu_f64_to_u64(QNAN64, FPU_RNE, fl), UINT64_MAX, FPU_NV);
    EXPECT32(fpu_f32_to_i32(PINF32, FPU_RNE, fl), INT32_MAX, FPU_NV);
    EXPECT32(fpu_f32_to_i32(NINF32, FPU_RNE, fl), INT32_MIN, FPU_NV);
    EXPECT64(fpu_f32_to_u64(NINF32, FPU_RNE, fl), 0, FPU_NV);
    EXPECT32(fpu_f64_to_i32(0x41e0000000000000ull /* 2^31 */, FPU_RNE, fl), INT32_MAX, FPU_NV);
    EXPECT32(fpu_f64_to_i32(0xc1e0000000000000ull /* -2^31 */, FPU_RNE, fl), INT32_MIN, 0);
    /* -2^31 - 0.5: RNE ties to even -2^31 (valid, inexact); RDN overflows */
    EXPECT32(fpu_f64_to_i32(0xc1e0000000100000ull, FPU_RNE, fl), INT32_MIN, FPU_NX);
    EXPECT32(fpu_f64_to_i32(0xc1e0000000100000ull, FPU_RDN, fl), INT32_MIN, FPU_NV);
    EXPECT32(fpu_f64_to_u32(0x41efffffffe00000ull /* 2^32 - 1 */, FPU_RNE, fl), UINT32_MAX,
             0);
    EXPECT32(fpu_f64_to_u32(0x41effffffff00000ull /* 2^32 - 0.5 */, FPU_RNE, fl), UINT32_MAX,
             FPU_NV);
    /* unsigned: negative values that round to 0 are valid, only inexact */
    EXPECT32(fpu_f32_to_u32(0xbe99999au /* -0.3 */, FPU_RTZ, fl), 0, FPU_NX);
    EXPECT32(fpu_f32_to_u32(0xbf000000u /* -0.5 */, FPU_RNE, fl), 0, FPU_NX);
    EXPECT32(fpu_f32_to_u32(0xbf000000u /* -0.5 */, FPU_RMM, fl), 0, FPU_NV);
    EXPECT32(fpu_f32_to_u32(0xbf333333u /* -0.7 */, FPU_RNE, fl), 0, FPU_NV);
    EXPECT32(fpu_f32_to_u32(0xbe99999au /* -0.3 */, FPU_RDN, fl), 0, FPU_NV);
    EXPECT32(fpu_f32_to_u32(NZERO32, FPU_RNE, fl), 0, 0);
    /* the five modes on +-2.5 */
    EXPECT32(fpu_f32_to_i32(0x40200000u, FPU_RNE, fl), 2, FPU_NX);
    EXPECT32(fpu_f32_to_i32(0x40200000u, FPU_RMM, fl), 3, FPU_NX);
    EXPECT32(fpu_f32_to_i32(0xc0200000u, FPU_RMM, fl), -3, FPU_NX);
    EXPECT32(fpu_f32_to_i32(0xc0200000u, FPU_RTZ, fl), -2, FPU_NX);
    EXPECT32(fpu_f32_to_i32(0xc0200000u, FPU_RDN, fl), -3, FPU_NX);
    EXPECT32(fpu_f32_to_i32(0xc0200000u, FPU_RUP, fl), -2, FPU_NX);
    /* from integers */
    EXPECT32(fpu_f32_from_i32(0x01000001, FPU_RNE, fl), 0x4b800000u, FPU_NX);
    EXPECT32(fpu_f32_from_i32(0x01000001, FPU_RMM, fl), 0x4b800001u, FPU_NX);
    EXPECT32(fpu_f32_from_u64(UINT64_MAX, FPU_RTZ, fl), 0x5f7fffffu, FPU_NX);
    EXPECT32(fpu_f32_from_u64(UINT64_MAX, FPU_RNE, fl), 0x5f800000u, FPU_NX);
    EXPECT64(fpu_f64_from_i64(INT64_MIN, FPU_RNE, fl), 0xc3e0000000000000ull, 0);
    EXPECT64(fpu_f64_from_i32(-1, FPU_RNE, fl), 0xbff0000000000000ull, 0);
    EXPECT64(fpu_f64_from_u32(0, FPU_RDN, fl), 0, 0); /* +0 even under RDN */
}

static void test_rmm(void **state)
{
    (void)state;
    /* 1 + 2^-24 is exactly halfway: RNE keeps 1 (even), RMM goes away */
    EXPECT32(fpu_f32_add(ONE32, 0x33800000u, FPU_RNE, fl), ONE32, FPU_NX);
    EXPECT32(fpu_f32_add(ONE32, 0x33800000u, FPU_RMM, fl), 0x3f800001u, FPU_NX);
    EXPECT32(fpu_f32_sub(0xbf800000u, 0x33800000u, FPU_RMM, fl), 0xbf800001u, FPU_NX);
    /* below halfway stays */
    EXPECT32(fpu_f32_add(ONE32, 0x33000000u, FPU_RMM, fl), ONE32, FPU_NX);
    /* RMM overflows to infinity */
    EXPECT32(fpu_f32_mul(0x7f7fffffu, 0x40000000u, FPU_RMM, fl), PINF32, FPU_OF | FPU_NX);
    /* a halfway subnormal: 1.5 * 2^-149 */
    EXPECT32(fpu_f32_mul(0x00000003u, 0x3f000000u, FPU_RMM, fl), 0x00000002u,
             FPU_UF | FPU_NX);
    EXPECT32(fpu_f32_mul(0x00000003u, 0x3f000000u, FPU_RNE, fl), 0x00000002u,
             FPU_UF | FPU_NX);
    EXPECT32(fpu_f32_mul(0x00000001u, 0x3f000000u, FPU_RMM, fl), 0x00000001u,
             FPU_UF | FPU_NX);
    EXPECT32(fpu_f32_mul(0x00000001u, 0x3f000000u, FPU_RNE, fl), 0, FPU_UF | FPU_NX);
}

static void test_underflow_after_rounding(void **state)
{
    (void)state;
    /* 2^-126 (1 - 2^-25): rounded to 24 bits with unbounded exponent it is
     * 2^-126 under RNE (a tie to even), so it is not tiny: no UF. Under RTZ
     * it stays below 2^-126: tiny and inexact, UF. */
    EXPECT32(fpu_f64_to_f32(0x380ffffff0000000ull, FPU_RNE, fl), 0x00800000u, FPU_NX);
    EXPECT32(fpu_f64_to_f32(0x380ffffff0000000ull, FPU_RTZ, fl), 0x007fffffu,
             FPU_UF | FPU_NX);
    EXPECT32(fpu_soft_f64_to_f32(0x380ffffff0000000ull, FPU_RNE, fl), 0x00800000u, FPU_NX);
    EXPECT32(fpu_f64_to_f32(0x380ffffff0000000ull, FPU_RMM, fl), 0x00800000u, FPU_NX);
    /* 2^-126 (1 - 2^-24) is exact at 24 bits: tiny although it rounds to
     * 2^-126 on the subnormal grid. */
    EXPECT32(fpu_f32_mul(0x00800000u, 0x3f7fffffu, FPU_RNE, fl), 0x00800000u,
             FPU_UF | FPU_NX);
    /* exact subnormal results raise nothing */
    EXPECT32(fpu_f32_mul(0x00800000u, 0x3f000000u, FPU_RNE, fl), 0x00400000u, 0);
    EXPECT64(fpu_f64_sub(0x0010000000000001ull, 0x0010000000000000ull, FPU_RNE, fl), 1, 0);
}

static void test_overflow_and_dz(void **state)
{
    (void)state;
    EXPECT32(fpu_f32_mul(0x7f7fffffu, 0x40000000u, FPU_RNE, fl), PINF32, FPU_OF | FPU_NX);
    EXPECT32(fpu_f32_mul(0x7f7fffffu, 0x40000000u, FPU_RTZ, fl), 0x7f7fffffu,
             FPU_OF | FPU_NX);
    EXPECT32(fpu_f32_mul(0xff7fffffu, 0x40000000u, FPU_RUP, fl), 0xff7fffffu,
             FPU_OF | FPU_NX);
    EXPECT32(fpu_f32_mul(0xff7fffffu, 0x40000000u, FPU_RDN, fl), NINF32, FPU_OF | FPU_NX);
    EXPECT32(fpu_f32_div(ONE32, NZERO32, FPU_RNE, fl), NINF32, FPU_DZ);
    EXPECT32(fpu_f32_div(PINF32, PZERO32, FPU_RNE, fl), PINF32, 0); /* not DZ */
    EXPECT32(fpu_f32_div(PZERO32, PZERO32, FPU_RNE, fl), FPU_F32_CANON_NAN, FPU_NV);
    EXPECT64(fpu_f64_div(ONE64, 0, FPU_RMM, fl), 0x7ff0000000000000ull, FPU_DZ);
}

static void test_zero_signs(void **state)
{
    (void)state;
    EXPECT32(fpu_f32_sub(ONE32, ONE32, FPU_RNE, fl), PZERO32, 0);
    EXPECT32(fpu_f32_sub(ONE32, ONE32, FPU_RDN, fl), NZERO32, 0);
    EXPECT32(fpu_f32_add(NZERO32, PZERO32, FPU_RNE, fl), PZERO32, 0);
    EXPECT32(fpu_f32_add(NZERO32, PZERO32, FPU_RDN, fl), NZERO32, 0);
    EXPECT32(fpu_f32_add(NZERO32, NZERO32, FPU_RUP, fl), NZERO32, 0);
    EXPECT64(fpu_f64_sub(ONE64, ONE64, FPU_RMM, fl), 0, 0);
    /* -(0*1) - 0 = -0 */
    EXPECT32(fpu_f32_nmadd(PZERO32, ONE32, PZERO32, FPU_RNE, fl), NZERO32, 0);
}

/* The caller is an interpreter running host code between our calls: the
 * host must be back in round-to-nearest whatever mode we used. */
static void test_host_env_restored(void **state)
{
    (void)state;
    uint32_t fl = 0;
    for (int rm = 0; rm <= FPU_RMM; rm++) {
        fpu_f64_add(ONE64, 0x3c00000000000000ull, rm, &fl);
        fpu_f32_madd(ONE32, ONE32, 0x33800000u, rm, &fl);
        fpu_f64_to_f32(0x3ff0000010000000ull, rm, &fl);
        fpu_f32_sqrt(0x40000000u, rm, &fl);
        assert_int_equal(fegetround(), FE_TONEAREST);
        volatile double one = 1.0, tiny = 0x1p-53, up = 0x1.0000000000001p-53;
        assert_true(one + tiny == 1.0);          /* tie to even */
        assert_true(one + up == 0x1.0000000000001p0); /* rounds up */
        assert_true(-one - up == -0x1.0000000000001p0);
    }
}

/* ---- host path against software path ------------------------------------- */

static uint64_t rng = 0x0123456789abcdefull;
static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Random operand: any bits, or an exponent near the interesting edges. */
static uint64_t rnd_f(int is64)
{
    uint64_t r = rnd(), m = rnd();
    int sel = (int)(r & 7);
    if (is64) {
        int e = sel < 2 ? (int)((r >> 8) % 2047) : sel < 4 ? 1023 - 8 + (int)((r >> 8) % 16)
                : sel < 5 ? (int)((r >> 8) % 60) : sel < 6 ? 2046 - (int)((r >> 8) % 60)
                                                : -1;
        if (e < 0)
            return m;
        return (m & 0x800fffffffffffffull) | ((uint64_t)e << 52);
    }
    int e = sel < 2 ? (int)((r >> 8) % 255) : sel < 4 ? 127 - 8 + (int)((r >> 8) % 16)
            : sel < 5 ? (int)((r >> 8) % 30) : sel < 6 ? 254 - (int)((r >> 8) % 30) : -1;
    if (e < 0)
        return (uint32_t)m;
    return ((uint32_t)m & 0x807fffffu) | ((uint32_t)e << 23);
}

static void test_host_vs_soft_random(void **state)
{
    (void)state;
    static const int ops[] = {OP_FADD_S, OP_FSUB_S, OP_FMUL_S, OP_FDIV_S, OP_FSQRT_S,
                              OP_FMADD_S, OP_FNMSUB_S, OP_FADD_D, OP_FSUB_D, OP_FMUL_D,
                              OP_FDIV_D, OP_FSQRT_D, OP_FMADD_D, OP_FMSUB_D, OP_FNMADD_D,
                              OP_FCVT_S_D};
    /* FPU_RANDOM_N raises the count for a deeper one-off run. */
    const char *env = getenv("FPU_RANDOM_N");
    const int n = env && atoi(env) > 0 ? atoi(env) : 40000;
    size_t bad = 0, total = 0;
    for (unsigned k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        int op = ops[k], is64 = op >= OP_FADD_D;
        for (int i = 0; i < n; i++) {
            uint64_t a = rnd_f(is64), b = rnd_f(is64), c = rnd_f(is64);
            if ((i & 3) == 0 && (op == OP_FMADD_S || op == OP_FMADD_D)) {
                /* nearly cancelling addend */
                uint32_t f0 = 0;
                c = run(is64 ? OP_FMUL_D : OP_FMUL_S, 1, a, b, 0, FPU_RNE, &f0);
                c ^= is64 ? 0x8000000000000000ull : 0x80000000u;
                c += rnd() % 5 - 2;
            }
            int rm = (int)(rnd() % 5);
            uint32_t fh = 0, fs = 0;
            uint64_t rh = run(op, 0, a, b, c, rm, &fh);
            uint64_t rs = run(op, 1, a, b, c, rm, &fs);
            total++;
            if (rh != rs || fh != fs) {
                if (bad < 20)
                    fprintf(stderr,
                            "host/soft differ: %s rm=%d a=%llx b=%llx c=%llx: host %llx "
                            "fl=%02x, soft %llx fl=%02x\n",
                            op_names[op], rm, (unsigned long long)a, (unsigned long long)b,
                            (unsigned long long)c, (unsigned long long)rh, fh,
                            (unsigned long long)rs, fs);
                bad++;
            }
        }
    }
    printf("[ fpu ] host vs software, random operands: %zu of %zu agree\n", total - bad,
           total);
    assert_int_equal(bad, 0);
}

int main(int argc, char **argv)
{
    const char *env = getenv("FPU_VECTORS");
    if (env && *env) {
        snprintf(vec_path, sizeof vec_path, "%s", env);
    } else if (argc > 1) {
        snprintf(vec_path, sizeof vec_path, "%s", argv[1]);
    } else {
        const char *slash = strrchr(argv[0], '/');
        int dirlen = slash ? (int)(slash - argv[0]) : 1;
        snprintf(vec_path, sizeof vec_path, "%.*s/fpu_vectors.txt", dirlen,
                 slash ? argv[0] : ".");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nan_rules),
        cmocka_unit_test(test_fma_inf_zero_qnan),
        cmocka_unit_test(test_min_max),
        cmocka_unit_test(test_compares),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_int_conversions),
        cmocka_unit_test(test_rmm),
        cmocka_unit_test(test_underflow_after_rounding),
        cmocka_unit_test(test_overflow_and_dz),
        cmocka_unit_test(test_zero_signs),
        cmocka_unit_test(test_host_env_restored),
        cmocka_unit_test(test_host_vs_soft_random),
        cmocka_unit_test(test_vectors_public),
        cmocka_unit_test(test_vectors_soft),
    };
    return cmocka_run_group_tests(tests, load_vectors, free_vectors);
}
