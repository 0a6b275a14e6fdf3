package io.tidemark.threshold;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ThresholdValueTest {

    @Test
    void absoluteSizesIgnoreTheBase() {
        ThresholdValue v = ThresholdValue.parse("16G");
        assertThat(v).isEqualTo(new ThresholdValue.Absolute(16L << 30));
        assertThat(v.resolve(1L << 40)).isEqualTo(16L << 30);
        assertThat(v).hasToString("16G");
    }

    @Test
    void percentagesResolveAgainstTheBase() {
        ThresholdValue v = ThresholdValue.parse("80%");
        assertThat(v.resolve(1000)).isEqualTo(800);
        assertThat(v.resolve(10L << 30)).isEqualTo(8L << 30);
        assertThat(v).hasToString("80%");
        assertThat(ThresholdValue.parse("12.5%").resolve(1 << 20)).isEqualTo(1 << 17);
    }

    @Test
    void refusesOutOfRangeAndGarbage() {
        assertThatThrownBy(() -> ThresholdValue.parse("101%")).hasMessageContaining("between 0 and 100");
        assertThatThrownBy(() -> ThresholdValue.parse("x%")).hasMessageContaining("not a percentage");
        assertThatThrownBy(() -> ThresholdValue.parse("lots")).hasMessageContaining("not a size");
    }
}
