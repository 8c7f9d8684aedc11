import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { BrowserProvider, Interface, Wallet, id, parseEther, parseUnits, toQuantity } from "ethers";
import type { HDNodeWallet } from "ethers";
import pino from "pino";
import {
  ChainIdMismatchError,
  TxSender,
  TxSenderOptionsError,
  replacementFees,
} from "../../../keepers/runtime/txSender";
import type { TxAlert, TxBroadcast, TxOutcome, TxProvider, TxSenderOptions } from "../../../keepers/runtime/txSender";
import { sleep } from "../../../keepers/shared/retry";

const GWEI = parseUnits("1", "gwei");
const ALREADY_USED = new Interface(["error AlreadyUsed()"]);
const SELECTOR = id("AlreadyUsed()").slice(0, 10);

/** Init code that deploys `runtime` (hex) as is. */
function deployCodeFor(runtime: string): string {
  const length = toQuantity((runtime.length - 2) / 2)
    .slice(2)
    .padStart(2, "0");
  return `0x60${length}600c60003960${length}6000f3${runtime.slice(2)}`;
}

/** Runtime that always reverts with AlreadyUsed(). */
const REVERT_RUNTIME = `0x63${SELECTOR.slice(2)}600052600460` + "1cfd";
/** Runtime that sets slot 0 on the first call and reverts with AlreadyUsed() on every later one. */
const ONE_SHOT_RUNTIME = `0x600054600c57600160005500` + `5b63${SELECTOR.slice(2)}600052600460` + "1cfd";
/** Runtime that accepts any call and stops. */
const NOOP_RUNTIME = "0x00";

const rpc = (method: string, params: unknown[] = []) => hre.network.provider.send(method, params);
const setAutomine = (on: boolean) => rpc("evm_setAutomine", [on]);

/** Mines one block, with the given base fee when set. */
async function mineBlock(baseFeeWei?: bigint): Promise<void> {
  if (baseFeeWei !== undefined) await rpc("hardhat_setNextBlockBaseFeePerGas", [toQuantity(baseFeeWei)]);
  await rpc("evm_mine");
}

/** Mines a block every 20 ms (at `baseFeeWei` when set) until `pending` settles; returns its result. */
async function mineUntilSettled<T>(pending: Promise<T>, baseFeeWei?: bigint): Promise<T> {
  let settled = false;
  const result = pending.finally(() => (settled = true));
  for (let blocks = 0; !settled; blocks++) {
    if (blocks > 500) expect.fail("the send did not settle");
    await mineBlock(baseFeeWei);
    await sleep(20);
  }
  return result;
}

/** Resolves once `condition` holds (polling every 5 ms). */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) expect.fail("condition not met in time");
    await sleep(5);
  }
}

function expectStatus<S extends TxOutcome["status"]>(outcome: TxOutcome, status: S): Extract<TxOutcome, { status: S }> {
  expect(
    outcome.status,
    JSON.stringify(outcome, (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v)),
  ).to.equal(status);
  return outcome as Extract<TxOutcome, { status: S }>;
}

