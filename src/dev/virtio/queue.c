/* Split virtqueues (virtio 1.2, 2.7): taking requests from the available
 * ring, handing them back through the used ring, and the interrupt and
 * notification suppression rules (VIRTQ_AVAIL_F_NO_INTERRUPT, or
 * VIRTIO_F_RING_EVENT_IDX's used_event/avail_event).
 *
 * The guest owns every byte of the rings and may change them at any time,
 * so each field is read once into a local, every index is range-checked
 * and every buffer is checked to lie inside guest RAM before a host
 * pointer to it exists. A walk visits at most `num` descriptors of the
 * descriptor table and at most the indirect table's length in it, and
 * collects at most VIRTQ_MAX_SEGS buffers: loops and over-long chains end
 * there. Any violation marks the device DEVICE_NEEDS_RESET. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dev/virtio/virtio_internal.h"

/* Sizes of the three ring areas for a queue of `num` entries; the event
 * fields (used_event, avail_event) exist only with EVENT_IDX. */
static uint64_t desc_size(uint32_t num)
{
    return (uint64_t)VIRTQ_DESC_SIZE * num;
}
static uint64_t avail_size(uint32_t num, bool event_idx)
{
    return 4 + 2ull * num + (event_idx ? 2 : 0);
}
static uint64_t used_size(uint32_t num, bool event_idx)
{
    return 4 + (uint64_t)VIRTQ_USED_ELEM_SIZE * num + (event_idx ? 2 : 0);
}

int virtq_check_layout(struct virtio_mmio *t, unsigned q)
{
    const struct virtq *vq = &t->vq[q];
    uint32_t num = vq->num;
    bool ev = virtio_has_feature(t, VIRTIO_F_RING_EVENT_IDX);

    if (num == 0 || num > VIRTIO_QUEUE_MAX || (num & (num - 1))) {
        log_guest(&t->log, "queue %u: size %u (must be a power of 2, 1..%u)", q, num,
                    VIRTIO_QUEUE_MAX);
        return -EINVAL;
    }
    /* virtio 1.2, 2.7: alignment 16 (descriptors), 2 (avail), 4 (used) */
    if ((vq->desc_addr & 15) || (vq->avail_addr & 1) || (vq->used_addr & 3)) {
        log_guest(&t->log, "queue %u: misaligned rings (desc 0x%llx, avail 0x%llx, used 0x%llx)",
                    q, (unsigned long long)vq->desc_addr,
                    (unsigned long long)vq->avail_addr, (unsigned long long)vq->used_addr);
        return -EINVAL;
    }
    if (!guest_ram_contains(t->ram, vq->desc_addr, desc_size(num)) ||
        !guest_ram_contains(t->ram, vq->avail_addr, avail_size(num, ev)) ||
        !guest_ram_contains(t->ram, vq->used_addr, used_size(num, ev))) {
        log_guest(&t->log, "queue %u: rings outside guest RAM (desc 0x%llx, avail 0x%llx, "
                    "used 0x%llx, size %u)",
                    q, (unsigned long long)vq->desc_addr,
                    (unsigned long long)vq->avail_addr, (unsigned long long)vq->used_addr, num);
        return -EINVAL;
    }
    return 0;
}

/* The queue if the device may use it now: ready, DRIVER_OK, not broken. */
static struct virtq *live_queue(struct virtio_mmio *t, unsigned q)
{
    if (q >= t->dev->num_queues || q >= VIRTIO_MAX_QUEUES)
        return NULL;
    struct virtq *vq = &t->vq[q];
    if (!vq->ready || (t->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET)) !=
                          VIRTIO_STATUS_DRIVER_OK)
        return NULL;
    return vq;
}

__attribute__((format(printf, 3, 4))) static int queue_broken(struct virtio_mmio *t, unsigned q,
                                                              const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    log_guest(&t->log, "queue %u: %s; device needs reset", q, why);
    virtio_set_needs_reset(t);
    return -EINVAL;
}

/* Write avail_event (EVENT_IDX): "notify me when you make entry `idx`
 * available". */
static void set_avail_event(struct virtio_mmio *t, const struct virtq *vq, uint8_t *used)
{
    uint64_t off = 4 + (uint64_t)VIRTQ_USED_ELEM_SIZE * vq->num;
    le16_store(used + off, vq->last_avail);
    guest_ram_note_write(t->ram, vq->used_addr + off, 2);
}

