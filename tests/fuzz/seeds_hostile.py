#!/usr/bin/env python3
"""Seed corpora for the hostile-input fuzz targets (tests/fuzz/run.sh):

  image/    disk images as qemu-img makes them (small clusters, so the files
            are small): plain, with data, with backing names that the rule
            allows (base.img, mid.qcow2, the image store) and refuses
            (/etc/passwd, ../, /dev/zero, itself), versions 2 and 3, odd
            refcount widths, lazy refcounts, raw files
  loader/   a RISC-V kernel Image with an EFI stub's PE header, an ELF
            program with a tohost symbol, raw bytes
  options/  condo run command lines (NUL-separated arguments)

Each file starts with the target's options byte. Existing seeds are kept.
usage: seeds_hostile.py OUTDIR   (writes OUTDIR/{image,loader,options}/)
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile


def put(d, name, data):
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)


def image_seeds(d):
    if not shutil.which("qemu-img"):
        sys.exit("seeds_hostile.py: qemu-img is needed (scripts/install-deps.sh installs "
                 "qemu-utils)")
    t = tempfile.mkdtemp()
    with open(os.path.join(t, "base.img"), "wb") as f:
        f.write(bytes(range(256)) * 256)
    try:
        def mk(name, size="256K", *opts, data=None, backing=None, bfmt=None):
            p = os.path.join(t, name)
            argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    ",".join(("cluster_size=512",) + opts)]
            if backing:
                argv += ["-u", "-b", backing]
                if bfmt:
                    argv += ["-F", bfmt]
            subprocess.run(argv + [p, size], check=True)
            if data:
                cmds = []
                for off, n, pat in data:
                    cmds += ["-c", "write -P 0x%02x %d %d" % (pat, off, n)]
                subprocess.run(["qemu-io", "-f", "qcow2"] + cmds + [p], check=True,
                               stdout=subprocess.DEVNULL)
            with open(p, "rb") as f:
                return f.read()

        seeds = {
            "plain": mk("a.qcow2"),
            "data": mk("b.qcow2", data=[(0, 4096, 0x5a), (70000, 1536, 0xa5), (200704, 512, 1)]),
            "v2": mk("c.qcow2", "256K", "compat=0.10", data=[(512, 1024, 0x11)]),
            "rc1": mk("d.qcow2", "256K", "refcount_bits=1", data=[(0, 2048, 0x22)]),
            "rc64": mk("e.qcow2", "256K", "refcount_bits=64", data=[(4096, 512, 0x33)]),
            "lazy": mk("f.qcow2", "256K", "lazy_refcounts=on", data=[(0, 512, 0x44)]),
            "backing-base": mk("g.qcow2", backing="base.img", bfmt="raw",
                               data=[(1024, 512, 0x55)]),
            "backing-mid": mk("i.qcow2", backing="mid.qcow2", bfmt="qcow2"),
            "backing-store": mk("j.qcow2", backing="home/images/store.img", bfmt="raw"),
            "backing-etc": mk("k.qcow2", backing="/etc/passwd", bfmt="raw"),
            "backing-dotdot": mk("l.qcow2", backing="../fuzz.img", bfmt="raw"),
            "backing-dev": mk("m.qcow2", backing="/dev/zero", bfmt="raw"),
            "backing-self": mk("n.qcow2", backing="fuzz.img", bfmt="qcow2"),
        }
    finally:
        shutil.rmtree(t)
    for name, data in seeds.items():
        for opt in (0x00, 0x01 | 0x40, 0x04, 0x08 | 0x10):
            put(d, "%s-%02x" % (name, opt), bytes([opt]) + data)
    put(d, "raw-4k", b"\x00" + bytes(range(256)) * 16)
    put(d, "raw-magic", b"\x01" + b"QFI\xfb" + bytes(4092))


def riscv_image():
    """An Image laid out as Debian's (MZ, RISC-V header, PE at 0x40)."""
    size = 8192
    d = bytearray(size)
    d[0:2] = b"MZ"
    struct.pack_into("<Q", d, 16, size + 4096)   # image_size
    struct.pack_into("<I", d, 32, 2)             # version 0.2
    d[48:56] = b"RISCV\0\0\0"
    d[56:60] = b"RSC\x05"
    struct.pack_into("<I", d, 60, 0x40)
    d[0x40:0x44] = b"PE\0\0"
    struct.pack_into("<HH", d, 0x44, 0x5064, 2)
    struct.pack_into("<H", d, 0x54, 160)
    sh = 0x40 + 24 + 160
    d[sh:sh + 8] = b".text\0\0\0"
    struct.pack_into("<II", d, sh + 16, 0x1000, 0x1000)
    d[sh + 40:sh + 48] = b".data\0\0\0"
    struct.pack_into("<II", d, sh + 56, size - 0x2000, 0x2000)
    return bytes(d)


