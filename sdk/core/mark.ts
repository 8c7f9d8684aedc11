/**
 * The mark price: the reference model of `contracts/libraries/MarkPrice.sol`.
 * Index + time-weighted, clamped EMA of the traded basis; inside the averaging window the part of
 * the settlement average already observed is fixed.
 */
import { mulDivDown } from "../units";
import { mulDivSignedTowardZero } from "./fixedPoint";
import { BPS } from "../math/bps";

/** Period of the basis EMA (`BASIS_EMA_PERIOD_SEC`). */
export const BASIS_EMA_PERIOD_SEC = 1800n;

/** The EMA at `nowSec` given the EMA and the standing sample at `lastSampleAt` (0: no sample yet). */
export function basisAt(
  emaX18: bigint,
  lastSampleX18: bigint,
  lastSampleAt: bigint,
  nowSec: bigint,
  periodSec: bigint = BASIS_EMA_PERIOD_SEC,
): bigint {
  if (lastSampleAt === 0n) return emaX18;
  let elapsed = nowSec - lastSampleAt;
  if (elapsed > periodSec) elapsed = periodSec;
  return emaX18 + mulDivSignedTowardZero(lastSampleX18 - emaX18, elapsed, periodSec);
}

/** Clamps a basis to +-bandBps of the index (the limit rounds down). */
export function clampBasis(basisX18: bigint, indexX18: bigint, bandBps: bigint): bigint {
  const limit = mulDivDown(indexX18, bandBps, BPS);
  if (basisX18 > limit) return limit;
  if (basisX18 < -limit) return -limit;
  return basisX18;
}

/**
 * The mark from the index, the clamped basis and the window: index + basis before the window; inside,
 * (observedAvg x observed + (index + basis) x remaining) / window, rounded down.
 */
export function markFrom(
  indexX18: bigint,
  basisX18: bigint,
  windowStart: bigint,
  expiry: bigint,
  observedUntil: bigint,
  observedAvgX18: bigint,
): bigint {
  const forwardX18 = indexX18 + basisX18;
  if (observedUntil <= windowStart) return forwardX18;
  const until = observedUntil > expiry ? expiry : observedUntil;
  return (observedAvgX18 * (until - windowStart) + forwardX18 * (expiry - until)) / (expiry - windowStart);
}
