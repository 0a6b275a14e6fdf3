# Run by NbdshMalformedRequestsIT inside nbdsh; the test defines uri, ro_uri, reference (the
# writable export's first 4096 bytes; the read-only export is all zeros). With strict mode off, libnbd sends what the server must refuse;
# each refusal must carry the spec's errno and leave the connection serving correct reads.
import errno
import os
import select
import struct

import nbd

h = nbd.NBD()
h.add_meta_context("base:allocation")
h.connect_uri(uri)
h.set_strict_mode(0)
size = h.get_size()


def still_serving(handle):
    expected = reference if handle is h else bytes(4096)
    assert handle.pread(4096, 0) == expected, "a correct read after the error returned wrong data"


def expect_errno(handle, what, expected, request):
    try:
        request()
    except nbd.Error as e:
        assert e.errnum == expected, "%s: expected %s, got %s (%s)" % (
            what, errno.errorcode[expected], errno.errorcode.get(e.errnum, e.errnum), e.string)
    else:
        raise AssertionError("%s: the server accepted it" % what)
    still_serving(handle)
    print("ok: %s -> %s" % (what, errno.errorcode[expected]))


still_serving(h)
expect_errno(h, "read past the end", errno.EINVAL, lambda: h.pread(512, size))
expect_errno(h, "read straddling the end", errno.EINVAL, lambda: h.pread(8192, size - 4096))
expect_errno(h, "64 KiB write past the end (payload consumed)", errno.ENOSPC,
             lambda: h.pwrite(b"\xa5" * 65536, size))
expect_errno(h, "write straddling the end", errno.ENOSPC, lambda: h.pwrite(b"\xa5" * 8192, size - 4096))
expect_errno(h, "write-zeroes past the end", errno.ENOSPC, lambda: h.zero(4096, size))
expect_errno(h, "trim past the end", errno.EINVAL, lambda: h.trim(4096, size))
expect_errno(h, "block status past the end", errno.EINVAL,
             lambda: h.block_status(4096, size, lambda *args: 0))
expect_errno(h, "read with an unknown flag (0x80)", errno.EINVAL, lambda: h.pread(512, 0, 0x80))
expect_errno(h, "write with REQ_ONE (a block-status flag)", errno.EINVAL,
             lambda: h.pwrite(b"\xa5" * 512, 0, nbd.CMD_FLAG_REQ_ONE))
expect_errno(h, "write with DF (a read flag)", errno.EINVAL,
             lambda: h.pwrite(b"\xa5" * 512, 0, nbd.CMD_FLAG_DF))
assert h.pread(4096, size - 4096) is not None

# libnbd has no call for an unknown command type; send one frame by hand on its socket while
# it is idle, read the reply ourselves, then let libnbd carry on.
fd = h.aio_get_fd()


def read_exact(n):
    data = b""
    while len(data) < n:
        ready, _, _ = select.select([fd], [], [], 10)
        assert ready, "no reply within 10 s"
        chunk = os.read(fd, n - len(data))
        assert chunk, "server closed the connection"
        data += chunk
    return data


os.write(fd, struct.pack(">IHHQQI", 0x25609513, 0, 0x55, 0xC0FFEE, 0, 0))
(magic,) = struct.unpack(">I", read_exact(4))
if magic == 0x67446698:
    error, cookie = struct.unpack(">IQ", read_exact(12))
elif magic == 0x668E33EF:
    flags, chunk_type, cookie, length = struct.unpack(">HHQI", read_exact(16))
    (error,) = struct.unpack(">I", read_exact(length)[:4])
else:
    raise AssertionError("reply magic %#x" % magic)
assert cookie == 0xC0FFEE and error == errno.EINVAL, (cookie, error)
still_serving(h)
print("ok: unknown command 0x55 -> EINVAL")
h.shutdown()

ro = nbd.NBD()
ro.connect_uri(ro_uri)
ro.set_strict_mode(0)
assert ro.is_read_only()
expect_errno(ro, "write to a read-only export", errno.EPERM, lambda: ro.pwrite(b"\x5a" * 4096, 0))
expect_errno(ro, "write-zeroes to a read-only export", errno.EPERM, lambda: ro.zero(4096, 0))
expect_errno(ro, "trim on a read-only export", errno.EPERM, lambda: ro.trim(4096, 0))
ro.shutdown()

# Bad request magic is a framing error: the server closes the connection.
b = nbd.NBD()
b.connect_uri(uri)
fd = b.aio_get_fd()
os.write(fd, struct.pack(">IHHQQI", 0x12345678, 0, 0, 1, 0, 512))
ready, _, _ = select.select([fd], [], [], 10)
assert ready, "server neither answered nor closed after a bad request magic"
assert os.read(fd, 16) == b"", "server answered a request with bad magic instead of closing"
print("ok: bad request magic closes the connection")
