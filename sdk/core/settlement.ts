/**
 * Settlement and collateral conversions: the reference model of `SettlementLogic` and the vault edge.
 */
import { mulDivDown, mulDivUp } from "../units";
import { BPS } from "../math/bps";
import { unrealizedPnlX18 } from "./position";

/** Governance settlement prices stay within this many bps of the last index. */
export const GOVERNANCE_PRICE_BAND_BPS = 5_000n;
/** Largest settlement price. */
export const MAX_PRICE_X18 = 10n ** 24n;

/** PnL credited when a position closes at the settlement price (exact). */
export function settlementPnlX18(
  sizeQty: bigint,
  openNotionalX18: bigint,
  settlementPriceX18: bigint,
  multiplier: bigint,
): bigint {
  return unrealizedPnlX18(sizeQty, openNotionalX18, settlementPriceX18, multiplier);
}

/** Bounds of a governance settlement price around the last index (any positive price without one). */
export function governanceBounds(referenceX18: bigint): { minX18: bigint; maxX18: bigint } {
  if (referenceX18 === 0n) return { minX18: 1n, maxX18: MAX_PRICE_X18 };
  const maxX18 = mulDivDown(referenceX18, BPS + GOVERNANCE_PRICE_BAND_BPS, BPS);
  return {
    minX18: mulDivUp(referenceX18, BPS - GOVERNANCE_PRICE_BAND_BPS, BPS),
    maxX18: maxX18 > MAX_PRICE_X18 ? MAX_PRICE_X18 : maxX18,
  };
}

/** Token units to 18 decimals (exact): raw x 10^(18 - decimals). */
export function rawToX18(amountRaw: bigint, decimals: number): bigint {
  return amountRaw * 10n ** BigInt(18 - decimals);
}

/** 18 decimals to whole token units, rounded down (what a withdrawal of `amountX18` can pay). */
export function x18ToRawDown(amountX18: bigint, decimals: number): bigint {
  return amountX18 / 10n ** BigInt(18 - decimals);
}
