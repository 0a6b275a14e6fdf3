package io.tidemark.server.nbd;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import io.tidemark.server.protocol.HandshakeReply;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import io.tidemark.server.protocol.OptionRequest;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces {@link AdmissionLimits} for one server, shared by all its connections: a connection
 * beyond the server's limit is closed before the greeting; NBD_OPT_GO to an export already at
 * its limit gets NBD_REP_ERR_POLICY (NBD_OPT_EXPORT_NAME, which cannot carry an error, ends the
 * connection); an idle connection is closed when its {@code IdleStateHandler} says so.
 */
@ChannelHandler.Sharable
final class ConnectionAdmission extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ConnectionAdmission.class);

    private static final AttributeKey<Boolean> COUNTED = AttributeKey.valueOf("tidemark.admitted");
    private static final AttributeKey<String> EXPORT = AttributeKey.valueOf("tidemark.admittedExport");

    private final AdmissionLimits limits;
    private final ExportRegistry exports;
    private final AtomicInteger connections = new AtomicInteger();
    private final ConcurrentHashMap<String, AtomicInteger> perExport = new ConcurrentHashMap<>();

    ConnectionAdmission(AdmissionLimits limits, ExportRegistry exports) {
        this.limits = limits;
        this.exports = exports;
    }

    AdmissionLimits limits() {
        return limits;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (connections.incrementAndGet() > limits.maxConnections()) {
            connections.decrementAndGet();
            log.info("{}: {} connections already open (the limit), closing", Peer.of(ctx.channel()),
                    limits.maxConnections());
            ctx.close();
            return;
        }
        ctx.channel().attr(COUNTED).set(true);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        String requested = switch (msg) {
            case OptionRequest.Info o when o.go() -> o.name();
            case OptionRequest.ExportName o -> o.name();
            default -> null;
        };
        Optional<Export> export = requested == null ? Optional.empty() : exports.find(requested);
        if (export.isEmpty() || admitToExport(ctx, export.get().name())) {
            ctx.fireChannelRead(msg);
            return;
        }
        OptionRequest option = (OptionRequest) msg;
        log.info("{}: export '{}' has {} connections (the limit), refusing", Peer.of(ctx.channel()),
                export.get().name(), limits.maxConnectionsPerExport());
        if (option instanceof OptionRequest.ExportName) {
            ctx.close();
        } else {
            ctx.writeAndFlush(new HandshakeReply.Error(option.option(), OptionReplyType.ERR_POLICY, "export '"
                    + export.get().name() + "' has " + limits.maxConnectionsPerExport() + " connections, its limit"));
        }
    }

    private boolean admitToExport(ChannelHandlerContext ctx, String name) {
        AtomicInteger count = perExport.computeIfAbsent(name, n -> new AtomicInteger());
        if (count.incrementAndGet() > limits.maxConnectionsPerExport()) {
            count.decrementAndGet();
            return false;
        }
        ctx.channel().attr(EXPORT).set(name);
        return true;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            log.info("{}: idle for {} s, closing", Peer.of(ctx.channel()), limits.idleTimeout().toSeconds());
            ctx.close();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (Boolean.TRUE.equals(ctx.channel().attr(COUNTED).getAndSet(false))) {
            connections.decrementAndGet();
        }
        String export = ctx.channel().attr(EXPORT).getAndSet(null);
        if (export != null) {
            perExport.get(export).decrementAndGet();
        }
        ctx.fireChannelInactive();
    }
}
