/**
 * Example dApp: a read-only market monitor. With a Provider only (no key), it prints every series' index, mark,
 * best bid and ask and depth, then streams fills, index rounds and liquidations until stopped.
 *
 * Run against a local node (see examples/market-maker.ts for the set-up):
 *   npx ts-node examples/market-monitor.ts            # WATCH_SEC=60 is optional; 0 prints the snapshot only
 */
import { TokenpitClient, formatX18, type Fill, type IndexUpdate, type LiquidationEvent } from "../sdk";
import { connectionFromEnv } from "./connect";

/** One series as the monitor shows it. */
export interface SeriesSnapshot {
  symbol: string;
  expiry: bigint;
  indexX18: bigint;
  indexStale: boolean;
  markX18: bigint;
  bestBidX18?: bigint;
  bestAskX18?: bigint;
  /** Contracts resting on each side within 5 levels. */
  bidDepthQty: bigint;
  askDepthQty: bigint;
}

/** Everything the monitor saw. */
export interface MonitorReport {
  snapshot: SeriesSnapshot[];
  fills: Fill[];
  indexUpdates: IndexUpdate[];
  liquidations: LiquidationEvent[];
}

/** Options of the monitor. */
export interface MonitorOptions {
  /** A client; a Provider is enough. */
  client: TokenpitClient;
  /** How long to stream after the snapshot; default 60 s (0: snapshot only). */
  watchMs?: number;
  /** Stop early once this many events arrived. */
  stopAfterEvents?: number;
  pollIntervalMs?: number;
  log?: (line: string) => void;
}

/** Prints the snapshot, then streams events for `watchMs`. */
export async function runMonitor(options: MonitorOptions): Promise<MonitorReport> {
  const { client } = options;
  const log = options.log ?? console.log;
  const now = await client.connection.chainNow();
  const snapshot: SeriesSnapshot[] = [];
  for (const series of await client.series()) {
    if (series.expiry <= now) continue;
    const [index, markX18, top, depth] = await Promise.all([
      client.index(series.symbol),
      client.mark(series.symbol),
      client.bestBidAsk(series.symbol),
      client.depth(series.symbol, 5),
    ]);
    const row: SeriesSnapshot = {
      symbol: series.symbol,
      expiry: series.expiry,
      indexX18: index.priceX18,
      indexStale: index.isStale,
      markX18,
      bestBidX18: top.bid?.priceX18,
      bestAskX18: top.ask?.priceX18,
      bidDepthQty: depth.bids.reduce((sum, l) => sum + l.qty, 0n),
      askDepthQty: depth.asks.reduce((sum, l) => sum + l.qty, 0n),
    };
    snapshot.push(row);
    const price = (x?: bigint) => (x === undefined ? "-" : formatX18(x, 3));
    log(
      `${row.symbol}: index ${price(row.indexX18)}${row.indexStale ? " (stale)" : ""}, mark ${price(markX18)}, ` +
        `bid ${price(row.bestBidX18)} (${row.bidDepthQty}) / ask ${price(row.bestAskX18)} (${row.askDepthQty})`,
    );
  }

  const report: MonitorReport = { snapshot, fills: [], indexUpdates: [], liquidations: [] };
  const watchMs = options.watchMs ?? 60_000;
  if (watchMs === 0) return report;
  let onDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (onDone = resolve));
  const counted = () => {
    const events = report.fills.length + report.indexUpdates.length + report.liquidations.length;
    if (options.stopAfterEvents !== undefined && events >= options.stopAfterEvents) onDone();
  };
  const streamOptions = { pollIntervalMs: options.pollIntervalMs };
  const subscriptions = [
    await client.onFill(
      {},
      (fill) => {
        report.fills.push(fill);
        log(`fill series ${fill.seriesId}: ${fill.takerSide} ${fill.qty} @ ${formatX18(fill.priceX18, 3)}`);
        counted();
      },
      streamOptions,
    ),
    await client.onLiquidation(
      {},
      (event) => {
        report.liquidations.push(event);
        log(`${event.type}: ${event.account}`);
        counted();
      },
      streamOptions,
    ),
  ];
  const feeds = new Set<string>();
  for (const row of snapshot) {
    const series = await client.seriesInfo(row.symbol);
    if (feeds.has(series.feed)) continue;
    feeds.add(series.feed);
    subscriptions.push(
      await client.onIndexUpdate(
        row.symbol,
        (update) => {
          report.indexUpdates.push(update);
          log(`index ${update.feed}: ${formatX18(update.priceX18, 4)} (round ${update.roundId})`);
          counted();
        },
        streamOptions,
      ),
    );
  }
  await Promise.race([done, new Promise<void>((resolve) => setTimeout(resolve, watchMs).unref())]);
  for (const subscription of subscriptions) subscription.unsubscribe();
  return report;
}

async function main(): Promise<void> {
  const { provider, deployment } = connectionFromEnv();
  const client = await TokenpitClient.connect(provider, deployment);
  await runMonitor({ client, watchMs: Number(process.env.WATCH_SEC ?? 60) * 1_000 });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
