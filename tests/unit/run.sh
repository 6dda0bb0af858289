#!/usr/bin/env bash
# tests/unit/run.sh TEST_BINARY...
# Runs cmocka unit test programs one after the other and counts their tests
# from cmocka's own summary: passed, failed and skipped. A skip counts as a
# failure unless the test announced it with optional_skip() (tests/unit/
# optional_skip.h: "OPTIONAL SKIP: reason" just before skip()), i.e. it is
# explicitly optional for a stated reason; those are listed by name.
# A program that crashes, exits non-zero or prints no cmocka summary counts
# as one failure. Prints a program's whole output only when it failed
# (VERBOSE=1: always), then one line per program and
# `N passed, M failed[, K skipped]`; exits 1 if anything failed.
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: tests/unit/run.sh TEST_BINARY..." >&2; exit 2; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
total_p=0 total_f=0 total_s=0
optional=()
lines=()
for t in "$@"; do
    name=$(basename "$t")
    "$t" >"$tmp" 2>&1
    rc=$?
    # cmocka: "[  PASSED  ] 6 test(s)." "[  FAILED  ] 1 test(s), listed below:"
    # "[  SKIPPED ] 1 test(s), listed below:" (one summary per group)
    p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test\(s\)\.$/\1/p' "$tmp" | awk '{s+=$1} END {print s+0}')
    f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test\(s\), listed below:$/\1/p' "$tmp" | awk '{s+=$1} END {print s+0}')
    s=$(sed -nE 's/^\[  SKIPPED \] ([0-9]+) test\(s\), listed below:$/\1/p' "$tmp" | awk '{s+=$1} END {print s+0}')
    mapfile -t why < <(sed -nE 's/^OPTIONAL SKIP: (.*)$/\1/p' "$tmp")
    note=""
    if ! grep -qE '^\[==========\] [0-9]+ test\(s\) run\.$' "$tmp"; then
        if [ "$rc" = 0 ] && [ ${#why[@]} -gt 0 ]; then
            s=${#why[@]}   # the whole program is optional here (it says why)
        else
            f=$((f + 1)); note=" (no cmocka summary, exit status $rc)"
        fi
    elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1; note=" (exit status $rc)"
    fi
    if [ "$s" -gt ${#why[@]} ]; then
        bad=$((s - ${#why[@]}))
        note="$note ($bad skipped without optional_skip(): counted as failed)"
        f=$((f + bad)); s=${#why[@]}
    fi
    if [ "$f" != 0 ] || [ "${VERBOSE:-0}" = 1 ]; then
        echo "== $t"
        cat "$tmp"
    fi
    for w in "${why[@]}"; do optional+=("$name: $w"); done
    total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
    lines+=("$(printf '%-22s %d passed, %d failed, %d skipped%s' "$name" "$p" "$f" "$s" "$note")")
done
echo "=== unit summary"
for l in "${lines[@]}"; do echo "  $l"; done
for o in "${optional[@]}"; do echo "  optional skip: $o"; done
if [ "$total_s" -gt 0 ]; then
    echo "$total_p passed, $total_f failed, $total_s skipped"
else
    echo "$total_p passed, $total_f failed"
fi
[ "$total_f" = 0 ]
