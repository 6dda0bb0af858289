/* Guest image loaders. Every header field is checked before use. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condo/loader.h"

#define LOADER_MAX_FILE (1ull << 31)

int loader_read_file(const char *path, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        condo_err("cannot open %s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > LOADER_MAX_FILE) {
        condo_err("%s: not a regular file of at most 2 GiB", path);
        close(fd);
        return -EINVAL;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            condo_err("%s: read failed", path);
            free(buf);
            close(fd);
            return -EIO;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = n;
    return 0;
}

static int place(struct guest_ram *ram, const char *path, uint64_t addr, const void *p,
                 uint64_t len)
{
    if (guest_ram_write(ram, addr, p, len) < 0) {
        condo_err("%s (%llu bytes) does not fit in guest RAM at 0x%llx: give the VM more "
                  "memory (--memory)",
                  path, (unsigned long long)len, (unsigned long long)addr);
        return -E2BIG;
    }
    return 0;
}

int loader_load_raw(struct guest_ram *ram, const char *path, uint64_t addr, uint64_t *size)
{
    uint8_t *d;
    size_t n;
    int r = loader_read_file(path, &d, &n);
    if (r < 0)
        return r;
    r = place(ram, path, addr, d, n);
    free(d);
    if (r == 0 && size)
        *size = n;
    return r;
}

/* RISC-V Image header (Documentation/arch/riscv/boot-image-header.rst):
 * code0 code1 text_offset(8) image_size(8) flags(8) version(4) res1(4)
 * res2(8) magic "RISCV\0\0\0"(8) magic2 "RSC\x05"(4) res3(4). */
int loader_load_linux_image(struct guest_ram *ram, const char *path, uint64_t addr,
                            struct linux_image_info *info)
{
    uint8_t *d;
    size_t n;
    int r = loader_read_file(path, &d, &n);
    if (r < 0)
        return r;
    if (n < 64 || memcmp(d + 48, "RISCV\0\0\0", 8) != 0 || memcmp(d + 56, "RSC\x05", 4) != 0) {
        condo_err("%s is not a RISC-V Linux Image (no RISCV/RSC header magic); an ELF "
                  "bare-metal program needs --bios none",
                  path);
        free(d);
        return -EINVAL;
    }
    uint64_t image_size = le64_load(d + 16);
    if (image_size < n)
        image_size = n;
    r = place(ram, path, addr, d, n);
    free(d);
    if (r < 0)
        return r;
    if (!guest_ram_contains(ram, addr, image_size)) {
        condo_err("%s needs %llu MiB of RAM from 0x%llx: give the VM more memory (--memory)",
                  path, (unsigned long long)(image_size >> 20), (unsigned long long)addr);
        return -E2BIG;
    }
    info->load_addr = addr;
    info->image_size = image_size;
    return 0;
}

