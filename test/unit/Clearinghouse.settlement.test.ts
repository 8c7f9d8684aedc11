import { expect } from "chai";
import { encodeBytes32String } from "ethers";
import type { Wallet } from "ethers";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { IndexOracle } from "../../typechain-types";
import { AIT, aitRisk, aitSpec, deploy6, fill, publish, units } from "../fixtures/clearinghouse";
import { ReferencePriceHistory, governanceBounds, parseX18, settlementPnlX18 } from "../../sdk";

const DAY = 86_400n;
const STATUS = { None: 0n, Proposed: 1n, Challenged: 2n, Final: 3n };

/** Publishes a round every `stepSec` until `until`, each at a price from `priceAt`; records them. */
async function publishUntil(
  oracle: IndexOracle,
  reporters: Wallet[],
  until: bigint,
  stepSec: bigint,
  priceAt: (i: number) => bigint,
  history?: ReferencePriceHistory,
) {
  for (let i = 0; BigInt(await time.latest()) + stepSec <= until; i++) {
    await time.increase(stepSec - 1n);
    const price = priceAt(i);
    await publish(oracle, reporters, AIT, price);
    history?.record({ observedAt: BigInt(await time.latest()), priceX18: price });
  }
}

/** The fixture with alice, bob and carol trading, and daily index rounds through expiry + 1 day. */
async function tradedAndExpired() {
  const f = await loadFixture(deploy6);
  const { clearinghouse: ch, engine, alice, bob, carol, oracle, reporters, expiry } = f;
  for (const who of [alice, bob, carol]) await ch.connect(who).deposit(units(100_000, 6));
  await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 7n, "4.010"));
  await ch.connect(engine).applyTrade(fill(1n, carol.address, bob.address, 3n, "3.990", false));
  await ch.connect(engine).applyTrade(fill(1n, carol.address, alice.address, 5n, "4.020"));
  await publishUntil(oracle, reporters, expiry + DAY, DAY / 2n, (i) => parseX18("4") + BigInt(i % 7) * 10n ** 15n);
  return f;
}

