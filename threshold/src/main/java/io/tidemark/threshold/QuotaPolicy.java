package io.tidemark.threshold;

import java.util.Locale;

/** What a write that would grow an export past its quota does. */
public enum QuotaPolicy {
    /** Fails at once with ENOSPC; nothing is written. */
    ENOSPC,
    /** Waits, up to the quota's timeout, for the quota to be raised (QEMU's werror=stop, per export). */
    PAUSE;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static QuotaPolicy parse(String text) {
        for (QuotaPolicy policy : values()) {
            if (policy.label().equalsIgnoreCase(text.strip())) {
                return policy;
            }
        }
        throw new IllegalArgumentException("unknown quota policy '" + text + "' (use enospc or pause)");
    }
}
