package io.tidemark.server.cli;

import io.tidemark.image.ByteSize;
import io.tidemark.threshold.ThresholdValue;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import picocli.CommandLine;

/**
 * One {@code --export NAME=PATH[,readonly][,threshold=SIZE|PCT%][,quota=SIZE]} option, parsed.
 * The server opens the path; the threshold and quota are for the threshold module.
 */
public record ExportSpec(String name, Path path, boolean readOnly, Optional<ThresholdValue> threshold,
        OptionalLong quota) {

    public static final String FORMAT = "NAME=PATH[,readonly][,threshold=SIZE|PCT%][,quota=SIZE]";

    public static ExportSpec parse(String text) {
        int equals = text.indexOf('=');
        if (equals <= 0) {
            throw new IllegalArgumentException("expected " + FORMAT + ", got '" + text + "'");
        }
        String name = text.substring(0, equals);
        String[] parts = text.substring(equals + 1).split(",", -1);
        if (parts[0].isEmpty()) {
            throw new IllegalArgumentException("export '" + name + "' has no path");
        }
        boolean readOnly = false;
        Optional<ThresholdValue> threshold = Optional.empty();
        OptionalLong quota = OptionalLong.empty();
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i];
            int eq = part.indexOf('=');
            String key = eq < 0 ? part : part.substring(0, eq);
            String value = eq < 0 ? null : part.substring(eq + 1);
            switch (key) {
                case "readonly" -> {
                    requireNoValue(name, key, value);
                    readOnly = true;
                }
                case "threshold" -> threshold = Optional.of(ThresholdValue.parse(requireValue(name, key, value)));
                case "quota" -> quota = OptionalLong.of(ByteSize.parse(requireValue(name, key, value)));
                default -> throw new IllegalArgumentException("export '" + name + "': unknown setting '" + part
                        + "' (known: readonly, threshold=SIZE|PCT%, quota=SIZE)");
            }
        }
        return new ExportSpec(name, Path.of(parts[0]), readOnly, threshold, quota);
    }

    /** The same export, served from {@code resolved}. */
    ExportSpec withPath(Path resolved) {
        return new ExportSpec(name, resolved, readOnly, threshold, quota);
    }

    private static String requireValue(String name, String key, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("export '" + name + "': " + key + " needs a value, e.g. " + key + "=10G");
        }
        return value;
    }

    private static void requireNoValue(String name, String key, String value) {
        if (value != null) {
            throw new IllegalArgumentException("export '" + name + "': " + key + " takes no value");
        }
    }

    /** Lets picocli turn the option's text into a spec, reporting a bad one as a usage error. */
    static final class Converter implements CommandLine.ITypeConverter<ExportSpec> {
        @Override
        public ExportSpec convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
