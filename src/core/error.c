/* Errors as values: see include/condo/error.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "condo/error.h"

static int vset(struct error *e, int code, bool with_errno, const char *fmt, va_list ap)
{
    if (code >= 0)
        code = -EINVAL; /* a caller bug: an error without a cause is still an error */
    if (!e || e->code)
        return code;
    e->code = code;
    int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    if (n < 0)
        e->msg[0] = 0;
    if (with_errno) {
        size_t len = strlen(e->msg);
        snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(-code));
    }
    return code;
}

int error_set(struct error *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vset(e, code, false, fmt, ap);
    va_end(ap);
    return r;
}

int error_set_errno(struct error *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vset(e, code, true, fmt, ap);
    va_end(ap);
    return r;
}

void error_prefix(struct error *e, const char *fmt, ...)
{
    if (!e || !e->code)
        return;
    char pre[ERROR_MSG_MAX], old[ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof(pre), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    /* Truncation keeps the front: the context and the start of the cause. */
    size_t n = strnlen(pre, sizeof(e->msg) - 1);
    memcpy(e->msg, pre, n);
    size_t rest = strnlen(old, sizeof(old));
    if (rest > sizeof(e->msg) - 1 - n)
        rest = sizeof(e->msg) - 1 - n;
    memcpy(e->msg + n, old, rest);
    e->msg[n + rest] = 0;
}

void error_clear(struct error *e)
{
    if (e) {
        e->code = 0;
        e->msg[0] = 0;
    }
}

enum error_class error_class_of(int code)
{
    switch (-code) {
    case 0:
        return ERROR_CLASS_NONE;
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case ENOSPC:
    case EDQUOT:
    case EAGAIN:
        return ERROR_CLASS_RESOURCE;
    case EBUSY:
    case EEXIST:
    case ESRCH:
    case EALREADY:
    case ECONNREFUSED:
        return ERROR_CLASS_STATE;
    case EIO:
        return ERROR_CLASS_IO;
    case EINVAL:
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case EACCES:
    case EPERM:
    case EROFS:
    case ENOTSUP:
    case E2BIG:
    case ELOOP:
    case ENOEXEC:
    case ERANGE:
    case ENAMETOOLONG:
    case EFBIG:
    case ENXIO:
    case ENODEV:
    case EXDEV:
        return ERROR_CLASS_INPUT;
    default:
        return ERROR_CLASS_INTERNAL;
    }
}
