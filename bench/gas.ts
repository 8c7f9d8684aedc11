/**
 * Gas benchmark of the price layer and the clearinghouse (bench/clearinghouseGas.ts).
 * Writes bench/gas.json: operation name -> gas.
 * Transactions: the receipt's gasUsed (21,000 base included). Views: estimateGas.
 * State: feeds that have run for 30 days of hourly rounds. The main figures use feeds whose
 * history slots were pre-written with `prewarmHistory` (what the deployment does, and what every
 * feed reaches anyway once its 4,096-slot ring has wrapped); `...freshSlot` figures use feeds
 * that were not pre-written, so each round also pays the zero-to-non-zero store of a new slot.
 * `deploy.system.*`: the whole deployment with the local parameters (bench/deploymentGas.ts).
 * Run with `npm run bench`. Numbers are deterministic for a given compiler and code.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { ethers, network } from "hardhat";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { IndexFeedAggregator__factory, IndexOracle__factory } from "../typechain-types";
import type { IndexOracle } from "../typechain-types";
import { feedIdOf, parseX18, signReport } from "../sdk";
import { benchClearinghouse } from "./clearinghouseGas";
import { benchLiquidation } from "./liquidationGas";
import { benchDeployment } from "./deploymentGas";

const HOUR = 3_600;
const DAY = 86_400;
const PARAMS = { maxAgeSec: DAY, jumpGuardBps: 1_000, confirmDelaySec: HOUR, minIntervalSec: 900 };

function wallets(count: number): Wallet[] {
  return Array.from({ length: count }, (_, i) => new Wallet(keccak256(toUtf8Bytes(`bench-reporter-${i}`))));
}

async function latestTime(): Promise<number> {
  return (await ethers.provider.getBlock("latest"))!.timestamp;
}

async function submitAt(
  oracle: IndexOracle,
  feedId: string,
  signers: Wallet[],
  observedAt: number,
  priceX18: bigint,
): Promise<bigint> {
  const domain = { chainId: (await ethers.provider.getNetwork()).chainId, oracle: await oracle.getAddress() };
  const reports = await Promise.all(
    signers.map((signer, i) =>
      signReport(signer, domain, {
        feedId,
        // Distinct prices per reporter, as in real rounds.
        priceX18: priceX18 + BigInt(i) * 10n ** 12n,
        observedAt: BigInt(observedAt),
        methodologyVersion: 1,
        sourceHash: keccak256(toUtf8Bytes(`bench-source-${observedAt}-${i}`)),
      }),
    ),
  );
  await network.provider.send("evm_setNextBlockTimestamp", [observedAt]);
  const receipt = await (await oracle.submit(feedId, reports)).wait();
  return receipt!.gasUsed;
}

async function main(): Promise<void> {
  if (network.name !== "hardhat") throw new Error("run the benchmark on the in-process hardhat network");
  const [deployer] = await ethers.getSigners();
  const reporters = wallets(7);
  const oracle = await new IndexOracle__factory(deployer).deploy(deployer.address, deployer.address);
  const feed5 = feedIdOf("AIT");
  const feed7 = feedIdOf("GPUH");
  const cold5 = feedIdOf("AIT-COLD");
  const cold7 = feedIdOf("GPUH-COLD");
  const gas: Record<string, number> = {};
  const feeds: [string, number, number][] = [
    [feed5, 5, 3],
    [feed7, 7, 5],
    [cold5, 5, 3],
    [cold7, 7, 5],
  ];
  for (const [feedId, reporterCount, quorum] of feeds) {
    await oracle.createFeed(
      feedId,
      PARAMS,
      1,
      reporters.slice(0, reporterCount).map((r) => r.address),
      quorum,
    );
  }
  const prewarm = await (await oracle.prewarmHistory(feed5, 400)).wait();
  gas["oracle.prewarmHistory.perSlot"] = Math.round(Number(prewarm!.gasUsed - 21_000n) / 400);
  for (const feed of [feed5, feed7, feed7]) await oracle.prewarmHistory(feed, 400);

  // 30 days of hourly rounds on every feed, from a fixed start time so that every signature, and
  // with it every calldata byte, is the same on every run: the gas figures are reproducible.
  const FIXED_START = 1_900_000_000;
  if ((await latestTime()) >= FIXED_START) throw new Error("the fixed benchmark start time has passed; move it");
  let t = FIXED_START;
  for (let hour = 0; hour < 30 * 24; hour++) {
    const drift = BigInt(hour % 17) * 10n ** 15n;
    await submitAt(oracle, feed5, reporters.slice(0, 3), t, parseX18("4.0465") + drift);
    await submitAt(oracle, feed7, reporters.slice(0, 5), t + 1, parseX18("2.4") + drift);
    await submitAt(oracle, cold5, reporters.slice(0, 3), t + 2, parseX18("4.0465") + drift);
    await submitAt(oracle, cold7, reporters.slice(0, 5), t + 3, parseX18("2.4") + drift);
    t += HOUR;
  }

  gas["oracle.submit.3of5"] = Number(await submitAt(oracle, feed5, reporters.slice(0, 3), t, parseX18("4.05")));
  gas["oracle.submit.5of7"] = Number(await submitAt(oracle, feed7, reporters.slice(0, 5), t + 1, parseX18("2.41")));
  gas["oracle.submit.3of5.freshSlot"] = Number(
    await submitAt(oracle, cold5, reporters.slice(0, 3), t + 2, parseX18("4.05")),
  );
  gas["oracle.submit.5of7.freshSlot"] = Number(
    await submitAt(oracle, cold7, reporters.slice(0, 5), t + 3, parseX18("2.41")),
  );
  gas["oracle.submit.7of7"] = Number(await submitAt(oracle, feed7, reporters, t + 1 + HOUR, parseX18("2.42")));
  t += 2 * HOUR;

  // A held jump, then its confirmation (two history writes).
  gas["oracle.submit.5of7.holdJump"] = Number(
    await submitAt(oracle, feed7, reporters.slice(0, 5), t + 1, parseX18("3.2")),
  );
  t += HOUR;
  gas["oracle.submit.5of7.confirmJump"] = Number(
    await submitAt(oracle, feed7, reporters.slice(0, 5), t + 1, parseX18("3.21")),
  );

  const now = t + 1;
  await network.provider.send("evm_setNextBlockTimestamp", [now + 10]);
  await network.provider.send("evm_mine", []);
  gas["oracle.twap.30d"] = Number(await oracle.twap.estimateGas(feed5, now - 30 * DAY, now));
  gas["oracle.twap.7d"] = Number(await oracle.twap.estimateGas(feed5, now - 7 * DAY, now));
  gas["oracle.latestPrice"] = Number(await oracle.latestPrice.estimateGas(feed5));
  const aggregator = await new IndexFeedAggregator__factory(deployer).deploy(await oracle.getAddress(), feed5, "AIT");
  gas["aggregator.latestRoundData"] = Number(await aggregator.latestRoundData.estimateGas());

  Object.assign(
    gas,
    await benchClearinghouse(
      oracle,
      feed5,
      (observedAt, priceX18) => submitAt(oracle, feed5, reporters.slice(0, 3), observedAt, priceX18),
      now + 20,
    ),
  );

  Object.assign(
    gas,
    await benchLiquidation(
      oracle,
      feed7,
      (observedAt, priceX18) => submitAt(oracle, feed7, reporters.slice(0, 5), observedAt, priceX18),
      (await latestTime()) + 60,
    ),
  );

  Object.assign(gas, await benchDeployment());

  const out = path.join(__dirname, "gas.json");
  const sorted = Object.fromEntries(Object.entries(gas).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(out, `${JSON.stringify(sorted, null, 2)}\n`);
  console.table(sorted);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
