#!/bin/sh
# tests/fuzz/run.sh SECONDS [libFuzzer options...]
#   Builds the virtqueue / virtio-blk / virtio-rng / virtio-input fuzz target with clang
#   (libFuzzer + ASan + UBSan) into build/fuzz and runs it for SECONDS
#   (-max_total_time). Exit status non-zero when the fuzzer found a crash,
#   a sanitizer report or a timeout; the input that did it is written to
#   build/fuzz/artifacts/ (replay: build/fuzz/fuzz_virtq FILE).
#   The corpus in build/fuzz/corpus grows across runs; it starts from the
#   seeds that tests/fuzz/seeds.py writes.
set -eu
secs=${1:-60}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/fuzz
CLANG=${CLANG:-clang}
mkdir -p "$out/obj" "$out/corpus" "$out/artifacts"

# The device code under test; everything else the target provides.
srcs="src/dev/virtio/mmio.c src/dev/virtio/queue.c src/dev/virtio/blk.c src/dev/virtio/rng.c
      src/dev/virtio/input.c src/core/rate_limit.c src/core/state.c src/core/log.c
      src/core/clock.c src/core/guest_ram.c src/core/error.c"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-std=c17 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter $san -I$root/include -I$root/src"
objs=""
for s in $srcs; do
    o=$out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')
    # shellcheck disable=SC2086
    $CLANG $cflags -fsanitize=fuzzer-no-link -c -o "$o" "$root/$s"
    objs="$objs $o"
done
# shellcheck disable=SC2086
$CLANG $cflags -fsanitize=fuzzer -o "$out/fuzz_virtq" "$root/tests/fuzz/fuzz_virtq.c" $objs

python3 "$root/tests/fuzz/seeds.py" "$out/corpus"

echo "fuzzing for ${secs}s (corpus $out/corpus)"
# -timeout: one input taking 10 s is a hang (an unbounded walk);
# device logs are rate-limited per device, so the log stays short.
"$out/fuzz_virtq" -max_total_time="$secs" -timeout=10 -max_len=4096 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/" "$@" "$out/corpus"

# The hostile-input targets (images, loaders, options): tests/fuzz/run-hostile.sh.
"$root/tests/fuzz/run-hostile.sh" "${FUZZ_HOSTILE_SECONDS:-20}"
