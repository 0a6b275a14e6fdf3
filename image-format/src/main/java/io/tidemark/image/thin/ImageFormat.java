package io.tidemark.image.thin;

import java.nio.charset.StandardCharsets;

/** The numbers of the thin image format, version 1, as {@code docs/image-format.md} defines them. */
public final class ImageFormat {

    /** The first 8 bytes of every thin image. */
    public static final String MAGIC = "TIDEMARK";
    static final byte[] MAGIC_BYTES = MAGIC.getBytes(StandardCharsets.US_ASCII);

    public static final int VERSION = 1;
    public static final int DEFAULT_CLUSTER_SIZE = 64 * 1024;
    public static final int MIN_CLUSTER_SIZE = 4 * 1024;
    public static final int MAX_CLUSTER_SIZE = 2 * 1024 * 1024;

    static final int HEADER_LENGTH = 128;
    /** Header slot offsets; the first cluster of the file is reserved for them. */
    static final long[] SLOT_OFFSETS = {0, 2048};
    static final int SECTOR = 512;
    static final int L1_ENTRY_SIZE = 16;
    static final int L2_ENTRY_SIZE = 8;
    /** A map delta record: guest cluster index, then its L2 entry. */
    static final int DELTA_ENTRY_SIZE = 16;
    /** Every physical offset in the file is below this (41 bits of sectors in a compressed entry). */
    static final long MAX_PHYSICAL = 1L << 50;
    static final long MAX_L1_ENTRIES = 1L << 22;
    static final long MAX_VIRTUAL = 1L << 56;

    /** Incompatible feature: compressed (type 3) entries may be present. */
    static final long INCOMPATIBLE_LZ4 = 1;
    /** Incompatible feature: the header names a map delta whose entries replace L2 entries. */
    static final long INCOMPATIBLE_MAP_DELTA = 2;
    static final long KNOWN_INCOMPATIBLE = INCOMPATIBLE_LZ4 | INCOMPATIBLE_MAP_DELTA;
    /** Compatible feature: writers compress full-cluster writes when it saves space. */
    static final long COMPATIBLE_COMPRESS_WRITES = 1;
    static final int FLAG_DIRTY = 1;

    private ImageFormat() {
    }

    static boolean validClusterSize(long clusterSize) {
        return clusterSize >= MIN_CLUSTER_SIZE && clusterSize <= MAX_CLUSTER_SIZE && Long.bitCount(clusterSize) == 1;
    }

    /** Guest bytes one L2 table maps: {@code cluster_size * cluster_size / 8}. */
    static long bytesPerL2(int clusterBits) {
        return 1L << (2 * clusterBits - 3);
    }

    /** The largest virtual size an image with this cluster size can have. */
    public static long maxVirtualSize(int clusterSize) {
        int bits = Integer.numberOfTrailingZeros(clusterSize);
        return Math.min(MAX_VIRTUAL, MAX_L1_ENTRIES * bytesPerL2(bits));
    }

    static int l1EntriesFor(long virtualSize, int clusterBits) {
        long perL2 = bytesPerL2(clusterBits);
        return Math.toIntExact((virtualSize + perL2 - 1) / perL2);
    }

    /** Bytes of the file an L1 of {@code entries} entries occupies: whole clusters. */
    static long l1Length(int entries, int clusterSize) {
        return alignUp((long) entries * L1_ENTRY_SIZE, clusterSize);
    }

    /** Bytes of the file a map delta of {@code entries} entries occupies: whole clusters. */
    static long deltaLength(int entries, int clusterSize) {
        return alignUp((long) entries * DELTA_ENTRY_SIZE, clusterSize);
    }

    static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
