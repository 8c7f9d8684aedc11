/** `series`: every listed series with its status, mark, open interest, margins and fees. */
import { decodeBytes32String } from "ethers";
import type { CliContext, CommonArgs } from "./context";
import { chainNow, emit, knownInterfaces } from "./context";
import { describeFailure } from "./revertReason";
import { bpsText, isoDate, usd } from "./units";

/** Settlement status as `settlementOf` reports it. */
const SETTLEMENT = ["none", "settlement proposed", "settlement challenged", "final"] as const;

/** The status of a series: trading, expired (not yet proposed), settlement proposed / challenged, or final. */
export function seriesStatus(settlementStatus: bigint, expiry: bigint, nowSec: bigint): string {
  if (settlementStatus !== 0n) return SETTLEMENT[Number(settlementStatus)];
  return nowSec >= expiry ? "expired" : "trading";
}

/** The mark price of a series, or the reason it cannot be read (stale index...). */
export async function markOf(ctx: CliContext, seriesId: number): Promise<{ markX18?: bigint; markError?: string }> {
  try {
    return { markX18: await ctx.clearinghouse.markPrice(seriesId) };
  } catch (error) {
    return { markError: describeFailure(error, knownInterfaces()) };
  }
}

/** Lists every series of the deployment, as the chain reports it now. */
export async function seriesTask(ctx: CliContext, _args: CommonArgs): Promise<void> {
  const ch = ctx.clearinghouse;
  const nowSec = await chainNow(ctx);
  const rows = [];
  for (const listed of ctx.deployment.series) {
    const [spec, risk, market, settlement] = await Promise.all([
      ch.seriesSpec(listed.id),
      ch.riskParams(listed.id),
      ch.marketState(listed.id),
      ch.settlementOf(listed.id),
    ]);
    const { markX18, markError } = await markOf(ctx, listed.id);
    rows.push({
      id: listed.id,
      symbol: decodeBytes32String(spec.symbol),
      feed: listed.feed,
      expiry: isoDate(spec.expiry),
      expirySec: spec.expiry,
      status: seriesStatus(settlement.status, spec.expiry, nowSec),
      settlementPriceX18: settlement.status === 0n ? null : settlement.priceX18,
      markX18: markX18 ?? null,
      markError: markError ?? null,
      openInterestQty: market.openInterestQty,
      imBps: risk.imBps,
      mmBps: risk.mmBps,
      makerFeeBps: risk.makerFeeBps,
      takerFeeBps: risk.takerFeeBps,
      tickSizeX18: spec.tickSizeX18,
      contractMultiplier: spec.contractMultiplier,
      minQty: spec.minQty,
    });
  }
  const lines = [
    "id  symbol        feed  expiry                status               mark      OI (contracts)  IM / MM       fees maker / taker",
  ];
  for (const r of rows) {
    lines.push(
      [
        String(r.id).padEnd(3),
        r.symbol.padEnd(13),
        r.feed.padEnd(5),
        r.expiry.padEnd(21),
        r.status.padEnd(20),
        (r.markX18 === null ? "n/a" : usd(r.markX18, 3)).padStart(8),
        String(r.openInterestQty).padStart(16),
        ` ${bpsText(r.imBps)} / ${bpsText(r.mmBps)}`.padEnd(14),
        `${r.makerFeeBps} / ${r.takerFeeBps} bps`,
      ].join(" "),
    );
  }
  emit(ctx, { nowSec, series: rows }, lines);
}
