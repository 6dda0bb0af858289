/* The x86-64 template JIT against the interpreter: the same block runs on
 * two harts with identical RAM and registers, one interpreted, one through
 * its compiled code (which hands over to the interpreter at the index it
 * returns), and every register, the pc and all of RAM must come out equal.
 * Edge values per op, the exits that must return k (TLB miss, misaligned
 * access, code-page store, uncompiled op), then random blocks. */
#include "jit_harness.h"

struct rop {
    const char *name;
    unsigned f7, f3, opc;
};

static const struct rop rops[] = {
    { "add", 0, 0, 0x33 },    { "sub", 0x20, 0, 0x33 },  { "sll", 0, 1, 0x33 },
    { "slt", 0, 2, 0x33 },    { "sltu", 0, 3, 0x33 },    { "xor", 0, 4, 0x33 },
    { "srl", 0, 5, 0x33 },    { "sra", 0x20, 5, 0x33 },  { "or", 0, 6, 0x33 },
    { "and", 0, 7, 0x33 },    { "mul", 1, 0, 0x33 },     { "mulh", 1, 1, 0x33 },
    { "mulhsu", 1, 2, 0x33 }, { "mulhu", 1, 3, 0x33 },   { "div", 1, 4, 0x33 },
    { "divu", 1, 5, 0x33 },   { "rem", 1, 6, 0x33 },     { "remu", 1, 7, 0x33 },
    { "addw", 0, 0, 0x3b },   { "subw", 0x20, 0, 0x3b }, { "sllw", 0, 1, 0x3b },
    { "srlw", 0, 5, 0x3b },   { "sraw", 0x20, 5, 0x3b }, { "mulw", 1, 0, 0x3b },
    { "divw", 1, 4, 0x3b },   { "divuw", 1, 5, 0x3b },   { "remw", 1, 6, 0x3b },
    { "remuw", 1, 7, 0x3b },
};
#define NROPS (sizeof(rops) / sizeof(rops[0]))

/* I-type ALU ops; shifts carry their shamt width and funct6 bits */
struct iop {
    const char *name;
    unsigned f3, opc;
    int shamt_bits; /* 0: 12-bit immediate */
    uint32_t hi;    /* bits above the shamt (srai/sraiw) */
};

static const struct iop iops[] = {
    { "addi", 0, 0x13, 0, 0 },     { "slti", 2, 0x13, 0, 0 },      { "sltiu", 3, 0x13, 0, 0 },
    { "xori", 4, 0x13, 0, 0 },     { "ori", 6, 0x13, 0, 0 },       { "andi", 7, 0x13, 0, 0 },
    { "slli", 1, 0x13, 6, 0 },     { "srli", 5, 0x13, 6, 0 },      { "srai", 5, 0x13, 6, 0x400 },
    { "addiw", 0, 0x1b, 0, 0 },    { "slliw", 1, 0x1b, 5, 0 },     { "srliw", 5, 0x1b, 5, 0 },
    { "sraiw", 5, 0x1b, 5, 0x400 },
};
#define NIOPS (sizeof(iops) / sizeof(iops[0]))

static uint32_t enc_iop(const struct iop *o, int32_t imm, unsigned rs1, unsigned rd)
{
    if (o->shamt_bits)
        imm = (int32_t)(o->hi | ((uint32_t)imm & ((1u << o->shamt_bits) - 1)));
    return enc_i(imm, rs1, o->f3, rd, o->opc);
}

static const unsigned load_f3[] = { 0, 1, 2, 3, 4, 5, 6 }; /* lb lh lw ld lbu lhu lwu */
static const unsigned load_size[] = { 1, 2, 4, 8, 1, 2, 4 };


static const uint64_t edges[] = {
    0,
    1,
    ~0ull,
    0x8000000000000000ull,
    0x7fffffffffffffffull,
    0x80000000ull,
    0x7fffffffull,
    0xffffffffull,
    0xffffffff80000000ull,
    31,
    32,
    63,
    64,
    0x123456789abcdef0ull,
    0xfedcba9876543210ull,
    ~1ull,
    3,
};
#define NEDGES (sizeof(edges) / sizeof(edges[0]))

static void regs_fill(uint64_t *regs, uint64_t seed)
{
    for (int r = 0; r < 32; r++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        regs[r] = seed ^ (seed >> 31);
    }
    regs[0] = 0;
}

static void test_rtype_edges(void **state)
{
    (void)state;
    uint64_t regs[32];
    regs_fill(regs, 1);
    for (unsigned o = 0; o < NROPS; o++) {
        for (unsigned i = 0; i < NEDGES; i++) {
            struct prog p = { .len = 0 };
            /* x1, x2 operands; results in several shapes: plain, rd = rs1,
             * rd = rs2, rs1 = rs2, x0 as source and as destination */
            put32(&p, enc_r(rops[o].f7, 2, 1, rops[o].f3, 3, rops[o].opc));
            put32(&p, enc_r(rops[o].f7, 1, 2, rops[o].f3, 4, rops[o].opc));
            put32(&p, enc_r(rops[o].f7, 1, 1, rops[o].f3, 5, rops[o].opc));
            put32(&p, enc_r(rops[o].f7, 0, 2, rops[o].f3, 6, rops[o].opc));
            put32(&p, enc_r(rops[o].f7, 2, 0, rops[o].f3, 7, rops[o].opc));
            put32(&p, enc_r(rops[o].f7, 2, 1, rops[o].f3, 0, rops[o].opc));
            put32(&p, enc_r(rops[o].f7, 2, 8, rops[o].f3, 8, rops[o].opc));
            put32(&p, enc_r(rops[o].f7, 9, 2, rops[o].f3, 9, rops[o].opc));
            put32(&p, SELF_LOOP);
            for (unsigned j = 0; j < NEDGES; j++) {
                regs[1] = regs[8] = edges[i];
                regs[2] = regs[9] = edges[j];
                char what[64];
                snprintf(what, sizeof(what), "%s %u,%u", rops[o].name, i, j);
                assert_int_equal(run_both(&p, regs, what), -1);
            }
        }
    }
}

/* The same ops with their operands used often enough to live in host
 * registers (the code above mostly reads them from memory). */
static void test_rtype_in_host_regs(void **state)
{
    (void)state;
    uint64_t regs[32];
    regs_fill(regs, 2);
    for (unsigned o = 0; o < NROPS; o++) {
        for (unsigned i = 0; i < NEDGES; i++) {
            for (unsigned j = 0; j < NEDGES; j += 3) {
                struct prog p = { .len = 0 };
                put32(&p, enc_r(0, 0, 1, 0, 10, 0x33)); /* add x10, x1, x0 */
                put32(&p, enc_r(0, 0, 2, 0, 11, 0x33)); /* add x11, x2, x0 */
                put32(&p, enc_r(rops[o].f7, 11, 10, rops[o].f3, 12, rops[o].opc));
                put32(&p, enc_r(rops[o].f7, 10, 11, rops[o].f3, 13, rops[o].opc));
                put32(&p, enc_r(rops[o].f7, 12, 13, rops[o].f3, 12, rops[o].opc));
                put32(&p, enc_r(rops[o].f7, 13, 12, rops[o].f3, 13, rops[o].opc));
                put32(&p, enc_r(rops[o].f7, 10, 10, rops[o].f3, 10, rops[o].opc));
                put32(&p, enc_r(rops[o].f7, 13, 11, rops[o].f3, 11, rops[o].opc));
                put32(&p, enc_r(0, 13, 12, 0, 14, 0x33));
                put32(&p, enc_r(0, 11, 10, 0, 14, 0x33));
                put32(&p, SELF_LOOP);
                regs[1] = edges[i];
                regs[2] = edges[j];
                char what[64];
                snprintf(what, sizeof(what), "%s (host regs) %u,%u", rops[o].name, i, j);
                assert_int_equal(run_both(&p, regs, what), -1);
            }
        }
    }
}

