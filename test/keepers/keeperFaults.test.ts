/**
 * The keeper fault profile of RELIABILITY.md item 29, short version for `npm test` (the baseline is
 * `npm run bench:keepers`, bench/keepers.ts). Same scenario and faults (bench/lib/keeperScenario.ts): two
 * competing liquidator keepers as real child processes behind fault-injecting RPC proxies (30% of requests fail:
 * client timeouts, 429, 502, -32000, truncated bodies), an outage of the primary proxies, kill -9 of keeper
 * processes at random times, the base fee x10 within 5 blocks, blocks mined on a timer; but 60 accounts
 * instead of 1,000, a 10-second outage instead of 60, and 2 kills that land 3 to 13 s after the price round
 * instead of anywhere from the round on (so "detection within 1 block" measures live keepers here; the baseline
 * also kills keepers on the round itself), and a block every 2 seconds instead of every second. The test shares
 * a 2-core CI machine with the rest of the suite: there a keeper's first broadcast after the round took up to
 * 1.6 s (0.5 s in the baseline), which at 1-second blocks lands one block late, so the short profile gives each
 * block 2 s; the baseline keeps 1-second blocks. The scenario runs once; each criterion is one test.
 * The chain is restored to its state before the run (evm_snapshot / evm_revert).
 */
import { expect } from "chai";
import hre from "hardhat";
import { BASELINE_PROFILE, runKeeperScenario, summarise } from "../../bench/lib/keeperScenario";
import type { KeeperBenchProfile, KeeperBenchResult } from "../../bench/lib/keeperScenario";

const SHORT_PROFILE: KeeperBenchProfile = {
  ...BASELINE_PROFILE,
  accounts: 60,
  outageSec: 10,
  kills: 2,
  killStartSec: 3,
  killWindowSec: 10,
  graceBlocks: 0,
  tailBlocks: 3,
  blockIntervalMs: 2_000,
  seed: 7,
};

describe("Keeper faults (RELIABILITY item 29, short profile)", function () {
  this.timeout(300_000);
  let result: KeeperBenchResult;
  let snapshot: string;
  let failures = 0;

  before(async function () {
    // Latency criteria hold for the compiled contracts, not for solidity-coverage's instrumented copies (which
    // run several times slower): under coverage the profile is skipped, like the gas budgets.
    if ((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING) this.skip();
    snapshot = (await hre.network.provider.send("evm_snapshot", [])) as string;
    result = await runKeeperScenario(hre, SHORT_PROFILE);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") failures++;
  });

  after(async function () {
    if (result !== undefined && failures > 0) console.log(summarise(result));
    if (snapshot !== undefined) await hre.network.provider.send("evm_revert", [snapshot]);
  });

  it("KF-01: the -40% round makes 30% of the accounts liquidatable (accountHealth and the sdk math agree)", function () {
    expect(result.liquidatable, "liquidatable at the price update block").to.equal(result.liquidatablePlanned);
    expect(result.liquidatable).to.equal(Math.round(SHORT_PROFILE.accounts * SHORT_PROFILE.liquidatableShare));
    expect(result.liquidatableSetsAgree, "accountHealth and the sdk math name the same accounts").to.equal(true);
    expect(result.bankruptAtRound, "some are bankrupt (paid by the insurance fund)").to.be.greaterThan(0);
  });

  it("KF-02: at least 99% of the liquidatable accounts are liquidated within 10 blocks of the price update", function () {
    const detail = `${result.liquidatedWithin10Blocks}/${result.liquidatable} within 10 blocks; resolution latency ${JSON.stringify(result.resolutionLatencyBlocks)}`;
    expect(result.liquidatedWithin10BlocksShare, detail).to.be.at.least(0.99);
  });

  it("KF-03: every liquidatable account is liquidated within 50 blocks", function () {
    expect(result.unresolved, "accounts never liquidated").to.deep.equal([]);
    expect(result.liquidatedWithin50Blocks).to.equal(result.liquidatable);
  });

  it("KF-04: the first keeper liquidation is mined within 1 block of the price update", function () {
    const detail = JSON.stringify(result.detection);
    expect(result.detection.firstLatencyBlocks, detail).to.not.equal(null);
    expect(result.detection.firstLatencyBlocks!, detail).to.be.at.most(1);
  });

  it("KF-05: no duplicate liquidation is mined (none of an account that was no longer liquidatable)", function () {
    expect(result.liquidationEvents, "liquidations happened").to.be.greaterThan(0);
    expect(result.duplicates.events).to.deep.equal([]);
  });

  it("KF-06: no keeper process exits by itself; every kill -9 was delivered and the keeper restarted", function () {
    const crashes = result.exits
      .filter((exit) => exit.reason === "crash")
      .map((exit) => ({
        keeper: exit.keeper,
        start: exit.generation,
        code: exit.code,
        error: exit.logTail?.find((line) => /Error/.test(line))?.slice(0, 200),
      }));
    expect(crashes, "keeper exits not caused by the test").to.deep.equal([]);
    expect(
      result.kills.filter((kill) => kill.delivered),
      "kills that found a running keeper",
    ).to.have.length(SHORT_PROFILE.kills);
  });

  it("KF-07: no keeper transaction pays above the fee cap while the base fee rises x10 in 5 blocks", function () {
    expect(result.feeCap.peakBaseFeeGwei).to.be.closeTo(SHORT_PROFILE.baseFeeGwei * SHORT_PROFILE.baseFeeMultiplier, 1);
    expect(result.feeCap.violations).to.equal(0);
    expect(result.feeCap.maxMaxFeePerGasGwei).to.be.at.most(SHORT_PROFILE.maxFeeGwei);
  });

  it("KF-08: collateral is conserved (balance = sum of equity + insurance + fee pool) and the event view equals the chain", function () {
    expect(result.conservation.viewMatchesChain, "replayed cash and positions = cashOf/positionOf").to.equal(true);
    expect(result.conservation.holds, JSON.stringify(result.conservation)).to.equal(true);
    expect(result.conservation.holdsMarkFree, "sum of cash - sum of open notional + pools").to.equal(true);
  });
});
