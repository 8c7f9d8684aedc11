/**
 * The liquidation price of one series: the mark at which an account becomes liquidatable, all its other
 * positions held at their marks. Exact bigint math over the definitions of `MarginLogic.health` (equity =
 * cash + unrealized PnL; maintenance margin = per-series requirements rounded up) and `isLiquidatable`
 * (equity < maintenance margin). The contracts have no such function; it answers what `accountHealth` would
 * say at every mark.
 */
import { SeriesParamError } from "../errors";
import { BPS } from "../math/bps";
import { abs } from "./fixedPoint";
import type { ValuedPosition } from "./margin";
import { requirementX18, unrealizedPnlX18 } from "./position";

/** The position whose series' mark moves, with its series' contract multiplier and maintenance margin (bps). */
export interface MovingPosition {
  sizeQty: bigint;
  openNotionalX18: bigint;
  multiplier: bigint;
  mmBps: bigint;
}

/** Another position of the account, held at its mark (`ValuedPosition` without the initial margin). */
export type HeldPosition = Pick<ValuedPosition, "sizeQty" | "openNotionalX18" | "markX18" | "multiplier" | "mmBps">;

/**
 * The liquidation price of `position` (USD per index unit, 18 decimals): the first mark, moving against the
 * position, at which the account (cash `cashX18`, USD 18 decimals, and `others` at their marks) is liquidatable.
 *
 * - A long is liquidatable at every mark at or below the returned price and at none above: the price is the
 *   highest liquidatable mark, and one wei above it is not liquidatable.
 * - A short is liquidatable at every mark at or above the returned price and at none below: the price is the
 *   lowest liquidatable mark, one wei below it is not (1 when every positive mark liquidates it).
 * - `undefined` when no positive mark liquidates the account (a long whose cash covers it, e.g. fully
 *   collateralised) or the position is flat (its mark does not matter).
 *
 * Exact: with K = cash - open notional + sum over `others` of (unrealized PnL - maintenance requirement), the
 * account is liquidatable at mark P iff K + size x P x m < ceil(|size| x P x m x mmBps / 10,000), which for an
 * integer left side is iff 10,000 x K + (10,000 x size - |size| x mmBps) x m x P < 0 (no rounding left).
 * @throws SeriesParamError when the multiplier is not positive or mmBps is outside 0..9,999.
 */
export function liquidationPriceX18(
  cashX18: bigint,
  position: MovingPosition,
  others: readonly HeldPosition[],
): bigint | undefined {
  if (position.multiplier <= 0n) {
    throw new SeriesParamError("multiplier", position.multiplier, "must be above zero");
  }
  if (position.mmBps < 0n || position.mmBps >= BPS) {
    throw new SeriesParamError("mmBps", position.mmBps, "must be from 0 to 9,999");
  }
  let constantX18 = cashX18 - position.openNotionalX18;
  for (const o of others) {
    constantX18 +=
      unrealizedPnlX18(o.sizeQty, o.openNotionalX18, o.markX18, o.multiplier) -
      requirementX18(abs(o.sizeQty), o.markX18, o.multiplier, o.mmBps);
  }
  // Liquidatable at P iff scaled + slope x P < 0.
  const scaled = constantX18 * BPS;
  const slope = (position.sizeQty * BPS - abs(position.sizeQty) * position.mmBps) * position.multiplier;
  if (slope === 0n) return undefined;
  if (slope > 0n) {
    // Long: the highest P >= 1 with slope x P <= -scaled - 1.
    const highest = (-scaled - 1n) / slope;
    return -scaled > slope ? highest : undefined;
  }
  // Short: the lowest P >= 1 with -slope x P >= scaled + 1.
  return scaled < 0n ? 1n : scaled / -slope + 1n;
}
