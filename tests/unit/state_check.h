/* A device's save/load against hostile streams, the same way for every
 * device: for a saved stream, every truncation and every single-byte
 * corruption either fails to load and leaves the device exactly as it was
 * (its next save is byte-identical), or loads; and save -> load -> save is
 * byte-identical. Include after cmocka.h. */
#ifndef CONDO_TEST_STATE_CHECK_H
#define CONDO_TEST_STATE_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "condo/state.h"

typedef void (*state_save_fn)(void *dev, struct state_buf *s);
typedef int (*state_load_fn)(void *dev, struct state_buf *s);

static void state_check_saved_equals(void *dev, state_save_fn save, const struct state_buf *want)
{
    struct state_buf now;
    state_init_writer(&now);
    save(dev, &now);
    assert_int_equal(now.err, 0);
    assert_int_equal(now.len, want->len);
    assert_memory_equal(now.data, want->data, want->len);
    state_free(&now);
}

/* Returns how many corrupted streams were refused (so a caller can check
 * the loader actually validates something). */
static unsigned state_check_device(void *dev, state_save_fn save, state_load_fn load)
{
    struct state_buf orig;
    state_init_writer(&orig);
    save(dev, &orig);
    assert_int_equal(orig.err, 0);
    assert_true(orig.len > 0);

    /* round trip: load what was saved, save again: the same bytes */
    struct state_buf rd;
    state_init_reader(&rd, orig.data, orig.len);
    assert_int_equal(load(dev, &rd), 0);
    state_check_saved_equals(dev, save, &orig);

    /* every truncation fails and changes nothing */
    for (size_t cut = 0; cut < orig.len; cut++) {
        state_init_reader(&rd, orig.data, cut);
        assert_true(load(dev, &rd) < 0);
        state_check_saved_equals(dev, save, &orig);
    }

    /* every corrupted byte: refused and unchanged, or accepted (then the
     * original is put back for the next round) */
    unsigned refused = 0;
    uint8_t *bad = malloc(orig.len);
    assert_non_null(bad);
    for (size_t i = 0; i < orig.len; i++) {
        memcpy(bad, orig.data, orig.len);
        bad[i] ^= 0xa5;
        state_init_reader(&rd, bad, orig.len);
        if (load(dev, &rd) < 0) {
            refused++;
            state_check_saved_equals(dev, save, &orig);
        } else {
            state_init_reader(&rd, orig.data, orig.len);
            assert_int_equal(load(dev, &rd), 0);
        }
    }
    free(bad);
    state_check_saved_equals(dev, save, &orig);
    state_free(&orig);
    return refused;
}

#endif
