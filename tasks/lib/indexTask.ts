/** `index`: the latest index of a feed, its 1-hour and 24-hour TWAP, staleness, and the marks of its series. */
import type { CliContext, CommonArgs } from "./context";
import { chainNow, emit, knownInterfaces, seriesNamed } from "./context";
import { CliError } from "./cliError";
import { describeFailure } from "./revertReason";
import { markOf } from "./seriesTask";
import { isoDate, usd } from "./units";

export interface IndexArgs extends CommonArgs {
  series?: string;
  feed?: string;
}

/** TWAP windows shown, seconds. */
const WINDOWS: [string, bigint][] = [
  ["1h", 3_600n],
  ["24h", 86_400n],
];

/** Prints the index of `--feed`, or of the feed of `--series` with that series' mark. */
export async function indexTask(ctx: CliContext, args: IndexArgs): Promise<void> {
  if ((args.series === undefined) === (args.feed === undefined)) {
    throw new CliError("pass exactly one of --series and --feed");
  }
  const feed = args.feed ?? seriesNamed(ctx, args.series).feed;
  const feedId = Object.entries(ctx.deployment.feeds).find(([symbol]) => symbol.toLowerCase() === feed.toLowerCase());
  if (feedId === undefined) {
    throw new CliError(`unknown feed "${feed}" (feeds: ${Object.keys(ctx.deployment.feeds).join(", ")})`);
  }
  const [feedSymbol, id] = feedId;
  const nowSec = await chainNow(ctx);
  const [priceX18, observedAt, roundId, isStale] = await ctx.oracle.peekLatest(id);
  if (roundId === 0n) throw new CliError(`feed ${feedSymbol} has no index round yet`);

  const twaps: Record<string, { twapX18: bigint | null; rounds: bigint | null; error: string | null }> = {};
  for (const [label, windowSec] of WINDOWS) {
    try {
      const [twapX18, rounds] = await ctx.oracle.twapWithInfo(id, nowSec - windowSec, nowSec);
      twaps[label] = { twapX18, rounds, error: null };
    } catch (error) {
      twaps[label] = { twapX18: null, rounds: null, error: describeFailure(error, knownInterfaces()) };
    }
  }
  const listed =
    args.series === undefined
      ? ctx.deployment.series.filter((s) => s.feed === feedSymbol)
      : [seriesNamed(ctx, args.series)];
  const marks = [];
  for (const s of listed) {
    const { markX18, markError } = await markOf(ctx, s.id);
    marks.push({ id: s.id, symbol: s.symbol, markX18: markX18 ?? null, error: markError ?? null });
  }

  const lines = [
    `${feedSymbol} index ${usd(priceX18, 3)} USD, observed ${isoDate(observedAt)} (round ${roundId}, ${nowSec - observedAt} s ago)${isStale ? ", STALE" : ""}`,
  ];
  for (const [label] of WINDOWS) {
    const t = twaps[label];
    lines.push(
      t.twapX18 === null
        ? `TWAP ${label}: n/a (${t.error})`
        : `TWAP ${label}: ${usd(t.twapX18, 3)} USD (${t.rounds} rounds)`,
    );
  }
  for (const m of marks)
    lines.push(`mark ${m.symbol}: ${m.markX18 === null ? `n/a (${m.error})` : `${usd(m.markX18, 3)} USD`}`);
  emit(
    ctx,
    {
      feed: feedSymbol,
      feedId: id,
      priceX18,
      observedAt,
      observedAtIso: isoDate(observedAt),
      roundId,
      stale: isStale,
      twap: twaps,
      marks,
    },
    lines,
  );
}
