package io.tidemark.server.cli.image;

import io.tidemark.image.ImageFiles;
import java.util.Locale;
import picocli.CommandLine;

/** The file formats the tools write, by the names users type. */
enum FileFormat {
    RAW, TIDEMARK;

    /** The name users type and see. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    static FileFormat of(ImageFiles.Kind kind) {
        return switch (kind) {
            case RAW -> RAW;
            case THIN -> TIDEMARK;
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
