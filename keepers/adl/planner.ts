/**
 * Auto-deleveraging plans, worked out locally: which accounts are bankrupt beyond the insurance fund,
 * and for each, the legs of `deleverage` ranked off chain. Counterparties are opposite positions in
 * profit at the mark, most profit per contract first, then the highest leverage; a counterparty whose
 * equity could not absorb its share of the loss is left out. No RPC calls.
 */
import { abs, notionalX18, unrealizedPnlX18 } from "../../sdk";
import type { AccountView, SeriesView } from "../shared/clearinghouseView";
import { marginOf } from "../liquidator/planner";

/** One leg of a deleveraging, as `deleverage` takes it. */
export interface DeleverageLegPlan {
  counterparty: string;
  seriesId: bigint;
  qty: bigint;
  /** The counterparty's PnL realized by closing `qty` at the mark (what the haircut comes out of). */
  profitX18: bigint;
}

/** A deleveraging the ADL keeper wants to send. */
export interface DeleveragePlan {
  account: AccountView;
  deficitX18: bigint;
  /** Deficit minus the insurance fund: what the counterparties pay. */
  shortfallX18: bigint;
  legs: DeleverageLegPlan[];
  /** Sum of the legs' profit; the contract needs it >= shortfall. */
  profitX18: bigint;
}

interface RankedCounterparty {
  account: AccountView;
  sizeQty: bigint;
  profitPerContractX18: bigint;
  equityX18: bigint;
  notionalX18: bigint;
}

/** Accounts with negative equity larger than the insurance fund, and their ranked legs (when they cover). */
export function deleveragePlans(
  accounts: readonly AccountView[],
  series: ReadonlyMap<bigint, SeriesView>,
  marks: ReadonlyMap<bigint, bigint>,
  insuranceFundX18: bigint,
  nowSec: bigint,
): DeleveragePlan[] {
  const plans: DeleveragePlan[] = [];
  for (const account of accounts) {
    const margin = marginOf(account, series, marks);
    if (margin === undefined || margin.equityX18 >= 0n || -margin.equityX18 <= insuranceFundX18) continue;
    const legs: DeleverageLegPlan[] = [];
    let coverable = true;
    for (const [seriesId, position] of account.positions) {
      const spec = series.get(seriesId)!;
      if (nowSec >= spec.expiry) coverable = false;
      const ranked = rankCounterparties(accounts, account, seriesId, position.sizeQty, series, marks);
      let remaining = abs(position.sizeQty);
      for (const counterparty of ranked) {
        if (remaining === 0n) break;
        const qty = abs(counterparty.sizeQty) < remaining ? abs(counterparty.sizeQty) : remaining;
        const profitX18 = counterparty.profitPerContractX18 * qty;
        legs.push({ counterparty: counterparty.account.address, seriesId, qty, profitX18 });
        remaining -= qty;
      }
      if (remaining !== 0n) coverable = false;
    }
    const deficitX18 = -margin.equityX18;
    const profitX18 = legs.reduce((sum, leg) => sum + leg.profitX18, 0n);
    const shortfallX18 = deficitX18 - insuranceFundX18;
    if (coverable && profitX18 >= shortfallX18) plans.push({ account, deficitX18, shortfallX18, legs, profitX18 });
  }
  return plans.sort((a, b) => (a.deficitX18 > b.deficitX18 ? -1 : a.deficitX18 < b.deficitX18 ? 1 : 0));
}

/** Opposite positions in `seriesId` in profit at the mark, most profit per contract, then leverage, first. */
function rankCounterparties(
  accounts: readonly AccountView[],
  bankrupt: AccountView,
  seriesId: bigint,
  bankruptSizeQty: bigint,
  series: ReadonlyMap<bigint, SeriesView>,
  marks: ReadonlyMap<bigint, bigint>,
): RankedCounterparty[] {
  const spec = series.get(seriesId)!;
  const markX18 = marks.get(seriesId)!;
  const ranked: RankedCounterparty[] = [];
  for (const account of accounts) {
    if (account === bankrupt) continue;
    const position = account.positions.get(seriesId);
    if (position === undefined || position.sizeQty > 0n === bankruptSizeQty > 0n) continue;
    const pnlX18 = unrealizedPnlX18(position.sizeQty, position.openNotionalX18, markX18, spec.multiplier);
    const margin = marginOf(account, series, marks);
    // Profit, and equity that covers the profit (a haircut never exceeds it): the counterparty stays >= 0.
    if (pnlX18 <= 0n || margin === undefined || margin.equityX18 < pnlX18) continue;
    // Per contract, rounded down: the plan never overstates what a leg's close realizes.
    const profitPerContractX18 = pnlX18 / abs(position.sizeQty);
    ranked.push({
      account,
      sizeQty: position.sizeQty,
      profitPerContractX18,
      equityX18: margin.equityX18,
      notionalX18: notionalX18(abs(position.sizeQty), markX18, spec.multiplier),
    });
  }
  return ranked.sort((a, b) => {
    if (a.profitPerContractX18 !== b.profitPerContractX18)
      return a.profitPerContractX18 > b.profitPerContractX18 ? -1 : 1;
    // Leverage notional / equity, compared by cross-multiplying.
    const left = a.notionalX18 * b.equityX18;
    const right = b.notionalX18 * a.equityX18;
    return left === right ? 0 : left > right ? -1 : 1;
  });
}
