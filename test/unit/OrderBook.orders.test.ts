/**
 * The order book's rules (IOrderBook.sol): every order kind, reduce-only, good-till-time, cancels and
 * replaces, every validation error, pause and stale-index liveness (RELIABILITY 14, 24), owner/operator
 * rights (RELIABILITY 25), self-trade prevention, the price band, fees and the margin reserve of resting
 * orders, round trips (RELIABILITY 5) and expiry.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { MaxUint256, encodeBytes32String } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { AIT, aitRisk, aitSpec, deploy18, deploy6, publish, units } from "../fixtures/clearinghouse";
import { CancelReason, Kind, eventsOf, levelQueue, order, place, tickOf } from "../helpers/orders";
import type { OrderOptions } from "../helpers/orders";
import { feeX18, mulDivDown, notionalX18, parseX18 } from "../../sdk";

const S = 1n;
const MULT = 1_000n;
const MAX_TICK = 2n ** 24n - 1n;
const MAX_ORDER_QTY = 2n ** 32n - 1n;
const MAX_FILLS = 50n;
const MAX_OPEN_ORDERS = 32n;
/** One raw unit of the 6-decimal collateral in 18-decimal units. */
const RAW = 10n ** 12n;

/** The fixture with alice, bob and carol holding 100,000 USD each, and maker funded with tokens only. */
async function funded() {
  const f = await deploy6();
  const maker = (await ethers.getSigners())[9];
  await f.token.mint(maker.address, units(1_000_000, 6));
  await f.token.connect(maker).approve(await f.clearinghouse.getAddress(), MaxUint256);
  for (const who of [f.alice, f.bob, f.carol]) await f.clearinghouse.connect(who).deposit(units(100_000, 6));
  return { ...f, maker };
}

/** `funded` plus series 2 (minQty 5) and series 3 (an odd tick size, so fees round). */
async function withMoreSeries() {
  const f = await funded();
  await f.clearinghouse
    .connect(f.admin)
    .listSeries(aitSpec(f.expiry, { symbol: encodeBytes32String("AIT-LOT5"), minQty: 5n }), aitRisk());
  await f.clearinghouse
    .connect(f.admin)
    .listSeries(aitSpec(f.expiry, { symbol: encodeBytes32String("AIT-ODD"), tickSizeX18: 10n ** 15n + 1n }), aitRisk());
  return f;
}

/** `funded` with alice short 5 and bob long 5 at 4.000 (alice's ask taken by bob). */
async function aliceShort() {
  const f = await funded();
  const { clearinghouse: ch, alice, bob } = f;
  await place(ch, alice, order(S, alice.address, false, 5n, "4.000"));
  await place(ch, bob, order(S, bob.address, true, 5n, "4.000", { kind: "ImmediateOrCancel" }));
  return f;
}

function ioc(account: string, isBuy: boolean, qty: bigint, price: string | bigint, options: OrderOptions = {}) {
  return order(S, account, isBuy, qty, price, { ...options, kind: "ImmediateOrCancel" });
}

