package io.tidemark.image.thin;

import static io.tidemark.image.thin.ImageFormat.HEADER_LENGTH;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * One header slot (128 bytes, see {@code docs/image-format.md}). Immutable; a commit writes a
 * new one with the next generation into the older slot.
 */
record ImageHeader(
        long incompatibleFeatures,
        long compatibleFeatures,
        long generation,
        long virtualSize,
        int clusterBits,
        boolean dirty,
        long l1Offset,
        int l1Entries,
        int l1Checksum,
        long deltaOffset,
        int deltaEntries,
        int deltaChecksum) {

    static final int OFF_VERSION = 8;
    static final int OFF_HEADER_LENGTH = 12;
    static final int OFF_INCOMPATIBLE = 16;
    static final int OFF_COMPATIBLE = 24;
    static final int OFF_GENERATION = 32;
    static final int OFF_VIRTUAL_SIZE = 40;
    static final int OFF_CLUSTER_BITS = 48;
    static final int OFF_FLAGS = 52;
    static final int OFF_L1_OFFSET = 56;
    static final int OFF_L1_ENTRIES = 64;
    static final int OFF_L1_CHECKSUM = 68;
    static final int OFF_DELTA_OFFSET = 72;
    static final int OFF_DELTA_ENTRIES = 80;
    static final int OFF_DELTA_CHECKSUM = 84;
    static final int OFF_RESERVED = 88;
    static final int OFF_CHECKSUM = 124;

    int clusterSize() {
        return 1 << clusterBits;
    }

    /** The slot this header belongs in: generations alternate, starting with slot 0. */
    int slot() {
        return (int) ((generation - 1) & 1);
    }

    long slotOffset() {
        return ImageFormat.SLOT_OFFSETS[slot()];
    }

    boolean compressed() {
        return (compatibleFeatures & ImageFormat.COMPATIBLE_COMPRESS_WRITES) != 0;
    }

    /** The next generation with the given map: the L1, and a map delta (0 entries for none). */
    ImageHeader next(boolean dirty, long virtualSize, long l1Offset, int l1Entries, int l1Checksum, long deltaOffset,
            int deltaEntries, int deltaChecksum) {
        long incompatible = deltaEntries > 0
                ? incompatibleFeatures | ImageFormat.INCOMPATIBLE_MAP_DELTA
                : incompatibleFeatures & ~ImageFormat.INCOMPATIBLE_MAP_DELTA;
        return new ImageHeader(incompatible, compatibleFeatures, generation + 1, virtualSize, clusterBits, dirty,
                l1Offset, l1Entries, l1Checksum, deltaOffset, deltaEntries, deltaChecksum);
    }

    /** Bytes of the file the map delta occupies: whole clusters. */
    long deltaLength() {
        return ImageFormat.deltaLength(deltaEntries, clusterSize());
    }

    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH);
        b.put(ImageFormat.MAGIC_BYTES);
        b.putInt(OFF_VERSION, ImageFormat.VERSION);
        b.putInt(OFF_HEADER_LENGTH, HEADER_LENGTH);
        b.putLong(OFF_INCOMPATIBLE, incompatibleFeatures);
        b.putLong(OFF_COMPATIBLE, compatibleFeatures);
        b.putLong(OFF_GENERATION, generation);
        b.putLong(OFF_VIRTUAL_SIZE, virtualSize);
        b.putInt(OFF_CLUSTER_BITS, clusterBits);
        b.putInt(OFF_FLAGS, dirty ? ImageFormat.FLAG_DIRTY : 0);
        b.putLong(OFF_L1_OFFSET, l1Offset);
        b.putInt(OFF_L1_ENTRIES, l1Entries);
        b.putInt(OFF_L1_CHECKSUM, l1Checksum);
        b.putLong(OFF_DELTA_OFFSET, deltaOffset);
        b.putInt(OFF_DELTA_ENTRIES, deltaEntries);
        b.putInt(OFF_DELTA_CHECKSUM, deltaChecksum);
        b.putInt(OFF_CHECKSUM, checksum(b.array(), 0, OFF_CHECKSUM));
        return b.clear();
    }

    /**
     * True when a slot looks like an interrupted or never-made write of this version: no magic, or
     * our version with a checksum that does not match. Any other fault was written deliberately.
     */
    static boolean isTorn(ByteBuffer slot) {
        byte[] b = new byte[HEADER_LENGTH];
        slot.duplicate().get(b);
        if (!Arrays.equals(b, 0, 8, ImageFormat.MAGIC_BYTES, 0, 8)) {
            return true;
        }
        ByteBuffer in = ByteBuffer.wrap(b);
        return in.getInt(OFF_VERSION) == ImageFormat.VERSION && in.getInt(OFF_CHECKSUM) != checksum(b, 0, OFF_CHECKSUM);
    }

    /**
     * Parses and validates one slot read from {@code slotOffset} of {@code file}: magic, version
     * (before the checksum, so that a newer format is reported as such), length, checksum, fields.
     *
     * @throws CorruptImageException naming the offset of the first bad field
     */
    static ImageHeader decode(ByteBuffer slot, String file, long slotOffset) throws CorruptImageException {
        byte[] b = new byte[HEADER_LENGTH];
        slot.duplicate().get(b);
        ByteBuffer in = ByteBuffer.wrap(b);
        if (!Arrays.equals(b, 0, 8, ImageFormat.MAGIC_BYTES, 0, 8)) {
            throw new CorruptImageException(file, slotOffset, "no TIDEMARK magic in header slot");
        }
        int version = in.getInt(OFF_VERSION);
        if (version != ImageFormat.VERSION) {
            throw new CorruptImageException(file, slotOffset + OFF_VERSION,
                    "unsupported format version " + version + " (this program reads version " + ImageFormat.VERSION + ")");
        }
        int length = in.getInt(OFF_HEADER_LENGTH);
        if (length != HEADER_LENGTH) {
            throw new CorruptImageException(file, slotOffset + OFF_HEADER_LENGTH, "header length " + length + ", expected " + HEADER_LENGTH);
        }
        int stored = in.getInt(OFF_CHECKSUM);
        int computed = checksum(b, 0, OFF_CHECKSUM);
        if (stored != computed) {
            throw new CorruptImageException(file, slotOffset + OFF_CHECKSUM, "header checksum mismatch (stored 0x"
                    + Integer.toHexString(stored) + ", computed 0x" + Integer.toHexString(computed) + ")");
        }
        for (int i = OFF_RESERVED; i < OFF_CHECKSUM; i++) {
            if (b[i] != 0) {
                throw new CorruptImageException(file, slotOffset + i, "reserved header byte is not zero");
            }
        }
        long incompatible = in.getLong(OFF_INCOMPATIBLE);
        if ((incompatible & ~ImageFormat.KNOWN_INCOMPATIBLE) != 0) {
            throw new CorruptImageException(file, slotOffset + OFF_INCOMPATIBLE, "unknown incompatible features 0x"
                    + Long.toHexString(incompatible & ~ImageFormat.KNOWN_INCOMPATIBLE));
        }
        long generation = in.getLong(OFF_GENERATION);
        if (generation < 1) {
            throw new CorruptImageException(file, slotOffset + OFF_GENERATION, "generation " + generation + " is not positive");
        }
        int clusterBits = in.getInt(OFF_CLUSTER_BITS);
        if (clusterBits < 12 || clusterBits > 21) {
            throw new CorruptImageException(file, slotOffset + OFF_CLUSTER_BITS, "cluster bits " + clusterBits + " outside 12..21");
        }
        long virtualSize = in.getLong(OFF_VIRTUAL_SIZE);
        if (virtualSize < 0 || virtualSize > ImageFormat.maxVirtualSize(1 << clusterBits)) {
            throw new CorruptImageException(file, slotOffset + OFF_VIRTUAL_SIZE, "virtual size " + virtualSize
                    + " outside 0.." + ImageFormat.maxVirtualSize(1 << clusterBits) + " for this cluster size");
        }
        int flags = in.getInt(OFF_FLAGS);
        if ((flags & ~ImageFormat.FLAG_DIRTY) != 0) {
            throw new CorruptImageException(file, slotOffset + OFF_FLAGS, "unknown flags 0x" + Integer.toHexString(flags));
        }
        long l1Offset = in.getLong(OFF_L1_OFFSET);
        int l1Entries = in.getInt(OFF_L1_ENTRIES);
        int expectedEntries = ImageFormat.l1EntriesFor(virtualSize, clusterBits);
        if (l1Entries != expectedEntries) {
            throw new CorruptImageException(file, slotOffset + OFF_L1_ENTRIES, "L1 has " + Integer.toUnsignedString(l1Entries)
                    + " entries, virtual size " + virtualSize + " needs " + expectedEntries);
        }
        long clusterSize = 1L << clusterBits;
        boolean l1OffsetOk = l1Entries == 0
                ? l1Offset == 0
                : l1Offset >= clusterSize && (l1Offset & (clusterSize - 1)) == 0 && l1Offset < ImageFormat.MAX_PHYSICAL;
        if (!l1OffsetOk) {
            throw new CorruptImageException(file, slotOffset + OFF_L1_OFFSET, "bad L1 table offset " + l1Offset
                    + " (must be cluster aligned, after the header cluster)");
        }
        long deltaOffset = in.getLong(OFF_DELTA_OFFSET);
        int deltaEntries = in.getInt(OFF_DELTA_ENTRIES);
        boolean hasDelta = (incompatible & ImageFormat.INCOMPATIBLE_MAP_DELTA) != 0;
        if (deltaEntries < 0 || (deltaEntries > 0) != hasDelta
                || (long) deltaEntries * ImageFormat.DELTA_ENTRY_SIZE > clusterSize) {
            throw new CorruptImageException(file, slotOffset + OFF_DELTA_ENTRIES, "map delta of "
                    + Integer.toUnsignedString(deltaEntries) + " entries " + (hasDelta ? "with" : "without")
                    + " the map delta feature bit (must be 1.." + clusterSize / ImageFormat.DELTA_ENTRY_SIZE
                    + " with it, 0 without)");
        }
        int deltaChecksum = in.getInt(OFF_DELTA_CHECKSUM);
        boolean deltaOffsetOk = deltaEntries == 0
                ? deltaOffset == 0 && deltaChecksum == 0
                : deltaOffset >= clusterSize && (deltaOffset & (clusterSize - 1)) == 0
                        && deltaOffset < ImageFormat.MAX_PHYSICAL;
        if (!deltaOffsetOk) {
            throw new CorruptImageException(file, slotOffset + OFF_DELTA_OFFSET, "bad map delta offset " + deltaOffset
                    + " (must be cluster aligned, after the header cluster; offset and checksum 0 without a delta)");
        }
        return new ImageHeader(incompatible, in.getLong(OFF_COMPATIBLE), generation, virtualSize, clusterBits,
                (flags & ImageFormat.FLAG_DIRTY) != 0, l1Offset, l1Entries, in.getInt(OFF_L1_CHECKSUM), deltaOffset,
                deltaEntries, deltaChecksum);
    }

    static int checksum(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }
}
