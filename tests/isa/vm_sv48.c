/* Sv48 page-table walks: see common/vm_basic.inc */
#define LEVELS 4
#include "vm_basic.inc"
