/**
 * The operations the system campaign adds to the order book's: oracle submissions through signed reports
 * (refused ones, and rounds where a minority of reporters is far off), risk-parameter changes through the
 * timelock, expiry, the settlement proposal, the guardian's challenge, the governance price, and settling
 * accounts one by one and in batches. Each is one step checked against the model like every other operation.
 */
import { expect } from "chai";
import fc from "fast-check";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { ZeroHash, keccak256, toUtf8Bytes } from "ethers";
import type { SettlementOracleData } from "../../../sdk";
import type { TokenpitTimelock } from "../../../typechain-types";
import { AIT, GPUH } from "../../fixtures/clearinghouse";
import { signRound } from "../../fixtures/oracle";
import { replacer } from "../../model/ClearinghouseModel";
import { DAY, GAS_LIMIT, HOUR, accounts, callEnv, count, nextTime, step, transact } from "./run";
import type { Run, Signer } from "./run";
import { movedPrice, participants, publishIndex, warp } from "./actions";
import { RISK_PRESETS, weighted } from "./randomOps";

/** The timelock that holds the market admin role in the system campaign, and its delay. */
export interface Governance {
  timelock: TokenpitTimelock;
  delaySec: bigint;
}

/** What the system operations add to a run. */
interface SystemState {
  governance: Governance;
  /** Risk changes scheduled on the timelock and not yet executed, oldest first. */
  scheduled: { preset: keyof typeof RISK_PRESETS; seriesId: bigint; salt: string; readyAt: bigint }[];
  salts: number;
}

const systemStates = new WeakMap<Run, SystemState>();

/** Attaches the timelock to a run (before its first system operation). */
export function attachGovernance(r: Run, governance: Governance): void {
  systemStates.set(r, { governance, scheduled: [], salts: 0 });
}

function systemOf(r: Run): SystemState {
  const state = systemStates.get(r);
  if (state === undefined) throw new Error("harness: the run has no governance attached");
  return state;
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

export type BadRoundMode = "tooFew" | "unauthorized" | "fromFuture" | "wrongFeed" | "replayed" | "duplicateSigner";

export type SystemOp =
  | { kind: "expire"; offsetSec: bigint; feedRounds: number; moveBps: bigint }
  | { kind: "warpLong"; gap: bigint }
  | { kind: "finalize"; sender: number; gap: bigint }
  | { kind: "challenge"; byGuardian: boolean; gap: bigint }
  | { kind: "govern"; factorBps: bigint; gap: bigint }
  | { kind: "settleOne"; index: number; gap: bigint }
  | { kind: "settleMany"; picks: number[]; gap: bigint }
  | { kind: "badRound"; mode: BadRoundMode; gap: bigint }
  | { kind: "outlierRound"; outliers: 1 | 2; high: boolean; moveBps: bigint; gap: bigint }
  | { kind: "scheduleRisk"; preset: keyof typeof RISK_PRESETS; gap: bigint }
  | { kind: "executeRisk"; gap: bigint };

/** What the oracle says about the series' averaging window now (the clock model's rounds). */
export function settlementData(r: Run): SettlementOracleData {
  const clock = r.clock;
  const latest = clock.latestRound();
  const twap = clock.oracleTwap(clock.windowStart, clock.spec.expiry);
  return {
    latest: { indexX18: latest.priceX18, observedAt: latest.observedAt },
    // The clearinghouse passes the oracle's revert data on as bytes: any value matches.
    windowTwap: twap.ok
      ? {
          ok: true,
          twapX18: twap.value.twapX18,
          roundsInWindow: twap.value.roundsInWindow,
          version: clock.spec.methodologyVersion,
        }
      : { ok: false, error: anyValue },
  };
}

/** Hours before expiry at which the reporters publish the rounds that keep the feed alive into settlement. */
const FEED_ROUND_HOURS_BEFORE_EXPIRY = [20n, 14n, 8n, 2n];

/**
 * Crosses expiry: first `feedRounds` rounds in the last day before it (with none, or too few, the settlement
 * data is stale or short and only governance can settle), then the warp; from then on operations may run at
 * any time (the horizon moves 120 days on).
 */
async function expire(r: Run, op: Extract<SystemOp, { kind: "expire" }>): Promise<void> {
  const expiry = r.clock.spec.expiry;
  for (const hours of FEED_ROUND_HOURS_BEFORE_EXPIRY.slice(0, op.feedRounds)) {
    const at = expiry - hours * HOUR;
    if (at < r.clock.now + r.clock.spec.feedMinIntervalSec) continue;
    await publishIndex(r, movedPrice(r, op.moveBps, 0n), at, " (feed before expiry)");
  }
  const offsetSec = op.offsetSec;
  const target = r.clock.spec.expiry + offsetSec;
  const at = target > r.clock.now ? target : r.clock.now + 1n;
  r.horizon = r.clock.spec.expiry + 120n * DAY;
  await step(r, `t=${at} expire (expiry + ${at - r.clock.spec.expiry}s)`, async () => {
    await time.increaseTo(at);
    r.clock.advanceTo(at);
    r.mayChange = new Set();
    r.touchedOrderIds = new Set();
  });
}

async function finalize(r: Run, sender: Signer, at: bigint): Promise<void> {
  await step(r, `t=${at} finalizeSettlement by ${sender.address.slice(0, 8)}`, async (label) => {
    r.clock.advanceTo(at);
    const expected = r.book.finalizeSettlement(callEnv(r, sender), r.seriesId, settlementData(r));
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(sender).finalizeSettlement(r.seriesId, { gasLimit: GAS_LIMIT }),
      [],
    );
  });
}

