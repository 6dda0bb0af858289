#!/usr/bin/env bash
# `make check`: every test layer, in order, each one even when an earlier
# one failed (a fuzz crash must not hide what the guest tests say), then a
# table of the layers and one last line `N passed, M failed[, K skipped]`.
# Exit status 1 if any layer failed.
#
#   lint       make check-lint        the layering rule of the source tree
#   unit       make check-unit        cmocka unit tests
#   unit-asan  make check-unit-asan   the same under ASan/UBSan
#   api        make check-api         the control API driven with curl (a fake VMM)
#   fuzz       make fuzz              libFuzzer targets, FUZZ_SECONDS each
#   isa        make check-isa         bare-metal ISA programs, hostile virtio drivers
#   asan       make check-asan        the hostile layers under ASan/UBSan
#   qemu       make check-qemu        the tests themselves, validated on QEMU
#   guest      make check-guest       Linux guest suites
#   guest-smp  make check-guest-smp   the core guest suites on a 2-hart guest
#
# A layer's counts come from its last `N passed, M failed[, K skipped]`
# line (one without counts, lint, is 1 check); a layer that exits non-zero
# is failed whatever it printed. Skips are only ever the explicitly optional
# ones (a test prints "OPTIONAL SKIP: reason"; tests/unit/run.sh and
# tests/guest/run-all.sh count them and name them as "optional skip: ...");
# they are listed by name at the end.
#
# usage: tests/check.sh [LAYER...]     (MAKE names the make to run)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MAKE=${MAKE:-make}
LAYERS=${*:-lint unit unit-asan api fuzz isa asan qemu guest guest-smp}

target_of() {
    case "$1" in
        lint) echo check-lint ;;
        unit) echo check-unit ;;
        unit-asan) echo check-unit-asan ;;
        api) echo check-api ;;
        fuzz) echo fuzz ;;
        isa) echo check-isa ;;
        asan) echo check-asan ;;
        qemu) echo check-qemu ;;
        guest) echo check-guest ;;
        guest-smp) echo check-guest-smp ;;
        *) return 1 ;;
    esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t_all=$(date +%s)
tp=0 tf=0 ts=0
rows=()
optional=()
failed_layers=""
for layer in $LAYERS; do
    target=$(target_of "$layer") || { echo "tests/check.sh: unknown layer '$layer'" >&2; exit 2; }
    echo "######## $layer ($MAKE $target)"
    start=$(date +%s)
    $MAKE --no-print-directory "$target" 2>&1 | tee "$tmp/out"
    rc=${PIPESTATUS[0]}
    secs=$(( $(date +%s) - start ))
    line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$tmp/out" | tail -n1)
    if [ -n "$line" ]; then
        read -r p f s < <(echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\2 \3 \5/')
        s=${s:-0}
    elif [ "$rc" = 0 ]; then
        p=1 f=0 s=0 line="ok (exit status 0)"
    else
        p=0 f=1 s=0 line="exit status $rc"
    fi
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1 line="$line, but exit status $rc"
    fi
    # the runners' summaries name them: "  optional skip: WHERE: reason"
    while IFS= read -r o; do optional+=("$layer: $o"); done \
        < <(sed -nE 's/^ *optional skip: (.*)$/\1/p' "$tmp/out" | sort -u)
    [ "$f" != 0 ] && failed_layers="$failed_layers $layer"
    tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
    rows+=("$(printf '%-10s %-9s %s (%d s)' "$layer" "$([ "$f" = 0 ] && echo ok || echo FAILED)" "$line" "$secs")")
done

echo "######## make check: summary ($(( $(date +%s) - t_all )) s)"
for r in "${rows[@]}"; do echo "  $r"; done
for o in "${optional[@]}"; do echo "  optional skip: $o"; done
[ -n "$failed_layers" ] && echo "  failed layers:$failed_layers"
if [ "$ts" -gt 0 ]; then
    echo "$tp passed, $tf failed, $ts skipped"
else
    echo "$tp passed, $tf failed"
fi
[ "$tf" = 0 ]
