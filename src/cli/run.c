/* condo run: boot a virtual machine in the foreground (or, with --config
 * and --console-sock, as a named VM's detached process: condo start runs
 * it so). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli/cli.h"
#include "condo/vm.h"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: condo run [OPTIONS]\n"
            "\n"
            "Boot a RISC-V virtual machine. With no options, boot the default guest\n"
            "(Debian's stock riscv64 kernel, a BusyBox initramfs, OpenSBI) to a shell.\n"
            "\n"
            "%s"
            "  --name NAME        a name for the VM (messages, process title)\n"
            "  --api-sock PATH    serve the control API (Firecracker-shaped HTTP)\n"
            "                     on this UNIX socket\n"
            "  --sandbox on|off|strict\n"
            "                     confine the VM process after setup (default on):\n"
            "                     seccomp, Landlock, rlimits and, as root, a jail\n"
            "                     and an unprivileged uid; strict: refuse to run\n"
            "                     without every layer (docs/SANDBOX.md)\n"
            "  --sandbox-user UID[:GID]\n"
            "                     started as root: the identity the VM drops to\n"
            "                     (default 65534:65534)\n"
            "  -v, --verbose      more diagnostics (twice: debug); -v lists the\n"
            "                     sandbox's layers\n"
            "  -h, --help         this help\n"
            "\n"
            "Console: the guest's serial port is condo's stdin/stdout. On a terminal,\n"
            "Ctrl-A x quits and Ctrl-A h lists the keys; otherwise bytes pass through\n"
            "unchanged and end of input does not stop the VM.\n"
            "\n"
            "Signals: SIGUSR1 presses the guest's power button, SIGUSR2 sends it\n"
            "Ctrl+Alt+Del (the default guest powers off on either); SIGTERM, SIGINT and\n"
            "SIGHUP stop the VM.\n"
            "\n"
            "Bare-metal programs report through the HTIF `tohost` symbol: 1 = pass,\n"
            "(code << 1) | 1 = fail with code.\n"
            "\n"
            "Exit status: 0 guest powered off (or bare-metal pass); 1 guest reported\n"
            "failure (bare metal: its code, when 1-255); 2 bad options or files;\n"
            "3 guest reset loop; 4 emulator fault; 5 quit with Ctrl-A x; 6 the host\n"
            "lacks resources; 128+N stopped by signal N.\n",
            cli_vm_options_help);
}

int cli_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "arch", required_argument, 0, 0 },      { "cpus", required_argument, 0, 0 },
        { "memory", required_argument, 0, 0 },    { "bios", required_argument, 0, 0 },
        { "kernel", required_argument, 0, 0 },    { "initrd", required_argument, 0, 0 },
        { "append", required_argument, 0, 0 },    { "disk", required_argument, 0, 0 },
        { "net", required_argument, 0, 0 },       { "cpu-limit", required_argument, 0, 0 },
        { "cpu-weight", required_argument, 0, 0 }, { "name", required_argument, 0, 'N' },
        { "api-sock", required_argument, 0, 'S' }, { "console-sock", required_argument, 0, 'C' },
        { "ready-fd", required_argument, 0, 'R' }, { "config", required_argument, 0, 'F' },
        { "verbose", no_argument, 0, 'v' },       { "help", no_argument, 0, 'h' },
        { "sandbox", required_argument, 0, 'X' }, { "sandbox-user", required_argument, 0, 'U' },
        /* hidden: tests/guest/test_sandbox.py */
        { "sandbox-selftest", optional_argument, 0, 'T' },
        { 0, 0, 0, 0 },
    };
    struct sandbox_config sb = { 0 };
#if defined(__SANITIZE_ADDRESS__)
    /* LeakSanitizer's exit check needs /proc and ptrace, which the sandbox
     * takes away: a sanitizer build runs unconfined unless asked */
    sb.mode = SANDBOX_OFF;
#endif
    struct vm_def def;
    vm_def_init(&def);
    def.cfg.hw.memory = 512ull << 20;
    struct vm_run_options ro = { .ready_fd = -1 };
    const char *config = NULL;
    bool hw_given = false;
    struct error err = ERROR_INIT;
    int c, idx;
    optind = 1;
    opterr = 0; /* our own messages: getopt would name "run" as the program */
    while ((c = getopt_long(argc, argv, ":vh", opts, &idx)) != -1) {
        switch (c) {
        case 0:
            hw_given = true;
            if (cli_vm_option(&def, opts[idx].name, optarg, &err) < 0)
                return cli_fail(&err);
            break;
        case 'N':
            if (vm_name_check(optarg, &err) < 0)
                return cli_fail(&err);
            ro.name = optarg;
            break;
        case 'S': ro.api_sock = optarg; break;
        case 'C': ro.console_sock = optarg; break;
        case 'R': ro.ready_fd = atoi(optarg); break;
        case 'F': config = optarg; break;
        case 'X':
            if (sandbox_parse_mode(optarg, &sb.mode, &err) < 0)
                return cli_fail(&err);
            break;
        case 'U':
            if (sandbox_parse_user(optarg, &sb, &err) < 0)
                return cli_fail(&err);
            break;
        case 'T':
            if (optarg && strcmp(optarg, "try") && strcmp(optarg, "die")) {
                fprintf(stderr, "condo: --sandbox-selftest wants try or die\n");
                return VM_EXIT_USAGE;
            }
            sb.selftest = optarg ? optarg : "try";
            break;
        case 'v': condo_verbosity++; break;
        case 'h': run_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "condo: option '%s' needs a value (try 'condo run --help')\n",
                    argv[optind - 1]);
            return VM_EXIT_USAGE;
        default:
            fprintf(stderr, "condo: unknown option '%s' (try 'condo run --help')\n",
                    argv[optind - 1]);
            return VM_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "condo: unexpected argument '%s' (try 'condo run --help')\n",
                argv[optind]);
        return VM_EXIT_USAGE;
    }
    if (config) {
        /* A named VM's definition (condo start): complete as stored. */
        if (hw_given) {
            fprintf(stderr, "condo: --config takes the whole definition from the file: "
                            "give no VM options with it\n");
            return VM_EXIT_USAGE;
        }
        struct vm_def loaded;
        if (vm_def_load(&loaded, config, &err) < 0) {
            int st = cli_fail(&err);
            if (ro.ready_fd >= 0)
                dprintf(ro.ready_fd, "E %d %s\n", -err.code, err.msg);
            return st;
        }
        def = loaded;
    } else if (cli_vm_finish(&def, &err) < 0) {
        return cli_fail(&err);
    }
    def.cfg.sandbox = sb;
    if (ro.name) {
        char title[16];
        snprintf(title, sizeof(title), "condo:%s", ro.name);
        prctl(PR_SET_NAME, title, 0, 0, 0);
    }
    int status = vm_run(&def.cfg, &ro);
    vm_def_free(&def);
    return status;
}
