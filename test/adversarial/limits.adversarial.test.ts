/**
 * Adversarial limits (RELIABILITY 18, 19; BOOK-03): an account that fills every slot the protocol gives it,
 * MAX_SERIES_PER_ACCOUNT = 8 series (SeriesSet.CAPACITY) with a position in each, and MAX_OPEN_ORDERS = 32
 * resting orders in each (OrderQueue.MAX_OPEN_ORDERS; 256 in all, both sides, every one reserving margin),
 * must stay health-checkable, able to withdraw, cancellable by its owner and, once below maintenance, by
 * anyone, and liquidatable, each within the block gas limit.
 *
 * OrderBook.gasBounds (BOOK-03) measures such an account with reduce-only orders for the liquidation and
 * without a withdrawal; here its orders are ordinary ones on both sides (each one in the margin reserve),
 * and the withdrawal and a stranger's cancel-all of an unhealthy account are measured too. Seven of the
 * eight series are inside their averaging windows, so each of their marks averages the oracle's history:
 * the most expensive health check there is.
 *
 * Gas is the receipt's gasUsed (21,000 base included); accountHealth, a view, by estimateGas. Each figure is
 * held to 15,000,000 (half the 30M block gas limit of the in-process network) and to a tighter budget below,
 * set from the measured figure (printed by the test) plus 15% headroom.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { encodeBytes32String } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { AIT, aitRisk, aitSpec, deploy6, publish, units } from "../fixtures/clearinghouse";
import { moveIndex } from "../fixtures/liquidation";
import { CancelReason, eventsOf, order } from "../helpers/orders";

const MAX = 2n ** 64n - 1n;
const DAY = 86_400n;
const MAX_OPEN_ORDERS = 32;
const BLOCK_SHARE_LIMIT = 15_000_000n;
const POSITION = 60n;

/**
 * Budgets: the figure measured when this test was written plus 15%, rounded up to 10,000, so a change that
 * adds work per series or per order fails here while layout noise does not. What each figure is made of:
 *  - accountHealth (426,207): 8 series at about 53,000 each (spec, risk, position and order sums, the oracle's
 *    latest round and, for the 7 series inside their window, an oracle TWAP) plus the view call itself;
 *    accountHealthUnhealthy (435,813) is the same after the price rounds;
 *  - withdraw (449,712): that health check in a transaction, plus the cash write, the event and the transfer;
 *  - cancelAll32Owner (501,537): 32 removals at about 14,500 each (order word, level, bitmap, order sums,
 *    event) and no health check;
 *  - cancelAll32Stranger (850,677): the same plus the health check that proves the account is below
 *    maintenance, which is what lets a stranger cancel;
 *  - liquidate8x32 (4,229,696): 256 removals at about 14,500 each (3.7M), the plan's health check (0.44M),
 *    the position move, the penalty and the liquidator's margin check.
 * Every figure is far below 15,000,000, so an account at the limits can always be liquidated in one block.
 */
const BUDGET = {
  accountHealth: 490_000n,
  accountHealthUnhealthy: 500_000n,
  withdraw: 520_000n,
  cancelAll32Owner: 580_000n,
  cancelAll32Stranger: 980_000n,
  liquidate8x32: 4_870_000n,
};

const measured: Record<string, bigint> = {};

function record(name: keyof typeof BUDGET, gas: bigint) {
  measured[name] = measured[name] === undefined || gas > measured[name] ? gas : measured[name];
  expect(gas, `${name} gas`).to.be.lt(BLOCK_SHARE_LIMIT);
  expect(gas, `${name} gas`).to.be.lte(BUDGET[name]);
}

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<bigint> {
  return (await (await tx).wait())!.gasUsed;
}

/**
 * alice at the limits: short 60 in each of 8 AIT series (series 2-8 listed with windows starting just
 * after a round, so later marks average the oracle), sold to bob at 4.000, and 32 ordinary orders of one
 * contract resting in each (16 bids from 3.950, 16 asks from 4.010), with 700,000 USD deposited (initial
 * margin with the orders' reserve: about 608,000). carol (the liquidator) holds 500,000.
 */
async function accountAtTheLimits() {
  const f = await deploy6();
  const { clearinghouse: ch, admin, oracle, reporters, alice, bob, carol } = f;
  await time.increase(900);
  await publish(oracle, reporters, AIT, "4");
  const t1 = BigInt(await time.latest());
  const series = Number(await ch.MAX_SERIES_PER_ACCOUNT());
  for (let k = 2; k <= series; k++) {
    await ch
      .connect(admin)
      .listSeries(aitSpec(t1 + 30n * DAY + BigInt(k) * 60n, { symbol: encodeBytes32String(`AIT-L${k}`) }), aitRisk());
  }
  await ch.connect(alice).deposit(units(700_000, 6));
  await ch.connect(bob).deposit(units(600_000, 6));
  await ch.connect(carol).deposit(units(500_000, 6));
  for (let s = 1n; s <= BigInt(series); s++) {
    await ch.connect(bob).placeOrder(order(s, bob.address, true, POSITION, "4.000"));
    await ch
      .connect(alice)
      .placeOrder(order(s, alice.address, false, POSITION, "4.000", { kind: "ImmediateOrCancel" }));
  }
  // 256 orders with explicit nonces and gas limits (no estimate per transaction).
  const nonce = await alice.getNonce();
  for (let i = 0; i < series * MAX_OPEN_ORDERS; i++) {
    const j = i % MAX_OPEN_ORDERS;
    const isBuy = j < MAX_OPEN_ORDERS / 2;
    const tick = isBuy ? 3_950n + BigInt(j) : 4_010n + BigInt(j - MAX_OPEN_ORDERS / 2);
    const s = BigInt(Math.floor(i / MAX_OPEN_ORDERS) + 1);
    await ch.connect(alice).placeOrder(order(s, alice.address, isBuy, 1n, tick), {
      nonce: nonce + i,
      gasLimit: 800_000n,
      maxFeePerGas: 10n ** 11n,
      maxPriorityFeePerGas: 1n,
    });
  }
  // A new round: every in-window mark averages the oracle again.
  await time.increase(900);
  await publish(oracle, reporters, AIT, "4");
  return { ...f, series };
}