bool loader_is_elf(const char *path)
{
    uint8_t m[4] = { 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = read(fd, m, 4) == 4 && memcmp(m, ELFMAG, 4) == 0;
    close(fd);
    return ok;
}

static bool range_ok(size_t file_len, uint64_t off, uint64_t len)
{
    return off <= file_len && len <= file_len - off;
}

/* The HTIF symbols (tohost, fromhost) from the symbol table. Section
 * headers are optional (e_shnum 0), but a table that is there must lie
 * inside the file: a program whose tohost cannot be found would run on
 * and never report. */
static int find_htif_symbols(const char *path, const uint8_t *d, size_t n,
                             const Elf64_Ehdr *eh, struct elf_info *info)
{
    if (eh->e_shnum == 0)
        return 0;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
        !range_ok(n, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr))) {
        condo_err("%s: the section header table lies beyond the end of the file (truncated "
                  "or corrupt ELF)",
                  path);
        return -EINVAL;
    }
    /* Headers and symbols are copied out: the file puts them at any
     * offset, and a misaligned pointer to them would be undefined. */
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        Elf64_Shdr sym_sh, str_sh;
        memcpy(&sym_sh, d + eh->e_shoff + (size_t)i * sizeof(Elf64_Shdr), sizeof(sym_sh));
        if (sym_sh.sh_type != SHT_SYMTAB)
            continue;
        bool ok = sym_sh.sh_link < eh->e_shnum;
        if (ok)
            memcpy(&str_sh, d + eh->e_shoff + (size_t)sym_sh.sh_link * sizeof(Elf64_Shdr),
                   sizeof(str_sh));
        if (!ok || !range_ok(n, sym_sh.sh_offset, sym_sh.sh_size) ||
            !range_ok(n, str_sh.sh_offset, str_sh.sh_size) ||
            sym_sh.sh_entsize != sizeof(Elf64_Sym)) {
            condo_err("%s: symbol table %u or its string table lies beyond the end of the file "
                      "(truncated or corrupt ELF)",
                      path, i);
            return -EINVAL;
        }
        size_t count = sym_sh.sh_size / sizeof(Elf64_Sym);
        for (size_t k = 0; k < count; k++) {
            Elf64_Sym sym;
            memcpy(&sym, d + sym_sh.sh_offset + k * sizeof(Elf64_Sym), sizeof(sym));
            if (sym.st_name >= str_sh.sh_size)
                continue;
            const char *name = (const char *)(d + str_sh.sh_offset + sym.st_name);
            size_t maxlen = str_sh.sh_size - sym.st_name;
            if (strnlen(name, maxlen) == maxlen)
                continue;
            if (strcmp(name, "tohost") == 0)
                info->tohost = sym.st_value;
            else if (strcmp(name, "fromhost") == 0)
                info->fromhost = sym.st_value;
        }
    }
    return 0;
}

int loader_load_elf_data(struct guest_ram *ram, const char *path, const uint8_t *d, size_t n,
                         struct elf_info *info)
{
    memset(info, 0, sizeof(*info));
    if (n < sizeof(Elf64_Ehdr)) {
        condo_err("%s: too short for an ELF file", path);
        return -EINVAL;
    }
    Elf64_Ehdr eh;
    memcpy(&eh, d, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, 4) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_RISCV) {
        condo_err("%s: not a 64-bit little-endian RISC-V ELF file", path);
        return -EINVAL;
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
        !range_ok(n, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr))) {
        condo_err("%s: bad program header table", path);
        return -EINVAL;
    }
    /* Everything is checked before guest RAM is touched: the symbols, then
     * every segment, and only then are the segments copied. */
    int r = find_htif_symbols(path, d, n, &eh, info);
    if (r < 0)
        return r;
    unsigned loadable = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, d + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz || !range_ok(n, ph.p_offset, ph.p_filesz)) {
            condo_err("%s: segment %u's data lies beyond the end of the file (truncated or "
                      "corrupt ELF)",
                      path, i);
            return -EINVAL;
        }
        if (!guest_ram_contains(ram, ph.p_paddr, ph.p_memsz)) {
            condo_err("%s: segment %u (0x%llx, %llu bytes) lies outside guest RAM "
                      "0x%llx-0x%llx",
                      path, i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
                      (unsigned long long)ram->base, (unsigned long long)(ram->base + ram->size));
            return -EINVAL;
        }
        loadable++;
    }
    if (!loadable) {
        condo_err("%s: no loadable segments", path);
        return -EINVAL;
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, d + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        guest_ram_write(ram, ph.p_paddr, d + ph.p_offset, ph.p_filesz);
        uint8_t *bss = guest_ram_ptr(ram, ph.p_paddr + ph.p_filesz, ph.p_memsz - ph.p_filesz);
        if (bss)
            memset(bss, 0, ph.p_memsz - ph.p_filesz);
    }
    info->entry = eh.e_entry;
    return 0;
}

int loader_load_elf(struct guest_ram *ram, const char *path, struct elf_info *info)
{
    uint8_t *d;
    size_t n;
    memset(info, 0, sizeof(*info));
    int r = loader_read_file(path, &d, &n);
    if (r < 0)
        return r;
    r = loader_load_elf_data(ram, path, d, n, info);
    free(d);
    return r;
}
