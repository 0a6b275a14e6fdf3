package io.tidemark.image.thin;

import io.tidemark.image.AllocationListener;
import io.tidemark.image.BlockDevice;
import io.tidemark.image.DeviceCapabilities;
import io.tidemark.image.Extent;
import io.tidemark.image.ExtentType;
import io.tidemark.image.FileSegment;
import io.tidemark.image.NoSpaceException;
import io.tidemark.image.ZeroMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.StampedLock;
import java.util.zip.CRC32C;

/**
 * A thin-provisioned image file (format: {@code docs/image-format.md}) as a {@link BlockDevice}.
 *
 * <p>Data clusters are allocated on first write, first fit in freed space, else appended at the
 * end of the file. Map changes live in memory until a commit (flush, FUA, close) writes the
 * changed tables copy-on-write and then the header into its older slot, so the file always holds
 * the map of the last completed flush. Space the map stops referencing is reused only after the
 * commit that stopped referencing it is durable.
 *
 * <p>Locking: I/O into an allocated cluster holds only that cluster's stripe read lock. Changing a
 * cluster's entry holds its stripe write lock, then briefly the map lock; commits hold the commit
 * lock and take the map lock only to snapshot the changed tables.
 */
public final class ThinImage implements BlockDevice {

    private final ImageFile file;
    private final boolean readOnly;
    private final AllocationListener listener;
    private final int clusterBits;
    private final int clusterSize;
    private final boolean compressWrites;
    private final Lz4ClusterCodec codec;
    /** One cluster of zeroes, never written to, for reads of unallocated clusters. */
    private final byte[] zeros;
    private final ClusterMap map;
    private final SpaceAllocator allocator;
    private final FileLength fileLength;
    private final ClusterLocks clusterLocks = new ClusterLocks();
    private final ReentrantLock mapLock = new ReentrantLock();
    private final ReentrantLock commitLock = new ReentrantLock();
    /** Write, trim and zero requests completed so far. */
    private final AtomicLong completedChanges = new AtomicLong();
    /** Requests covered by the last durable commit or force. Guarded by commitLock. */
    private long durableChanges;
    /** Counts map changes. Guarded by mapLock. */
    private long mapVersion;
    /** The map version the last commit wrote. Guarded by mapLock. */
    private long committedMapVersion;
    /** The header on disk. Guarded by commitLock. */
    private ImageHeader committed;
    private volatile long virtualSize;
    private volatile boolean dirtyOnDisk;
    private volatile IOException failure;
    private volatile boolean closed;
    /** Physical ranges handed out by {@link #contiguousData} and not yet released. */
    private final Set<Pin> pins = ConcurrentHashMap.newKeySet();

    /** A range of the file a zero-copy read is sending; identity, so equal ranges pin twice. */
    private static final class Pin {
        final long start;
        final long end;

        Pin(long start, long end) {
            this.start = start;
            this.end = end;
        }
    }

    private ThinImage(ImageFile file, ImageLoader.Loaded loaded, boolean readOnly, AllocationListener listener) {
        this.file = file;
        this.readOnly = readOnly;
        this.listener = listener;
        this.committed = loaded.header();
        this.clusterBits = committed.clusterBits();
        this.clusterSize = committed.clusterSize();
        this.compressWrites = committed.compressed();
        this.codec = new Lz4ClusterCodec(clusterSize);
        this.zeros = new byte[clusterSize];
        this.map = loaded.map();
        this.virtualSize = committed.virtualSize();
        this.dirtyOnDisk = committed.dirty();
        this.allocator = new SpaceAllocator(loaded.lastUsedEnd(), loaded.fileSize());
        this.fileLength = new FileLength(file, loaded.fileSize(), clusterSize);
        for (long[] range : loaded.free()) {
            allocator.addFree(range[0], range[1]);
        }
    }

    // ---- creating and opening

    /**
     * Creates a new image file (it must not exist) and returns it open for writing, with no
     * allocation listener. The caller closes it.
     *
     * @param clusterSize power of two from 4 KiB to 2 MiB; {@link ImageFormat#DEFAULT_CLUSTER_SIZE} is usual
     * @param compress    store full-cluster writes LZ4-compressed when that saves space
     */
    public static ThinImage create(Path path, long size, int clusterSize, boolean compress) throws IOException {
        validateCreate(size, clusterSize);
        ImageFile file = ChannelImageFile.createNew(path);
        try {
            format(file, size, clusterSize, compress);
            return open(file, false, AllocationListener.NONE);
        } catch (IOException | RuntimeException e) {
            file.close();
            java.nio.file.Files.deleteIfExists(path);
            throw e;
        }
    }

