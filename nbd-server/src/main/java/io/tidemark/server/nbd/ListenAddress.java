package io.tidemark.server.nbd;

import java.nio.file.Path;

/** Where the server listens: a TCP host and port, or a Unix domain socket path. */
public sealed interface ListenAddress {

    /** The address as an NBD URI (the form nbdinfo and qemu accept), without an export name. */
    String uri();

    record Tcp(String host, int port) implements ListenAddress {
        public Tcp {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }

        /** Parses {@code HOST:PORT}, {@code [IPV6]:PORT} or {@code :PORT} (all interfaces). */
        public static Tcp parse(String text) {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("expected HOST:PORT, got '" + text + "'");
            }
            String host = text.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            try {
                return new Tcp(host.isEmpty() ? "0.0.0.0" : host, Integer.parseInt(text.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port in '" + text + "'");
            }
        }

        @Override
        public String uri() {
            return "nbd://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    record Unix(Path path) implements ListenAddress {
        @Override
        public String uri() {
            return "nbd+unix:///?socket=" + path;
        }
    }

    /** A listening socket this process inherited (systemd socket activation), by descriptor. */
    record Inherited(int fd, boolean unix) implements ListenAddress {
        @Override
        public String uri() {
            return "inherited socket fd " + fd + (unix ? " (unix)" : " (tcp)");
        }
    }
}
