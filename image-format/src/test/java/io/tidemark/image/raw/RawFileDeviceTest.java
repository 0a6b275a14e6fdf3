package io.tidemark.image.raw;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.image.ExtentType;
import io.tidemark.image.FastZeroUnsupportedException;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RawFileDeviceTest {

    private static final int SIZE = 1 << 20;

    @TempDir
    Path dir;

    private Path file(int size) throws IOException {
        return Files.write(dir.resolve("disk.raw"), new byte[size]);
    }

    private static byte[] read(RawFileDevice device, long offset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        device.read(offset, buf);
        assertThat(buf.hasRemaining()).isFalse();
        return buf.array();
    }

    @Test
    void sizeIsTheFileSizeAndUsageTheSame() throws IOException {
        try (RawFileDevice device = RawFileDevice.open(file(SIZE), false)) {
            assertThat(device.size()).isEqualTo(SIZE);
            assertThat(device.usage()).isEqualTo(SIZE);
            device.write(SIZE - 10, ByteBuffer.wrap(new byte[10]), true);
            assertThat(device.usage()).isEqualTo(SIZE);
        }
    }

    @Test
    void writesReadBackAndReachTheFile() throws IOException {
        Path path = file(SIZE);
        byte[] data = new byte[10_000];
        new Random(42).nextBytes(data);
        try (RawFileDevice device = RawFileDevice.open(path, false)) {
            device.write(12_345, ByteBuffer.wrap(data), false);
            device.flush();
            assertThat(read(device, 12_345, data.length)).isEqualTo(data);
        }
        byte[] onDisk = Files.readAllBytes(path);
        assertThat(Arrays.copyOfRange(onDisk, 12_345, 12_345 + data.length)).isEqualTo(data);
        assertThat(onDisk).hasSize(SIZE);
    }

    @Test
    void writeZeroesZeroesTheRange() throws IOException {
        Path path = file(SIZE);
        byte[] ones = new byte[300_000];
        Arrays.fill(ones, (byte) 1);
        try (RawFileDevice device = RawFileDevice.open(path, false)) {
            device.write(0, ByteBuffer.wrap(ones), false);
            device.writeZeroes(100, 250_000, ZeroMode.NO_HOLE, true);
            byte[] back = read(device, 0, ones.length);
            for (int i = 0; i < back.length; i++) {
                byte expected = i >= 100 && i < 250_100 ? (byte) 0 : (byte) 1;
                if (back[i] != expected) {
                    throw new AssertionError("byte " + i + " is " + back[i] + ", expected " + expected);
                }
            }
        }
    }

    @Test
    void extentsCoverTheAskedRange() throws IOException {
        try (RawFileDevice device = RawFileDevice.open(file(SIZE), false)) {
            var extents = device.extents(4096, 8192);
            assertThat(extents).isNotEmpty();
            assertThat(extents.getFirst().offset()).isEqualTo(4096);
            assertThat(extents.getLast().end()).isLessThanOrEqualTo(4096 + 8192);
            assertThat(extents.stream().map(e -> e.type()).toList()).doesNotContainNull();
            assertThat(extents.stream().allMatch(e -> e.type() == ExtentType.DATA || e.type().readsAsZero())).isTrue();
        }
    }

    @Test
    void readOnlyRefusesEveryChange() throws IOException {
        Path path = file(SIZE);
        try (RawFileDevice device = RawFileDevice.open(path, true)) {
            assertThat(device.capabilities().readOnly()).isTrue();
            assertThatThrownBy(() -> device.write(0, ByteBuffer.allocate(1), false))
                    .isInstanceOf(AccessDeniedException.class).hasMessageContaining("read-only");
            assertThatThrownBy(() -> device.trim(0, 512, false)).isInstanceOf(AccessDeniedException.class);
            assertThatThrownBy(() -> device.writeZeroes(0, 512, ZeroMode.MAY_TRIM, false))
                    .isInstanceOf(AccessDeniedException.class);
            device.flush();
            assertThat(read(device, 0, 16)).containsOnly(0);
        }
    }

    @Test
    void rangesOutsideTheDeviceAreRefusedWithTheOffset() throws IOException {
        try (RawFileDevice device = RawFileDevice.open(file(SIZE), false)) {
            assertThatThrownBy(() -> device.read(SIZE - 1, ByteBuffer.allocate(2)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(String.valueOf(SIZE - 1));
            assertThatThrownBy(() -> device.write(-1, ByteBuffer.allocate(1), false))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> device.writeZeroes(Long.MAX_VALUE, 1, ZeroMode.NO_HOLE, false))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void missingFileFailsNamingIt() {
        Path missing = dir.resolve("nope.raw");
        assertThatThrownBy(() -> RawFileDevice.open(missing, false)).hasMessageContaining("nope.raw");
    }

    @Test
    void fastZeroWithoutHostSupportIsRefused() throws IOException {
        try (RawFileDevice device = RawFileDevice.open(file(SIZE), false)) {
            if (!device.capabilities().fastZero()) {
                assertThatThrownBy(() -> device.writeZeroes(0, 4096, new ZeroMode(false, true), false))
                        .isInstanceOf(FastZeroUnsupportedException.class);
            }
        }
    }
}
