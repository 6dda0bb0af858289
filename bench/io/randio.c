/* randio: random 4 KiB I/O with O_DIRECT, one at a time, for bench/io.py.
 *
 * usage: randio DEVICE COUNT [SEED [read|write|fsync]]
 * COUNT operations on 4 KiB blocks at random 4 KiB-aligned offsets over the
 * whole device, O_DIRECT so the guest page cache is bypassed: `read`
 * (default) preads, `write` pwrites, `fsync` pwrites each followed by
 * fdatasync (a cache flush request to the disk every time). Prints
 * "randio MODE: N ops in S s = R ops/s". Exit 1 on any error. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define BLK 4096

static uint64_t rng_state;

/* xorshift64*: a fixed seed gives both VMMs the same offsets. */
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: randio DEVICE COUNT [SEED [read|write|fsync]]\n");
        return 2;
    }
    const char *mode = argc > 4 ? argv[4] : "read";
    int write = !strcmp(mode, "write") || !strcmp(mode, "fsync");
    int sync = !strcmp(mode, "fsync");
    if (!write && strcmp(mode, "read")) {
        fprintf(stderr, "randio: unknown mode %s\n", mode);
        return 2;
    }
    long count = strtol(argv[2], NULL, 10);
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 88172645463325252ULL;
    if (rng_state == 0)
        rng_state = 1;
    int fd = open(argv[1], (write ? O_RDWR : O_RDONLY) | O_DIRECT);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) != 0) {
        struct stat st;
        if (fstat(fd, &st) != 0) {
            perror("fstat");
            return 1;
        }
        size = (uint64_t)st.st_size;
    }
    uint64_t blocks = size / BLK;
    if (blocks == 0 || count <= 0) {
        fprintf(stderr, "randio: nothing to do (size %llu, count %ld)\n",
                (unsigned long long)size, count);
        return 1;
    }
    void *buf;
    /* O_DIRECT needs an aligned buffer. */
    if (posix_memalign(&buf, BLK, BLK) != 0) {
        fprintf(stderr, "randio: out of memory\n");
        return 1;
    }
    memset(buf, 0x5a, BLK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < count; i++) {
        off_t off = (off_t)(rng_next() % blocks) * BLK;
        ssize_t n = write ? pwrite(fd, buf, BLK, off) : pread(fd, buf, BLK, off);
        if (n != BLK) {
            perror(write ? "pwrite" : "pread");
            return 1;
        }
        if (sync && fdatasync(fd) != 0) {
            perror("fdatasync");
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("randio %s: %ld ops in %.3f s = %.1f ops/s\n", mode, count, s, count / s);
    return 0;
}
