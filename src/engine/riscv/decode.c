/* Instruction decoder: RV64IMAFD + Zicsr + Zifencei, and the C extension
 * expanded into the same operations. Decoding happens once per block; the
 * interpreter never looks at raw bits again (except mtval on illegal). */
#include <string.h>

#include "internal.h"

#define BITS(v, hi, lo) (((v) >> (lo)) & ((1u << ((hi) - (lo) + 1)) - 1))
#define BIT(v, n) (((v) >> (n)) & 1u)

static int32_t sext(uint32_t v, unsigned bits)
{
    return (int32_t)(v << (32 - bits)) >> (32 - bits);
}

/* Integer destination: x0 writes go to the sink register 32. */
static uint8_t xrd(unsigned r)
{
    return r ? (uint8_t)r : 32;
}

static void set(struct rv_insn *in, unsigned op, unsigned rd, unsigned rs1, unsigned rs2,
                int32_t imm)
{
    in->op = (uint16_t)op;
    in->rd = (uint8_t)rd;
    in->rs1 = (uint8_t)rs1;
    in->rs2 = (uint8_t)rs2;
    in->imm = imm;
}

static const uint16_t load_ops[8] = { OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU,
                                      OP_ILLEGAL };
static const uint16_t store_ops[8] = { OP_SB, OP_SH, OP_SW, OP_SD, OP_ILLEGAL, OP_ILLEGAL,
                                       OP_ILLEGAL, OP_ILLEGAL };
static const uint16_t branch_ops[8] = { OP_BEQ, OP_BNE, OP_ILLEGAL, OP_ILLEGAL,
                                        OP_BLT, OP_BGE, OP_BLTU, OP_BGEU };

static void decode_amo(uint32_t r, struct rv_insn *in)
{
    unsigned f3 = BITS(r, 14, 12), f5 = BITS(r, 31, 27);
    unsigned rd = xrd(BITS(r, 11, 7)), rs1 = BITS(r, 19, 15), rs2 = BITS(r, 24, 20);
    static const int16_t w[32] = {
        [0x00] = OP_AMOADD_W, [0x01] = OP_AMOSWAP_W, [0x02] = OP_LR_W, [0x03] = OP_SC_W,
        [0x04] = OP_AMOXOR_W, [0x08] = OP_AMOOR_W,   [0x0c] = OP_AMOAND_W,
        [0x10] = OP_AMOMIN_W, [0x14] = OP_AMOMAX_W,  [0x18] = OP_AMOMINU_W,
        [0x1c] = OP_AMOMAXU_W,
    };
    int op = w[f5];
    if ((f3 != 2 && f3 != 3) || (op == 0 && f5 != 0x00) || (f5 == 0x02 && rs2 != 0)) {
        in->op = OP_ILLEGAL;
        return;
    }
    /* the _D ops follow the _W ops in the same order */
    if (f3 == 3)
        op += OP_LR_D - OP_LR_W;
    set(in, (unsigned)op, rd, rs1, rs2, 0);
}

