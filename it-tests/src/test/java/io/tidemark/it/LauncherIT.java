package io.tidemark.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The fat jar starts as users start it: java -jar with the launcher's flags. */
class LauncherIT {

    @Test
    void fatJarPrintsItsVersionWithoutWarnings() throws Exception {
        TidemarkProcess.Result result = TidemarkProcess.run("--version");
        assertThat(result.exitCode()).isZero();
        assertThat(result.stdout()).startsWith("tidemark 0.");
        assertThat(result.stderr()).doesNotContain("WARNING");
    }
}
