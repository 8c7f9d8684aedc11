/**
 * OrderBookLens: best bid and ask, depth by level, an account's open orders and a level's queue,
 * each checked against the clearinghouse's own views.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { OrderBookLens__factory } from "../../typechain-types";
import { deploy6, units } from "../fixtures/clearinghouse";
import { levelQueue, order, place, tickOf } from "../helpers/orders";
import { parseX18 } from "../../sdk";

const S = 1n;
const TICK_X18 = parseX18("0.001");

async function withLens() {
  const f = await deploy6();
  for (const who of [f.alice, f.bob, f.carol]) await f.clearinghouse.connect(who).deposit(units(100_000, 6));
  const lens = await new OrderBookLens__factory(f.admin).deploy(await f.clearinghouse.getAddress());
  await lens.waitForDeployment();
  return { ...f, lens };
}

/** withLens plus a book: bids 3.990 (alice 5, bob 3), 3.980 (carol 2); asks 4.010 (alice 4, bob 1, carol 6), 4.020, 4.030. */
async function withBook() {
  const f = await withLens();
  const { clearinghouse: ch, alice, bob, carol } = f;
  const ids = {
    bidA: (await place(ch, alice, order(S, alice.address, true, 5n, "3.990"))).orderId,
    bidB: (await place(ch, bob, order(S, bob.address, true, 3n, "3.990"))).orderId,
    bidC: (await place(ch, carol, order(S, carol.address, true, 2n, "3.980"))).orderId,
    askA: (await place(ch, alice, order(S, alice.address, false, 4n, "4.010"))).orderId,
    askB: (await place(ch, bob, order(S, bob.address, false, 1n, "4.010"))).orderId,
    askC: (await place(ch, carol, order(S, carol.address, false, 6n, "4.010"))).orderId,
    askA2: (await place(ch, alice, order(S, alice.address, false, 7n, "4.030"))).orderId,
    askB2: (await place(ch, bob, order(S, bob.address, false, 8n, "4.020"))).orderId,
  };
  return { ...f, ids };
}

