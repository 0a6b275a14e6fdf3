package io.tidemark.it.hardening;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A webhook receiver on a plain socket whose behaviour the test switches while the server keeps
 * posting: healthy (204, the event recorded), slow (answers after the client's time limit),
 * failing (500), refusing connections (listening socket closed), resetting mid-response (half a
 * status line, then a TCP RST) or answering garbage. Only the healthy mode records an event: in
 * every other mode the server must send it again.
 */
final class FaultyWebhookReceiver implements AutoCloseable {

    enum Mode { HEALTHY, SLOW, FAILING, REFUSING, RESETTING, GARBAGE }

    /** An event as received: the {@code webhook-id} header and the CloudEvent's sequence and coalesced count. */
    record Received(String id, long sequence, long coalesced) {
    }

    private static final Pattern SEQUENCE = Pattern.compile("\"sequence\":\"(\\d+)\"");
    private static final Pattern COALESCED = Pattern.compile("\"coalesced\":(\\d+)");
    private static final int MAX_REQUEST = 1 << 20;

    private final int port;
    private final long slowMillis;
    private final Set<String> seenIds = new LinkedHashSet<>();
    private final List<Received> firstArrivals = new ArrayList<>();
    private volatile Mode mode = Mode.HEALTHY;
    private volatile boolean open = true;
    private ServerSocket listener;
    private Thread acceptor;
    private int requests;

    private FaultyWebhookReceiver(int port, long slowMillis) {
        this.port = port;
        this.slowMillis = slowMillis;
    }

    /** Listens on a free loopback port; {@code slowMillis} is how long the slow mode waits before answering. */
    static FaultyWebhookReceiver start(long slowMillis) throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        FaultyWebhookReceiver receiver = new FaultyWebhookReceiver(port, slowMillis);
        receiver.listen();
        return receiver;
    }

    String url() {
        return "http://127.0.0.1:" + port + "/hook";
    }

    /** Switches behaviour; REFUSING closes the listening socket, leaving it reopens it on the same port. */
    synchronized void mode(Mode next) throws IOException {
        if (next == Mode.REFUSING && mode != Mode.REFUSING) {
            listener.close();
        } else if (next != Mode.REFUSING && mode == Mode.REFUSING) {
            listen();
        }
        mode = next;
    }

    /** Events recorded in healthy mode, each id once, in the order they first arrived. */
    synchronized List<Received> received() {
        return List.copyOf(firstArrivals);
    }

    synchronized int requests() {
        return requests;
    }

    private void listen() throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        listener = socket;
        acceptor = Thread.ofPlatform().daemon().name("faulty-webhook-" + port).start(() -> acceptLoop(socket));
    }

    private void acceptLoop(ServerSocket socket) {
        while (open && !socket.isClosed()) {
            try {
                Socket connection = socket.accept();
                Thread.ofVirtual().start(() -> serve(connection));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket connection) {
        try (connection) {
            InputStream in = connection.getInputStream();
            OutputStream out = connection.getOutputStream();
            String head = readHead(in);
            if (head == null) {
                return;
            }
            byte[] body = in.readNBytes(contentLength(head));
            Mode now;
            synchronized (this) {
                requests++;
                now = mode;
            }
            switch (now) {
                case HEALTHY -> {
                    record(header(head, "webhook-id"), new String(body, StandardCharsets.UTF_8));
                    out.write("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                case SLOW -> {
                    Thread.sleep(slowMillis);
                    out.write("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                case FAILING -> out.write(("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n"
                        + "Connection: close\r\n\r\noops\n").getBytes(StandardCharsets.US_ASCII));
                case RESETTING -> {
                    out.write("HTTP/1.1 2".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    connection.setSoLinger(true, 0); // close() now sends RST, not FIN
                }
                case GARBAGE -> out.write("\u0000\u00ffgarbage\r\n\r\n{not http at all".getBytes(StandardCharsets.ISO_8859_1));
                case REFUSING -> {
                    // A connection accepted just before the socket closed: drop it unanswered.
                }
            }
            out.flush();
        } catch (SocketException reset) {
            // The client gave up (its time limit) or we reset: nothing to answer.
        } catch (IOException | InterruptedException e) {
            // The test's assertions decide; a broken exchange here is what the server must survive.
        }
    }

    private synchronized void record(String id, String body) {
        if (id == null || !seenIds.add(id)) {
            return;
        }
        Matcher sequence = SEQUENCE.matcher(body);
        Matcher coalesced = COALESCED.matcher(body);
        firstArrivals.add(new Received(id, sequence.find() ? Long.parseLong(sequence.group(1)) : -1,
                coalesced.find() ? Long.parseLong(coalesced.group(1)) : 0));
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        for (int b; (b = in.read()) >= 0; ) {
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == end.length) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
            if (head.size() > MAX_REQUEST) {
                return null;
            }
        }
        return null;
    }

    private static int contentLength(String head) {
        String value = header(head, "content-length");
        return value == null ? 0 : Math.min(MAX_REQUEST, Integer.parseInt(value));
    }

    private static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    @Override
    public synchronized void close() throws IOException, InterruptedException {
        open = false;
        listener.close();
        acceptor.join(5_000);
    }
}
