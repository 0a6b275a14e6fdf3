package io.tidemark.server.cli.image;

/**
 * What {@code image info} reports. Fields that a format lacks are null and left out of JSON.
 *
 * @param virtualSize      bytes the guest sees
 * @param physicalSize     bytes of the file (its length; for a raw file, the virtual size)
 * @param allocated        bytes of the file that hold data (raw: data extents; thin: clusters in use)
 * @param clusterSize      thin images only
 * @param compressedRatio  thin images only: stored bytes of compressed clusters over their
 *                         uncompressed size; null when nothing is compressed
 * @param clean            thin images only: whether the image was closed cleanly
 */
record ImageInfo(
        String filename,
        String format,
        long virtualSize,
        long physicalSize,
        long allocated,
        Integer clusterSize,
        Double compressedRatio,
        Boolean clean) {
}
