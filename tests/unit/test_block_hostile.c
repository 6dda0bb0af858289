/* Disk images as hostile input (issue: every file is untrusted):
 *  - the backing rule: a backing name is followed only to a regular file in
 *    the naming image's directory (or below) or in condo's image store;
 *    absolute names, ../ traversal, symbolic links leading out, devices and
 *    FIFOs are refused with a message saying how to allow the base; an
 *    explicit base (backing=PATH) and backing=none work;
 *  - nothing blocks: a FIFO as an image or a backing file is refused at
 *    once (an alarm fails the test instead of hanging it);
 *  - an image opened twice in one process, or a backing chain that loops,
 *    is reported as what it is, not as "in use by another process";
 *  - a qcow2 image truncated under a running VM gives I/O errors, as a raw
 *    image does, instead of zeros and silent writes;
 *  - block_info_chain describes a chain without following refused names.
 * Images are made with block_create and patched; the same cases against
 * qemu-img's images are in tests/guest/test_hostile_files.py. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "condo/block.h"

#define CS 65536ull

static char dir[64], sub[96], outside[96], store_home[96];
static char img[160], base[160];

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_block_hostile: an open blocked (alarm after 10 s)\n";
    if (write(2, msg, sizeof(msg) - 1) < 0) {
    }
    _exit(1);
}

static void rm_rf(const char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/condo-hostile-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/img", dir);
    snprintf(outside, sizeof(outside), "%s/outside", dir);
    snprintf(store_home, sizeof(store_home), "%s/home", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(mkdir(outside, 0755), 0);
    snprintf(img, sizeof(img), "%s/disk.qcow2", sub);
    snprintf(base, sizeof(base), "%s/base.img", sub);
    /* An image store of our own, empty unless a test fills it. */
    setenv("CONDO_HOME", store_home, 1);
    signal(SIGALRM, on_alarm);
    alarm(10);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    rm_rf(dir);
    return 0;
}

static void patch(const char *path, uint64_t off, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static void patch_be(const char *path, uint64_t off, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    patch(path, off, b, bytes);
}

/* Points path's backing name at name (no backing-format extension: the
 * format is probed, as for images qemu-img makes with -u and no -F). */
static void set_backing(const char *path, const char *name)
{
    patch_be(path, 8, 512, 8);
    patch_be(path, 16, strlen(name), 4);
    patch(path, 512, name, strlen(name));
}

static void write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
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

/* Opens with opt; on failure returns the error and its message in msg. */
static int try_open(const char *path, const struct block_open_options *opt, char *msg,
                    struct block_backend **out)
{
    struct error err = ERROR_INIT;
    struct block_backend *b = NULL;
    int r = block_open_with(path, opt, &b, &err);
    if (msg)
        snprintf(msg, ERROR_MSG_MAX, "%s", err.msg);
    if (r == 0) {
        assert_false(error_is_set(&err));
        if (out)
            *out = b;
        else
            block_close(b);
    } else {
        assert_null(b);
        assert_int_equal(err.code, r);
        assert_true(err.msg[0] != 0);
    }
    return r;
}

static int open_ro(const char *path, char *msg)
{
    struct block_open_options o = { .read_only = true };
    return try_open(path, &o, msg, NULL);
}

/* A raw file of a secret the guest must never see. */
static const char secret[512] = "root:$6$secret-hash-the-guest-must-not-see:19000:0:99999:7:::\n";

static void test_backing_rule_refuses(void **state)
{
    (void)state;
    char msg[ERROR_MSG_MAX], path[256];
    snprintf(path, sizeof(path), "%s/secret.img", outside);
    write_file(path, secret, sizeof(secret));
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 1 << 20, NULL, NULL), 0);

    /* An absolute name outside the image's directory. */
    set_backing(img, path);
    assert_int_equal(open_ro(img, msg), -EPERM);
    assert_non_null(strstr(msg, "disk.qcow2"));
    assert_non_null(strstr(msg, "backing="));
    assert_non_null(strstr(msg, "outside"));

    /* ../ out of the directory. */
    set_backing(img, "../outside/secret.img");
    assert_int_equal(open_ro(img, msg), -EPERM);

    /* A name in the directory that is a symbolic link leading out. */
    char link[256];
    snprintf(link, sizeof(link), "%s/base-link.img", sub);
    assert_int_equal(symlink(path, link), 0);
    set_backing(img, "base-link.img");
    assert_int_equal(open_ro(img, msg), -EPERM);
    /* ... and the same image opened for writing. */
    struct block_open_options rw = { .read_only = false };
    assert_int_equal(try_open(img, &rw, NULL, NULL), -EPERM);

    /* Host files and devices. */
    set_backing(img, "/etc/hostname");
    assert_int_equal(open_ro(img, NULL), -EPERM);
    set_backing(img, "/dev/zero");
    assert_int_equal(open_ro(img, NULL), -EPERM);

    /* A FIFO in the image's own directory: refused, never waited on. */
    char fifo[256];
    snprintf(fifo, sizeof(fifo), "%s/fifo", sub);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    set_backing(img, "fifo");
    assert_int_equal(open_ro(img, msg), -EPERM);
    assert_non_null(strstr(msg, "FIFO"));

    /* A raw file that starts with qcow2's magic is probed as qcow2: the
     * same rule holds for it. */
    char probed[256];
    snprintf(probed, sizeof(probed), "%s/probed.img", sub);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", img, probed);
    assert_int_equal(system(cmd), 0);
    set_backing(probed, path);
    assert_int_equal(open_ro(probed, NULL), -EPERM);
    /* Given as raw, it is just bytes (the header), no host file. */
    struct block_open_options raw = { .format = BLOCK_FORMAT_RAW, .read_only = true };
    assert_int_equal(try_open(probed, &raw, NULL, NULL), 0);
}

