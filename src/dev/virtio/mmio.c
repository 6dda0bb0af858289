/* The virtio-mmio transport, version 2 (virtio 1.2, 4.2.2): the register
 * window a driver probes and configures a device through. The device model
 * behind it (blk, rng, net, ...) sees only struct virtio_device_ops calls.
 *
 * Registers below 0x100 take 32-bit accesses only (another size is logged
 * and reads as 0); the device-specific config space at 0x100 takes 8-, 16-
 * and 32-bit accesses. Legacy (version 1) devices are not offered: the
 * driver must accept VIRTIO_F_VERSION_1, and FEATURES_OK is refused when
 * it accepts any feature that was never offered. Queue registers cannot
 * change while the queue is ready; QueueReady=1 before FEATURES_OK, or
 * with an invalid size or ring layout, marks the device DEVICE_NEEDS_RESET.
 * Status bits stay set until a reset (writing 0). */
#include <errno.h>
#include <string.h>

#include "dev/virtio/virtio_internal.h"

#define VIRTIO_MMIO_STATE_VERSION 1

/* Features the transport and the queue code add to every device. */
#define VIRTIO_TRANSPORT_FEATURES                                                            \
    ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_INDIRECT_DESC) |                  \
     (1ull << VIRTIO_F_RING_EVENT_IDX))

#define VIRTIO_STATUS_KNOWN                                                                  \
    (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK |            \
     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)

uint64_t virtio_mmio_device_features(const struct virtio_mmio *t)
{
    return t->dev->features | VIRTIO_TRANSPORT_FEATURES;
}

bool virtio_has_feature(const struct virtio_mmio *t, unsigned bit)
{
    return bit < 64 && ((t->driver_features >> bit) & 1);
}

static unsigned nqueues(const struct virtio_mmio *t)
{
    unsigned n = t->dev->num_queues;
    return n < VIRTIO_MAX_QUEUES ? n : VIRTIO_MAX_QUEUES;
}

/* The queue QueueSel names, or NULL when the device has no such queue. */
static struct virtq *sel_queue(struct virtio_mmio *t)
{
    return t->queue_sel < nqueues(t) ? &t->vq[t->queue_sel] : NULL;
}

static void update_irq(struct virtio_mmio *t)
{
    int level = t->interrupt_status != 0;
    if (level != t->irq_level) {
        t->irq_level = level;
        irq_set(&t->irq, level);
    }
}

void virtio_mmio_raise(struct virtio_mmio *t, uint32_t bits)
{
    t->interrupt_status |= bits;
    update_irq(t);
}