int virtq_pop(struct virtio_mmio *t, unsigned q, struct virtq_elem *e)
{
    struct virtq *vq = live_queue(t, q);
    if (!vq)
        return 0;
    uint32_t num = vq->num;
    bool ev = virtio_has_feature(t, VIRTIO_F_RING_EVENT_IDX);
    /* Checked at QueueReady (and load); checked again, it costs little. */
    const uint8_t *avail = guest_ram_ptr(t->ram, vq->avail_addr, avail_size(num, ev));
    uint8_t *used = guest_ram_ptr(t->ram, vq->used_addr, used_size(num, ev));
    const uint8_t *desc = guest_ram_ptr(t->ram, vq->desc_addr, desc_size(num));
    if (!avail || !used || !desc)
        return queue_broken(t, q, "rings outside guest RAM");

    uint16_t avail_idx = le16_load(avail + 2);
    uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
    if (pending == 0) {
        if (ev)
            set_avail_event(t, vq, used);
        return 0;
    }
    if (pending > num)
        return queue_broken(t, q, "avail idx %u is %u entries ahead of the device (%u), queue size %u",
                            avail_idx, pending, vq->last_avail, num);
    /* Read the ring entry only after the index that published it (matters
     * once another thread runs the vCPU). */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint16_t head = le16_load(avail + 4 + 2 * (vq->last_avail & (num - 1)));
    if (head >= num)
        return queue_broken(t, q, "avail ring entry %u names descriptor %u, queue size %u",
                            vq->last_avail, head, num);

    e->head = head;
    e->epoch = t->epoch;
    e->out_num = e->in_num = 0;
    e->out_len = e->in_len = 0;

    const uint8_t *table = desc; /* current descriptor table */
    uint32_t table_num = num;    /* its entries */
    uint32_t seen = 0;           /* descriptors visited in it */
    bool indirect = false;
    bool seen_write = false;
    uint64_t total = 0;
    uint32_t i = head;
    for (;;) {
        if (++seen > table_num)
            return queue_broken(t, q, "descriptor chain from %u longer than its %s (%u): a loop?",
                                head, indirect ? "indirect table" : "queue", table_num);
        const uint8_t *d = table + (uint64_t)VIRTQ_DESC_SIZE * i;
        uint64_t addr = le64_load(d);
        uint32_t len = le32_load(d + 8);
        uint16_t flags = le16_load(d + 12);
        uint16_t next = le16_load(d + 14);

        if (flags & VIRTQ_DESC_F_INDIRECT) {
            if (!virtio_has_feature(t, VIRTIO_F_RING_INDIRECT_DESC))
                return queue_broken(t, q, "indirect descriptor %u without INDIRECT_DESC", i);
            if (indirect)
                return queue_broken(t, q, "indirect descriptor inside an indirect table");
            if (flags & VIRTQ_DESC_F_NEXT)
                return queue_broken(t, q, "indirect descriptor %u also has NEXT", i);
            if (len == 0 || len % VIRTQ_DESC_SIZE || len / VIRTQ_DESC_SIZE > VIRTQ_MAX_SEGS)
                return queue_broken(t, q, "indirect table length %u (must be 16..%u, 16-aligned)",
                                    len, VIRTQ_MAX_SEGS * VIRTQ_DESC_SIZE);
            table = guest_ram_ptr(t->ram, addr, len);
            if (!table)
                return queue_broken(t, q, "indirect table 0x%llx+%u outside guest RAM",
                                    (unsigned long long)addr, len);
            table_num = len / VIRTQ_DESC_SIZE;
            seen = 0;
            indirect = true;
            i = 0;
            continue;
        }

        total += len;
        if (total > UINT32_MAX)
            return queue_broken(t, q, "descriptor chain from %u longer than 4 GiB", head);
        if (flags & VIRTQ_DESC_F_WRITE) {
            seen_write = true;
            if (len) {
                void *p = guest_ram_ptr(t->ram, addr, len);
                if (!p)
                    return queue_broken(t, q, "buffer 0x%llx+%u outside guest RAM",
                                        (unsigned long long)addr, len);
                if (e->out_num + e->in_num >= VIRTQ_MAX_SEGS)
                    return queue_broken(t, q, "descriptor chain has more than %u buffers",
                                        VIRTQ_MAX_SEGS);
                e->in[e->in_num] = (struct iovec){ p, len };
                e->in_addr[e->in_num] = addr;
                e->in_num++;
                e->in_len += len;
            }
        } else {
            if (seen_write)
                return queue_broken(t, q, "device-readable buffer after a device-writable one");
            if (len) {
                void *p = guest_ram_ptr(t->ram, addr, len);
                if (!p)
                    return queue_broken(t, q, "buffer 0x%llx+%u outside guest RAM",
                                        (unsigned long long)addr, len);
                if (e->out_num + e->in_num >= VIRTQ_MAX_SEGS)
                    return queue_broken(t, q, "descriptor chain has more than %u buffers",
                                        VIRTQ_MAX_SEGS);
                e->out[e->out_num++] = (struct iovec){ p, len };
                e->out_len += len;
            }
        }
        if (!(flags & VIRTQ_DESC_F_NEXT))
            break;
        if (next >= table_num)
            return queue_broken(t, q, "descriptor %u: next %u out of range (%u)", i, next,
                                table_num);
        i = next;
    }
    vq->last_avail++;
    if (ev)
        set_avail_event(t, vq, used);
    return 1;
}

