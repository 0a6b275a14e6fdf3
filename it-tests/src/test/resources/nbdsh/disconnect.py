# Run by DisconnectIT inside nbdsh; the test defines uri and answered_ok (the statuses allowed
# for a write that was in flight when the client disconnected: 0 only for tidemark, which
# finishes in-flight requests; nbdkit may refuse them with ESHUTDOWN).
#
# libnbd queues NBD_CMD_DISC behind 32 writes and, having sent it, shuts down its side of the
# socket for writing; the server must still answer every write before it closes.
import errno

import nbd

REQUESTS, LENGTH, BASE = 32, 256 * 1024, 4 * 1024 * 1024
for attempt in range(3):
    h = nbd.NBD()
    h.connect_uri(uri)
    fill = [(attempt * REQUESTS + i) % 255 + 1 for i in range(REQUESTS)]
    cookies = [h.aio_pwrite(nbd.Buffer.from_bytearray(bytearray([fill[i]]) * LENGTH), BASE + i * LENGTH)
               for i in range(REQUESTS)]
    h.aio_disconnect()
    while not h.aio_is_closed():
        h.poll(5000)
    statuses = []
    for cookie in cookies:
        try:
            statuses.append(0 if h.aio_command_completed(cookie) else "unanswered")
        except nbd.Error as e:
            statuses.append(e.errnum)
    dropped = [i + 1 for i, s in enumerate(statuses) if s == errno.ENOTCONN or s == "unanswered"]
    assert not dropped, ("attempt %d: the server closed the connection without answering writes %s of %d "
                         "queued before NBD_CMD_DISC" % (attempt + 1, dropped, REQUESTS))
    refused = [(i + 1, errno.errorcode.get(s, s)) for i, s in enumerate(statuses) if s not in answered_ok]
    assert not refused, "attempt %d: writes in flight at NBD_CMD_DISC failed: %s" % (attempt + 1, refused)

    check = nbd.NBD()
    check.connect_uri(uri)
    for i in range(REQUESTS):
        if statuses[i] == 0:
            assert check.pread(LENGTH, BASE + i * LENGTH) == bytes([fill[i]]) * LENGTH, \
                "attempt %d: write %d was answered but is not on the export" % (attempt + 1, i + 1)
    check.shutdown()
    print("ok: attempt %d, %d writes in flight at DISC: %s" % (
        attempt + 1, REQUESTS, "all answered" if set(statuses) == {0} else statuses))
