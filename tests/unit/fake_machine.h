/* A machine with no devices for snapshot-file tests and the snapshot
 * fuzzer: its state is one versioned u32 (fake_machine_state) and its RAM
 * is fake_machine_ram, which the includer sets up. Header-only: the unit
 * tests and the libFuzzer targets are built separately. */
#ifndef CONDO_TESTS_FAKE_MACHINE_H
#define CONDO_TESTS_FAKE_MACHINE_H

#include <errno.h>

#include "condo/error.h"
#include "condo/guest_ram.h"
#include "condo/machine.h"
#include "condo/state.h"

static struct guest_ram fake_machine_ram;
static uint32_t fake_machine_state;

static int fake_machine_save(struct machine *m, struct state_buf *s, struct error *err)
{
    (void)m;
    (void)err;
    state_put_u8(s, 1);
    state_put_u32(s, fake_machine_state);
    return 0;
}

static int fake_machine_load(struct machine *m, struct state_buf *s, struct error *err)
{
    (void)m;
    uint8_t v = state_get_u8(s);
    uint32_t x = state_get_u32(s);
    if (s->err || v != 1)
        return error_set(err, -EINVAL, "machine state: malformed");
    fake_machine_state = x;
    return 0;
}

static struct guest_ram *fake_machine_get_ram(struct machine *m)
{
    (void)m;
    return &fake_machine_ram;
}

static const struct machine_ops fake_machine_ops = {
    .name = "riscv-virt",
    .arch = "riscv64",
    .save = fake_machine_save,
    .load = fake_machine_load,
    .ram = fake_machine_get_ram,
};

static struct machine fake = { &fake_machine_ops };

#endif
