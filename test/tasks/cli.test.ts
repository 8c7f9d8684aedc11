/**
 * The command line (tasks/cli.ts, tasks/lib/): every task through `hre.run` against one deployment of the whole
 * system (deploySystem to a temporary file), with its output captured and its numbers checked against the chain;
 * `--json` output parsed; every error path prints one `error:` line and sets the exit code.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Clearinghouse__factory } from "../../typechain-types";
import type { Clearinghouse } from "../../typechain-types";
import { OrderKind, feedIdOf, parseX18 } from "../../sdk";
import { USDC, deployedSystem as deploySystemFixture, publishAfter, publishAt } from "../fixtures/system";
import type { DeployedSystem } from "../fixtures/system";

interface System extends DeployedSystem {
  ch: Clearinghouse;
  /** Funded with 1,000,000 USDC each, nothing approved or deposited. */
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
  /** Funded with 100 USDC only. */
  dave: HardhatEthersSigner;
}

/** The whole system deployed to a temporary file (test/fixtures/system.ts), with funded traders. */
async function deployedSystem(): Promise<System> {
  const signers = await ethers.getSigners();
  const [alice, bob, carol, dave] = signers.slice(3, 7);
  const s = await deploySystemFixture({ fund: [alice, bob, carol] });
  await (await s.usdc.mint(dave.address, 100n * USDC)).wait();
  return {
    ...s,
    ch: Clearinghouse__factory.connect(s.deployment.contracts.clearinghouse, signers[0]),
    alice,
    bob,
    carol,
    dave,
  };
}

interface Run {
  out: string[];
  err: string[];
  exitCode: number | undefined;
  /** stdout parsed as one JSON object (with --json). */
  json: Record<string, unknown>;
}

/** Runs a task with console output captured; the exit code is read, then reset. */
async function cli(s: System, name: string, args: Record<string, unknown> = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...parts: unknown[]) => out.push(parts.join(" "));
  console.error = (...parts: unknown[]) => err.push(parts.join(" "));
  process.exitCode = undefined;
  try {
    await hre.run(name, { deployment: s.deploymentFile, ...args });
  } finally {
    console.log = log;
    console.error = error;
  }
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  return {
    out,
    err,
    exitCode,
    get json() {
      expect(out, "one JSON line on stdout").to.have.length(1);
      return JSON.parse(out[0]) as Record<string, unknown>;
    },
  };
}

/** Asserts a task failed with exactly one stderr line matching `pattern`, nothing on stdout, exit code 1. */
function expectError(run: Run, pattern: RegExp): void {
  expect(run.err, run.out.join("\n")).to.have.length(1);
  expect(run.err[0]).to.match(/^error: /);
  expect(run.err[0]).to.match(pattern);
  expect(run.err[0]).not.to.match(/0x[0-9a-f]{64}/i);
  expect(run.out).to.deep.equal([]);
  expect(run.exitCode).to.equal(1);
}

/** Deposits `amount` USDC for `who` directly on the contracts. */
async function deposit(s: System, who: HardhatEthersSigner, amount: bigint) {
  await (await s.usdc.connect(who).approve(await s.ch.getAddress(), amount * USDC)).wait();
  await (await s.ch.connect(who).deposit(amount * USDC)).wait();
}

/** The deployed system with bob resting an ask of 5 at 4.010 and a bid of 2 at 3.990 on the front AIT series. */
async function withBook(): Promise<System> {
  const s = await loadFixture(deployedSystem);
  await deposit(s, s.bob, 100_000n);
  const seriesId = s.deployment.series.find((x) => x.symbol === s.ait)!.id;
  const base = {
    seriesId,
    account: s.bob.address,
    kind: OrderKind.Limit,
    reduceOnly: false,
    expiresAt: 0,
    maxFills: 20,
  };
  await (await s.ch.connect(s.bob).placeOrder({ ...base, isBuy: false, tick: 4_010, qty: 5 })).wait();
  await (await s.ch.connect(s.bob).placeOrder({ ...base, isBuy: true, tick: 3_990, qty: 2 })).wait();
  return s;
}