static void test_itype_edges(void **state)
{
    (void)state;
    static const int32_t imms[] = { 0, 1, -1, 2047, -2048, 31, 32, 63, 0x555, -0x556 };
    uint64_t regs[32];
    regs_fill(regs, 3);
    for (unsigned o = 0; o < NIOPS; o++) {
        for (unsigned k = 0; k < sizeof(imms) / sizeof(imms[0]); k++) {
            struct prog p = { .len = 0 };
            int32_t imm = imms[k];
            put32(&p, enc_iop(&iops[o], imm, 1, 3));
            put32(&p, enc_iop(&iops[o], imm, 3, 3)); /* rd = rs1 */
            put32(&p, enc_iop(&iops[o], imm, 0, 4)); /* x0 source */
            put32(&p, enc_iop(&iops[o], imm, 1, 0)); /* x0 destination */
            put32(&p, enc_iop(&iops[o], imm, 5, 5));
            put32(&p, enc_iop(&iops[o], imm, 5, 6));
            put32(&p, enc_iop(&iops[o], imm, 5, 5));
            put32(&p, enc_iop(&iops[o], imm, 6, 5));
            put32(&p, SELF_LOOP);
            for (unsigned i = 0; i < NEDGES; i++) {
                regs[1] = regs[5] = edges[i];
                char what[64];
                snprintf(what, sizeof(what), "%s imm %d, %u", iops[o].name, imm, i);
                assert_int_equal(run_both(&p, regs, what), -1);
            }
        }
    }
}

static void test_lui_auipc_jal(void **state)
{
    (void)state;
    static const uint32_t imm20s[] = { 0, 1, 0x7ffff, 0x80000, 0xfffff, 0x12345 };
    uint64_t regs[32];
    regs_fill(regs, 4);
    for (unsigned k = 0; k < 6; k++) {
        struct prog p = { .len = 0 };
        put32(&p, enc_u(imm20s[k], 1, 0x37));  /* lui */
        put32(&p, enc_u(imm20s[k], 2, 0x17));  /* auipc */
        put32(&p, enc_u(imm20s[k], 0, 0x37));  /* lui x0 */
        put32(&p, enc_u(imm20s[k], 3, 0x17));
        put32(&p, enc_r(0, 3, 2, 0, 2, 0x33)); /* add x2, x2, x3 */
        put32(&p, enc_r(0, 3, 2, 0, 3, 0x33));
        put32(&p, enc_j(-(int32_t)k * 2048 - 4, 5)); /* jal x5, back */
        char what[64];
        snprintf(what, sizeof(what), "lui/auipc/jal %#x", imm20s[k]);
        assert_int_equal(run_both(&p, regs, what), -1);
    }
    /* jal forwards and to x0, with a 2-byte instruction before it */
    struct prog p = { .len = 0 };
    put16(&p, 0x428d); /* c.li x5, 3 */
    put32(&p, enc_j(0xffffe, 0));
    assert_int_equal(run_both(&p, regs, "jal far"), -1);
}

static void test_jalr(void **state)
{
    (void)state;
    static const int32_t imms[] = { 0, 1, -1, 2047, -2048, 3 };
    uint64_t regs[32];
    regs_fill(regs, 5);
    for (unsigned k = 0; k < 6; k++) {
        for (unsigned v = 0; v < NEDGES; v++) {
            for (unsigned shape = 0; shape < 4; shape++) {
                struct prog p = { .len = 0 };
                unsigned rd = shape == 0 ? 1 : shape == 1 ? 2 : shape == 2 ? 0 : 1;
                if (shape == 3) { /* rs1 used enough to sit in a host register */
                    put32(&p, enc_i(0, 1, 0, 1, 0x13));
                    put32(&p, enc_i(0, 1, 0, 1, 0x13));
                }
                put32(&p, enc_i(imms[k], 1, 0, rd, 0x67)); /* jalr rd, imm(x1) */
                regs[1] = edges[v];
                char what[64];
                snprintf(what, sizeof(what), "jalr shape %u imm %d val %u", shape, imms[k], v);
                assert_int_equal(run_both(&p, regs, what), -1);
            }
        }
    }
    /* compressed: c.jr / c.jalr (link = pc + 2) */
    struct prog p = { .len = 0 };
    put16(&p, 0x9282); /* c.jalr x5 */
    regs[5] = 0x80001235;
    assert_int_equal(run_both(&p, regs, "c.jalr"), -1);
    assert_int_equal(mb.cpu.x[1], CODE + 2);
    assert_int_equal(mb.cpu.pc, 0x80001234);
}

static void test_branches(void **state)
{
    (void)state;
    static const unsigned f3s[] = { 0, 1, 4, 5, 6, 7 };
    static const int32_t offs[] = { 8, -4, 4094, -4096, 0 };
    uint64_t regs[32];
    regs_fill(regs, 6);
    for (unsigned b = 0; b < 6; b++) {
        for (unsigned o = 0; o < 5; o++) {
            for (unsigned i = 0; i < NEDGES; i++) {
                for (unsigned j = 0; j < NEDGES; j += 2) {
                    for (unsigned shape = 0; shape < 3; shape++) {
                        struct prog p = { .len = 0 };
                        unsigned rs1 = 1, rs2 = shape == 1 ? 0 : 2;
                        if (shape == 2) { /* operands in host registers */
                            put32(&p, enc_r(0, 0, 1, 0, 1, 0x33));
                            put32(&p, enc_r(0, 0, 2, 0, 2, 0x33));
                        }
                        put32(&p, enc_b(offs[o], rs2, rs1, f3s[b]));
                        regs[1] = edges[i];
                        regs[2] = edges[j];
                        char what[64];
                        snprintf(what, sizeof(what), "branch f3 %u off %d %u,%u", f3s[b],
                                 offs[o], i, j);
                        assert_int_equal(run_both(&p, regs, what), -1);
                    }
                }
            }
        }
    }
    /* compressed branches: the fall-through is pc + 2 */
    for (unsigned v = 0; v < 2; v++) {
        struct prog p = { .len = 0 };
        put16(&p, 0x0001); /* c.nop */
        put16(&p, 0x0001);
        put16(&p, 0x0001);
        put16(&p, 0xe401); /* c.bnez x8, .+8 */
        regs[8] = v;
        assert_int_equal(run_both(&p, regs, "c.bnez"), -1);
        assert_int_equal(mb.cpu.pc, v ? CODE + 6 + 8 : CODE + 8);
    }
}

static void test_loads_stores(void **state)
{
    (void)state;
    uint64_t regs[32];
    regs_fill(regs, 7);
    regs[10] = DATA + 0x800;
    regs[11] = DATA + 0x1800;
    for (unsigned l = 0; l < 7; l++) {
        for (int32_t off = -64; off <= 64; off += (int32_t)load_size[l]) {
            struct prog p = { .len = 0 };
            put32(&p, enc_i(off, 10, load_f3[l], 5, 0x03));
            put32(&p, enc_i(off + 8, 10, load_f3[l], 6, 0x03));
            put32(&p, enc_i(off, 10, load_f3[l], 10, 0x03)); /* rd = rs1 */
            put32(&p, enc_i(off, 11, load_f3[l], 0, 0x03));  /* x0 */
            put32(&p, enc_i(off, 11, load_f3[l], 11, 0x03));
            put32(&p, SELF_LOOP);
            char what[64];
            snprintf(what, sizeof(what), "load f3 %u off %d", load_f3[l], off);
            assert_int_equal(run_both(&p, regs, what), -1);
        }
    }
    for (unsigned s = 0; s < 4; s++) {
        for (unsigned v = 0; v < NEDGES; v++) {
            struct prog p = { .len = 0 };
            int32_t sz = 1 << s;
            put32(&p, enc_s(0, 1, 10, s));
            put32(&p, enc_s(-sz, 1, 10, s));
            put32(&p, enc_s(8 * sz, 0, 10, s));  /* store x0 */
            put32(&p, enc_s(16 * sz, 10, 10, s)); /* store the base itself */
            put32(&p, enc_i(0, 10, 3, 12, 0x03)); /* ld it back */
            put32(&p, enc_i(-8, 10, 3, 13, 0x03));
            put32(&p, enc_s(2040, 1, 11, s));
            put32(&p, SELF_LOOP);
            regs[1] = edges[v];
            char what[64];
            snprintf(what, sizeof(what), "store size %d val %u", sz, v);
            assert_int_equal(run_both(&p, regs, what), -1);
        }
    }
    /* compressed c.lw / c.sd */
    struct prog p = { .len = 0 };
    put16(&p, 0x4144); /* c.lw x9, 4(x10) */
    put16(&p, 0xe504); /* c.sd x9, 8(x10) */
    put32(&p, SELF_LOOP);
    assert_int_equal(run_both(&p, regs, "c.lw/c.sd"), -1);
}

