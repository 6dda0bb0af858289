/* A small x86-64 instruction encoder for the template JIT: just the forms
 * jit_x86_64.c uses. Every emitter writes through jit_emit_byte(), which
 * refuses to run past the end of the buffer (the compile is then dropped),
 * so a wrong size estimate can never overwrite foreign memory. */
#ifndef CONDO_RISCV_JIT_X86_64_EMIT_H
#define CONDO_RISCV_JIT_X86_64_EMIT_H

#include <stdbool.h>
#include <stdint.h>

enum {
    RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
    R8, R9, R10, R11, R12, R13, R14, R15,
};

/* condition codes (low nibble of Jcc/SETcc/CMOVcc) */
enum {
    CC_O = 0x0, CC_NO = 0x1, CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5,
    CC_BE = 0x6, CC_A = 0x7, CC_S = 0x8, CC_NS = 0x9, CC_P = 0xa, CC_NP = 0xb, CC_L = 0xc, CC_GE = 0xd,
    CC_LE = 0xe, CC_G = 0xf,
};

/* group-1 ALU operations: the /digit of 81/83 and bits 5:3 of the r,r/m
 * opcode (op*8 + 3 is "op r, r/m") */
enum { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };

/* shift group: /digit of C1 and D3 */
enum { SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

/* group-3 unary operations: /digit of F7 */
enum { U_NOT = 2, U_NEG = 3, U_MUL = 4, U_IMUL = 5, U_DIV = 6, U_IDIV = 7 };

struct jit_emit {
    uint8_t *p, *end;
    bool overflow;
};

/* An r/m operand: a register, or memory [base + index*scale + disp], or
 * RIP-relative memory [abs] (base JIT_RIP; only in instructions without a
 * trailing immediate, as the displacement counts from the disp's end). */
#define JIT_RIP 16
struct jit_rm {
    int8_t reg;   /* >= 0: register operand */
    int8_t base;  /* memory base register, or JIT_RIP */
    int8_t index; /* < 0: none */
    uint8_t scale_log2;
    int32_t disp;
    const void *abs; /* JIT_RIP: the address */
};

static inline struct jit_rm jit_r(int reg)
{
    return (struct jit_rm){ .reg = (int8_t)reg, .base = -1, .index = -1 };
}

static inline struct jit_rm jit_m(int base, int32_t disp)
{
    return (struct jit_rm){ .reg = -1, .base = (int8_t)base, .index = -1, .disp = disp };
}

static inline struct jit_rm jit_mi(int base, int index, unsigned scale_log2, int32_t disp)
{
    return (struct jit_rm){ .reg = -1, .base = (int8_t)base, .index = (int8_t)index,
                            .scale_log2 = (uint8_t)scale_log2, .disp = disp };
}

static inline struct jit_rm jit_rip(const void *abs)
{
    return (struct jit_rm){ .reg = -1, .base = JIT_RIP, .index = -1, .abs = abs };
}

static inline void jit_emit_byte(struct jit_emit *e, uint8_t v)
{
    if (e->p < e->end)
        *e->p++ = v;
    else
        e->overflow = true;
}

static inline void jit_emit32(struct jit_emit *e, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        jit_emit_byte(e, (uint8_t)(v >> (8 * i)));
}

static inline void jit_emit64(struct jit_emit *e, uint64_t v)
{
    jit_emit32(e, (uint32_t)v);
    jit_emit32(e, (uint32_t)(v >> 32));
}

static inline bool jit_fits_i8(int64_t v)
{
    return v >= -128 && v <= 127;
}

static inline bool jit_fits_i32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

/* Flags for jit_op() */
#define JIT_W 1u      /* REX.W: 64-bit operand size */
#define JIT_BYTE 2u   /* byte operand: always emit a REX so regs 4-7 are spl..dil */
#define JIT_OPSIZE 4u /* 0x66 prefix: 16-bit operand size */

/* ModRM [SIB] [disp] for "reg, rm" (reg: a register number or a /digit). */
static inline void jit_modrm(struct jit_emit *e, int reg, struct jit_rm rm)
{
    uint8_t r = (uint8_t)((reg & 7) << 3);
    if (rm.reg >= 0) {
        jit_emit_byte(e, (uint8_t)(0xc0 | r | (rm.reg & 7)));
        return;
    }
    if (rm.base == JIT_RIP) {
        jit_emit_byte(e, (uint8_t)(r | 5)); /* mod 00, rm 101: [rip + disp32] */
        int64_t d = (const uint8_t *)rm.abs - (e->p + 4);
        if (!jit_fits_i32(d))
            e->overflow = true; /* cannot happen: data and code share one buffer */
        jit_emit32(e, (uint32_t)(int32_t)d);
        return;
    }
    unsigned mod;
    /* base rbp/r13 has no mod=00 form (that encodes rip/disp32) */
    if (rm.disp == 0 && (rm.base & 7) != RBP)
        mod = 0;
    else if (jit_fits_i8(rm.disp))
        mod = 1;
    else
        mod = 2;
    if (rm.index >= 0 || (rm.base & 7) == RSP) {
        /* SIB: index 100 means none (so rsp can never be an index) */
        unsigned idx = rm.index >= 0 ? (unsigned)(rm.index & 7) : 4;
        jit_emit_byte(e, (uint8_t)((mod << 6) | r | 4));
        jit_emit_byte(e, (uint8_t)((rm.scale_log2 << 6) | (idx << 3) | (rm.base & 7)));
    } else {
        jit_emit_byte(e, (uint8_t)((mod << 6) | r | (rm.base & 7)));
    }
    if (mod == 1)
        jit_emit_byte(e, (uint8_t)(int8_t)rm.disp);
    else if (mod == 2)
        jit_emit32(e, (uint32_t)rm.disp);
}

/* Emit [66] [REX] opcode ModRM [SIB] [disp] for "opcode reg, rm" where reg
 * is a register number or a /digit. The caller emits any immediate. */
static inline void jit_op(struct jit_emit *e, unsigned flags, const uint8_t *opc, unsigned nopc,
                          int reg, struct jit_rm rm)
{
    uint8_t rex = 0x40;
    if (flags & JIT_W)
        rex |= 8;
    if (reg & 8)
        rex |= 4;
    if (rm.reg >= 0) {
        if (rm.reg & 8)
            rex |= 1;
    } else {
        if (rm.index >= 0 && (rm.index & 8))
            rex |= 2;
        if (rm.base & 8)
            rex |= 1;
    }
    if (flags & JIT_OPSIZE)
        jit_emit_byte(e, 0x66);
    if (rex != 0x40 || (flags & JIT_BYTE))
        jit_emit_byte(e, rex);
    for (unsigned i = 0; i < nopc; i++)
        jit_emit_byte(e, opc[i]);
    jit_modrm(e, reg, rm);
}

static inline void jit_op1(struct jit_emit *e, unsigned flags, uint8_t opc, int reg,
                           struct jit_rm rm)
{
    jit_op(e, flags, &opc, 1, reg, rm);
}

static inline void jit_op2(struct jit_emit *e, unsigned flags, uint8_t opc0, uint8_t opc1,
                           int reg, struct jit_rm rm)
{
    uint8_t o[2] = { opc0, opc1 };
    jit_op(e, flags, o, 2, reg, rm);
}

/* mov r64, r/m64 */
static inline void jit_mov_load(struct jit_emit *e, int dst, struct jit_rm src)
{
    jit_op1(e, JIT_W, 0x8b, dst, src);
}

/* mov r/m64, r64 */
static inline void jit_mov_store(struct jit_emit *e, struct jit_rm dst, int src)
{
    jit_op1(e, JIT_W, 0x89, src, dst);
}

static inline void jit_mov_rr(struct jit_emit *e, int dst, int src)
{
    if (dst != src)
        jit_mov_load(e, dst, jit_r(src));
}

/* dst = sign-extended 64-bit constant, shortest form */
static inline void jit_mov_imm(struct jit_emit *e, int dst, uint64_t v)
{
    if (v == 0) {
        jit_op1(e, 0, 0x33, dst, jit_r(dst)); /* xor r32, r32 */
    } else if (v <= 0xffffffffu) {
        if (dst & 8)
            jit_emit_byte(e, 0x41);
        jit_emit_byte(e, (uint8_t)(0xb8 + (dst & 7))); /* mov r32, imm32 */
        jit_emit32(e, (uint32_t)v);
    } else if (jit_fits_i32((int64_t)v)) {
        jit_op1(e, JIT_W, 0xc7, 0, jit_r(dst)); /* mov r/m64, simm32 */
        jit_emit32(e, (uint32_t)v);
    } else {
        jit_emit_byte(e, (uint8_t)(0x48 | ((dst & 8) ? 1 : 0)));
        jit_emit_byte(e, (uint8_t)(0xb8 + (dst & 7))); /* movabs */
        jit_emit64(e, v);
    }
}

/* op r, r/m (64-bit when w) */
static inline void jit_alu_rm(struct jit_emit *e, unsigned aluop, bool w, int dst,
                              struct jit_rm src)
{
    jit_op1(e, w ? JIT_W : 0, (uint8_t)(aluop * 8 + 3), dst, src);
}

/* op r/m, simm32 (64-bit when w) */
static inline void jit_alu_imm(struct jit_emit *e, unsigned aluop, bool w, struct jit_rm dst,
                               int32_t imm)
{
    if (jit_fits_i8(imm)) {
        jit_op1(e, w ? JIT_W : 0, 0x83, (int)aluop, dst);
        jit_emit_byte(e, (uint8_t)(int8_t)imm);
    } else {
        jit_op1(e, w ? JIT_W : 0, 0x81, (int)aluop, dst);
        jit_emit32(e, (uint32_t)imm);
    }
}

/* lea r64, [rm] */
static inline void jit_lea(struct jit_emit *e, int dst, struct jit_rm mem)
{
    jit_op1(e, JIT_W, 0x8d, dst, mem);
}

static inline void jit_shift_imm(struct jit_emit *e, unsigned shop, bool w, int reg, unsigned n)
{
    jit_op1(e, w ? JIT_W : 0, 0xc1, (int)shop, jit_r(reg));
    jit_emit_byte(e, (uint8_t)n);
}

/* shift by cl: the hardware masks the count to 6 (64-bit) or 5 bits */
static inline void jit_shift_cl(struct jit_emit *e, unsigned shop, bool w, int reg)
{
    jit_op1(e, w ? JIT_W : 0, 0xd3, (int)shop, jit_r(reg));
}

static inline void jit_unary(struct jit_emit *e, unsigned uop, bool w, struct jit_rm rm)
{
    jit_op1(e, w ? JIT_W : 0, 0xf7, (int)uop, rm);
}

/* imul r, r/m (64-bit when w) */
static inline void jit_imul_rm(struct jit_emit *e, bool w, int dst, struct jit_rm src)
{
    jit_op2(e, w ? JIT_W : 0, 0x0f, 0xaf, dst, src);
}

/* movsxd r64, r/m32 */
static inline void jit_movsxd(struct jit_emit *e, int dst, struct jit_rm src)
{
    jit_op1(e, JIT_W, 0x63, dst, src);
}

static inline void jit_setcc(struct jit_emit *e, unsigned cc, int reg)
{
    jit_op2(e, JIT_BYTE, 0x0f, (uint8_t)(0x90 + cc), 0, jit_r(reg));
}

/* movzx r32, r/m8 */
static inline void jit_movzx8(struct jit_emit *e, int dst, struct jit_rm src)
{
    jit_op2(e, src.reg >= 0 ? JIT_BYTE : 0, 0x0f, 0xb6, dst, src);
}

static inline void jit_cmov(struct jit_emit *e, unsigned cc, int dst, struct jit_rm src)
{
    jit_op2(e, JIT_W, 0x0f, (uint8_t)(0x40 + cc), dst, src);
}

static inline void jit_push(struct jit_emit *e, int reg)
{
    if (reg & 8)
        jit_emit_byte(e, 0x41);
    jit_emit_byte(e, (uint8_t)(0x50 + (reg & 7)));
}

static inline void jit_pop(struct jit_emit *e, int reg)
{
    if (reg & 8)
        jit_emit_byte(e, 0x41);
    jit_emit_byte(e, (uint8_t)(0x58 + (reg & 7)));
}

/* ---- SSE / AVX (scalar floating point) ----
 * xmm registers are numbered 0-15 like the general registers. */

/* [prefix] [REX] 0F op ModRM: the legacy SSE form "op xmm, xmm/m" (or with
 * a general register where the instruction takes one). prefix 0 = none. */
static inline void jit_sse(struct jit_emit *e, uint8_t prefix, bool w, uint8_t op, int reg,
                           struct jit_rm rm)
{
    if (prefix)
        jit_emit_byte(e, prefix);
    uint8_t o[2] = { 0x0f, op };
    jit_op(e, w ? JIT_W : 0, o, 2, reg, rm);
}

/* scalar arithmetic: op = 0x58 add, 0x59 mul, 0x5c sub, 0x5e div, 0x51 sqrt */
static inline void jit_sse_arith(struct jit_emit *e, bool dbl, uint8_t op, int xd,
                                 struct jit_rm src)
{
    jit_sse(e, dbl ? 0xf2 : 0xf3, false, op, xd, src);
}

/* movsd / movss xmm, m */
static inline void jit_fload(struct jit_emit *e, bool dbl, int xd, struct jit_rm m)
{
    jit_sse(e, dbl ? 0xf2 : 0xf3, false, 0x10, xd, m);
}

/* movq r64, xmm (dbl) / movd r32, xmm */
static inline void jit_movq_from_xmm(struct jit_emit *e, bool dbl, int gd, int xs)
{
    jit_sse(e, 0x66, dbl, 0x7e, xs, jit_r(gd));
}

/* movq xmm, r/m64 (dbl) / movd xmm, r/m32 */
static inline void jit_movq_to_xmm(struct jit_emit *e, bool dbl, int xd, struct jit_rm src)
{
    jit_sse(e, 0x66, dbl, 0x6e, xd, src);
}

/* ucomisd / ucomiss (quiet) or comisd / comiss: flags from a <=> b */
static inline void jit_ucomi(struct jit_emit *e, bool dbl, int xa, struct jit_rm b)
{
    jit_sse(e, dbl ? 0x66 : 0, false, 0x2e, xa, b);
}

/* cvttsd2si / cvtsd2si r, xmm (trunc: round toward zero, else MXCSR's
 * mode, which is always round-to-nearest-even here); 64-bit result when w */
static inline void jit_cvt_f2i(struct jit_emit *e, bool dbl, bool trunc, bool w, int gd,
                               int xs)
{
    jit_sse(e, dbl ? 0xf2 : 0xf3, w, trunc ? 0x2c : 0x2d, gd, jit_r(xs));
}

/* cvtsi2sd / cvtsi2ss xmm, r/m (64-bit source when w) */
static inline void jit_cvt_i2f(struct jit_emit *e, bool dbl, bool w, int xd, struct jit_rm src)
{
    jit_sse(e, dbl ? 0xf2 : 0xf3, w, 0x2a, xd, src);
}

/* cvtsd2ss (from_dbl) / cvtss2sd */
static inline void jit_cvt_f2f(struct jit_emit *e, bool from_dbl, int xd, struct jit_rm src)
{
    jit_sse(e, from_dbl ? 0xf2 : 0xf3, false, 0x5a, xd, src);
}

/* VEX-encoded 0F38 forms with three operands: op xd, xv, rm (the fused
 * multiply-adds: 0xb9 vfmadd231, 0xbb vfmsub231, 0xbd vfnmadd231,
 * 0xbf vfnmsub231; sd with W1, ss with W0). xd = xd +- xv * rm. */
static inline void jit_vex_0f38(struct jit_emit *e, bool w, uint8_t op, int xd, int xv,
                                struct jit_rm rm)
{
    uint8_t r = (xd & 8) ? 0 : 0x80, x = 0x40, b = 0x20;
    if (rm.reg >= 0) {
        if (rm.reg & 8)
            b = 0;
    } else {
        if (rm.index >= 0 && (rm.index & 8))
            x = 0;
        if (rm.base & 8)
            b = 0;
    }
    jit_emit_byte(e, 0xc4);
    jit_emit_byte(e, (uint8_t)(r | x | b | 0x02));                            /* map 0F38 */
    jit_emit_byte(e, (uint8_t)((w ? 0x80 : 0) | ((~xv & 15) << 3) | 0x01)); /* L0, pp 66 */
    jit_emit_byte(e, op);
    jit_modrm(e, xd, rm);
}

/* Jumps: emit with a placeholder, patch once the target is known. The
 * returned pointer is the rel field (NULL after an overflow). */
static inline uint8_t *jit_jcc32(struct jit_emit *e, unsigned cc)
{
    jit_emit_byte(e, 0x0f);
    jit_emit_byte(e, (uint8_t)(0x80 + cc));
    jit_emit32(e, 0);
    return e->overflow ? NULL : e->p - 4;
}

static inline uint8_t *jit_jmp32(struct jit_emit *e)
{
    jit_emit_byte(e, 0xe9);
    jit_emit32(e, 0);
    return e->overflow ? NULL : e->p - 4;
}

static inline uint8_t *jit_jcc8(struct jit_emit *e, unsigned cc)
{
    jit_emit_byte(e, (uint8_t)(0x70 + cc));
    jit_emit_byte(e, 0);
    return e->overflow ? NULL : e->p - 1;
}

static inline uint8_t *jit_jmp8(struct jit_emit *e)
{
    jit_emit_byte(e, 0xeb);
    jit_emit_byte(e, 0);
    return e->overflow ? NULL : e->p - 1;
}

/* Point a rel32 field at target. */
static inline void jit_patch32(uint8_t *rel, const uint8_t *target)
{
    if (!rel)
        return;
    int64_t d = target - (rel + 4);
    uint32_t u = (uint32_t)(int32_t)d;
    for (int i = 0; i < 4; i++)
        rel[i] = (uint8_t)(u >> (8 * i));
}

/* Point a rel8 field at target (the caller keeps short jumps short). */
static inline void jit_patch8(struct jit_emit *e, uint8_t *rel, const uint8_t *target)
{
    if (!rel)
        return;
    int64_t d = target - (rel + 1);
    if (!jit_fits_i8(d)) {
        e->overflow = true; /* cannot happen with the short sequences used */
        return;
    }
    *rel = (uint8_t)(int8_t)d;
}

#endif
