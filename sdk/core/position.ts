/**
 * Positions, PnL, fees and margin requirements of one series: the reference model of
 * `contracts/libraries/PositionMath.sol`, function for function, rounding for rounding.
 * Money is USD in 18-decimal fixed point (`...X18`); quantities are whole contracts.
 */
import { BPS } from "../math/bps";
import { mulDivDown, mulDivUp } from "../units";
import { abs, mulDivSignedUp } from "./fixedPoint";

/** A position: signed size (long > 0) and signed cost basis. */
export interface PositionState {
  sizeQty: bigint;
  openNotionalX18: bigint;
}

/** qty x price x multiplier, exact. */
export function notionalX18(qty: bigint, priceX18: bigint, multiplier: bigint): bigint {
  return qty * priceX18 * multiplier;
}

/** size x mark x multiplier - cost basis, exact. */
export function unrealizedPnlX18(
  sizeQty: bigint,
  openNotionalX18: bigint,
  markX18: bigint,
  multiplier: bigint,
): bigint {
  return sizeQty * markX18 * multiplier - openNotionalX18;
}

/** |size| x mark x multiplier x bps / 10,000, rounded up (never understated). */
export function requirementX18(absSizeQty: bigint, markX18: bigint, multiplier: bigint, bps: bigint): bigint {
  return mulDivUp(absSizeQty * markX18 * multiplier, bps, BPS);
}

/** Fee of `feeBps` on `notional`: charges round up, rebates (negative bps) round down in magnitude. */
export function feeX18(notional: bigint, feeBps: bigint): bigint {
  return feeBps >= 0n ? mulDivUp(notional, feeBps, BPS) : -mulDivDown(notional, -feeBps, BPS);
}

/** The result of trading into a position. */
export interface TradeOutcome {
  newSizeQty: bigint;
  newOpenNotionalX18: bigint;
  realizedPnlX18: bigint;
}

/**
 * The position after trading `deltaQty` (positive buys) at `priceX18`. The closing part realizes PnL
 * against a pro-rata share of the cost basis rounded toward +infinity (realized PnL rounds down).
 */
export function applyTrade(
  sizeQty: bigint,
  openNotionalX18: bigint,
  deltaQty: bigint,
  priceX18: bigint,
  multiplier: bigint,
): TradeOutcome {
  const unitNotional = priceX18 * multiplier;
  const newSizeQty = sizeQty + deltaQty;
  if (sizeQty === 0n || sizeQty > 0n === deltaQty > 0n) {
    return { newSizeQty, newOpenNotionalX18: openNotionalX18 + deltaQty * unitNotional, realizedPnlX18: 0n };
  }
  const absSize = abs(sizeQty);
  const absDelta = abs(deltaQty);
  const closeQty = absDelta < absSize ? absDelta : absSize;
  const removedBasis = closeQty === absSize ? openNotionalX18 : mulDivSignedUp(openNotionalX18, closeQty, absSize);
  const closeValue = sizeQty > 0n ? closeQty * unitNotional : -closeQty * unitNotional;
  return {
    newSizeQty,
    newOpenNotionalX18: absDelta > absSize ? newSizeQty * unitNotional : openNotionalX18 - removedBasis,
    realizedPnlX18: closeValue - removedBasis,
  };
}

/** True when a change of size raises risk: a larger absolute size or a flip to the other side. */
export function raisesRisk(oldSizeQty: bigint, newSizeQty: bigint): boolean {
  return (
    abs(newSizeQty) > abs(oldSizeQty) || (oldSizeQty > 0n && newSizeQty < 0n) || (oldSizeQty < 0n && newSizeQty > 0n)
  );
}
