package io.tidemark.server.nbd;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.tidemark.server.protocol.ClientFlags;
import io.tidemark.server.protocol.HandshakeReply;
import io.tidemark.server.protocol.NbdProtocol.HandshakeFlags;
import io.tidemark.server.protocol.NbdProtocol.InfoType;
import io.tidemark.server.protocol.NbdProtocol.MetaContext;
import io.tidemark.server.protocol.NbdProtocol.Option;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import io.tidemark.server.protocol.NbdProtocol.TransmissionFlags;
import io.tidemark.server.protocol.OptionRequest;
import io.tidemark.server.protocol.ProtocolLimits;
import io.tidemark.server.protocol.ReplyEncoder;
import io.tidemark.server.protocol.RequestDecoder;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed-newstyle handshake of one connection: sends the greeting, checks the client flags,
 * answers options (one method each) and, on NBD_OPT_GO or NBD_OPT_EXPORT_NAME, swaps the
 * pipeline to the transmission phase.
 */
final class HandshakeHandler extends SimpleChannelInboundHandler<Object> {

    private static final Logger log = LoggerFactory.getLogger(HandshakeHandler.class);

    /** The id we give {@code base:allocation} in NBD_OPT_SET_META_CONTEXT; 0 is reserved for LIST. */
    static final int BASE_ALLOCATION_ID = 1;

    /** The minimum block size for clients that did not ask: the 512 they assume anyway. */
    private static final int LEGACY_MINIMUM_BLOCK_SIZE = 512;

    private static final int SERVER_FLAGS = HandshakeFlags.FIXED_NEWSTYLE | HandshakeFlags.NO_ZEROES;
    private static final int KNOWN_CLIENT_FLAGS = HandshakeFlags.C_FIXED_NEWSTYLE | HandshakeFlags.C_NO_ZEROES;

    private final ServerContext server;
    private ClientFlags clientFlags;
    private boolean structuredReplies;
    private boolean extendedHeaders;
    /** The export SET_META_CONTEXT selected base:allocation for, if any. */
    private Export metaContextExport;
    private int optionsSeen;
    private ScheduledFuture<?> timeout;

