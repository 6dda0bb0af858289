/* libFuzzer target: hostile command lines for condo run. The input is a
 * list of NUL-separated arguments (up to 64) given to cli_run_parse, the
 * parser behind `condo run`: getopt_long with every option, sizes, --cpus,
 * and each --disk value (FILE, ro, format=, backing=, iops=, bps=). It reads
 * no file and starts nothing; a refusal must come with its message, an
 * acceptance must describe a VM condo could run, and nothing may leak (run
 * with LeakSanitizer, as the ASan build of condo is).
 *
 *   tests/fuzz/run.sh SECONDS options     build into build/fuzz and run */
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
int vm_run(const struct vm_config *cfg, const struct vm_run_options *opts)
{
    (void)cfg;
    (void)opts;
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

    struct cli_run_request q;
    struct error err = ERROR_INIT;
    int saved_verbosity = condo_verbosity;
    int r = cli_run_parse(argc, argv, &q, &err);
    const struct machine_config *hw = &q.def.cfg.hw;
    condo_verbosity = saved_verbosity;
    if (r < 0) {
        CHECK(err.code == r && err.msg[0]);
    } else if (r == 0) {
        CHECK(!error_is_set(&err));
        if (!q.config) {
            CHECK(hw->cpus >= 1 && hw->cpus <= VM_MAX_CPUS && hw->ndisks <= VM_MAX_DISKS &&
                  hw->nnets <= VM_MAX_NETS);
            CHECK(hw->memory >= (16ull << 20) && hw->memory <= (64ull << 30) &&
                  !(hw->memory & 0xfff));
            for (unsigned i = 0; i < hw->ndisks; i++)
                CHECK(hw->disks[i].path && hw->disks[i].path[0]);
        }
    } else {
        CHECK(r == CLI_RUN_HELP);
    }
    cli_run_request_free(&q);
    free(copy);
    return 0;
}