static void decode_fp(uint32_t r, struct rv_insn *in)
{
    unsigned f7 = BITS(r, 31, 25), f3 = BITS(r, 14, 12);
    unsigned rd = BITS(r, 11, 7), rs1 = BITS(r, 19, 15), rs2 = BITS(r, 24, 20);
    bool dbl = f7 & 1;
    unsigned op = OP_ILLEGAL;
    bool int_rd = false;
    in->rm = (uint8_t)f3;
#define SD(s, d) (dbl ? (d) : (s))
    switch (f7 >> 2) {
    case 0x00: op = SD(OP_FADD_S, OP_FADD_D); break;
    case 0x01: op = SD(OP_FSUB_S, OP_FSUB_D); break;
    case 0x02: op = SD(OP_FMUL_S, OP_FMUL_D); break;
    case 0x03: op = SD(OP_FDIV_S, OP_FDIV_D); break;
    case 0x0b: if (rs2 == 0) op = SD(OP_FSQRT_S, OP_FSQRT_D); break;
    case 0x04:
        if (f3 == 0) op = SD(OP_FSGNJ_S, OP_FSGNJ_D);
        else if (f3 == 1) op = SD(OP_FSGNJN_S, OP_FSGNJN_D);
        else if (f3 == 2) op = SD(OP_FSGNJX_S, OP_FSGNJX_D);
        break;
    case 0x05:
        if (f3 == 0) op = SD(OP_FMIN_S, OP_FMIN_D);
        else if (f3 == 1) op = SD(OP_FMAX_S, OP_FMAX_D);
        break;
    case 0x08:
        if (!dbl && rs2 == 1) op = OP_FCVT_S_D;
        else if (dbl && rs2 == 0) op = OP_FCVT_D_S;
        break;
    case 0x14:
        int_rd = true;
        if (f3 == 2) op = SD(OP_FEQ_S, OP_FEQ_D);
        else if (f3 == 1) op = SD(OP_FLT_S, OP_FLT_D);
        else if (f3 == 0) op = SD(OP_FLE_S, OP_FLE_D);
        break;
    case 0x18:
        int_rd = true;
        if (rs2 < 4) op = SD(OP_FCVT_W_S, OP_FCVT_W_D) + rs2;
        break;
    case 0x1a:
        if (rs2 < 4) op = SD(OP_FCVT_S_W, OP_FCVT_D_W) + rs2;
        break;
    case 0x1c:
        int_rd = true;
        if (rs2 == 0 && f3 == 0) op = SD(OP_FMV_X_W, OP_FMV_X_D);
        else if (rs2 == 0 && f3 == 1) op = SD(OP_FCLASS_S, OP_FCLASS_D);
        break;
    case 0x1e:
        if (rs2 == 0 && f3 == 0) op = SD(OP_FMV_W_X, OP_FMV_D_X);
        break;
    }
#undef SD
    if ((f7 & 2) != 0) /* fmt 10/11: H and Q are not implemented */
        op = OP_ILLEGAL;
    set(in, op, int_rd ? xrd(rd) : rd, rs1, rs2, 0);
}

static void decode_system(uint32_t r, struct rv_insn *in)
{
    unsigned f3 = BITS(r, 14, 12), rd = BITS(r, 11, 7), rs1 = BITS(r, 19, 15);
    uint32_t imm = BITS(r, 31, 20);
    if (f3 == 0) {
        unsigned op = OP_ILLEGAL;
        if (BITS(r, 31, 25) == 0x09 && rd == 0)
            op = OP_SFENCE_VMA;
        else if (rd == 0 && rs1 == 0) {
            switch (imm) {
            case 0x000: op = OP_ECALL; break;
            case 0x001: op = OP_EBREAK; break;
            case 0x302: op = OP_MRET; break;
            case 0x102: op = OP_SRET; break;
            case 0x105: op = OP_WFI; break;
            }
        }
        set(in, op, 0, rs1, BITS(r, 24, 20), 0);
        return;
    }
    static const uint16_t csr_ops[8] = { OP_ILLEGAL, OP_CSRRW,  OP_CSRRS,  OP_CSRRC,
                                         OP_ILLEGAL, OP_CSRRWI, OP_CSRRSI, OP_CSRRCI };
    /* rd kept raw (0 = no read for CSRRW), rs1 raw (0 = no write for RS/RC) */
    set(in, csr_ops[f3], rd, rs1, 0, (int32_t)imm);
}

