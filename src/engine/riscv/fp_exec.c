/* The F and D instructions other than loads and stores, one at a time:
 * the single definition of their semantics. The interpreter runs them
 * through here, and compiled code calls here whenever its inline fast path
 * does not apply (another rounding mode, a flag that may need raising, a
 * NaN, ...), so the two can never disagree about a result or a flag.
 *
 * Checks come first and change nothing: with FS off, or a rounding-mode
 * field (or frm, for the dynamic mode) that names no mode, the function
 * returns -1 and the caller raises an illegal-instruction exception. */
#include "condo/riscv_fpu.h"
#include "internal.h"

static inline uint32_t unbox_s(uint64_t v)
{
    return (v >> 32) == 0xffffffffu ? (uint32_t)v : FPU_F32_CANON_NAN;
}

static inline uint64_t box_s(uint32_t v)
{
    return 0xffffffff00000000ull | v;
}

static inline uint64_t sx32(uint64_t v)
{
    return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
}

/* Whether the op takes a rounding mode (its rm field must then be valid). */
static bool uses_rm(unsigned op)
{
    switch (op) {
    case OP_FSGNJ_S: case OP_FSGNJN_S: case OP_FSGNJX_S: case OP_FMIN_S: case OP_FMAX_S:
    case OP_FSGNJ_D: case OP_FSGNJN_D: case OP_FSGNJX_D: case OP_FMIN_D: case OP_FMAX_D:
    case OP_FMV_X_W: case OP_FMV_X_D: case OP_FMV_W_X: case OP_FMV_D_X:
    case OP_FEQ_S: case OP_FLT_S: case OP_FLE_S: case OP_FEQ_D: case OP_FLT_D: case OP_FLE_D:
    case OP_FCLASS_S: case OP_FCLASS_D:
        return false;
    default:
        return true;
    }
}