describe("Clearinghouse settlement", () => {
  describe("#finalizeSettlement", () => {
    it("SET-02: reverts before expiry", async () => {
      const { clearinghouse: ch, expiry } = await loadFixture(deploy6);
      await expect(ch.finalizeSettlement(1)).to.be.revertedWithCustomError(ch, "SeriesNotExpired").withArgs(1, expiry);
    });

    it("SET-02: reverts while a round observed before expiry may still arrive", async () => {
      const { clearinghouse: ch, oracle, reporters, expiry } = await loadFixture(deploy6);
      await publishUntil(oracle, reporters, expiry - 3_600n, DAY / 2n, () => parseX18("4"));
      const [, lastObservedAt] = await oracle.peekLatest(AIT);
      await time.increaseTo(expiry + 60n);
      await expect(ch.finalizeSettlement(1))
        .to.be.revertedWithCustomError(ch, "SettlementDataIncomplete")
        .withArgs(1, lastObservedAt, expiry + DAY);
      // Once the feed's max age has passed since expiry no earlier round can arrive: the TWAP is complete.
      await time.increaseTo(expiry + DAY + 1n);
      await expect(ch.finalizeSettlement(1)).to.emit(ch, "SettlementProposed");
    });

    it("SET-01: proposes the oracle TWAP over the window, final after the dispute window", async () => {
      const { clearinghouse: ch, oracle, expiry } = await tradedAndExpired();
      const spec = await ch.seriesSpec(1);
      const windowStart = expiry - spec.averagingWindowSec;
      const twap = await oracle.twap(AIT, windowStart, expiry);
      const tx = await ch.finalizeSettlement(1);
      const finalAt = BigInt(await time.latest()) + 7_200n;
      await expect(tx).to.emit(ch, "SettlementProposed").withArgs(1, twap, 60, finalAt);
      expect((await ch.settlementOf(1)).status).to.equal(STATUS.Proposed);
      await time.increaseTo(finalAt);
      const s = await ch.settlementOf(1);
      expect([s.status, s.priceX18, s.governed]).to.deep.equal([STATUS.Final, twap, false]);
    });

    it("SET-02: reverts when called twice", async () => {
      const { clearinghouse: ch } = await tradedAndExpired();
      await ch.finalizeSettlement(1);
      await expect(ch.finalizeSettlement(1))
        .to.be.revertedWithCustomError(ch, "SettlementStatusInvalid")
        .withArgs(1, STATUS.Proposed);
      await time.increase(7_200);
      await expect(ch.finalizeSettlement(1))
        .to.be.revertedWithCustomError(ch, "SettlementStatusInvalid")
        .withArgs(1, STATUS.Final);
    });

    it("SET-02: reverts with another methodology version or too few rounds", async () => {
      const { clearinghouse: ch, admin, oracle, reporters, expiry } = await loadFixture(deploy6);
      await ch
        .connect(admin)
        .listSeries(aitSpec(expiry, { symbol: encodeBytes32String("AIT-V2"), methodologyVersion: 2 }), aitRisk());
      await ch
        .connect(admin)
        .listSeries(aitSpec(expiry, { symbol: encodeBytes32String("AIT-MANY"), minSettlementRounds: 100 }), aitRisk());
      await publishUntil(oracle, reporters, expiry + 3_600n, DAY / 2n, () => parseX18("4"));
      await expect(ch.finalizeSettlement(2))
        .to.be.revertedWithCustomError(ch, "SettlementMethodologyMismatch")
        .withArgs(2, 1, 2);
      await expect(ch.finalizeSettlement(3))
        .to.be.revertedWithCustomError(ch, "SettlementTooFewRounds")
        .withArgs(3, 60, 100);
    });

    it("SET-02: reverts with the oracle's reason when the window's data is unavailable", async () => {
      const { clearinghouse: ch, oracle, reporters, expiry } = await loadFixture(deploy6);
      // No round for more than the max age before expiry: the TWAP ending at expiry is stale.
      await time.increaseTo(expiry - 2n * DAY);
      await publish(oracle, reporters, AIT, "4");
      await time.increaseTo(expiry + 10n);
      await publish(oracle, reporters, AIT, "4");
      const tx = ch.finalizeSettlement(1);
      await expect(tx).to.be.revertedWithCustomError(ch, "SettlementDataUnavailable");
      let reason = "0x";
      try {
        await ch.finalizeSettlement.staticCall(1);
      } catch (error) {
        reason = (error as { data: string }).data;
      }
      const decoded = ch.interface.decodeErrorResult("SettlementDataUnavailable", reason);
      expect(oracle.interface.parseError(decoded[1])?.name).to.equal("TwapDataStale");
    });

    it("SET-01: equals the model TWAP for random observation paths", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 3_000, max: 5_000 }), { minLength: 70, maxLength: 70 }),
          fc.integer({ min: 3_600, max: 43_200 }),
          async (pricesMilli, stepSec) => {
            const { clearinghouse: ch, oracle, reporters, expiry } = await loadFixture(deploy6);
            const history = new ReferencePriceHistory();
            const [latestPrice, latestAt] = await oracle.peekLatest(AIT);
            history.record({ observedAt: latestAt, priceX18: latestPrice });
            // Random walk inside the jump guard: each round within 10% of the previous one.
            let previous = 4_000n;
            const path = pricesMilli.map((p) => {
              let next = BigInt(p);
              if (next > (previous * 11n) / 10n) next = (previous * 11n) / 10n;
              if (next < (previous * 9n) / 10n + 1n) next = (previous * 9n) / 10n + 1n;
              previous = next;
              return next * 10n ** 15n;
            });
            await time.increaseTo(expiry - 30n * DAY - 5n * DAY);
            await publish(oracle, reporters, AIT, path[0]);
            history.record({ observedAt: BigInt(await time.latest()), priceX18: path[0] });
            const step = BigInt(stepSec);
            let i = 1;
            while (BigInt(await time.latest()) + step <= expiry + step) {
              await time.increase(step - 1n);
              const price = path[i % path.length];
              i++;
              await publish(oracle, reporters, AIT, price);
              history.record({ observedAt: BigInt(await time.latest()), priceX18: price });
            }
            await ch.finalizeSettlement(1);
            const expected = history.twap(expiry - 30n * DAY, expiry);
            expect((await ch.settlementOf(1)).priceX18).to.equal(expected);
          },
        ),
        { numRuns: 4, seed: 3 },
      );
    });
  });

  describe("#challengeSettlement and #setSettlementPriceByGovernance", () => {
    it("SET-03: the guardian challenges within the dispute window only", async () => {
      const { clearinghouse: ch, guardian, stranger } = await tradedAndExpired();
      await expect(ch.connect(guardian).challengeSettlement(1))
        .to.be.revertedWithCustomError(ch, "SettlementStatusInvalid")
        .withArgs(1, STATUS.None);
      await ch.finalizeSettlement(1);
      await expect(ch.connect(stranger).challengeSettlement(1)).to.be.revertedWithCustomError(
        ch,
        "AccessControlUnauthorizedAccount",
      );
      const { priceX18, finalAt } = await ch.settlementOf(1);
      await expect(ch.connect(guardian).challengeSettlement(1))
        .to.emit(ch, "SettlementChallenged")
        .withArgs(1, guardian.address, priceX18);
      expect((await ch.settlementOf(1)).status).to.equal(STATUS.Challenged);
      // Challenged stays halted: no settlement of accounts.
      await time.increaseTo(finalAt + DAY);
      expect((await ch.settlementOf(1)).status).to.equal(STATUS.Challenged);
      await expect(ch.settleAccounts(1, []))
        .to.be.revertedWithCustomError(ch, "SettlementStatusInvalid")
        .withArgs(1, STATUS.Challenged);
    });

    it("SET-03: reverts a challenge after the dispute window", async () => {
      const { clearinghouse: ch, guardian } = await tradedAndExpired();
      await ch.finalizeSettlement(1);
      const { finalAt } = await ch.settlementOf(1);
      await time.increaseTo(finalAt);
      await expect(ch.connect(guardian).challengeSettlement(1))
        .to.be.revertedWithCustomError(ch, "DisputeWindowClosed")
        .withArgs(1, finalAt);
    });

    it("SET-03: accepts a challenge in the last second of the dispute window", async () => {
      const { clearinghouse: ch, guardian } = await tradedAndExpired();
      await ch.finalizeSettlement(1);
      const { finalAt } = await ch.settlementOf(1);
      await time.setNextBlockTimestamp(finalAt - 1n);
      await ch.connect(guardian).challengeSettlement(1);
      expect((await ch.settlementOf(1)).status).to.equal(STATUS.Challenged);
    });

    it("SET-03: governance sets a challenged price after the grace period, within the band of the last index", async () => {
      const { clearinghouse: ch, admin, guardian, oracle, expiry } = await tradedAndExpired();
      await ch.finalizeSettlement(1);
      await ch.connect(guardian).challengeSettlement(1);
      const availableAt = expiry + 3n * DAY;
      await expect(ch.connect(admin).setSettlementPriceByGovernance(1, parseX18("4")))
        .to.be.revertedWithCustomError(ch, "GovernanceGracePending")
        .withArgs(1, availableAt);
      await time.increaseTo(availableAt);
      const [lastIndex] = await oracle.peekLatest(AIT);
      const { minX18, maxX18 } = governanceBounds(lastIndex);
      await expect(ch.connect(admin).setSettlementPriceByGovernance(1, maxX18 + 1n))
        .to.be.revertedWithCustomError(ch, "SettlementPriceOutOfBounds")
        .withArgs(1, maxX18 + 1n, minX18, maxX18);
      await expect(ch.connect(admin).setSettlementPriceByGovernance(1, minX18 - 1n))
        .to.be.revertedWithCustomError(ch, "SettlementPriceOutOfBounds")
        .withArgs(1, minX18 - 1n, minX18, maxX18);
      await expect(ch.connect(admin).setSettlementPriceByGovernance(1, minX18))
        .to.emit(ch, "SettlementGoverned")
        .withArgs(1, minX18, lastIndex);
      const s = await ch.settlementOf(1);
      expect([s.status, s.priceX18, s.governed]).to.deep.equal([STATUS.Final, minX18, true]);
      await expect(ch.connect(admin).setSettlementPriceByGovernance(1, minX18))
        .to.be.revertedWithCustomError(ch, "SettlementStatusInvalid")
        .withArgs(1, STATUS.Final);
    });

    it("SET-03: governance may not replace an automatic settlement that is possible", async () => {
      const { clearinghouse: ch, admin, oracle, expiry } = await tradedAndExpired();
      await time.increaseTo(expiry + 3n * DAY);
      const spec = await ch.seriesSpec(1);
      const twap = await oracle.twap(AIT, expiry - spec.averagingWindowSec, expiry);
      await expect(ch.connect(admin).setSettlementPriceByGovernance(1, parseX18("4")))
        .to.be.revertedWithCustomError(ch, "SettlementDataAvailable")
        .withArgs(1, twap);
    });

    it("SET-03: governance settles a data-less series after the grace period", async () => {
      const { clearinghouse: ch, admin, expiry } = await loadFixture(deploy6);
      // No rounds during the window at all: the TWAP over it is stale, automatic settlement impossible.
      await time.increaseTo(expiry + 3n * DAY);
      await expect(ch.finalizeSettlement(1)).to.be.revertedWithCustomError(ch, "SettlementDataUnavailable");
      await expect(ch.connect(admin).setSettlementPriceByGovernance(1, parseX18("3.9")))
        .to.emit(ch, "SettlementGoverned")
        .withArgs(1, parseX18("3.9"), parseX18("4"));
    });
  });

  describe("#settleAccount and #settleAccounts", () => {
    it("SET-04: reverts before the price is final and for an account without a position", async () => {
      const { clearinghouse: ch, stranger, bob } = await tradedAndExpired();
      await expect(ch.settleAccount(1, bob.address))
        .to.be.revertedWithCustomError(ch, "SettlementStatusInvalid")
        .withArgs(1, STATUS.None);
      await ch.finalizeSettlement(1);
      await time.increase(7_200);
      await expect(ch.settleAccount(1, stranger.address))
        .to.be.revertedWithCustomError(ch, "NothingToSettle")
        .withArgs(stranger.address, 1);
    });

    it("SET-04: settles in batches, skips settled accounts; all PnL (realized + settlement) plus fees sums to zero", async () => {
      const { clearinghouse: ch, alice, bob, carol, stranger } = await tradedAndExpired();
      const actors = [alice, bob, carol];
      const positions = await Promise.all(actors.map((a) => ch.positionOf(a.address, 1)));
      const cashBefore = await Promise.all(actors.map((a) => ch.cashOf(a.address)));
      await ch.finalizeSettlement(1);
      await time.increase(7_200);
      const { priceX18 } = await ch.settlementOf(1);
      await expect(ch.settleAccounts(1, [alice.address, stranger.address]))
        .to.emit(ch, "AccountSettled")
        .withArgs(
          alice.address,
          1,
          positions[0].sizeQty,
          settlementPnlX18(positions[0].sizeQty, positions[0].openNotionalX18, priceX18, 1_000n),
        );
      expect(await ch.settleAccounts.staticCall(1, [alice.address, bob.address, carol.address])).to.equal(2n);
      await ch.settleAccounts(1, [alice.address, bob.address]);
      await ch.settleAccount(1, carol.address);
      let lifetimeSum = 0n;
      for (let i = 0; i < actors.length; i++) {
        const cash = await ch.cashOf(actors[i].address);
        expect(cash - cashBefore[i]).to.equal(
          settlementPnlX18(positions[i].sizeQty, positions[i].openNotionalX18, priceX18, 1_000n),
        );
        expect((await ch.positionOf(actors[i].address, 1)).sizeQty).to.equal(0n);
        expect(await ch.seriesOf(actors[i].address)).to.deep.equal([]);
        // Each actor deposited 100,000: what it has above that is its realized + settlement PnL net of fees.
        lifetimeSum += cash - parseX18("100000");
      }
      expect(lifetimeSum + (await ch.feePoolX18()) + (await ch.insuranceFundX18())).to.equal(0n);
      expect((await ch.marketState(1)).openInterestQty).to.equal(0n);
    });

    it("SET-04: settles lazily on the account's next action, and every account then withdraws everything", async () => {
      const { clearinghouse: ch, token, alice, bob, carol } = await tradedAndExpired();
      await ch.finalizeSettlement(1);
      await time.increase(7_200);
      await ch.connect(bob).deposit(1n);
      expect((await ch.positionOf(bob.address, 1)).sizeQty).to.equal(0n);
      for (const who of [alice, bob, carol]) {
        const before = await ch.cashOf(who.address);
        const raw = (before > 0n ? before : 0n) / 10n ** 12n;
        await ch.connect(who).withdraw(who.address, raw, who.address);
        expect((await ch.positionOf(who.address, 1)).sizeQty).to.equal(0n);
      }
      const left = (await token.balanceOf(await ch.getAddress())) * 10n ** 12n;
      expect(left).to.equal(
        (await ch.cashOf(alice.address)) +
          (await ch.cashOf(bob.address)) +
          (await ch.cashOf(carol.address)) +
          (await ch.feePoolX18()) +
          (await ch.insuranceFundX18()),
      );
    });

    it("values a final but unsettled position at the settlement price", async () => {
      const { clearinghouse: ch, bob } = await tradedAndExpired();
      await ch.finalizeSettlement(1);
      await time.increase(7_200);
      const { priceX18 } = await ch.settlementOf(1);
      expect(await ch.markPrice(1)).to.equal(priceX18);
      const pos = await ch.positionOf(bob.address, 1);
      const h = await ch.accountHealth(bob.address);
      expect(h.unrealizedPnlX18).to.equal(settlementPnlX18(pos.sizeQty, pos.openNotionalX18, priceX18, 1_000n));
    });
  });
});