describe("command line tasks", function () {
  describe("series", function () {
    it("lists every series with status, mark, open interest, margins and fees as the chain reports them", async function () {
      const s = await loadFixture(deployedSystem);
      const { series } = (await cli(s, "series", { json: true })).json as { series: Record<string, unknown>[] };
      expect(series.map((x) => x.symbol)).to.deep.equal(s.deployment.series.map((x) => x.symbol));
      const front = series[0];
      expect(front.status).to.equal("trading");
      expect(front.markX18).to.equal(String(await s.ch.markPrice(1)));
      expect(front.markX18).to.equal(String(parseX18("4")));
      expect(front.expiry).to.equal(new Date(s.deployment.series[0].expiry * 1000).toISOString().replace(".000Z", "Z"));
      expect([front.imBps, front.mmBps, front.makerFeeBps, front.takerFeeBps]).to.deep.equal([
        "2500",
        "1250",
        "1",
        "5",
      ]);
      expect(front.openInterestQty).to.equal("0");
      const text = await cli(s, "series");
      expect(text.out).to.have.length(7);
      expect(text.out[1]).to.contain(s.ait).and.contain("trading").and.contain("4.000").and.contain("25% / 12.5%");
      expect(text.exitCode).to.equal(undefined);
    });
  });

  describe("index", function () {
    it("shows the latest index, its age, the TWAPs it can compute, and the series' mark", async function () {
      const s = await loadFixture(deployedSystem);
      const [priceX18, observedAt] = await s.oracle.peekLatest(feedIdOf("AIT"));
      const j = (await cli(s, "index", { series: s.ait, json: true })).json as {
        priceX18: string;
        observedAt: string;
        stale: boolean;
        twap: Record<string, { twapX18: string | null; rounds: string | null; error: string | null }>;
        marks: { symbol: string; markX18: string }[];
      };
      expect([j.priceX18, j.observedAt, j.stale]).to.deep.equal([String(priceX18), String(observedAt), false]);
      // Two rounds at 4.000, two hours apart: the last hour averages 4.000; 24 hours reach before the first round.
      expect(j.twap["1h"].twapX18).to.equal(String(parseX18("4")));
      expect(j.twap["24h"].twapX18).to.equal(null);
      expect(j.twap["24h"].error).to.match(/^TwapOutsideHistory\(feedId AIT, fromTime \d+, oldestObservedAt \d+\)$/);
      expect(j.marks).to.deep.equal([{ id: 1, symbol: s.ait, markX18: String(parseX18("4")), error: null }]);
    });

    it("--feed shows the marks of every series of the feed; a stale feed says so", async function () {
      const s = await loadFixture(deployedSystem);
      await time.increase(7n * 3_600n); // GPUH is stale after 6 hours.
      const run = await cli(s, "index", { feed: "GPUH" });
      expect(run.out[0]).to.match(/^GPUH index 2\.400 USD, observed .*, STALE$/);
      const marks = run.out.filter((line) => line.startsWith("mark "));
      expect(marks).to.have.length(3);
      // The mark keeps the last index; the TWAP over a window ending on stale data cannot be computed.
      expect(marks[0]).to.match(/^mark GPUH-\d{4}-\d{2}: 2\.400 USD$/);
      expect(run.out[1]).to.match(/^TWAP 1h: n\/a \(TwapDataStale\(feedId GPUH, lastObservedAt \d+, toTime \d+\)\)$/);
    });

    it("refuses both or neither of --series and --feed, and an unknown feed", async function () {
      const s = await loadFixture(deployedSystem);
      expectError(await cli(s, "index", { series: s.ait, feed: "AIT" }), /exactly one of --series and --feed/);
      expectError(await cli(s, "index", {}), /exactly one of --series and --feed/);
      expectError(await cli(s, "index", { feed: "CPU" }), /unknown feed "CPU" \(feeds: AIT, GPUH\)/);
    });
  });

  describe("deposit and withdraw", function () {
    it("faucet mints the mock collateral to the signer or --to, then deposit takes it", async function () {
      const s = await loadFixture(deployedSystem);
      const before = await s.usdc.balanceOf(s.alice.address);
      const run = await cli(s, "faucet", { from: "0", amount: "2500", to: s.alice.address, json: true });
      expect(run.json).to.include({ to: s.alice.address, amountRaw: "2500000000" });
      expect(await s.usdc.balanceOf(s.alice.address)).to.equal(before + 2_500n * USDC);
      expectError(await cli(s, "faucet", { from: "0", amount: "x" }), /bad --amount "x"/);
    });

    it("deposits USD with --approve, and the account shows that cash as free collateral", async function () {
      const s = await loadFixture(deployedSystem);
      const run = await cli(s, "deposit", { from: "3", amount: "1000.5", approve: true, json: true });
      expect(run.json).to.include({ account: s.alice.address, amountRaw: "1000500000", approved: true });
      expect(await s.ch.cashOf(s.alice.address)).to.equal(parseX18("1000.5"));
      expect(await s.usdc.balanceOf(s.alice.address)).to.equal(1_000_000n * USDC - 1_000_500_000n);
      const account = (await cli(s, "account", { address: s.alice.address, json: true })).json;
      expect(account).to.include({
        cashX18: String(parseX18("1000.5")),
        equityX18: String(parseX18("1000.5")),
        withdrawableX18: String(parseX18("1000.5")),
        marginRatioX18: null,
      });
      const text = await cli(s, "account", { address: s.alice.address.toLowerCase() });
      expect(text.out).to.include("cash               1000.50 USD");
      expect(text.out).to.include("free collateral    1000.50 USD (withdrawable)");
    });

    it("without --approve and too little allowance, says to pass --approve and sends nothing", async function () {
      const s = await loadFixture(deployedSystem);
      const nonce = await s.alice.getNonce();
      expectError(
        await cli(s, "deposit", { from: s.alice.address, amount: "50" }),
        /^error: insufficient USDC allowance: 0\.00 approved for the clearinghouse, the deposit needs 50\.00; pass --approve to approve it$/,
      );
      expect(await s.alice.getNonce()).to.equal(nonce);
      expect(await s.ch.cashOf(s.alice.address)).to.equal(0n);
    });

    it("refuses more than the balance, bad numbers and a bad signer before sending", async function () {
      const s = await loadFixture(deployedSystem);
      expectError(
        await cli(s, "deposit", { from: "6", amount: "100.01", approve: true }),
        /insufficient USDC balance: 0x[0-9a-fA-F]{40} holds 100\.00, the deposit needs 100\.01$/,
      );
      expectError(
        await cli(s, "deposit", { from: "3", amount: "1.0000001" }),
        /bad --amount "1\.0000001".*at most 6 decimals/,
      );
      expectError(await cli(s, "deposit", { from: "3", amount: "-5" }), /bad --amount "-5"/);
      expectError(await cli(s, "deposit", { from: "3", amount: "0" }), /must be above zero/);
      expectError(await cli(s, "deposit", { from: "99", amount: "1" }), /no signer 99: the network has 20/);
      expectError(await cli(s, "deposit", { from: "0x1234", amount: "1" }), /bad --from "0x1234"/);
      expect(await s.ch.cashOf(s.dave.address)).to.equal(0n);
    });

    it("withdraws free collateral to another address; more than free is the decoded contract error", async function () {
      const s = await loadFixture(deployedSystem);
      await deposit(s, s.alice, 1_000n);
      const before = await s.usdc.balanceOf(s.carol.address);
      const run = await cli(s, "withdraw", { from: "3", amount: "250.25", to: s.carol.address });
      expect(run.exitCode).to.equal(undefined);
      expect(run.out[1]).to.match(/^cash now 749\.75 USD \(tx 0x[0-9a-f]{64}\)$/);
      expect(await s.usdc.balanceOf(s.carol.address)).to.equal(before + 250_250_000n);
      expect(await s.ch.cashOf(s.alice.address)).to.equal(parseX18("749.75"));
      expectError(
        await cli(s, "withdraw", { from: "3", amount: "800" }),
        new RegExp(
          `^error: InsufficientFreeCollateral\\(account ${s.alice.address}, requested 800\\.0, available 749\\.75\\)$`,
        ),
      );
      expectError(await cli(s, "withdraw", { from: "3", amount: "1", to: "0xnothex" }), /bad --to "0xnothex"/);
    });
  });

  describe("book and order", function () {
    it("book shows both sides in contracts and USD, the best bid and ask, and the spread", async function () {
      const s = await withBook();
      const j = (await cli(s, "book", { series: s.ait, levels: "5", json: true })).json as {
        bestBid: { priceX18: string; qty: string };
        bestAsk: { priceX18: string; qty: string };
        spreadX18: string;
        bids: { priceX18: string; qty: string; notionalX18: string }[];
        asks: { priceX18: string; qty: string; notionalX18: string }[];
      };
      expect(j.bestBid).to.include({ priceX18: String(parseX18("3.99")), qty: "2" });
      expect(j.bestAsk).to.include({ priceX18: String(parseX18("4.01")), qty: "5" });
      expect(j.spreadX18).to.equal(String(parseX18("0.02")));
      // Notional = qty x price x 1,000 USD.
      expect(j.asks).to.have.length(1);
      expect(j.asks[0].notionalX18).to.equal(String(parseX18("20050")));
      expect(j.bids[0].notionalX18).to.equal(String(parseX18("7980")));
      const text = await cli(s, "book", { series: "1" });
      expect(text.out.join("\n")).to.contain("spread 0.020 USD (50.00 bps)");
      expect(text.out.at(-1)).to.equal("best bid 3.990 x 2, best ask 4.010 x 5");
    });

    it("a market buy fills against the ask; the fills come from the receipt; the account shows the position", async function () {
      const s = await withBook();
      await deposit(s, s.alice, 10_000n);
      const j = (await cli(s, "order", { from: "3", series: s.ait, side: "buy", type: "market", qty: "3", json: true }))
        .json as Record<string, unknown> & { fills: Record<string, string>[] };
      expect(j).to.include({ orderId: "0", filledQty: "3", restingQty: "0", cancelledQty: "0" });
      expect(j.fills).to.have.length(1);
      expect(j.fills[0]).to.include({ priceX18: String(parseX18("4.01")), qty: "3", maker: s.bob.address });
      // Taker fee 5 bps of 3 x 4.010 x 1,000 = 6.015 USD.
      expect(j.takerFeeX18).to.equal(String(parseX18("6.015")));
      expect((await s.ch.positionOf(s.alice.address, 1)).sizeQty).to.equal(3n);

      const account = (await cli(s, "account", { address: s.alice.address, json: true })).json as {
        positions: Record<string, string | number>[];
        equityX18: string;
      };
      const mark = await s.ch.markPrice(1);
      expect(account.positions).to.deep.equal([
        {
          seriesId: 1,
          symbol: s.ait,
          sizeQty: "3",
          entryPriceX18: String(parseX18("4.01")),
          markX18: String(mark),
          unrealizedPnlX18: String(3n * mark * 1_000n - parseX18("12030")),
        },
      ]);
      expect(account.equityX18).to.equal(String((await s.ch.accountHealth(s.alice.address)).equityX18));
      const makerOrders = (await cli(s, "account", { address: s.bob.address, json: true })).json.orders as {
        side: string;
        qty: string;
        priceX18: string;
      }[];
      expect(makerOrders.map((o) => [o.side, o.qty, o.priceX18])).to.deep.equal([
        ["sell", "2", String(parseX18("4.01"))],
        ["buy", "2", String(parseX18("3.99"))],
      ]);
    });

    it("a limit order rests and prints its id; a crossing limit order prints its fills and remainder", async function () {
      const s = await withBook();
      await deposit(s, s.alice, 20_000n);
      const resting = await cli(s, "order", { from: "3", series: s.ait, side: "buy", qty: "2", price: "3.995" });
      expect(resting.exitCode).to.equal(undefined);
      const ids = await s.ch.openOrderIdsOf(s.alice.address, 1);
      expect(ids).to.have.length(1);
      expect(resting.out[0]).to.equal(
        `limit buy 2 ${s.ait} @ 3.995: order id ${ids[0]}, filled 0, resting 2, cancelled 0`,
      );
      const crossing = await cli(s, "order", {
        from: "3",
        series: s.ait,
        side: "buy",
        qty: "7",
        price: "4.010",
        expires: new Date((Number(await time.latest()) + 3_600) * 1000).toISOString(),
      });
      expect(crossing.out[0]).to.match(
        new RegExp(`^limit buy 7 ${s.ait} @ 4\\.010: order id \\d+, filled 5, resting 2, cancelled 0$`),
      );
      expect(crossing.out[1]).to.match(/^ {2}fill 5 @ 4\.010 against order \d+ \(fee 10\.025 USD\)$/);
      expect((await s.ch.positionOf(s.alice.address, 1)).sizeQty).to.equal(5n);
      // A market sell with a worst price above the best bid (3.990) fills nothing: all of it is cancelled.
      const worst = await cli(s, "order", {
        from: "3",
        series: s.ait,
        side: "sell",
        type: "market",
        qty: "1",
        price: "3.991",
      });
      expect(worst.out[0]).to.equal(
        `market sell 1 ${s.ait} @ 3.991: no resting order, filled 0, resting 0, cancelled 1`,
      );
      expect((await s.ch.positionOf(s.alice.address, 1)).sizeQty).to.equal(5n);
    });

    it("refuses a price off the tick, a missing price and bad sides before sending", async function () {
      const s = await withBook();
      await deposit(s, s.alice, 10_000n);
      const nonce = await s.alice.getNonce();
      const order = { from: "3", series: s.ait, side: "buy", qty: "1" };
      expectError(
        await cli(s, "order", { ...order, price: "4.0005" }),
        /^error: price 4\.0005 is not on the tick: prices are multiples of 0\.001 USD$/,
      );
      expectError(await cli(s, "order", { ...order, type: "ioc" }), /--price is required for ioc orders/);
      expectError(await cli(s, "order", { ...order, side: "long", price: "4" }), /bad --side "long"/);
      expectError(await cli(s, "order", { ...order, type: "stop", price: "4" }), /bad --type "stop"/);
      expectError(await cli(s, "order", { ...order, qty: "1.5", price: "4" }), /bad --qty "1\.5"/);
      expectError(
        await cli(s, "order", { ...order, type: "ioc", price: "4", expires: "1900000000" }),
        /--expires is only/,
      );
      expectError(await cli(s, "order", { ...order, price: "4", expires: "tomorrow" }), /bad expiry "tomorrow"/);
      expectError(
        await cli(s, "order", { ...order, series: "AIT-1999-01", price: "4" }),
        /unknown series "AIT-1999-01" \(listed: AIT-/,
      );
      expect(await s.alice.getNonce()).to.equal(nonce);
    });

    it("decodes the contract's custom errors of a reverted order into one line with human units", async function () {
      const s = await withBook();
      await deposit(s, s.dave, 100n);
      // 1 contract needs 25% of 4,000 USD at the mark; dave's 100 USD less the fill's 10 USD below the mark and the
      // 2.005 USD fee leave 87.995.
      const run = await cli(s, "order", { from: "6", series: s.ait, side: "buy", type: "market", qty: "1" });
      expectError(
        run,
        new RegExp(`^error: InsufficientMargin\\(account ${s.dave.address}, equity 87\\.995, required 1000\\.0\\)$`),
      );
      expectError(
        await cli(s, "order", { from: "6", series: s.ait, side: "buy", type: "post-only", qty: "1", price: "4.010" }),
        /^error: PostOnlyWouldCross\(seriesId 1, tick 4010, bestOppositeTick 4010\)$/,
      );
      expectError(
        await cli(s, "order", { from: "6", series: s.ait, side: "sell", qty: "1", price: "4", reduceOnly: true }),
        new RegExp(`^error: ReduceOnlyNothingToReduce\\(account ${s.dave.address}, seriesId 1, sizeQty 0\\)$`),
      );
    });
  });

  describe("cancel and cancel-all", function () {
    it("cancels one order by id, then every order of the account", async function () {
      const s = await withBook();
      const [askId, bidId] = await s.ch.openOrderIdsOf(s.bob.address, 1);
      const one = await cli(s, "cancel", { from: "4", series: s.ait, orderId: String(askId), json: true });
      expect(one.json).to.include({ orderId: String(askId), cancelledQty: "5" });
      expect(await s.ch.openOrderIdsOf(s.bob.address, 1)).to.deep.equal([bidId]);
      const all = await cli(s, "cancel-all", { from: "4", series: s.ait });
      expect(all.out[0]).to.match(
        new RegExp(`^cancelled 1 orders \\(2 contracts\\) of ${s.bob.address} in ${s.ait}: ${bidId} `),
      );
      expect(await s.ch.openOrderIdsOf(s.bob.address, 1)).to.deep.equal([]);
    });

    it("an unknown order, another account's order and a stranger's cancel-all are decoded errors", async function () {
      const s = await withBook();
      const [askId] = await s.ch.openOrderIdsOf(s.bob.address, 1);
      expectError(
        await cli(s, "cancel", { from: "4", series: s.ait, orderId: "12345" }),
        /^error: OrderNotFound\(orderId 12345\)$/,
      );
      expectError(
        await cli(s, "cancel", { from: "3", series: s.ait, orderId: String(askId) }),
        new RegExp(`^error: NotAccountOwnerOrOperator\\(account ${s.bob.address}, caller ${s.alice.address}\\)$`),
      );
      expectError(
        await cli(s, "cancel", { from: "4", series: s.gpuh, orderId: String(askId) }),
        /rests in series 1, not in GPUH/,
      );
      expectError(
        await cli(s, "cancel-all", { from: "3", series: s.ait, account: s.bob.address }),
        /^error: AccountNotBelowMaintenance\(account 0x[0-9a-fA-F]{40}, equity [\d.]+, maintenanceMargin 0\.0\)$/,
      );
      expect(await s.ch.openOrderIdsOf(s.bob.address, 1)).to.have.length(2);
    });
  });

  describe("liquidate", function () {
    it("takes over the position of an account below maintenance margin; a healthy one is a decoded error", async function () {
      const s = await withBook();
      await deposit(s, s.alice, 2_100n);
      await deposit(s, s.carol, 50_000n);
      await (
        await s.ch.connect(s.alice).placeOrder({
          seriesId: 1,
          account: s.alice.address,
          isBuy: true,
          kind: OrderKind.Market,
          reduceOnly: false,
          tick: 0,
          qty: 2,
          expiresAt: 0,
          maxFills: 20,
        })
      ).wait();
      await (await s.ch.connect(s.bob).cancelAllOrders(s.bob.address, 1)).wait();
      expectError(
        await cli(s, "liquidate", { from: "5", account: s.alice.address }),
        new RegExp(
          `^error: AccountNotLiquidatable\\(account ${s.alice.address}, equity 20\\d\\d\\.\\d+, maintenanceMargin [\\d.]+\\)$`,
        ),
      );
      // Two falls within the jump guard: 4.000 -> 3.650 -> 3.340.
      await publishAfter(s, "AIT", "3.65", 901n);
      await publishAfter(s, "AIT", "3.34", 901n);
      const health = await s.ch.accountHealth(s.alice.address);
      expect(health.equityX18 < BigInt(health.maintenanceMarginX18)).to.equal(true);
      const run = await cli(s, "liquidate", { from: "5", account: s.alice.address, json: true });
      expect(run.json).to.include({
        account: s.alice.address,
        liquidator: s.carol.address,
        series: s.ait,
        seriesId: 1,
      });
      const taken = BigInt(run.json.takenQty as string);
      expect(taken > 0n).to.equal(true);
      expect((await s.ch.positionOf(s.carol.address, 1)).sizeQty).to.equal(taken);
      expect((await s.ch.positionOf(s.alice.address, 1)).sizeQty).to.equal(2n - taken);
    });
  });

  describe("settle", function () {
    it("finalizes an expired series, then settles an account into its cash at the final price", async function () {
      const s = await withBook();
      await deposit(s, s.alice, 10_000n);
      await cli(s, "order", { from: "3", series: s.ait, side: "buy", type: "market", qty: "2" });
      const spec = await s.ch.seriesSpec(1);
      expectError(
        await cli(s, "settle", { from: "3", series: s.ait, finalize: true }),
        new RegExp(`^error: SeriesNotExpired\\(seriesId 1, expiry ${spec.expiry}\\)$`),
      );
      // Rounds every 22 hours through the averaging window, and one after expiry.
      const windowStart = spec.expiry - spec.averagingWindowSec;
      let at = windowStart - 3_600n;
      while (at <= spec.expiry + 3_600n) {
        await publishAt(s, "AIT", "4.1", at);
        at += 22n * 3_600n;
      }
      if (BigInt(await time.latest()) <= spec.expiry)
        await publishAfter(s, "AIT", "4.1", spec.expiry - BigInt(await time.latest()) + 60n);
      expect((await cli(s, "series", { json: true })).json.series).to.have.nested.property("[0].status", "expired");

      const proposed = await cli(s, "settle", { from: "5", series: s.ait, finalize: true, json: true });
      expect(proposed.json).to.have.nested.property("proposed.priceX18", String(parseX18("4.1")));
      expect(proposed.json).not.to.have.property("settled");
      expect((await cli(s, "series", { json: true })).json.series).to.have.nested.property(
        "[0].status",
        "settlement proposed",
      );
      expectError(
        await cli(s, "settle", { from: "5", series: s.ait, account: s.alice.address }),
        /^error: SettlementStatusInvalid\(seriesId 1, status 1\)$/,
      );
      await time.increase(2n * 3_600n + 1n);
      expect((await cli(s, "series", { json: true })).json.series).to.have.nested.property("[0].status", "final");
      const cashBefore = await s.ch.cashOf(s.alice.address);
      const settled = await cli(s, "settle", { from: "5", series: s.ait, account: s.alice.address, json: true });
      // Bought 2 at 4.010, settled at 4.100: 2 x 0.090 x 1,000 = 180 USD.
      expect(settled.json).to.have.nested.property("settled.pnlX18", String(parseX18("180")));
      expect(settled.json).to.have.nested.property("settled.sizeQty", "2");
      expect(await s.ch.cashOf(s.alice.address)).to.equal(cashBefore + parseX18("180"));
      expect((await s.ch.positionOf(s.alice.address, 1)).sizeQty).to.equal(0n);
      expectError(
        await cli(s, "settle", { from: "5", series: s.ait, account: s.alice.address }),
        new RegExp(`^error: NothingToSettle\\(account ${s.alice.address}, seriesId 1\\)$`),
      );
    });
  });

  describe("common errors", function () {
    it("a missing deployment file, a deployment of another chain, an unknown series and a bad address", async function () {
      const s = await loadFixture(deployedSystem);
      const missing = path.join(os.tmpdir(), "tokenpit-cli-missing", "nowhere.json");
      expectError(
        await cli(s, "series", { deployment: missing }),
        /^error: no deployment file at .*nowhere\.json: deploy first/,
      );
      const other = path.join(path.dirname(s.deploymentFile), "other-chain.json");
      fs.writeFileSync(other, JSON.stringify({ ...s.deployment, chainId: 1 }));
      expectError(
        await cli(s, "book", { deployment: other, series: s.ait }),
        /is a deployment on chain 1, but the network is chain 31337/,
      );
      expectError(await cli(s, "book", { series: "NOPE" }), /^error: unknown series "NOPE" \(listed: /);
      expectError(await cli(s, "book", { series: s.ait, levels: "0" }), /bad --levels "0"/);
      expectError(await cli(s, "account", { address: "0x12" }), /^error: bad --address "0x12"/);
      expectError(await cli(s, "liquidate", { from: "5" }), /--account is required/);
      expectError(await cli(s, "cancel", { from: "5", series: s.ait }), /--order-id is required/);
    });
  });
});
