/* A growable byte stream for device and CPU state (save/load entry points).
 * Little-endian throughout so state is portable between hosts. Readers never
 * trust the stream: a short or malformed stream sets `err` and reads zero. */
#ifndef CONDO_STATE_H
#define CONDO_STATE_H

#include "condo/common.h"

struct state_buf {
    uint8_t *data;
    size_t len; /* bytes written (writer) or available (reader) */
    size_t cap;
    size_t pos; /* read position */
    int err;    /* first error, negative errno; sticky */
};

void state_init_writer(struct state_buf *s);
void state_init_reader(struct state_buf *s, const void *data, size_t len);
void state_free(struct state_buf *s);

void state_put_u8(struct state_buf *s, uint8_t v);
void state_put_u16(struct state_buf *s, uint16_t v);
void state_put_u32(struct state_buf *s, uint32_t v);
void state_put_u64(struct state_buf *s, uint64_t v);
void state_put_bytes(struct state_buf *s, const void *p, size_t n);

uint8_t state_get_u8(struct state_buf *s);
uint16_t state_get_u16(struct state_buf *s);
uint32_t state_get_u32(struct state_buf *s);
uint64_t state_get_u64(struct state_buf *s);
void state_get_bytes(struct state_buf *s, void *p, size_t n);

#endif
