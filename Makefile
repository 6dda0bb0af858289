# condo: plain GNU Makefile with -MMD dependencies.
#   make            build build/condo
#   make check      unit tests, ISA tests and guest tests (see tests/)
#   make SANITIZE=1 build into build-asan with ASan+UBSan (CI runs unit tests so)
CC ?= cc
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT ?= -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPT ?= -O2 -g
endif

# libslirp (--net user). Debian's slirp.pc requires glib-2.0's .pc, which
# libslirp-dev does not pull in: fall back to the plain flags without it.
SLIRP_CFLAGS := $(shell pkg-config --cflags slirp 2>/dev/null || echo -I/usr/include/slirp)
SLIRP_LIBS := $(shell pkg-config --libs slirp 2>/dev/null || echo -lslirp)

CFLAGS := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
          $(OPT) $(SANFLAGS) -Iinclude -Isrc $(SLIRP_CFLAGS) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS)
# libmicrohttpd and jansson: the control API (src/vmm/api/); libcurl: the CLI
# talks to each VM process over it.
LDLIBS := -lfdt $(SLIRP_LIBS) -lmicrohttpd -ljansson -lcurl -lseccomp -lm -lpthread

LIB_SRCS := $(filter-out src/cli/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/cli/main.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

all: $(BUILD)/condo

$(BUILD)/condo: $(MAIN_OBJ) $(BUILD)/libcondo.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libcondo.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libcondo.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

unit: $(UNIT_BINS)

# Drives the block layer from scripts (tests/guest/test_qcow2_interop.sh).
BLOCKTOOL := $(BUILD)/tests/blocktool
$(BLOCKTOOL): $(BUILD)/tests/tools/blocktool.o $(BUILD)/libcondo.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The control API in front of a fake VMM, driven with curl by tests/api/.
API_FAKE := $(BUILD)/tests/api_fake
$(API_FAKE): $(BUILD)/tests/tools/api_fake.o $(BUILD)/libcondo.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

check-api: $(API_FAKE)
	tests/api/test_api.sh $(abspath $(API_FAKE))

# Static checks of the source tree (the layering rule, ...).
check-lint:
	tests/lint/check_layers.py

check-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# FPU reference vectors for tests/unit/test_fpu.c (which reads them from its
# own directory): tests/fpu-ref/gen.c, built for riscv64 and run under
# qemu-riscv64, records QEMU's results for every F/D instruction. Needs
# gcc-riscv64-linux-gnu and qemu-user (scripts/install-deps.sh); ~40 MB.
FPU_VECTORS := $(BUILD)/tests/unit/fpu_vectors.txt
$(FPU_VECTORS): tests/fpu-ref/gen.c tests/fpu-ref/make-vectors.sh
	tests/fpu-ref/make-vectors.sh $@
unit check-unit: $(FPU_VECTORS)

check-isa: $(BUILD)/condo
	$(MAKE) -C tests/isa CONDO=$(abspath $(BUILD)/condo) check
	$(MAKE) -C tests/isa CONDO=$(abspath $(BUILD)/condo) check-virtio

check-guest: $(BUILD)/condo $(BLOCKTOOL)
	tests/guest/run-all.sh $(abspath $(BUILD)/condo)

# The unit tests again, built with ASan+UBSan into build-asan/.
check-unit-asan:
	$(MAKE) SANITIZE=1 check-unit

# Hostile guests and files against the ASan/UBSan build (build-asan/condo),
# where any undefined behaviour or bad access they reach aborts the run:
# every register of every device stormed (tests/isa/mmio_storm.c), hostile
# disk images, kernels, FIFOs and --disk values with their exit statuses,
# and a guest reading the attack image and a disk truncated under it
# (tests/guest/test_hostile_files.py), and the
# command-line exit statuses (tests/guest/test_cli.sh). The default guest
# is build/guest unless CONDO_GUEST_DIR says otherwise.
ASAN_CONDO := $(abspath build-asan/condo)
check-hostile:
	$(MAKE) SANITIZE=1 build-asan/condo
	$(MAKE) -C tests/isa CONDO=$(ASAN_CONDO) check-storm
	CONDO_GUEST_DIR=$${CONDO_GUEST_DIR:-$(abspath build/guest)} \
	    tests/guest/test_hostile_files.py $(ASAN_CONDO)
	CONDO_GUEST_DIR=$${CONDO_GUEST_DIR:-$(abspath build/guest)} \
	    tests/guest/test_cli.sh $(ASAN_CONDO)

check: check-lint check-unit check-unit-asan fuzz fuzz-api check-api check-isa check-hostile check-guest

# libFuzzer (clang, ASan+UBSan) on the virtqueue walker and the virtio-blk
# and virtio-rng request handling, for FUZZ_SECONDS, then on disk images,
# kernel and ELF loading and option parsing (tests/fuzz/run-hostile.sh,
# FUZZ_HOSTILE_SECONDS each); non-zero on a crash (the input is kept in
# build/fuzz/artifacts/). See tests/fuzz/run.sh.
FUZZ_SECONDS ?= 60
FUZZ_HOSTILE_SECONDS ?= 20
fuzz:
	FUZZ_HOSTILE_SECONDS=$(FUZZ_HOSTILE_SECONDS) tests/fuzz/run.sh $(FUZZ_SECONDS)

# libFuzzer (clang, ASan+UBSan) on the control API's request handling:
# routes, body checks, replies (tests/fuzz/fuzz_api.c); a crash's input is
# kept in build/fuzz/artifacts/api-*.
FUZZ_API_SECONDS ?= 20
FUZZ_API_SRCS := tests/fuzz/fuzz_api.c src/core/error.c src/core/log.c \
    $(addprefix src/vmm/api/,api_route.c api_schema.c api_body.c api_reply.c api_handle.c api_proc.c)
build/fuzz/fuzz_api: $(FUZZ_API_SRCS) $(wildcard include/condo/*.h src/vmm/api/*.h)
	@mkdir -p build/fuzz
	$${CLANG:-clang} -std=c17 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	    -Iinclude -Isrc -o $@ $(FUZZ_API_SRCS) -ljansson
fuzz-api: build/fuzz/fuzz_api
	@mkdir -p build/fuzz/api-corpus build/fuzz/artifacts
	python3 tests/fuzz/api_seeds.py build/fuzz/api-corpus
	@echo "fuzzing the API for $(FUZZ_API_SECONDS)s (log: build/fuzz/api.log)"
	@build/fuzz/fuzz_api -max_total_time=$(FUZZ_API_SECONDS) -timeout=10 -max_len=65536 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/api- \
	    build/fuzz/api-corpus >build/fuzz/api.log 2>&1; rc=$$?; \
	    grep -E '^(Done|stat::(number_of_executed_units|new_units_added|peak_rss_mb))' build/fuzz/api.log; \
	    if [ $$rc != 0 ]; then tail -n 40 build/fuzz/api.log; echo "fuzz-api: FAILED (input in build/fuzz/artifacts/)"; fi; \
	    exit $$rc

# Benchmarks against QEMU (not tests: they print ratios, assert nothing).
bench: $(BUILD)/condo
	bench/run.py

clean:
	rm -rf build build-asan

.PHONY: fuzz fuzz-api bench all unit check check-lint check-unit check-unit-asan check-api check-isa check-hostile check-guest clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
.SECONDARY:
