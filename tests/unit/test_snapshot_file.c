/* The snapshot file's RAM encodings against a fake machine (4 MiB of RAM,
 * a one-field machine state): mapped RAM (format 2) is written sparse (zero
 * and untouched pages are holes) and restored as a copy-on-write mapping of
 * the file (nothing copied; writes stay private); a snapshot of RAM that
 * is itself mapped from a file keeps the pages never touched since (they
 * hold the file's bytes, not zero); the compressed encoding round-trips;
 * a save from a forked child sees RAM as it was at the fork while the
 * parent writes on; a truncated file and a corrupted machine section are
 * refused with the file's name; a restore changes nothing when the file is
 * refused; a page the balloon discards from RAM mapped from a file reads
 * as zero afterwards (not as the file's page), in the VM and in the next
 * snapshot; an idle VM's zero-page scan gives back exactly the resident
 * pages that hold only zeros, anonymous or mapped from a file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "condo/guest_ram.h"
#include "condo/snapshot.h"
#include "fake_machine.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4ull << 20)
#define PAGE 4096u

static char dir[64];


static const char *in_dir(const char *name)
{
    static char p[4][128];
    static unsigned i;
    char *s = p[i++ % 4];
    snprintf(s, 128, "%s/%s", dir, name);
    return s;
}

static void fill(uint64_t page, uint8_t seed)
{
    uint8_t *p = fake_machine_ram.host + page * PAGE;
    for (unsigned i = 0; i < PAGE; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

static bool page_is(uint64_t page, uint8_t seed)
{
    const uint8_t *p = fake_machine_ram.host + page * PAGE;
    for (unsigned i = 0; i < PAGE; i++)
        if (p[i] != (uint8_t)(seed + i * 7))
            return false;
    return true;
}

static bool page_zero(uint64_t page)
{
    const uint8_t *p = fake_machine_ram.host + page * PAGE;
    for (unsigned i = 0; i < PAGE; i++)
        if (p[i])
            return false;
    return true;
}

static void fresh_ram(void)
{
    guest_ram_free(&fake_machine_ram);
    assert_int_equal(guest_ram_init(&fake_machine_ram, RAM_BASE, RAM_SIZE), 0);
}

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof(dir), "/tmp/condo-test-snap-%ld", (long)getpid());
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(guest_ram_init(&fake_machine_ram, RAM_BASE, RAM_SIZE), 0);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    guest_ram_free(&fake_machine_ram);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void save(const char *path, enum snapshot_ram_mode mode, struct snapshot_stats *st)
{
    struct error err = ERROR_INIT;
    struct snapshot_capture *c;
    assert_int_equal(snapshot_capture(&fake, "{\"name\":\"t\"}", &c, &err), 0);
    int r = snapshot_write(c, path, NULL, mode, st, &err);
    if (r)
        fail_msg("%s", err.msg);
    snapshot_capture_free(c);
}

static void restore_ok(const char *path)
{
    struct error err = ERROR_INIT;
    int r = snapshot_restore(path, &fake, &err);
    if (r)
        fail_msg("%s", err.msg);
}

static void test_mapped_roundtrip(void **st)
{
    (void)st;
    fresh_ram();
    fill(0, 1);
    fill(5, 2);
    fill(1023, 3);
    fake_machine_state = 0x1234;
    const char *path = in_dir("mapped.snap");
    struct snapshot_stats s;
    save(path, SNAPSHOT_RAM_MAPPED, &s);
    assert_int_equal(s.ram_pages, 3);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, s.file_bytes);
    assert_true((uint64_t)sb.st_size >= RAM_SIZE);
    /* holes: far less on disk than RAM's size */
    assert_true((uint64_t)sb.st_blocks * 512 < RAM_SIZE / 4);

    fresh_ram();
    fill(7, 9); /* restore replaces this */
    fake_machine_state = 0;
    restore_ok(path);
    assert_int_equal(fake_machine_state, 0x1234);
    assert_true(guest_ram_backed(&fake_machine_ram)); /* mapped, not copied */
    assert_true(page_is(0, 1) && page_is(5, 2) && page_is(1023, 3));
    assert_true(page_zero(7) && page_zero(6));

    /* writes are private: the file keeps its bytes */
    fill(5, 77);
    fresh_ram();
    restore_ok(path);
    assert_true(page_is(5, 2));
}

