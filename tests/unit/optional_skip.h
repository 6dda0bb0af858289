/* A skip that `make check` accepts. Include after <cmocka.h>.
 *
 * tests/unit/run.sh counts every cmocka skip as a failure unless the test
 * announced it this way: a test may only be skipped for a stated reason
 * that is no fault of condo and no missing package (scripts/install-deps.sh
 * installs every tool the tests use), e.g. "tap devices need root". */
#ifndef CONDO_TEST_OPTIONAL_SKIP_H
#define CONDO_TEST_OPTIONAL_SKIP_H

#define optional_skip(reason)                               \
    do {                                                    \
        print_message("OPTIONAL SKIP: %s\n", (reason));     \
        skip();                                             \
    } while (0)

#endif
