package io.tidemark.server.control;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import io.tidemark.threshold.EventCodec;
import io.tidemark.threshold.EventStreamHub;
import io.tidemark.threshold.ThresholdEvent;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code GET /events} as Server-Sent Events: one {@code event: threshold} message per event
 * with the event's JSON as data and its id as the SSE id; a client reconnecting with
 * {@code Last-Event-ID} first gets the retained events it missed. A comment line goes out at once (so a
 * client knows it is subscribed) and every 15 seconds (so dead peers are noticed). A subscriber
 * that cannot keep up (its socket stops draining) is disconnected rather than buffered forever.
 */
final class EventStream {

    private static final Logger log = LoggerFactory.getLogger(EventStream.class);
    private static final long HEARTBEAT_SECONDS = 15;

    private EventStream() {
    }

    /**
     * @param lastEventId the {@code Last-Event-ID} a reconnecting client sent, or null
     */
    static void open(ChannelHandlerContext ctx, EventStreamHub hub, String export, String lastEventId) {
        Channel channel = ctx.channel();
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        channel.write(response);
        send(channel, ": subscribed" + (export == null ? "" : " to " + export) + "\n\n");
        EventStreamHub.Subscription subscription = hub.subscribe(export, lastEventId, event -> deliver(channel, event));
        ScheduledFuture<?> heartbeat = ctx.executor().scheduleAtFixedRate(
                () -> send(channel, ": keepalive\n\n"), HEARTBEAT_SECONDS, HEARTBEAT_SECONDS, TimeUnit.SECONDS);
        channel.closeFuture().addListener(f -> {
            subscription.close();
            heartbeat.cancel(false);
        });
    }

    private static void deliver(Channel channel, ThresholdEvent event) {
        if (!channel.isActive()) {
            // The hub drops a subscriber whose callback throws: this stream is gone.
            throw new IllegalStateException("event stream " + channel.remoteAddress() + " closed");
        }
        if (!channel.isWritable()) {
            log.warn("event stream {} is not draining, disconnected", channel.remoteAddress());
            channel.close();
            return;
        }
        send(channel, "id: " + event.id() + "\nevent: threshold\ndata: " + EventCodec.toJson(event) + "\n\n");
    }

    private static void send(Channel channel, String text) {
        channel.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)))
                .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }
}
