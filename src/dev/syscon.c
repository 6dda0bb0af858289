/* SiFive test device ("finisher"), used as a syscon for poweroff/reboot.
 * One write-only register at offset 0; the low 16 bits select the action,
 * for a failure the high 16 bits carry the exit code. Reads return 0. */
#include <errno.h>
#include <string.h>

#include "condo/dev_syscon.h"

#define SYSCON_FINISHER_FAIL 0x3333u
#define SYSCON_FINISHER_PASS 0x5555u
#define SYSCON_FINISHER_RESET 0x7777u

#define SYSCON_STATE_VERSION 1

static void syscon_fire(struct syscon *s, enum syscon_action act, unsigned code)
{
    if (s->action)
        s->action(s->opaque, act, code);
}

static void syscon_read(void *opaque, uint64_t offset, unsigned size, uint64_t *val)
{
    struct syscon *s = opaque;
    (void)size;
    *val = 0;
    if (offset != 0)
        log_guest(&s->log, "read of unknown register at offset 0x%llx",
                    (unsigned long long)offset);
}

static void syscon_write(void *opaque, uint64_t offset, unsigned size, uint64_t val)
{
    struct syscon *s = opaque;

    if (offset != 0) {
        log_guest(&s->log, "write of unknown register at offset 0x%llx",
                    (unsigned long long)offset);
        return;
    }
    uint32_t v = (uint32_t)val;
    unsigned code = size >= 4 ? v >> 16 : 0;
    switch (v & 0xffff) {
    case SYSCON_FINISHER_PASS:
        syscon_fire(s, SYSCON_POWEROFF, 0);
        break;
    case SYSCON_FINISHER_FAIL:
        syscon_fire(s, SYSCON_FAIL, code);
        break;
    case SYSCON_FINISHER_RESET:
        syscon_fire(s, SYSCON_RESET, 0);
        break;
    default:
        log_guest(&s->log, "unknown command 0x%x", v);
        break;
    }
}

static void syscon_reset(void *opaque)
{
    (void)opaque; /* no state */
}

static void syscon_save(void *opaque, struct state_buf *s)
{
    (void)opaque;
    state_put_u8(s, SYSCON_STATE_VERSION);
}

static int syscon_load(void *opaque, struct state_buf *s)
{
    (void)opaque;
    if (state_get_u8(s) != SYSCON_STATE_VERSION || s->err)
        return -EINVAL;
    return 0;
}

const struct dev_ops syscon_ops = {
    .name = "syscon",
    .min_access = 2,
    .max_access = 4,
    .read = syscon_read,
    .write = syscon_write,
    .reset = syscon_reset,
    .save = syscon_save,
    .load = syscon_load,
};

void syscon_init(struct syscon *s,
                 void (*action)(void *opaque, enum syscon_action act, unsigned code),
                 void *opaque)
{
    memset(s, 0, sizeof(*s));
    s->action = action;
    s->opaque = opaque;
    log_limit_init(&s->log, "syscon");
}
