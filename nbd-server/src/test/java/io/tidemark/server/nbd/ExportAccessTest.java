package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExportAccessTest {

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void exportsWithoutRulesAreOpen() throws Exception {
        ExportAccess access = ExportAccess.parse(List.of("disk=addr:10.0.0.0/8"));
        assertThat(access.admits("other", ip("192.0.2.1"), null)).isTrue();
        assertThat(access.admits("other", null, null)).isTrue();
    }

    @Test
    void networksMatchByPrefix() throws Exception {
        ExportAccess access = ExportAccess.parse(List.of("disk=addr:10.1.0.0/16", "v6=addr:fd00::/8", "one=addr:192.0.2.7"));
        assertThat(access.admits("disk", ip("10.1.255.3"), null)).isTrue();
        assertThat(access.admits("disk", ip("10.2.0.1"), null)).isFalse();
        assertThat(access.admits("disk", ip("fd00::1"), null)).as("IPv6 client, IPv4 rule").isFalse();
        assertThat(access.admits("disk", null, null)).as("Unix socket client").isFalse();
        assertThat(access.admits("v6", ip("fd12::1"), null)).isTrue();
        assertThat(access.admits("one", ip("192.0.2.7"), null)).isTrue();
        assertThat(access.admits("one", ip("192.0.2.8"), null)).isFalse();
    }

    @Test
    void aCertificateRuleNeedsACertificate() throws Exception {
        ExportAccess access = ExportAccess.parse(List.of("disk=cert:alice", "disk=addr:127.0.0.1"));
        assertThat(access.admits("disk", ip("127.0.0.1"), null)).as("either rule admits").isTrue();
        assertThat(access.admits("disk", ip("127.0.0.2"), null)).isFalse();
    }

    @Test
    void badRulesSayWhatIsWrong() {
        assertThatThrownBy(() -> ExportAccess.parse(List.of("disk"))).hasMessageContaining("EXPORT=");
        assertThatThrownBy(() -> ExportAccess.parse(List.of("disk=user:bob"))).hasMessageContaining("cert: or addr:");
        assertThatThrownBy(() -> ExportAccess.parse(List.of("disk=addr:example.com"))).hasMessageContaining("not an IP");
        assertThatThrownBy(() -> ExportAccess.parse(List.of("disk=addr:10.0.0.0/33"))).hasMessageContaining("0 to 32");
        assertThatThrownBy(() -> ExportAccess.parse(List.of("disk=cert:"))).hasMessageContaining("cert: or addr:");
    }
}
