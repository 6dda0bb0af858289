#ifndef CONDO_CLI_H
#define CONDO_CLI_H

#include "condo/common.h"

#define CONDO_VERSION "0.1.0"

int cli_run(int argc, char **argv);
int cli_disk(int argc, char **argv);
/* Parse a memory size: 512M, 2G, 1024K or a plain number of MiB. */
int cli_parse_size(const char *s, uint64_t *bytes);
/* Directory holding the default guest (build/guest beside the binary,
 * or $CONDO_GUEST_DIR). */
const char *cli_default_guest_dir(void);

#endif
