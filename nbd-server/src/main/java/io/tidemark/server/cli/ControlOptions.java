package io.tidemark.server.cli;

import picocli.CommandLine.Option;

/** How a client command reaches the control API: {@code --control HOST:PORT} and an optional token. */
public final class ControlOptions {

    @Option(names = "--control", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:10810",
            description = "Control API address (default: ${DEFAULT-VALUE}).")
    String control;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:TIDEMARK_CONTROL_TOKEN}",
            description = "Bearer token of the control API (default: $TIDEMARK_CONTROL_TOKEN).")
    String token;

    ControlClient client() {
        return new ControlClient(control, token);
    }
}
