"""Timed first-allocation writes through libnbd (python3-libnbd), for the webhook fault test.

  first_writes.py URI FIRST COUNT STRIDE PAUSE_MS

Writes COUNT blocks of 4 KiB at FIRST*STRIDE, (FIRST+1)*STRIDE, ... one at a time (each into an
unallocated cluster of a thin image when STRIDE is its cluster size), PAUSE_MS apart, and prints
each write's latency, request to reply, in microseconds, one per line.
"""
import sys
import time

import nbd


def main(uri, first, count, stride, pause_ms):
    h = nbd.NBD()
    h.connect_uri(uri)
    block = bytes(range(256)) * 16
    for i in range(first, first + count):
        start = time.perf_counter_ns()
        h.pwrite(block, i * stride)
        print((time.perf_counter_ns() - start) // 1000)
        time.sleep(pause_ms / 1000)
    h.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
