package io.tidemark.server.control;

import io.netty.handler.codec.http.HttpResponseStatus;

/** A request the control API refuses, with the HTTP status and a message naming what is wrong. */
final class ApiException extends RuntimeException {

    private final HttpResponseStatus status;

    ApiException(HttpResponseStatus status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    HttpResponseStatus status() {
        return status;
    }

    static ApiException badRequest(String message) {
        return new ApiException(HttpResponseStatus.BAD_REQUEST, message);
    }

    static ApiException notFound(String message) {
        return new ApiException(HttpResponseStatus.NOT_FOUND, message);
    }
}
