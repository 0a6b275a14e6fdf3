package io.tidemark.threshold;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Export names become file names here: none may lead out of the directory or onto another's file. */
class StateDirectoryTest {

    @TempDir
    Path root;

    @Test
    void namesWithSeparatorsAndDotsStayInsideTheExportsDirectory() throws IOException {
        StateDirectory state = new StateDirectory(root.resolve("state"));
        List<String> names = List.of("../escape", "../../etc/passwd", "a/b", "/abs", "..", ".", "a\\b", "a%2Fb");
        for (String name : names) {
            state.save(name, new ExportState(List.of(), new Quota(4096, QuotaPolicy.ENOSPC), 7));
        }
        Path exports = root.resolve("state/exports");
        try (Stream<Path> everything = Files.walk(root)) {
            assertThat(everything.filter(Files::isRegularFile))
                    .as("every state file sits directly in exports/").allSatisfy(f -> assertThat(f.getParent()).isEqualTo(exports))
                    .hasSize(names.size());
        }
        for (String name : names) {
            assertThat(state.load(name)).as(name).hasValueSatisfying(s -> assertThat(s.nextSequence()).isEqualTo(7));
        }
    }
}
