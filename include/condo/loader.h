/* Loading guest images into RAM: raw files, RISC-V Linux `Image`s and ELF
 * executables (bare-metal programs). Every file is untrusted: only regular
 * files are read (opened without blocking, so a FIFO cannot hang condo),
 * sizes and addresses are checked against guest RAM, and a kernel whose
 * PE/COFF header (the EFI stub's) promises more bytes than the file has is
 * refused as truncated. Errors are values (include/condo/error.h): err says
 * which file and what to do. */
#ifndef CONDO_LOADER_H
#define CONDO_LOADER_H

#include "condo/error.h"
#include "condo/guest_ram.h"

/* Read a whole regular file (at most 2 GiB) into memory (malloc'd); *len
 * gets its size. */
int loader_read_file(const char *path, uint8_t **data, size_t *len, struct error *err);
/* Copy a raw image to addr. */
int loader_load_raw(struct guest_ram *ram, const char *path, uint64_t addr, uint64_t *size,
                    struct error *err);

struct linux_image_info {
    uint64_t load_addr; /* where it was loaded */
    uint64_t image_size; /* memory footprint incl. BSS, from the header */
};
/* Load a RISC-V Linux Image at the 2 MiB-aligned address `addr`. */
int loader_load_linux_image(struct guest_ram *ram, const char *path, uint64_t addr,
                            struct linux_image_info *info, struct error *err);
/* 0 if path is a regular file starting with the ELF magic; else -ENOEXEC
 * (or the error opening it), with err set. */
int loader_check_elf(const char *path, struct error *err);

struct elf_info {
    uint64_t entry;
    uint64_t tohost, fromhost; /* 0 when the symbols are absent */
};
/* Load a 64-bit little-endian RISC-V ELF executable by its physical
 * addresses. Nothing is written to guest RAM unless the whole file checks
 * out. */
int loader_load_elf(struct guest_ram *ram, const char *path, struct elf_info *info,
                    struct error *err);
/* The same from the file's contents in memory (`path` only names it in
 * messages): the ELF fuzz target's entry point. */
int loader_load_elf_data(struct guest_ram *ram, const char *path, const uint8_t *d, size_t n,
                         struct elf_info *info, struct error *err);

#endif
