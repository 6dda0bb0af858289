#!/usr/bin/env bash
# qcow2 interoperability with QEMU's tools (qemu-img, qemu-io from Debian's
# qemu-utils), the reference for the format. No guest is booted: condo's
# block layer is driven through build/tests/blocktool (tests/tools/blocktool.c)
# and images are made with `condo disk create`. Every image condo wrote must
# pass `qemu-img check` with no errors and no leaks, and read back through
# `qemu-img convert -O raw` exactly as a raw reference file that received the
# same writes; everything QEMU wrote must read back identically in condo.
#
# usage: tests/guest/test_qcow2_interop.sh [CONDO [BLOCKTOOL]]
#        (defaults: build/condo, build/tests/blocktool)
# Prints PASS/FAIL per check and, last, `N passed, M failed`;
# exits 1 if any check failed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CONDO=${1:-$ROOT/build/condo}
BT=${2:-$ROOT/build/tests/blocktool}
case "$CONDO" in /*) ;; *) CONDO=$(pwd)/$CONDO ;; esac
case "$BT" in /*) ;; *) BT=$(pwd)/$BT ;; esac

pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() {
    echo "FAIL $1: $2"
    [ -s err ] && sed 's/^/    stderr| /' err | head -n 8
    fail=$((fail + 1))
}
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" = 0 ]
    exit $?
}

# qemu-img and qemu-io are the reference: without them nothing here is
# proved, which is a failure (scripts/install-deps.sh installs qemu-utils).
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
    bad "qcow2 interop" "qemu-img/qemu-io not installed (scripts/install-deps.sh installs qemu-utils)"
    finish
fi
if [ ! -x "$BT" ]; then
    make -s -C "$ROOT" "${BT#"$ROOT"/}" >/dev/null 2>&1
fi
for f in "$CONDO" "$BT"; do
    if [ ! -x "$f" ]; then
        echo "FAIL $f not found or not executable (make, and make build/tests/blocktool)"
        echo "0 passed, 1 failed"
        exit 1
    fi
done

# qcheck IMG: qemu-img check finds no errors and no leaks (exit status 0).
qcheck() { qemu-img check -q "$1" >check.out 2>&1; }
# same IMG REF: the image's content, as QEMU reads it, equals the raw REF.
same() {
    rm -f conv.raw
    qemu-img convert -O raw "$1" conv.raw 2>err && cmp -s conv.raw "$2"
}
# condo_same IMG REF: the image's content, as condo reads it, equals REF.
condo_same() {
    local size
    size=$(stat -c %s "$2")
    "$BT" -r "$1" read 0 "$size" >cread.raw 2>err && cmp -s cread.raw "$2"
}
# both IMG REF FMT ARGS...: the same pseudo-random writes on the image
# (through condo) and on a raw reference file.
both() {
    local img=$1 ref=$2
    shift 2
    "$BT" "$img" "$@" 2>err && "$BT" -f raw "$ref" "$@" 2>>err
}
# check_written NAME IMG REF: clean for qemu-img and equal to REF for both.
check_written() {
    if ! qcheck "$2"; then
        bad "$1" "qemu-img check: $(head -n 3 check.out | tr '\n' ' ')"
    elif ! same "$2" "$3"; then
        bad "$1" "qemu-img convert -O raw differs from the reference"
    elif ! condo_same "$2" "$3"; then
        bad "$1" "condo reads back something else"
    else
        ok "$1"
    fi
}
vsize() { qemu-img info --output=json "$1" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p' | head -n1; }
jfield() { qemu-img info --output=json "$1" | sed -n "s/.*\"$2\": \"\\([^\"]*\\)\".*/\\1/p" | head -n1; }
# rt_clusters IMG: the header's refcount_table_clusters (big-endian, byte 56).
rt_clusters() { od -An -tu1 -j56 -N4 "$1" | awk '{ print ($1 * 16777216) + ($2 * 65536) + ($3 * 256) + $4 }'; }
# raw_of IMG OUT: the image's content as QEMU reads it.
raw_of() { rm -f "$2"; qemu-img convert -O raw "$1" "$2"; }

# -- images made by qemu-img, written by condo ------------------------------
qemu-img create -q -f qcow2 q1.qcow2 64M
truncate -s 64M q1.ref
if both q1.qcow2 q1.ref random 1 400 300; then
    check_written "qemu-img image written by condo: check clean, content exact" q1.qcow2 q1.ref
else
    bad "qemu-img image written by condo" "blocktool failed"
fi

qemu-img create -q -f qcow2 base.qcow2 64M
qemu-io -f qcow2 -c "write -P 0x11 0 64M" -c "write -P 0x12 5M 1M" base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 ov.qcow2
raw_of ov.qcow2 ov.ref
sum_base=$(md5sum <base.qcow2)
if both ov.qcow2 ov.ref random 2 400 300; then
    check_written "qemu-img overlay (-b) written by condo: copy-on-write exact" ov.qcow2 ov.ref
else
    bad "qemu-img overlay written by condo" "blocktool failed"
