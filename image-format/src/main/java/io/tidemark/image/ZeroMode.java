package io.tidemark.image;

/**
 * How {@link BlockDevice#writeZeroes} may zero a range.
 *
 * @param mayTrim  the range may become a hole (NBD: no NBD_CMD_FLAG_NO_HOLE)
 * @param fastOnly fail with {@link FastZeroUnsupportedException} rather than write zero data
 *                 (NBD_CMD_FLAG_FAST_ZERO)
 */
public record ZeroMode(boolean mayTrim, boolean fastOnly) {
    public static final ZeroMode MAY_TRIM = new ZeroMode(true, false);
    public static final ZeroMode NO_HOLE = new ZeroMode(false, false);
}
