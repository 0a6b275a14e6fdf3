package io.tidemark.server.nbd;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.PlatformDependent;
import io.tidemark.image.FastZeroUnsupportedException;
import io.tidemark.server.protocol.NbdProtocol.Command;
import io.tidemark.server.protocol.NbdProtocol.Error;
import io.tidemark.server.protocol.ProtocolLimits;
import io.tidemark.server.protocol.Reply;
import io.tidemark.server.protocol.Request;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase of one connection. Each request is validated on the event loop, run
 * on the I/O executor, and its reply written as soon as it is ready, so replies leave out of
 * order. A short READ whose bytes the page cache holds, and a WRITE the device takes without
 * waiting for space, locks or the disk, are served on the event loop itself: the hand-off to an
 * I/O thread and back cost more than such a request ({@link CommandExecutor#executeIfQuick}).
 * Requests beyond the connection's in-flight limits wait in arrival order, and the socket is not
 * read while anything waits: a client cannot make us hold more than the limits (plus what one
 * socket read already decoded). The server-wide {@link InFlightMemory} is charged for WRITE
 * payloads as they arrive and for READs as they start; when it is spent the socket is not read
 * either, until released memory wakes the connection.
 *
 * <p>All fields but the queue of finished replies are touched only on the channel's event loop;
 * the I/O thread only builds a reply and queues it, and the event loop writes what is queued.
 */
final class TransmissionHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(TransmissionHandler.class);

    /** Fired down the pipeline when the server starts a graceful shutdown. */
    static final Object SHUTDOWN_EVENT = new Object() {
        @Override
        public String toString() {
            return "SHUTDOWN_EVENT";
        }
    };

    private final ServerContext server;
    private final NegotiatedSession session;
    private final Executor diskExecutor;
    private final InFlightMemory memory;
    private final Runnable wakeUp = this::wakeUp;
    private final ArrayDeque<Request> waiting = new ArrayDeque<>();
    /** Replies ready to be written, queued by I/O threads (and by the event loop for refusals). */
    private final Queue<Finished> finished = PlatformDependent.newMpscQueue();
    private final AtomicBoolean writeScheduled = new AtomicBoolean();
    private final Runnable writeFinished = this::writeFinished;
    private ChannelHandlerContext ctx;
    private CommandExecutor commands;
    private long bytesInFlight;
    private int requestsInFlight;
    /** What this connection has charged to {@link #memory}: WRITE payloads waiting, requests in flight. */
    private long held;
    /** Waiting in {@link #memory} for bytes to be released. */
    private boolean parked;
    private boolean disconnecting;
    private boolean dispatching;

    /** A reply ready to go out, with what its request cost against the connection's limits. */
    private record Finished(Reply reply, long cost) {
    }

    TransmissionHandler(ServerContext server, NegotiatedSession session) {
        this.server = server;
        this.session = session;
        this.diskExecutor = server.diskExecutors().forExport(session.export().name());
        this.memory = server.memory();
    }

    /** The export this connection transmits on. */
    String exportName() {
        return session.export().name();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.commands = new CommandExecutor(session, server.exports().groupCommit(session.export()), ctx.alloc(),
                ctx.pipeline().get(SslHandler.class) == null); // TLS encrypts buffers: no file regions
        memory.connectionOpened();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        memory.connectionClosed();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Request r)) {
            ReferenceCountUtil.release(msg);
            throw new IllegalStateException("unexpected message in transmission: " + msg);
        }
        if (disconnecting) {
            log.debug("{}: {} after NBD_CMD_DISC ignored", Peer.of(ctx.channel()), r);
            r.releasePayload();
            return;
        }
        if (r.command() == Command.DISC) {
            log.debug("{}: NBD_CMD_DISC with {} requests in flight", Peer.of(ctx.channel()),
                    requestsInFlight + waiting.size());
            disconnecting = true;
            ctx.channel().config().setAutoRead(false);
            closeWhenIdle();
            return;
        }
        if (r.payload() != null) {
            memory.charge(r.payload().readableBytes()); // already received: counted, never refused
            held += r.payload().readableBytes();
        }
        waiting.add(r);
        dispatchWaiting();
        updateAutoRead();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == SHUTDOWN_EVENT) {
            closeWhenIdle();
        } else if (evt instanceof ChannelInputShutdownEvent) {
            // The client sent its last byte (a half-close, as libnbd does after NBD_CMD_DISC): like
            // DISC, answer what is in flight, then close.
            log.debug("{}: client closed its side with {} requests in flight", Peer.of(ctx.channel()),
                    requestsInFlight + waiting.size());
            disconnecting = true;
            closeWhenIdle();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    /**
     * Bytes a request holds while it is served: its WRITE payload or its READ reply (longer ones
     * are refused). The length is unsigned: an extended header's may have its top bit set.
     */
    static long cost(Request r) {
        if (r.command() == Command.READ) {
            return Long.compareUnsigned(r.length(), ProtocolLimits.MAX_PAYLOAD) < 0 ? r.length() : ProtocolLimits.MAX_PAYLOAD;
        }
        return r.payload() == null ? 0 : r.payload().readableBytes();
    }

    private void dispatchWaiting() {
        if (dispatching) {
            return; // re-entered from a callback while dispatching; the outer loop goes on
        }
        dispatching = true;
        try {
            ConnectionLimits limits = server.limits();
            while (!waiting.isEmpty()) {
                Request r = waiting.peek();
                long cost = cost(r);
                boolean full = requestsInFlight >= limits.maxRequestsInFlight()
                        || bytesInFlight + cost > limits.maxBytesInFlight();
                if (full && requestsInFlight > 0 || !reserveMemory(r, cost)) {
                    break;
                }
                waiting.poll();
                start(r, cost);
            }
        } finally {
            dispatching = false;
        }
    }

    /**
     * A READ's reply is about to be allocated: it must fit the server-wide budget (a WRITE's
     * payload is charged already). Refused with requests in flight, the connection tries again
     * when one of its replies leaves. With none in flight nothing of its own would ever retry, so
     * then only the server-wide cap may hold it back (its queued WRITE payloads do not count
     * against its fair share), and it either parks until memory is released or, if memory was
     * released meanwhile, tries again at once.
     */
    private boolean reserveMemory(Request r, long cost) {
        if (r.payload() != null || cost == 0) {
            return true;
        }
        do {
            long counted = requestsInFlight == 0 ? 0 : held;
            if (memory.tryCharge(cost, counted)) {
                held += cost;
                return true;
            }
        } while (tryAgainAfterRefusal(cost));
        return false;
    }

    /**
     * After the budget refused {@code bytes}: parks until memory is released, and says whether the
     * caller should try again at once instead — when memory was released between the refusal and
     * parking and no reply of this connection's own is coming to make it retry.
     */
    private boolean tryAgainAfterRefusal(long bytes) {
        if (parked) {
            return false;
        }
        parked = memory.park(wakeUp, bytes);
        return !parked && requestsInFlight == 0;
    }

    /**
     * Runs on the thread that released memory, perhaps while it cleans up another connection: hands
     * {@link #resume} to our event loop. A loop that refuses it has shut down, and this connection
     * with it, so there is nothing to resume; the refusal must not break off the releaser's work.
     */
    private void wakeUp() {
        try {
            ctx.executor().execute(this::resume);
        } catch (RejectedExecutionException e) {
            log.debug("{}: woken after the event loop stopped", Peer.of(ctx.channel()));
        }
    }

    /** On the event loop, after {@link #memory} was released: try again what waited for it. */
    private void resume() {
        parked = false;
        if (ctx.isRemoved()) {
            return;
        }
        dispatchWaiting();
        updateAutoRead();
    }

    private void start(Request r, long cost) {
        requestsInFlight++;
        bytesInFlight += cost;
        Reply reply;
        try {
            if (server.shutdown().isShuttingDown()) {
                throw new RequestRejected(Error.ESHUTDOWN, "server is shutting down");
            }
            RequestValidator.validate(r, session);
            reply = commands.executeIfQuick(r);
            if (reply == null) {
                diskExecutor.execute(() -> run(r, cost));
                return;
            }
            r.releasePayload();
        } catch (Exception e) {
            r.releasePayload();
            reply = failure(r, e);
        }
        send(reply, cost);
    }

    /** Runs on an I/O thread. */
    private void run(Request r, long cost) {
        Reply reply;
        try {
            reply = commands.execute(r);
        } catch (Exception e) {
            reply = failure(r, e);
        } finally {
            r.releasePayload();
        }
        send(reply, cost);
    }

    /**
     * Hands a reply to the event loop from any thread. Replies queue up and leave together: one
     * event-loop task and one flush per batch instead of one per reply. Replies the event loop
     * built itself (refusals, reads from the page cache) go out once it has read what the socket
     * had, after the requests it decoded meanwhile; its own task queue wakes nothing.
     */
    private void send(Reply reply, long cost) {
        finished.offer(new Finished(reply, cost));
        if (!writeScheduled.get() && writeScheduled.compareAndSet(false, true)) {
            try {
                ctx.executor().execute(writeFinished);
            } catch (RejectedExecutionException e) {
                releaseUnwritten(); // the event loop is gone: the server is stopping
            }
        }
    }

    /**
     * For whoever holds {@link #writeScheduled} once the replies can no longer be written (a sender
     * that found the event loop gone, or the loop's run after the close): releases the queued
     * replies, then clears the flag and looks again, since a reply queued meanwhile saw the flag
     * set and left its release to us. Holding the flag while polling keeps the threads that find
     * the replies unwritable from polling the queue at once (it has a single consumer).
     */
    private void releaseUnwritten() {
        do {
            releaseFinished();
            writeScheduled.set(false);
        } while (!finished.isEmpty() && writeScheduled.compareAndSet(false, true));
    }

    /**
     * Runs on the event loop: writes every queued reply and flushes once. The write futures of one
     * channel complete in order, so the last one's listener accounts for the whole batch. A
     * connection already closed or torn down releases the replies' buffers instead.
     */
    private void writeFinished() {
        if (ctx.isRemoved() || !ctx.channel().isOpen()) {
            releaseUnwritten(); // with the flag held, as an I/O thread that finds the loop gone would
            return;
        }
        writeScheduled.set(false); // before polling: a reply queued from now on schedules another run
        Finished last = finished.poll();
        if (last == null) {
            return;
        }
        int count = 1;
        long cost = last.cost();
        for (Finished next; (next = finished.poll()) != null; count++) {
            // no promise (nor, for a reply of several buffers, a promise combiner) per reply: the
            // last one's future stands for the batch, and a failed write reaches exceptionCaught
            ctx.write(last.reply(), ctx.voidPromise());
            last = next;
            cost += next.cost();
        }
        int batch = count;
        long batchCost = cost;
        ctx.writeAndFlush(last.reply()).addListener((ChannelFuture f) -> completed(f, batch, batchCost));
    }

    private void releaseFinished() {
        long cost = 0;
        for (Finished f; (f = finished.poll()) != null; ) {
            f.reply().releaseData();
            cost += f.cost();
        }
        memory.release(cost);
    }

    /** Logs why a request failed, then builds the error reply with the NBD code for it. */
    private Reply failure(Request r, Exception cause) {
        if (cause instanceof RequestRejected || cause instanceof FastZeroUnsupportedException) {
            log.debug("{}: {} refused: {}", Peer.of(ctx.channel()), r, cause.getMessage());
        } else {
            log.warn("{}: {} on export '{}' failed: {}", Peer.of(ctx.channel()), r, session.export().name(),
                    cause.toString());
        }
        int error = NbdErrors.toNbdError(cause);
        String message = cause.getMessage() == null ? Error.name(error) : cause.getMessage();
        return commands.error(r, error, message);
    }

    private void completed(ChannelFuture write, int requests, long cost) {
        requestsInFlight -= requests;
        bytesInFlight -= cost;
        held -= cost;
        memory.release(cost);
        if (!write.isSuccess()) {
            log.debug("{}: reply not sent: {}", Peer.of(ctx.channel()), write.cause().toString());
        }
        dispatchWaiting();
        updateAutoRead();
        closeWhenIdle();
    }

    private void updateAutoRead() {
        ConnectionLimits limits = server.limits();
        boolean full = !waiting.isEmpty()
                || bytesInFlight >= limits.maxBytesInFlight()
                || requestsInFlight >= limits.maxRequestsInFlight();
        boolean read = !disconnecting && !full && memoryAllowsReading();
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read);
        }
    }

    /** Whether the server-wide budget lets this connection read more requests; refused, it waits for memory. */
    private boolean memoryAllowsReading() {
        while (!memory.fits(0, held)) {
            if (!tryAgainAfterRefusal(0)) {
                return false;
            }
        }
        return true;
    }

    /** After NBD_CMD_DISC, or while the server shuts down, close once every request is answered. */
    private void closeWhenIdle() {
        boolean ending = disconnecting || server.shutdown().isShuttingDown();
        if (ending && requestsInFlight == 0 && waiting.isEmpty() && ctx.channel().isOpen()) {
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        long payloads = 0;
        for (Request r : waiting) {
            payloads += r.payload() == null ? 0 : r.payload().readableBytes();
            r.releasePayload();
        }
        waiting.clear();
        held -= payloads;
        memory.release(payloads);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ConnectionErrors.log(log, ctx, cause);
        ctx.close();
    }
}