fi
if [ "$(md5sum <base.qcow2)" = "$sum_base" ] && qcheck base.qcow2; then
    ok "the backing file is left untouched"
else
    bad "the backing file is left untouched" "base.qcow2 changed"
fi

for opts in "cluster_size=512,refcount_bits=64" "cluster_size=4096,refcount_bits=1" \
    "cluster_size=2M" "compat=0.10" "lazy_refcounts=on"; do
    rm -f o.qcow2 o.ref
    qemu-img create -q -f qcow2 -o "$opts" o.qcow2 32M
    truncate -s 32M o.ref
    rt_before=$(rt_clusters o.qcow2)
    if both o.qcow2 o.ref random 3 1500 128; then
        check_written "qemu-img image ($opts) written by condo" o.qcow2 o.ref
    else
        bad "qemu-img image ($opts) written by condo" "blocktool failed"
    fi
    # 512-byte clusters with 64-bit refcounts: the refcount table must grow.
    if [ "$opts" = cluster_size=512,refcount_bits=64 ]; then
        rt_after=$(rt_clusters o.qcow2)
        if [ "$rt_after" -gt "$rt_before" ]; then
            ok "refcount table grown by condo ($rt_before to $rt_after clusters), still clean"
        else
            bad "refcount table growth" "not exercised ($rt_before to $rt_after clusters)"
        fi
    fi
done

# -- images made by condo ---------------------------------------------------
if "$CONDO" disk create c1.qcow2 1G 2>err && qcheck c1.qcow2 &&
    [ "$(vsize c1.qcow2)" = 1073741824 ] && [ "$(jfield c1.qcow2 format)" = qcow2 ]; then
    ok "condo disk create c1.qcow2 1G: qemu-img check clean, info shows 1 GiB qcow2"
else
    bad "condo disk create c1.qcow2 1G" "check/info: $(qemu-img info c1.qcow2 2>&1 | head -n 3 | tr '\n' ' ')"
fi
if "$CONDO" disk create c1.img 100M 2>err && [ "$(jfield c1.img format)" = raw ] &&
    [ "$(vsize c1.img)" = 104857600 ]; then
    ok "condo disk create c1.img 100M: a raw image of 100 MiB"
else
    bad "condo disk create c1.img 100M" "info: $(qemu-img info c1.img 2>&1 | head -n 3 | tr '\n' ' ')"
fi
# The base below the overlay's directory (condo follows backing names only
# there or into its image store), named relative to the overlay: from the
# current directory the name leads nowhere.
mkdir -p sub/lower && ln base.qcow2 sub/lower/base.qcow2
if "$CONDO" disk create sub/c2.qcow2 --backing lower/base.qcow2 2>err && qcheck sub/c2.qcow2 &&
    [ "$(vsize sub/c2.qcow2)" = 67108864 ] &&
    [ "$(jfield sub/c2.qcow2 backing-filename)" = lower/base.qcow2 ] &&
    [ "$(jfield sub/c2.qcow2 backing-filename-format)" = qcow2 ]; then
    ok "condo disk create --backing: check clean, info shows backing, its format and size"
else
    bad "condo disk create --backing" "$(qemu-img info sub/c2.qcow2 2>&1 | head -n 8 | tr '\n' ' ')"
fi
raw_of base.qcow2 c2.ref
if both sub/c2.qcow2 c2.ref random 4 400 300; then
    check_written "condo overlay written by condo: qemu-img sees the same" sub/c2.qcow2 c2.ref
else
    bad "condo overlay written by condo" "blocktool failed"
fi

# 600 MiB: two L2 tables (each maps 512 MiB with 64 KiB clusters).
"$CONDO" disk create c3.qcow2 600M 2>err
truncate -s 600M c3.ref
if both c3.qcow2 c3.ref random 5 300 300 0 8M && both c3.qcow2 c3.ref random 6 100 300 536000000 2M; then
    check_written "condo image written by condo (across an L2 table boundary)" c3.qcow2 c3.ref
else
    bad "condo image written by condo" "blocktool failed"
fi

# -- data written by QEMU, read by condo ------------------------------------
qemu-io -f qcow2 -c "write -P 0xa1 0 4k" -c "write -P 0xa2 64k 192k" -c "write -P 0xa3 700k 3k" \
    -c "write -P 0xa4 536870400 1024" c3.qcow2 >/dev/null 2>err
if qcheck c3.qcow2 && raw_of c3.qcow2 c3q.ref && condo_same c3.qcow2 c3q.ref; then
    ok "qemu-io writes into a condo image: condo reads them back identically"
else
    bad "qemu-io writes into a condo image" "condo read differs or check failed"
fi
qemu-io -f qcow2 -c "write -P 0x5c 1M 3M" -c "write -z 8M 1M" -c "write -P 0x5d 8M 4k" \
    -c "write -z 12M 128k" -c "discard 20M 1M" ov.qcow2 >/dev/null 2>err
if raw_of ov.qcow2 ov2.ref && condo_same ov.qcow2 ov2.ref; then
    ok "qemu-io data, zero clusters and discards over a backing file: condo reads them exactly"