async function challenge(r: Run, byGuardian: boolean, at: bigint): Promise<void> {
  const sender = byGuardian ? r.guardian : r.traders[0];
  await step(r, `t=${at} challengeSettlement by ${byGuardian ? "the guardian" : "alice"}`, async (label) => {
    r.clock.advanceTo(at);
    const send = () => r.ch.connect(sender).challengeSettlement(r.seriesId, { gasLimit: GAS_LIMIT });
    if (!byGuardian) {
      // Not the guardian: refused by the role check before any rule.
      await time.setNextBlockTimestamp(at);
      count(r, "challengeSettlement: AccessControlUnauthorizedAccount");
      await expect(send())
        .to.be.revertedWithCustomError(r.ch, "AccessControlUnauthorizedAccount")
        .withArgs(sender.address, await r.ch.GUARDIAN_ROLE());
      r.mayChange = new Set();
      r.touchedOrderIds = new Set();
      return;
    }
    await transact(r, label, at, r.book.challengeSettlement(callEnv(r, sender), r.seriesId), send, []);
  });
}

async function govern(r: Run, factorBps: bigint, at: bigint): Promise<void> {
  const priceX18 = (r.clock.latestRound().priceX18 * factorBps) / 10_000n;
  await step(r, `t=${at} setSettlementPriceByGovernance ${priceX18} (${factorBps} bps of the index)`, async (label) => {
    r.clock.advanceTo(at);
    const expected = r.book.setSettlementPriceByGovernance(
      callEnv(r, r.admin),
      r.seriesId,
      priceX18,
      settlementData(r),
    );
    const send = () =>
      r.ch.connect(r.admin).setSettlementPriceByGovernance(r.seriesId, priceX18, { gasLimit: GAS_LIMIT });
    await transact(r, label, at, expected, send, []);
  });
}

async function settleOne(r: Run, account: string, at: bigint): Promise<void> {
  const sender = r.traders[1];
  await step(r, `t=${at} settleAccount ${account.slice(0, 8)}`, async (label) => {
    r.clock.advanceTo(at);
    const expected = r.book.settleAccount(callEnv(r, sender), r.seriesId, account);
    const send = () => r.ch.connect(sender).settleAccount(r.seriesId, account, { gasLimit: GAS_LIMIT });
    await transact(r, label, at, expected, send, [account]);
  });
}

async function settleMany(r: Run, list: string[], at: bigint): Promise<void> {
  const sender = r.operator;
  await step(r, `t=${at} settleAccounts [${list.map((a) => a.slice(0, 8)).join(",")}]`, async (label) => {
    r.clock.advanceTo(at);
    const expected = r.book.settleAccounts(callEnv(r, sender), r.seriesId, list);
    const send = () => r.ch.connect(sender).settleAccounts(r.seriesId, list, { gasLimit: GAS_LIMIT });
    await transact(r, label, at, expected, send, list);
  });
}

