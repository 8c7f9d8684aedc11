import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ClearinghouseMathHarness__factory } from "../../typechain-types";
import { applyTrade, basisAt, clampBasis, feeX18, markFrom, requirementX18 } from "../../sdk";

async function deployHarness() {
  const [deployer] = await ethers.getSigners();
  return new ClearinghouseMathHarness__factory(deployer).deploy();
}

const RUNS = { numRuns: 200, seed: 7 };
const size = fc.bigInt({ min: -1_000_000n, max: 1_000_000n });
const price = fc.bigInt({ min: 1n, max: 10n ** 24n });
const multiplier = fc.bigInt({ min: 1n, max: 10n ** 9n });

describe("Clearinghouse libraries (differential against sdk/core)", () => {
  describe("PositionMath", () => {
    it("CH-15: applyTrade equals the model, and a position's lifetime PnL is exact", async () => {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(size, price, size, price, multiplier, async (s0, p0, delta, p1, m) => {
          fc.pre(s0 !== 0n && delta !== 0n);
          const open = s0 * p0 * m;
          const [newSize, newOpen, realized] = await harness.applyTrade(s0, open, delta, p1, m);
          const model = applyTrade(s0, open, delta, p1, m);
          expect([newSize, newOpen, realized]).to.deep.equal([
            model.newSizeQty,
            model.newOpenNotionalX18,
            model.realizedPnlX18,
          ]);
          // Realized + unrealized at the trade price equals the exact PnL of the old position at that price.
          expect(realized + (newSize * p1 * m - newOpen)).to.equal(s0 * (p1 - p0) * m);
          // Realized PnL never exceeds its exact pro-rata value (rounding favours the system).
          const reducing = s0 > 0n !== delta > 0n;
          const absDelta = delta < 0n ? -delta : delta;
          const absSize = s0 < 0n ? -s0 : s0;
          const closeQty = reducing ? (absDelta < absSize ? absDelta : absSize) : 0n;
          const exactRealized = (s0 > 0n ? closeQty : -closeQty) * (p1 - p0) * m;
          expect(realized).to.be.lte(exactRealized);
          expect(exactRealized - realized).to.be.lt(1n + (reducing ? 1n : 0n));
        }),
        RUNS,
      );
    });

    it("CH-15: requirements round up and fees up, rebates down, as the model", async () => {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 0n, max: 10n ** 12n }),
          price,
          multiplier,
          fc.integer({ min: 0, max: 10_000 }),
          fc.integer({ min: -100, max: 100 }),
          async (absSize, mark, m, bps, feeBps) => {
            const req = await harness.requirementX18(absSize, mark, m, bps);
            expect(req).to.equal(requirementX18(absSize, mark, m, BigInt(bps)));
            expect(req * 10_000n).to.be.gte(absSize * mark * m * BigInt(bps));
            const notional = absSize * mark * m;
            const fee = await harness.feeX18(notional, feeBps);
            expect(fee).to.equal(feeX18(notional, BigInt(feeBps)));
            expect(fee * 10_000n).to.be.gte(notional * BigInt(feeBps));
          },
        ),
        RUNS,
      );
    });
  });

  describe("MarkPrice", () => {
    it("CH-14: basisAt, clampBasis and markFrom equal the model", async () => {
      const harness = await loadFixture(deployHarness);
      const basis = fc.bigInt({ min: -(10n ** 23n), max: 10n ** 23n });
      await fc.assert(
        fc.asyncProperty(
          basis,
          basis,
          fc.bigInt({ min: 0n, max: 2n ** 31n }),
          fc.bigInt({ min: 0n, max: 10n ** 6n }),
          fc.bigInt({ min: 1n, max: 10n ** 24n }),
          fc.integer({ min: 0, max: 5_000 }),
          async (ema, sample, sampledAt, elapsed, index, band) => {
            const now = sampledAt + elapsed;
            const b = await harness.basisAt(ema, sample, sampledAt, now, 1_800n);
            expect(b).to.equal(basisAt(ema, sample, sampledAt, now, 1_800n));
            // The EMA stays between the old EMA and the sample.
            const [lo, hi] = ema < sample ? [ema, sample] : [sample, ema];
            expect(b >= lo && b <= hi).to.equal(true);
            const clamped = await harness.clampBasis(b, index, band);
            expect(clamped).to.equal(clampBasis(b, index, BigInt(band)));
            expect(clamped * 10_000n <= index * BigInt(band) && -clamped * 10_000n <= index * BigInt(band)).to.equal(
              true,
            );
          },
        ),
        RUNS,
      );
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: 10n ** 24n }),
          fc.integer({ min: 0, max: 5_000 }),
          fc.bigInt({ min: 1_800n, max: 35n * 86_400n }),
          fc.bigInt({ min: 0n, max: 40n * 86_400n }),
          fc.bigInt({ min: 1n, max: 10n ** 24n }),
          async (index, bandBps, window, observedOffset, avg) => {
            const basis = (index * BigInt(bandBps)) / 20_000n;
            const windowStart = 1_900_000_000n;
            const expiry = windowStart + window;
            const observedUntil = windowStart - 86_400n + observedOffset;
            const mark = await harness.markFrom(index, basis, windowStart, expiry, observedUntil, avg);
            expect(mark).to.equal(markFrom(index, basis, windowStart, expiry, observedUntil, avg));
            const forward = index + basis;
            const [lo, hi] = forward < avg ? [forward, avg] : [avg, forward];
            if (observedUntil > windowStart) expect(mark >= lo && mark <= hi).to.equal(true);
            else expect(mark).to.equal(forward);
          },
        ),
        RUNS,
      );
    });
  });

  describe("SeriesSet", () => {
    it("adds up to 8 ids, refuses a 9th, removes any, lists in lane order", async () => {
      const harness = await loadFixture(deployHarness);
      let set = 0n;
      for (let id = 1; id <= 8; id++) {
        const [next, ok] = await harness.setAdd(set, id * 1_000);
        expect(ok).to.equal(true);
        set = next;
      }
      const [, full] = await harness.setAdd(set, 9);
      expect(full).to.equal(false);
      expect(await harness.setToArray(set)).to.include(3_000n);
      set = await harness.setRemove(set, 3_000);
      expect(await harness.setToArray(set)).to.not.include(3_000n);
      expect(await harness.setToArray(set)).to.deep.equal([1_000n, 2_000n, 4_000n, 5_000n, 6_000n, 7_000n, 8_000n]);
      const [refilled, ok] = await harness.setAdd(set, 4_294_967_295);
      expect(ok).to.equal(true);
      expect((await harness.setToArray(refilled))[2]).to.equal(4_294_967_295n);
      expect(await harness.setRemove(refilled, 77)).to.equal(refilled);
    });
  });
});
