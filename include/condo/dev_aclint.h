/* CLINT-compatible ACLINT as on QEMU virt (0x02000000, 0x10000 bytes):
 * MSIP at 0x0 + 4*hart, MTIMECMP at 0x4000 + 8*hart, MTIME at 0xbff8.
 * mtime is the VM clock (10 MHz). The engine calls aclint_update() at block
 * boundaries/slices so MTIP follows time, and asks aclint_next_deadline()
 * before sleeping in WFI. */
#ifndef CONDO_DEV_ACLINT_H
#define CONDO_DEV_ACLINT_H

#include "condo/log.h"
#include "condo/clock.h"
#include "condo/device.h"

#define ACLINT_SIZE 0x10000
#define ACLINT_MAX_HARTS 8

/* mip bits the ACLINT drives (privileged spec numbering). */
#define ACLINT_MIP_MSIP (1u << 3)
#define ACLINT_MIP_MTIP (1u << 7)

struct aclint {
    unsigned nharts;
    uint32_t msip[ACLINT_MAX_HARTS];
    uint64_t mtimecmp[ACLINT_MAX_HARTS];
    bool mtip[ACLINT_MAX_HARTS]; /* MTIP level last driven (set_mip on change) */
    struct vm_clock *clock;
    /* Sets (level 1) or clears mip bits `mask` on hart `hart`. */
    void (*set_mip)(void *opaque, unsigned hart, uint32_t mask, int level);
    void *cpu_opaque;
    struct log_limit log; /* guest errors, rate-limited (not saved) */
};

extern const struct dev_ops aclint_ops;

void aclint_init(struct aclint *a, unsigned nharts, struct vm_clock *clock,
                 void (*set_mip)(void *opaque, unsigned hart, uint32_t mask, int level),
                 void *cpu_opaque);
/* Re-evaluate MTIP for all harts against the current mtime. */
void aclint_update(struct aclint *a);
/* Earliest mtimecmp among harts (UINT64_MAX if none armed). */
uint64_t aclint_next_deadline(const struct aclint *a);

#endif
