package io.tidemark.server.cli;

import io.tidemark.image.ByteSize;
import io.tidemark.server.control.ControlServer;
import io.tidemark.server.control.ThresholdServices;
import io.tidemark.server.nbd.AdmissionLimits;
import io.tidemark.server.nbd.ClientPolicy;
import io.tidemark.server.nbd.ConnectionLimits;
import io.tidemark.server.nbd.ExportAccess;
import io.tidemark.server.nbd.ListenAddress;
import io.tidemark.server.nbd.NbdServer;
import io.tidemark.server.nbd.SystemdSockets;
import io.tidemark.server.nbd.TlsMode;
import io.tidemark.server.nbd.TlsSettings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tidemark serve}: serves images over NBD until SIGTERM or Ctrl-C, then shuts down gracefully. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve images over NBD until SIGTERM or Ctrl-C.",
            "Listens on TCP (default 127.0.0.1:10809) unless only --unix is given, or, with neither,",
            "on the sockets systemd socket activation passes (LISTEN_PID, LISTEN_FDS).",
            "The first export is also the default export (the empty name)."})
final class ServeCommand implements Callable<Integer> {

    static final String DEFAULT_LISTEN = "127.0.0.1:10809";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "TCP address (default " + DEFAULT_LISTEN + ")")
    String listen;

    @Option(names = "--unix", paramLabel = "PATH", description = "also (or only) listen on this Unix socket")
    Path unix;

    @Option(names = "--export", required = true, paramLabel = ExportSpec.FORMAT, converter = ExportSpec.Converter.class,
            description = "an image to serve; repeat for several exports")
    List<ExportSpec> exports;

    @Option(names = "--image-dir", paramLabel = "DIR", description = {
        "Serve only images inside DIR: relative export paths are taken inside it, and a path",
        "leading elsewhere (.., an absolute path, a symbolic link) is refused"})
    Path imageDir;

    @CommandLine.Mixin
    ThresholdOptions thresholds;

    @Option(names = "--tls", paramLabel = "MODE", defaultValue = "off",
            description = "off, allow or require NBD_OPT_STARTTLS (default ${DEFAULT-VALUE})")
    String tls;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "the server's X.509 certificate chain (PEM)")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "the certificate's private key (PEM, PKCS#8)")
    Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "CA certificates (PEM); when given, clients must present a certificate it signed")
    Path tlsCa;

    @Option(names = "--allow", paramLabel = ExportAccess.FORMAT,
            description = "only clients with this certificate name, or from this network, may open EXPORT; repeat to add")
    List<String> allow = new ArrayList<>();

    @Option(names = "--max-connections", paramLabel = "N",
            description = "open connections per server (default " + AdmissionLimits.DEFAULT_MAX_CONNECTIONS + ")")
    int maxConnections = AdmissionLimits.DEFAULT_MAX_CONNECTIONS;

    @Option(names = "--max-connections-per-export", paramLabel = "N",
            description = "connections per export (default " + AdmissionLimits.DEFAULT_MAX_CONNECTIONS_PER_EXPORT + ")")
    int maxConnectionsPerExport = AdmissionLimits.DEFAULT_MAX_CONNECTIONS_PER_EXPORT;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS",
            description = "close a connection silent for this long (default 0: never)")
    long idleTimeoutSeconds = AdmissionLimits.DEFAULT_IDLE_TIMEOUT.toSeconds();

    @Option(names = "--max-bytes-in-flight", paramLabel = "SIZE", description = {
        "WRITE payloads and READ replies all connections together may hold; beyond it sockets",
        "are not read until replies leave (default: half the JVM's direct memory, now ${DEFAULT-VALUE})"})
    String maxBytesInFlight = ByteSize.format(AdmissionLimits.DEFAULT_MAX_BYTES_IN_FLIGHT);

    @Override
    public Integer call() throws Exception {
        List<ListenAddress> inherited = new ArrayList<>(SystemdSockets.inherited());
        List<ListenAddress> addresses = listen == null && unix == null && !inherited.isEmpty() ? inherited
                : listenAddresses(listen, unix);
        ClientPolicy policy = new ClientPolicy(TlsSettings.fromPem(TlsMode.parse(tls), tlsCert, tlsKey, tlsCa),
                ExportAccess.parse(allow), new AdmissionLimits(maxConnections, maxConnectionsPerExport,
                        Duration.ofSeconds(idleTimeoutSeconds), ByteSize.parse(maxBytesInFlight)));
        List<ExportSpec> served = imageDir == null ? exports : ImageDirectory.of(imageDir).confine(exports);
        Serving serving = startMonitored(served, addresses, policy, thresholds, spec.commandLine().getOut())
                .stopOnSignal();
        serving.server().awaitClosed();
        return 0;
    }

    /**
     * Opens the exports with their thresholds, starts the NBD server and the control API, and
     * prints where they listen. On failure everything started so far is closed again.
     */
    static Serving startMonitored(List<ExportSpec> exports, List<ListenAddress> addresses, ClientPolicy policy,
            ThresholdOptions thresholds, PrintWriter out) throws Exception {
        ThresholdServices services = thresholds.startServices();
        NbdServer server = null;
        try {
            MonitoredExports monitored = MonitoredExports.open(exports, services);
            server = NbdServer.start(monitored.registry(), addresses, ConnectionLimits.DEFAULT,
                    NbdServer.defaultRunnersPerExport(), policy);
            monitored.servedBy(server);
            ControlServer control = thresholds.startControl(services, monitored);
            printAddresses(out, server);
            if (control != null) {
                out.println("control API on " + control.url());
                out.flush();
            }
            return new Serving(server, services, control);
        } catch (Exception e) {
            if (server != null) {
                server.close();
            }
            services.close();
            throw e;
        }
    }

    static List<ListenAddress> listenAddresses(String listen, Path unix) {
        List<ListenAddress> addresses = new ArrayList<>();
        if (listen != null || unix == null) {
            addresses.add(ListenAddress.Tcp.parse(listen == null ? DEFAULT_LISTEN : listen));
        }
        if (unix != null) {
            addresses.add(new ListenAddress.Unix(unix));
        }
        return addresses;
    }

    /** One line per address, the form clients take: {@code listening on nbd://127.0.0.1:10809}. */
    static void printAddresses(PrintWriter out, NbdServer server) {
        for (ListenAddress address : server.addresses()) {
            out.println("listening on " + address.uri());
        }
        out.flush();
    }
}