/** A submission the oracle refuses, with the error it must refuse it with; nothing changes. */
async function badRound(r: Run, mode: BadRoundMode, gap: bigint): Promise<void> {
  const at = nextTime(r, gap, r.clock.spec.feedMinIntervalSec);
  const last = r.clock.latestRound();
  const price = last.priceX18;
  const reporters = r.reporters;
  await step(r, `t=${at} oracle submission refused (${mode})`, async () => {
    if (at - 1n > r.clock.now) await time.increaseTo(at - 1n);
    r.clock.advanceTo(at);
    let signers = reporters.slice(0, 3);
    let prices = [price, price, price];
    let feedId = AIT;
    let observedAt = at;
    let error: string;
    if (mode === "tooFew") {
      signers = reporters.slice(0, 2);
      prices = [price, price];
      error = "QuorumNotMet";
    } else if (mode === "unauthorized") {
      // reporters[5] and [6] are not in the AIT reporter set.
      signers = [reporters[0], reporters[1], reporters[5]];
      error = "SignerNotAuthorized";
    } else if (mode === "duplicateSigner") {
      signers = [reporters[0], reporters[1], reporters[0]];
      error = "DuplicateSigner";
    } else if (mode === "fromFuture") {
      observedAt = at + 60n;
      error = "ReportFromFuture";
    } else if (mode === "wrongFeed") {
      feedId = GPUH;
      error = "ReportFeedMismatch";
    } else {
      observedAt = last.observedAt;
      error = "ReportReplayed";
    }
    const reports = await signRound(r.oracle, signers, prices, { feedId, observedAt });
    await time.setNextBlockTimestamp(at);
    count(r, `oracle submit: ${error}`);
    await expect(r.oracle.submit(AIT, reports, { gasLimit: GAS_LIMIT })).to.be.revertedWithCustomError(r.oracle, error);
    r.mayChange = new Set();
    r.touchedOrderIds = new Set();
  });
}

/** A round where `outliers` reporters report far off (x1000 or /1000): the median is the honest price. */
async function outlierRound(r: Run, op: Extract<SystemOp, { kind: "outlierRound" }>): Promise<void> {
  const at = nextTime(r, op.gap, r.clock.spec.feedMinIntervalSec);
  const honestX18 = (r.clock.latestRound().priceX18 * (10_000n + op.moveBps)) / 10_000n;
  const farX18 = op.high ? honestX18 * 1_000n : honestX18 / 1_000n;
  const honest = op.outliers === 1 ? 2 : 3;
  const prices = [...Array<bigint>(honest).fill(honestX18), ...Array<bigint>(op.outliers).fill(farX18)];
  const note = `${op.outliers} of ${prices.length} reporters at ${farX18}`;
  await step(r, `t=${at} oracle round ${honestX18} with ${note}`, async () => {
    if (at - 1n > r.clock.now) await time.increaseTo(at - 1n);
    r.clock.advanceTo(at);
    r.clock.publish(honestX18);
    const reports = await signRound(r.oracle, r.reporters.slice(0, prices.length), prices, {
      feedId: AIT,
      observedAt: at,
    });
    await time.setNextBlockTimestamp(at);
    await (await r.oracle.submit(AIT, reports, { gasLimit: GAS_LIMIT })).wait();
    const [indexX18, observedAt] = await r.oracle.peekLatest(AIT);
    expect([indexX18, observedAt], `ORC-03: the accepted price is the honest one (${note})`).to.deep.equal([
      honestX18,
      at,
    ]);
    count(r, `oracle outlier round: ${op.outliers}`);
    r.mayChange = new Set();
    r.touchedOrderIds = new Set();
  });
}

