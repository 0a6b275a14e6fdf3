package io.tidemark.server.cli.image;

import io.tidemark.image.ByteSize;
import picocli.CommandLine;

/** Reads sizes such as {@code 512}, {@code 64K}, {@code 10G} for options. */
final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        try {
            return ByteSize.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
