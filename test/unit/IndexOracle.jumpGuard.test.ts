import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deviationExceeds, parseX18 } from "../../sdk";
import { AIT, DEFAULT_PARAMS, agreeing, deployOracleFixture, signRound, submitRoundAfter } from "../fixtures/oracle";

const GUARD_BPS = DEFAULT_PARAMS.jumpGuardBps; // 10%
const START = parseX18("4");

/** START moved by `bps` basis points (may be negative). */
function moved(bps: bigint): bigint {
  return (START * (10_000n + bps)) / 10_000n;
}

async function startedFixture() {
  const fixture = await deployOracleFixture();
  await submitRoundAfter(fixture.oracle, fixture.reporters, [START, START, START], 60n);
  return fixture;
}

describe("IndexOracle jump guard (ORC-04)", function () {
  const cases: [bigint, boolean][] = [
    [GUARD_BPS - 1n, false],
    [GUARD_BPS, false],
    [GUARD_BPS + 1n, true],
  ];
  for (const direction of [1n, -1n]) {
    for (const [bps, held] of cases) {
      const label = `${direction > 0n ? "+" : "-"}${bps} bp`;
      it(`${held ? "holds" : "accepts"} a move of ${label} against a guard of ${GUARD_BPS} bp`, async function () {
        const { oracle, reporters } = await loadFixture(startedFixture);
        const price = moved(direction * bps);
        expect(deviationExceeds(START, price, GUARD_BPS)).to.equal(held);
        const { tx, observedAt } = await submitRoundAfter(oracle, reporters, [price, price, price], 3_600n);
        if (held) {
          await expect(tx).to.emit(oracle, "RoundHeld").withArgs(AIT, price, observedAt, START, 0b1110n);
          expect((await oracle.feedState(AIT)).pendingPriceX18).to.equal(price);
          expect((await oracle.latestPrice(AIT))[0]).to.equal(START);
        } else {
          await expect(tx).to.emit(oracle, "RoundAccepted").withArgs(AIT, 2n, price, observedAt, 0b1110n);
          expect((await oracle.latestPrice(AIT))[0]).to.equal(price);
        }
      });
    }
  }

  it("lets a genuine -67% step through once a later round confirms it", async function () {
    const { oracle, reporters } = await loadFixture(startedFixture);
    const [, acceptedAt] = await oracle.latestPrice(AIT);
    const cut = (START * 33n) / 100n;
    const held = await submitRoundAfter(oracle, reporters, agreeing("1.32"), 3_600n);
    expect(cut).to.equal(parseX18("1.32"));
    await expect(held.tx).to.emit(oracle, "RoundHeld");
    // While held, reads still return the last accepted price.
    expect((await oracle.latestPrice(AIT))[0]).to.equal(START);

    const confirming = await submitRoundAfter(oracle, reporters, agreeing("1.33"), DEFAULT_PARAMS.confirmDelaySec);
    await expect(confirming.tx)
      .to.emit(oracle, "JumpConfirmed")
      .withArgs(AIT, held.observedAt, confirming.observedAt)
      .and.to.emit(oracle, "RoundAccepted")
      .withArgs(AIT, 2n, parseX18("1.32"), held.observedAt, 0n)
      .and.to.emit(oracle, "RoundAccepted")
      .withArgs(AIT, 3n, parseX18("1.33"), confirming.observedAt, 0b1110n);
    expect((await oracle.latestPrice(AIT))[0]).to.equal(parseX18("1.33"));
    // The held round enters the history at its own time, so the TWAP sees the step when it happened.
    const observation = await oracle.observationAt(AIT, 2n);
    expect(observation.observedAt).to.equal(held.observedAt);
    const twap = await oracle.twap(AIT, acceptedAt, confirming.observedAt);
    const area = START * (held.observedAt - acceptedAt) + cut * (confirming.observedAt - held.observedAt);
    expect(twap).to.equal(area / (confirming.observedAt - acceptedAt));
    expect((await oracle.feedState(AIT)).pendingObservedAt).to.equal(0n);
  });

  it("refuses a confirmation earlier than the confirmation delay", async function () {
    const { oracle, reporters } = await loadFixture(startedFixture);
    const held = await submitRoundAfter(oracle, reporters, agreeing("3"), 3_600n);
    await time.increase(DEFAULT_PARAMS.confirmDelaySec - 100n);
    const observedAt = BigInt(await time.latest());
    const reports = await signRound(oracle, reporters, agreeing("3"), { observedAt });
    await expect(oracle.submit(AIT, reports))
      .to.be.revertedWithCustomError(oracle, "JumpConfirmationTooEarly")
      .withArgs(AIT, observedAt, held.observedAt + DEFAULT_PARAMS.confirmDelaySec);
  });

  it("drops a held round that a later round near the old price refutes", async function () {
    const { oracle, reporters } = await loadFixture(startedFixture);
    const held = await submitRoundAfter(oracle, reporters, agreeing("40"), 3_600n);
    const next = await submitRoundAfter(oracle, reporters, agreeing("4.01"), DEFAULT_PARAMS.minIntervalSec);
    await expect(next.tx)
      .to.emit(oracle, "HeldRoundDropped")
      .withArgs(AIT, parseX18("40"), held.observedAt)
      .and.to.emit(oracle, "RoundAccepted")
      .withArgs(AIT, 2n, parseX18("4.01"), next.observedAt, 0b1110n);
    expect((await oracle.feedState(AIT)).pendingObservedAt).to.equal(0n);
    expect((await oracle.feedState(AIT)).roundCount).to.equal(2n);
  });

  it("replaces a held round with a different jump and restarts the confirmation clock", async function () {
    const { oracle, reporters } = await loadFixture(startedFixture);
    await submitRoundAfter(oracle, reporters, agreeing("2"), 3_600n);
    const second = await submitRoundAfter(oracle, reporters, agreeing("8"), DEFAULT_PARAMS.confirmDelaySec);
    await expect(second.tx).to.emit(oracle, "HeldRoundDropped").and.to.emit(oracle, "RoundHeld");
    const state = await oracle.feedState(AIT);
    expect(state.pendingObservedAt).to.equal(second.observedAt);
    expect(state.pendingPriceX18).to.equal(parseX18("8"));
    expect(state.roundCount).to.equal(1n);
  });

  it("refuses a replay of the held round, so it cannot confirm itself", async function () {
    const { oracle, reporters } = await loadFixture(startedFixture);
    const held = await submitRoundAfter(oracle, reporters, agreeing("2"), 3_600n);
    await time.increase(DEFAULT_PARAMS.confirmDelaySec);
    await expect(oracle.submit(AIT, held.reports))
      .to.be.revertedWithCustomError(oracle, "ReportReplayed")
      .withArgs(AIT, held.observedAt);
  });

  it("drops a held round when the methodology version changes", async function () {
    const { oracle, reporters, admin } = await loadFixture(startedFixture);
    const held = await submitRoundAfter(oracle, reporters, agreeing("2"), 3_600n);
    await expect(oracle.connect(admin).setMethodologyVersion(AIT, 2))
      .to.emit(oracle, "HeldRoundDropped")
      .withArgs(AIT, parseX18("2"), held.observedAt);
    expect((await oracle.feedState(AIT)).pendingObservedAt).to.equal(0n);
  });
});