/* Side exits: the compiled code must stop at exactly the right index, with
 * everything before it done and nothing of it. */
static void test_side_exits(void **state)
{
    (void)state;
    uint64_t regs[32];
    regs_fill(regs, 8);
    regs[10] = DATA;
    regs[11] = COLD;
    regs[12] = CODE;

    for (unsigned l = 0; l < 7; l++) {
        if (load_size[l] == 1)
            continue;
        struct prog p = { .len = 0 };
        put32(&p, enc_i(5, 0, 0, 5, 0x13)); /* li x5, 5 */
        put32(&p, enc_r(0, 5, 5, 0, 6, 0x33));
        put32(&p, enc_i(1, 10, load_f3[l], 7, 0x03)); /* misaligned */
        put32(&p, enc_i(1, 0, 0, 8, 0x13));
        put32(&p, SELF_LOOP);
        assert_int_equal(run_native(&p, regs), 2);
        assert_int_equal(mb.cpu.x[5], 5);
        assert_int_equal(mb.cpu.x[6], 10);
        assert_int_equal(mb.cpu.x[7], regs[7]);
        assert_int_equal(mb.cpu.pc, CODE); /* untouched: the block did not end */
        assert_int_equal(run_both(&p, regs, "misaligned load"), 2);
    }
    for (unsigned s = 1; s < 4; s++) {
        struct prog p = { .len = 0 };
        put32(&p, enc_i(7, 0, 0, 5, 0x13));
        put32(&p, enc_s((1 << s) - 1, 5, 10, s)); /* misaligned store */
        put32(&p, SELF_LOOP);
        assert_int_equal(run_native(&p, regs), 1);
        assert_int_equal(mb.cpu.x[5], 7);
        assert_int_equal(run_both(&p, regs, "misaligned store"), 1);
    }
    /* TLB misses on RAM are filled from compiled code: a cold page runs
     * natively (a load to x0 and a store too) */
    struct prog p = { .len = 0 };
    put32(&p, enc_i(3, 0, 0, 5, 0x13));
    put32(&p, enc_i(8, 11, 3, 6, 0x03)); /* ld x6, 8(cold) */
    put32(&p, SELF_LOOP);
    assert_int_equal(run_native(&p, regs), -1);
    assert_int_equal(mb.cpu.x[5], 3);
    assert_int_equal(mb.cpu.x[6], data_pattern((COLD - DATA + 8) / 8));
    assert_int_equal(run_both(&p, regs, "cold load"), -1);

    p.len = 0;
    put32(&p, enc_i(8, 11, 3, 0, 0x03)); /* ld x0, 8(cold) */
    put32(&p, SELF_LOOP);
    assert_int_equal(run_both(&p, regs, "cold load to x0"), -1);

    p.len = 0;
    put32(&p, enc_i(3, 0, 0, 5, 0x13));
    put32(&p, enc_i(3, 0, 0, 5, 0x13));
    put32(&p, enc_s(0x100, 5, 11, 3)); /* sd to the cold page */
    put32(&p, SELF_LOOP);
    assert_int_equal(run_both(&p, regs, "cold store"), -1);

    /* ... but not outside RAM (MMIO, or nothing: the interpreter raises) */
    regs[13] = 0x1000;
    p.len = 0;
    put32(&p, enc_i(3, 0, 0, 5, 0x13));
    put32(&p, enc_i(8, 13, 3, 6, 0x03)); /* ld x6, 8(x13): no RAM there */
    put32(&p, SELF_LOOP);
    assert_int_equal(run_native(&p, regs), 1);
    assert_int_equal(mb.cpu.x[5], 3);
    assert_int_equal(run_both(&p, regs, "load outside RAM"), 1);

    p.len = 0;
    put32(&p, enc_i(8, 13, 3, 0, 0x03)); /* ld x0, 8(x13) */
    put32(&p, SELF_LOOP);
    assert_int_equal(run_both(&p, regs, "load to x0 outside RAM"), 0);

    p.len = 0;
    put32(&p, enc_i(3, 0, 0, 5, 0x13));
    put32(&p, enc_i(3, 0, 0, 5, 0x13));
    put32(&p, enc_s(0x100, 5, 13, 3)); /* sd outside RAM */
    put32(&p, SELF_LOOP);
    assert_int_equal(run_native(&p, regs), 2);
    assert_int_equal(run_both(&p, regs, "store outside RAM"), 2);

    p.len = 0;
    put32(&p, enc_i(0, 12, 3, 5, 0x03)); /* ld from code: fine */
    put32(&p, enc_s(0x400, 5, 12, 3));   /* sd to code: never a TLB hit */
    put32(&p, SELF_LOOP);
    assert_int_equal(run_native(&p, regs), 1);
    uint64_t first8;
    memcpy(&first8, p.b, 8);
    assert_int_equal(mb.cpu.x[5], first8);
    assert_int_equal(run_both(&p, regs, "code page store"), 1);

    /* an op left to the interpreter ends the compiled part */
    p.len = 0;
    put32(&p, enc_i(9, 0, 0, 5, 0x13));
    put32(&p, CSRR_MINSTRET(6)); /* the count compiled code does not keep */
    assert_int_equal(run_native(&p, regs), 1);
    assert_int_equal(mb.cpu.x[5], 9);
    assert_int_equal(run_both(&p, regs, "csr"), 1);

    p.len = 0;
    put32(&p, enc_i(9, 0, 0, 5, 0x13));
    put32(&p, 0x0000100f); /* fence.i */
    assert_int_equal(run_both(&p, regs, "fence.i"), 1);

    p.len = 0;
    put32(&p, enc_i(9, 0, 0, 5, 0x13));
    put32(&p, 0x100532af); /* lr.w x5, (x10): LR/SC stay interpreted */
    put32(&p, SELF_LOOP);
    assert_int_equal(run_both(&p, regs, "lr.w"), 1);

    p.len = 0;
    put32(&p, enc_i(9, 0, 0, 5, 0x13));
    put32(&p, EBREAK);
    assert_int_equal(run_both(&p, regs, "ebreak"), 1);

    /* nothing compiles when the first op does not */
    p.len = 0;
    put32(&p, CSRR_MINSTRET(6));
    prepare(&mb, &p, regs);
    bool ok;
    compile_b(&ok);
    assert_false(ok);
}

static const unsigned amo_f5[] = { 0x00, 0x01, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c };

static uint32_t enc_amo(unsigned f5, bool d, unsigned rd, unsigned rs2, unsigned rs1)
{
    return f5 << 27 | rs2 << 20 | rs1 << 15 | (d ? 3u : 2u) << 12 | rd << 7 | 0x2f;
}

/* Every AMO, both widths, on edge values in memory and in rs2; rd = rs2,
 * rd = rs1, rd = x0; the address in a host register and in memory. */
