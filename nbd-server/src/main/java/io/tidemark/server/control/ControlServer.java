package io.tidemark.server.control;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tidemark.threshold.EventStreamHub;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The control API's HTTP server ({@code --control}, default 127.0.0.1:10810). */
public final class ControlServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    /** Request bodies are small JSON objects. */
    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final EventLoopGroup loop;
    private final ChannelGroup connections;
    private final ExecutorService workers;
    private final Channel channel;

    private ControlServer(EventLoopGroup loop, ChannelGroup connections, ExecutorService workers, Channel channel) {
        this.loop = loop;
        this.connections = connections;
        this.workers = workers;
        this.channel = channel;
    }

    /**
     * Binds and starts serving.
     *
     * @param token a bearer token every request but {@code /health} must carry, or null for none
     */
    public static ControlServer start(InetSocketAddress address, ExportCatalog catalog, EventStreamHub hub,
            TidemarkMetrics metrics, String token) throws InterruptedException {
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ChannelGroup connections = new DefaultChannelGroup("control", GlobalEventExecutor.INSTANCE);
        ExecutorService workers = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("control-", 0).factory());
        try {
            Channel channel = new ServerBootstrap()
                    .group(loop)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            connections.add(ch);
                            ch.pipeline()
                                    .addLast(new HttpServerCodec())
                                    .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                                    .addLast(new ControlHandler(catalog, hub, metrics, token, workers));
                        }
                    })
                    .bind(address).sync().channel();
            log.info("control API on http://{}{}", hostPort((InetSocketAddress) channel.localAddress()),
                    token == null ? "" : " (bearer token required)");
            return new ControlServer(loop, connections, workers, channel);
        } catch (Exception e) { // bind() rethrows a BindException undeclared
            workers.shutdown();
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            if (e instanceof InterruptedException interrupted) {
                throw interrupted;
            }
            throw new IllegalStateException("control API cannot listen on " + address + ": " + e.getMessage(), e);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Where the API answers, e.g. {@code http://127.0.0.1:10810}. */
    public String url() {
        return "http://" + hostPort(address());
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        // Close event streams while the loop still runs, so their subscriptions are released.
        connections.close().awaitUninterruptibly();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownNow();
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
