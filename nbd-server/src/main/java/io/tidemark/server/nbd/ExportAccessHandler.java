package io.tidemark.server.nbd;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.tidemark.server.protocol.ClientFlags;
import io.tidemark.server.protocol.HandshakeReply;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import io.tidemark.server.protocol.OptionRequest;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@link ExportAccess} in the option phase, before {@link HandshakeHandler} sees an
 * option that names an export: INFO, GO and the meta context options of an export the client
 * may not open get NBD_REP_ERR_POLICY; NBD_OPT_EXPORT_NAME, which cannot carry an error, ends
 * the connection. It sits behind {@link StartTlsHandler}, so a client certificate is known.
 * NBD_OPT_LIST names only the exports the client may open ({@link #mayOpen}), so the refusal
 * is what a client gets only for a name it learnt elsewhere.
 */
final class ExportAccessHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ExportAccessHandler.class);

    /** The rules a connection is held to, for {@link #mayOpen}; absent when every export is open. */
    private static final AttributeKey<ExportAccess> ACCESS = AttributeKey.valueOf("tidemark.exportAccess");

    private final ExportAccess access;
    private final ExportRegistry exports;

    ExportAccessHandler(ExportAccess access, ExportRegistry exports) {
        this.access = access;
        this.exports = exports;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.channel().attr(ACCESS).set(access);
    }

    /** Whether the client of {@code channel}, as far as it has identified itself now, may open {@code export}. */
    static boolean mayOpen(Channel channel, String export) {
        ExportAccess access = channel.attr(ACCESS).get();
        return access == null || access.admits(export, addressOf(channel),
                channel.attr(StartTlsHandler.CLIENT_CERTIFICATE).get());
    }

    private static InetAddress addressOf(Channel channel) {
        return channel.remoteAddress() instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        String export = switch (msg) {
            case OptionRequest.Info o -> o.name();
            case OptionRequest.ExportName o -> o.name();
            case OptionRequest.MetaContext o -> o.exportName();
            default -> null;
        };
        if (export == null) {
            if (!(msg instanceof OptionRequest || msg instanceof ClientFlags)) {
                ctx.pipeline().remove(this); // transmission has begun
            }
            ctx.fireChannelRead(msg);
            return;
        }
        String name = export.isEmpty() ? exports.defaultExport().name() : export;
        if (mayOpen(ctx.channel(), name)) {
            ctx.fireChannelRead(msg);
            return;
        }
        OptionRequest option = (OptionRequest) msg;
        X509Certificate certificate = ctx.channel().attr(StartTlsHandler.CLIENT_CERTIFICATE).get();
        log.info("{}: not allowed to open export '{}'{}", Peer.of(ctx.channel()), name,
                certificate == null ? " (no client certificate)" : " as " + ExportAccess.namesOf(certificate));
        if (option instanceof OptionRequest.ExportName) {
            ctx.close();
        } else {
            ctx.writeAndFlush(new HandshakeReply.Error(option.option(), OptionReplyType.ERR_POLICY,
                    "access to export '" + name + "' is not allowed for this client"));
        }
    }
}
