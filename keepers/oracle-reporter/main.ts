/**
 * Entry point of the oracle reporter process: `npm run reporter` (configuration in .env).
 * Polls every REPORTER_POLL_SEC, stops cleanly on SIGINT or SIGTERM after the current pass.
 */
import "dotenv/config";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { IndexOracle__factory } from "../../typechain-types";
import { KeeperConfigError } from "../shared/errors";
import { createLogger } from "../shared/logger";
import { sleep } from "../shared/retry";
import { loadReporterConfig } from "./config";
import { OracleReporter } from "./reporter";
import { BundledReplaySource, SnapshotSource } from "./source";
import type { IndexSource } from "./source";

async function main(): Promise<void> {
  let config;
  try {
    config = loadReporterConfig();
  } catch (error) {
    if (error instanceof KeeperConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger("oracle-reporter", config.logLevel);
  process.on("unhandledRejection", (reason) => {
    logger.fatal({ err: String(reason) }, "unhandled rejection; exiting");
    process.exit(1);
  });
  // No response cache: a cached nonce or block would be stale one transaction later.
  const provider = new JsonRpcProvider(config.rpcUrl, undefined, { cacheTimeout: -1 });
  // One nonce owner for the transmitter key; reset from the chain after a failed send.
  const transmitter = new NonceManager(new Wallet(config.transmitterKey, provider));
  const oracle = IndexOracle__factory.connect(config.oracleAddress, transmitter);
  const head = await provider.getBlock("latest");
  const source: IndexSource =
    config.source === "bundled"
      ? await BundledReplaySource.load(BigInt(head!.timestamp))
      : new SnapshotSource(config.source);
  const reporter = new OracleReporter({
    oracle,
    provider,
    signers: config.signerKeys.map((key) => new Wallet(key)),
    source,
    logger,
    onSendFailed: () => transmitter.reset(),
    settings: {
      feeds: config.feeds,
      heartbeatSec: { AIT: config.heartbeatSec, GPUH: config.heartbeatSec },
      deviationBps: config.deviationBps,
      roundAlignSec: config.roundAlignSec,
      dryRun: config.dryRun,
      sendAttempts: 5,
    },
  });
  let stopping = false;
  const stop = (signal: string) => {
    logger.info({ signal }, "stopping after the current pass");
    stopping = true;
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  logger.info(
    {
      oracle: config.oracleAddress,
      feeds: config.feeds,
      signers: config.signerKeys.length,
      source: config.source,
      dryRun: config.dryRun,
    },
    "oracle reporter started",
  );
  while (!stopping) {
    try {
      await reporter.tick();
    } catch (error) {
      logger.error({ err: (error as Error).message }, "pass failed; retrying next poll");
    }
    for (let waited = 0; waited < config.pollSec && !stopping; waited++) await sleep(1_000);
  }
  logger.info("oracle reporter stopped");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
