package io.tidemark.threshold;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A threshold as armed by a user.
 *
 * @param name   unique within its export
 * @param value  where it fires, absolute or a percentage
 * @param repeat 0 for one-shot (QEMU's semantics); otherwise it re-arms itself this many bytes above
 *               the mark it last fired at, like LVM's dmeventd steps
 */
public record ThresholdSetting(String name, ThresholdValue value, long repeat) {

    public static final String DEFAULT_NAME = "default";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public ThresholdSetting {
        Objects.requireNonNull(value, "value");
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "bad threshold name '" + name + "': use up to 64 letters, digits, '.', '_' or '-'");
        }
        if (repeat < 0) {
            throw new IllegalArgumentException("repeat step must not be negative: " + repeat);
        }
    }

    public boolean repeating() {
        return repeat > 0;
    }
}
