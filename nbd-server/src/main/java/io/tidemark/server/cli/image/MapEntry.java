package io.tidemark.server.cli.image;

import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;

/**
 * One line of {@code image map}, with the fields of {@code qemu-img map --output=json}.
 *
 * @param depth   always 0: tidemark images have no backing files
 * @param present the range is allocated in the image (false for a thin image's holes)
 * @param zero    the range reads as zeroes
 * @param data    the range holds data
 * @param offset  where the bytes are in the file, when known and stored plainly; else null
 */
record MapEntry(long start, long length, int depth, boolean present, boolean zero, boolean data, Long offset) {

    /**
     * An entry of a raw file, whose guest and file offsets are the same. As with qemu-img, every
     * byte of a raw file is present, holes included: the file is the whole image.
     */
    static MapEntry ofRaw(Extent extent) {
        boolean data = extent.type() == ExtentType.DATA;
        return new MapEntry(extent.offset(), extent.length(), 0, true, !data, data, extent.offset());
    }

    /**
     * An entry of a thin image, where a hole is a range the image does not allocate.
     *
     * @param fileOffset where a data extent's first byte is in the file, its clusters following it
     *                   there; negative for extents not stored plainly (holes, zeroes, compressed clusters)
     */
    static MapEntry ofThin(Extent extent, long fileOffset) {
        Long offset = fileOffset < 0 ? null : fileOffset;
        return switch (extent.type()) {
            case DATA -> new MapEntry(extent.offset(), extent.length(), 0, true, false, true, offset);
            case ZERO -> new MapEntry(extent.offset(), extent.length(), 0, true, true, false, null);
            case HOLE -> new MapEntry(extent.offset(), extent.length(), 0, false, true, false, null);
        };
    }

    /** The word the text listing uses. */
    String kind() {
        return data ? "data" : present ? "zero" : "hole";
    }
}
