package io.tidemark.bench;

import io.tidemark.image.BlockDevice;
import io.tidemark.image.raw.RawFileDevice;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/** The devices compared, each created empty at a path and opened for writing. */
public enum DeviceKind {

    /** A sparse raw file: the baseline every thin-image figure is compared with. */
    RAW {
        @Override
        BlockDevice createEmpty(Path path, long size) throws IOException {
            try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
                file.setLength(size);
            }
            return RawFileDevice.open(path, false);
        }
    };

    /** Creates a device of {@code size} virtual bytes that reads as zeroes and has nothing allocated. */
    abstract BlockDevice createEmpty(Path path, long size) throws IOException;
}
