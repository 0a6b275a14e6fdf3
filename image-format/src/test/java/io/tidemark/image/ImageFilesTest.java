package io.tidemark.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.image.raw.RawFileDevice;
import io.tidemark.image.thin.ThinImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFilesTest {

    @TempDir
    Path dir;

    @Test
    void fileWithoutTheMagicOpensRaw() throws IOException {
        Path path = dir.resolve("a.img");
        Files.write(path, "TIDEMARX and more bytes".getBytes(StandardCharsets.US_ASCII));
        assertThat(ImageFiles.kindOf(path)).isEqualTo(ImageFiles.Kind.RAW);
        try (BlockDevice device = ImageFiles.open(path, true, AllocationListener.NONE)) {
            assertThat(device).isInstanceOf(RawFileDevice.class);
            assertThat(device.size()).isEqualTo(23);
        }
    }

    @Test
    void filesShorterThanTheMagicAndEmptyFilesAreRaw() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty"));
        Path shortFile = Files.write(dir.resolve("short"), "TIDE".getBytes(StandardCharsets.US_ASCII));
        assertThat(ImageFiles.kindOf(empty)).isEqualTo(ImageFiles.Kind.RAW);
        assertThat(ImageFiles.kindOf(shortFile)).isEqualTo(ImageFiles.Kind.RAW);
    }

    @Test
    void fileWithTheMagicIsThin() throws IOException {
        Path path = Files.write(dir.resolve("t.img"), "TIDEMARK\0\0\0\1".getBytes(StandardCharsets.US_ASCII));
        assertThat(ImageFiles.kindOf(path)).isEqualTo(ImageFiles.Kind.THIN);
    }

    @Test
    void thinImagesOpenAsThinImages() throws IOException {
        Path path = dir.resolve("thin.img");
        ThinImage.create(path, 1 << 20, 65536, false).close();
        try (BlockDevice device = ImageFiles.open(path, true, AllocationListener.NONE)) {
            assertThat(device).isInstanceOf(ThinImage.class);
            assertThat(device.size()).isEqualTo(1 << 20);
            assertThat(device.capabilities().readOnly()).isTrue();
        }
    }

    @Test
    void missingFilesAndDirectoriesFailNamingThePathAndWhy() {
        assertThatThrownBy(() -> ImageFiles.open(dir.resolve("missing.img"), false, AllocationListener.NONE))
                .isInstanceOf(IOException.class).hasMessage(dir.resolve("missing.img") + ": no such file");
        assertThatThrownBy(() -> ImageFiles.kindOf(dir))
                .isInstanceOf(IOException.class).hasMessage(dir + ": is a directory, not an image");
    }
}
