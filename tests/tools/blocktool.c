/* blocktool: drives the block backends (include/condo/block.h) from shell
 * scripts, so tests/guest/test_qcow2_interop.sh can check condo's images
 * against QEMU's tools without booting a guest.
 *
 *   blocktool [-f raw|qcow2] [-r] IMAGE COMMAND [ARGS]
 *     info                    print "format F size N"
 *     read OFF LEN            write the disk's bytes [OFF, OFF+LEN) to stdout
 *     write OFF LEN           write LEN bytes from stdin at OFF
 *     fill OFF LEN BYTE       write LEN bytes of value BYTE at OFF
 *     random SEED COUNT MAXSECT [BASE LEN]
 *                             COUNT pseudo-random writes (sector-aligned,
 *                             1..MAXSECT sectors, inside [BASE, BASE+LEN) or
 *                             the whole disk); the same arguments give the
 *                             same writes on any image, e.g. a raw reference
 *     crash                   like random (same arguments) in a child process
 *                             that then SIGKILLs itself without flushing or
 *                             closing; exit status 0 if it died so
 *   Offsets and lengths are bytes (multiples of 512), with an optional K, M
 *   or G suffix. Everything but crash
 *   ends with a flush and a close. Exit status 0, or 1 with the error on
 *   stderr (the message names the errno, e.g. "Operation not supported"). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "condo/block.h"

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t num(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M')
        shift = 20;
    else if (*end == 'G')
        shift = 30;
    if (shift) {
        end++;
        if (v > (UINT64_MAX >> shift))
            errno = ERANGE;
        v <<= shift;
    }
    if (errno || end == s || *end) {
        fprintf(stderr, "blocktool: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

static int fail(const char *what, int r)
{
    fprintf(stderr, "blocktool: %s: %s\n", what, strerror(-r));
    return 1;
}

static int do_random(struct block_backend *b, char **a, int na)
{
    if (na < 3)
        return 2;
    rng = num(a[0]) * 0x9E3779B97F4A7C15ull + 1;
    uint64_t count = num(a[1]), maxsect = num(a[2]);
    uint64_t base = na >= 5 ? num(a[3]) : 0, len = na >= 5 ? num(a[4]) : b->size;
    if (!maxsect || len / 512 == 0 || base + len > b->size) {
        fprintf(stderr, "blocktool: bad random region\n");
        return 2;
    }
    uint8_t *buf = malloc(maxsect * 512);
    if (!buf)
        return 1;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t ns = 1 + next() % maxsect;
        if (ns > len / 512)
            ns = len / 512;
        uint64_t off = base + (next() % (len / 512 - ns + 1)) * 512;
        for (uint64_t k = 0; k < ns * 512; k += 8) {
            uint64_t v = next();
            memcpy(buf + k, &v, 8);
        }
        /* Split some requests over several vectors, as a guest's would be. */
        struct iovec iov[3];
        int n = 1;
        iov[0] = (struct iovec){ buf, ns * 512 };
        if (ns >= 3 && (i & 1)) {
            size_t a1 = 512 * (1 + next() % (ns - 2)), a2 = 100;
            iov[0].iov_len = a1;
            iov[1] = (struct iovec){ buf + a1, a2 };
            iov[2] = (struct iovec){ buf + a1 + a2, ns * 512 - a1 - a2 };
            n = 3;
        }
        int r = block_pwritev(b, iov, n, off);
        if (r < 0) {
            free(buf);
            return fail("write", r);
        }
    }
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    enum block_format fmt = BLOCK_FORMAT_AUTO;
    bool ro = false;
    int opt;
    while ((opt = getopt(argc, argv, "+f:r")) != -1) {
        if (opt == 'f')
            fmt = !strcmp(optarg, "raw") ? BLOCK_FORMAT_RAW
                  : !strcmp(optarg, "qcow2") ? BLOCK_FORMAT_QCOW2
                                             : BLOCK_FORMAT_AUTO;
        else if (opt == 'r')
            ro = true;
        else
            return 2;
    }
    if (argc - optind < 2) {
        fprintf(stderr, "usage: blocktool [-f raw|qcow2] [-r] IMAGE COMMAND [ARGS]\n");
        return 2;
    }
    const char *path = argv[optind], *cmd = argv[optind + 1];
    char **a = argv + optind + 2;
    int na = argc - optind - 2;
    if (!strcmp(cmd, "crash")) {
        /* The writes and the kill happen in a child, so the caller sees a
         * plain exit status: 0 when the child died by SIGKILL as meant. */
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid > 0) {
            int st;
            if (waitpid(pid, &st, 0) != pid)
                return 1;
            if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
                return 0;
            fprintf(stderr, "blocktool: crash: the writer was not killed (status 0x%x)\n", st);
            return 1;
        }
    }
    struct block_backend *b;
    struct error err = ERROR_INIT;
    int r = block_open(path, fmt, ro, &b, &err);
    if (r < 0) {
        fprintf(stderr, "blocktool: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (!strcmp(cmd, "info")) {
        printf("format %s size %llu\n", b->ops->name, (unsigned long long)b->size);
    } else if (!strcmp(cmd, "read") && na == 2) {
        uint64_t off = num(a[0]), len = num(a[1]);
        uint8_t *buf = malloc(len ? len : 1);
        r = buf ? 0 : -ENOMEM;
        struct iovec v = { buf, len };
        if (r == 0)
            r = block_preadv(b, &v, 1, off);
        if (r < 0)
            rc = fail("read", r);
        else if (fwrite(buf, 1, len, stdout) != len)
            rc = 1;
        free(buf);
    } else if ((!strcmp(cmd, "write") && na == 2) || (!strcmp(cmd, "fill") && na == 3)) {
        uint64_t off = num(a[0]), len = num(a[1]);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
            return 1;
        if (na == 3)
            memset(buf, (int)num(a[2]), len);
        else if (fread(buf, 1, len, stdin) != len) {
            fprintf(stderr, "blocktool: short input\n");
            return 1;
        }
        struct iovec v = { buf, len };
        r = block_pwritev(b, &v, 1, off);
        if (r < 0)
            rc = fail("write", r);
        free(buf);
    } else if (!strcmp(cmd, "random") || !strcmp(cmd, "crash")) {
        rc = do_random(b, a, na);
        if (rc == 0 && !strcmp(cmd, "crash")) {
            fflush(stdout);
            kill(getpid(), SIGKILL);
        }
    } else {
        fprintf(stderr, "blocktool: unknown command '%s'\n", cmd);
        rc = 2;
    }
    if (rc == 0 && (r = block_flush(b)) < 0)
        rc = fail("flush", r);
    block_close(b);
    return rc;
}
