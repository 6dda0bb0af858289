/* condo disk: disk image commands: create, info. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "condo/block.h"
#include "condo/paths.h"

static const char *store(void)
{
    static char buf[BLOCK_PATH_MAX];
    if (paths_image_store(buf, sizeof(buf), NULL) < 0)
        return "none: set CONDO_HOME, XDG_DATA_HOME or HOME";
    return buf;
}

static void disk_usage(FILE *f)
{
    fprintf(f,
            "usage: condo disk create FILE [SIZE] [--format raw|qcow2] [--backing BASE]\n"
            "       condo disk info FILE [--format raw|qcow2] [--json]\n"
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
            "                     directory (as QEMU does), and stored as given. BASE\n"
            "                     must lie in FILE's directory (or below it) or in\n"
            "                     condo's image store (%s), the only\n"
            "                     places condo run follows a backing name to.\n"
            "  -h, --help         this text\n"
            "\n"
            "A raw image is a sparse file of SIZE bytes. A qcow2 image starts at a few\n"
            "hundred KiB and grows as the guest writes. condo never overwrites an\n"
            "existing file.\n"
            "\n"
            "\n"
            "info shows an image and its whole backing chain from the headers, without\n"
            "opening any layer for I/O: format, sizes, each backing name, where it\n"
            "leads and whether condo run follows it (--json: the same as JSON).\n"
            "\n"
            "exit status: create: 0 created, 1 the image could not be created, 2 bad\n"
            "usage; info: 0 shown and condo run would open the chain, 1 shown but a\n"
            "backing file is refused, missing or damaged, 2 bad usage or FILE is not\n"
            "an image; both: 6 the host lacks memory or other resources.\n",
            store());
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
    optind = 0;
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
    struct error err = ERROR_INIT;
    if (block_create(file, fmt, size, backing, &err) < 0) {
        fprintf(stderr, "condo: %s\n", err.msg);
        return error_class(&err) == ERROR_CLASS_RESOURCE ? 6 : 1;
    }
    return 0;
}

static const char *fmt_name(enum block_format f)
{
    return f == BLOCK_FORMAT_RAW ? "raw" : f == BLOCK_FORMAT_QCOW2 ? "qcow2" : "auto";
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* A name from an image as one line of text: control bytes shown as \xNN
 * (a hostile name must not move the cursor or forge lines). */
static void text_str(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            printf("\\x%02x", *p);
        else
            putchar(*p);
    }
}

static void info_text(const struct block_layer_info *l, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const struct block_layer_info *li = &l[i];
        if (i)
            printf("\n");
        printf("%s", i ? "backing file: " : "image: ");
        text_str(li->path);
        printf("\nformat: %s", fmt_name(li->format));
        if (li->format == BLOCK_FORMAT_QCOW2)
            printf(" (version %u, %u-byte clusters%s%s)", li->version, li->cluster_size,
                   li->dirty ? ", dirty" : "", li->corrupt ? ", marked corrupt" : "");
        printf("\nvirtual size: %llu bytes (%.1f MiB)\nfile size: %llu bytes\n",
               (unsigned long long)li->virtual_size, (double)li->virtual_size / 1048576.0,
               (unsigned long long)li->file_size);
        if (!li->backing_name[0])
            continue;
        printf("backing name: ");
        text_str(li->backing_name);
        if (li->backing_format != BLOCK_FORMAT_AUTO)
            printf(" (format %s)", fmt_name(li->backing_format));
        printf("\nbacking path: ");
        text_str(li->backing_path[0] ? li->backing_path : "(cannot be resolved)");
        printf("\nbacking allowed: %s\n", li->backing_status == 0 ? "yes" : "no");
        if (li->backing_status) {
            printf("refused: ");
            text_str(li->backing_why);
            printf("\n");
        }
    }
}

static void info_json(const struct block_layer_info *l, unsigned n)
{
    printf("{\"chain\": [");
    for (unsigned i = 0; i < n; i++) {
        const struct block_layer_info *li = &l[i];
        printf("%s\n  {\"filename\": ", i ? "," : "");
        json_str(li->path);
        printf(", \"format\": \"%s\", \"virtual-size\": %llu, \"actual-size\": %llu",
               fmt_name(li->format), (unsigned long long)li->virtual_size,
               (unsigned long long)li->file_size);
        if (li->format == BLOCK_FORMAT_QCOW2)
            printf(", \"qcow2-version\": %u, \"cluster-size\": %u, \"dirty\": %s, "
                   "\"corrupt\": %s",
                   li->version, li->cluster_size, li->dirty ? "true" : "false",
                   li->corrupt ? "true" : "false");
        if (li->backing_name[0]) {
            printf(", \"backing-filename\": ");
            json_str(li->backing_name);
            if (li->backing_format != BLOCK_FORMAT_AUTO)
                printf(", \"backing-filename-format\": \"%s\"", fmt_name(li->backing_format));
            printf(", \"backing-path\": ");
            if (li->backing_path[0])
                json_str(li->backing_path);
            else
                printf("null");
            printf(", \"backing-allowed\": %s", li->backing_status == 0 ? "true" : "false");
            if (li->backing_status) {
                printf(", \"backing-refused\": ");
                json_str(li->backing_why);
            }
        }
        printf("}");
    }
    printf("\n]}\n");
}

static int disk_info(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, 0, 'f' },
        { "json", no_argument, 0, 'j' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    enum block_format fmt = BLOCK_FORMAT_AUTO;
    bool json = false;
    int c;
    optind = 0;
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
        case 'j': json = true; break;
        case 'h': disk_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "condo: option '%s' needs a value (try 'condo disk --help')\n",
                    argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "condo: unknown option '%s' for disk info (try 'condo disk --help')\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "condo: disk info takes one FILE (try 'condo disk --help')\n");
        return 2;
    }
    struct block_layer_info *layers = calloc(BLOCK_MAX_CHAIN + 1, sizeof(*layers));
    if (!layers) {
        fprintf(stderr, "condo: out of memory\n");
        return 6;
    }
    struct error err = ERROR_INIT;
    unsigned n = 0;
    int r = block_info_chain(argv[optind], fmt, layers, &n, &err);
    int status;
    if (r < 0) {
        status = cli_fail(&err);
    } else {
        if (json)
            info_json(layers, n);
        else
            info_text(layers, n);
        status = n && layers[n - 1].backing_status ? 1 : 0;
    }
    free(layers);
    return status;
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
    if (!strcmp(sub, "info"))
        return disk_info(argc - 1, argv + 1);
    fprintf(stderr, "condo: unknown disk command '%s' (try 'condo disk --help')\n", sub);
    return 2;
}