    /**
     * Opens an existing image. Read-write opens take an exclusive lock, read-only opens a shared
     * one; a conflicting holder makes this fail with {@link ImageLockedException}. A file that is
     * not a valid thin image fails with {@link CorruptImageException}, and is not written to.
     */
    public static ThinImage open(Path path, boolean readOnly, AllocationListener listener) throws IOException {
        ImageFile file = ChannelImageFile.open(path, readOnly);
        try {
            return open(file, readOnly, listener);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * Opens an existing image read-only without taking its lock, so that tools can look at an
     * image a server holds open for writing (qemu-img's force-share). What it reads may be
     * inconsistent when the writer commits meanwhile: a torn table then fails its checksum, and
     * the map is that of the writer's last commit, without its writes since.
     */
    public static ThinImage openForceShare(Path path) throws IOException {
        ImageFile file = ChannelImageFile.openUnlocked(path);
        try {
            return open(file, true, AllocationListener.NONE);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    static ThinImage open(ImageFile file, boolean readOnly, AllocationListener listener) throws IOException {
        return new ThinImage(file, ImageLoader.load(file, ImageLoader.Mode.STRICT), readOnly, listener);
    }

    /** Opens an already loaded (and possibly repaired in memory) image for writing. */
    static ThinImage openLoaded(ImageFile file, ImageLoader.Loaded loaded) {
        return new ThinImage(file, loaded, false, AllocationListener.NONE);
    }

    static void validateCreate(long size, int clusterSize) {
        if (!ImageFormat.validClusterSize(clusterSize)) {
            throw new IllegalArgumentException("cluster size " + clusterSize + " is not a power of two from "
                    + ImageFormat.MIN_CLUSTER_SIZE + " to " + ImageFormat.MAX_CLUSTER_SIZE);
        }
        if (size < 0 || size > ImageFormat.maxVirtualSize(clusterSize)) {
            throw new IllegalArgumentException("virtual size " + size + " outside 0.."
                    + ImageFormat.maxVirtualSize(clusterSize) + " for cluster size " + clusterSize);
        }
    }

    /** Writes an empty image: zeroed header cluster and L1, then header generation 1 in slot 0. */
    static void format(ImageFile file, long size, int clusterSize, boolean compress) throws IOException {
        int bits = Integer.numberOfTrailingZeros(clusterSize);
        int l1Entries = ImageFormat.l1EntriesFor(size, bits);
        long l1Bytes = ImageFormat.l1Length(l1Entries, clusterSize);
        long l1Offset = l1Entries == 0 ? 0 : clusterSize;
        byte[] zeros = new byte[clusterSize];
        for (long at = 0; at < clusterSize + l1Bytes; at += clusterSize) {
            file.write(ByteBuffer.wrap(zeros), at);
        }
        int l1Checksum = ImageHeader.checksum(new byte[l1Entries * ImageFormat.L1_ENTRY_SIZE], 0,
                l1Entries * ImageFormat.L1_ENTRY_SIZE);
        file.force();
        ImageHeader header = new ImageHeader(compress ? ImageFormat.INCOMPATIBLE_LZ4 : 0,
                compress ? ImageFormat.COMPATIBLE_COMPRESS_WRITES : 0, 1, size, bits, false, l1Offset, l1Entries,
                l1Checksum, 0, 0, 0);
        file.write(header.encode(), header.slotOffset());
        file.force();
    }

    // ---- BlockDevice

    @Override
    public long size() {
        return virtualSize;
    }

    @Override
    public DeviceCapabilities capabilities() {
        return new DeviceCapabilities(readOnly, true, true, true, clusterSize);
    }

    public int clusterSize() {
        return clusterSize;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        ensureOpen();
        checkRange(offset, dst.remaining());
        long pos = offset;
        while (dst.hasRemaining()) {
            long cluster = pos >>> clusterBits;
            int inner = (int) (pos & (clusterSize - 1));
            int at = dst.position();
            int n = dataRunIo(cluster, inner, dst, false);
            if (n == 0) {
                n = Math.min(dst.remaining(), clusterSize - inner);
                readCluster(cluster, inner, n == dst.remaining() ? dst : dst.slice(at, n));
            }
            dst.position(at + n);
            pos += n;
        }
    }

    /**
     * Reads or writes in place, with one system call, the part of {@code buffer} that falls into a
     * run of two or more guest clusters from {@code cluster} on that are stored as data at
     * consecutive physical offsets. Holds the read locks of the run's clusters meanwhile. Returns
     * the bytes transferred; 0 when no such run starts at {@code cluster}.
     */
    private int dataRunIo(long cluster, int inner, ByteBuffer buffer, boolean write) throws IOException {
        int limit = clusterLocks.runLimit(cluster, cluster + ((inner + (long) buffer.remaining() - 1) >>> clusterBits));
        int run = limit < 2 ? 0 : contiguousDataRun(cluster, limit);
        if (run < 2) {
            return 0;
        }
        long[] stamps = clusterLocks.lockRun(cluster, run, false);
        try {
            // The entries may have changed between the peek and the locks.
            int valid = contiguousDataRun(cluster, run);
            if (valid < 2) {
                return 0;
            }
            int n = (int) Math.min(buffer.remaining(), (long) valid * clusterSize - inner);
            ByteBuffer part = buffer.slice(buffer.position(), n);
            long physical = MapEntry.offset(map.get(cluster)) + inner;
            if (write) {
                file.write(part, physical);
            } else {
                file.readFully(part, physical);
            }
            return n;
        } finally {
            clusterLocks.unlockRun(cluster, stamps);
        }
    }

    /**
     * The file range of {@code [offset, offset + length)} when every cluster it touches is an
     * uncompressed data cluster and they lie at consecutive file offsets; empty otherwise. The
     * range stays pinned until the segment is released: see {@link #freeUnlessPinned}.
     */
    @Override
    public Optional<FileSegment> contiguousData(long offset, long length) throws IOException {
        ensureOpen();
        checkRange(offset, length);
        FileChannel channel = file.channel();
        if (channel == null || length == 0) {
            return Optional.empty();
        }
        long cluster = offset >>> clusterBits;
        long last = (offset + length - 1) >>> clusterBits;
        if (clusterLocks.runLimit(cluster, last) < last - cluster + 1) {
            return Optional.empty();
        }
        int count = (int) (last - cluster + 1);
        if (contiguousDataRun(cluster, count) < count) {
            return Optional.empty(); // unlocked peek: the common miss costs no locks
        }
        long[] stamps = clusterLocks.lockRun(cluster, count, false);
        try {
            if (contiguousDataRun(cluster, count) < count) {
                return Optional.empty();
            }
            long physical = MapEntry.offset(map.get(cluster)) + (offset & (clusterSize - 1));
            // Pinned while the entries are locked: a TRIM can only free these clusters after this.
            Pin pin = new Pin(physical, physical + length);
            pins.add(pin);
            return Optional.of(new FileSegment(channel, physical, length, () -> pins.remove(pin)));
        } finally {
            clusterLocks.unlockRun(cluster, stamps);
        }
    }

    /** How many clusters from {@code cluster} on, at most {@code limit}, are data at consecutive offsets. */
    private int contiguousDataRun(long cluster, int limit) {
        long first = map.get(cluster);
        if (MapEntry.type(first) != MapEntry.DATA) {
            return 0;
        }
        long expected = MapEntry.offset(first);
        int n = 1;
        while (n < limit) {
            long entry = map.get(cluster + n);
            if (MapEntry.type(entry) != MapEntry.DATA || MapEntry.offset(entry) != expected + (long) n * clusterSize) {
                break;
            }
            n++;
        }
        return n;
    }

    /** How many clusters from {@code cluster} on, at most {@code limit}, read as zeroes and keep no storage. */
    private int unstoredRun(long cluster, int limit) {
        int n = 0;
        while (n < limit) {
            long entry = map.get(cluster + n);
            if (!MapEntry.readsAsZero(entry) || MapEntry.offset(entry) != 0) {
                break;
            }
            n++;
        }
        return n;
    }

    /**
     * Answers a read inside one cluster when that needs no waiting: the cluster's lock is free and
     * it reads as zeroes, or is stored plainly and the page cache holds its bytes. Compressed
     * clusters and reads across clusters go to {@link #read}.
     */
    @Override
    public boolean readIfCached(long offset, ByteBuffer dst) throws IOException {
        ensureOpen();
        checkRange(offset, dst.remaining());
        int inner = (int) (offset & (clusterSize - 1));
        if (!dst.isDirect() || inner + dst.remaining() > clusterSize) {
            return false;
        }
        long cluster = offset >>> clusterBits;
        StampedLock lock = clusterLocks.forCluster(cluster);
        long stamp = lock.tryReadLock();
        if (stamp == 0) {
            return false; // a write holds the cluster: waiting for it is the I/O thread's job
        }
        try {
            long entry = map.get(cluster);
            int at = dst.position();
            int wanted = dst.remaining();
            switch (MapEntry.type(entry)) {
                case MapEntry.DATA -> {
                    if (file.readIfCached(dst, MapEntry.offset(entry) + inner) == wanted) {
                        return true;
                    }
                    dst.position(at);
                    return false;
                }
                case MapEntry.COMPRESSED -> {
                    return false;
                }
                default -> {
                    fillZero(dst);
                    return true;
                }
            }
        } finally {
            lock.unlockRead(stamp);
        }
    }

    private void readCluster(long cluster, int inner, ByteBuffer part) throws IOException {
        StampedLock lock = clusterLocks.forCluster(cluster);
        long stamp = lock.readLock();
        try {
            long entry = map.get(cluster);
            switch (MapEntry.type(entry)) {
                case MapEntry.DATA -> file.readFully(part, MapEntry.offset(entry) + inner);
                case MapEntry.COMPRESSED -> part.put(readCompressed(cluster, entry), inner, part.remaining());
                default -> fillZero(part);
            }
        } finally {
            lock.unlockRead(stamp);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        ensureWritable();
        checkRange(offset, src.remaining());
        markDirty();
        if (((offset & (clusterSize - 1)) + src.remaining()) > clusterSize) {
            long needed = bytesToAllocate(offset, src.remaining());
            if (needed > clusterSize) {
                // A refusal must come before the first of several allocations changes anything; a
                // single allocation asks the listener itself, and overwrites need not ask at all.
                allocator.reserveAhead(needed, listener);
            }
        }
        long pos = offset;
        while (src.hasRemaining()) {
            long cluster = pos >>> clusterBits;
            int inner = (int) (pos & (clusterSize - 1));
            int at = src.position();
            int n = compressWrites ? 0 : dataRunIo(cluster, inner, src, true);
            if (n == 0 && !compressWrites && inner == 0) {
                n = storeNewRun(cluster, src);
            }
            if (n == 0) {
                n = Math.min(src.remaining(), clusterSize - inner);
                // The usual request fits one cluster: no slice to allocate.
                writeCluster(cluster, inner, n == src.remaining() ? src : src.slice(at, n));
            }
            src.position(at + n);
            pos += n;
        }
        completedChanges.incrementAndGet();
        if (fua) {
            flush();
        }
    }

    /**
     * Quick when every cluster the write touches is stored as plain data and none is locked for
     * writing: the bytes then go in place, where {@link #write} would put them, with nothing to
     * allocate or commit. The image must be marked dirty already (that is a commit), the clusters
     * must fit one run of locks, and the file must not be on a network filesystem.
     */
    @Override
    public boolean writeIfQuick(long offset, ByteBuffer... parts) throws IOException {
        if (readOnly || closed || compressWrites || !dirtyOnDisk || failure != null || file.writesMayWaitOnRemote()) {
            return false;
        }
        long length = BlockDevice.remaining(parts);
        checkRange(offset, length);
        if (length == 0) {
            return true;
        }
        long first = offset >>> clusterBits;
        long last = (offset + length - 1) >>> clusterBits;
        int count = clusterLocks.runLimit(first, last);
        if (count < last - first + 1 || !storedAsData(first, count)) {
            return false; // an unlocked peek: an allocating write costs no lock attempts
        }
        long[] stamps = clusterLocks.tryLockRunForReading(first, count);
        if (stamps == null) {
            return false;
        }
        try {
            if (!storedAsData(first, count)) {
                return false;
            }
            long pos = offset;
            for (ByteBuffer part : parts) {
                pos = writeInPlace(pos, part);
            }
        } finally {
            clusterLocks.unlockRun(first, stamps);
        }
        completedChanges.incrementAndGet();
        return true;
    }

    /** The cluster locks, for tests that hold one while another thread writes. */
    ClusterLocks clusterLocks() {
        return clusterLocks;
    }

    /** Whether the {@code count} clusters from {@code cluster} on are all stored as plain data. */
    private boolean storedAsData(long cluster, int count) {
        for (int i = 0; i < count; i++) {
            if (MapEntry.type(map.get(cluster + i)) != MapEntry.DATA) {
                return false;
            }
        }
        return true;
    }

    /**
     * Writes {@code src} at guest offset {@code pos} into clusters stored as data, whose read locks
     * the caller holds, one call per run of physically consecutive clusters; returns the end.
     */
    private long writeInPlace(long pos, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            long cluster = pos >>> clusterBits;
            int inner = (int) (pos & (clusterSize - 1));
            int spanned = (int) (((long) inner + src.remaining() - 1) >>> clusterBits) + 1;
            int n = (int) Math.min(src.remaining(), (long) contiguousDataRun(cluster, spanned) * clusterSize - inner);
            int at = src.position();
            file.write(n == src.remaining() ? src : src.slice(at, n), MapEntry.offset(map.get(cluster)) + inner);
            src.position(at + n);
            pos += n;
        }
        return pos;
    }

    /** An upper bound of the new space a write needs, for the listener's early say. */
    private long bytesToAllocate(long offset, long length) {
        if (length == 0) {
            return 0;
        }
        long bytes = 0;
        long last = (offset + length - 1) >>> clusterBits;
        for (long cluster = offset >>> clusterBits; cluster <= last; cluster++) {
            if (compressWrites || MapEntry.type(map.get(cluster)) != MapEntry.DATA) {
                bytes += clusterSize;
            }
        }
        return bytes;
    }

    private void writeCluster(long cluster, int inner, ByteBuffer data) throws IOException {
        boolean full = data.remaining() == clusterSize;
        boolean inPlaceAllowed = !(full && compressWrites);
        StampedLock lock = clusterLocks.forCluster(cluster);
        // An unlocked peek: a cluster that is not stored as data goes straight to the write lock
        // (allocation) instead of taking the read lock only to find that out.
        if (inPlaceAllowed && MapEntry.type(map.get(cluster)) == MapEntry.DATA) {
            long stamp = lock.readLock();
            try {
                long entry = map.get(cluster);
                if (MapEntry.type(entry) == MapEntry.DATA) {
                    file.write(data, MapEntry.offset(entry) + inner);
                    return;
                }
            } finally {
                lock.unlockRead(stamp);
            }
        }
        long stamp = lock.writeLock();
        try {
            long entry = map.get(cluster);
            int type = MapEntry.type(entry);
            if (inPlaceAllowed && type == MapEntry.DATA) {
                file.write(data, MapEntry.offset(entry) + inner);
            } else if (full && compressWrites) {
                byte[] content = new byte[clusterSize];
                data.get(content);
                storeCompressible(cluster, entry, content);
            } else if (full) {
                storeWhole(cluster, entry, data);
            } else if (type == MapEntry.COMPRESSED) {
                byte[] content = readCompressed(cluster, entry);
                data.get(content, inner, data.remaining());
                storeWhole(cluster, entry, ByteBuffer.wrap(content));
            } else {
                storePart(cluster, entry, inner, data);
            }
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /**
     * Stores whole clusters of {@code src} into two or more guest clusters from {@code cluster} on
     * that keep no storage, in consecutive new clusters with one system call (uncompressed images
     * only). Holds the run's write locks meanwhile. Returns the bytes stored; 0 when no such run
     * starts at {@code cluster}.
     */
    private int storeNewRun(long cluster, ByteBuffer src) throws IOException {
        int limit = clusterLocks.runLimit(cluster, cluster + (src.remaining() >>> clusterBits) - 1);
        int run = limit < 2 ? 0 : unstoredRun(cluster, limit);
        if (run < 2) {
            return 0;
        }
        long[] stamps = clusterLocks.lockRun(cluster, run, true);
        try {
            int valid = unstoredRun(cluster, run);
            if (valid < 2) {
                return 0;
            }
            SpaceAllocator.Run space = allocator.allocateClusters(clusterSize, valid, listener);
            long at = space.offset();
            long length = (long) space.clusters() * clusterSize;
            writeNew(src.slice(src.position(), (int) length), at, at, length);
            for (int i = 0; i < space.clusters(); i++) {
                publish(cluster + i, map.get(cluster + i), MapEntry.data(at + (long) i * clusterSize));
            }
            listener.allocated(at, length, allocator.usage());
            return (int) length;
        } finally {
            clusterLocks.unlockRun(cluster, stamps);
        }
    }

    /**
     * Stores a whole cluster's content compressed at a new place when that saves space, else
     * uncompressed. Caller holds the cluster's write lock.
     */
    private void storeCompressible(long cluster, long oldEntry, byte[] content) throws IOException {
        byte[] block = codec.compress(content);
        if (block == null) {
            storeWhole(cluster, oldEntry, ByteBuffer.wrap(content));
            return;
        }
        long length = ImageFormat.alignUp(block.length, ImageFormat.SECTOR);
        long at = allocator.allocate(length, ImageFormat.SECTOR, listener).offset();
        writeNew(ByteBuffer.wrap(block), at, at, length);
        publish(cluster, oldEntry, MapEntry.compressed(at, block.length));
        listener.allocated(at, length, allocator.usage());
    }

    /**
     * Gives guest cluster {@code cluster} the whole cluster {@code content}, uncompressed, in its
     * own cluster (kept or existing) or a new one. Caller holds the cluster's write lock.
     */
    private void storeWhole(long cluster, long oldEntry, ByteBuffer content) throws IOException {
        long own = ownCluster(oldEntry);
        if (own != 0) {
            // The cluster already belongs to this guest cluster on disk, or to nobody: safe to overwrite.
            file.write(content, own);
            publish(cluster, oldEntry, MapEntry.data(own));
            return;
        }
        long at = allocator.allocate(clusterSize, clusterSize, listener).offset();
        placeNew(cluster, oldEntry, content, at, at);
    }

    /**
     * Writes part of a cluster that reads as zeroes (unallocated, or a zero entry), the rest of it
     * zeroes. A new cluster in space that reads as zeroes on the host gets only the client's
     * bytes; space that may hold old bytes (a kept cluster, space never punched or on a host
     * that cannot punch) is zero-filled. Caller holds the cluster's write lock.
     */
    private void storePart(long cluster, long oldEntry, int inner, ByteBuffer data) throws IOException {
        if (ownCluster(oldEntry) != 0) {
            storeWhole(cluster, oldEntry, zeroFilled(inner, data));
            return;
        }
        SpaceAllocator.Allocation space = allocator.allocate(clusterSize, clusterSize, listener);
        long at = space.offset();
        if (space.readsZero()) {
            placeNew(cluster, oldEntry, data, at + inner, at);
        } else {
            placeNew(cluster, oldEntry, zeroFilled(inner, data), at, at);
        }
    }

    /** A whole cluster of zeroes with {@code data} at {@code inner}. */
    private ByteBuffer zeroFilled(int inner, ByteBuffer data) {
        byte[] content = new byte[clusterSize];
        data.get(content, inner, data.remaining());
        return ByteBuffer.wrap(content);
    }

    /**
     * Writes {@code content} at {@code position} into the new cluster at {@code at}, then maps the
     * guest cluster to it and tells the listener.
     */
    private void placeNew(long cluster, long oldEntry, ByteBuffer content, long position, long at) throws IOException {
        writeNew(content, position, at, clusterSize);
        publish(cluster, oldEntry, MapEntry.data(at));
        listener.allocated(at, clusterSize, allocator.usage());
    }

    /** The cluster a data or zero entry keeps for its guest cluster; 0 for none. */
    private static long ownCluster(long entry) {
        int type = MapEntry.type(entry);
        return type == MapEntry.DATA || type == MapEntry.ZERO ? MapEntry.offset(entry) : 0;
    }

    /**
     * Writes {@code content} at {@code position} inside space {@code [at, at + length)} just
     * allocated, after making the file cover all of it; on failure the space is free again.
     */
    private void writeNew(ByteBuffer content, long position, long at, long length) throws IOException {
        try {
            fileLength.cover(at + length);
            file.write(content, position);
        } catch (IOException | RuntimeException e) {
            allocator.releaseUnused(at, length);
            throw e;
        }
    }

    /** Sets an entry and releases the storage the old entry had and the new one does not keep. */
    private void publish(long cluster, long oldEntry, long newEntry) {
        if (newEntry == oldEntry) {
            return;
        }
        mapLock.lock();
        try {
            map.set(cluster, newEntry);
            mapVersion++;
            long oldLength = MapEntry.storedLength(oldEntry, clusterSize);
            boolean kept = MapEntry.type(oldEntry) != MapEntry.COMPRESSED
                    && MapEntry.type(newEntry) != MapEntry.COMPRESSED
                    && MapEntry.offset(oldEntry) == MapEntry.offset(newEntry);
            if (oldLength > 0 && !kept) {
                allocator.release(MapEntry.offset(oldEntry), oldLength);
            }
        } finally {
            mapLock.unlock();
        }
    }

    private byte[] readCompressed(long cluster, long entry) throws IOException {
        long at = MapEntry.offset(entry);
        ByteBuffer block = ByteBuffer.allocate(MapEntry.compressedLength(entry));
        file.readFully(block, at);
        byte[] content = codec.decompress(block.array());
        if (content == null) {
            throw new CorruptImageException(file.name(), at, "compressed cluster of guest offset "
                    + (cluster << clusterBits) + " does not decompress to " + clusterSize + " bytes");
        }
        return content;
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        writeZeroes(offset, length, ZeroMode.MAY_TRIM, fua);
    }

    /**
     * Whole clusters become map entries (unallocated with {@code mayTrim}, else zero keeping their
     * space); partial clusters that hold data get zeroes written. Never needs to refuse a fast zero.
     */
    @Override
    public void writeZeroes(long offset, long length, ZeroMode mode, boolean fua) throws IOException {
        ensureWritable();
        checkRange(offset, length);
        markDirty();
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long cluster = pos >>> clusterBits;
            if (mode.mayTrim() && !map.hasTable(cluster)) {
                // A table never created holds only unallocated clusters: nothing to change in it.
                // (A write racing into it is concurrent with this request; either order is allowed.)
                pos = Math.min(end, map.nextTableStart(cluster) << clusterBits);
                continue;
            }
            int inner = (int) (pos & (clusterSize - 1));
            int n = (int) Math.min(end - pos, clusterSize - inner);
            boolean whole = inner == 0 && (n == clusterSize || pos + n == virtualSize);
            if (whole) {
                zeroWholeCluster(cluster, mode.mayTrim());
            } else {
                zeroPartCluster(cluster, inner, n);
            }
            pos += n;
        }
        completedChanges.incrementAndGet();
        if (fua) {
            flush();
        }
    }

    private void zeroWholeCluster(long cluster, boolean mayTrim) {
        long peeked = map.get(cluster);
        if (zeroedEntry(peeked, mayTrim) == peeked) {
            // An unlocked peek, as in writeCluster: a cluster already zeroed the way asked (the
            // usual case of a copy into a fresh image) needs no lock.
            return;
        }
        StampedLock lock = clusterLocks.forCluster(cluster);
        long stamp = lock.writeLock();
        try {
            long entry = map.get(cluster);
            long next = zeroedEntry(entry, mayTrim);
            if (next != entry) {
                publish(cluster, entry, next);
            }
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /** The entry a whole cluster gets from a zero request: unallocated with {@code mayTrim}, else zero keeping its space. */
    private static long zeroedEntry(long entry, boolean mayTrim) {
        if (mayTrim) {
            return 0;
        }
        return switch (MapEntry.type(entry)) {
            case MapEntry.DATA -> MapEntry.zero(MapEntry.offset(entry));
            case MapEntry.ZERO -> entry;
            default -> MapEntry.zero(0);
        };
    }

    private void zeroPartCluster(long cluster, int inner, int n) throws IOException {
        StampedLock lock = clusterLocks.forCluster(cluster);
        long stamp = lock.readLock();
        try {
            if (MapEntry.readsAsZero(map.get(cluster))) {
                return;
            }
        } finally {
            lock.unlockRead(stamp);
        }
        writeCluster(cluster, inner, ByteBuffer.allocate(n));
    }

    @Override
    public List<Extent> extents(long offset, long length) throws IOException {
        ensureOpen();
        checkRange(offset, length);
        List<Extent> extents = new ArrayList<>();
        long end = offset + length;
        long pos = offset;
        long runStart = offset;
        ExtentType runType = null;
        while (pos < end) {
            long cluster = pos >>> clusterBits;
            ExtentType type;
            long stop;
            if (!map.hasTable(cluster)) {
                type = ExtentType.HOLE;
                stop = map.nextTableStart(cluster) << clusterBits;
            } else {
                type = switch (MapEntry.type(map.get(cluster))) {
                    case MapEntry.UNALLOCATED -> ExtentType.HOLE;
                    case MapEntry.ZERO -> ExtentType.ZERO;
                    default -> ExtentType.DATA;
                };
                stop = (cluster + 1) << clusterBits;
            }
            if (type != runType) {
                if (runType != null) {
                    extents.add(new Extent(runStart, pos - runStart, runType));
                }
                runType = type;
                runStart = pos;
            }
            pos = Math.min(stop, end);
        }
        if (runType != null) {
            extents.add(new Extent(runStart, end - runStart, runType));
        }
        return extents;
    }

    /**
     * Where guest byte {@code guestOffset} is stored plainly in the file (its cluster is a data
     * cluster): that file offset; -1 when it is not (a hole, a zero or a compressed cluster).
     */
    public long fileOffset(long guestOffset) throws IOException {
        ensureOpen();
        checkRange(guestOffset, 1);
        long entry = map.get(guestOffset >>> clusterBits);
        return MapEntry.type(entry) == MapEntry.DATA ? MapEntry.offset(entry) + (guestOffset & (clusterSize - 1)) : -1;
    }

    @Override
    public long usage() {
        return allocator.usage();
    }

    /**
     * Makes every completed write durable. Concurrent flushes share one commit: a flush that finds
     * its writes already covered by a commit that finished meanwhile returns at once.
     */
    @Override
    public void flush() throws IOException {
        ensureOpen();
        if (readOnly) {
            return;
        }
        long target = completedChanges.get();
        commitLock.lock();
        try {
            if (durableChanges >= target) {
                return;
            }
            long covered = completedChanges.get();
            commit(true);
            durableChanges = covered;
        } finally {
            commitLock.unlock();
        }
    }

    /** Grows the virtual size (shrinking is refused); durable when this returns. */
    public void resize(long newSize) throws IOException {
        ensureWritable();
        if (newSize < virtualSize) {
            throw new IllegalArgumentException("cannot shrink from " + virtualSize + " to " + newSize + " bytes");
        }
        if (newSize > ImageFormat.maxVirtualSize(clusterSize)) {
            throw new IllegalArgumentException("virtual size " + newSize + " exceeds the maximum "
                    + ImageFormat.maxVirtualSize(clusterSize) + " for cluster size " + clusterSize);
        }
        markDirty();
        commitLock.lock();
        try {
            mapLock.lock();
            try {
                int l1Entries = ImageFormat.l1EntriesFor(newSize, clusterBits);
                if (l1Entries > map.l1Entries()) {
                    map.grow(l1Entries);
                }
                // The header's L1 size follows the virtual size, and a delta commit keeps the L1.
                map.requireCheckpoint();
                virtualSize = newSize;
                mapVersion++;
            } finally {
                mapLock.unlock();
            }
            commit(true);
        } finally {
            commitLock.unlock();
        }
    }

    /** Counts the map; a consistent picture when nothing writes meanwhile. */
    public ImageInfo info() throws IOException {
        long data = 0;
        long compressed = 0;
        long zero = 0;
        long compressedBytes = 0;
        long tablesOnDisk = 0;
        for (int i = 0; i < map.l1Entries(); i++) {
            L2Table table = map.table(i);
            if (table == null) {
                continue;
            }
            // a table made since the last checkpoint takes no file space yet: the delta stands for it
            tablesOnDisk += table.diskOffset != 0 ? 1 : 0;
            for (int j = 0; j < table.size(); j++) {
                long entry = table.get(j);
                switch (MapEntry.type(entry)) {
                    case MapEntry.DATA -> data++;
                    case MapEntry.ZERO -> zero++;
                    case MapEntry.COMPRESSED -> {
                        compressed++;
                        compressedBytes += MapEntry.storedLength(entry, clusterSize);
                    }
                    default -> { }
                }
            }
        }
        long l1Bytes = ImageFormat.l1Length(map.l1Entries(), clusterSize);
        long metadata = clusterSize + l1Bytes + tablesOnDisk * clusterSize + committed.deltaLength();
        return new ImageInfo(virtualSize, file.size(), usage(), clusterSize, !dirtyOnDisk, compressWrites, data,
                compressed, zero, compressedBytes, metadata);
    }

    /**
     * Commits with the dirty flag clear, truncates after the last used byte and releases the lock.
     * Callers stop issuing I/O first; requests racing with close may fail with "image is closed".
     */
    @Override
    public void close() throws IOException {
        commitLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (!readOnly && failure == null) {
                if (dirtyOnDisk || hasUncommittedChanges()) {
                    commit(false);
                }
                long lastUsed = allocator.lastUsedEnd();
                if (file.size() > lastUsed) {
                    file.truncate(lastUsed);
                }
            }
        } finally {
            commitLock.unlock();
            file.close();
        }
    }

    // ---- commits

    private boolean hasUncommittedChanges() {
        mapLock.lock();
        try {
            return mapVersion != committedMapVersion;
        } finally {
            mapLock.unlock();
        }
    }

    /** Sets the dirty flag durably before the first change after open. */
    private void markDirty() throws IOException {
        if (dirtyOnDisk) {
            return;
        }
        commitLock.lock();
        try {
            ensureWritable();
            if (!dirtyOnDisk) {
                commit(true);
            }
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Writes the map changed since the last commit to new places, forces, writes the next header
     * into the older slot, forces, then frees what the new header no longer references. Caller
     * holds commitLock.
     *
     * <p>The changes go out as a map delta, the entries changed since the last checkpoint, while
     * they fit in one cluster: a few scattered first writes then cost one small write instead of a
     * whole table each. Otherwise, and at a clean close, as a checkpoint: every table changed
     * since the last one, and the L1.
     *
     * <p>Any failure leaves the on-disk image at the previous commit. A full host filesystem
     * ({@link NoSpaceException} from a write) leaves this object usable: the next commit retries
     * the same changes at new places. Any other failure, a failed force included (the kernel may
     * have dropped the unwritten pages), stops this object until it is reopened.
     */
    private void commit(boolean dirty) throws IOException {
        ensureNotFailed();
        CommitPlan plan;
        mapLock.lock();
        try {
            boolean changed = mapVersion != committedMapVersion;
            long[] delta = map.deltaClusters();
            if (delta == null || (!dirty && (changed || committed.deltaEntries() > 0))) {
                plan = planCheckpoint();
            } else {
                plan = changed ? planDelta(delta) : null;
            }
        } finally {
            mapLock.unlock();
        }
        try {
            if (plan != null) {
                fileLength.cover(plan.end(clusterSize));
                for (TableWrite write : plan.writes) {
                    file.write(write.bytes, write.offset);
                }
                if (plan.l1 != null) {
                    file.write(plan.l1, plan.l1Offset);
                }
                if (plan.delta != null) {
                    file.write(plan.delta, plan.deltaOffset);
                }
            }
            file.force();
            if (plan == null && dirty == committed.dirty()) {
                return;
            }
            ImageHeader next = plan == null
                    ? committed.next(dirty, committed.virtualSize(), committed.l1Offset(), committed.l1Entries(),
                            committed.l1Checksum(), committed.deltaOffset(), committed.deltaEntries(),
                            committed.deltaChecksum())
                    : committed.next(dirty, plan.virtualSize, plan.l1Offset, plan.l1Entries, plan.l1Checksum,
                            plan.deltaOffset, plan.deltaEntries, plan.deltaChecksum);
            file.write(next.encode(), next.slotOffset());
            file.force();
            committed = next;
            dirtyOnDisk = dirty;
        } catch (IOException | RuntimeException e) {
            if (plan != null) {
                abandon(plan);
            }
            if (!(e instanceof NoSpaceException)) {
                failure = e instanceof IOException io ? io : new IOException(e);
            }
            throw e;
        } finally {
            if (plan != null && plan.tables != null) {
                plan.tables.release();
            }
        }
        if (plan != null) {
            // Punch before the ranges become allocatable, or a punch could zero a new allocation.
            for (long[] range : plan.freed) {
                freeUnlessPinned(range[0], range[1]);
            }
            for (long[] range : plan.replaced) {
                allocator.makeFree(range[0], range[1], file.releaseSpace(range[0], range[1]));
            }
            for (TableWrite write : plan.writes) {
                listener.allocated(write.offset, clusterSize, allocator.usage());
            }
            if (plan.l1 != null) {
                listener.allocated(plan.l1Offset, plan.l1Length, allocator.usage());
            }
            if (plan.delta != null) {
                listener.allocated(plan.deltaOffset, plan.deltaLength, allocator.usage());
            }
        }
    }

    /**
     * Makes space the durable header no longer references reusable, unless a zero-copy read
     * ({@link #contiguousData}) may still be sending it: that read picked the place while the map
     * still pointed there, and reusing (or hole-punching) it before the send ends would put another
     * cluster's bytes, or zeroes, into the reply. Such a range goes back to the released ones and
     * is freed by a later commit: the next flush after any change, or close at the latest (the
     * map version bump makes close commit even with nothing else changed). Deferring instead of waiting keeps FLUSH from waiting on a
     * slow client's socket; a pin lasts one send, so the deferral is short.
     */
    private void freeUnlessPinned(long start, long length) throws IOException {
        long end = start + length;
        for (Pin pin : pins) {
            if (pin.start < end && start < pin.end) {
                allocator.release(start, length);
                mapLock.lock();
                try {
                    mapVersion++;
                } finally {
                    mapLock.unlock();
                }
                return;
            }
        }
        allocator.makeFree(start, length, file.releaseSpace(start, length));
    }

    /**
     * Undoes the in-memory side of a commit whose header may not be durable. The durable header
     * still references the replaced tables, L1 and delta and whatever was released before, so
     * they wait for the next durable commit again; a checkpoint's tables stay dirty and get new
     * places then. The new places may hold torn tables and a header naming them may reach the
     * disk, so they too are reused only after the next durable commit has overwritten that header
     * slot. A table's {@code diskOffset} keeps its new place, which that next commit frees as the
     * table's old one. Caller holds commitLock.
     */
    private void abandon(CommitPlan plan) {
        mapLock.lock();
        try {
            if (plan.dirtyTables != null) {
                map.restoreDirtyTables(plan.dirtyTables);
            }
            committedMapVersion = plan.previousMapVersion;
        } finally {
            mapLock.unlock();
        }
        for (long[] range : plan.freed) {
            allocator.release(range[0], range[1]);
        }
        allocator.release(plan.l1Offset, plan.l1 == null ? 0 : plan.l1Length);
        allocator.release(plan.deltaOffset, plan.delta == null ? 0 : plan.deltaLength);
    }

    private record TableWrite(long offset, ByteBuffer bytes) {
    }

    /**
     * What one commit writes: for a checkpoint the changed tables (encoded in {@code tables}) and
     * a new L1; for a delta commit neither ({@code tables} and {@code l1} null, the L1 fields
     * those of the durable header). The map delta is null when the new header has none.
     *
     * @param freed       ranges to free once the commit is durable: replaced tables and earlier releases
     * @param replaced    the durable header's L1 and delta that this commit replaces, freed once it is
     *                    durable; apart from {@code freed} because an abandoned commit's successor
     *                    replaces them again
     * @param dirtyTables the tables a checkpoint took from the map; null for a delta commit
     */
    private record CommitPlan(TableBuffer tables, List<TableWrite> writes, ByteBuffer l1, long l1Offset,
            long l1Length, int l1Entries, int l1Checksum, ByteBuffer delta, long deltaOffset, long deltaLength,
            int deltaEntries, int deltaChecksum, long virtualSize, List<long[]> freed, List<long[]> replaced,
            BitSet dirtyTables, long previousMapVersion) {

        /** First byte after the new tables, L1 and delta. */
        long end(int tableBytes) {
            long end = Math.max(l1Offset + l1Length, deltaOffset + deltaLength);
            for (TableWrite write : writes) {
                end = Math.max(end, write.offset + tableBytes);
            }
            return end;
        }
    }

    /**
     * Plans a delta commit: the current entries of {@code clusters} (the guest clusters changed
     * since the last checkpoint, ascending) at a new place. Caller holds mapLock.
     */
    private CommitPlan planDelta(long[] clusters) throws IOException {
        int entries = clusters.length;
        ByteBuffer delta = null;
        long deltaOffset = 0;
        long deltaLength = 0;
        int deltaChecksum = 0;
        if (entries > 0) {
            deltaLength = ImageFormat.deltaLength(entries, clusterSize);
            deltaOffset = allocator.allocate(deltaLength, clusterSize, AllocationListener.NONE).offset();
            // Only the entries: nothing reads the rest of the delta's last cluster.
            delta = ByteBuffer.allocate(entries * ImageFormat.DELTA_ENTRY_SIZE);
            for (int i = 0; i < entries; i++) {
                delta.putLong(i * ImageFormat.DELTA_ENTRY_SIZE, clusters[i]);
                delta.putLong(i * ImageFormat.DELTA_ENTRY_SIZE + 8, map.get(clusters[i]));
            }
            deltaChecksum = ImageHeader.checksum(delta.array(), 0, delta.capacity());
        }
        List<long[]> freed = new ArrayList<>(allocator.takePending());
        long previousMapVersion = committedMapVersion;
        committedMapVersion = mapVersion;
        return new CommitPlan(null, List.of(), null, committed.l1Offset(), 0, committed.l1Entries(),
                committed.l1Checksum(), delta, deltaOffset, deltaLength, entries, deltaChecksum,
                committed.virtualSize(), freed, replacedDelta(), null, previousMapVersion);
    }

    /** The durable header's map delta, as a range to free once it is replaced; none when it has none. */
    private List<long[]> replacedDelta() {
        List<long[]> replaced = new ArrayList<>();
        if (committed.deltaEntries() > 0) {
            replaced.add(new long[] {committed.deltaOffset(), committed.deltaLength()});
        }
        return replaced;
    }

    /**
     * Plans a checkpoint: snapshots the changed tables and places them and a new L1 in free space.
     * Metadata does not ask the listener to reserve: a flush must not fail on quota for a few
     * tables (the listener still hears of them after the commit). Allocation comes first so that
     * a failure leaves everything as it was. Caller holds mapLock.
     */
    private CommitPlan planCheckpoint() throws IOException {
        BitSet dirtyTables = map.takeDirtyTables();
        int l1Entries = map.l1Entries();
        long l1Length = ImageFormat.l1Length(l1Entries, clusterSize);
        List<long[]> allocated = new ArrayList<>();
        long[] tableOffsets = new long[l1Entries];
        try {
            for (int i = dirtyTables.nextSetBit(0); i >= 0; i = dirtyTables.nextSetBit(i + 1)) {
                L2Table table = map.table(i);
                if (table != null && !table.isEmpty()) {
                    tableOffsets[i] = allocator.allocate(clusterSize, clusterSize, AllocationListener.NONE).offset();
                    allocated.add(new long[] {tableOffsets[i], clusterSize});
                }
            }
            long l1Offset = 0;
            if (l1Entries > 0) {
                l1Offset = allocator.allocate(l1Length, clusterSize, AllocationListener.NONE).offset();
                allocated.add(new long[] {l1Offset, l1Length});
            }
            return buildCheckpoint(dirtyTables, tableOffsets, l1Offset, l1Length);
        } catch (IOException | RuntimeException e) {
            for (long[] range : allocated) {
                allocator.releaseUnused(range[0], range[1]);
            }
            map.restoreDirtyTables(dirtyTables);
            throw e;
        }
    }

    /** Encodes the changed tables (into one {@link TableBuffer}) and the L1 for a checkpoint. */
    private CommitPlan buildCheckpoint(BitSet dirtyTables, long[] tableOffsets, long l1Offset, long l1Length) {
        List<long[]> freed = new ArrayList<>();
        List<TableWrite> writes = new ArrayList<>();
        int placed = 0;
        for (int i = dirtyTables.nextSetBit(0); i >= 0; i = dirtyTables.nextSetBit(i + 1)) {
            placed += tableOffsets[i] != 0 ? 1 : 0;
        }
        TableBuffer tables = TableBuffer.take(placed, clusterSize);
        CRC32C crc = new CRC32C();
        for (int i = dirtyTables.nextSetBit(0); i >= 0; i = dirtyTables.nextSetBit(i + 1)) {
            L2Table table = map.table(i);
            if (table == null) {
                continue;
            }
            if (table.diskOffset != 0) {
                freed.add(new long[] {table.diskOffset, clusterSize});
            }
            if (tableOffsets[i] == 0) {
                map.remove(i);
                continue;
            }
            table.encodeInto(tables, writes.size());
            ByteBuffer bytes = tables.table(writes.size());
            crc.reset();
            crc.update(bytes.duplicate());
            table.diskOffset = tableOffsets[i];
            table.diskChecksum = (int) crc.getValue();
            writes.add(new TableWrite(tableOffsets[i], bytes));
        }
        int l1Entries = map.l1Entries();
        // Only the entries: nothing reads the rest of the L1's last cluster.
        ByteBuffer l1 = ByteBuffer.allocate(l1Entries * ImageFormat.L1_ENTRY_SIZE);
        for (int i = 0; i < l1Entries; i++) {
            L2Table table = map.table(i);
            if (table != null) {
                l1.putLong(i * ImageFormat.L1_ENTRY_SIZE, table.diskOffset);
                l1.putInt(i * ImageFormat.L1_ENTRY_SIZE + 8, table.diskChecksum);
            }
        }
        int l1Checksum = ImageHeader.checksum(l1.array(), 0, l1.capacity());
        List<long[]> replaced = replacedDelta();
        if (committed.l1Entries() > 0) {
            replaced.add(new long[] {committed.l1Offset(), ImageFormat.l1Length(committed.l1Entries(), clusterSize)});
        }
        freed.addAll(allocator.takePending());
        long previousMapVersion = committedMapVersion;
        committedMapVersion = mapVersion;
        return new CommitPlan(tables, writes, l1Entries > 0 ? l1 : null, l1Offset, l1Length, l1Entries, l1Checksum,
                null, 0, 0, 0, 0, virtualSize, freed, replaced, dirtyTables, previousMapVersion);
    }

    // ---- maintenance hooks for the checker and the compactor

    /** Makes the next commit rewrite every table (to new places, like any commit). */
    void rewriteAllTables() {
        mapLock.lock();
        try {
            map.markAllDirty();
            mapVersion++;
        } finally {
            mapLock.unlock();
        }
    }

    /**
     * Moves the storage of one guest cluster. With {@code belowOnly} it moves only into free space
     * below its current place and returns false when there is none (compaction); otherwise it
     * always moves, giving the cluster a private copy (repair of overlaps). A zero entry drops its
     * kept cluster.
     */
    boolean relocate(long cluster, boolean belowOnly) throws IOException {
        markDirty();
        StampedLock lock = clusterLocks.forCluster(cluster);
        long stamp = lock.writeLock();
        try {
            long entry = map.get(cluster);
            int type = MapEntry.type(entry);
            long from = MapEntry.offset(entry);
            long length = MapEntry.storedLength(entry, clusterSize);
            if (length == 0) {
                return false;
            }
            if (type == MapEntry.ZERO) {
                publish(cluster, entry, MapEntry.zero(0));
                return true;
            }
            long alignment = type == MapEntry.COMPRESSED ? ImageFormat.SECTOR : clusterSize;
            long to = belowOnly
                    ? allocator.allocateBelow(length, alignment, from)
                    : allocator.allocate(length, alignment, listener).offset();
            if (to < 0) {
                return false;
            }
            ByteBuffer bytes = ByteBuffer.allocate(type == MapEntry.COMPRESSED
                    ? MapEntry.compressedLength(entry) : clusterSize);
            file.readFully(bytes, from);
            writeNew(bytes.flip(), to, to, length);
            publish(cluster, entry, type == MapEntry.COMPRESSED
                    ? MapEntry.compressed(to, MapEntry.compressedLength(entry))
                    : MapEntry.data(to));
            return true;
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /** Guest clusters that occupy file space, with their physical offsets, for maintenance walks. */
    List<long[]> storedClusters() {
        List<long[]> stored = new ArrayList<>();
        for (int i = 0; i < map.l1Entries(); i++) {
            L2Table table = map.table(i);
            if (table == null) {
                continue;
            }
            for (int j = 0; j < table.size(); j++) {
                long entry = table.get(j);
                long length = MapEntry.storedLength(entry, clusterSize);
                if (length > 0) {
                    stored.add(new long[] {(long) i * map.l2Entries() + j, MapEntry.offset(entry), length});
                }
            }
        }
        return stored;
    }

    /** Force-commits outstanding changes so that freed space becomes reusable. */
    void commitNow() throws IOException {
        commitLock.lock();
        try {
            commit(true);
        } finally {
            commitLock.unlock();
        }
    }

    /** Returns the host space of every free range (repair, compaction). */
    void releaseFreeSpace() throws IOException {
        for (long[] range : allocator.freeRanges()) {
            file.releaseSpace(range[0], range[1]);
        }
    }

    // ---- checks

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException(file.name() + ": image is closed");
        }
    }

    private void ensureNotFailed() throws IOException {
        IOException cause = failure;
        if (cause != null) {
            throw new IOException(file.name() + ": image stopped after an earlier I/O error; reopen it", cause);
        }
    }

    private void ensureWritable() throws IOException {
        ensureOpen();
        if (readOnly) {
            throw new IOException(file.name() + ": image is open read-only");
        }
        ensureNotFailed();
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > virtualSize - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " is outside the device of "
                    + virtualSize + " bytes");
        }
    }

    private void fillZero(ByteBuffer part) {
        part.put(zeros, 0, part.remaining());
    }
}
