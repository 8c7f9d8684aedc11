/**
 * Example dApp: a market maker on one series. It connects, deposits, quotes both sides around the index, watches
 * its own fills as they happen, and closes: cancels its quotes and flattens any position with a reduce-only market
 * order.
 *
 * Run against a local node:
 *   npx hardhat node                                  # terminal 1
 *   npm run deploy -- --network localhost             # terminal 2, then keep the reporter publishing:
 *   DEPLOYMENT_FILE=deployments/localhost.json npm run keeper:reporter
 *   npx ts-node examples/market-maker.ts              # FILLS=1 TIMEOUT_SEC=120 SERIES=AIT-2027-01 are optional
 */
import {
  MockERC20__factory,
  TokenpitClient,
  formatX18,
  type Deployment,
  type Fill,
  type OrderOutcome,
  type SeriesInfo,
} from "../sdk";
import { connectionFromEnv, walletFromEnv } from "./connect";

/** What the market maker does. */
export interface MarketMakerOptions {
  /** A client connected with the market maker's signer. */
  client: TokenpitClient;
  /** Symbol; default the first series that has not expired. */
  series?: string;
  /** Collateral to deposit, in tokens; default 20,000. */
  deposit?: string;
  /** Contracts per quote; default 2. */
  qty?: bigint;
  /** Distance of each quote from the index, in ticks; default 10. */
  spreadTicks?: bigint;
  /** Stop watching after this many fills; default 1. */
  fills?: number;
  /** Stop watching after this long; default 60 s. */
  timeoutMs?: number;
  /** Poll interval of the fill stream; default 1 s. */
  pollIntervalMs?: number;
  /** Where progress lines go; default console.log. */
  log?: (line: string) => void;
}

/** What happened. */
export interface MarketMakerReport {
  series: string;
  bid: OrderOutcome;
  ask: OrderOutcome;
  fills: Fill[];
  /** Position after closing, in contracts (0 when it could be flattened). */
  finalSizeQty: bigint;
}

/** Runs the market maker once: deposit, quote, watch fills, close. */
export async function runMarketMaker(options: MarketMakerOptions): Promise<MarketMakerReport> {
  const { client } = options;
  const log = options.log ?? console.log;
  const series = await pickSeries(client, options.series);
  const qty = options.qty ?? 2n;
  const spread = (options.spreadTicks ?? 10n) * series.tickSizeX18;

  const deposited = await client.deposit(options.deposit ?? "20000");
  log(`deposited ${formatX18(deposited.amountX18, 2)} USD (allowance by ${deposited.allowance})`);

  const index = await client.index(series.symbol);
  const mid = (index.priceX18 / series.tickSizeX18) * series.tickSizeX18;
  const me = (await client.connection.signerAddress())!;
  const fills: Fill[] = [];
  let onEnough: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => (onEnough = resolve));
  const subscription = await client.onFill(
    { account: me, series: series.symbol },
    (fill) => {
      fills.push(fill);
      const side = fill.maker === me ? (fill.takerSide === "buy" ? "sold" : "bought") : fill.takerSide;
      log(`fill: ${side} ${fill.qty} @ ${formatX18(fill.priceX18, 3)} (order ${fill.makerOrderId})`);
      if (fills.length >= (options.fills ?? 1)) onEnough();
    },
    { pollIntervalMs: options.pollIntervalMs },
  );

  const bid = await client.placeOrder({
    series: series.symbol,
    side: "buy",
    qty,
    price: mid - spread,
    type: "post-only",
  });
  const ask = await client.placeOrder({
    series: series.symbol,
    side: "sell",
    qty,
    price: mid + spread,
    type: "post-only",
  });
  log(
    `quoting ${series.symbol}: ${qty} @ ${formatX18(mid - spread, 3)} / ${qty} @ ${formatX18(mid + spread, 3)} ` +
      `(index ${formatX18(index.priceX18, 3)}), orders ${bid.orderId} and ${ask.orderId}`,
  );

  const timeout = new Promise<void>((resolve) => setTimeout(resolve, options.timeoutMs ?? 60_000).unref());
  await Promise.race([enough, timeout]);
  subscription.unsubscribe();

  const cancelled = await client.cancelAll(series.symbol);
  log(`cancelled ${cancelled.cancelledQty} contracts of quotes`);
  let position = (await client.positions()).find((p) => p.seriesId === series.seriesId)?.sizeQty ?? 0n;
  if (position !== 0n) {
    const close = await client.placeOrder({
      series: series.symbol,
      side: position > 0n ? "sell" : "buy",
      type: "market",
      qty: position > 0n ? position : -position,
      reduceOnly: true,
    });
    log(`closing ${position}: filled ${close.filledQty}, unfilled ${close.cancelledQty}`);
    position = (await client.positions()).find((p) => p.seriesId === series.seriesId)?.sizeQty ?? 0n;
  }
  log(`done: ${fills.length} fills, position ${position}`);
  return { series: series.symbol, bid, ask, fills, finalSizeQty: position };
}

/** The series named, or the first that has not expired. */
async function pickSeries(client: TokenpitClient, symbol: string | undefined): Promise<SeriesInfo> {
  if (symbol !== undefined) return client.seriesInfo(symbol);
  const chainNow = await client.connection.chainNow();
  const open = (await client.series()).find((s) => s.expiry > chainNow);
  if (open === undefined) throw new Error("no series is open for trading");
  return open;
}

/** Mints mock collateral to `address` when the deployment uses the mock token (local networks only). */
export async function faucetIfMock(client: TokenpitClient, deployment: Deployment, address: string): Promise<void> {
  if (!deployment.collateral.mock) return;
  const signer = client.connection.signer("faucet");
  const token = MockERC20__factory.connect(deployment.collateral.address, signer);
  await (await token.mint(address, 100_000n * 10n ** BigInt(deployment.collateral.decimals))).wait();
}

async function main(): Promise<void> {
  const { provider, deployment } = connectionFromEnv();
  const wallet = walletFromEnv(provider);
  const client = await TokenpitClient.connect(wallet, deployment);
  await faucetIfMock(client, deployment, wallet.address);
  await runMarketMaker({
    client,
    series: process.env.SERIES,
    fills: Number(process.env.FILLS ?? 1),
    timeoutMs: Number(process.env.TIMEOUT_SEC ?? 60) * 1_000,
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
