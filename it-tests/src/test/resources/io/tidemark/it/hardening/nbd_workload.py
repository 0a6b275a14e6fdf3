"""NBD client workloads for the hardening tests, on libnbd (python3-libnbd).

  write URI START LENGTH SEED FLUSH_EVERY   write disjoint random-sized pieces of
      [START, START+LENGTH) in random order, FLUSH after every FLUSH_EVERY writes, and print
      "flushed OFFSET LENGTH SEED" for each write acknowledged before a FLUSH that completed.
      Starts a new pass ("pass N") when the region is written; runs until the server goes away.
  verify URI          read "flushed OFFSET LENGTH SEED" lines from stdin, read each range back,
      print "mismatch OFFSET LENGTH" for each that differs, then "verified N"; exit 1 on mismatch.
  fill URI CHUNK      write CHUNK-sized pieces from offset 0 until a write fails; print
      "written BYTES" and "error ERRNO MESSAGE" (ERRNO as a number).
  write1 URI OFFSET LENGTH SEED   write one range, print "ok" or "error ERRNO MESSAGE".
"""
import itertools
import random
import struct
import sys

import nbd

UNIT = 4096


def data(offset, length, seed):
    """Bytes that name their own 4 KiB block and the writer's seed: misplaced or lost data shows."""
    out = bytearray()
    for block in range(offset // UNIT, (offset + length + UNIT - 1) // UNIT):
        out += struct.pack(">QQ", block, seed) * (UNIT // 16)
    start = offset - (offset // UNIT) * UNIT
    return bytes(out[start:start + length])


def connect(uri):
    h = nbd.NBD()
    h.connect_uri(uri)
    return h


def write(uri, start, length, seed, flush_every):
    rng = random.Random(seed)
    try:
        h = connect(uri)
        for p in itertools.count():
            # a new pass over the region each time: pieces of one pass never overlap, so a piece
            # flushed in the last pass has exactly one right content
            pass_seed = seed + 1000 * p
            print("pass %d" % p)
            pieces = []
            pos = start
            while pos < start + length:
                n = min(rng.randint(1, 16) * UNIT, start + length - pos)
                pieces.append((pos, n))
                pos += n
            rng.shuffle(pieces)
            pending = []
            for i, (offset, n) in enumerate(pieces, 1):
                h.pwrite(data(offset, n, pass_seed), offset)
                pending.append((offset, n))
                if i % flush_every == 0 or i == len(pieces):
                    h.flush()
                    for o, l in pending:
                        print("flushed %d %d %d" % (o, l, pass_seed))
                    sys.stdout.flush()
                    pending = []
    except nbd.Error as e:
        print("ended: %s" % e, file=sys.stderr)


def verify(uri):
    h = connect(uri)
    count = 0
    bad = 0
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 4 or parts[0] != "flushed":
            continue
        offset, length, seed = int(parts[1]), int(parts[2]), int(parts[3])
        if h.pread(length, offset) != data(offset, length, seed):
            print("mismatch %d %d" % (offset, length))
            bad += 1
        count += 1
    print("verified %d" % count)
    h.shutdown()
    sys.exit(1 if bad else 0)


def fill(uri, chunk):
    h = connect(uri)
    offset = 0
    size = h.get_size()
    try:
        while offset + chunk <= size:
            h.pwrite(data(offset, chunk, 7), offset)
            offset += chunk
        print("written %d" % offset)
        print("error 0 no error before the end of the export")
    except nbd.Error as e:
        print("written %d" % offset)
        print("error %d %s" % (e.errnum or 0, e.string))
    h.shutdown()


def write1(uri, offset, length, seed):
    h = connect(uri)
    try:
        h.pwrite(data(offset, length, seed), offset)
        h.flush()
        print("ok")
    except nbd.Error as e:
        print("error %d %s" % (e.errnum or 0, e.string))
    h.shutdown()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "write":
        write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    elif mode == "verify":
        verify(sys.argv[2])
    elif mode == "fill":
        fill(sys.argv[2], int(sys.argv[3]))
    elif mode == "write1":
        write1(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit("unknown mode " + mode)
