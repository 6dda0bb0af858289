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
            "  --disk FILE[,ro][,format=raw|qcow2][,iops=N][,bps=N]\n"
            "                     a virtio disk (repeatable: /dev/vda, /dev/vdb, ...);\n"
            "                     format detected when not given; iops/bps: rate limits\n"
            "  --net user[,hostfwd=tcp::HOSTPORT-:GUESTPORT]...[,bps=N]\n"
            "  --net tap,ifname=NAME | --net switch,name=NAME\n"
            "                     a virtio network card (repeatable): user-mode\n"
            "                     networking (no root), a host tap device, or a\n"
            "                     virtual switch shared by VMs with the same name"
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
            "3 guest reset loop; 4 emulator fault; 5 quit with Ctrl-A x;\n"
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

static int need_file(const char *what, const char *path, bool from_default)
{
    if (access(path, R_OK) == 0)
        return 0;
    if (from_default)
        fprintf(stderr,
                "condo: the default guest's %s is missing (%s): run scripts/quickstart "
                "(or guest/build-guest.sh) first, or give --%s FILE\n",
                what, path, what);
    else
        fprintf(stderr, "condo: cannot read %s file %s: %s\n", what, path, strerror(errno));
    return -1;
}

static int run_parsed(int argc, char **argv, struct vm_config *cfg)
{
    static const struct option opts[] = {
        { "arch", required_argument, 0, 'a' },   { "cpus", required_argument, 0, 'c' },
        { "memory", required_argument, 0, 'm' }, { "bios", required_argument, 0, 'b' },
        { "kernel", required_argument, 0, 'k' }, { "initrd", required_argument, 0, 'i' },
        { "append", required_argument, 0, 'A' }, { "verbose", no_argument, 0, 'v' },
        { "help", no_argument, 0, 'h' },         { "disk", required_argument, 0, 'd' },
        { "net", required_argument, 0, 'n' },    { 0, 0, 0, 0 },
    };
    struct machine_config *hw = &cfg->hw;
    struct error err = ERROR_INIT;
    int c;
    optind = 1;
    opterr = 0; /* our own messages: getopt would name "run" as the program */
    while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
        switch (c) {
        case 'a': cfg->arch = optarg; break;
        case 'c': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 1024) {
                fprintf(stderr, "condo: --cpus wants a positive number, not '%s'\n", optarg);
                return VM_EXIT_USAGE;
            }
            hw->cpus = (unsigned)n;
            break;
        }
        case 'm':
            if (cli_parse_size(optarg, &hw->memory) < 0) {
                fprintf(stderr,
                        "condo: --memory wants a size like 512M, 2G or a number of MiB, "
                        "not '%s'\n",
                        optarg);
                return VM_EXIT_USAGE;
            }
            break;
        case 'b': hw->bios = optarg; break;
        case 'k': hw->kernel = optarg; break;
        case 'i': hw->initrd = optarg; break;
        case 'A': hw->append = optarg; break;
        case 'd':
            if (hw->ndisks >= VM_MAX_DISKS) {
                fprintf(stderr, "condo: at most %d --disk options\n", VM_MAX_DISKS);
                return VM_EXIT_USAGE;
            }
            if (vm_parse_disk(optarg, &hw->disks[hw->ndisks], &err) < 0) {
                fprintf(stderr, "condo: %s\n", err.msg);
                return vm_exit_status_for(&err);
            }
            hw->ndisks++;
            break;
        case 'n':
            if (hw->nnets >= VM_MAX_NETS) {
                fprintf(stderr, "condo: at most %d --net options\n", VM_MAX_NETS);
                return VM_EXIT_USAGE;
            }
            hw->nets[hw->nnets++] = optarg;
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
    if (strcmp(cfg->arch, "riscv64") != 0) {
        fprintf(stderr, "condo: --arch %s is not supported: this condo emulates riscv64\n",
                cfg->arch);
        return VM_EXIT_USAGE;
    }
    if (hw->cpus != 1) {
        fprintf(stderr,
                "condo: --cpus %u: SMP guests are not supported yet; use --cpus 1\n",
                hw->cpus);
        return VM_EXIT_USAGE;
    }
    if (hw->memory < (16ull << 20) || hw->memory > (64ull << 30) ||
        (hw->memory & 0xfff)) {
        fprintf(stderr, "condo: --memory must be between 16M and 64G (page multiple)\n");
        return VM_EXIT_USAGE;
    }
    bool bare = hw->bios && !strcmp(hw->bios, "none");
    hw->bare_metal = bare;
    if (bare) {
        if (!hw->kernel) {
            fprintf(stderr, "condo: --bios none needs --kernel PROGRAM.elf\n");
            return VM_EXIT_USAGE;
        }
        if (need_file("kernel", hw->kernel, false) < 0)
            return VM_EXIT_USAGE;
        if (!loader_is_elf(hw->kernel)) {
            fprintf(stderr, "condo: --bios none runs ELF programs; %s is not ELF\n",
                    hw->kernel);
            return VM_EXIT_USAGE;
        }
        if (hw->initrd)
            fprintf(stderr, "condo: note: --initrd is ignored with --bios none\n");
        hw->initrd = NULL;
    } else {
        bool dk = !hw->kernel, db = !hw->bios, di = !hw->initrd;
        if (db)
            hw->bios = guest_file("fw_dynamic.bin");
        if (dk)
            hw->kernel = guest_file("Image");
        if (di)
            hw->initrd = guest_file("initramfs.cpio");
        if (need_file("bios", hw->bios, db) < 0 || need_file("kernel", hw->kernel, dk) < 0 ||
            (hw->initrd && need_file("initrd", hw->initrd, di) < 0))
            return VM_EXIT_USAGE;
        if (!hw->append)
            hw->append = DEFAULT_APPEND;
    }
    return vm_run(cfg);
}

int cli_run(int argc, char **argv)
{
    struct vm_config cfg = { .arch = "riscv64", .hw = { .cpus = 1, .memory = DEFAULT_MEMORY } };
    int status = run_parsed(argc, argv, &cfg);
    /* vm_parse_disk's copies: each disk's FILE starts its copy (LeakSanitizer
     * turned every VM with a disk into exit 1 under make SANITIZE=1) */
    for (unsigned i = 0; i < VM_MAX_DISKS; i++)
        free((char *)cfg.hw.disks[i].path);
    return status;
}
