/* Guest image loaders against hostile files: a kernel Image cut short (its
 * PE/COFF section table, the EFI stub's, promises bytes the file lacks), an
 * Image header whose footprint is smaller than the file, FIFOs and
 * directories named as kernels (refused at once, never read from), and the
 * messages saying which file and what is wrong. Images are synthetic, laid
 * out as Debian's riscv64 kernel is (MZ, RISC-V header, PE at 0x40). */
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

#include "condo/loader.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (64ull << 20)
#define KADDR (RAM_BASE + 0x200000)
#define IMAGE_SIZE (256 * 1024) /* the synthetic kernel's file size */

static char dir[64], path[128];
static struct guest_ram ram;

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_loader: an open blocked (alarm after 10 s)\n";
    if (write(2, msg, sizeof(msg) - 1) < 0) {
    }
    _exit(1);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/condo-loader-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/Image", dir);
    assert_int_equal(guest_ram_init(&ram, RAM_BASE, RAM_SIZE), 0);
    signal(SIGALRM, on_alarm);
    alarm(10);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    guest_ram_free(&ram);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* A kernel Image with an EFI stub: two sections, .text and .data, whose
 * raw data fills the file to IMAGE_SIZE; the header's footprint is
 * footprint bytes. */
static uint8_t *make_image(uint64_t footprint)
{
    uint8_t *d = calloc(1, IMAGE_SIZE);
    assert_non_null(d);
    d[0] = 'M';
    d[1] = 'Z';
    le64_store(d + 16, footprint);
    le32_store(d + 32, 2); /* version 0.2 */
    memcpy(d + 48, "RISCV\0\0\0", 8);
    memcpy(d + 56, "RSC\x05", 4);
    le32_store(d + 60, 0x40); /* PE header */
    uint8_t *pe = d + 0x40;
    memcpy(pe, "PE\0\0", 4);
    le16_store(pe + 4, 0x5064); /* RISC-V 64 */
    le16_store(pe + 6, 2);      /* sections */
    le16_store(pe + 20, 160);   /* optional header size */
    uint8_t *sh = pe + 24 + 160;
    memcpy(sh, ".text\0\0\0", 8);
    le32_store(sh + 16, 0x10000);             /* SizeOfRawData */
    le32_store(sh + 20, 0x1000);              /* PointerToRawData */
    memcpy(sh + 40, ".data\0\0\0", 8);
    le32_store(sh + 40 + 16, IMAGE_SIZE - 0x11000);
    le32_store(sh + 40 + 20, 0x11000);
    for (size_t i = 0x1000; i < IMAGE_SIZE; i++)
        d[i] = (uint8_t)(i * 7);
    return d;
}

static void write_file(const uint8_t *d, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, d, len), (ssize_t)len);
    close(fd);
}

static int load(char *msg)
{
    struct error err = ERROR_INIT;
    struct linux_image_info ki;
    int r = loader_load_linux_image(&ram, path, KADDR, &ki, &err);
    snprintf(msg, ERROR_MSG_MAX, "%s", err.msg);
    if (r < 0)
        assert_int_equal(err.code, r);
    return r;
}

static void test_whole_image_loads(void **state)
{
    (void)state;
    char msg[ERROR_MSG_MAX];
    uint8_t *d = make_image(IMAGE_SIZE + 4096);
    write_file(d, IMAGE_SIZE);
    assert_int_equal(load(msg), 0);
    assert_memory_equal(guest_ram_ptr(&ram, KADDR, IMAGE_SIZE), d, IMAGE_SIZE);
    free(d);
}

static void test_truncated_image(void **state)
{
    (void)state;
    char msg[ERROR_MSG_MAX];
    uint8_t *d = make_image(IMAGE_SIZE + 4096);
    /* The first kilobyte (the case), a cut inside .text and one
     * byte short of the end. */
    static const size_t cuts[] = { 1024, 0x8000, IMAGE_SIZE - 1 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        write_file(d, cuts[i]);
        assert_int_equal(load(msg), -EINVAL);
        assert_non_null(strstr(msg, "truncated"));
        assert_non_null(strstr(msg, path));
    }
    /* Cut inside the PE header itself. */
    write_file(d, 0x50);
    assert_int_equal(load(msg), -EINVAL);
    assert_non_null(strstr(msg, path));
    free(d);
}

static void test_footprint_smaller_than_file(void **state)
{
    (void)state;
    char msg[ERROR_MSG_MAX];
    uint8_t *d = make_image(4096);
    write_file(d, IMAGE_SIZE);
    assert_int_equal(load(msg), -EINVAL);
    assert_non_null(strstr(msg, "damaged"));
    free(d);
}

static void test_not_regular_files(void **state)
{
    (void)state;
    char msg[ERROR_MSG_MAX];
    /* A FIFO: refused at once (alarm(10) turns a hang into a failure). */
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_true(load(msg) < 0);
    assert_non_null(strstr(msg, "FIFO"));
    struct error err = ERROR_INIT;
    assert_true(loader_check_elf(path, &err) < 0);
    assert_non_null(strstr(err.msg, "FIFO"));
    uint8_t *data;
    size_t len;
    error_clear(&err);
    assert_true(loader_read_file(path, &data, &len, &err) < 0);
    unlink(path);
    /* A directory. */
    error_clear(&err);
    assert_int_equal(loader_read_file(dir, &data, &len, &err), -EISDIR);
    assert_non_null(strstr(err.msg, "directory"));
    /* A character device. */
    error_clear(&err);
    assert_int_equal(loader_read_file("/dev/zero", &data, &len, &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whole_image_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_footprint_smaller_than_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_regular_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