static void test_amo(void **state)
{
    (void)state;
    uint64_t regs[32];
    regs_fill(regs, 10);
    for (unsigned f = 0; f < 9; f++) {
        for (unsigned d = 0; d < 2; d++) {
            for (unsigned i = 0; i < NEDGES; i += 2) {
                for (unsigned j = 0; j < NEDGES; j += 3) {
                    struct prog p = { .len = 0 };
                    put32(&p, enc_s(0, 1, 10, 3));              /* sd x1, 0(x10): the memory value */
                    put32(&p, enc_s(8, 1, 10, 3));
                    put32(&p, enc_amo(amo_f5[f], d, 5, 2, 10));  /* amo x5, x2, (x10) */
                    put32(&p, enc_amo(amo_f5[f], d, 2, 2, 10));  /* rd = rs2 */
                    put32(&p, enc_i(8, 10, 0, 6, 0x13));         /* addi x6, x10, 8 */
                    put32(&p, enc_amo(amo_f5[f], d, 6, 7, 6));   /* rd = rs1 */
                    put32(&p, enc_amo(amo_f5[f], d, 0, 7, 10));  /* rd = x0 */
                    put32(&p, enc_amo(amo_f5[f], d, 8, 7, 11));  /* x11: used once, in memory */
                    put32(&p, enc_i(0, 10, 3, 9, 0x03));         /* ld x9, 0(x10) */
                    put32(&p, SELF_LOOP);
                    regs[1] = edges[i];
                    regs[2] = regs[7] = edges[j];
                    regs[10] = DATA + 0x800;
                    regs[11] = DATA + 0x1800;
                    char what[64];
                    snprintf(what, sizeof(what), "amo f5 %#x %s %u,%u", amo_f5[f], d ? "d" : "w",
                             i, j);
                    assert_int_equal(run_both(&p, regs, what), -1);
                }
            }
            /* misaligned, outside RAM and code-page AMOs go to the interpreter */
            struct prog p = { .len = 0 };
            put32(&p, enc_i(4, 10, 0, 6, 0x13)); /* addi x6, x10, 4 */
            put32(&p, enc_amo(amo_f5[f], d, 5, 2, 6));
            put32(&p, SELF_LOOP);
            regs[10] = DATA + 0x800;
            assert_int_equal(run_both(&p, regs, "amo misaligned (.d) or fine (.w)"), d ? 1 : -1);
            p.len = 0;
            put32(&p, enc_i(2, 10, 0, 6, 0x13));
            put32(&p, enc_amo(amo_f5[f], d, 5, 2, 6));
            put32(&p, SELF_LOOP);
            assert_int_equal(run_both(&p, regs, "amo misaligned"), 1);
            p.len = 0;
            put32(&p, enc_i(0, 0, 0, 6, 0x13)); /* x6 = 0: no RAM */
            put32(&p, enc_amo(amo_f5[f], d, 5, 2, 6));
            put32(&p, SELF_LOOP);
            assert_int_equal(run_both(&p, regs, "amo outside RAM"), 1);
            p.len = 0;
            put32(&p, enc_i(0, 12, 0, 6, 0x13)); /* x12 = CODE */
            put32(&p, enc_amo(amo_f5[f], d, 5, 2, 6));
            put32(&p, SELF_LOOP);
            regs[12] = CODE + 0x100;
            assert_int_equal(run_both(&p, regs, "amo on the code page"), 1);
        }
    }
}

/* CSR instructions compiled through the shared helper: every form, with
 * rd and rs1 in host registers and in memory, rd written earlier in the
 * block; an illegal one (the helper refuses: nothing changes, the
 * interpreter raises); interrupt enables with an interrupt pending (back to
 * the loop, which takes it at once); then whole programs in slices. */
static void test_csr(void **state)
{
    (void)state;
    static const unsigned csrs[] = { 0x340, 0x300, 0x304, 0x305, 0x341, 0x003, 0x002, 0x180 };
    unsigned native = 0;
    uint64_t regs[32];
    regs_fill(regs, 11);
    for (unsigned c = 0; c < sizeof(csrs) / sizeof(csrs[0]); c++) {
        for (unsigned f3 = 1; f3 < 8; f3++) {
            if (f3 == 4)
                continue;
            for (unsigned shape = 0; shape < 4; shape++) {
                struct prog p = { .len = 0 };
                unsigned rd = shape == 3 ? 0 : 6, rs1 = shape == 2 ? 0 : 7;
                if (shape == 1) { /* rd and rs1 used enough for host registers */
                    put32(&p, enc_r(0, 7, 6, 0, 6, 0x33)); /* add x6, x6, x7 */
                    put32(&p, enc_r(0, 7, 7, 0, 7, 0x33));
                }
                put32(&p, CSR(f3, rd, f3 >= 5 ? 13 + shape : rs1, csrs[c]));
                regs[7] = edges[(c * 7 + f3 + shape) % NEDGES] & ~(uint64_t)0x8aa; /* no MIE/SIE/MPRV */
                if (csrs[c] == 0x180)
                    regs[7] = 0; /* satp: bare (M-mode tests) */
                char what[64];
                snprintf(what, sizeof(what), "csr %#x f3 %u shape %u", csrs[c], f3, shape);
                fp_setup.on = true;
                fp_setup.fs = (c + f3) % 3 ? MSTATUS_FS_DIRTY : 0; /* fcsr, frm illegal when 0 */
                int k = run_both(&p, regs, what);
                unsigned at = shape == 1 ? 2 : 0;
                if (k == -1)
                    native++;
                else if (!(k == (int)at && mb.cpu.mcause == EXC_ILLEGAL))
                    fail_msg("%s: returned %d", what, k);
            }
        }
    }
    memset(&fp_setup, 0, sizeof(fp_setup));
    assert_true(native > 120);
    /* illegal (a CSR that does not exist): rd keeps what the block gave it */
    struct prog p = { .len = 0 };
    put32(&p, enc_i(5, 0, 0, 6, 0x13));         /* li x6, 5 */
    put32(&p, enc_r(0, 6, 6, 0, 6, 0x33));      /* add x6, x6, x6: a local, dirty */
    put32(&p, CSR(2, 6, 0, 0x7ff));             /* csrr x6, 0x7ff: illegal */
    assert_int_equal(run_both(&p, regs, "illegal csr"), 2);
    assert_int_equal(mb.cpu.x[6], 10);
    assert_int_equal(mb.cpu.mcause, EXC_ILLEGAL);
    /* the same with an FP conversion refused for its rounding mode */
    p.len = 0;
    put32(&p, enc_i(5, 0, 0, 6, 0x13));
    put32(&p, enc_r(0, 6, 6, 0, 6, 0x33));
    put32(&p, 0xc2208353u | 5u << 12);          /* fcvt.w.d x6, f1, rm 5: illegal */
    put32(&p, SELF_LOOP);
    fp_setup.on = true;
    fp_setup.fs = MSTATUS_FS_DIRTY;
    assert_int_equal(run_both(&p, regs, "illegal rm, int rd"), 2);
    assert_int_equal(mb.cpu.x[6], 10);
    memset(&fp_setup, 0, sizeof(fp_setup));

    /* a loop that turns interrupts off and on with a timer interrupt
     * pending: the enabling csrsi hands over to the loop, which traps to
     * mtvec (a handler that disables MTIP in mie and returns) */
    p.len = 0;
    put32(&p, enc_i(0, 0, 0, 5, 0x13));         /* li x5, 0 */
    unsigned loop = p.len;
    put32(&p, CSR(7, 0, 8, 0x300));             /* csrci mstatus, MIE */
    put32(&p, enc_i(1, 5, 0, 5, 0x13));         /* addi x5, x5, 1 */
    put32(&p, CSR(6, 0, 8, 0x300));             /* csrsi mstatus, MIE */
    put32(&p, enc_i(1, 5, 0, 5, 0x13));
    put32(&p, enc_b((int32_t)loop - (int32_t)p.len, 0, 0, 0)); /* j loop */
    unsigned handler = p.len;
    put32(&p, enc_i(0x80, 0, 0, 9, 0x13));      /* li x9, MTIP */
    put32(&p, CSR(3, 0, 9, 0x304));             /* csrc mie, x9 */
    put32(&p, enc_i(1, 8, 0, 8, 0x13));         /* addi x8, x8, 1: count the traps */
    put32(&p, 0x30200073);                      /* mret */
    uint64_t r2[32] = { 0 };
    prepare(&ma, &p, r2);
    prepare(&mb, &p, r2);
    struct machine *ms[2] = { &ma, &mb };
    for (int i = 0; i < 2; i++) {
        ms[i]->cpu.mtvec = CODE + handler;
        ms[i]->cpu.mip = MIP_MTIP;
    }
    static const uint64_t budgets[] = { 50, 3, 1000 };
    for (unsigned r = 0; r < 30; r++) {
        if (r % 10 == 5) /* raise it again */
            for (int i = 0; i < 2; i++)
                ms[i]->cpu.mie |= MIP_MTIP;
        riscv_jit_enable(false);
        riscv_cpu_run(&ma.cpu, budgets[r % 3]);
        riscv_jit_enable(true);
        riscv_cpu_run(&mb.cpu, budgets[r % 3]);
        compare("interrupt enable in a loop");
    }
    assert_true(mb.cpu.x[8] >= 2);
    assert_true(mb.cpu.jit_runs > 5);
}

