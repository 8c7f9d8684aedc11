/**
 * The examples (examples/) run as a dApp would run them, against the whole system on the in-process network: the
 * market maker deposits, quotes, sees its fills through the stream and closes flat; the read-only monitor prints
 * the market and streams what happens.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { TokenpitClient, parseX18 } from "../../sdk";
import { faucetIfMock, runMarketMaker } from "../../examples/market-maker";
import { runMonitor } from "../../examples/market-monitor";
import { deployedSystem, publishAfter } from "../fixtures/system";

async function setup() {
  const [, , , alice, bob] = await ethers.getSigners();
  const s = await deployedSystem({ fund: [bob] });
  return {
    ...s,
    alice,
    mm: await TokenpitClient.connect(alice, s.deployment),
    trader: await TokenpitClient.connect(bob, s.deployment),
    reader: await TokenpitClient.connect(ethers.provider, s.deployment),
  };
}

/** Polls `read` every 10 ms until it returns a value. */
async function waitFor<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("examples", function () {
  this.timeout(120_000);

  it("market-maker: deposits, quotes both sides, sees its fills as they happen and closes flat", async function () {
    const s = await loadFixture(setup);
    await faucetIfMock(s.mm, s.deployment, s.alice.address);
    await s.trader.deposit("50000");
    // Liquidity the market maker will close against, outside its quotes.
    await s.trader.placeOrder({ series: s.ait, side: "sell", qty: 5, price: "4.05" });
    const lines: string[] = [];
    const running = runMarketMaker({
      client: s.mm,
      series: s.ait,
      fills: 2,
      pollIntervalMs: 10,
      log: (l) => lines.push(l),
    });
    // A trader lifts the offer (2) and hits the bid (1): the market maker ends short 1 and buys it back.
    const quotes = await waitFor(async () => {
      const top = await s.reader.bestBidAsk(s.ait);
      return top.bid !== undefined && top.ask?.priceX18 === parseX18("4.01") ? top : undefined;
    }, "the quotes");
    expect(quotes.bid!.priceX18).to.equal(parseX18("3.99"));
    await s.trader.placeOrder({ series: s.ait, side: "buy", type: "ioc", qty: 2, price: "4.01" });
    await s.trader.placeOrder({ series: s.ait, side: "sell", type: "ioc", qty: 1, price: "3.99" });
    const report = await running;

    expect(report.fills.map((f) => [f.takerSide, f.qty, f.priceX18])).to.deep.equal([
      ["buy", 2n, parseX18("4.01")],
      ["sell", 1n, parseX18("3.99")],
    ]);
    expect(report.finalSizeQty).to.equal(0n);
    expect(await s.reader.openOrders(s.alice.address, s.ait)).to.deep.equal([]);
    expect(lines[0]).to.match(/^deposited 20000\.00 USD \(allowance by approve\)$/);
    expect(lines).to.include("closing -1: filled 1, unfilled 0");
    expect(lines.at(-1)).to.equal("done: 2 fills, position 0");
  });

  it("market-monitor: prints each open series and streams fills and index rounds with a provider only", async function () {
    const s = await loadFixture(setup);
    await s.trader.deposit("50000");
    await s.trader.placeOrder({ series: s.ait, side: "sell", qty: 3, price: "4.02" });
    const lines: string[] = [];
    const monitoring = runMonitor({
      client: s.reader,
      watchMs: 30_000,
      stopAfterEvents: 2,
      pollIntervalMs: 10,
      log: (l) => lines.push(l),
    });
    await waitFor(async () => (lines.length >= s.deployment.series.length ? true : undefined), "the snapshot");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const buyer = s.mm.withRunner((await ethers.getSigners())[5]);
    await faucetIfMock(buyer, s.deployment, await buyer.connection.signerAddress().then((a) => a!));
    await buyer.deposit("10000");
    await buyer.placeOrder({ series: s.ait, side: "buy", type: "ioc", qty: 1, price: "4.02" });
    await publishAfter(s, "GPUH", "2.41", 901n);
    const report = await monitoring;

    const ait = report.snapshot.find((row) => row.symbol === s.ait)!;
    expect(ait).to.deep.include({
      indexX18: parseX18("4"),
      indexStale: false,
      bestAskX18: parseX18("4.02"),
      askDepthQty: 3n,
    });
    expect(ait.bestBidX18).to.equal(undefined);
    expect(lines[0]).to.equal(`${s.ait}: index 4.000, mark 4.000, bid - (0) / ask 4.020 (3)`);
    expect(report.fills.map((f) => [f.qty, f.priceX18])).to.deep.equal([[1n, parseX18("4.02")]]);
    expect(report.indexUpdates.map((u) => [u.feed, u.priceX18])).to.deep.equal([["GPUH", parseX18("2.41")]]);
  });
});
