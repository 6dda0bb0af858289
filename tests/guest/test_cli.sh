#!/usr/bin/env bash
# Command-line tests of `condo` and `condo run`: help texts, and that every
# bad option or unusable file ends with exit status 2 and one clear line on
# stderr naming the problem (never a crash, never a started VM). Options
# that are valid (--memory 2G, 768, 16M) are proved accepted by running a
# tiny bare-metal program (tests/guest/tiny/tiny.S, built here into
# build/tiny/) that reports through HTIF `tohost` at once; so are the exit
# statuses of a bare-metal failure and of SIGTERM/SIGINT.
# No Linux guest is booted: the whole script takes a few seconds.
#
# usage: tests/guest/test_cli.sh [CONDO]     (default: build/condo)
# Prints PASS/FAIL per check and, last, `N passed, M failed`; exits 1 if
# any check failed. A missing tool (the RISC-V compiler for the bare-metal
# checks) is a failure: scripts/install-deps.sh installs it.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CONDO=${1:-$ROOT/build/condo}
case "$CONDO" in /*) ;; *) CONDO=$(pwd)/$CONDO ;; esac
TINY_OUT=$ROOT/build/tiny
LIMIT=20   # seconds: any single condo invocation here ends far sooner

pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() {
    echo "FAIL $1: $2"
    [ -s "$tmp/err" ] && sed 's/^/    stderr| /' "$tmp/err" | head -n 8
    [ -s "$tmp/out" ] && sed 's/^/    stdout| /' "$tmp/out" | head -n 8
    fail=$((fail + 1))
}

# run ARGS...: condo with no input, output in $tmp/out, $tmp/err; sets rc.
run() {
    timeout -k 5 "$LIMIT" "$CONDO" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

if [ ! -x "$CONDO" ]; then
    echo "FAIL condo binary $CONDO not found or not executable (make first)"
    echo "0 passed, 1 failed"
    exit 1
fi

# -- help, version, commands -------------------------------------------------
run --help
if [ $rc = 0 ] && grep -q 'run' "$tmp/out" && grep -qi 'usage' "$tmp/out"; then
    ok "condo --help: exit 0, usage naming the run command"
else
    bad "condo --help" "exit $rc (want 0 and a usage text naming 'run')"
fi

run run --help
missing=""
for o in --arch --cpus --memory --bios --kernel --initrd --append --help; do
    grep -q -- "$o" "$tmp/out" || missing="$missing $o"
done
if [ $rc = 0 ] && [ -z "$missing" ] && grep -qi 'exit status' "$tmp/out"; then
    ok "condo run --help: exit 0, every option and the exit statuses documented"
else
    bad "condo run --help" "exit $rc, options not mentioned:${missing:- none}"
fi

run --version
if [ $rc = 0 ] && grep -q '^condo ' "$tmp/out"; then
    ok "condo --version: $(head -n1 "$tmp/out")"
else
    bad "condo --version" "exit $rc (want 0 and 'condo VERSION')"
fi

run
if [ $rc = 2 ] && grep -qi 'usage' "$tmp/err"; then
    ok "condo without a command: exit 2, usage on stderr"
else
    bad "condo without a command" "exit $rc (want 2 and a usage text on stderr)"
fi

# usage_error NAME REGEX ARGS...: condo ARGS must exit 2 with nothing on
# stdout and one line on stderr matching REGEX (grep -E, any case); a
# second line is tolerated only if it just points to --help.
usage_error() {
    local name=$1 re=$2
    shift 2
    run "$@"
    local lines first why=""
    lines=$(wc -l <"$tmp/err")
    first=$(head -n1 "$tmp/err")
    if [ $rc != 2 ]; then
        why="exit $rc (want 2)"
        [ $rc -ge 124 ] && why="$why: timeout or crash"
    elif [ -s "$tmp/out" ]; then
        why="wrote to stdout (a VM started?)"
    elif [ -z "$first" ]; then
        why="no message on stderr"
    elif [ "$lines" -gt 2 ] || { [ "$lines" = 2 ] && ! sed -n 2p "$tmp/err" | grep -qiE '^[a-z: ]*try .*--help'; }; then
        why="$lines lines on stderr (want one)"
    elif ! printf '%s\n' "$first" | grep -qiE -- "$re"; then
        why="message does not name the problem (want /$re/)"
    elif grep -qiE 'sanitizer|segmentation|abort|assert|core dumped' "$tmp/err"; then
        why="crash report on stderr"
    fi
    if [ -z "$why" ]; then
        ok "$name: exit 2: $first"
    else
        bad "$name" "$why"
    fi
}

usage_error "unknown command" "frobnicate" frobnicate
usage_error "unknown option" "--bogus" run --bogus
usage_error "option missing its value" "cpus" run --cpus
usage_error "stray argument" "stray" run stray
usage_error "--cpus 9 (1 to 8)" "cpus 9.*1 to 8" run --cpus 9
usage_error "--cpus 0" "cpus.*0|0.*cpus" run --cpus 0
usage_error "--cpus abc" "abc" run --cpus abc
usage_error "--memory 12Q" "12Q" run --memory 12Q
usage_error "--memory 1 (1 MiB, too small)" "memory.*(16M|small|least)" run --memory 1
usage_error "--memory 100G (too big)" "memory.*(64G|large|most)" run --memory 100G
usage_error "--memory -5" "memory" run --memory -5
usage_error "--arch x86_64" "x86_64" run --arch x86_64
usage_error "--kernel /nonexistent" "/nonexistent" run --kernel /nonexistent
usage_error "--initrd /nonexistent" "/nonexistent" run --initrd /nonexistent
usage_error "--bios /nonexistent" "/nonexistent" run --bios /nonexistent
usage_error "--kernel a directory" "/etc" run --kernel /etc
usage_error "--kernel not an Image (/etc/hostname)" "/etc/hostname.*(Image|magic)|(Image|magic).*/etc/hostname" \
    run --kernel /etc/hostname
