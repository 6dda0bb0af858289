/* A character backend a serial device writes to (the console). */
#ifndef CONDO_CHARDEV_H
#define CONDO_CHARDEV_H

#include "condo/common.h"

struct chardev {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
};

static inline void chardev_write(const struct chardev *c, const uint8_t *buf, size_t len)
{
    if (c && c->write)
        c->write(c->opaque, buf, len);
}

#endif
