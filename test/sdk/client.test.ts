/**
 * The typed client (sdk/client/) against the whole system as `npm run deploy` builds it: every read checked against
 * the contracts' own views, every action's typed outcome against the chain, the client's own errors before sending,
 * decoded contract errors from real reverts, and the streams with unsubscribe.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Clearinghouse__factory, MockERC20Permit__factory, OrderBookLens__factory } from "../../typechain-types";
import type { Clearinghouse } from "../../typechain-types";
import {
  ExpiredSeriesError,
  InsufficientAllowanceError,
  InsufficientTokenBalanceError,
  InsufficientFreeCollateralError,
  InvalidAmountError,
  InvalidOrderError,
  NotAccountOwnerOrOperatorError,
  OrderNotFoundError,
  PermitUnsupportedError,
  PriceNotOnTickError,
  PriceOutsideBandError,
  SeriesNotFoundError,
  SignerRequiredError,
  StaleIndexError,
  TokenpitClient,
  TokenpitError,
  WrongChainError,
  parseX18,
} from "../../sdk";
import type { Fill, IndexUpdate, LiquidationEvent, OrderEvent, SettlementEvent } from "../../sdk";
import { USDC, deployedSystem, publishAfter, publishAt } from "../fixtures/system";
import type { DeployedSystem } from "../fixtures/system";
import { rejectionOf } from "../helpers/rejection";

interface Setup extends DeployedSystem {
  ch: Clearinghouse;
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
  /** Holds no tokens. */
  dave: HardhatEthersSigner;
  maker: TokenpitClient;
  taker: TokenpitClient;
  reader: TokenpitClient;
}

async function setup(): Promise<Setup> {
  const [deployer, , , alice, bob, carol, dave] = await ethers.getSigners();
  const s = await deployedSystem({ fund: [alice, bob, carol] });
  return {
    ...s,
    ch: Clearinghouse__factory.connect(s.deployment.contracts.clearinghouse, deployer),
    alice,
    bob,
    carol,
    dave,
    maker: await TokenpitClient.connect(bob, s.deployment),
    taker: await TokenpitClient.connect(alice, s.deployment),
    reader: await TokenpitClient.connect(ethers.provider, s.deployment),
  };
}

/** Bob quotes 3.990 / 4.010 (5 contracts each) on the front AIT month with 50,000 USDC deposited. */
async function withQuotes() {
  const s = await loadFixture(setup);
  await s.maker.deposit("50000");
  const bid = await s.maker.placeOrder({ series: s.ait, side: "buy", qty: 5, price: "3.99" });
  const ask = await s.maker.placeOrder({ series: s.ait, side: "sell", qty: 5, price: "4.01" });
  return { ...s, bidId: bid.orderId, askId: ask.orderId };
}

/** Waits until `condition` holds, polling every 10 ms (streams deliver asynchronously). */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const FAST = { pollIntervalMs: 10 };

