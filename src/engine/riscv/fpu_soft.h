/* Internal to the FPU module (src/engine/riscv/fpu*.c) and its unit test.
 *
 * The software path: exact integer implementations of the operations that
 * fpu.c otherwise computes on the host FPU. fpu.c falls back to these for
 * the cases its error-free transformations do not cover (NaN and infinite
 * operands, division by zero, overflow, results near or below the smallest
 * normal, huge operands) and, on hosts without a hardware fused
 * multiply-add, for mul, div, sqrt and the fused operations. Same contract
 * as include/condo/riscv_fpu.h; exported so tests/unit/test_fpu.c can check
 * them against the reference vectors on every input, not only on the ones
 * fpu.c happens to send here. The operations not listed (min, max,
 * compares, classify, integer conversions, fcvt.d.s) exist only in
 * software and are defined in fpu_soft.c under their public names. */
#ifndef CONDO_RISCV_FPU_SOFT_H
#define CONDO_RISCV_FPU_SOFT_H

#include <stdint.h>

#define FPU_SOFT_DECLARE(T, P)                                                         \
    T fpu_soft_##P##_add(T a, T b, int rm, uint32_t *fflags);                          \
    T fpu_soft_##P##_sub(T a, T b, int rm, uint32_t *fflags);                          \
    T fpu_soft_##P##_mul(T a, T b, int rm, uint32_t *fflags);                          \
    T fpu_soft_##P##_div(T a, T b, int rm, uint32_t *fflags);                          \
    T fpu_soft_##P##_sqrt(T a, int rm, uint32_t *fflags);                              \
    T fpu_soft_##P##_madd(T a, T b, T c, int rm, uint32_t *fflags);                    \
    T fpu_soft_##P##_msub(T a, T b, T c, int rm, uint32_t *fflags);                    \
    T fpu_soft_##P##_nmsub(T a, T b, T c, int rm, uint32_t *fflags);                   \
    T fpu_soft_##P##_nmadd(T a, T b, T c, int rm, uint32_t *fflags);

FPU_SOFT_DECLARE(uint32_t, f32)
FPU_SOFT_DECLARE(uint64_t, f64)
#undef FPU_SOFT_DECLARE

uint32_t fpu_soft_f64_to_f32(uint64_t a, int rm, uint32_t *fflags);

/* Which path fpu.c uses on this host and build, for test logs. */
const char *fpu_host_backend(void);

#endif