    HandshakeHandler(ServerContext server) {
        this.server = server;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(new HandshakeReply.Greeting(SERVER_FLAGS));
        long millis = server.limits().handshakeTimeout().toMillis();
        timeout = ctx.executor().schedule(() -> {
            log.info("{}: handshake not finished after {} ms, closing", Peer.of(ctx.channel()), millis);
            ctx.close();
        }, millis, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        switch (msg) {
            case ClientFlags flags -> clientFlags(ctx, flags);
            case OptionRequest option -> option(ctx, option);
            default -> throw new IllegalStateException("unexpected message in handshake: " + msg);
        }
    }

    private void clientFlags(ChannelHandlerContext ctx, ClientFlags flags) {
        int unknown = flags.flags() & ~KNOWN_CLIENT_FLAGS;
        if (unknown != 0) {
            log.info("{}: client flags 0x{} include unknown bits 0x{}, closing", Peer.of(ctx.channel()),
                    Integer.toHexString(flags.flags()), Integer.toHexString(unknown));
            ctx.close();
            return;
        }
        clientFlags = flags;
    }

    private void option(ChannelHandlerContext ctx, OptionRequest request) {
        if (clientFlags == null) {
            return; // the flags were refused and the connection is closing; options decoded behind them are moot
        }
        if (++optionsSeen > ProtocolLimits.MAX_OPTIONS_PER_CONNECTION) {
            log.info("{}: more than {} options, closing", Peer.of(ctx.channel()),
                    ProtocolLimits.MAX_OPTIONS_PER_CONNECTION);
            ctx.close();
            return;
        }
        log.debug("{}: {}", Peer.of(ctx.channel()), request);
        if (server.shutdown().isShuttingDown() && !(request instanceof OptionRequest.Abort)) {
            if (request instanceof OptionRequest.ExportName) {
                ctx.close();
            } else {
                replyError(ctx, request.option(), OptionReplyType.ERR_SHUTDOWN, "server is shutting down");
            }
            return;
        }
        switch (request) {
            case OptionRequest.ExportName o -> exportName(ctx, o);
            case OptionRequest.Abort o -> abort(ctx);
            case OptionRequest.ListExports o -> list(ctx);
            case OptionRequest.Info o -> info(ctx, o);
            case OptionRequest.StructuredReply o -> structuredReply(ctx);
            case OptionRequest.ExtendedHeaders o -> extendedHeaders(ctx);
            case OptionRequest.MetaContext o -> metaContext(ctx, o);
            case OptionRequest.Unsupported o -> replyError(ctx, o.option(), OptionReplyType.ERR_UNSUP,
                    "option " + Option.name(o.option()) + " is not supported");
            case OptionRequest.Malformed o -> malformed(ctx, o);
            case OptionRequest.Oversized o -> oversized(ctx, o);
        }
    }

    /**
     * NBD_OPT_EXPORT_NAME cannot report errors: an unknown export ends the session, and so does
     * the option after extended headers, which the spec forbids (its reply has no way to say so).
     */
    private void exportName(ChannelHandlerContext ctx, OptionRequest.ExportName option) {
        if (extendedHeaders) {
            log.info("{}: NBD_OPT_EXPORT_NAME after NBD_OPT_EXTENDED_HEADERS, closing", Peer.of(ctx.channel()));
            ctx.close();
            return;
        }
        Optional<Export> export = server.exports().find(option.name());
        if (export.isEmpty()) {
            log.info("{}: NBD_OPT_EXPORT_NAME for unknown export '{}', closing", Peer.of(ctx.channel()),
                    option.name());
            ctx.close();
            return;
        }
        int flags = export.get().transmissionFlags(chunkedReplies());
        ctx.write(new HandshakeReply.ExportInfo(export.get().size(), flags, !clientFlags.noZeroes()));
        enterTransmission(ctx, export.get(), flags);
    }

    private void abort(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(new HandshakeReply.Ack(Option.ABORT)).addListener(ChannelFutureListener.CLOSE);
    }

    /** Only the exports this client may open: the others' names are none of its business. */
    private void list(ChannelHandlerContext ctx) {
        for (Export export : server.exports().all()) {
            if (!ExportAccessHandler.mayOpen(ctx.channel(), export.name())) {
                continue;
            }
            ctx.write(new HandshakeReply.Server(Option.LIST, export.name(), export.description()));
        }
        ctx.writeAndFlush(new HandshakeReply.Ack(Option.LIST));
    }

    /** NBD_OPT_INFO and NBD_OPT_GO: the same replies; GO then enters transmission. */
    private void info(ChannelHandlerContext ctx, OptionRequest.Info option) {
        Optional<Export> found = server.exports().find(option.name());
        if (found.isEmpty()) {
            replyError(ctx, option.option(), OptionReplyType.ERR_UNKNOWN, "no export named '" + option.name() + "'");
            return;
        }
        Export export = found.get();
        int flags = export.transmissionFlags(chunkedReplies());
        List<Integer> requested = option.requests();
        ctx.write(new HandshakeReply.InfoExport(option.option(), export.size(), flags));
        if (requested.contains(InfoType.NAME) || option.name().isEmpty()) {
            ctx.write(new HandshakeReply.InfoName(option.option(), export.name()));
        }
        if (requested.contains(InfoType.DESCRIPTION) && !export.description().isEmpty()) {
            ctx.write(new HandshakeReply.InfoDescription(option.option(), export.description()));
        }
        // We serve any alignment, so a client that promises to honour block sizes gets minimum 1.
        int minimum = requested.contains(InfoType.BLOCK_SIZE) ? 1 : LEGACY_MINIMUM_BLOCK_SIZE;
        ctx.write(new HandshakeReply.InfoBlockSize(option.option(), minimum, export.preferredBlockSize(),
                ProtocolLimits.MAX_PAYLOAD));
        ctx.write(new HandshakeReply.Ack(option.option()));
        if (option.go()) {
            enterTransmission(ctx, export, flags);
        } else {
            ctx.flush();
        }
    }

    private void structuredReply(ChannelHandlerContext ctx) {
        if (extendedHeaders) {
            replyError(ctx, Option.STRUCTURED_REPLY, OptionReplyType.ERR_EXT_HEADER_REQD,
                    "extended headers are already negotiated and take precedence over structured replies");
            return;
        }
        structuredReplies = true;
        ctx.writeAndFlush(new HandshakeReply.Ack(Option.STRUCTURED_REPLY));
    }

    /** NBD_OPT_EXTENDED_HEADERS: accepted once, with or without structured replies before it. */
    private void extendedHeaders(ChannelHandlerContext ctx) {
        if (extendedHeaders) {
            replyError(ctx, Option.EXTENDED_HEADERS, OptionReplyType.ERR_INVALID, "extended headers are already negotiated");
            return;
        }
        extendedHeaders = true;
        ctx.writeAndFlush(new HandshakeReply.Ack(Option.EXTENDED_HEADERS));
    }

    /** Whether transmission replies will be chunks: structured replies or extended headers. */
    private boolean chunkedReplies() {
        return structuredReplies || extendedHeaders;
    }

    /** LIST_META_CONTEXT and SET_META_CONTEXT; we know one context, {@code base:allocation}. */
    private void metaContext(ChannelHandlerContext ctx, OptionRequest.MetaContext option) {
        if (option.set()) {
            metaContextExport = null; // replaced even when this request fails
        }
        if (!chunkedReplies()) {
            replyError(ctx, option.option(), OptionReplyType.ERR_INVALID, "negotiate NBD_OPT_STRUCTURED_REPLY or"
                    + " NBD_OPT_EXTENDED_HEADERS before " + Option.name(option.option()));
            return;
        }
        Optional<Export> export = server.exports().find(option.exportName());
        if (export.isEmpty()) {
            replyError(ctx, option.option(), OptionReplyType.ERR_UNKNOWN,
                    "no export named '" + option.exportName() + "'");
            return;
        }
        if (selectsBaseAllocation(option)) {
            if (option.set()) {
                metaContextExport = export.get();
            }
            ctx.write(new HandshakeReply.MetaContext(option.option(), option.set() ? BASE_ALLOCATION_ID : 0,
                    MetaContext.BASE_ALLOCATION));
        }
        ctx.writeAndFlush(new HandshakeReply.Ack(option.option()));
    }

    /** Whether the queries name base:allocation; unknown namespaces and leaves are ignored as the spec asks. */
    private static boolean selectsBaseAllocation(OptionRequest.MetaContext option) {
        if (!option.set() && option.queries().isEmpty()) {
            return true;
        }
        for (String query : option.queries()) {
            if (query.equals(MetaContext.BASE_ALLOCATION)
                    || (!option.set() && query.equals(MetaContext.BASE_NAMESPACE))) {
                return true;
            }
        }
        return false;
    }

    private void malformed(ChannelHandlerContext ctx, OptionRequest.Malformed option) {
        if (option.option() == Option.EXPORT_NAME) {
            log.info("{}: bad NBD_OPT_EXPORT_NAME ({}), closing", Peer.of(ctx.channel()), option.reason());
            ctx.close();
            return;
        }
        replyError(ctx, option.option(), OptionReplyType.ERR_INVALID, option.reason());
    }

    private void oversized(ChannelHandlerContext ctx, OptionRequest.Oversized option) {
        if (option.option() == Option.EXPORT_NAME) {
            log.info("{}: NBD_OPT_EXPORT_NAME of {} bytes, closing", Peer.of(ctx.channel()), option.length());
            ctx.close();
            return;
        }
        replyError(ctx, option.option(), OptionReplyType.ERR_TOO_BIG, Option.name(option.option()) + " data of "
                + option.length() + " bytes exceeds the limit of " + ProtocolLimits.MAX_OPTION_DATA);
    }

    private void replyError(ChannelHandlerContext ctx, int option, int type, String message) {
        log.debug("{}: {} -> {}: {}", Peer.of(ctx.channel()), Option.name(option), OptionReplyType.name(type),
                message);
        ctx.writeAndFlush(new HandshakeReply.Error(option, type, message));
    }

    /**
     * Swaps the handshake codec and this handler for the transmission phase. The request decoder
     * goes in before the handshake decoder leaves, so bytes the client already sent reach it.
     */
    private void enterTransmission(ChannelHandlerContext ctx, Export export, int flags) {
        ctx.flush();
        int contextId = metaContextExport == export ? BASE_ALLOCATION_ID : NegotiatedSession.NO_CONTEXT;
        NegotiatedSession session = new NegotiatedSession(export, chunkedReplies(), extendedHeaders, flags, contextId);
        log.info("{}: export '{}' ({} bytes, {}{})", Peer.of(ctx.channel()), export.name(), export.size(),
                TransmissionFlags.describe(flags), extendedHeaders ? ", extended headers" : "");
        ChannelPipeline pipeline = ctx.pipeline();
        pipeline.addAfter(PipelineNames.DECODER, PipelineNames.REQUEST_DECODER, new RequestDecoder(extendedHeaders,
                export.device().capabilities().preferredBlockSize()));
        pipeline.replace(PipelineNames.ENCODER, PipelineNames.ENCODER, new ReplyEncoder());
        pipeline.replace(this, PipelineNames.HANDLER, new TransmissionHandler(server, session));
        pipeline.remove(PipelineNames.DECODER);
    }

    /**
     * A connection still negotiating when the server shuts down has nothing to finish: close it.
     * After NBD_OPT_STARTTLS nothing negotiated in the clear holds (the spec forbids keeping it).
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == TransmissionHandler.SHUTDOWN_EVENT || evt instanceof ChannelInputShutdownEvent) {
            ctx.close(); // nothing is in flight during the handshake
        } else if (evt == StartTlsHandler.TLS_STARTED) {
            structuredReplies = false;
            extendedHeaders = false;
            metaContextExport = null;
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ConnectionErrors.log(log, ctx, cause);
        ctx.close();
    }
}
