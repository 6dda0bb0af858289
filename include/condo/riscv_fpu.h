/* IEEE 754 binary32/binary64 arithmetic with RISC-V semantics (F and D):
 * exact results under all five rounding modes, the five exception flags,
 * canonical NaN results (0x7fc00000 / 0x7ff8000000000000), RISC-V
 * saturating float->int conversions, fmin/fmax as minimumNumber/
 * maximumNumber (IEEE 754-2019) and signalling/quiet compares as in the ISA.
 *
 * Values are raw bit patterns. NaN-boxing of single values in 64-bit
 * registers is the caller's job (the engine unboxes before, boxes after).
 * `rm` is an already-resolved rounding mode (FPU_RNE..FPU_RMM; the engine
 * resolves DYN from frm and rejects 5/6/7). Exception flags are ORed into
 * *fflags using the fcsr bit layout below. */
#ifndef CONDO_RISCV_FPU_H
#define CONDO_RISCV_FPU_H

#include <stdint.h>

enum { FPU_RNE = 0, FPU_RTZ = 1, FPU_RDN = 2, FPU_RUP = 3, FPU_RMM = 4 };

#define FPU_NX 0x01u /* inexact */
#define FPU_UF 0x02u /* underflow */
#define FPU_OF 0x04u /* overflow */
#define FPU_DZ 0x08u /* divide by zero */
#define FPU_NV 0x10u /* invalid */

#define FPU_F32_CANON_NAN 0x7fc00000u
#define FPU_F64_CANON_NAN 0x7ff8000000000000ull

#define FPU_DECLARE(T, P)                                                              \
    T fpu_##P##_add(T a, T b, int rm, uint32_t *fflags);                               \
    T fpu_##P##_sub(T a, T b, int rm, uint32_t *fflags);                               \
    T fpu_##P##_mul(T a, T b, int rm, uint32_t *fflags);                               \
    T fpu_##P##_div(T a, T b, int rm, uint32_t *fflags);                               \
    T fpu_##P##_sqrt(T a, int rm, uint32_t *fflags);                                   \
    /* fused: madd = a*b+c, msub = a*b-c, nmsub = -(a*b)+c, nmadd = -(a*b)-c */       \
    T fpu_##P##_madd(T a, T b, T c, int rm, uint32_t *fflags);                         \
    T fpu_##P##_msub(T a, T b, T c, int rm, uint32_t *fflags);                         \
    T fpu_##P##_nmsub(T a, T b, T c, int rm, uint32_t *fflags);                        \
    T fpu_##P##_nmadd(T a, T b, T c, int rm, uint32_t *fflags);                        \
    T fpu_##P##_min(T a, T b, uint32_t *fflags);                                       \
    T fpu_##P##_max(T a, T b, uint32_t *fflags);                                       \
    int fpu_##P##_eq(T a, T b, uint32_t *fflags); /* quiet */                          \
    int fpu_##P##_lt(T a, T b, uint32_t *fflags); /* signalling */                     \
    int fpu_##P##_le(T a, T b, uint32_t *fflags); /* signalling */                     \
    uint32_t fpu_##P##_classify(T a);             /* fclass bit mask */                \
    int32_t fpu_##P##_to_i32(T a, int rm, uint32_t *fflags);                           \
    uint32_t fpu_##P##_to_u32(T a, int rm, uint32_t *fflags);                          \
    int64_t fpu_##P##_to_i64(T a, int rm, uint32_t *fflags);                           \
    uint64_t fpu_##P##_to_u64(T a, int rm, uint32_t *fflags);                          \
    T fpu_##P##_from_i32(int32_t v, int rm, uint32_t *fflags);                         \
    T fpu_##P##_from_u32(uint32_t v, int rm, uint32_t *fflags);                        \
    T fpu_##P##_from_i64(int64_t v, int rm, uint32_t *fflags);                         \
    T fpu_##P##_from_u64(uint64_t v, int rm, uint32_t *fflags);

FPU_DECLARE(uint32_t, f32)
FPU_DECLARE(uint64_t, f64)
#undef FPU_DECLARE

uint64_t fpu_f32_to_f64(uint32_t a, uint32_t *fflags);
uint32_t fpu_f64_to_f32(uint64_t a, int rm, uint32_t *fflags);

#endif
