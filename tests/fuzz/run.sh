#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS [TARGET...]]
#   Builds the libFuzzer targets (tests/fuzz/Makefile: clang, ASan + UBSan)
#   into build/fuzz and runs each TARGET (default: every one in the table
#   below) for SECONDS (default $FUZZ_SECONDS, else 20). Prints one summary
#   line per target (runs, coverage, corpus, result), never libFuzzer's
#   per-input lines: those go to build/fuzz/NAME.log. The targets' own
#   stderr (condo's log lines) is closed (-close_fd_mask=2); libFuzzer's and
#   the sanitizers' reports still reach the log.
#
#   A crash, sanitizer report, hang (-timeout) or leak keeps its input in
#   build/fuzz/artifacts/NAME/, and this prints its path, the input itself
#   (base64 and a hexdump of its start), the first lines of the report and
#   the command that replays it; the remaining targets still run. Exit
#   status 1 if any target failed. Last line: `N passed, M failed`.
#
#   The corpus of each target grows across runs in build/fuzz/corpus/NAME;
#   it starts from the seeds `tests/fuzz/seeds.py NAME DIR` writes (if any).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/fuzz

# One line per target: NAME  MAX_LEN  what it exercises.
# A new target is tests/fuzz/fuzz_NAME.c (LLVMFuzzerTestOneInput; helpers
# in fuzz_common.h; all of condo is linked in) plus one line here.
TARGETS_TABLE="
virtq   4096    virtio-mmio transport, split virtqueues, virtio-blk, -rng, -input and -balloon
net     4096    virtio-net: both queues, frames from a fake backend, flow control, bps limit
offload 66000   virtio-net offload headers: checks, checksum completion, TCP segmentation
image   65536   disk images: qcow2 headers, tables, backing names (--disk, condo disk info)
loader  65536   kernel Image, ELF program, raw firmware and initrd loading
options 1024    condo run's command line, every option and --disk value
api     65536   the control API's method, path and body handling
snapshot 131072 snapshot files: header, section table, checksums, machine state, RAM (condo run --restore)
"

secs=${1:-${FUZZ_SECONDS:-20}}
[ $# -gt 0 ] && shift
case "$secs" in ''|*[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS [TARGET...]]" >&2; exit 2 ;; esac
if [ $# -gt 0 ]; then
    targets="$*"
else
    targets=$(echo "$TARGETS_TABLE" | awk 'NF {print $1}')
fi

mkdir -p "$OUT"
echo "building the fuzz targets (make -C tests/fuzz, clang + libFuzzer + ASan/UBSan)"
if ! make -s -j2 -C "$ROOT/tests/fuzz" OUT="$OUT" >"$OUT/build.log" 2>&1; then
    sed 's/^/    | /' "$OUT/build.log" | tail -n 30
    echo "FAIL building the fuzz targets (clang and libclang-rt come from scripts/install-deps.sh)"
    echo "0 passed, 1 failed"
    exit 1
fi

pass=0 fail=0
for t in $targets; do
    row=$(echo "$TARGETS_TABLE" | awk -v t="$t" '$1 == t')
    if [ -z "$row" ] || [ ! -x "$OUT/fuzz_$t" ]; then
        echo "FAIL $t: no such target (tests/fuzz/fuzz_$t.c and a line in tests/fuzz/run.sh)"
        fail=$((fail + 1))
        continue
    fi
    maxlen=$(echo "$row" | awk '{print $2}')
    corpus=$OUT/corpus/$t
    art=$OUT/artifacts/$t
    log=$OUT/$t.log
    mkdir -p "$corpus" "$art"
    python3 "$ROOT/tests/fuzz/seeds.py" "$t" "$corpus"
    # Inputs that once found a bug (tests/fuzz/regressions/fuzz_NAME-*) first.
    regress_fail=""
    for f in "$ROOT"/tests/fuzz/regressions/fuzz_"$t"-*; do
        [ -e "$f" ] || continue
        if ! "$OUT/fuzz_$t" -close_fd_mask=2 "$f" >"$OUT/$t.regress.log" 2>&1; then
            regress_fail="$f"
            break
        fi
    done
    if [ -n "$regress_fail" ]; then
        echo "FAIL $t: the regression input $regress_fail fails again:"
        grep -E 'ERROR|runtime error|SUMMARY' "$OUT/$t.regress.log" | head -n 5 | sed 's/^/    | /'
        fail=$((fail + 1))
        continue
    fi
    before=$(ls "$corpus" | wc -l)
    ls "$art" >"$OUT/$t.artifacts.before"
    # -timeout: one input taking 10 s is a hang (an unbounded walk).
    "$OUT/fuzz_$t" -max_total_time="$secs" -timeout=10 -max_len="$maxlen" \
        -rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=2 \
        -artifact_prefix="$art/" "$corpus" >"$log" 2>&1
    rc=$?
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)$/\1/p' "$log" | tail -n1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1 | sed -E 's/cov: ([0-9]+) ft: ([0-9]+)/\1 edges, \2 features/')
    after=$(ls "$corpus" | wc -l)
    new_art=$(ls -t "$art" | grep -vxFf "$OUT/$t.artifacts.before" | head -n1)
    summary="${runs:-?} runs in ${secs} s, coverage ${cov:-?}, corpus $after inputs (+$((after - before)))"
    if [ "$rc" = 0 ] && [ -z "$new_art" ]; then
        echo "PASS $t: $summary, no crash"
        pass=$((pass + 1))
        continue
    fi
    fail=$((fail + 1))
    echo "FAIL $t: exit status $rc after $summary (log: ${log#"$ROOT"/})"
    if [ -n "$new_art" ]; then
        f=$art/$new_art
        size=$(stat -c %s "$f")
        echo "    reproducer: ${f#"$ROOT"/} ($size bytes)"
        echo "    replay: build/fuzz/fuzz_$t ${f#"$ROOT"/}"
        echo "    input, base64 (echo '...' | base64 -d > crash):"
        base64 -w 76 "$f" | head -n 200 | sed 's/^/      /'
        echo "    input, first 256 bytes:"
        head -c 256 "$f" | od -A x -t x1z -v | sed 's/^/      /'
    fi
    echo "    report:"
    grep -nE '==[0-9]+==ERROR|runtime error:|deadly signal|ALARM: working on the last Unit|out-of-memory|LeakSanitizer' "$log" |
        head -n 1 | cut -d: -f1 | while read -r first; do
            tail -n +"$first" "$log" | grep -vE '^(#[0-9]+\s+(NEW|REDUCE|pulse|INITED)|MS: )' | head -n 40
        done | sed 's/^/    | /'
done
rm -f "$OUT"/*.artifacts.before
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
