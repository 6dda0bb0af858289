#!/bin/sh
# run.sh TIMEOUT "RUNNER ARGS..." ELF...
# Runs each ELF as `RUNNER ARGS... ELF` with a timeout; exit status 0 is a
# pass. An ELF named NAME-Nharts.elf (tests/isa/smp) runs with {harts} in
# the runner replaced by N. Prints one line per test and a final "N passed, M failed" line.
timeout_s=$1
runner=$2
shift 2
pass=0
failn=0
failed=""
for elf in "$@"; do
    name=$(basename "$elf" .elf)
    harts=1
    case $name in *-[0-9]harts) harts=${name##*-}; harts=${harts%harts} ;; esac
    cmd=$(printf '%s' "$runner" | sed "s/{harts}/$harts/g")
    # shellcheck disable=SC2086
    timeout -k 2 "$timeout_s" $cmd "$elf" </dev/null >/tmp/condo-isa-$$.log 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "PASS $name"
        pass=$((pass + 1))
    else
        why="exit $rc"
        [ $rc -eq 124 ] && why="timeout after ${timeout_s}s"
        # A sanitizer build (make SANITIZE=1) exits 1 on a report: not test case 1.
        if grep -qE 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' /tmp/condo-isa-$$.log; then
            why="$why: sanitizer report"
            rc=0
        fi
        [ $rc -ge 240 ] && [ $rc -le 255 ] && why="$why: unexpected exception, cause $((rc - 240))"
        [ $rc -eq 239 ] && why="$why: unexpected interrupt"
        [ $rc -lt 239 ] && [ $rc -ne 124 ] && [ $rc -ne 0 ] && why="$why: test case $rc"
        echo "FAIL $name ($why)"
        if grep -qE 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' /tmp/condo-isa-$$.log; then
            grep -E -A12 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' /tmp/condo-isa-$$.log |
                head -n 14 | sed 's/^/    | /'
        else
            sed 's/^/    | /' /tmp/condo-isa-$$.log | tail -n 5
        fi
        failn=$((failn + 1))
        failed="$failed $name"
    fi
done
rm -f /tmp/condo-isa-$$.log
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $failn failed"
[ $failn -eq 0 ]
