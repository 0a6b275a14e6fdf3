package io.tidemark.server.nbd;

/**
 * A request refused before any I/O, with the NBD error it earns and a message naming the field.
 * Expected client behaviour, so it carries no stack trace.
 */
final class RequestRejected extends Exception {

    private final int error;

    RequestRejected(int error, String message) {
        super(message, null, false, false);
        this.error = error;
    }

    int error() {
        return error;
    }
}
