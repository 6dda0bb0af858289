#!/usr/bin/env python3
"""Write starting inputs for a fuzz target into the corpus directory given:
well-formed inputs the fuzzer then mutates.

usage: tests/fuzz/seeds.py TARGET DIR

Targets without seeds here start from an empty corpus (libFuzzer copes).
virtq and net inputs are the targets' little operation languages (see each
target's main loop); image, loader and options seeds come from
seeds_hostile.py, api seeds from api_seeds.py."""
import os
import struct
import sys

ALL = 0xFFFFFFFFFFFFFFFF

# --- virtq (tests/fuzz/fuzz_virtq.c) ---------------------------------------

BLK, RNG, INPUT, BALLOON = 0x00, 0x80, 0x40, 0x20


def probe(dev, features=ALL, num_log2=4):
    return bytes([dev | 3]) + struct.pack("<QB", features, num_log2)


def blk_req(typ, sector, len64, idx):
    return bytes([8, typ, sector, len64, idx])


def desc(dev, i, off, length, flags, nxt):
    # in-RAM address mode (0) + 16-bit offset
    return bytes([dev | 4, i, 0]) + struct.pack("<HHBB", off, length, flags, nxt)


def table_desc(idx, off, length, flags, nxt):
    return bytes([5]) + struct.pack("<HBHHBB", idx, 0, off, length, flags, nxt)


def avail(dev, head):
    return bytes([dev | 6, head, 0])


def notify(dev):
    return bytes([dev | 7, 0])


def time_ms(ms):
    return bytes([9]) + struct.pack("<H", ms)


def save_load(dev, mode=0):
    return bytes([dev | 12, mode])


def press(mode):
    # 0: power button, 1: Ctrl+Alt+Del (virtio-input)
    return bytes([14, mode])


def event_buffers(first, n, size=8):
    return b"".join(desc(INPUT, first + i, 0x5000 + 8 * i, size, 2, 0) + avail(INPUT, first + i)
                    for i in range(n))


def poke(off, data):
    return bytes([0]) + struct.pack("<HB", off, len(data)) + data


def reg_write(dev, off, value):
    return bytes([dev | 1]) + struct.pack("<HBI", off, 2, value)  # 4-byte write


def balloon_queue(q, num_log2=3):
    # the driver sets up balloon queue q on the balloon's ring area
    return bytes([15, 3, q, num_log2])


def balloon_target(pages):
    return bytes([15, 4]) + struct.pack("<I", pages)


# guest RAM is 32 KiB at 0x80000000: frame numbers 0x80000-0x80007
PFNS = struct.pack("<6I", 0x80004, 0x80005, 0x80007, 0x80005, 0x80008, 0x12345)

