/* Goldfish RTC, as Linux's rtc-goldfish driver uses it:
 *   0x00 TIME_LOW    read: low 32 bits of now (ns), latches TIME_HIGH;
 *                    write: replace the low 32 bits of the guest's time
 *   0x04 TIME_HIGH   read: the latched high word; write: replace high bits
 *   0x08 ALARM_LOW   write: alarm = ALARM_HIGH:value, and arm it
 *   0x0c ALARM_HIGH  high word of the next alarm
 *   0x10 IRQ_ENABLED bit 0 gates the interrupt line
 *   0x14 CLEAR_ALARM write: disarm
 *   0x18 ALARM_STATUS read: 1 while armed
 *   0x1c CLEAR_INTERRUPT write: drop the pending interrupt
 * Guest time = host wall clock + offset_ns, so `date` in a fresh guest shows
 * the host's time, and a time the guest sets survives as an offset. */
#include <errno.h>
#include <string.h>

#include "condo/clock.h"
#include "condo/dev_goldfish_rtc.h"

enum {
    RTC_TIME_LOW = 0x00,
    RTC_TIME_HIGH = 0x04,
    RTC_ALARM_LOW = 0x08,
    RTC_ALARM_HIGH = 0x0c,
    RTC_IRQ_ENABLED = 0x10,
    RTC_CLEAR_ALARM = 0x14,
    RTC_ALARM_STATUS = 0x18,
    RTC_CLEAR_INTERRUPT = 0x1c,
};

#define GOLDFISH_RTC_STATE_VERSION 1

static uint64_t rtc_now(const struct goldfish_rtc *r)
{
    return vm_clock_wall_ns(r->clock) + (uint64_t)r->offset_ns;
}

static void rtc_set_now(struct goldfish_rtc *r, uint64_t t)
{
    r->offset_ns = (int64_t)(t - vm_clock_wall_ns(r->clock));
}

static void rtc_update_irq(struct goldfish_rtc *r)
{
    /* Always drive the line: the PLIC ignores unchanged levels, and these
     * registers are touched rarely. */
    irq_set(&r->irq, (r->irq_pending & r->irq_enabled & 1) != 0);
}

/* Fire an armed alarm whose time has come. */
static void rtc_check_alarm(struct goldfish_rtc *r)
{
    if (r->alarm_armed && rtc_now(r) >= r->alarm_ns) {
        r->alarm_armed = false;
        r->irq_pending = 1;
        rtc_update_irq(r);
    }
}

void goldfish_rtc_update(struct goldfish_rtc *r)
{
    rtc_check_alarm(r);
}

static uint64_t rtc_poll(void *opaque)
{
    struct goldfish_rtc *r = opaque;
    rtc_check_alarm(r);
    if (!r->alarm_armed)
        return UINT64_MAX;
    /* The alarm is in guest RTC time; both clocks advance at the same rate. */
    uint64_t left = r->alarm_ns - rtc_now(r);
    uint64_t now = condo_clock_ns();
    return left > UINT64_MAX - now ? UINT64_MAX : now + left;
}

static void rtc_read(void *opaque, uint64_t offset, unsigned size, uint64_t *val)
{
    struct goldfish_rtc *r = opaque;

    (void)size;
    switch (offset) {
    case RTC_TIME_LOW: {
        uint64_t now = rtc_now(r);
        r->time_high_latch = (uint32_t)(now >> 32);
        *val = (uint32_t)now;
        break;
    }
    case RTC_TIME_HIGH:
        *val = r->time_high_latch;
        break;
    case RTC_ALARM_LOW:
        *val = (uint32_t)r->alarm_ns;
        break;
    case RTC_ALARM_HIGH:
        *val = (uint32_t)(r->alarm_ns >> 32);
        break;
    case RTC_IRQ_ENABLED:
        *val = r->irq_enabled;
        break;
    case RTC_ALARM_STATUS:
        rtc_check_alarm(r);
        *val = r->alarm_armed;
        break;
    default:
        *val = 0;
        log_guest(&r->log, "read of unknown register at offset 0x%llx",
                    (unsigned long long)offset);
        break;
    }
}

