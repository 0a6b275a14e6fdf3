package io.tidemark.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDirectoryTest {

    @TempDir
    Path tmp;

    private Path images;
    private Path outside;
    private ImageDirectory directory;

    @BeforeEach
    void layOut() throws IOException {
        images = Files.createDirectories(tmp.resolve("images"));
        Files.createDirectories(images.resolve("vm"));
        Files.writeString(images.resolve("vm/disk.raw"), "inside");
        outside = Files.writeString(tmp.resolve("secret.raw"), "outside");
        directory = ImageDirectory.of(images);
    }

    @Test
    void relativeAndAbsolutePathsInsideResolveToTheRealFile() throws IOException {
        assertThat(directory.resolve("a", Path.of("vm/disk.raw"))).isEqualTo(images.resolve("vm/disk.raw").toRealPath());
        assertThat(directory.resolve("b", images.resolve("vm/../vm/disk.raw")))
                .isEqualTo(images.resolve("vm/disk.raw").toRealPath());
        Files.createSymbolicLink(images.resolve("alias.raw"), Path.of("vm/disk.raw"));
        assertThat(directory.resolve("c", Path.of("alias.raw"))).as("a link that stays inside")
                .isEqualTo(images.resolve("vm/disk.raw").toRealPath());
    }

    @Test
    void dotDotOutIsRefusedNamingTheExportAndTheDirectory() {
        assertThatThrownBy(() -> directory.resolve("evil", Path.of("../secret.raw")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("export 'evil'").hasMessageContaining("outside the image directory");
        assertThatThrownBy(() -> directory.resolve("evil", Path.of("vm/../../secret.raw")))
                .hasMessageContaining("outside the image directory");
    }

    @Test
    void anAbsolutePathElsewhereIsRefused() {
        assertThatThrownBy(() -> directory.resolve("evil", outside)).hasMessageContaining("outside the image directory");
        assertThatThrownBy(() -> directory.resolve("evil", Path.of("/etc/passwd")))
                .hasMessageContaining("outside the image directory");
    }

    @Test
    void symbolicLinksPointingOutAreRefused() throws IOException {
        Files.createSymbolicLink(images.resolve("link.raw"), outside);
        Files.createSymbolicLink(images.resolve("up"), tmp);
        assertThatThrownBy(() -> directory.resolve("evil", Path.of("link.raw")))
                .hasMessageContaining("resolves to " + outside.toRealPath());
        assertThatThrownBy(() -> directory.resolve("evil", Path.of("up/secret.raw")))
                .hasMessageContaining("outside the image directory");
    }

    @Test
    void theDirectoryItselfAndMissingFilesAreRefused() {
        assertThatThrownBy(() -> directory.resolve("d", Path.of("."))).hasMessageContaining("outside the image directory");
        assertThatThrownBy(() -> directory.resolve("d", Path.of("vm/none.raw")))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("export 'd': no such image");
        assertThatThrownBy(() -> ImageDirectory.of(tmp.resolve("nowhere"))).hasMessageContaining("--image-dir");
    }

    @Test
    void confiningExportsKeepsTheirSettingsAndStopsAtTheFirstOutside() throws IOException {
        List<ExportSpec> confined = directory.confine(List.of(ExportSpec.parse("d=vm/disk.raw,readonly,quota=1M")));
        assertThat(confined.getFirst().path()).isEqualTo(images.resolve("vm/disk.raw").toRealPath());
        assertThat(confined.getFirst().readOnly()).isTrue();
        assertThat(confined.getFirst().quota()).hasValue(1024 * 1024);
        assertThatThrownBy(() -> directory.confine(List.of(ExportSpec.parse("d=vm/disk.raw"),
                ExportSpec.parse("x=" + outside)))).hasMessageContaining("export 'x'");
    }
}
