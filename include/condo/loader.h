/* Loading guest images into RAM: raw files, RISC-V Linux `Image`s and ELF
 * executables (bare-metal programs). Every file is untrusted: sizes and
 * addresses are checked against guest RAM. */
#ifndef CONDO_LOADER_H
#define CONDO_LOADER_H

#include "condo/guest_ram.h"

/* Read a whole file into memory (malloc'd); *len gets its size. */
int loader_read_file(const char *path, uint8_t **data, size_t *len);
/* Copy a raw image to addr. */
int loader_load_raw(struct guest_ram *ram, const char *path, uint64_t addr, uint64_t *size);

struct linux_image_info {
    uint64_t load_addr; /* where it was loaded */
    uint64_t image_size; /* memory footprint incl. BSS, from the header */
};
/* Load a RISC-V Linux Image at the 2 MiB-aligned address `addr`. */
int loader_load_linux_image(struct guest_ram *ram, const char *path, uint64_t addr,
                            struct linux_image_info *info);
/* True if the file starts with the ELF magic. */
bool loader_is_elf(const char *path);

struct elf_info {
    uint64_t entry;
    uint64_t tohost, fromhost; /* 0 when the symbols are absent */
};
/* Load a 64-bit little-endian RISC-V ELF executable by its physical
 * addresses. Nothing is written to guest RAM unless the whole file checks
 * out. */
int loader_load_elf(struct guest_ram *ram, const char *path, struct elf_info *info);
/* The same from the file's contents in memory (`path` only names it in
 * messages): the ELF fuzz target's entry point. */
int loader_load_elf_data(struct guest_ram *ram, const char *path, const uint8_t *d, size_t n,
                         struct elf_info *info);

#endif
