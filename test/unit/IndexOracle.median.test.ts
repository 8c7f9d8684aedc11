import { expect } from "chai";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";
import { median, parseX18 } from "../../sdk";
import { IndexOracle__factory } from "../../typechain-types";
import { AIT, DEFAULT_PARAMS, reporterWallets, signRound } from "../fixtures/oracle";

const N_REPORTERS = 7;

async function sevenReportersFixture() {
  const [deployer, admin] = await ethers.getSigners();
  const reporters = reporterWallets(N_REPORTERS);
  const oracle = await new IndexOracle__factory(deployer).deploy(admin.address, admin.address);
  // A wide guard so the property looks at the median itself, not at the guard.
  await oracle.connect(admin).createFeed(
    AIT,
    { ...DEFAULT_PARAMS, jumpGuardBps: 5_000n },
    1,
    reporters.map((r) => r.address),
    4,
  );
  return { oracle, reporters };
}

describe("IndexOracle median under arbitrary reporters (ORC-03)", function () {
  it("keeps the accepted price within the honest reports when f < n/2 are arbitrary", async function () {
    const { oracle, reporters } = await loadFixture(sevenReportersFixture);
    const max = await oracle.MAX_PRICE_X18();
    const honestCenter = parseX18("4.0465");
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 4, max: N_REPORTERS }),
        fc.array(fc.bigInt({ min: -100n, max: 100n }), { minLength: N_REPORTERS, maxLength: N_REPORTERS }),
        // x1000, x0.001, the smallest positive price (zero is refused outright), the maximum
        fc.array(fc.constantFrom("x1000", "x0.001", "min", "max"), { minLength: N_REPORTERS, maxLength: N_REPORTERS }),
        fc.integer({ min: 0, max: 3 }),
        async (n, honestMovesBps, badKinds, fRequested) => {
          const f = Math.min(fRequested, Math.floor((n - 1) / 2));
          const honest = honestMovesBps.slice(0, n - f).map((bps) => (honestCenter * (10_000n + bps)) / 10_000n);
          const bad = badKinds.slice(0, f).map((kind) => {
            if (kind === "x1000") return honestCenter * 1000n;
            if (kind === "x0.001") return honestCenter / 1000n;
            if (kind === "min") return 1n;
            return max;
          });
          const prices = [...bad, ...honest];
          const observedAt = BigInt(await time.latest()) + DEFAULT_PARAMS.minIntervalSec;
          await time.setNextBlockTimestamp(observedAt);
          const reports = await signRound(oracle, reporters.slice(0, n), prices, { observedAt });
          const receipt = await (await oracle.submit(AIT, reports)).wait();
          const event = receipt!.logs
            .map((log) => oracle.interface.parseLog(log))
            .find((parsed) => parsed?.name === "RoundAccepted" || parsed?.name === "RoundHeld");
          const accepted = event!.args.priceX18 as bigint;
          expect(accepted).to.equal(median(prices));
          const low = honest.reduce((a, b) => (a < b ? a : b));
          const high = honest.reduce((a, b) => (a > b ? a : b));
          expect(accepted >= low && accepted <= high, `median ${accepted} outside [${low}, ${high}]`).to.equal(true);
        },
      ),
      { numRuns: 40, seed: 23 },
    );
  });
});
