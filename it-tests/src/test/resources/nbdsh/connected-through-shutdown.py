# Run by ShutdownIT inside nbdsh; the test defines uri and marker (a file to create once
# connected). The client writes, flushes, signals the test, then keeps reading until the
# server, told to stop, ends the connection; it must not hang.
import errno
import pathlib
import time

import nbd

h = nbd.NBD()
h.connect_uri(uri)
h.pwrite(b"\x42" * 65536, 0)
h.flush()
pathlib.Path(marker).write_text("connected")

deadline = time.monotonic() + 30
while True:
    try:
        assert h.pread(512, 0) == b"\x42" * 512, "read returned wrong data while the server ran"
    except nbd.Error as e:
        print("ok: connection ended by the shutdown:", errno.errorcode.get(e.errnum, e.errnum), e.string)
        break
    assert time.monotonic() < deadline, "the server kept the connection 30 s after it was told to stop"
    time.sleep(0.1)
