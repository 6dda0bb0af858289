/* What a board is built from: the hardware part of a VM's definition.
 * Shared by the board (which builds the machine) and the VMM (which runs
 * it), so it lives below both. */
#ifndef CONDO_MACHINE_H
#define CONDO_MACHINE_H

#include "condo/common.h"

#define VM_MAX_DISKS 8
#define VM_MAX_NETS 4

/* --disk FILE[,ro][,format=raw|qcow2][,backing=PATH|none][,iops=N][,bps=N] */
struct vm_disk_config {
    const char *path;
    bool read_only;
    int format; /* enum block_format */
    const char *backing; /* NULL: the image's own, under the backing rule */
    uint64_t iops, bps; /* 0 = unlimited */
};

#endif
