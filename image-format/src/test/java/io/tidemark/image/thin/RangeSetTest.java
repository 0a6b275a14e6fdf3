package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RangeSetTest {

    @Test
    void addsMergesAndSplits() {
        RangeSet set = new RangeSet();
        set.add(10, 20);
        set.add(20, 30);
        set.add(40, 50);
        assertThat(set.bytes()).isEqualTo(30);
        assertThat(set.covers(10, 30)).as("touching ranges merge").isTrue();
        assertThat(set.covers(25, 45)).isFalse();
        set.remove(15, 45);
        assertThat(set.covers(10, 15)).isTrue();
        assertThat(set.covers(14, 16)).isFalse();
        assertThat(set.covers(45, 50)).isTrue();
        assertThat(set.bytes()).isEqualTo(10);
        set.remove(0, 100);
        assertThat(set.bytes()).isZero();
        assertThat(set.last()).isNull();
    }

    @Test
    void removingTheMiddleOfOneRangeLeavesBothEnds() {
        RangeSet set = new RangeSet();
        set.add(0, 100);
        set.remove(40, 60);
        assertThat(set.covers(0, 40)).isTrue();
        assertThat(set.covers(60, 100)).isTrue();
        assertThat(set.covers(39, 41)).isFalse();
        assertThat(set.bytes()).isEqualTo(80);
    }

    /** Random adds and removes against a bit set; the seed is in the failure message. */
    @Test
    void behavesLikeABitSet() {
        long seed = Long.getLong("tidemark.seed", System.nanoTime());
        Random random = new Random(seed);
        RangeSet set = new RangeSet();
        BitSet model = new BitSet();
        for (int op = 0; op < 5000; op++) {
            int start = random.nextInt(1000);
            int stop = start + random.nextInt(60);
            if (random.nextBoolean()) {
                set.add(start, stop);
                model.set(start, stop);
            } else {
                set.remove(start, stop);
                model.clear(start, stop);
            }
            String where = "seed " + seed + ", op " + op;
            assertThat(set.bytes()).as(where).isEqualTo(model.cardinality());
            int probe = random.nextInt(1000);
            int probeStop = probe + 1 + random.nextInt(30);
            boolean covered = model.nextClearBit(probe) >= probeStop;
            assertThat(set.covers(probe, probeStop)).as(where + ", covers %d..%d", probe, probeStop).isEqualTo(covered);
        }
        BitSet fromRanges = new BitSet();
        long previousStop = -1;
        for (Map.Entry<Long, Long> range : set.ascending()) {
            assertThat(range.getKey()).as("seed %d: coalesced", seed).isGreaterThan(previousStop);
            fromRanges.set(range.getKey().intValue(), range.getValue().intValue());
            previousStop = range.getValue();
        }
        assertThat(fromRanges).as("seed %d", seed).isEqualTo(model);
    }
}
