/* Internal to the FPU module (src/engine/riscv/fpu*.c) and its unit test.
 *
 * The software path: exact integer implementations of the operations that
 * fpu.c otherwise runs on the host FPU. fpu.c falls back to these for RMM,
 * for NaN operands of fused multiply-add, when the host cannot do an
 * operation, and (on hosts whose underflow detection differs from RISC-V)
 * for tiny results. Same contract as include/condo/riscv_fpu.h; exported so
 * tests/unit/test_fpu.c can check them against the reference vectors on
 * every rounding mode, not only RMM. The operations not listed here (min,
 * max, compares, classify, integer conversions, fcvt.d.s) exist only in
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

/* Which implementation fpu.c selected at build time ("sse", "fenv" or
 * "soft"), for test logs and docs. */
const char *fpu_host_backend(void);

#endif
