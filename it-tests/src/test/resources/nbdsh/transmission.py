# Run by NbdshTransmissionIT inside nbdsh; the test defines uri, size (the export's size, with
# 1 MiB of data at data_offset and holes elsewhere), data_file (a copy of those bytes) and expect_hole_chunks
# (whether the server under test promises OFFSET_HOLE chunks for sparse reads).
import errno

import nbd

MIB = 1024 * 1024
with open(data_file, "rb") as f:
    data = f.read()
assert len(data) == MIB
h = nbd.NBD()
h.add_meta_context("base:allocation")
h.connect_uri(uri)
assert h.get_size() == size

# --- structured reads: correct bytes; holes as OFFSET_HOLE chunks; DF gives one chunk ----------
chunks = []


def record_chunk(buf, offset, status, err):
    chunks.append((offset, len(buf), status))
    return 0


window_offset = data_offset - MIB
window = h.pread_structured(3 * MIB, window_offset, record_chunk)
assert window == bytes(MIB) + data + bytes(MIB), "structured read returned wrong bytes"
covered = sorted((o, n) for o, n, _ in chunks)
position = window_offset
for offset, length in covered:
    assert offset == position, "chunks leave a gap or overlap at %d: %r" % (position, covered)
    position += length
assert position == window_offset + 3 * MIB, "chunks do not cover the read: %r" % covered
holes = [c for c in chunks if c[2] == nbd.READ_HOLE]
if expect_hole_chunks:
    assert sum(n for _, n, _ in holes) >= 2 * MIB, "expected the 2 MiB of holes as OFFSET_HOLE chunks: %r" % chunks
print("ok: structured read over data and holes, %d chunks, %d hole chunks" % (len(chunks), len(holes)))

chunks.clear()
assert h.pread_structured(3 * MIB, window_offset, record_chunk, nbd.CMD_FLAG_DF) == window
assert len(chunks) == 1, "DF read came in %d chunks: %r" % (len(chunks), chunks)
print("ok: DF read in one chunk")

# --- block status: REQ_ONE gives one extent that makes progress; a full walk covers the export -
entries = []
h.block_status(8 * MIB, data_offset, lambda ctx, off, e, err: entries.append((ctx, list(e))),
               nbd.CMD_FLAG_REQ_ONE)
assert len(entries) == 1 and entries[0][0] == "base:allocation", entries
extent = entries[0][1]
assert len(extent) == 2 and 0 < extent[0] <= 8 * MIB and extent[1] & 1 == 0, \
    "REQ_ONE at the data gave %r, expected one data extent" % extent
print("ok: BLOCK_STATUS with REQ_ONE", extent)

offset = 0
walked = []
while offset < size:
    reply = []
    h.block_status(size - offset, offset, lambda ctx, off, e, err: reply.extend(e))
    assert reply and reply[0] > 0, "block status at %d made no progress: %r" % (offset, reply)
    for i in range(0, len(reply), 2):
        walked.append((offset, reply[i], reply[i + 1]))
        offset += reply[i]
data_extents = [(o, n) for o, n, flags in walked if flags & 1 == 0]
assert any(o <= data_offset and o + n >= data_offset + MIB for o, n in data_extents), walked
assert sum(n for _, n in data_extents) < size, "holes reported as data: %r" % walked
print("ok: BLOCK_STATUS walk of the export in %d extents" % len(walked))

# --- the largest request the server advertises works; a larger one is refused, not fatal ------
maximum = h.get_block_size(nbd.SIZE_MAXIMUM)
pattern = bytes(range(256)) * (maximum // 256)
h.pwrite(pattern, size - maximum)
assert h.pread(maximum, size - maximum) == pattern, "a maximum-size write did not read back"
h.set_strict_mode(0)
try:
    h.pread(maximum + MIB, 0)
    raise AssertionError("a read larger than the advertised maximum succeeded")
except nbd.Error as e:
    assert e.errnum in (errno.EINVAL, errno.EOVERFLOW), "oversize read failed with %s" % e.string
assert h.pread(MIB, data_offset) == data
print("ok: %d-byte requests work; a larger read is refused and the connection lives" % maximum)
h.set_strict_mode(nbd.STRICT_MASK)

# --- write zeroes: plain, NO_HOLE, and FAST_ZERO where advertised -------------------------------
h.pwrite(b"\x99" * (2 * MIB), 0)
h.zero(MIB, 0)
h.zero(MIB, MIB, nbd.CMD_FLAG_NO_HOLE)
assert h.pread(2 * MIB, 0) == bytes(2 * MIB)
if h.can_fast_zero():
    h.pwrite(b"\x99" * MIB, 2 * MIB)
    try:
        h.zero(MIB, 2 * MIB, nbd.CMD_FLAG_FAST_ZERO)
        assert h.pread(MIB, 2 * MIB) == bytes(MIB)
        print("ok: FAST_ZERO zeroed")
    except nbd.Error as e:
        assert e.errnum == errno.ENOTSUP, "FAST_ZERO failed with %s, only ENOTSUP allowed" % e.string
        print("ok: FAST_ZERO refused with ENOTSUP")
print("ok: WRITE_ZEROES plain and NO_HOLE read back as zeros")
h.shutdown()
