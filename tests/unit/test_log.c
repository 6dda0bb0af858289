/* Per-device log limits (include/condo/log.h), with an injected clock:
 * a burst of LOG_LIMIT_BURST lines, then silence counted and summarised
 * in one line before the next line that gets through; refills at one line
 * per LOG_LIMIT_REFILL_NS; two devices never share a budget; -v decides
 * whether guest errors print at all, -vv lifts the limit. And end to end:
 * a virtio-blk device whose disk fails every request, hammered with
 * thousands of requests, prints a bounded number of lines. */
#include <errno.h>
#include <pthread.h>
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
#include "condo/log.h"
#include "condo/virtio_blk.h"
#include "virtio_test_driver.h"

static uint64_t now_ns;
static uint64_t fake_clock(void *opaque)
{
    (void)opaque;
    return now_ns;
}

/* stderr goes to a temporary file while a test runs. */
static FILE *cap;
static int saved_fd = -1;

static void capture_start(void)
{
    fflush(stderr);
    cap = tmpfile();
    assert_non_null(cap);
    saved_fd = dup(2);
    assert_true(saved_fd >= 0);
    assert_true(dup2(fileno(cap), 2) >= 0);
}

/* Stops capturing; returns what was written (static buffer). */
static const char *capture_end(void)
{
    static char buf[1 << 16];
    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    size_t n = 0;
    rewind(cap);
    n = fread(buf, 1, sizeof(buf) - 1, cap);
    buf[n] = 0;
    fclose(cap);
    return buf;
}

static unsigned count(const char *s, const char *what)
{
    unsigned n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static int setup(void **state)
{
    (void)state;
    now_ns = 1000000000ull;
    condo_verbosity = 1;
    return 0;
}

static void test_burst_then_summary(void **state)
{
    (void)state;
    struct log_limit l;
    log_limit_init(&l, "dev0");
    log_limit_set_clock(&l, fake_clock, NULL);
    capture_start();
    for (int i = 0; i < 1000; i++)
        log_guest(&l, "bad register %d", i);
    const char *out = capture_end();
    assert_int_equal(count(out, "\n"), LOG_LIMIT_BURST);
    assert_int_equal(count(out, "dev0: guest error: bad register"), LOG_LIMIT_BURST);
    assert_int_equal(l.suppressed, 1000 - LOG_LIMIT_BURST);

    /* Time passes: one more line, preceded by the count of those lost. */
    now_ns += LOG_LIMIT_REFILL_NS;
    capture_start();
    log_host(&l, "read failed");
    log_host(&l, "read failed again");
    out = capture_end();
    assert_non_null(strstr(out, "dev0: 990 more messages suppressed"));
    assert_non_null(strstr(out, "dev0: read failed\n"));
    assert_null(strstr(out, "again"));
    assert_int_equal(count(out, "\n"), 2);

    /* A long quiet spell refills the whole burst, no more. */
    now_ns += 1000 * LOG_LIMIT_REFILL_NS;
    capture_start();
    for (int i = 0; i < 100; i++)
        log_host(&l, "x");
    log_limit_finish(&l);
    out = capture_end();
    assert_int_equal(count(out, "dev0: x\n"), LOG_LIMIT_BURST);
    assert_non_null(strstr(out, "dev0: 1 more messages suppressed")); /* "again" */
    assert_non_null(strstr(out, "dev0: 90 more messages suppressed"));
}

static void test_devices_independent(void **state)
{
    (void)state;
    struct log_limit a, b;
    log_limit_init(&a, "virtio-blk vda");
    log_limit_init(&b, "virtio-blk vdb");
    log_limit_set_clock(&a, fake_clock, NULL);
    log_limit_set_clock(&b, fake_clock, NULL);
    capture_start();
    for (int i = 0; i < 500; i++)
        log_host(&a, "noisy");
    log_host(&b, "first error of vdb");
    const char *out = capture_end();
    assert_non_null(strstr(out, "virtio-blk vdb: first error of vdb"));
    assert_int_equal(count(out, "vda: noisy"), LOG_LIMIT_BURST);
}

static void test_verbosity(void **state)
{
    (void)state;
    struct log_limit l;
    log_limit_init(&l, "plic");
    log_limit_set_clock(&l, fake_clock, NULL);
    /* Without -v, guest errors are not shown and use no budget. */
    condo_verbosity = 0;
    capture_start();
    for (int i = 0; i < 50; i++)
        log_guest(&l, "hidden");
    log_host(&l, "shown");
    const char *out = capture_end();
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, "plic: shown"));
    assert_int_equal(l.suppressed, 0);
    /* -vv: everything. */
    condo_verbosity = 2;
    capture_start();
    for (int i = 0; i < 50; i++)
        log_guest(&l, "all");
    out = capture_end();
    assert_int_equal(count(out, "plic: guest error: all"), 50);
    condo_verbosity = 1;
}

