package io.tidemark.image.hostfile;

/**
 * What the filesystem under a {@link HostFile} can do.
 *
 * @param punchHole deallocate a range, which then reads as zeroes (probed when a regular file is
 *                  opened writable; assumed for block devices until they answer EOPNOTSUPP)
 * @param zeroRange zero a range without writing data; assumed until the filesystem first
 *                  answers EOPNOTSUPP, then false for the rest of the file's life
 * @param seekData  {@code SEEK_DATA}/{@code SEEK_HOLE} tell holes from data
 */
public record HostFileCapabilities(boolean punchHole, boolean zeroRange, boolean seekData) {
}
