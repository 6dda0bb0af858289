/* condo disk: disk image commands (today: create). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "condo/block.h"

static void disk_usage(FILE *f)
{
    fprintf(f,
            "usage: condo disk create FILE [SIZE] [--format raw|qcow2] [--backing BASE]\n"
            "\n"
            "Create a disk image for condo run --disk (and for QEMU: the images are\n"
            "ordinary raw files or qcow2 version 3, checked clean by qemu-img check).\n"
            "\n"
            "  SIZE               the virtual disk size in bytes, or with a suffix\n"
            "                     K, M, G or T (powers of 1024): 512M, 20G, 1048576.\n"
            "                     Must be a multiple of 512. With --backing it may be\n"
            "                     left out: the overlay then has the base's size.\n"
            "  --format FORMAT    raw or qcow2. Default: qcow2 when --backing is given\n"
            "                     or FILE ends in .qcow2, else raw.\n"
            "  --backing BASE     make a copy-on-write overlay on BASE (qcow2 only):\n"
            "                     reads of unwritten parts come from BASE, which is\n"
            "                     opened read-only and never changed, so many VMs can\n"
            "                     share one base. A relative BASE is taken from FILE's\n"
            "                     directory (as QEMU does), and stored as given.\n"
            "  -h, --help         this text\n"
            "\n"
            "A raw image is a sparse file of SIZE bytes. A qcow2 image starts at a few\n"
            "hundred KiB and grows as the guest writes. condo never overwrites an\n"
            "existing file.\n"
            "\n"
            "exit status: 0 created, 1 the image could not be created, 2 bad usage.\n");
}

/* A disk size: bytes, or a number with K/M/G/T (KiB, MiB, ... accepted). */
static int disk_parse_size(const char *s, uint64_t *bytes)
{
    if (!s || !*s || s[0] == '-' || s[0] == '+')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -EINVAL;
    unsigned shift;
    switch (*end) {
    case 0: shift = 0; break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return -EINVAL;
    }
    if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *bytes = (uint64_t)v << shift;
    return 0;
}

static int disk_create(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, 0, 'f' },
        { "backing", required_argument, 0, 'b' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    enum block_format fmt = BLOCK_FORMAT_AUTO;
    const char *backing = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "raw"))
                fmt = BLOCK_FORMAT_RAW;
            else if (!strcmp(optarg, "qcow2"))
                fmt = BLOCK_FORMAT_QCOW2;
            else {
                fprintf(stderr, "condo: --format wants raw or qcow2, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'b': backing = optarg; break;
        case 'h': disk_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "condo: option '%s' needs a value (try 'condo disk --help')\n",
                    argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "condo: unknown option '%s' for disk create (try 'condo disk --help')\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    int left = argc - optind;
    if (left < 1 || left > 2 || (left == 1 && !backing)) {
        fprintf(stderr, left < 1 ? "condo: disk create needs a FILE and a SIZE (try 'condo disk "
                                   "--help')\n"
                 : left > 2     ? "condo: disk create takes FILE and SIZE only (try 'condo disk "
                                   "--help')\n"
                                : "condo: disk create needs a SIZE (or --backing BASE to take "
                                   "the base's size)\n");
        return 2;
    }
    const char *file = argv[optind];
    uint64_t size = 0;
    if (left == 2) {
        const char *s = argv[optind + 1];
        if (disk_parse_size(s, &size) < 0 || size == 0) {
            fprintf(stderr,
                    "condo: disk size wants bytes or a number with K, M, G or T (like 20G), "
                    "not '%s'\n",
                    s);
            return 2;
        }
        if (size % 512) {
            fprintf(stderr, "condo: disk size %s is not a multiple of 512 bytes\n", s);
            return 2;
        }
    }
    if (fmt == BLOCK_FORMAT_RAW && backing) {
        fprintf(stderr, "condo: a raw image cannot have a backing file: use --format qcow2\n");
        return 2;
    }
    if (block_create(file, fmt, size, backing) < 0)
        return 1;
    return 0;
}

int cli_disk(int argc, char **argv)
{
    if (argc < 2) {
        disk_usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        disk_usage(stdout);
        return 0;
    }
    if (!strcmp(sub, "create"))
        return disk_create(argc - 1, argv + 1);
    fprintf(stderr, "condo: unknown disk command '%s' (try 'condo disk --help')\n", sub);
    return 2;
}
