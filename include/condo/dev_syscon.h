/* SiFive test/syscon device (QEMU virt: 0x00100000, 0x1000 bytes).
 * 32-bit write at offset 0: 0x5555 = poweroff (pass), (code << 16) | 0x3333
 * = poweroff with failure `code`, 0x7777 = reset. Linux uses it through the
 * syscon-poweroff / syscon-reboot device-tree nodes. */
#ifndef CONDO_DEV_SYSCON_H
#define CONDO_DEV_SYSCON_H

#include "condo/log.h"
#include "condo/device.h"

#define SYSCON_SIZE 0x1000

enum syscon_action { SYSCON_POWEROFF, SYSCON_FAIL, SYSCON_RESET };

struct syscon {
    void (*action)(void *opaque, enum syscon_action act, unsigned code);
    void *opaque;
    struct log_limit log; /* guest errors, rate-limited (not saved) */
};

extern const struct dev_ops syscon_ops;

void syscon_init(struct syscon *s,
                 void (*action)(void *opaque, enum syscon_action act, unsigned code),
                 void *opaque);

#endif
