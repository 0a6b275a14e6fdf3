package io.tidemark.server.cli.image;

import picocli.CommandLine;

/** The values of {@code --compress}; lz4 is the only codec the thin format has. */
enum Compression {
    LZ4;

    /** Parses {@code lz4}, in any case. */
    static final class Converter implements CommandLine.ITypeConverter<Compression> {
        @Override
        public Compression convert(String value) {
            if ("lz4".equalsIgnoreCase(value)) {
                return LZ4;
            }
            throw new CommandLine.TypeConversionException("unknown compression '" + value + "' (use lz4)");
        }
    }
}
