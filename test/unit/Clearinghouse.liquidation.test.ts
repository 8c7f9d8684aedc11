import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { LIQUIDATOR_PENALTY_SHARE_BPS, isLiquidatable, liquidationPenalty, liquidationSize, parseX18 } from "../../sdk";
import type { LiquidationInputs } from "../../sdk";
import { PRODUCTS } from "../../config/series";
import { fill } from "../fixtures/clearinghouse";
import { aliceLongFixture, moveIndex } from "../fixtures/liquidation";
import type { LiquidationFixture } from "../fixtures/liquidation";
import { CancelReason, order } from "../helpers/orders";

const AIT_RISK = PRODUCTS.AIT.risk;
const MULTIPLIER = BigInt(PRODUCTS.AIT.contractMultiplier);
const MAX = 2n ** 64n - 1n;

/** alice long 20 at 4.000, index down to 3.000: equity ~4,960 against maintenance 7,500 (a partial). */
async function underwaterFixture() {
  const f = await aliceLongFixture();
  await moveIndex(f.oracle, f.reporters, "3");
  return f;
}

/** alice long 20 at 4.000, index down to 2.700: equity ~-1,040 (bankrupt; the fund holds 10,000). */
async function bankruptFixture() {
  const f = await aliceLongFixture();
  await moveIndex(f.oracle, f.reporters, "2.7");
  return f;
}

/** The model's inputs for liquidating `account` in series 1 now, read from the chain. */
async function inputsOf(f: LiquidationFixture, account: string, maxQty: bigint): Promise<LiquidationInputs> {
  const ch = f.clearinghouse;
  const health = await ch.accountHealth(account);
  return {
    sizeQty: (await ch.positionOf(account, f.seriesId)).sizeQty,
    markX18: await ch.markPrice(f.seriesId),
    multiplier: MULTIPLIER,
    lotQty: PRODUCTS.AIT.minQty,
    mmBps: BigInt(AIT_RISK.mmBps),
    liquidationPenaltyBps: BigInt(AIT_RISK.liquidationPenaltyBps),
    equityX18: health.equityX18,
    maintenanceMarginX18: health.maintenanceMarginX18,
    maxQty,
  };
}

/** equity / maintenance margin, in millionths. */
async function marginRatioPpm(f: LiquidationFixture, account: string): Promise<bigint> {
  const health = await f.clearinghouse.accountHealth(account);
  return (health.equityX18 * 1_000_000n) / health.maintenanceMarginX18;
}

