#!/bin/sh
# tests/fuzz/run-hostile.sh SECONDS [TARGET...] [-- libFuzzer options...]
#   The hostile-input fuzz targets, each built with clang (libFuzzer + ASan +
#   UBSan, LeakSanitizer on) into build/fuzz and run for SECONDS:
#     fuzz_image    disk images: qcow2 headers, tables, backing names
#     fuzz_loader   kernel Images, ELF programs, raw firmware and initrds
#     fuzz_options  condo run's command line
#   (default: all three). Corpora grow across runs in build/fuzz/corpus-NAME,
#   starting from tests/fuzz/seeds_hostile.py. A crash, sanitizer report,
#   leak or timeout keeps its input in build/fuzz/artifacts/ (replay:
#   build/fuzz/NAME FILE) and makes the exit status non-zero; inputs that
#   found a bug once are kept in tests/fuzz/regressions/NAME-* and replayed
#   first.
#
#   Output stays short: one summary line per target (executions, coverage,
#   corpus) plus libFuzzer's own lines only on failure. A target whose run
#   printed more than MAX_LOG_LINES "condo:" lines fails too (device and
#   backend logs are rate-limited per device: a fuzz run must not flood the
#   log), and so does fuzz_virtq, if it was built, when replaying its corpus
#   prints more than that.
set -eu
secs=${1:-20}
[ $# -gt 0 ] && shift
targets=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    targets="$targets $1"
    shift
done
[ $# -gt 0 ] && shift
targets=${targets:-fuzz_image fuzz_loader fuzz_options}
MAX_LOG_LINES=${MAX_LOG_LINES:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/fuzz
CLANG=${CLANG:-clang}
mkdir -p "$out/lib" "$out/artifacts"

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
slirp=$(pkg-config --cflags slirp 2>/dev/null || echo -I/usr/include/slirp)
cflags="-std=c17 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter $san -I$root/include -I$root/src $slirp"

# What the targets reach (core, the block backends, the loaders, the option
# parsers), instrumented; rebuilt when a source or any header is newer than
# its object. fuzz_options stubs vm_run, which it never calls.
newest_h=$(find "$root/include" "$root/src" -name '*.h' -newer "$out/lib/.stamp" 2>/dev/null | head -n1 || true)
[ -f "$out/lib/.stamp" ] || newest_h=all
objs=""
for s in $(cd "$root" && ls src/core/*.c src/backend/block*.c src/board/loader.c \
             src/vmm/vm_config.c src/cli/run.c); do
    o=$out/lib/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')
    if [ -n "$newest_h" ] || [ ! -f "$o" ] || [ "$root/$s" -nt "$o" ]; then
        # shellcheck disable=SC2086
        $CLANG $cflags -fsanitize=fuzzer-no-link -c -o "$o" "$root/$s"
    fi
    objs="$objs $o"
done
touch "$out/lib/.stamp"
# An archive: each target pulls in only what it uses.
rm -f "$out/libhostile.a"
# shellcheck disable=SC2086
ar rcs "$out/libhostile.a" $objs
libs="-lm -lpthread"

python3 "$root/tests/fuzz/seeds_hostile.py" "$out/seeds"

fail=0
for t in $targets; do
    case $t in
        fuzz_image) seeds=image; maxlen=65536 ;;
        fuzz_loader) seeds=loader; maxlen=65536 ;;
        fuzz_options) seeds=options; maxlen=1024 ;;
        *) echo "run-hostile.sh: unknown target $t" >&2; exit 2 ;;
    esac
    # shellcheck disable=SC2086
    $CLANG $cflags -fsanitize=fuzzer -o "$out/$t" "$root/tests/fuzz/$t.c" "$out/libhostile.a" $libs
    corpus=$out/corpus-$seeds
    mkdir -p "$corpus"
    log=$out/$t.log
    # Inputs that once crashed it (tests/fuzz/regressions/TARGET-*) first.
    for f in "$root"/tests/fuzz/regressions/"$t"-*; do
        [ -f "$f" ] || continue
        if ! "$out/$t" "$f" >"$log" 2>&1; then
            echo "FAIL $t: regression input $(basename "$f") fails again"
            tail -n 20 "$log" | sed 's/^/    | /'
            fail=1
        fi
    done
    # -timeout: one input taking 10 s is a hang; a fresh directory of seeds
    # first, the grown corpus second (new finds go to the first directory
    # given: keep them in the corpus).
    rc=0
    "$out/$t" -max_total_time="$secs" -timeout=10 -max_len=$maxlen -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" "$@" \
        "$corpus" "$out/seeds/$seeds" >"$log" 2>&1 || rc=$?
    stats=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    cov=$(echo "$stats" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$stats" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$stats" | sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
    logs=$(grep -c 'condo:' "$log" || true)
    why=""
    [ $rc -ne 0 ] && why="libFuzzer exit $rc (crash, leak or timeout: see below)"
    [ -z "$stats" ] && [ -z "$why" ] && why="no final statistics"
    [ "$logs" -gt "$MAX_LOG_LINES" ] && why="${why:+$why; }$logs condo: log lines (at most $MAX_LOG_LINES)"
    if [ -z "$why" ]; then
        echo "PASS $t: ${execs:-?} executions in ${secs}s, coverage ${cov:-?} edges, ${ft:-?} features, corpus ${corp:-?}, $logs log lines"
    else
        echo "FAIL $t: $why"
        grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD)' "$log" | tail -n 40 | sed 's/^/    | /'
        fail=1
    fi
done

# fuzz_virtq (tests/fuzz/run.sh) replays its corpus: its devices' logs must
# stay within their budgets too (they once printed a line per input).
if [ -x "$out/fuzz_virtq" ] && [ -d "$out/corpus" ]; then
    "$out/fuzz_virtq" -runs=5000 -max_len=4096 "$out/corpus" >"$out/fuzz_virtq-replay.log" 2>&1 || true
    logs=$(grep -c 'condo:' "$out/fuzz_virtq-replay.log" || true)
    if [ "$logs" -le "$MAX_LOG_LINES" ]; then
        echo "PASS fuzz_virtq replay: $logs log lines for its corpus and 5000 more inputs"
    else
        echo "FAIL fuzz_virtq replay: $logs condo: log lines (at most $MAX_LOG_LINES)"
        grep 'condo:' "$out/fuzz_virtq-replay.log" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/    | /'
        fail=1
    fi
fi
exit $fail
