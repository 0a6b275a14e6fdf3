package io.tidemark.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ByteSizeTest {

    @Test
    void parsesPlainAndSuffixedSizes() {
        assertThat(ByteSize.parse("512")).isEqualTo(512);
        assertThat(ByteSize.parse("64K")).isEqualTo(65536);
        assertThat(ByteSize.parse("64k")).isEqualTo(65536);
        assertThat(ByteSize.parse("10G")).isEqualTo(10L << 30);
        assertThat(ByteSize.parse("1T")).isEqualTo(1L << 40);
        assertThat(ByteSize.parse("2MiB")).isEqualTo(2L << 20);
        assertThat(ByteSize.parse("1P")).isEqualTo(1L << 50);
    }

    @Test
    void refusesGarbageNegativeAndOverflow() {
        assertThatThrownBy(() -> ByteSize.parse("ten")).hasMessageContaining("not a size");
        assertThatThrownBy(() -> ByteSize.parse("-1")).hasMessageContaining("negative");
        assertThatThrownBy(() -> ByteSize.parse("9000000E")).hasMessageContaining("too large");
        assertThatThrownBy(() -> ByteSize.parse("")).hasMessageContaining("empty");
    }

    @Test
    void formatsWithTheLargestExactSuffix() {
        assertThat(ByteSize.format(0)).isEqualTo("0");
        assertThat(ByteSize.format(512)).isEqualTo("512");
        assertThat(ByteSize.format(65536)).isEqualTo("64K");
        assertThat(ByteSize.format(1L << 30)).isEqualTo("1G");
        assertThat(ByteSize.format((1L << 30) + 1024)).isEqualTo("1048577K");
    }
}