/* --- several threads at once (one per hart in an SMP guest) ------------- */

#define RACE_THREADS 4
#define RACE_SITES 48 /* under the table's 64 */
static const char race_sites[RACE_SITES][8];
static struct log_limit race_limit;

static void *race_thread(void *arg)
{
    (void)arg;
    for (int round = 0; round < 200; round++)
        for (int i = 0; i < RACE_SITES; i++) {
            condo_guest_error_at(race_sites[i], "site %d", i);
            log_host(&race_limit, "shared");
        }
    return NULL;
}

/* Every site is reported exactly once and the shared bucket lets exactly
 * its burst through, whichever thread gets there first. Under the
 * sanitizer build (and TSan by hand) this is the data-race check. */
static void test_threads(void **state)
{
    (void)state;
    log_limit_init(&race_limit, "shared");
    log_limit_set_clock(&race_limit, fake_clock, NULL);
    capture_start();
    pthread_t t[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race_thread, NULL), 0);
    for (int i = 0; i < RACE_THREADS; i++)
        pthread_join(t[i], NULL);
    const char *out = capture_end();
    assert_int_equal(count(out, "guest error in "), RACE_SITES);
    assert_int_equal(count(out, "shared: shared"), LOG_LIMIT_BURST);
    assert_int_equal(race_limit.suppressed, RACE_THREADS * 200 * RACE_SITES - LOG_LIMIT_BURST);
}

/* --- end to end: a failing disk under a request storm ------------------- */

static int fail_rw(struct block_backend *b, const struct iovec *iov, int n, uint64_t off)
{
    (void)b;
    (void)iov;
    (void)n;
    (void)off;
    return -EIO;
}

static int fail_flush(struct block_backend *b)
{
    (void)b;
    return -EIO;
}

static const struct block_ops fail_ops = { "failing", fail_rw, fail_rw, fail_flush, NULL, NULL };

static void test_failing_disk_storm(void **state)
{
    (void)state;
    struct tdrv d;
    tdrv_init_ram(&d);
    struct block_backend disk = { .ops = &fail_ops, .size = 1 << 20, .path = "bad.img" };
    struct virtio_blk *blk = calloc(1, sizeof(*blk));
    assert_non_null(blk);
    assert_int_equal(virtio_blk_init(blk, &disk, NULL, &d.ram, tdrv_irq_line(&d)), 0);
    log_limit_set_clock(&blk->mmio.log, fake_clock, NULL);
    d.t = &blk->mmio;
    tdrv_probe(&d, ~0ull, 1, 64);
    uint64_t hdr = galloc(&d, 16), data = galloc(&d, 512), st = galloc(&d, 1);
    capture_start();
    unsigned ioerr = 0;
    for (int i = 0; i < 3000; i++) {
        uint32_t type = i % 3 == 0 ? VIRTIO_BLK_T_OUT : i % 3 == 1 ? VIRTIO_BLK_T_IN
                                                                   : VIRTIO_BLK_T_FLUSH;
        gw32(&d, hdr, type);
        gw64(&d, hdr + 8, (uint64_t)(i % 100));
        *gp(&d, st, 1) = 0xee;
        struct tbuf b[3] = { { hdr, 16, false }, { data, 512, type == VIRTIO_BLK_T_IN },
                             { st, 1, true } };
        if (type == VIRTIO_BLK_T_FLUSH)
            b[1] = b[2];
        add_chain(&d, 0, b, type == VIRTIO_BLK_T_FLUSH ? 2 : 3);
        notify(&d, 0);
        virtio_blk_quiesce(blk); /* completed on the I/O thread in a VM */
        uint32_t id, len;
        assert_true(used_next(&d, 0, &id, &len));
        ioerr += *gp(&d, st, 1) == VIRTIO_BLK_S_IOERR;
    }
    const char *out = capture_end();
    assert_int_equal(ioerr, 3000);
    assert_int_equal(count(out, "\n"), LOG_LIMIT_BURST);
    assert_non_null(strstr(out, "virtio-blk bad.img: write of bad.img failed"));
    virtio_blk_destroy(blk);
    free(blk);
    tram_free(&d.ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_burst_then_summary, setup),
        cmocka_unit_test_setup(test_devices_independent, setup),
        cmocka_unit_test_setup(test_verbosity, setup),
        cmocka_unit_test_setup(test_failing_disk_storm, setup),
        cmocka_unit_test_setup(test_threads, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