describe("OrderBookLens", () => {
  describe("#constructor", () => {
    it("reads the clearinghouse it was deployed for", async () => {
      const { clearinghouse: ch, lens } = await loadFixture(withLens);
      expect(await lens.clearinghouse()).to.equal(await ch.getAddress());
      expect(await lens.MAX_TICK()).to.equal(2n ** 24n - 1n);
    });
  });

  describe("#bestBidAsk", () => {
    it("reports both sides as absent on an empty book", async () => {
      const { lens } = await loadFixture(withLens);
      const [bid, ask] = await lens.bestBidAsk(S);
      expect([...bid]).to.deep.equal([false, 0n, 0n, 0n, 0n]);
      expect([...ask]).to.deep.equal([false, 0n, 0n, 0n, 0n]);
    });

    it("reports the best level of each side with its price, quantity and order count", async () => {
      const { lens } = await loadFixture(withBook);
      const [bid, ask] = await lens.bestBidAsk(S);
      expect([...bid]).to.deep.equal([true, tickOf("3.990"), parseX18("3.99"), 8n, 2n]);
      expect([...ask]).to.deep.equal([true, tickOf("4.010"), parseX18("4.01"), 11n, 3n]);
    });

    it("follows fills and cancels", async () => {
      const { clearinghouse: ch, lens, alice, bob, carol, ids } = await loadFixture(withBook);
      await place(ch, alice, order(S, alice.address, false, 8n, "3.990", { kind: "ImmediateOrCancel" }));
      await ch.connect(alice).cancelOrder(ids.askA);
      await ch.connect(bob).cancelOrder(ids.askB);
      await ch.connect(carol).cancelOrder(ids.askC);
      const [bid, ask] = await lens.bestBidAsk(S);
      expect([...bid]).to.deep.equal([true, tickOf("3.980"), parseX18("3.98"), 2n, 1n]);
      expect([...ask]).to.deep.equal([true, tickOf("4.020"), parseX18("4.02"), 8n, 1n]);
    });

    it("reverts when the series is unknown", async () => {
      const { clearinghouse: ch, lens } = await loadFixture(withLens);
      await expect(lens.bestBidAsk(7)).to.be.revertedWithCustomError(ch, "UnknownSeries").withArgs(7n);
    });
  });

  describe("#depth", () => {
    it("lists levels best first on each side, as many as asked and no more than exist", async () => {
      const { clearinghouse: ch, lens } = await loadFixture(withBook);
      const [bids, asks] = await lens.depth(S, 10);
      expect(bids.map((d) => [...d])).to.deep.equal([
        [tickOf("3.990"), tickOf("3.990") * TICK_X18, 8n, 2n],
        [tickOf("3.980"), tickOf("3.980") * TICK_X18, 2n, 1n],
      ]);
      expect(asks.map((d) => [...d])).to.deep.equal([
        [tickOf("4.010"), tickOf("4.010") * TICK_X18, 11n, 3n],
        [tickOf("4.020"), tickOf("4.020") * TICK_X18, 8n, 1n],
        [tickOf("4.030"), tickOf("4.030") * TICK_X18, 7n, 1n],
      ]);
      // Each level agrees with the clearinghouse's own view.
      for (const [isBuy, side] of [
        [true, bids],
        [false, asks],
      ] as const) {
        for (const d of side) {
          const level = await ch.levelOf(S, isBuy, d.tick);
          expect([level.qty, level.orderCount]).to.deep.equal([d.qty, d.orderCount]);
        }
      }
      const [bids1, asks2] = await Promise.all([
        lens.depth(S, 1).then((r) => r[0]),
        lens.depth(S, 2).then((r) => r[1]),
      ]);
      expect(bids1.map((d) => d.tick)).to.deep.equal([tickOf("3.990")]);
      expect(asks2.map((d) => d.tick)).to.deep.equal([tickOf("4.010"), tickOf("4.020")]);
      const [noBids, noAsks] = await lens.depth(S, 0);
      expect([noBids.length, noAsks.length]).to.deep.equal([0, 0]);
    });

    it("returns empty sides for an empty book", async () => {
      const { lens } = await loadFixture(withLens);
      const [bids, asks] = await lens.depth(S, 5);
      expect([bids.length, asks.length]).to.deep.equal([0, 0]);
    });
  });

  describe("#openOrders", () => {
    it("lists every resting order of the account in the series, as orderOf reports it", async () => {
      const { clearinghouse: ch, lens, alice, bob, ids } = await loadFixture(withBook);
      const orders = await lens.openOrders(alice.address, S);
      expect(orders.map((o) => o.orderId)).to.deep.equal([...(await ch.openOrderIdsOf(alice.address, S))]);
      expect(orders.map((o) => [o.orderId, o.account, o.isBuy, o.tick, o.qty])).to.deep.equal([
        [ids.bidA, alice.address, true, tickOf("3.990"), 5n],
        [ids.askA, alice.address, false, tickOf("4.010"), 4n],
        [ids.askA2, alice.address, false, tickOf("4.030"), 7n],
      ]);
      for (const o of orders) expect([...o]).to.deep.equal([...(await ch.orderOf(o.orderId))]);
      await ch.connect(alice).cancelOrder(ids.askA);
      expect((await lens.openOrders(alice.address, S)).map((o) => o.orderId)).to.deep.equal([ids.bidA, ids.askA2]);
      // A partial fill shows the quantity left.
      await place(ch, bob, order(S, bob.address, false, 2n, "3.990", { kind: "ImmediateOrCancel" }));
      expect((await lens.openOrders(alice.address, S))[0].qty).to.equal(3n);
    });

    it("returns nothing for an account without orders", async () => {
      const { lens, stranger } = await loadFixture(withBook);
      expect(await lens.openOrders(stranger.address, S)).to.deep.equal([]);
    });
  });

  describe("#levelOrders", () => {
    it("lists a level's orders oldest first, at most maxOrders", async () => {
      const { clearinghouse: ch, lens, ids } = await loadFixture(withBook);
      const all = await lens.levelOrders(S, false, tickOf("4.010"), 10);
      expect(all.map((o) => o.orderId)).to.deep.equal([ids.askA, ids.askB, ids.askC]);
      expect(all.map((o) => o.orderId)).to.deep.equal(await levelQueue(ch, S, false, tickOf("4.010")));
      expect(all.map((o) => o.qty)).to.deep.equal([4n, 1n, 6n]);
      const two = await lens.levelOrders(S, false, tickOf("4.010"), 2);
      expect(two.map((o) => o.orderId)).to.deep.equal([ids.askA, ids.askB]);
      expect(await lens.levelOrders(S, false, tickOf("4.010"), 0)).to.deep.equal([]);
      expect(await lens.levelOrders(S, true, tickOf("4.010"), 10)).to.deep.equal([]);
    });

    it("keeps FIFO order through partial fills, cancels in the middle and new arrivals", async () => {
      const { clearinghouse: ch, lens, bob, carol, ids } = await loadFixture(withBook);
      // Carol buys 2: the head (alice's 4) keeps its place with 2 left.
      await place(ch, carol, order(S, carol.address, true, 2n, "4.010", { kind: "ImmediateOrCancel" }));
      await ch.connect(bob).cancelOrder(ids.askB);
      const late = (await place(ch, bob, order(S, bob.address, false, 9n, "4.010"))).orderId;
      const orders = await lens.levelOrders(S, false, tickOf("4.010"), 10);
      expect(orders.map((o) => [o.orderId, o.qty])).to.deep.equal([
        [ids.askA, 2n],
        [ids.askC, 6n],
        [late, 9n],
      ]);
      // Filling the head moves the queue up.
      await place(ch, carol, order(S, carol.address, true, 2n, "4.010", { kind: "ImmediateOrCancel" }));
      expect((await lens.levelOrders(S, false, tickOf("4.010"), 10)).map((o) => o.orderId)).to.deep.equal([
        ids.askC,
        late,
      ]);
    });
  });
});