/* A block cut at BLOCK_MAX_INSNS ends in END_BLOCK: pc = the next insn. */
static void test_long_block(void **state)
{
    (void)state;
    uint64_t regs[32];
    regs_fill(regs, 9);
    struct prog p = { .len = 0 };
    for (unsigned i = 0; i < BLOCK_MAX_INSNS + 6; i++) {
        if (i % 3 == 0)
            put16(&p, (uint16_t)(0x0285 | ((i & 31) << 2))); /* c.addi x5, i */
        else
            put32(&p, enc_r(0, (i % 7) + 5, (i % 5) + 5, (i % 3) * 3, (i % 6) + 5, 0x33));
    }
    put32(&p, SELF_LOOP);
    assert_int_equal(run_both(&p, regs, "long block"), -1);
    assert_int_equal(mb.cpu.instret, BLOCK_MAX_INSNS);
}

/* ---- random blocks ---- */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned rnd_reg(void)
{
    /* a few registers often (so they land in host registers), all sometimes;
     * x10/x11 are the memory bases and x13 a jump target: they stay put */
    static const unsigned hot[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15 };
    unsigned r;
    do {
        r = (rnd() & 3) ? hot[rnd() % 12] : (unsigned)(rnd() % 32);
    } while (r == 10 || r == 11 || r == 13);
    return r;
}

static unsigned rnd_src(void)
{
    unsigned r = (unsigned)(rnd() % 12);
    return r < 10 ? rnd_reg() : r; /* the bases as sources too */
}

static uint64_t rnd_value(void)
{
    switch (rnd() % 4) {
    case 0: return edges[rnd() % NEDGES];
    case 1: return (uint64_t)(int64_t)(int32_t)rnd();
    case 2: return rnd() % 70;
    default: return rnd();
    }
}

static void random_insn(struct prog *p)
{
    unsigned kind = (unsigned)(rnd() % 16);
    if (kind < 6) {
        const struct rop *o = &rops[rnd() % NROPS];
        put32(p, enc_r(o->f7, rnd_src(), rnd_src(), o->f3, rnd_reg(), o->opc));
    } else if (kind < 10) {
        const struct iop *o = &iops[rnd() % NIOPS];
        put32(p, enc_iop(o, (int32_t)(rnd() % 4096) - 2048, rnd_src(), rnd_reg()));
    } else if (kind < 11) {
        put32(p, enc_u((uint32_t)rnd() & 0xfffff, rnd_reg(), (rnd() & 1) ? 0x37 : 0x17));
    } else if (kind < 13) {
        unsigned l = (unsigned)(rnd() % 7);
        int32_t off = (int32_t)(rnd() % 4096) - 2048;
        if (rnd() % 8)
            off &= ~(int32_t)(load_size[l] - 1);
        put32(p, enc_i(off, 10 + (unsigned)(rnd() & 1), load_f3[l], rnd_reg(), 0x03));
    } else if (kind < 15) {
        unsigned s = (unsigned)(rnd() % 4);
        int32_t off = (int32_t)(rnd() % 4096) - 2048;
        if (rnd() % 8)
            off &= ~((1 << s) - 1);
        put32(p, enc_s(off, rnd_src(), 10 + (unsigned)(rnd() & 1), s));
    } else {
        switch (rnd() % 4) {
        case 0: put16(p, (uint16_t)(0x0001 | (rnd_reg() << 7) | ((rnd() & 31) << 2))); break;
        case 1: /* c.add (rs2 = 0 would be c.jalr / c.ebreak) */
            put16(p, (uint16_t)(0x9002 | (rnd_reg() << 7) | ((1 + rnd() % 31) << 2)));
            break;
        case 2:
            if (rnd() & 1)
                put32(p, 0x0ff0000f); /* fence */
            else /* an AMO at a base (aligned for .w and .d) */
                put32(p, enc_amo(amo_f5[rnd() % 9], rnd() & 1, rnd_reg(), rnd_src(),
                                 10 + (unsigned)(rnd() & 1)));
            break;
        default: put16(p, 0x0001); break;   /* c.nop */
        }
    }
}

static void random_end(struct prog *p)
{
    switch (rnd() % 8) {
    case 0: case 1: case 2:
        put32(p, enc_b(((int32_t)(rnd() % 8192) - 4096) & ~1, rnd_src(), rnd_src(),
                       (unsigned[]){ 0, 1, 4, 5, 6, 7 }[rnd() % 6]));
        break;
    case 3: put32(p, enc_j(((int32_t)(rnd() % 2097152) - 1048576) & ~1, rnd_reg())); break;
    case 4: put32(p, enc_i((int32_t)(rnd() % 4096) - 2048, rnd_src(), 0, rnd_reg(), 0x67)); break;
    case 5: put32(p, CSRR_MSCRATCH(rnd_reg())); break;
    case 6: put32(p, 0x00000073); break; /* ecall */
    default: break; /* runs on to the block size limit or the next op */
    }
}

static void test_random_blocks(void **state)
{
    (void)state;
    const char *env = getenv("CONDO_JIT_TEST_ITERS");
    unsigned iters = env ? (unsigned)strtoul(env, NULL, 0) : 4000;
    unsigned native_full = 0;
    for (unsigned it = 0; it < iters; it++) {
        struct prog p = { .len = 0 };
        unsigned n = 1 + (unsigned)(rnd() % 70);
        for (unsigned i = 0; i < n; i++)
            random_insn(&p);
        random_end(&p);
        put32(&p, SELF_LOOP);
        uint64_t regs[32];
        for (int r = 0; r < 32; r++)
            regs[r] = rnd_value();
        regs[10] = DATA + 0x800;
        regs[11] = DATA + 0x1800 + (rnd() % 2) * 0x400; /* may reach the cold page */
        char what[64];
        snprintf(what, sizeof(what), "random block %u", it);
        if (run_both(&p, regs, what) == -1)
            native_full++;
    }
    /* most blocks should run start to end natively */
    assert_true(native_full > iters / 4);
}

/* Run a whole program on both harts, interpreted and with the JIT (which
 * compiles hot blocks, chains them and follows jalr through the jump
 * cache), in slices of the given budgets: after every slice both harts
 * must agree exactly, down to where the budget stopped them. */
static void run_program(const struct prog *p, const uint64_t *regs, const uint64_t *budgets,
                        unsigned nbudgets, unsigned rounds, const char *what)
{
    prepare(&ma, p, regs);
    prepare(&mb, p, regs);
    ma.cpu.mtvec = mb.cpu.mtvec = CODE; /* traps (none expected) restart */
    for (unsigned r = 0; r < rounds; r++) {
        uint64_t budget = budgets[r % nbudgets];
        riscv_jit_enable(false);
        riscv_cpu_run(&ma.cpu, budget);
        riscv_jit_enable(true);
        riscv_cpu_run(&mb.cpu, budget);
        char w[96];
        snprintf(w, sizeof(w), "%s, slice %u of %llu", what, r, (unsigned long long)budget);
        compare(w);
    }
}

/* What the JIT did on hart b (and must never do on hart a) since `from`:
 * without it a multi-block test would compare the interpreter with itself
 * and pass whatever the JIT does. */
struct jit_count {
    uint64_t calls, went_on, a_calls;
};

static struct jit_count jit_count_now(void)
{
    return (struct jit_count){ mb.cpu.jit_calls, mb.cpu.jit_went_on, ma.cpu.jit_calls };
}

