package io.tidemark.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.server.nbd.ListenAddress;
import io.tidemark.threshold.ThresholdValue;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExportSpecTest {

    @Test
    void parsesNameAndPath() {
        ExportSpec spec = ExportSpec.parse("vm1=/srv/vm1.img");
        assertThat(spec.name()).isEqualTo("vm1");
        assertThat(spec.path()).isEqualTo(Path.of("/srv/vm1.img"));
        assertThat(spec.readOnly()).isFalse();
        assertThat(spec.threshold()).isEmpty();
        assertThat(spec.quota()).isEmpty();
    }

    @Test
    void parsesEverySetting() {
        ExportSpec spec = ExportSpec.parse("iso=/a/b.iso,readonly,threshold=80%,quota=10G");
        assertThat(spec.readOnly()).isTrue();
        assertThat(spec.threshold()).contains(new ThresholdValue.Percent(80));
        assertThat(spec.quota()).hasValue(10L << 30);
        assertThat(ExportSpec.parse("d=x,threshold=16G").threshold()).contains(new ThresholdValue.Absolute(16L << 30));
    }

    @Test
    void badSpecsNameWhatIsWrong() {
        assertThatThrownBy(() -> ExportSpec.parse("/srv/x.img")).hasMessageContaining("expected NAME=PATH");
        assertThatThrownBy(() -> ExportSpec.parse("=x")).hasMessageContaining("expected NAME=PATH");
        assertThatThrownBy(() -> ExportSpec.parse("d=")).hasMessageContaining("export 'd' has no path");
        assertThatThrownBy(() -> ExportSpec.parse("d=x,rw")).hasMessageContaining("unknown setting 'rw'");
        assertThatThrownBy(() -> ExportSpec.parse("d=x,quota=")).hasMessageContaining("quota needs a value");
        assertThatThrownBy(() -> ExportSpec.parse("d=x,readonly=yes")).hasMessageContaining("readonly takes no value");
        assertThatThrownBy(() -> ExportSpec.parse("d=x,quota=lots")).hasMessageContaining("not a size");
    }

    @Test
    void listensOnTcpUnlessOnlyAUnixSocketIsGiven() {
        assertThat(ServeCommand.listenAddresses(null, null)).containsExactly(new ListenAddress.Tcp("127.0.0.1", 10809));
        assertThat(ServeCommand.listenAddresses(null, Path.of("/run/s")))
                .containsExactly(new ListenAddress.Unix(Path.of("/run/s")));
        assertThat(ServeCommand.listenAddresses("[::1]:9000", Path.of("/run/s")))
                .isEqualTo(List.of(new ListenAddress.Tcp("::1", 9000), new ListenAddress.Unix(Path.of("/run/s"))));
        assertThatThrownBy(() -> ServeCommand.listenAddresses("localhost", null)).hasMessageContaining("HOST:PORT");
    }
}
