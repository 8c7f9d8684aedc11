/**
 * Adversarial order-book scenario, from the attacker's side: pushing the mark through a thin book
 * (RELIABILITY 17; BOOK-05, BOOK-06, CH-14).
 *
 * The attacker owns two funded accounts (dave and erin) and faces an empty book. Its goal is to drag the
 * mark of AIT down until alice, long 20 at 4.000 with exactly her initial margin, falls below maintenance
 * and can be liquidated. What stands in the way, in the order the attacker meets it:
 *  - self-trade prevention (BOOK-05): one account cannot trade with itself, so a wash trade needs two;
 *  - the basis samples only trades, never quotes: a quoted book far from the index moves nothing;
 *  - the price band (BOOK-06): no order rests and no fill happens outside +-orderBandBps of the mark;
 *  - the basis clamp (CH-14): each sample is clamped to +-orderBandBps of the index, and the EMA only
 *    reaches a sample after it stood for BASIS_EMA_PERIOD_SEC, so the mark never leaves
 *    index x (1 +- orderBandBps);
 *  - the listing's risk parameters: with that bound, an account opened at initial margin keeps
 *    equity >= maintenance margin, since (IM - band) >= MM x (1 - band) (25% - 10% = 15% >= 11.25% for AIT).
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { PRODUCTS } from "../../config/series";
import { mulDivDown, mulDivUp, parseX18 } from "../../sdk";
import { AIT } from "../fixtures/clearinghouse";
import { liquidationBase } from "../fixtures/liquidation";
import { CancelReason, eventsOf, order, place } from "../helpers/orders";

const S = 1n;
const MAX = 2n ** 64n - 1n;
const BPS = 10_000n;
const MULT = BigInt(PRODUCTS.AIT.contractMultiplier);
const EMA_PERIOD = 1_800;

/**
 * Index 4.000. alice (the victim) bought 20 from bob's ask at 4.000 with exactly her initial margin
 * (20,000 USD after the 40 USD taker fee); the book is empty again. dave and erin (the attacker's two
 * accounts) hold 100,000 each; carol, a liquidator, 200,000.
 */
async function thinBook() {
  const f = await liquidationBase();
  const ch = f.clearinghouse;
  await ch.connect(f.bob).deposit(parseX18("500000"));
  await ch.connect(f.alice).deposit(parseX18("20040"));
  await ch.connect(f.dave).deposit(parseX18("100000"));
  await ch.connect(f.erin).deposit(parseX18("100000"));
  await ch.connect(f.carol).deposit(parseX18("200000"));
  await place(ch, f.bob, order(S, f.bob.address, false, 20n, "4.000"));
  await place(ch, f.alice, order(S, f.alice.address, true, 20n, "4.000", { kind: "ImmediateOrCancel" }));
  return f;
}

