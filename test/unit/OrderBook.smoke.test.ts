import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deploy6, units } from "../fixtures/clearinghouse";
import { order, tickOf } from "../helpers/orders";

async function funded() {
  const f = await deploy6();
  for (const who of [f.alice, f.bob, f.carol]) await f.clearinghouse.connect(who).deposit(units(100_000, 6));
  return f;
}

describe("OrderBook smoke", function () {
  it("rests, matches, cancels", async function () {
    const f = await loadFixture(funded);
    const ch = f.clearinghouse;
    const a = f.alice.address;
    const b = f.bob.address;
    await ch.connect(f.alice).placeOrder(order(1n, a, false, 5n, "4.01"));
    await ch.connect(f.alice).placeOrder(order(1n, a, false, 5n, "4.02"));
    await ch.connect(f.carol).placeOrder(order(1n, f.carol.address, false, 3n, "4.01"));
    const level = await ch.levelOf(1n, false, tickOf("4.01"));
    expect(level.qty).to.equal(8n);
    expect(level.orderCount).to.equal(2n);
    const health = await ch.accountHealth(a);
    expect(health.orderMarginX18).to.be.greaterThan(0n);
    const res = await ch
      .connect(f.bob)
      .placeOrder.staticCall(order(1n, b, true, 12n, "4.02", { kind: "ImmediateOrCancel" }));
    expect(res.filledQty).to.equal(12n);
    await ch.connect(f.bob).placeOrder(order(1n, b, true, 12n, "4.02", { kind: "ImmediateOrCancel" }));
    expect((await ch.positionOf(b, 1n)).sizeQty).to.equal(12n);
    expect((await ch.positionOf(a, 1n)).sizeQty).to.equal(-9n);
    expect((await ch.positionOf(f.carol.address, 1n)).sizeQty).to.equal(-3n);
    const ids = await ch.openOrderIdsOf(a, 1n);
    expect(ids.length).to.equal(1);
    expect((await ch.orderOf(ids[0])).qty).to.equal(1n);
    await ch.connect(f.alice).cancelOrder(ids[0]);
    expect((await ch.openOrderIdsOf(a, 1n)).length).to.equal(0);
    expect((await ch.nextActiveTick(1n, false, 0))[1]).to.equal(false);
    const h = await ch.accountHealth(a);
    expect(h.orderMarginX18).to.equal(0n);
    expect((await ch.marketState(1n)).openInterestQty).to.equal(12n);
  });
});