usage_error "--bios none without --kernel" "--kernel" run --bios none
usage_error "--bios none --kernel non-ELF" "/etc/hostname.*ELF" run --bios none --kernel /etc/hostname
HOSTELF=$(type -P true)
usage_error "--bios none --kernel host ELF ($HOSTELF, $(uname -m))" "RISC-V" \
    run --bios none --kernel "$HOSTELF"
mkdir -p "$tmp/noguest"
CONDO_GUEST_DIR=$tmp/noguest usage_error "default guest missing" "build-guest|quickstart" run

# -- bare-metal programs: valid options are accepted --------------------------
CC=""
for c in riscv64-unknown-elf-gcc riscv64-linux-gnu-gcc; do
    command -v "$c" >/dev/null 2>&1 && { CC=$c; break; }
done
# build NAME DEFINES...: build/tiny/NAME.elf from tiny.S
build() {
    local name=$1
    shift
    mkdir -p "$TINY_OUT"
    "$CC" -march=rv64gc -mabi=lp64d -mcmodel=medany -nostdlib -nostartfiles -static \
        -Wl,--no-warn-rwx-segments -Wl,--build-id=none "$@" -T "$HERE/tiny/link.ld" \
        -o "$TINY_OUT/$name.elf" "$HERE/tiny/tiny.S" 2>"$tmp/cc.err"
}
built=0
if [ -z "$CC" ]; then
    echo "FAIL bare-metal checks: no RISC-V compiler (scripts/install-deps.sh installs gcc-riscv64-unknown-elf)"
    fail=$((fail + 1))
elif build pass && build fail7 -DTOHOST=15 && build wfi -DPARK_WFI && build silent -DTOHOST=0; then
    built=1
else
    echo "FAIL building tests/guest/tiny/tiny.S with $CC:"; sed 's/^/    /' "$tmp/cc.err"
    fail=$((fail + 1))
fi

