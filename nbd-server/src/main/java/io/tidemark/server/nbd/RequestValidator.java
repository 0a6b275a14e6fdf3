package io.tidemark.server.nbd;

import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.CommandFlags;
import io.tidemark.server.protocol.NbdProtocol.Error;
import io.tidemark.server.protocol.NbdProtocol.TransmissionFlags;
import io.tidemark.server.protocol.ProtocolLimits;
import io.tidemark.server.protocol.Request;

/**
 * Checks a request against the negotiated session before any I/O: known command, advertised
 * command and flags, writable export, range inside the export, payload within limits. The
 * order decides which error a request with several faults gets: EINVAL for an unknown command,
 * EPERM for a write to a read-only export, EINVAL for flags, then the range.
 */
final class RequestValidator {

    private RequestValidator() {
    }

    static void validate(Request r, NegotiatedSession session) throws RequestRejected {
        String command = Command.name(r.command());
        switch (r.command()) {
            case Command.READ, Command.WRITE, Command.FLUSH, Command.TRIM, Command.CACHE, Command.WRITE_ZEROES,
                 Command.BLOCK_STATUS -> {
            }
            default -> throw new RequestRejected(Error.EINVAL, "unknown command " + command);
        }
        boolean writes = r.command() == Command.WRITE || r.command() == Command.TRIM
                || r.command() == Command.WRITE_ZEROES;
        if (writes && session.readOnly()) {
            throw new RequestRejected(Error.EPERM, command + " on read-only export '" + session.export().name() + "'");
        }
        int badFlags = r.flags() & ~allowedFlags(r.command(), session);
        if (badFlags != 0) {
            throw new RequestRejected(Error.EINVAL, "flags " + CommandFlags.describe(badFlags) + " not valid on " + command);
        }
        if (r.command() == Command.WRITE && session.extendedHeaders() && !r.hasFlag(CommandFlags.PAYLOAD_LEN)) {
            throw new RequestRejected(Error.EINVAL, "NBD_CMD_WRITE without NBD_CMD_FLAG_PAYLOAD_LEN, which extended"
                    + " headers require");
        }
        requireAdvertised(r, session);
        switch (r.command()) {
            case Command.FLUSH -> {
                if (r.offset() != 0 || r.length() != 0) {
                    throw new RequestRejected(Error.EINVAL, "NBD_CMD_FLUSH needs offset and length 0, got offset "
                            + Long.toUnsignedString(r.offset()) + " length " + Long.toUnsignedString(r.length()));
                }
            }
            case Command.READ, Command.WRITE -> {
                if (Long.compareUnsigned(r.length(), ProtocolLimits.MAX_PAYLOAD) > 0) {
                    // a structured READ may be refused with EOVERFLOW so the client retries smaller
                    boolean overflow = r.command() == Command.READ && session.structuredReplies();
                    throw new RequestRejected(overflow ? Error.EOVERFLOW : Error.EINVAL, command + " length "
                            + Long.toUnsignedString(r.length()) + " exceeds the maximum payload "
                            + ProtocolLimits.MAX_PAYLOAD);
                }
                checkRange(r, session);
            }
            case Command.BLOCK_STATUS -> {
                if (session.blockStatusContextId() == NegotiatedSession.NO_CONTEXT) {
                    throw new RequestRejected(Error.EINVAL, "NBD_CMD_BLOCK_STATUS without a metadata context"
                            + " selected for this export");
                }
                if (r.length() == 0) {
                    throw new RequestRejected(Error.EINVAL, "NBD_CMD_BLOCK_STATUS of length 0");
                }
                checkRange(r, session);
            }
            default -> checkRange(r, session);
        }
    }

    private static int allowedFlags(int command, NegotiatedSession session) {
        int allowed = session.advertises(TransmissionFlags.SEND_FUA) ? CommandFlags.FUA : 0;
        return allowed | switch (command) {
            case Command.READ -> session.advertises(TransmissionFlags.SEND_DF) ? CommandFlags.DF : 0;
            // the only command with a payload; BLOCK_STATUS_PAYLOAD, the other use, is not advertised
            case Command.WRITE -> session.extendedHeaders() ? CommandFlags.PAYLOAD_LEN : 0;
            case Command.WRITE_ZEROES -> CommandFlags.NO_HOLE
                    | (session.advertises(TransmissionFlags.SEND_FAST_ZERO) ? CommandFlags.FAST_ZERO : 0);
            case Command.BLOCK_STATUS -> CommandFlags.REQ_ONE;
            default -> 0;
        };
    }

    private static void requireAdvertised(Request r, NegotiatedSession session) throws RequestRejected {
        int needed = switch (r.command()) {
            case Command.TRIM -> TransmissionFlags.SEND_TRIM;
            case Command.WRITE_ZEROES -> TransmissionFlags.SEND_WRITE_ZEROES;
            case Command.FLUSH -> TransmissionFlags.SEND_FLUSH;
            default -> 0;
        };
        if (needed != 0 && !session.advertises(needed)) {
            throw new RequestRejected(Error.EINVAL, Command.name(r.command()) + " was not advertised ("
                    + TransmissionFlags.describe(needed) + " not set)");
        }
    }

    /**
     * Writes past the end get ENOSPC, everything else EINVAL, as the spec recommends. Offset and
     * length are unsigned (an extended header's length may use all 64 bits).
     */
    private static void checkRange(Request r, NegotiatedSession session) throws RequestRejected {
        long size = session.export().size();
        boolean inside = Long.compareUnsigned(r.offset(), size) <= 0
                && Long.compareUnsigned(r.length(), size - r.offset()) <= 0;
        if (!inside) {
            int error = r.command() == Command.WRITE || r.command() == Command.WRITE_ZEROES ? Error.ENOSPC : Error.EINVAL;
            throw new RequestRejected(error, Command.name(r.command()) + " of " + Long.toUnsignedString(r.length())
                    + " bytes at offset " + Long.toUnsignedString(r.offset()) + " is beyond the export size " + size);
        }
    }
}
