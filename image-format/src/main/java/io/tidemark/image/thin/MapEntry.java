package io.tidemark.image.thin;

/**
 * Encoding of the 8-byte L2 entries (see {@code docs/image-format.md}). An entry is a plain
 * {@code long}, so that tables stay arrays of primitives; this class only packs and unpacks.
 */
final class MapEntry {

    static final int UNALLOCATED = 0;
    static final int ZERO = 1;
    static final int DATA = 2;
    static final int COMPRESSED = 3;

    static final long OFFSET_MASK = (1L << 56) - 1;
    static final long RESERVED_MASK = 0x3FL << 56;
    private static final int LENGTH_SHIFT = 41;
    private static final long LENGTH_MASK = (1L << 21) - 1;
    private static final long SECTOR_MASK = (1L << 41) - 1;

    private MapEntry() {
    }

    static int type(long entry) {
        return (int) (entry >>> 62);
    }

    static long data(long offset) {
        return (2L << 62) | offset;
    }

    /** A zero entry, optionally keeping the cluster at {@code keptOffset} (0 for none). */
    static long zero(long keptOffset) {
        return (1L << 62) | keptOffset;
    }

    static long compressed(long offset, int length) {
        return (3L << 62) | ((long) length << LENGTH_SHIFT) | (offset / ImageFormat.SECTOR);
    }

    /** Physical offset of a data cluster, a zero entry's kept cluster or a compressed block. */
    static long offset(long entry) {
        return type(entry) == COMPRESSED ? (entry & SECTOR_MASK) * ImageFormat.SECTOR : entry & OFFSET_MASK;
    }

    static int compressedLength(long entry) {
        return (int) ((entry >>> LENGTH_SHIFT) & LENGTH_MASK);
    }

    /** Bytes of the file this entry occupies (0 when it occupies none). */
    static long storedLength(long entry, int clusterSize) {
        return switch (type(entry)) {
            case DATA -> clusterSize;
            case ZERO -> offset(entry) == 0 ? 0 : clusterSize;
            case COMPRESSED -> ImageFormat.alignUp(compressedLength(entry), ImageFormat.SECTOR);
            default -> 0;
        };
    }

    static boolean readsAsZero(long entry) {
        int type = type(entry);
        return type == UNALLOCATED || type == ZERO;
    }

    static String describe(long entry) {
        return switch (type(entry)) {
            case UNALLOCATED -> "unallocated";
            case ZERO -> "zero@" + offset(entry);
            case DATA -> "data@" + offset(entry);
            default -> "lz4@" + offset(entry) + "+" + compressedLength(entry);
        };
    }
}
