package io.tidemark.server.cli.image;

import java.util.Locale;

/** Sizes for people to read: {@code 512 B}, {@code 1.5 KiB}, {@code 10 GiB}. */
final class HumanSize {

    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    private HumanSize() {
    }

    static String of(long bytes) {
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        if (unit == 0 || value == Math.rint(value)) {
            return String.format(Locale.ROOT, "%d %s", (long) value, UNITS[unit]);
        }
        return String.format(Locale.ROOT, "%.1f %s", value, UNITS[unit]);
    }

    /** A size with its exact byte count, e.g. {@code 10 GiB (10737418240 bytes)}. */
    static String withBytes(long bytes) {
        return of(bytes) + " (" + bytes + " bytes)";
    }
}