/** Schedules `setRiskParams` with a preset on the timelock (the change waits for the delay). */
async function scheduleRisk(r: Run, preset: keyof typeof RISK_PRESETS, at: bigint): Promise<void> {
  const system = systemOf(r);
  const { timelock, delaySec } = system.governance;
  system.salts += 1;
  const salt = keccak256(toUtf8Bytes(`risk-${system.salts}`));
  const data = r.ch.interface.encodeFunctionData("setRiskParams", [r.seriesId, riskOf(preset)]);
  await step(r, `t=${at} timelock schedule setRiskParams of series ${r.seriesId} ${preset}`, async () => {
    r.clock.advanceTo(at);
    await time.setNextBlockTimestamp(at);
    const target = r.chAddress;
    await (await timelock.connect(r.admin).schedule(target, 0n, data, ZeroHash, salt, delaySec)).wait();
    system.scheduled.push({ preset, seriesId: r.seriesId, salt, readyAt: at + delaySec });
    count(r, "timelock schedule: ok");
    r.mayChange = new Set();
    r.touchedOrderIds = new Set();
  });
}

/** Executes the oldest scheduled change (of the series it was scheduled for): refused before its delay, applied after. */
async function executeRisk(r: Run, at: bigint): Promise<void> {
  const system = systemOf(r);
  const next = system.scheduled[0];
  if (next === undefined) return;
  const { timelock } = system.governance;
  const risk = riskOf(next.preset);
  const seriesId = next.seriesId;
  const data = r.ch.interface.encodeFunctionData("setRiskParams", [seriesId, risk]);
  const what = `t=${at} timelock execute setRiskParams of series ${seriesId} ${next.preset} ${JSON.stringify(risk, replacer)}`;
  await step(r, what, async () => {
    r.clock.advanceTo(at);
    await time.setNextBlockTimestamp(at);
    const send = () =>
      timelock.connect(r.admin).execute(r.chAddress, 0n, data, ZeroHash, next.salt, { gasLimit: GAS_LIMIT });
    r.mayChange = new Set();
    r.touchedOrderIds = new Set();
    if (at < next.readyAt) {
      count(r, "timelock execute: TimelockUnexpectedOperationState");
      await expect(send()).to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState");
      return;
    }
    await (await send()).wait();
    r.book.setRiskParams(risk, seriesId);
    system.scheduled.shift();
    count(r, "timelock execute: ok");
    // The case a harness bug once got wrong: the change executes in a step that acts on another series.
    if (seriesId !== r.seriesId) count(r, "timelock execute: ok, scheduled in another series");
    expect(riskOfChain(await r.ch.riskParams(seriesId)), "the timelocked risk change took effect").to.deep.equal(risk);
  });
}

function riskOf(preset: keyof typeof RISK_PRESETS) {
  const risk = RISK_PRESETS[preset];
  return { ...risk, liquidationPenaltyBps: risk.mmBps < 100n ? risk.mmBps : 100n };
}

function riskOfChain(risk: Awaited<ReturnType<Run["ch"]["riskParams"]>>) {
  return {
    imBps: risk.imBps,
    mmBps: risk.mmBps,
    orderBandBps: risk.orderBandBps,
    makerFeeBps: risk.makerFeeBps,
    takerFeeBps: risk.takerFeeBps,
    positionLimitQty: risk.positionLimitQty,
    openInterestCapQty: risk.openInterestCapQty,
    liquidationPenaltyBps: risk.liquidationPenaltyBps,
  };
}

