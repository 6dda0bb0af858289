/* libFuzzer target: hostile snapshot files for the snapshot loader (condo
 * run --restore). The input is a whole snapshot file: header, section
 * table, checksums, the definition, the machine state and the RAM section
 * (page bitmap and zstd frame, a memory file reference, or format 2's
 * mapped RAM: a descriptor and RAM raw after the sections, copied from
 * memory here since there is no file to map). It is
 * restored into a small fake machine (64 KiB of RAM, a one-field machine
 * state) through snapshot_restore_data(), and its definition read through
 * snapshot_read_definition(). Any failure must come with its message; a
 * success must have consumed a well-formed machine state.
 *
 *   tests/fuzz/run.sh SECONDS snapshot     build into build/fuzz and run */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "condo/guest_ram.h"
#include "condo/snapshot.h"
#include "../unit/fake_machine.h"

#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c))                                                                             \
            __builtin_trap();                                                                 \
    } while (0)

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (64ull << 10)

static char path[64];


static void cleanup(void)
{
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(guest_ram_init(&fake_machine_ram, RAM_BASE, RAM_SIZE) == 0);
    snprintf(path, sizeof(path), "/tmp/condo-fuzz-snap-%ld", (long)getpid());
    atexit(cleanup);
    return 0;
}

/* The checksums would stop almost every mutation at the door: a second
 * pass recomputes them (where the table's bounds allow) so the parsers
 * behind them are fuzzed too. Offsets as in src/snapshot/snapshot_file.c. */
static void fix_checksums(uint8_t *d, size_t size)
{
    if (size < 4096)
        return;
    uint32_t n = le32_load(d + 12);
    for (uint32_t i = 0; i < n && i < 8; i++) {
        uint8_t *e = d + 64 + 48 * i;
        uint64_t off = le64_load(e + 24), len = le64_load(e + 32);
        if (off <= size && len <= size - off)
            le32_store(e + 40, (uint32_t)crc32(0, d + off, (uInt)len));
    }
    le32_store(d + 64 + 48 * 8, (uint32_t)crc32(0, d, 64 + 48 * 8));
}

static void restore_one(const uint8_t *data, size_t size)
{
    struct error err = ERROR_INIT;
    int r = snapshot_restore_data(data, size, "fuzz.snap", &fake, &err);
    CHECK(r <= 0);
    CHECK(r == 0 || err.msg[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *fixed = malloc(size ? size : 1);
    CHECK(fixed);
    memcpy(fixed, data, size);
    fix_checksums(fixed, size);
    restore_one(fixed, size);
    free(fixed);

    struct error err = ERROR_INIT;
    int r = snapshot_restore_data(data, size, "fuzz.snap", &fake, &err);
    CHECK(r <= 0);
    CHECK(r == 0 || err.msg[0]);

    FILE *f = fopen(path, "wb");
    CHECK(f);
    CHECK(fwrite(data, 1, size, f) == size);
    fclose(f);
    struct error e2 = ERROR_INIT;
    char *def = NULL;
    r = snapshot_read_definition(path, &def, &e2);
    CHECK(r <= 0);
    CHECK(r == 0 ? def != NULL : e2.msg[0] != 0);
    free(def);
    return 0;
}
