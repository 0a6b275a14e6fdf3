package io.tidemark.server.protocol;

/**
 * Bounds on every length a peer sends us, so that no message can make the server allocate more
 * than these. Where the specification gives a number it is quoted.
 */
public final class ProtocolLimits {

    private ProtocolLimits() {
    }

    /** Longest string (export name, query, message): "MUST be no longer than 4096 bytes". */
    public static final int MAX_STRING = 4096;

    /** Largest option payload we buffer; GO carries a name and a few 16-bit info requests. */
    public static final int MAX_OPTION_DATA = 64 * 1024;

    /** Options one connection may send before we treat it as a denial of service and hang up. */
    public static final int MAX_OPTIONS_PER_CONNECTION = 1024;

    /** Queries in one LIST/SET_META_CONTEXT option. */
    public static final int MAX_META_CONTEXT_QUERIES = 128;

    /** Information requests in one INFO/GO option. */
    public static final int MAX_INFO_REQUESTS = 64;

    /** Largest READ or WRITE payload: the 32 MiB every client may assume (2^25). */
    public static final int MAX_PAYLOAD = 32 * 1024 * 1024;

    /** Status descriptors in one block status chunk; the spec allows 2^20, we keep replies small. */
    public static final int MAX_BLOCK_STATUS_DESCRIPTORS = 64 * 1024;

    /** Length of a request header on the wire. */
    public static final int REQUEST_HEADER_LENGTH = 28;

    /** Length of a request header on the wire once NBD_OPT_EXTENDED_HEADERS is negotiated. */
    public static final int EXTENDED_REQUEST_HEADER_LENGTH = 32;

    /** Length of an option header on the wire: magic, option, length. */
    public static final int OPTION_HEADER_LENGTH = 16;
}