static void test_backing_rule_allows(void **state)
{
    (void)state;
    /* The base beside the image, below it, and in the image store. */
    char buf[512], path[256];
    write_file(base, secret, sizeof(secret));
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 1 << 20, "base.img", NULL), 0);
    struct block_backend *b = NULL;
    struct block_open_options ro = { .read_only = true };
    assert_int_equal(try_open(img, &ro, NULL, &b), 0);
    assert_int_equal(rd(b, buf, 512, 0), 0);
    assert_memory_equal(buf, secret, 512);
    block_close(b);

    snprintf(path, sizeof(path), "%s/lower", sub);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/lower/base.img", sub);
    write_file(path, secret, sizeof(secret));
    set_backing(img, "lower/base.img");
    assert_int_equal(open_ro(img, NULL), 0);
    set_backing(img, path); /* absolute, but inside */
    assert_int_equal(open_ro(img, NULL), 0);

    snprintf(path, sizeof(path), "%s/images", store_home);
    assert_int_equal(mkdir(store_home, 0755), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/images/debian.img", store_home);
    write_file(path, secret, sizeof(secret));
    set_backing(img, path);
    assert_int_equal(open_ro(img, NULL), 0);
}

static void test_backing_option(void **state)
{
    (void)state;
    char msg[ERROR_MSG_MAX], path[256], buf[512];
    snprintf(path, sizeof(path), "%s/secret.img", outside);
    write_file(path, secret, sizeof(secret));
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 1 << 20, NULL, NULL), 0);
    set_backing(img, path);
    assert_int_equal(open_ro(img, NULL), -EPERM);

    /* backing=PATH: the user names the base; it is followed. */
    struct block_open_options o = { .read_only = true, .backing = path };
    struct block_backend *b = NULL;
    assert_int_equal(try_open(img, &o, NULL, &b), 0);
    assert_int_equal(rd(b, buf, 512, 0), 0);
    assert_memory_equal(buf, secret, 512);
    block_close(b);
    /* backing=none: the top layer alone; unwritten parts read as zeros. */
    struct block_open_options none = { .read_only = true, .backing = BLOCK_BACKING_NONE };
    assert_int_equal(try_open(img, &none, NULL, &b), 0);
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(rd(b, buf, 512, 0), 0);
    for (unsigned i = 0; i < 512; i++)
        assert_int_equal(buf[i], 0);
    block_close(b);
    /* backing=PATH writable: the write lands in the overlay (with the
     * base's bytes copied around it); the base stays read-only. */
    o.read_only = false;
    assert_int_equal(try_open(img, &o, NULL, &b), 0);
    assert_int_equal(wr(b, secret, 512, 4096), 0);
    block_close(b);
    assert_int_equal(try_open(img, &none, NULL, &b), 0);
    assert_int_equal(rd(b, buf, 512, 4096), 0);
    assert_memory_equal(buf, secret, 512);
    block_close(b);
    /* ... but only read-only. */
    none.read_only = false;
    assert_int_equal(try_open(img, &none, msg, NULL), -EINVAL);
    assert_non_null(strstr(msg, "ro"));

    /* backing= on an image without a backing file, or a raw one. */
    char plain[256];
    snprintf(plain, sizeof(plain), "%s/plain.qcow2", sub);
    assert_int_equal(block_create(plain, BLOCK_FORMAT_QCOW2, 1 << 20, NULL, NULL), 0);
    o.read_only = true;
    assert_int_equal(try_open(plain, &o, NULL, NULL), -EINVAL);
    assert_int_equal(try_open(path, &o, NULL, NULL), -EINVAL);
}

