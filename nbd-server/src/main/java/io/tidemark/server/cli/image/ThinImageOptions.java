package io.tidemark.server.cli.image;

import io.tidemark.image.thin.ImageFormat;
import picocli.CommandLine.Option;

/** The options that shape a new thin image, shared by {@code create} and {@code convert}. */
final class ThinImageOptions {

    @Option(names = "--cluster-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "thin images: allocation unit, a power of two from 4K to 2M (default 64K)")
    Long clusterSize;

    @Option(names = "--compress", paramLabel = "CODEC", converter = Compression.Converter.class,
            description = "thin images: store full clusters compressed with lz4 when that saves space")
    Compression compress;

    /** Whether any of these options was given. */
    boolean given() {
        return clusterSize != null || compress != null;
    }

    int clusterSize() {
        if (clusterSize == null) {
            return ImageFormat.DEFAULT_CLUSTER_SIZE;
        }
        if (clusterSize > ImageFormat.MAX_CLUSTER_SIZE) {
            throw new IllegalArgumentException("cluster size " + clusterSize + " is larger than the maximum "
                    + ImageFormat.MAX_CLUSTER_SIZE);
        }
        return clusterSize.intValue();
    }

    boolean compress() {
        return compress != null;
    }
}