void virtq_unpop(struct virtio_mmio *t, unsigned q)
{
    struct virtq *vq = live_queue(t, q);
    if (vq)
        vq->last_avail--;
}

bool virtq_fill(struct virtio_mmio *t, unsigned q, const struct virtq_elem *e, uint32_t written,
                unsigned k)
{
    struct virtq *vq = live_queue(t, q);
    if (!vq || e->epoch != t->epoch || e->head >= vq->num)
        return false; /* reset (or broken) since the pop: nothing to hand back to */
    uint32_t num = vq->num;
    bool ev = virtio_has_feature(t, VIRTIO_F_RING_EVENT_IDX);
    uint8_t *used = guest_ram_ptr(t->ram, vq->used_addr, used_size(num, ev));
    if (!used) {
        queue_broken(t, q, "rings outside guest RAM");
        return false;
    }

    if (written > e->in_len)
        written = (uint32_t)e->in_len;
    /* The device wrote into guest memory: the engine may hold decoded code
     * from those pages. */
    uint32_t left = written;
    for (unsigned j = 0; j < e->in_num && left; j++) {
        uint32_t n = e->in[j].iov_len < left ? (uint32_t)e->in[j].iov_len : left;
        guest_ram_note_write(t->ram, e->in_addr[j], n);
        left -= n;
    }

    uint64_t elem_off =
        4 + (uint64_t)VIRTQ_USED_ELEM_SIZE * ((uint16_t)(vq->used_idx + k) & (num - 1));
    le32_store(used + elem_off, e->head);
    le32_store(used + elem_off + 4, written);
    guest_ram_note_write(t->ram, vq->used_addr + elem_off, VIRTQ_USED_ELEM_SIZE);
    return true;
}

void virtq_flush(struct virtio_mmio *t, unsigned q, unsigned count)
{
    struct virtq *vq = live_queue(t, q);
    if (!vq || count == 0)
        return;
    uint32_t num = vq->num;
    bool ev = virtio_has_feature(t, VIRTIO_F_RING_EVENT_IDX);
    const uint8_t *avail = guest_ram_ptr(t->ram, vq->avail_addr, avail_size(num, ev));
    uint8_t *used = guest_ram_ptr(t->ram, vq->used_addr, used_size(num, ev));
    if (!avail || !used) {
        queue_broken(t, q, "rings outside guest RAM");
        return;
    }
    uint16_t old = vq->used_idx;
    uint16_t new = (uint16_t)(old + count);
    vq->used_idx = new;
    /* The elements must be visible before the index that publishes them. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    le16_store(used + 2, new);
    guest_ram_note_write(t->ram, vq->used_addr + 2, 2);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    bool notify;
    if (ev) {
        /* virtio 1.2, 2.7.10: interrupt when used idx passes used_event */
        uint16_t used_event = le16_load(avail + 4 + 2ull * num);
        notify = (uint16_t)(new - used_event - 1) < (uint16_t)(new - old);
    } else {
        notify = !(le16_load(avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    if (notify)
        virtio_mmio_raise(t, VIRTIO_MMIO_INT_VRING);
}

void virtq_push(struct virtio_mmio *t, unsigned q, const struct virtq_elem *e, uint32_t written)
{
    if (virtq_fill(t, q, e, written, 0))
        virtq_flush(t, q, 1);
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t c = iov[i].iov_len - off;
        if (c > len - done)
            c = len - done;
        memcpy((uint8_t *)buf + done, (const uint8_t *)iov[i].iov_base + off, c);
        done += c;
        off = 0;
    }
    return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t c = iov[i].iov_len - off;
        if (c > len - done)
            c = len - done;
        memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, c);
        done += c;
        off = 0;
    }
    return done;
}

int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len, struct iovec *dst,
              unsigned max)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n && len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t c = iov[i].iov_len - off;
        if (c > len)
            c = len;
        if (k == max)
            return -E2BIG;
        dst[k++] = (struct iovec){ (uint8_t *)iov[i].iov_base + off, c };
        len -= c;
        off = 0;
    }
    return len ? -EINVAL : (int)k;
}