VIRTQ = {
    "blk-rw": bytes([0]) + probe(BLK) + blk_req(1, 1, 8, 0) + blk_req(0, 1, 8, 3)
    + blk_req(4, 0, 0, 6) + blk_req(8, 0, 1, 9) + save_load(BLK),
    "blk-unsupp-range": bytes([0]) + probe(BLK, num_log2=3) + blk_req(11, 0, 1, 0)
    + blk_req(0, 200, 8, 3) + blk_req(1, 0, 3, 5),
    "blk-ro": bytes([1]) + probe(BLK) + blk_req(1, 0, 8, 0) + blk_req(0, 0, 8, 3),
    "blk-ratelimit": bytes([6]) + probe(BLK) + b"".join(blk_req(0, i, 16, 3 * i) for i in range(5))
    + time_ms(500) + time_ms(1000) + save_load(BLK) + time_ms(3000),
    "blk-indirect": bytes([0]) + probe(BLK)
    + table_desc(0, 0x4000, 16, 1, 1) + table_desc(1, 0x4100, 512, 3, 2)
    + table_desc(2, 0x4010, 1, 2, 0)
    + desc(BLK, 0, 0x4000, 48, 4, 0) + avail(BLK, 0) + notify(BLK),
    "rng": bytes([0]) + probe(RNG, num_log2=3) + desc(RNG, 0, 0x5000, 64, 2, 0)
    + desc(RNG, 1, 0x5100, 4000, 3, 2) + desc(RNG, 2, 0x6000, 100, 2, 0)
    + avail(RNG, 0) + avail(RNG, 1) + notify(RNG) + save_load(RNG),
    "rng-loop": bytes([0]) + probe(RNG, num_log2=2) + desc(RNG, 0, 0x5000, 8, 3, 0)
    + avail(RNG, 0) + notify(RNG) + bytes([RNG | 11]) + probe(RNG),
    "input": bytes([0]) + probe(INPUT, num_log2=4) + event_buffers(0, 12) + press(0) + press(1)
    + save_load(INPUT) + press(0),
    "input-short": bytes([0]) + probe(INPUT, num_log2=3) + event_buffers(0, 2)
    + event_buffers(2, 1, size=4) + event_buffers(3, 2) + press(1) + press(0),
    # config 0x88: free page reporting and statistics (queues: inflate 0,
    # deflate 1, stats 2, reporting 3)
    "balloon-inflate": bytes([0x88]) + balloon_target(4) + probe(BALLOON) + poke(0x4000, PFNS)
    + desc(BALLOON, 0, 0x4000, len(PFNS), 0, 0) + avail(BALLOON, 0) + notify(BALLOON)
    + reg_write(BALLOON, 0x100 + 4, 4) + balloon_queue(1) + desc(BALLOON, 0, 0x4000, 8, 0, 0)
    + avail(BALLOON, 0) + reg_write(BALLOON, 0x50, 1) + save_load(BALLOON),
    "balloon-report": bytes([0x88]) + probe(BALLOON) + balloon_queue(3)
    + desc(BALLOON, 0, 0x6000, 0x2000, 3, 1) + desc(BALLOON, 1, 0x7ff0, 0x100, 2, 0)
    + avail(BALLOON, 0) + reg_write(BALLOON, 0x50, 3) + save_load(BALLOON),
    "balloon-stats": bytes([0x80]) + probe(BALLOON) + balloon_queue(2)
    + poke(0x4000, struct.pack("<HQHQ", 4, 1 << 20, 5, 1 << 24))
    + desc(BALLOON, 0, 0x4000, 20, 0, 0) + avail(BALLOON, 0) + reg_write(BALLOON, 0x50, 2)
    + bytes([15, 1]) + struct.pack("<H", 2) + bytes([15, 2]) + balloon_target(99999),
}

# --- net (tests/fuzz/fuzz_net.c) -------------------------------------------

RXQ, TXQ = 0x00, 0x80


def n_probe(features=ALL, num_log2=4):
    return bytes([3]) + struct.pack("<QB", features, num_log2)


def n_buffer(q, i, data_or_len):
    if q == TXQ:
        data = data_or_len
        return bytes([q | 8, i]) + struct.pack("<H", len(data)) + data
    return bytes([q | 8, i]) + struct.pack("<H", data_or_len)


def n_deliver(length, mode=0):
    return bytes([9, mode]) + struct.pack("<H", length)


def n_time(ms):
    return bytes([11]) + struct.pack("<H", ms)


FRAME = b"\xff" * 6 + b"\x52\x54\x00\x12\x34\x56" + b"\x08\x00" + bytes(range(46))
NET = {
    "tx": bytes([0]) + n_probe() + n_buffer(TXQ, 0, bytes(12) + FRAME)
    + n_buffer(TXQ, 1, bytes(12) + FRAME * 3) + n_buffer(TXQ, 2, bytes(8)),
    "rx": bytes([0]) + n_probe() + n_buffer(RXQ, 0, 1526) + n_buffer(RXQ, 1, 40)
    + n_deliver(60) + n_deliver(1514) + n_deliver(60) + n_deliver(5, mode=2),
    "rx-nobuf-held": bytes([1]) + n_probe(num_log2=2) + n_deliver(1000) + n_deliver(1000)
    + n_deliver(1000) + n_buffer(RXQ, 0, 2000) + n_time(500) + n_buffer(RXQ, 1, 2000)
    + n_time(1000),
    "tx-busy-ratelimit": bytes([1]) + n_probe() + bytes([10])
    + n_buffer(TXQ, 0, bytes(12) + FRAME * 20) + n_buffer(TXQ, 1, bytes(12) + FRAME * 20)
    + bytes([10]) + n_time(2000) + bytes([14, 0]) + bytes([13]),
}