static void test_create_follows_rule(void **state)
{
    (void)state;
    char path[256], msg[ERROR_MSG_MAX];
    snprintf(path, sizeof(path), "%s/base.img", outside);
    write_file(path, secret, sizeof(secret));
    /* An overlay condo run would refuse is not created. */
    struct error err = ERROR_INIT;
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 0, "../outside/base.img", &err),
                     -EPERM);
    snprintf(msg, sizeof(msg), "%s", err.msg);
    assert_non_null(strstr(msg, "cannot create"));
    assert_int_equal(access(img, F_OK), -1);
    /* One beside it is. */
    write_file(base, secret, sizeof(secret));
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 0, "base.img", NULL), 0);
}

static void test_fifo_never_blocks(void **state)
{
    (void)state;
    char fifo[256], msg[ERROR_MSG_MAX];
    snprintf(fifo, sizeof(fifo), "%s/disk.fifo", sub);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    /* alarm(10) in setup turns a hang into a failure. */
    assert_int_equal(open_ro(fifo, msg), -EINVAL);
    assert_non_null(strstr(msg, "not a regular file"));
    struct block_open_options rw = { .read_only = false };
    assert_int_equal(try_open(fifo, &rw, NULL, NULL), -EINVAL);
    unsigned n;
    struct block_layer_info *li = calloc(BLOCK_MAX_CHAIN + 1, sizeof(*li));
    assert_non_null(li);
    struct error err = ERROR_INIT;
    assert_true(block_info_chain(fifo, BLOCK_FORMAT_AUTO, li, &n, &err) < 0);
    free(li);
}

static void test_same_image_twice(void **state)
{
    (void)state;
    char msg[ERROR_MSG_MAX];
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 1 << 20, NULL, NULL), 0);
    struct block_backend *a = NULL;
    struct block_open_options rw = { .read_only = false }, ro = { .read_only = true };
    assert_int_equal(try_open(img, &rw, NULL, &a), 0);
    assert_int_equal(try_open(img, &rw, msg, NULL), -EBUSY);
    assert_non_null(strstr(msg, "already open in this VM"));
    assert_null(strstr(msg, "another process"));
    assert_int_equal(try_open(img, &ro, msg, NULL), -EBUSY);
    assert_non_null(strstr(msg, "already open in this VM"));
    block_close(a);
    /* Read-only twice is fine (one base under two overlays). */
    struct block_backend *b = NULL;
    assert_int_equal(try_open(img, &ro, NULL, &a), 0);
    assert_int_equal(try_open(img, &ro, NULL, &b), 0);
    block_close(a);
    block_close(b);
    /* Closing gives it back. */
    assert_int_equal(try_open(img, &rw, NULL, NULL), 0);
}

