/* Shared basics: logging, error conventions, little helpers.
 * Functions return 0 or a negative errno; user-facing messages go through
 * condo_err() and say what failed, which file or value, and what to do. */
#ifndef CONDO_COMMON_H
#define CONDO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Log levels: errors always print; guest errors (a guest doing something a
 * real device would reject) print once per call site unless CONDO_DEBUG is
 * set, so a hostile guest cannot flood the host's terminal. */
void condo_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void condo_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void condo_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void condo_guest_error_at(const char *site, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define guest_error(...) condo_guest_error_at(__func__, __VA_ARGS__)

/* Whether debug/info output is enabled (set once from the CLI). */
/* The release: condo --version, the API's GET / and GET /version. */
#define CONDO_VERSION "0.1.0"

extern int condo_verbosity;

/* Host monotonic clock in nanoseconds. */
uint64_t condo_clock_ns(void);
/* condo_clock_ns() when the process started (before main). */
extern uint64_t condo_start_ns;

/* Little-endian loads and stores from byte buffers (host may be any endian). */
static inline uint16_t le16_load(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t le32_load(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
           ((uint32_t)b[3] << 24);
}
static inline uint64_t le64_load(const void *p)
{
    return (uint64_t)le32_load(p) | ((uint64_t)le32_load((const uint8_t *)p + 4) << 32);
}
static inline void le16_store(void *p, uint16_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}
static inline void le32_store(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}
static inline void le64_store(void *p, uint64_t v)
{
    le32_store(p, (uint32_t)v);
    le32_store((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

#endif
