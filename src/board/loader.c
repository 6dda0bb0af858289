/* Guest image loaders. Every header field is checked before use, and
 * nothing is opened in a way that could block (a FIFO named as a kernel). */
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

/* Opens path for reading: never blocking, a regular file only. */
static int open_regular(const char *path, struct stat *st, struct error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return error_set_errno(err, -errno, "cannot open %s", path);
    if (fstat(fd, st) < 0) {
        int e = errno;
        close(fd);
        return error_set_errno(err, -e, "cannot open %s", path);
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return error_set(err, S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL,
                         "%s is not a regular file (a %s): give the file itself", path,
                         S_ISDIR(st->st_mode)    ? "directory"
                         : S_ISFIFO(st->st_mode) ? "FIFO"
                         : S_ISCHR(st->st_mode)  ? "character device"
                         : S_ISBLK(st->st_mode)  ? "block device"
                                                 : "socket");
    }
    return fd;
}

int loader_read_file(const char *path, uint8_t **data, size_t *len, struct error *err)
{
    struct stat st;
    int fd = open_regular(path, &st, err);
    if (fd < 0)
        return fd;
    if ((uint64_t)st.st_size > LOADER_MAX_FILE) {
        close(fd);
        return error_set(err, -EFBIG, "%s is larger than 2 GiB", path);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return error_set(err, -ENOMEM, "out of memory reading %s (%zu bytes)", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            int e = r < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return error_set(err, -EIO, "%s: read failed: %s", path,
                             r < 0 ? strerror(e) : "the file shrank while being read");
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = n;
    return 0;
}

static int place(struct guest_ram *ram, const char *path, uint64_t addr, const void *p,
                 uint64_t len, struct error *err)
{
    if (guest_ram_write(ram, addr, p, len) < 0)
        return error_set(err, -E2BIG,
                         "%s (%llu bytes) does not fit in guest RAM at 0x%llx: give the VM more "
                         "memory (--memory)",
                         path, (unsigned long long)len, (unsigned long long)addr);
    return 0;
}

int loader_load_raw(struct guest_ram *ram, const char *path, uint64_t addr, uint64_t *size,
                    struct error *err)
{
    uint8_t *d;
    size_t n;
    int r = loader_read_file(path, &d, &n, err);
    if (r < 0)
        return r;
    r = place(ram, path, addr, d, n, err);
    free(d);
    if (r == 0 && size)
        *size = n;
    return r;
}

/* RISC-V Image header (Documentation/arch/riscv/boot-image-header.rst):
 * code0 code1 text_offset(8) image_size(8) flags(8) version(4) res1(4)
 * res2(8) magic "RISCV\0\0\0"(8) magic2 "RSC\x05"(4) res3(4). */
/* A kernel built with an EFI stub (Debian's is) is also a PE/COFF image:
 * its section table says where each section's bytes lie in the file, so a
 * file cut short is seen. 0, or -EINVAL with err set. Without a PE header
 * (no EFI stub) the file promises nothing checkable. */
static int check_pe_sections(const uint8_t *d, size_t n, const char *path, struct error *err)
{
    if (d[0] != 'M' || d[1] != 'Z')
        return 0;
    uint32_t pe = le32_load(d + 60);
    if ((uint64_t)pe + 24 > n || memcmp(d + pe, "PE\0\0", 4) != 0)
        return error_set(err, -EINVAL,
                         "%s is truncated or damaged: its PE header (at %u) is not in the %zu-byte "
                         "file (copy the kernel again)",
                         path, pe, n);
    unsigned nsec = le16_load(d + pe + 6), opt = le16_load(d + pe + 20);
    uint64_t table = (uint64_t)pe + 24 + opt;
    if (table + 40ull * nsec > n)
        return error_set(err, -EINVAL,
                         "%s is truncated: its PE section table ends past the %zu-byte file "
                         "(copy the kernel again)",
                         path, n);
    for (unsigned i = 0; i < nsec; i++) {
        const uint8_t *sh = d + table + 40ull * i;
        uint64_t raw_size = le32_load(sh + 16), raw_ptr = le32_load(sh + 20);
        if (raw_size && raw_ptr + raw_size > n)
            return error_set(err, -EINVAL,
                             "%s is truncated: its section %.8s ends at byte %llu, the file has "
                             "%zu bytes (copy the kernel again)",
                             path, (const char *)sh, (unsigned long long)(raw_ptr + raw_size), n);
    }
    return 0;
}

int loader_load_linux_image(struct guest_ram *ram, const char *path, uint64_t addr,
                            struct linux_image_info *info, struct error *err)
{
    uint8_t *d;
    size_t n;
    int r = loader_read_file(path, &d, &n, err);
    if (r < 0)
        return r;
    if (n < 64 || memcmp(d + 48, "RISCV\0\0\0", 8) != 0 || memcmp(d + 56, "RSC\x05", 4) != 0) {
        free(d);
        return error_set(err, -EINVAL,
                         "%s is not a RISC-V Linux Image (no RISCV/RSC header magic); an ELF "
                         "bare-metal program needs --bios none",
                         path);
    }
    uint64_t image_size = le64_load(d + 16);
    if ((r = check_pe_sections(d, n, path, err)) < 0) {
        free(d);
        return r;
    }
    /* Version 0.2 headers (every kernel since 4.20) give the footprint;
     * the file cannot be larger than the memory it says it fills. */
    if (le32_load(d + 32) >= 2 && image_size && image_size < n) {
        free(d);
        return error_set(err, -EINVAL,
                         "%s is damaged: its header says the kernel takes %llu bytes of memory, "
                         "less than the file's %zu",
                         path, (unsigned long long)image_size, n);
    }
    if (image_size < n)
        image_size = n;
    r = place(ram, path, addr, d, n, err);
    free(d);
    if (r < 0)
        return r;
    if (!guest_ram_contains(ram, addr, image_size))
        return error_set(err, -E2BIG,
                         "%s needs %llu MiB of RAM from 0x%llx: give the VM more memory (--memory)",
                         path, (unsigned long long)(image_size >> 20), (unsigned long long)addr);
    info->load_addr = addr;
    info->image_size = image_size;
    return 0;
}

int loader_check_elf(const char *path, struct error *err)
{
    struct stat st;
    int fd = open_regular(path, &st, err);
    if (fd < 0)
        return fd;
    uint8_t m[4] = { 0 };
    bool ok = read(fd, m, 4) == 4 && memcmp(m, ELFMAG, 4) == 0;
    close(fd);
    if (!ok)
        return error_set(err, -ENOEXEC, "--bios none runs ELF programs; %s is not ELF", path);
    return 0;
}

static bool range_ok(size_t file_len, uint64_t off, uint64_t len)
{
    return off <= file_len && len <= file_len - off;
}

/* The HTIF symbols (tohost, fromhost) from the symbol table. Section
 * headers are optional (e_shnum 0), but a table that is there must lie
 * inside the file: a program whose tohost cannot be found would run on
 * and never report. Headers and symbols are copied out, never used in
 * place: the file decides their offsets, which need not be aligned. */
static int find_htif_symbols(const char *path, const uint8_t *d, size_t n,
                             const Elf64_Ehdr *eh, struct elf_info *info, struct error *err)
{
    if (eh->e_shnum == 0)
        return 0;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
        !range_ok(n, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
        return error_set(err, -EINVAL,
                         "%s: the section header table lies beyond the end of the file "
                         "(truncated or corrupt ELF)",
                         path);
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
            sym_sh.sh_entsize != sizeof(Elf64_Sym))
            return error_set(err, -EINVAL,
                             "%s: symbol table %u or its string table lies beyond the end of "
                             "the file (truncated or corrupt ELF)",
                             path, i);
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
                         struct elf_info *info, struct error *err)
{
    memset(info, 0, sizeof(*info));
    if (n < sizeof(Elf64_Ehdr))
        return error_set(err, -EINVAL, "%s: too short for an ELF file", path);
    Elf64_Ehdr eh;
    memcpy(&eh, d, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, 4) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_RISCV)
        return error_set(err, -EINVAL, "%s: not a 64-bit little-endian RISC-V ELF file", path);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
        !range_ok(n, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
        return error_set(err, -EINVAL, "%s: bad program header table", path);
    /* Everything is checked before guest RAM is touched: the symbols, then
     * every segment, and only then are the segments copied. */
    int r = find_htif_symbols(path, d, n, &eh, info, err);
    if (r < 0)
        return r;
    unsigned loadable = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, d + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz || !range_ok(n, ph.p_offset, ph.p_filesz))
            return error_set(err, -EINVAL,
                             "%s: segment %u's data lies beyond the end of the file (truncated "
                             "or corrupt ELF)",
                             path, i);
        if (!guest_ram_contains(ram, ph.p_paddr, ph.p_memsz))
            return error_set(err, -EINVAL,
                             "%s: segment %u (0x%llx, %llu bytes) lies outside guest RAM "
                             "0x%llx-0x%llx",
                             path, i, (unsigned long long)ph.p_paddr,
                             (unsigned long long)ph.p_memsz, (unsigned long long)ram->base,
                             (unsigned long long)(ram->base + ram->size));
        loadable++;
    }
    if (!loadable)
        return error_set(err, -EINVAL, "%s: no loadable segments", path);
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

int loader_load_elf(struct guest_ram *ram, const char *path, struct elf_info *info,
                    struct error *err)
{
    uint8_t *d;
    size_t n;
    memset(info, 0, sizeof(*info));
    int r = loader_read_file(path, &d, &n, err);
    if (r < 0)
        return r;
    r = loader_load_elf_data(ram, path, d, n, info, err);
    free(d);
    return r;
}
