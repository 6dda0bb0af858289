/* The options that describe a VM, shared by `condo run` and `condo create`:
 * parsed into a struct vm_def, then completed (the default guest's files)
 * and checked, so both commands accept and refuse exactly the same things. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "condo/loader.h"

#define DEFAULT_MEMORY (512ull << 20)

const char *const cli_vm_options_help =
    "  --arch ARCH        guest architecture: riscv64 (the default and only one)\n"
    "  --cpus N           virtual CPUs, 1-8, each on its own host thread (default 1)\n"
    "  --memory SIZE      guest RAM: 512M, 2G, or a number of MiB (default 512M)\n"
    "  --bios FILE|none   firmware (default: the default guest's OpenSBI\n"
    "                     fw_dynamic.bin); `none` runs --kernel as a bare-metal\n"
    "                     ELF program in M-mode\n"
    "  --kernel FILE      Linux Image (or ELF program with --bios none)\n"
    "  --initrd FILE      initramfs (default: the default guest's)\n"
    "  --append ARGS      kernel command line (default: \"" CLI_DEFAULT_APPEND "\")\n"
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
    "  --balloon on|off|SETTING[,SETTING]...\n"
    "                     the memory balloon (virtio-balloon): SETTINGs are\n"
    "                     reporting=on|off (free page reporting: the guest's\n"
    "                     free memory goes back to the host; default on),\n"
    "                     stats=SECONDS (statistics), deflate_on_oom=on|off,\n"
    "                     amount=MIB (initial balloon size). Default for Linux\n"
    "                     guests: on, with reporting (docs/BALLOON.md)\n"
    "  --cpu-limit PCT    cap the VM's host CPU use (100 = one core)\n"
    "  --cpu-weight W     its share under contention, 1-10000 (default 100)\n";

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

static int parse_uint(const char *opt, const char *s, unsigned long min, unsigned long max,
                      unsigned *out, struct error *err)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
        return error_set(err, -EINVAL, "%s wants a number from %lu to %lu, not '%s'", opt, min,
                         max, s);
    *out = (unsigned)v;
    return 0;
}

/* One VM option (long option `name` with value `val`); 1 if it is not one
 * of ours, 0 when taken, negative on a bad value. */
int cli_vm_option(struct vm_def *d, const char *name, const char *val, struct error *err)
{
    struct vm_config *c = &d->cfg;
    struct machine_config *hw = &c->hw;
    if (!strcmp(name, "arch")) {
        c->arch = val;
    } else if (!strcmp(name, "cpus")) {
        return parse_uint("--cpus", val, 1, 1024, &hw->cpus, err);
    } else if (!strcmp(name, "memory")) {
        if (cli_parse_size(val, &hw->memory) < 0)
            return error_set(err, -EINVAL,
                             "--memory wants a size like 512M, 2G or a number of MiB, not '%s'",
                             val);
    } else if (!strcmp(name, "bios")) {
        hw->bios = val;
    } else if (!strcmp(name, "kernel")) {
        hw->kernel = val;
    } else if (!strcmp(name, "initrd")) {
        hw->initrd = val;
    } else if (!strcmp(name, "append")) {
        hw->append = val;
    } else if (!strcmp(name, "disk")) {
        if (hw->ndisks >= VM_MAX_DISKS)
            return error_set(err, -EINVAL, "at most %d --disk options", VM_MAX_DISKS);
        struct vm_disk_config *dc = &hw->disks[hw->ndisks];
        int r = vm_parse_disk(val, dc, err);
        if (r < 0)
            return r;
        /* the definition owns the strings from here on */
        if (vm_def_adopt(d, (char *)dc->path) < 0 ||
            (dc->backing && vm_def_adopt(d, (char *)dc->backing) < 0))
            return error_set(err, -ENOMEM, "too many strings in one definition");
        hw->ndisks++;
    } else if (!strcmp(name, "net")) {
        if (hw->nnets >= VM_MAX_NETS)
            return error_set(err, -EINVAL, "at most %d --net options", VM_MAX_NETS);
        hw->nets[hw->nnets++] = val;
    } else if (!strcmp(name, "balloon")) {
        d->balloon_given = true;
        return vm_parse_balloon(val, &hw->balloon, err);
    } else if (!strcmp(name, "cpu-limit")) {
        return parse_uint("--cpu-limit", val, 1, 100 * VM_MAX_CPUS, &c->cpu_limit_pct, err);
    } else if (!strcmp(name, "cpu-weight")) {
        return parse_uint("--cpu-weight", val, 1, 10000, &c->cpu_weight, err);
    } else {
        return 1;
    }
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

const char *cli_default_guest_file(struct vm_def *d, const char *name)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", cli_default_guest_dir(), name);
    return vm_def_strdup(d, p);
}

