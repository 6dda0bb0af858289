/* Logging. Devices and backends log through their own rate-limited handle
 * (include/condo/log.h): a hostile guest or image must not be able to flood
 * the host terminal or slow the VMM with log I/O. guest_error() is the
 * older per-call-site form for code that has no device of its own. */
#include <pthread.h>
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

/* A small table of call sites already reported. Every hart's thread and
 * the I/O thread can report at once, so the table has a lock (taken only
 * on this rare path). */
#define GUEST_ERROR_SITES 64
static const char *reported[GUEST_ERROR_SITES];
static unsigned nreported;
static pthread_mutex_t reported_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether site is new; records it. A full table means sites beyond it
 * stay silent, not unlimited. */
static bool reported_first(const char *site)
{
    bool first = true;
    pthread_mutex_lock(&reported_lock);
    for (unsigned i = 0; i < nreported; i++)
        if (reported[i] == site)
            first = false;
    if (first && nreported >= GUEST_ERROR_SITES)
        first = false;
    if (first)
        reported[nreported++] = site;
    pthread_mutex_unlock(&reported_lock);
    return first;
}

void condo_guest_error_at(const char *site, const char *fmt, ...)
{
    if (condo_verbosity < 2) {
        if (!reported_first(site))
            return;
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

/* A handle can be shared by threads (a device's MMIO on every hart, a
 * disk's worker and the I/O thread), so its bucket is updated under one
 * lock; only lines that reach this point pay for it. */
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

static void limited(struct log_limit *l, const char *what, const char *fmt, va_list ap)
{
    pthread_mutex_lock(&limit_lock);
    if (!limit_take(l)) {
        pthread_mutex_unlock(&limit_lock);
        return;
    }
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    print_suppressed(l);
    fprintf(stderr, "\rcondo: %s: %s%s\n", l->name, what, buf);
    pthread_mutex_unlock(&limit_lock);
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
    pthread_mutex_lock(&limit_lock);
    print_suppressed(l);
    pthread_mutex_unlock(&limit_lock);
}
