/* condo run: boot a virtual machine. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "condo/loader.h"
#include "condo/vm.h"

#define DEFAULT_MEMORY (512ull << 20)
#define DEFAULT_APPEND "console=ttyS0 panic=-1"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: condo run [OPTIONS]\n"
            "\n"
            "Boot a RISC-V virtual machine. With no options, boot the default guest\n"
            "(Debian's stock riscv64 kernel, a BusyBox initramfs, OpenSBI) to a shell.\n"
            "\n"
            "  --arch ARCH        guest architecture: riscv64 (the default and only one)\n"
            "  --cpus N           virtual CPUs (only 1 for now)\n"
            "  --memory SIZE      guest RAM: 512M, 2G, or a number of MiB (default 512M)\n"
            "  --bios FILE|none   firmware (default: the default guest's OpenSBI\n"
            "                     fw_dynamic.bin); `none` runs --kernel as a bare-metal\n"
            "                     ELF program in M-mode\n"
            "  --kernel FILE      Linux Image (or ELF program with --bios none)\n"
            "  --initrd FILE      initramfs (default: the default guest's)\n"
            "  --append ARGS      kernel command line (default: \"%s\")\n"
            "  --disk FILE[,ro][,format=raw|qcow2][,backing=PATH|none][,iops=N][,bps=N]\n"
            "                     a virtio disk (repeatable: /dev/vda, /dev/vdb, ...);\n"
            "                     format detected when not given; iops/bps: rate limits;\n"
            "                     backing=PATH: the qcow2 overlay's base is PATH (for a\n"
            "                     base the image names outside its own directory and\n"
            "                     condo's image store, which condo does not follow),\n"
            "                     backing=none: the top layer alone (with ,ro)\n"
            "  --net user[,hostfwd=tcp::HOSTPORT-:GUESTPORT]...[,bps=N]\n"
            "  --net tap,ifname=NAME | --net switch,name=NAME\n"
            "                     a virtio network card (repeatable): user-mode\n"
            "                     networking (no root), a host tap device, or a\n"
            "                     virtual switch shared by VMs with the same name\n"
            "  -v, --verbose      more diagnostics (twice: debug)\n"
            "  -h, --help         this help\n"
            "\n"
            "Console: the guest's serial port is condo's stdin/stdout. On a terminal,\n"
            "Ctrl-A x quits and Ctrl-A h lists the keys; otherwise bytes pass through\n"
            "unchanged and end of input does not stop the VM.\n"
            "\n"
            "Bare-metal programs report through the HTIF `tohost` symbol: 1 = pass,\n"
            "(code << 1) | 1 = fail with code.\n"
            "\n"
            "Exit status: 0 guest powered off (or bare-metal pass); 1 guest reported\n"
            "failure (bare metal: its code, when 1-255); 2 bad options or files;\n"
            "3 guest reset loop; 4 emulator fault (or host I/O failure); 5 quit\n"
            "with Ctrl-A x; 6 the host lacks memory or other resources;\n"
            "128+N stopped by signal N.\n",
            DEFAULT_APPEND);
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
    if (!s || !*s)
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -EINVAL;
    uint64_t mul;
    if (*end == 0)
        mul = 1ull << 20;
    else if (!strcmp(end, "K") || !strcmp(end, "k") || !strcmp(end, "KiB"))
        mul = 1ull << 10;
    else if (!strcmp(end, "M") || !strcmp(end, "m") || !strcmp(end, "MiB"))
        mul = 1ull << 20;
    else if (!strcmp(end, "G") || !strcmp(end, "g") || !strcmp(end, "GiB"))
        mul = 1ull << 30;
    else
        return -EINVAL;
    if (v > UINT64_MAX / mul)
        return -ERANGE;
    *bytes = v * mul;
    return 0;
}

const char *cli_default_guest_dir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("CONDO_GUEST_DIR");
    if (env && *env)
        return env;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 32);
    if (n <= 0)
        return "build/guest";
    dir[n] = 0;
    char *slash = strrchr(dir, '/');
    if (!slash)
        return "build/guest";
    strcpy(slash, "/guest");
    return dir;
}

static char *guest_file(const char *name)
{
    static char paths[3][PATH_MAX + 64];
    static int next;
    char *p = paths[next++ % 3];
    snprintf(p, PATH_MAX + 64, "%s/%s", cli_default_guest_dir(), name);
    return p;
}

static int need_file(const char *what, const char *path, bool from_default, struct error *err)
{
    if (access(path, R_OK) == 0)
        return 0;
    int e = errno;
    if (from_default)
        return error_set(err, -e,
                         "the default guest's %s is missing (%s): run scripts/quickstart (or "
                         "guest/build-guest.sh) first, or give --%s FILE",
                         what, path, what);
    return error_set_errno(err, -e, "cannot read %s file %s", what, path);
}

int cli_fail(const struct error *err)
{
    if (error_is_set(err))
        fprintf(stderr, "condo: %s\n", err->msg);
    return vm_exit_status_of(err);
}

int cli_run_parse(int argc, char **argv, struct vm_config *cfg, struct error *err)
{
    static const struct option opts[] = {
        { "arch", required_argument, 0, 'a' },   { "cpus", required_argument, 0, 'c' },
        { "memory", required_argument, 0, 'm' }, { "bios", required_argument, 0, 'b' },
        { "kernel", required_argument, 0, 'k' }, { "initrd", required_argument, 0, 'i' },
        { "append", required_argument, 0, 'A' }, { "verbose", no_argument, 0, 'v' },
        { "help", no_argument, 0, 'h' },         { "disk", required_argument, 0, 'd' },
        { "net", required_argument, 0, 'n' },    { 0, 0, 0, 0 },
    };
    memset(cfg, 0, sizeof(*cfg));
    cfg->arch = "riscv64";
    cfg->cpus = 1;
    cfg->memory = DEFAULT_MEMORY;
    int c;
    optind = 0; /* 0, not 1: glibc then also forgets a half-parsed earlier call */
    opterr = 0; /* our own messages: getopt would name "run" as the program */
    while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
        switch (c) {
        case 'a': cfg->arch = optarg; break;
        case 'c': {
            char *end;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || n < 1 || n > 1024)
                return error_set(err, -EINVAL, "--cpus wants a positive number, not '%s'",
                                 optarg);
            cfg->cpus = (unsigned)n;
            break;
        }
        case 'm':
            if (cli_parse_size(optarg, &cfg->memory) < 0)
                return error_set(err, -EINVAL,
                                 "--memory wants a size like 512M, 2G or a number of MiB, not "
                                 "'%s'",
                                 optarg);
            break;
        case 'b': cfg->bios = optarg; break;
        case 'k': cfg->kernel = optarg; break;
        case 'i': cfg->initrd = optarg; break;
        case 'A': cfg->append = optarg; break;
        case 'd': {
            if (cfg->ndisks >= VM_MAX_DISKS)
                return error_set(err, -E2BIG, "at most %d --disk options", VM_MAX_DISKS);
            int r = vm_parse_disk(optarg, &cfg->disks[cfg->ndisks], err);
            if (r < 0)
                return r;
            cfg->ndisks++;
            break;
        }
        case 'n':
            if (cfg->nnets >= VM_MAX_NETS)
                return error_set(err, -E2BIG, "at most %d --net options", VM_MAX_NETS);
            cfg->nets[cfg->nnets++] = optarg;
            break;
        case 'v': condo_verbosity++; break;
        case 'h': return CLI_RUN_HELP;
        case ':':
            return error_set(err, -EINVAL, "option '%s' needs a value (try 'condo run --help')",
                             argv[optind - 1]);
        default:
            return error_set(err, -EINVAL, "unknown option '%s' (try 'condo run --help')",
                             argv[optind - 1]);
        }
    }
    if (optind < argc)
        return error_set(err, -EINVAL, "unexpected argument '%s' (try 'condo run --help')",
                         argv[optind]);
    if (strcmp(cfg->arch, "riscv64") != 0)
        return error_set(err, -EINVAL, "--arch %s is not supported: this condo emulates riscv64",
                         cfg->arch);
    if (cfg->cpus != 1)
        return error_set(err, -EINVAL,
                         "--cpus %u: SMP guests are not supported yet; use --cpus 1", cfg->cpus);
    if (cfg->memory < (16ull << 20) || cfg->memory > (64ull << 30) || (cfg->memory & 0xfff))
        return error_set(err, -EINVAL, "--memory must be between 16M and 64G (page multiple)");
    bool bare = cfg->bios && !strcmp(cfg->bios, "none");
    if (bare && !cfg->kernel)
        return error_set(err, -EINVAL, "--bios none needs --kernel PROGRAM.elf");
    return 0;
}

