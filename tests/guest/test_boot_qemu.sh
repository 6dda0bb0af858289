#!/usr/bin/env bash
# Reference check: the default guest (build/guest, from guest/build-guest.sh)
# boots under QEMU's virt machine to "condo-guest: ready" and a shell that
# answers `uname -m` (riscv64) and `cat /proc/cpuinfo`, and `poweroff` ends
# QEMU with status 0. Boots RUNS times (default 3) one after the other and
# prints the median time to ready and to the prompt, and QEMU's peak RSS.
#
# usage: tests/guest/test_boot_qemu.sh [GUEST_DIR]   (RUNS=n to change)
# Fails when qemu-system-riscv64 is missing (scripts/install-deps.sh
# installs qemu-system-misc): the reference is the point of this test.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
G=${1:-$ROOT/build/guest}
RUNS=${RUNS:-3}
QEMU=${QEMU:-qemu-system-riscv64}

if ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "FAIL: $QEMU not installed (scripts/install-deps.sh installs it)"
    echo "0 passed, 1 failed"
    exit 1
fi
for f in Image initramfs.cpio fw_dynamic.bin; do
    [ -f "$G/$f" ] || { echo "FAIL: $G/$f missing: run guest/build-guest.sh"; echo "0 passed, 1 failed"; exit 1; }
done
TIMEV=()
[ -x /usr/bin/time ] && TIMEV=(/usr/bin/time -v)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for i in $(seq 1 "$RUNS"); do
    "${TIMEV[@]}" python3 "$HERE/driver.py" --log "$tmp/console.$i.log" --timeout 120 \
        --expect-run 'uname -m=^riscv64$' \
        --expect-run 'cat /proc/cpuinfo=(?m)^isa\s*:\s*rv64' \
        --expect-run 'hostname=^condo$' \
        --poweroff -- \
        "$QEMU" -machine virt -m 512M -nographic \
        -bios "$G/fw_dynamic.bin" -kernel "$G/Image" -initrd "$G/initramfs.cpio" \
        -append "console=ttyS0" >"$tmp/out.$i" 2>"$tmp/time.$i"
    rc=$?
    if [ $rc = 0 ] && grep -q '^exit: 0 ' "$tmp/out.$i"; then
        pass=$((pass + 1)); echo "ok   boot $i: $(grep -E '^(ready|prompt)' "$tmp/out.$i" | tr '\n' ' ')"
    else
        fail=$((fail + 1)); echo "FAIL boot $i"; sed 's/^/    /' "$tmp/out.$i"
        echo "    --- console log tail ---"; tail -c 2000 "$tmp/console.$i.log" | sed 's/^/    /'
    fi
done

median() { sort -n | awk '{a[NR]=$1} END { if (NR) print a[int((NR+1)/2)]; else print "n/a" }'; }
ready=$(cat "$tmp"/out.* | awk '/^ready:/ {print $2}' | median)
prompt=$(cat "$tmp"/out.* | awk '/^prompt:/ {print $2}' | median)
rss=$(cat "$tmp"/time.* 2>/dev/null | awk '/Maximum resident set size/ {print $NF}' | sort -n | tail -n1)
echo "qemu reference: median time to ready ${ready} s, to prompt ${prompt} s," \
     "peak RSS ${rss:-n/a} KiB (largest process of the tree = qemu, max over $RUNS runs)"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
