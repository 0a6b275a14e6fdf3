package io.tidemark.server.protocol;

import io.tidemark.server.protocol.NbdProtocol.Option;
import java.util.List;

/** One option the client sent during the handshake, decoded by {@link HandshakeDecoder}. */
public sealed interface OptionRequest {

    /** The option code as the client sent it; every reply repeats it. */
    int option();

    /** NBD_OPT_EXPORT_NAME: enter transmission with the named export (empty name: the default). */
    record ExportName(String name) implements OptionRequest {
        @Override
        public int option() {
            return Option.EXPORT_NAME;
        }
    }

    /** NBD_OPT_ABORT: the client ends the session. */
    record Abort() implements OptionRequest {
        @Override
        public int option() {
            return Option.ABORT;
        }
    }

    /** NBD_OPT_LIST: list the exports. */
    record ListExports() implements OptionRequest {
        @Override
        public int option() {
            return Option.LIST;
        }
    }

    /** NBD_OPT_INFO or NBD_OPT_GO (same payload): describe an export, and with GO enter transmission. */
    record Info(boolean go, String name, List<Integer> requests) implements OptionRequest {
        public Info {
            requests = List.copyOf(requests);
        }

        @Override
        public int option() {
            return go ? Option.GO : Option.INFO;
        }
    }

    /** NBD_OPT_STRUCTURED_REPLY. */
    record StructuredReply() implements OptionRequest {
        @Override
        public int option() {
            return Option.STRUCTURED_REPLY;
        }
    }

    /** NBD_OPT_EXTENDED_HEADERS: 32-byte request and reply headers with 64-bit lengths. */
    record ExtendedHeaders() implements OptionRequest {
        @Override
        public int option() {
            return Option.EXTENDED_HEADERS;
        }
    }

    /** NBD_OPT_LIST_META_CONTEXT or NBD_OPT_SET_META_CONTEXT (same payload). */
    record MetaContext(boolean set, String exportName, List<String> queries) implements OptionRequest {
        public MetaContext {
            queries = List.copyOf(queries);
        }

        @Override
        public int option() {
            return set ? Option.SET_META_CONTEXT : Option.LIST_META_CONTEXT;
        }
    }

    /** An option this server does not implement; its payload was skipped. */
    record Unsupported(int option) implements OptionRequest {
    }

    /** A known option whose payload does not parse; the reason names the field. */
    record Malformed(int option, String reason) implements OptionRequest {
    }

    /** An option whose payload exceeded {@link ProtocolLimits#MAX_OPTION_DATA}; it was skipped unread. */
    record Oversized(int option, long length) implements OptionRequest {
    }
}
