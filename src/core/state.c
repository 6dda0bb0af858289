/* Byte stream for saved state; little-endian, bounds-checked on read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "condo/state.h"

void state_init_writer(struct state_buf *s)
{
    memset(s, 0, sizeof(*s));
}

void state_init_reader(struct state_buf *s, const void *data, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->data = (uint8_t *)data;
    s->len = len;
}

void state_free(struct state_buf *s)
{
    if (s->cap)
        free(s->data);
    memset(s, 0, sizeof(*s));
}

void state_put_bytes(struct state_buf *s, const void *p, size_t n)
{
    if (s->err)
        return;
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + n)
            cap *= 2;
        uint8_t *d = realloc(s->data, cap);
        if (!d) {
            s->err = -ENOMEM;
            return;
        }
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
}

void state_put_u8(struct state_buf *s, uint8_t v)
{
    state_put_bytes(s, &v, 1);
}
void state_put_u16(struct state_buf *s, uint16_t v)
{
    uint8_t b[2];
    le16_store(b, v);
    state_put_bytes(s, b, 2);
}
void state_put_u32(struct state_buf *s, uint32_t v)
{
    uint8_t b[4];
    le32_store(b, v);
    state_put_bytes(s, b, 4);
}
void state_put_u64(struct state_buf *s, uint64_t v)
{
    uint8_t b[8];
    le64_store(b, v);
    state_put_bytes(s, b, 8);
}

void state_get_bytes(struct state_buf *s, void *p, size_t n)
{
    if (s->err || n > s->len - s->pos) {
        s->err = s->err ? s->err : -EINVAL;
        memset(p, 0, n);
        return;
    }
    memcpy(p, s->data + s->pos, n);
    s->pos += n;
}

uint8_t state_get_u8(struct state_buf *s)
{
    uint8_t v;
    state_get_bytes(s, &v, 1);
    return v;
}
uint16_t state_get_u16(struct state_buf *s)
{
    uint8_t b[2];
    state_get_bytes(s, b, 2);
    return le16_load(b);
}
uint32_t state_get_u32(struct state_buf *s)
{
    uint8_t b[4];
    state_get_bytes(s, b, 4);
    return le32_load(b);
}
uint64_t state_get_u64(struct state_buf *s)
{
    uint8_t b[8];
    state_get_bytes(s, b, 8);
    return le64_load(b);
}
