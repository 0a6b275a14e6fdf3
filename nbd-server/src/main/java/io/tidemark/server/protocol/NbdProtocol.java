package io.tidemark.server.protocol;

/**
 * The numbers of the NBD protocol ({@code doc/proto.md} of NetworkBlockDevice/nbd) in one place,
 * grouped as the specification groups them, each group with a name lookup for log lines.
 * Values the specification does not define print as {@code unknown (0x…)}.
 */
public final class NbdProtocol {

    private NbdProtocol() {
    }

    /** Magic numbers that frame the messages. */
    public static final class Magic {
        /** ASCII "NBDMAGIC": first word of the server greeting. */
        public static final long NBDMAGIC = 0x4e42444d41474943L;
        /** ASCII "IHAVEOPT": second word of the greeting and first word of every option. */
        public static final long IHAVEOPT = 0x49484156454f5054L;
        public static final long OPTION_REPLY = 0x0003e889045565a9L;
        public static final int REQUEST = 0x25609513;
        public static final int SIMPLE_REPLY = 0x67446698;
        public static final int STRUCTURED_REPLY = 0x668e33ef;
        /** Request header once NBD_OPT_EXTENDED_HEADERS is negotiated: 64-bit length. */
        public static final int EXTENDED_REQUEST = 0x21e41c71;
        /** Reply chunk header once NBD_OPT_EXTENDED_HEADERS is negotiated: request offset, 64-bit length. */
        public static final int EXTENDED_REPLY = 0x6e8a278c;

        private Magic() {
        }
    }

    /** Handshake flags (16 bits, server) and client flags (32 bits). */
    public static final class HandshakeFlags {
        public static final int FIXED_NEWSTYLE = 0x0001;
        public static final int NO_ZEROES = 0x0002;
        public static final int C_FIXED_NEWSTYLE = 0x0001;
        public static final int C_NO_ZEROES = 0x0002;

        private HandshakeFlags() {
        }
    }

    /** Transmission flags (16 bits) sent with the export's size. */
    public static final class TransmissionFlags {
        public static final int HAS_FLAGS = 0x0001;
        public static final int READ_ONLY = 0x0002;
        public static final int SEND_FLUSH = 0x0004;
        public static final int SEND_FUA = 0x0008;
        public static final int ROTATIONAL = 0x0010;
        public static final int SEND_TRIM = 0x0020;
        public static final int SEND_WRITE_ZEROES = 0x0040;
        public static final int SEND_DF = 0x0080;
        public static final int CAN_MULTI_CONN = 0x0100;
        public static final int SEND_RESIZE = 0x0200;
        public static final int SEND_CACHE = 0x0400;
        public static final int SEND_FAST_ZERO = 0x0800;
        public static final int BLOCK_STATUS_PAYLOAD = 0x1000;

        private static final String[] NAMES = {
            "HAS_FLAGS", "READ_ONLY", "SEND_FLUSH", "SEND_FUA", "ROTATIONAL", "SEND_TRIM",
            "SEND_WRITE_ZEROES", "SEND_DF", "CAN_MULTI_CONN", "SEND_RESIZE", "SEND_CACHE",
            "SEND_FAST_ZERO", "BLOCK_STATUS_PAYLOAD"};

        private TransmissionFlags() {
        }

        /** The set flags by name, e.g. {@code HAS_FLAGS|READ_ONLY}. */
        public static String describe(int flags) {
            return describeBits(flags, NAMES);
        }
    }

    /** Option codes of the handshake phase. */
    public static final class Option {
        public static final int EXPORT_NAME = 1;
        public static final int ABORT = 2;
        public static final int LIST = 3;
        public static final int PEEK_EXPORT = 4;
        public static final int STARTTLS = 5;
        public static final int INFO = 6;
        public static final int GO = 7;
        public static final int STRUCTURED_REPLY = 8;
        public static final int LIST_META_CONTEXT = 9;
        public static final int SET_META_CONTEXT = 10;
        public static final int EXTENDED_HEADERS = 11;

        private Option() {
        }

