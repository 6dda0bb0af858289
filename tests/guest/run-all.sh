#!/usr/bin/env bash
# Every guest-level suite of condo, one after the other (one VM at a time):
#   test_cli.sh                 command line, exit statuses, bad files (no boot)
#   test_boot.py                the default guest: devices, console, reboot,
#                               panic, end of input, reset loop, poweroff
#   test_console_tty.py         the console on a terminal: raw mode, escape
#                               keys, terminal restored
#   test_power.py               the power button and Ctrl+Alt+Del (virtio-input)
#                               power the default guest off; no driver: refused
#   test_reference_programs.py  guest programs' output against qemu-riscv64
#   test_sandbox.py             the VM process's sandbox, as root and as nobody
#   test_hostile_files.py       hostile disk images, kernels, FIFOs, --disk values
# Prints each suite's output, then one summary line per suite and, last, the
# aggregated `N passed, M failed`; exits 1 if any suite failed (a suite that
# ends without its summary line, or exits non-zero, counts as one failure).
#
# usage: tests/guest/run-all.sh [CONDO]     (default build/condo; `make check-guest`)
#        SUITES="test_cli.sh test_boot.py" tests/guest/run-all.sh   (a subset)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CONDO=${1:-$ROOT/build/condo}
case "$CONDO" in /*) ;; *) CONDO=$(pwd)/$CONDO ;; esac
SUITES=${SUITES:-test_cli.sh test_boot.py test_power.py test_console_tty.py test_reference_programs.py test_qcow2_interop.sh test_net.py test_disk.py test_sandbox.py test_hostile_files.py}

total_pass=0 total_fail=0 total_skip=0
summaries=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for suite in $SUITES; do
    case "$suite" in
        test_reference_programs.py) cmd=("$HERE/$suite" --condo "$CONDO") ;;
        *) cmd=("$HERE/$suite" "$CONDO") ;;
    esac
    echo "=== $suite"
    start=$(date +%s)
    "${cmd[@]}" </dev/null 2>&1 | tee "$tmp/out"
    rc=${PIPESTATUS[0]}
    secs=$(( $(date +%s) - start ))
    line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$tmp/out" | tail -n1)
    if [ -z "$line" ]; then
        p=0 f=1 s=0
        line="no summary line (exit status $rc): counted as 1 failed"
    else
        read -r p f s < <(echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\2 \3 \5/')
        s=${s:-0}
        if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
            f=1
            line="$line, but exit status $rc: counted as 1 failed"
        fi
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
    summaries+=("$(printf '%-28s %s (%d s)' "$suite" "$line" "$secs")")
done

echo "=== summary"
for s in "${summaries[@]}"; do echo "  $s"; done
if [ "$total_skip" -gt 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" = 0 ]
