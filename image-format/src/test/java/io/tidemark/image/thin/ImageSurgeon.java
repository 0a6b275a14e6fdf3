package io.tidemark.image.thin;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Test helper that edits an image's map behind the implementation's back, keeping checksums valid. */
final class ImageSurgeon {

    private ImageSurgeon() {
    }

    /** Replaces the L2 entry of {@code cluster} (its table must exist) and re-checksums L2, L1 and header. */
    static void setEntry(CrashableMemoryFile file, long cluster, long entry) throws IOException {
        ImageHeader header = ImageLoader.readHeader(file, file.size());
        int l2Entries = header.clusterSize() / 8;
        ByteBuffer l1 = ByteBuffer.allocate(header.l1Entries() * 16);
        file.readFully(l1, header.l1Offset());
        int index = (int) (cluster / l2Entries);
        long l2Offset = l1.getLong(index * 16);
        if (l2Offset == 0) {
            throw new IllegalStateException("no L2 table for cluster " + cluster);
        }
        ByteBuffer l2 = ByteBuffer.allocate(header.clusterSize());
        file.readFully(l2, l2Offset);
        l2.putLong((int) (cluster % l2Entries) * 8, entry);
        file.poke(l2Offset, l2.array());
        l1.putInt(index * 16 + 8, ImageHeader.checksum(l2.array(), 0, l2.capacity()));
        file.poke(header.l1Offset(), l1.array());
        ImageHeader fixed = new ImageHeader(header.incompatibleFeatures(), header.compatibleFeatures(),
                header.generation(), header.virtualSize(), header.clusterBits(), header.dirty(), header.l1Offset(),
                header.l1Entries(), ImageHeader.checksum(l1.array(), 0, l1.capacity()), header.deltaOffset(),
                header.deltaEntries(), header.deltaChecksum());
        file.poke(fixed.slotOffset(), fixed.encode().array());
    }

    static long entry(CrashableMemoryFile file, long cluster) throws IOException {
        return ImageLoader.load(file, ImageLoader.Mode.STRICT).map().get(cluster);
    }

    /** Rewrites the current header slot with a field changed, re-checksummed. */
    static void pokeHeaderLong(CrashableMemoryFile file, int fieldOffset, long value) throws IOException {
        ImageHeader header = ImageLoader.readHeader(file, file.size());
        ByteBuffer slot = header.encode();
        slot.putLong(fieldOffset, value);
        slot.putInt(ImageHeader.OFF_CHECKSUM, ImageHeader.checksum(slot.array(), 0, ImageHeader.OFF_CHECKSUM));
        file.poke(header.slotOffset(), slot.array());
    }

    static void pokeHeaderInt(CrashableMemoryFile file, int fieldOffset, int value) throws IOException {
        ImageHeader header = ImageLoader.readHeader(file, file.size());
        ByteBuffer slot = header.encode();
        slot.putInt(fieldOffset, value);
        slot.putInt(ImageHeader.OFF_CHECKSUM, ImageHeader.checksum(slot.array(), 0, ImageHeader.OFF_CHECKSUM));
        file.poke(header.slotOffset(), slot.array());
    }
}
