/* randread: random 4 KiB reads with O_DIRECT, for bench/io.py.
 *
 * usage: randread DEVICE COUNT [SEED]
 * Reads COUNT blocks of 4 KiB at random 4 KiB-aligned offsets over the whole
 * device (pread, O_DIRECT so the guest page cache is bypassed) and prints
 * "randread: N ops in S s = R ops/s". Exit 1 on any error. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
        fprintf(stderr, "usage: randread DEVICE COUNT [SEED]\n");
        return 2;
    }
    long count = strtol(argv[2], NULL, 10);
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 88172645463325252ULL;
    if (rng_state == 0)
        rng_state = 1;
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
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
        fprintf(stderr, "randread: nothing to do (size %llu, count %ld)\n",
                (unsigned long long)size, count);
        return 1;
    }
    void *buf;
    /* O_DIRECT needs an aligned buffer. */
    if (posix_memalign(&buf, BLK, BLK) != 0) {
        fprintf(stderr, "randread: out of memory\n");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < count; i++) {
        off_t off = (off_t)(rng_next() % blocks) * BLK;
        ssize_t n = pread(fd, buf, BLK, off);
        if (n != BLK) {
            perror("pread");
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("randread: %ld ops in %.3f s = %.1f ops/s\n", count, s, count / s);
    return 0;
}