static void assert_jit_ran(struct jit_count from, uint64_t min_calls, uint64_t min_went_on,
                           const char *what)
{
    struct jit_count now = jit_count_now();
    uint64_t calls = now.calls - from.calls, went_on = now.went_on - from.went_on;
    print_message("%s: %llu calls into compiled code, %llu went on into chained blocks\n",
                  what, (unsigned long long)calls, (unsigned long long)went_on);
    assert_int_equal(now.a_calls, from.a_calls); /* hart a stayed interpreted */
    if (calls < min_calls || went_on < min_went_on) {
        print_error("%s: the JIT ran too little (want >= %llu calls, >= %llu chained)\n", what,
                    (unsigned long long)min_calls, (unsigned long long)min_went_on);
        fail();
    }
}

#define SLOT 256 /* random programs: block i starts at CODE + i * SLOT */

static void random_program(struct prog *p, unsigned nblocks)
{
    memset(p->b, 0, sizeof(p->b));
    for (unsigned i = 0; i < nblocks; i++) {
        p->len = i * SLOT;
        unsigned n = (unsigned)(rnd() % 30);
        for (unsigned k = 0; k < n; k++)
            random_insn(p);
        unsigned to = (unsigned)(rnd() % nblocks);
        int32_t rel = (int32_t)(to * SLOT) - (int32_t)p->len;
        unsigned kind = (unsigned)(rnd() % 5);
        if (kind == 4 && i == nblocks - 1)
            kind = 1; /* the last block cannot fall through */
        switch (kind) {
        case 0:
            put32(p, enc_b(rel, rnd_src(), rnd_src(), (unsigned[]){ 0, 1, 4, 5, 6, 7 }[rnd() % 6]));
            /* not taken: on to the next block, or back to the first */
            rel = (int32_t)(((i + 1) % nblocks) * SLOT) - (int32_t)p->len;
            put32(p, enc_j(rel, 0));
            break;
        case 1:
            put32(p, enc_j(rel, rnd_reg()));
            break;
        case 2: case 3: /* jalr through x13 = the target (+1: bit 0 is dropped) */
            put32(p, enc_u(0, 13, 0x17)); /* auipc x13, 0 */
            put32(p, enc_i(rel + (int32_t)(rnd() & 1), 13, 0, 13, 0x13));
            put32(p, enc_i(0, 13, 0, kind == 2 ? rnd_reg() : 13, 0x67));
            break;
        default:
            break; /* falls through the padding into the next block */
        }
        while (p->len < (i + 1) * SLOT) {
            if (rnd() & 1)
                put16(p, 0x0001); /* c.nop */
            else
                put32(p, 0x00000013); /* nop */
        }
    }
}

static void test_random_programs(void **state)
{
    (void)state;
    static const uint64_t budgets[] = { 1, 2, 7, 100, 1000, 33, 5000, 3 };
    const char *env = getenv("CONDO_JIT_TEST_ITERS");
    unsigned iters = env ? (unsigned)strtoul(env, NULL, 0) / 10 : 400;
    struct jit_count c0 = jit_count_now();
    for (unsigned it = 0; it < iters; it++) {
        struct prog p;
        random_program(&p, 2 + (unsigned)(rnd() % 7));
        uint64_t regs[32];
        for (int r = 0; r < 32; r++)
            regs[r] = rnd_value();
        regs[10] = DATA + 0x800;
        regs[11] = DATA + 0x1800 + (rnd() % 2) * 0x400;
        char what[64];
        snprintf(what, sizeof(what), "random program %u", it);
        run_program(&p, regs, budgets, 8, 24, what);
    }
    assert_jit_ran(c0, iters, iters / 4, "random programs");
}

/* Code that rewrites code: a loop calls (jalr) a function on another page
 * and patches that function's immediate every few rounds. The patched page's
 * blocks go stale, links into them must stop being taken, and the new
 * code must run. */
static void test_self_modifying(void **state)
{
    (void)state;
    struct prog p = { .len = 0 };
    memset(p.b, 0, sizeof(p.b));
    const unsigned fn = 0x1000;
    put32(&p, enc_i(0, 0, 0, 5, 0x13));          /* li x5, 0 */
    put32(&p, enc_i(600, 0, 0, 6, 0x13));        /* li x6, 600 */
    put32(&p, enc_u(1, 12, 0x17));               /* auipc x12, 1: x12 = fn (+8) */
    put32(&p, enc_i(-8, 12, 0, 12, 0x13));       /* addi x12, x12, -8 */
    unsigned loop = p.len;
    put32(&p, enc_i(0, 12, 0, 1, 0x67));         /* jalr x1, 0(x12): call fn */
    put32(&p, enc_i(31, 6, 7, 7, 0x13));         /* andi x7, x6, 31 */
    put32(&p, enc_b(20, 0, 7, 1));               /* bnez x7, skip */
    put32(&p, enc_i(0, 12, 2, 8, 0x03));         /* lw x8, 0(x12) */
    put32(&p, enc_u(0x100, 9, 0x37));            /* lui x9, 0x100: imm + 1 */
    put32(&p, enc_r(0, 9, 8, 0, 8, 0x33));       /* add x8, x8, x9 */
    put32(&p, enc_s(0, 8, 12, 2));               /* sw x8, 0(x12): patch */
    /* skip: */
    put32(&p, enc_i(-1, 6, 0, 6, 0x13));         /* addi x6, x6, -1 */
    put32(&p, enc_b((int32_t)loop - (int32_t)p.len, 0, 6, 1)); /* bnez x6, loop */
    unsigned done = p.len;
    put32(&p, enc_j(0, 0));                      /* done: jal x0, . */
    p.len = fn;
    put32(&p, enc_i(1, 5, 0, 5, 0x13));          /* fn: addi x5, x5, 1 (patched) */
    put32(&p, enc_r(0, 5, 5, 4, 14, 0x33));      /* xor x14, x5, x5 */
    put32(&p, enc_i(0, 1, 0, 0, 0x67));          /* ret */
    uint64_t regs[32] = { 0 };
    static const uint64_t budgets[] = { 100000 };
    struct jit_count c0 = jit_count_now();
    run_program(&p, regs, budgets, 1, 2, "self-modifying");
    assert_jit_ran(c0, 50, 50, "self-modifying");
    /* x5 = sum over rounds of the immediate in force: 1 for the first
     * rounds, one more after every 32nd */
    uint64_t x5 = 0, imm = 1;
    for (unsigned x6 = 600; x6; x6--) {
        x5 += imm;
        if ((x6 & 31) == 0)
            imm++;
    }
    assert_int_equal(mb.cpu.x[5], x5);
    assert_int_equal(mb.cpu.pc, CODE + done);
}

/* S-mode with Sv39: one code page mapped at two virtual addresses whose
 * next pages differ. A link made from the block at one address must not
 * be taken from the other, nor once the mapping has changed. */
static void set_pte(uint64_t table, unsigned idx, uint64_t pa, uint64_t flags)
{
    uint64_t pte = (pa >> 12) << 10 | flags;
    assert_int_equal(guest_ram_write(&ma.ram, table + 8 * idx, &pte, 8), 0);
    assert_int_equal(guest_ram_write(&mb.ram, table + 8 * idx, &pte, 8), 0);
}

