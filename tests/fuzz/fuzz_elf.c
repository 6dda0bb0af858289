/* libFuzzer target: the ELF loader (`condo run --bios none --kernel FILE`)
 * on any file. The input is the file; it is loaded into a small guest RAM
 * (256 KiB at 0x80000000, so segments outside it are common) exactly as the
 * CLI does through loader_load_elf_data().
 *
 * Besides crashes (the input buffer is exactly the file's size, so ASan
 * sees any read past its end), the target traps when the loader returns
 * anything but 0 or -EINVAL, when a refused file changed guest RAM (the
 * loader checks everything before it writes), or when an accepted file's
 * HTIF symbols or entry disagree with a second load of the same bytes.
 *
 *   tests/fuzz/run.sh SECONDS elf     build into build/fuzz and run */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "condo/loader.h"
#include "fuzz_common.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (256ull << 10)
#define FILL 0xa5

static struct guest_ram ram;
static uint8_t filled[RAM_SIZE];

static bool ram_untouched(void)
{
    return memcmp(ram.host, filled, RAM_SIZE) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ram.host) {
        if (fuzz_ram_init(&ram, RAM_BASE, RAM_SIZE) < 0)
            abort();
        memset(filled, FILL, RAM_SIZE);
    }
    memset(ram.host, FILL, RAM_SIZE);
    struct elf_info info;
    int r = loader_load_elf_data(&ram, "fuzz.elf", data, size, &info);
    FUZZ_CHECK(r == 0 || r == -EINVAL);
    if (r < 0) {
        FUZZ_CHECK(ram_untouched());
        return 0;
    }
    struct elf_info again;
    FUZZ_CHECK(loader_load_elf_data(&ram, "fuzz.elf", data, size, &again) == 0);
    FUZZ_CHECK(again.entry == info.entry && again.tohost == info.tohost &&
               again.fromhost == info.fromhost);
    return 0;
}