if [ $built = 1 ]; then
    P=$TINY_OUT/pass.elf
    # runs NAME WANT ARGS...: condo run ARGS must exit WANT
    runs() {
        local name=$1 want=$2
        shift 2
        run run "$@"
        if [ $rc = "$want" ]; then ok "$name: exit $want"; else bad "$name" "exit $rc (want $want)"; fi
    }
    runs "bare-metal pass (default memory)" 0 --bios none --kernel "$P"
    runs "--memory 2G accepted" 0 --bios none --kernel "$P" --memory 2G
    runs "--memory 768 (MiB) accepted" 0 --bios none --kernel "$P" --memory 768
    runs "--memory 16M (the minimum) accepted" 0 --bios none --kernel "$P" --memory 16M
    runs "--arch riscv64 --cpus 1 accepted" 0 --arch riscv64 --cpus 1 --bios none --kernel "$P"
    runs "--cpus 2 accepted (both harts run the program)" 0 --cpus 2 --bios none --kernel "$P"
    runs "--cpus 8 accepted" 0 --cpus 8 --bios none --kernel "$P"
    runs "bare-metal failure code 7 -> exit 7" 7 --bios none --kernel "$TINY_OUT/fail7.elf"
    # A program may wait in WFI right after its final store to tohost.
    LIMIT=5 runs "bare-metal pass then WFI -> exit 0 (the tohost store is seen)" 0 \
        --bios none --kernel "$TINY_OUT/wfi.elf"

    # Signals: condo stops the VM and exits 128+N, saying so.
    for sig in TERM INT; do
        num=$(kill -l "$sig")
        timeout -k 5 --preserve-status -s "$sig" 1 "$CONDO" run --bios none \
            --kernel "$TINY_OUT/silent.elf" </dev/null >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ $rc = $((128 + num)) ] && grep -q "signal $num" "$tmp/err"; then
            ok "SIG$sig stops a running VM: exit $rc, '$(head -n1 "$tmp/err")'"
        else
            bad "SIG$sig stops a running VM" "exit $rc (want $((128 + num)) and a 'signal $num' message)"
        fi
    done

    # Buttons (SIGUSR1 power button, SIGUSR2 Ctrl+Alt+Del): a bare-metal
    # program has no input driver, so condo answers "not delivered" on
    # stderr and the VM runs on until SIGTERM. Without virtio devices the
    # machine has no input device at all; with a disk it has one that no
    # driver set up.
    : >"$tmp/disk.img" && truncate -s 1M "$tmp/disk.img"
    for variant in none disk; do
        extra=()
        [ $variant = disk ] && extra=(--disk "$tmp/disk.img")
        "$CONDO" run --bios none --kernel "$TINY_OUT/silent.elf" "${extra[@]}" \
            </dev/null >"$tmp/out" 2>"$tmp/err" &
        pid=$!
        # Signal only once condo catches SIGUSR1 (SigCgt bit 9), else it
        # would die of it.
        for _ in $(seq 200); do
            cgt=$(awk '/^SigCgt:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
            [ -n "$cgt" ] && (( 0x$cgt & 0x200 )) && break
            sleep 0.05
        done
        got=""
        for sig in USR1 USR2; do
            kill -$sig $pid 2>/dev/null
            for _ in $(seq 100); do
                n=$(grep -c "not delivered" "$tmp/err")
                [ "$n" -ge "$([ $sig = USR1 ] && echo 1 || echo 2)" ] && break
                sleep 0.1
            done
        done
        kill -0 $pid 2>/dev/null && alive=1 || alive=0
        kill -TERM $pid 2>/dev/null
        wait $pid
        rc=$?
        if [ $variant = none ]; then want="has no input device"; else want="no virtio-input driver ready"; fi
        if [ $alive = 1 ] && [ $rc = 143 ] &&
           grep -q "power button (SIGUSR1) not delivered: .*$want" "$tmp/err" &&
           grep -q "Ctrl+Alt+Del (SIGUSR2) not delivered: .*$want" "$tmp/err"; then
            ok "bare metal (virtio: $variant): SIGUSR1/SIGUSR2 'not delivered' ($want), VM runs on"
        else
            bad "bare metal (virtio: $variant): buttons" "alive=$alive exit $rc (want 143 after SIGTERM), want two 'not delivered: ...$want' lines"
        fi
    done

    # Slots: 8 virtio slots, the entropy and input devices take 2.
    disks=()
    for i in 1 2 3 4 5 6 7; do
        : >"$tmp/d$i.img" && truncate -s 64K "$tmp/d$i.img"
        disks+=(--disk "$tmp/d$i.img")
    done
    runs "6 disks (all the free virtio slots) accepted" 0 --bios none --kernel "$P" "${disks[@]:0:12}"
    usage_error "7 disks: too many virtio devices" "too many virtio devices.*at most 6" \
        run --bios none --kernel "$P" "${disks[@]}"

    # Corrupt ELF files: a clear error (exit 2), never a crash.
    head -c 40 "$P" >"$tmp/short.elf"
    usage_error "ELF truncated inside its header" "short.elf" run --bios none --kernel "$tmp/short.elf"
    head -c 100 "$P" >"$tmp/nophdr.elf"
    usage_error "ELF truncated inside its program headers" "nophdr.elf" \
        run --bios none --kernel "$tmp/nophdr.elf"
    head -c 300 "$P" >"$tmp/nodata.elf"
    usage_error "ELF truncated before its segments' data" "nodata.elf.*(truncat|beyond|past|end of|outside the file|short)" \
        run --bios none --kernel "$tmp/nodata.elf"
    cp "$P" "$tmp/badphoff.elf"
    printf '\377\377\377\377\377\377\377\177' | dd of="$tmp/badphoff.elf" bs=1 seek=32 conv=notrunc 2>/dev/null
    usage_error "ELF with e_phoff far beyond the file" "badphoff.elf" \
        run --bios none --kernel "$tmp/badphoff.elf"
    cp "$P" "$tmp/badphnum.elf"
    printf '\377\377' | dd of="$tmp/badphnum.elf" bs=1 seek=56 conv=notrunc 2>/dev/null
    usage_error "ELF with e_phnum 65535" "badphnum.elf" run --bios none --kernel "$tmp/badphnum.elf"
    # Section headers locate `tohost`: a table beyond the file is a corrupt
    # file (refused), not a program that runs on and never reports.
    cp "$P" "$tmp/badshoff.elf"
    printf '\377\377\377\377\377\377\377\177' | dd of="$tmp/badshoff.elf" bs=1 seek=40 conv=notrunc 2>/dev/null
    usage_error "ELF with e_shoff far beyond the file" "badshoff.elf.*section header" \
        run --bios none --kernel "$tmp/badshoff.elf"
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