static void test_snapshot_of_mapped_ram(void **st)
{
    (void)st;
    fresh_ram();
    fill(2, 4);
    fill(300, 5);
    const char *first = in_dir("first.snap"), *second = in_dir("second.snap");
    save(first, SNAPSHOT_RAM_MAPPED, NULL);
    fresh_ram();
    restore_ok(first);
    /* page 2 is never touched again: it lives only in the first file */
    fill(301, 6);
    struct snapshot_stats s;
    save(second, SNAPSHOT_RAM_MAPPED, &s);
    assert_int_equal(s.ram_pages, 3);
    /* the first file may go: the second stands alone */
    assert_int_equal(unlink(first), 0);
    fresh_ram();
    restore_ok(second);
    assert_true(page_is(2, 4) && page_is(300, 5) && page_is(301, 6));
    assert_true(page_zero(3));
}

static void test_compressed_roundtrip(void **st)
{
    (void)st;
    fresh_ram();
    fill(10, 8);
    fill(11, 9);
    fake_machine_state = 77;
    const char *path = in_dir("z.snap");
    struct snapshot_stats s;
    save(path, SNAPSHOT_RAM_COMPRESSED, &s);
    assert_int_equal(s.ram_pages, 2);
    assert_true(s.file_bytes < 64 * 1024);
    fresh_ram();
    fill(12, 1);
    fake_machine_state = 0;
    restore_ok(path);
    assert_int_equal(fake_machine_state, 77);
    assert_false(guest_ram_backed(&fake_machine_ram));
    assert_true(page_is(10, 8) && page_is(11, 9) && page_zero(12));
}

/* The VMM's save path in miniature: capture, fork, the child writes while
 * the parent scribbles over RAM. */