        public static String name(int option) {
            return switch (option) {
                case EXPORT_NAME -> "NBD_OPT_EXPORT_NAME";
                case ABORT -> "NBD_OPT_ABORT";
                case LIST -> "NBD_OPT_LIST";
                case PEEK_EXPORT -> "NBD_OPT_PEEK_EXPORT";
                case STARTTLS -> "NBD_OPT_STARTTLS";
                case INFO -> "NBD_OPT_INFO";
                case GO -> "NBD_OPT_GO";
                case STRUCTURED_REPLY -> "NBD_OPT_STRUCTURED_REPLY";
                case LIST_META_CONTEXT -> "NBD_OPT_LIST_META_CONTEXT";
                case SET_META_CONTEXT -> "NBD_OPT_SET_META_CONTEXT";
                case EXTENDED_HEADERS -> "NBD_OPT_EXTENDED_HEADERS";
                default -> unknown(option);
            };
        }
    }

    /** Reply types of option replies; errors have bit 31 set. */
    public static final class OptionReplyType {
        public static final int ACK = 1;
        public static final int SERVER = 2;
        public static final int INFO = 3;
        public static final int META_CONTEXT = 4;
        public static final int ERR_UNSUP = 0x80000001;
        public static final int ERR_POLICY = 0x80000002;
        public static final int ERR_INVALID = 0x80000003;
        public static final int ERR_PLATFORM = 0x80000004;
        public static final int ERR_TLS_REQD = 0x80000005;
        public static final int ERR_UNKNOWN = 0x80000006;
        public static final int ERR_SHUTDOWN = 0x80000007;
        public static final int ERR_BLOCK_SIZE_REQD = 0x80000008;
        public static final int ERR_TOO_BIG = 0x80000009;
        public static final int ERR_EXT_HEADER_REQD = 0x8000000a;

        private OptionReplyType() {
        }

        public static boolean isError(int type) {
            return (type & 0x80000000) != 0;
        }

        public static String name(int type) {
            return switch (type) {
                case ACK -> "NBD_REP_ACK";
                case SERVER -> "NBD_REP_SERVER";
                case INFO -> "NBD_REP_INFO";
                case META_CONTEXT -> "NBD_REP_META_CONTEXT";
                case ERR_UNSUP -> "NBD_REP_ERR_UNSUP";
                case ERR_POLICY -> "NBD_REP_ERR_POLICY";
                case ERR_INVALID -> "NBD_REP_ERR_INVALID";
                case ERR_PLATFORM -> "NBD_REP_ERR_PLATFORM";
                case ERR_TLS_REQD -> "NBD_REP_ERR_TLS_REQD";
                case ERR_UNKNOWN -> "NBD_REP_ERR_UNKNOWN";
                case ERR_SHUTDOWN -> "NBD_REP_ERR_SHUTDOWN";
                case ERR_BLOCK_SIZE_REQD -> "NBD_REP_ERR_BLOCK_SIZE_REQD";
                case ERR_TOO_BIG -> "NBD_REP_ERR_TOO_BIG";
                case ERR_EXT_HEADER_REQD -> "NBD_REP_ERR_EXT_HEADER_REQD";
                default -> unknown(type);
            };
        }
    }

    /** Information types of NBD_OPT_INFO and NBD_OPT_GO (16 bits). */
    public static final class InfoType {
        public static final int EXPORT = 0;
        public static final int NAME = 1;
        public static final int DESCRIPTION = 2;
        public static final int BLOCK_SIZE = 3;

        private InfoType() {
        }

        public static String name(int type) {
            return switch (type) {
                case EXPORT -> "NBD_INFO_EXPORT";
                case NAME -> "NBD_INFO_NAME";
                case DESCRIPTION -> "NBD_INFO_DESCRIPTION";
                case BLOCK_SIZE -> "NBD_INFO_BLOCK_SIZE";
                default -> unknown(type);
            };
        }
    }

    /** Request types of the transmission phase. */
    public static final class Command {
        public static final int READ = 0;
        public static final int WRITE = 1;
        public static final int DISC = 2;
        public static final int FLUSH = 3;
        public static final int TRIM = 4;
        public static final int CACHE = 5;
        public static final int WRITE_ZEROES = 6;
        public static final int BLOCK_STATUS = 7;
        public static final int RESIZE = 8;

        private Command() {
        }

