package io.tidemark.server.cli.image;

import io.tidemark.image.BlockDevice;
import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ThinImage;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;

/** The file formats the tools write, by the names users type. */
enum FileFormat {
    RAW, TIDEMARK;

    /** The name users type and see. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Creates a new, empty image of this format, open for writing. Cluster size and compression
     * apply to thin images only.
     *
     * @throws FileAlreadyExistsException when {@code path} exists; it is left untouched
     */
    BlockDevice create(Path path, long size, int clusterSize, boolean compress) throws IOException {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(path.toString(), null, "already exists");
        }
        return switch (this) {
            case RAW -> RawFileDevice.create(path, size);
            case TIDEMARK -> ThinImage.create(path, size, clusterSize, compress);
        };
    }

    /** Parses {@code raw} or {@code tidemark}, in any case. */
    static final class Converter implements CommandLine.ITypeConverter<FileFormat> {
        @Override
        public FileFormat convert(String value) {
            for (FileFormat format : values()) {
                if (format.label().equalsIgnoreCase(value)) {
                    return format;
                }
            }
            throw new CommandLine.TypeConversionException("unknown format '" + value + "' (use raw or tidemark)");
        }
    }
}
