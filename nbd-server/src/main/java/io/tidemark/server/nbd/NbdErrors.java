package io.tidemark.server.nbd;

import io.tidemark.image.FastZeroUnsupportedException;
import io.tidemark.image.NoSpaceException;
import io.tidemark.server.protocol.NbdProtocol.Error;
import java.io.IOException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.AccessDeniedException;
import java.nio.file.ReadOnlyFileSystemException;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;

/** The one place where a failure becomes an NBD error code. */
public final class NbdErrors {

    private NbdErrors() {
    }

    /** The NBD error for {@code cause}; callers log the cause before replying. */
    public static int toNbdError(Throwable cause) {
        return switch (cause) {
            case RequestRejected r -> r.error();
            case NoSpaceException e -> Error.ENOSPC;
            case FastZeroUnsupportedException e -> Error.ENOTSUP;
            case RejectedExecutionException e -> Error.ESHUTDOWN;
            case AccessDeniedException e -> Error.EPERM;
            case ReadOnlyFileSystemException e -> Error.EPERM;
            case NonWritableChannelException e -> Error.EPERM;
            case IllegalArgumentException e -> Error.EINVAL;
            case IOException e when isOutOfSpace(e) -> Error.ENOSPC;
            default -> Error.EIO;
        };
    }

    /**
     * The JDK reports ENOSPC, EDQUOT and EFBIG from the host filesystem as plain IOExceptions with
     * the strerror text; the spec asks for all three to become ENOSPC.
     */
    private static boolean isOutOfSpace(IOException e) {
        String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        return message.contains("no space left") || message.contains("disk quota exceeded")
                || message.contains("file too large");
    }
}
