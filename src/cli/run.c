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
#include "condo/snapshot.h"
#include "condo/vm.h"
#include "condo/vm_def.h"

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
            "  --restore FILE     resume the snapshot FILE instead of booting (its\n"
            "                     definition is used: give no VM options)\n"
            "  --snapshot-dir DIR Ctrl-A s writes a snapshot into DIR (tag = time)\n"
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
            "Ctrl-A x quits, Ctrl-A s snapshots and Ctrl-A h lists the keys; otherwise bytes pass through\n"
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
            "3 guest reset loop; 4 emulator fault (or host I/O failure); 5 quit\n"
            "with Ctrl-A x; 6 the host lacks memory or other resources;\n"
            "128+N stopped by signal N.\n",
            cli_vm_options_help);
}

/* The snapshot's disks as they were: a new qcow2 overlay on each image
 * the snapshot froze becomes the disk (the frozen image stays as it is). */
static int restore_disks(struct vm_def *d, const char *snap, struct error *err)
{
    unsigned nd = d->cfg.hw.ndisks;
    if (!nd)
        return 0;
    char (*paths)[4096] = calloc(nd, sizeof(*paths));
    if (!paths)
        return error_set(err, -ENOMEM, "out of memory");
    int r = snapshot_restore_disks(snap, paths, nd, err);
    for (unsigned i = 0; r >= 0 && i < nd; i++) {
        if (!paths[i][0])
            continue;
        const char *p = vm_def_strdup(d, paths[i]);
        if (!p) {
            r = error_set(err, -ENOMEM, "out of memory");
            break;
        }
        d->cfg.hw.disks[i].path = p;
        d->cfg.hw.disks[i].format = 0; /* BLOCK_FORMAT_AUTO: the new qcow2 overlay */
        d->cfg.hw.disks[i].backing = NULL;
    }
    free(paths);
    return r < 0 ? r : 0;
}

int cli_fail(const struct error *err)
{
    if (error_is_set(err))
        fprintf(stderr, "condo: %s\n", err->msg);
    return vm_exit_status_of(err);
}

void cli_run_request_free(struct cli_run_request *q)
{
    vm_def_free(&q->def);
}

int cli_run_parse(int argc, char **argv, struct cli_run_request *q, struct error *err)
{
    static const struct option opts[] = {
        { "arch", required_argument, 0, 0 },      { "cpus", required_argument, 0, 0 },
        { "memory", required_argument, 0, 0 },    { "bios", required_argument, 0, 0 },
        { "kernel", required_argument, 0, 0 },    { "initrd", required_argument, 0, 0 },
        { "append", required_argument, 0, 0 },    { "disk", required_argument, 0, 0 },
        { "net", required_argument, 0, 0 },       { "cpu-limit", required_argument, 0, 0 },
        { "cpu-weight", required_argument, 0, 0 },
        { "balloon", required_argument, 0, 0 },   { "name", required_argument, 0, 'N' },
        { "api-sock", required_argument, 0, 'S' }, { "console-sock", required_argument, 0, 'C' },
        { "ready-fd", required_argument, 0, 'R' }, { "config", required_argument, 0, 'F' },
        { "verbose", no_argument, 0, 'v' },       { "help", no_argument, 0, 'h' },
        { "sandbox", required_argument, 0, 'X' }, { "sandbox-user", required_argument, 0, 'U' },
        { "restore", required_argument, 0, 'r' }, { "snapshot-dir", required_argument, 0, 'D' },
        /* hidden: tests/guest/test_sandbox.py */
        { "sandbox-selftest", optional_argument, 0, 'T' },
        { 0, 0, 0, 0 },
    };
    memset(q, 0, sizeof(*q));
    vm_def_init(&q->def);
    q->ro.ready_fd = -1;
#if defined(__SANITIZE_ADDRESS__)
    /* LeakSanitizer's exit check needs /proc and ptrace, which the sandbox
     * takes away: a sanitizer build runs unconfined unless asked */
    q->def.cfg.sandbox.mode = SANDBOX_OFF;
#endif
    int c, idx;
    optind = 1;
    opterr = 0; /* our own messages: getopt would name "run" as the program */
    while ((c = getopt_long(argc, argv, ":vh", opts, &idx)) != -1) {
        int r = 0;
        switch (c) {
        case 0:
            q->hw_given = true;
            r = cli_vm_option(&q->def, opts[idx].name, optarg, err);
            break;
        case 'N': r = vm_name_check(optarg, err); q->ro.name = optarg; break;
        case 'S': q->ro.api_sock = optarg; break;
        case 'C': q->ro.console_sock = optarg; break;
        case 'R': {
            char *end;
            long fd = strtol(optarg, &end, 10);
            if (*end || end == optarg || fd < 0 || fd > 1023)
                r = error_set(err, -EINVAL, "--ready-fd wants a descriptor number");
            q->ro.ready_fd = (int)fd;
            break;
        }
        case 'F': q->config = optarg; break;
        case 'r': q->restore = q->ro.restore = optarg; break;
        case 'D': q->ro.snapshot_dir = optarg; break;
        case 'X': r = sandbox_parse_mode(optarg, &q->def.cfg.sandbox.mode, err); break;
        case 'U': r = sandbox_parse_user(optarg, &q->def.cfg.sandbox, err); break;
        case 'T':
            if (optarg && strcmp(optarg, "try") && strcmp(optarg, "die"))
                r = error_set(err, -EINVAL, "--sandbox-selftest wants try or die");
            q->def.cfg.sandbox.selftest = optarg ? optarg : "try";
            break;
        case 'v': condo_verbosity++; break;
        case 'h': return CLI_RUN_HELP;
        case ':':
            r = error_set(err, -EINVAL, "option '%s' needs a value (try 'condo run --help')",
                          argv[optind - 1]);
            break;
        default:
            r = error_set(err, -EINVAL, "unknown option '%s' (try 'condo run --help')",
                          argv[optind - 1]);
            break;
        }
        if (r < 0)
            return r;
    }
    if (optind < argc)
        return error_set(err, -EINVAL, "unexpected argument '%s' (try 'condo run --help')",
                         argv[optind]);
    if (q->config && q->hw_given)
        return error_set(err, -EINVAL, "--config takes the whole definition from the file: "
                                       "give no VM options with it");
    if (q->restore && (q->hw_given || q->config))
        return error_set(err, -EINVAL, "--restore takes the whole definition from the snapshot: "
                                       "give no VM options (nor --config) with it");
    return q->config || q->restore ? 0 : cli_vm_check(&q->def, err);
}

