package io.tidemark.image.thin;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * An in-memory {@link ImageFile} that models a disk with a volatile write cache: writes since the
 * last {@link #force} may be lost, in any subset, by a crash. It can crash after N mutating
 * operations (write, truncate, force, hole punch), optionally tearing the write it stops in.
 */
final class CrashableMemoryFile implements ImageFile {

    /** What survives a crash of the writes that were not forced. */
    enum Survival { ALL, NONE, RANDOM }

    static final class SimulatedCrash extends IOException {
        SimulatedCrash() {
            super("simulated crash");
        }
    }

    /** A mutation not yet forced; bytes == null means truncate to {@code position}. */
    private record Op(long position, byte[] bytes) {
    }

    private byte[] current;
    private byte[] durable;
    private final List<Op> unforced = new ArrayList<>();
    private long operations;
    private long crashAt = Long.MAX_VALUE;
    private boolean tear;
    private boolean crashed;
    private boolean punching = true;
    /** Bytes passed to {@link #write}, hole punches included. */
    private long bytesWritten;

    CrashableMemoryFile() {
        this(new byte[0]);
    }

    private CrashableMemoryFile(byte[] contents) {
        this.current = contents.clone();
        this.durable = contents.clone();
    }

    /** Stops after {@code count} more mutating operations; the last one is torn in half when asked. */
    synchronized void crashAfter(long count, boolean tearLast) {
        crashAt = operations + count;
        tear = tearLast;
    }

    synchronized long operations() {
        return operations;
    }

    synchronized boolean crashed() {
        return crashed;
    }

    /** The disk after a power cut: the durable state plus the unforced writes that survive. */
    synchronized CrashableMemoryFile afterCrash(Survival survival, Random random) {
        byte[] image = durable.clone();
        for (Op op : unforced) {
            boolean survives = switch (survival) {
                case ALL -> true;
                case NONE -> false;
                case RANDOM -> random.nextBoolean();
            };
            if (survives) {
                image = apply(image, op);
            }
        }
        return withPunchingOf(new CrashableMemoryFile(image));
    }

    /** The current contents as a fresh, fully durable file (a clean reopen). */
    synchronized CrashableMemoryFile reopened() {
        return withPunchingOf(new CrashableMemoryFile(current));
    }

    /** The same disk keeps its filesystem's abilities. */
    private CrashableMemoryFile withPunchingOf(CrashableMemoryFile file) {
        file.punching = punching;
        return file;
    }

    synchronized byte[] contents() {
        return current.clone();
    }

    /** Overwrites bytes directly, bypassing crash accounting (to corrupt a file in tests). */
    synchronized void poke(long position, byte[] bytes) {
        current = apply(current, new Op(position, bytes));
        durable = current.clone();
    }

    synchronized void setLength(long length) {
        current = Arrays.copyOf(current, Math.toIntExact(length));
        durable = current.clone();
    }

    @Override
    public String name() {
        return "memory-image";
    }

    @Override
    public synchronized int read(ByteBuffer dst, long position) throws IOException {
        checkAlive();
        if (position >= current.length) {
            return 0;
        }
        int n = (int) Math.min(dst.remaining(), current.length - position);
        dst.put(current, (int) position, n);
        return n;
    }

    @Override
    public synchronized void write(ByteBuffer src, long position) throws IOException {
        checkAlive();
        byte[] bytes = new byte[src.remaining()];
        src.get(bytes);
        bytesWritten += bytes.length;
        if (stopsHere()) {
            if (tear && bytes.length > 1) {
                mutate(new Op(position, Arrays.copyOf(bytes, bytes.length / 2)));
            }
            throw crash();
        }
        mutate(new Op(position, bytes));
    }

    @Override
    public synchronized void force() throws IOException {
        checkAlive();
        if (stopsHere()) {
            throw crash();
        }
        durable = current.clone();
        unforced.clear();
    }

    @Override
    public synchronized long size() throws IOException {
        checkAlive();
        return current.length;
    }

    @Override
    public synchronized void truncate(long size) throws IOException {
        checkAlive();
        if (stopsHere()) {
            throw crash();
        }
        if (size < current.length) {
            mutate(new Op(size, null));
        }
    }

    /** From now on {@link #releaseSpace} changes nothing, like a filesystem that cannot punch holes. */
    synchronized void disablePunching() {
        punching = false;
    }

    synchronized long bytesWritten() {
        return bytesWritten;
    }

    /**
     * Punching a hole: the range reads as zeroes afterwards, like fallocate(PUNCH_HOLE); modelled
     * as a write of zeroes, which a crash may lose like any write not yet forced.
     */
    @Override
    public synchronized boolean releaseSpace(long offset, long length) throws IOException {
        checkAlive();
        if (!punching) {
            return false;
        }
        long stop = Math.min(offset + length, current.length);
        if (stop > offset) {
            write(ByteBuffer.allocate((int) (stop - offset)), offset);
        }
        return true;
    }

    @Override
    public void close() {
    }

    private boolean stopsHere() {
        return ++operations > crashAt;
    }

    private SimulatedCrash crash() {
        crashed = true;
        return new SimulatedCrash();
    }

    private void checkAlive() throws SimulatedCrash {
        if (crashed) {
            throw new SimulatedCrash();
        }
    }

    private void mutate(Op op) {
        current = apply(current, op);
        unforced.add(op);
    }

    private static byte[] apply(byte[] image, Op op) {
        if (op.bytes == null) {
            return Arrays.copyOf(image, (int) Math.min(image.length, op.position));
        }
        int end = Math.toIntExact(op.position + op.bytes.length);
        byte[] out = end > image.length ? Arrays.copyOf(image, end) : image;
        System.arraycopy(op.bytes, 0, out, (int) op.position, op.bytes.length);
        return out;
    }
}
