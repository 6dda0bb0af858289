/* The boards condo can build, found by architecture. The VM loop asks here
 * for a `struct machine_ops` and never includes a board's own header. */
#ifndef CONDO_BOARDS_H
#define CONDO_BOARDS_H

#include "condo/machine.h"

extern const struct machine_ops riscv_virt_machine;

/* The board for `arch` ("riscv64"), or NULL when condo has none. */
const struct machine_ops *board_for_arch(const char *arch);
/* A comma-separated list of the architectures condo emulates. */
const char *board_arches(void);

#endif