export async function runSystemOp(r: Run, op: SystemOp): Promise<void> {
  count(r, `op ${op.kind}`);
  switch (op.kind) {
    case "expire":
      return expire(r, op);
    case "warpLong":
      return warp(r, nextTime(r, op.gap, 900n));
    case "finalize":
      return finalize(r, participants(r)[op.sender % 4], nextTime(r, op.gap));
    case "challenge":
      return challenge(r, op.byGuardian, nextTime(r, op.gap));
    case "govern":
      return govern(r, op.factorBps, nextTime(r, op.gap));
    case "settleOne":
      return settleOne(r, accounts(r)[op.index % 4], nextTime(r, op.gap));
    case "settleMany": {
      const all = accounts(r);
      return settleMany(
        r,
        op.picks.map((i) => (i === 4 ? r.admin.address : all[i % 4])),
        nextTime(r, op.gap),
      );
    }
    case "badRound":
      return badRound(r, op.mode, op.gap);
    case "outlierRound":
      return outlierRound(r, op);
    case "scheduleRisk":
      return scheduleRisk(r, op.preset, nextTime(r, op.gap));
    case "executeRisk":
      return executeRisk(r, nextTime(r, op.gap));
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const gap = fc.bigInt({ min: 1n, max: 600n });

/** System operations of a run before expiry (oracle and governance), with their weights. */
export function preExpirySystemOps(): [number, fc.Arbitrary<SystemOp>][] {
  return [
    [3, badRoundArbitrary()],
    [3, outlierRoundArbitrary()],
    [2, fc.record({ kind: fc.constant("scheduleRisk" as const), preset: presetArbitrary(), gap })],
    [2, fc.record({ kind: fc.constant("executeRisk" as const), gap: fc.bigInt({ min: 1n, max: 2n * HOUR }) })],
    [1, fc.record({ kind: fc.constant("finalize" as const), sender: fc.integer({ min: 0, max: 3 }), gap })],
    [1, settleOneArbitrary()],
  ];
}

/** System operations after expiry: settlement, the dispute window and the governance grace, and rounds. */
export function postExpirySystemOps(): [number, fc.Arbitrary<SystemOp>][] {
  return [
    [8, fc.record({ kind: fc.constant("finalize" as const), sender: fc.integer({ min: 0, max: 3 }), gap })],
    [
      3,
      fc.record({
        kind: fc.constant("challenge" as const),
        byGuardian: weighted([6, fc.constant(true)], [1, fc.constant(false)]),
        gap,
      }),
    ],
    [
      4,
      fc.record({
        kind: fc.constant("govern" as const),
        factorBps: weighted(
          [4, fc.bigInt({ min: 5_000n, max: 15_000n })],
          [1, fc.bigInt({ min: 3_000n, max: 17_000n })],
        ),
        gap,
      }),
    ],
    [6, settleOneArbitrary()],
    [
      4,
      fc.record({
        kind: fc.constant("settleMany" as const),
        picks: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 6 }),
        gap,
      }),
    ],
    [5, fc.record({ kind: fc.constant("warpLong" as const), gap: fc.bigInt({ min: HOUR, max: 4n * DAY }) })],
    [2, badRoundArbitrary()],
    [2, outlierRoundArbitrary()],
  ];
}

function settleOneArbitrary(): fc.Arbitrary<SystemOp> {
  return fc.record({ kind: fc.constant("settleOne" as const), index: fc.integer({ min: 0, max: 3 }), gap });
}

function presetArbitrary(): fc.Arbitrary<keyof typeof RISK_PRESETS> {
  return fc.constantFrom(...(Object.keys(RISK_PRESETS) as (keyof typeof RISK_PRESETS)[]));
}

function badRoundArbitrary(): fc.Arbitrary<SystemOp> {
  return fc.record({
    kind: fc.constant("badRound" as const),
    mode: fc.constantFrom<BadRoundMode>(
      "tooFew",
      "unauthorized",
      "fromFuture",
      "wrongFeed",
      "replayed",
      "duplicateSigner",
    ),
    gap: fc.bigInt({ min: 900n, max: 2n * HOUR }),
  });
}

function outlierRoundArbitrary(): fc.Arbitrary<SystemOp> {
  return fc.record({
    kind: fc.constant("outlierRound" as const),
    outliers: fc.constantFrom<1 | 2>(1, 2),
    high: fc.boolean(),
    moveBps: fc.bigInt({ min: -800n, max: 800n }),
    gap: fc.bigInt({ min: 900n, max: 6n * HOUR }),
  });
}

/** The expiry step: at expiry exactly, or up to three days later. */
export function expireArbitrary(): fc.Arbitrary<SystemOp> {
  return fc.record({
    kind: fc.constant("expire" as const),
    offsetSec: weighted([1, fc.constant(0n)], [3, fc.bigInt({ min: 1n, max: 3n * DAY })]),
    feedRounds: weighted([1, fc.constant(0)], [1, fc.integer({ min: 1, max: 2 })], [4, fc.integer({ min: 3, max: 4 })]),
    moveBps: fc.bigInt({ min: -300n, max: 300n }),
  });
}
