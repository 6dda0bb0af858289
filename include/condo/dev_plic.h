/* SiFive-compatible PLIC as on QEMU virt (0x0c000000, 0x600000 bytes for
 * up to 2 contexts per hart: context 2h = M-mode of hart h, 2h+1 = S-mode).
 * Sources 1..PLIC_MAX_SOURCES-1; source 0 does not exist. Level-triggered
 * sources with claim/complete gateways. */
#ifndef CONDO_DEV_PLIC_H
#define CONDO_DEV_PLIC_H

#include "condo/log.h"
#include "condo/device.h"

#define PLIC_SIZE 0x600000
#define PLIC_MAX_SOURCES 96 /* QEMU virt: riscv,ndev = 95 */
#define PLIC_MAX_CONTEXTS 16
#define PLIC_WORDS ((PLIC_MAX_SOURCES + 31) / 32)

struct plic {
    unsigned ncontexts;
    uint32_t priority[PLIC_MAX_SOURCES];
    uint32_t level[PLIC_WORDS];   /* current input line levels */
    uint32_t pending[PLIC_WORDS]; /* gateway pending bits */
    uint32_t claimed[PLIC_WORDS]; /* claimed, awaiting complete */
    uint32_t enable[PLIC_MAX_CONTEXTS][PLIC_WORDS];
    uint32_t threshold[PLIC_MAX_CONTEXTS];
    int out_level[PLIC_MAX_CONTEXTS];
    /* Called when a context's external-interrupt output changes level. */
    void (*notify)(void *opaque, unsigned context, int level);
    void *notify_opaque;
    struct log_limit log; /* guest errors, rate-limited (not saved) */
};

extern const struct dev_ops plic_ops;

void plic_init(struct plic *p, unsigned ncontexts,
               void (*notify)(void *opaque, unsigned context, int level), void *opaque);
/* irq_line-compatible: set source `src` input level. */
void plic_set_irq(void *plic, unsigned src, int level);

#endif
