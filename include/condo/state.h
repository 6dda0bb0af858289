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

/* A device's saved state described once, as a table of its struct's
 * fields: save and load both walk the same table, so they cannot drift.
 * Each field is `count` little-endian integers of `size` bytes (1, 2, 4 or
 * 8; a bool is 1). A load reads into a scratch copy of the struct, the
 * device checks the copy, and only then state_copy_fields() commits the
 * listed fields: a bad stream changes nothing. */
struct state_field {
    const char *name;
    size_t offset;
    uint8_t size;
    uint16_t count;
    uint64_t max; /* 0: any value; else a larger value fails the load */
};

#define STATE_MEMBER_(type, m) (((type *)0)->m)
/* One integer member. */
#define STATE_FIELD(type, m)                                                                  \
    { #m, offsetof(type, m), (uint8_t)sizeof(STATE_MEMBER_(type, m)), 1, 0 }
/* The same, refusing values above mx on load. */
#define STATE_FIELD_MAX(type, m, mx)                                                          \
    { #m, offsetof(type, m), (uint8_t)sizeof(STATE_MEMBER_(type, m)), 1, (mx) }
/* A bool: checked to be 0 or 1 before it is stored, so no invalid bool
 * value ever lands in the struct. */
#define STATE_BOOL(type, m) STATE_FIELD_MAX(type, m, 1)
/* The first n elements of an array member. */
#define STATE_ARRAY_N(type, m, n)                                                             \
    { #m, offsetof(type, m), (uint8_t)sizeof(STATE_MEMBER_(type, m)[0]), (uint16_t)(n), 0 }
/* A whole array member. */
#define STATE_ARRAY(type, m)                                                                  \
    STATE_ARRAY_N(type, m, sizeof(STATE_MEMBER_(type, m)) / sizeof(STATE_MEMBER_(type, m)[0]))

void state_put_fields(struct state_buf *s, const struct state_field *f, size_t n,
                      const void *obj);
/* Reads into obj (a scratch copy); on a short stream s->err is set. */
void state_get_fields(struct state_buf *s, const struct state_field *f, size_t n, void *obj);
/* Copy the listed fields from src to dst (commit a checked scratch copy). */
void state_copy_fields(const struct state_field *f, size_t n, void *dst, const void *src);

#endif