int cli_run(int argc, char **argv)
{
    struct cli_run_request q;
    struct error err = ERROR_INIT;
    int r = cli_run_parse(argc, argv, &q, &err);
    if (r == CLI_RUN_HELP) {
        run_usage(stdout);
        cli_run_request_free(&q);
        return 0;
    }
    if (r == 0 && q.config) {
        /* A named VM's definition (condo start): complete as stored. */
        struct sandbox_config sb = q.def.cfg.sandbox;
        vm_def_free(&q.def);
        r = vm_def_load(&q.def, q.config, &err);
        q.def.cfg.sandbox = sb;
    } else if (r == 0 && q.restore) {
        /* The machine is rebuilt from the definition the snapshot holds. */
        struct sandbox_config sb = q.def.cfg.sandbox;
        vm_def_free(&q.def);
        vm_def_init(&q.def);
        char *text = NULL;
        r = snapshot_read_definition(q.restore, &text, &err);
        json_error_t je;
        json_t *j = r == 0 ? json_loads(text, 0, &je) : NULL;
        if (r == 0 && !j)
            r = error_set(&err, -EINVAL, "%s: the VM definition in the snapshot is not JSON: %s",
                          q.restore, je.text);
        if (r == 0 && (r = vm_def_from_json(&q.def, j, &err)) < 0)
            error_prefix(&err, "%s: ", q.restore);
        json_decref(j);
        free(text);
        /* disks follow the snapshot: a fresh layer on each frozen image */
        if (r == 0)
            r = restore_disks(&q.def, q.restore, &err);
        q.def.cfg.sandbox = sb;
    } else if (r == 0 && q.ro.api_sock && !q.hw_given) {
        /* Firecracker's way: the definition comes over the socket, and
         * the machine is built at PUT /actions InstanceStart */
        q.ro.preboot = true;
        q.ro.default_bios = cli_default_guest_file(&q.def, "fw_dynamic.bin");
        q.ro.default_append = CLI_DEFAULT_APPEND;
        if (!q.ro.default_bios)
            r = error_set(&err, -ENOMEM, "out of memory");
    } else if (r == 0) {
        r = cli_vm_finish(&q.def, &err);
    }
    if (r < 0) {
        if (q.ro.ready_fd >= 0)
            dprintf(q.ro.ready_fd, "E %d %s\n", -err.code, err.msg);
        cli_run_request_free(&q);
        return cli_fail(&err);
    }
    if (q.ro.name) {
        char title[16];
        snprintf(title, sizeof(title), "condo:%s", q.ro.name);
        prctl(PR_SET_NAME, title, 0, 0, 0);
    }
    int status = vm_run(&q.def.cfg, &q.ro);
    cli_run_request_free(&q);
    return status;
}
