package io.tidemark.server.protocol;

import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;

/** Everything the server sends during the handshake, encoded by {@link HandshakeEncoder}. */
public sealed interface HandshakeReply {

    /** NBDMAGIC, IHAVEOPT and the 16-bit handshake flags. */
    record Greeting(int handshakeFlags) implements HandshakeReply {
    }

    /** The answer to NBD_OPT_EXPORT_NAME: size, transmission flags and, unless NO_ZEROES, 124 zeroes. */
    record ExportInfo(long size, int transmissionFlags, boolean padWithZeroes) implements HandshakeReply {
    }

    /** One fixed-newstyle option reply; {@link #option} repeats the client's option code. */
    sealed interface OptionReply extends HandshakeReply {
        int option();
    }

    /** NBD_REP_ACK. */
    record Ack(int option) implements OptionReply {
    }

    /** NBD_REP_SERVER: one export in the answer to NBD_OPT_LIST. */
    record Server(int option, String name, String description) implements OptionReply {
    }

    /** NBD_REP_INFO with NBD_INFO_EXPORT. */
    record InfoExport(int option, long size, int transmissionFlags) implements OptionReply {
    }

    /** NBD_REP_INFO with NBD_INFO_NAME. */
    record InfoName(int option, String name) implements OptionReply {
    }

    /** NBD_REP_INFO with NBD_INFO_DESCRIPTION. */
    record InfoDescription(int option, String description) implements OptionReply {
    }

    /** NBD_REP_INFO with NBD_INFO_BLOCK_SIZE. */
    record InfoBlockSize(int option, int minimum, int preferred, int maximum) implements OptionReply {
    }

    /** NBD_REP_META_CONTEXT. */
    record MetaContext(int option, int contextId, String name) implements OptionReply {
    }

    /** An error reply (bit 31 set) with a message for a human. */
    record Error(int option, int type, String message) implements OptionReply {
        public Error {
            if (!OptionReplyType.isError(type)) {
                throw new IllegalArgumentException("not an error reply type: " + OptionReplyType.name(type));
            }
        }
    }
}
