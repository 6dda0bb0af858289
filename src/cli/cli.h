#ifndef CONDO_CLI_H
#define CONDO_CLI_H

#include "condo/common.h"
#include "condo/error.h"
#include "condo/vm_def.h"
#include "condo/vm.h"

#define CLI_DEFAULT_APPEND "console=ttyS0 panic=-1"

/* Exit statuses of the VM-management verbs (beyond vm_exit_status). */
enum cli_status {
    CLI_OK = 0,
    CLI_USAGE = 2,         /* bad options or input (as for condo run) */
    CLI_NO_SUCH_VM = 10,   /* the named VM does not exist */
    CLI_WRONG_STATE = 11,  /* the VM is not in a state that allows it */
    CLI_EXISTS = 12,       /* a VM of that name exists already */
    CLI_REFUSED = 13,      /* admission control: the host cannot give what it asks */
    CLI_UNREACHABLE = 14,  /* the VM process does not answer */
    CLI_NO_SUCH_SNAPSHOT = 15, /* the VM has no snapshot of that tag */
};

int cli_run(int argc, char **argv);
/* What condo run's command line asks for. */
struct cli_run_request {
    struct vm_def def;          /* the VM, from options (or later --config) */
    struct vm_run_options ro;   /* how its process is reached */
    const char *config;         /* --config FILE: the definition is that file */
    const char *restore;        /* --restore FILE: the definition is the snapshot's */
    bool hw_given;              /* some VM option was given */
};
/* Parse condo run's options into q (pointers into argv; free with
 * cli_run_request_free). 0, CLI_RUN_HELP for --help, or a negative errno
 * with err set. Reads no file: the default guest's files are filled in and
 * checked later (cli_vm_finish). */
#define CLI_RUN_HELP 1
int cli_run_parse(int argc, char **argv, struct cli_run_request *q, struct error *err);
void cli_run_request_free(struct cli_run_request *q);
int cli_disk(int argc, char **argv);
int cli_vms(const char *verb, int argc, char **argv);
bool cli_is_vm_verb(const char *verb);

/* Parse a memory size: 512M, 2G, 1024K or a plain number of MiB. */
int cli_parse_size(const char *s, uint64_t *bytes);
/* Directory holding the default guest (build/guest beside the binary,
 * or $CONDO_GUEST_DIR). */
const char *cli_default_guest_dir(void);
/* A file of the default guest (fw_dynamic.bin, Image...), owned by d. */
const char *cli_default_guest_file(struct vm_def *d, const char *name);

/* The VM options shared by run and create (see vm_options.c). */
extern const char *const cli_vm_options_help;
int cli_vm_option(struct vm_def *d, const char *name, const char *val, struct error *err);
/* Check what needs no file (ranges, arch, cpus); then complete with the
 * default guest's files and check that every file can be read. */
int cli_vm_check(struct vm_def *d, struct error *err);
int cli_vm_finish(struct vm_def *d, struct error *err);
/* Print the error once ("condo: ...") and return its exit status. */
int cli_fail(const struct error *err);

#endif