static void test_aliased_mappings(void **state)
{
    (void)state;
    const uint64_t root = RAM_BASE + 0x4000, l1 = RAM_BASE + 0x5000, l0 = RAM_BASE + 0x6000;
    const uint64_t va1 = 0x40000000, va2 = 0x40002000;
    const uint64_t leaf = 0x4b; /* V R X A */
    struct prog p = { .len = 0 };
    memset(p.b, 0, sizeof(p.b));
    put32(&p, enc_i(1, 5, 0, 5, 0x13)); /* page 0: addi x5, x5, 1 */
    put32(&p, enc_j(0x1000 - 4, 0));    /* j next page */
    p.len = 0x1000;
    put32(&p, enc_i(1, 6, 0, 6, 0x13)); /* page 1: addi x6, x6, 1 */
    put32(&p, enc_j(-0x1000 - 4, 0));   /* j back */
    p.len = 0x2000;
    put32(&p, enc_i(1, 7, 0, 7, 0x13)); /* page 2: addi x7, x7, 1 */
    put32(&p, enc_j(-0x1000 - 4, 0));
    p.len = 0x3000;
    uint64_t regs[32] = { 0 };
    prepare(&ma, &p, regs);
    prepare(&mb, &p, regs);
    set_pte(root, 1, l1, 1);
    set_pte(l1, 0, l0, 1);
    set_pte(l0, 0, CODE, leaf);          /* va1 -> page 0 */
    set_pte(l0, 1, CODE + 0x1000, leaf); /* va1 + 4K -> page 1 */
    set_pte(l0, 2, CODE, leaf);          /* va2 -> page 0 */
    set_pte(l0, 3, CODE + 0x2000, leaf); /* va2 + 4K -> page 2 */
    struct machine *ms[2] = { &ma, &mb };
    for (int i = 0; i < 2; i++) {
        struct riscv_cpu *cpu = &ms[i]->cpu;
        cpu->priv = PRV_S;
        cpu->satp = (8ull << 60) | (root >> 12);
        riscv_mode_changed(cpu);
        riscv_tlb_flush(cpu);
        cpu->pc = va1;
    }
    struct jit_count c0 = jit_count_now();
    for (unsigned phase = 0; phase < 5; phase++) {
        for (int i = 0; i < 2; i++) {
            struct riscv_cpu *cpu = &ms[i]->cpu;
            cpu->pc = (phase & 1) ? va2 : va1;
            if (phase == 4) { /* va1 + 4K now maps page 2: sfence.vma */
                if (i == 0)
                    set_pte(l0, 1, CODE + 0x2000, leaf);
                riscv_tlb_flush(cpu);
            }
        }
        for (unsigned r = 0; r < 20; r++) {
            riscv_jit_enable(false);
            riscv_cpu_run(&ma.cpu, 50);
            riscv_jit_enable(true);
            riscv_cpu_run(&mb.cpu, 50);
            compare("aliased mappings");
        }
    }
    assert_jit_ran(c0, 50, 1, "aliased mappings");
    /* phases 0, 2: page 1; phases 1, 3, 4: page 2 */
    assert_true(mb.cpu.x[6] > 100 && mb.cpu.x[7] > 100);
    assert_int_equal(mb.cpu.x[5], mb.cpu.x[6] + mb.cpu.x[7] + (mb.cpu.pc >= va1 + 0x1000 ? 1 : 0));
}

/* One load site and one store site walk over three pages (two in the TLB,
 * one cold) and back, so each site's guess of its TLB entry goes stale
 * again and again; between slices the TLB is flushed or the data TLB set
 * changes (M to S with a bare satp, and back). */
static void test_site_guess(void **state)
{
    (void)state;
    struct prog p = { .len = 0 };
    put32(&p, enc_i(0, 0, 0, 6, 0x13));          /* li x6, 0: offset */
    put32(&p, enc_i(0, 0, 0, 7, 0x13));          /* li x7, 0: sum */
    unsigned loop = p.len;
    put32(&p, enc_r(0, 6, 10, 0, 8, 0x33));      /* add x8, x10, x6 */
    put32(&p, enc_i(0, 8, 3, 9, 0x03));          /* ld x9, 0(x8) */
    put32(&p, enc_r(0, 9, 7, 0, 7, 0x33));       /* add x7, x7, x9 */
    put32(&p, enc_s(8, 7, 8, 3));                /* sd x7, 8(x8) */
    put32(&p, enc_i(0x3f8, 6, 0, 6, 0x13));      /* addi x6, x6, 0x3f8 */
    put32(&p, enc_u(3, 9, 0x37));                /* lui x9, 3: 0x3000 */
    put32(&p, enc_b(8, 9, 6, 6));                /* bltu x6, x9, +8 */
    put32(&p, enc_i(0, 0, 0, 6, 0x13));          /* li x6, 0: wrap */
    put32(&p, enc_b((int32_t)loop - (int32_t)p.len, 0, 0, 0)); /* j loop */
    uint64_t regs[32] = { 0 };
    regs[10] = DATA;
    prepare(&ma, &p, regs);
    prepare(&mb, &p, regs);
    ma.cpu.mtvec = mb.cpu.mtvec = CODE;
    static const uint64_t budgets[] = { 37, 500, 3, 2000, 64 };
    for (unsigned r = 0; r < 60; r++) {
        struct machine *ms[2] = { &ma, &mb };
        for (int i = 0; i < 2; i++) {
            struct riscv_cpu *cpu = &ms[i]->cpu;
            if (r % 7 == 3)
                riscv_tlb_flush(cpu);
            if (r % 11 == 5) { /* another data TLB set: S-mode, satp bare */
                cpu->priv = cpu->priv == PRV_M ? PRV_S : PRV_M;
                riscv_mode_changed(cpu);
            }
        }
        riscv_jit_enable(false);
        riscv_cpu_run(&ma.cpu, budgets[r % 5]);
        riscv_jit_enable(true);
        riscv_cpu_run(&mb.cpu, budgets[r % 5]);
        compare("site guess");
    }
    assert_true(mb.cpu.jit_runs > 10);
    assert_true(ma.cpu.x[6] != 0 || ma.cpu.x[7] != 0);
}

/* A block writes satp and falls through to the next instruction, which the
 * new address space maps to other code: compiled code must not go on
 * through the link it made under the old one. Both spaces map the code's
 * virtual page: A to physical page 0, B to page 1 (the same code, except
 * that the instruction after csrw counts in x6 in A and in x7 in B). */
static void test_satp_switch(void **state)
{
    (void)state;
    const uint64_t va = 0x40000000;
    const uint64_t root[2] = { RAM_BASE + 0x4000, RAM_BASE + 0xb000 };
    struct prog p = { .len = 0 };
    memset(p.b, 0, sizeof(p.b));
    for (unsigned pg = 0; pg < 2; pg++) {
        p.len = pg * 0x1000;
        put32(&p, CSR(1, 0, 5, 0x180));               /* csrw satp, x5 */
        put32(&p, enc_i(1, pg ? 7 : 6, 0, pg ? 7 : 6, 0x13)); /* addi x6/x7, 1 */
        put32(&p, enc_j(-8, 0));                      /* j back */
    }
    p.len = 0x2000;
    uint64_t regs[32] = { 0 };
    prepare(&ma, &p, regs);
    prepare(&mb, &p, regs);
    uint64_t satp[2];
    for (unsigned sp = 0; sp < 2; sp++) {
        uint64_t l1 = root[sp] + 0x1000, l0 = root[sp] + 0x2000;
        set_pte(root[sp], 1, l1, 1);
        set_pte(l1, 0, l0, 1);
        set_pte(l0, 0, CODE + sp * 0x1000, 0x4b); /* V R X A */
        satp[sp] = 8ull << 60 | (uint64_t)(sp + 1) << 44 | root[sp] >> 12;
    }
    struct machine *ms[2] = { &ma, &mb };
    for (int i = 0; i < 2; i++) {
        struct riscv_cpu *cpu = &ms[i]->cpu;
        cpu->priv = PRV_S;
        cpu->satp = satp[0];
        riscv_tlb_flush(cpu);
        cpu->pc = va;
    }
    for (unsigned r = 0; r < 40; r++) {
        for (int i = 0; i < 2; i++)
            ms[i]->cpu.x[5] = satp[(r / 4) & 1];
        riscv_jit_enable(false);
        riscv_cpu_run(&ma.cpu, 40);
        riscv_jit_enable(true);
        riscv_cpu_run(&mb.cpu, 40);
        compare("satp switch");
    }
    assert_true(mb.cpu.x[6] > 50 && mb.cpu.x[7] > 50);
    assert_true(mb.cpu.jit_runs > 10);
}

/* A hot loop through riscv_cpu_run: compiled after JIT_THRESHOLD runs,
 * results checked against the same computation in C. */