int riscv_fp_exec(struct riscv_cpu *cpu, const struct rv_insn *in)
{
    uint64_t *f = cpu->f, *x = cpu->x;
    uint32_t *fl = &cpu->fflags;
    unsigned op = in->op;
    int rm = 0;
    cpu->fp_exec_calls++;
    if (unlikely(!(cpu->mstatus & MSTATUS_FS)))
        return -1;
    if (uses_rm(op)) {
        rm = in->rm == 7 ? (int)cpu->frm : in->rm;
        if (unlikely(rm > 4))
            return -1;
    }
    const uint32_t s1 = unbox_s(f[in->rs1]), s2 = unbox_s(f[in->rs2]), s3 = unbox_s(f[in->rs3]);
    const uint64_t d1 = f[in->rs1], d2 = f[in->rs2], d3 = f[in->rs3];
    const uint64_t r1 = x[in->rs1];
    uint64_t *fd = &f[in->rd];
    uint64_t *xd = &x[in->rd]; /* rd = 32 for x0: the interpreter's sink */
    bool dirty = true;

    switch (op) {
    case OP_FMADD_S: *fd = box_s(fpu_f32_madd(s1, s2, s3, rm, fl)); break;
    case OP_FMSUB_S: *fd = box_s(fpu_f32_msub(s1, s2, s3, rm, fl)); break;
    case OP_FNMSUB_S: *fd = box_s(fpu_f32_nmsub(s1, s2, s3, rm, fl)); break;
    case OP_FNMADD_S: *fd = box_s(fpu_f32_nmadd(s1, s2, s3, rm, fl)); break;
    case OP_FMADD_D: *fd = fpu_f64_madd(d1, d2, d3, rm, fl); break;
    case OP_FMSUB_D: *fd = fpu_f64_msub(d1, d2, d3, rm, fl); break;
    case OP_FNMSUB_D: *fd = fpu_f64_nmsub(d1, d2, d3, rm, fl); break;
    case OP_FNMADD_D: *fd = fpu_f64_nmadd(d1, d2, d3, rm, fl); break;
    case OP_FADD_S: *fd = box_s(fpu_f32_add(s1, s2, rm, fl)); break;
    case OP_FSUB_S: *fd = box_s(fpu_f32_sub(s1, s2, rm, fl)); break;
    case OP_FMUL_S: *fd = box_s(fpu_f32_mul(s1, s2, rm, fl)); break;
    case OP_FDIV_S: *fd = box_s(fpu_f32_div(s1, s2, rm, fl)); break;
    case OP_FADD_D: *fd = fpu_f64_add(d1, d2, rm, fl); break;
    case OP_FSUB_D: *fd = fpu_f64_sub(d1, d2, rm, fl); break;
    case OP_FMUL_D: *fd = fpu_f64_mul(d1, d2, rm, fl); break;
    case OP_FDIV_D: *fd = fpu_f64_div(d1, d2, rm, fl); break;
    case OP_FSQRT_S: *fd = box_s(fpu_f32_sqrt(s1, rm, fl)); break;
    case OP_FSQRT_D: *fd = fpu_f64_sqrt(d1, rm, fl); break;

    case OP_FSGNJ_S: *fd = box_s((s1 & 0x7fffffffu) | (s2 & 0x80000000u)); break;
    case OP_FSGNJN_S: *fd = box_s((s1 & 0x7fffffffu) | (~s2 & 0x80000000u)); break;
    case OP_FSGNJX_S: *fd = box_s(s1 ^ (s2 & 0x80000000u)); break;
    case OP_FSGNJ_D: *fd = (d1 & ~(1ull << 63)) | (d2 & (1ull << 63)); break;
    case OP_FSGNJN_D: *fd = (d1 & ~(1ull << 63)) | (~d2 & (1ull << 63)); break;
    case OP_FSGNJX_D: *fd = d1 ^ (d2 & (1ull << 63)); break;
    case OP_FMIN_S: *fd = box_s(fpu_f32_min(s1, s2, fl)); break;
    case OP_FMAX_S: *fd = box_s(fpu_f32_max(s1, s2, fl)); break;
    case OP_FMIN_D: *fd = fpu_f64_min(d1, d2, fl); break;
    case OP_FMAX_D: *fd = fpu_f64_max(d1, d2, fl); break;

    case OP_FCVT_W_S: *xd = (uint64_t)(int64_t)fpu_f32_to_i32(s1, rm, fl); break;
    case OP_FCVT_WU_S: *xd = sx32(fpu_f32_to_u32(s1, rm, fl)); break;
    case OP_FCVT_L_S: *xd = (uint64_t)fpu_f32_to_i64(s1, rm, fl); break;
    case OP_FCVT_LU_S: *xd = fpu_f32_to_u64(s1, rm, fl); break;
    case OP_FCVT_W_D: *xd = (uint64_t)(int64_t)fpu_f64_to_i32(d1, rm, fl); break;
    case OP_FCVT_WU_D: *xd = sx32(fpu_f64_to_u32(d1, rm, fl)); break;
    case OP_FCVT_L_D: *xd = (uint64_t)fpu_f64_to_i64(d1, rm, fl); break;
    case OP_FCVT_LU_D: *xd = fpu_f64_to_u64(d1, rm, fl); break;
    case OP_FMV_X_W: *xd = sx32(d1); dirty = false; break;
    case OP_FMV_X_D: *xd = d1; dirty = false; break;
    case OP_FEQ_S: *xd = (uint64_t)fpu_f32_eq(s1, s2, fl); break;
    case OP_FLT_S: *xd = (uint64_t)fpu_f32_lt(s1, s2, fl); break;
    case OP_FLE_S: *xd = (uint64_t)fpu_f32_le(s1, s2, fl); break;
    case OP_FEQ_D: *xd = (uint64_t)fpu_f64_eq(d1, d2, fl); break;
    case OP_FLT_D: *xd = (uint64_t)fpu_f64_lt(d1, d2, fl); break;
    case OP_FLE_D: *xd = (uint64_t)fpu_f64_le(d1, d2, fl); break;
    case OP_FCLASS_S: *xd = fpu_f32_classify(s1); dirty = false; break;
    case OP_FCLASS_D: *xd = fpu_f64_classify(d1); dirty = false; break;
    case OP_FCVT_S_W: *fd = box_s(fpu_f32_from_i32((int32_t)r1, rm, fl)); break;
    case OP_FCVT_S_WU: *fd = box_s(fpu_f32_from_u32((uint32_t)r1, rm, fl)); break;
    case OP_FCVT_S_L: *fd = box_s(fpu_f32_from_i64((int64_t)r1, rm, fl)); break;
    case OP_FCVT_S_LU: *fd = box_s(fpu_f32_from_u64(r1, rm, fl)); break;
    case OP_FCVT_D_W: *fd = fpu_f64_from_i32((int32_t)r1, rm, fl); break;
    case OP_FCVT_D_WU: *fd = fpu_f64_from_u32((uint32_t)r1, rm, fl); break;
    case OP_FCVT_D_L: *fd = fpu_f64_from_i64((int64_t)r1, rm, fl); break;
    case OP_FCVT_D_LU: *fd = fpu_f64_from_u64(r1, rm, fl); break;
    case OP_FMV_W_X: *fd = box_s((uint32_t)r1); break;
    case OP_FMV_D_X: *fd = r1; break;
    case OP_FCVT_S_D: *fd = box_s(fpu_f64_to_f32(d1, rm, fl)); break;
    case OP_FCVT_D_S: *fd = fpu_f32_to_f64(s1, fl); break;
    default:
        return -1; /* not an F/D operation: cannot happen */
    }
    if (dirty)
        cpu->mstatus |= MSTATUS_FS_DIRTY;
    return 0;
}