static void test_backing_loop(void **state)
{
    (void)state;
    char msg[ERROR_MSG_MAX], mid[256];
    snprintf(mid, sizeof(mid), "%s/mid.qcow2", sub);
    assert_int_equal(block_create(mid, BLOCK_FORMAT_QCOW2, 1 << 20, NULL, NULL), 0);
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 0, "mid.qcow2", NULL), 0);
    set_backing(mid, "disk.qcow2");
    struct block_open_options rw = { .read_only = false }, ro = { .read_only = true };
    /* Opened for writing, the loop used to meet the image's own lock. */
    assert_int_equal(try_open(img, &rw, msg, NULL), -ELOOP);
    assert_non_null(strstr(msg, "loops"));
    assert_null(strstr(msg, "another process"));
    assert_int_equal(try_open(img, &ro, msg, NULL), -ELOOP);
    assert_non_null(strstr(msg, "loops"));
    /* An image naming itself. */
    set_backing(mid, "mid.qcow2");
    assert_int_equal(try_open(mid, &rw, msg, NULL), -ELOOP);

    /* disk info shows the loop without looping. */
    unsigned n;
    struct block_layer_info *li = calloc(BLOCK_MAX_CHAIN + 1, sizeof(*li));
    assert_non_null(li);
    set_backing(mid, "disk.qcow2");
    assert_int_equal(block_info_chain(img, BLOCK_FORMAT_AUTO, li, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(li[1].backing_status, -ELOOP);
    free(li);
}

static void test_info_chain(void **state)
{
    (void)state;
    char path[256];
    write_file(base, secret, sizeof(secret));
    char mid[256];
    snprintf(mid, sizeof(mid), "%s/mid.qcow2", sub);
    assert_int_equal(block_create(mid, BLOCK_FORMAT_QCOW2, 0, "base.img", NULL), 0);
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 2 << 20, "mid.qcow2", NULL), 0);
    struct block_layer_info *li = calloc(BLOCK_MAX_CHAIN + 1, sizeof(*li));
    assert_non_null(li);
    unsigned n = 0;
    assert_int_equal(block_info_chain(img, BLOCK_FORMAT_AUTO, li, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_int_equal(li[0].format, BLOCK_FORMAT_QCOW2);
    assert_int_equal(li[0].virtual_size, 2 << 20);
    assert_string_equal(li[0].backing_name, "mid.qcow2");
    assert_int_equal(li[0].backing_format, BLOCK_FORMAT_QCOW2);
    assert_int_equal(li[0].backing_status, 0);
    assert_int_equal(li[1].virtual_size, 512);
    assert_int_equal(li[2].format, BLOCK_FORMAT_RAW);
    assert_int_equal(li[2].virtual_size, 512);

    /* A refused name is described, never opened. */
    snprintf(path, sizeof(path), "%s/secret.img", outside);
    write_file(path, secret, sizeof(secret));
    set_backing(mid, path);
    assert_int_equal(block_info_chain(img, BLOCK_FORMAT_AUTO, li, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(li[1].backing_status, -EPERM);
    assert_string_equal(li[1].backing_path, path);
    assert_non_null(strstr(li[1].backing_why, "outside"));
    free(li);
}

static void test_qcow2_truncated_under_vm(void **state)
{
    (void)state;
    /* Data in clusters past the tables, then the file cut to its tables. */
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 4 << 20, NULL, NULL), 0);
    struct block_backend *b = NULL;
    struct block_open_options rw = { .read_only = false };
    assert_int_equal(try_open(img, &rw, NULL, &b), 0);
    uint8_t data[4096], buf[4096];
    memset(data, 0x5a, sizeof(data));
    assert_int_equal(wr(b, data, sizeof(data), 0), 0);
    assert_int_equal(wr(b, data, sizeof(data), 2 << 20), 0);
    assert_int_equal(block_flush(b), 0);
    assert_int_equal(rd(b, buf, sizeof(buf), 0), 0);
    assert_memory_equal(buf, data, sizeof(buf));

    /* Another program truncates the image: header, refcount table and
     * block, L1 table remain; the L2 table and the data are gone. */
    assert_int_equal(truncate(img, (off_t)(4 * CS)), 0);
    assert_int_equal(rd(b, buf, sizeof(buf), 0), -EIO);
    assert_int_equal(wr(b, data, sizeof(data), 1 << 20), -EIO);
    assert_int_equal(block_flush(b), -EIO);
    block_close(b);

    /* Cut inside a data cluster with the tables intact: read errors too. */
    assert_int_equal(unlink(img), 0);
    assert_int_equal(block_create(img, BLOCK_FORMAT_QCOW2, 4 << 20, NULL, NULL), 0);
    assert_int_equal(try_open(img, &rw, NULL, &b), 0);
    assert_int_equal(wr(b, data, sizeof(data), 0), 0);      /* L2 at 4 CS, data at 5 CS */
    assert_int_equal(wr(b, data, sizeof(data), CS), 0);     /* data at 6 CS */
    assert_int_equal(block_flush(b), 0);
    assert_int_equal(truncate(img, (off_t)(6 * CS + 512)), 0);
    assert_int_equal(rd(b, buf, sizeof(buf), 0), 0);        /* still whole */
    assert_int_equal(rd(b, buf, sizeof(buf), CS), -EIO);    /* cut short */
    block_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backing_rule_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backing_rule_allows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backing_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_follows_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_never_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_image_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backing_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qcow2_truncated_under_vm, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
