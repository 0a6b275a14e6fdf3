package io.tidemark.server.nbd;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Listening sockets handed over by systemd socket activation (or by {@code nbdinfo -- [ … ]},
 * which speaks the same protocol): {@code LISTEN_PID} names this process and {@code LISTEN_FDS}
 * counts the descriptors, starting at 3.
 */
public final class SystemdSockets {

    /** The first inherited descriptor, SD_LISTEN_FDS_START. */
    private static final int FIRST_FD = 3;

    private SystemdSockets() {
    }

    /** The inherited sockets, or none when the variables are absent or meant for another process. */
    public static List<ListenAddress.Inherited> inherited() throws IOException {
        return inherited(System.getenv(), ProcessHandle.current().pid());
    }

    static List<ListenAddress.Inherited> inherited(Map<String, String> env, long pid) throws IOException {
        String listenPid = env.get("LISTEN_PID");
        String listenFds = env.get("LISTEN_FDS");
        if (listenPid == null || listenFds == null || !listenPid.trim().equals(Long.toString(pid))) {
            return List.of();
        }
        int count;
        try {
            count = Integer.parseInt(listenFds.trim());
        } catch (NumberFormatException e) {
            throw new IOException("LISTEN_FDS is not a number: '" + listenFds + "'");
        }
        List<ListenAddress.Inherited> sockets = new ArrayList<>();
        for (int fd = FIRST_FD; fd < FIRST_FD + count; fd++) {
            sockets.add(new ListenAddress.Inherited(fd, isUnixSocket(fd)));
        }
        return sockets;
    }

    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int O_NONBLOCK = 04000;
    private static final MethodHandle FCNTL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("fcntl").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2));

    /** Systemd hands sockets over blocking unless told otherwise; Netty's accept loop needs them non-blocking. */
    static void makeNonBlocking(int fd) throws IOException {
        try {
            int flags = (int) FCNTL.invokeExact(fd, F_GETFL, 0);
            if (flags < 0 || (int) FCNTL.invokeExact(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
                throw new IOException("cannot make inherited socket fd " + fd + " non-blocking");
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("fcntl on fd " + fd + " failed", e);
        }
    }

    /** A Unix socket's inode is listed in /proc/net/unix; a TCP socket's is not. */
    private static boolean isUnixSocket(int fd) throws IOException {
        String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        if (!link.startsWith("socket:[")) {
            throw new IOException("inherited descriptor " + fd + " is not a socket: " + link);
        }
        String inode = link.substring("socket:[".length(), link.length() - 1);
        for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length > 6 && fields[6].equals(inode)) {
                return true;
            }
        }
        return false;
    }
}