/* The files the options name (or the default guest's) are there; fills in
 * the defaults. Nothing is read yet except an ELF program's magic. */
static int check_files(struct vm_config *cfg, struct error *err)
{
    bool bare = cfg->bios && !strcmp(cfg->bios, "none");
    int r;
    if (bare) {
        if ((r = need_file("kernel", cfg->kernel, false, err)) < 0 ||
            (r = loader_check_elf(cfg->kernel, err)) < 0)
            return r;
        if (cfg->initrd)
            fprintf(stderr, "condo: note: --initrd is ignored with --bios none\n");
        return 0;
    }
    bool dk = !cfg->kernel, db = !cfg->bios, di = !cfg->initrd;
    if (db)
        cfg->bios = guest_file("fw_dynamic.bin");
    if (dk)
        cfg->kernel = guest_file("Image");
    if (di)
        cfg->initrd = guest_file("initramfs.cpio");
    if ((r = need_file("bios", cfg->bios, db, err)) < 0 ||
        (r = need_file("kernel", cfg->kernel, dk, err)) < 0 ||
        (cfg->initrd && (r = need_file("initrd", cfg->initrd, di, err)) < 0))
        return r;
    if (!cfg->append)
        cfg->append = DEFAULT_APPEND;
    return 0;
}

int cli_run(int argc, char **argv)
{
    struct vm_config cfg;
    struct error err = ERROR_INIT;
    int r = cli_run_parse(argc, argv, &cfg, &err);
    int status;
    if (r == CLI_RUN_HELP) {
        run_usage(stdout);
        status = 0;
    } else if (r < 0 || check_files(&cfg, &err) < 0) {
        status = cli_fail(&err);
    } else {
        status = vm_run(&cfg, &err);
        if (error_is_set(&err))
            cli_fail(&err);
    }
    vm_config_free(&cfg);
    return status;
}
