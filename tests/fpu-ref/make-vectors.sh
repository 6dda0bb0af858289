#!/bin/sh
# Build tests/fpu-ref/gen.c for riscv64 and run it under qemu-riscv64: the
# output (one line per executed F/D instruction, QEMU's softfloat results
# and flags) is the reference tests/unit/test_fpu.c checks against.
#   usage: tests/fpu-ref/make-vectors.sh OUTPUT
# Needs riscv64-linux-gnu-gcc (gcc-riscv64-linux-gnu) and qemu-riscv64
# (qemu-user); override with RISCV_CC / QEMU_RISCV64. Writes OUTPUT
# atomically (temporary name, then rename).
set -eu
out=${1:?usage: $0 OUTPUT}
cc=${RISCV_CC:-riscv64-linux-gnu-gcc}
qemu=${QEMU_RISCV64:-qemu-riscv64}
src=$(dirname "$0")/gen.c
for tool in "$cc" "$qemu"; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "make-vectors.sh: '$tool' not found; install gcc-riscv64-linux-gnu and qemu-user (scripts/install-deps.sh)" >&2
        exit 1
    }
done
mkdir -p "$(dirname "$out")"
bin=$out.gen
"$cc" -O2 -static -Wall -Wextra -Werror -march=rv64gc -mabi=lp64d -o "$bin" "$src"
"$qemu" "$bin" >"$out.tmp"
mv "$out.tmp" "$out"
rm -f "$bin"
echo "make-vectors.sh: $(wc -l <"$out") vectors in $out"
