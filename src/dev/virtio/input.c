/* virtio-input: a power button and Ctrl+Alt+Del for the host to press.
 *
 * The device holds nothing between calls: events go straight into buffers
 * the driver has posted on the event queue, or not at all. A batch is
 * checked before any of it is written: its buffers are popped (which
 * validates each chain), counted and given back (virtq_unpop); only when
 * there are enough are they popped again and filled. The guest owns its
 * rings and may rewrite them between the two passes: the second pass
 * re-validates everything, and a guest that does that gets a partial
 * batch, never a host fault.
 *
 * Buffers on the event queue must be device-writable and hold a whole
 * struct virtio_input_event (virtio 1.2, 5.8.6.1); one that does not is a
 * broken driver, and the device is marked DEVICE_NEEDS_RESET. */
#include <errno.h>
#include <string.h>

#include "condo/virtio_input.h"

#define VIRTIO_INPUT_STATE_VERSION 1

/* The keys the device has, in EV_BITS(EV_KEY) and nowhere else. */
static const uint16_t input_keys[] = { KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE, KEY_POWER };

static bool key_advertised(uint16_t code)
{
    for (size_t i = 0; i < ARRAY_SIZE(input_keys); i++)
        if (input_keys[i] == code)
            return true;
    return false;
}

/* The config space for the current select/subsel: cfg[] is filled (136
 * bytes; size at offset 2, the answer from offset 8). An unknown query
 * answers size 0 (virtio 1.2, 5.8.5.1). */
static void input_config(const struct virtio_input *in, uint8_t *cfg)
{
    memset(cfg, 0, VIRTIO_INPUT_CONFIG_LEN);
    cfg[VIRTIO_INPUT_CFG_SELECT] = in->select;
    cfg[VIRTIO_INPUT_CFG_SUBSEL] = in->subsel;
    uint8_t *u = cfg + VIRTIO_INPUT_CFG_U;
    size_t size = 0;
    switch (in->select) {
    case VIRTIO_INPUT_CFG_ID_NAME:
    case VIRTIO_INPUT_CFG_ID_SERIAL: {
        if (in->subsel != 0)
            break;
        const char *s =
            in->select == VIRTIO_INPUT_CFG_ID_NAME ? VIRTIO_INPUT_NAME : VIRTIO_INPUT_SERIAL;
        size = strlen(s); /* no NUL: the size says where it ends (as QEMU) */
        memcpy(u, s, size);
        break;
    }
    case VIRTIO_INPUT_CFG_ID_DEVIDS:
        if (in->subsel != 0)
            break;
        le16_store(u + 0, VIRTIO_INPUT_BUSTYPE);
        le16_store(u + 2, VIRTIO_INPUT_VENDOR);
        le16_store(u + 4, VIRTIO_INPUT_PRODUCT);
        le16_store(u + 6, VIRTIO_INPUT_VERSION);
        size = 8;
        break;
    case VIRTIO_INPUT_CFG_EV_BITS:
        if (in->subsel == EV_SYN) {
            u[SYN_REPORT / 8] |= 1u << (SYN_REPORT % 8);
            size = SYN_REPORT / 8 + 1;
        } else if (in->subsel == EV_KEY) {
            for (size_t i = 0; i < ARRAY_SIZE(input_keys); i++) {
                unsigned k = input_keys[i];
                u[k / 8] |= (uint8_t)(1u << (k % 8));
                if (k / 8 + 1 > size)
                    size = k / 8 + 1;
            }
        }
        break;
    case VIRTIO_INPUT_CFG_PROP_BITS: /* no INPUT_PROP_* bits: size 0 */
    case VIRTIO_INPUT_CFG_ABS_INFO:  /* no absolute axes */
    case VIRTIO_INPUT_CFG_UNSET:
    default:
        break;
    }
    cfg[VIRTIO_INPUT_CFG_SIZE] = (uint8_t)size;
}