static void rtc_write(void *opaque, uint64_t offset, unsigned size, uint64_t val)
{
    struct goldfish_rtc *r = opaque;
    uint32_t v = (uint32_t)val;

    (void)size;
    switch (offset) {
    case RTC_TIME_LOW: {
        uint64_t now = rtc_now(r);
        rtc_set_now(r, (now & 0xffffffff00000000ull) | v);
        rtc_check_alarm(r);
        break;
    }
    case RTC_TIME_HIGH: {
        uint64_t now = rtc_now(r);
        rtc_set_now(r, (now & 0xffffffffull) | ((uint64_t)v << 32));
        rtc_check_alarm(r);
        break;
    }
    case RTC_ALARM_LOW:
        r->alarm_ns = (r->alarm_ns & 0xffffffff00000000ull) | v;
        r->alarm_armed = true;
        /* An alarm already in the past fires at once. */
        rtc_check_alarm(r);
        break;
    case RTC_ALARM_HIGH:
        r->alarm_ns = (r->alarm_ns & 0xffffffffull) | ((uint64_t)v << 32);
        break;
    case RTC_IRQ_ENABLED:
        r->irq_enabled = v & 1;
        rtc_update_irq(r);
        break;
    case RTC_CLEAR_ALARM:
        r->alarm_armed = false;
        break;
    case RTC_CLEAR_INTERRUPT:
        r->irq_pending = 0;
        rtc_update_irq(r);
        break;
    default:
        log_guest(&r->log, "write of unknown register at offset 0x%llx",
                    (unsigned long long)offset);
        break;
    }
}

static void rtc_reset(void *opaque)
{
    struct goldfish_rtc *r = opaque;

    /* The RTC is battery-backed: time (the offset) survives a reset. */
    r->time_high_latch = 0;
    r->alarm_ns = 0;
    r->alarm_armed = false;
    r->irq_enabled = 0;
    r->irq_pending = 0;
    rtc_update_irq(r);
}

#define R(m) STATE_FIELD(struct goldfish_rtc, m)
static const struct state_field rtc_fields[] = {
    R(offset_ns), R(time_high_latch), R(alarm_ns), STATE_BOOL(struct goldfish_rtc, alarm_armed),
    STATE_FIELD_MAX(struct goldfish_rtc, irq_enabled, 1),
    STATE_FIELD_MAX(struct goldfish_rtc, irq_pending, 1),
};
#undef R

static void rtc_save(void *opaque, struct state_buf *s)
{
    struct goldfish_rtc *r = opaque;

    state_put_u8(s, GOLDFISH_RTC_STATE_VERSION);
    state_put_fields(s, rtc_fields, ARRAY_SIZE(rtc_fields), r);
}

static int rtc_load(void *opaque, struct state_buf *s)
{
    struct goldfish_rtc *r = opaque;
    struct goldfish_rtc n = *r;

    if (state_get_u8(s) != GOLDFISH_RTC_STATE_VERSION)
        return -EINVAL;
    state_get_fields(s, rtc_fields, ARRAY_SIZE(rtc_fields), &n);
    if (s->err)
        return -EINVAL;
    state_copy_fields(rtc_fields, ARRAY_SIZE(rtc_fields), r, &n);
    rtc_update_irq(r);
    return 0;
}

const struct dev_ops goldfish_rtc_ops = {
    .name = "goldfish_rtc",
    .min_access = 4,
    .max_access = 4,
    .read = rtc_read,
    .write = rtc_write,
    .poll = rtc_poll,
    .reset = rtc_reset,
    .save = rtc_save,
    .load = rtc_load,
};

void goldfish_rtc_init(struct goldfish_rtc *r, struct irq_line irq, const struct vm_clock *clock)
{
    memset(r, 0, sizeof(*r));
    r->irq = irq;
    log_limit_init(&r->log, "goldfish-rtc");
    r->clock = clock;
    rtc_reset(r);
}
