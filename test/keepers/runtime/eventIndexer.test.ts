import { expect } from "chai";
import hre, { ethers } from "hardhat";
import type { Filter, FilterByBlockHash, Log } from "ethers";
import { MockERC20__factory } from "../../../typechain-types";
import type { MockERC20 } from "../../../typechain-types";
import {
  EventIndexer,
  IndexerCheckpointError,
  IndexerHandlerError,
  LogJournal,
  ReorgTooDeepError,
  isLogRangeTooLargeError,
  logKeyOf,
} from "../../../keepers/runtime/eventIndexer";
import type {
  EventIndexerOptions,
  IndexedLog,
  IndexerHandler,
  IndexerProvider,
} from "../../../keepers/runtime/eventIndexer";

const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  return (await hre.network.provider.send(method, params)) as T;
}
const takeSnapshot = () => rpc<string>("evm_snapshot");
async function revertTo(snapshotId: string): Promise<void> {
  expect(await rpc<boolean>("evm_revert", [snapshotId])).to.equal(true);
}
const mineEmptyBlocks = (count: number) => rpc<void>("hardhat_mine", [`0x${count.toString(16)}`]);
const headBlock = () => ethers.provider.getBlockNumber();

interface Setup {
  token: MockERC20;
  deployBlock: number;
  alice: string;
  bob: string;
}

/** A fresh token; its deployment block is the indexer's start block. */
async function deployToken(): Promise<Setup> {
  const [deployer, alice, bob] = await ethers.getSigners();
  const token = await new MockERC20__factory(deployer).deploy("USD Coin", "USDC", 6);
  const receipt = await token.deploymentTransaction()!.wait();
  return { token, deployBlock: receipt!.blockNumber, alice: alice.address, bob: bob.address };
}

/** Mints in a block of its own (automine); returns that block number. */
async function mint(token: MockERC20, to: string, amount: number): Promise<number> {
  const receipt = await (await token.mint(to, amount)).wait();
  return receipt!.blockNumber;
}

function indexerFor(setup: Setup, handler: IndexerHandler, overrides: Partial<EventIndexerOptions> = {}): EventIndexer {
  return new EventIndexer({
    provider: ethers.provider,
    contracts: [{ address: String(setup.token.target), iface: setup.token.interface }],
    handler,
    startBlock: setup.deployBlock,
    confirmations: 0,
    rpcRetry: NO_RETRY,
    ...overrides,
  });
}

/** "block:to:value" of each Transfer (mints), in journal order. */
const mintsOf = (journal: LogJournal): string[] =>
  journal.logs().map((log) => `${log.blockNumber}:${String(log.args[1])}:${String(log.args[2])}`);

/** Everything that identifies a log, to compare journals exactly. */
const fingerprintsOf = (logs: readonly IndexedLog[]): string[] =>
  logs.map((log) => `${log.blockNumber}:${logKeyOf(log)}:${log.name}:${log.args.toArray().map(String).join(",")}`);

function expectEachLogOnce(journal: LogJournal): void {
  const keys = journal.logs().map(logKeyOf);
  expect(new Set(keys).size, "a log was applied twice").to.equal(keys.length);
}

/** Wraps the journal and records the rollback calls. */
class RecordingJournal extends LogJournal {
  readonly rollbacks: number[] = [];
  override rollback(toBlockInclusive: number): void {
    this.rollbacks.push(toBlockInclusive);
    super.rollback(toBlockInclusive);
  }
}

/** The Hardhat provider with `getLogs` replaced. */
function providerWithGetLogs(getLogs: (filter: Filter, base: IndexerProvider) => Promise<Log[]>): IndexerProvider {
  const base = ethers.provider;
  return {
    getBlockNumber: () => base.getBlockNumber(),
    getBlock: (tag, prefetchTxs) => base.getBlock(tag, prefetchTxs),
    getLogs: (filter: Filter | FilterByBlockHash) => getLogs(filter as Filter, base),
  };
}

const blocksOf = (filter: Filter) => ({ from: Number(filter.fromBlock), to: Number(filter.toBlock) });

