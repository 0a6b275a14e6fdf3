package io.tidemark.threshold;

import io.tidemark.image.ByteSize;

/**
 * A threshold as a user gives it: an absolute usage in bytes ({@code 16G}) or a percentage
 * ({@code 80%}) of a base that the export supplies (its quota if it has one, else its virtual size).
 */
public sealed interface ThresholdValue {

    /** The usage in bytes at which this value fires, for an export whose percentage base is {@code base}. */
    long resolve(long base);

    record Absolute(long bytes) implements ThresholdValue {
        public Absolute {
            if (bytes < 0) {
                throw new IllegalArgumentException("threshold must not be negative");
            }
        }

        @Override
        public long resolve(long base) {
            return bytes;
        }

        @Override
        public String toString() {
            return ByteSize.format(bytes);
        }
    }

    record Percent(double percent) implements ThresholdValue {
        public Percent {
            if (!(percent >= 0 && percent <= 100)) {
                throw new IllegalArgumentException("percentage must be between 0 and 100: " + percent);
            }
        }

        @Override
        public long resolve(long base) {
            return (long) Math.floor(base * (percent / 100.0));
        }

        @Override
        public String toString() {
            return (percent == Math.rint(percent) ? Long.toString((long) percent) : Double.toString(percent)) + "%";
        }
    }

    static ThresholdValue parse(String text) {
        String s = text.strip();
        if (s.endsWith("%")) {
            try {
                return new Percent(Double.parseDouble(s.substring(0, s.length() - 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a percentage: '" + text + "'");
            }
        }
        return new Absolute(ByteSize.parse(s));
    }
}
