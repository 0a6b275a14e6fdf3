package io.tidemark.threshold;

import io.tidemark.image.AllocationListener;
import java.io.IOException;

/**
 * Stands in for an export's {@link ThresholdMonitor} while the device is being opened: the device
 * needs its listener at open, the monitor needs the opened device's size and usage. Until
 * {@link #attach} it ignores allocations (an image being opened allocates nothing a threshold
 * cares about; the monitor evaluates the usage it starts with).
 */
public final class DeferredAllocationListener implements AllocationListener {

    private volatile AllocationListener target = AllocationListener.NONE;

    public void attach(AllocationListener listener) {
        this.target = listener;
    }

    @Override
    public void reserve(long newUsage) throws IOException {
        target.reserve(newUsage);
    }

    @Override
    public boolean tryReserve(long newUsage) throws IOException {
        return target.tryReserve(newUsage);
    }

    @Override
    public void allocated(long offset, long length, long usage) {
        target.allocated(offset, length, usage);
    }
}
