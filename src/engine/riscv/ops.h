/* Every operation the interpreter executes, as an X-macro list: the decoder
 * emits these, the interpreter has one label per entry. */
#define RISCV_OPS(X)                                                                    \
    X(ILLEGAL) X(END_BLOCK) X(NOP)                                                      \
    X(LUI) X(AUIPC) X(JAL) X(JALR)                                                      \
    X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU)                                         \
    X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU)                                        \
    X(SB) X(SH) X(SW) X(SD)                                                             \
    X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI)             \
    X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND)               \
    X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW) X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW)         \
    X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU)                     \
    X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW)                                           \
    X(FENCE) X(FENCE_I) X(ECALL) X(EBREAK) X(MRET) X(SRET) X(WFI) X(SFENCE_VMA)         \
    X(CSRRW) X(CSRRS) X(CSRRC) X(CSRRWI) X(CSRRSI) X(CSRRCI)                            \
    X(LR_W) X(SC_W) X(AMOSWAP_W) X(AMOADD_W) X(AMOXOR_W) X(AMOAND_W) X(AMOOR_W)         \
    X(AMOMIN_W) X(AMOMAX_W) X(AMOMINU_W) X(AMOMAXU_W)                                   \
    X(LR_D) X(SC_D) X(AMOSWAP_D) X(AMOADD_D) X(AMOXOR_D) X(AMOAND_D) X(AMOOR_D)         \
    X(AMOMIN_D) X(AMOMAX_D) X(AMOMINU_D) X(AMOMAXU_D)                                   \
    X(FLW) X(FSW) X(FLD) X(FSD)                                                         \
    X(FMADD_S) X(FMSUB_S) X(FNMSUB_S) X(FNMADD_S)                                       \
    X(FADD_S) X(FSUB_S) X(FMUL_S) X(FDIV_S) X(FSQRT_S)                                  \
    X(FSGNJ_S) X(FSGNJN_S) X(FSGNJX_S) X(FMIN_S) X(FMAX_S)                              \
    X(FCVT_W_S) X(FCVT_WU_S) X(FCVT_L_S) X(FCVT_LU_S)                                   \
    X(FMV_X_W) X(FEQ_S) X(FLT_S) X(FLE_S) X(FCLASS_S)                                   \
    X(FCVT_S_W) X(FCVT_S_WU) X(FCVT_S_L) X(FCVT_S_LU) X(FMV_W_X)                        \
    X(FMADD_D) X(FMSUB_D) X(FNMSUB_D) X(FNMADD_D)                                       \
    X(FADD_D) X(FSUB_D) X(FMUL_D) X(FDIV_D) X(FSQRT_D)                                  \
    X(FSGNJ_D) X(FSGNJN_D) X(FSGNJX_D) X(FMIN_D) X(FMAX_D)                              \
    X(FCVT_W_D) X(FCVT_WU_D) X(FCVT_L_D) X(FCVT_LU_D)                                   \
    X(FMV_X_D) X(FEQ_D) X(FLT_D) X(FLE_D) X(FCLASS_D)                                   \
    X(FCVT_D_W) X(FCVT_D_WU) X(FCVT_D_L) X(FCVT_D_LU) X(FMV_D_X)                        \
    X(FCVT_S_D) X(FCVT_D_S)
