package io.tidemark.server.nbd;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tidemark.server.protocol.HandshakeDecoder;
import io.tidemark.server.protocol.HandshakeEncoder;
import io.tidemark.server.protocol.PayloadLandingAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server: listens on TCP and Unix sockets, runs the handshake and transmission phases
 * for each connection, and serves the exports of its {@link ExportRegistry}, which it owns from
 * {@link #start} on and closes in {@link #close}.
 */
public final class NbdServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);

    /** How long a graceful shutdown waits for connections to finish their in-flight requests. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);
    /** Flushes to the socket are batched up to this many writes (replies finishing together). */
    private static final int FLUSH_BATCH = 256;

    private final ExportRegistry exports;
    private final Transport transport;
    private final EventLoopGroup acceptGroup;
    private final EventLoopGroup ioGroup;
    private final ExecutorService diskExecutor;
    private final ShutdownSignal shutdown = new ShutdownSignal();
    private final ChannelGroup connections = new DefaultChannelGroup("nbd-connections", GlobalEventExecutor.INSTANCE);
    private final List<Channel> listeners = new ArrayList<>();
    private final List<ListenAddress> boundAddresses = new ArrayList<>();
    private final List<Path> unixSockets = new ArrayList<>();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final ServerContext context;
    private final ClientPolicy policy;
    private final ConnectionAdmission admission;

    private NbdServer(ExportRegistry exports, ConnectionLimits limits, int runnersPerExport, Transport transport,
            ClientPolicy policy) {
        this.exports = exports;
        this.policy = policy;
        this.transport = transport;
        this.acceptGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tidemark-accept", true),
                transport.ioHandlerFactory());
        this.ioGroup = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("tidemark-net", true),
                transport.ioHandlerFactory());
        // Threads are made as exports' runners need them; each export caps its own (DiskExecutors).
        this.diskExecutor = Executors.newCachedThreadPool(new DefaultThreadFactory("tidemark-disk", true));
        this.context = new ServerContext(exports, DiskExecutors.perExport(diskExecutor, runnersPerExport),
                shutdown, limits, new InFlightMemory(policy.admission().maxBytesInFlight()));
        this.admission = new ConnectionAdmission(policy.admission(), exports);
    }

    /**
     * Disk threads one export keeps busy at once when the caller does not say (the shared pool
     * makes threads as runners need them): 2 per core, at least 4. On 2 cores with page-cache-hot
     * data, 4 draining threads served fio's 4 KiB random reads at 1.24 server-cpu-s/GiB where an
     * 8-thread pool woken per request took 1.74 (and 4 connections' 4 KiB writes 2.31 vs 2.54).
     */
    public static int defaultRunnersPerExport() {
        return Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    }

    /**
     * Starts listening on every address. On failure everything started so far, including the
     * exports' devices, is closed again.
     */
    public static NbdServer start(ExportRegistry exports, List<ListenAddress> addresses, ConnectionLimits limits,
            int runnersPerExport) throws IOException, InterruptedException {
        return start(exports, addresses, limits, runnersPerExport, Transport.detect());
    }

    /** As {@link #start(ExportRegistry, List, ConnectionLimits, int)}, admitting clients per {@code policy}. */
    public static NbdServer start(ExportRegistry exports, List<ListenAddress> addresses, ConnectionLimits limits,
            int runnersPerExport, ClientPolicy policy) throws IOException, InterruptedException {
        return start(exports, addresses, limits, runnersPerExport, Transport.detect(), policy);
    }

    /** {@link #start} on a chosen transport, so tests cover the NIO fallback on Linux too. */
    static NbdServer start(ExportRegistry exports, List<ListenAddress> addresses, ConnectionLimits limits,
            int runnersPerExport, Transport transport) throws IOException, InterruptedException {
        return start(exports, addresses, limits, runnersPerExport, transport, ClientPolicy.OPEN);
    }

    private static NbdServer start(ExportRegistry exports, List<ListenAddress> addresses, ConnectionLimits limits,
            int runnersPerExport, Transport transport, ClientPolicy policy) throws IOException, InterruptedException {
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("nothing to listen on");
        }
        NbdServer server = new NbdServer(exports, limits, runnersPerExport, transport, policy);
        try {
            for (ListenAddress address : addresses) {
                server.listen(address);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
        log.info("serving {} export(s) with {} transport", exports.all().size(), server.transport);
        return server;
    }

    /** The addresses actually bound (a TCP port 0 resolved to the port the system chose). */
    public List<ListenAddress> addresses() {
        return List.copyOf(boundAddresses);
    }

    public ExportRegistry exports() {
        return exports;
    }

    /** Connections that negotiated {@code export} and are in the transmission phase. */
    public int connections(String export) {
        int count = 0;
        for (Channel ch : connections) {
            TransmissionHandler handler = ch.pipeline().get(TransmissionHandler.class);
            if (handler != null && handler.exportName().equals(export)) {
                count++;
            }
        }
        return count;
    }

    private void listen(ListenAddress address) throws IOException, InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptGroup, ioGroup)
                // A client's half-close ends its requests, not their replies (see TransmissionHandler).
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        initConnection(ch.pipeline(), context, policy, admission);
                    }
                });
        Channel channel;
        switch (address) {
            case ListenAddress.Tcp tcp -> {
                bootstrap.channel(transport.tcpServerChannel())
                        .option(ChannelOption.SO_REUSEADDR, true)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childOption(ChannelOption.SO_KEEPALIVE, true);
                channel = bind(bootstrap, new InetSocketAddress(tcp.host(), tcp.port()), address);
                InetSocketAddress local = (InetSocketAddress) channel.localAddress();
                boundAddresses.add(new ListenAddress.Tcp(tcp.host(), local.getPort()));
            }
            case ListenAddress.Unix unix -> {
                removeStaleSocket(unix.path());
                bootstrap.channel(transport.unixServerChannel());
                channel = bind(bootstrap, transport.unixAddress(unix.path()), address);
                unixSockets.add(unix.path());
                boundAddresses.add(unix);
            }
            case ListenAddress.Inherited inherited -> {
                channel = adopt(bootstrap, inherited);
                boundAddresses.add(inherited);
            }
        }
        listeners.add(channel);
    }

    /** The pipeline of a new connection, in the handshake phase; the handshake swaps in transmission. */
    static void initConnection(ChannelPipeline pipeline, ServerContext context) {
        initConnection(pipeline, context, ClientPolicy.OPEN, null);
    }

    /**
     * The pipeline with the client policy's handlers in front of the handshake, in the order a
     * client meets them: TLS, the allow-lists, then the connection limits (only options that got
     * this far count against an export). {@code admission} null: no connection limits.
     */
    static void initConnection(ChannelPipeline pipeline, ServerContext context, ClientPolicy policy,
            ConnectionAdmission admission) {
        ChannelConfig config = pipeline.channel().config();
        config.setRecvByteBufAllocator(new PayloadLandingAllocator(config.getRecvByteBufAllocator()));
        if (admission != null && !admission.limits().idleTimeout().isZero()) {
            pipeline.addLast(PipelineNames.IDLE, new IdleStateHandler(0, 0,
                    admission.limits().idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
        }
        pipeline.addLast(PipelineNames.FLUSH_CONSOLIDATION, new FlushConsolidationHandler(FLUSH_BATCH, true))
                .addLast(PipelineNames.DECODER, new HandshakeDecoder())
                .addLast(PipelineNames.ENCODER, new HandshakeEncoder());
        if (policy.tls().mode() != TlsMode.OFF) {
            pipeline.addLast(new StartTlsHandler(policy.tls()));
        }
        if (!policy.access().isOpen()) {
            pipeline.addLast(new ExportAccessHandler(policy.access(), context.exports()));
        }
        if (admission != null) {
            pipeline.addLast(admission);
        }
        pipeline.addLast(PipelineNames.HANDLER, new HandshakeHandler(context));
    }

    /** Serves a socket that is already listening: registered with the event loop, never bound. */
    private Channel adopt(ServerBootstrap bootstrap, ListenAddress.Inherited socket) throws IOException,
            InterruptedException {
        if (transport != Transport.EPOLL) {
            throw new IOException("serving an inherited socket needs the epoll transport");
        }
        SystemdSockets.makeNonBlocking(socket.fd()); // the event loop must never block in accept()
        // active: the socket already listens, so reading (accepting) starts on registration
        bootstrap.channelFactory(() -> socket.unix() ? new EpollServerDomainSocketChannel(socket.fd(), true)
                : new EpollServerSocketChannel(socket.fd()));
        var future = bootstrap.register().await();
        if (!future.isSuccess()) {
            throw new IOException("cannot serve " + socket.uri() + ": " + future.cause().getMessage(), future.cause());
        }
        return future.channel();
    }

    private static Channel bind(ServerBootstrap bootstrap, java.net.SocketAddress socketAddress, ListenAddress address)
            throws IOException, InterruptedException {
        var future = bootstrap.bind(socketAddress).await();
        if (!future.isSuccess()) {
            throw new IOException("cannot listen on " + address.uri() + ": " + future.cause().getMessage(),
                    future.cause());
        }
        return future.channel();
    }

    /** A socket file left by a server that died is removed; any other file in the way is an error. */
    private static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
            throw new IOException("cannot listen on " + path + ": a file that is not a socket is in the way");
        }
        Files.delete(path);
    }

    /**
     * Shuts down gracefully: stops accepting, answers new requests with ESHUTDOWN while in-flight
     * ones finish (up to {@link #DRAIN_TIMEOUT}), then flushes and closes every device. Safe to
     * call more than once and from a shutdown hook; later callers wait for the first to finish.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            awaitClosed();
            return;
        }
        try {
            long start = System.nanoTime();
            shutdown.begin();
            for (Channel listener : listeners) {
                listener.close().awaitUninterruptibly();
            }
            // each step's time goes into the log: a slow stop then shows whether clients or the disk held it
            log.info("stopping: draining {} connection(s)", connections.size());
            connections.forEach(ch -> ch.pipeline().fireUserEventTriggered(TransmissionHandler.SHUTDOWN_EVENT));
            if (!connections.newCloseFuture().awaitUninterruptibly(DRAIN_TIMEOUT.toMillis())) {
                log.warn("{} connection(s) still busy after {} s, closing them", connections.size(),
                        DRAIN_TIMEOUT.toSeconds());
                connections.close().awaitUninterruptibly();
            }
            diskExecutor.shutdown();
            if (!diskExecutor.awaitTermination(DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("disk I/O still running after {} s", DRAIN_TIMEOUT.toSeconds());
            }
            long drained = System.nanoTime();
            try {
                exports.flushAndClose();
            } catch (IOException e) {
                log.warn("closing exports failed: {}", e.toString());
            }
            long flushed = System.nanoTime();
            acceptGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            ioGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            for (Path socket : unixSockets) {
                Files.deleteIfExists(socket);
            }
            log.info("server stopped: connections drained in {} ms, exports flushed and closed in {} ms",
                    (drained - start) / 1_000_000, (flushed - drained) / 1_000_000);
        } catch (IOException e) {
            log.warn("removing socket file failed: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closed.countDown();
        }
    }

    /** Blocks until {@link #close} has finished. */
    public void awaitClosed() {
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
