package io.tidemark.server.protocol;

import io.netty.buffer.ByteBuf;
import io.tidemark.server.protocol.NbdProtocol.Option;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses the data of one option into its record. Syntax errors become
 * {@link OptionRequest.Malformed} (answered with NBD_REP_ERR_INVALID), never exceptions,
 * because the option framing is intact and the handshake can go on.
 */
final class OptionParser {

    private OptionParser() {
    }

    /** A syntax error in an option payload, naming the field. */
    private static final class SyntaxError extends Exception {
        SyntaxError(String message) {
            super(message, null, false, false);
        }
    }

    static OptionRequest parse(int option, ByteBuf data) {
        try {
            return switch (option) {
                case Option.EXPORT_NAME -> new OptionRequest.ExportName(string(data, data.readableBytes(), "export name"));
                case Option.ABORT -> new OptionRequest.Abort();
                case Option.LIST -> {
                    requireEmpty(data, option);
                    yield new OptionRequest.ListExports();
                }
                case Option.INFO, Option.GO -> info(option == Option.GO, data);
                case Option.STRUCTURED_REPLY -> {
                    requireEmpty(data, option);
                    yield new OptionRequest.StructuredReply();
                }
                case Option.LIST_META_CONTEXT, Option.SET_META_CONTEXT ->
                        metaContext(option == Option.SET_META_CONTEXT, data);
                case Option.EXTENDED_HEADERS -> {
                    requireEmpty(data, option);
                    yield new OptionRequest.ExtendedHeaders();
                }
                default -> new OptionRequest.Unsupported(option);
            };
        } catch (SyntaxError e) {
            return new OptionRequest.Malformed(option, e.getMessage());
        }
    }

    private static OptionRequest info(boolean go, ByteBuf data) throws SyntaxError {
        String name = string(data, uint32(data, "name length"), "export name");
        int count = uint16(data, "number of information requests");
        if (count > ProtocolLimits.MAX_INFO_REQUESTS) {
            throw new SyntaxError("too many information requests: " + count + " (limit " + ProtocolLimits.MAX_INFO_REQUESTS + ")");
        }
        if (data.readableBytes() != 2 * count) {
            throw new SyntaxError(count + " information requests need " + 2 * count + " bytes, option has "
                    + data.readableBytes());
        }
        List<Integer> requests = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            requests.add(data.readUnsignedShort());
        }
        return new OptionRequest.Info(go, name, requests);
    }

    private static OptionRequest metaContext(boolean set, ByteBuf data) throws SyntaxError {
        String exportName = string(data, uint32(data, "export name length"), "export name");
        long count = uint32(data, "number of queries");
        if (count > ProtocolLimits.MAX_META_CONTEXT_QUERIES) {
            throw new SyntaxError("too many queries: " + count + " (limit " + ProtocolLimits.MAX_META_CONTEXT_QUERIES + ")");
        }
        List<String> queries = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            queries.add(string(data, uint32(data, "length of query " + i), "query " + i));
        }
        if (data.isReadable()) {
            throw new SyntaxError(data.readableBytes() + " bytes after the last query");
        }
        return new OptionRequest.MetaContext(set, exportName, queries);
    }

    private static void requireEmpty(ByteBuf data, int option) throws SyntaxError {
        if (data.isReadable()) {
            throw new SyntaxError(Option.name(option) + " carries no data, got " + data.readableBytes() + " bytes");
        }
    }

    private static long uint32(ByteBuf data, String field) throws SyntaxError {
        if (data.readableBytes() < Integer.BYTES) {
            throw new SyntaxError("option data ends before the " + field);
        }
        return data.readUnsignedInt();
    }

    private static int uint16(ByteBuf data, String field) throws SyntaxError {
        if (data.readableBytes() < Short.BYTES) {
            throw new SyntaxError("option data ends before the " + field);
        }
        return data.readUnsignedShort();
    }

    private static String string(ByteBuf data, long length, String field) throws SyntaxError {
        if (length > ProtocolLimits.MAX_STRING) {
            throw new SyntaxError(field + " is " + length + " bytes, longer than " + ProtocolLimits.MAX_STRING);
        }
        if (length > data.readableBytes()) {
            throw new SyntaxError(field + " length " + length + " runs past the option data (" + data.readableBytes()
                    + " bytes left)");
        }
        String value = data.readCharSequence((int) length, StandardCharsets.UTF_8).toString();
        if (value.indexOf('\0') >= 0) {
            throw new SyntaxError(field + " contains a NUL character");
        }
        return value;
    }
}
