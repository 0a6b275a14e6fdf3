package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SystemdSocketsTest {

    @Test
    void noVariablesNoSockets() throws Exception {
        assertThat(SystemdSockets.inherited(Map.of(), 42)).isEmpty();
    }

    @Test
    void socketsMeantForAnotherProcessAreNotOurs() throws Exception {
        assertThat(SystemdSockets.inherited(Map.of("LISTEN_PID", "41", "LISTEN_FDS", "1"), 42)).isEmpty();
    }

    @Test
    void aBadCountIsAnError() {
        assertThatThrownBy(() -> SystemdSockets.inherited(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "x"), 42))
                .hasMessageContaining("LISTEN_FDS");
    }
}