static void test_forked_writer_sees_frozen_ram(void **st)
{
    (void)st;
    fresh_ram();
    for (uint64_t p = 0; p < 64; p++)
        fill(p, (uint8_t)p);
    fake_machine_state = 5;
    struct error err = ERROR_INIT;
    struct snapshot_capture *c;
    assert_int_equal(snapshot_capture(&fake, "{}", &c, &err), 0);
    const char *path = in_dir("fork.snap");
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char b;
        close(gate[1]);
        if (read(gate[0], &b, 1) != 1) /* the parent has scribbled */
            _exit(3);
        _exit(snapshot_write(c, path, NULL, SNAPSHOT_RAM_MAPPED, NULL, &err) == 0 ? 0 : 1);
    }
    close(gate[0]);
    snapshot_capture_free(c);
    for (uint64_t p = 0; p < 64; p++)
        fill(p, 0xee);
    assert_int_equal(write(gate[1], "x", 1), 1);
    close(gate[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fresh_ram();
    restore_ok(path);
    for (uint64_t p = 0; p < 64; p++)
        assert_true(page_is(p, (uint8_t)p));
}

static void test_refused(void **st)
{
    (void)st;
    fresh_ram();
    fill(0, 3);
    fake_machine_state = 9;
    const char *path = in_dir("ok.snap"), *bad = in_dir("bad.snap");
    save(path, SNAPSHOT_RAM_MAPPED, NULL);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t data[RAM_SIZE + 64 * 1024];
    size_t n = fread(data, 1, sizeof(data), f);
    fclose(f);
    assert_true(n > RAM_SIZE);

    /* cut short: the RAM area lies beyond the end */
    f = fopen(bad, "wb");
    assert_int_equal(fwrite(data, 1, n - PAGE, f), n - PAGE);
    fclose(f);
    fresh_ram();
    fill(1, 1);
    fake_machine_state = 1;
    struct error err = ERROR_INIT;
    assert_int_equal(snapshot_restore(bad, &fake, &err), -EINVAL);
    assert_non_null(strstr(err.msg, bad));
    assert_non_null(strstr(err.msg, "truncated"));
    /* nothing changed */
    assert_int_equal(fake_machine_state, 1);
    assert_true(page_is(1, 1));
    assert_false(guest_ram_backed(&fake_machine_ram));

    /* a flipped byte in the machine section (the second in the table) */
    uint64_t moff = 0;
    for (unsigned i = 0; i < 8; i++)
        if (!strcmp((char *)data + 64 + 48 * i, "machine"))
            moff = le64_load(data + 64 + 48 * i + 24);
    assert_true(moff >= PAGE);
    data[moff + 2] ^= 0x40;
    f = fopen(bad, "wb");
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    err = (struct error)ERROR_INIT;
    assert_int_equal(snapshot_restore(bad, &fake, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "machine"));
    assert_int_equal(fake_machine_state, 1);
    assert_false(guest_ram_backed(&fake_machine_ram));
}

/* The balloon gives back pages of a restored VM: they must read as zero
 * afterwards, not as the snapshot file's bytes (MADV_DONTNEED on a private
 * file mapping would bring those back), the pages around them keep the
 * file's bytes, and a snapshot taken afterwards agrees. */
static void test_discard_mapped_ram(void **st)
{
    (void)st;
    fresh_ram();
    for (uint64_t p = 0; p < 16; p++)
        fill(p, (uint8_t)(p + 1));
    fill(900, 42);
    const char *path = in_dir("discard.snap"), *after = in_dir("after.snap");
    save(path, SNAPSHOT_RAM_MAPPED, NULL);
    fresh_ram();
    restore_ok(path);
    assert_true(guest_ram_backed(&fake_machine_ram));
    fill(3, 0x55); /* one page written since the restore (private copy) */

    /* pages 2..5 (one written, three untouched) and page 900; ragged ends
     * round inwards to whole pages */
    assert_int_equal(guest_ram_discard(&fake_machine_ram, RAM_BASE + 2 * PAGE - 100, 4 * PAGE + 200),
                     4 * PAGE);
    assert_int_equal(guest_ram_discard(&fake_machine_ram, RAM_BASE + 900 * PAGE, PAGE), PAGE);
    for (uint64_t p = 2; p < 6; p++)
        assert_true(page_zero(p));
    assert_true(page_zero(900));
    assert_true(page_is(1, 2) && page_is(6, 7) && page_is(15, 16));
    /* a discarded page is RAM again: written and read back */
    fill(4, 0x66);
    assert_true(page_is(4, 0x66));
    /* outside RAM is refused */
    assert_int_equal(guest_ram_discard(&fake_machine_ram, RAM_BASE + RAM_SIZE - PAGE, 2 * PAGE), -EFAULT);

    save(after, SNAPSHOT_RAM_MAPPED, NULL);
    fresh_ram();
    restore_ok(after);
    assert_true(page_zero(2) && page_zero(3) && page_zero(5) && page_zero(900));
    assert_true(page_is(4, 0x66) && page_is(1, 2) && page_is(6, 7));
}

static uint64_t resident_pages(void)
{
    unsigned char vec[RAM_SIZE / PAGE];
    assert_int_equal(mincore(fake_machine_ram.host, RAM_SIZE, vec), 0);
    uint64_t n = 0;
    for (unsigned i = 0; i < RAM_SIZE / PAGE; i++)
        n += vec[i] & 1;
    return n;
}

static void test_discard_zero(void **st)
{
    (void)st;
    guest_ram_free(&fake_machine_ram);
    assert_int_equal(guest_ram_init(&fake_machine_ram, RAM_BASE, RAM_SIZE), 0);
    guest_ram_small_pages(&fake_machine_ram); /* whole 4 KiB pages, no THP */
    for (uint64_t p = 0; p < 32; p++)
        fill(p, (uint8_t)(p + 1));
    /* touched, then zeroed again: pages 8..15 whole, page 20 all but its
     * last byte */
    memset(fake_machine_ram.host + 8 * PAGE, 0, 8 * PAGE);
    memset(fake_machine_ram.host + 20 * PAGE, 0, PAGE - 1);
    assert_int_equal(resident_pages(), 32);
    assert_int_equal(guest_ram_discard_zero(&fake_machine_ram), 8 * PAGE);
    assert_int_equal(resident_pages(), 24);
    assert_int_equal(guest_ram_discard_zero(&fake_machine_ram), 0); /* nothing left */
    for (uint64_t p = 8; p < 16; p++)
        assert_true(page_zero(p));
    assert_true(page_is(7, 8) && page_is(16, 17) && page_is(31, 32));
    assert_int_equal(fake_machine_ram.host[21 * PAGE - 1], (uint8_t)(21 + (PAGE - 1) * 7));

    /* RAM mapped from a snapshot: a page zeroed since reads zero after the
     * scan, and the file's pages around it stay */
    const char *path = in_dir("zero.snap");
    save(path, SNAPSHOT_RAM_MAPPED, NULL);
    fresh_ram();
    restore_ok(path);
    memset(fake_machine_ram.host + 3 * PAGE, 0, PAGE);
    assert_true(guest_ram_discard_zero(&fake_machine_ram) >= PAGE);
    assert_true(page_zero(3) && page_is(2, 3) && page_is(4, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapped_roundtrip),
        cmocka_unit_test(test_snapshot_of_mapped_ram),
        cmocka_unit_test(test_compressed_roundtrip),
        cmocka_unit_test(test_forked_writer_sees_frozen_ram),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_discard_mapped_ram),
        cmocka_unit_test(test_discard_zero),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
