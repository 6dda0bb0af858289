/* The hart's save/load: a restored hart continues exactly where the saved
 * one was, and a short or foreign stream is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "condo/riscv.h"
#include "state_check.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1u << 20)

struct rig {
    struct guest_ram ram;
    struct bus bus;
    struct vm_clock clock;
    struct riscv_cpu cpu;
};

static void rig_init(struct rig *r)
{
    assert_int_equal(guest_ram_init(&r->ram, RAM_BASE, RAM_SIZE), 0);
    bus_init(&r->bus);
    vm_clock_init(&r->clock);
    assert_int_equal(riscv_cpu_init(&r->cpu, &r->ram, &r->bus, &r->clock, 0), 0);
}

static void rig_free(struct rig *r)
{
    riscv_cpu_free(&r->cpu);
    guest_ram_free(&r->ram);
}

/* A loop that mixes integer, memory and FP state:
 *   li t0, 0; li t1, 100000; auipc t2, 0x10 (RAM + 0x1000c)
 *   csrs mstatus, FS=initial; fcvt.d.l f1, t1
 * loop:
 *   addi t0, t0, 3; mul t3, t0, t0; sd t3, 4(t2); ld t4, 4(t2); add a0, a0, t4
 *   fcvt.d.l f0, t0; fadd.d f2, f2, f0
 *   addi t1, t1, -1; bnez t1, loop
 *   wfi; j . */
static const uint32_t program[] = { /* riscv64-unknown-elf-as -march=rv64g */
    0x00000293, 0x00018337, 0x6a03031b, 0x00010397, 0x00002e37, 0x300e2073,
    0xd22370d3, 0x00328293, 0x02528e33, 0x01c3b223, 0x0043be83, 0x01d50533,
    0xd222f053, 0x02017153, 0xfff30313, 0xfe0310e3, 0x10500073, 0x0000006f,
};

static void load_program(struct rig *r)
{
    uint8_t buf[sizeof(program)];
    for (size_t i = 0; i < ARRAY_SIZE(program); i++)
        le32_store(buf + 4 * i, program[i]);
    assert_int_equal(guest_ram_write(&r->ram, RAM_BASE, buf, sizeof(buf)), 0);
    riscv_cpu_reset(&r->cpu, RAM_BASE);
}

static void run_to_wfi(struct riscv_cpu *cpu)
{
    for (int i = 0; i < 1000; i++)
        if (riscv_cpu_run(cpu, 100000) == RISCV_RUN_WFI)
            return;
    fail_msg("the program never reached wfi");
}

static void test_restore_continues(void **state)
{
    (void)state;
    struct rig a, b, ref;
    rig_init(&a);
    rig_init(&b);
    rig_init(&ref);
    load_program(&a);
    load_program(&ref);
    run_to_wfi(&ref.cpu);

    /* stop a part-way, move its state and memory to b, finish there */
    riscv_cpu_run(&a.cpu, 300000);
    assert_int_not_equal(a.cpu.x[6], 0); /* still looping */
    struct state_buf s;
    state_init_writer(&s);
    riscv_cpu_save(&a.cpu, &s);
    assert_int_equal(s.err, 0);
    memcpy(b.ram.host, a.ram.host, RAM_SIZE);
    struct state_buf rd;
    state_init_reader(&rd, s.data, s.len);
    assert_int_equal(riscv_cpu_load(&b.cpu, &rd), 0);
    run_to_wfi(&b.cpu);

    for (int i = 0; i < 32; i++)
        assert_int_equal(b.cpu.x[i], ref.cpu.x[i]);
    for (int i = 0; i < 32; i++)
        assert_int_equal(b.cpu.f[i], ref.cpu.f[i]);
    assert_int_equal(b.cpu.pc, ref.cpu.pc);
    assert_int_equal(b.cpu.instret, ref.cpu.instret);
    assert_int_equal(b.cpu.mstatus, ref.cpu.mstatus);
    state_free(&s);
    rig_free(&a);
    rig_free(&b);
    rig_free(&ref);
}

static void test_bad_streams_refused(void **state)
{
    (void)state;
    struct rig a;
    rig_init(&a);
    struct state_buf s;
    state_init_writer(&s);
    riscv_cpu_save(&a.cpu, &s);
    /* every truncation is refused */
    for (size_t n = 0; n < s.len; n += 7) {
        struct state_buf rd;
        state_init_reader(&rd, s.data, n);
        assert_int_equal(riscv_cpu_load(&a.cpu, &rd), -EINVAL);
    }
    /* an unknown section version is refused */
    s.data[0] = 0xee;
    struct state_buf rd;
    state_init_reader(&rd, s.data, s.len);
    assert_int_equal(riscv_cpu_load(&a.cpu, &rd), -EINVAL);
    state_free(&s);
    rig_free(&a);
}

static void cpu_save_fn(void *dev, struct state_buf *s)
{
    riscv_cpu_save(dev, s);
}
static int cpu_load_fn(void *dev, struct state_buf *s)
{
    return riscv_cpu_load(dev, s);
}

/* A hart part-way through a program: every truncated or corrupted stream
 * is refused with the hart unchanged, or loads. */
static void test_state_hostile(void **state)
{
    (void)state;
    struct rig a;
    rig_init(&a);
    load_program(&a);
    riscv_cpu_run(&a.cpu, 300000);
    assert_true(state_check_device(&a.cpu, cpu_save_fn, cpu_load_fn) > 0);
    rig_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restore_continues),
        cmocka_unit_test(test_bad_streams_refused),
        cmocka_unit_test(test_state_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
