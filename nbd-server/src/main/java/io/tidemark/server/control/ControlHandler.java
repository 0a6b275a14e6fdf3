package io.tidemark.server.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.tidemark.image.ByteSize;
import io.tidemark.threshold.EventStreamHub;
import io.tidemark.threshold.Quota;
import io.tidemark.threshold.QuotaPolicy;
import io.tidemark.threshold.ThresholdMonitor;
import io.tidemark.threshold.ThresholdSetting;
import io.tidemark.threshold.ThresholdValue;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes control API requests. Requests are handled on a worker executor, not the event loop,
 * because changing a threshold or quota persists the export's state with an fsync.
 *
 * <pre>
 * GET    /health
 * GET    /metrics
 * GET    /events[?export=NAME]                     Server-Sent Events
 * GET    /exports
 * GET    /exports/NAME
 * GET    /exports/NAME/thresholds
 * PUT    /exports/NAME/thresholds/TNAME            {"value": "80%" | "16G" | bytes, "repeat": "1G" | bytes}
 * DELETE /exports/NAME/thresholds[/TNAME]
 * PUT    /exports/NAME/quota                       {"size": "10G", "policy": "enospc" | "pause",
 *                                                   "pause-timeout-seconds": 60}; size 0 removes it
 * DELETE /exports/NAME/quota
 * </pre>
 */
