/* Rate-limited logging per device. A guest, a damaged image or a fuzzer
 * controls how often a device or a backend has something to complain
 * about; none of them may flood the host's log or slow the VMM with log
 * I/O. So every device instance and every backend owns a `struct
 * log_limit`: a token bucket of LOG_LIMIT_BURST lines that refills at one
 * line per LOG_LIMIT_REFILL_NS. Lines beyond the budget are dropped and
 * counted; the count is printed as one line ("NAME: N more messages
 * suppressed") before the next line that gets through, and by
 * log_limit_finish() when the device goes away. One noisy device never
 * silences another: each has its own budget.
 *
 * log_guest() is for a guest doing what a real device would reject (shown
 * with -v); log_host() for a host-side failure the guest sees, such as a
 * disk read error (always shown). With -vv (debug) nothing is limited.
 * These are run-time messages; setup failures are `struct error` values
 * (include/condo/error.h), printed once by the CLI. */
#ifndef CONDO_LOG_H
#define CONDO_LOG_H

#include "condo/common.h"

#define LOG_LIMIT_BURST 10
#define LOG_LIMIT_REFILL_NS (6ull * 1000000000ull) /* 10 lines a minute */

struct log_limit {
    char name[48];        /* "virtio-blk vda", "disk image base.qcow2" */
    uint32_t tokens;      /* lines that may still be printed */
    uint64_t last_ns;     /* clock time of the last refill */
    uint64_t suppressed;  /* lines dropped since the last summary */
    uint64_t (*clock)(void *opaque); /* NULL: condo_clock_ns() */
    void *clock_opaque;
};

/* A full budget. The name says which device (truncated to fit). */
void log_limit_init(struct log_limit *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Replace the clock (nanoseconds, monotonic): tests inject a fake one. */
void log_limit_set_clock(struct log_limit *l, uint64_t (*clock)(void *opaque), void *opaque);
void log_guest(struct log_limit *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_host(struct log_limit *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the count of lines still suppressed, if any; the budget stays. */
void log_limit_finish(struct log_limit *l);

#endif
