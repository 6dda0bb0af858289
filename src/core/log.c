/* Logging. Devices and backends log through their own rate-limited handle
 * (include/condo/log.h): a hostile guest or image must not be able to flood
 * the host terminal or slow the VMM with log I/O. guest_error() is the
 * older per-call-site form for code that has no device of its own. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "condo/common.h"
#include "condo/log.h"

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
        /* A full table means sites beyond it stay silent, not unlimited. */
        if (nreported >= GUEST_ERROR_SITES)
            return;
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

/* --- per-device limits --------------------------------------------------- */

static uint64_t limit_now(const struct log_limit *l)
{
    return l->clock ? l->clock(l->clock_opaque) : condo_clock_ns();
}

void log_limit_init(struct log_limit *l, const char *fmt, ...)
{
    memset(l, 0, sizeof(*l));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->name, sizeof(l->name), fmt, ap);
    va_end(ap);
    l->tokens = LOG_LIMIT_BURST;
    l->last_ns = limit_now(l);
}

void log_limit_set_clock(struct log_limit *l, uint64_t (*clock)(void *opaque), void *opaque)
{
    l->clock = clock;
    l->clock_opaque = opaque;
    l->tokens = LOG_LIMIT_BURST;
    l->last_ns = limit_now(l);
}

static void print_suppressed(struct log_limit *l)
{
    if (!l->suppressed)
        return;
    fprintf(stderr, "\rcondo: %s: %llu more messages suppressed (-vv shows every one)\n",
            l->name, (unsigned long long)l->suppressed);
    l->suppressed = 0;
}

/* Whether one more line may be printed now; counts it when not. */
static bool limit_take(struct log_limit *l)
{
    if (condo_verbosity >= 2)
        return true;
    uint64_t now = limit_now(l);
    if (now > l->last_ns) {
        uint64_t n = (now - l->last_ns) / LOG_LIMIT_REFILL_NS;
        if (n >= LOG_LIMIT_BURST - l->tokens) {
            l->tokens = LOG_LIMIT_BURST;
            l->last_ns = now;
        } else {
            l->tokens += (uint32_t)n;
            l->last_ns += n * LOG_LIMIT_REFILL_NS;
        }
    } else if (now < l->last_ns) {
        l->last_ns = now; /* a clock that went back: start over from here */
    }
    if (!l->tokens) {
        l->suppressed++;
        return false;
    }
    l->tokens--;
    return true;
}

static void limited(struct log_limit *l, const char *what, const char *fmt, va_list ap)
{
    if (!limit_take(l))
        return;
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    print_suppressed(l);
    fprintf(stderr, "\rcondo: %s: %s%s\n", l->name, what, buf);
}

void log_guest(struct log_limit *l, const char *fmt, ...)
{
    if (condo_verbosity < 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    limited(l, "guest error: ", fmt, ap);
    va_end(ap);
}

void log_host(struct log_limit *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    limited(l, "", fmt, ap);
    va_end(ap);
}

void log_limit_finish(struct log_limit *l)
{
    print_suppressed(l);
}
