#!/usr/bin/env bash
# Guest-level suites, one after the other (one VM at a time), with one
# summary. The default set is condo's guest suites:
#   test_cli.sh                 command line, exit statuses, bad files (no boot)
#   test_boot.py                the default guest: devices, console, reboot,
#                               panic, end of input, reset loop, poweroff
#   test_console_tty.py         the console on a terminal: raw mode, escape
#                               keys, Ctrl-C, terminal restored
#   test_power.py               the power button and Ctrl+Alt+Del (virtio-input)
#                               power the default guest off; no driver: refused
#   test_reference_programs.py  guest programs' output against qemu-riscv64
#   test_qcow2_interop.sh       qcow2 images exchanged with qemu-img/qemu-io
#   test_net.py                 user networking, port forwarding, a switch
#   test_net_bulk.py            64 MiB each way over user networking and 16 MiB
#                               across a switch with the offloads on (sha256)
#   test_disk.py                disks: ext4, read-only, qcow2, durability
#   test_sandbox.py             the VM process's sandbox, as root and as nobody
#   test_hostile_files.py       hostile disk images, kernels, FIFOs, --disk values
#   test_snapshot.py            snapshots: Ctrl-A s, condo run --restore, branching, bad files
#   test_snapshot_port.py       a snapshot of the x86-64 build resumes without the
#                               JIT and on the aarch64 build (qemu-aarch64), and
#                               back (needs build-aarch64/condo: make cross-aarch64)
#   test_api_vm.py              the control API on a real VM, driven with curl
#   test_snapshot_vms.py        snapshots of named VMs: the verbs, clones (vmgenid), the API, as nobody
#   test_balloon.py             the balloon: free page reporting, inflate/deflate, statistics
#   test_vms.py                 named VMs: create/start/ls/console/stop/rm, exit
#                               statuses, containment of six VMs, as nobody too
#   test_smp.sh                 the reference programs on --cpus 2 and 4
# Other suites (SUITES=...; `make check-isa`, `check-asan` and `check-qemu`
# use them):
#   isa                         the bare-metal ISA programs under CONDO
#   virtio                      the hostile bare-metal virtio drivers under CONDO
#   smp                         multi-hart bare-metal programs (atomics, locks,
#                               ordering, cross-modifying code) on 2, 4, 8 harts
#   storm                       every register of every device written with
#                               extreme values (tests/isa/mmio_storm.c)
#   qemu:isa                    the ISA programs under QEMU (the check that
#                               their hand-written expectations are right)
#   qemu:boot                   the default guest boots under QEMU (RUNS=1)
#   qemu:reference_programs     the reference programs in QEMU's VM
# With CONDO=build-asan/condo, isa, virtio, storm, test_cli.sh and
# test_hostile_files.py run the hostile and corrupt-input checks under
# ASan/UBSan (`make check-asan`).
# Prints each suite's output, then one summary line per suite with its
# duration, the optional skips by name, and last the aggregated
# `N passed, M failed[, K skipped]`; exits 1 if any suite failed. A suite
# that ends without its summary line, or exits non-zero, counts as a
# failure; a skip counts only when the suite names it optional
# ("OPTIONAL SKIP: reason"), otherwise the suites report it as a failure.
#
# usage: tests/guest/run-all.sh [CONDO]     (default build/condo; `make check-guest`)
#        SUITES="test_cli.sh test_boot.py" tests/guest/run-all.sh   (a subset)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CONDO=${1:-$ROOT/build/condo}
case "$CONDO" in /*) ;; *) CONDO=$(pwd)/$CONDO ;; esac
SUITES=${SUITES:-test_cli.sh test_boot.py test_power.py test_console_tty.py test_reference_programs.py test_qcow2_interop.sh test_net.py test_net_bulk.py test_disk.py test_sandbox.py test_hostile_files.py test_api_vm.py test_balloon.py test_vms.py test_smp.sh test_snapshot.py test_snapshot_vms.py test_snapshot_port.py}

total_pass=0 total_fail=0 total_skip=0
summaries=()
optional=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for suite in $SUITES; do
    case "$suite" in
        test_reference_programs.py) cmd=("$HERE/$suite" --condo "$CONDO") ;;
        qemu:isa) cmd=(make -s -C "$ROOT/tests/isa" check-qemu) ;;
        qemu:boot) cmd=(env RUNS="${RUNS:-1}" "$HERE/test_boot_qemu.sh") ;;
        qemu:reference_programs) cmd=("$HERE/test_reference_programs.py" --vm qemu) ;;
        isa) cmd=(make -s -C "$ROOT/tests/isa" check CONDO="$CONDO") ;;
        virtio) cmd=(make -s -C "$ROOT/tests/isa" check-virtio CONDO="$CONDO") ;;
        storm) cmd=(make -s -C "$ROOT/tests/isa" check-storm CONDO="$CONDO") ;;
        smp) cmd=(make -s -C "$ROOT/tests/isa" check-smp CONDO="$CONDO") ;;
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
    while IFS= read -r o; do optional+=("$suite: $o"); done \
        < <(sed -nE 's/^OPTIONAL SKIP: (.*)$/\1/p' "$tmp/out" | sort -u)
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
    summaries+=("$(printf '%-28s %s (%d s)' "$suite" "$line" "$secs")")
done

echo "=== summary"
for s in "${summaries[@]}"; do echo "  $s"; done
for o in "${optional[@]}"; do echo "  optional skip: $o"; done
if [ "$total_skip" -gt 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" = 0 ]