final class ControlHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(ControlHandler.class);
    private static final String JSON_TYPE = "application/json; charset=utf-8";
    private static final String PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final ExportCatalog catalog;
    private final EventStreamHub hub;
    private final TidemarkMetrics metrics;
    private final byte[] token;
    private final Executor workers;

    ControlHandler(ExportCatalog catalog, EventStreamHub hub, TidemarkMetrics metrics, String token,
            Executor workers) {
        this.workers = workers;
        this.catalog = catalog;
        this.hub = hub;
        this.metrics = metrics;
        this.token = token == null ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Requests of this connection, in arrival order: each runs on a worker after the previous one,
     * so pipelined requests are answered in order. Touched only on the event loop.
     */
    private CompletableFuture<Void> previous = CompletableFuture.completedFuture(null);

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        request.retain();
        previous = previous.thenRunAsync(() -> handle(ctx, request), workers).handle((done, failure) -> {
            request.release();
            if (failure != null) {
                ctx.close(); // the server is shutting down (workers rejected the task)
            }
            return null;
        });
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest request) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        List<String> path = segments(uri.rawPath());
        try {
            if (!path.equals(List.of("health")) && !authorized(request)) {
                throw new ApiException(HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token");
            }
            route(ctx, request, uri, path);
        } catch (ApiException e) {
            respond(ctx, request, e.status(), JSON_TYPE, error(e.getMessage()));
        } catch (IllegalArgumentException e) {
            respond(ctx, request, HttpResponseStatus.BAD_REQUEST, JSON_TYPE, error(e.getMessage()));
        } catch (RuntimeException e) {
            log.error("control API {} {} failed: {}", request.method(), request.uri(), e.toString());
            respond(ctx, request, HttpResponseStatus.INTERNAL_SERVER_ERROR, JSON_TYPE, error(e.toString()));
        }
    }

    private void route(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri, List<String> path) {
        HttpMethod method = request.method();
        switch (path.size() > 0 ? path.getFirst() : "") {
            case "health" -> {
                only(method, path, 1, HttpMethod.GET);
                respondJson(ctx, request, HttpResponseStatus.OK, ExportJson.MAPPER.createObjectNode().put("status", "ok"));
            }
            case "metrics" -> {
                only(method, path, 1, HttpMethod.GET);
                respond(ctx, request, HttpResponseStatus.OK, PROMETHEUS_TYPE, metrics.scrape());
            }
            case "events" -> {
                only(method, path, 1, HttpMethod.GET);
                List<String> export = uri.parameters().get("export");
                String name = export == null || export.isEmpty() ? null : export.getFirst();
                if (name != null) {
                    exportNamed(name);
                }
                EventStream.open(ctx, hub, name, request.headers().get("Last-Event-ID"));
            }
            case "exports" -> routeExports(ctx, request, path);
            default -> throw ApiException.notFound("no such resource: " + uri.rawPath());
        }
    }

    private void routeExports(ChannelHandlerContext ctx, FullHttpRequest request, List<String> path) {
        HttpMethod method = request.method();
        if (path.size() == 1) {
            only(method, path, 1, HttpMethod.GET);
            respondJson(ctx, request, HttpResponseStatus.OK, ExportJson.exports(catalog.exports()));
            return;
        }
        ControlledExport export = exportNamed(path.get(1));
        if (path.size() == 2) {
            only(method, path, 2, HttpMethod.GET);
            respondJson(ctx, request, HttpResponseStatus.OK, ExportJson.export(export));
            return;
        }
        switch (path.get(2)) {
            case "thresholds" -> thresholds(ctx, request, export, path);
            case "quota" -> quota(ctx, request, export, path);
            default -> throw ApiException.notFound("no such resource: " + String.join("/", path));
        }
    }

    private void thresholds(ChannelHandlerContext ctx, FullHttpRequest request, ControlledExport export,
            List<String> path) {
        ThresholdMonitor monitor = export.monitor();
        HttpMethod method = request.method();
        if (path.size() > 4) {
            throw ApiException.notFound("no such resource: " + String.join("/", path));
        }
        String name = path.size() == 4 ? path.get(3) : null;
        if (HttpMethod.GET.equals(method) && name == null) {
            respondJson(ctx, request, HttpResponseStatus.OK, ExportJson.thresholds(monitor.thresholds()));
        } else if (HttpMethod.PUT.equals(method) && name != null) {
            JsonNode body = body(request);
            ThresholdValue value = ThresholdValue.parse(requiredText(body, "value"));
            long repeat = body.hasNonNull("repeat") ? size(body.get("repeat"), "repeat") : 0;
            monitor.arm(new ThresholdSetting(name, value, repeat));
            log.info("export {}: threshold '{}' set to {}{}", export.name(), name, value,
                    repeat > 0 ? " repeating every " + ByteSize.format(repeat) : "");
            respondJson(ctx, request, HttpResponseStatus.OK, ExportJson.thresholds(monitor.thresholds()));
        } else if (HttpMethod.DELETE.equals(method)) {
            if (name == null) {
                monitor.clearAll();
            } else if (!monitor.clear(name)) {
                throw ApiException.notFound("export " + export.name() + " has no threshold '" + name + "'");
            }
            log.info("export {}: threshold {} cleared", export.name(), name == null ? "(all)" : "'" + name + "'");
            respondJson(ctx, request, HttpResponseStatus.OK, ExportJson.thresholds(monitor.thresholds()));
        } else {
            throw new ApiException(HttpResponseStatus.METHOD_NOT_ALLOWED,
                    method + " not allowed on " + String.join("/", path));
        }
    }

    private void quota(ChannelHandlerContext ctx, FullHttpRequest request, ControlledExport export, List<String> path) {
        HttpMethod method = request.method();
        if (path.size() != 3) {
            throw ApiException.notFound("no such resource: " + String.join("/", path));
        }
        ThresholdMonitor monitor = export.monitor();
        if (HttpMethod.PUT.equals(method)) {
            JsonNode body = body(request);
            JsonNode sizeNode = body.get("size");
            if (sizeNode == null || sizeNode.isNull()) {
                throw ApiException.badRequest("field 'size' is required");
            }
            long bytes = size(sizeNode, "size");
            QuotaPolicy policy = body.hasNonNull("policy") ? QuotaPolicy.parse(body.get("policy").asText())
                    : monitor.quota().map(Quota::policy).orElse(QuotaPolicy.ENOSPC);
            Duration timeout = body.hasNonNull("pause-timeout-seconds")
                    ? Duration.ofMillis(Math.round(body.get("pause-timeout-seconds").asDouble() * 1000))
                    : monitor.quota().map(Quota::pauseTimeout).orElse(Quota.DEFAULT_PAUSE_TIMEOUT);
            monitor.setQuota(bytes == 0 ? null : new Quota(bytes, policy, timeout));
            log.info("export {}: quota {}", export.name(), bytes == 0 ? "removed" : monitor.quota().orElseThrow());
        } else if (HttpMethod.DELETE.equals(method)) {
            monitor.setQuota(null);
            log.info("export {}: quota removed", export.name());
        } else if (!HttpMethod.GET.equals(method)) {
            throw new ApiException(HttpResponseStatus.METHOD_NOT_ALLOWED, method + " not allowed on quota");
        }
        respondJson(ctx, request, HttpResponseStatus.OK, ExportJson.export(export));
    }

    private ControlledExport exportNamed(String name) {
        return catalog.find(name).orElseThrow(() -> ApiException.notFound("no export named '" + name + "'"));
    }

    private static void only(HttpMethod method, List<String> path, int length, HttpMethod allowed) {
        if (path.size() != length) {
            throw ApiException.notFound("no such resource: /" + String.join("/", path));
        }
        if (!allowed.equals(method)) {
            throw new ApiException(HttpResponseStatus.METHOD_NOT_ALLOWED,
                    method + " not allowed on /" + String.join("/", path));
        }
    }

    private static JsonNode body(FullHttpRequest request) {
        String text = request.content().toString(StandardCharsets.UTF_8);
        if (text.isBlank()) {
            throw ApiException.badRequest("request body must be a JSON object");
        }
        try {
            JsonNode node = ExportJson.MAPPER.readTree(text);
            if (!node.isObject()) {
                throw ApiException.badRequest("request body must be a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("request body is not JSON: " + e.getOriginalMessage());
        }
    }

    private static String requiredText(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull() || !(value.isTextual() || value.isIntegralNumber())) {
            throw ApiException.badRequest("field '" + field + "' is required (a size or percentage)");
        }
        return value.asText();
    }

    private static long size(JsonNode node, String field) {
        if (node.isIntegralNumber()) {
            if (node.asLong() < 0) {
                throw ApiException.badRequest("field '" + field + "' must not be negative");
            }
            return node.asLong();
        }
        if (!node.isTextual()) {
            throw ApiException.badRequest("field '" + field + "' must be a size such as 512, 64K or 10G");
        }
        try {
            return ByteSize.parse(node.asText());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("field '" + field + "': " + e.getMessage());
        }
    }

    private boolean authorized(FullHttpRequest request) {
        if (token == null) {
            return true;
        }
        String given = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        return given != null && MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> segments(String rawPath) {
        List<String> segments = new ArrayList<>();
        for (String s : rawPath.split("/")) {
            if (!s.isEmpty()) {
                segments.add(QueryStringDecoder.decodeComponent(s));
            }
        }
        return segments;
    }

    private static String error(String message) {
        return ExportJson.MAPPER.createObjectNode().put("error", message).toString();
    }

    private static void respondJson(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
            JsonNode body) {
        respond(ctx, request, status, JSON_TYPE, body.toString());
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
            String contentType, String body) {
        ByteBuf content = Unpooled.copiedBuffer(body.endsWith("\n") ? body : body + "\n", StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        HttpUtil.setContentLength(response, content.readableBytes());
        if (status == HttpResponseStatus.UNAUTHORIZED) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("control connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
