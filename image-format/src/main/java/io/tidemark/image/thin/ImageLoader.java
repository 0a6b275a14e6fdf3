package io.tidemark.image.thin;

import static io.tidemark.image.thin.ImageFormat.HEADER_LENGTH;
import static io.tidemark.image.thin.ImageFormat.L1_ENTRY_SIZE;
import static io.tidemark.image.thin.ImageFormat.SECTOR;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads an image's metadata without writing: picks the current header, reads and verifies the
 * map delta, the L1 and L2 tables, validates every entry and finds overlaps, and derives the free
 * space. The delta's entries replace the tables' entries of their clusters in the loaded map, and
 * are noted there as changed, so that the next commit carries them on.
 *
 * <p>{@link Mode#STRICT} (open) fails on the first fault. {@link Mode#CHECK} collects every fault,
 * drops invalid entries from the loaded map (they read as zero then) and also verifies that each
 * compressed block decompresses. Faults that make the header or a table unreadable always end
 * the load with an exception, since nothing trustworthy is left to go on.
 */
final class ImageLoader {

    enum Mode { STRICT, CHECK }

    /**
     * The outcome of a load.
     *
     * @param lastUsedEnd first byte after the last referenced range
     * @param free unreferenced ranges below {@code lastUsedEnd}, each {offset, length}
     * @param corruptions faults found (empty in strict mode)
     * @param unrepairable true when a fault cannot be repaired safely (a bad table checksum)
     * @param overlaps physical ranges referenced more than once, each {offset, length}
     */
    record Loaded(ImageHeader header, ClusterMap map, long fileSize, long lastUsedEnd, List<long[]> free,
            List<ImageProblem> corruptions, boolean unrepairable, List<long[]> overlaps) {
    }

    private final ImageFile file;
    private final String name;
    private final Mode mode;
    private final List<ImageProblem> corruptions = new ArrayList<>();
    private boolean unrepairable;
    private long fileSize;
    private ImageHeader header;
    private int clusterSize;
    private final Lz4ClusterCodec codec;
    /** Referenced ranges encoded as (start sector << 13 | sectors - 1), see {@link #addRange}. */
    private long[] ranges = new long[1024];
    private int rangeCount;
    /** The guest clusters the map delta sets, ascending (empty without a delta). */
    private long[] deltaClusters = new long[0];

    private ImageLoader(ImageFile file, Mode mode, ImageHeader header, long fileSize) {
        this.file = file;
        this.name = file.name();
        this.mode = mode;
        this.header = header;
        this.fileSize = fileSize;
        this.clusterSize = header.clusterSize();
        this.codec = new Lz4ClusterCodec(clusterSize);
    }

    static Loaded load(ImageFile file, Mode mode) throws IOException {
        return load(file, mode, ProgressListener.NONE);
    }

    /** Loads, telling {@code progress} how many of the L1 entries are done. */
    static Loaded load(ImageFile file, Mode mode, ProgressListener progress) throws IOException {
        long size = file.size();
        ImageHeader header = readHeader(file, size);
        return new ImageLoader(file, mode, header, size).loadTables(progress);
    }

    /** The valid header slot with the highest generation. */
    static ImageHeader readHeader(ImageFile file, long size) throws IOException {
        String name = file.name();
        ByteBuffer magic = ByteBuffer.allocate(8);
        file.read(magic, 0);
        if (magic.position() < 8 || !Arrays.equals(magic.array(), ImageFormat.MAGIC_BYTES)) {
            throw new CorruptImageException(name, 0, size < 8
                    ? "file is " + size + " bytes, too short for a thin image"
                    : "not a thin image: no TIDEMARK magic");
        }
        ImageHeader best = null;
        CorruptImageException firstFault = null;
        for (long slotOffset : ImageFormat.SLOT_OFFSETS) {
            ByteBuffer slot = ByteBuffer.allocate(HEADER_LENGTH);
            int got = file.read(slot, slotOffset);
            slot.flip();
            ImageHeader candidate;
            try {
                if (got < HEADER_LENGTH) {
                    throw new CorruptImageException(name, slotOffset + got, "file ends inside the header slot (truncated image)");
                }
                candidate = ImageHeader.decode(slot, name, slotOffset);
            } catch (CorruptImageException e) {
                if (got == HEADER_LENGTH && !ImageHeader.isTorn(slot)) {
                    // An intact slot with a bad field was written that way: refuse rather than fall back.
                    throw e;
                }
                // A torn or never written slot: expected after a crash, the other slot is current.
                if (firstFault == null) {
                    firstFault = e;
                }
                continue;
            }
            if (best == null || candidate.generation() > best.generation()) {
                best = candidate;
            }
        }
        if (best == null) {
            throw firstFault;
        }
        if (size < best.clusterSize()) {
            throw new CorruptImageException(name, size, "file ends inside the header cluster of "
                    + best.clusterSize() + " bytes (truncated image)");
        }
        return best;
    }

    private Loaded loadTables(ProgressListener progress) throws IOException {
        ClusterMap map = new ClusterMap(header.clusterBits(), header.l1Entries());
        ByteBuffer delta = readDelta();
        if (header.l1Entries() > 0) {
            ByteBuffer l1 = readL1();
            for (int i = 0; i < header.l1Entries(); i++) {
                loadL2(map, l1, i);
                progress.progress(i + 1, header.l1Entries());
            }
        }
        applyDelta(map, delta);
        List<long[]> overlaps = new ArrayList<>();
        List<long[]> free = new ArrayList<>();
        long lastUsedEnd = scanRanges(overlaps, free);
        return new Loaded(header, map, fileSize, lastUsedEnd, free, List.copyOf(corruptions), unrepairable, overlaps);
    }

    private ByteBuffer readL1() throws IOException {
        long l1Offset = header.l1Offset();
        long l1Bytes = (long) header.l1Entries() * L1_ENTRY_SIZE;
        if (l1Offset + l1Bytes > fileSize) {
            throw new CorruptImageException(name, l1Offset, "L1 table of " + l1Bytes + " bytes extends past end of file ("
                    + fileSize + " bytes)");
        }
        ByteBuffer l1 = ByteBuffer.allocate(Math.toIntExact(l1Bytes));
        file.readFully(l1, l1Offset);
        int computed = ImageHeader.checksum(l1.array(), 0, l1.capacity());
        if (computed != header.l1Checksum()) {
            throw new CorruptImageException(name, l1Offset, "L1 table checksum mismatch (header says 0x"
                    + Integer.toHexString(header.l1Checksum()) + ", computed 0x" + Integer.toHexString(computed) + ")");
        }
        for (long at = 0; at < l1Bytes; at += clusterSize) {
            addRange(l1Offset + at, clusterSize);
        }
        return l1;
    }

    /**
     * Reads and verifies the map delta: checksum, and guest clusters ascending within the virtual
     * size. Its entries are validated when applied, after the tables.
     */
    private ByteBuffer readDelta() throws IOException {
        int entries = header.deltaEntries();
        if (entries == 0) {
            return null;
        }
        long at = header.deltaOffset();
        int bytes = entries * ImageFormat.DELTA_ENTRY_SIZE;
        if (at + bytes > fileSize) {
            throw new CorruptImageException(name, at, "map delta of " + bytes + " bytes extends past end of file ("
                    + fileSize + " bytes)");
        }
        ByteBuffer delta = ByteBuffer.allocate(bytes);
        file.readFully(delta, at);
        int computed = ImageHeader.checksum(delta.array(), 0, bytes);
        if (computed != header.deltaChecksum()) {
            throw new CorruptImageException(name, at, "map delta checksum mismatch (header says 0x"
                    + Integer.toHexString(header.deltaChecksum()) + ", computed 0x" + Integer.toHexString(computed) + ")");
        }
        addRange(at, header.deltaLength());
        long clusterCount = (header.virtualSize() + clusterSize - 1) / clusterSize;
        deltaClusters = new long[entries];
        for (int i = 0; i < entries; i++) {
            long cluster = delta.getLong(i * ImageFormat.DELTA_ENTRY_SIZE);
            if (cluster < 0 || cluster >= clusterCount || (i > 0 && cluster <= deltaClusters[i - 1])) {
                // Written that way under a good checksum; dropping it would let a stale table entry through.
                throw new CorruptImageException(name, at + (long) i * ImageFormat.DELTA_ENTRY_SIZE, "map delta entry " + i
                        + ": guest cluster " + cluster + (cluster < 0 || cluster >= clusterCount
                                ? " beyond the virtual size (" + clusterCount + " clusters)"
                                : " does not follow the previous entry's " + deltaClusters[i - 1] + " (must ascend)"));
            }
            deltaClusters[i] = cluster;
        }
        return delta;
    }

    /**
     * Puts the delta's entries into the map over the tables' ones. An invalid entry is dropped as
     * in a table, by setting the cluster unallocated (it reads as zeroes).
     */
    private void applyDelta(ClusterMap map, ByteBuffer delta) throws IOException {
        for (int i = 0; i < deltaClusters.length; i++) {
            long cluster = deltaClusters[i];
            long entry = delta.getLong(i * ImageFormat.DELTA_ENTRY_SIZE + 8);
            String what = entry == 0 ? null : entryProblem(entry);
            if (what != null) {
                fault(header.deltaOffset() + (long) i * ImageFormat.DELTA_ENTRY_SIZE + 8, 8, "map delta entry for guest offset "
                        + cluster * clusterSize + " (" + MapEntry.describe(entry) + "): " + what, true);
                entry = 0;
            }
            map.set(cluster, entry);
            long stored = MapEntry.storedLength(entry, clusterSize);
            if (stored > 0) {
                addRange(MapEntry.offset(entry), stored);
            }
        }
    }

    private void loadL2(ClusterMap map, ByteBuffer l1, int index) throws IOException {
        long entryAt = header.l1Offset() + (long) index * L1_ENTRY_SIZE;
        long l2Offset = l1.getLong(index * L1_ENTRY_SIZE);
        int checksum = l1.getInt(index * L1_ENTRY_SIZE + 8);
        int reserved = l1.getInt(index * L1_ENTRY_SIZE + 12);
        if (reserved != 0) {
            fault(entryAt + 12, L1_ENTRY_SIZE, "L1 entry " + index + ": reserved field is not zero", false);
        }
        if (l2Offset == 0) {
            return;
        }
        String problem = clusterProblem(l2Offset);
        if (problem != null) {
            fault(entryAt, L1_ENTRY_SIZE, "L1 entry " + index + ": L2 table offset " + l2Offset + " " + problem, false);
            return;
        }
        ByteBuffer bytes = ByteBuffer.allocate(clusterSize);
        file.readFully(bytes, l2Offset);
        int computed = ImageHeader.checksum(bytes.array(), 0, clusterSize);
        if (computed != checksum) {
            fault(l2Offset, clusterSize, "L2 table (L1 entry " + index + ") checksum mismatch (L1 says 0x"
                    + Integer.toHexString(checksum) + ", computed 0x" + Integer.toHexString(computed) + ")", false);
            addRange(l2Offset, clusterSize);
            return;
        }
        addRange(l2Offset, clusterSize);
        L2Table table = new L2Table(map.l2Entries());
        table.diskOffset = l2Offset;
        table.diskChecksum = checksum;
        long firstCluster = (long) index * map.l2Entries();
        long clusterCount = (header.virtualSize() + clusterSize - 1) / clusterSize;
        for (int i = 0; i < map.l2Entries(); i++) {
            long entry = bytes.getLong(i * 8);
            if (entry == 0) {
                continue;
            }
            long cluster = firstCluster + i;
            if (deltaClusters.length > 0 && Arrays.binarySearch(deltaClusters, cluster) >= 0) {
                // The delta replaces this entry: it references nothing.
                continue;
            }
            String what = cluster >= clusterCount ? "entry beyond the virtual size" : entryProblem(entry);
            if (what != null) {
                fault(l2Offset + i * 8L, 8, "L2 entry for guest offset " + cluster * clusterSize + " ("
                        + MapEntry.describe(entry) + "): " + what, true);
                continue;
            }
            table.set(i, entry);
            long stored = MapEntry.storedLength(entry, clusterSize);
            if (stored > 0) {
                addRange(MapEntry.offset(entry), stored);
            }
        }
        map.install(index, table);
    }

    /** Why an entry is invalid, or null. Verifies compressed blocks only in check mode. */
    private String entryProblem(long entry) throws IOException {
        int type = MapEntry.type(entry);
        if (type == MapEntry.UNALLOCATED) {
            return "reserved bits set in an unallocated entry";
        }
        if (type != MapEntry.COMPRESSED && (entry & MapEntry.RESERVED_MASK) != 0) {
            return "reserved bits set";
        }
        long offset = MapEntry.offset(entry);
        if (type == MapEntry.ZERO) {
            return offset == 0 ? null : clusterProblem(offset);
        }
        if (type == MapEntry.DATA) {
            return clusterProblem(offset);
        }
        int length = MapEntry.compressedLength(entry);
        if (length < 1 || length >= clusterSize) {
            return "bad compressed length " + length + " (must be 1.." + (clusterSize - 1) + ")";
        }
        if (offset < clusterSize) {
            return "compressed data inside the header cluster";
        }
        if (offset + length > fileSize) {
            return "compressed data ends past end of file (" + fileSize + " bytes)";
        }
        if (mode == Mode.CHECK) {
            ByteBuffer block = ByteBuffer.allocate(length);
            file.readFully(block, offset);
            if (codec.decompress(block.array()) == null) {
                return "compressed block does not decompress to one cluster";
            }
        }
        return null;
    }

    /** Why a cluster-sized structure cannot be at {@code offset}, or null. */
    private String clusterProblem(long offset) {
        if ((offset & (clusterSize - 1)) != 0) {
            return "is not cluster aligned";
        }
        if (offset < clusterSize) {
            return "points into the header cluster";
        }
        if (offset + clusterSize > fileSize) {
            return "ends past end of file (" + fileSize + " bytes)";
        }
        return null;
    }

    private void fault(long offset, long length, String what, boolean repairable) throws CorruptImageException {
        if (mode == Mode.STRICT) {
            throw new CorruptImageException(name, offset, what);
        }
        unrepairable |= !repairable;
        corruptions.add(new ImageProblem(ImageProblem.Kind.CORRUPTION, offset, length, what));
    }

    private void addRange(long offset, long length) {
        if (rangeCount == ranges.length) {
            ranges = Arrays.copyOf(ranges, ranges.length * 2);
        }
        long sectors = (length + SECTOR - 1) / SECTOR;
        ranges[rangeCount++] = (offset / SECTOR) << 13 | (sectors - 1);
    }

    /** Sorts the referenced ranges, reports overlaps and collects the gaps; returns the last used end. */
    private long scanRanges(List<long[]> overlaps, List<long[]> free) throws CorruptImageException {
        Arrays.sort(ranges, 0, rangeCount);
        long reach = clusterSize;
        for (int i = 0; i < rangeCount; i++) {
            long start = (ranges[i] >>> 13) * SECTOR;
            long end = start + ((ranges[i] & 0x1FFF) + 1) * SECTOR;
            if (start < reach) {
                long overlapEnd = Math.min(end, reach);
                fault(start, overlapEnd - start, "physical range " + start + ".." + overlapEnd
                        + " is referenced more than once", true);
                overlaps.add(new long[] {start, overlapEnd - start});
            } else if (start > reach) {
                free.add(new long[] {reach, start - reach});
            }
            reach = Math.max(reach, end);
        }
        return reach;
    }
}