static void decode32(uint32_t r, struct rv_insn *in)
{
    unsigned opc = BITS(r, 6, 0), f3 = BITS(r, 14, 12), f7 = BITS(r, 31, 25);
    unsigned rd = BITS(r, 11, 7), rs1 = BITS(r, 19, 15), rs2 = BITS(r, 24, 20);
    int32_t imm_i = sext(BITS(r, 31, 20), 12);
    int32_t imm_s = sext((BITS(r, 31, 25) << 5) | BITS(r, 11, 7), 12);
    int32_t imm_b = sext((BIT(r, 31) << 12) | (BIT(r, 7) << 11) | (BITS(r, 30, 25) << 5) |
                             (BITS(r, 11, 8) << 1),
                         13);
    int32_t imm_u = (int32_t)(r & 0xfffff000u);
    int32_t imm_j = sext((BIT(r, 31) << 20) | (BITS(r, 19, 12) << 12) | (BIT(r, 20) << 11) |
                             (BITS(r, 30, 21) << 1),
                         21);
    in->op = OP_ILLEGAL;
    switch (opc) {
    case 0x37: set(in, OP_LUI, xrd(rd), 0, 0, imm_u); break;
    case 0x17: set(in, OP_AUIPC, xrd(rd), 0, 0, imm_u); break;
    case 0x6f: set(in, OP_JAL, xrd(rd), 0, 0, imm_j); break;
    case 0x67:
        if (f3 == 0)
            set(in, OP_JALR, xrd(rd), rs1, 0, imm_i);
        break;
    case 0x63: set(in, branch_ops[f3], 0, rs1, rs2, imm_b); break;
    case 0x03: set(in, load_ops[f3], xrd(rd), rs1, 0, imm_i); break;
    case 0x23: set(in, store_ops[f3], 0, rs1, rs2, imm_s); break;
    case 0x13:
        switch (f3) {
        case 0: set(in, OP_ADDI, xrd(rd), rs1, 0, imm_i); break;
        case 2: set(in, OP_SLTI, xrd(rd), rs1, 0, imm_i); break;
        case 3: set(in, OP_SLTIU, xrd(rd), rs1, 0, imm_i); break;
        case 4: set(in, OP_XORI, xrd(rd), rs1, 0, imm_i); break;
        case 6: set(in, OP_ORI, xrd(rd), rs1, 0, imm_i); break;
        case 7: set(in, OP_ANDI, xrd(rd), rs1, 0, imm_i); break;
        case 1:
            if (BITS(r, 31, 26) == 0)
                set(in, OP_SLLI, xrd(rd), rs1, 0, (int32_t)BITS(r, 25, 20));
            break;
        case 5:
            if (BITS(r, 31, 26) == 0)
                set(in, OP_SRLI, xrd(rd), rs1, 0, (int32_t)BITS(r, 25, 20));
            else if (BITS(r, 31, 26) == 0x10)
                set(in, OP_SRAI, xrd(rd), rs1, 0, (int32_t)BITS(r, 25, 20));
            break;
        }
        break;
    case 0x1b:
        if (f3 == 0)
            set(in, OP_ADDIW, xrd(rd), rs1, 0, imm_i);
        else if (f3 == 1 && f7 == 0)
            set(in, OP_SLLIW, xrd(rd), rs1, 0, (int32_t)rs2);
        else if (f3 == 5 && f7 == 0)
            set(in, OP_SRLIW, xrd(rd), rs1, 0, (int32_t)rs2);
        else if (f3 == 5 && f7 == 0x20)
            set(in, OP_SRAIW, xrd(rd), rs1, 0, (int32_t)rs2);
        break;
    case 0x33: {
        static const uint16_t base[8] = { OP_ADD, OP_SLL, OP_SLT, OP_SLTU,
                                          OP_XOR, OP_SRL, OP_OR,  OP_AND };
        static const uint16_t mext[8] = { OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU,
                                          OP_DIV, OP_DIVU, OP_REM,    OP_REMU };
        unsigned op = OP_ILLEGAL;
        if (f7 == 0)
            op = base[f3];
        else if (f7 == 1)
            op = mext[f3];
        else if (f7 == 0x20 && f3 == 0)
            op = OP_SUB;
        else if (f7 == 0x20 && f3 == 5)
            op = OP_SRA;
        set(in, op, xrd(rd), rs1, rs2, 0);
        break;
    }
    case 0x3b: {
        unsigned op = OP_ILLEGAL;
        if (f7 == 0) {
            if (f3 == 0) op = OP_ADDW;
            else if (f3 == 1) op = OP_SLLW;
            else if (f3 == 5) op = OP_SRLW;
        } else if (f7 == 0x20) {
            if (f3 == 0) op = OP_SUBW;
            else if (f3 == 5) op = OP_SRAW;
        } else if (f7 == 1) {
            static const uint16_t m[8] = { OP_MULW, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL,
                                           OP_DIVW, OP_DIVUW,   OP_REMW,    OP_REMUW };
            op = m[f3];
        }
        set(in, op, xrd(rd), rs1, rs2, 0);
        break;
    }
    case 0x0f:
        if (f3 == 0) /* imm = fm, pred, succ (bits 31:20): what it orders */
            set(in, OP_FENCE, 0, 0, 0, (int32_t)(r >> 20));
        else if (f3 == 1)
            set(in, OP_FENCE_I, 0, 0, 0, 0);
        break;
    case 0x73: decode_system(r, in); break;
    case 0x2f: decode_amo(r, in); break;
    case 0x07:
        if (f3 == 2)
            set(in, OP_FLW, rd, rs1, 0, imm_i);
        else if (f3 == 3)
            set(in, OP_FLD, rd, rs1, 0, imm_i);
        break;
    case 0x27:
        if (f3 == 2)
            set(in, OP_FSW, 0, rs1, rs2, imm_s);
        else if (f3 == 3)
            set(in, OP_FSD, 0, rs1, rs2, imm_s);
        break;
    case 0x43: case 0x47: case 0x4b: case 0x4f: {
        unsigned fmt = BITS(r, 26, 25);
        if (fmt > 1)
            break;
        unsigned op = (fmt ? OP_FMADD_D : OP_FMADD_S) + ((opc - 0x43) >> 2);
        set(in, op, rd, rs1, rs2, 0);
        in->rs3 = (uint8_t)BITS(r, 31, 27);
        in->rm = (uint8_t)f3;
        break;
    }
    case 0x53: decode_fp(r, in); break;
    }
}

