/* Two token buckets (bytes, operations). Levels are kept in whole tokens
 * plus a remainder in billionths, so refills are exact integer arithmetic
 * (rate * elapsed_ns / 1e9) and no fraction of a token is ever lost to
 * rounding, however often the limiter is asked. */
#include <errno.h>
#include <string.h>

#include "condo/rate_limit.h"

#define NS_PER_S 1000000000ull

typedef unsigned __int128 u128;

static uint64_t default_clock(void *opaque)
{
    (void)opaque;
    return condo_clock_ns();
}

static void tb_init(struct token_bucket *b, uint64_t rate)
{
    if (rate > RATE_LIMIT_MAX_RATE)
        rate = RATE_LIMIT_MAX_RATE;
    b->rate = rate;
    b->level = (int64_t)rate; /* start full: a burst is allowed at once */
    b->frac = 0;
}

static void tb_refill(struct token_bucket *b, uint64_t dt_ns)
{
    if (!b->rate || dt_ns == 0)
        return;
    if (b->level >= (int64_t)b->rate) {
        b->frac = 0;
        return;
    }
    /* rate < 2^62 and dt < 2^64: the product fits in 128 bits. */
    u128 add = (u128)b->rate * dt_ns + b->frac;
    u128 whole = add / NS_PER_S;
    b->frac = (uint64_t)(add % NS_PER_S);
    /* level >= -2^62 (see tb_take), so the sum cannot overflow unless
     * `whole` alone fills the bucket. */
    if (whole >= (u128)((__int128)b->rate - b->level)) {
        b->level = (int64_t)b->rate;
        b->frac = 0;
    } else {
        b->level += (int64_t)whole;
    }
}

/* What the bucket must hold before `n` tokens may be taken: all of them,
 * or a full bucket for an operation larger than the bucket. */
static uint64_t tb_need(const struct token_bucket *b, uint64_t n)
{
    return n < b->rate ? n : b->rate;
}

static bool tb_ready(const struct token_bucket *b, uint64_t n)
{
    return !b->rate || b->level >= (int64_t)tb_need(b, n);
}

static void tb_take(struct token_bucket *b, uint64_t n)
{
    if (!b->rate)
        return;
    /* Debt is bounded so levels stay far from int64 overflow. */
    if (n > RATE_LIMIT_MAX_RATE)
        n = RATE_LIMIT_MAX_RATE;
    b->level -= (int64_t)n;
}

