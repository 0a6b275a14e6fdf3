# Run by CrashIT inside nbdsh, in two phases selected by `phase`; the test defines uri.
# "write": 64 flushed writes of 64 KiB with distinct bytes, then 64 more in flight, unflushed,
# when the test kills the server. "verify": after a restart, every flushed write reads back.
import nbd

BLOCK = 64 * 1024
FLUSHED = 64
h = nbd.NBD()
h.connect_uri(uri)
if phase == "write":
    for i in range(FLUSHED):
        h.pwrite(bytes([i + 1]) * BLOCK, i * 2 * BLOCK)
    h.flush()
    for i in range(FLUSHED):
        h.aio_pwrite(nbd.Buffer.from_bytearray(bytearray([0xF0]) * BLOCK), (i * 2 + 1) * BLOCK)
    print("ok: flushed %d writes, %d more in flight" % (FLUSHED, h.aio_in_flight()), flush=True)
    import time
    time.sleep(60)  # the test kills the server, and then this script
else:
    for i in range(FLUSHED):
        assert h.pread(BLOCK, i * 2 * BLOCK) == bytes([i + 1]) * BLOCK, "flushed write %d lost" % i
    print("ok: all %d flushed writes survived the crash" % FLUSHED)