static void input_config_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
    struct virtio_input *in = opaque;
    uint8_t cfg[VIRTIO_INPUT_CONFIG_LEN];
    input_config(in, cfg);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        if (off + i < sizeof(cfg))
            v |= (uint64_t)cfg[off + i] << (8 * i);
    if (off + size > sizeof(cfg))
        guest_error("virtio-input: config read of %u bytes at 0x%llx beyond its %d bytes", size,
                    (unsigned long long)off, VIRTIO_INPUT_CONFIG_LEN);
    *val = v;
}

/* select and subsel are the only writable bytes; a wider write that
 * covers them sets them and the rest is ignored. */
static void input_config_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct virtio_input *in = opaque;
    bool bad = false;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (off + i == VIRTIO_INPUT_CFG_SELECT)
            in->select = b;
        else if (off + i == VIRTIO_INPUT_CFG_SUBSEL)
            in->subsel = b;
        else
            bad = true;
    }
    if (bad)
        guest_error("virtio-input: config write of %u bytes at 0x%llx: only select (0) and "
                    "subsel (1) are writable; the rest is ignored",
                    size, (unsigned long long)off);
}

/* The status queue: the driver's LED and sound events. None are
 * advertised, so none should come; whatever comes is taken and ignored,
 * so that the driver gets its buffers back. */
static void input_queue_notify(void *opaque, unsigned q)
{
    struct virtio_input *in = opaque;
    if (q != VIRTIO_INPUT_STATUSQ)
        return; /* event queue buffers wait for the next batch */
    /* virtq_pop returns each buffer once and at most the queue size are
     * available, so this loop ends. */
    while (virtq_pop(&in->mmio, VIRTIO_INPUT_STATUSQ, &in->elem) > 0)
        virtq_push(&in->mmio, VIRTIO_INPUT_STATUSQ, &in->elem, 0);
}

bool virtio_input_driver_ready(const struct virtio_input *in)
{
    const struct virtio_mmio *t = &in->mmio;
    return (t->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET)) ==
               VIRTIO_STATUS_DRIVER_OK &&
           t->vq[VIRTIO_INPUT_EVENTQ].ready;
}

/* Take the next event buffer: 1 with in->elem filled, 0 when none is
 * posted, -EIO when the queue or the buffer is malformed (the device is
 * then broken). */
static int pop_event_buffer(struct virtio_input *in)
{
    int r = virtq_pop(&in->mmio, VIRTIO_INPUT_EVENTQ, &in->elem);
    if (r <= 0)
        return r < 0 ? -EIO : 0;
    if (in->elem.out_len != 0 || in->elem.in_len < VIRTIO_INPUT_EVENT_LEN) {
        guest_error("virtio-input: event buffer with %zu readable and %zu writable bytes (want "
                    "only writable ones, at least %d); device needs reset",
                    in->elem.out_len, in->elem.in_len, VIRTIO_INPUT_EVENT_LEN);
        virtio_set_needs_reset(&in->mmio);
        return -EIO;
    }
    return 1;
}

static int broken(struct virtio_input *in, struct error *err)
{
    in->batches_refused++;
    return error_set(err, -EIO,
                     "the guest's virtio-input event queue is malformed (the device now waits "
                     "for its driver to reset it)");
}

