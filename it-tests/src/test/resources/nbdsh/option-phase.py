# Run by NbdshOptionPhaseIT inside nbdsh; the test defines uri, port, export, size, exports.
# Each step prints one "ok:" line; a failed assert ends nbdsh with a traceback and status 1.
import errno
import socket
import struct

import nbd

# --- libnbd in option mode: LIST, LIST_META_CONTEXT, INFO (unknown, then known), GO ----------
h = nbd.NBD()
h.set_opt_mode(True)
h.add_meta_context("base:allocation")
h.add_meta_context("tidemark-test:no-such-context")
h.connect_uri(uri)
assert h.aio_is_negotiating(), "libnbd should wait in the option phase"
assert h.get_structured_replies_negotiated(), "NBD_OPT_STRUCTURED_REPLY was refused"
print("ok: STRUCTURED_REPLY accepted")

listed = []
h.opt_list(lambda name, description: listed.append((name, description)))
assert sorted(n for n, _ in listed) == sorted(exports), "LIST gave %r, expected %r" % (listed, exports)
assert all(d for _, d in listed), "LIST gave an export without a description: %r" % listed
print("ok: LIST", listed)

contexts = []
count = h.opt_list_meta_context(lambda context: contexts.append(context))
assert contexts == ["base:allocation"] and count == 1, "LIST_META_CONTEXT gave %r" % contexts
print("ok: LIST_META_CONTEXT", contexts)

h.set_export_name("tidemark-test-no-such-export")
try:
    h.opt_info()
    raise AssertionError("INFO of an unknown export succeeded")
except nbd.Error as e:
    print("ok: INFO of an unknown export refused:", e.string)
assert h.aio_is_negotiating(), "a refused INFO must leave the option phase going"

h.set_export_name(export)
h.opt_info()
assert h.get_size() == size, "INFO size %d, expected %d" % (h.get_size(), size)
minimum = h.get_block_size(nbd.SIZE_MINIMUM)
preferred = h.get_block_size(nbd.SIZE_PREFERRED)
maximum = h.get_block_size(nbd.SIZE_MAXIMUM)
assert minimum in (1, 512) and minimum <= preferred <= maximum, (minimum, preferred, maximum)
assert h.can_meta_context("base:allocation"), "INFO did not report base:allocation"
print("ok: INFO", export, h.get_size(), (minimum, preferred, maximum))

h.opt_go()
assert h.aio_is_ready(), "GO did not enter transmission"
assert h.can_meta_context("base:allocation"), "GO did not select base:allocation"
assert len(h.pread(4096, 0)) == 4096
extents = []
h.block_status(size, 0, lambda context, offset, entries, err: extents.append((context, list(entries))))
assert extents and extents[0][0] == "base:allocation", extents
print("ok: GO, then READ and BLOCK_STATUS")
h.shutdown()

# --- ABORT ends the option phase cleanly -------------------------------------------------------
a = nbd.NBD()
a.set_opt_mode(True)
a.connect_uri(uri)
a.opt_abort()
assert a.aio_is_closed(), "ABORT did not close"
print("ok: ABORT")

# --- STARTTLS is refused by a server without TLS, and the handshake goes on --------------------
t = nbd.NBD()
t.set_tls(nbd.TLS_ALLOW)
t.connect_uri(uri)
assert not t.get_tls_negotiated()
assert len(t.pread(512, 0)) == 512
print("ok: STARTTLS refused, plain connection served")
t.shutdown()

# --- What libnbd cannot send: an unknown option, then NBD_OPT_EXPORT_NAME ----------------------
# libnbd (1.14) has no call for arbitrary options and uses EXPORT_NAME only as a fallback, so
# these few frames are written by hand on a plain socket.
NBDMAGIC, IHAVEOPT, REPLY_MAGIC = 0x4E42444D41474943, 0x49484156454F5054, 0x3E889045565A9
REP_ACK, REP_SERVER, REP_ERR_UNSUP = 1, 2, 0x80000001
OPT_EXPORT_NAME, OPT_LIST, UNKNOWN_OPTION = 1, 3, 0x7A7A


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "server closed the connection after %d of %d bytes" % (len(data), n)
        data += chunk
    return data


def send_option(sock, option, data=b""):
    sock.sendall(struct.pack(">QII", IHAVEOPT, option, len(data)) + data)


def option_reply(sock, option):
    magic, echoed, reply_type, length = struct.unpack(">QIII", recv_exact(sock, 20))
    assert magic == REPLY_MAGIC and echoed == option, (hex(magic), echoed, option)
    return reply_type, recv_exact(sock, length)


s = socket.create_connection(("127.0.0.1", port), timeout=10)
magic, ihaveopt, handshake_flags = struct.unpack(">QQH", recv_exact(s, 18))
assert magic == NBDMAGIC and ihaveopt == IHAVEOPT, "not a newstyle greeting"
assert handshake_flags & 0b11 == 0b11, "FIXED_NEWSTYLE and NO_ZEROES expected, got %#x" % handshake_flags
s.sendall(struct.pack(">I", 0b11))

send_option(s, UNKNOWN_OPTION, b"ignored payload")
reply_type, _ = option_reply(s, UNKNOWN_OPTION)
assert reply_type == REP_ERR_UNSUP, "unknown option answered %#x" % reply_type
print("ok: unknown option answered NBD_REP_ERR_UNSUP")

send_option(s, OPT_LIST)
names = []
while True:
    reply_type, data = option_reply(s, OPT_LIST)
    if reply_type == REP_ACK:
        break
    assert reply_type == REP_SERVER, "LIST answered %#x" % reply_type
    (name_length,) = struct.unpack(">I", data[:4])
    names.append(data[4:4 + name_length].decode())
assert sorted(names) == sorted(exports), names
print("ok: LIST after the unknown option", names)

send_option(s, OPT_EXPORT_NAME, export.encode())
export_size, transmission_flags = struct.unpack(">QH", recv_exact(s, 10))
assert export_size == size, (export_size, size)
assert transmission_flags & 1, "HAS_FLAGS missing"
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 0, 77, 0, 512))
reply_magic, error, cookie = struct.unpack(">IIQ", recv_exact(s, 16))
assert (reply_magic, error, cookie) == (0x67446698, 0, 77), (hex(reply_magic), error, cookie)
assert len(recv_exact(s, 512)) == 512
print("ok: EXPORT_NAME, then a simple-reply READ")
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 2, 78, 0, 0))
assert s.recv(1) == b"", "DISC did not close the connection"
print("ok: DISC closes")
s.close()
