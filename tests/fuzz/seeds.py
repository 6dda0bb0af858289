#!/usr/bin/env python3
"""Write starting inputs for fuzz_virtq (tests/fuzz/fuzz_virtq.c) into the
corpus directory given: well-formed driver sessions the fuzzer then mutates.
The encoding is the target's little operation language (see its main loop)."""
import os
import struct
import sys

BLK, RNG, INPUT = 0x00, 0x80, 0x40
ALL = 0xFFFFFFFFFFFFFFFF


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


SEEDS = {
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
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