def riscv_elf():
    """A 64-bit RISC-V ELF: one PT_LOAD at 0x80000000, .symtab with tohost."""
    code = bytes.fromhex("13050000") * 16
    strtab = b"\0tohost\0fromhost\0"
    shstr = b"\0.text\0.symtab\0.strtab\0.shstrtab\0"
    ehsize, phsize, shsize, symsize = 64, 56, 64, 24
    off_code = ehsize + phsize
    off_sym = off_code + len(code)
    syms = bytes(symsize) + struct.pack("<IBBHQQ", 1, 0x10, 0, 1, 0x80001000, 8) + \
        struct.pack("<IBBHQQ", 8, 0x10, 0, 1, 0x80001008, 8)
    off_str = off_sym + len(syms)
    off_shstr = off_str + len(strtab)
    off_sh = (off_shstr + len(shstr) + 7) & ~7
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh += struct.pack("<HHIQQQIHHHHHH", 2, 243, 1, 0x80000000, ehsize, off_sh, 5, ehsize, phsize,
                      1, shsize, 5, 4)
    ph = struct.pack("<IIQQQQQQ", 1, 5, off_code, 0x80000000, 0x80000000, len(code), 0x2000,
                     0x1000)
    body = bytearray(eh + ph + code + syms + strtab + shstr)
    body += bytes(off_sh - len(body))
    sh = bytes(shsize)
    sh += struct.pack("<IIQQQQIIQQ", 1, 1, 6, 0x80000000, off_code, len(code), 0, 0, 4, 0)
    sh += struct.pack("<IIQQQQIIQQ", 7, 2, 0, 0, off_sym, len(syms), 3, 1, 8, symsize)
    sh += struct.pack("<IIQQQQIIQQ", 15, 3, 0, 0, off_str, len(strtab), 0, 0, 1, 0)
    sh += struct.pack("<IIQQQQIIQQ", 23, 3, 0, 0, off_shstr, len(shstr), 0, 0, 1, 0)
    return bytes(body + sh)


def loader_seeds(d):
    put(d, "image", b"\x00" + riscv_image())
    put(d, "image-short", b"\x00" + riscv_image()[:1024])
    put(d, "elf", b"\x01" + riscv_elf())
    put(d, "raw", b"\x02" + bytes(range(256)) * 4)
    put(d, "elf-check", b"\x03" + riscv_elf()[:64])


def option_seeds(d):
    lines = [
        ["--bios", "none", "--kernel", "prog.elf"],
        ["--memory", "2G", "--cpus", "1", "--kernel", "Image", "--initrd", "initrd.cpio",
         "--append", "console=ttyS0"],
        ["--disk", "a.qcow2,ro,format=qcow2,iops=100,bps=1048576", "--disk", "b.img,format=raw"],
        ["--disk", "x.qcow2,backing=none,ro", "--disk", "y.qcow2,backing=/srv/base.qcow2"],
        ["--net", "user,hostfwd=tcp::2222-:22", "--net", "switch,name=lab", "-v", "-v"],
        ["--memory", "512M", "--arch", "riscv64", "--help"],
        ["--memory=1G", "--disk=a.img,ro", "--bogus", "stray"],
        ["--cpus", "0", "--memory", "99999999999999999999G"],
    ]
    for i, argv in enumerate(lines):
        put(d, "cmd%d" % i, b"\0".join(a.encode() for a in argv))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    image_seeds(os.path.join(out, "image"))
    loader_seeds(os.path.join(out, "loader"))
    option_seeds(os.path.join(out, "options"))


if __name__ == "__main__":
    main()