describe("Clearinghouse liquidation", function () {
  describe("LQ-01: who qualifies (RELIABILITY item 7)", function () {
    it("LQ-01: reverts with AccountNotLiquidatable above maintenance margin", async function () {
      const f = await aliceLongFixture();
      await moveIndex(f.oracle, f.reporters, "3.6");
      const health = await f.clearinghouse.accountHealth(f.alice.address);
      expect(health.equityX18).to.be.greaterThan(health.maintenanceMarginX18);
      await expect(f.clearinghouse.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX))
        .to.be.revertedWithCustomError(f.clearinghouse, "AccountNotLiquidatable")
        .withArgs(f.alice.address, health.equityX18, health.maintenanceMarginX18);
    });

    it("LQ-01: exactly at maintenance margin reverts; one unit below succeeds", async function () {
      const f = await loadFixture(underwaterFixture);
      const ch = f.clearinghouse;
      const health = await ch.accountHealth(f.alice.address);
      const gap = health.maintenanceMarginX18 - health.equityX18;
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      // Front-running with a deposit that lifts equity exactly to maintenance: no longer liquidatable.
      await ch.connect(f.alice).deposit(gap);
      const at = await ch.accountHealth(f.alice.address);
      expect(at.equityX18).to.equal(at.maintenanceMarginX18);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX)).to.be.revertedWithCustomError(
        ch,
        "AccountNotLiquidatable",
      );
      await ethers.provider.send("evm_revert", [snapshot]);
      // A deposit one unit short of that still leaves the account liquidatable, and the liquidation goes through.
      await ch.connect(f.alice).deposit(gap - 1n);
      const below = await ch.accountHealth(f.alice.address);
      expect(below.maintenanceMarginX18 - below.equityX18).to.equal(1n);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX)).to.emit(ch, "Liquidated");
    });

    it("LQ-01: a tiny deposit or a reduction just before the liquidation does not stop it", async function () {
      const f = await loadFixture(underwaterFixture);
      const ch = f.clearinghouse;
      await ch.connect(f.alice).deposit(1n);
      // alice sells 1 contract to dave (reduces, at the mark's neighbourhood), still below maintenance.
      await ch.connect(f.dave).deposit(parseX18("10000"));
      await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.dave.address, f.alice.address, 1n, "3", false));
      const inputs = await inputsOf(f, f.alice.address, 20n);
      expect(inputs.sizeQty).to.equal(19n);
      expect(isLiquidatable(inputs.equityX18, inputs.maintenanceMarginX18)).to.equal(true);
      // The liquidator asked for up to 20 (the size before the reduction): it gets what the rules require.
      const expected = liquidationSize(inputs);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, 20n))
        .to.emit(ch, "Liquidated")
        .withArgs(
          f.alice.address,
          f.carol.address,
          f.seriesId,
          -expected.qty,
          inputs.markX18,
          liquidationPenalty(expected.qty, inputs.markX18, MULTIPLIER, inputs.liquidationPenaltyBps, inputs.equityX18)
            .penaltyX18,
          (liquidationPenalty(expected.qty, inputs.markX18, MULTIPLIER, inputs.liquidationPenaltyBps, inputs.equityX18)
            .penaltyX18 *
            LIQUIDATOR_PENALTY_SHARE_BPS) /
            10_000n,
        );
    });

    it("LQ-01: refuses self-liquidation, accounts without a position, stale indexes and expired series", async function () {
      const f = await loadFixture(underwaterFixture);
      const ch = f.clearinghouse;
      await expect(ch.connect(f.alice).liquidate(f.alice.address, f.seriesId, MAX))
        .to.be.revertedWithCustomError(ch, "SelfLiquidation")
        .withArgs(f.alice.address);
      await expect(ch.connect(f.carol).liquidate(f.dave.address, f.seriesId, MAX))
        .to.be.revertedWithCustomError(ch, "NoPositionToLiquidate")
        .withArgs(f.dave.address, f.seriesId);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, 9n, MAX))
        .to.be.revertedWithCustomError(ch, "UnknownSeries")
        .withArgs(9n);
      await time.increase(86_401);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX)).to.be.revertedWithCustomError(
        ch,
        "IndexStale",
      );
      await time.increaseTo(f.expiry);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX))
        .to.be.revertedWithCustomError(ch, "SeriesExpired")
        .withArgs(f.seriesId, f.expiry);
    });

    it("LQ-01: works while the exchange is paused", async function () {
      const f = await loadFixture(underwaterFixture);
      await f.clearinghouse.connect(f.guardian).pause();
      await expect(f.clearinghouse.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX)).to.emit(
        f.clearinghouse,
        "Liquidated",
      );
    });
  });

  describe("LQ-02: how much, at what price, and the penalty (RELIABILITY item 8)", function () {
    it("LQ-02: a partial liquidation takes the fewest lots that restore maintenance, exactly as the model", async function () {
      const f = await loadFixture(underwaterFixture);
      const ch = f.clearinghouse;
      const inputs = await inputsOf(f, f.alice.address, MAX);
      const size = liquidationSize(inputs);
      expect(size.whole).to.equal(false);
      expect(size.qty).to.equal(8n);
      const penalty = liquidationPenalty(
        size.qty,
        inputs.markX18,
        MULTIPLIER,
        inputs.liquidationPenaltyBps,
        inputs.equityX18,
      );
      const cashBefore = { alice: await ch.cashOf(f.alice.address), carol: await ch.cashOf(f.carol.address) };
      const fundBefore = await ch.insuranceFundX18();
      const ratioBefore = await marginRatioPpm(f, f.alice.address);
      const oiBefore = (await ch.marketState(f.seriesId)).openInterestQty;
      const position = await ch.positionOf(f.alice.address, f.seriesId);

      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX))
        .to.emit(ch, "Liquidated")
        .withArgs(
          f.alice.address,
          f.carol.address,
          f.seriesId,
          -8n,
          inputs.markX18,
          penalty.penaltyX18,
          penalty.liquidatorRewardX18,
        );

      // alice: 8 of 20 closed at the mark; her PnL on them realized, penalty paid.
      const removedBasis = (position.openNotionalX18 * 8n + 19n) / 20n;
      const realized = 8n * inputs.markX18 * MULTIPLIER - removedBasis;
      expect(await ch.cashOf(f.alice.address)).to.equal(cashBefore.alice + realized - penalty.penaltyX18);
      expect((await ch.positionOf(f.alice.address, f.seriesId)).sizeQty).to.equal(12n);
      // carol: long 8 at the mark, plus her share of the penalty.
      const carolPosition = await ch.positionOf(f.carol.address, f.seriesId);
      expect(carolPosition.sizeQty).to.equal(8n);
      expect(carolPosition.openNotionalX18).to.equal(8n * inputs.markX18 * MULTIPLIER);
      expect(await ch.cashOf(f.carol.address)).to.equal(cashBefore.carol + penalty.liquidatorRewardX18);
      expect(await ch.insuranceFundX18()).to.equal(fundBefore + penalty.insuranceShareX18);
      expect((await ch.marketState(f.seriesId)).openInterestQty).to.equal(oiBefore);

      // Back at or above maintenance, with a higher margin ratio.
      const after = await ch.accountHealth(f.alice.address);
      expect(after.equityX18).to.be.greaterThanOrEqual(after.maintenanceMarginX18);
      expect(await marginRatioPpm(f, f.alice.address)).to.be.greaterThan(ratioBefore);
      // One lot fewer would not have been enough: the model's quantity is the smallest.
      const sevenLots = liquidationPenalty(
        7n,
        inputs.markX18,
        MULTIPLIER,
        inputs.liquidationPenaltyBps,
        inputs.equityX18,
      );
      const mmAfterSeven = (13n * inputs.markX18 * MULTIPLIER * inputs.mmBps + 9_999n) / 10_000n;
      expect(inputs.equityX18 - sevenLots.penaltyX18).to.be.lessThan(mmAfterSeven);
    });

    it("LQ-02: every resting order of the account is cancelled first, in every series", async function () {
      const f = await aliceLongFixture();
      const ch = f.clearinghouse;
      // alice rests a bid and an ask while healthy.
      await ch.connect(f.alice).placeOrder(order(f.seriesId, f.alice.address, false, 2n, "4.2"));
      await ch.connect(f.alice).placeOrder(order(f.seriesId, f.alice.address, true, 1n, "3.8"));
      expect(await ch.openOrderIdsOf(f.alice.address, f.seriesId)).to.have.length(2);
      await moveIndex(f.oracle, f.reporters, "3");
      const receipt = await (await ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX)).wait();
      expect(await ch.openOrderIdsOf(f.alice.address, f.seriesId)).to.have.length(0);
      const cancels = receipt!.logs
        .map((log) => ch.interface.parseLog(log))
        .filter((parsed) => parsed?.name === "OrderCancelled");
      expect(cancels.map((c) => Number(c!.args.reason))).to.deep.equal([
        CancelReason.Unhealthy,
        CancelReason.Unhealthy,
      ]);
      const exposure = await ch.exposureOf(f.alice.address, f.seriesId);
      expect(exposure.buyQty + exposure.sellQty + exposure.openOrders).to.equal(0n);
      expect((await ch.accountHealth(f.alice.address)).orderMarginX18).to.equal(0n);
    });

    it("LQ-02: a liquidator asking for less gets a smaller partial that still raises the margin ratio", async function () {
      const f = await loadFixture(underwaterFixture);
      const ch = f.clearinghouse;
      const ratioBefore = await marginRatioPpm(f, f.alice.address);
      await ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, 3n);
      expect((await ch.positionOf(f.alice.address, f.seriesId)).sizeQty).to.equal(17n);
      expect(await marginRatioPpm(f, f.alice.address)).to.be.greaterThan(ratioBefore);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, 0n))
        .to.be.revertedWithCustomError(ch, "LiquidationQtyTooSmall")
        .withArgs(f.alice.address, f.seriesId, 0n, 5n);
    });

    it("LQ-02: a deep account loses the whole position; a smaller maxQty is refused", async function () {
      const f = await aliceLongFixture();
      const ch = f.clearinghouse;
      await moveIndex(f.oracle, f.reporters, "2.77");
      const inputs = await inputsOf(f, f.alice.address, MAX);
      // equity x mmBps <= penaltyBps x maintenance: a partial would lower the margin ratio.
      expect(inputs.equityX18 > 0n).to.equal(true);
      expect(inputs.equityX18 * inputs.mmBps <= inputs.liquidationPenaltyBps * inputs.maintenanceMarginX18).to.equal(
        true,
      );
      expect(liquidationSize(inputs)).to.deep.include({ whole: true, requiredQty: 20n });
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, 19n))
        .to.be.revertedWithCustomError(ch, "LiquidationQtyTooSmall")
        .withArgs(f.alice.address, f.seriesId, 19n, 20n);
      const penalty = liquidationPenalty(
        20n,
        inputs.markX18,
        MULTIPLIER,
        inputs.liquidationPenaltyBps,
        inputs.equityX18,
      );
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX))
        .to.emit(ch, "Liquidated")
        .withArgs(
          f.alice.address,
          f.carol.address,
          f.seriesId,
          -20n,
          inputs.markX18,
          penalty.penaltyX18,
          penalty.liquidatorRewardX18,
        );
      expect((await ch.positionOf(f.alice.address, f.seriesId)).sizeQty).to.equal(0n);
      expect(await ch.seriesOf(f.alice.address)).to.deep.equal([]);
      // Flat with a positive remainder: no deficit, cash = equity - penalty.
      expect(await ch.cashOf(f.alice.address)).to.equal(inputs.equityX18 - penalty.penaltyX18);
    });

    it("LQ-02: a small position (notional at most 10,000 USD) goes whole", async function () {
      const f = await liquidationSmallFixture();
      const ch = f.clearinghouse;
      const inputs = await inputsOf(f, f.alice.address, MAX);
      expect(inputs.sizeQty).to.equal(2n);
      expect(liquidationSize(inputs)).to.deep.include({ whole: true, qty: 2n });
      await ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX);
      expect((await ch.positionOf(f.alice.address, f.seriesId)).sizeQty).to.equal(0n);
    });

    it("LQ-02: the liquidator must end at or above initial margin", async function () {
      const f = await loadFixture(underwaterFixture);
      const ch = f.clearinghouse;
      // erin holds 1,000: 8 contracts at 3.000 need 6,000 of initial margin.
      await ch.connect(f.erin).deposit(parseX18("1000"));
      await expect(ch.connect(f.erin).liquidate(f.alice.address, f.seriesId, MAX)).to.be.revertedWithCustomError(
        ch,
        "InsufficientMargin",
      );
    });
  });

  describe("LQ-03: no profitable self-liquidation (RELIABILITY item 9)", function () {
    it("LQ-03: a liquidator and victim of one owner never end with more combined equity", async function () {
      const f = await loadFixture(underwaterFixture);
      const ch = f.clearinghouse;
      // dave is alice's second account.
      await ch.connect(f.dave).deposit(parseX18("100000"));
      const before =
        (await ch.accountHealth(f.alice.address)).equityX18 + (await ch.accountHealth(f.dave.address)).equityX18;
      const fundBefore = await ch.insuranceFundX18();
      await ch.connect(f.dave).liquidate(f.alice.address, f.seriesId, MAX);
      const after =
        (await ch.accountHealth(f.alice.address)).equityX18 + (await ch.accountHealth(f.dave.address)).equityX18;
      expect(after).to.be.lessThan(before);
      // The difference is exactly the insurance fund's share of the penalty.
      expect(before - after).to.equal((await ch.insuranceFundX18()) - fundBefore);
    });
  });

  describe("LQ-04: bankruptcy covered by the insurance fund (RELIABILITY item 10)", function () {
    it("LQ-04: the last position of a bankrupt account goes whole, no penalty, and the fund pays the deficit", async function () {
      const f = await loadFixture(bankruptFixture);
      const ch = f.clearinghouse;
      const inputs = await inputsOf(f, f.alice.address, MAX);
      expect(inputs.equityX18 < 0n).to.equal(true);
      const deficit = -inputs.equityX18;
      const fundBefore = await ch.insuranceFundX18();
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX))
        .to.emit(ch, "Liquidated")
        .withArgs(f.alice.address, f.carol.address, f.seriesId, -20n, inputs.markX18, 0n, 0n)
        .and.to.emit(ch, "DeficitResolved")
        .withArgs(f.alice.address, deficit, deficit, 0n, 0n);
      expect(await ch.cashOf(f.alice.address)).to.equal(0n);
      expect(fundBefore - (await ch.insuranceFundX18())).to.equal(deficit);
    });

    it("LQ-04: when the fund cannot pay, the liquidation reverts with InsuranceFundShort", async function () {
      const f = await loadFixture(bankruptFixture);
      const ch = f.clearinghouse;
      await ch.connect(f.admin).withdrawInsurance(f.admin.address, parseX18("9500"));
      const deficit = -(await ch.accountHealth(f.alice.address)).equityX18;
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX))
        .to.be.revertedWithCustomError(ch, "InsuranceFundShort")
        .withArgs(f.alice.address, deficit, parseX18("500"));
    });
  });

  describe("LQ-05: batches skip what no longer qualifies (RELIABILITY item 27)", function () {
    it("LQ-05: liquidateBatch carries out the qualifying requests and skips the rest", async function () {
      const f = await loadFixture(underwaterFixture);
      const ch = f.clearinghouse;
      const requests = [
        { account: f.bob.address, seriesId: f.seriesId, maxQty: MAX }, // healthy
        { account: f.dave.address, seriesId: f.seriesId, maxQty: MAX }, // no position
        { account: f.alice.address, seriesId: 7n, maxQty: MAX }, // unknown series
        { account: f.carol.address, seriesId: f.seriesId, maxQty: MAX }, // the caller itself
        { account: f.alice.address, seriesId: f.seriesId, maxQty: MAX }, // qualifies
        { account: f.alice.address, seriesId: f.seriesId, maxQty: MAX }, // no longer qualifies
      ];
      expect(await ch.connect(f.carol).liquidateBatch.staticCall(requests)).to.equal(1n);
      const receipt = await (await ch.connect(f.carol).liquidateBatch(requests)).wait();
      const liquidations = receipt!.logs
        .map((log) => ch.interface.parseLog(log))
        .filter((p) => p?.name === "Liquidated");
      expect(liquidations).to.have.length(1);
      expect(liquidations[0]!.args.account).to.equal(f.alice.address);
      // Nothing qualifies any more: the batch is a no-op, not a revert.
      expect(await ch.connect(f.carol).liquidateBatch.staticCall(requests)).to.equal(0n);
    });

    it("LQ-05: the batch's liquidator is margin-checked at the end", async function () {
      const f = await loadFixture(underwaterFixture);
      const ch = f.clearinghouse;
      await ch.connect(f.erin).deposit(parseX18("1000"));
      await expect(
        ch.connect(f.erin).liquidateBatch([{ account: f.alice.address, seriesId: f.seriesId, maxQty: MAX }]),
      ).to.be.revertedWithCustomError(ch, "InsufficientMargin");
    });
  });
});

/** alice long 2 at 4.000 (8,000 notional) with 2,400 deposited; index down to 3.000. */
async function liquidationSmallFixture(): Promise<LiquidationFixture> {
  const f = await aliceLongFixture();
  const ch = f.clearinghouse;
  // alice sells 18 of her 20 back to bob at 4.000 and withdraws down to about 2,400.
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.bob.address, f.alice.address, 18n, "4", false));
  const cash = await ch.cashOf(f.alice.address);
  await ch.connect(f.alice).withdraw(f.alice.address, cash - parseX18("2400"), f.alice.address);
  await moveIndex(f.oracle, f.reporters, "3");
  return f;
}
