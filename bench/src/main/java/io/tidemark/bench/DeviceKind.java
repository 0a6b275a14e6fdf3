package io.tidemark.bench;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ImageFormat;
import io.tidemark.image.thin.ThinImage;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/** The devices compared, each created empty at a path and opened for writing. */
public enum DeviceKind {

    /** A sparse raw file: the baseline every thin-image figure is compared with. */
    RAW {
        @Override
        BlockDevice createEmpty(Path path, long size, AllocationListener listener) throws IOException {
            try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
                file.setLength(size);
            }
            return RawFileDevice.open(path, false);
        }
    },

    /** A thin image with the default cluster size, uncompressed: what {@code image create} makes. */
    THIN {
        @Override
        BlockDevice createEmpty(Path path, long size, AllocationListener listener) throws IOException {
            ThinImage.create(path, size, ImageFormat.DEFAULT_CLUSTER_SIZE, false).close();
            return ThinImage.open(path, false, listener);
        }
    };

    /**
     * Creates a device at {@code path} (which must not exist) of {@code size} virtual bytes that
     * reads as zeroes and has nothing allocated, open for writing and telling {@code listener} of
     * allocations (a raw file has none to tell).
     */
    abstract BlockDevice createEmpty(Path path, long size, AllocationListener listener) throws IOException;
}