else
    bad "qemu-io zero clusters over a backing file" "condo read differs"
fi
if both ov.qcow2 ov2.ref random 7 300 64 8M 6M; then
    check_written "condo writes into QEMU's zero clusters (partial, with copy-on-write)" ov.qcow2 ov2.ref
else
    bad "condo writes into zero clusters" "blocktool failed"
fi

# -- a backing chain of two levels ------------------------------------------
qemu-img create -q -f qcow2 l0.qcow2 32M
qemu-io -f qcow2 -c "write -P 0x01 0 32M" l0.qcow2 >/dev/null
"$CONDO" disk create l1.qcow2 --backing l0.qcow2 2>err
"$BT" l1.qcow2 random 8 200 200 2>>err
qemu-img create -q -f qcow2 -b l1.qcow2 -F qcow2 l2.qcow2
qemu-io -f qcow2 -c "write -P 0x02 3M 100k" -c "write -P 0x03 30M 64k" l2.qcow2 >/dev/null
sum0=$(md5sum <l0.qcow2) sum1=$(md5sum <l1.qcow2)
raw_of l2.qcow2 l2.ref
if condo_same l2.qcow2 l2.ref; then
    ok "two-level chain (QEMU / condo / QEMU layers): condo reads what QEMU reads"
else
    bad "two-level chain read" "condo read differs"
fi
if both l2.qcow2 l2.ref random 9 300 200; then
    check_written "two-level chain written by condo at the top" l2.qcow2 l2.ref
else
    bad "two-level chain written by condo" "blocktool failed"
fi
if [ "$(md5sum <l0.qcow2)" = "$sum0" ] && [ "$(md5sum <l1.qcow2)" = "$sum1" ] &&
    qcheck l0.qcow2 && qcheck l1.qcow2; then
    ok "the lower layers of the chain are untouched and clean"
else
    bad "lower layers untouched" "l0 or l1 changed"
fi

# -- a crash: SIGKILL without flush -----------------------------------------
qemu-img create -q -f qcow2 k.qcow2 32M
truncate -s 32M k.ref
both k.qcow2 k.ref random 10 300 128 0 16M
if ! "$BT" k.qcow2 crash 11 300 128 16M 16M 2>err; then
    bad "SIGKILL without a flush" "the writer was not killed as planned"
elif qcheck k.qcow2 && raw_of k.qcow2 k.raw && cmp -s -n 16777216 k.raw k.ref; then
    ok "SIGKILL without a flush: image checks clean, flushed data intact"
else
    bad "SIGKILL without a flush" "$(head -n 3 check.out | tr '\n' ' ')"
fi
if both k.qcow2 k.ref random 12 100 128 0 16M && qcheck k.qcow2 && raw_of k.qcow2 k.raw &&
    cmp -s -n 16777216 k.raw k.ref; then
    ok "the image keeps working after the crash"
else
    bad "after the crash" "write or check failed"
fi

# -- what condo refuses, clearly ---------------------------------------------
raw_of q1.qcow2 q1c.raw
qemu-img convert -q -c -O qcow2 q1.qcow2 comp.qcow2
if "$BT" -r comp.qcow2 read 0 67108864 >/dev/null 2>err; then
    bad "compressed image" "condo read it without complaint"
elif grep -q 'compressed' err && grep -qi 'not supported\|does not support' err; then
    ok "compressed clusters: a clear 'not supported' error, no data"
else
    bad "compressed image" "no clear message"
fi
if qemu-img create -q -f qcow2 --object secret,id=s0,data=pw \
    -o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10 enc.qcow2 16M 2>err; then
    if "$BT" -r enc.qcow2 info >/dev/null 2>err; then
        bad "encrypted image" "condo opened it"
    elif grep -q 'encryption' err; then
        ok "encrypted image: refused at open, naming encryption"
    else
        bad "encrypted image" "no clear message"
    fi
else
    bad "encrypted image" "qemu-img cannot make one here: $(head -n 1 err)"
fi
if qemu-img create -q -f qcow2 -o extended_l2=on ext.qcow2 16M 2>/dev/null; then
    if "$BT" -r ext.qcow2 info >/dev/null 2>err; then
        bad "extended L2 image" "condo opened it"
    elif grep -q 'extended L2' err; then
        ok "extended L2 entries: refused at open, naming them"
    else
        bad "extended L2 image" "no clear message"
    fi
else
    bad "extended L2 image" "qemu-img cannot make one here"
fi
qemu-img create -q -f qcow2 snap.qcow2 16M
qemu-io -f qcow2 -c "write -P 0x77 0 1M" snap.qcow2 >/dev/null
qemu-img snapshot -c s1 snap.qcow2
raw_of snap.qcow2 snap.ref
if "$BT" snap.qcow2 fill 0 512 1 2>err; then
    bad "image with internal snapshots" "condo wrote to it"
elif grep -q 'snapshot' err && condo_same snap.qcow2 snap.ref; then
    ok "internal snapshots: writing refused, reading works"
else
    bad "image with internal snapshots" "no clear message, or read differs"
fi

finish
