package io.tidemark.server.cli.image;

import io.tidemark.image.Extent;

/**
 * One line of {@code image map}, with the fields of {@code qemu-img map --output=json}.
 *
 * @param depth   always 0: tidemark images have no backing files
 * @param present the range is allocated in the image (false for holes)
 * @param zero    the range reads as zeroes
 * @param data    the range holds data
 * @param offset  where the bytes are in the file, when known and stored plainly; else null
 */
record MapEntry(long start, long length, int depth, boolean present, boolean zero, boolean data, Long offset) {

    /** An entry of a raw file, whose guest and file offsets are the same. */
    static MapEntry ofRaw(Extent extent) {
        return of(extent, extent.offset());
    }

    static MapEntry of(Extent extent, Long offset) {
        return switch (extent.type()) {
            case DATA -> new MapEntry(extent.offset(), extent.length(), 0, true, false, true, offset);
            case ZERO -> new MapEntry(extent.offset(), extent.length(), 0, true, true, false, offset);
            case HOLE -> new MapEntry(extent.offset(), extent.length(), 0, false, true, false, offset);
        };
    }

    /** The word the text listing uses. */
    String kind() {
        return data ? "data" : present ? "zero" : "hole";
    }
}