static int need_file(const char *what, const char *path, bool from_default, struct error *err)
{
    if (access(path, R_OK) == 0)
        return 0;
    if (from_default)
        return error_set(err, -ENOENT,
                         "the default guest's %s is missing (%s): run scripts/quickstart "
                         "(or guest/build-guest.sh) first, or give --%s FILE",
                         what, path, what);
    return error_set_errno(err, -errno, "cannot read %s file %s", what, path);
}

int cli_vm_check(struct vm_def *d, struct error *err)
{
    struct vm_config *c = &d->cfg;
    struct machine_config *hw = &c->hw;
    if (!c->arch)
        c->arch = "riscv64";
    if (strcmp(c->arch, "riscv64") != 0)
        return error_set(err, -EINVAL, "--arch %s is not supported: this condo emulates riscv64",
                         c->arch);
    if (hw->cpus < 1 || hw->cpus > VM_MAX_CPUS)
        return error_set(err, -EINVAL, "--cpus %u: a VM has 1 to %d virtual CPUs", hw->cpus,
                         VM_MAX_CPUS);
    if (hw->memory < (16ull << 20) || hw->memory > (64ull << 30) || (hw->memory & 0xfff))
        return error_set(err, -EINVAL, "--memory must be between 16M and 64G (page multiple)");
    if (hw->bios && !strcmp(hw->bios, "none") && !hw->kernel)
        return error_set(err, -EINVAL, "--bios none needs --kernel PROGRAM.elf");
    return 0;
}

/* Whether a Linux guest can fit in --memory at all. Below this the riscv64
 * kernel dies before its console is up (no word; measured: a 64 MiB guest
 * hangs after the firmware) or cannot unpack its initramfs. What it needs
 * at boot, all measured with Debian's kernel (memblock=debug):
 *   the firmware's 2 MiB below the kernel, the kernel's image_size (code,
 *   data and BSS), the initrd file, the initramfs unpacked into tmpfs,
 *   32 MiB for the sparse memory-section table (riscv64 sizes it for 56
 *   physical address bits, whatever the RAM: SPARSEMEM_EXTREME with page
 *   extensions), and about 16 MiB for the kernel's own allocations.
 * Unpacked size: a plain newc cpio is its own size; gzip says it in its
 * last four bytes; other compressions count as their file size (the
 * estimate then errs low, never refusing a guest that could boot). */
#define LINUX_FW_RESERVE (2ull << 20)
#define LINUX_SECTION_TABLE (32ull << 20)
#define LINUX_WORKING_SET (16ull << 20)

static bool read_at(int fd, off_t off, void *buf, size_t n)
{
    return pread(fd, buf, n, off) == (ssize_t)n;
}

static uint64_t initrd_unpacked(const char *path, uint64_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return size;
    uint8_t head[6], tail[4];
    uint64_t u = size;
    if (read_at(fd, 0, head, sizeof(head))) {
        if (head[0] == 0x1f && head[1] == 0x8b && size >= 18 &&
            read_at(fd, (off_t)size - 4, tail, 4)) {
            uint64_t isize = (uint64_t)tail[0] | (uint64_t)tail[1] << 8 |
                             (uint64_t)tail[2] << 16 | (uint64_t)tail[3] << 24;
            if (isize > u)
                u = isize; /* ISIZE is modulo 4 GiB: never below the file */
        }
    }
    close(fd);
    return u;
}

