/**
 * The demo market, start to finish (`npm run demo`): deploy the whole system; fund a market maker, traders (three of
 * them over-leveraged), the keeper operator and the insurance fund; publish the index from the bundled sample path
 * through the reporter keeper while the market maker quotes and the traders trade the front AIT and GPUH months;
 * a sharp AIT drop that the reporter publishes (held by the jump guard, then confirmed); the liquidator keeper
 * liquidates, the insurance fund pays a bankrupt account's deficit (the ADL keeper stands by); expiry; the settler
 * keeper proposes the settlement prices, waits out the dispute window and settles every account; every account
 * withdraws everything. Returns the raw material of the report (scripts/lib/demo/report.ts).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Clearinghouse__factory, IndexOracle__factory, MockERC20__factory } from "../../../typechain-types";
import type { Clearinghouse } from "../../../typechain-types";
import { DEPLOY_DEFAULTS, localDeployParams } from "../../../config/deploy";
import type { Deployment } from "../../../sdk/deployment";
import { rawToX18, x18ToRawDown } from "../../../sdk";
import { deploySystem } from "../deploy/deploySystem";
import { fund, leveragedQty, marketOrder, requote } from "./market";
import type { Participant } from "./market";
import { startDemoKeepers } from "./keepers";
import type { Progress } from "./progress";

const HOUR = 3_600;
const DAY = 86_400;
const UNIT = 10n ** 6n;

export interface DemoOptions {
  hre: HardhatRuntimeEnvironment;
  /** Where the demo's deployment file and journal go. */
  deploymentFile: string;
  journalFile: string;
  /** Hours of chain time between reporter passes (1 in the full demo; more in the short test version). */
  passHours: number;
  /** The AIT drop, bps. */
  shockBps: bigint;
  progress: Progress;
}

/** What the report is built from. */
export interface DemoOutcome {
  deployment: Deployment;
  clearinghouse: Clearinghouse;
  /** Every account of the demo by name (market maker, traders, keeper operator, insurance contributor). */
  participants: Participant[];
  /** The front AIT and GPUH series traded and settled. */
  frontSeries: bigint[];
  passes: number;
  rounds: number;
  keeperActions: { liquidationBatches: number; deleveragings: number; finalized: number; settleBatches: number };
  /** Chain time of the shock round, and of the expiry. */
  shockAtSec: number;
  expirySec: number;
}

async function chainNow(hre: HardhatRuntimeEnvironment): Promise<number> {
  return (await hre.ethers.provider.getBlock("latest"))!.timestamp;
}

async function advance(hre: HardhatRuntimeEnvironment, seconds: number): Promise<void> {
  await hre.network.provider.send("evm_increaseTime", [seconds]);
  await hre.network.provider.send("evm_mine", []);
}

