package io.tidemark.server.cli.image;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * JSON as the image tools print it: kebab-case keys like qemu-img's ({@code virtual-size}),
 * absent values left out.
 */
final class JsonOutput {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .setDefaultPropertyInclusion(JsonInclude.Include.NON_NULL);
    private static final ObjectMapper PRETTY = MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonOutput() {
    }

    /** One value, indented. */
    static void print(PrintWriter out, Object value) {
        out.println(write(PRETTY, value));
    }

    /** A list with one element per line, which stays readable for long maps. */
    static void printLines(PrintWriter out, List<?> values) {
        out.print("[");
        for (int i = 0; i < values.size(); i++) {
            out.print(i == 0 ? "" : ",\n");
            out.print(write(MAPPER, values.get(i)));
        }
        out.println("]");
    }

    private static String write(ObjectMapper mapper, Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
