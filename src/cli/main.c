/* condo command line: dispatches to one file per command group. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: condo [--version] [--help] COMMAND [ARGS]\n"
               "\n"
               "condo is a hypervisor: it builds and runs virtual machines.\n"
               "\n"
               "commands:\n"
               "  run      boot a virtual machine in the foreground (condo run --help)\n"
               "  create   define a named VM (condo create NAME [run options])\n"
               "  start    start a named VM in the background\n"
               "  stop     power a named VM off (--force: at once)\n"
               "  pause, resume   freeze and unfreeze a VM's CPUs\n"
               "  console  attach to a running VM's console (Ctrl-A d detaches)\n"
               "  ls       list the named VMs (--json)\n"
               "  top      per VM host CPU, memory, disk and network rates\n"
               "  host     the host's capacity, what VMs hold, what is free\n"
               "  inspect  a VM's definition and live state as JSON\n"
               "  rm       delete a VM's definition\n"
               "  snapshot create, ls, restore, rm: a VM's snapshots (memory, devices, disks)\n"
               "  clone    new running VMs from a snapshot (condo clone NAME TAG NEW)\n"
               "  disk     create and inspect disk images (condo disk --help)\n"
               "\n"
               "The default guest (Debian's riscv64 kernel with a BusyBox shell) is\n"
               "assembled by scripts/quickstart; `condo run` with no options boots it.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("condo %s\n", CONDO_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cli_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "disk"))
        return cli_disk(argc - 1, argv + 1);
    if (cli_is_vm_verb(cmd))
        return cli_vms(cmd, argc - 1, argv + 1);
    fprintf(stderr, "condo: unknown command '%s' (try condo --help)\n", cmd);
    return 2;
}