describe("keepers/runtime EventIndexer", function () {
  let fileSnapshot: string;
  before(async function () {
    fileSnapshot = await takeSnapshot();
  });
  after(async function () {
    await revertTo(fileSnapshot);
  });

  it("indexes decoded events in chain order from the start block", async function () {
    const setup = await deployToken();
    const blocks = [await mint(setup.token, setup.alice, 1), await mint(setup.token, setup.bob, 2)];
    const journal = new LogJournal();
    const result = await indexerFor(setup, journal).poll();

    const head = await headBlock();
    expect(result).to.include({ fromBlock: setup.deployBlock, toBlock: head, headBlock: head, logsApplied: 2 });
    expect(result.reorg).to.equal(undefined);
    const [first, second] = journal.logs();
    expect(first.name).to.equal("Transfer");
    expect(first.signature).to.equal("Transfer(address,address,uint256)");
    expect(first.args.from).to.equal(ethers.ZeroAddress);
    expect(first.args.to).to.equal(setup.alice);
    expect(first.args.value).to.equal(1n);
    expect(first.address).to.equal(setup.token.target);
    expect([first.blockNumber, second.blockNumber]).to.deep.equal(blocks);
    expect(first.blockHash).to.equal((await ethers.provider.getBlock(blocks[0]))!.hash);
  });

  it("never applies a log above head - confirmations, and applies it once it is confirmed", async function () {
    const setup = await deployToken();
    const blocks: number[] = [];
    for (let i = 1; i <= 5; i++) blocks.push(await mint(setup.token, setup.alice, i));
    const journal = new LogJournal();
    const indexer = indexerFor(setup, journal, { confirmations: 2 });

    const first = await indexer.poll();
    const head = await headBlock();
    expect(first).to.include({ safeHeadBlock: head - 2, toBlock: head - 2, logsApplied: 3 });
    expect(journal.logs().every((log) => log.blockNumber <= head - 2)).to.equal(true);
    expect(journal.logs().map((log) => log.blockNumber)).to.deep.equal(blocks.slice(0, 3));

    await mineEmptyBlocks(2);
    const second = await indexer.poll();
    expect(second).to.include({ fromBlock: head - 1, toBlock: head, logsApplied: 2 });
    expect(journal.logs().map((log) => log.blockNumber)).to.deep.equal(blocks);
  });

  it("detects a 3-block re-org, rolls back to the common ancestor and applies the new chain once", async function () {
    const setup = await deployToken();
    await mint(setup.token, setup.alice, 1);
    const ancestor = await mint(setup.token, setup.alice, 2);
    const fork = await takeSnapshot();
    const orphanedHashes: string[] = [];
    for (const amount of [31, 32, 33]) {
      orphanedHashes.push((await ethers.provider.getBlock(await mint(setup.token, setup.alice, amount)))!.hash!);
    }
    const journal = new RecordingJournal();
    const indexer = indexerFor(setup, journal);
    expect((await indexer.poll()).logsApplied).to.equal(5);

    await revertTo(fork);
    for (const amount of [41, 42, 43]) await mint(setup.token, setup.bob, amount);
    await mineEmptyBlocks(2);
    const result = await indexer.poll();

    expect(result.reorg).to.deep.equal({ depth: 3, rolledBackTo: ancestor });
    expect(journal.rollbacks).to.deep.equal([ancestor]);
    expect(result).to.include({ fromBlock: ancestor + 1, toBlock: ancestor + 5, logsApplied: 3 });
    expect(mintsOf(journal)).to.deep.equal([
      `${ancestor - 1}:${setup.alice}:1`,
      `${ancestor}:${setup.alice}:2`,
      `${ancestor + 1}:${setup.bob}:41`,
      `${ancestor + 2}:${setup.bob}:42`,
      `${ancestor + 3}:${setup.bob}:43`,
    ]);
    const journalHashes = journal.logs().map((log) => log.blockHash);
    for (const orphaned of orphanedHashes) expect(journalHashes).not.to.include(orphaned);
    expectEachLogOnce(journal);

    const quiet = await indexer.poll();
    expect(quiet).to.include({ logsApplied: 0 });
    expect(quiet.reorg).to.equal(undefined);
  });

  it("ignores a 3-block re-org above the safe head when confirmations >= 3", async function () {
    const setup = await deployToken();
    await mint(setup.token, setup.alice, 1);
    const journal = new RecordingJournal();
    const indexer = indexerFor(setup, journal, { confirmations: 3 });
    await mineEmptyBlocks(3);
    const fork = await takeSnapshot();
    const forkHead = await headBlock();
    for (const amount of [31, 32, 33]) await mint(setup.token, setup.alice, amount);
    const before = await indexer.poll();
    expect(before).to.include({ toBlock: forkHead, logsApplied: 1 });

    await revertTo(fork);
    for (const amount of [41, 42, 43]) await mint(setup.token, setup.bob, amount);
    await mineEmptyBlocks(3);
    const after = await indexer.poll();

    expect(after.reorg).to.equal(undefined);
    expect(journal.rollbacks).to.deep.equal([]);
    expect(after).to.include({ fromBlock: forkHead + 1, logsApplied: 3 });
    expect(mintsOf(journal).map((entry) => entry.split(":").slice(1).join(":"))).to.deep.equal([
      `${setup.alice}:1`,
      `${setup.bob}:41`,
      `${setup.bob}:42`,
      `${setup.bob}:43`,
    ]);
  });

  it("waits while the head is behind the index, then rolls back once the new chain is visible", async function () {
    const setup = await deployToken();
    const ancestor = await mint(setup.token, setup.alice, 1);
    const fork = await takeSnapshot();
    await mint(setup.token, setup.alice, 31);
    await mint(setup.token, setup.alice, 32);
    const journal = new RecordingJournal();
    const indexer = indexerFor(setup, journal);
    await indexer.poll();

    await revertTo(fork);
    const behind = await indexer.poll();
    expect(behind).to.include({ headBehind: true, logsApplied: 0, headBlock: ancestor });
    expect(behind.reorg).to.equal(undefined);
    expect(journal.size).to.equal(3);

    await mint(setup.token, setup.bob, 41);
    await mineEmptyBlocks(2);
    const after = await indexer.poll();
    expect(after.reorg).to.deep.equal({ depth: 2, rolledBackTo: ancestor });
    expect(mintsOf(journal)).to.deep.equal([`${ancestor}:${setup.alice}:1`, `${ancestor + 1}:${setup.bob}:41`]);
  });

  it("applies each log once when a range is read again or the node returns duplicates", async function () {
    const setup = await deployToken();
    for (let i = 1; i <= 4; i++) await mint(setup.token, setup.alice, i);
    const journal = new LogJournal();
    const indexer = indexerFor(setup, journal);
    await indexer.poll();
    const applied = fingerprintsOf(journal.logs());

    indexer.replayFrom(setup.deployBlock);
    const replay = await indexer.poll();
    expect(replay).to.include({ fromBlock: setup.deployBlock, logsApplied: 0, duplicatesSkipped: 4 });
    expect(fingerprintsOf(journal.logs())).to.deep.equal(applied);

    const doubledJournal = new LogJournal();
    const doubling = providerWithGetLogs(async (filter, base) => {
      const logs = await base.getLogs(filter);
      return [...logs, ...logs.slice().reverse()];
    });
    const doubled = await indexerFor(setup, doubledJournal, { provider: doubling }).poll();
    expect(doubled).to.include({ logsApplied: 4, duplicatesSkipped: 4 });
    expect(fingerprintsOf(doubledJournal.logs())).to.deep.equal(applied);
  });

  it("rebuilds the same journal after a restart from a checkpoint or from scratch, across a re-org", async function () {
    const setup = await deployToken();
    await mint(setup.token, setup.alice, 1);
    const ancestor = await mint(setup.token, setup.alice, 2);
    const fork = await takeSnapshot();
    await mint(setup.token, setup.alice, 31);
    await mint(setup.token, setup.alice, 32);
    const running = new LogJournal();
    const runningIndexer = indexerFor(setup, running);
    await runningIndexer.poll();
    const saved = JSON.parse(JSON.stringify(runningIndexer.checkpoint())) as unknown;
    const savedLogs = running.logs();

    await revertTo(fork);
    for (const amount of [41, 42, 43]) await mint(setup.token, setup.bob, amount);
    await mineEmptyBlocks(2);

    const restored = new LogJournal(savedLogs);
    const restoredIndexer = EventIndexer.fromCheckpoint(saved, {
      provider: ethers.provider,
      contracts: [{ address: String(setup.token.target), iface: setup.token.interface }],
      handler: restored,
      confirmations: 0,
      rpcRetry: NO_RETRY,
    });
    const restoredPoll = await restoredIndexer.poll();
    expect(restoredPoll.reorg).to.deep.equal({ depth: 2, rolledBackTo: ancestor });

    expect((await runningIndexer.poll()).reorg).to.deep.equal({ depth: 2, rolledBackTo: ancestor });
    const fromScratch = new LogJournal();
    await indexerFor(setup, fromScratch).poll();

    const expected = fingerprintsOf(running.logs());
    expect(expected).to.have.length(5);
    expect(fingerprintsOf(restored.logs())).to.deep.equal(expected);
    expect(fingerprintsOf(fromScratch.logs())).to.deep.equal(expected);
    expect(restoredIndexer.checkpoint()).to.deep.equal(runningIndexer.checkpoint());
  });

  it("rejects a malformed checkpoint or one of other contracts", async function () {
    const setup = await deployToken();
    const indexer = indexerFor(setup, new LogJournal());
    await indexer.poll();
    const options = {
      provider: ethers.provider,
      handler: new LogJournal(),
      confirmations: 0,
      contracts: [{ address: ethers.ZeroAddress, iface: setup.token.interface }],
    };
    expect(() => EventIndexer.fromCheckpoint(indexer.checkpoint(), options)).to.throw(IndexerCheckpointError);
    expect(() => EventIndexer.fromCheckpoint({ version: 2 }, options)).to.throw(IndexerCheckpointError);
  });

  it("splits a long history into ranges of maxBlockRange blocks", async function () {
    const setup = await deployToken();
    for (let i = 1; i <= 10; i++) {
      await mint(setup.token, setup.alice, i);
      await mineEmptyBlocks(3);
    }
    const ranges: { from: number; to: number }[] = [];
    const recording = providerWithGetLogs((filter, base) => {
      ranges.push(blocksOf(filter));
      return base.getLogs(filter);
    });
    const journal = new LogJournal();
    const result = await indexerFor(setup, journal, { provider: recording, maxBlockRange: 5 }).poll();

    expect(result.toBlock - result.fromBlock + 1).to.equal(41);
    expect(ranges).to.have.length(9);
    expect(ranges.every(({ from, to }) => to - from + 1 <= 5)).to.equal(true);
    ranges.slice(1).forEach((range, i) => expect(range.from).to.equal(ranges[i].to + 1));
    expect(journal.logs().map((log) => Number(log.args.value))).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expectEachLogOnce(journal);
  });

  for (const refusal of ["query returned more than 3 results", "block range too large"]) {
    it(`halves a range the node refuses with "${refusal}"`, async function () {
      const setup = await deployToken();
      for (let i = 1; i <= 10; i++) {
        await mint(setup.token, setup.alice, i);
        await mineEmptyBlocks(1);
      }
      let refusals = 0;
      const limited = providerWithGetLogs(async (filter, base) => {
        const { from, to } = blocksOf(filter);
        const logs = await base.getLogs(filter);
        if (logs.length > 3 || to - from + 1 > 6) {
          refusals++;
          throw Object.assign(new Error("could not coalesce error"), { error: { code: -32005, message: refusal } });
        }
        return logs;
      });
      const journal = new LogJournal();
      const result = await indexerFor(setup, journal, { provider: limited }).poll();

      expect(refusals).to.be.greaterThan(0);
      expect(result.logsApplied).to.equal(10);
      expect(journal.logs().map((log) => Number(log.args.value))).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expectEachLogOnce(journal);
    });
  }

  it("throws ReorgTooDeepError when no remembered block survived the re-org", async function () {
    const setup = await deployToken();
    await mint(setup.token, setup.alice, 1);
    const fork = await takeSnapshot();
    for (let i = 0; i < 8; i++) await mint(setup.token, setup.alice, 30 + i);
    const indexer = indexerFor(setup, new LogJournal(), { reorgWindowBlocks: 4 });
    const indexed = await indexer.poll();

    await revertTo(fork);
    for (let i = 0; i < 10; i++) await mint(setup.token, setup.bob, 40 + i);
    const error = await indexer.poll().then(
      () => expect.fail("poll should throw"),
      (thrown: unknown) => thrown,
    );
    expect(error).to.be.instanceOf(ReorgTooDeepError);
    expect(error).to.include({
      indexedThroughBlock: indexed.toBlock,
      oldestRememberedBlock: indexed.toBlock - 3,
      windowBlocks: 4,
    });
  });

  it("drops a range whose chain changed while it was read, and resumes on the new chain", async function () {
    const setup = await deployToken();
    const ancestor = await mint(setup.token, setup.alice, 1);
    const fork = await takeSnapshot();
    const journal = new RecordingJournal();
    let reorgDuringRead = false;
    const racing = providerWithGetLogs(async (filter, base) => {
      const logs = await base.getLogs(filter);
      if (reorgDuringRead) {
        reorgDuringRead = false;
        await revertTo(fork);
        for (const amount of [41, 42]) await mint(setup.token, setup.bob, amount);
        await mineEmptyBlocks(1);
      }
      return logs;
    });
    const indexer = indexerFor(setup, journal, { provider: racing });
    await indexer.poll();
    await mint(setup.token, setup.alice, 31);
    await mint(setup.token, setup.alice, 32);
    reorgDuringRead = true;

    const raced = await indexer.poll();
    expect(raced).to.include({ interrupted: true, logsApplied: 0, toBlock: ancestor });
    const resumed = await indexer.poll();
    expect(resumed).to.include({ interrupted: false, fromBlock: ancestor + 1, logsApplied: 2 });
    expect(journal.rollbacks).to.deep.equal([]);
    expect(mintsOf(journal)).to.deep.equal([
      `${ancestor}:${setup.alice}:1`,
      `${ancestor + 1}:${setup.bob}:41`,
      `${ancestor + 2}:${setup.bob}:42`,
    ]);
  });

  it("rolls back a partly applied range when the handler throws, then applies it once", async function () {
    const setup = await deployToken();
    for (let i = 1; i <= 3; i++) await mint(setup.token, setup.alice, i);
    const journal = new LogJournal();
    let failOnValue: bigint | undefined = 2n;
    const flaky: IndexerHandler = {
      apply: (log) => {
        if (log.args.value === failOnValue) throw new Error("database unavailable");
        journal.apply(log);
      },
      rollback: (toBlock) => journal.rollback(toBlock),
    };
    const indexer = indexerFor(setup, flaky);

    const error = await indexer.poll().then(
      () => expect.fail("poll should throw"),
      (thrown: unknown) => thrown,
    );
    expect(error).to.be.instanceOf(IndexerHandlerError);
    expect(error).to.include({ rolledBackTo: setup.deployBlock - 1 });
    expect(journal.size).to.equal(0);

    failOnValue = undefined;
    expect((await indexer.poll()).logsApplied).to.equal(3);
    expect(journal.logs().map((log) => log.args.value)).to.deep.equal([1n, 2n, 3n]);
  });

  it("recognises range-too-large answers nested in provider errors", function () {
    const wrapped = { message: "could not coalesce error", info: { error: { message: "block range is too wide" } } };
    expect(isLogRangeTooLargeError(wrapped)).to.equal(true);
    expect(isLogRangeTooLargeError(new Error("query returned more than 10000 results"))).to.equal(true);
    expect(isLogRangeTooLargeError(new Error("execution reverted"))).to.equal(false);
    expect(isLogRangeTooLargeError(undefined)).to.equal(false);
  });
});
