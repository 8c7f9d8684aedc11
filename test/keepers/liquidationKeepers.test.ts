import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { parseX18 } from "../../sdk";
import type { Clearinghouse } from "../../typechain-types";
import { EventIndexer } from "../../keepers/runtime/eventIndexer";
import { TxSender } from "../../keepers/runtime/txSender";
import { ClearinghouseView } from "../../keepers/shared/clearinghouseView";
import { createLogger } from "../../keepers/shared/logger";
import { Liquidator } from "../../keepers/liquidator/liquidator";
import { AdlKeeper } from "../../keepers/adl/adlKeeper";
import { Settler } from "../../keepers/settler/settler";
import { AIT, publish } from "../fixtures/clearinghouse";
import { liquidationBase, moveIndex } from "../fixtures/liquidation";
import type { LiquidationFixture } from "../fixtures/liquidation";
import { publishThroughExpiry } from "../helpers/clearinghouse";
import { order } from "../helpers/orders";

const logger = createLogger("test-keepers", "silent");

/**
 * Positions built through the book: bob quotes 20 at 4.000 and 4.001, alice (25,000) and erin (12,000)
 * take 20 and 10; carol (200,000) stays flat. The keeper's key is a fresh wallet with 300,000 deposited.
 */
async function keeperFixture() {
  const f = await liquidationBase();
  const ch = f.clearinghouse;
  await ch.connect(f.alice).deposit(parseX18("25000"));
  await ch.connect(f.bob).deposit(parseX18("500000"));
  await ch.connect(f.erin).deposit(parseX18("12000"));
  await ch.connect(f.carol).deposit(parseX18("200000"));
  await ch.connect(f.bob).placeOrder(order(f.seriesId, f.bob.address, false, 20n, "4"));
  await ch.connect(f.bob).placeOrder(order(f.seriesId, f.bob.address, false, 20n, "4.001"));
  await ch
    .connect(f.alice)
    .placeOrder(order(f.seriesId, f.alice.address, true, 20n, "4", { kind: "ImmediateOrCancel" }));
  await ch
    .connect(f.erin)
    .placeOrder(order(f.seriesId, f.erin.address, true, 10n, "4.001", { kind: "ImmediateOrCancel" }));
  // A resting order of alice's, which the liquidation cancels.
  await ch.connect(f.alice).placeOrder(order(f.seriesId, f.alice.address, false, 1n, "4.3"));
  const keeper = new Wallet(keccak256(toUtf8Bytes("keeper-test")), ethers.provider);
  await f.admin.sendTransaction({ to: keeper.address, value: ethers.parseEther("100") });
  await f.token.mint(keeper.address, parseX18("300000"));
  await f.token.connect(keeper).approve(await ch.getAddress(), ethers.MaxUint256);
  await ch.connect(keeper).deposit(parseX18("300000"));
  const deployBlock = (await ch.deploymentTransaction()?.wait())?.blockNumber ?? 0;
  return { ...f, keeper, deployBlock };
}

type KeeperFixture = Awaited<ReturnType<typeof keeperFixture>>;

/** A fresh keeper stack (indexer, view, sender) over the fixture's clearinghouse, as after a restart. */
function stack(f: KeeperFixture) {
  const clearinghouse = f.clearinghouse as unknown as Clearinghouse;
  const view = new ClearinghouseView(1n);
  const indexer = new EventIndexer({
    provider: ethers.provider,
    contracts: [{ address: clearinghouse.target as string, iface: clearinghouse.interface }],
    handler: view,
    startBlock: f.deployBlock,
    confirmations: 0,
  });
  const sender = new TxSender({
    provider: ethers.provider,
    signer: f.keeper,
    maxFeePerGasWei: ethers.parseUnits("500", "gwei"),
    pollIntervalMs: 10,
  });
  return { clearinghouse, view, indexer, sender };
}

/** The view equals the chain for every account it knows: cash and every position. */
async function expectViewMatchesChain(f: LiquidationFixture, view: ClearinghouseView) {
  const ch = f.clearinghouse;
  expect(view.accounts.size).to.be.greaterThan(3);
  for (const account of view.accounts.values()) {
    expect(account.cashX18, `cash of ${account.address}`).to.equal(await ch.cashOf(account.address));
    const onChain = await ch.positionOf(account.address, f.seriesId);
    const local = account.positions.get(f.seriesId) ?? { sizeQty: 0n, openNotionalX18: 0n };
    expect([local.sizeQty, local.openNotionalX18], `position of ${account.address}`).to.deep.equal([
      onChain.sizeQty,
      onChain.openNotionalX18,
    ]);
  }
}