describe("Adversarial: thin-book mark manipulation", function () {
  it("a wash trader with two accounts moves the mark at most the band below the index, and cannot make an account opened at initial margin liquidatable", async function () {
    // Defences (each step below names the one it meets): self-trade prevention, trades-only basis samples,
    // the price band around the mark, the basis clamp and EMA, and the listing's IM - band >= MM x (1 - band).
    const f = await loadFixture(thinBook);
    const { clearinghouse: ch, oracle, alice, dave, erin, carol } = f;
    const risk = await ch.riskParams(S);
    const band = BigInt(risk.orderBandBps);
    const [index] = await oracle.latestPrice(AIT);
    expect(index).to.equal(parseX18("4"));
    const markBefore = await ch.markPrice(S);
    expect(markBefore).to.equal(index);
    const start = await ch.accountHealth(alice.address);
    expect(start.equityX18).to.equal(BigInt(start.initialMarginX18));
    expect(start.equityX18).to.equal(parseX18("20000"));
    const bandOf = (mark: bigint) => [mulDivUp(mark, BPS - band, BPS), mulDivDown(mark, BPS + band, BPS)];

    // 1. One account cannot wash-trade: its own resting bid is cancelled (SelfTrade), nothing fills, no sample.
    const sampledAt = (await ch.marketState(S)).lastBasisSampleAt;
    const ownBid = await place(ch, dave, order(S, dave.address, true, 1n, "3.600"));
    const wash = await place(ch, dave, order(S, dave.address, false, 1n, "3.600", { kind: "ImmediateOrCancel" }));
    expect(wash.filledQty).to.equal(0n);
    expect(eventsOf(ch, wash.receipt, "OrderCancelled").map((e) => [e.args.orderId, e.args.reason])).to.deep.equal([
      [ownBid.orderId, BigInt(CancelReason.SelfTrade)],
    ]);
    expect((await ch.marketState(S)).lastBasisSampleAt).to.equal(sampledAt);

    // 2. Quotes are free, so they never feed the mark: a book quoted 10% under the index for half an hour
    //    leaves it where it was. Quoting outside the band is refused by name.
    const [minPrice, maxPrice] = bandOf(markBefore);
    expect([minPrice, maxPrice]).to.deep.equal([parseX18("3.6"), parseX18("4.4")]);
    await expect(ch.connect(erin).placeOrder(order(S, erin.address, true, 1n, "3.599")))
      .to.be.revertedWithCustomError(ch, "PriceOutsideBand")
      .withArgs(S, parseX18("3.599"), minPrice, maxPrice);
    await expect(ch.connect(dave).placeOrder(order(S, dave.address, false, 1n, "4.401")))
      .to.be.revertedWithCustomError(ch, "PriceOutsideBand")
      .withArgs(S, parseX18("4.401"), minPrice, maxPrice);
    await place(ch, erin, order(S, erin.address, true, 1n, "3.600"));
    await place(ch, dave, order(S, dave.address, false, 1n, "3.601"));
    await time.increase(EMA_PERIOD);
    expect(await ch.markPrice(S)).to.equal(markBefore);

    // 3. A wash trade between the two accounts at the band's floor: dave sells "at any price" (tick 1),
    //    which the band clips to 3.600, into erin's bid. The sample is -0.400 = -band x index; the mark
    //    does not move in the trade's own block.
    const dump = await place(ch, dave, order(S, dave.address, false, 1n, 1n, { kind: "ImmediateOrCancel" }));
    expect(eventsOf(ch, dump.receipt, "OrderFilled").map((e) => [e.args.maker, e.args.priceX18])).to.deep.equal([
      [erin.address, parseX18("3.6")],
    ]);
    const limit = mulDivDown(index, band, BPS);
    const [sample1] = eventsOf(ch, dump.receipt, "BasisSampled");
    expect([sample1.args.sampleX18, sample1.args.emaX18]).to.deep.equal([-limit, 0n]);
    expect(await ch.markPrice(S)).to.equal(markBefore);

    // 4. Left unopposed for a whole EMA period the sample is the basis: the mark is index - band.
    await time.increase(EMA_PERIOD);
    const markPushed = await ch.markPrice(S);
    expect(markPushed).to.equal(index - limit);

    // 5. Pushing further: the band has moved down with the mark, so the attacker can now trade at 3.240,
    //    19% under the index, but the sample is clamped to the same -band x index, and the mark stays.
    const [floor2, ceiling2] = bandOf(markPushed);
    expect(floor2).to.equal(parseX18("3.24"));
    await expect(ch.connect(erin).placeOrder(order(S, erin.address, true, 1n, "3.239")))
      .to.be.revertedWithCustomError(ch, "PriceOutsideBand")
      .withArgs(S, parseX18("3.239"), floor2, ceiling2);
    await place(ch, erin, order(S, erin.address, true, 5n, "3.240"));
    for (let i = 0; i < 5; i++) {
      const again = await place(ch, dave, order(S, dave.address, false, 1n, 1n, { kind: "ImmediateOrCancel" }));
      const [fillEvent] = eventsOf(ch, again.receipt, "OrderFilled");
      expect(fillEvent.args.priceX18).to.equal(parseX18("3.24"));
      const [sample] = eventsOf(ch, again.receipt, "BasisSampled");
      expect(sample.args.sampleX18).to.equal(-limit);
      await time.increase(EMA_PERIOD / 5);
    }
    await time.increase(EMA_PERIOD);
    const markAfter = await ch.markPrice(S);
    // The bound from the risk parameters: mark >= index x (1 - orderBandBps), and it is reached exactly.
    const bound = mulDivUp(index, BPS - band, BPS);
    expect(markAfter).to.equal(bound);
    // The index itself never moved: everything above was the attacker's trades.
    expect((await oracle.latestPrice(AIT))[0]).to.equal(index);

    // 6. The victim: opened at initial margin, she is still above maintenance at the pushed mark.
    //    equity = 20,000 - 20 x 0.400 x 1,000 = 12,000; maintenance = 20 x 3.600 x 1,000 x 12.5% = 9,000.
    const health = await ch.accountHealth(alice.address);
    expect(health.equityX18).to.equal(parseX18("12000"));
    expect(health.maintenanceMarginX18).to.equal(parseX18("9000"));
    await expect(ch.connect(carol).liquidate(alice.address, S, MAX))
      .to.be.revertedWithCustomError(ch, "AccountNotLiquidatable")
      .withArgs(alice.address, parseX18("12000"), parseX18("9000"));
    // Why: for any account at initial margin the worst mark move is the band, and the listing keeps
    // IM - band >= MM x (1 - band) (in bps x 10,000: 15% >= 11.25%).
    const im = BigInt(risk.imBps);
    const mm = BigInt(risk.mmBps);
    expect((im - band) * BPS).to.be.gte(mm * (BPS - band));
    const notionalAtBound = 20n * bound * MULT;
    console.log(
      `      mark ${markBefore} -> ${markAfter} (bound index x (1 - ${band} bps) = ${bound}); alice equity ` +
        `${health.equityX18} >= maintenance ${health.maintenanceMarginX18} (notional ${notionalAtBound})`,
    );
  });
});
