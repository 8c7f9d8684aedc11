/**
 * The start-up every clearinghouse keeper shares: validated configuration (environment only), the
 * failover RPC provider, the signing wallet with its one TxSender, the event indexer feeding a
 * ClearinghouseView, the status endpoint, and the loop with graceful shutdown.
 */
import "dotenv/config";
import { Wallet } from "ethers";
import { z } from "zod";
import { rawToX18 } from "../../sdk";
import { Clearinghouse__factory } from "../../typechain-types";
import type { Clearinghouse } from "../../typechain-types";
import { loadKeeperConfig, redact } from "../runtime/config";
import type { KeeperConfig } from "../runtime/config";
import { EventIndexer } from "../runtime/eventIndexer";
import { runKeeper } from "../runtime/keeperProcess";
import { FailoverRpcProvider } from "../runtime/rpc";
import { startStatusServer } from "../runtime/status";
import { TxSender, txSenderSettings } from "../runtime/txSender";
import { KeeperConfigError } from "./errors";
import { withRetry } from "./retry";
import { createLogger } from "./logger";
import type { Logger } from "./logger";
import { ClearinghouseView } from "./clearinghouseView";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");

/** Variables every clearinghouse keeper reads besides the runtime's own (see .env.example). */
export const clearinghouseKeeperSchema = z.object({
  KEEPER_CLEARINGHOUSE_ADDRESS: address,
  KEEPER_START_BLOCK: z.coerce.number().int().min(0).default(0),
  /** Deadline of one HTTP attempt to an RPC endpoint. */
  KEEPER_RPC_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(1_500),
  /** An attempt slower than this (or failed) also goes to the next endpoint; 0 turns hedging off. */
  KEEPER_RPC_HEDGE_MS: z.coerce.number().int().min(0).max(60_000).default(100),
});

/** Start-up reads retry with backoff over every endpoint for about a minute: a node outage must not stop a keeper. */
const STARTUP_RETRY = { attempts: 12, baseDelayMs: 250, maxDelayMs: 8_000 };

/** One `eth_chainId` request to `url`, abandoned after `timeoutMs`. */
async function probeChainId(url: string, timeoutMs: number): Promise<bigint> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`${redactUrl(url)} answered HTTP ${response.status}`);
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (typeof body.result !== "string") throw new Error(`${redactUrl(url)}: ${body.error?.message ?? "no result"}`);
  return BigInt(body.result);
}

/** Scheme, host and port of an RPC URL (its path and query may hold an API key). */
function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "an RPC endpoint";
  }
}

/**
 * The chain id, from whichever endpoint answers first: every endpoint is asked at once, each with the RPC
 * timeout, and the round is repeated with backoff while none answers (a keeper restarted during an outage of its
 * primary starts as soon as any endpoint is up).
 */
async function chainIdOf(urls: string[], timeoutMs: number, logger: Logger): Promise<bigint> {
  return withRetry(() => Promise.any(urls.map((url) => probeChainId(url, timeoutMs))), {
    ...STARTUP_RETRY,
    onRetry: (error) => {
      const reasons = error instanceof AggregateError ? error.errors.map(String) : [String(error)];
      logger.warn({ err: reasons }, "chain id not read yet; retrying");
    },
  });
}

/** Everything a keeper's tick works with. */
export interface KeeperStack {
  clearinghouse: Clearinghouse;
  view: ClearinghouseView;
  indexer: EventIndexer;
  sender: TxSender;
  logger: Logger;
}

/** A keeper's job: built from the stack and the configuration, one `tick` per poll. */
export interface KeeperJob {
  tick(): Promise<unknown>;
  /** Work waiting, for /metrics. */
  queueDepth(): number;
}

/**
 * Runs a keeper process: `npm run keeper:<name>`. Exits 2 with one message on a bad configuration.
 * @param schema The keeper's own variables (besides KEEPER_CLEARINGHOUSE_ADDRESS and KEEPER_START_BLOCK).
 */
