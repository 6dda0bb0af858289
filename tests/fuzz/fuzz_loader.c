/* libFuzzer target: hostile guest images for the loaders. The input (after
 * one byte choosing the loader) is written to a file and loaded as condo run
 * would: a RISC-V Linux Image (header magic, image_size, version, the EFI
 * stub's PE/COFF header and section table), an ELF program (ELF header,
 * program headers, segments, section headers and the symbol table that
 * locates tohost), a raw firmware or initrd, and the ELF check of --bios
 * none. Guest RAM is 4 MiB; anything placed must land inside it, and a
 * failure must come with its message.
 *
 *   tests/fuzz/run.sh SECONDS loader     build into build/fuzz and run */
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condo/loader.h"

#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c))                                                                             \
            __builtin_trap();                                                                 \
    } while (0)

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4ull << 20)

static char dir[64], path[128];
static struct guest_ram ram;

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)type;
    (void)f;
    return remove(p);
}

/* The temporary directory goes when the fuzzer exits. */
static void cleanup(void)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "%s/condo-fuzz-loader-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"); /* tmpfs: fdatasync is free */
    CHECK(mkdtemp(dir) != NULL);
    atexit(cleanup);
    snprintf(path, sizeof(path), "%s/kernel", dir);
    CHECK(guest_ram_init(&ram, RAM_BASE, RAM_SIZE) == 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
    close(fd);
    struct error err = ERROR_INIT;
    int r;
    switch (data[0] & 3) {
    case 0: {
        struct linux_image_info ki;
        r = loader_load_linux_image(&ram, path, RAM_BASE + 0x200000, &ki, &err);
        if (r == 0)
            CHECK(ki.image_size >= size - 1 &&
                  guest_ram_contains(&ram, ki.load_addr, ki.image_size));
        break;
    }
    case 1: {
        struct elf_info ei;
        r = loader_load_elf(&ram, path, &ei, &err);
        break;
    }
    case 2: {
        uint64_t n = 0;
        r = loader_load_raw(&ram, path, RAM_BASE + (data[0] >> 2) * 0x10000ull, &n, &err);
        if (r == 0)
            CHECK(n == size - 1);
        break;
    }
    default:
        r = loader_check_elf(path, &err);
        break;
    }
    CHECK(r <= 0);
    CHECK(r == 0 ? !error_is_set(&err) : err.code == r && err.msg[0]);
    return 0;
}