export async function runDemoStory(options: DemoOptions): Promise<DemoOutcome> {
  const { hre, progress } = options;
  const signers = await hre.ethers.getSigners();
  if (signers.length < 10) throw new Error(`the demo needs 10 unlocked accounts, the network has ${signers.length}`);

  // 1. Deploy.
  progress.phase("deploy");
  const params = localDeployParams(
    signers.slice(0, 3).map((s) => s.address),
    DEPLOY_DEFAULTS,
  );
  const { deployment, counters } = await deploySystem({
    hre,
    deployer: signers[0],
    params,
    deploymentFile: options.deploymentFile,
    journalFile: options.journalFile,
  });
  const ch = Clearinghouse__factory.connect(deployment.contracts.clearinghouse, signers[0]);
  const oracle = IndexOracle__factory.connect(deployment.contracts.oracle, signers[0]);
  const usdc = MockERC20__factory.connect(deployment.collateral.address, signers[0]);
  const front = ["AIT", "GPUH"].map((feed) => deployment.series.find((s) => s.feed === feed)!);
  const frontIds = front.map((s) => BigInt(s.id));
  progress.done(
    `${counters.sent} transactions: timelock, oracle (2 feeds, 5 reporters, quorum 3), clearinghouse, lens; ` +
      `${deployment.series.length} series listed; roles handed to the timelock`,
  );

  // 2. Start a day before the front month's averaging window, so the whole window is reported.
  const expirySec = front[0].expiry;
  const windowStartSec = expirySec - Number((await ch.seriesSpec(frontIds[0])).averagingWindowSec);
  const startSec = Math.max(await chainNow(hre), windowStartSec - DAY);
  if (startSec > (await chainNow(hre))) await hre.network.provider.send("evm_setNextBlockTimestamp", [startSec]);
  await hre.network.provider.send("evm_mine", []);
  const shockAtSec = windowStartSec + 10 * DAY;
  const keepers = await startDemoKeepers({
    hre,
    clearinghouse: ch,
    oracle,
    startBlock: deployment.startBlock,
    pathStartSec: BigInt(startSec),
    shockAtSec: BigInt(shockAtSec),
    shockBps: options.shockBps,
  });
  let rounds = 0;
  let passes = 0;
  const reportPass = async () => {
    passes += 1;
    for (const outcome of await keepers.reporter.tick()) {
      if (outcome.action === "submitted") rounds += 1;
      if (outcome.action === "refused") throw new Error(`${outcome.feed} round refused: ${outcome.reason}`);
    }
  };
  await reportPass();

  // 3. Accounts.
  progress.phase("accounts");
  const named = (name: string, index: number): Participant => ({
    name,
    signer: signers[index],
    address: signers[index].address,
  });
  const maker = named("market maker", 3);
  const traders = [named("trader-1", 4), named("trader-2", 5)];
  // Over-leveraged longs of the front AIT month: a 28% fall leaves the first bankrupt, the second partially
  // liquidated, the third (small) closed whole.
  const leveraged: [Participant, bigint, bigint][] = [
    [named("trader-3 (97% of max leverage)", 6), 6_300n, 97n],
    [named("trader-4 (75% of max leverage)", 7), 10_000n, 75n],
    [named("trader-5 (small, 80%)", 8), 2_500n, 80n],
  ];
  const treasury = named("insurance contributor", 9);
  const operator: Participant = {
    name: "keeper operator",
    signer: keepers.operator,
    address: keepers.operator.address,
  };
  await fund(ch, usdc, maker, 1_000_000n * UNIT);
  for (const trader of traders) await fund(ch, usdc, trader, 100_000n * UNIT);
  for (const [trader, depositUsd] of leveraged) await fund(ch, usdc, trader, depositUsd * UNIT);
  await fund(ch, usdc, operator, 200_000n * UNIT);
  await (await usdc.mint(treasury.address, 5_000n * UNIT)).wait();
  await (await usdc.connect(treasury.signer).approve(deployment.contracts.clearinghouse, 5_000n * UNIT)).wait();
  await (await ch.connect(treasury.signer).contributeInsurance(5_000n * UNIT)).wait();
  progress.done("7 accounts funded and deposited; 5,000 USDC contributed to the insurance fund");

  // 4. The market until expiry: hourly reporter passes, daily quotes and trades, the liquidator after each pass.
  progress.phase("market");
  const keeperActions = { liquidationBatches: 0, deleveragings: 0, finalized: 0, settleBatches: 0 };
  let day = 0;
  let leveragedIn = false;
  const lastTradingSec = expirySec - DAY;
  while ((await chainNow(hre)) + options.passHours * HOUR < expirySec) {
    const now = await chainNow(hre);
    if (now >= day * DAY + startSec && now < lastTradingSec) {
      for (const [i, id] of frontIds.entries()) {
        const [indexX18] = await oracle.peekLatest(deployment.feeds[front[i].feed]);
        await requote(ch, maker, id, indexX18, 20n);
      }
      // Two traders take liquidity every day: trader-1 buys AIT and sells GPUH, trader-2 the reverse, then
      // they swap sides, so positions open and close and PnL is realized along the way.
      const flip = day % 4 < 2;
      await marketOrder(ch, traders[0], frontIds[0], flip, 3n);
      await marketOrder(ch, traders[1], frontIds[1], flip, 4n);
      await marketOrder(ch, traders[1], frontIds[0], !flip, 2n);
      // The over-leveraged longs buy on the last trading day before the shock.
      if (!leveragedIn && now + DAY >= shockAtSec) {
        for (const [trader, depositUsd, sharePct] of leveraged) {
          const qty = await leveragedQty(
            ch,
            frontIds[0],
            rawToX18(depositUsd * UNIT, deployment.collateral.decimals),
            sharePct,
          );
          await marketOrder(ch, trader, frontIds[0], true, qty);
        }
        leveragedIn = true;
      }
      day += 1;
    }
    await reportPass();
    const report = await keepers.liquidator.tick();
    keeperActions.liquidationBatches += report.batchesSent;
    await keepers.liquidator.drain();
    if (report.liquidatable > 0) keeperActions.deleveragings += (await keepers.adl.tick()).plans;
    progress.update(
      `day ${Math.floor((now - startSec) / DAY)}: ${rounds} oracle rounds, ${keeperActions.liquidationBatches} liquidation batches` +
        (now >= shockAtSec ? " (after the AIT shock)" : ""),
    );
    await advance(hre, options.passHours * HOUR);
  }
  progress.done(`${passes} reporter passes, ${rounds} rounds, ${day} trading days`);

  // 5. Expiry and settlement: the settler proposes, waits out the dispute window, settles every account.
  progress.phase("settlement");
  await hre.network.provider.send("evm_setNextBlockTimestamp", [Math.max(expirySec, (await chainNow(hre)) + 1)]);
  await hre.network.provider.send("evm_mine", []);
  for (let attempt = 0; attempt < 200; attempt++) {
    await reportPass();
    for (const action of await keepers.settler.tick()) {
      if (action.outcome !== "mined") continue;
      if (action.action === "finalize") keeperActions.finalized += 1;
      else keeperActions.settleBatches += 1;
    }
    const open = await Promise.all(frontIds.map(async (id) => (await ch.marketState(id)).openInterestQty));
    progress.update(`${keeperActions.finalized} settlement prices proposed, open interest ${open.join(" / ")}`);
    if (open.every((qty) => qty === 0n) && keeperActions.finalized === frontIds.length) break;
    await advance(hre, options.passHours * HOUR);
  }
  progress.done(`${keeperActions.finalized} series final, ${keeperActions.settleBatches} settlement batches`);

  // 6. Everyone withdraws everything.
  progress.phase("withdrawals");
  const participants = [maker, ...traders, ...leveraged.map(([p]) => p), operator];
  let withdrawn = 0;
  for (const who of participants) {
    const withdrawableRaw = x18ToRawDown(
      (await ch.accountHealth(who.address)).withdrawableX18,
      deployment.collateral.decimals,
    );
    if (withdrawableRaw === 0n) continue;
    await (await ch.connect(who.signer).withdraw(who.address, withdrawableRaw, who.address)).wait();
    withdrawn += 1;
  }
  progress.done(`${withdrawn} accounts withdrew their collateral`);
  return {
    deployment,
    clearinghouse: ch,
    participants,
    frontSeries: frontIds,
    passes,
    rounds,
    keeperActions,
    shockAtSec,
    expirySec,
  };
}
