import { expect } from "chai";
import { ethers } from "hardhat";
import { encodeBytes32String } from "ethers";
import type { ContractTransactionReceipt } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { applyTrade, basisAt, clampBasis, deleverageHaircuts, liquidationSize, markFrom, parseX18 } from "../../sdk";
import { PRODUCTS } from "../../config/series";
import { AIT, GPUH, aitRisk, aitSpec, fill } from "../fixtures/clearinghouse";
import { aliceLongFixture, liquidationBase, moveIndex } from "../fixtures/liquidation";
import type { LiquidationFixture } from "../fixtures/liquidation";
import { publishThroughExpiry } from "../helpers/clearinghouse";
import { CancelReason, eventsOf, order, place } from "../helpers/orders";

const MULTIPLIER = BigInt(PRODUCTS.AIT.contractMultiplier);
const MAX = 2n ** 64n - 1n;
const DAY = 86_400n;

/** One leg of a deleveraging: `counterparty`'s position in `seriesId`. */
function leg(counterparty: { address: string }, seriesId = 1n) {
  return { counterparty: counterparty.address, seriesId };
}

/** Takes the insurance fund down to `leftX18` (18-decimal token: raw units = X18). */
async function drainFundTo(f: LiquidationFixture, leftX18: bigint) {
  const fund = await f.clearinghouse.insuranceFundX18();
  if (fund > leftX18) await f.clearinghouse.connect(f.admin).withdrawInsurance(f.admin.address, fund - leftX18);
  expect(await f.clearinghouse.insuranceFundX18()).to.equal(leftX18);
}

/** The PnL `account` realizes when `deltaQty` of its position in `seriesId` closes at `markX18`. */
async function realizedAt(f: LiquidationFixture, account: string, seriesId: bigint, deltaQty: bigint, markX18: bigint) {
  const position = await f.clearinghouse.positionOf(account, seriesId);
  return applyTrade(position.sizeQty, position.openNotionalX18, deltaQty, markX18, MULTIPLIER).realizedPnlX18;
}

/** Sum of the equity of `accounts`, the insurance fund and the fee pool (conserved by deleveraging). */
async function systemValue(f: LiquidationFixture, accounts: HardhatEthersSigner[]) {
  let total = (await f.clearinghouse.insuranceFundX18()) + (await f.clearinghouse.feePoolX18());
  for (const a of accounts) total += (await f.clearinghouse.accountHealth(a.address)).equityX18;
  return total;
}

/** The receipt's `Deleveraged` events, each as [account, counterparty, seriesId, sizeChange, mark, haircut]. */
function deleveragedOf(f: LiquidationFixture, receipt: ContractTransactionReceipt) {
  return eventsOf(f.clearinghouse, receipt, "Deleveraged").map((e) => [
    e.args.account,
    e.args.counterparty,
    e.args.seriesId,
    e.args.sizeChangeQty,
    e.args.markX18,
    e.args.haircutX18,
  ]);
}

/** The receipt's `DeficitResolved` events, each as its argument list. */
function deficitsResolvedOf(f: LiquidationFixture, receipt: ContractTransactionReceipt) {
  return eventsOf(f.clearinghouse, receipt, "DeficitResolved").map((e) => [...e.args]);
}

/** Lists the next series (id 2) on the GPUH feed with the AIT test terms, expiring at `expiry`. */
async function listGpuhSeries(f: LiquidationFixture, symbol: string, expiry: bigint): Promise<void> {
  await f.clearinghouse
    .connect(f.admin)
    .listSeries(aitSpec(expiry, { symbol: encodeBytes32String(symbol), feedId: GPUH }), aitRisk());
}

