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
    /* nothing to add (p may be NULL then: memcpy must not see it) */
    if (s->err || n == 0)
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

/* --- field tables --- */

void state_put_fields(struct state_buf *s, const struct state_field *f, size_t n,
                      const void *obj)
{
    const uint8_t *base = obj;
    for (size_t i = 0; i < n; i++) {
        for (unsigned k = 0; k < f[i].count; k++) {
            const uint8_t *p = base + f[i].offset + (size_t)k * f[i].size;
            switch (f[i].size) {
            case 1: state_put_u8(s, *p); break;
            case 2: { uint16_t v; memcpy(&v, p, 2); state_put_u16(s, v); break; }
            case 4: { uint32_t v; memcpy(&v, p, 4); state_put_u32(s, v); break; }
            case 8: { uint64_t v; memcpy(&v, p, 8); state_put_u64(s, v); break; }
            default: s->err = s->err ? s->err : -EINVAL; return;
            }
        }
    }
}

void state_get_fields(struct state_buf *s, const struct state_field *f, size_t n, void *obj)
{
    uint8_t *base = obj;
    for (size_t i = 0; i < n; i++) {
        for (unsigned k = 0; k < f[i].count; k++) {
            uint8_t *p = base + f[i].offset + (size_t)k * f[i].size;
            uint64_t v;
            switch (f[i].size) {
            case 1: v = state_get_u8(s); break;
            case 2: v = state_get_u16(s); break;
            case 4: v = state_get_u32(s); break;
            case 8: v = state_get_u64(s); break;
            default: v = 0; s->err = s->err ? s->err : -EINVAL; break;
            }
            if (s->err)
                return;
            /* Out of range (a bool that is not 0 or 1): refused before it
             * is stored, so no invalid value ever lands in obj. */
            if (f[i].max && v > f[i].max) {
                s->err = -ERANGE;
                return;
            }
            switch (f[i].size) {
            case 1: { uint8_t b = (uint8_t)v; memcpy(p, &b, 1); break; }
            case 2: { uint16_t h = (uint16_t)v; memcpy(p, &h, 2); break; }
            case 4: { uint32_t w = (uint32_t)v; memcpy(p, &w, 4); break; }
            default: memcpy(p, &v, 8); break;
            }
        }
    }
}

void state_copy_fields(const struct state_field *f, size_t n, void *dst, const void *src)
{
    for (size_t i = 0; i < n; i++)
        memcpy((uint8_t *)dst + f[i].offset, (const uint8_t *)src + f[i].offset,
               (size_t)f[i].size * f[i].count);
}
