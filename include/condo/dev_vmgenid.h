/* VM generation ID (the `microsoft,vmgenid` device-tree binding, which
 * Linux's drivers/virt/vmgenid.c reads): 16 bytes of a 128-bit
 * generation ID at the start of a small MMIO window, and an interrupt.
 * A new ID and the interrupt tell the guest that it runs again from a
 * snapshot (or as a clone of one): the kernel mixes the new ID into its
 * RNG and reseeds at once, and sends a uevent (NEW_VMGENID=1) that user
 * space can act on.
 *
 * Linux's handler only reads the ID (there is no acknowledge register),
 * and the PLIC drops a request whose line falls before it is claimed; so
 * the line stays high from a new generation until the guest reads the
 * ID. The device has no saved state: a restore gives it a new ID anyway. */
#ifndef CONDO_DEV_VMGENID_H
#define CONDO_DEV_VMGENID_H

#include "condo/device.h"

#define VMGENID_SIZE 0x1000
#define VMGENID_ID_LEN 16

struct vmgenid {
    uint8_t id[VMGENID_ID_LEN];
    bool raised; /* the line, high until the guest reads the ID */
    struct irq_line irq;
};

extern const struct dev_ops vmgenid_ops;

/* A random first ID, the line low. */
void vmgenid_init(struct vmgenid *g, struct irq_line irq);
/* A new random ID (id, when not NULL, gets it) and the interrupt. */
void vmgenid_new_generation(struct vmgenid *g, uint8_t *id);

#endif
