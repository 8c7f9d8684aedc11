/**
 * Account-level figures a dApp shows next to `IClearinghouse.AccountHealth`: free collateral and the margin
 * ratio. The clearinghouse computes free collateral inline in `MarginLogic.health` (as `withdrawableX18`);
 * it has no margin-ratio view, the ratio is defined here so that it agrees exactly with `isLiquidatable`.
 */
import { BPS } from "../math/bps";

/**
 * Free collateral, USD 18 decimals: what a withdrawal may take now, max(0, min(cash, equity - initial margin)),
 * exactly `AccountHealth.withdrawableX18` (`MarginLogic.health`). `initialMarginX18` includes the reserve of
 * resting orders (`AccountHealth.initialMarginX18` does). Unrealized profit is never withdrawable (the cap at cash).
 */
export function freeCollateralX18(cashX18: bigint, equityX18: bigint, initialMarginX18: bigint): bigint {
  let freeX18 = equityX18 - initialMarginX18;
  if (freeX18 > cashX18) freeX18 = cashX18;
  return freeX18 > 0n ? freeX18 : 0n;
}

/**
 * The margin ratio, bps: equity x 10,000 / maintenance margin, rounded down (toward negative infinity), so that
 * `marginRatioBps < 10_000` exactly when the account is liquidatable (equity < maintenance margin, `isLiquidatable`).
 * Negative when equity is. `undefined` without maintenance margin (no position).
 */
export function marginRatioBps(equityX18: bigint, maintenanceMarginX18: bigint): bigint | undefined {
  if (maintenanceMarginX18 <= 0n) return undefined;
  const scaledX18 = equityX18 * BPS;
  const quotient = scaledX18 / maintenanceMarginX18;
  return scaledX18 < 0n && quotient * maintenanceMarginX18 !== scaledX18 ? quotient - 1n : quotient;
}