describe("TxSender (hardhat network)", function () {
  let snapshotId: string;
  let wallet: HDNodeWallet;
  let noop: string;
  let alwaysReverts: string;
  let broadcasts: TxBroadcast[];

  before(async function () {
    snapshotId = (await rpc("evm_snapshot")) as string;
    const [deployer] = await ethers.getSigners();
    const deploy = async (runtime: string) => {
      const tx = await deployer.sendTransaction({ data: deployCodeFor(runtime) });
      return (await tx.wait())!.contractAddress!;
    };
    noop = await deploy(NOOP_RUNTIME);
    alwaysReverts = await deploy(REVERT_RUNTIME);
  });

  after(async function () {
    await rpc("evm_revert", [snapshotId]);
  });

  beforeEach(async function () {
    wallet = Wallet.createRandom().connect(ethers.provider);
    // Funded without a transaction: solidity-coverage's network prices legacy transactions below the base fee.
    await rpc("hardhat_setBalance", [wallet.address, toQuantity(parseEther("10"))]);
    // A known fee market: base fee 1 gwei at the head, priority fee 1 gwei (hardhat's suggestion).
    await mineBlock(GWEI);
    broadcasts = [];
  });

  afterEach(async function () {
    // Drop whatever a test left pending, so the next test (and file) starts from an empty mempool.
    for (const { hash } of broadcasts) {
      if ((await ethers.provider.getTransactionReceipt(hash)) === null) await rpc("hardhat_dropTransaction", [hash]);
    }
    await setAutomine(true);
  });

  const newSender = (overrides: Partial<TxSenderOptions> = {}) =>
    new TxSender({
      provider: ethers.provider,
      signer: wallet,
      maxFeePerGasWei: 500n * GWEI,
      txTimeoutBlocks: 2,
      pollIntervalMs: 10,
      onBroadcast: (event) => broadcasts.push(event),
      ...overrides,
    });
  const nonceOf = (address: string) => ethers.provider.getTransactionCount(address, "latest");

  it("does not send when the simulation reverts, and keeps the revert data", async function () {
    for (const provider of [ethers.provider, new BrowserProvider(hre.network.provider)]) {
      const sender = newSender({ provider });
      const outcome = expectStatus(
        await sender.send({ key: "revert:1", to: alwaysReverts, data: "0x" }),
        "simulation-failed",
      );
      expect(outcome.error.revertData).to.equal(SELECTOR);
      expect(ALREADY_USED.parseError(outcome.error.revertData!)!.name).to.equal("AlreadyUsed");
      expect(sender.counters()).to.deep.include({ simulationFailures: 1, broadcasts: 0 });
      expect(sender.keyState("revert:1"), "a failed simulation releases the key").to.equal(undefined);
    }
    expect(broadcasts).to.have.length(0);
    expect(await ethers.provider.getTransactionCount(wallet.address, "pending")).to.equal(0);
  });

  it("simulates only in dry-run mode", async function () {
    const sender = newSender({ dryRun: true });
    const outcome = expectStatus(await sender.send({ key: "dry:1", to: noop, data: "0x1234" }), "dry-run");
    expect(outcome.gasLimit).to.be.greaterThan(21_000n);
    expect(broadcasts).to.have.length(0);
    expect(await ethers.provider.getTransactionCount(wallet.address, "pending")).to.equal(0);
    expect(sender.counters().dryRuns).to.equal(1);
  });

  it("sends, reports the mined receipt and fee, and refuses the same key again", async function () {
    const sender = newSender();
    const outcome = expectStatus(await sender.send({ key: "liquidate:0xabc:3", to: noop, data: "0x" }), "mined");
    expect(outcome.nonce).to.equal(0);
    expect(outcome.hashes).to.deep.equal([outcome.hash]);
    expect(outcome.gasUsed).to.equal(outcome.receipt.gasUsed);
    expect(outcome.feePaidWei).to.equal(outcome.gasUsed * outcome.effectiveGasPriceWei);
    expect(broadcasts[0].maxFeePerGasWei).to.equal(5n * GWEI, "4 x base fee + priority fee");

    const again = expectStatus(await sender.send({ key: "liquidate:0xabc:3", to: noop, data: "0x" }), "duplicate");
    expect(again.previous).to.equal("mined");
    expect(await nonceOf(wallet.address)).to.equal(1);
    expect(sender.counters()).to.deep.include({ intents: 1, duplicates: 1, mined: 1, broadcasts: 1, sendErrors: 0 });
  });

  it("refuses a key already in flight", async function () {
    await setAutomine(false);
    const sender = newSender();
    const first = sender.send({ key: "settle:7", to: noop, data: "0x" });
    const second = await sender.send({ key: "settle:7", to: noop, data: "0x" });
    expect(expectStatus(second, "duplicate").previous).to.equal("in-flight");
    expectStatus(await mineUntilSettled(first), "mined");
    expect(broadcasts).to.have.length(1);
    expect(await nonceOf(wallet.address)).to.equal(1);
  });

  it("gives concurrent sends consecutive nonces", async function () {
    await setAutomine(false);
    const sender = newSender();
    const pending = [1, 2, 3].map((n) => sender.send({ key: `order:${n}`, to: noop, data: `0x0${n}` }));
    await until(() => broadcasts.length === 3);
    expect(sender.inFlight()).to.equal(3);
    const outcomes = (await mineUntilSettled(Promise.all(pending))).map((o) => expectStatus(o, "mined"));
    expect(outcomes.map((o) => o.nonce)).to.deep.equal([0, 1, 2]);
    expect(new Set(outcomes.map((o) => o.receipt.blockNumber)).size).to.equal(1, "all pending at once");
    expect(sender.inFlight()).to.equal(0);
    await sender.waitIdle();
  });

  it("reads the fee market once for sends that start together, and not at all after noteHeadBlock", async function () {
    await setAutomine(false);
    let blockReads = 0;
    let feeDataReads = 0;
    const base = ethers.provider;
    const provider: TxProvider = {
      call: (tx) => base.call(tx),
      estimateGas: (tx) => base.estimateGas(tx),
      getTransactionCount: (address, tag) => base.getTransactionCount(address, tag),
      getBlock: (tag) => {
        blockReads++;
        return base.getBlock(tag);
      },
      getBlockNumber: () => base.getBlockNumber(),
      getTransactionReceipt: (hash) => base.getTransactionReceipt(hash),
      broadcastTransaction: (signed) => base.broadcastTransaction(signed),
      getFeeData: () => {
        feeDataReads++;
        return base.getFeeData();
      },
      getNetwork: () => base.getNetwork(),
    };
    const sender = newSender({ provider, feeMarketMaxAgeMs: 60_000 });
    const pending = [1, 2, 3].map((n) => sender.send({ key: `fees:${n}`, to: noop, data: `0x0${n}` }));
    await until(() => broadcasts.length === 3);
    expect([blockReads, feeDataReads]).to.deep.equal([1, 1], "one read of each for three new transactions");
    const outcomes = (await mineUntilSettled(Promise.all(pending))).map((o) => expectStatus(o, "mined"));
    expect(outcomes.map((o) => o.nonce)).to.deep.equal([0, 1, 2]);

    // A keeper that hands in the head block it read saves the block read; the priority fee is still recent.
    const fresh = newSender({ provider, feeMarketMaxAgeMs: 60_000 });
    const head = (await base.getBlock("latest"))!;
    fresh.noteHeadBlock(head);
    await until(() => feeDataReads === 2); // the priority fee is refreshed in the background at once
    const [blocksBefore, feeDataBefore] = [blockReads, feeDataReads];
    const sent = fresh.send({ key: "fees:noted", to: noop, data: "0x04" });
    await until(() => broadcasts.length === 4);
    expect([blockReads, feeDataReads]).to.deep.equal([blocksBefore, feeDataBefore], "no fee-market read at the send");
    expectStatus(await mineUntilSettled(sent), "mined");
    const priced = broadcasts[3];
    expect(priced.maxFeePerGasWei).to.equal(
      4n * head.baseFeePerGas! + priced.maxPriorityFeePerGasWei,
      "priced from it",
    );
  });

  it("reports a transaction mined with status 0 as reverted", async function () {
    const [deployer] = await ethers.getSigners();
    // Explicit fees: solidity-coverage's network would price a default transaction below the base fee set here.
    const deployment = { data: deployCodeFor(ONE_SHOT_RUNTIME), maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: GWEI };
    const oneShot = (await (await deployer.sendTransaction(deployment)).wait())!.contractAddress!;
    await setAutomine(false);
    const sender = newSender();
    // Both simulate against the same state; the first one mined makes the second revert.
    const pending = ["a", "b"].map((k) =>
      sender.send({ key: `once:${k}`, to: oneShot, data: "0x", gasLimit: 100_000n }),
    );
    await until(() => broadcasts.length === 2);
    const [first, second] = await mineUntilSettled(Promise.all(pending));
    expectStatus(first, "mined");
    const reverted = expectStatus(second, "reverted");
    expect(reverted.receipt.status).to.equal(0);
    expect(sender.keyState("once:b")).to.equal("reverted");
  });

  it("resyncs its nonce after another process used the key", async function () {
    const sender = newSender();
    expectStatus(await sender.send({ key: "k:1", to: noop, data: "0x" }), "mined");
    // Another process with the same key sends nonces 1 and 2 behind the sender's back.
    const other = new Wallet(wallet.privateKey, ethers.provider);
    await (await other.sendTransaction({ to: noop, data: "0x" })).wait();
    await (await other.sendTransaction({ to: noop, data: "0x" })).wait();
    const outcome = expectStatus(await sender.send({ key: "k:2", to: noop, data: "0x" }), "mined");
    expect(outcome.nonce).to.equal(3);
    expect(sender.counters().nonceResyncs).to.equal(1);
    expect(await nonceOf(wallet.address)).to.equal(4);
  });

  it("replaces a stuck transaction on the same nonce with both fees raised >= 12.5%; exactly one is mined", async function () {
    await setAutomine(false);
    const sender = newSender();
    const pending = sender.send({ key: "stuck:1", to: noop, data: "0x" });
    await until(() => broadcasts.length === 1);
    // Base fee x10: the first transaction (max fee 3 gwei) can no longer be included.
    const outcome = expectStatus(await mineUntilSettled(pending, 10n * GWEI), "mined");

    expect(broadcasts.length).to.be.greaterThanOrEqual(2);
    expect(outcome.hashes).to.deep.equal(broadcasts.map((b) => b.hash));
    expect(outcome.replacements).to.equal(broadcasts.length - 1);
    for (let i = 1; i < broadcasts.length; i++) {
      expect(broadcasts[i].nonce).to.equal(broadcasts[0].nonce);
      expect(broadcasts[i].maxFeePerGasWei * 10_000n).to.be.gte(broadcasts[i - 1].maxFeePerGasWei * 11_250n);
      expect(broadcasts[i].maxPriorityFeePerGasWei * 10_000n).to.be.gte(
        broadcasts[i - 1].maxPriorityFeePerGasWei * 11_250n,
      );
    }
    const minedHashes = [];
    for (const hash of outcome.hashes) {
      if ((await ethers.provider.getTransactionReceipt(hash)) !== null) minedHashes.push(hash);
    }
    expect(minedHashes).to.deep.equal([outcome.hash]);
    expect(await nonceOf(wallet.address)).to.equal(1, "the nonce was used once");
    expect(sender.counters().replacements).to.equal(broadcasts.length - 1);
  });

  it("stops bumping at the fee cap, alerts, and reports the transaction stuck", async function () {
    await setAutomine(false);
    const alerts: TxAlert[] = [];
    const logLines: string[] = [];
    const capWei = 8n * GWEI;
    const sender = newSender({
      maxFeePerGasWei: capWei,
      stuckWaitMs: 300,
      onAlert: (alert) => alerts.push(alert),
      logger: pino({ level: "info" }, { write: (line: string) => logLines.push(line) }),
    });
    const pending = sender.send({ key: "capped:1", to: noop, data: "0x" });
    await until(() => broadcasts.length === 1);
    const outcome = expectStatus(await mineUntilSettled(pending, 10n * GWEI), "stuck");

    expect(outcome.reason).to.equal("fee-cap");
    // 5 gwei (4 x base fee + priority fee), then the cap (8 gwei); 9 gwei would exceed the cap and is not sent.
    expect(broadcasts.map((b) => b.maxFeePerGasWei)).to.deep.equal([5n * GWEI, capWei]);
    expect(alerts).to.have.length(1);
    expect(alerts[0]).to.deep.include({ kind: "fee-cap-reached", key: "capped:1", maxFeePerGasCapWei: capWei });
    expect(alerts[0].requiredMaxFeePerGasWei).to.be.greaterThan(capWei);
    expect(sender.counters()).to.deep.include({ feeCapAlerts: 1, stuck: 1 });
    const errorLines = logLines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(errorLines.some((line) => line.level === 50 && line.msg.startsWith("fee cap reached"))).to.equal(true);
    expect(await nonceOf(wallet.address)).to.equal(0, "nothing mined");
    // Still reserved: the transaction may yet be mined.
    expect(expectStatus(await sender.send({ key: "capped:1", to: noop, data: "0x" }), "duplicate").previous).to.equal(
      "stuck",
    );
  });

  it("waits for the configured confirmations", async function () {
    await setAutomine(false);
    const sender = newSender({ confirmations: 2 });
    let settled = false;
    const pending = sender.send({ key: "deep:1", to: noop, data: "0x" }).finally(() => (settled = true));
    await until(() => broadcasts.length === 1);
    await mineBlock();
    expect(await ethers.provider.getTransactionReceipt(broadcasts[0].hash)).not.to.equal(null);
    await sleep(60);
    expect(settled, "mined but not yet confirmed").to.equal(false);
    await mineBlock();
    await mineBlock();
    const outcome = expectStatus(await pending, "mined");
    expect(outcome.receipt.blockNumber + 2).to.be.lte(await ethers.provider.getBlockNumber());
  });

  it("reports a nonce taken by someone else's transaction as dropped and releases the key", async function () {
    await setAutomine(false);
    const sender = newSender({ txTimeoutBlocks: 50 });
    const pending = sender.send({ key: "race:1", to: noop, data: "0x" });
    await until(() => broadcasts.length === 1);
    // Another process replaces our pending transaction with its own on nonce 0.
    const other = new Wallet(wallet.privateKey, ethers.provider);
    const theirs = await other.sendTransaction({
      to: noop,
      data: "0xff",
      nonce: 0,
      maxFeePerGas: 30n * GWEI,
      maxPriorityFeePerGas: 5n * GWEI,
    });
    broadcasts.push({ ...broadcasts[0], hash: theirs.hash });
    const outcome = expectStatus(await mineUntilSettled(pending), "dropped");
    expect(outcome.nonce).to.equal(0);
    expect(sender.keyState("race:1")).to.equal(undefined);
  });

  it("refuses the wrong chain and a fee bump below 12.5%", async function () {
    const sender = newSender({ chainId: 1n });
    let thrown: unknown;
    await sender.send({ key: "chain:1", to: noop, data: "0x" }).catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(ChainIdMismatchError);
    expect(sender.keyState("chain:1")).to.equal(undefined);
    expect(sender.counters().sendErrors).to.equal(1);
    expect(() => newSender({ feeBumpBps: 1_000 })).to.throw(TxSenderOptionsError);
  });

  it("computes replacement fees: minimum bump, market, cap", function () {
    const previous = { maxFeePerGasWei: 100n, maxPriorityFeePerGasWei: 10n };
    const quiet = { baseFeePerGasWei: 10n, priorityFeePerGasWei: 1n };
    expect(replacementFees(previous, quiet, 1_250, 1_000n)).to.deep.equal({
      fees: { maxFeePerGasWei: 113n, maxPriorityFeePerGasWei: 12n },
    });
    const busy = { baseFeePerGasWei: 300n, priorityFeePerGasWei: 20n };
    expect(replacementFees(previous, busy, 1_250, 2_000n)).to.deep.equal({
      fees: { maxFeePerGasWei: 1_220n, maxPriorityFeePerGasWei: 20n },
    });
    expect(replacementFees(previous, busy, 1_250, 200n)).to.deep.equal({
      fees: { maxFeePerGasWei: 200n, maxPriorityFeePerGasWei: 20n },
    });
    expect(replacementFees(previous, quiet, 1_250, 112n)).to.deep.equal({ requiredMaxFeePerGasWei: 113n });
  });
});