/* Compressed register fields name x8..x15. */
#define CR(v) (8 + (v))

static void decode16(uint32_t r, struct rv_insn *in)
{
    unsigned q = r & 3, f3 = BITS(r, 15, 13);
    unsigned rd = BITS(r, 11, 7), rs2 = BITS(r, 6, 2);
    unsigned rdp = CR(BITS(r, 4, 2)), rs1p = CR(BITS(r, 9, 7));
    in->op = OP_ILLEGAL;
    if (q == 0) {
        uint32_t uimm_d = (BITS(r, 12, 10) << 3) | (BITS(r, 6, 5) << 6); /* ld/sd/fld/fsd */
        uint32_t uimm_w = (BITS(r, 12, 10) << 3) | (BIT(r, 6) << 2) | (BIT(r, 5) << 6);
        switch (f3) {
        case 0: {
            uint32_t nz = (BITS(r, 12, 11) << 4) | (BITS(r, 10, 7) << 6) | (BIT(r, 6) << 2) |
                          (BIT(r, 5) << 3);
            if (nz)
                set(in, OP_ADDI, rdp, 2, 0, (int32_t)nz);
            break;
        }
        case 1: set(in, OP_FLD, rdp, rs1p, 0, (int32_t)uimm_d); break;
        case 2: set(in, OP_LW, rdp, rs1p, 0, (int32_t)uimm_w); break;
        case 3: set(in, OP_LD, rdp, rs1p, 0, (int32_t)uimm_d); break;
        case 5: set(in, OP_FSD, 0, rs1p, rdp, (int32_t)uimm_d); break;
        case 6: set(in, OP_SW, 0, rs1p, rdp, (int32_t)uimm_w); break;
        case 7: set(in, OP_SD, 0, rs1p, rdp, (int32_t)uimm_d); break;
        }
        return;
    }
    if (q == 1) {
        int32_t imm6 = sext((BIT(r, 12) << 5) | BITS(r, 6, 2), 6);
        switch (f3) {
        case 0: set(in, OP_ADDI, xrd(rd), rd, 0, imm6); break; /* c.nop when rd = 0 */
        case 1:
            if (rd)
                set(in, OP_ADDIW, rd, rd, 0, imm6);
            break;
        case 2: set(in, OP_ADDI, xrd(rd), 0, 0, imm6); break; /* c.li */
        case 3:
            if (rd == 2) {
                int32_t nz = sext((BIT(r, 12) << 9) | (BIT(r, 6) << 4) | (BIT(r, 5) << 6) |
                                      (BITS(r, 4, 3) << 7) | (BIT(r, 2) << 5),
                                  10);
                if (nz)
                    set(in, OP_ADDI, 2, 2, 0, nz);
            } else {
                int32_t nz = sext((BIT(r, 12) << 17) | (BITS(r, 6, 2) << 12), 18);
                if (nz)
                    set(in, OP_LUI, xrd(rd), 0, 0, nz);
            }
            break;
        case 4: {
            unsigned f2 = BITS(r, 11, 10);
            unsigned shamt = (BIT(r, 12) << 5) | BITS(r, 6, 2);
            if (f2 == 0)
                set(in, OP_SRLI, rs1p, rs1p, 0, (int32_t)shamt);
            else if (f2 == 1)
                set(in, OP_SRAI, rs1p, rs1p, 0, (int32_t)shamt);
            else if (f2 == 2)
                set(in, OP_ANDI, rs1p, rs1p, 0, imm6);
            else {
                static const uint16_t ops[8] = { OP_SUB,  OP_XOR,  OP_OR,      OP_AND,
                                                 OP_SUBW, OP_ADDW, OP_ILLEGAL, OP_ILLEGAL };
                set(in, ops[(BIT(r, 12) << 2) | BITS(r, 6, 5)], rs1p, rs1p, rdp, 0);
            }
            break;
        }
        case 5: {
            int32_t off = sext((BIT(r, 12) << 11) | (BIT(r, 11) << 4) | (BITS(r, 10, 9) << 8) |
                                   (BIT(r, 8) << 10) | (BIT(r, 7) << 6) | (BIT(r, 6) << 7) |
                                   (BITS(r, 5, 3) << 1) | (BIT(r, 2) << 5),
                               12);
            set(in, OP_JAL, 32, 0, 0, off);
            break;
        }
        case 6: case 7: {
            int32_t off = sext((BIT(r, 12) << 8) | (BITS(r, 11, 10) << 3) | (BITS(r, 6, 5) << 6) |
                                   (BITS(r, 4, 3) << 1) | (BIT(r, 2) << 5),
                               9);
            set(in, f3 == 6 ? OP_BEQ : OP_BNE, 0, rs1p, 0, off);
            break;
        }
        }
        return;
    }
    if (q == 2) {
        switch (f3) {
        case 0: {
            unsigned shamt = (BIT(r, 12) << 5) | BITS(r, 6, 2);
            set(in, OP_SLLI, xrd(rd), rd, 0, (int32_t)shamt);
            break;
        }
        case 1: {
            uint32_t off = (BIT(r, 12) << 5) | (BITS(r, 6, 5) << 3) | (BITS(r, 4, 2) << 6);
            set(in, OP_FLD, rd, 2, 0, (int32_t)off);
            break;
        }
        case 2:
            if (rd) {
                uint32_t off = (BIT(r, 12) << 5) | (BITS(r, 6, 4) << 2) | (BITS(r, 3, 2) << 6);
                set(in, OP_LW, rd, 2, 0, (int32_t)off);
            }
            break;
        case 3:
            if (rd) {
                uint32_t off = (BIT(r, 12) << 5) | (BITS(r, 6, 5) << 3) | (BITS(r, 4, 2) << 6);
                set(in, OP_LD, rd, 2, 0, (int32_t)off);
            }
            break;
        case 4:
            if (!BIT(r, 12)) {
                if (rs2 == 0) {
                    if (rd)
                        set(in, OP_JALR, 32, rd, 0, 0); /* c.jr */
                } else {
                    set(in, OP_ADD, xrd(rd), 0, rs2, 0); /* c.mv */
                }
            } else {
                if (rd == 0 && rs2 == 0)
                    set(in, OP_EBREAK, 0, 0, 0, 0);
                else if (rs2 == 0)
                    set(in, OP_JALR, 1, rd, 0, 0); /* c.jalr */
                else
                    set(in, OP_ADD, xrd(rd), rd, rs2, 0);
            }
            break;
        case 5: {
            uint32_t off = (BITS(r, 12, 10) << 3) | (BITS(r, 9, 7) << 6);
            set(in, OP_FSD, 0, 2, rs2, (int32_t)off);
            break;
        }
        case 6: {
            uint32_t off = (BITS(r, 12, 9) << 2) | (BITS(r, 8, 7) << 6);
            set(in, OP_SW, 0, 2, rs2, (int32_t)off);
            break;
        }
        case 7: {
            uint32_t off = (BITS(r, 12, 10) << 3) | (BITS(r, 9, 7) << 6);
            set(in, OP_SD, 0, 2, rs2, (int32_t)off);
            break;
        }
        }
    }
}

unsigned riscv_decode(uint32_t raw, struct rv_insn *in)
{
    memset(in, 0, sizeof(*in));
    if ((raw & 3) != 3) {
        in->raw = raw & 0xffff;
        in->len = 2;
        decode16(raw & 0xffff, in);
        return 2;
    }
    in->raw = raw;
    in->len = 4;
    if ((raw & 0x1c) == 0x1c) { /* 48-bit and longer encodings: not supported */
        in->op = OP_ILLEGAL;
        return 4;
    }
    decode32(raw, in);
    return 4;
}

bool riscv_op_ends_block(unsigned op)
{
    switch (op) {
    case OP_ILLEGAL: case OP_JAL: case OP_JALR:
    case OP_BEQ: case OP_BNE: case OP_BLT: case OP_BGE: case OP_BLTU: case OP_BGEU:
    case OP_FENCE_I: case OP_ECALL: case OP_EBREAK: case OP_MRET: case OP_SRET:
    case OP_WFI: case OP_SFENCE_VMA:
    case OP_CSRRW: case OP_CSRRS: case OP_CSRRC: case OP_CSRRWI: case OP_CSRRSI: case OP_CSRRCI:
        return true;
    default:
        return false;
    }
}
