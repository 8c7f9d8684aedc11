/**
 * What the liquidator should do now, worked out locally: each account's equity and maintenance margin
 * at the current marks (with the `sdk/core` math of the contracts), the accounts below maintenance
 * ordered most urgent first, and the liquidation requests for a batch. No RPC calls.
 */
import { abs, isLiquidatable, notionalX18, requirementX18, unrealizedPnlX18 } from "../../sdk";
import type { AccountView, SeriesView } from "../shared/clearinghouseView";

/** An account's margin at the marks. */
export interface AccountMargin {
  account: AccountView;
  equityX18: bigint;
  maintenanceMarginX18: bigint;
}

/** A liquidation the keeper wants to carry out. */
export interface LiquidationCandidate extends AccountMargin {
  /** The series of the position to take over: the largest notional among tradeable series. */
  seriesId: bigint;
  sizeQty: bigint;
  /** maintenance margin - equity (how far below). */
  shortfallX18: bigint;
}

/** Equity and maintenance margin of `account` at `marks` (series id -> mark), as `accountHealth` computes them. */
export function marginOf(
  account: AccountView,
  series: ReadonlyMap<bigint, SeriesView>,
  marks: ReadonlyMap<bigint, bigint>,
): AccountMargin | undefined {
  let equityX18 = account.cashX18;
  let maintenanceMarginX18 = 0n;
  for (const [seriesId, position] of account.positions) {
    const spec = series.get(seriesId);
    const markX18 = marks.get(seriesId);
    if (spec === undefined || markX18 === undefined) return undefined;
    equityX18 += unrealizedPnlX18(position.sizeQty, position.openNotionalX18, markX18, spec.multiplier);
    maintenanceMarginX18 += requirementX18(abs(position.sizeQty), markX18, spec.multiplier, spec.mmBps);
  }
  return { account, equityX18, maintenanceMarginX18 };
}

/**
 * Accounts below maintenance margin with a position in a series still trading at `nowSec`, most urgent
 * first: the lowest margin ratio (equity / maintenance), then the largest shortfall. `exclude` (the keeper's
 * own account) is never a candidate.
 */
export function liquidationCandidates(
  accounts: Iterable<AccountView>,
  series: ReadonlyMap<bigint, SeriesView>,
  marks: ReadonlyMap<bigint, bigint>,
  nowSec: bigint,
  exclude: string,
): LiquidationCandidate[] {
  const candidates: LiquidationCandidate[] = [];
  for (const account of accounts) {
    if (account.address.toLowerCase() === exclude.toLowerCase() || account.positions.size === 0) continue;
    const margin = marginOf(account, series, marks);
    if (margin === undefined || !isLiquidatable(margin.equityX18, margin.maintenanceMarginX18)) continue;
    let best: { seriesId: bigint; sizeQty: bigint; notional: bigint } | undefined;
    for (const [seriesId, position] of account.positions) {
      const spec = series.get(seriesId)!;
      if (nowSec >= spec.expiry) continue;
      const notional = notionalX18(abs(position.sizeQty), marks.get(seriesId)!, spec.multiplier);
      if (best === undefined || notional > best.notional) best = { seriesId, sizeQty: position.sizeQty, notional };
    }
    if (best === undefined) continue;
    candidates.push({
      ...margin,
      seriesId: best.seriesId,
      sizeQty: best.sizeQty,
      shortfallX18: margin.maintenanceMarginX18 - margin.equityX18,
    });
  }
  return candidates.sort(byUrgency);
}

/** Lower margin ratio first (compared exactly by cross-multiplying), then larger shortfall. */
function byUrgency(a: LiquidationCandidate, b: LiquidationCandidate): number {
  const left = a.equityX18 * b.maintenanceMarginX18;
  const right = b.equityX18 * a.maintenanceMarginX18;
  if (left !== right) return left < right ? -1 : 1;
  if (a.shortfallX18 !== b.shortfallX18) return a.shortfallX18 > b.shortfallX18 ? -1 : 1;
  return 0;
}

/** The idempotency key of a liquidation: the same account, series and position is never sent twice at once. */
export function intentKeyOf(candidate: LiquidationCandidate): string {
  return `liquidate:${candidate.account.address.toLowerCase()}:${candidate.seriesId}:${candidate.sizeQty}`;
}