describe("Adversarial: an account at the maximum of series and orders", function () {
  after(() => {
    const line = Object.entries(measured)
      .map(([name, gas]) => `${name}=${gas} (budget ${BUDGET[name as keyof typeof BUDGET]})`)
      .join(" ");
    console.log(`      gas measured: ${line}`);
  });

  it("8 series x (a position + 32 orders): health, withdraw, cancel-all (owner, then anyone once unhealthy) and liquidation stay within budget", async function () {
    // Defences: the hard caps themselves (TooManySeries, TooManyOpenOrders) bound every loop over an
    // account: a health check visits at most 8 series, a cancel-all at most 32 orders, a liquidation at
    // most 8 x 32; each loop step is constant work (bitmaps, not scans).
    const f = await loadFixture(accountAtTheLimits);
    const { clearinghouse: ch, admin, oracle, reporters, alice, carol, stranger, expiry, series } = f;
    expect(series).to.equal(8);

    // At the limits: 8 series, a position and 32 orders in each; a 33rd order and a 9th series are refused.
    expect((await ch.seriesOf(alice.address)).length).to.equal(series);
    for (let s = 1n; s <= BigInt(series); s++) {
      expect((await ch.exposureOf(alice.address, s)).openOrders).to.equal(BigInt(MAX_OPEN_ORDERS));
      expect((await ch.positionOf(alice.address, s)).sizeQty).to.equal(-POSITION);
    }
    await expect(ch.connect(alice).placeOrder(order(1n, alice.address, true, 1n, "3.900")))
      .to.be.revertedWithCustomError(ch, "TooManyOpenOrders")
      .withArgs(alice.address, 1n, MAX_OPEN_ORDERS);
    await ch.connect(admin).listSeries(aitSpec(expiry, { symbol: encodeBytes32String("AIT-L9") }), aitRisk());
    await expect(ch.connect(alice).placeOrder(order(9n, alice.address, true, 1n, "3.950")))
      .to.be.revertedWithCustomError(ch, "TooManySeries")
      .withArgs(alice.address, series);

    // Health and a withdrawal of free collateral.
    const health = await ch.accountHealth(alice.address);
    expect(health.orderMarginX18).to.be.gt(0n);
    expect(health.withdrawableX18).to.be.gt(units(1_000, 18));
    record("accountHealth", await ch.accountHealth.estimateGas(alice.address));
    const cash = await ch.cashOf(alice.address);
    record("withdraw", await gasOf(ch.connect(alice).withdraw(alice.address, units(1_000, 6), alice.address)));
    expect(cash - (await ch.cashOf(alice.address))).to.equal(units(1_000, 18));

    // The owner cancels all 32 orders of one series (on a copy of the state: the liquidation below needs them).
    let branch = await ethers.provider.send("evm_snapshot", []);
    const own = (await (await ch.connect(alice).cancelAllOrders(alice.address, 8n)).wait())!;
    expect(eventsOf(ch, own, "OrderCancelled").length).to.equal(MAX_OPEN_ORDERS);
    record("cancelAll32Owner", own.gasUsed);
    await ethers.provider.send("evm_revert", [branch]);

    // The index rises 22.5% (three rounds inside the jump guard): alice's shorts take her below maintenance.
    await moveIndex(oracle, reporters, "4.9");
    const unhealthy = await ch.accountHealth(alice.address);
    expect(unhealthy.equityX18).to.be.lt(BigInt(unhealthy.maintenanceMarginX18));
    record("accountHealthUnhealthy", await ch.accountHealth.estimateGas(alice.address));

    // Anyone may now cancel her orders, series by series (reason Unhealthy).
    branch = await ethers.provider.send("evm_snapshot", []);
    const byStranger = (await (await ch.connect(stranger).cancelAllOrders(alice.address, 1n)).wait())!;
    const cancelled = eventsOf(ch, byStranger, "OrderCancelled");
    expect(cancelled.length).to.equal(MAX_OPEN_ORDERS);
    expect(cancelled.every((e) => e.args.reason === BigInt(CancelReason.Unhealthy))).to.equal(true);
    record("cancelAll32Stranger", byStranger.gasUsed);
    await ethers.provider.send("evm_revert", [branch]);

    // The liquidation cancels all 256 orders first, then takes over part of one position.
    const receipt = (await (await ch.connect(carol).liquidate(alice.address, 1n, MAX)).wait())!;
    expect(eventsOf(ch, receipt, "OrderCancelled").length).to.equal(series * MAX_OPEN_ORDERS);
    const [liquidated] = eventsOf(ch, receipt, "Liquidated");
    expect(liquidated.args.sizeChangeQty).to.be.gt(0n).and.lte(POSITION);
    record("liquidate8x32", receipt.gasUsed);
    for (let s = 1n; s <= BigInt(series); s++) {
      expect((await ch.exposureOf(alice.address, s)).openOrders).to.equal(0n);
    }
    expect((await ch.accountHealth(alice.address)).orderMarginX18).to.equal(0n);
  });
});
