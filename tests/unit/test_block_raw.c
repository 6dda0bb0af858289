/* Raw block backend and the block front: random writes and reads against an
 * in-memory copy, bounds and alignment checks, read-only opens, locking,
 * creation, and the probed-raw guard on sector 0. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "condo/block.h"

static char dir[64];
static char img[128];

static int setup(void **state)
{
    strcpy(dir, "/tmp/condo-raw-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(img, sizeof(img), "%s/disk.img", dir);
    return 0;
}

static int teardown(void **state)
{
    unlink(img);
    rmdir(dir);
    return 0;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int rd(struct block_backend *b, void *buf, size_t len, uint64_t off)
{
    struct iovec v = { buf, len };
    return block_preadv(b, &v, 1, off);
}

static int wr(struct block_backend *b, const void *buf, size_t len, uint64_t off)
{
    struct iovec v = { (void *)buf, len };
    return block_pwritev(b, &v, 1, off);
}

static void test_random_io(void **state)
{
    const uint64_t size = 4 << 20;
    assert_int_equal(block_create(img, BLOCK_FORMAT_RAW, size, NULL, NULL), 0);
    struct block_backend *b;
    assert_int_equal(block_open(img, BLOCK_FORMAT_AUTO, false, &b, NULL), 0);
    assert_int_equal(b->size, size);
    assert_string_equal(b->ops->name, "raw");
    uint8_t *ref = calloc(1, size), *buf = malloc(256 * 512), *got = malloc(256 * 512);
    for (int i = 0; i < 400; i++) {
        size_t ns = 1 + next() % 256;
        uint64_t off = (next() % (size / 512 - ns + 1)) * 512;
        size_t len = ns * 512;
        if (next() % 3) {
            for (size_t k = 0; k < len; k++)
                buf[k] = (uint8_t)next();
            /* Three vectors of odd lengths. */
            size_t a = len / 3 + 1, c = len / 5;
            struct iovec v[3] = { { buf, a }, { buf + a, c }, { buf + a + c, len - a - c } };
            assert_int_equal(block_pwritev(b, v, 3, off), 0);
            memcpy(ref + off, buf, len);
        } else {
            memset(got, 0xee, len);
            assert_int_equal(rd(b, got, len, off), 0);
            assert_memory_equal(got, ref + off, len);
        }
    }
    assert_int_equal(block_flush(b), 0);
    block_close(b);
    /* Everything is in the file after close. */
    assert_int_equal(block_open(img, BLOCK_FORMAT_RAW, true, &b, NULL), 0);
    uint8_t *all = malloc(size);
    assert_int_equal(rd(b, all, size, 0), 0);
    assert_memory_equal(all, ref, size);
    block_close(b);
    free(all);
    free(ref);
    free(buf);
    free(got);
}

static void test_bounds_and_alignment(void **state)
{
    assert_int_equal(block_create(img, BLOCK_FORMAT_RAW, 1 << 20, NULL, NULL), 0);
    struct block_backend *b;
    assert_int_equal(block_open(img, BLOCK_FORMAT_AUTO, false, &b, NULL), 0);
    uint8_t buf[1024] = { 0 };
    assert_int_equal(rd(b, buf, 512, (1 << 20) - 512), 0);
    assert_int_equal(rd(b, buf, 1024, (1 << 20) - 512), -EINVAL);
    assert_int_equal(rd(b, buf, 512, 1 << 20), -EINVAL);
    assert_int_equal(rd(b, buf, 512, UINT64_MAX - 511), -EINVAL);
    assert_int_equal(wr(b, buf, 512, 100), -EINVAL);
    assert_int_equal(wr(b, buf, 100, 0), -EINVAL);
    assert_int_equal(rd(b, buf, 0, 0), 0);
    /* Vector lengths that wrap when summed. */
    struct iovec v[2] = { { buf, 512 }, { buf, SIZE_MAX - 100 } };
    assert_int_equal(block_preadv(b, v, 2, 0), -EINVAL);
    assert_int_equal(block_preadv(b, v, -1, 0), -EINVAL);
    block_close(b);
}

static void test_read_only(void **state)
{
    assert_int_equal(block_create(img, BLOCK_FORMAT_RAW, 64 << 10, NULL, NULL), 0);
    struct block_backend *b;
    assert_int_equal(block_open(img, BLOCK_FORMAT_RAW, true, &b, NULL), 0);
    uint8_t buf[512] = { 1 };
    assert_int_equal(wr(b, buf, 512, 0), -EROFS);
    assert_int_equal(block_flush(b), 0);
    /* Readers share the image. */
    struct block_backend *b2;
    assert_int_equal(block_open(img, BLOCK_FORMAT_RAW, true, &b2, NULL), 0);
    /* A writer is refused while it is open, and the other way round. */
    struct block_backend *w;
    assert_int_equal(block_open(img, BLOCK_FORMAT_RAW, false, &w, NULL), -EBUSY);
    block_close(b);
    block_close(b2);
    assert_int_equal(block_open(img, BLOCK_FORMAT_RAW, false, &w, NULL), 0);
    assert_int_equal(block_open(img, BLOCK_FORMAT_RAW, true, &b, NULL), -EBUSY);
    block_close(w);
}

static void test_bad_files(void **state)
{
    struct block_backend *b;
    assert_int_equal(block_open(img, BLOCK_FORMAT_AUTO, false, &b, NULL), -ENOENT);
    assert_null(b);
    /* Not a whole number of sectors. */
    int fd = open(img, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1000), 0);
    close(fd);
    assert_int_equal(block_open(img, BLOCK_FORMAT_AUTO, false, &b, NULL), -EINVAL);
    /* Creation never overwrites. */
    assert_int_equal(block_create(img, BLOCK_FORMAT_RAW, 4096, NULL, NULL), -EEXIST);
    unlink(img);
    assert_int_equal(block_create(img, BLOCK_FORMAT_RAW, 1000, NULL, NULL), -EINVAL);
    assert_int_equal(block_create(img, BLOCK_FORMAT_RAW, 4096, "base", NULL), -EINVAL);
    assert_int_equal(access(img, F_OK), -1);
    assert_int_equal(block_open(dir, BLOCK_FORMAT_AUTO, true, &b, NULL) < 0, 1);
}

static void test_probed_sector0_guard(void **state)
{
    assert_int_equal(block_create(img, BLOCK_FORMAT_RAW, 64 << 10, NULL, NULL), 0);
    uint8_t sec[512] = { 0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3 };
    struct block_backend *b;
    assert_int_equal(block_open(img, BLOCK_FORMAT_AUTO, false, &b, NULL), 0);
    assert_int_equal(wr(b, sec, 512, 0), -EPERM);
    assert_int_equal(wr(b, sec, 512, 512), 0);
    block_close(b);
    /* With the format given, the guest may write what it likes. */
    assert_int_equal(block_open(img, BLOCK_FORMAT_RAW, false, &b, NULL), 0);
    assert_int_equal(wr(b, sec, 512, 0), 0);
    block_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds_and_alignment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probed_sector0_guard, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
