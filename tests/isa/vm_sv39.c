/* Sv39 page-table walks: see common/vm_basic.inc */
#define LEVELS 3
#include "vm_basic.inc"
