package io.tidemark.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.server.protocol.ProtocolLimits;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InFlightMemoryTest {

    private static final long P = ProtocolLimits.MAX_PAYLOAD;

    @Test
    void chargesBeyondTheCapAreRefusedAndReleasingMakesRoom() {
        InFlightMemory memory = new InFlightMemory(4 * P);
        assertThat(memory.tryCharge(3 * P, 0)).isTrue();
        assertThat(memory.tryCharge(2 * P, 0)).as("3 + 2 payloads exceed a cap of 4").isFalse();
        assertThat(memory.used()).isEqualTo(3 * P);
        memory.release(2 * P);
        assertThat(memory.tryCharge(2 * P, 0)).isTrue();
        assertThat(memory.used()).isEqualTo(3 * P);
    }

    @Test
    void payloadsAlreadyReceivedAreCountedEvenBeyondTheCapAndStopReading() {
        InFlightMemory memory = new InFlightMemory(2 * P);
        memory.charge(3 * P);
        assertThat(memory.used()).isEqualTo(3 * P);
        assertThat(memory.fits(0, 0)).as("reading more").isFalse();
        memory.release(2 * P);
        assertThat(memory.fits(0, 0)).isTrue();
    }

    @Test
    void aConnectionHoldingItsFairShareGetsNoMoreButAnEmptyOneDoes() {
        InFlightMemory memory = new InFlightMemory(8 * P);
        assertThat(memory.tryCharge(4 * P, 0)).isTrue();
        memory.connectionOpened();
        assertThat(memory.tryCharge(2 * P, 4 * P)).as("alone, a connection's share is the whole budget").isTrue();
        for (int i = 0; i < 3; i++) {
            memory.connectionOpened(); // four connections: a share is 2 payloads
        }
        assertThat(memory.tryCharge(P, 6 * P)).as("a connection holding 6 > its share of 2").isFalse();
        assertThat(memory.fits(0, 6 * P)).as("nor may it read more requests").isFalse();
        assertThat(memory.tryCharge(P, P)).as("one holding 1 may reach its share").isTrue();
        assertThat(memory.tryCharge(P, 0)).as("one holding nothing may take what fits").isTrue();
        assertThat(memory.used()).isEqualTo(8 * P);
        memory.connectionClosed();
        memory.connectionClosed();
        memory.connectionClosed();
        memory.release(4 * P);
        assertThat(memory.tryCharge(P, 6 * P)).as("alone again").isTrue();
    }

    @Test
    void releasedMemoryWakesEveryParkedConnectionOldestFirst() {
        InFlightMemory memory = new InFlightMemory(8 * P);
        memory.charge(8 * P);
        List<String> woken = new ArrayList<>();
        for (String name : List.of("a", "b", "c")) {
            assertThat(memory.park(() -> woken.add(name), P)).isTrue();
        }
        assertThat(woken).as("nothing released yet").isEmpty();
        memory.release(P);
        assertThat(woken).containsExactly("a", "b", "c");
        memory.release(P);
        assertThat(woken).as("each parking is woken once").hasSize(3);
    }

    @Test
    void onlyAConnectionOverTheCapParks() {
        InFlightMemory memory = new InFlightMemory(2 * P);
        memory.charge(P);
        assertThat(memory.park(() -> { }, P)).as("refused only its fair share: its own replies wake it").isFalse();
        assertThat(memory.park(() -> { }, 2 * P)).isTrue();
    }
}
