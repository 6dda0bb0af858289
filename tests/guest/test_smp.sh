#!/usr/bin/env bash
# SMP guests: the reference programs (threads and C11 atomics, an LR/SC spin
# lock, lr.d/sc.d counters, futex ping-pong, a lock-free ring, fork/exec
# storms: tests/guest/progs) in one VM with --cpus 2 and one with --cpus 4,
# each compared byte for byte with qemu-riscv64; each VM's guest must also
# see its CPUs (nproc). Ends with one `N passed, M failed` line.
#
# usage: tests/guest/test_smp.sh [CONDO]   (CPUS="2 4" by default)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CONDO=${1:-$ROOT/build/condo}
pass=0 fail=0
for n in ${CPUS:-2 4}; do
    echo "--- --cpus $n"
    out=$(python3 "$HERE/test_reference_programs.py" --condo "$CONDO" --cpus "$n" \
          --timeout 300 --log "$ROOT/build/guest-test/console-smp$n.log" 2>&1)
    rc=$?
    echo "$out"
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n1)
    if [ -z "$line" ]; then
        fail=$((fail + 1))
        continue
    fi
    p=${line%% passed*}
    f=${line#*passed, }
    f=${f%% failed*}
    [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
    pass=$((pass + p))
    fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
