/** `book`: the depth of both sides of a series (lens `depth`), best bid and ask, and the spread. */
import type { CliContext, CommonArgs } from "./context";
import { emit, seriesNamed } from "./context";
import { WAD, notionalX18 } from "../../sdk";
import { parseWhole, usd, usdRounded } from "./units";

export interface BookArgs extends CommonArgs {
  series?: string;
  levels?: string;
}

/** Levels per side shown unless `--levels` says otherwise. */
const DEFAULT_LEVELS = 10n;

/** One side's levels with notional (qty x price x multiplier) and running totals. */
function sideOf(levels: { tick: bigint; priceX18: bigint; qty: bigint; orderCount: bigint }[], multiplier: bigint) {
  let totalQty = 0n;
  let totalNotionalX18 = 0n;
  return levels.map((level) => {
    const levelNotionalX18 = notionalX18(level.qty, level.priceX18, multiplier);
    totalQty += level.qty;
    totalNotionalX18 += levelNotionalX18;
    return {
      tick: level.tick,
      priceX18: level.priceX18,
      qty: level.qty,
      orders: level.orderCount,
      notionalX18: levelNotionalX18,
      totalQty,
      totalNotionalX18,
    };
  });
}

/** Prints the book of `--series`, `--levels` deep (default 10). */
export async function bookTask(ctx: CliContext, args: BookArgs): Promise<void> {
  const listed = seriesNamed(ctx, args.series);
  const levels = args.levels === undefined ? DEFAULT_LEVELS : parseWhole(args.levels, "--levels");
  const spec = await ctx.clearinghouse.seriesSpec(listed.id);
  const [[bidLevels, askLevels], [bid, ask]] = await Promise.all([
    ctx.lens.depth(listed.id, levels),
    ctx.lens.bestBidAsk(listed.id),
  ]);
  const bids = sideOf(bidLevels, spec.contractMultiplier);
  const asks = sideOf(askLevels, spec.contractMultiplier);
  const spreadX18 = bid.exists && ask.exists ? ask.priceX18 - bid.priceX18 : null;
  const midX18 = bid.exists && ask.exists ? (ask.priceX18 + bid.priceX18) / 2n : null;
  // Spread in basis points of the mid, 18 decimals, rounded down.
  const spreadBpsX18 =
    spreadX18 !== null && midX18 !== null && midX18 > 0n ? (spreadX18 * 10_000n * WAD) / midX18 : null;

  const row = (l: (typeof bids)[number]) =>
    `${usd(l.priceX18, 3).padStart(10)} ${String(l.qty).padStart(8)} ${usd(l.notionalX18).padStart(14)} ${String(l.orders).padStart(6)}`;
  const lines = [`${listed.symbol} book (${levels} levels per side; notional in USD)`];
  lines.push("asks       price      qty       notional orders");
  for (const l of [...asks].reverse()) lines.push(`     ${row(l)}`);
  lines.push(
    spreadX18 === null
      ? "     ---- no spread (a side is empty) ----"
      : `     ---- spread ${usd(spreadX18, 3)} USD (${usdRounded(spreadBpsX18 ?? 0n)} bps) ----`,
  );
  for (const l of bids) lines.push(`     ${row(l)}`);
  lines.push("bids");
  lines.push(
    `best bid ${bid.exists ? `${usd(bid.priceX18, 3)} x ${bid.qty}` : "none"}, best ask ${ask.exists ? `${usd(ask.priceX18, 3)} x ${ask.qty}` : "none"}`,
  );
  emit(
    ctx,
    {
      series: listed.symbol,
      seriesId: listed.id,
      bestBid: bid.exists ? { tick: bid.tick, priceX18: bid.priceX18, qty: bid.qty, orders: bid.orderCount } : null,
      bestAsk: ask.exists ? { tick: ask.tick, priceX18: ask.priceX18, qty: ask.qty, orders: ask.orderCount } : null,
      spreadX18,
      spreadBpsX18,
      bids,
      asks,
    },
    lines,
  );
}