void virtio_set_needs_reset(struct virtio_mmio *t)
{
    if (t->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
        return;
    t->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    /* virtio 1.2, 2.1.2: with DRIVER_OK the device must tell the driver by
     * a configuration change notification. */
    if (t->status & VIRTIO_STATUS_DRIVER_OK)
        virtio_mmio_raise(t, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_config_changed(struct virtio_mmio *t)
{
    t->config_generation++;
    if (t->status & VIRTIO_STATUS_DRIVER_OK)
        virtio_mmio_raise(t, VIRTIO_MMIO_INT_CONFIG);
}

/* Status 0, or a VM reset: forget everything the driver set up; the device
 * model drops what it holds. */
static void transport_reset(struct virtio_mmio *t)
{
    t->status = 0;
    t->device_features_sel = 0;
    t->driver_features_sel = 0;
    t->driver_features = 0;
    t->driver_features_bad = false;
    t->queue_sel = 0;
    t->interrupt_status = 0;
    memset(t->vq, 0, sizeof(t->vq));
    t->epoch++;
    update_irq(t);
    if (t->dev->reset)
        t->dev->reset(t->dev_opaque);
}

static bool features_acceptable(struct virtio_mmio *t)
{
    uint64_t offered = virtio_mmio_device_features(t);
    uint64_t extra = t->driver_features & ~offered;
    if (t->driver_features_bad || extra) {
        log_guest(&t->log, "driver accepted features never offered (0x%llx%s); FEATURES_OK refused",
                    (unsigned long long)extra,
                    t->driver_features_bad ? ", and bits above 63" : "");
        return false;
    }
    if (!virtio_has_feature(t, VIRTIO_F_VERSION_1)) {
        log_guest(&t->log, "driver did not accept VIRTIO_F_VERSION_1 (legacy is not supported); "
                    "FEATURES_OK refused");
        return false;
    }
    return true;
}

static void write_status(struct virtio_mmio *t, uint32_t v)
{
    if (v == 0) {
        transport_reset(t);
        return;
    }
    uint32_t old = t->status;
    if (v & ~VIRTIO_STATUS_KNOWN)
        log_guest(&t->log, "unknown status bits 0x%x ignored", v & ~VIRTIO_STATUS_KNOWN);
    /* Bits stay set until a reset (the driver must not clear them, 2.1.2;
     * a FEATURES_OK that could be withdrawn would let features change
     * under ready queues). DEVICE_NEEDS_RESET is the device's: the driver
     * cannot set it. */
    if (old & ~v & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET)
        log_guest(&t->log, "driver tried to clear status bits 0x%x without a reset; they stay set",
                    old & ~v & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    uint32_t nv = ((v & VIRTIO_STATUS_KNOWN) | old) & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    nv |= old & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    if ((nv & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
        !features_acceptable(t))
        nv &= ~VIRTIO_STATUS_FEATURES_OK;
    if ((nv & VIRTIO_STATUS_DRIVER_OK) && !(nv & VIRTIO_STATUS_FEATURES_OK)) {
        log_guest(&t->log, "DRIVER_OK without FEATURES_OK refused");
        nv &= ~VIRTIO_STATUS_DRIVER_OK;
    }
    t->status = nv;
    /* Buffers made available before DRIVER_OK were not consumed (the device
     * must not); look at every ready queue now. */
    if ((nv & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) &&
        t->dev->queue_notify) {
        for (unsigned q = 0; q < nqueues(t); q++)
            if (t->vq[q].ready && !(t->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
                t->dev->queue_notify(t->dev_opaque, q);
    }
}

static void write_queue_ready(struct virtio_mmio *t, struct virtq *vq, uint32_t v)
{
    if (!(v & 1)) {
        /* The driver stops using the queue (Linux's del_vq). */
        if (vq->ready)
            t->epoch++;
        vq->ready = false;
        return;
    }
    if (vq->ready)
        return;
    /* The ring layout depends on the features (EVENT_IDX): queues are set
     * up after FEATURES_OK (virtio 1.2, 3.1.1), when they no longer change. */
    if (!(t->status & VIRTIO_STATUS_FEATURES_OK)) {
        log_guest(&t->log, "QueueReady before FEATURES_OK; device needs reset");
        virtio_set_needs_reset(t);
        return;
    }
    if (virtq_check_layout(t, (unsigned)(vq - t->vq)) < 0) {
        virtio_set_needs_reset(t);
        return;
    }
    vq->last_avail = 0;
    vq->used_idx = 0;
    vq->ready = true;
    t->epoch++;
}

static void write_notify(struct virtio_mmio *t, uint32_t v)
{
    unsigned q = v & 0xffff; /* the rest is notification data, not offered */
    if (q >= nqueues(t)) {
        log_guest(&t->log, "notify of queue %u, the device has %u", q, nqueues(t));
        return;
    }
    /* Before DRIVER_OK the device must not consume buffers; DRIVER_OK
     * looks at every queue. A broken device waits for its reset. */
    if ((t->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET)) !=
            VIRTIO_STATUS_DRIVER_OK ||
        !t->vq[q].ready)
        return;
    if (t->dev->queue_notify)
        t->dev->queue_notify(t->dev_opaque, q);
}

static void set_half(uint64_t *reg, bool high, uint32_t v)
{
    if (high)
        *reg = (*reg & 0xffffffffull) | ((uint64_t)v << 32);
    else
        *reg = (*reg & ~0xffffffffull) | v;
}

static void virtio_mmio_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
    struct virtio_mmio *t = opaque;
    *val = 0;
    if (off >= VIRTIO_MMIO_CONFIG) {
        if (t->dev->config_read)
            t->dev->config_read(t->dev_opaque, off - VIRTIO_MMIO_CONFIG, size, val);
        return;
    }
    if (size != 4) {
        log_guest(&t->log, "%u-byte read of register 0x%llx (32-bit only)", size,
                    (unsigned long long)off);
        return;
    }
    struct virtq *vq = sel_queue(t);
    uint64_t feat = virtio_mmio_device_features(t);
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        *val = VIRTIO_MMIO_MAGIC;
        break;
    case VIRTIO_MMIO_VERSION_REG:
        *val = VIRTIO_MMIO_VERSION;
        break;
    case VIRTIO_MMIO_DEVICE_ID:
        *val = t->dev->device_id;
        break;
    case VIRTIO_MMIO_VENDOR_ID_REG:
        *val = VIRTIO_MMIO_VENDOR_ID;
        break;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        if (t->device_features_sel < 2)
            *val = (uint32_t)(feat >> (32 * t->device_features_sel));
        break;
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        *val = t->device_features_sel;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (t->driver_features_sel < 2)
            *val = (uint32_t)(t->driver_features >> (32 * t->driver_features_sel));
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        *val = t->driver_features_sel;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        *val = t->queue_sel;
        break;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        *val = vq ? VIRTIO_QUEUE_MAX : 0; /* 0: no such queue */
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        *val = vq ? vq->num : 0;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        *val = vq ? vq->ready : 0;
        break;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        *val = t->interrupt_status;
        break;
    case VIRTIO_MMIO_STATUS:
        *val = t->status;
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        *val = vq ? (uint32_t)(vq->desc_addr >> (off & 4 ? 32 : 0)) : 0;
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        *val = vq ? (uint32_t)(vq->avail_addr >> (off & 4 ? 32 : 0)) : 0;
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        *val = vq ? (uint32_t)(vq->used_addr >> (off & 4 ? 32 : 0)) : 0;
        break;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
        *val = 0xffffffffu; /* all ones: no shared memory region */
        break;
    case VIRTIO_MMIO_SHM_SEL:
    case VIRTIO_MMIO_QUEUE_RESET: /* VIRTIO_F_RING_RESET is not offered */
    case VIRTIO_MMIO_INTERRUPT_ACK:
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        break;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        *val = t->config_generation;
        break;
    default:
        log_guest(&t->log, "read of unknown register 0x%llx", (unsigned long long)off);
        break;
    }
}

static void virtio_mmio_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct virtio_mmio *t = opaque;
    if (off >= VIRTIO_MMIO_CONFIG) {
        if (t->dev->config_write)
            t->dev->config_write(t->dev_opaque, off - VIRTIO_MMIO_CONFIG, size, val);
        else
            log_guest(&t->log, "write to read-only config space at 0x%llx", (unsigned long long)off);
        return;
    }
    if (size != 4) {
        log_guest(&t->log, "%u-byte write of register 0x%llx (32-bit only)", size,
                    (unsigned long long)off);
        return;
    }
    uint32_t v = (uint32_t)val;
    struct virtq *vq = sel_queue(t);
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        t->device_features_sel = v;
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (t->status & VIRTIO_STATUS_FEATURES_OK) {
            log_guest(&t->log, "DriverFeatures written after FEATURES_OK; ignored");
            return;
        }
        if (t->driver_features_sel < 2) {
            uint64_t f = t->driver_features;
            set_half(&f, t->driver_features_sel == 1, v);
            t->driver_features = f;
        } else if (v) {
            t->driver_features_bad = true; /* refused at FEATURES_OK */
        }
        return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        t->driver_features_sel = v;
        return;
    case VIRTIO_MMIO_QUEUE_SEL:
        t->queue_sel = v;
        return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        write_notify(t, v);
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        t->interrupt_status &= ~v;
        update_irq(t);
        return;
    case VIRTIO_MMIO_STATUS:
        write_status(t, v);
        return;
    case VIRTIO_MMIO_SHM_SEL:
        return;
    case VIRTIO_MMIO_QUEUE_NUM:
    case VIRTIO_MMIO_QUEUE_READY:
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        break; /* below */
    case VIRTIO_MMIO_QUEUE_RESET:
        log_guest(&t->log, "QueueReset written but VIRTIO_F_RING_RESET was not offered");
        return;
    default:
        log_guest(&t->log, "write of 0x%x to unknown or read-only register 0x%llx", v,
                    (unsigned long long)off);
        return;
    }

    /* Queue registers. */
    if (!vq) {
        log_guest(&t->log, "queue register 0x%llx written with QueueSel %u (the device has %u)",
                    (unsigned long long)off, t->queue_sel, nqueues(t));
        return;
    }
    if (off == VIRTIO_MMIO_QUEUE_READY) {
        write_queue_ready(t, vq, v);
        return;
    }
    if (vq->ready) {
        log_guest(&t->log, "queue %u register 0x%llx written while the queue is ready; ignored",
                    t->queue_sel, (unsigned long long)off);
        return;
    }
    switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM:
        vq->num = v; /* checked at QueueReady */
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        set_half(&vq->desc_addr, off & 4, v);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        set_half(&vq->avail_addr, off & 4, v);
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        set_half(&vq->used_addr, off & 4, v);
        break;
    }
}

static void virtio_mmio_reset_op(void *opaque)
{
    transport_reset(opaque);
}

/* The transport's state and each queue's, described once for save and
 * load. */
#define T(m) STATE_FIELD(struct virtio_mmio, m)
static const struct state_field mmio_fields[] = {
    T(status), T(device_features_sel), T(driver_features_sel), T(driver_features),
    STATE_BOOL(struct virtio_mmio, driver_features_bad), T(queue_sel), T(interrupt_status),
    T(config_generation),
};
#undef T
#define Q(m) STATE_FIELD(struct virtq, m)
static const struct state_field vq_fields[] = {
    Q(num), STATE_BOOL(struct virtq, ready), Q(desc_addr), Q(avail_addr), Q(used_addr),
    Q(last_avail), Q(used_idx),
};
#undef Q

static void virtio_mmio_save(void *opaque, struct state_buf *s)
{
    struct virtio_mmio *t = opaque;
    state_put_u8(s, VIRTIO_MMIO_STATE_VERSION);
    state_put_u32(s, t->dev->device_id);
    state_put_fields(s, mmio_fields, ARRAY_SIZE(mmio_fields), t);
    state_put_u8(s, (uint8_t)nqueues(t));
    for (unsigned q = 0; q < nqueues(t); q++)
        state_put_fields(s, vq_fields, ARRAY_SIZE(vq_fields), &t->vq[q]);
    if (t->dev->save)
        t->dev->save(t->dev_opaque, s);
}

/* Parse the transport's part into a scratch copy and check it. */
static int mmio_parse(const struct virtio_mmio *t, struct state_buf *s, struct virtio_mmio *n)
{
    *n = *t;
    if (state_get_u8(s) != VIRTIO_MMIO_STATE_VERSION || s->err)
        return -EINVAL;
    uint32_t id = state_get_u32(s);
    state_get_fields(s, mmio_fields, ARRAY_SIZE(mmio_fields), n);
    unsigned nq = state_get_u8(s);
    if (s->err || id != t->dev->device_id || nq != nqueues(t) ||
        (n->status & ~VIRTIO_STATUS_KNOWN) ||
        (n->interrupt_status & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)))
        return -EINVAL;
    if ((n->status & VIRTIO_STATUS_FEATURES_OK) &&
        (n->driver_features_bad || (n->driver_features & ~virtio_mmio_device_features(t))))
        return -EINVAL;
    if ((n->status & VIRTIO_STATUS_DRIVER_OK) && !(n->status & VIRTIO_STATUS_FEATURES_OK))
        return -EINVAL;
    for (unsigned q = 0; q < nq; q++) {
        state_get_fields(s, vq_fields, ARRAY_SIZE(vq_fields), &n->vq[q]);
        if (s->err)
            return -EINVAL;
        if (n->vq[q].ready &&
            (!(n->status & VIRTIO_STATUS_FEATURES_OK) || virtq_check_layout(n, q) < 0))
            return -EINVAL;
    }
    for (unsigned q = nq; q < VIRTIO_MAX_QUEUES; q++)
        memset(&n->vq[q], 0, sizeof(n->vq[q]));
    return 0;
}