# --- ELF programs, for the loader target (tests/fuzz/fuzz_loader.c) ----------


def elf(with_symbols=True, paddr=0x80000000, code=b"\x13\x00\x00\x00" * 4):
    """A minimal RISC-V ELF64 executable: one PT_LOAD and, if asked, a
    symbol table with tohost and fromhost (as the ISA tests have)."""
    ehsize, phsize, shsize = 64, 56, 64
    phoff = ehsize
    text_off = phoff + phsize
    strtab = b"\0tohost\0fromhost\0"
    shstrtab = b"\0.text\0.symtab\0.strtab\0.shstrtab\0"
    syms = bytes(24)  # the null symbol
    syms += struct.pack("<IBBHQQ", 1, 0x10, 0, 1, paddr + 0x1000, 8)   # tohost
    syms += struct.pack("<IBBHQQ", 8, 0x10, 0, 1, paddr + 0x1040, 8)   # fromhost
    body = bytearray(code)
    symtab_off = text_off + len(body)
    strtab_off = symtab_off + len(syms)
    shstr_off = strtab_off + len(strtab)
    shoff = (shstr_off + len(shstrtab) + 7) & ~7
    nsec = 5 if with_symbols else 0
    hdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    hdr += struct.pack("<HHIQQQIHHHHHH", 2, 243, 1, paddr, phoff, shoff if nsec else 0,
                       0x5, ehsize, phsize, 1, shsize if nsec else 0, nsec, 4 if nsec else 0)
    ph = struct.pack("<IIQQQQQQ", 1, 7, text_off, paddr, paddr, len(body), 0x2000, 0x1000)
    out = bytearray(hdr + ph + body)
    if not with_symbols:
        return bytes(out)
    out += syms + strtab + shstrtab
    out += bytes(shoff - len(out))
    sec = bytes(shsize)  # null section
    sec += struct.pack("<IIQQQQIIQQ", 1, 1, 6, paddr, text_off, len(body), 0, 0, 4, 0)
    sec += struct.pack("<IIQQQQIIQQ", 7, 2, 0, 0, symtab_off, len(syms), 3, 1, 8, 24)
    sec += struct.pack("<IIQQQQIIQQ", 15, 3, 0, 0, strtab_off, len(strtab), 0, 0, 1, 0)
    sec += struct.pack("<IIQQQQIIQQ", 23, 3, 0, 0, shstr_off, len(shstrtab), 0, 0, 1, 0)
    return bytes(out + sec)


ELF = {
    "with-symbols": elf(),
    "no-sections": elf(with_symbols=False),
    "outside-ram": elf(paddr=0x10000000),
}

# --- offload (tests/fuzz/fuzz_offload.c): caps byte, virtio-net header,
# frame --------------------------------------------------------------------
def _ip4_tcp(payload, flags=0x18):
    tcp = struct.pack(">HHIIBBHHH", 40000, 5001, 1000, 1, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 1, 0x4000, 64,
                     6, 0, bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2]))
    eth = bytes([0x52, 0x55, 10, 0, 2, 2, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x08, 0x00])
    return eth + ip + tcp + payload


def _ip6_tcp(payload):
    tcp = struct.pack(">HHIIBBHHH", 40000, 5001, 1000, 1, 5 << 4, 0x18, 65535, 0, 0)
    ip = struct.pack(">IHBB16s16s", 6 << 28, len(tcp) + len(payload), 6, 64,
                     bytes(15) + b"\x01", bytes(15) + b"\x02")
    eth = bytes([0x52, 0x55, 10, 0, 2, 2, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x86, 0xdd])
    return eth + ip + tcp + payload


def _vhdr(flags, gso, hdr_len, gso_size, cstart, coff):
    return struct.pack("<BBHHHH", flags, gso, hdr_len, gso_size, cstart, coff)


