/**
 * Account health: the reference model of `MarginLogic.health`.
 */
import { abs } from "./fixedPoint";
import { requirementX18, unrealizedPnlX18 } from "./position";

/** One position with what its valuation needs. */
export interface ValuedPosition {
  sizeQty: bigint;
  openNotionalX18: bigint;
  markX18: bigint;
  multiplier: bigint;
  imBps: bigint;
  mmBps: bigint;
}

/**
 * An account's margin: `IClearinghouse.AccountHealth` field for field without `orderMarginX18` (the reserve of
 * resting orders is `orderMargin` in sdk/core/orderBook.ts; the model adds it to the initial margin there).
 */
export interface AccountHealth {
  cashX18: bigint;
  unrealizedPnlX18: bigint;
  equityX18: bigint;
  initialMarginX18: bigint;
  maintenanceMarginX18: bigint;
  withdrawableX18: bigint;
}

/** Equity, requirements (rounded up per series) and withdrawable cash = max(0, min(cash, equity - IM)). */
export function accountHealth(cashX18: bigint, positions: readonly ValuedPosition[]): AccountHealth {
  let unrealized = 0n;
  let initial = 0n;
  let maintenance = 0n;
  for (const p of positions) {
    unrealized += unrealizedPnlX18(p.sizeQty, p.openNotionalX18, p.markX18, p.multiplier);
    initial += requirementX18(abs(p.sizeQty), p.markX18, p.multiplier, p.imBps);
    maintenance += requirementX18(abs(p.sizeQty), p.markX18, p.multiplier, p.mmBps);
  }
  const equity = cashX18 + unrealized;
  let free = equity - initial;
  if (free > cashX18) free = cashX18;
  return {
    cashX18,
    unrealizedPnlX18: unrealized,
    equityX18: equity,
    initialMarginX18: initial,
    maintenanceMarginX18: maintenance,
    withdrawableX18: free > 0n ? free : 0n,
  };
}
