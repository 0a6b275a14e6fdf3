package io.tidemark.server.nbd;

import io.netty.channel.Channel;
import java.net.SocketAddress;

/** How log lines name a client: its TCP address, or the channel id for an unnamed Unix socket peer. */
final class Peer {

    private Peer() {
    }

    static String of(Channel channel) {
        SocketAddress remote = channel.remoteAddress();
        String text = remote == null ? "" : remote.toString();
        return text.isBlank() ? "unix#" + channel.id().asShortText() : text;
    }
}