OFFLOAD = {
    "csum4": b"\x0f" + _vhdr(1, 0, 0, 0, 34, 16) + _ip4_tcp(bytes(range(200))),
    "tso4": b"\x0f" + _vhdr(1, 1, 54, 1448, 34, 16) + _ip4_tcp(bytes(4000)),
    "tso4-ecn": b"\x0f" + _vhdr(1, 0x81, 54, 536, 34, 16) + _ip4_tcp(bytes(3000), 0x98),
    "tso6": b"\x0f" + _vhdr(1, 4, 74, 1428, 54, 16) + _ip6_tcp(bytes(5000)),
    "gso0": b"\x0f" + _vhdr(1, 1, 54, 0, 34, 16) + _ip4_tcp(bytes(100)),
}

SEEDS = {"virtq": VIRTQ, "net": NET, "offload": OFFLOAD}


# --- snapshot files, for tests/fuzz/fuzz_snapshot.c ------------------------
# The layout of src/snapshot/snapshot_file.c and snapshot_ram.c, for the
# fuzz target's fake machine (64 KiB of RAM at 0x80000000).

def snapshot_file(ram_section, ram_flags=0, definition=b'{"name":"fuzz"}',
                  machine=b"\x01\x2a\x00\x00\x00", version=1, tail=b""):
    import struct
    import zlib
    secs = [(b"definition", 1, 0, definition), (b"machine", 1, 0, machine),
            (b"ram", version, ram_flags, ram_section)]
    hdr = bytearray(4096)
    hdr[0:8] = b"CONDOSNP"
    struct.pack_into("<II16s16sQQ", hdr, 8, version, len(secs), b"riscv64", b"riscv-virt",
                     0x80000000, 64 << 10)
    off = 4096
    for i, (tag, ver, flags, data) in enumerate(secs):
        struct.pack_into("<16sIIQQI", hdr, 64 + 48 * i, tag, ver, flags, off, len(data),
                         zlib.crc32(data))
        off += len(data)
    struct.pack_into("<I", hdr, 64 + 48 * 8, zlib.crc32(bytes(hdr[:64 + 48 * 8])))
    return bytes(hdr) + b"".join(s[3] for s in secs) + tail


def mapped_snapshot():
    """Format 2, mapped RAM: the descriptor (version, size, offset), then
    RAM raw at the next page boundary (two pages with data, the rest
    zero)."""
    import struct
    end = 4096 + len(b'{"name":"fuzz"}') + 5 + 17
    off = (end + 4095) // 4096 * 4096
    ram = bytearray(64 << 10)
    ram[0:4096] = b"\x22" * 4096
    ram[5 * 4096:6 * 4096] = bytes(range(256)) * 16
    return snapshot_file(b"\x02" + struct.pack("<QQ", 64 << 10, off), ram_flags=2, version=2,
                         tail=bytes(off - end) + bytes(ram))


def snapshot_seeds(out):
    import struct
    import subprocess
    import tempfile
    npages = 16
    pages = b"\x11" * 4096 + bytes(range(256)) * 16
    with tempfile.NamedTemporaryFile() as f:
        f.write(pages)
        f.flush()
        # zstd on a named file records the content size, as condo's frames do
        frame = subprocess.run(["zstd", "-q", "-c", f.name], check=True,
                               capture_output=True).stdout
    bitmap = bytes([0b00100001, 0])
    inline = b"\x01" + struct.pack("<Q", npages) + bitmap + frame
    seeds = {
        "inline": snapshot_file(inline),
        "memfile": snapshot_file(b"\x01" + struct.pack("<QQH", 64 << 10, 7, 13) +
                                 b"/nonexistent!", ram_flags=1),
        "mapped": mapped_snapshot(),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: tests/fuzz/seeds.py TARGET DIR")
    target, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    # The other targets' seeds live beside this file.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if target in ("image", "loader", "options"):
        import seeds_hostile
        {"image": seeds_hostile.image_seeds, "loader": seeds_hostile.loader_seeds,
         "options": seeds_hostile.option_seeds}[target](out)
        if target == "loader":  # ELF programs: the loader target's kind 1
            for name, data in ELF.items():
                with open(os.path.join(out, "seed-elf-" + name), "wb") as f:
                    f.write(b"\x01" + data)
        return
    if target == "snapshot":
        snapshot_seeds(out)
        return
    if target == "api":
        import api_seeds
        api_seeds.write(out)
        return
    for name, data in SEEDS.get(target, {}).items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
