/**
 * Adversarial oracle scenarios, from the attacker's side (RELIABILITY 13-15; ORC-03, ORC-04, LQ-01, CH-13).
 *
 * The victim throughout is alice: long 20 AIT bought at 4.000 (fixtures/liquidation.ts), the index since
 * moved honestly to 3.300, so she is 2,710 USD above maintenance margin. A far price that got through
 * would make her liquidatable at once; each test shows it does not, and names the defence that stops it.
 *
 * What ORC-03 (test/unit/IndexOracle.median.test.ts) already checks: the median of a submitted set of
 * reports with f < n/2 arbitrary values lies inside the honest range. These tests add the attacker's
 * choices around it (which reports to submit, when, and what the clearinghouse does with the result).
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse, Wallet } from "ethers";
import type { IndexOracle } from "../../typechain-types";
import { PRODUCTS } from "../../config/series";
import { liquidationPenalty, liquidationSize, parseX18 } from "../../sdk";
import { AIT, signRound } from "../fixtures/oracle";
import { aliceLongFixture, moveIndex } from "../fixtures/liquidation";
import type { LiquidationFixture } from "../fixtures/liquidation";
import { order } from "../helpers/orders";

const MAX = 2n ** 64n - 1n;
const AIT_RISK = PRODUCTS.AIT.risk;
const MULTIPLIER = BigInt(PRODUCTS.AIT.contractMultiplier);
/** The feed's minimum interval between rounds and the jump guard's confirmation delay (DEFAULT_PARAMS). */
const ROUND_INTERVAL = 900n;
const CONFIRM_DELAY = 3_600n;
const MAX_AGE = 86_400n;

/** Honest reports around 3.300 (a 0.45% spread) and the attacker's far values. */
const HONEST = ["3.295", "3.3", "3.305", "3.31"].map(parseX18);
const HONEST_LOW = HONEST[0];
const HONEST_HIGH = HONEST[HONEST.length - 1];
const X1000 = parseX18("3300");
const X0_001 = parseX18("0.0033");

/** alice long 20 at 4.000 with the index moved honestly to 3.300: healthy, 2,710 USD above maintenance. */
async function victimNearMaintenance(): Promise<LiquidationFixture> {
  const f = await aliceLongFixture();
  await moveIndex(f.oracle, f.reporters, "3.3");
  return f;
}

/** Signs a round of `prices` (reporter `signers[i]` reports `prices[i]`) observed `advanceSec` from now, and submits it. */
async function submitRound(
  oracle: IndexOracle,
  signers: Wallet[],
  prices: bigint[],
  advanceSec = ROUND_INTERVAL,
): Promise<{ tx: Promise<ContractTransactionResponse>; observedAt: bigint }> {
  const observedAt = BigInt(await time.latest()) + advanceSec;
  const reports = await signRound(oracle, signers, prices, { observedAt });
  await time.setNextBlockTimestamp(observedAt);
  return { tx: oracle.submit(AIT, reports), observedAt };
}

/** The name and price of the round event (RoundAccepted or RoundHeld) a submission emitted. */
async function roundOutcome(oracle: IndexOracle, tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  const names: string[] = [];
  let priceX18 = 0n;
  for (const log of receipt!.logs) {
    const parsed = oracle.interface.parseLog(log);
    if (parsed === null) continue;
    names.push(parsed.name);
    if (parsed.name === "RoundAccepted" || parsed.name === "RoundHeld") priceX18 = parsed.args.priceX18;
  }
  return { names, priceX18 };
}

/** Asserts alice is not liquidatable: carol's liquidation reverts with her exact equity and maintenance margin. */
async function expectNotLiquidatable(f: LiquidationFixture) {
  const ch = f.clearinghouse;
  const health = await ch.accountHealth(f.alice.address);
  expect(health.equityX18).to.be.gte(BigInt(health.maintenanceMarginX18));
  await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX))
    .to.be.revertedWithCustomError(ch, "AccountNotLiquidatable")
    .withArgs(f.alice.address, health.equityX18, health.maintenanceMarginX18);
}

/** alice's equity if the index were `priceX18` (her cash plus 20 contracts marked there). */
async function aliceEquityAt(f: LiquidationFixture, priceX18: bigint): Promise<bigint> {
  const position = await f.clearinghouse.positionOf(f.alice.address, f.seriesId);
  const cash = await f.clearinghouse.cashOf(f.alice.address);
  return cash + BigInt(position.sizeQty) * priceX18 * MULTIPLIER - position.openNotionalX18;
}

