/**
 * `npm run demo`: the price layer end to end on the in-process Hardhat network, no set-up, then a
 * first look at the clearinghouse (scripts/lib/demoClearinghouse.ts).
 * Deploys the oracle behind a timelock, then runs the oracle reporter over the bundled six-week
 * sample path (hourly passes of chain time) and prints the index, the accepted rounds, the held
 * and confirmed jump, and 30-day TWAPs checked against a recomputation from the events.
 */
import { ethers, network } from "hardhat";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { FEEDS, LOCAL_QUORUM, LOCAL_REPORTER_COUNT } from "../config/feeds";
import { deployOracle } from "./lib/deployOracle";
import { OracleReporter } from "../keepers/oracle-reporter/reporter";
import { BundledReplaySource } from "../keepers/oracle-reporter/source";
import type { FeedSymbol } from "../keepers/oracle-reporter/source";
import { createLogger } from "../keepers/shared/logger";
import { TxSender } from "../keepers/runtime/txSender";
import { runClearinghouseDemo } from "./lib/demoClearinghouse";
import { runLiquidationDemo } from "./lib/demoLiquidation";
import { ReferencePriceHistory, feedIdOf, formatX18 } from "../sdk";

const HOUR = 3_600n;
const DAY = 86_400n;

function usd(valueX18: bigint): string {
  return formatX18(valueX18, 4);
}

async function chainNow(): Promise<bigint> {
  return BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
}

