/**
 * A re-org-safe event indexer for keepers that rebuild state (accounts, positions, orders) from contract logs.
 *
 * The indexer reads logs of a set of contracts from a start block up to `head - confirmations`, decodes them with
 * each contract's `Interface` and hands them, in chain order, to an `IndexerHandler`. It remembers the hashes and the
 * applied-log keys of the last `reorgWindowBlocks` indexed blocks, so that it can
 *  - apply every log exactly once, even when a node returns it twice or a range is read again, and
 *  - notice that indexed blocks were orphaned, tell the handler to drop everything after the common ancestor,
 *    and re-index the new chain from there.
 *
 * Persistence: `checkpoint()` / `EventIndexer.fromCheckpoint()` save and restore the indexer's position (a JSON
 * value). A checkpoint is only meaningful together with the handler state it describes: persist both atomically
 * (the handler state must contain exactly the logs up to `indexedThroughBlock`). A keeper that keeps its state in
 * memory only can instead rebuild from the start block on every restart; both give the same handler state.
 */
import { z } from "zod";
import type { Block, Interface, Log, LogDescription, Provider, Result } from "ethers";
import { KeeperError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import { withRetry } from "../shared/retry";
import type { RetryOptions } from "../shared/retry";

/** Blocks per `eth_getLogs` call unless configured. */
export const DEFAULT_MAX_BLOCK_RANGE = 2_000;
/** Indexed blocks whose hashes (and applied-log keys) are remembered unless configured. */
export const DEFAULT_REORG_WINDOW_BLOCKS = 64;
/** Block headers requested in parallel when verifying a chunk. */
const HEADER_FETCH_CONCURRENCY = 16;
const DEFAULT_RPC_RETRY: RpcRetryOptions = { attempts: 3, baseDelayMs: 250, maxDelayMs: 2_000 };

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

/** The provider calls the indexer makes; every ethers v6 `Provider` has them. */
export type IndexerProvider = Pick<Provider, "getBlockNumber" | "getBlock" | "getLogs">;

/** A contract whose events are indexed, and the ABI that decodes them (a typechain `contract.interface` works). */
export interface IndexedContract {
  address: string;
  iface: Interface;
}

/** One decoded event log, as handed to the handler. */
export interface IndexedLog {
  /** Event name, e.g. "Transfer". */
  name: string;
  /** Full event signature, e.g. "Transfer(address,address,uint256)". */
  signature: string;
  /** Decoded arguments, by position and by name. */
  args: Result;
  /** Emitting contract, as the node reported it. */
  address: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  /** Position of the log in its block. */
  logIndex: number;
}

/** Receives decoded logs in chain order and forgets them again when their blocks are orphaned. */
export interface IndexerHandler {
  /** Applies one log; called once per (blockHash, transactionHash, logIndex). */
  apply(log: IndexedLog): void | Promise<void>;
  /** Drops every log applied from blocks above `toBlockInclusive`; logs up to and including it stay. */
  rollback(toBlockInclusive: number): void | Promise<void>;
}

/** Retry policy of single RPC calls (network failures); range-too-large answers are never retried as is. */
export type RpcRetryOptions = Pick<RetryOptions, "attempts" | "baseDelayMs" | "maxDelayMs" | "sleep">;

/** Construction options of an `EventIndexer`. */
export interface EventIndexerOptions {
  provider: IndexerProvider;
  contracts: readonly IndexedContract[];
  handler: IndexerHandler;
  /** First block to read (typically the deployment block of the oldest contract). */
  startBlock: number;
  /** Blocks kept back from the head: only blocks up to `head - confirmations` are indexed. */
  confirmations: number;
  /** Upper bound of blocks per `eth_getLogs` call (default 2000); halved further when the node refuses a range. */
  maxBlockRange?: number;
  /** Indexed blocks whose hashes are remembered for re-org detection and de-duplication (default 64). */
  reorgWindowBlocks?: number;
  /** Retry of RPC calls that fail for network reasons (default 3 attempts, 250 ms doubling up to 2 s). */
  rpcRetry?: RpcRetryOptions;
  logger?: Logger;
}

/** Options of `EventIndexer.fromCheckpoint`: the start block comes from the checkpoint. */
export type RestoreOptions = Omit<EventIndexerOptions, "startBlock">;

/** A re-org that `poll()` detected and rolled back. */
export interface ReorgReport {
  /** Indexed blocks that were orphaned (old last indexed block minus the ancestor). */
  depth: number;
  /** The common ancestor; the handler now holds the logs up to and including this block. */
  rolledBackTo: number;
}

/** What one `poll()` did. */
export interface PollResult {
  /** Chain head the poll saw. */
  headBlock: number;
  /** `headBlock - confirmations`: nothing above it was read. */
  safeHeadBlock: number;
  /** First block read (after any rollback). */
  fromBlock: number;
  /** Last block read; `toBlock < fromBlock` when no new block was safe yet. */
  toBlock: number;
  /** Logs handed to `handler.apply`. */
  logsApplied: number;
  /** Logs skipped because they had already been applied. */
  duplicatesSkipped: number;
  /** Logs of the watched contracts that no configured `Interface` could decode. */
  undecodedSkipped: number;
  /** Present when indexed blocks were orphaned and rolled back. */
  reorg?: ReorgReport;
  /** The node's head is below the last indexed block (lagging or failed-over node); the poll waited. */
  headBehind: boolean;
  /** The chain changed while a range was being read; the range was not applied and the next poll resumes. */
  interrupted: boolean;
}

/** JSON-serializable position of an indexer; see `EventIndexer.checkpoint`. */
export interface IndexerCheckpoint {
  version: 1;
  startBlock: number;
  /** Every log up to and including this block has been applied. `startBlock - 1` when nothing was indexed. */
  indexedThroughBlock: number;
  /** Lower-cased, sorted addresses of the indexed contracts, checked on restore. */
  contracts: string[];
  /** The remembered window, oldest first. */
  recentBlocks: { number: number; hash: string | null; seenLogKeys: string[] }[];
}

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/** Indexed blocks were orphaned below the remembered window: the keeper must rebuild its state from scratch. */
export class ReorgTooDeepError extends KeeperError {
  constructor(
    readonly indexedThroughBlock: number,
    readonly oldestRememberedBlock: number,
    readonly windowBlocks: number,
  ) {
    super(
      `re-org deeper than the remembered window: no remembered block in ${oldestRememberedBlock}..${indexedThroughBlock} ` +
        `(window ${windowBlocks} blocks) is still on the chain; rebuild from the start block`,
    );
  }
}

/** The handler threw; `rolledBackTo` tells whether the partial range was rolled back (state consistent) or not. */
export class IndexerHandlerError extends KeeperError {
  constructor(
    message: string,
    readonly blockNumber: number,
    readonly rolledBackTo: number | undefined,
    cause: unknown,
  ) {
    super(message);
    this.cause = cause;
  }
}

/** A checkpoint is malformed or belongs to other contracts. */
export class IndexerCheckpointError extends KeeperError {}

/** The indexer was misconfigured or called at the wrong time (concurrent poll, replay outside the window). */
export class IndexerUsageError extends KeeperError {}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

const RANGE_TOO_LARGE_PATTERNS: readonly RegExp[] = [
  /more than [\d,]+ results/i,
  /block range/i,
  /range (is )?too (large|wide|big)/i,
  /limited to (a )?[\d,]+ (block )?range/i,
  /too many (logs|results|blocks)/i,
  /response size/i,
  /exceed(s|ed)? (the )?max(imum)? (block )?range/i,
];

/** Every message inside an error and its nested `error` / `info.error` / `cause` (ethers wraps node answers). */
function errorMessages(error: unknown, depth = 0): string[] {
  if (depth > 4 || typeof error !== "object" || error === null) return typeof error === "string" ? [error] : [];
  const record = error as Record<string, unknown>;
  const own = [record.message, record.shortMessage].filter((m): m is string => typeof m === "string");
  const info = record.info as Record<string, unknown> | undefined;
  const nested = [record.error, info?.error, record.cause].flatMap((inner) => errorMessages(inner, depth + 1));
  return [...own, ...nested];
}

/** True when a node refused `eth_getLogs` because the block range or the result set was too large. */
export function isLogRangeTooLargeError(error: unknown): boolean {
  return errorMessages(error).some((message) => RANGE_TOO_LARGE_PATTERNS.some((pattern) => pattern.test(message)));
}

/** The de-duplication key of a log: (blockHash, transactionHash, logIndex). */
export function logKeyOf(log: Pick<IndexedLog, "blockHash" | "transactionHash" | "logIndex">): string {
  return `${log.blockHash.toLowerCase()}:${log.transactionHash.toLowerCase()}:${log.logIndex}`;
}

function requireInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new IndexerUsageError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

function byChainPosition(a: Log, b: Log): number {
  return a.blockNumber - b.blockNumber || a.index - b.index;
}

const hashSchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const checkpointSchema = z.object({
  version: z.literal(1),
  startBlock: z.number().int().nonnegative(),
  indexedThroughBlock: z.number().int().min(-1),
  contracts: z.array(z.string()),
  recentBlocks: z.array(
    z.object({ number: z.number().int().nonnegative(), hash: hashSchema.nullable(), seenLogKeys: z.array(z.string()) }),
  ),
});

/** Hash and parent hash of a block header, lower-cased. */
interface BlockLink {
  hash: string;
  parentHash: string;
}

/** What the indexer remembers of one indexed block. */
interface RememberedBlock {
  /** Hash of the block the applied logs came from (undefined for an unverified block without logs). */
  hash: string | undefined;
  seenLogKeys: Set<string>;
}

interface ChunkOutcome {
  logsApplied: number;
  duplicatesSkipped: number;
  undecodedSkipped: number;
}

// ---------------------------------------------------------------------------------------------------------------
// The indexer
// ---------------------------------------------------------------------------------------------------------------

/**
 * Indexes contract events up to `head - confirmations`, applying each log once and rolling back orphaned blocks.
 * Call `poll()` in a loop (never concurrently). See the module comment for persistence.
 */
export class EventIndexer {
  private readonly provider: IndexerProvider;
  private readonly handler: IndexerHandler;
  private readonly interfacesByAddress: Map<string, Interface>;
  private readonly addresses: string[];
  private readonly startBlock: number;
  private readonly confirmations: number;
  private readonly maxBlockRange: number;
  private readonly windowBlocks: number;
  private readonly rpcRetry: RpcRetryOptions;
  private readonly logger: Logger | undefined;

  /** Every log up to and including this block has been applied. */
  private indexedThrough: number;
  /** Next block to read; below `indexedThrough + 1` only after `replayFrom`. */
  private cursor: number;
  private readonly remembered = new Map<number, RememberedBlock>();
  private busy = false;

  /** Validates the options; nothing is read before the first `poll()`. */
  constructor(options: EventIndexerOptions) {
    if (options.contracts.length === 0) throw new IndexerUsageError("at least one contract is required");
    this.provider = options.provider;
    this.handler = options.handler;
    this.interfacesByAddress = new Map(options.contracts.map((c) => [c.address.toLowerCase(), c.iface]));
    this.addresses = [...this.interfacesByAddress.keys()].sort();
    this.startBlock = requireInteger("startBlock", options.startBlock, 0);
    this.confirmations = requireInteger("confirmations", options.confirmations, 0);
    this.maxBlockRange = requireInteger("maxBlockRange", options.maxBlockRange ?? DEFAULT_MAX_BLOCK_RANGE, 1);
    this.windowBlocks = requireInteger(
      "reorgWindowBlocks",
      options.reorgWindowBlocks ?? DEFAULT_REORG_WINDOW_BLOCKS,
      1,
    );
    this.rpcRetry = options.rpcRetry ?? DEFAULT_RPC_RETRY;
    this.logger = options.logger;
    this.indexedThrough = this.startBlock - 1;
    this.cursor = this.startBlock;
  }

  /**
   * Restores an indexer saved with `checkpoint()` (accepts the parsed JSON). The handler must hold exactly the logs
   * up to the checkpoint's `indexedThroughBlock`. The first poll re-checks the saved hashes, so a re-org that
   * happened while the keeper was down is rolled back like any other.
   */
  static fromCheckpoint(checkpoint: unknown, options: RestoreOptions): EventIndexer {
    const parsed = checkpointSchema.safeParse(checkpoint);
    if (!parsed.success) throw new IndexerCheckpointError(`malformed indexer checkpoint: ${parsed.error.message}`);
    const saved = parsed.data;
    const indexer = new EventIndexer({ ...options, startBlock: saved.startBlock });
    if (saved.contracts.join(",") !== indexer.addresses.join(",")) {
      throw new IndexerCheckpointError(
        `checkpoint covers contracts ${saved.contracts.join(",")}, not ${indexer.addresses.join(",")}`,
      );
    }
    if (saved.indexedThroughBlock < saved.startBlock - 1) {
      throw new IndexerCheckpointError("checkpoint indexedThroughBlock is below its startBlock");
    }
    for (const block of saved.recentBlocks) {
      if (block.number < saved.startBlock || block.number > saved.indexedThroughBlock) {
        throw new IndexerCheckpointError(`checkpoint remembers block ${block.number} outside the indexed range`);
      }
      indexer.remembered.set(block.number, {
        hash: block.hash?.toLowerCase() ?? undefined,
        seenLogKeys: new Set(block.seenLogKeys),
      });
    }
    indexer.indexedThrough = saved.indexedThroughBlock;
    indexer.cursor = saved.indexedThroughBlock + 1;
    return indexer;
  }

  /** Every log up to and including this block has been applied (`startBlock - 1` before the first block). */
  get indexedThroughBlock(): number {
    return this.indexedThrough;
  }

  /** The next block `poll()` will read. */
  get nextBlock(): number {
    return this.cursor;
  }

  /** The indexer's position as a JSON-serializable value; call between polls and persist with the handler state. */
  checkpoint(): IndexerCheckpoint {
    if (this.busy) throw new IndexerUsageError("checkpoint() during poll(): the position is changing");
    const recentBlocks = [...this.remembered.entries()]
      .sort(([a], [b]) => a - b)
      .map(([number, block]) => ({ number, hash: block.hash ?? null, seenLogKeys: [...block.seenLogKeys] }));
    return {
      version: 1,
      startBlock: this.startBlock,
      indexedThroughBlock: this.indexedThrough,
      contracts: [...this.addresses],
      recentBlocks,
    };
  }

  /**
   * Makes the next poll read again from `fromBlock` (e.g. after a node may have returned incomplete logs). Logs
   * already applied are skipped; only missed ones reach the handler. `fromBlock` must lie inside the remembered
   * window, where the applied-log keys are still known.
   */
  replayFrom(fromBlock: number): void {
    if (this.busy) throw new IndexerUsageError("replayFrom() during poll()");
    const oldestReplayable = Math.max(this.startBlock, this.indexedThrough - this.windowBlocks + 1);
    if (!Number.isSafeInteger(fromBlock) || fromBlock < oldestReplayable || fromBlock > this.indexedThrough + 1) {
      throw new IndexerUsageError(
        `replayFrom(${fromBlock}) outside the remembered window ${oldestReplayable}..${this.indexedThrough + 1}`,
      );
    }
    this.cursor = fromBlock;
  }

  /**
   * Checks the indexed blocks are still on the chain (rolling back to the common ancestor if not), then reads and
   * applies the logs from the next block up to `head - confirmations`, in ranges of at most `maxBlockRange` blocks.
   * Throws `ReorgTooDeepError` when no remembered block survived, `IndexerHandlerError` when the handler threw.
   */
  async poll(): Promise<PollResult> {
    if (this.busy) throw new IndexerUsageError("poll() is already running; call it sequentially");
    this.busy = true;
    try {
      return await this.pollOnce();
    } finally {
      this.busy = false;
    }
  }

  private async pollOnce(): Promise<PollResult> {
    const headBlock = await this.rpc(() => this.provider.getBlockNumber());
    const safeHeadBlock = headBlock - this.confirmations;
    const headBehind = this.indexedThrough > headBlock;
    const reorg = await this.detectAndRollBackReorg(headBlock);

    const result: PollResult = {
      headBlock,
      safeHeadBlock,
      fromBlock: this.cursor,
      toBlock: this.cursor - 1,
      logsApplied: 0,
      duplicatesSkipped: 0,
      undecodedSkipped: 0,
      reorg,
      headBehind,
      interrupted: false,
    };
    if (headBehind) this.logger?.warn({ headBlock, indexedThrough: this.indexedThrough }, "node head behind index");

    while (this.cursor <= safeHeadBlock) {
      const chunkEnd = Math.min(this.cursor + this.maxBlockRange - 1, safeHeadBlock);
      const outcome = await this.indexChunk(this.cursor, chunkEnd, safeHeadBlock);
      if (outcome === undefined) {
        result.interrupted = true;
        break;
      }
      result.logsApplied += outcome.logsApplied;
      result.duplicatesSkipped += outcome.duplicatesSkipped;
      result.undecodedSkipped += outcome.undecodedSkipped;
    }
    result.toBlock = this.cursor - 1;
    return result;
  }

  /**
   * Walks the remembered hashes from the newest down; stops at the first still on the chain. Blocks above the head
   * cannot be checked and are skipped (a lagging node is waited for, not rolled back). Returns the re-org rolled
   * back, if any.
   */
  private async detectAndRollBackReorg(headBlock: number): Promise<ReorgReport | undefined> {
    if (this.indexedThrough < this.startBlock) return undefined;
    const newestFirst = [...this.remembered.entries()]
      .filter(([number, block]) => block.hash !== undefined && number <= Math.min(headBlock, this.indexedThrough))
      .sort(([a], [b]) => b - a);

    let ancestor: number | undefined;
    let mismatchSeen = false;
    for (const [number, block] of newestFirst) {
      const header = await this.rpc(() => this.provider.getBlock(number));
      if (header?.hash?.toLowerCase() === block.hash) {
        ancestor = number;
        break;
      }
      mismatchSeen = true;
    }
    if (!mismatchSeen) return undefined;

    if (ancestor === undefined) {
      const everythingRemembered = this.indexedThrough - this.startBlock + 1 <= this.windowBlocks;
      if (!everythingRemembered) {
        const oldest = Math.min(...this.remembered.keys());
        throw new ReorgTooDeepError(this.indexedThrough, oldest, this.windowBlocks);
      }
      ancestor = this.startBlock - 1;
    }
    const report = { depth: this.indexedThrough - ancestor, rolledBackTo: ancestor };
    this.logger?.warn(report, "chain re-org: rolling back to the common ancestor");
    await this.rollBackTo(ancestor);
    return report;
  }

  /** Has the handler drop everything above `ancestor` and forgets the hashes and log keys of those blocks. */
  private async rollBackTo(ancestor: number): Promise<void> {
    try {
      await this.handler.rollback(ancestor);
    } catch (error) {
      throw new IndexerHandlerError(
        `handler.rollback(${ancestor}) failed; handler state unknown, rebuild`,
        ancestor,
        undefined,
        error,
      );
    }
    for (const number of [...this.remembered.keys()]) if (number > ancestor) this.remembered.delete(number);
    this.indexedThrough = Math.min(this.indexedThrough, ancestor);
    this.cursor = Math.min(this.cursor, ancestor + 1);
  }

  /**
   * Reads, verifies and applies blocks `fromBlock..toBlock`. Headers are fetched for the blocks that will end up in
   * the remembered window (and always for `toBlock`); the range is dropped (returns undefined) when a log or header
   * does not chain onto what is known, i.e. the chain changed while reading.
   */
  private async indexChunk(fromBlock: number, toBlock: number, targetBlock: number): Promise<ChunkOutcome | undefined> {
    const logs = (await this.fetchLogs(fromBlock, toBlock)).filter((log) => !log.removed).sort(byChainPosition);
    const verifiedFrom = Math.max(fromBlock, targetBlock - this.windowBlocks + 1);
    const headerNumbers = verifiedFrom <= toBlock ? range(verifiedFrom, toBlock) : [toBlock];
    const headers = await this.fetchHeaders(headerNumbers);
    if (!this.chunkIsConsistent(logs, headers)) {
      this.logger?.warn({ fromBlock, toBlock }, "chain changed while reading logs; range dropped, next poll resumes");
      return undefined;
    }

    const outcome: ChunkOutcome = { logsApplied: 0, duplicatesSkipped: 0, undecodedSkipped: 0 };
    for (const log of logs) {
      const block = this.rememberBlock(log.blockNumber, log.blockHash.toLowerCase());
      const key = logKeyOf({ blockHash: log.blockHash, transactionHash: log.transactionHash, logIndex: log.index });
      if (block.seenLogKeys.has(key)) {
        outcome.duplicatesSkipped++;
        continue;
      }
      const decoded = this.decode(log);
      if (decoded === undefined) {
        outcome.undecodedSkipped++;
        continue;
      }
      await this.applyOrRollBack(decoded, fromBlock);
      block.seenLogKeys.add(key);
      outcome.logsApplied++;
    }

    for (const [number, header] of headers) if (header) this.rememberBlock(number, header.hash).hash = header.hash;
    this.indexedThrough = Math.max(this.indexedThrough, toBlock);
    this.cursor = toBlock + 1;
    this.forgetBelowWindow();
    this.logger?.debug({ fromBlock, toBlock, ...outcome }, "indexed range");
    return outcome;
  }

  /** Applies one log; if the handler throws, rolls the partial range back so the handler stays consistent. */
  private async applyOrRollBack(log: IndexedLog, chunkStart: number): Promise<void> {
    try {
      await this.handler.apply(log);
    } catch (error) {
      let rolledBackTo: number | undefined = chunkStart - 1;
      try {
        await this.rollBackTo(chunkStart - 1);
      } catch {
        rolledBackTo = undefined;
      }
      throw new IndexerHandlerError(
        `handler.apply failed on ${log.name} in block ${log.blockNumber}` +
          (rolledBackTo === undefined ? "; rollback failed too, rebuild" : `; rolled back to ${rolledBackTo}`),
        log.blockNumber,
        rolledBackTo,
        error,
      );
    }
  }

  /** True when every header chains onto its known parent and every log's block hash matches what is known. */
  private chunkIsConsistent(logs: readonly Log[], headers: ReadonlyMap<number, BlockLink | null>): boolean {
    const knownHash = (number: number): string | undefined =>
      headers.get(number)?.hash ?? this.remembered.get(number)?.hash;
    for (const [number, header] of headers) {
      if (header === null) return false;
      const remembered = this.remembered.get(number)?.hash;
      if (remembered !== undefined && remembered !== header.hash) return false;
      const parent = knownHash(number - 1);
      if (parent !== undefined && parent !== header.parentHash) return false;
    }
    const hashOfLogBlock = new Map<number, string>();
    for (const log of logs) {
      const hash = log.blockHash.toLowerCase();
      const expected = knownHash(log.blockNumber) ?? hashOfLogBlock.get(log.blockNumber);
      if (expected !== undefined && expected !== hash) return false;
      hashOfLogBlock.set(log.blockNumber, hash);
    }
    return true;
  }

  /** `eth_getLogs` over the range; halves the range while the node answers that it is too large. */
  private async fetchLogs(fromBlock: number, toBlock: number): Promise<Log[]> {
    const address = this.addresses.length === 1 ? this.addresses[0] : this.addresses;
    try {
      return await this.rpc(() => this.provider.getLogs({ address, fromBlock, toBlock }));
    } catch (error) {
      if (!isLogRangeTooLargeError(error) || fromBlock === toBlock) throw error;
      const middle = Math.floor((fromBlock + toBlock) / 2);
      this.logger?.debug({ fromBlock, toBlock, middle }, "log range refused by the node; halving");
      const lower = await this.fetchLogs(fromBlock, middle);
      const upper = await this.fetchLogs(middle + 1, toBlock);
      return [...lower, ...upper];
    }
  }

  /** Headers of `numbers`, a few in parallel; null for a block the node does not have. */
  private async fetchHeaders(numbers: readonly number[]): Promise<Map<number, BlockLink | null>> {
    const headers = new Map<number, BlockLink | null>();
    for (let i = 0; i < numbers.length; i += HEADER_FETCH_CONCURRENCY) {
      const batch = numbers.slice(i, i + HEADER_FETCH_CONCURRENCY);
      const blocks = await Promise.all(batch.map((number) => this.rpc(() => this.provider.getBlock(number))));
      batch.forEach((number, j) => headers.set(number, linkOf(blocks[j])));
    }
    return headers;
  }

  /** Decodes a log with its contract's Interface; undefined when the event is not in the ABI. */
  private decode(log: Log): IndexedLog | undefined {
    const iface = this.interfacesByAddress.get(log.address.toLowerCase());
    let parsed: LogDescription | null = null;
    try {
      parsed = iface?.parseLog({ topics: [...log.topics], data: log.data }) ?? null;
    } catch (error) {
      this.logger?.debug({ err: error, transactionHash: log.transactionHash }, "log matched no decodable event");
    }
    if (parsed === null) return undefined;
    return {
      name: parsed.name,
      signature: parsed.signature,
      args: parsed.args,
      address: log.address,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      transactionHash: log.transactionHash,
      logIndex: log.index,
    };
  }

  private rememberBlock(number: number, hash: string): RememberedBlock {
    let block = this.remembered.get(number);
    if (block === undefined) {
      block = { hash, seenLogKeys: new Set() };
      this.remembered.set(number, block);
    }
    return block;
  }

  private forgetBelowWindow(): void {
    const oldestKept = this.indexedThrough - this.windowBlocks + 1;
    for (const number of [...this.remembered.keys()]) if (number < oldestKept) this.remembered.delete(number);
  }

  private rpc<T>(task: () => Promise<T>): Promise<T> {
    return withRetry(task, {
      ...this.rpcRetry,
      shouldRetry: (error) => !isLogRangeTooLargeError(error),
      onRetry: (error, attempt, delayMs) => this.logger?.warn({ err: error, attempt, delayMs }, "RPC call failed"),
    });
  }
}

function range(fromInclusive: number, toInclusive: number): number[] {
  return Array.from({ length: toInclusive - fromInclusive + 1 }, (_, i) => fromInclusive + i);
}

function linkOf(block: Block | null): BlockLink | null {
  if (block?.hash == null) return null;
  return { hash: block.hash.toLowerCase(), parentHash: block.parentHash.toLowerCase() };
}

// ---------------------------------------------------------------------------------------------------------------
// In-memory handler
// ---------------------------------------------------------------------------------------------------------------

/**
 * An in-memory `IndexerHandler` that keeps the applied logs by block and drops them on rollback. Useful in tests
 * and for keepers that derive their state from the journal on demand.
 */
export class LogJournal implements IndexerHandler {
  private readonly logsByBlock = new Map<number, IndexedLog[]>();

  /** A journal holding `initialLogs` (e.g. restored together with a checkpoint). */
  constructor(initialLogs: Iterable<IndexedLog> = []) {
    for (const log of initialLogs) this.apply(log);
  }

  /** Records a log. */
  apply(log: IndexedLog): void {
    const inBlock = this.logsByBlock.get(log.blockNumber) ?? [];
    inBlock.push(log);
    this.logsByBlock.set(log.blockNumber, inBlock);
  }

  /** Drops the logs of every block above `toBlockInclusive`. */
  rollback(toBlockInclusive: number): void {
    for (const number of [...this.logsByBlock.keys()]) {
      if (number > toBlockInclusive) this.logsByBlock.delete(number);
    }
  }

  /** All recorded logs in chain order (block, then log index). */
  logs(): IndexedLog[] {
    return [...this.logsByBlock.entries()]
      .sort(([a], [b]) => a - b)
      .flatMap(([, inBlock]) => [...inBlock].sort((a, b) => a.logIndex - b.logIndex));
  }

  /** Number of recorded logs. */
  get size(): number {
    let count = 0;
    for (const inBlock of this.logsByBlock.values()) count += inBlock.length;
    return count;
  }
}
