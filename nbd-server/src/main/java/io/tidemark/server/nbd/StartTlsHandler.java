package io.tidemark.server.nbd;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.tidemark.server.protocol.ClientFlags;
import io.tidemark.server.protocol.HandshakeReply;
import io.tidemark.server.protocol.NbdProtocol.Option;
import io.tidemark.server.protocol.NbdProtocol.OptionReplyType;
import io.tidemark.server.protocol.OptionRequest;
import io.tidemark.server.protocol.ProtocolLimits;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NBD_OPT_STARTTLS and the TLS policy of the option phase. Sits between the handshake decoder
 * and {@link HandshakeHandler}: it answers STARTTLS itself (ACK, then a TLS handshake at the
 * front of the pipeline), and while TLS is required but not yet up it refuses every other
 * option but ABORT with NBD_REP_ERR_TLS_REQD (NBD_OPT_EXPORT_NAME, which cannot carry an error,
 * ends the connection). Everything else passes through untouched.
 */
final class StartTlsHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(StartTlsHandler.class);

    /** The client's verified certificate, set on the channel once a TLS handshake with one completes. */
    static final AttributeKey<X509Certificate> CLIENT_CERTIFICATE = AttributeKey.valueOf("tidemark.clientCertificate");

    private static final String SSL_HANDLER = "tls";

    /** Fired down the pipeline when STARTTLS is accepted: options negotiated before it no longer hold. */
    static final Object TLS_STARTED = new Object() {
        @Override
        public String toString() {
            return "TLS_STARTED";
        }
    };

    private final TlsSettings tls;
    private boolean secured;
    private int refused;

    StartTlsHandler(TlsSettings tls) {
        this.tls = tls;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof OptionRequest option)) {
            if (!(msg instanceof ClientFlags)) {
                ctx.pipeline().remove(this); // transmission has begun: requests need no TLS policy
            }
            ctx.fireChannelRead(msg);
            return;
        }
        if (option.option() == Option.STARTTLS) {
            startTls(ctx, option);
        } else if (tls.mode() == TlsMode.REQUIRE && !secured && !(option instanceof OptionRequest.Abort)) {
            refuse(ctx, option);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void startTls(ChannelHandlerContext ctx, OptionRequest option) {
        if (tls.mode() == TlsMode.OFF) {
            ctx.fireChannelRead(option); // the handshake answers it as the unsupported option it is here
            return;
        }
        if (secured) {
            replyError(ctx, Option.STARTTLS, OptionReplyType.ERR_INVALID, "TLS is already in use");
            return;
        }
        if (!(option instanceof OptionRequest.Unsupported)) {
            replyError(ctx, Option.STARTTLS, OptionReplyType.ERR_INVALID, "NBD_OPT_STARTTLS carries no data");
            return;
        }
        secured = true;
        ctx.fireUserEventTriggered(TLS_STARTED);
        // startTls: the ACK below still goes out in the clear, everything after it encrypted
        SslHandler ssl = new SslHandler(tls.context().newEngine(ctx.alloc()), true);
        ctx.pipeline().addFirst(SSL_HANDLER, ssl);
        ctx.writeAndFlush(new HandshakeReply.Ack(Option.STARTTLS));
        ssl.handshakeFuture().addListener(done -> {
            if (!done.isSuccess()) {
                log.info("{}: TLS handshake failed: {}", Peer.of(ctx.channel()), done.cause().getMessage());
                ctx.close();
                return;
            }
            rememberClientCertificate(ctx, ssl);
            log.debug("{}: TLS {} {}", Peer.of(ctx.channel()), ssl.engine().getSession().getProtocol(),
                    ssl.engine().getSession().getCipherSuite());
        });
    }

    private void rememberClientCertificate(ChannelHandlerContext ctx, SslHandler ssl) {
        if (!tls.verifiesClients()) {
            return;
        }
        try {
            Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate certificate) {
                ctx.channel().attr(CLIENT_CERTIFICATE).set(certificate);
            }
        } catch (SSLPeerUnverifiedException e) {
            log.info("{}: no verified client certificate: {}", Peer.of(ctx.channel()), e.getMessage());
        }
    }

    private void refuse(ChannelHandlerContext ctx, OptionRequest option) {
        if (++refused > ProtocolLimits.MAX_OPTIONS_PER_CONNECTION) {
            log.info("{}: more than {} options without TLS, closing", Peer.of(ctx.channel()),
                    ProtocolLimits.MAX_OPTIONS_PER_CONNECTION);
            ctx.close();
            return;
        }
        if (option.option() == Option.EXPORT_NAME) {
            log.info("{}: NBD_OPT_EXPORT_NAME without TLS, which this server requires; closing", Peer.of(ctx.channel()));
            ctx.close();
            return;
        }
        replyError(ctx, option.option(), OptionReplyType.ERR_TLS_REQD,
                "this server requires TLS: send NBD_OPT_STARTTLS first");
    }

    private static void replyError(ChannelHandlerContext ctx, int option, int type, String message) {
        log.debug("{}: {} -> {}: {}", Peer.of(ctx.channel()), Option.name(option), OptionReplyType.name(type), message);
        ctx.writeAndFlush(new HandshakeReply.Error(option, type, message));
    }

}
