package io.tidemark.it;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs one of the Python scripts under {@code src/test/resources/nbdsh} in nbdsh with named inputs. */
final class NbdshScript {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    private final Path script;
    private final Map<String, String> variables = new LinkedHashMap<>();

    private NbdshScript(Path script) {
        this.script = script;
    }

    static NbdshScript named(String fileName) {
        URL url = NbdshScript.class.getResource("/nbdsh/" + fileName);
        if (url == null) {
            throw new IllegalArgumentException("no nbdsh script " + fileName + " on the test classpath");
        }
        try {
            return new NbdshScript(Path.of(url.toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(url.toString(), e);
        }
    }

    NbdshScript with(String name, String value) {
        variables.put(name, "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'");
        return this;
    }

    NbdshScript with(String name, long value) {
        variables.put(name, Long.toString(value));
        return this;
    }

    NbdshScript withBoolean(String name, boolean value) {
        variables.put(name, value ? "True" : "False");
        return this;
    }

    NbdshScript withNumbers(String name, List<Integer> values) {
        variables.put(name, "[" + String.join(", ", values.stream().map(String::valueOf).toList()) + "]");
        return this;
    }

    NbdshScript withStrings(String name, List<String> values) {
        variables.put(name, "[" + String.join(", ", values.stream().map(v -> "'" + v + "'").toList()) + "]");
        return this;
    }

    NbdshScript withBytes(String name, byte[] value) {
        variables.put(name, "bytes.fromhex('" + HexFormat.of().formatHex(value) + "')");
        return this;
    }

    /** Runs the script; nbdsh exits non-zero with a Python traceback when an assertion fails. */
    Client.Result run() throws IOException {
        return Client.run(TIMEOUT, "nbdsh", arguments()).assertSuccess();
    }

    /** Starts the script in the background, for tests that act on the server while it runs. */
    Client.Running start() throws IOException {
        return Client.start("nbdsh", arguments());
    }

    private String[] arguments() {
        List<String> args = new ArrayList<>(List.of("-n"));
        variables.forEach((name, literal) -> {
            args.add("-c");
            args.add(name + " = " + literal);
        });
        args.add("-c");
        args.add("exec(compile(open('" + script + "').read(), '" + script.getFileName() + "', 'exec'))");
        return args.toArray(String[]::new);
    }
}
