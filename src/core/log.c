/* Logging. Guest errors are rate-limited per call site: a hostile guest must
 * not be able to flood the host terminal or slow the VMM with log I/O. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "condo/common.h"

int condo_verbosity;

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    /* \r so the line starts at column 0 even when the console is raw. */
    fprintf(stderr, "\rcondo: %s%s\n", prefix, buf);
}

void condo_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

void condo_info(const char *fmt, ...)
{
    if (condo_verbosity < 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

void condo_debug(const char *fmt, ...)
{
    if (condo_verbosity < 2)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("debug: ", fmt, ap);
    va_end(ap);
}

/* A small table of call sites already reported. */
#define GUEST_ERROR_SITES 64
static const char *reported[GUEST_ERROR_SITES];
static unsigned nreported;

void condo_guest_error_at(const char *site, const char *fmt, ...)
{
    if (condo_verbosity < 2) {
        for (unsigned i = 0; i < nreported; i++)
            if (reported[i] == site)
                return;
        if (nreported < GUEST_ERROR_SITES)
            reported[nreported++] = site;
        if (condo_verbosity < 1)
            return;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fprintf(stderr, "\rcondo: guest error in %s: %s\n", site, buf);
}
