/* virtio-input (virtio 1.2, 5.8): the guest's buttons. One small input
 * device that can press the power button (KEY_POWER) and Ctrl+Alt+Del
 * (KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE), so the host can ask a guest to
 * shut down in a way the stock Linux kernel understands: its virtio_input
 * driver turns the events into evdev events (systemd-logind and condo's
 * default guest power off on KEY_POWER), and the kernel's VT keyboard
 * handler turns Ctrl+Alt+Del into ctrl_alt_del(), which signals init.
 *
 * Queue 0 (eventq) carries events to the driver in device-writable
 * buffers of struct virtio_input_event (le16 type, le16 code, le32 value);
 * queue 1 (statusq) carries events from the driver (LEDs, sounds): this
 * device advertises none, so they are taken and ignored. The config space
 * answers select/subsel queries: ID_NAME, ID_SERIAL, ID_DEVIDS, PROP_BITS
 * (no properties: size 0), EV_BITS for EV_SYN and EV_KEY.
 *
 * Events are delivered in batches, all or nothing: a batch goes only when
 * the driver has posted enough buffers for all of it, so a guest never
 * sees Ctrl and Alt go down without the Delete and the releases after.
 *
 * Wiring (board): virtio_input_init(), then map &in->mmio on the bus with
 * virtio_mmio_ops at the slot's address. No polling needed. Calls into the
 * device happen under the machine lock, as for any device. */
#ifndef CONDO_VIRTIO_INPUT_H
#define CONDO_VIRTIO_INPUT_H

#include <linux/input-event-codes.h>

#include "condo/error.h"
#include "condo/virtio.h"

/* config select values (virtio 1.2, 5.8.4) */
#define VIRTIO_INPUT_CFG_UNSET 0x00
#define VIRTIO_INPUT_CFG_ID_NAME 0x01
#define VIRTIO_INPUT_CFG_ID_SERIAL 0x02
#define VIRTIO_INPUT_CFG_ID_DEVIDS 0x03
#define VIRTIO_INPUT_CFG_PROP_BITS 0x10
#define VIRTIO_INPUT_CFG_EV_BITS 0x11
#define VIRTIO_INPUT_CFG_ABS_INFO 0x12

/* struct virtio_input_config: select, subsel, size, reserved[5], then a
 * 128-byte union (string, bitmap, absinfo, devids) */
#define VIRTIO_INPUT_CFG_SELECT 0
#define VIRTIO_INPUT_CFG_SUBSEL 1
#define VIRTIO_INPUT_CFG_SIZE 2
#define VIRTIO_INPUT_CFG_U 8
#define VIRTIO_INPUT_CFG_U_LEN 128
#define VIRTIO_INPUT_CONFIG_LEN (VIRTIO_INPUT_CFG_U + VIRTIO_INPUT_CFG_U_LEN)

#define VIRTIO_INPUT_EVENTQ 0
#define VIRTIO_INPUT_STATUSQ 1
#define VIRTIO_INPUT_EVENT_LEN 8 /* struct virtio_input_event */

/* What the device says it is (ID_NAME, ID_SERIAL, ID_DEVIDS). The guest
 * finds it by this name in /sys/class/input/<dev>/device/name. */
#define VIRTIO_INPUT_NAME "condo power button"
#define VIRTIO_INPUT_SERIAL "condo-keys-0"
#define VIRTIO_INPUT_BUSTYPE 0x06 /* BUS_VIRTUAL */
#define VIRTIO_INPUT_VENDOR 0x434f /* "CO" */
#define VIRTIO_INPUT_PRODUCT 0x0001
#define VIRTIO_INPUT_VERSION 0x0001

/* The most events one batch may hold (4 keys pressed and released, and a
 * SYN_REPORT after each half). */
#define VIRTIO_INPUT_MAX_BATCH 10
#define VIRTIO_INPUT_MAX_KEYS 4

struct virtio_input_event {
    uint16_t type, code;
    int32_t value;
};

struct virtio_input {
    struct virtio_mmio mmio; /* map this on the bus */
    uint8_t select, subsel;  /* the driver's config query */
    uint64_t events_sent;    /* events the driver received (tests, debugging) */
    uint64_t batches_refused; /* batches that could not be delivered */
    struct virtq_elem elem;  /* scratch for one element at a time */
};

void virtio_input_init(struct virtio_input *in, struct guest_ram *ram, struct irq_line irq);

/* Whether the guest's driver has set the device up to receive events
 * (DRIVER_OK, the event queue ready, the device not broken). */
bool virtio_input_driver_ready(const struct virtio_input *in);

/* Deliver n events (n <= VIRTIO_INPUT_MAX_BATCH) as one batch, all or
 * nothing. 0 when the driver has them; otherwise nothing was delivered
 * (unless the guest rewrote its ring meanwhile: -EIO) and err says why:
 *   -ENODEV  no driver has set up the event queue (none loaded yet, an old
 *            guest, or the driver reset the device);
 *   -ENOSPC  fewer free buffers than events: the driver is not taking
 *            events (stuck or busy);
 *   -EIO     the driver's queue is malformed: the device is now marked
 *            DEVICE_NEEDS_RESET;
 *   -EINVAL  the batch is empty or too long (a caller's bug). */
int virtio_input_send(struct virtio_input *in, const struct virtio_input_event *ev, unsigned n,
                      struct error *err);

/* Press the keys in order, SYN_REPORT, release them in reverse order,
 * SYN_REPORT: one batch (n <= VIRTIO_INPUT_MAX_KEYS), as virtio_input_send.
 * Only keys the device advertises (KEY_POWER, KEY_LEFTCTRL, KEY_LEFTALT,
 * KEY_DELETE) are accepted (-EINVAL otherwise: the guest would drop
 * them). */
int virtio_input_press_keys(struct virtio_input *in, const uint16_t *keys, unsigned n,
                            struct error *err);

/* The power button / Ctrl+Alt+Del, pressed and released. */
int virtio_input_power_button(struct virtio_input *in, struct error *err);
int virtio_input_ctrl_alt_del(struct virtio_input *in, struct error *err);

#endif
