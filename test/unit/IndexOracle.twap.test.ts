import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ReferencePriceHistory, parseX18 } from "../../sdk";
import type { IndexOracle } from "../../typechain-types";
import type { Wallet } from "ethers";
import { AIT, DEFAULT_PARAMS, agreeing, deployOracleFixture, signRound, submitRoundAfter } from "../fixtures/oracle";

const HOUR = 3_600n;
const DAY = 86_400n;

/** Submits rounds at the given gaps and prices, recording them in a reference model. */
async function playRounds(
  oracle: IndexOracle,
  reporters: Wallet[],
  steps: { gapSec: bigint; priceX18: bigint }[],
  model: ReferencePriceHistory,
): Promise<void> {
  for (const step of steps) {
    const observedAt = BigInt(await time.latest()) + step.gapSec;
    await time.setNextBlockTimestamp(observedAt);
    const reports = await signRound(oracle, reporters, [step.priceX18, step.priceX18, step.priceX18], {
      observedAt,
    });
    await oracle.submit(AIT, reports);
    model.record({ observedAt, priceX18: step.priceX18 });
  }
}

describe("IndexOracle #twap", function () {
  it("equals the reference model over random rounds and random windows (ORC-05)", async function () {
    const { oracle, reporters } = await loadFixture(deployOracleFixture);
    const first = await submitRoundAfter(oracle, reporters, agreeing("4"), 60n);
    const model = new ReferencePriceHistory();
    model.record({ observedAt: first.observedAt, priceX18: parseX18("4") });
    // Random walk within the 10% guard, random gaps between 15 min and 6 h.
    const steps = fc.sample(
      fc.record({
        gapSec: fc.bigInt({ min: DEFAULT_PARAMS.minIntervalSec, max: 6n * HOUR }),
        moveBps: fc.bigInt({ min: -900n, max: 900n }),
      }),
      { numRuns: 60, seed: 20261121 },
    );
    let price = parseX18("4");
    const rounds = steps.map((step) => {
      price = (price * (10_000n + step.moveBps)) / 10_000n + 1n; // +1 wei keeps odd digits in play
      return { gapSec: step.gapSec, priceX18: price };
    });
    await playRounds(oracle, reporters, rounds, model);
    const start = first.observedAt;
    const end = BigInt(await time.latest());
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: start, max: end - 1n }),
        fc.bigInt({ min: 1n, max: end - start }),
        async (from, length) => {
          const to = from + length > end ? end : from + length;
          if (to <= from) return;
          const [twapX18, roundsInWindow, version] = await oracle.twapWithInfo(AIT, from, to);
          expect(twapX18).to.equal(model.twap(from, to));
          expect(roundsInWindow).to.equal(BigInt(model.roundsIn(from, to)));
          expect(version).to.equal(1n);
        },
      ),
      { numRuns: 150, seed: 7 },
    );
  });

  it("is exact over a 35-day window of hourly rounds (ORC-06)", async function () {
    const { oracle, reporters } = await loadFixture(deployOracleFixture);
    const model = new ReferencePriceHistory();
    const rounds = Array.from({ length: 35 * 24 + 2 }, (_, i) => ({
      gapSec: HOUR,
      priceX18: parseX18("2.4") + BigInt((i * 7919) % 1000) * 10n ** 14n,
    }));
    await playRounds(oracle, reporters, rounds, model);
    const end = BigInt(await time.latest());
    const from = end - 35n * DAY;
    expect(await oracle.twap(AIT, from, end)).to.equal(model.twap(from, end));
    expect(await oracle.twap(AIT, from + 1_234n, end - 5_678n)).to.equal(model.twap(from + 1_234n, end - 5_678n));
    const oldest = await oracle.observationAt(AIT, 1n);
    expect(end - oldest.observedAt).to.be.greaterThanOrEqual(35n * DAY);
  });

  describe("window checks", function () {
    async function twoRoundsFixture() {
      const fixture = await deployOracleFixture();
      const first = await submitRoundAfter(fixture.oracle, fixture.reporters, agreeing("4"), 60n);
      const second = await submitRoundAfter(fixture.oracle, fixture.reporters, agreeing("4.2"), HOUR);
      return { ...fixture, first, second };
    }

    it("reverts for an empty or reversed window", async function () {
      const { oracle, second } = await loadFixture(twoRoundsFixture);
      const t = second.observedAt;
      await expect(oracle.twap(AIT, t, t))
        .to.be.revertedWithCustomError(oracle, "TwapWindowInvalid")
        .withArgs(t, t);
      await expect(oracle.twap(AIT, t, t - 1n)).to.be.revertedWithCustomError(oracle, "TwapWindowInvalid");
    });

    it("reverts for a window ending in the future", async function () {
      const { oracle, first } = await loadFixture(twoRoundsFixture);
      const future = BigInt(await time.latest()) + 100n;
      await expect(oracle.twap(AIT, first.observedAt, future)).to.be.revertedWithCustomError(
        oracle,
        "TwapWindowInFuture",
      );
    });

    it("reverts for a window starting before the first round", async function () {
      const { oracle, first, second } = await loadFixture(twoRoundsFixture);
      await expect(oracle.twap(AIT, first.observedAt - 1n, second.observedAt))
        .to.be.revertedWithCustomError(oracle, "TwapOutsideHistory")
        .withArgs(AIT, first.observedAt - 1n, first.observedAt);
    });

    it("reverts when the window ends more than the max age after the last round", async function () {
      const { oracle, first, second } = await loadFixture(twoRoundsFixture);
      await time.increase(DEFAULT_PARAMS.maxAgeSec + 10n);
      const end = second.observedAt + DEFAULT_PARAMS.maxAgeSec + 1n;
      await expect(oracle.twap(AIT, first.observedAt, end))
        .to.be.revertedWithCustomError(oracle, "TwapDataStale")
        .withArgs(AIT, second.observedAt, end);
      // Exactly at the max age it still counts.
      await oracle.twap(AIT, first.observedAt, end - 1n);
    });

    it("reverts while a held jump lies inside the window", async function () {
      const { oracle, reporters, first } = await loadFixture(twoRoundsFixture);
      const held = await submitRoundAfter(oracle, reporters, agreeing("9"), HOUR);
      await expect(oracle.twap(AIT, first.observedAt, held.observedAt))
        .to.be.revertedWithCustomError(oracle, "TwapPendingJump")
        .withArgs(AIT, held.observedAt);
      // A window ending before the held round is final and readable.
      await oracle.twap(AIT, first.observedAt, held.observedAt - 1n);
    });

    it("reverts for a window spanning a methodology change", async function () {
      const { oracle, reporters, admin, first } = await loadFixture(twoRoundsFixture);
      await oracle.connect(admin).setMethodologyVersion(AIT, 2);
      const v2 = await submitRoundAfter(oracle, reporters, agreeing("4.1"), HOUR, { methodologyVersion: 2 });
      await expect(oracle.twap(AIT, first.observedAt, v2.observedAt))
        .to.be.revertedWithCustomError(oracle, "TwapSpansMethodologyChange")
        .withArgs(AIT, 1, 2);
      const later = await submitRoundAfter(oracle, reporters, agreeing("4.1"), HOUR, { methodologyVersion: 2 });
      const [, rounds, version] = await oracle.twapWithInfo(AIT, v2.observedAt, later.observedAt);
      expect(version).to.equal(2n);
      expect(rounds).to.equal(1n);
    });

    it("reverts for a feed with no rounds", async function () {
      const { oracle, admin, reporters } = await loadFixture(deployOracleFixture);
      const GPUH = ethers.encodeBytes32String("GPUH");
      await oracle.connect(admin).createFeed(
        GPUH,
        DEFAULT_PARAMS,
        1,
        reporters.slice(0, 3).map((r) => r.address),
        3,
      );
      const now = BigInt(await time.latest());
      await expect(oracle.twap(GPUH, now - 10n, now)).to.be.revertedWithCustomError(oracle, "FeedHasNoData");
      await expect(oracle.latestPrice(GPUH)).to.be.revertedWithCustomError(oracle, "FeedHasNoData");
    });
  });
});
