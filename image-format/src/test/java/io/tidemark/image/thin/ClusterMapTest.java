package io.tidemark.image.thin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Which guest clusters a map delta must hold, and when a checkpoint is due instead. */
class ClusterMapTest {

    /** 4 KiB clusters: 512 entries per table, 256 per map delta. */
    private static final int CLUSTER_BITS = 12;
    private static final int DELTA_CAPACITY = 256;

    @Test
    void deltaClustersAreTheDistinctChangedClustersAscendingUntilTheyOverflow() {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        ClusterMap map = new ClusterMap(CLUSTER_BITS, 8);
        TreeSet<Long> model = new TreeSet<>();
        // Repeats of a few clusters must not count towards the capacity.
        for (int i = 0; i < 5000; i++) {
            long cluster = random.nextInt(DELTA_CAPACITY) * 13L;
            map.set(cluster, MapEntry.zero(0));
            model.add(cluster);
        }
        assertThat(map.deltaClusters()).as("seed %d", seed)
                .containsExactly(model.stream().mapToLong(Long::longValue).toArray());
        long fresh = 4000;
        while (model.size() <= DELTA_CAPACITY) {
            map.set(fresh, MapEntry.zero(0));
            model.add(fresh++);
        }
        assertThat(map.deltaClusters()).as("one more than a delta holds: a checkpoint is due").isNull();
        map.set(1, MapEntry.zero(0));
        assertThat(map.deltaClusters()).as("until the checkpoint").isNull();

        assertThat(map.takeDirtyTables().cardinality()).isPositive();
        assertThat(map.deltaClusters()).as("after the checkpoint starts").isEmpty();
        map.set(7, MapEntry.zero(0));
        assertThat(map.deltaClusters()).containsExactly(7);
    }

    @Test
    void aFailedCheckpointOrAResizeMakesTheNextCommitACheckpoint() {
        ClusterMap map = new ClusterMap(CLUSTER_BITS, 8);
        map.set(3, MapEntry.zero(0));
        map.restoreDirtyTables(map.takeDirtyTables());
        assertThat(map.deltaClusters()).isNull();
        map.takeDirtyTables();
        map.requireCheckpoint();
        assertThat(map.deltaClusters()).isNull();
    }
}
