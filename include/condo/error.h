/* Errors as values. A function that can fail for a reason a person has to
 * read returns a negative errno and, when given a `struct error *`, fills it
 * with one line that says what failed, which file or value, and what to do.
 * Only the top of the program prints it, once: the CLI as "condo: MSG", the
 * API as {"fault_message": MSG}. Libraries never print their own failures.
 *
 *     struct error err = ERROR_INIT;
 *     if (block_open(path, fmt, ro, &b, &err) < 0)
 *         return cli_fail(&err);
 *
 * The first error set wins (it is the cause; later ones are consequences);
 * callers add context in front with error_prefix(). Passing NULL for the
 * error is allowed where the caller only wants the code. */
#ifndef CONDO_ERROR_H
#define CONDO_ERROR_H

#include "condo/common.h"

#define ERROR_MSG_MAX 512

struct error {
    int code; /* negative errno; 0 while no error is set */
    char msg[ERROR_MSG_MAX];
};

#define ERROR_INIT { 0, { 0 } }

/* Sets the error unless one is already set; returns `code` (negative) so a
 * failure path is one line: `return error_set(err, -ENOENT, "...", ...);`. */
int error_set(struct error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with ": strerror(-code)" appended. */
int error_set_errno(struct error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Puts context in front of the message ("disk vdb: " + msg). */
void error_prefix(struct error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void error_clear(struct error *e);

static inline bool error_is_set(const struct error *e)
{
    return e && e->code != 0;
}

/* What kind of failure it is, so callers keep the class across layers:
 * exit statuses and API status codes are derived from it, never guessed. */
enum error_class {
    ERROR_CLASS_NONE = 0,
    ERROR_CLASS_INPUT,    /* bad option, file or value from the user (exit 2, HTTP 400) */
    ERROR_CLASS_STATE,    /* wrong state for the request: busy, exists, not running (409) */
    ERROR_CLASS_RESOURCE, /* the host lacks memory, descriptors, space (exit 6, HTTP 507) */
    ERROR_CLASS_IO,       /* the host's I/O failed (exit 4, HTTP 500) */
    ERROR_CLASS_INTERNAL, /* a bug or an unexpected host condition (exit 4, HTTP 500) */
};

enum error_class error_class_of(int code);
static inline enum error_class error_class(const struct error *e)
{
    return e ? error_class_of(e->code) : ERROR_CLASS_NONE;
}

#endif
