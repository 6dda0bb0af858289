# condo: plain GNU Makefile with -MMD dependencies.
#   make            build build/condo
#   make check      every test layer, each one even after a failure, and a
#                   summary (tests/check.sh; docs/TESTING.md lists them)
#   make SANITIZE=1 build into build-asan with ASan+UBSan (make check runs
#                   the unit tests and the hostile layers so)
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
LDLIBS := -lfdt $(SLIRP_LIBS) -lmicrohttpd -ljansson -lcurl -lseccomp -lzstd -lz -lm -lpthread

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

# Counts cmocka's passed/failed/skipped; a skip fails unless optional_skip()
# names its reason (tests/unit/run.sh).
check-unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

# FPU reference vectors for tests/unit/test_fpu.c (which reads them from its
# own directory): tests/fpu-ref/gen.c, built for riscv64 and run under
# qemu-riscv64, records QEMU's results for every F/D instruction. Needs
# gcc-riscv64-linux-gnu and qemu-user (scripts/install-deps.sh); ~40 MB.
FPU_VECTORS := $(BUILD)/tests/unit/fpu_vectors.txt
$(FPU_VECTORS): tests/fpu-ref/gen.c tests/fpu-ref/make-vectors.sh
	tests/fpu-ref/make-vectors.sh $@
unit check-unit: $(FPU_VECTORS)

# The bare-metal ISA programs and the hostile virtio drivers under condo.
check-isa: $(BUILD)/condo
	SUITES="isa virtio smp" tests/guest/run-all.sh $(abspath $(BUILD)/condo)

check-guest: $(BUILD)/condo $(BLOCKTOOL)
	tests/guest/run-all.sh $(abspath $(BUILD)/condo)

# The core guest suites again on a 2-hart guest (CONDO_TEST_CPUS=2: every
# VM they boot gets --cpus 2; the reference programs run on 2 and 4 harts
# in test_smp.sh already). `make check-guest-smp SMP_SUITES="..."` picks
# others; all of them pass so (docs/TESTING.md).
SMP_SUITES ?= test_boot.py test_console_tty.py test_power.py test_disk.py test_snapshot.py
check-guest-smp: $(BUILD)/condo $(BLOCKTOOL)
	CONDO_TEST_CPUS=2 SUITES="$(SMP_SUITES)" tests/guest/run-all.sh $(abspath $(BUILD)/condo)

# The unit tests again, built with ASan+UBSan into build-asan/.
check-unit-asan:
	$(MAKE) SANITIZE=1 check-unit

# The hostile layers against the ASan/UBSan build (build-asan/condo), where
# any undefined behaviour or bad access they reach aborts the run: the ISA
# programs, the hostile virtio drivers, every register of every device
# stormed with extreme values (tests/isa/mmio_storm.c), the command-line
# checks (corrupt ELF files, bad options and files) and hostile disk
# images, kernels and FIFOs with a guest reading the attack image
# (tests/guest/test_hostile_files.py). The default guest of build/ serves
# the checks that need one.
check-asan:
	$(MAKE) SANITIZE=1 build-asan/condo
	CONDO_GUEST_DIR=$${CONDO_GUEST_DIR:-$(abspath build/guest)} \
		SUITES="isa virtio storm test_cli.sh test_hostile_files.py" \
		tests/guest/run-all.sh $(abspath build-asan/condo)

# The tests' own validation, on QEMU as the reference: the ISA programs
# (their expectations are hand-written), the default guest's boot, and the
# reference programs' harness in QEMU's VM.
check-qemu:
	SUITES="qemu:isa qemu:boot qemu:reference_programs" tests/guest/run-all.sh

# Every layer, in order, each one even when an earlier one failed; exits
# non-zero at the end if any failed (tests/check.sh).
check:
	@MAKE="$(MAKE)" tests/check.sh

# libFuzzer (clang, ASan+UBSan), FUZZ_SECONDS per target (tests/fuzz/run.sh
# lists them: the virtio transport and devices, virtio-net, disk images,
# the loaders, condo run's options, the control API); non-zero on a crash, whose input is printed and kept in
# build/fuzz/artifacts/NAME/.
FUZZ_SECONDS ?= 20
fuzz:
	FUZZ_HOSTILE_SECONDS=$(FUZZ_HOSTILE_SECONDS) tests/fuzz/run.sh $(FUZZ_SECONDS)

# Benchmarks against QEMU (not tests: they print ratios, assert nothing).
bench: $(BUILD)/condo
	bench/run.py

clean:
	rm -rf build build-asan

.PHONY: fuzz bench all unit check check-lint check-unit check-unit-asan check-isa check-guest \
	check-asan check-qemu check-api check-guest-smp clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
.SECONDARY:
