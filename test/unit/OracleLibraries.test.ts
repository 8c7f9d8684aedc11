import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { OracleMathHarness__factory } from "../../typechain-types";
import { ReferencePriceHistory, deviationExceeds, median } from "../../sdk";

const CAPACITY = 8n;

async function harnessFixture() {
  const [deployer] = await ethers.getSigners();
  const harness = await new OracleMathHarness__factory(deployer).deploy(CAPACITY);
  return { harness };
}

describe("Oracle libraries", function () {
  describe("Median (ORC-07)", function () {
    it("equals the SDK median for random lists of 1 to 31 values", async function () {
      const { harness } = await loadFixture(harnessFixture);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.bigInt({ min: 0n, max: 10n ** 30n }), { minLength: 1, maxLength: 31 }),
          async (values) => {
            expect(await harness.median(values)).to.equal(median(values));
          },
        ),
        { numRuns: 100, seed: 11 },
      );
    });

    it("stays within the honest range when fewer than half the values are arbitrary", function () {
      fc.assert(
        fc.property(
          fc.integer({ min: 3, max: 31 }).chain((n) =>
            fc.record({
              honest: fc.array(fc.bigInt({ min: 3n * 10n ** 18n, max: 5n * 10n ** 18n }), {
                minLength: n - Math.floor((n - 1) / 2),
                maxLength: n - Math.floor((n - 1) / 2),
              }),
              bad: fc.array(fc.constantFrom(1n, 10n ** 24n, 4n * 10n ** 21n, 4n * 10n ** 15n), {
                maxLength: Math.floor((n - 1) / 2),
              }),
            }),
          ),
          ({ honest, bad }) => {
            fc.pre(bad.length * 2 < honest.length + bad.length);
            const result = median([...honest, ...bad]);
            const low = honest.reduce((a, b) => (a < b ? a : b));
            const high = honest.reduce((a, b) => (a > b ? a : b));
            expect(result >= low && result <= high).to.equal(true);
          },
        ),
        { numRuns: 500, seed: 13 },
      );
    });
  });

  describe("BpsMath (ORC-04)", function () {
    it("agrees with the SDK on random and boundary inputs", async function () {
      const { harness } = await loadFixture(harnessFixture);
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: 10n ** 24n }),
          fc.bigInt({ min: -5_000n, max: 5_000n }),
          fc.bigInt({ min: 0n, max: 10_000n }),
          fc.bigInt({ min: -1n, max: 1n }),
          async (reference, moveBps, limitBps, nudge) => {
            const value = (reference * (10_000n + moveBps)) / 10_000n + nudge;
            if (value < 0n) return;
            expect(await harness.deviationExceeds(reference, value, limitBps)).to.equal(
              deviationExceeds(reference, value, limitBps),
            );
          },
        ),
        { numRuns: 100, seed: 17 },
      );
    });
  });

  describe("ObservationHistory ring (ORC-06)", function () {
    it("keeps the last `capacity` rounds through wrap-around and integrates them exactly", async function () {
      const { harness } = await loadFixture(harnessFixture);
      const model = new ReferencePriceHistory();
      let t = 1_000_000n;
      const rounds = fc.sample(
        fc.record({ gap: fc.bigInt({ min: 1n, max: 10_000n }), price: fc.bigInt({ min: 1n, max: 10n ** 24n }) }),
        { numRuns: 29, seed: 19 },
      );
      for (const round of rounds) {
        t += round.gap;
        await harness.append(t, round.price);
        model.record({ observedAt: t, priceX18: round.price });
      }
      expect(await harness.count()).to.equal(29n);
      expect(await harness.oldestRoundId()).to.equal(29n - CAPACITY + 1n);
      // Times before the oldest retained round are not found.
      const oldest = await harness.lastAtOrBefore(t); // latest
      expect(oldest.roundId).to.equal(29n);
      const evicted = rounds.slice(0, 29 - Number(CAPACITY)).reduce((sum, r) => sum + r.gap, 1_000_000n);
      expect((await harness.lastAtOrBefore(evicted)).roundId).to.equal(0n);
      const retainedFrom = evicted + rounds[29 - Number(CAPACITY)].gap;
      let checks = 0;
      for (let probe = retainedFrom; probe < t; probe += 577n) {
        for (const span of [1n, 333n, 20_000n]) {
          const to = probe + span > t ? t : probe + span;
          if (to <= probe) continue;
          expect(await harness.twap(probe, to)).to.equal(model.twap(probe, to));
          checks += 1;
        }
      }
      expect(checks).to.be.greaterThan(20);
    });
  });
});
