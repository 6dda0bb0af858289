#ifndef CONDO_CLI_H
#define CONDO_CLI_H

#include "condo/common.h"
#include "condo/error.h"
#include "condo/vm.h"

#define CONDO_VERSION "0.1.0"

int cli_run(int argc, char **argv);
/* The options of condo run into cfg (which then holds pointers into argv
 * and copies of the --disk strings: vm_config_free). 0, CLI_RUN_HELP for
 * --help, or a negative errno with err set. Reads no file. */
#define CLI_RUN_HELP 1
int cli_run_parse(int argc, char **argv, struct vm_config *cfg, struct error *err);
/* Prints err once ("condo: MSG") and returns the exit status it means. */
int cli_fail(const struct error *err);
int cli_disk(int argc, char **argv);
/* Parse a memory size: 512M, 2G, 1024K or a plain number of MiB. */
int cli_parse_size(const char *s, uint64_t *bytes);
/* Directory holding the default guest (build/guest beside the binary,
 * or $CONDO_GUEST_DIR). */
const char *cli_default_guest_dir(void);

#endif
