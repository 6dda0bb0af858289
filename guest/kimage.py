#!/usr/bin/env python3
"""Turn a packaged Linux riscv64 kernel into a flat RISC-V `Image`.

usage: kimage.py KERNEL OUT     (prints the detected format on stdout)

Handles: a flat Image (RISC-V magic "RISCV\\0\\0\\0" at 48 and "RSC\\x05" at
56; with an EFI stub the first bytes are "MZ" and a PE header follows, which
is still a flat Image that boots directly), a gzip-compressed Image
(vmlinuz), and an EFI zboot image ("MZ", "zimg" at 4, payload offset/size at
8/12, compressor name at 24). Debian trixie ships the first kind as
/boot/vmlinux-*; the others are handled so a packaging change fails loudly
or works, instead of producing an unbootable file.
"""
import gzip
import lzma
import shutil
import struct
import subprocess
import sys

RISCV_MAGIC = b"RISCV\0\0\0"
RISCV_MAGIC2 = b"RSC\x05"


def is_flat(b):
    return len(b) >= 64 and b[48:56] == RISCV_MAGIC and b[56:60] == RISCV_MAGIC2


def decompress(kind, data):
    if kind == "gzip":
        return gzip.decompress(data)
    if kind in ("xzkern", "xz", "lzma"):
        return lzma.decompress(data)
    if kind == "zstd22" or kind == "zstd":
        return subprocess.run(["zstd", "-dc"], input=data, check=True,
                              stdout=subprocess.PIPE).stdout
    raise SystemExit("kimage: unsupported zboot compression %r" % kind)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    fmt = None
    if is_flat(data):
        fmt = "flat RISC-V Image" + (" (with EFI stub PE header)" if data[:2] == b"MZ" else "")
        out = data
    elif data[:2] == b"\x1f\x8b":
        out = gzip.decompress(data)
        fmt = "gzip-compressed Image (decompressed)"
    elif data[:2] == b"MZ" and data[4:8] == b"zimg":
        off, size = struct.unpack_from("<II", data, 8)
        kind = data[24:32].rstrip(b"\0").decode("ascii", "replace")
        out = decompress(kind, data[off:off + size])
        fmt = "EFI zboot (%s) image (payload decompressed)" % kind
    else:
        raise SystemExit("kimage: %s: unknown kernel format" % sys.argv[1])
    if not is_flat(out):
        raise SystemExit("kimage: %s: result has no RISC-V Image header" % sys.argv[1])
    image_size = struct.unpack_from("<Q", out, 16)[0]
    with open(sys.argv[2], "wb") as f:
        f.write(out)
    print("%s, %d bytes, header image_size %d" % (fmt, len(out), image_size))


if __name__ == "__main__":
    main()
