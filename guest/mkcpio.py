#!/usr/bin/env python3
"""Write a newc (SVR4, no CRC) cpio archive of a directory tree.

Why our own writer instead of `cpio -o`: the initramfs needs a /dev/console
character device (the kernel opens it before running /init), and creating
a device node on disk needs root. Here the node is just an archive entry.
Every entry is owned by 0:0 and gets a fixed mtime, so the archive is
reproducible and does not leak the builder's uid.

usage: mkcpio.py SRCDIR OUT [--node PATH:MODE:MAJOR:MINOR[:c|b]]...
"""
import os
import stat
import sys

MTIME = 0  # fixed, for reproducible archives


class Writer:
    def __init__(self, f):
        self.f = f
        self.ino = 1
        self.off = 0

    def _write(self, b):
        self.f.write(b)
        self.off += len(b)

    def _pad(self):
        if self.off % 4:
            self._write(b"\0" * (4 - self.off % 4))

    def entry(self, name, mode, data=b"", nlink=1, rmaj=0, rmin=0):
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, nlink, MTIME, len(data),
            0, 0, rmaj, rmin, len(nb), 0))
        self.ino += 1
        self._write(hdr.encode() + nb)
        self._pad()
        if data:
            self._write(data)
            self._pad()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    src, out = argv[1], argv[2]
    nodes = []
    rest = argv[3:]
    while rest:
        if rest[0] != "--node" or len(rest) < 2:
            sys.stderr.write("mkcpio: bad argument %r\n" % rest[0])
            return 2
        path, mode, maj, mino, *kind = rest[1].split(":")
        t = stat.S_IFBLK if kind and kind[0] == "b" else stat.S_IFCHR
        nodes.append((path.strip("/"), t | int(mode, 8), int(maj), int(mino)))
        rest = rest[2:]

    entries = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        rel = os.path.relpath(root, src)
        for n in sorted(dirs) + sorted(files):
            p = os.path.join(root, n)
            entries.append((os.path.normpath(os.path.join(rel, n)), p))
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        w = Writer(f)
        for name, p in entries:
            st = os.lstat(p)
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                w.entry(name, stat.S_IFDIR | perm, nlink=2)
            elif stat.S_ISLNK(st.st_mode):
                w.entry(name, stat.S_IFLNK | 0o777, os.readlink(p).encode())
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as g:
                    w.entry(name, stat.S_IFREG | perm, g.read())
            else:
                sys.stderr.write("mkcpio: skipping special file %s\n" % p)
        for name, mode, maj, mino in nodes:
            w.entry(name, mode, rmaj=maj, rmin=mino)
        w.entry("TRAILER!!!", 0)
        # Pad to a 512-byte block like cpio(1) does.
        if w.off % 512:
            w._write(b"\0" * (512 - w.off % 512))
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
