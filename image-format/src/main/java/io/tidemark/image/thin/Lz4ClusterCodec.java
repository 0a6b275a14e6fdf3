package io.tidemark.image.thin;

import java.util.Arrays;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/** LZ4 block compression of whole clusters. Thread-safe. */
final class Lz4ClusterCodec {

    private static final LZ4Factory FACTORY = LZ4Factory.fastestJavaInstance();
    private final LZ4Compressor compressor = FACTORY.fastCompressor();
    private final LZ4SafeDecompressor decompressor = FACTORY.safeDecompressor();
    private final int clusterSize;

    Lz4ClusterCodec(int clusterSize) {
        this.clusterSize = clusterSize;
    }

    /** The LZ4 block of {@code cluster}, or null when storing it compressed would not save a sector. */
    byte[] compress(byte[] cluster) {
        byte[] out = new byte[compressor.maxCompressedLength(clusterSize)];
        int length = compressor.compress(cluster, 0, clusterSize, out, 0, out.length);
        if (ImageFormat.alignUp(length, ImageFormat.SECTOR) >= clusterSize) {
            return null;
        }
        return Arrays.copyOf(out, length);
    }

    /** Decompresses one block; null when it is malformed or does not yield exactly one cluster. */
    byte[] decompress(byte[] block) {
        byte[] cluster = new byte[clusterSize];
        try {
            int n = decompressor.decompress(block, 0, block.length, cluster, 0, clusterSize);
            return n == clusterSize ? cluster : null;
        } catch (LZ4Exception e) {
            return null;
        }
    }
}