export async function runClearinghouseKeeper<E extends z.ZodRawShape>(
  name: string,
  schema: z.ZodObject<E>,
  build: (stack: KeeperStack, config: KeeperConfig<E>) => KeeperJob,
): Promise<void> {
  let config: KeeperConfig<E & typeof clearinghouseKeeperSchema.shape>;
  try {
    config = loadKeeperConfig(clearinghouseKeeperSchema.merge(schema));
  } catch (error) {
    if (error instanceof KeeperConfigError) {
      console.error(`${name}: ${error.message} (see .env.example and docs/keepers.md)`);
      process.exit(2);
    }
    throw error;
  }
  // The merged schema guarantees these two fields; generic zod types cannot show it.
  const target = config.keeper as unknown as z.output<typeof clearinghouseKeeperSchema>;
  const logger = createLogger(name, config.logLevel);
  const chainId = config.chainId ?? (await chainIdOf(config.rpcUrls, target.KEEPER_RPC_TIMEOUT_MS, logger));
  if (config.deployment !== undefined && BigInt(config.deployment.chainId) !== chainId) {
    console.error(
      `${name}: DEPLOYMENT_FILE is for chain ${config.deployment.chainId}, the RPC serves chain ${chainId}`,
    );
    process.exit(2);
  }
  const provider = new FailoverRpcProvider({
    urls: config.rpcUrls,
    chainId,
    timeoutMs: target.KEEPER_RPC_TIMEOUT_MS,
    hedgeAfterMs: target.KEEPER_RPC_HEDGE_MS === 0 ? undefined : target.KEEPER_RPC_HEDGE_MS,
    // Retries move to another endpoint, so the first backoffs are short: a keeper races for the next block.
    attemptsPerRequest: 8,
    baseDelayMs: 25,
    maxDelayMs: 1_000,
    cooldownMs: 30_000,
    logger,
  });
  const wallet = new Wallet(config.privateKey, provider);
  const sender = new TxSender({ provider, signer: wallet, logger, ...txSenderSettings(config) });
  const clearinghouse = Clearinghouse__factory.connect(target.KEEPER_CLEARINGHOUSE_ADDRESS, provider);
  const decimals = await withRetry(() => clearinghouse.collateralDecimals(), STARTUP_RETRY);
  // One raw token unit in 18 decimals: the view's scale for the raw amounts of `Withdrawn`.
  const view = new ClearinghouseView(rawToX18(1n, Number(decimals)));
  const indexer = new EventIndexer({
    provider,
    contracts: [{ address: target.KEEPER_CLEARINGHOUSE_ADDRESS, iface: clearinghouse.interface }],
    handler: view,
    startBlock: target.KEEPER_START_BLOCK,
    confirmations: config.confirmations,
    logger,
  });
  const job = build({ clearinghouse, view, indexer, sender, logger }, config);
  logger.info({ config: redact(config), signer: wallet.address, chainId: chainId.toString() }, `${name} started`);
  const loop = runKeeper({
    name,
    logger,
    tick: async () => {
      await job.tick();
    },
    pollIntervalMs: config.pollIntervalMs,
    onStop: () => sender.waitIdle(),
  });
  if (config.statusPort !== 0) {
    const server = await startStatusServer({
      keeper: name,
      port: config.statusPort,
      host: config.statusHost,
      collect: async () => ({
        headLagBlocks: Math.max(0, (await provider.getBlockNumber()) - indexer.indexedThroughBlock),
        queueDepth: job.queueDepth(),
        inFlightTxs: sender.inFlight(),
        signerBalanceWei: await provider.getBalance(wallet.address),
        lastTickAgeMs: loop.stats().lastTickAgeMs,
        counters: { ...sender.counters(), ...provider.stats().failuresByKind },
      }),
    });
    void loop.done.then(() => server.close());
  }
  const report = await loop.done;
  logger.info(report, `${name} stopped`);
  provider.destroy();
}
