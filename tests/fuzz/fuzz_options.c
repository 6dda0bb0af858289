/* libFuzzer target: hostile command lines for condo run. The input is a
 * list of NUL-separated arguments (up to 64) given to cli_run_parse, the
 * parser behind `condo run`: getopt_long with every option, sizes, --cpus,
 * and each --disk value (FILE, ro, format=, backing=, iops=, bps=). It reads
 * no file and starts nothing; a refusal must come with its message, an
 * acceptance must describe a VM condo could run, and nothing may leak (run
 * with LeakSanitizer, as the ASan build of condo is).
 *
 *   tests/fuzz/run-hostile.sh SECONDS     build into build/fuzz and run */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "condo/vm.h"

#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c))                                                                             \
            __builtin_trap();                                                                 \
    } while (0)

#define MAX_ARGS 64

/* cli_run (not fuzzed) calls it; the VM is not linked in. */
int vm_run(const struct vm_config *cfg, struct error *err)
{
    (void)cfg;
    (void)err;
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    CHECK(copy != NULL);
    memcpy(copy, data, size);
    copy[size] = 0;
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "run";
    for (size_t i = 0; i < size && argc <= MAX_ARGS; ) {
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
    }
    argv[argc] = NULL;

    struct vm_config cfg;
    struct error err = ERROR_INIT;
    int saved_verbosity = condo_verbosity;
    int r = cli_run_parse(argc, argv, &cfg, &err);
    condo_verbosity = saved_verbosity;
    if (r < 0) {
        CHECK(err.code == r && err.msg[0]);
    } else if (r == 0) {
        CHECK(!error_is_set(&err));
        CHECK(cfg.cpus == 1 && cfg.ndisks <= VM_MAX_DISKS && cfg.nnets <= VM_MAX_NETS);
        CHECK(cfg.memory >= (16ull << 20) && cfg.memory <= (64ull << 30) && !(cfg.memory & 0xfff));
        for (unsigned i = 0; i < cfg.ndisks; i++)
            CHECK(cfg.disks[i].path && cfg.disks[i].path[0]);
    } else {
        CHECK(r == CLI_RUN_HELP);
    }
    vm_config_free(&cfg);
    free(copy);
    return 0;
}
