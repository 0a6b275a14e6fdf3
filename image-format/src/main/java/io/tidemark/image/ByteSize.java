package io.tidemark.image;

import java.util.Locale;

/** Sizes as users write them: {@code 512}, {@code 64K}, {@code 10G}, {@code 1T} (powers of 1024). */
public final class ByteSize {

    private static final String SUFFIXES = "KMGTPE";

    private ByteSize() {
    }

    /** Parses a size; a suffix K, M, G, T, P or E (optionally followed by "iB" or "B") multiplies by 1024^n. */
    public static long parse(String text) {
        String s = text.strip().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("B") && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty size");
        }
        int shift = 0;
        int suffix = SUFFIXES.indexOf(s.charAt(s.length() - 1));
        if (suffix >= 0) {
            shift = 10 * (suffix + 1);
            s = s.substring(0, s.length() - 1);
        }
        long number;
        try {
            number = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (use e.g. 512, 64K, 10G, 1T)");
        }
        if (number < 0) {
            throw new IllegalArgumentException("negative size: '" + text + "'");
        }
        if (shift > 0 && number > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size too large: '" + text + "'");
        }
        return number << shift;
    }

    /** Formats a size with the largest suffix that divides it exactly, e.g. 65536 → "64K". */
    public static String format(long bytes) {
        if (bytes == 0) {
            return "0";
        }
        int unit = -1;
        while (unit + 1 < SUFFIXES.length() && bytes % (1L << (10 * (unit + 2))) == 0) {
            unit++;
        }
        return unit < 0 ? Long.toString(bytes) : (bytes >> (10 * (unit + 1))) + String.valueOf(SUFFIXES.charAt(unit));
    }
}