describe("Liquidation keepers on the in-process network", function () {
  it("KP-01: the event-built view equals the chain (cash and positions of every account)", async function () {
    const f = await loadFixture(keeperFixture);
    const { view, indexer } = stack(f);
    await indexer.poll();
    await expectViewMatchesChain(f, view);
    expect(view.account(f.alice.address).positions.get(f.seriesId)?.sizeQty).to.equal(20n);
  });

  it("KP-02: the liquidator liquidates every account below maintenance in one tick, most urgent first", async function () {
    const f = await loadFixture(keeperFixture);
    const { clearinghouse, view, indexer, sender } = stack(f);
    const liquidator = new Liquidator({
      clearinghouse,
      indexer,
      view,
      sender,
      logger,
      settings: { batchSize: 10, firstBatchSize: 10, maxConcurrentBatches: 4, unwind: false },
    });
    expect((await liquidator.tick()).liquidatable).to.equal(0);
    await moveIndex(f.oracle, f.reporters, "3");
    const report = await liquidator.tick();
    expect([report.liquidatable, report.batchesSent]).to.deep.equal([2, 1]);
    expect(await liquidator.drain()).to.deep.equal(["mined"]);
    for (const account of [f.alice.address, f.erin.address]) {
      const health = await f.clearinghouse.accountHealth(account);
      expect(health.equityX18 >= health.maintenanceMarginX18 || health.maintenanceMarginX18 === 0n).to.equal(true);
    }
    expect(await f.clearinghouse.openOrderIdsOf(f.alice.address, f.seriesId)).to.have.length(0);
    // The next tick sees the liquidations in its view, finds nothing to do and sends nothing.
    const next = await liquidator.tick();
    expect([next.liquidatable, next.batchesSent]).to.deep.equal([0, 0]);
    await expectViewMatchesChain(f, view);
  });

  it("KP-07: a batch heavier than its size-based gas limit runs out of gas in simulation and is re-sent with an estimate", async function () {
    const f = await loadFixture(keeperFixture);
    const { clearinghouse, view, indexer, sender } = stack(f);
    // A sender that gives every intent a tenth of the liquidator's gas limit: each batch looks too heavy for it.
    const intents: (bigint | undefined)[] = [];
    const starved = {
      address: sender.address,
      send: (intent: Parameters<typeof sender.send>[0]) => {
        intents.push(intent.gasLimit);
        return sender.send({ ...intent, gasLimit: intent.gasLimit === undefined ? undefined : intent.gasLimit / 10n });
      },
    };
    const settings = { batchSize: 10, firstBatchSize: 10, maxConcurrentBatches: 1, unwind: false };
    const liquidator = new Liquidator({ clearinghouse, indexer, view, sender: starved, logger, settings });
    await moveIndex(f.oracle, f.reporters, "3");
    await liquidator.tick();
    expect(await liquidator.drain()).to.deep.equal(["mined"]);
    // First with 300,000 + 150,000 per account (starved to a tenth: out of gas), then estimated.
    expect(intents).to.deep.equal([600_000n, undefined]);
    expect(sender.counters()).to.deep.include({ simulationFailures: 1, mined: 1 });
    expect(await f.clearinghouse.queryFilter(f.clearinghouse.filters.Liquidated())).to.have.length(2);
  });

  it("KP-03: a restarted keeper replays every log and sends no duplicate liquidation", async function () {
    const f = await loadFixture(keeperFixture);
    const first = stack(f);
    const settings = { batchSize: 10, firstBatchSize: 10, maxConcurrentBatches: 4, unwind: false };
    await moveIndex(f.oracle, f.reporters, "3");
    const firstKeeper = new Liquidator({ ...first, logger, settings });
    await firstKeeper.tick();
    await firstKeeper.drain();
    // A second process (kill -9 and restart): new view and sender, rebuilt from the chain.
    const second = stack(f);
    const report = await new Liquidator({ ...second, logger, settings }).tick();
    expect([report.liquidatable, report.batchesSent]).to.deep.equal([0, 0]);
    const liquidations = await f.clearinghouse.queryFilter(f.clearinghouse.filters.Liquidated());
    expect(liquidations).to.have.length(2);
  });

  it("KP-04: two competing keepers: the loser's batch skips, nothing is liquidated twice", async function () {
    const f = await loadFixture(keeperFixture);
    const settings = { batchSize: 10, firstBatchSize: 10, maxConcurrentBatches: 4, unwind: false };
    const a = stack(f);
    const rival = new Wallet(keccak256(toUtf8Bytes("keeper-rival")), ethers.provider);
    await f.admin.sendTransaction({ to: rival.address, value: ethers.parseEther("10") });
    await f.token.mint(rival.address, parseX18("300000"));
    await f.token.connect(rival).approve(await f.clearinghouse.getAddress(), ethers.MaxUint256);
    await f.clearinghouse.connect(rival).deposit(parseX18("300000"));
    const b = stack({ ...f, keeper: rival });
    await moveIndex(f.oracle, f.reporters, "3");
    await ethers.provider.send("evm_setAutomine", [false]);
    let settled = false;
    // Mine a block every 100 ms until both keepers report: both simulate against the same state and broadcast.
    const miner = (async () => {
      while (!settled) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await ethers.provider.send("evm_mine", []);
      }
    })();
    try {
      const keepers = [new Liquidator({ ...a, logger, settings }), new Liquidator({ ...b, logger, settings })];
      await Promise.all(keepers.map((keeper) => keeper.tick()));
      const outcomes = await Promise.all(keepers.map((keeper) => keeper.drain()));
      expect(outcomes.flat()).to.deep.equal(["mined", "mined"]);
    } finally {
      settled = true;
      await miner;
      await ethers.provider.send("evm_setAutomine", [true]);
    }
    const liquidations = await f.clearinghouse.queryFilter(f.clearinghouse.filters.Liquidated());
    expect(liquidations.map((event) => event.args.account).sort()).to.deep.equal(
      [f.alice.address, f.erin.address].sort(),
    );
  });

  it("KP-05: the ADL keeper deleverages a bankruptcy the fund cannot pay, against bob's profitable short", async function () {
    const f = await loadFixture(keeperFixture);
    const { clearinghouse, view, indexer, sender } = stack(f);
    await moveIndex(f.oracle, f.reporters, "2.7");
    // The fund is empty (no fees were shared), so alice's deficit must be deleveraged.
    expect(await f.clearinghouse.insuranceFundX18()).to.equal(0n);
    const deficit = -(await f.clearinghouse.accountHealth(f.alice.address)).equityX18;
    expect(deficit > 0n).to.equal(true);
    const report = await new AdlKeeper({ clearinghouse, indexer, view, sender, logger }).tick();
    expect(report.plans).to.be.greaterThanOrEqual(1);
    expect(report.outcomes[0]).to.equal("mined");
    expect(await f.clearinghouse.cashOf(f.alice.address)).to.equal(0n);
    expect((await f.clearinghouse.positionOf(f.alice.address, f.seriesId)).sizeQty).to.equal(0n);
    const [resolved] = await f.clearinghouse.queryFilter(f.clearinghouse.filters.DeficitResolved(f.alice.address));
    expect(resolved.args.deficitX18).to.equal(deficit);
    expect(resolved.args.fromInsuranceX18 + resolved.args.fromHaircutsX18).to.equal(deficit);
    await indexer.poll();
    await expectViewMatchesChain(f, view);
  });

  it("KP-06: the settler finalizes after expiry and settles every holder once the price is final", async function () {
    const f = await loadFixture(keeperFixture);
    const { clearinghouse, view, indexer, sender } = stack(f);
    const settler = new Settler({ clearinghouse, indexer, view, sender, logger, settings: { batchSize: 2 } });
    expect(await settler.tick()).to.deep.equal([]);
    await publishThroughExpiry(f.oracle, f.reporters, AIT, "4", f.expiry);
    const proposed = await settler.tick();
    expect(proposed.map((a) => [a.action, a.outcome])).to.deep.equal([["finalize", "mined"]]);
    await time.increase(Number(await f.clearinghouse.disputeWindowSec()));
    await publish(f.oracle, f.reporters, AIT, "4");
    const settled = await settler.tick();
    // alice, erin and bob hold the series: two batches of at most 2.
    expect(settled.map((a) => [a.action, a.accounts, a.outcome])).to.deep.equal([
      ["settle", 2, "mined"],
      ["settle", 1, "mined"],
    ]);
    for (const account of [f.alice, f.bob, f.erin]) {
      expect((await f.clearinghouse.positionOf(account.address, f.seriesId)).sizeQty).to.equal(0n);
    }
    expect(await settler.tick()).to.deep.equal([]);
    await expectViewMatchesChain(f, view);
  });
});
