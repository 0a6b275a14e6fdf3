package io.tidemark.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Predicate;

/** The CLI's client of the control API, over java.net.http. */
final class ControlClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String address;
    private final URI base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ControlClient(String hostPort, String token) {
        this.address = hostPort;
        this.token = token == null || token.isBlank() ? null : token;
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new IllegalArgumentException("--control must be HOST:PORT, not '" + hostPort + "'");
        }
        String host = hostPort.substring(0, colon);
        if (host.contains(":") && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        try {
            this.base = URI.create("http://" + host + ":" + Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--control must be HOST:PORT, not '" + hostPort + "'");
        }
    }

    static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    JsonNode get(String path) throws IOException {
        return call("GET", path, null);
    }

    JsonNode put(String path, JsonNode body) throws IOException {
        return call("PUT", path, body);
    }

    JsonNode delete(String path) throws IOException {
        return call("DELETE", path, null);
    }

    /** The stream answered with an HTTP error: retrying will not help. */
    static final class Refused extends IOException {
        Refused(String message) {
            super(message);
        }
    }

    /** One Server-Sent Event: its id (null without one) and data. */
    record StreamEvent(String id, String data) {
    }

    /**
     * Follows a Server-Sent Events stream, handing each event to {@code onEvent} until it returns
     * false (then true is returned) or the server ends the stream (false). With
     * {@code lastEventId} the server first replays what came after that event.
     *
     * @throws Refused when the server answers with an error status
     */
    boolean stream(String path, String lastEventId, Predicate<StreamEvent> onEvent) throws IOException {
        HttpRequest.Builder b = request(path).header("Accept", "text/event-stream").GET();
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<InputStream> response = send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            String body;
            try (InputStream in = response.body()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            throw new Refused(failure(response.statusCode(), body).getMessage());
        }
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            StringBuilder data = new StringBuilder();
            String id = null;
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("data:")) {
                    data.append(data.isEmpty() ? "" : "\n").append(field(line, "data:"));
                } else if (line.startsWith("id:")) {
                    id = field(line, "id:");
                } else if (line.isEmpty() && !data.isEmpty()) {
                    if (!onEvent.test(new StreamEvent(id, data.toString()))) {
                        return true;
                    }
                    data.setLength(0);
                    id = null;
                }
            }
        }
        return false;
    }

    private static String field(String line, String name) {
        String value = line.substring(name.length());
        return value.startsWith(" ") ? value.substring(1) : value;
    }

    private JsonNode call(String method, String path, JsonNode body) throws IOException {
        HttpRequest.Builder b = request(path).timeout(Duration.ofSeconds(30));
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
        }
        HttpResponse<String> response = send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw failure(response.statusCode(), response.body());
        }
        return JSON.readTree(response.body());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return http.send(request, handler);
        } catch (ConnectException e) {
            throw new IOException("cannot reach the control API at " + address + " (is tidemark serve running?)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private static IOException failure(int status, String body) {
        String message = body;
        try {
            JsonNode node = JSON.readTree(body);
            if (node.hasNonNull("error")) {
                message = node.get("error").asText();
            }
        } catch (IOException notJson) {
            // keep the raw body
        }
        return new IOException(message.strip() + " (HTTP " + status + ")");
    }
}
