package io.tidemark.bench;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The command line of a paired benchmark: the options all of them take ({@code --dir}, {@code
 * --rounds}, {@code --warmup}, {@code --seed}) and the benchmark's own, each {@code --name value}.
 *
 * @param own the benchmark's own options that were given, by name with the dashes
 */
record PairedRunOptions(String dir, int rounds, int warmup, long seed, Map<String, String> own) {

    /** Fewer rounds give no useful confidence interval of the median. */
    private static final int MIN_ROUNDS = 30;

    /**
     * @param ownUsage the benchmark's own options as shown in the usage, e.g. {@code "--writes N
     *     --variant A|B"}; the words starting with {@code --} are the names accepted
     */
    static PairedRunOptions parse(String[] args, int defaultRounds, int defaultWarmup, String ownUsage) {
        Set<String> ownNames = Arrays.stream(ownUsage.split(" ")).filter(w -> w.startsWith("--"))
                .collect(Collectors.toSet());
        String usage = "--dir DIR --rounds N --warmup N --seed N " + ownUsage;
        String dir = "/dev/shm";
        int rounds = defaultRounds;
        int warmup = defaultWarmup;
        long seed = 1;
        Map<String, String> own = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            String name = args[i];
            if (i + 1 == args.length) {
                throw new IllegalArgumentException(name + " needs a value (usage: " + usage + ")");
            }
            String value = args[i + 1];
            switch (name) {
                case "--dir" -> dir = value;
                case "--rounds" -> rounds = Integer.parseInt(value);
                case "--warmup" -> warmup = Integer.parseInt(value);
                case "--seed" -> seed = Long.parseLong(value);
                default -> {
                    if (!ownNames.contains(name)) {
                        throw new IllegalArgumentException("unknown argument " + name + " (usage: " + usage + ")");
                    }
                    own.put(name, value);
                }
            }
        }
        if (rounds < MIN_ROUNDS) {
            throw new IllegalArgumentException("--rounds must be at least " + MIN_ROUNDS
                    + " for a confidence interval, got " + rounds);
        }
        return new PairedRunOptions(dir, rounds, warmup, seed, Map.copyOf(own));
    }

    /** The value of one of the benchmark's own options, or {@code fallback} when not given. */
    String own(String name, String fallback) {
        return own.getOrDefault(name, fallback);
    }
}
