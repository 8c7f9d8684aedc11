/** Basis-point comparisons; mirrors contracts/libraries/BpsMath.sol. */

/** Basis points in one whole. */
export const BPS = 10_000n;

/** True when `value` differs from `referenceValue` by more than `limitBps` of it (exact). */
export function deviationExceeds(referenceValue: bigint, value: bigint, limitBps: bigint): boolean {
  const diff = value > referenceValue ? value - referenceValue : referenceValue - value;
  return diff * BPS > limitBps * referenceValue;
}