int virtio_input_send(struct virtio_input *in, const struct virtio_input_event *ev, unsigned n,
                      struct error *err)
{
    if (n == 0 || n > VIRTIO_INPUT_MAX_BATCH)
        return error_set(err, -EINVAL, "virtio-input: a batch of %u events (1..%d)", n,
                         VIRTIO_INPUT_MAX_BATCH);
    if (!virtio_input_driver_ready(in)) {
        in->batches_refused++;
        if (in->mmio.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
            return error_set(err, -ENODEV,
                             "the guest's virtio-input device is broken (its driver made a "
                             "malformed queue) and waits for the driver to reset it");
        return error_set(err, -ENODEV,
                         "the guest has no virtio-input driver ready (module virtio_input not "
                         "loaded, or the guest is still booting)");
    }
    /* Pass 1: are there n good buffers? Take them, then give them back. */
    unsigned have = 0;
    while (have < n) {
        int r = pop_event_buffer(in);
        if (r < 0)
            return broken(in, err);
        if (r == 0)
            break;
        have++;
    }
    for (unsigned i = 0; i < have; i++)
        virtq_unpop(&in->mmio, VIRTIO_INPUT_EVENTQ);
    if (have < n) {
        in->batches_refused++;
        return error_set(err, -ENOSPC,
                         "the guest's virtio-input driver has %u free event buffers, %u needed "
                         "(it is not taking events)",
                         have, n);
    }
    /* Pass 2: fill them. */
    for (unsigned i = 0; i < n; i++) {
        if (pop_event_buffer(in) != 1)
            return broken(in, err);
        uint8_t b[VIRTIO_INPUT_EVENT_LEN];
        le16_store(b, ev[i].type);
        le16_store(b + 2, ev[i].code);
        le32_store(b + 4, (uint32_t)ev[i].value);
        iov_from_buf(in->elem.in, in->elem.in_num, 0, b, sizeof(b));
        virtq_push(&in->mmio, VIRTIO_INPUT_EVENTQ, &in->elem, sizeof(b));
        in->events_sent++;
    }
    return 0;
}

int virtio_input_press_keys(struct virtio_input *in, const uint16_t *keys, unsigned n,
                            struct error *err)
{
    if (n == 0 || n > VIRTIO_INPUT_MAX_KEYS)
        return error_set(err, -EINVAL, "virtio-input: %u keys at once (1..%d)", n,
                         VIRTIO_INPUT_MAX_KEYS);
    struct virtio_input_event ev[VIRTIO_INPUT_MAX_BATCH];
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!key_advertised(keys[i]))
            return error_set(err, -EINVAL, "virtio-input: key %u is not one the device has",
                             keys[i]);
        ev[k++] = (struct virtio_input_event){ EV_KEY, keys[i], 1 };
    }
    ev[k++] = (struct virtio_input_event){ EV_SYN, SYN_REPORT, 0 };
    for (unsigned i = n; i-- > 0;)
        ev[k++] = (struct virtio_input_event){ EV_KEY, keys[i], 0 };
    ev[k++] = (struct virtio_input_event){ EV_SYN, SYN_REPORT, 0 };
    return virtio_input_send(in, ev, k, err);
}

int virtio_input_power_button(struct virtio_input *in, struct error *err)
{
    static const uint16_t keys[] = { KEY_POWER };
    return virtio_input_press_keys(in, keys, ARRAY_SIZE(keys), err);
}

int virtio_input_ctrl_alt_del(struct virtio_input *in, struct error *err)
{
    static const uint16_t keys[] = { KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE };
    return virtio_input_press_keys(in, keys, ARRAY_SIZE(keys), err);
}

static void input_reset(void *opaque)
{
    struct virtio_input *in = opaque;
    in->select = 0;
    in->subsel = 0;
}

static void input_save(void *opaque, struct state_buf *s)
{
    struct virtio_input *in = opaque;
    state_put_u8(s, VIRTIO_INPUT_STATE_VERSION);
    state_put_u8(s, in->select);
    state_put_u8(s, in->subsel);
}

/* Any select/subsel is valid (an unknown query answers size 0). */
static int input_load(void *opaque, struct state_buf *s, bool commit)
{
    struct virtio_input *in = opaque;
    if (state_get_u8(s) != VIRTIO_INPUT_STATE_VERSION)
        return -EINVAL;
    uint8_t select = state_get_u8(s), subsel = state_get_u8(s);
    if (s->err)
        return -EINVAL;
    if (commit) {
        in->select = select;
        in->subsel = subsel;
    }
    return 0;
}

static const struct virtio_device_ops virtio_input_dev_ops = {
    .name = "virtio-input",
    .device_id = VIRTIO_ID_INPUT,
    .features = 0, /* virtio-input has no feature bits */
    .num_queues = 2,
    .config_read = input_config_read,
    .config_write = input_config_write,
    .queue_notify = input_queue_notify,
    .reset = input_reset,
    .save = input_save,
    .load = input_load,
};

void virtio_input_init(struct virtio_input *in, struct guest_ram *ram, struct irq_line irq)
{
    memset(in, 0, sizeof(*in));
    virtio_mmio_init(&in->mmio, &virtio_input_dev_ops, in, ram, irq);
}
