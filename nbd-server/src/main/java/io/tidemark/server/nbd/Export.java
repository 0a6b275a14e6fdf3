package io.tidemark.server.nbd;

import io.tidemark.image.BlockDevice;
import io.tidemark.image.DeviceCapabilities;
import io.tidemark.server.protocol.NbdProtocol.TransmissionFlags;
import io.tidemark.server.protocol.ProtocolLimits;
import java.util.Objects;

/**
 * One export: a name clients ask for, a description for NBD_OPT_LIST, and the open device that
 * every connection to the export shares (which is what makes CAN_MULTI_CONN true).
 */
public record Export(String name, String description, BlockDevice device) {

    /** The smallest preferred block size the specification allows. */
    private static final int MIN_PREFERRED_BLOCK_SIZE = 512;

    public Export {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(device, "device");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("an export needs a name; the empty name means the default export");
        }
    }

    public long size() {
        return device.size();
    }

    public boolean readOnly() {
        return device.capabilities().readOnly();
    }

    /** The transmission flags this export advertises, derived from the device's capabilities. */
    public int transmissionFlags(boolean structuredReplies) {
        DeviceCapabilities caps = device.capabilities();
        int flags = TransmissionFlags.HAS_FLAGS | TransmissionFlags.SEND_FLUSH | TransmissionFlags.SEND_FUA
                | TransmissionFlags.SEND_CACHE | TransmissionFlags.CAN_MULTI_CONN;
        if (caps.readOnly()) {
            flags |= TransmissionFlags.READ_ONLY;
        } else {
            flags |= TransmissionFlags.SEND_WRITE_ZEROES;
            if (caps.trim()) {
                flags |= TransmissionFlags.SEND_TRIM;
            }
            if (caps.fastZero()) {
                flags |= TransmissionFlags.SEND_FAST_ZERO;
            }
        }
        if (structuredReplies) {
            flags |= TransmissionFlags.SEND_DF;
        }
        return flags;
    }

    /** Preferred block size for NBD_INFO_BLOCK_SIZE: the device's, within what the spec allows. */
    public int preferredBlockSize() {
        return Math.clamp(device.capabilities().preferredBlockSize(), MIN_PREFERRED_BLOCK_SIZE, ProtocolLimits.MAX_PAYLOAD);
    }
}