static void test_hot_loop(void **state)
{
    (void)state;
    /* Every other test here needs the JIT too; this one says so plainly. */
    assert_true(riscv_jit_available());
    struct jit_count c0 = jit_count_now();
    struct prog p = { .len = 0 };
    /* x5 = counter, x6 = acc, x7 = xorshift state, x10 = buffer */
    put32(&p, enc_i(1000, 0, 0, 5, 0x13));     /* li x5, 1000 */
    put32(&p, enc_i(0, 0, 0, 6, 0x13));        /* li x6, 0 */
    put32(&p, enc_i(1234, 0, 0, 7, 0x13));     /* li x7, 1234 */
    unsigned loop = p.len;
    put32(&p, enc_i(13, 7, 1, 8, 0x13));       /* slli x8, x7, 13 */
    put32(&p, enc_r(0, 8, 7, 4, 7, 0x33));     /* xor x7, x7, x8 */
    put32(&p, enc_i(7, 7, 5, 8, 0x13));        /* srli x8, x7, 7 */
    put32(&p, enc_r(0, 8, 7, 4, 7, 0x33));     /* xor */
    put32(&p, enc_i(17, 7, 1, 8, 0x13));       /* slli x8, x7, 17 */
    put32(&p, enc_r(0, 8, 7, 4, 7, 0x33));     /* xor */
    put32(&p, enc_r(1, 7, 6, 0, 6, 0x3b));     /* mulw x6, x6, x7 */
    put32(&p, enc_r(0, 7, 6, 0, 6, 0x33));     /* add x6, x6, x7 */
    put32(&p, enc_i(0xff, 5, 7, 9, 0x13));     /* andi x9, x5, 255 */
    put32(&p, enc_i(3, 9, 1, 9, 0x13));        /* slli x9, x9, 3 */
    put32(&p, enc_r(0, 10, 9, 0, 9, 0x33));    /* add x9, x9, x10 */
    put32(&p, enc_i(0, 9, 3, 12, 0x03));       /* ld x12, 0(x9) */
    put32(&p, enc_r(0, 6, 12, 0, 12, 0x33));   /* add x12, x12, x6 */
    put32(&p, enc_s(0, 12, 9, 3));             /* sd x12, 0(x9) */
    put32(&p, enc_i(-1, 5, 0, 5, 0x13));       /* addi x5, x5, -1 */
    put32(&p, enc_b((int32_t)loop - (int32_t)p.len, 0, 5, 1)); /* bnez x5, loop */
    put32(&p, EBREAK);
    uint64_t regs[32] = { 0 };
    regs[10] = DATA;
    prepare(&mb, &p, regs);
    mb.cpu.mtvec = CODE + p.len - 4; /* ebreak traps to itself: parks the hart */
    riscv_cpu_run(&mb.cpu, 100000);

    uint64_t x5 = 1000, x6 = 0, x7 = 1234, buf[256];
    for (unsigned i = 0; i < 256; i++)
        buf[i] = data_pattern(i);
    while (x5) {
        x7 ^= x7 << 13;
        x7 ^= x7 >> 7;
        x7 ^= x7 << 17;
        x6 = (uint64_t)(int64_t)(int32_t)(uint32_t)(x6 * x7);
        x6 += x7;
        buf[x5 & 0xff] += x6;
        x5--;
    }
    assert_int_equal(mb.cpu.x[5], 0);
    assert_int_equal(mb.cpu.x[6], x6);
    assert_int_equal(mb.cpu.x[7], x7);
    assert_memory_equal(mb.ram.host + (DATA - RAM_BASE), buf, sizeof(buf));
    struct riscv_block *b = riscv_block_lookup(&mb.cpu, CODE + loop);
    assert_non_null(b);
    assert_non_null(b->jit);
    /* compiled after JIT_THRESHOLD rounds, then the loop runs natively */
    assert_jit_ran(c0, 1, 0, "hot loop");
    assert_true(mb.cpu.instret > 1000 * 16);
}

/* Filling the code buffer: compile fails and asks for a flush, which
 * makes room again. */
static void test_buffer_full(void **state)
{
    (void)state;
    uint64_t regs[32] = { 0 };
    struct prog p = { .len = 0 };
    for (unsigned i = 0; i < 60; i++)
        put32(&p, enc_i(8 * (int32_t)i, 10, 3, 5 + i % 20, 0x03)); /* loads: long code */
    put32(&p, SELF_LOOP);
    prepare(&mb, &p, regs);
    struct riscv_block *b = riscv_block_lookup(&mb.cpu, CODE);
    assert_non_null(b);
    riscv_jit_flush(&mb.cpu);
    unsigned n = 0;
    while (riscv_jit_compile(&mb.cpu, b)) {
        n++;
        assert_true(n < 1000000);
    }
    assert_true(n > 100);
    assert_true(riscv_jit_needs_flush(&mb.cpu));
    assert_false(riscv_jit_compile(&mb.cpu, b));
    riscv_jit_flush(&mb.cpu);
    assert_false(riscv_jit_needs_flush(&mb.cpu));
    assert_true(riscv_jit_compile(&mb.cpu, b));
    riscv_jit_flush(&mb.cpu);
}

/* An idle hart gives its caches back (riscv_cpu_trim): blocks and code
 * are gone, and the hart runs on, decoding and compiling afresh. Too
 * little to be worth it is left alone. */
static void test_trim(void **state)
{
    (void)state;
    uint64_t regs[32] = { 0 };
    regs[10] = DATA;
    struct prog p = { .len = 0 };
    for (unsigned i = 0; i < 60; i++)
        put32(&p, enc_i(8 * (int32_t)i, 10, 3, 5 + i % 20, 0x03)); /* loads: long code */
    put32(&p, SELF_LOOP);
    riscv_cpu_trim(&mb.cpu); /* what earlier tests left */
    prepare(&mb, &p, regs);
    struct riscv_block *b = riscv_block_lookup(&mb.cpu, CODE);
    assert_non_null(b);
    assert_true(riscv_jit_compile(&mb.cpu, b));
    assert_int_equal(riscv_cpu_trim(&mb.cpu), 0); /* one block: not worth it */
    assert_non_null(riscv_block_lookup(&mb.cpu, CODE));
    while (riscv_jit_used(&mb.cpu) < (2u << 20))
        assert_true(riscv_jit_compile(&mb.cpu, b));
    size_t held = riscv_cpu_trim(&mb.cpu);
    assert_true(held >= (2u << 20));
    assert_int_equal(riscv_jit_used(&mb.cpu), 0);
    assert_int_equal(mb.cpu.bcache->arena_used, 0);
    /* the hart runs on: the same block, decoded and compiled again, agrees
     * with the interpreter */
    run_both(&p, regs, "after a trim");
}

int main(void)
{
#if !defined(__x86_64__)
    /* tests/unit/run.sh accepts this skip: it names its reason */
    printf("OPTIONAL SKIP: test_jit: the JIT exists for x86-64 hosts only\n");
    return 0;
#endif
    /* CONDO_JIT=0 in the environment would turn the JIT off for us too */
    unsetenv("CONDO_JIT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtype_edges),
        cmocka_unit_test(test_rtype_in_host_regs),
        cmocka_unit_test(test_itype_edges),
        cmocka_unit_test(test_lui_auipc_jal),
        cmocka_unit_test(test_jalr),
        cmocka_unit_test(test_branches),
        cmocka_unit_test(test_loads_stores),
        cmocka_unit_test(test_side_exits),
        cmocka_unit_test(test_amo),
        cmocka_unit_test(test_csr),
        cmocka_unit_test(test_long_block),
        cmocka_unit_test(test_random_blocks),
        cmocka_unit_test(test_random_programs),
        cmocka_unit_test(test_self_modifying),
        cmocka_unit_test(test_aliased_mappings),
        cmocka_unit_test(test_satp_switch),
        cmocka_unit_test(test_site_guess),
        cmocka_unit_test(test_hot_loop),
        cmocka_unit_test(test_buffer_full),
        cmocka_unit_test(test_trim),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