static uint64_t tb_wait_ns(const struct token_bucket *b, uint64_t n)
{
    if (tb_ready(b, n))
        return 0;
    /* deficit in billionths of a token, minus the fraction already there */
    u128 deficit = (u128)((__int128)tb_need(b, n) - b->level) * NS_PER_S - b->frac;
    u128 ns = (deficit + b->rate - 1) / b->rate;
    return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

void rate_limit_init(struct rate_limit *rl, const struct rate_limit_config *cfg)
{
    memset(rl, 0, sizeof(*rl));
    tb_init(&rl->bytes, cfg ? cfg->bps : 0);
    tb_init(&rl->ops, cfg ? cfg->iops : 0);
    rl->clock = default_clock;
    rl->last_ns = rl->clock(NULL);
}

/* A bucket's new rate: what it holds now stays (up to the new capacity),
 * so a change neither hands out a fresh burst nor forgives a debt. */
static void tb_set_rate(struct token_bucket *b, uint64_t rate)
{
    if (rate > RATE_LIMIT_MAX_RATE)
        rate = RATE_LIMIT_MAX_RATE;
    if (!b->rate) { /* was unlimited: start full, as a new limiter does */
        tb_init(b, rate);
        return;
    }
    b->rate = rate;
    if (rate && b->level > (int64_t)rate)
        b->level = (int64_t)rate;
    if (!rate) {
        b->level = 0;
        b->frac = 0;
    }
}

void rate_limit_reconfigure(struct rate_limit *rl, const struct rate_limit_config *cfg)
{
    /* bring the buckets up to now at the old rates first */
    rate_limit_wait_ns(rl, 0);
    tb_set_rate(&rl->bytes, cfg ? cfg->bps : 0);
    tb_set_rate(&rl->ops, cfg ? cfg->iops : 0);
}

void rate_limit_set_clock(struct rate_limit *rl, uint64_t (*clock)(void *opaque), void *opaque)
{
    rl->clock = clock ? clock : default_clock;
    rl->clock_opaque = clock ? opaque : NULL;
    tb_init(&rl->bytes, rl->bytes.rate);
    tb_init(&rl->ops, rl->ops.rate);
    rl->last_ns = rl->clock(rl->clock_opaque);
}

bool rate_limit_enabled(const struct rate_limit *rl)
{
    return rl->bytes.rate || rl->ops.rate;
}

uint64_t rate_limit_now(const struct rate_limit *rl)
{
    return rl->clock(rl->clock_opaque);
}

static void rate_limit_refill(struct rate_limit *rl, uint64_t now_ns)
{
    if (now_ns <= rl->last_ns)
        return; /* a clock that went backwards adds nothing */
    uint64_t dt = now_ns - rl->last_ns;
    rl->last_ns = now_ns;
    tb_refill(&rl->bytes, dt);
    tb_refill(&rl->ops, dt);
}

bool rate_limit_consume_at(struct rate_limit *rl, uint64_t bytes, uint64_t now_ns)
{
    if (!rate_limit_enabled(rl))
        return true;
    rate_limit_refill(rl, now_ns);
    if (!tb_ready(&rl->bytes, bytes) || !tb_ready(&rl->ops, 1))
        return false;
    tb_take(&rl->bytes, bytes);
    tb_take(&rl->ops, 1);
    return true;
}

uint64_t rate_limit_wait_ns_at(struct rate_limit *rl, uint64_t bytes, uint64_t now_ns)
{
    if (!rate_limit_enabled(rl))
        return 0;
    rate_limit_refill(rl, now_ns);
    uint64_t a = tb_wait_ns(&rl->bytes, bytes);
    uint64_t b = tb_wait_ns(&rl->ops, 1);
    return a > b ? a : b;
}

bool rate_limit_consume(struct rate_limit *rl, uint64_t bytes)
{
    if (!rate_limit_enabled(rl))
        return true;
    return rate_limit_consume_at(rl, bytes, rate_limit_now(rl));
}

uint64_t rate_limit_wait_ns(struct rate_limit *rl, uint64_t bytes)
{
    if (!rate_limit_enabled(rl))
        return 0;
    return rate_limit_wait_ns_at(rl, bytes, rate_limit_now(rl));
}

/* --- snapshot state --- */

static const struct state_field tb_fields[] = {
    STATE_FIELD(struct token_bucket, level),
    STATE_FIELD_MAX(struct token_bucket, frac, NS_PER_S - 1),
};

void rate_limit_save(const struct rate_limit *rl, struct state_buf *s)
{
    state_put_fields(s, tb_fields, ARRAY_SIZE(tb_fields), &rl->bytes);
    state_put_fields(s, tb_fields, ARRAY_SIZE(tb_fields), &rl->ops);
}

static void tb_clamp(struct token_bucket *b)
{
    /* Within what this limiter can hold: at most full, at most the
     * bounded debt tb_take allows. Unlimited buckets stay empty-handed. */
    if (!b->rate) {
        b->level = 0;
        b->frac = 0;
        return;
    }
    if (b->level > (int64_t)b->rate) {
        b->level = (int64_t)b->rate;
        b->frac = 0;
    }
    if (b->level < -(int64_t)RATE_LIMIT_MAX_RATE)
        b->level = -(int64_t)RATE_LIMIT_MAX_RATE;
}

int rate_limit_load(const struct rate_limit *rl, struct state_buf *s, struct rate_limit *out)
{
    *out = *rl;
    state_get_fields(s, tb_fields, ARRAY_SIZE(tb_fields), &out->bytes);
    state_get_fields(s, tb_fields, ARRAY_SIZE(tb_fields), &out->ops);
    if (s->err)
        return -EINVAL;
    tb_clamp(&out->bytes);
    tb_clamp(&out->ops);
    out->last_ns = out->clock(out->clock_opaque);
    return 0;
}
