package io.tidemark.server.cli.image;

/**
 * What {@code image info} reports. Fields that a format lacks are null and left out of JSON.
 *
 * @param virtualSize      bytes the guest sees
 * @param physicalSize     bytes of the file (its length; for a raw file, the virtual size)
 * @param usage            the physical high-water mark thresholds watch (raw: the file size)
 * @param allocated        guest bytes that hold data (raw: data extents; thin: data clusters)
 * @param clusterSize      thin images only
 * @param compressionRatio thin images only: uncompressed over stored size of the compressed
 *                         clusters, 1.0 when none are compressed
 * @param clean            thin images only: whether the image was closed cleanly
 */
record InfoReport(
        String filename,
        String format,
        long virtualSize,
        long physicalSize,
        long usage,
        long allocated,
        Integer clusterSize,
        Double compressionRatio,
        Boolean clean) {
}
