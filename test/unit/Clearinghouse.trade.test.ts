import { expect } from "chai";
import { ethers } from "hardhat";
import { encodeBytes32String } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { AIT, aitRisk, aitSpec, deploy6, fill, publish, units } from "../fixtures/clearinghouse";
import { accountHealth, applyTrade, feeX18, notionalX18, parseX18 } from "../../sdk";

const MULT = 1_000n;

async function funded() {
  const f = await loadFixture(deploy6);
  await f.clearinghouse.connect(f.alice).deposit(units(100_000, 6));
  await f.clearinghouse.connect(f.bob).deposit(units(100_000, 6));
  await f.clearinghouse.connect(f.carol).deposit(units(100_000, 6));
  return f;
}

describe("Clearinghouse trading", () => {
  describe("#applyTrade", () => {
    it("CH-04: books positions, realized PnL and fees exactly as the reference model", async () => {
      const { clearinghouse: ch, engine, alice, bob } = await funded();
      const steps: Array<[bigint, string, boolean]> = [
        [10n, "4.010", true],
        [4n, "4.050", false],
        [9n, "3.990", false],
        [3n, "4.000", true],
      ];
      const model = {
        alice: { size: 0n, open: 0n, cash: parseX18("100000") },
        bob: { size: 0n, open: 0n, cash: parseX18("100000") },
      };
      let pool = 0n;
      for (const [qty, price, takerIsBuy] of steps) {
        await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, qty, price, takerIsBuy));
        const priceX18 = parseX18(price);
        const notional = notionalX18(qty, priceX18, MULT);
        const makerFee = feeX18(notional, 1n);
        const takerFee = feeX18(notional, 5n);
        const takerDelta = takerIsBuy ? qty : -qty;
        const m = applyTrade(model.alice.size, model.alice.open, -takerDelta, priceX18, MULT);
        const t = applyTrade(model.bob.size, model.bob.open, takerDelta, priceX18, MULT);
        model.alice = {
          size: m.newSizeQty,
          open: m.newOpenNotionalX18,
          cash: model.alice.cash + m.realizedPnlX18 - makerFee,
        };
        model.bob = {
          size: t.newSizeQty,
          open: t.newOpenNotionalX18,
          cash: model.bob.cash + t.realizedPnlX18 - takerFee,
        };
        pool += makerFee + takerFee;
      }
      for (const [who, state] of [
        [alice, model.alice],
        [bob, model.bob],
      ] as const) {
        const pos = await ch.positionOf(who.address, 1);
        expect(pos.sizeQty).to.equal(state.size);
        expect(pos.openNotionalX18).to.equal(state.open);
        expect(await ch.cashOf(who.address)).to.equal(state.cash);
      }
      expect(await ch.feePoolX18()).to.equal(pool);
      expect((await ch.marketState(1)).openInterestQty).to.equal(
        model.bob.size > 0n ? model.bob.size : model.alice.size,
      );
    });

    it("CH-04: account health equals the model at the mark", async () => {
      const { clearinghouse: ch, engine, alice, bob } = await funded();
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 7n, "4.100"));
      const mark = await ch.markPrice(1);
      for (const who of [alice, bob]) {
        const pos = await ch.positionOf(who.address, 1);
        const expected = accountHealth(await ch.cashOf(who.address), [
          {
            sizeQty: pos.sizeQty,
            openNotionalX18: pos.openNotionalX18,
            markX18: mark,
            multiplier: MULT,
            imBps: 2500n,
            mmBps: 1250n,
          },
        ]);
        const h = await ch.accountHealth(who.address);
        expect([
          h.cashX18,
          h.unrealizedPnlX18,
          h.equityX18,
          h.initialMarginX18,
          h.maintenanceMarginX18,
          h.withdrawableX18,
        ]).to.deep.equal([
          expected.cashX18,
          expected.unrealizedPnlX18,
          expected.equityX18,
          expected.initialMarginX18,
          expected.maintenanceMarginX18,
          expected.withdrawableX18,
        ]);
      }
    });

    it("emits TradeSettled, PositionChanged, FeesBooked and BasisSampled", async () => {
      const { clearinghouse: ch, engine, alice, bob } = await funded();
      const notional = notionalX18(2n, parseX18("4.2"), MULT);
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 2n, "4.200")))
        .to.emit(ch, "TradeSettled")
        .withArgs(1, alice.address, bob.address, true, 2n, parseX18("4.2"), feeX18(notional, 1n), feeX18(notional, 5n))
        .and.to.emit(ch, "PositionChanged")
        .withArgs(bob.address, 1, 2n, notional, 0n)
        .and.to.emit(ch, "BasisSampled")
        .withArgs(1, parseX18("0.2"), 0n);
    });

    it("splits fees between the insurance fund and the fee pool, rounding the insurance share down", async () => {
      const { clearinghouse: ch, engine, admin, alice, bob } = await funded();
      await ch.connect(admin).setInsuranceFeeShare(3_333);
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 3n, "4.001"));
      const notional = notionalX18(3n, parseX18("4.001"), MULT);
      const total = feeX18(notional, 1n) + feeX18(notional, 5n);
      const toInsurance = (total * 3_333n) / 10_000n;
      expect(await ch.insuranceFundX18()).to.equal(toInsurance);
      expect(await ch.feePoolX18()).to.equal(total - toInsurance);
    });

    it("pays a maker rebate that never exceeds the taker fee", async () => {
      const { clearinghouse: ch, engine, admin, alice, bob } = await funded();
      await ch.connect(admin).setRiskParams(1, aitRisk({ makerFeeBps: -5, takerFeeBps: 5 }));
      const before = await ch.cashOf(alice.address);
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 1n, "4.001"));
      const notional = notionalX18(1n, parseX18("4.001"), MULT);
      expect((await ch.cashOf(alice.address)) - before).to.equal((notional * 5n) / 10_000n);
      expect(await ch.feePoolX18()).to.equal(feeX18(notional, 5n) + feeX18(notional, -5n));
      expect(await ch.feePoolX18()).to.be.gte(0n);
    });

    it("flips a position through zero and keeps the series set in step", async () => {
      const { clearinghouse: ch, engine, alice, bob } = await funded();
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 5n, "4.000"));
      expect(await ch.seriesOf(bob.address)).to.deep.equal([1n]);
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 5n, "4.000", false));
      expect(await ch.seriesOf(bob.address)).to.deep.equal([]);
      expect((await ch.marketState(1)).openInterestQty).to.equal(0n);
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 8n, "4.000", false));
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 12n, "4.000", true));
      expect((await ch.positionOf(bob.address, 1)).sizeQty).to.equal(4n);
      expect((await ch.positionOf(alice.address, 1)).sizeQty).to.equal(-4n);
      expect((await ch.marketState(1)).openInterestQty).to.equal(4n);
    });

    it("reverts when the series is unknown, expired, or the fill is malformed", async () => {
      const { clearinghouse: ch, engine, alice, bob, expiry } = await funded();
      await expect(ch.connect(engine).applyTrade(fill(2n, alice.address, bob.address, 1n, "4")))
        .to.be.revertedWithCustomError(ch, "UnknownSeries")
        .withArgs(2);
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 0n, "4")))
        .to.be.revertedWithCustomError(ch, "QtyBelowMinimum")
        .withArgs(1, 0, 1);
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 1n, "4.0005")))
        .to.be.revertedWithCustomError(ch, "PriceNotOnTick")
        .withArgs(1, parseX18("4.0005"), parseX18("0.001"));
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 1n, "0")))
        .to.be.revertedWithCustomError(ch, "PriceNotOnTick")
        .withArgs(1, 0, parseX18("0.001"));
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, alice.address, 1n, "4")))
        .to.be.revertedWithCustomError(ch, "SelfTrade")
        .withArgs(alice.address);
      await expect(
        ch.connect(engine).applyTrade(fill(1n, ethers.ZeroAddress, alice.address, 1n, "4")),
      ).to.be.revertedWithCustomError(ch, "ZeroAddress");
      await time.increaseTo(expiry);
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 1n, "4")))
        .to.be.revertedWithCustomError(ch, "SeriesExpired")
        .withArgs(1, expiry);
    });

    it("reverts when the price is outside the band around the mark, at band + 1 tick", async () => {
      const { clearinghouse: ch, engine, alice, bob } = await funded();
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 1n, "4.401")))
        .to.be.revertedWithCustomError(ch, "PriceOutsideBand")
        .withArgs(1, parseX18("4.401"), parseX18("3.6"), parseX18("4.4"));
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 1n, "3.599")))
        .to.be.revertedWithCustomError(ch, "PriceOutsideBand")
        .withArgs(1, parseX18("3.599"), parseX18("3.6"), parseX18("4.4"));
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 1n, "4.400"));
      expect((await ch.positionOf(bob.address, 1)).sizeQty).to.equal(1n);
    });

    it("reverts above the position limit and the open-interest cap", async () => {
      const { clearinghouse: ch, engine, admin, alice, bob, carol, stranger, token } = await funded();
      await token.mint(stranger.address, units(100_000, 6));
      await token.connect(stranger).approve(await ch.getAddress(), ethers.MaxUint256);
      await ch.connect(stranger).deposit(units(100_000, 6));
      await ch.connect(admin).setRiskParams(1, aitRisk({ positionLimitQty: 10n, openInterestCapQty: 15n }));
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 11n, "4")))
        .to.be.revertedWithCustomError(ch, "PositionLimitExceeded")
        .withArgs(alice.address, 1, 11, 10);
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 10n, "4"));
      await expect(ch.connect(engine).applyTrade(fill(1n, stranger.address, carol.address, 6n, "4")))
        .to.be.revertedWithCustomError(ch, "OpenInterestCapExceeded")
        .withArgs(1, 16, 15);
      // Reducing open interest is always allowed, even above a lowered cap.
      await ch.connect(admin).setRiskParams(1, aitRisk({ positionLimitQty: 10n, openInterestCapQty: 1n }));
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 4n, "4", false));
      expect((await ch.marketState(1)).openInterestQty).to.equal(6n);
    });

    it("reverts when an account would hold more than MAX_SERIES_PER_ACCOUNT series", async () => {
      const { clearinghouse: ch, engine, admin, alice, bob, expiry } = await funded();
      const max = await ch.MAX_SERIES_PER_ACCOUNT();
      for (let i = 2n; i <= max + 1n; i++) {
        await ch.connect(admin).listSeries(aitSpec(expiry, { symbol: encodeBytes32String(`AIT-S${i}`) }), aitRisk());
      }
      for (let id = 1n; id <= max; id++) {
        await ch.connect(engine).applyTrade(fill(id, alice.address, bob.address, 1n, "4"));
      }
      expect((await ch.seriesOf(bob.address)).length).to.equal(Number(max));
      await expect(ch.connect(engine).applyTrade(fill(max + 1n, alice.address, bob.address, 1n, "4")))
        .to.be.revertedWithCustomError(ch, "TooManySeries")
        .withArgs(alice.address, max);
      expect((await ch.accountHealth(bob.address)).initialMarginX18).to.equal(parseX18("1000") * max);
    });
  });

  describe("margin", () => {
    it("CH-12: reverts a risk-increasing fill that ends below initial margin, at the exact boundary", async () => {
      const { clearinghouse: ch, engine, alice, bob, carol, stranger, token } = await loadFixture(deploy6);
      await ch.connect(alice).deposit(units(100_000, 6));
      // 1 contract at 4.000: IM 1,000; taker fee 2. Carol's equity after the fill = deposit - 2.
      await ch.connect(carol).deposit(1_002n * 10n ** 6n - 1n);
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, carol.address, 1n, "4")))
        .to.be.revertedWithCustomError(ch, "InsufficientMargin")
        .withArgs(carol.address, parseX18("999.999999"), parseX18("1000"));
      await ch.connect(carol).deposit(1n);
      await ch.connect(engine).applyTrade(fill(1n, alice.address, carol.address, 1n, "4"));
      const h = await ch.accountHealth(carol.address);
      expect(h.equityX18).to.equal(h.initialMarginX18);
      expect(h.withdrawableX18).to.equal(0n);
      await expect(ch.connect(carol).withdraw(carol.address, 1n, carol.address))
        .to.be.revertedWithCustomError(ch, "InsufficientFreeCollateral")
        .withArgs(carol.address, 10n ** 12n, 0n);
      void bob;
      void stranger;
      void token;
    });

    it("CH-12: lets an account below initial margin reduce near the mark but not at a price that lowers its surplus", async () => {
      const { clearinghouse: ch, engine, admin, oracle, reporters, alice, bob, carol } = await loadFixture(deploy6);
      await ch.connect(admin).setRiskParams(1, aitRisk({ mmBps: 500 }));
      await ch.connect(alice).deposit(units(100_000, 6));
      await ch.connect(bob).deposit(units(100_000, 6));
      await ch.connect(carol).deposit(units(11_000, 6));
      await ch.connect(engine).applyTrade(fill(1n, alice.address, carol.address, 10n, "4"));
      // The index falls 7.5%: carol (long 10) loses 3,000 and is below initial margin (9,250).
      await time.increase(900);
      await publish(oracle, reporters, AIT, "3.7");
      const h = await ch.accountHealth(carol.address);
      expect(h.equityX18).to.be.lt(h.initialMarginX18);
      // Selling 1 at 3.45 loses 250 + fee against the mark but frees only 185 of maintenance: refused.
      await expect(ch.connect(engine).applyTrade(fill(1n, bob.address, carol.address, 1n, "3.450", false)))
        .to.be.revertedWithCustomError(ch, "InsufficientMargin")
        .withArgs(carol.address, h.equityX18 - parseX18("250") - feeX18(parseX18("3450"), 5n), parseX18("8325"));
      // Selling 1 at 3.60 loses 100 + fee and frees 185: allowed although still below initial margin.
      await ch.connect(engine).applyTrade(fill(1n, bob.address, carol.address, 1n, "3.600", false));
      const after = await ch.accountHealth(carol.address);
      expect(after.equityX18).to.be.lt(after.initialMarginX18);
      expect(after.equityX18 - after.maintenanceMarginX18).to.be.gt(h.equityX18 - h.maintenanceMarginX18);
      expect((await ch.positionOf(carol.address, 1)).sizeQty).to.equal(9n);
    });

    it("CH-12: withdraws at most min(cash, equity - initial margin); unrealized profit is not withdrawable", async () => {
      const { clearinghouse: ch, engine, admin, oracle, reporters, alice, bob } = await funded();
      await ch.connect(admin).setRiskParams(1, aitRisk({ imBps: 200, mmBps: 100, liquidationPenaltyBps: 50 }));
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 10n, "4"));
      await time.increase(900);
      await publish(oracle, reporters, AIT, "4.2");
      const h = await ch.accountHealth(bob.address);
      // Bob's unrealized profit (2,000) exceeds his initial margin (840): only his cash is withdrawable.
      expect(h.equityX18 - h.initialMarginX18).to.be.gt(h.cashX18);
      expect(h.withdrawableX18).to.equal(h.cashX18);
      const hAlice = await ch.accountHealth(alice.address);
      expect(hAlice.withdrawableX18).to.equal(hAlice.equityX18 - hAlice.initialMarginX18);
      const tooMuch = hAlice.withdrawableX18 / 10n ** 12n + 1n;
      await expect(ch.connect(alice).withdraw(alice.address, tooMuch, alice.address))
        .to.be.revertedWithCustomError(ch, "InsufficientFreeCollateral")
        .withArgs(alice.address, tooMuch * 10n ** 12n, hAlice.withdrawableX18);
      await ch.connect(alice).withdraw(alice.address, tooMuch - 1n, alice.address);
      expect((await ch.accountHealth(alice.address)).withdrawableX18).to.be.lt(10n ** 12n);
    });
  });

  describe("stale index", () => {
    it("CH-13: refuses risk-increasing fills but allows reducing fills and withdrawals", async () => {
      const { clearinghouse: ch, engine, oracle, alice, bob } = await funded();
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 4n, "4"));
      await time.increase(86_401);
      const [, observedAt, , stale] = await oracle.peekLatest(AIT);
      expect(stale).to.equal(true);
      await expect(ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 1n, "4")))
        .to.be.revertedWithCustomError(ch, "IndexStale")
        .withArgs(1, observedAt);
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 2n, "4", false));
      expect((await ch.positionOf(bob.address, 1)).sizeQty).to.equal(2n);
      await ch.connect(bob).withdraw(bob.address, units(1_000, 6), bob.address);
    });
  });

  describe("mark price", () => {
    it("CH-14: equals the index before any trade and moves toward the traded basis over the EMA period", async () => {
      const { clearinghouse: ch, engine, alice, bob } = await funded();
      expect(await ch.markPrice(1)).to.equal(parseX18("4"));
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 1n, "4.200"));
      // A trade does not move the mark in its own block.
      expect(await ch.markPrice(1)).to.equal(parseX18("4"));
      const sampledAt = BigInt(await time.latest());
      await time.increaseTo(sampledAt + 900n);
      expect(await ch.markPrice(1)).to.equal(parseX18("4.1"));
      await time.increaseTo(sampledAt + 1_800n);
      expect(await ch.markPrice(1)).to.equal(parseX18("4.2"));
      await time.increaseTo(sampledAt + 90_000n);
      expect(await ch.markPrice(1)).to.equal(parseX18("4.2"));
    });

    it("CH-14: one trade at the band edge moves the basis by at most the band", async () => {
      const { clearinghouse: ch, engine, admin, alice, bob, oracle, reporters } = await funded();
      await ch.connect(engine).applyTrade(fill(1n, alice.address, bob.address, 1n, "4.400"));
      await time.increase(1_800);
      expect(await ch.markPrice(1)).to.equal(parseX18("4.4"));
      // The index drops: the stored sample is re-clamped to the band of the new index.
      await publish(oracle, reporters, AIT, "3.7");
      expect(await ch.markPrice(1)).to.equal(parseX18("4.07"));
      // A narrower band clamps the standing basis at once.
      await ch.connect(admin).setRiskParams(1, aitRisk({ orderBandBps: 100 }));
      expect(await ch.markPrice(1)).to.equal(parseX18("3.737"));
    });
  });
});
