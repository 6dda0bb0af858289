/* The table of boards. */
#include <string.h>

#include "condo/boards.h"

static const struct machine_ops *const boards[] = {
    &riscv_virt_machine,
};

const struct machine_ops *board_for_arch(const char *arch)
{
    for (size_t i = 0; i < ARRAY_SIZE(boards); i++)
        if (arch && !strcmp(boards[i]->arch, arch))
            return boards[i];
    return NULL;
}

const char *board_arches(void)
{
    return "riscv64";
}