describe("Adversarial: oracle manipulation", function () {
  it("(a) one reporter reporting x1000 or x0.001 in a quorum round: the index stays in the honest range, the mark barely moves, nobody becomes liquidatable", async function () {
    // Defence: the round's price is the median of its reports (ORC-01/03), never one reporter's value.
    const f = await loadFixture(victimNearMaintenance);
    const { oracle, reporters, clearinghouse: ch } = f;
    // The attack is worth making: either far value, if accepted, would put alice below maintenance
    // (x0.001 makes her bankrupt; x1000 is not what she fears but it would bankrupt bob, her counterparty).
    expect(await aliceEquityAt(f, X0_001)).to.be.lt(0n);
    const markBefore = await ch.markPrice(f.seriesId);
    expect(markBefore).to.equal(parseX18("3.3"));

    // Round 1: all five reporters, reporter 0 reports x1000.
    const round1 = await submitRound(oracle, reporters.slice(0, 5), [X1000, ...HONEST]);
    const out1 = await roundOutcome(oracle, round1.tx);
    expect(out1.names).to.deep.equal(["RoundAccepted"]);
    expect(out1.priceX18).to.equal(parseX18("3.305"));
    // Round 2: a bare quorum of three, reporter 0 reports x0.001.
    const round2 = await submitRound(oracle, reporters.slice(0, 3), [X0_001, HONEST[0], HONEST[2]]);
    const out2 = await roundOutcome(oracle, round2.tx);
    expect(out2.names).to.deep.equal(["RoundAccepted"]);
    expect(out2.priceX18).to.equal(HONEST[0]);

    for (const accepted of [out1.priceX18, out2.priceX18]) {
      expect(accepted).to.be.gte(HONEST_LOW).and.lte(HONEST_HIGH);
    }
    const [index] = await oracle.latestPrice(AIT);
    expect(index).to.equal(HONEST[0]);
    const markAfter = await ch.markPrice(f.seriesId);
    const moved = markAfter > markBefore ? markAfter - markBefore : markBefore - markAfter;
    // The mark moved by at most the honest spread (0.015 USD, 0.45%), not by 1000x.
    expect(moved).to.be.lte(HONEST_HIGH - HONEST_LOW);
    console.log(`      mark ${markBefore} -> ${markAfter} (moved ${moved}, honest spread ${HONEST_HIGH - HONEST_LOW})`);
    await expectNotLiquidatable(f);
    await expect(ch.connect(f.carol).liquidate(f.bob.address, f.seriesId, MAX)).to.be.revertedWithCustomError(
      ch,
      "AccountNotLiquidatable",
    );
  });

  it("(b) a colluding minority (2 of 5) on one far price: the median stays honest; if it picks the reports, the jump guard holds its price until an honest round drops it", async function () {
    // Defences: the median (with all reports, 2 bad of 5 never reach the middle) and, when the colluders
    // transmit a bare quorum of their own choosing (2 bad + 1 honest report lifted from the mempool), the
    // jump guard (ORC-04): a move above 10% is held, not accepted, and an honest round refutes it.
    const f = await loadFixture(victimNearMaintenance);
    const { oracle, reporters, clearinghouse: ch } = f;
    const colluders = [reporters[0], reporters[1]];
    const honest = reporters.slice(2, 5);

    for (const far of [X1000, X0_001]) {
      const round = await submitRound(oracle, [...colluders, ...honest], [far, far, HONEST[0], HONEST[1], HONEST[3]]);
      const out = await roundOutcome(oracle, round.tx);
      expect(out.names).to.deep.equal(["RoundAccepted"]);
      expect(out.priceX18).to.be.gte(HONEST_LOW).and.lte(HONEST_HIGH);
      await expectNotLiquidatable(f);
    }
    const [indexBefore, observedBefore] = await oracle.latestPrice(AIT);
    const markBefore = await ch.markPrice(f.seriesId);

    // The colluders transmit themselves: their two reports and one honest report of the same round.
    // The median of three is then theirs (x0.001), but it is 99.9% away from the last index: held.
    const chosen = await submitRound(oracle, [...colluders, honest[0]], [X0_001, X0_001, HONEST[1]]);
    await expect(chosen.tx)
      .to.emit(oracle, "RoundHeld")
      .withArgs(AIT, X0_001, chosen.observedAt, indexBefore, 0b111n << 1n)
      .and.not.to.emit(oracle, "RoundAccepted");
    expect(await oracle.latestPrice(AIT)).to.deep.equal([indexBefore, observedBefore]);
    expect(await ch.markPrice(f.seriesId)).to.equal(markBefore);
    await expectNotLiquidatable(f);
    // Confirming it with a second chosen round before the confirmation delay is refused by name.
    const early = await submitRound(oracle, [...colluders, honest[1]], [X0_001, X0_001, HONEST[1]]);
    await expect(early.tx)
      .to.be.revertedWithCustomError(oracle, "JumpConfirmationTooEarly")
      .withArgs(AIT, early.observedAt, chosen.observedAt + CONFIRM_DELAY);
    await expectNotLiquidatable(f);

    // The honest reporters' next round (the reporter keeper reports as soon as the minimum interval
    // allows when a round is held) drops the held price.
    const refute = await submitRound(oracle, honest, [HONEST[0], HONEST[1], HONEST[2]]);
    await expect(refute.tx)
      .to.emit(oracle, "HeldRoundDropped")
      .withArgs(AIT, X0_001, chosen.observedAt)
      .and.to.emit(oracle, "RoundAccepted");
    expect((await oracle.feedState(AIT)).pendingObservedAt).to.equal(0n);
    const [indexAfter] = await oracle.latestPrice(AIT);
    expect(indexAfter).to.be.gte(HONEST_LOW).and.lte(HONEST_HIGH);
    await expectNotLiquidatable(f);
  });

  it("(c) a delayed round then a crash: a stale index refuses new risk and liquidation (IndexStale), the jump guard holds the crash until confirmed, then liquidation runs at the confirmed price", async function () {
    // Defences: the max age (CH-13, LQ-01: a stale index stops risk-adding trades and liquidations, since
    // a mark on an old index could liquidate healthy accounts) and the jump guard (ORC-04).
    const f = await loadFixture(aliceLongFixture);
    const { oracle, reporters, clearinghouse: ch } = f;
    const S = f.seriesId;
    const [, lastObservedAt] = await oracle.latestPrice(AIT);

    // The reporters go quiet for longer than the max age (24 h).
    await time.increaseTo(lastObservedAt + MAX_AGE + 1n);
    expect((await oracle.peekLatest(AIT)).isStale).to.equal(true);
    await expect(oracle.latestPrice(AIT))
      .to.be.revertedWithCustomError(oracle, "FeedStale")
      .withArgs(AIT, lastObservedAt, MAX_AGE);
    const staleChecks = async () => {
      // A risk-adding resting bid and a risk-adding market order: both refused, by name.
      await expect(ch.connect(f.carol).placeOrder(order(S, f.carol.address, true, 1n, "3.9")))
        .to.be.revertedWithCustomError(ch, "IndexStale")
        .withArgs(S, lastObservedAt);
      await expect(ch.connect(f.bob).placeOrder(order(S, f.bob.address, false, 1n, 0n, { kind: "Market" })))
        .to.be.revertedWithCustomError(ch, "IndexStale")
        .withArgs(S, lastObservedAt);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, S, MAX))
        .to.be.revertedWithCustomError(ch, "IndexStale")
        .withArgs(S, lastObservedAt);
    };
    await staleChecks();

    // The feed comes back with a crash of -27.5%: above the 10% guard, so it is held and the index
    // stays where it was (still stale): the crash moves nothing yet.
    const crash = parseX18("2.9");
    const held = await submitRound(oracle, reporters.slice(0, 3), [crash, crash, crash], 60n);
    await expect(held.tx).to.emit(oracle, "RoundHeld").withArgs(AIT, crash, held.observedAt, parseX18("4"), 0b1110n);
    await staleChecks();
    expect(await ch.markPrice(S)).to.equal(parseX18("4"));
    // An agreeing round 30 minutes later cannot confirm it yet.
    const early = await submitRound(oracle, reporters.slice(0, 3), [crash, crash, crash], 1_800n);
    await expect(early.tx)
      .to.be.revertedWithCustomError(oracle, "JumpConfirmationTooEarly")
      .withArgs(AIT, early.observedAt, held.observedAt + CONFIRM_DELAY);
    await staleChecks();

    // One hour after the crash round an agreeing round confirms it: the crash enters the history at its
    // own time, the index is fresh at 2.900 and the liquidation proceeds at that price.
    const confirmAt = held.observedAt + CONFIRM_DELAY - BigInt(await time.latest());
    const confirm = await submitRound(oracle, reporters.slice(2, 5), [crash, crash, crash], confirmAt);
    await expect(confirm.tx)
      .to.emit(oracle, "JumpConfirmed")
      .withArgs(AIT, held.observedAt, held.observedAt + CONFIRM_DELAY);
    expect(await oracle.latestPrice(AIT)).to.deep.equal([crash, held.observedAt + CONFIRM_DELAY]);
    const mark = await ch.markPrice(S);
    expect(mark).to.equal(crash);
    const health = await ch.accountHealth(f.alice.address);
    expect(health.equityX18).to.be.lt(BigInt(health.maintenanceMarginX18));
    const inputs = {
      sizeQty: 20n,
      markX18: mark,
      multiplier: MULTIPLIER,
      lotQty: PRODUCTS.AIT.minQty,
      mmBps: BigInt(AIT_RISK.mmBps),
      liquidationPenaltyBps: BigInt(AIT_RISK.liquidationPenaltyBps),
      equityX18: health.equityX18,
      maintenanceMarginX18: health.maintenanceMarginX18,
      maxQty: MAX,
    };
    const { qty } = liquidationSize(inputs);
    const penalty = liquidationPenalty(qty, mark, MULTIPLIER, inputs.liquidationPenaltyBps, health.equityX18);
    await expect(ch.connect(f.carol).liquidate(f.alice.address, S, MAX))
      .to.emit(ch, "Liquidated")
      .withArgs(f.alice.address, f.carol.address, S, -qty, crash, penalty.penaltyX18, penalty.liquidatorRewardX18);
    expect((await ch.positionOf(f.carol.address, S)).sizeQty).to.equal(qty);
  });
});