        public static String name(int command) {
            return switch (command) {
                case READ -> "NBD_CMD_READ";
                case WRITE -> "NBD_CMD_WRITE";
                case DISC -> "NBD_CMD_DISC";
                case FLUSH -> "NBD_CMD_FLUSH";
                case TRIM -> "NBD_CMD_TRIM";
                case CACHE -> "NBD_CMD_CACHE";
                case WRITE_ZEROES -> "NBD_CMD_WRITE_ZEROES";
                case BLOCK_STATUS -> "NBD_CMD_BLOCK_STATUS";
                case RESIZE -> "NBD_CMD_RESIZE";
                default -> unknown(command);
            };
        }
    }

    /** Command flags (16 bits) of a request. */
    public static final class CommandFlags {
        public static final int FUA = 0x0001;
        public static final int NO_HOLE = 0x0002;
        public static final int DF = 0x0004;
        public static final int REQ_ONE = 0x0008;
        public static final int FAST_ZERO = 0x0010;
        public static final int PAYLOAD_LEN = 0x0020;

        private static final String[] NAMES = {"FUA", "NO_HOLE", "DF", "REQ_ONE", "FAST_ZERO", "PAYLOAD_LEN"};

        private CommandFlags() {
        }

        public static String describe(int flags) {
            return describeBits(flags, NAMES);
        }
    }

    /** Structured and extended reply chunk types and flags; error chunk types have bit 15 set. */
    public static final class ReplyChunk {
        public static final int FLAG_DONE = 0x0001;
        public static final int NONE = 0;
        public static final int OFFSET_DATA = 1;
        public static final int OFFSET_HOLE = 2;
        public static final int BLOCK_STATUS = 5;
        /** Block status with 64-bit lengths; the only status chunk once extended headers are negotiated. */
        public static final int BLOCK_STATUS_EXT = 6;
        public static final int ERROR = 0x8001;
        public static final int ERROR_OFFSET = 0x8002;

        private ReplyChunk() {
        }

        public static String name(int type) {
            return switch (type) {
                case NONE -> "NBD_REPLY_TYPE_NONE";
                case OFFSET_DATA -> "NBD_REPLY_TYPE_OFFSET_DATA";
                case OFFSET_HOLE -> "NBD_REPLY_TYPE_OFFSET_HOLE";
                case BLOCK_STATUS -> "NBD_REPLY_TYPE_BLOCK_STATUS";
                case BLOCK_STATUS_EXT -> "NBD_REPLY_TYPE_BLOCK_STATUS_EXT";
                case ERROR -> "NBD_REPLY_TYPE_ERROR";
                case ERROR_OFFSET -> "NBD_REPLY_TYPE_ERROR_OFFSET";
                default -> unknown(type);
            };
        }
    }

    /** Error values of replies. */
    public static final class Error {
        public static final int EPERM = 1;
        public static final int EIO = 5;
        public static final int ENOMEM = 12;
        public static final int EINVAL = 22;
        public static final int ENOSPC = 28;
        public static final int EOVERFLOW = 75;
        public static final int ENOTSUP = 95;
        public static final int ESHUTDOWN = 108;

        private Error() {
        }

        public static String name(int error) {
            return switch (error) {
                case 0 -> "OK";
                case EPERM -> "EPERM";
                case EIO -> "EIO";
                case ENOMEM -> "ENOMEM";
                case EINVAL -> "EINVAL";
                case ENOSPC -> "ENOSPC";
                case EOVERFLOW -> "EOVERFLOW";
                case ENOTSUP -> "ENOTSUP";
                case ESHUTDOWN -> "ESHUTDOWN";
                default -> unknown(error);
            };
        }
    }

    /** The {@code base:allocation} metadata context and its status flags. */
    public static final class MetaContext {
        public static final String BASE_NAMESPACE = "base:";
        public static final String BASE_ALLOCATION = "base:allocation";
        public static final int STATE_HOLE = 0x1;
        public static final int STATE_ZERO = 0x2;

        private MetaContext() {
        }
    }

    static String unknown(int value) {
        return "unknown (0x" + Integer.toHexString(value) + ")";
    }

    private static String describeBits(int flags, String[] names) {
        StringBuilder sb = new StringBuilder();
        for (int bit = 0; bit < 32; bit++) {
            int mask = 1 << bit;
            if ((flags & mask) == 0) {
                continue;
            }
            if (!sb.isEmpty()) {
                sb.append('|');
            }
            sb.append(bit < names.length ? names[bit] : unknown(mask));
        }
        return sb.isEmpty() ? "0" : sb.toString();
    }
}
