package io.tidemark.image.thin;

/**
 * What {@code tidemark image info} shows about a thin image.
 *
 * @param virtualSize         size of the virtual disk in bytes
 * @param fileSize            size of the image file in bytes
 * @param usage               physical high-water mark: end of the last used byte
 * @param clusterSize         cluster size in bytes
 * @param clean               the image was closed cleanly (dirty flag clear)
 * @param compressWrites      full-cluster writes are stored LZ4-compressed when that saves space
 * @param dataClusters        clusters stored uncompressed
 * @param compressedClusters  clusters stored compressed
 * @param zeroClusters        clusters marked zero (reading zeroes, possibly keeping space)
 * @param compressedBytes     file bytes taken by the compressed clusters (sector rounded)
 * @param metadataBytes       file bytes taken by the header cluster, the L1, the L2 tables the file
 *                            holds and the map delta (a table made since the last checkpoint is
 *                            in the delta, not yet in the file)
 */
public record ImageInfo(
        long virtualSize,
        long fileSize,
        long usage,
        int clusterSize,
        boolean clean,
        boolean compressWrites,
        long dataClusters,
        long compressedClusters,
        long zeroClusters,
        long compressedBytes,
        long metadataBytes) {

    /** Guest bytes that hold data (stored plain or compressed). */
    public long allocatedBytes() {
        return (dataClusters + compressedClusters) * clusterSize;
    }

    /** Uncompressed over compressed size of the compressed clusters; 1.0 when there are none. */
    public double compressionRatio() {
        return compressedBytes == 0 ? 1.0 : (double) compressedClusters * clusterSize / compressedBytes;
    }
}
