/* A rate limiter of two token buckets, bytes per second and operations per
 * second (as Firecracker's), so one VM's disk or network cannot starve its
 * neighbours. Each bucket holds at most one second's worth of tokens (the
 * burst) and starts full; a rate of 0 means unlimited.
 *
 * An operation larger than a whole bucket (a 1 MiB request at 64 KiB/s) is
 * let through once the bucket is full and leaves it in debt, so it neither
 * waits forever nor beats the average rate. Time comes from a clock the
 * caller can replace (tests inject a fake one). */
#ifndef CONDO_RATE_LIMIT_H
#define CONDO_RATE_LIMIT_H

#include "condo/common.h"
#include "condo/state.h"

struct rate_limit_config {
    uint64_t bps;  /* bytes per second; 0 = unlimited */
    uint64_t iops; /* operations per second; 0 = unlimited */
};

struct token_bucket {
    uint64_t rate;  /* tokens per second (also the capacity); 0 = unlimited */
    int64_t level;  /* whole tokens; negative while in debt */
    uint64_t frac;  /* fraction of a token, in units of 1/1e9 */
};

struct rate_limit {
    struct token_bucket bytes, ops;
    uint64_t last_ns; /* clock time of the last refill */
    uint64_t (*clock)(void *opaque);
    void *clock_opaque;
};

/* Rates above this are treated as this (about 4.6e18 per second). */
#define RATE_LIMIT_MAX_RATE ((uint64_t)INT64_MAX / 2)

/* cfg may be NULL (unlimited). Uses condo_clock_ns() until told otherwise. */
void rate_limit_init(struct rate_limit *rl, const struct rate_limit_config *cfg);
/* New rates for a limiter in use (the API's PATCH): tokens held carry
 * over up to the new capacity; a bucket newly limited starts full. */
void rate_limit_reconfigure(struct rate_limit *rl, const struct rate_limit_config *cfg);
/* Replace the clock (nanoseconds, monotonic); the buckets are refilled to
 * full at the clock's current time. */
void rate_limit_set_clock(struct rate_limit *rl, uint64_t (*clock)(void *opaque), void *opaque);
/* Whether any limit is set. */
bool rate_limit_enabled(const struct rate_limit *rl);
/* The limiter's current time (its clock). */
uint64_t rate_limit_now(const struct rate_limit *rl);
/* One operation of `bytes` bytes: true (and both buckets charged) if it
 * may happen now, false (nothing charged) if it must wait. */
bool rate_limit_consume(struct rate_limit *rl, uint64_t bytes);
/* Nanoseconds until rate_limit_consume(rl, bytes) would succeed (0: now). */
uint64_t rate_limit_wait_ns(struct rate_limit *rl, uint64_t bytes);
/* The same at an explicit time (the functions above pass the clock's). */
bool rate_limit_consume_at(struct rate_limit *rl, uint64_t bytes, uint64_t now_ns);
uint64_t rate_limit_wait_ns_at(struct rate_limit *rl, uint64_t bytes, uint64_t now_ns);

/* The buckets' levels (what is owed or saved up), for snapshots. Rates are
 * configuration, not state: a restored limiter keeps its own rates and
 * clamps a saved level to them. The refill clock restarts at load. */
void rate_limit_save(const struct rate_limit *rl, struct state_buf *s);
/* Parse and check into *out (a copy of rl); commit with *rl = *out. */
int rate_limit_load(const struct rate_limit *rl, struct state_buf *s, struct rate_limit *out);

#endif
