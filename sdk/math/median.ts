/** Median of bigints; mirrors contracts/libraries/Median.sol (even count: mean of the middle two, rounded down). */
export function median(values: readonly bigint[]): bigint {
  if (values.length === 0) throw new RangeError("median of an empty list");
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid];
  const low = sorted[mid - 1];
  return low + (sorted[mid] - low) / 2n;
}
