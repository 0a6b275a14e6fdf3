package io.tidemark.server.nbd;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/** The socket implementation: Linux epoll when its native library loads, else the JDK's NIO. */
enum Transport {
    EPOLL {
        @Override
        IoHandlerFactory ioHandlerFactory() {
            return EpollIoHandler.newFactory();
        }

        @Override
        Class<? extends ServerChannel> tcpServerChannel() {
            return EpollServerSocketChannel.class;
        }

        @Override
        Class<? extends ServerChannel> unixServerChannel() {
            return EpollServerDomainSocketChannel.class;
        }

        @Override
        SocketAddress unixAddress(Path path) {
            return new DomainSocketAddress(path.toFile());
        }
    },
    NIO {
        @Override
        IoHandlerFactory ioHandlerFactory() {
            return NioIoHandler.newFactory();
        }

        @Override
        Class<? extends ServerChannel> tcpServerChannel() {
            return NioServerSocketChannel.class;
        }

        @Override
        Class<? extends ServerChannel> unixServerChannel() {
            return NioServerDomainSocketChannel.class;
        }

        @Override
        SocketAddress unixAddress(Path path) {
            return UnixDomainSocketAddress.of(path);
        }
    };

    abstract IoHandlerFactory ioHandlerFactory();

    abstract Class<? extends ServerChannel> tcpServerChannel();

    abstract Class<? extends ServerChannel> unixServerChannel();

    abstract SocketAddress unixAddress(Path path);

    static Transport detect() {
        return Epoll.isAvailable() ? EPOLL : NIO;
    }
}