async function main(): Promise<void> {
  if (network.name !== "hardhat") throw new Error("the demo runs on the in-process hardhat network (no --network)");
  const [deployer, governor, marketMaker, traderA, traderB] = await ethers.getSigners();
  // Demo reporter identities; a real deployment uses keys held by independent operators.
  const reporterKeys = Array.from({ length: LOCAL_REPORTER_COUNT }, (_, i) =>
    keccak256(toUtf8Bytes(`demo-reporter-${i}`)),
  );
  const reporters = reporterKeys.map((key) => new Wallet(key));

  console.log("== Tokenpit price layer demo ==");
  const { oracle, timelock, aggregators } = await deployOracle({
    deployer,
    reporters: reporters.map((r) => r.address),
    quorum: LOCAL_QUORUM,
    timelockDelaySec: 2 * 86_400,
    governors: [governor.address],
    prewarmSlots: 1_200,
  });
  console.log(`oracle ${await oracle.getAddress()}  timelock ${await timelock.getAddress()}`);
  console.log(
    `feeds: ${FEEDS.map((f) => `${f.symbol} (guard ${f.params.jumpGuardBps / 100}%, max age ${f.params.maxAgeSec / 3600} h)`).join(", ")}`,
  );
  console.log(
    `reporters: ${LOCAL_REPORTER_COUNT}, quorum ${LOCAL_QUORUM}; every oracle role now held by the timelock only\n`,
  );

  // The reporter's transmitter: a key of its own, since Hardhat's accounts cannot sign raw transactions.
  const transmitter = new Wallet(keccak256(toUtf8Bytes("demo-transmitter")), ethers.provider);
  await (await deployer.sendTransaction({ to: transmitter.address, value: ethers.parseEther("10") })).wait();
  const sender = new TxSender({
    provider: ethers.provider,
    signer: transmitter,
    maxFeePerGasWei: ethers.parseUnits("500", "gwei"),
    pollIntervalMs: 1,
  });

  const start = await chainNow();
  const source = await BundledReplaySource.load(start);
  const reporter = new OracleReporter({
    oracle,
    provider: ethers.provider,
    signers: reporters.slice(0, LOCAL_QUORUM + 1),
    source,
    sender,
    logger: createLogger("oracle-reporter", "silent"),
    settings: {
      feeds: ["AIT", "GPUH"],
      heartbeatSec: { AIT: BigInt(FEEDS[0].heartbeatSec), GPUH: BigInt(FEEDS[1].heartbeatSec) },
      deviationBps: 50n,
      roundAlignSec: 60n,
    },
  });

  const models: Record<FeedSymbol, ReferencePriceHistory> = {
    AIT: new ReferencePriceHistory(),
    GPUH: new ReferencePriceHistory(),
  };
  const counts: Record<FeedSymbol, Record<string, number>> = { AIT: {}, GPUH: {} };
  const daily: string[] = [];
  const hours = 42 * 24;
  for (let hour = 0; hour <= hours; hour++) {
    const outcomes = await reporter.tick();
    for (const outcome of outcomes) {
      counts[outcome.feed][outcome.action] = (counts[outcome.feed][outcome.action] ?? 0) + 1;
      if (outcome.action === "refused") console.log(`  ! ${outcome.feed} round refused: ${outcome.reason}`);
      if (outcome.events?.includes("RoundHeld")) {
        console.log(
          `  hour ${hour}: ${outcome.feed} index ${usd(outcome.indexX18!)} moved more than the guard: round HELD`,
        );
      }
      if (outcome.events?.includes("JumpConfirmed")) {
        console.log(`  hour ${hour}: ${outcome.feed} later round at ${usd(outcome.indexX18!)} CONFIRMED the held jump`);
      }
    }
    if (hour % 168 === 0) {
      const [ait] = await oracle.peekLatest(feedIdOf("AIT"));
      const [gpuh] = await oracle.peekLatest(feedIdOf("GPUH"));
      daily.push(
        `  day ${String(hour / 24).padStart(2)}: AIT ${usd(ait)} USD/1M tokens   GPUH ${usd(gpuh)} USD/GPU-hour`,
      );
    }
    await network.provider.send("evm_increaseTime", [Number(HOUR)]);
    await network.provider.send("evm_mine", []);
  }
  console.log("\nIndex each week (latest accepted round):");
  console.log(daily.join("\n"));

  // Rebuild each feed's history from events alone, as an outside observer would.
  for (const feed of ["AIT", "GPUH"] as FeedSymbol[]) {
    const events = await oracle.queryFilter(oracle.filters.RoundAccepted(feedIdOf(feed)));
    for (const event of events)
      models[feed].record({ observedAt: event.args.observedAt, priceX18: event.args.priceX18 });
  }
  const now = await chainNow();
  console.log("\nRounds and 30-day TWAP (on chain, and recomputed from RoundAccepted events):");
  for (const feed of ["AIT", "GPUH"] as FeedSymbol[]) {
    const feedId = feedIdOf(feed);
    const to = now;
    const from = to - 30n * DAY;
    const [twapX18, roundsInWindow] = await oracle.twapWithInfo(feedId, from, to);
    const reference = models[feed].twap(from, to);
    const state = await oracle.feedState(feedId);
    const [, answer] = await aggregators[feed].latestRoundData();
    console.log(
      `  ${feed.padEnd(4)} rounds accepted ${state.roundCount} (passes: ${JSON.stringify(counts[feed])}); ` +
        `30-day TWAP ${usd(twapX18)} over ${roundsInWindow} rounds; model ${usd(reference)} ` +
        `${twapX18 === reference ? "(exact match)" : "(MISMATCH)"}; Chainlink view ${usd(answer)}`,
    );
    if (twapX18 !== reference) process.exitCode = 1;
  }
  console.log(`\nreplayed ${hours / 24} days of the bundled sample path (data/path/sample-path.json)`);
  const book = await runClearinghouseDemo(oracle, deployer, marketMaker, [traderA, traderB]);
  if (!book.conserved) process.exitCode = 1;
  const leveraged = (await ethers.getSigners()).slice(5, 9);
  const liquidationsConserved = await runLiquidationDemo({
    clearinghouse: book.clearinghouse,
    usdc: book.usdc,
    oracle,
    reporters,
    quorum: LOCAL_QUORUM,
    admin: deployer,
    marketMaker,
    traders: leveraged,
    deployBlock: book.deployBlock,
  });
  if (!liquidationsConserved) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