/* Everything - the transport's part and the device's - is parsed and
 * checked before anything replaces the live state: a malformed stream
 * leaves transport and device as they were. */
static int virtio_mmio_load(void *opaque, struct state_buf *s)
{
    struct virtio_mmio *t = opaque;
    struct virtio_mmio n;
    int r = mmio_parse(t, s, &n);
    if (r < 0)
        return r;
    if (t->dev->load) {
        struct state_buf check = *s; /* a second reader over the same bytes */
        r = t->dev->load(t->dev_opaque, &check, false);
        if (r < 0 || check.err)
            return r < 0 ? r : -EINVAL;
    }
    n.irq_level = t->irq_level;
    n.epoch = t->epoch + 1;
    *t = n;
    update_irq(t);
    if (t->dev->load)
        return t->dev->load(t->dev_opaque, s, true);
    return 0;
}

static uint64_t virtio_mmio_poll(void *opaque)
{
    struct virtio_mmio *t = opaque;
    return t->dev->poll ? t->dev->poll(t->dev_opaque) : UINT64_MAX;
}

static uint64_t virtio_mmio_next_deadline(void *opaque)
{
    struct virtio_mmio *t = opaque;
    if (!t->dev->poll)
        return UINT64_MAX;
    /* a device with timers but no way to tell: assume the worst */
    return t->dev->next_deadline ? t->dev->next_deadline(t->dev_opaque) : 0;
}

const struct dev_ops virtio_mmio_ops = {
    .name = "virtio-mmio",
    .min_access = 1,
    .max_access = 4,
    .read = virtio_mmio_read,
    .write = virtio_mmio_write,
    .reset = virtio_mmio_reset_op,
    .poll = virtio_mmio_poll,
    .next_deadline = virtio_mmio_next_deadline,
    .save = virtio_mmio_save,
    .load = virtio_mmio_load,
};

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device_ops *dev,
                      void *dev_opaque, struct guest_ram *ram, struct irq_line irq)
{
    memset(t, 0, sizeof(*t));
    t->dev = dev;
    t->dev_opaque = dev_opaque;
    t->ram = ram;
    t->irq = irq;
    log_limit_init(&t->log, "%s", dev->name);
}