function everyone(f: LiquidationFixture) {
  return [f.alice, f.bob, f.carol, f.dave, f.erin, f.stranger];
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/** alice long 20 at 4.000 vs bob, index 2.700: equity exactly -1,040 (25,000 - 40 fee - 26,000); fund 10,000. */
async function bankruptFixture() {
  const f = await aliceLongFixture();
  await moveIndex(f.oracle, f.reporters, "2.7");
  return f;
}

/** The bankrupt fixture with the fund taken down to 500: 540 short of alice's deficit. */
async function fundShortFixture() {
  const f = await bankruptFixture();
  await drainFundTo(f, parseX18("500"));
  return f;
}

/**
 * alice long 20 at 4.000 bought from three shorts: 8 from bob, 7 from dave, 5 from erin; carol buys 4
 * more from bob (bob short 12, carol long 4, open interest 24). Index 2.700: alice equity -1,040. The
 * fund holds 500 + 7 units, so the shortfall (540 - 7 units) is not a round number.
 */
async function threeShortsFixture(): Promise<LiquidationFixture> {
  const f = await liquidationBase();
  const ch = f.clearinghouse;
  await ch.connect(f.alice).deposit(parseX18("25000"));
  for (const who of [f.bob, f.dave, f.erin]) await ch.connect(who).deposit(parseX18("100000"));
  await ch.connect(f.carol).deposit(parseX18("200000"));
  await f.token.mint(f.admin.address, parseX18("10000"));
  await f.token.connect(f.admin).approve(await ch.getAddress(), ethers.MaxUint256);
  await ch.connect(f.admin).contributeInsurance(parseX18("10000"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.bob.address, f.alice.address, 8n, "4"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.dave.address, f.alice.address, 7n, "4"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.erin.address, f.alice.address, 5n, "4"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.bob.address, f.carol.address, 4n, "4"));
  await moveIndex(f.oracle, f.reporters, "2.7");
  await drainFundTo(f, parseX18("500") + 7n);
  return f;
}

/** dave sold 10 to carol at 2.600 when the index was 2.600; the index is back up at 2.700 (dave loses 1,000). */
async function losingShortFixture() {
  const f = await aliceLongFixture();
  const ch = f.clearinghouse;
  await moveIndex(f.oracle, f.reporters, "2.6");
  await ch.connect(f.dave).deposit(parseX18("100000"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.dave.address, f.carol.address, 10n, "2.6"));
  await moveIndex(f.oracle, f.reporters, "2.7");
  await drainFundTo(f, parseX18("500"));
  return f;
}

/** erin sold 20 to carol at 2.701 (the index then); index now 2.700: erin's profit is 20 USD only. */
async function thinProfitFixture() {
  const f = await aliceLongFixture();
  const ch = f.clearinghouse;
  await moveIndex(f.oracle, f.reporters, "2.701");
  await ch.connect(f.erin).deposit(parseX18("100000"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.erin.address, f.carol.address, 20n, "2.701"));
  await moveIndex(f.oracle, f.reporters, "2.7");
  await drainFundTo(f, parseX18("500"));
  return f;
}

/**
 * A second series on GPUH (series 2). dave: short 5 AIT at 4.000 (sold to carol) and long 20 GPUH at
 * 2.400 (bought from erin). AIT falls to 2.700 (dave +6,500) and GPUH to 1.000 (dave -28,000): dave is
 * in profit on AIT but deep in loss overall. The fund is empty.
 */
async function crossSeriesFixture() {
  const f = await aliceLongFixture();
  const ch = f.clearinghouse;
  await listGpuhSeries(f, "GPUH-TEST", f.expiry);
  await ch.connect(f.dave).deposit(parseX18("20000"));
  await ch.connect(f.erin).deposit(parseX18("100000"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.dave.address, f.carol.address, 5n, "4"));
  await ch.connect(f.engine).applyTrade(fill(2n, f.erin.address, f.dave.address, 20n, "2.4"));
  await moveIndex(f.oracle, f.reporters, "2.7");
  await moveIndex(f.oracle, f.reporters, "1", GPUH);
  await drainFundTo(f, 0n);
  return f;
}

/**
 * Series 1 settled: alice long 20 at 4.000 vs bob, the index at 2.700 from the first hour to expiry,
 * settlement final. erin: long 5 AIT at 4.000 (from bob) with 5,700 deposited, and short 1 GPUH in
 * series 2 (expiring 30 days later) sold to dave: settlement leaves her cash negative with a position open.
 */
async function settledFixture() {
  const f = await aliceLongFixture();
  const ch = f.clearinghouse;
  await listGpuhSeries(f, "GPUH-LATER", f.expiry + 30n * DAY);
  await ch.connect(f.erin).deposit(parseX18("5700"));
  await ch.connect(f.dave).deposit(parseX18("100000"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.bob.address, f.erin.address, 5n, "4"));
  await ch.connect(f.engine).applyTrade(fill(2n, f.dave.address, f.erin.address, 1n, "2.4", false));
  await moveIndex(f.oracle, f.reporters, "2.7");
  await publishThroughExpiry(f.oracle, f.reporters, AIT, "2.7", f.expiry);
  await ch.finalizeSettlement(f.seriesId);
  await time.increase(7_200);
  return f;
}

/**
 * A second AIT series (series 2) with a lot of 5 contracts. alice (30,000) long 20 at 4.000 from bob and
 * resting bids in both series; index 2.750: alice is below maintenance, a partial liquidation is due.
 */
async function lotFixture() {
  const f = await liquidationBase();
  const ch = f.clearinghouse;
  await ch
    .connect(f.admin)
    .listSeries(aitSpec(f.expiry, { symbol: encodeBytes32String("AIT-LOT5"), minQty: 5n }), aitRisk());
  await ch.connect(f.alice).deposit(parseX18("30000"));
  await ch.connect(f.bob).deposit(parseX18("500000"));
  await ch.connect(f.carol).deposit(parseX18("200000"));
  await f.token.mint(f.admin.address, parseX18("10000"));
  await f.token.connect(f.admin).approve(await ch.getAddress(), ethers.MaxUint256);
  await ch.connect(f.admin).contributeInsurance(parseX18("10000"));
  await ch.connect(f.engine).applyTrade(fill(2n, f.bob.address, f.alice.address, 20n, "4"));
  await ch.connect(f.alice).placeOrder(order(1n, f.alice.address, true, 1n, "3.8"));
  await ch.connect(f.alice).placeOrder(order(2n, f.alice.address, true, 5n, "3.8"));
  await moveIndex(f.oracle, f.reporters, "2.75");
  return f;
}

/**
 * alice in two series: long 20 AIT at 4.000 from bob, and, after 5,000 more deposited, long 10 GPUH-TEST
 * (series 2, same expiry) at 2.400 sold by erin. AIT falls to 3.000 (alice -20,000) and GPUH to 1.000
 * (alice -14,000): alice, with 30,000 deposited, is bankrupt by about 4,000; the fund is taken down to 1,000.
 */
async function twoSeriesBankruptFixture() {
  const f = await aliceLongFixture();
  const ch = f.clearinghouse;
  await listGpuhSeries(f, "GPUH-TEST", f.expiry);
  await ch.connect(f.erin).deposit(parseX18("100000"));
  await ch.connect(f.alice).deposit(parseX18("5000"));
  await ch.connect(f.engine).applyTrade(fill(2n, f.erin.address, f.alice.address, 10n, "2.4"));
  await moveIndex(f.oracle, f.reporters, "3");
  await moveIndex(f.oracle, f.reporters, "1", GPUH);
  await drainFundTo(f, parseX18("1000"));
  return f;
}

describe("Clearinghouse deleveraging and deficits", function () {
  describe("DL-01: a deficit beyond the fund is deleveraged (RELIABILITY item 10)", function () {
    it("DL-01: closes alice against bob at the mark, empties the fund and haircuts bob by the rest, exactly", async function () {
      const f = await loadFixture(fundShortFixture);
      const ch = f.clearinghouse;
      const mark = await ch.markPrice(f.seriesId);
      expect(mark).to.equal(parseX18("2.7"));
      const health = await ch.accountHealth(f.alice.address);
      expect(health.equityX18).to.equal(-parseX18("1040"));
      const deficit = -health.equityX18;
      const fundBefore = await ch.insuranceFundX18();
      const haircut = deficit - fundBefore;
      expect(haircut).to.equal(parseX18("540"));
      const bobProfit = await realizedAt(f, f.bob.address, f.seriesId, 20n, mark);
      expect(bobProfit).to.equal(parseX18("26000"));
      const bobCash = await ch.cashOf(f.bob.address);
      const bobEquity = (await ch.accountHealth(f.bob.address)).equityX18;
      const oi = (await ch.marketState(f.seriesId)).openInterestQty;
      const value = await systemValue(f, everyone(f));
      const balance = await f.token.balanceOf(await ch.getAddress());

      // Anyone may deleverage: carol sends it.
      await expect(ch.connect(f.carol).deleverage(f.alice.address, [leg(f.bob)]))
        .to.emit(ch, "Deleveraged")
        .withArgs(f.alice.address, f.bob.address, f.seriesId, -20n, mark, haircut)
        .and.to.emit(ch, "DeficitResolved")
        .withArgs(f.alice.address, deficit, fundBefore, haircut, 0n);

      // alice: flat, out of the series, cash exactly 0.
      expect((await ch.positionOf(f.alice.address, f.seriesId)).sizeQty).to.equal(0n);
      expect(await ch.seriesOf(f.alice.address)).to.deep.equal([]);
      expect(await ch.cashOf(f.alice.address)).to.equal(0n);
      // The fund paid all it had.
      const fundAfter = await ch.insuranceFundX18();
      expect(fundAfter).to.equal(0n);
      // bob: closed at the mark, profit realized, minus the haircut; his equity fell by the haircut exactly.
      const bobPosition = await ch.positionOf(f.bob.address, f.seriesId);
      expect([bobPosition.sizeQty, bobPosition.openNotionalX18]).to.deep.equal([0n, 0n]);
      expect(await ch.cashOf(f.bob.address)).to.equal(bobCash + bobProfit - haircut);
      expect((await ch.accountHealth(f.bob.address)).equityX18).to.equal(bobEquity - haircut);
      // Fund decrease + haircuts = deficit, exactly.
      expect(fundBefore - fundAfter + haircut).to.equal(deficit);
      expect((await ch.marketState(f.seriesId)).openInterestQty).to.equal(oi - 20n);
      // Nothing is created or lost, no token moves, and nobody is left negative.
      expect(await systemValue(f, everyone(f))).to.equal(value);
      expect(await f.token.balanceOf(await ch.getAddress())).to.equal(balance);
      for (const who of everyone(f)) {
        expect((await ch.accountHealth(who.address)).equityX18 >= 0n, who.address).to.equal(true);
      }
    });

    it("DL-01: works while the exchange is paused", async function () {
      const f = await loadFixture(fundShortFixture);
      const ch = f.clearinghouse;
      await ch.connect(f.guardian).pause();
      expect(await ch.paused()).to.equal(true);
      await expect(ch.connect(f.stranger).deleverage(f.alice.address, [leg(f.bob)]))
        .to.emit(ch, "DeficitResolved")
        .withArgs(f.alice.address, parseX18("1040"), parseX18("500"), parseX18("540"), 0n);
      expect(await ch.cashOf(f.alice.address)).to.equal(0n);
    });

    it("DL-01: the fund boundary: at fund = deficit liquidation pays it and deleveraging is refused; one unit less, the reverse", async function () {
      const f = await loadFixture(bankruptFixture);
      const ch = f.clearinghouse;
      const deficit = parseX18("1040");
      expect((await ch.accountHealth(f.alice.address)).equityX18).to.equal(-deficit);
      await drainFundTo(f, deficit);
      await expect(ch.deleverage(f.alice.address, [leg(f.bob)]))
        .to.be.revertedWithCustomError(ch, "DeleverageNotAllowed")
        .withArgs(f.alice.address, -deficit, deficit);
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX))
        .to.emit(ch, "DeficitResolved")
        .withArgs(f.alice.address, deficit, deficit, 0n, 0n);
      await ethers.provider.send("evm_revert", [snapshot]);

      await drainFundTo(f, deficit - 1n);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, f.seriesId, MAX))
        .to.be.revertedWithCustomError(ch, "InsuranceFundShort")
        .withArgs(f.alice.address, deficit, deficit - 1n);
      await expect(ch.deleverage(f.alice.address, [leg(f.bob)]))
        .to.emit(ch, "Deleveraged")
        .withArgs(f.alice.address, f.bob.address, f.seriesId, -20n, parseX18("2.7"), 1n)
        .and.to.emit(ch, "DeficitResolved")
        .withArgs(f.alice.address, deficit, deficit - 1n, 1n, 0n);
      expect(await ch.cashOf(f.alice.address)).to.equal(0n);
      expect(await ch.insuranceFundX18()).to.equal(0n);
    });
  });

  describe("DL-02: several counterparties, haircuts pro rata to profit", function () {
    it("DL-02: three legs; the first covers only part, the last is larger than what is left; haircuts equal the model", async function () {
      const f = await loadFixture(threeShortsFixture);
      const ch = f.clearinghouse;
      const mark = await ch.markPrice(f.seriesId);
      expect(mark).to.equal(parseX18("2.7"));
      const deficit = -(await ch.accountHealth(f.alice.address)).equityX18;
      expect(deficit).to.equal(parseX18("1040"));
      const fundBefore = await ch.insuranceFundX18();
      const shortfall = deficit - fundBefore;
      expect(shortfall).to.equal(parseX18("540") - 7n);

      // bob (short 12) covers 12 of alice's 20, dave (7) covers 7, erin (5) only the 1 left.
      const legs = [leg(f.bob), leg(f.dave), leg(f.erin)];
      const sizeChanges = [-12n, -7n, -1n];
      const counterparties = [f.bob, f.dave, f.erin];
      const profits: bigint[] = [];
      const cash: bigint[] = [];
      for (let i = 0; i < 3; i++) {
        profits.push(await realizedAt(f, counterparties[i].address, f.seriesId, -sizeChanges[i], mark));
        cash.push(await ch.cashOf(counterparties[i].address));
      }
      expect(profits).to.deep.equal([parseX18("15600"), parseX18("9100"), parseX18("1300")]);
      const haircuts = deleverageHaircuts(shortfall, profits);
      expect(haircuts.reduce((a, b) => a + b, 0n)).to.equal(shortfall);
      const value = await systemValue(f, everyone(f));

      const receipt = await (await ch.connect(f.stranger).deleverage(f.alice.address, legs)).wait();
      expect(deleveragedOf(f, receipt!)).to.deep.equal(
        counterparties.map((c, i) => [f.alice.address, c.address, f.seriesId, sizeChanges[i], mark, haircuts[i]]),
      );
      expect(deficitsResolvedOf(f, receipt!)).to.deep.equal([[f.alice.address, deficit, fundBefore, shortfall, 0n]]);

      for (let i = 0; i < 3; i++) {
        expect(await ch.cashOf(counterparties[i].address)).to.equal(cash[i] + profits[i] - haircuts[i]);
        // Never more than the leg's profit.
        expect(haircuts[i] <= profits[i]).to.equal(true);
      }
      const sizes = await Promise.all(
        [f.alice, f.bob, f.dave, f.erin, f.carol].map(
          async (a) => (await ch.positionOf(a.address, f.seriesId)).sizeQty,
        ),
      );
      expect(sizes).to.deep.equal([0n, 0n, 0n, -4n, 4n]);
      expect((await ch.marketState(f.seriesId)).openInterestQty).to.equal(4n);
      expect(await ch.cashOf(f.alice.address)).to.equal(0n);
      expect(await ch.insuranceFundX18()).to.equal(0n);
      expect(await systemValue(f, everyone(f))).to.equal(value);
      for (const who of everyone(f)) {
        expect((await ch.accountHealth(who.address)).equityX18 >= 0n, who.address).to.equal(true);
      }
    });

    it("DL-02: another leg order gives the model's haircuts for that order (rounding follows the order)", async function () {
      const f = await loadFixture(threeShortsFixture);
      const ch = f.clearinghouse;
      const mark = await ch.markPrice(f.seriesId);
      const shortfall = -(await ch.accountHealth(f.alice.address)).equityX18 - (await ch.insuranceFundX18());
      // erin 5, dave 7, then bob closes the 8 left of his 12.
      const counterparties = [f.erin, f.dave, f.bob];
      const sizeChanges = [-5n, -7n, -8n];
      const profits: bigint[] = [];
      for (let i = 0; i < 3; i++) {
        profits.push(await realizedAt(f, counterparties[i].address, f.seriesId, -sizeChanges[i], mark));
      }
      const haircuts = deleverageHaircuts(shortfall, profits);
      // Pro rata to the unit: each haircut is within one unit of shortfall x profit / total.
      const total = profits.reduce((a, b) => a + b, 0n);
      for (let i = 0; i < 3; i++) {
        const exact = shortfall * profits[i];
        expect(haircuts[i] * total <= exact + total && exact <= haircuts[i] * total + total).to.equal(true);
      }
      const receipt = await (
        await ch.deleverage(
          f.alice.address,
          counterparties.map((c) => leg(c)),
        )
      ).wait();
      const events = eventsOf(ch, receipt!, "Deleveraged");
      expect(events.map((e) => [e.args.counterparty, e.args.sizeChangeQty, e.args.haircutX18])).to.deep.equal(
        counterparties.map((c, i) => [c.address, sizeChanges[i], haircuts[i]]),
      );
      expect(events.reduce((sum, e) => sum + (e.args.haircutX18 as bigint), 0n)).to.equal(shortfall);
      expect((await ch.positionOf(f.bob.address, f.seriesId)).sizeQty).to.equal(-4n);
    });
  });

  describe("DL-03: what deleveraging refuses", function () {
    it("DL-03: DeleverageNotAllowed when equity is not negative, or the fund covers the deficit", async function () {
      const f = await aliceLongFixture();
      const ch = f.clearinghouse;
      const fund = parseX18("10000");
      // Below maintenance but solvent.
      await moveIndex(f.oracle, f.reporters, "3");
      const solvent = (await ch.accountHealth(f.alice.address)).equityX18;
      expect(solvent).to.equal(parseX18("4960"));
      await expect(ch.deleverage(f.alice.address, [leg(f.bob)]))
        .to.be.revertedWithCustomError(ch, "DeleverageNotAllowed")
        .withArgs(f.alice.address, solvent, fund);
      // An empty account: equity exactly 0 is not negative.
      await expect(ch.deleverage(f.stranger.address, []))
        .to.be.revertedWithCustomError(ch, "DeleverageNotAllowed")
        .withArgs(f.stranger.address, 0n, fund);
      // Bankrupt, but the fund holds enough: liquidation is the way.
      await moveIndex(f.oracle, f.reporters, "2.7");
      await expect(ch.deleverage(f.alice.address, [leg(f.bob)]))
        .to.be.revertedWithCustomError(ch, "DeleverageNotAllowed")
        .withArgs(f.alice.address, -parseX18("1040"), fund);
    });

    it("DL-03: CounterpartyNotOpposite for a long, the account itself, an account without a position, and a leg after the account is flat", async function () {
      const f = await loadFixture(threeShortsFixture);
      const ch = f.clearinghouse;
      const cases: [{ address: string }[], string][] = [
        [[f.carol], f.carol.address], // long, like alice
        [[f.alice], f.alice.address], // the account itself
        [[f.stranger], f.stranger.address], // no position
        [[f.dave, f.erin, f.bob, f.dave], f.dave.address], // alice flat after three legs: a fourth has nothing to close
      ];
      for (const [counterparties, offender] of cases) {
        await expect(
          ch.deleverage(
            f.alice.address,
            counterparties.map((c) => leg(c)),
          ),
          offender,
        )
          .to.be.revertedWithCustomError(ch, "CounterpartyNotOpposite")
          .withArgs(offender, f.seriesId);
      }
      // A leg in a series that does not exist.
      await expect(ch.deleverage(f.alice.address, [leg(f.bob, 2n)]))
        .to.be.revertedWithCustomError(ch, "UnknownSeries")
        .withArgs(2n);
    });

    it("DL-03: CounterpartyNotInProfit for a short that loses at the mark (opened lower, index back up)", async function () {
      const f = await loadFixture(losingShortFixture);
      const ch = f.clearinghouse;
      const mark = await ch.markPrice(f.seriesId);
      expect(mark).to.equal(parseX18("2.7"));
      const loss = await realizedAt(f, f.dave.address, f.seriesId, 10n, mark);
      expect(loss).to.equal(-parseX18("1000"));
      await expect(ch.deleverage(f.alice.address, [leg(f.dave), leg(f.bob)]))
        .to.be.revertedWithCustomError(ch, "CounterpartyNotInProfit")
        .withArgs(f.dave.address, f.seriesId, loss);
      // bob alone works.
      await expect(ch.deleverage(f.alice.address, [leg(f.bob)])).to.emit(ch, "DeficitResolved");
    });

    it("DL-03: CounterpartyNotInProfit for a short opened at the mark (zero profit) and one opened below it after the crash", async function () {
      const f = await loadFixture(fundShortFixture);
      const ch = f.clearinghouse;
      await ch.connect(f.dave).deposit(parseX18("100000"));
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      // At the mark: the basis sample is 0, the mark stays 2.700, dave's close realizes exactly 0.
      await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.dave.address, f.carol.address, 5n, "2.7"));
      await expect(ch.deleverage(f.alice.address, [leg(f.dave), leg(f.bob)]))
        .to.be.revertedWithCustomError(ch, "CounterpartyNotInProfit")
        .withArgs(f.dave.address, f.seriesId, 0n);
      await ethers.provider.send("evm_revert", [snapshot]);

      // carol buys from dave at 2.650, inside the band below the mark: the basis sample (-0.05) pulls
      // the mark down over 30 minutes; 60 s later the mark is still above 2.650 and dave loses.
      await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.dave.address, f.carol.address, 10n, "2.65"));
      const market = await ch.marketState(f.seriesId);
      const [index] = await f.oracle.peekLatest(AIT);
      const at = BigInt(await time.latest()) + 60n;
      const basis = clampBasis(
        basisAt(market.basisEmaX18, market.lastBasisSampleX18, BigInt(market.lastBasisSampleAt), at),
        index,
        BigInt(PRODUCTS.AIT.risk.orderBandBps),
      );
      const windowStart = f.expiry - 30n * DAY;
      const mark = markFrom(index, basis, windowStart, f.expiry, 0n, 0n);
      expect(mark > parseX18("2.65") && mark < parseX18("2.7")).to.equal(true);
      const loss = await realizedAt(f, f.dave.address, f.seriesId, 10n, mark);
      expect(loss < 0n).to.equal(true);
      await time.setNextBlockTimestamp(at);
      // A fixed gas limit mines the failing transaction in the block at `at`.
      await expect(ch.deleverage(f.alice.address, [leg(f.dave), leg(f.bob)], { gasLimit: 3_000_000 }))
        .to.be.revertedWithCustomError(ch, "CounterpartyNotInProfit")
        .withArgs(f.dave.address, f.seriesId, loss);
    });

    it("DL-03: DeleverageIncomplete with no legs, or legs that leave part of the position open", async function () {
      const f = await loadFixture(threeShortsFixture);
      const ch = f.clearinghouse;
      await expect(ch.deleverage(f.alice.address, []))
        .to.be.revertedWithCustomError(ch, "DeleverageIncomplete")
        .withArgs(f.alice.address);
      // bob and dave close 19 of 20.
      await expect(ch.deleverage(f.alice.address, [leg(f.bob), leg(f.dave)]))
        .to.be.revertedWithCustomError(ch, "DeleverageIncomplete")
        .withArgs(f.alice.address);
      expect((await ch.positionOf(f.alice.address, f.seriesId)).sizeQty).to.equal(20n);
    });

    it("DL-03: DeleverageProfitShort when the legs close everything but their profit is below the shortfall", async function () {
      const f = await loadFixture(thinProfitFixture);
      const ch = f.clearinghouse;
      const mark = await ch.markPrice(f.seriesId);
      expect(mark).to.equal(parseX18("2.7"));
      const deficit = -(await ch.accountHealth(f.alice.address)).equityX18;
      expect(deficit).to.equal(parseX18("1040"));
      const profit = await realizedAt(f, f.erin.address, f.seriesId, 20n, mark);
      expect(profit).to.equal(parseX18("20"));
      await expect(ch.deleverage(f.alice.address, [leg(f.erin)]))
        .to.be.revertedWithCustomError(ch, "DeleverageProfitShort")
        .withArgs(f.alice.address, deficit - parseX18("500"), profit);
      // bob's profit covers it.
      await expect(ch.deleverage(f.alice.address, [leg(f.bob)]))
        .to.emit(ch, "Deleveraged")
        .withArgs(f.alice.address, f.bob.address, f.seriesId, -20n, mark, deficit - parseX18("500"));
    });

    it("DL-03: CounterpartyEquityNegative when a haircut would take a counterparty below zero (losses in another series); at exactly zero it passes", async function () {
      const f = await loadFixture(crossSeriesFixture);
      const ch = f.clearinghouse;
      const mark = await ch.markPrice(f.seriesId);
      expect(mark).to.equal(parseX18("2.7"));
      expect(await ch.markPrice(2n)).to.equal(parseX18("1"));
      const deficit = -(await ch.accountHealth(f.alice.address)).equityX18;
      expect(deficit).to.equal(parseX18("1040"));
      // dave's 5 first, then 15 of bob's 20; the fund is empty, so the shortfall is the whole deficit.
      const profits = [
        await realizedAt(f, f.dave.address, f.seriesId, 5n, mark),
        await realizedAt(f, f.bob.address, f.seriesId, 15n, mark),
      ];
      expect(profits).to.deep.equal([parseX18("6500"), parseX18("19500")]);
      const [daveHaircut, bobHaircut] = deleverageHaircuts(deficit, profits);
      expect(daveHaircut).to.equal(parseX18("260"));
      // Bring dave's equity to one unit below his haircut (he is deep in loss on GPUH).
      const daveEquity = (await ch.accountHealth(f.dave.address)).equityX18;
      expect(daveEquity < daveHaircut).to.equal(true);
      await ch.connect(f.dave).deposit(daveHaircut - 1n - daveEquity);
      expect((await ch.accountHealth(f.dave.address)).equityX18).to.equal(daveHaircut - 1n);
      await expect(ch.deleverage(f.alice.address, [leg(f.dave), leg(f.bob)]))
        .to.be.revertedWithCustomError(ch, "CounterpartyEquityNegative")
        .withArgs(f.dave.address, -1n);
      // One more unit: dave ends at exactly zero equity, which is allowed.
      await ch.connect(f.dave).deposit(1n);
      await expect(ch.deleverage(f.alice.address, [leg(f.dave), leg(f.bob)]))
        .to.emit(ch, "DeficitResolved")
        .withArgs(f.alice.address, deficit, 0n, deficit, 0n);
      expect((await ch.accountHealth(f.dave.address)).equityX18).to.equal(0n);
      expect((await ch.positionOf(f.dave.address, 2n)).sizeQty).to.equal(20n);
      expect((await ch.positionOf(f.bob.address, f.seriesId)).sizeQty).to.equal(-5n);
      expect(bobHaircut).to.equal(parseX18("780"));
    });
  });

  describe("DL-04: coverDeficit", function () {
    it("DL-04: NoDeficit for positive cash, zero cash, and negative cash with a position still open", async function () {
      const f = await loadFixture(settledFixture);
      const ch = f.clearinghouse;
      await expect(ch.coverDeficit(f.carol.address))
        .to.be.revertedWithCustomError(ch, "NoDeficit")
        .withArgs(f.carol.address);
      await expect(ch.coverDeficit(f.stranger.address))
        .to.be.revertedWithCustomError(ch, "NoDeficit")
        .withArgs(f.stranger.address);
      // bob: positive cash (and a settled profit).
      await expect(ch.coverDeficit(f.bob.address)).to.be.revertedWithCustomError(ch, "NoDeficit");
      // erin: her AIT loss settles her cash below zero, but she still holds GPUH in series 2.
      await expect(ch.coverDeficit(f.erin.address))
        .to.be.revertedWithCustomError(ch, "NoDeficit")
        .withArgs(f.erin.address);
      await ch.settleAccount(f.seriesId, f.erin.address);
      expect((await ch.cashOf(f.erin.address)) < 0n).to.equal(true);
      expect((await ch.positionOf(f.erin.address, 2n)).sizeQty).to.equal(-1n);
      await expect(ch.coverDeficit(f.erin.address))
        .to.be.revertedWithCustomError(ch, "NoDeficit")
        .withArgs(f.erin.address);
    });

    it("DL-04: a flat account with negative cash after settlement is settled lazily and paid in full by the fund", async function () {
      const f = await loadFixture(settledFixture);
      const ch = f.clearinghouse;
      const price = (await ch.settlementOf(f.seriesId)).priceX18;
      const pnl = 20n * price * MULTIPLIER - parseX18("80000");
      const cashBefore = await ch.cashOf(f.alice.address);
      const deficit = -(cashBefore + pnl);
      expect(deficit).to.equal(parseX18("1040"));
      const fundBefore = await ch.insuranceFundX18();
      await expect(ch.connect(f.stranger).coverDeficit(f.alice.address))
        .to.emit(ch, "AccountSettled")
        .withArgs(f.alice.address, f.seriesId, 20n, pnl)
        .and.to.emit(ch, "DeficitResolved")
        .withArgs(f.alice.address, deficit, deficit, 0n, 0n);
      expect(await ch.cashOf(f.alice.address)).to.equal(0n);
      expect(fundBefore - (await ch.insuranceFundX18())).to.equal(deficit);
      expect(await ch.seriesOf(f.alice.address)).to.deep.equal([]);
      await expect(ch.coverDeficit(f.alice.address))
        .to.be.revertedWithCustomError(ch, "NoDeficit")
        .withArgs(f.alice.address);
    });

    it("DL-04: a short fund pays what it holds, the rest stays as negative cash; cash never ends above zero", async function () {
      const f = await loadFixture(settledFixture);
      const ch = f.clearinghouse;
      await drainFundTo(f, parseX18("500"));
      const deficit = parseX18("1040");
      await expect(ch.coverDeficit(f.alice.address))
        .to.emit(ch, "DeficitResolved")
        .withArgs(f.alice.address, deficit, parseX18("500"), 0n, parseX18("540"));
      expect(await ch.cashOf(f.alice.address)).to.equal(-parseX18("540"));
      expect(await ch.insuranceFundX18()).to.equal(0n);
      // An empty fund pays nothing: the call is refused instead of emitting an empty event.
      await expect(ch.coverDeficit(f.alice.address))
        .to.be.revertedWithCustomError(ch, "InsuranceFundShort")
        .withArgs(f.alice.address, parseX18("540"), 0n);
      expect(await ch.cashOf(f.alice.address)).to.equal(-parseX18("540"));
      // Refilled (and paused, which does not stop it): the fund pays exactly the rest, never more.
      await ch.connect(f.guardian).pause();
      await f.token.mint(f.admin.address, parseX18("10000"));
      await ch.connect(f.admin).contributeInsurance(parseX18("10000"));
      await expect(ch.coverDeficit(f.alice.address))
        .to.emit(ch, "DeficitResolved")
        .withArgs(f.alice.address, parseX18("540"), parseX18("540"), 0n, 0n);
      expect(await ch.cashOf(f.alice.address)).to.equal(0n);
      expect(await ch.insuranceFundX18()).to.equal(parseX18("9460"));
    });

    it("DL-04: after settlement a deficit beyond the fund cannot be deleveraged (no positions left to close)", async function () {
      const f = await loadFixture(settledFixture);
      const ch = f.clearinghouse;
      await drainFundTo(f, parseX18("500"));
      // deleverage settles alice first; she is then flat with no legs possible, and no one's profit is in reach.
      await expect(ch.deleverage(f.alice.address, []))
        .to.be.revertedWithCustomError(ch, "DeleverageProfitShort")
        .withArgs(f.alice.address, parseX18("540"), 0n);
      // A leg in the expired series cannot even be priced.
      await expect(ch.deleverage(f.alice.address, [leg(f.bob)]))
        .to.be.revertedWithCustomError(ch, "SeriesExpired")
        .withArgs(f.seriesId, f.expiry);
    });
  });

  describe("DL-05: no sub-lot position and no resting order remains (RELIABILITY item 11)", function () {
    it("DL-05: partial liquidations by whole lots, then deleveraging, in a series with a lot of 5", async function () {
      const f = await loadFixture(lotFixture);
      const ch = f.clearinghouse;
      const lot = 5n;
      const s2 = 2n;
      expect((await ch.seriesSpec(s2)).minQty).to.equal(lot);
      expect(await ch.openOrderIdsOf(f.alice.address, 1n)).to.have.length(1);
      expect(await ch.openOrderIdsOf(f.alice.address, s2)).to.have.length(1);

      const inputs = async (maxQty: bigint) => {
        const health = await ch.accountHealth(f.alice.address);
        return {
          sizeQty: (await ch.positionOf(f.alice.address, s2)).sizeQty,
          markX18: await ch.markPrice(s2),
          multiplier: MULTIPLIER,
          lotQty: lot,
          mmBps: BigInt(PRODUCTS.AIT.risk.mmBps),
          liquidationPenaltyBps: BigInt(PRODUCTS.AIT.risk.liquidationPenaltyBps),
          equityX18: health.equityX18,
          maintenanceMarginX18: health.maintenanceMarginX18,
          maxQty,
        };
      };
      // Less than a lot: refused, never a sub-lot take-over.
      const first = liquidationSize(await inputs(4n));
      expect(first.whole).to.equal(false);
      expect(first.requiredQty).to.equal(10n);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, s2, 4n))
        .to.be.revertedWithCustomError(ch, "LiquidationQtyTooSmall")
        .withArgs(f.alice.address, s2, 4n, 10n);
      // maxQty 7 rounds down to one lot: a partial smaller than required.
      expect(liquidationSize(await inputs(7n)).qty).to.equal(5n);
      await expect(ch.connect(f.carol).liquidate(f.alice.address, s2, 7n))
        .to.emit(ch, "Liquidated")
        .withArgs(f.alice.address, f.carol.address, s2, -5n, parseX18("2.75"), parseX18("137.5"), parseX18("68.75"));
      // Every resting order of alice is gone, in both series.
      for (const s of [1n, s2]) {
        expect(await ch.openOrderIdsOf(f.alice.address, s)).to.deep.equal([]);
      }
      // A second partial: maxQty 9 is again one lot.
      const second = liquidationSize(await inputs(9n));
      expect(second.qty).to.equal(5n);
      await ch.connect(f.carol).liquidate(f.alice.address, s2, 9n);
      expect((await ch.positionOf(f.alice.address, s2)).sizeQty).to.equal(10n);
      expect((await ch.positionOf(f.carol.address, s2)).sizeQty).to.equal(10n);

      // alice rests a reduce-only ask (no margin needed); a sub-lot order is refused.
      await expect(ch.connect(f.alice).placeOrder(order(s2, f.alice.address, false, 3n, "2.9", { reduceOnly: true })))
        .to.be.revertedWithCustomError(ch, "QtyBelowMinimum")
        .withArgs(s2, 3n, lot);
      await expect(ch.connect(f.alice).placeOrder(order(s2, f.alice.address, false, 7n, "2.9", { reduceOnly: true })))
        .to.be.revertedWithCustomError(ch, "QtyNotMultipleOfLot")
        .withArgs(s2, 7n, lot);
      const ask = await place(ch, f.alice, order(s2, f.alice.address, false, 5n, "2.9", { reduceOnly: true }));
      expect(ask.restingQty).to.equal(5n);

      // The index falls to 2.200: alice is bankrupt and the fund is emptied.
      await moveIndex(f.oracle, f.reporters, "2.2");
      const equity = (await ch.accountHealth(f.alice.address)).equityX18;
      expect(equity < 0n).to.equal(true);
      await drainFundTo(f, 0n);
      const receipt = await (await ch.connect(f.stranger).deleverage(f.alice.address, [leg(f.bob, s2)])).wait();
      const cancels = eventsOf(ch, receipt!, "OrderCancelled");
      expect(cancels.map((c) => [c.args.seriesId, c.args.orderId, c.args.account, c.args.cancelledQty])).to.deep.equal([
        [s2, ask.orderId, f.alice.address, 5n],
      ]);
      expect(Number(cancels[0].args.reason)).to.equal(CancelReason.Unhealthy);
      const deleveraged = eventsOf(ch, receipt!, "Deleveraged");
      expect(deleveraged.map((e) => [e.args.counterparty, e.args.sizeChangeQty, e.args.haircutX18])).to.deep.equal([
        [f.bob.address, -10n, -equity],
      ]);

      // Nothing of alice remains on the book or in any position; every position is whole lots.
      for (const s of [1n, s2]) {
        expect(await ch.openOrderIdsOf(f.alice.address, s)).to.deep.equal([]);
        const exposure = await ch.exposureOf(f.alice.address, s);
        expect([exposure.buyQty, exposure.sellQty, exposure.openOrders]).to.deep.equal([0n, 0n, 0n]);
      }
      const level = await ch.levelOf(s2, false, 2_900);
      expect([level.qty, level.orderCount]).to.deep.equal([0n, 0n]);
      expect(await ch.seriesOf(f.alice.address)).to.deep.equal([]);
      expect(await ch.cashOf(f.alice.address)).to.equal(0n);
      const sizes: bigint[] = [];
      for (const who of [f.alice, f.bob, f.carol]) {
        const size = (await ch.positionOf(who.address, s2)).sizeQty;
        sizes.push(size);
        expect(size % lot, who.address).to.equal(0n);
      }
      expect(sizes).to.deep.equal([0n, -10n, 10n]);
      expect((await ch.marketState(s2)).openInterestQty).to.equal(10n);
    });
  });

  describe("DL-06: a bankrupt account in two series is deleveraged with legs in both", function () {
    it("DL-06: legs in one series only leave the other position open: DeleverageIncomplete, nothing changes", async function () {
      const f = await loadFixture(twoSeriesBankruptFixture);
      const ch = f.clearinghouse;
      expect(await ch.seriesOf(f.alice.address)).to.deep.equal([1n, 2n]);
      for (const legs of [[leg(f.bob)], [leg(f.erin, 2n)]]) {
        await expect(ch.deleverage(f.alice.address, legs))
          .to.be.revertedWithCustomError(ch, "DeleverageIncomplete")
          .withArgs(f.alice.address);
      }
      expect((await ch.positionOf(f.alice.address, 1n)).sizeQty).to.equal(20n);
      expect((await ch.positionOf(f.alice.address, 2n)).sizeQty).to.equal(10n);
    });

    for (const legOrder of ["AIT leg first", "GPUH leg first"] as const) {
      it(`DL-06: ${legOrder}: each leg closes at its own series' mark, haircuts are pro rata to profit across series, value is conserved`, async function () {
        const f = await loadFixture(twoSeriesBankruptFixture);
        const ch = f.clearinghouse;
        const marks = [await ch.markPrice(1n), await ch.markPrice(2n)];
        expect(marks).to.deep.equal([parseX18("3"), parseX18("1")]);
        const deficit = -(await ch.accountHealth(f.alice.address)).equityX18;
        const fundBefore = await ch.insuranceFundX18();
        expect(fundBefore).to.equal(parseX18("1000"));
        // 30,000 deposited - 20,000 - 14,000 - the two taker fees.
        expect(deficit > parseX18("4000") && deficit < parseX18("4100")).to.equal(true);
        const shortfall = deficit - fundBefore;

        const all = [
          { who: f.bob, seriesId: 1n, sizeChange: -20n, mark: marks[0] },
          { who: f.erin, seriesId: 2n, sizeChange: -10n, mark: marks[1] },
        ];
        const legs = legOrder === "AIT leg first" ? all : [all[1], all[0]];
        const profits: bigint[] = [];
        const cash: bigint[] = [];
        for (const l of legs) {
          profits.push(await realizedAt(f, l.who.address, l.seriesId, -l.sizeChange, l.mark));
          cash.push(await ch.cashOf(l.who.address));
        }
        const expectedProfits = { bob: parseX18("20000"), erin: parseX18("14000") };
        expect(profits).to.deep.equal(legs.map((l) => (l.who === f.bob ? expectedProfits.bob : expectedProfits.erin)));
        const haircuts = deleverageHaircuts(shortfall, profits);
        const value = await systemValue(f, everyone(f));

        const receipt = await (
          await ch.connect(f.stranger).deleverage(
            f.alice.address,
            legs.map((l) => leg(l.who, l.seriesId)),
          )
        ).wait();
        expect(deleveragedOf(f, receipt!)).to.deep.equal(
          legs.map((l, i) => [f.alice.address, l.who.address, l.seriesId, l.sizeChange, l.mark, haircuts[i]]),
        );
        expect(deficitsResolvedOf(f, receipt!)).to.deep.equal([[f.alice.address, deficit, fundBefore, shortfall, 0n]]);

        for (let i = 0; i < legs.length; i++) {
          expect(await ch.cashOf(legs[i].who.address)).to.equal(cash[i] + profits[i] - haircuts[i]);
          expect((await ch.positionOf(legs[i].who.address, legs[i].seriesId)).sizeQty).to.equal(0n);
        }
        for (const seriesId of [1n, 2n]) {
          expect((await ch.positionOf(f.alice.address, seriesId)).sizeQty).to.equal(0n);
          expect((await ch.marketState(seriesId)).openInterestQty).to.equal(0n);
        }
        expect(await ch.seriesOf(f.alice.address)).to.deep.equal([]);
        expect(await ch.cashOf(f.alice.address)).to.equal(0n);
        expect(await ch.insuranceFundX18()).to.equal(0n);
        expect(await systemValue(f, everyone(f))).to.equal(value);
        for (const who of everyone(f)) {
          expect((await ch.accountHealth(who.address)).equityX18 >= 0n, who.address).to.equal(true);
        }
      });
    }
  });
});