describe("OrderBook orders", () => {
  describe("#placeOrder", () => {
    describe("Limit", () => {
      it("rests when it does not cross and announces itself with OrderPlaced", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(funded);
        const params = order(S, alice.address, false, 5n, "4.010");
        const res = await ch.connect(alice).placeOrder.staticCall(params);
        expect([res.filledQty, res.restingQty, res.cancelledQty]).to.deep.equal([0n, 5n, 0n]);
        await expect(ch.connect(alice).placeOrder(params))
          .to.emit(ch, "OrderPlaced")
          .withArgs(S, res.orderId, alice.address, false, Kind.Limit, false, parseX18("4.01"), 5n, 0n)
          .and.not.to.emit(ch, "OrderFilled");
        const view = await ch.orderOf(res.orderId);
        expect([
          view.account,
          view.seriesId,
          view.isBuy,
          view.reduceOnly,
          view.tick,
          view.qty,
          view.expiresAt,
        ]).to.deep.equal([alice.address, S, false, false, tickOf("4.010"), 5n, 0n]);
        const level = await ch.levelOf(S, false, tickOf("4.010"));
        expect([level.qty, level.orderCount, level.headOrderId]).to.deep.equal([5n, 1n, res.orderId]);
        expect(await ch.nextActiveTick(S, false, 0)).to.deep.equal([tickOf("4.010"), true]);
        expect(await ch.openOrderIdsOf(alice.address, S)).to.deep.equal([res.orderId]);
      });

      it("fills best price first, oldest first, at the makers' prices, then rests the remainder", async () => {
        const { clearinghouse: ch, alice, bob, carol } = await loadFixture(funded);
        const a1 = await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
        const c1 = await place(ch, carol, order(S, carol.address, false, 3n, "4.010"));
        const a2 = await place(ch, alice, order(S, alice.address, false, 2n, "4.005"));
        const taker = await place(ch, bob, order(S, bob.address, true, 12n, "4.020"));
        expect([taker.filledQty, taker.restingQty, taker.cancelledQty]).to.deep.equal([10n, 2n, 0n]);
        const fills = eventsOf(ch, taker.receipt, "OrderFilled").map((e) => [
          e.args.makerOrderId,
          e.args.priceX18,
          e.args.qty,
        ]);
        expect(fills).to.deep.equal([
          [a2.orderId, parseX18("4.005"), 2n],
          [a1.orderId, parseX18("4.01"), 5n],
          [c1.orderId, parseX18("4.01"), 3n],
        ]);
        // Every fill's fees follow PositionMath: maker 1 bp and taker 5 bps of the fill's notional, rounded up.
        let notional = 0n;
        let takerFees = 0n;
        for (const e of eventsOf(ch, taker.receipt, "OrderFilled")) {
          const n = notionalX18(e.args.qty, e.args.priceX18, MULT);
          expect(e.args.makerFeeX18).to.equal(feeX18(n, 1n));
          expect(e.args.takerFeeX18).to.equal(feeX18(n, 5n));
          expect([e.args.taker, e.args.takerOrderId, e.args.takerIsBuy]).to.deep.equal([
            bob.address,
            taker.orderId,
            true,
          ]);
          notional += n;
          takerFees += e.args.takerFeeX18;
        }
        const [done] = eventsOf(ch, taker.receipt, "TakerOrderFilled");
        expect([...done.args]).to.deep.equal([S, bob.address, taker.orderId, true, 10n, notional, takerFees]);
        expect(notional).to.equal(parseX18("40090"));
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(-7n);
        expect((await ch.positionOf(carol.address, S)).sizeQty).to.equal(-3n);
        expect((await ch.positionOf(bob.address, S)).sizeQty).to.equal(10n);
        expect((await ch.orderOf(taker.orderId)).qty).to.equal(2n);
        expect((await ch.nextActiveTick(S, false, 0))[1]).to.equal(false);
        expect(await ch.nextActiveTick(S, true, Number(MAX_TICK))).to.deep.equal([tickOf("4.020"), true]);
        expect((await ch.marketState(S)).openInterestQty).to.equal(10n);
      });

      it("cancels the remainder with reason Unfilled when its fill budget runs out while it still crosses", async () => {
        const { clearinghouse: ch, alice, bob } = await loadFixture(funded);
        for (let i = 0; i < 3; i++) await place(ch, alice, order(S, alice.address, false, 1n, "4.010"));
        const params = order(S, bob.address, true, 5n, "4.010", { maxFills: 2 });
        const res = await ch.connect(bob).placeOrder.staticCall(params);
        expect([res.filledQty, res.restingQty, res.cancelledQty]).to.deep.equal([2n, 0n, 3n]);
        await expect(ch.connect(bob).placeOrder(params))
          .to.emit(ch, "OrderCancelled")
          .withArgs(S, res.orderId, bob.address, 3n, CancelReason.Unfilled);
        // The book is never crossed: the bid did not rest against the remaining ask.
        expect((await ch.nextActiveTick(S, true, Number(MAX_TICK)))[1]).to.equal(false);
        expect((await ch.levelOf(S, false, tickOf("4.010"))).qty).to.equal(1n);
        await expect(ch.orderOf(res.orderId)).to.be.revertedWithCustomError(ch, "OrderNotFound").withArgs(res.orderId);
      });
    });

    describe("PostOnly", () => {
      it("rests like a limit order when it does not cross", async () => {
        const { clearinghouse: ch, alice, bob } = await loadFixture(funded);
        await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
        const params = order(S, bob.address, true, 4n, "4.009", { kind: "PostOnly" });
        const res = await ch.connect(bob).placeOrder.staticCall(params);
        await expect(ch.connect(bob).placeOrder(params))
          .to.emit(ch, "OrderPlaced")
          .withArgs(S, res.orderId, bob.address, true, Kind.PostOnly, false, parseX18("4.009"), 4n, 0n);
        expect((await ch.orderOf(res.orderId)).qty).to.equal(4n);
      });

      it("reverts when a post-only order would cross", async () => {
        const { clearinghouse: ch, alice, bob } = await loadFixture(funded);
        await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
        await place(ch, alice, order(S, alice.address, true, 5n, "3.990"));
        await expect(ch.connect(bob).placeOrder(order(S, bob.address, true, 1n, "4.010", { kind: "PostOnly" })))
          .to.be.revertedWithCustomError(ch, "PostOnlyWouldCross")
          .withArgs(S, tickOf("4.010"), tickOf("4.010"));
        await expect(ch.connect(bob).placeOrder(order(S, bob.address, true, 1n, "4.050", { kind: "PostOnly" })))
          .to.be.revertedWithCustomError(ch, "PostOnlyWouldCross")
          .withArgs(S, tickOf("4.050"), tickOf("4.010"));
        await expect(ch.connect(bob).placeOrder(order(S, bob.address, false, 1n, "3.985", { kind: "PostOnly" })))
          .to.be.revertedWithCustomError(ch, "PostOnlyWouldCross")
          .withArgs(S, tickOf("3.985"), tickOf("3.990"));
      });
    });

    describe("ImmediateOrCancel", () => {
      it("fills up to its limit price and drops the remainder without resting or an id", async () => {
        const { clearinghouse: ch, alice, bob } = await loadFixture(funded);
        const a = await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
        await place(ch, alice, order(S, alice.address, false, 5n, "4.011"));
        const params = ioc(bob.address, true, 8n, "4.010");
        const res = await ch.connect(bob).placeOrder.staticCall(params);
        expect([res.orderId, res.filledQty, res.restingQty, res.cancelledQty]).to.deep.equal([0n, 5n, 0n, 3n]);
        const notional = notionalX18(5n, parseX18("4.01"), MULT);
        const tx = ch.connect(bob).placeOrder(params);
        await expect(tx)
          .to.emit(ch, "OrderFilled")
          .withArgs(
            S,
            a.orderId,
            alice.address,
            bob.address,
            0n,
            true,
            parseX18("4.01"),
            5n,
            feeX18(notional, 1n),
            feeX18(notional, 5n),
          )
          .and.to.emit(ch, "TakerOrderFilled")
          .withArgs(S, bob.address, 0n, true, 5n, notional, feeX18(notional, 5n));
        await expect(tx).not.to.emit(ch, "OrderPlaced");
        await expect(tx).not.to.emit(ch, "OrderCancelled");
        expect((await ch.nextActiveTick(S, true, Number(MAX_TICK)))[1]).to.equal(false);
        expect((await ch.positionOf(bob.address, S)).sizeQty).to.equal(5n);
      });

      it("drops everything and emits no TakerOrderFilled when nothing crosses", async () => {
        const { clearinghouse: ch, alice, bob } = await loadFixture(funded);
        await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
        const params = ioc(bob.address, true, 4n, "4.009");
        const res = await ch.connect(bob).placeOrder.staticCall(params);
        expect([res.orderId, res.filledQty, res.restingQty, res.cancelledQty]).to.deep.equal([0n, 0n, 0n, 4n]);
        await expect(ch.connect(bob).placeOrder(params)).not.to.emit(ch, "TakerOrderFilled");
        expect((await ch.positionOf(bob.address, S)).sizeQty).to.equal(0n);
      });
    });

    describe("FillOrKill", () => {
      it("fills its whole quantity in one call", async () => {
        const { clearinghouse: ch, alice, bob, carol } = await loadFixture(funded);
        await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
        await place(ch, carol, order(S, carol.address, false, 3n, "4.020"));
        const r = await place(ch, bob, order(S, bob.address, true, 8n, "4.020", { kind: "FillOrKill" }));
        expect([r.orderId, r.filledQty, r.restingQty, r.cancelledQty]).to.deep.equal([0n, 8n, 0n, 0n]);
        expect((await ch.positionOf(bob.address, S)).sizeQty).to.equal(8n);
      });

      it("reverts when a fill-or-kill order cannot fill completely, and changes nothing", async () => {
        const { clearinghouse: ch, alice, bob, carol } = await loadFixture(funded);
        await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
        await place(ch, carol, order(S, carol.address, false, 3n, "4.020"));
        await expect(ch.connect(bob).placeOrder(order(S, bob.address, true, 8n, "4.015", { kind: "FillOrKill" })))
          .to.be.revertedWithCustomError(ch, "FillOrKillUnfilled")
          .withArgs(S, 5n, 8n);
        await expect(
          ch.connect(bob).placeOrder(order(S, bob.address, true, 8n, "4.020", { kind: "FillOrKill", maxFills: 1 })),
        )
          .to.be.revertedWithCustomError(ch, "FillOrKillUnfilled")
          .withArgs(S, 5n, 8n);
        await expect(ch.connect(bob).placeOrder(order(S, bob.address, true, 9n, "4.020", { kind: "FillOrKill" })))
          .to.be.revertedWithCustomError(ch, "FillOrKillUnfilled")
          .withArgs(S, 8n, 9n);
        expect((await ch.levelOf(S, false, tickOf("4.010"))).qty).to.equal(5n);
        expect((await ch.levelOf(S, false, tickOf("4.020"))).qty).to.equal(3n);
        expect((await ch.positionOf(bob.address, S)).sizeQty).to.equal(0n);
      });
    });

    describe("Market", () => {
      it("buying with tick 0 fills up to the band's upper edge, inclusive", async () => {
        const { clearinghouse: ch, alice, bob } = await loadFixture(funded);
        // Mark 4.000, band 10%: [3.600, 4.400].
        await place(ch, alice, order(S, alice.address, false, 2n, "4.390"));
        await place(ch, alice, order(S, alice.address, false, 3n, "4.400"));
        const buy = await place(ch, bob, order(S, bob.address, true, 10n, 0n, { kind: "Market" }));
        expect([buy.orderId, buy.filledQty, buy.restingQty, buy.cancelledQty]).to.deep.equal([0n, 5n, 0n, 5n]);
        expect(eventsOf(ch, buy.receipt, "OrderFilled").map((e) => e.args.priceX18)).to.deep.equal([
          parseX18("4.39"),
          parseX18("4.4"),
        ]);
      });

      it("selling with tick 0 fills down to the band's lower edge, inclusive", async () => {
        const { clearinghouse: ch, alice, carol } = await loadFixture(funded);
        await place(ch, carol, order(S, carol.address, true, 2n, "3.610"));
        await place(ch, carol, order(S, carol.address, true, 3n, "3.600"));
        const sell = await place(ch, alice, order(S, alice.address, false, 10n, 0n, { kind: "Market" }));
        expect([sell.orderId, sell.filledQty, sell.restingQty, sell.cancelledQty]).to.deep.equal([0n, 5n, 0n, 5n]);
        expect(eventsOf(ch, sell.receipt, "OrderFilled").map((e) => e.args.priceX18)).to.deep.equal([
          parseX18("3.61"),
          parseX18("3.6"),
        ]);
      });

      it("never fills outside the band after the index moves, whatever its worst price", async () => {
        const { clearinghouse: ch, oracle, reporters, alice, bob } = await loadFixture(funded);
        await place(ch, alice, order(S, alice.address, false, 2n, "4.300"));
        const far = await place(ch, alice, order(S, alice.address, false, 3n, "4.400"));
        await time.increase(900);
        await publish(oracle, reporters, AIT, "3.95");
        // Band now [3.555, 4.345]: the ask at 4.400 is outside.
        const market = await place(ch, bob, order(S, bob.address, true, 10n, 0n, { kind: "Market" }));
        expect([market.filledQty, market.cancelledQty]).to.deep.equal([2n, 8n]);
        expect(eventsOf(ch, market.receipt, "OrderFilled").map((e) => e.args.priceX18)).to.deep.equal([
          parseX18("4.3"),
        ]);
        // An explicit worst price beyond the band is clipped to it as well.
        const explicit = await place(ch, bob, ioc(bob.address, true, 3n, "4.400"));
        expect(explicit.filledQty).to.equal(0n);
        const clipped = await place(ch, bob, order(S, bob.address, true, 3n, "4.500", { kind: "Market" }));
        expect(clipped.filledQty).to.equal(0n);
        expect((await ch.orderOf(far.orderId)).qty).to.equal(3n);
      });

      it("respects a non-zero worst price", async () => {
        const { clearinghouse: ch, alice, bob } = await loadFixture(funded);
        await place(ch, alice, order(S, alice.address, false, 2n, "4.010"));
        await place(ch, alice, order(S, alice.address, false, 3n, "4.020"));
        const r = await place(ch, bob, order(S, bob.address, true, 5n, "4.015", { kind: "Market" }));
        expect([r.filledQty, r.cancelledQty]).to.deep.equal([2n, 3n]);
      });
    });

    describe("reduce-only", () => {
      it("is clipped to the position when placed and rests only what it can reduce", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(aliceShort);
        const params = order(S, alice.address, true, 8n, "3.990", { reduceOnly: true });
        const res = await ch.connect(alice).placeOrder.staticCall(params);
        expect([res.filledQty, res.restingQty]).to.deep.equal([0n, 5n]);
        await expect(ch.connect(alice).placeOrder(params))
          .to.emit(ch, "OrderPlaced")
          .withArgs(S, res.orderId, alice.address, true, Kind.Limit, true, parseX18("3.99"), 5n, 0n);
        const view = await ch.orderOf(res.orderId);
        expect([view.qty, view.reduceOnly]).to.deep.equal([5n, true]);
      });

      // Regression: IOrderBook.PlaceResult documents `cancelledQty` as "Contracts of this order
      // cancelled (unfilled remainder, reduce-only clip)", but OrderBookLogic._takerOf clips `taker.remaining`
      // silently and _finish never adds the clipped amount. Alice short 5 placing a reduce-only Limit buy of 8 at
      // 3.990 (no asks): expected {filled 0, resting 5, cancelled 3}; the first book returned cancelled 0.
      // Same for immediate kinds (reduce-only IOC buy 8 against 10 asks: expected cancelled 3).
      it("reports the placement clip in cancelledQty (filled + resting + cancelled = qty)", async () => {
        const { clearinghouse: ch, alice, carol } = await loadFixture(aliceShort);
        const rest = await ch
          .connect(alice)
          .placeOrder.staticCall(order(S, alice.address, true, 8n, "3.990", { reduceOnly: true }));
        expect([rest.filledQty, rest.restingQty, rest.cancelledQty]).to.deep.equal([0n, 5n, 3n]);
        await place(ch, carol, order(S, carol.address, false, 10n, "4.010"));
        const take = await ch
          .connect(alice)
          .placeOrder.staticCall(ioc(alice.address, true, 8n, "4.010", { reduceOnly: true }));
        expect([take.filledQty, take.restingQty, take.cancelledQty]).to.deep.equal([5n, 0n, 3n]);
      });

      it("never increases the position as a taker", async () => {
        const { clearinghouse: ch, alice, carol } = await loadFixture(aliceShort);
        await place(ch, carol, order(S, carol.address, false, 10n, "4.010"));
        const r = await place(ch, alice, ioc(alice.address, true, 10n, "4.010", { reduceOnly: true }));
        expect(r.filledQty).to.equal(5n);
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(0n);
        expect((await ch.levelOf(S, false, tickOf("4.010"))).qty).to.equal(5n);
      });

      it("is clipped at fill time when the position shrank since it was placed", async () => {
        const { clearinghouse: ch, alice, bob, carol } = await loadFixture(aliceShort);
        const ro = await place(ch, alice, order(S, alice.address, true, 5n, "3.990", { reduceOnly: true }));
        await place(ch, carol, order(S, carol.address, false, 3n, "4.010"));
        await place(ch, alice, ioc(alice.address, true, 3n, "4.010"));
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(-2n);
        const params = ioc(bob.address, false, 5n, "3.990");
        const res = await ch.connect(bob).placeOrder.staticCall(params);
        expect([res.filledQty, res.cancelledQty]).to.deep.equal([2n, 3n]);
        await expect(ch.connect(bob).placeOrder(params))
          .to.emit(ch, "OrderCancelled")
          .withArgs(S, ro.orderId, alice.address, 3n, CancelReason.ReduceOnlyClipped)
          .and.to.emit(ch, "OrderFilled")
          .withArgs(
            S,
            ro.orderId,
            alice.address,
            bob.address,
            0n,
            false,
            parseX18("3.99"),
            2n,
            feeX18(notionalX18(2n, parseX18("3.99"), MULT), 1n),
            feeX18(notionalX18(2n, parseX18("3.99"), MULT), 5n),
          );
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(0n);
        expect((await ch.levelOf(S, true, tickOf("3.990"))).orderCount).to.equal(0n);
      });

      it("is removed with reason ReduceOnlyClipped when nothing is left to reduce, and the taker fills behind it", async () => {
        const { clearinghouse: ch, alice, bob, carol } = await loadFixture(aliceShort);
        const ro = await place(ch, alice, order(S, alice.address, true, 5n, "3.990", { reduceOnly: true }));
        const behind = await place(ch, carol, order(S, carol.address, true, 2n, "3.990"));
        await place(ch, carol, order(S, carol.address, false, 5n, "4.010"));
        await place(ch, alice, ioc(alice.address, true, 5n, "4.010"));
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(0n);
        const r = await place(ch, bob, ioc(bob.address, false, 5n, "3.990"));
        const cancelled = eventsOf(ch, r.receipt, "OrderCancelled").map((e) => [...e.args]);
        expect(cancelled).to.deep.equal([[S, ro.orderId, alice.address, 5n, BigInt(CancelReason.ReduceOnlyClipped)]]);
        const fills = eventsOf(ch, r.receipt, "OrderFilled").map((e) => [e.args.makerOrderId, e.args.qty]);
        expect(fills).to.deep.equal([[behind.orderId, 2n]]);
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(0n);
        await expect(ch.orderOf(ro.orderId)).to.be.revertedWithCustomError(ch, "OrderNotFound").withArgs(ro.orderId);
      });

      it("reverts when a reduce-only order has nothing to reduce", async () => {
        const { clearinghouse: ch, alice, carol } = await loadFixture(aliceShort);
        await expect(ch.connect(carol).placeOrder(order(S, carol.address, false, 1n, "4.100", { reduceOnly: true })))
          .to.be.revertedWithCustomError(ch, "ReduceOnlyNothingToReduce")
          .withArgs(carol.address, S, 0n);
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, false, 1n, "4.100", { reduceOnly: true })))
          .to.be.revertedWithCustomError(ch, "ReduceOnlyNothingToReduce")
          .withArgs(alice.address, S, -5n);
      });

      it("reserves no margin", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(aliceShort);
        const before = await ch.accountHealth(alice.address);
        await place(ch, alice, order(S, alice.address, true, 5n, "3.700", { reduceOnly: true }));
        const after = await ch.accountHealth(alice.address);
        expect(before.orderMarginX18).to.equal(0n);
        expect(after.orderMarginX18).to.equal(0n);
        const exposure = await ch.exposureOf(alice.address, S);
        expect([exposure.buyQty, exposure.buyTickQty, exposure.openOrders]).to.deep.equal([0n, 0n, 1n]);
      });
    });

    describe("good-till-time", () => {
      it("reverts when the good-till time is not in the future", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(funded);
        const now = BigInt(await time.latest()) + 10n;
        await time.setNextBlockTimestamp(now);
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, "3.990", { expiresAt: now })))
          .to.be.revertedWithCustomError(ch, "OrderExpiryInvalid")
          .withArgs(now, now);
        const later = now + 10n;
        await time.setNextBlockTimestamp(later);
        await expect(
          ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, "3.990", { expiresAt: later - 5n })),
        )
          .to.be.revertedWithCustomError(ch, "OrderExpiryInvalid")
          .withArgs(later - 5n, later);
      });

      it("reverts when an immediate kind carries a good-till time", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(funded);
        for (const kind of ["ImmediateOrCancel", "FillOrKill", "Market"] as const) {
          const now = BigInt(await time.latest()) + 10n;
          await time.setNextBlockTimestamp(now);
          const expiresAt = now + 3_600n;
          await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, "4.000", { kind, expiresAt })))
            .to.be.revertedWithCustomError(ch, "OrderExpiryInvalid")
            .withArgs(expiresAt, now);
        }
      });

      it("fills before its time and is removed with reason Expired when a taker reaches it after", async () => {
        const { clearinghouse: ch, alice, bob, carol } = await loadFixture(funded);
        const expiresAt = BigInt(await time.latest()) + 100n;
        const gtt = await place(ch, alice, order(S, alice.address, false, 5n, "4.010", { expiresAt }));
        expect((await ch.orderOf(gtt.orderId)).expiresAt).to.equal(expiresAt);
        const c = await place(ch, carol, order(S, carol.address, false, 3n, "4.010"));
        const early = await place(ch, bob, ioc(bob.address, true, 1n, "4.010"));
        expect(eventsOf(ch, early.receipt, "OrderFilled")[0].args.makerOrderId).to.equal(gtt.orderId);
        await time.increaseTo(expiresAt);
        const late = await place(ch, bob, ioc(bob.address, true, 3n, "4.010"));
        expect(eventsOf(ch, late.receipt, "OrderCancelled").map((e) => [...e.args])).to.deep.equal([
          [S, gtt.orderId, alice.address, 4n, BigInt(CancelReason.Expired)],
        ]);
        expect(eventsOf(ch, late.receipt, "OrderFilled").map((e) => [e.args.makerOrderId, e.args.qty])).to.deep.equal([
          [c.orderId, 3n],
        ]);
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(-1n);
        expect(await ch.openOrderIdsOf(alice.address, S)).to.deep.equal([]);
      });
    });

    describe("validation", () => {
      it("reverts when the tick is 0 (except Market) or above MAX_TICK", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(funded);
        for (const kind of ["Limit", "PostOnly", "ImmediateOrCancel", "FillOrKill"] as const) {
          await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, 0n, { kind })))
            .to.be.revertedWithCustomError(ch, "TickOutOfRange")
            .withArgs(S, 0n, MAX_TICK);
        }
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, MAX_TICK + 1n, { kind: "Market" })))
          .to.be.revertedWithCustomError(ch, "TickOutOfRange")
          .withArgs(S, MAX_TICK + 1n, MAX_TICK);
      });

      it("reverts when the quantity is below the minimum, not a multiple of the lot, or too large", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(withMoreSeries);
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 0n, "3.990")))
          .to.be.revertedWithCustomError(ch, "QtyBelowMinimum")
          .withArgs(S, 0n, 1n);
        await expect(ch.connect(alice).placeOrder(order(2n, alice.address, true, 3n, "3.990")))
          .to.be.revertedWithCustomError(ch, "QtyBelowMinimum")
          .withArgs(2n, 3n, 5n);
        await expect(ch.connect(alice).placeOrder(order(2n, alice.address, true, 7n, "3.990")))
          .to.be.revertedWithCustomError(ch, "QtyNotMultipleOfLot")
          .withArgs(2n, 7n, 5n);
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, MAX_ORDER_QTY + 1n, "3.990")))
          .to.be.revertedWithCustomError(ch, "QtyTooLarge")
          .withArgs(S, MAX_ORDER_QTY + 1n, MAX_ORDER_QTY);
        const lot = await place(ch, alice, order(2n, alice.address, true, 10n, "3.990"));
        expect(lot.restingQty).to.equal(10n);
      });

      it("reverts when maxFills is 0 or above MAX_FILLS", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(funded);
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, "3.990", { maxFills: 0 })))
          .to.be.revertedWithCustomError(ch, "MaxFillsOutOfRange")
          .withArgs(0n, MAX_FILLS);
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, "3.990", { maxFills: 51 })))
          .to.be.revertedWithCustomError(ch, "MaxFillsOutOfRange")
          .withArgs(51n, MAX_FILLS);
        const ok = await place(ch, alice, order(S, alice.address, true, 1n, "3.990", { maxFills: 50 }));
        expect(ok.restingQty).to.equal(1n);
      });

      it("reverts when a resting kind's price lies outside the band", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(funded);
        const [lo, hi] = [parseX18("3.6"), parseX18("4.4")];
        for (const kind of ["Limit", "PostOnly"] as const) {
          await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, "4.401", { kind })))
            .to.be.revertedWithCustomError(ch, "PriceOutsideBand")
            .withArgs(S, parseX18("4.401"), lo, hi);
          await expect(ch.connect(alice).placeOrder(order(S, alice.address, false, 1n, "3.599", { kind })))
            .to.be.revertedWithCustomError(ch, "PriceOutsideBand")
            .withArgs(S, parseX18("3.599"), lo, hi);
        }
        // The edges themselves are inside.
        await place(ch, alice, order(S, alice.address, false, 1n, "4.400"));
        await place(ch, alice, order(S, alice.address, true, 1n, "3.600"));
        expect((await ch.openOrderIdsOf(alice.address, S)).length).to.equal(2);
      });

      it("reverts when the series is unknown", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(funded);
        for (const seriesId of [0n, 2n]) {
          await expect(ch.connect(alice).placeOrder(order(seriesId, alice.address, true, 1n, "3.990")))
            .to.be.revertedWithCustomError(ch, "UnknownSeries")
            .withArgs(seriesId);
        }
      });

      it("reverts when an account already has MAX_OPEN_ORDERS resting orders in the series", async () => {
        const { clearinghouse: ch, alice, bob } = await loadFixture(funded);
        const ids: bigint[] = [];
        for (let i = 0n; i < MAX_OPEN_ORDERS; i++) {
          ids.push((await place(ch, alice, order(S, alice.address, true, 1n, 3_900n + i))).orderId);
        }
        expect((await ch.exposureOf(alice.address, S)).openOrders).to.equal(MAX_OPEN_ORDERS);
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, 3_950n)))
          .to.be.revertedWithCustomError(ch, "TooManyOpenOrders")
          .withArgs(alice.address, S, MAX_OPEN_ORDERS);
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, false, 1n, 4_100n, { kind: "PostOnly" })))
          .to.be.revertedWithCustomError(ch, "TooManyOpenOrders")
          .withArgs(alice.address, S, MAX_OPEN_ORDERS);
        // Immediate kinds never rest, so they need no slot; a cancel frees one.
        await place(ch, bob, order(S, bob.address, false, 1n, "4.100"));
        expect((await place(ch, alice, ioc(alice.address, true, 1n, "4.100"))).filledQty).to.equal(1n);
        await ch.connect(alice).cancelOrder(ids[5]);
        const again = await place(ch, alice, order(S, alice.address, true, 1n, 3_950n));
        expect(again.restingQty).to.equal(1n);
        expect(again.orderId).to.not.equal(ids[5]);
      });

      it("reverts when the caller is neither the account nor its operator (RELIABILITY 25)", async () => {
        const { clearinghouse: ch, alice, carol, stranger } = await loadFixture(funded);
        await expect(ch.connect(stranger).placeOrder(order(S, alice.address, true, 1n, "3.990")))
          .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
          .withArgs(alice.address, stranger.address);
        await expect(ch.connect(stranger).placeOrder(order(S, ethers.ZeroAddress, true, 1n, "3.990")))
          .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
          .withArgs(ethers.ZeroAddress, stranger.address);
        await ch.connect(alice).setOperator(carol.address, true);
        const r = await place(ch, carol, order(S, alice.address, true, 1n, "3.990"));
        expect((await ch.orderOf(r.orderId)).account).to.equal(alice.address);
        expect(await ch.openOrderIdsOf(carol.address, S)).to.deep.equal([]);
        await ch.connect(carol).cancelOrder(r.orderId);
        await ch.connect(alice).setOperator(carol.address, false);
        await expect(ch.connect(carol).placeOrder(order(S, alice.address, true, 1n, "3.990")))
          .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
          .withArgs(alice.address, carol.address);
      });
    });

    describe("position limit and open quantity", () => {
      it("reverts when a taker or a resting order's worst case would exceed the position limit", async () => {
        const { clearinghouse: ch, admin, alice, bob, carol } = await loadFixture(funded);
        await ch.connect(admin).setRiskParams(S, aitRisk({ positionLimitQty: 10n }));
        await place(ch, carol, order(S, carol.address, false, 10n, "4.010"));
        await place(ch, bob, order(S, bob.address, false, 5n, "4.010"));
        await expect(ch.connect(alice).placeOrder(ioc(alice.address, true, 11n, "4.010")))
          .to.be.revertedWithCustomError(ch, "PositionLimitExceeded")
          .withArgs(alice.address, S, 11n, 10n);
        await place(ch, alice, order(S, alice.address, true, 6n, "3.990"));
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 5n, "3.980")))
          .to.be.revertedWithCustomError(ch, "PositionLimitExceeded")
          .withArgs(alice.address, S, 11n, 10n);
        // Asks offset bids in the worst case: 6 bids and 10 asks never exceed 10 either way.
        const ask = await place(ch, alice, order(S, alice.address, false, 10n, "4.050"));
        expect(ask.restingQty).to.equal(10n);
      });

      // Regression: `positionLimitQty` is documented (IClearinghouse.RiskParams) as the "largest
      // absolute position of one account", and OrderBookLogic._checkAccount's @dev says a side that raised its
      // risk "needs room under its position limit (all orders filled)". The code checks the resting worst case
      // only when the new order rests (`restedWithMargin`); a taker that raises risk is checked with its
      // position alone. Inputs: positionLimitQty 10; alice rests a bid of 6 at 3.990 (worst case 6), then
      // takes 8 with an IOC buy at 4.010 against carol's ask. Expected: the IOC reverts with
      // PositionLimitExceeded(alice, 1, 14, 10) (or, at the latest, bob's sell into her bid cannot fill past
      // 10). The first book let the IOC through and bob's sell into her bid left alice long 14 > 10.
      it("reverts when a taker raises risk past the position limit counting its resting orders", async () => {
        const { clearinghouse: ch, admin, alice, bob, carol } = await loadFixture(funded);
        await ch.connect(admin).setRiskParams(S, aitRisk({ positionLimitQty: 10n }));
        await place(ch, alice, order(S, alice.address, true, 6n, "3.990"));
        await place(ch, carol, order(S, carol.address, false, 8n, "4.010"));
        await expect(ch.connect(alice).placeOrder(ioc(alice.address, true, 8n, "4.010")))
          .to.be.revertedWithCustomError(ch, "PositionLimitExceeded")
          .withArgs(alice.address, S, 14n, 10n);
        await place(ch, bob, ioc(bob.address, false, 6n, "3.990"));
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.be.lte(10n);
      });

      it("reverts when an account's resting quantity on one side would exceed MAX_ORDER_QTY", async () => {
        const { clearinghouse: ch, token, admin, alice } = await loadFixture(funded);
        await ch.connect(admin).setRiskParams(
          S,
          aitRisk({
            imBps: 51,
            mmBps: 50,
            liquidationPenaltyBps: 50,
            positionLimitQty: 10n ** 12n,
            openInterestCapQty: 10n ** 12n,
          }),
        );
        await token.mint(alice.address, units(100_000_000_000n, 6));
        await ch.connect(alice).deposit(units(100_000_000_000n, 6));
        await place(ch, alice, order(S, alice.address, true, MAX_ORDER_QTY, "3.990"));
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, "3.980")))
          .to.be.revertedWithCustomError(ch, "OpenQtyTooLarge")
          .withArgs(alice.address, S, MAX_ORDER_QTY + 1n, MAX_ORDER_QTY);
        // The other side has its own sum.
        expect((await place(ch, alice, order(S, alice.address, false, 1n, "4.010"))).restingQty).to.equal(1n);
      });
    });

    describe("pause (RELIABILITY 24)", () => {
      it("reverts when a non-reduce-only order is placed while paused", async () => {
        const { clearinghouse: ch, guardian, alice, bob } = await loadFixture(aliceShort);
        await ch.connect(guardian).pause();
        for (const kind of ["Limit", "PostOnly", "ImmediateOrCancel", "FillOrKill", "Market"] as const) {
          await expect(
            ch.connect(bob).placeOrder(order(S, bob.address, true, 1n, kind === "Market" ? 0n : "3.990", { kind })),
          ).to.be.revertedWithCustomError(ch, "EnforcedPause");
        }
        // Even an order that would only reduce must say so.
        await expect(
          ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, "3.990")),
        ).to.be.revertedWithCustomError(ch, "EnforcedPause");
      });

      it("lets reduce-only orders close, cancels run, and a flat account withdraw everything while paused", async () => {
        const { clearinghouse: ch, guardian, alice, bob, carol } = await loadFixture(aliceShort);
        const carolAsk = await place(ch, carol, order(S, carol.address, false, 5n, "4.010"));
        const aliceBid = await place(ch, alice, order(S, alice.address, true, 2n, "3.900"));
        const bobBids = [
          await place(ch, bob, order(S, bob.address, true, 1n, "3.950")),
          await place(ch, bob, order(S, bob.address, true, 1n, "3.940")),
        ];
        await ch.connect(guardian).pause();
        // A resting reduce-only order may be placed, and a reduce-only taker closes.
        const ro = await place(ch, alice, order(S, alice.address, true, 2n, "3.800", { reduceOnly: true }));
        expect(ro.restingQty).to.equal(2n);
        const close = await place(ch, alice, ioc(alice.address, true, 5n, "4.010", { reduceOnly: true }));
        expect(close.filledQty).to.equal(5n);
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(0n);
        await expect(ch.orderOf(carolAsk.orderId)).to.be.revertedWithCustomError(ch, "OrderNotFound");
        await expect(ch.connect(alice).cancelOrder(aliceBid.orderId))
          .to.emit(ch, "OrderCancelled")
          .withArgs(S, aliceBid.orderId, alice.address, 2n, CancelReason.Owner);
        expect(await ch.connect(bob).cancelAllOrders.staticCall(bob.address, S)).to.equal(2n);
        await ch.connect(bob).cancelAllOrders(bob.address, S);
        for (const b of bobBids) await expect(ch.orderOf(b.orderId)).to.be.revertedWithCustomError(ch, "OrderNotFound");
        await ch.connect(alice).cancelAllOrders(alice.address, S);
        // Alice is flat with nothing resting: she withdraws everything.
        const cash = await ch.cashOf(alice.address);
        expect(cash % RAW).to.equal(0n);
        expect((await ch.accountHealth(alice.address)).withdrawableX18).to.equal(cash);
        await ch.connect(alice).withdraw(alice.address, cash / RAW, alice.address);
        expect(await ch.cashOf(alice.address)).to.equal(0n);
      });
    });

    describe("stale index (RELIABILITY 14)", () => {
      it("reverts new risk with IndexStale but lets reduce-only orders and cancels through", async () => {
        const { clearinghouse: ch, oracle, alice, bob, carol } = await loadFixture(aliceShort);
        await place(ch, carol, order(S, carol.address, false, 5n, "4.010"));
        const resting = await place(ch, alice, order(S, alice.address, true, 1n, "3.900"));
        await time.increase(86_401);
        const [, observedAt, , stale] = await oracle.peekLatest(AIT);
        expect(stale).to.equal(true);
        await expect(ch.connect(bob).placeOrder(order(S, bob.address, true, 1n, "3.990")))
          .to.be.revertedWithCustomError(ch, "IndexStale")
          .withArgs(S, observedAt);
        await expect(ch.connect(bob).placeOrder(ioc(bob.address, true, 1n, "4.010")))
          .to.be.revertedWithCustomError(ch, "IndexStale")
          .withArgs(S, observedAt);
        await expect(ch.connect(alice).cancelOrder(resting.orderId))
          .to.emit(ch, "OrderCancelled")
          .withArgs(S, resting.orderId, alice.address, 1n, CancelReason.Owner);
        const close = await place(ch, alice, ioc(alice.address, true, 5n, "4.010", { reduceOnly: true }));
        expect(close.filledQty).to.equal(5n);
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(0n);
        await ch.connect(alice).withdraw(alice.address, units(1_000, 6), alice.address);
      });
    });

    describe("self-trade prevention", () => {
      it("cancels the taker's own resting order with reason SelfTrade and never fills it", async () => {
        const { clearinghouse: ch, alice, carol } = await loadFixture(funded);
        const own = await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
        const other = await place(ch, carol, order(S, carol.address, false, 3n, "4.010"));
        const r = await place(ch, alice, ioc(alice.address, true, 4n, "4.010"));
        expect(eventsOf(ch, r.receipt, "OrderCancelled").map((e) => [...e.args])).to.deep.equal([
          [S, own.orderId, alice.address, 5n, BigInt(CancelReason.SelfTrade)],
        ]);
        const fills = eventsOf(ch, r.receipt, "OrderFilled");
        expect(fills.map((e) => [e.args.makerOrderId, e.args.maker, e.args.qty])).to.deep.equal([
          [other.orderId, carol.address, 3n],
        ]);
        expect(fills.every((e) => e.args.maker !== e.args.taker)).to.equal(true);
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(3n);
        expect(await ch.openOrderIdsOf(alice.address, S)).to.deep.equal([]);
      });

      it("lets a limit order rest after removing the own orders it crossed", async () => {
        const { clearinghouse: ch, alice } = await loadFixture(funded);
        await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
        const bid = await place(ch, alice, order(S, alice.address, true, 5n, "4.010"));
        expect([bid.filledQty, bid.restingQty]).to.deep.equal([0n, 5n]);
        expect((await ch.nextActiveTick(S, false, 0))[1]).to.equal(false);
        expect((await ch.positionOf(alice.address, S)).sizeQty).to.equal(0n);
      });
    });

    describe("price band", () => {
      it("removes resting orders left outside the band with reason OutOfBand when a taker reaches them", async () => {
        const { clearinghouse: ch, oracle, reporters, alice, bob, carol } = await loadFixture(funded);
        const lowAsk = await place(ch, alice, order(S, alice.address, false, 5n, "3.650"));
        await time.increase(900);
        await publish(oracle, reporters, AIT, "4.1");
        // Band now [3.690, 4.510]: the ask at 3.650 is below it.
        const r = await place(ch, bob, order(S, bob.address, true, 5n, "4.000"));
        expect(eventsOf(ch, r.receipt, "OrderCancelled").map((e) => [...e.args])).to.deep.equal([
          [S, lowAsk.orderId, alice.address, 5n, BigInt(CancelReason.OutOfBand)],
        ]);
        expect(eventsOf(ch, r.receipt, "OrderFilled")).to.deep.equal([]);
        expect([r.filledQty, r.restingQty]).to.deep.equal([0n, 5n]);
        // The other side: a bid left above the band after the index falls.
        const highBid = await place(ch, carol, order(S, carol.address, true, 2n, "4.500"));
        const inBand = await place(ch, carol, order(S, carol.address, true, 2n, "4.200"));
        await time.increase(900);
        await publish(oracle, reporters, AIT, "3.95");
        const mark = await ch.markPrice(S);
        const maxPrice = mulDivDown(mark, 11_000n, 10_000n);
        expect(parseX18("4.5")).to.be.gt(maxPrice);
        expect(parseX18("4.2")).to.be.lte(maxPrice);
        const sell = await place(ch, alice, order(S, alice.address, false, 2n, 0n, { kind: "Market" }));
        expect(eventsOf(ch, sell.receipt, "OrderCancelled").map((e) => [e.args.orderId, e.args.reason])).to.deep.equal([
          [highBid.orderId, BigInt(CancelReason.OutOfBand)],
        ]);
        expect(
          eventsOf(ch, sell.receipt, "OrderFilled").map((e) => [e.args.makerOrderId, e.args.priceX18]),
        ).to.deep.equal([[inBand.orderId, parseX18("4.2")]]);
      });
    });

    describe("fees", () => {
      /** Alice rests an ask of 3 on the odd-tick series, bob takes it; returns the fill. */
      async function oddFill(f: Awaited<ReturnType<typeof withMoreSeries>>) {
        const { clearinghouse: ch, alice, bob } = f;
        const tickSize = 10n ** 15n + 1n;
        await place(ch, alice, order(3n, alice.address, false, 3n, 4_001n));
        const r = await place(ch, bob, order(3n, bob.address, true, 3n, 4_001n, { kind: "ImmediateOrCancel" }));
        const [fill] = eventsOf(ch, r.receipt, "OrderFilled");
        const notional = notionalX18(3n, 4_001n * tickSize, MULT);
        return { fill, notional };
      }

      it("charges PositionMath's rounded fees and books their sum into the fee pool (insurance share 0 by default)", async () => {
        const f = await loadFixture(withMoreSeries);
        const ch = f.clearinghouse;
        expect(await ch.insuranceFeeShareBps()).to.equal(0n);
        const { fill, notional } = await oddFill(f);
        // The fees do not divide evenly: both round up.
        expect((notional * 5n) % 10_000n).to.not.equal(0n);
        expect(fill.args.priceX18).to.equal(4_001n * (10n ** 15n + 1n));
        expect(fill.args.makerFeeX18).to.equal(feeX18(notional, 1n));
        expect(fill.args.takerFeeX18).to.equal(feeX18(notional, 5n));
        expect(await ch.feePoolX18()).to.equal(feeX18(notional, 1n) + feeX18(notional, 5n));
        expect(await ch.insuranceFundX18()).to.equal(0n);
        expect(await ch.cashOf(f.alice.address)).to.equal(parseX18("100000") - feeX18(notional, 1n));
        expect(await ch.cashOf(f.bob.address)).to.equal(parseX18("100000") - feeX18(notional, 5n));
      });

      it("splits the fees by the insurance share, rounding the insurance part down", async () => {
        const f = await loadFixture(withMoreSeries);
        const ch = f.clearinghouse;
        await ch.connect(f.admin).setInsuranceFeeShare(2_000);
        const { fill, notional } = await oddFill(f);
        const total = fill.args.makerFeeX18 + fill.args.takerFeeX18;
        expect(total).to.equal(feeX18(notional, 1n) + feeX18(notional, 5n));
        const toInsurance = mulDivDown(total, 2_000n, 10_000n);
        expect(await ch.insuranceFundX18()).to.equal(toInsurance);
        expect(await ch.feePoolX18()).to.equal(total - toInsurance);
      });

      it("pays a maker rebate no larger than the taker fee, so the fee pool never goes negative", async () => {
        const f = await loadFixture(withMoreSeries);
        const ch = f.clearinghouse;
        await expect(ch.connect(f.admin).setRiskParams(3, aitRisk({ makerFeeBps: -6 })))
          .to.be.revertedWithCustomError(ch, "ParamOutOfBounds")
          .withArgs(encodeBytes32String("makerFeeBps"), -6n, -5n, 100n);
        await ch.connect(f.admin).setRiskParams(3, aitRisk({ makerFeeBps: -5 }));
        await ch.connect(f.admin).setInsuranceFeeShare(2_000);
        const { fill, notional } = await oddFill(f);
        expect(fill.args.makerFeeX18).to.equal(feeX18(notional, -5n));
        expect(fill.args.makerFeeX18).to.be.lt(0n);
        expect(-fill.args.makerFeeX18).to.be.lte(fill.args.takerFeeX18);
        const total = fill.args.takerFeeX18 + fill.args.makerFeeX18;
        expect(total).to.be.gte(0n);
        expect((await ch.feePoolX18()) + (await ch.insuranceFundX18())).to.equal(total);
        expect(await ch.cashOf(f.alice.address)).to.equal(parseX18("100000") - fill.args.makerFeeX18);
        // Many rebated fills in one taker order: the pools still only grow.
        for (let i = 0n; i < 5n; i++) await place(ch, f.carol, order(3n, f.carol.address, false, 1n + i, 4_003n + i));
        const before = (await ch.feePoolX18()) + (await ch.insuranceFundX18());
        const sweep = await place(ch, f.bob, order(3n, f.bob.address, true, 15n, 0n, { kind: "Market" }));
        let sum = 0n;
        for (const e of eventsOf(ch, sweep.receipt, "OrderFilled")) sum += e.args.makerFeeX18 + e.args.takerFeeX18;
        expect(sum).to.be.gte(0n);
        expect((await ch.feePoolX18()) + (await ch.insuranceFundX18())).to.equal(before + sum);
      });
    });

    describe("margin", () => {
      it("reserves initial margin for a resting order and limits withdrawals by it; a cancel gives it back (RELIABILITY 5)", async () => {
        const { clearinghouse: ch, token, maker } = await loadFixture(funded);
        await ch.connect(maker).deposit(units(10_000, 6));
        const tokensBefore = await token.balanceOf(maker.address);
        const bid = await place(ch, maker, order(S, maker.address, true, 10n, "4.000"));
        const h = await ch.accountHealth(maker.address);
        expect(h.orderMarginX18).to.equal(parseX18("10000"));
        expect(h.initialMarginX18).to.equal(parseX18("10000"));
        expect(h.withdrawableX18).to.equal(0n);
        await expect(ch.connect(maker).withdraw(maker.address, 1n, maker.address))
          .to.be.revertedWithCustomError(ch, "InsufficientFreeCollateral")
          .withArgs(maker.address, RAW, 0n);
        await ch.connect(maker).cancelOrder(bid.orderId);
        const after = await ch.accountHealth(maker.address);
        expect([after.orderMarginX18, after.withdrawableX18, after.cashX18]).to.deep.equal([
          0n,
          parseX18("10000"),
          parseX18("10000"),
        ]);
        await ch.connect(maker).withdraw(maker.address, units(10_000, 6), maker.address);
        expect(await ch.cashOf(maker.address)).to.equal(0n);
        expect(await token.balanceOf(maker.address)).to.equal(tokensBefore + units(10_000, 6));
      });

      it("reverts with InsufficientMargin when equity does not cover the reserve", async () => {
        const { clearinghouse: ch, maker } = await loadFixture(funded);
        await ch.connect(maker).deposit(units(10_000, 6));
        // Long 10 at 4.001 valued at 4.000: -10 PnL and 10,000 initial margin.
        await expect(ch.connect(maker).placeOrder(order(S, maker.address, true, 10n, "4.001")))
          .to.be.revertedWithCustomError(ch, "InsufficientMargin")
          .withArgs(maker.address, parseX18("10000"), parseX18("10010"));
        expect(await ch.openOrderIdsOf(maker.address, S)).to.deep.equal([]);
      });

      it("reserves the worst of all bids, all asks or both filled, not their sum", async () => {
        const { clearinghouse: ch, maker } = await loadFixture(funded);
        await ch.connect(maker).deposit(units(9_000, 6));
        await place(ch, maker, order(S, maker.address, true, 10n, "3.900"));
        expect((await ch.accountHealth(maker.address)).orderMarginX18).to.equal(parseX18("9000"));
        await place(ch, maker, order(S, maker.address, false, 10n, "4.100"));
        const h = await ch.accountHealth(maker.address);
        expect(h.orderMarginX18).to.equal(parseX18("9000"));
        expect(h.equityX18).to.equal(BigInt(h.initialMarginX18));
        const exposure = await ch.exposureOf(maker.address, S);
        expect([exposure.buyQty, exposure.sellQty, exposure.buyTickQty, exposure.sellTickQty]).to.deep.equal([
          10n,
          10n,
          10n * tickOf("3.900"),
          10n * tickOf("4.100"),
        ]);
      });
    });

    describe("margin of reducing takers and of makers", () => {
      /** Maker long 10 at 4.000 with 11,000 USD, mm 5%; then the index falls to 3.700 (below initial margin). */
      async function makerUnderwater() {
        const f = await funded();
        const { clearinghouse: ch, admin, oracle, reporters, maker, bob } = f;
        await ch.connect(admin).setRiskParams(S, aitRisk({ mmBps: 500 }));
        await ch.connect(maker).deposit(units(11_000, 6));
        await place(ch, bob, order(S, bob.address, false, 10n, "4.000"));
        await place(ch, maker, ioc(maker.address, true, 10n, "4.000"));
        await time.increase(900);
        await publish(oracle, reporters, AIT, "3.7");
        return f;
      }

      it("reverts when a reduce-only taker lowers its maintenance surplus while below initial margin", async () => {
        const { clearinghouse: ch, maker, bob } = await loadFixture(makerUnderwater);
        expect(await ch.markPrice(S)).to.equal(parseX18("3.7"));
        const h = await ch.accountHealth(maker.address);
        expect(h.equityX18).to.be.lt(BigInt(h.initialMarginX18));
        await place(ch, bob, order(S, bob.address, true, 1n, "3.450"));
        // Selling 1 at 3.450 loses 250 + fee against the mark and frees only 185 of maintenance.
        const fee = feeX18(notionalX18(1n, parseX18("3.45"), MULT), 5n);
        await expect(ch.connect(maker).placeOrder(ioc(maker.address, false, 1n, "3.450", { reduceOnly: true })))
          .to.be.revertedWithCustomError(ch, "InsufficientMargin")
          .withArgs(maker.address, h.equityX18 - parseX18("250") - fee, parseX18("8325"));
        // Selling at 3.600 loses 100 + fee and frees 185: allowed, although still below initial margin.
        await place(ch, bob, order(S, bob.address, true, 1n, "3.600"));
        const r = await place(ch, maker, ioc(maker.address, false, 1n, "3.600", { reduceOnly: true }));
        expect(r.filledQty).to.equal(1n);
        const after = await ch.accountHealth(maker.address);
        expect(after.equityX18).to.be.lt(BigInt(after.initialMarginX18));
        expect(after.equityX18 - BigInt(after.maintenanceMarginX18)).to.be.gt(
          h.equityX18 - BigInt(h.maintenanceMarginX18),
        );
      });

      it("fills a resting order without a margin check of its maker", async () => {
        const { clearinghouse: ch, oracle, reporters, maker, bob } = await loadFixture(funded);
        await ch.connect(maker).deposit(units(10_000, 6));
        // Placed while the reserve is exactly covered.
        const bid = await place(ch, maker, order(S, maker.address, true, 10n, "4.000"));
        await time.increase(900);
        await publish(oracle, reporters, AIT, "3.7");
        const h = await ch.accountHealth(maker.address);
        // The maker could not place this order now: both bids filled would be long 11 at 3.700 (10,175 initial
        // margin) with a 3,000 loss against the mark.
        expect(h.equityX18).to.equal(parseX18("10000"));
        await expect(ch.connect(maker).placeOrder(order(S, maker.address, true, 1n, "3.700")))
          .to.be.revertedWithCustomError(ch, "InsufficientMargin")
          .withArgs(maker.address, parseX18("10000"), parseX18("13175"));
        // ...but the resting one fills: its reserve was checked when it was placed.
        const r = await place(ch, bob, ioc(bob.address, false, 10n, "4.000"));
        expect(eventsOf(ch, r.receipt, "OrderFilled").map((e) => [e.args.makerOrderId, e.args.qty])).to.deep.equal([
          [bid.orderId, 10n],
        ]);
        const after = await ch.accountHealth(maker.address);
        expect((await ch.positionOf(maker.address, S)).sizeQty).to.equal(10n);
        expect(after.equityX18).to.be.lt(BigInt(after.initialMarginX18));
      });
    });

    describe("round trips (RELIABILITY 5)", () => {
      for (const [decimals, deploy] of [
        [6, deploy6],
        [18, deploy18],
      ] as const) {
        it(`never gains from placing then cancelling, from 1 contract to the position limit (${decimals} decimals)`, async () => {
          const { clearinghouse: ch, token, alice } = await loadFixture(deploy);
          const deposit = units(3_000_000, decimals);
          await token.mint(alice.address, deposit);
          const tokensBefore = await token.balanceOf(alice.address);
          await ch.connect(alice).deposit(deposit + 1n);
          const cash = await ch.cashOf(alice.address);
          expect(cash).to.equal((deposit + 1n) * 10n ** BigInt(18 - decimals));
          for (const qty of [1n, 7n, 2_000n]) {
            const bid = await place(ch, alice, order(S, alice.address, true, qty, "3.990"));
            const ask = await place(ch, alice, order(S, alice.address, false, qty, "4.010"));
            expect((await ch.accountHealth(alice.address)).orderMarginX18).to.be.gt(0n);
            await ch.connect(alice).cancelOrder(bid.orderId);
            await ch.connect(alice).cancelOrder(ask.orderId);
            const h = await ch.accountHealth(alice.address);
            expect([h.cashX18, h.equityX18, h.initialMarginX18, h.orderMarginX18, h.withdrawableX18]).to.deep.equal([
              cash,
              cash,
              0n,
              0n,
              cash,
            ]);
            const exposure = await ch.exposureOf(alice.address, S);
            expect([
              exposure.buyQty,
              exposure.sellQty,
              exposure.buyTickQty,
              exposure.sellTickQty,
              exposure.openOrders,
            ]).to.deep.equal([0n, 0n, 0n, 0n, 0n]);
          }
          // One more contract than the position limit cannot rest at all.
          await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 2_001n, "3.990")))
            .to.be.revertedWithCustomError(ch, "PositionLimitExceeded")
            .withArgs(alice.address, S, 2_001n, 2_000n);
          await ch.connect(alice).withdraw(alice.address, 1n, alice.address);
          await ch.connect(alice).withdraw(alice.address, deposit, alice.address);
          expect(await ch.cashOf(alice.address)).to.equal(0n);
          expect(await token.balanceOf(alice.address)).to.equal(tokensBefore);
          expect(await ch.seriesOf(alice.address)).to.deep.equal([]);
        });
      }
    });

    describe("after expiry", () => {
      it("refuses every order with SeriesExpired, reserves nothing for resting orders and lets them be cancelled", async () => {
        const { clearinghouse: ch, alice, bob, stranger, expiry } = await loadFixture(aliceShort);
        const bid = await place(ch, alice, order(S, alice.address, true, 20n, "3.900"));
        const bobBid = await place(ch, bob, order(S, bob.address, true, 10n, "3.900"));
        expect((await ch.accountHealth(alice.address)).orderMarginX18).to.be.gt(0n);
        await time.increaseTo(expiry);
        await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, "3.900")))
          .to.be.revertedWithCustomError(ch, "SeriesExpired")
          .withArgs(S, expiry);
        await expect(ch.connect(alice).placeOrder(ioc(alice.address, true, 1n, "3.900", { reduceOnly: true })))
          .to.be.revertedWithCustomError(ch, "SeriesExpired")
          .withArgs(S, expiry);
        await expect(ch.connect(alice).replaceOrder(bid.orderId, order(S, alice.address, true, 1n, "3.900")))
          .to.be.revertedWithCustomError(ch, "SeriesExpired")
          .withArgs(S, expiry);
        expect((await ch.accountHealth(alice.address)).orderMarginX18).to.equal(0n);
        expect((await ch.accountHealth(bob.address)).orderMarginX18).to.equal(0n);
        await expect(ch.connect(alice).cancelOrder(bid.orderId))
          .to.emit(ch, "OrderCancelled")
          .withArgs(S, bid.orderId, alice.address, 20n, CancelReason.Owner);
        await expect(ch.connect(stranger).cancelAllOrders(bob.address, S))
          .to.emit(ch, "OrderCancelled")
          .withArgs(S, bobBid.orderId, bob.address, 10n, CancelReason.SeriesExpired);
      });
    });
  });

  describe("#cancelOrder", () => {
    it("removes the order from anywhere in its queue, releases its reserve and keeps the rest FIFO", async () => {
      const { clearinghouse: ch, alice, bob, carol } = await loadFixture(funded);
      const a = await place(ch, alice, order(S, alice.address, true, 2n, "3.990"));
      const b = await place(ch, bob, order(S, bob.address, true, 3n, "3.990"));
      const c = await place(ch, carol, order(S, carol.address, true, 4n, "3.990"));
      expect(await levelQueue(ch, S, true, tickOf("3.990"))).to.deep.equal([a.orderId, b.orderId, c.orderId]);
      await expect(ch.connect(bob).cancelOrder(b.orderId))
        .to.emit(ch, "OrderCancelled")
        .withArgs(S, b.orderId, bob.address, 3n, CancelReason.Owner);
      expect(await levelQueue(ch, S, true, tickOf("3.990"))).to.deep.equal([a.orderId, c.orderId]);
      const level = await ch.levelOf(S, true, tickOf("3.990"));
      expect([level.qty, level.orderCount]).to.deep.equal([6n, 2n]);
      const exposure = await ch.exposureOf(bob.address, S);
      expect([exposure.buyQty, exposure.buyTickQty, exposure.openOrders]).to.deep.equal([0n, 0n, 0n]);
      expect((await ch.accountHealth(bob.address)).orderMarginX18).to.equal(0n);
      await ch.connect(alice).cancelOrder(a.orderId);
      await ch.connect(carol).cancelOrder(c.orderId);
      expect((await ch.nextActiveTick(S, true, Number(MAX_TICK)))[1]).to.equal(false);
      expect((await ch.levelOf(S, true, tickOf("3.990"))).headOrderId).to.equal(0n);
    });

    it("reverts when a stranger cancels (RELIABILITY 25)", async () => {
      const { clearinghouse: ch, alice, stranger } = await loadFixture(funded);
      const a = await place(ch, alice, order(S, alice.address, true, 2n, "3.990"));
      await expect(ch.connect(stranger).cancelOrder(a.orderId))
        .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
        .withArgs(alice.address, stranger.address);
    });

    it("reverts when the order id is unknown, cancelled, filled or stale after its slot was reused", async () => {
      const { clearinghouse: ch, alice, bob } = await loadFixture(funded);
      const cancelled = await place(ch, alice, order(S, alice.address, true, 2n, "3.990"));
      await ch.connect(alice).cancelOrder(cancelled.orderId);
      const filled = await place(ch, alice, order(S, alice.address, false, 2n, "4.010"));
      await place(ch, bob, ioc(bob.address, true, 2n, "4.010"));
      const reused = await place(ch, alice, order(S, alice.address, true, 1n, "3.990"));
      expect(reused.orderId).to.not.equal(cancelled.orderId);
      const unknown = [
        cancelled.orderId,
        filled.orderId,
        12_345n,
        cancelled.orderId + 1n,
        (1n << 128n) | reused.orderId,
        (2n << 96n) | (reused.orderId & ((1n << 96n) - 1n)),
      ];
      for (const id of unknown) {
        await expect(ch.connect(alice).cancelOrder(id)).to.be.revertedWithCustomError(ch, "OrderNotFound").withArgs(id);
        await expect(ch.orderOf(id)).to.be.revertedWithCustomError(ch, "OrderNotFound").withArgs(id);
      }
      expect((await ch.orderOf(reused.orderId)).qty).to.equal(1n);
    });
  });

  describe("#cancelAllOrders", () => {
    it("cancels every resting order of the owner in the series and returns the count", async () => {
      const { clearinghouse: ch, alice } = await loadFixture(withMoreSeries);
      const ids: bigint[] = [];
      for (let i = 0n; i < 4n; i++)
        ids.push(
          (await place(ch, alice, order(S, alice.address, i % 2n === 0n, 1n, i % 2n === 0n ? 3_990n - i : 4_010n + i)))
            .orderId,
        );
      const other = await place(ch, alice, order(2n, alice.address, true, 5n, "3.990"));
      expect(await ch.connect(alice).cancelAllOrders.staticCall(alice.address, S)).to.equal(4n);
      const receipt = await (await ch.connect(alice).cancelAllOrders(alice.address, S)).wait();
      const events = eventsOf(ch, receipt!, "OrderCancelled");
      expect(events.map((e) => e.args.orderId).sort()).to.deep.equal([...ids].sort());
      expect(events.every((e) => e.args.reason === BigInt(CancelReason.Owner))).to.equal(true);
      expect(await ch.openOrderIdsOf(alice.address, S)).to.deep.equal([]);
      expect(await ch.openOrderIdsOf(alice.address, 2n)).to.deep.equal([other.orderId]);
      expect(await ch.connect(alice).cancelAllOrders.staticCall(alice.address, S)).to.equal(0n);
    });

    it("reverts when a stranger cancels for an account at or above maintenance margin", async () => {
      const { clearinghouse: ch, alice, carol, maker, stranger } = await loadFixture(aliceShort);
      await place(ch, alice, order(S, alice.address, true, 1n, "3.900"));
      const h = await ch.accountHealth(alice.address);
      expect(h.equityX18).to.be.gte(BigInt(h.maintenanceMarginX18));
      await expect(ch.connect(stranger).cancelAllOrders(alice.address, S))
        .to.be.revertedWithCustomError(ch, "AccountNotBelowMaintenance")
        .withArgs(alice.address, h.equityX18, h.maintenanceMarginX18);
      // An account without positions is never below maintenance, whatever its cash.
      await expect(ch.connect(stranger).cancelAllOrders(carol.address, S))
        .to.be.revertedWithCustomError(ch, "AccountNotBelowMaintenance")
        .withArgs(carol.address, parseX18("100000"), 0n);
      await expect(ch.connect(stranger).cancelAllOrders(maker.address, S))
        .to.be.revertedWithCustomError(ch, "AccountNotBelowMaintenance")
        .withArgs(maker.address, 0n, 0n);
    });

    it("lets anyone cancel with reason Unhealthy once the account is below maintenance margin", async () => {
      const { clearinghouse: ch, admin, maker, bob, stranger } = await loadFixture(funded);
      await ch.connect(maker).deposit(units(1_100, 6));
      await place(ch, bob, order(S, bob.address, false, 1n, "4.000"));
      await place(ch, maker, ioc(maker.address, true, 1n, "4.000"));
      const ask = await place(ch, maker, order(S, maker.address, false, 1n, "4.100"));
      // Margins rise: maintenance 50% of 4,000 = 2,000 > equity (about 1,098).
      await ch.connect(admin).setRiskParams(S, aitRisk({ imBps: 6_000, mmBps: 5_000 }));
      const h = await ch.accountHealth(maker.address);
      expect(h.equityX18).to.be.lt(BigInt(h.maintenanceMarginX18));
      await expect(ch.connect(stranger).cancelAllOrders(maker.address, S))
        .to.emit(ch, "OrderCancelled")
        .withArgs(S, ask.orderId, maker.address, 1n, CancelReason.Unhealthy);
      expect(await ch.openOrderIdsOf(maker.address, S)).to.deep.equal([]);
    });

    it("reverts when the series is unknown", async () => {
      const { clearinghouse: ch, alice } = await loadFixture(funded);
      await expect(ch.connect(alice).cancelAllOrders(alice.address, 9))
        .to.be.revertedWithCustomError(ch, "UnknownSeries")
        .withArgs(9n);
    });
  });

  describe("#replaceOrder", () => {
    it("cancels with reason Replaced and places a new id at the tail of its level (priority lost)", async () => {
      const { clearinghouse: ch, alice, bob, carol } = await loadFixture(funded);
      const a = await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
      const b = await place(ch, bob, order(S, bob.address, false, 3n, "4.010"));
      const params = order(S, alice.address, false, 4n, "4.010");
      const res = await ch.connect(alice).replaceOrder.staticCall(a.orderId, params);
      expect(res.orderId).to.not.equal(a.orderId);
      expect(res.restingQty).to.equal(4n);
      await expect(ch.connect(alice).replaceOrder(a.orderId, params))
        .to.emit(ch, "OrderCancelled")
        .withArgs(S, a.orderId, alice.address, 5n, CancelReason.Replaced)
        .and.to.emit(ch, "OrderPlaced")
        .withArgs(S, res.orderId, alice.address, false, Kind.Limit, false, parseX18("4.01"), 4n, 0n);
      expect(await levelQueue(ch, S, false, tickOf("4.010"))).to.deep.equal([b.orderId, res.orderId]);
      await expect(ch.orderOf(a.orderId)).to.be.revertedWithCustomError(ch, "OrderNotFound").withArgs(a.orderId);
      const take = await place(ch, carol, ioc(carol.address, true, 3n, "4.010"));
      expect(eventsOf(ch, take.receipt, "OrderFilled").map((e) => e.args.makerOrderId)).to.deep.equal([b.orderId]);
    });

    it("reverts when the replacement names another series or account", async () => {
      const { clearinghouse: ch, alice, bob } = await loadFixture(withMoreSeries);
      const a = await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
      await expect(ch.connect(alice).replaceOrder(a.orderId, order(2n, alice.address, false, 5n, "4.010")))
        .to.be.revertedWithCustomError(ch, "ReplaceMismatch")
        .withArgs(a.orderId, 2n, alice.address);
      await expect(ch.connect(alice).replaceOrder(a.orderId, order(S, bob.address, false, 5n, "4.010")))
        .to.be.revertedWithCustomError(ch, "ReplaceMismatch")
        .withArgs(a.orderId, S, bob.address);
      expect((await ch.orderOf(a.orderId)).qty).to.equal(5n);
    });

    it("reverts when the order is gone or the caller is a stranger, and keeps the order when the new one is invalid", async () => {
      const { clearinghouse: ch, alice, stranger } = await loadFixture(funded);
      const a = await place(ch, alice, order(S, alice.address, false, 5n, "4.010"));
      await expect(ch.connect(stranger).replaceOrder(a.orderId, order(S, alice.address, false, 5n, "4.020")))
        .to.be.revertedWithCustomError(ch, "NotAccountOwnerOrOperator")
        .withArgs(alice.address, stranger.address);
      await expect(ch.connect(alice).replaceOrder(a.orderId, order(S, alice.address, false, 5n, "4.500")))
        .to.be.revertedWithCustomError(ch, "PriceOutsideBand")
        .withArgs(S, parseX18("4.5"), parseX18("3.6"), parseX18("4.4"));
      expect((await ch.orderOf(a.orderId)).qty).to.equal(5n);
      await ch.connect(alice).cancelOrder(a.orderId);
      await expect(ch.connect(alice).replaceOrder(a.orderId, order(S, alice.address, false, 5n, "4.020")))
        .to.be.revertedWithCustomError(ch, "OrderNotFound")
        .withArgs(a.orderId);
    });

    it("reverts new risk while paused but replaces with a reduce-only order", async () => {
      const { clearinghouse: ch, guardian, alice } = await loadFixture(aliceShort);
      const a = await place(ch, alice, order(S, alice.address, true, 5n, "3.900"));
      await ch.connect(guardian).pause();
      await expect(
        ch.connect(alice).replaceOrder(a.orderId, order(S, alice.address, true, 5n, "3.950")),
      ).to.be.revertedWithCustomError(ch, "EnforcedPause");
      const res = await ch
        .connect(alice)
        .replaceOrder.staticCall(a.orderId, order(S, alice.address, true, 5n, "3.950", { reduceOnly: true }));
      await ch.connect(alice).replaceOrder(a.orderId, order(S, alice.address, true, 5n, "3.950", { reduceOnly: true }));
      expect((await ch.orderOf(res.orderId)).reduceOnly).to.equal(true);
    });
  });
});