static int check_linux_fits(const struct machine_config *hw, struct error *err)
{
    int fd = open(hw->kernel, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0; /* the loader reports it */
    uint8_t h[64];
    bool image = read_at(fd, 0, h, sizeof(h)) && !memcmp(h + 56, "RSC\x05", 4);
    close(fd);
    if (!image)
        return 0;
    uint64_t image_size = 0;
    for (int i = 7; i >= 0; i--)
        image_size = image_size << 8 | h[16 + i];
    uint64_t initrd = 0, unpacked = 0;
    struct stat st;
    if (hw->initrd && stat(hw->initrd, &st) == 0 && S_ISREG(st.st_mode)) {
        initrd = (uint64_t)st.st_size;
        unpacked = initrd_unpacked(hw->initrd, initrd);
    }
    if (image_size > (64ull << 30) || initrd > (64ull << 30) || unpacked > (64ull << 30))
        return 0; /* nonsense sizes: the loader refuses those files */
    uint64_t need = LINUX_FW_RESERVE + image_size + initrd + unpacked + LINUX_SECTION_TABLE +
                    LINUX_WORKING_SET;
    if (hw->memory >= need)
        return 0;
    uint64_t mib = 1ull << 20, want = (need + 16 * mib - 1) / (16 * mib) * 16;
    return error_set(err, -EINVAL,
                     "--memory %lluM is too small for this guest: it needs about %llu MiB "
                     "(kernel %llu MiB, initrd %llu MiB unpacking to %llu MiB, 2 MiB of "
                     "firmware and 48 MiB of the kernel's boot tables and allocations); give "
                     "--memory %lluM "
                     "or more",
                     (unsigned long long)(hw->memory / mib), (unsigned long long)(need / mib),
                     (unsigned long long)(image_size / mib), (unsigned long long)(initrd / mib),
                     (unsigned long long)(unpacked / mib), (unsigned long long)want);
}

int cli_vm_finish(struct vm_def *d, struct error *err)
{
    struct vm_config *c = &d->cfg;
    struct machine_config *hw = &c->hw;
    int r = cli_vm_check(d, err);
    if (r < 0)
        return r;
    bool bare = hw->bios && !strcmp(hw->bios, "none");
    hw->bare_metal = bare;
    /* Linux guests get the balloon with free page reporting unless told
     * otherwise: an idle guest then gives its free memory back (its cost:
     * one 4 KiB page of device state, no boot time measured). A bare-metal
     * program gets it only when asked. */
    if (!d->balloon_given && !bare)
        hw->balloon = (struct vm_balloon_config){ .enabled = true, .reporting = true };
    if (hw->balloon.enabled && hw->balloon.amount_mib > (hw->memory >> 20))
        return error_set(err, -EINVAL, "--balloon amount=%llu: larger than --memory (%llu MiB)",
                         (unsigned long long)hw->balloon.amount_mib,
                         (unsigned long long)(hw->memory >> 20));
    if (bare) {
        if (!hw->kernel)
            return error_set(err, -EINVAL, "--bios none needs --kernel PROGRAM.elf");
        r = need_file("kernel", hw->kernel, false, err);
        if (r < 0)
            return r;
        r = loader_check_elf(hw->kernel, err);
        if (r < 0)
            return r;
        if (hw->initrd)
            fprintf(stderr, "condo: note: --initrd is ignored with --bios none\n");
        hw->initrd = NULL;
        hw->bios = NULL;
        return 0;
    }
    bool dk = !hw->kernel, db = !hw->bios, di = !hw->initrd;
    if (db)
        hw->bios = cli_default_guest_file(d, "fw_dynamic.bin");
    if (dk)
        hw->kernel = cli_default_guest_file(d, "Image");
    if (di)
        hw->initrd = cli_default_guest_file(d, "initramfs.cpio");
    if (!hw->bios || !hw->kernel || (di && !hw->initrd))
        return error_set(err, -ENOMEM, "out of memory");
    r = need_file("bios", hw->bios, db, err);
    if (!r)
        r = need_file("kernel", hw->kernel, dk, err);
    if (!r && hw->initrd)
        r = need_file("initrd", hw->initrd, di, err);
    if (r)
        return r;
    if (!hw->append)
        hw->append = CLI_DEFAULT_APPEND;
    return check_linux_fits(hw, err);
}