describe("TokenpitClient", function () {
  this.timeout(120_000);

  describe("connect", function () {
    it("connects from a deployment file or from addresses, and refuses a node of another chain", async function () {
      const s = await loadFixture(setup);
      const byAddresses = await TokenpitClient.connect(ethers.provider, {
        clearinghouse: s.deployment.contracts.clearinghouse,
        lens: s.deployment.contracts.lens,
        oracle: s.deployment.contracts.oracle,
        collateral: s.deployment.collateral.address,
      });
      expect((await byAddresses.series()).map((x) => x.symbol)).to.deep.equal(s.deployment.series.map((x) => x.symbol));
      const error = await rejectionOf(TokenpitClient.connect(ethers.provider, { ...s.deployment, chainId: 1 }));
      expect(error).to.be.instanceOf(WrongChainError);
      expect(error).to.include({ expectedChainId: 1n, actualChainId: 31337n });
    });

    it("a read-only client refuses actions with SignerRequiredError before sending", async function () {
      const s = await loadFixture(setup);
      const error = await rejectionOf(s.reader.deposit("1"));
      expect(error).to.be.instanceOf(SignerRequiredError);
      expect(error).to.have.property("action", "deposit");
      expect(
        await rejectionOf(s.reader.placeOrder({ series: s.ait, side: "buy", qty: 1, price: "4" })),
      ).to.be.instanceOf(SignerRequiredError);
      expect(await rejectionOf(s.reader.account())).to.be.instanceOf(SignerRequiredError);
    });

    it("withRunner keeps the deployment and changes the signer", async function () {
      const s = await loadFixture(setup);
      const asCarol = s.reader.withRunner(s.carol);
      await asCarol.deposit("10");
      expect(await s.ch.cashOf(s.carol.address)).to.equal(parseX18("10"));
    });
  });

  describe("reads", function () {
    it("series: every listed series with its spec, risk parameters and settlement; by symbol or id", async function () {
      const s = await loadFixture(setup);
      const all = await s.reader.series();
      expect(all).to.have.length(s.deployment.series.length);
      for (const [i, listed] of s.deployment.series.entries()) {
        const info = all[i];
        const spec = await s.ch.seriesSpec(listed.id);
        const risk = await s.ch.riskParams(listed.id);
        expect(info).to.deep.include({
          seriesId: BigInt(listed.id),
          symbol: listed.symbol,
          feed: listed.feed,
          feedId: spec.feedId,
          expiry: BigInt(listed.expiry),
          multiplier: spec.contractMultiplier,
          tickSizeX18: spec.tickSizeX18,
          minQty: spec.minQty,
        });
        expect(info.risk).to.deep.equal({
          imBps: risk.imBps,
          mmBps: risk.mmBps,
          orderBandBps: risk.orderBandBps,
          liquidationPenaltyBps: risk.liquidationPenaltyBps,
          makerFeeBps: risk.makerFeeBps,
          takerFeeBps: risk.takerFeeBps,
          positionLimitQty: risk.positionLimitQty,
          openInterestCapQty: risk.openInterestCapQty,
        });
        expect(info.settlement).to.deep.equal({ status: "none", governed: false, finalAt: 0n, priceX18: 0n });
      }
      expect((await s.reader.seriesInfo(s.ait)).seriesId).to.equal(1n);
      expect((await s.reader.seriesInfo(2)).symbol).to.equal(s.deployment.series[1].symbol);
      expect((await s.reader.seriesInfo("2")).symbol).to.equal(s.deployment.series[1].symbol);
      for (const unknown of ["NOPE-2027-01", 99, "0", ""]) {
        const error = await rejectionOf(s.reader.seriesInfo(unknown));
        expect(error, String(unknown)).to.be.instanceOf(SeriesNotFoundError);
      }
    });

    it("index, mark and TWAP equal the oracle's and the clearinghouse's views", async function () {
      const s = await loadFixture(setup);
      const index = await s.reader.index(s.ait);
      const [priceX18, observedAt] = await s.oracle.latestPrice(s.deployment.feeds.AIT);
      expect(index).to.deep.include({ priceX18, observedAt, isStale: false });
      expect(index.priceX18).to.equal(parseX18("4"));
      expect(await s.reader.mark(s.ait)).to.equal(await s.ch.markPrice(1));
      const now = BigInt(await time.latest());
      const twap = await s.reader.twap(s.ait, { fromTime: observedAt - 3_600n, toTime: now });
      expect(twap.twapX18).to.equal(await s.oracle.twap(s.deployment.feeds.AIT, observedAt - 3_600n, now));
      expect(twap.rounds).to.equal(1n);
      expect(twap.methodologyVersion).to.equal(1n);
    });

    it("best bid and ask, depth and open orders equal the lens; an empty side is undefined", async function () {
      const s = await withQuotes();
      const lens = OrderBookLens__factory.connect(s.deployment.contracts.lens, ethers.provider);
      const top = await s.reader.bestBidAsk(s.ait);
      expect(top.bid).to.deep.equal({ tick: 3990n, priceX18: parseX18("3.99"), qty: 5n, orderCount: 1n });
      expect(top.ask).to.deep.equal({ tick: 4010n, priceX18: parseX18("4.01"), qty: 5n, orderCount: 1n });
      expect(await s.reader.bestBidAsk(s.gpuh)).to.deep.equal({ bid: undefined, ask: undefined });
      await s.maker.placeOrder({ series: s.ait, side: "buy", qty: 2, price: "3.98" });
      const depth = await s.reader.depth(s.ait, 5);
      const [bids, asks] = await lens.depth(1, 5);
      expect(depth.bids.map((l) => [l.tick, l.qty, l.orderCount])).to.deep.equal(
        bids.map((l) => [l.tick, l.qty, l.orderCount]),
      );
      expect(depth.asks.map((l) => l.priceX18)).to.deep.equal(asks.map((l) => l.priceX18));
      expect(depth.bids.map((l) => l.priceX18)).to.deep.equal([parseX18("3.99"), parseX18("3.98")]);
      const orders = await s.reader.openOrders(s.bob.address);
      expect(orders.map((o) => [o.orderId, o.side, o.priceX18, o.qty])).to.deep.equal([
        [s.bidId, "buy", parseX18("3.99"), 5n],
        [s.askId, "sell", parseX18("4.01"), 5n],
        [orders[2].orderId, "buy", parseX18("3.98"), 2n],
      ]);
      expect(await s.reader.openOrders(s.bob.address, s.gpuh)).to.deep.equal([]);
      expect(await s.maker.openOrders()).to.deep.equal(orders);
    });

    it("account summary and positions equal accountHealth, with PnL at the mark and a liquidation price", async function () {
      const s = await withQuotes();
      await s.taker.deposit("3000");
      await s.taker.placeOrder({ series: s.ait, side: "buy", type: "market", qty: 2 });
      for (const client of [s.taker, s.maker]) {
        const who = await client.connection.signerAddress();
        const summary = await client.account();
        const health = await s.ch.accountHealth(who!);
        expect(summary).to.deep.include({
          account: who,
          cashX18: health.cashX18,
          unrealizedPnlX18: health.unrealizedPnlX18,
          equityX18: health.equityX18,
          initialMarginX18: health.initialMarginX18,
          maintenanceMarginX18: health.maintenanceMarginX18,
          withdrawableX18: health.withdrawableX18,
          orderMarginX18: health.orderMarginX18,
          freeCollateralX18: health.withdrawableX18,
          availableMarginX18: health.equityX18 - health.initialMarginX18,
          liquidatable: false,
        });
        expect(summary.positions).to.have.length(1);
        const [position] = summary.positions;
        const onChain = await s.ch.positionOf(who!, 1);
        const mark = await s.ch.markPrice(1);
        expect(position).to.deep.include({
          seriesId: 1n,
          symbol: s.ait,
          sizeQty: onChain.sizeQty,
          openNotionalX18: onChain.openNotionalX18,
          entryPriceX18: parseX18("4.01"),
          markX18: mark,
          unrealizedPnlX18: onChain.sizeQty * mark * 1_000n - onChain.openNotionalX18,
        });
        expect(await client.positions()).to.deep.equal(summary.positions);
      }
      const long = (await s.taker.positions())[0];
      expect(long.sizeQty).to.equal(2n);
      expect(long.liquidationPriceX18! > 0n && long.liquidationPriceX18! < parseX18("4.01")).to.equal(true);
      expect((await s.maker.positions())[0].sizeQty).to.equal(-2n);
    });

    it("fill history by account and series, oldest first, equal to the OrderFilled events", async function () {
      const s = await withQuotes();
      await s.taker.deposit("5000");
      await s.taker.placeOrder({ series: s.ait, side: "buy", type: "ioc", qty: 1, price: "4.01" });
      await s.taker.placeOrder({ series: s.ait, side: "sell", type: "ioc", qty: 2, price: "3.99" });
      const fills = await s.reader.fills({ account: s.alice.address });
      expect(fills.map((f) => [f.takerSide, f.qty, f.priceX18, f.maker, f.taker])).to.deep.equal([
        ["buy", 1n, parseX18("4.01"), s.bob.address, s.alice.address],
        ["sell", 2n, parseX18("3.99"), s.bob.address, s.alice.address],
      ]);
      expect(await s.reader.fills({ account: s.bob.address, series: s.ait })).to.deep.equal(fills);
      expect(await s.reader.fills({ series: s.gpuh })).to.deep.equal([]);
      expect(await s.reader.fills({ account: s.carol.address })).to.deep.equal([]);
      const logs = await s.ch.queryFilter(s.ch.filters.OrderFilled());
      expect(fills.map((f) => f.txHash)).to.deep.equal(logs.map((l) => l.transactionHash));
      expect(fills.map((f) => f.takerFeeX18)).to.deep.equal(logs.map((l) => l.args.takerFeeX18));
    });
  });

  describe("collateral", function () {
    it("deposit approves exactly the amount when the token has no permit, then uses an existing allowance", async function () {
      const s = await loadFixture(setup);
      const first = await s.taker.deposit("1000.5");
      expect(first).to.deep.include({ amountRaw: 1_000_500_000n, amountX18: parseX18("1000.5"), allowance: "approve" });
      expect(first.allowanceTxHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(await s.ch.cashOf(s.alice.address)).to.equal(parseX18("1000.5"));
      await (await s.usdc.connect(s.alice).approve(s.deployment.contracts.clearinghouse, 10n * USDC)).wait();
      const second = await s.taker.deposit(2n * USDC);
      expect(second).to.deep.include({ amountRaw: 2n * USDC, allowance: "existing", allowanceTxHash: undefined });
      expect(await s.ch.cashOf(s.alice.address)).to.equal(parseX18("1002.5"));
    });

    it("deposits for another account (depositFor)", async function () {
      const s = await loadFixture(setup);
      await s.taker.deposit("5", { account: s.dave.address });
      expect(await s.ch.cashOf(s.dave.address)).to.equal(parseX18("5"));
      expect(await s.ch.cashOf(s.alice.address)).to.equal(0n);
    });

    it("refuses before sending: no allowance in `existing` mode, a short balance, a bad amount, a permit the token lacks", async function () {
      const s = await loadFixture(setup);
      const nonce = await ethers.provider.getTransactionCount(s.alice.address);
      const noAllowance = await rejectionOf(s.taker.deposit("1", { allowance: "existing" }));
      expect(noAllowance).to.be.instanceOf(InsufficientAllowanceError);
      expect(noAllowance).to.include({ owner: s.alice.address, allowanceRaw: 0n, neededRaw: USDC });
      const poor = await rejectionOf(s.taker.withRunner(s.dave).deposit("1"));
      expect(poor).to.be.instanceOf(InsufficientTokenBalanceError);
      expect(poor).to.include({ owner: s.dave.address, balanceRaw: 0n, neededRaw: USDC });
      for (const bad of ["0", "-1", "1.0000001", "abc"]) {
        expect(await rejectionOf(s.taker.deposit(bad)), bad).to.be.instanceOf(InvalidAmountError);
      }
      expect(await rejectionOf(s.taker.deposit("1", { allowance: "permit" }))).to.be.instanceOf(PermitUnsupportedError);
      expect(await ethers.provider.getTransactionCount(s.alice.address)).to.equal(nonce);
    });

    it("withdraws to the signer or another address; too much is the decoded InsufficientFreeCollateral", async function () {
      const s = await loadFixture(setup);
      await s.taker.deposit("100");
      const before = await s.usdc.balanceOf(s.alice.address);
      const out = await s.taker.withdraw("40");
      expect(out).to.deep.include({ amountRaw: 40n * USDC, to: s.alice.address });
      expect(await s.usdc.balanceOf(s.alice.address)).to.equal(before + 40n * USDC);
      await s.taker.withdraw("10", { to: s.dave.address });
      expect(await s.usdc.balanceOf(s.dave.address)).to.equal(10n * USDC);
      const error = await rejectionOf(s.taker.withdraw("51"));
      expect(error).to.be.instanceOf(InsufficientFreeCollateralError);
      expect(error).to.be.instanceOf(TokenpitError);
      expect(error).to.include({
        account: s.alice.address,
        requestedX18: parseX18("51"),
        availableX18: parseX18("50"),
      });
      const stranger = await rejectionOf(s.taker.withRunner(s.dave).withdraw("1", { account: s.alice.address }));
      expect(stranger).to.be.instanceOf(NotAccountOwnerOrOperatorError);
    });
  });

  describe("collateral with EIP-2612 permits", function () {
    async function permitSetup() {
      const [deployer, , , alice] = await ethers.getSigners();
      const token = await new MockERC20Permit__factory(deployer).deploy("Permit USD", "PUSD");
      const s = await deployedSystem({ collateral: await token.getAddress() });
      await (await token.mint(alice.address, 1_000n * USDC)).wait();
      return { ...s, token, alice, client: await TokenpitClient.connect(alice, s.deployment) };
    }

    it("deposits with a signed permit instead of an approve transaction", async function () {
      const s = await loadFixture(permitSetup);
      const ch = Clearinghouse__factory.connect(s.deployment.contracts.clearinghouse, ethers.provider);
      const nonce = await ethers.provider.getTransactionCount(s.alice.address);
      const out = await s.client.deposit("250");
      expect(out).to.deep.include({ allowance: "permit", amountRaw: 250n * USDC, amountX18: parseX18("250") });
      const permitTx = await ethers.provider.getTransaction(out.allowanceTxHash!);
      expect(permitTx!.data.slice(0, 10)).to.equal(s.token.interface.getFunction("permit").selector);
      expect(await s.token.nonces(s.alice.address)).to.equal(1n);
      expect(await s.token.allowance(s.alice.address, s.deployment.contracts.clearinghouse)).to.equal(0n);
      expect(await ch.cashOf(s.alice.address)).to.equal(parseX18("250"));
      expect(await ethers.provider.getTransactionCount(s.alice.address)).to.equal(nonce + 2);
      expect((await s.client.deposit("1", { allowance: "approve" })).allowance).to.equal("approve");
    });
  });

  describe("orders", function () {
    it("a resting limit order: its id, nothing filled, all resting", async function () {
      const s = await withQuotes();
      const bid = await s.maker.placeOrder({ series: s.ait, side: "buy", qty: 3, price: "3.95", expiresAt: 0 });
      expect(bid).to.deep.include({ seriesId: 1n, filledQty: 0n, restingQty: 3n, cancelledQty: 0n, takerFeeX18: 0n });
      expect((await s.ch.orderOf(bid.orderId)).qty).to.equal(3n);
      expect(bid.receipt.status).to.equal(1);
    });

    it("a crossing limit order fills the book first and rests the remainder; fills and fees from the events", async function () {
      const s = await withQuotes();
      await s.taker.deposit("20000");
      const order = await s.taker.placeOrder({ series: s.ait, side: "buy", qty: 8, price: "4.01" });
      expect(order).to.deep.include({ filledQty: 5n, restingQty: 3n, cancelledQty: 0n });
      expect(order.orderId > 0n).to.equal(true);
      expect(order.fills).to.have.length(1);
      const [fill] = order.fills;
      expect(fill).to.deep.include({
        seriesId: 1n,
        makerOrderId: s.askId,
        maker: s.bob.address,
        taker: s.alice.address,
        takerOrderId: order.orderId,
        takerSide: "buy",
        priceX18: parseX18("4.01"),
        qty: 5n,
      });
      // Taker fee: 5 x 4.01 x 1,000 x takerFeeBps / 10,000.
      const risk = await s.ch.riskParams(1);
      expect(order.takerFeeX18).to.equal((5n * parseX18("4.01") * 1_000n * risk.takerFeeBps) / 10_000n);
      expect((await s.ch.positionOf(s.alice.address, 1)).sizeQty).to.equal(5n);
    });

    it("ioc, fok and market orders: nothing rests; fok that cannot fill is the decoded FillOrKillUnfilled", async function () {
      const s = await withQuotes();
      await s.taker.deposit("20000");
      const ioc = await s.taker.placeOrder({ series: s.ait, side: "sell", type: "ioc", qty: 7, price: "3.99" });
      expect(ioc).to.deep.include({ orderId: 0n, filledQty: 5n, restingQty: 0n, cancelledQty: 2n });
      const fok = await rejectionOf(
        s.taker.placeOrder({ series: s.ait, side: "buy", type: "fok", qty: 9, price: "4.01" }),
      );
      expect(fok.constructor.name).to.equal("FillOrKillUnfilledError");
      expect(fok).to.include({ seriesId: 1n, filledQty: 5n, qty: 9n });
      const market = await s.taker.placeOrder({ series: s.ait, side: "buy", type: "market", qty: 2 });
      expect(market).to.deep.include({ orderId: 0n, filledQty: 2n, restingQty: 0n });
      const postOnly = await s.taker.placeOrder({ series: s.ait, side: "buy", type: "post-only", qty: 1, price: "4" });
      expect(postOnly.restingQty).to.equal(1n);
    });

    it("reduce-only orders are clipped to the position", async function () {
      const s = await withQuotes();
      await s.taker.deposit("20000");
      await s.taker.placeOrder({ series: s.ait, side: "buy", type: "market", qty: 2 });
      const close = await s.taker.placeOrder({ series: s.ait, side: "sell", qty: 5, price: "4.05", reduceOnly: true });
      expect(close).to.deep.include({ restingQty: 2n, cancelledQty: 3n });
    });

    it("replace cancels the old order and places the new one; cancel and cancelAll report what left the book", async function () {
      const s = await withQuotes();
      const replaced = await s.maker.replace(s.bidId, { series: s.ait, side: "buy", qty: 4, price: "3.98" });
      expect(replaced.orderId).to.not.equal(s.bidId);
      expect(replaced.restingQty).to.equal(4n);
      expect(replaced.cancellations).to.deep.include({
        seriesId: 1n,
        orderId: s.bidId,
        account: s.bob.address,
        cancelledQty: 5n,
        reason: "replaced",
        blockNumber: replaced.receipt.blockNumber,
        txHash: replaced.txHash,
      });
      const one = await s.maker.cancel(replaced.orderId);
      expect(one.cancelledQty).to.equal(4n);
      expect(one.cancellations.map((c) => c.reason)).to.deep.equal(["owner"]);
      await s.maker.placeOrder({ series: s.ait, side: "buy", qty: 1, price: "3.9" });
      const all = await s.maker.cancelAll(s.ait);
      expect(all.cancelledQty).to.equal(6n);
      expect(await s.reader.openOrders(s.bob.address, s.ait)).to.deep.equal([]);
      expect(await rejectionOf(s.maker.cancel(replaced.orderId))).to.be.instanceOf(OrderNotFoundError);
    });

    it("refuses malformed orders before sending and decodes the contract's refusals", async function () {
      const s = await withQuotes();
      await s.taker.deposit("1000");
      const base = { series: s.ait, side: "buy" as const, qty: 1, price: "4" };
      const invalid: [string, object][] = [
        ["side", { side: "long" }],
        ["type", { type: "stop" }],
        ["qty", { qty: 0 }],
        ["price", { price: undefined }],
        ["expiresAt on ioc", { type: "ioc", expiresAt: 1 }],
        ["maxFills", { maxFills: 0 }],
        ["X18 price off the tick", { price: parseX18("4.0005") }],
      ];
      for (const [what, change] of invalid) {
        expect(await rejectionOf(s.taker.placeOrder({ ...base, ...change })), what).to.be.instanceOf(InvalidOrderError);
      }
      const offTick = await rejectionOf(s.taker.placeOrder({ ...base, price: "4.0005" }));
      expect(offTick).to.be.instanceOf(PriceNotOnTickError);
      expect(await rejectionOf(s.taker.placeOrder({ ...base, series: "AIT-1999-01" }))).to.be.instanceOf(
        SeriesNotFoundError,
      );
      const band = await rejectionOf(s.taker.placeOrder({ ...base, price: "9" }));
      expect(band).to.be.instanceOf(PriceOutsideBandError);
      expect(band).to.include({ seriesId: 1n, priceX18: parseX18("9") });
      const margin = await rejectionOf(s.taker.placeOrder({ ...base, qty: 100, price: "3.9" }));
      expect(margin.constructor.name).to.equal("InsufficientMarginError");
      expect(margin).to.have.property("account", s.alice.address);
    });

    it("refuses an order on a stale index (reduce-only passes) and on an expired series", async function () {
      const s = await withQuotes();
      await s.taker.deposit("20000");
      await s.taker.placeOrder({ series: s.ait, side: "buy", type: "market", qty: 1 });
      await time.increase(3n * 24n * 3_600n);
      const stale = await rejectionOf(s.taker.placeOrder({ series: s.ait, side: "buy", qty: 1, price: "3.9" }));
      expect(stale).to.be.instanceOf(StaleIndexError);
      expect(stale).to.have.property("seriesId", 1n);
      expect((await s.reader.index(s.ait)).isStale).to.equal(true);
      const close = await s.taker.placeOrder({ series: s.ait, side: "sell", qty: 1, price: "4", reduceOnly: true });
      expect(close.restingQty).to.equal(1n);
      const expiry = BigInt(s.deployment.series[0].expiry);
      await time.increaseTo(expiry);
      const expired = await rejectionOf(s.taker.placeOrder({ series: s.ait, side: "buy", qty: 1, price: "3.9" }));
      expect(expired).to.be.instanceOf(ExpiredSeriesError);
      expect(expired).to.include({ seriesId: 1n, expiry });
    });
  });

  describe("streams", function () {
    it("onFill and onOrder deliver each event once, filtered by account, until unsubscribed", async function () {
      const s = await withQuotes();
      await s.taker.deposit("20000");
      const aliceFills: Fill[] = [];
      const carolFills: Fill[] = [];
      const bobOrders: OrderEvent[] = [];
      const subs = [
        await s.reader.onFill({ account: s.alice.address }, (f) => void aliceFills.push(f), FAST),
        await s.reader.onFill({ account: s.carol.address, series: s.ait }, (f) => void carolFills.push(f), FAST),
        await s.reader.onOrder({ account: s.bob.address, series: s.ait }, (e) => void bobOrders.push(e), FAST),
      ];
      await s.taker.placeOrder({ series: s.ait, side: "buy", type: "ioc", qty: 2, price: "4.01" });
      const placed = await s.maker.placeOrder({ series: s.ait, side: "buy", qty: 1, price: "3.97" });
      await s.maker.cancel(placed.orderId);
      await eventually(() => aliceFills.length === 1 && bobOrders.length === 2, "the fill and two order events");
      expect(aliceFills[0]).to.deep.include({ maker: s.bob.address, taker: s.alice.address, qty: 2n });
      expect(bobOrders.map((e) => e.type)).to.deep.equal(["placed", "cancelled"]);
      expect(bobOrders[0]).to.deep.include({ orderId: placed.orderId, side: "buy", orderType: "limit", qty: 1n });
      for (const sub of subs) sub.unsubscribe();
      await s.taker.placeOrder({ series: s.ait, side: "buy", type: "ioc", qty: 1, price: "4.01" });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(aliceFills).to.have.length(1);
      expect(carolFills).to.deep.equal([]);
    });

    it("onIndexUpdate delivers accepted rounds of the series' feed only", async function () {
      const s = await loadFixture(setup);
      const updates: IndexUpdate[] = [];
      const sub = await s.reader.onIndexUpdate(s.ait, (u) => void updates.push(u), FAST);
      await publishAfter(s, "GPUH", "2.41", 901n);
      await publishAfter(s, "AIT", "4.02", 901n);
      await eventually(() => updates.length === 1, "the AIT round");
      sub.unsubscribe();
      expect(updates[0]).to.deep.include({ feed: "AIT", feedId: s.deployment.feeds.AIT, priceX18: parseX18("4.02") });
    });

    it("onLiquidation and onSettlement follow an account through a liquidation and a settlement", async function () {
      const s = await withQuotes();
      const liquidations: LiquidationEvent[] = [];
      const settlements: SettlementEvent[] = [];
      const subs = [
        await s.reader.onLiquidation({ account: s.alice.address }, (e) => void liquidations.push(e), FAST),
        await s.reader.onSettlement({ series: s.ait }, (e) => void settlements.push(e), FAST),
      ];
      await s.taker.deposit("2100");
      await s.taker.placeOrder({ series: s.ait, side: "buy", type: "market", qty: 2 });
      const before = (await s.taker.positions())[0];
      await s.maker.cancelAll(s.ait);
      // Two falls within the jump guard: 4.000 -> 3.650 -> 3.340.
      await publishAfter(s, "AIT", "3.65", 901n);
      await publishAfter(s, "AIT", "3.34", 901n);
      const mark = await s.ch.markPrice(1);
      const health = await s.ch.accountHealth(s.alice.address);
      // The liquidation price computed at the old mark says whether the new mark liquidates.
      expect(health.equityX18 < BigInt(health.maintenanceMarginX18)).to.equal(mark < before.liquidationPriceX18!);
      expect((await s.taker.account()).liquidatable).to.equal(true);
      const carol = await TokenpitClient.connect(s.carol, s.deployment);
      await carol.deposit("50000");
      await (await s.ch.connect(s.carol).liquidate(s.alice.address, 1, 2)).wait();
      await eventually(() => liquidations.length === 1, "the liquidation");
      expect(liquidations[0]).to.deep.include({
        type: "liquidated",
        account: s.alice.address,
        liquidator: s.carol.address,
      });

      const spec = await s.ch.seriesSpec(1);
      let at = spec.expiry - spec.averagingWindowSec - 3_600n;
      while (at <= spec.expiry + 3_600n) {
        if (at > BigInt(await time.latest())) await publishAt(s, "AIT", "3.4", at);
        at += 22n * 3_600n;
      }
      if (BigInt(await time.latest()) <= spec.expiry) {
        await publishAfter(s, "AIT", "3.4", spec.expiry - BigInt(await time.latest()) + 60n);
      }
      const proposed = await carol.proposeSettlement(s.ait);
      expect(proposed.receipt.status).to.equal(1);
      // The default TWAP window is the series' averaging window, up to expiry once passed: the settlement price.
      const twap = await s.reader.twap(s.ait);
      expect(twap).to.deep.include({ fromTime: spec.expiry - spec.averagingWindowSec, toTime: spec.expiry });
      expect((await s.reader.seriesInfo(s.ait)).settlement).to.deep.include({
        status: "proposed",
        priceX18: twap.twapX18,
      });
      await time.increase(2n * 3_600n + 1n);
      expect((await s.reader.seriesInfo(s.ait)).settlement.status).to.equal("final");
      const settled = await carol.settle(s.ait, [s.carol.address, s.bob.address]);
      expect(settled.settled.map((x) => x.account)).to.have.members([s.carol.address, s.bob.address]);
      await eventually(() => settlements.length === 3, "the proposal and two settled accounts");
      for (const sub of subs) sub.unsubscribe();
      expect(settlements.map((e) => e.type)).to.deep.equal(["proposed", "account-settled", "account-settled"]);
    });
  });
});
