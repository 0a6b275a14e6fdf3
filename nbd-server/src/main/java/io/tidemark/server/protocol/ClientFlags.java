package io.tidemark.server.protocol;

/** The 32 bits of client flags the client sends after the server greeting. */
public record ClientFlags(int flags) {

    public boolean fixedNewstyle() {
        return (flags & NbdProtocol.HandshakeFlags.C_FIXED_NEWSTYLE) != 0;
    }

    public boolean noZeroes() {
        return (flags & NbdProtocol.HandshakeFlags.C_NO_ZEROES) != 0;
    }
}
