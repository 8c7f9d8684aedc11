/**
 * Entry point of the oracle reporter process: `npm run reporter` or `npm run keeper:reporter` (configuration in
 * .env, see docs/oracle-reporter.md). Runs on the shared keeper runtime: the failover RPC provider over RPC_URLS,
 * one TxSender for the transmitter key (PRIVATE_KEY), the keeper loop (a pass every REPORTER_POLL_SEC; SIGINT or
 * SIGTERM stops it after the current pass and the transactions in flight; an unhandled rejection exits non-zero)
 * and, with STATUS_PORT set, the /health and /metrics endpoint. Exits 2 with one message on a bad configuration.
 */
import "dotenv/config";
import { Wallet } from "ethers";
import type { Provider } from "ethers";
import { IndexOracle__factory } from "../../typechain-types";
import { redact } from "../runtime/config";
import { runKeeper } from "../runtime/keeperProcess";
import { FailoverRpcProvider } from "../runtime/rpc";
import type { FailoverRpcOptions } from "../runtime/rpc";
import { startStatusServer } from "../runtime/status";
import { TxSender, txSenderSettings } from "../runtime/txSender";
import { DataSourceError, KeeperConfigError } from "../shared/errors";
import { createLogger } from "../shared/logger";
import type { Logger } from "../shared/logger";
import { loadReporterConfig } from "./config";
import type { ReporterConfig } from "./config";
import { OracleReporter } from "./reporter";
import { RoundStats } from "./roundStats";
import { BundledReplaySource, SnapshotSource } from "./source";
import type { IndexSource } from "./source";

const NAME = "oracle-reporter";

/** Retry and failover settings of the RPC provider (as the clearinghouse keepers use). */
const RPC_SETTINGS: Omit<FailoverRpcOptions, "urls" | "chainId" | "logger"> = {
  timeoutMs: 5_000,
  attemptsPerRequest: 6,
  baseDelayMs: 200,
  maxDelayMs: 3_000,
  cooldownMs: 30_000,
};

/** Longest a healthy pass may take: each feed may wait out fee bumps and the sender's stuck deadline. */
const MAX_PASS_DURATION_MS = 600_000;

function loadConfigOrExit(): ReporterConfig {
  try {
    return loadReporterConfig();
  } catch (error) {
    if (!(error instanceof KeeperConfigError)) throw error;
    console.error(`${NAME}: ${error.message} (see .env.example and docs/oracle-reporter.md)`);
    return process.exit(2);
  }
}

/** The chain id the endpoints serve, asked with retries and failover (when CHAIN_ID is not set). */
async function detectChainId(urls: string[], logger: Logger): Promise<bigint> {
  // The provider needs a chain id up front and never probes it; this one only sends eth_chainId.
  const probe = new FailoverRpcProvider({ urls, chainId: 1n, ...RPC_SETTINGS, logger });
  try {
    return BigInt((await probe.send("eth_chainId", [])) as string);
  } finally {
    probe.destroy();
  }
}

/** Timestamp of the latest block, seconds. */
async function chainTimeSec(provider: Provider): Promise<bigint> {
  const head = await provider.getBlock("latest");
  if (head === null) throw new DataSourceError("the provider returned no latest block");
  return BigInt(head.timestamp);
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(NAME, config.logLevel);
  if (config.deprecatedDryRunAliasSet) {
    logger.warn("REPORTER_DRY_RUN is deprecated: use DRY_RUN (either one set to true means dry run)");
  }
  const chainId = config.chainId ?? (await detectChainId(config.rpcUrls, logger));
  const provider = new FailoverRpcProvider({ urls: config.rpcUrls, chainId, ...RPC_SETTINGS, logger });
  const transmitter = new Wallet(config.privateKey, provider);
  const sender = new TxSender({ provider, signer: transmitter, logger, ...txSenderSettings(config) });
  const signers = config.signerKeys.map((key) => new Wallet(key));
  const source: IndexSource =
    config.source === "bundled"
      ? await BundledReplaySource.load(await chainTimeSec(provider))
      : new SnapshotSource(config.source);
  const reporter = new OracleReporter({
    oracle: IndexOracle__factory.connect(config.oracleAddress, provider),
    provider,
    signers,
    source,
    sender,
    logger,
    settings: {
      feeds: config.feeds,
      heartbeatSec: { AIT: config.heartbeatSec, GPUH: config.heartbeatSec },
      deviationBps: config.deviationBps,
      roundAlignSec: config.roundAlignSec,
    },
  });
  const { signerKeys: _signerKeys, ...loggable } = config;
  logger.info(
    {
      config: redact(loggable),
      transmitter: transmitter.address,
      signers: signers.map((signer) => signer.address),
      chainId: chainId.toString(),
    },
    "oracle reporter configured",
  );

  const rounds = new RoundStats();
  const loop = runKeeper({
    name: NAME,
    logger,
    tick: async () => rounds.record(await reporter.tick()),
    pollIntervalMs: config.passIntervalMs,
    onStop: () => sender.waitIdle(),
  });
  const server =
    config.statusPort === 0
      ? undefined
      : await startStatusServer({
          keeper: NAME,
          port: config.statusPort,
          host: config.statusHost,
          maxTickAgeMs: config.passIntervalMs + MAX_PASS_DURATION_MS,
          startupGraceMs: MAX_PASS_DURATION_MS,
          collect: async () => ({
            // No event indexer: every pass reads the chain head afresh.
            headLagBlocks: 0,
            queueDepth: rounds.refusedInLastPass(),
            inFlightTxs: sender.inFlight(),
            signerBalanceWei: await provider.getBalance(transmitter.address),
            lastTickAgeMs: loop.stats().lastTickAgeMs,
            counters: { ...rounds.counters(), ...sender.counters(), ...provider.stats().failuresByKind },
          }),
        });
  const report = await loop.done;
  await server?.close();
  provider.destroy();
  if (!report.clean) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
