/**
 * The one transaction sender of a keeper's signing key: simulates each intent, signs EIP-1559 transactions with
 * a nonce it tracks itself, replaces a transaction that is not mined in time with higher fees on the same nonce,
 * stops raising fees at the configured cap, and refuses an intent key it has already handled (idempotency).
 *
 * Nonces: `nextNonce` is read once from the chain (pending count) and then advanced by this class alone; after a
 * "nonce too low" refusal (another process used the key) it is resynced from the chain. Simulation, nonce choice
 * and broadcast run under one FIFO lock, so concurrent sends get consecutive nonces in the order `send` was
 * called; waiting for receipts and fee bumps run concurrently, so one slow transaction does not hold back the next.
 */
import { Transaction } from "ethers";
import type { Provider, TransactionReceipt, TransactionRequest } from "ethers";
import type { Logger } from "pino";
import { KeeperError } from "../shared/errors";
import { sleep as realSleep } from "../shared/retry";
import { MIN_FEE_BUMP_BPS } from "./config";
import type { BaseKeeperConfig } from "./config";

const BPS = 10_000n;
const ONE_GWEI = 1_000_000_000n;

/** What the sender needs of a provider (an ethers JsonRpcProvider, the failover provider, hardhat's). */
export type TxProvider = Pick<
  Provider,
  | "call"
  | "estimateGas"
  | "getTransactionCount"
  | "getBlock"
  | "getBlockNumber"
  | "getTransactionReceipt"
  | "broadcastTransaction"
  | "getFeeData"
  | "getNetwork"
>;

/** What the sender needs of a signer: an ethers Wallet. It never sees the private key itself. */
export interface TxSigner {
  readonly address: string;
  signTransaction(tx: TransactionRequest): Promise<string>;
}

/** One transaction a keeper wants mined. */
export interface TxIntent {
  /** Idempotency key, e.g. "liquidate:0xabc:3": a key in flight or already mined is refused. */
  key: string;
  to: string;
  data: string;
  /** Gas limit; estimated (plus headroom) when absent. */
  gasLimit?: bigint;
}

/** The fees of one signed transaction. */
export interface Eip1559Fees {
  maxFeePerGasWei: bigint;
  maxPriorityFeePerGasWei: bigint;
}

/** Fee market at the head: the base fee of the latest block and the node's suggested priority fee. */
export interface FeeMarket {
  baseFeePerGasWei: bigint;
  priorityFeePerGasWei: bigint;
}

interface SentFields {
  key: string;
  nonce: number;
  /** Hashes of every signed version of this nonce, oldest first. */
  hashes: string[];
  /** Replacements sent after the first transaction. */
  replacements: number;
}

interface MinedFields extends SentFields {
  hash: string;
  receipt: TransactionReceipt;
  gasUsed: bigint;
  effectiveGasPriceWei: bigint;
  feePaidWei: bigint;
}

/** The result of `send`; failures that are part of normal operation are outcomes, not exceptions. */
export type TxOutcome =
  | ({ status: "mined" } & MinedFields)
  | ({ status: "reverted" } & MinedFields)
  | { status: "simulation-failed"; key: string; error: TxSimulationError }
  | { status: "dry-run"; key: string; gasLimit: bigint }
  | ({ status: "stuck"; reason: "fee-cap" | "rpc-unavailable"; lastFees: Eip1559Fees } & SentFields)
  /** The nonce was consumed by a transaction that is not one of ours (another process used the key). */
  | ({ status: "dropped" } & SentFields)
  | { status: "duplicate"; key: string; previous: KeyState };

/** What the sender remembers of an intent key. `stuck` stays reserved: its transaction may still be mined. */
export type KeyState = "in-flight" | "mined" | "reverted" | "stuck";

/** Raised through `onAlert` when an operator should look (the fee cap stops a replacement). */
export interface TxAlert {
  kind: "fee-cap-reached";
  key: string;
  nonce: number;
  hashes: string[];
  /** Fees of the last transaction sent. */
  lastFees: Eip1559Fees;
  /** Fees the next replacement would have needed. */
  requiredMaxFeePerGasWei: bigint;
  maxFeePerGasCapWei: bigint;
}

/** Reported through `onBroadcast` for every transaction the node accepted. */
export interface TxBroadcast extends Eip1559Fees {
  key: string;
  hash: string;
  nonce: number;
  /** 0 for the first transaction of a nonce, then 1, 2, ... for replacements. */
  replacement: number;
}

/** Counters for metrics; monotonic over the life of the sender. */
export interface TxSenderCounters {
  intents: number;
  duplicates: number;
  simulationFailures: number;
  dryRuns: number;
  broadcasts: number;
  replacements: number;
  mined: number;
  reverted: number;
  stuck: number;
  dropped: number;
  feeCapAlerts: number;
  nonceResyncs: number;
  rpcErrors: number;
  /** Sends that threw (provider down before sending, node refused the first transaction, wrong chain). */
  sendErrors: number;
}

export interface TxSenderOptions {
  /** Create a JsonRpcProvider with `cacheTimeout: -1`: a cached block number or nonce is stale at once. */
  provider: TxProvider;
  signer: TxSigner;
  /** Fee cap: no transaction is signed with a higher max fee per gas. */
  maxFeePerGasWei: bigint;
  /** Raise of both fees per replacement, basis points; at least 1250 (12.5%). */
  feeBumpBps?: number;
  /** Blocks to wait for a transaction before replacing it. */
  txTimeoutBlocks?: number;
  /** Blocks built on top of the mining block before an outcome is reported (0: as soon as mined). */
  confirmations?: number;
  pollIntervalMs?: number;
  /** After the fee cap stopped the bumping: how long to keep waiting on the transactions sent. */
  stuckWaitMs?: number;
  /** Simulate only; send nothing. */
  dryRun?: boolean;
  /**
   * A new transaction reuses a base fee (of a head block read by an earlier send or handed in with
   * `noteHeadBlock`) and a priority fee up to this age (0: reads both for each). Sends that start together then
   * cost one read; the 4x base-fee headroom covers what the base fee can move meanwhile. Replacements always read
   * the market afresh. Default 1,000.
   */
  feeMarketMaxAgeMs?: number;
  /** Expected chain id; sending on another chain throws ChainIdMismatchError. */
  chainId?: bigint;
  /** Added to the gas estimate, basis points. */
  gasLimitHeadroomBps?: number;
  /** Priority fee when the node suggests none. */
  defaultPriorityFeePerGasWei?: bigint;
  /** Settled keys remembered for idempotency; the oldest are forgotten beyond this. */
  maxRememberedKeys?: number;
  logger?: Logger;
  onAlert?: (alert: TxAlert) => void;
  onBroadcast?: (event: TxBroadcast) => void;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Invalid options of a TxSender (a programming or configuration error). */
export class TxSenderOptionsError extends KeeperError {}

/** The simulation reverted; `revertData` holds the raw revert bytes to decode custom errors with. */
export class TxSimulationError extends KeeperError {
  constructor(
    message: string,
    readonly revertData: string | undefined,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/** The node refused the transaction for a reason other than a stale nonce (funds, gas, malformed...). */
export class TxBroadcastError extends KeeperError {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/** The provider failed (unreachable, bad answer) before anything was sent. */
export class TxRpcError extends KeeperError {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/** The provider is on another chain than the configured CHAIN_ID. */
export class ChainIdMismatchError extends KeeperError {}

/** The chain has no EIP-1559 base fee. */
export class UnsupportedFeeMarketError extends KeeperError {}

/** The TxSender options that come from the base keeper configuration (the environment). */
export function txSenderSettings(
  config: BaseKeeperConfig,
): Pick<
  TxSenderOptions,
  "maxFeePerGasWei" | "feeBumpBps" | "txTimeoutBlocks" | "confirmations" | "pollIntervalMs" | "dryRun" | "chainId"
> {
  return {
    maxFeePerGasWei: config.maxFeePerGasWei,
    feeBumpBps: config.feeBumpBps,
    txTimeoutBlocks: config.txTimeoutBlocks,
    confirmations: config.confirmations,
    pollIntervalMs: config.pollIntervalMs,
    dryRun: config.dryRun,
    chainId: config.chainId,
  };
}

/** `value` raised by `bps` basis points, rounded up. */
export function bumpByBps(value: bigint, bps: number): bigint {
  return (value * (BPS + BigInt(bps)) + BPS - 1n) / BPS;
}

/**
 * Base fees a transaction's max fee covers. A transaction pays only base fee + priority fee whatever its max fee,
 * so headroom costs nothing; 4 x covers 11 blocks of EIP-1559's fastest rise (12.5% a block) and 3 blocks of a
 * tenfold rise in 5 blocks (the keepers' fault profile), so a keeper's transaction is not priced out while it waits.
 */
export const BASE_FEE_HEADROOM = 4n;

/** Fees of a first transaction: max fee = BASE_FEE_HEADROOM x base fee + priority fee, both capped at `capWei`. */
export function initialFees(market: FeeMarket, capWei: bigint): Eip1559Fees {
  const maxPriorityFeePerGasWei = market.priorityFeePerGasWei < capWei ? market.priorityFeePerGasWei : capWei;
  const wanted = BASE_FEE_HEADROOM * market.baseFeePerGasWei + maxPriorityFeePerGasWei;
  return { maxFeePerGasWei: wanted < capWei ? wanted : capWei, maxPriorityFeePerGasWei };
}

/**
 * Fees of a replacement: both fees at least `feeBumpBps` above the previous ones (what nodes require), raised
 * further to the current market, capped at `capWei`. Undefined when the minimum replacement exceeds the cap.
 */
export function replacementFees(
  previous: Eip1559Fees,
  market: FeeMarket,
  feeBumpBps: number,
  capWei: bigint,
): { fees: Eip1559Fees } | { requiredMaxFeePerGasWei: bigint } {
  const minimumMaxFee = bumpByBps(previous.maxFeePerGasWei, feeBumpBps);
  const minimumPriorityFee = bumpByBps(previous.maxPriorityFeePerGasWei, feeBumpBps);
  const priorityFee =
    market.priorityFeePerGasWei > minimumPriorityFee ? market.priorityFeePerGasWei : minimumPriorityFee;
  const marketMaxFee = BASE_FEE_HEADROOM * market.baseFeePerGasWei + priorityFee;
  let maxFee = marketMaxFee > minimumMaxFee ? marketMaxFee : minimumMaxFee;
  if (maxFee > capWei) maxFee = capWei;
  if (maxFee < minimumMaxFee || minimumPriorityFee > maxFee) return { requiredMaxFeePerGasWei: minimumMaxFee };
  return { fees: { maxFeePerGasWei: maxFee, maxPriorityFeePerGasWei: priorityFee > maxFee ? maxFee : priorityFee } };
}

/** Every message and nested error message of `error` (ethers wraps the node's error in info.error). */
function errorText(error: unknown, depth = 0): string {
  if (depth > 4 || error === null || typeof error !== "object") return typeof error === "string" ? error : "";
  const record = error as Record<string, unknown>;
  const own = [record.code, record.shortMessage, record.message].filter((part) => typeof part === "string");
  const nested = [record.info, record.error, record.cause, (record.info as Record<string, unknown> | undefined)?.error];
  return [...own, ...nested.map((inner) => errorText(inner, depth + 1))].join(" | ");
}

/** The revert bytes of a failed call, wherever the provider put them. */
export function extractRevertData(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || error === null || typeof error !== "object") return undefined;
  const record = error as Record<string, unknown>;
  if (typeof record.data === "string" && /^0x([0-9a-fA-F]{2})*$/.test(record.data)) return record.data;
  for (const inner of [record.data, record.error, record.info, record.cause]) {
    const found = extractRevertData(inner, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

const isRevert = (error: unknown): boolean =>
  extractRevertData(error) !== undefined ||
  /CALL_EXCEPTION|revert|out of gas|invalid opcode|exceeds block gas limit/i.test(errorText(error));
const isNonceExpired = (error: unknown): boolean =>
  /NONCE_EXPIRED|nonce too low|nonce has already been used|nonce is too low/i.test(errorText(error));
const isAlreadyKnown = (error: unknown): boolean => /known transaction|already known/i.test(errorText(error));
const isUnderpriced = (error: unknown): boolean =>
  /REPLACEMENT_UNDERPRICED|replacement transaction underpriced|replacement fee too low/i.test(errorText(error));

/** What the key remembers after a sent transaction settles; a dropped one is released for a retry. */
const KEY_STATE_AFTER: Partial<Record<TxOutcome["status"], KeyState>> = {
  mined: "mined",
  reverted: "reverted",
  stuck: "stuck",
};

/** A FIFO lock: tasks run one at a time in the order they asked. */
class SerialLock {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

interface SentTx {
  hash: string;
  fees: Eip1559Fees;
}

/** Sends keeper transactions from one key; see the module comment. */
export class TxSender {
  readonly #provider: TxProvider;
  readonly #signer: TxSigner;
  readonly #capWei: bigint;
  readonly #feeBumpBps: number;
  readonly #txTimeoutBlocks: number;
  readonly #confirmations: number;
  readonly #pollIntervalMs: number;
  readonly #stuckWaitMs: number;
  readonly #dryRun: boolean;
  readonly #feeMarketMaxAgeMs: number;
  readonly #expectedChainId: bigint | undefined;
  readonly #gasLimitHeadroomBps: number;
  readonly #defaultPriorityFeeWei: bigint;
  readonly #maxRememberedKeys: number;
  readonly #logger: Logger | undefined;
  readonly #onAlert: ((alert: TxAlert) => void) | undefined;
  readonly #onBroadcast: ((event: TxBroadcast) => void) | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;

  readonly #sendLock = new SerialLock();
  #nextNonce: number | undefined;
  #chainId: bigint | undefined;
  #recentBaseFee: { readAtMs: number; baseFeePerGasWei: bigint; headBlock: number } | undefined;
  #recentPriorityFee: { readAtMs: number; priorityFeePerGasWei: bigint } | undefined;
  #priorityFeeRead: Promise<bigint> | undefined;
  readonly #keys = new Map<string, KeyState>();
  readonly #running = new Set<Promise<TxOutcome>>();
  readonly #counters: TxSenderCounters = {
    intents: 0,
    duplicates: 0,
    simulationFailures: 0,
    dryRuns: 0,
    broadcasts: 0,
    replacements: 0,
    mined: 0,
    reverted: 0,
    stuck: 0,
    dropped: 0,
    feeCapAlerts: 0,
    nonceResyncs: 0,
    rpcErrors: 0,
    sendErrors: 0,
  };

  /** @throws TxSenderOptionsError on a bump below 12.5% or a non-positive cap, timeout or interval. */
  constructor(options: TxSenderOptions) {
    this.#provider = options.provider;
    this.#signer = options.signer;
    this.#capWei = options.maxFeePerGasWei;
    this.#feeBumpBps = options.feeBumpBps ?? MIN_FEE_BUMP_BPS;
    this.#txTimeoutBlocks = options.txTimeoutBlocks ?? 3;
    this.#confirmations = options.confirmations ?? 0;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.#stuckWaitMs = options.stuckWaitMs ?? 120_000;
    this.#dryRun = options.dryRun ?? false;
    this.#feeMarketMaxAgeMs = options.feeMarketMaxAgeMs ?? 1_000;
    this.#expectedChainId = options.chainId;
    this.#gasLimitHeadroomBps = options.gasLimitHeadroomBps ?? 2_000;
    this.#defaultPriorityFeeWei = options.defaultPriorityFeePerGasWei ?? ONE_GWEI;
    this.#maxRememberedKeys = options.maxRememberedKeys ?? 10_000;
    this.#logger = options.logger;
    this.#onAlert = options.onAlert;
    this.#onBroadcast = options.onBroadcast;
    this.#sleep = options.sleep ?? realSleep;
    this.#now = options.now ?? Date.now;
    if (this.#feeBumpBps < MIN_FEE_BUMP_BPS) {
      throw new TxSenderOptionsError(`feeBumpBps must be >= ${MIN_FEE_BUMP_BPS}, got ${this.#feeBumpBps}`);
    }
    if (this.#capWei <= 0n) throw new TxSenderOptionsError("maxFeePerGasWei must be above 0");
    if (this.#txTimeoutBlocks < 1 || this.#pollIntervalMs < 1 || this.#confirmations < 0) {
      throw new TxSenderOptionsError("txTimeoutBlocks and pollIntervalMs must be >= 1, confirmations >= 0");
    }
  }

  /** The address the sender signs for. */
  get address(): string {
    return this.#signer.address;
  }

  /** Sends currently being simulated, broadcast or waited on. */
  inFlight(): number {
    return this.#running.size;
  }

  /** A snapshot of the counters. */
  counters(): TxSenderCounters {
    return { ...this.#counters };
  }

  /** What the sender remembers of an intent key, if anything. */
  keyState(key: string): KeyState | undefined {
    return this.#keys.get(key);
  }

  /** Resolves once no send is in progress (for graceful shutdown; sends started meanwhile are awaited too). */
  async waitIdle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /**
   * Simulates `intent`, then (unless dry-run) sends it and waits until it is mined, replacing it with higher
   * fees while it is not, or until the fee cap stops the replacements and the stuck deadline passes.
   * @throws TxRpcError when the provider fails before anything is sent, TxBroadcastError when the node refuses
   *   the first transaction, ChainIdMismatchError on the wrong chain. The key is released in all three cases.
   */
  send(intent: TxIntent): Promise<TxOutcome> {
    const previous = this.#keys.get(intent.key);
    if (previous !== undefined) {
      this.#counters.duplicates++;
      this.#logger?.warn({ key: intent.key, previous }, "duplicate intent refused");
      return Promise.resolve({ status: "duplicate", key: intent.key, previous });
    }
    this.#counters.intents++;
    this.#keys.set(intent.key, "in-flight");
    const running = this.#process(intent);
    this.#running.add(running);
    const forget = () => this.#running.delete(running);
    running.then(forget, forget);
    return running;
  }

  async #process(intent: TxIntent): Promise<TxOutcome> {
    let settledState: KeyState | undefined;
    try {
      // Simulate and broadcast in call order under the lock: nonces follow the order of `send` calls, and the
      // simulations reach the node one at a time (many large simulations at once would hold up a node that
      // executes calls one by one, and the keeper's own first transaction with them). Waiting for the receipt runs
      // outside the lock.
      const started = await this.#sendLock.run(() => this.#simulateAndBroadcast(intent));
      if ("outcome" in started) return started.outcome;
      const outcome = await this.#waitForReceipt(intent, started.gasLimit, started.nonce, started.sent);
      settledState = KEY_STATE_AFTER[outcome.status];
      return outcome;
    } catch (error) {
      this.#counters.sendErrors++;
      throw error;
    } finally {
      if (settledState === undefined) this.#keys.delete(intent.key);
      else this.#remember(intent.key, settledState);
    }
  }

  async #simulateAndBroadcast(
    intent: TxIntent,
  ): Promise<{ outcome: TxOutcome } | { gasLimit: bigint; nonce: number; sent: SentTx & { headBlock: number } }> {
    const simulated = await this.#simulate(intent);
    if ("error" in simulated) {
      this.#counters.simulationFailures++;
      this.#logger?.warn(
        { key: intent.key, revertData: simulated.error.revertData, err: simulated.error.message },
        "simulation reverted; not sending",
      );
      return { outcome: { status: "simulation-failed", key: intent.key, error: simulated.error } };
    }
    if (this.#dryRun) {
      this.#counters.dryRuns++;
      this.#logger?.info({ key: intent.key, to: intent.to, gasLimit: simulated.gasLimit }, "dry run: not sending");
      return { outcome: { status: "dry-run", key: intent.key, gasLimit: simulated.gasLimit } };
    }
    return { gasLimit: simulated.gasLimit, ...(await this.#broadcastNew(intent, simulated.gasLimit)) };
  }

  #remember(key: string, state: KeyState): void {
    this.#keys.delete(key);
    this.#keys.set(key, state);
    if (this.#keys.size <= this.#maxRememberedKeys) return;
    for (const [oldKey, oldState] of this.#keys) {
      if (this.#keys.size <= this.#maxRememberedKeys) break;
      if (oldState !== "in-flight") this.#keys.delete(oldKey);
    }
  }

  async #simulate(intent: TxIntent): Promise<{ gasLimit: bigint } | { error: TxSimulationError }> {
    const request = { from: this.#signer.address, to: intent.to, data: intent.data, gasLimit: intent.gasLimit };
    try {
      await this.#provider.call({ ...request, blockTag: "latest" });
      if (intent.gasLimit !== undefined) return { gasLimit: intent.gasLimit };
      const estimate = await this.#provider.estimateGas(request);
      return { gasLimit: bumpByBps(estimate, this.#gasLimitHeadroomBps) };
    } catch (error) {
      if (!isRevert(error)) throw new TxRpcError(`simulation of ${intent.key} failed: ${errorText(error)}`, error);
      const revertData = extractRevertData(error);
      const message = `simulation of ${intent.key} reverted${revertData ? ` with data ${revertData}` : ""}`;
      return { error: new TxSimulationError(message, revertData, error) };
    }
  }

  async #resolveChainId(): Promise<bigint> {
    if (this.#chainId !== undefined) return this.#chainId;
    const { chainId } = await this.#provider.getNetwork();
    if (this.#expectedChainId !== undefined && chainId !== this.#expectedChainId) {
      throw new ChainIdMismatchError(`provider is on chain ${chainId}, CHAIN_ID is ${this.#expectedChainId}`);
    }
    this.#chainId = chainId;
    return chainId;
  }

  /**
   * Hands the sender a head block the keeper read anyway: a new transaction within `feeMarketMaxAgeMs` prices
   * itself from its base fee instead of reading the block again, and a priority fee older than that is refreshed
   * in the background now, so a send in the next moments costs no fee-market round trip.
   */
  noteHeadBlock(block: { number: number; baseFeePerGas: bigint | null }): void {
    if (block.baseFeePerGas === null) return;
    const nowMs = this.#now();
    this.#recentBaseFee = { readAtMs: nowMs, baseFeePerGasWei: block.baseFeePerGas, headBlock: block.number };
    const priority = this.#recentPriorityFee;
    if (priority === undefined || nowMs - priority.readAtMs >= this.#feeMarketMaxAgeMs) {
      this.#readPriorityFee().catch(() => undefined); // read again at the send if this fails
    }
  }

  /** The fee market from a head block and a priority fee read less than `feeMarketMaxAgeMs` ago, or fresh reads. */
  async #recentOrFreshFeeMarket(): Promise<FeeMarket & { headBlock: number }> {
    const nowMs = this.#now();
    const isRecent = (entry: { readAtMs: number } | undefined) =>
      entry !== undefined && nowMs - entry.readAtMs < this.#feeMarketMaxAgeMs;
    const [base, priorityFeePerGasWei] = await Promise.all([
      isRecent(this.#recentBaseFee) ? this.#recentBaseFee! : this.#readBaseFee(),
      isRecent(this.#recentPriorityFee) ? this.#recentPriorityFee!.priorityFeePerGasWei : this.#readPriorityFee(),
    ]);
    return { baseFeePerGasWei: base.baseFeePerGasWei, headBlock: base.headBlock, priorityFeePerGasWei };
  }

  async #readBaseFee(): Promise<{ baseFeePerGasWei: bigint; headBlock: number }> {
    const block = await this.#provider.getBlock("latest");
    if (block === null) throw new TxRpcError("the provider returned no latest block", undefined);
    if (block.baseFeePerGas === null) throw new UnsupportedFeeMarketError("the chain has no EIP-1559 base fee");
    const base = { baseFeePerGasWei: block.baseFeePerGas, headBlock: block.number };
    this.#recentBaseFee = { readAtMs: this.#now(), ...base };
    return base;
  }

  /** Reads the priority fee; a read already under way (one `noteHeadBlock` started) is shared, not repeated. */
  #readPriorityFee(): Promise<bigint> {
    this.#priorityFeeRead ??= this.#provider
      .getFeeData()
      .then((feeData) => {
        const priorityFeePerGasWei = feeData.maxPriorityFeePerGas ?? this.#defaultPriorityFeeWei;
        this.#recentPriorityFee = { readAtMs: this.#now(), priorityFeePerGasWei };
        return priorityFeePerGasWei;
      })
      .finally(() => {
        this.#priorityFeeRead = undefined;
      });
    return this.#priorityFeeRead;
  }

  /** A fresh read of the fee market (both parts; the recent values are updated too). */
  async #feeMarket(): Promise<FeeMarket & { headBlock: number }> {
    const [base, priorityFeePerGasWei] = await Promise.all([this.#readBaseFee(), this.#readPriorityFee()]);
    return { ...base, priorityFeePerGasWei };
  }

  async #sign(intent: TxIntent, gasLimit: bigint, nonce: number, fees: Eip1559Fees): Promise<string> {
    return this.#signer.signTransaction({
      type: 2,
      chainId: await this.#resolveChainId(),
      nonce,
      to: intent.to,
      data: intent.data,
      value: 0n,
      gasLimit,
      maxFeePerGas: fees.maxFeePerGasWei,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGasWei,
    });
  }

  async #readPendingNonce(): Promise<number> {
    try {
      return await this.#provider.getTransactionCount(this.#signer.address, "pending");
    } catch (error) {
      throw new TxRpcError(`reading the pending nonce failed: ${errorText(error)}`, error);
    }
  }

  /** Picks the next nonce and broadcasts (under the send lock); resyncs and retries when the nonce was used. */
  async #broadcastNew(
    intent: TxIntent,
    gasLimit: bigint,
  ): Promise<{ nonce: number; sent: SentTx & { headBlock: number } }> {
    let market: FeeMarket & { headBlock: number };
    try {
      market = await this.#recentOrFreshFeeMarket();
      await this.#resolveChainId();
    } catch (error) {
      if (error instanceof KeeperError) throw error;
      throw new TxRpcError(`fee lookup for ${intent.key} failed: ${errorText(error)}`, error);
    }
    const fees = initialFees(market, this.#capWei);
    if (fees.maxFeePerGasWei < market.baseFeePerGasWei) {
      this.#logger?.warn(
        { key: intent.key, ...fees, baseFeePerGasWei: market.baseFeePerGasWei },
        "fee cap below base fee",
      );
    }
    this.#nextNonce ??= await this.#readPendingNonce();
    for (let attempt = 1; ; attempt++) {
      const nonce = this.#nextNonce;
      const signed = await this.#sign(intent, gasLimit, nonce, fees);
      try {
        const hash = await this.#broadcast(signed);
        this.#nextNonce = nonce + 1;
        this.#reportBroadcast(intent.key, hash, nonce, 0, fees);
        return { nonce, sent: { hash, fees, headBlock: market.headBlock } };
      } catch (error) {
        if (!isNonceExpired(error) || attempt >= 3) {
          throw new TxBroadcastError(`node refused ${intent.key} (nonce ${nonce}): ${errorText(error)}`, error);
        }
        const chainNonce = await this.#readPendingNonce();
        this.#counters.nonceResyncs++;
        this.#nextNonce = Math.max(chainNonce, nonce + 1);
        this.#logger?.warn({ key: intent.key, staleNonce: nonce, nextNonce: this.#nextNonce }, "nonce resynced");
      }
    }
  }

  /** Broadcasts `signed` and returns its hash; a node that already knows it counts as accepted. */
  async #broadcast(signed: string): Promise<string> {
    const hash = Transaction.from(signed).hash as string;
    try {
      await this.#provider.broadcastTransaction(signed);
    } catch (error) {
      if (!isAlreadyKnown(error)) throw error;
    }
    this.#counters.broadcasts++;
    return hash;
  }

  #reportBroadcast(key: string, hash: string, nonce: number, replacement: number, fees: Eip1559Fees): void {
    this.#logger?.info({ key, hash, nonce, replacement, ...fees }, replacement === 0 ? "sent" : "replacement sent");
    this.#onBroadcast?.({ key, hash, nonce, replacement, ...fees });
  }

  async #findReceipt(hashes: string[]): Promise<TransactionReceipt | undefined> {
    const receipts = await Promise.all(hashes.map((hash) => this.#provider.getTransactionReceipt(hash)));
    return receipts.find((receipt): receipt is TransactionReceipt => receipt !== null);
  }

  /** Waits on every version of `nonce`, replacing the latest when it times out, until one is mined or it is stuck. */
  async #waitForReceipt(
    intent: TxIntent,
    gasLimit: bigint,
    nonce: number,
    first: SentTx & { headBlock: number },
  ): Promise<TxOutcome> {
    const sent: SentTx[] = [first];
    const base = () => ({ key: intent.key, nonce, hashes: sent.map((tx) => tx.hash), replacements: sent.length - 1 });
    let lastFees = first.fees;
    let lastSendBlock = first.headBlock;
    let lastSeenBlock = -1;
    let stuckDeadlineMs: number | undefined;
    let failingSinceMs: number | undefined;
    let nonceGoneChecks = 0;

    for (;;) {
      await this.#sleep(this.#pollIntervalMs);
      if (stuckDeadlineMs !== undefined && this.#now() >= stuckDeadlineMs) {
        return this.#settleStuck({ ...base(), reason: "fee-cap", lastFees });
      }
      try {
        const head = await this.#provider.getBlockNumber();
        failingSinceMs = undefined;
        if (head === lastSeenBlock) continue;
        lastSeenBlock = head;

        const receipt = await this.#findReceipt(sent.map((tx) => tx.hash));
        if (receipt !== undefined) {
          if (head < receipt.blockNumber + this.#confirmations) continue;
          return this.#settleMined(base(), receipt);
        }
        const minedNonce = await this.#provider.getTransactionCount(this.#signer.address, "latest");
        if (minedNonce > nonce) {
          // Mined by someone, but none of our hashes has a receipt yet: a lagging node, or another transaction.
          if (++nonceGoneChecks > this.#confirmations + 2) return this.#settleDropped(base());
          continue;
        }
        nonceGoneChecks = 0;
        if (stuckDeadlineMs !== undefined || head - lastSendBlock < this.#txTimeoutBlocks) continue;

        const market = await this.#feeMarket();
        const next = replacementFees(lastFees, market, this.#feeBumpBps, this.#capWei);
        if ("requiredMaxFeePerGasWei" in next) {
          stuckDeadlineMs = this.#now() + this.#stuckWaitMs;
          this.#alertFeeCap(intent.key, nonce, base().hashes, lastFees, next.requiredMaxFeePerGasWei);
          continue;
        }
        const signed = await this.#sign(intent, gasLimit, nonce, next.fees);
        lastFees = next.fees;
        lastSendBlock = head;
        try {
          const hash = await this.#broadcast(signed);
          sent.push({ hash, fees: next.fees });
          this.#counters.replacements++;
          this.#reportBroadcast(intent.key, hash, nonce, sent.length - 1, next.fees);
        } catch (error) {
          // Nonce used: one of ours was mined meanwhile (the next poll finds it). Underpriced: the next bump
          // starts from the refused fees. Anything else: retried after another timeout.
          const expected = isNonceExpired(error) || isUnderpriced(error);
          this.#logger?.[expected ? "info" : "warn"](
            { key: intent.key, nonce, err: errorText(error) },
            "replacement refused",
          );
        }
      } catch (error) {
        this.#counters.rpcErrors++;
        failingSinceMs ??= this.#now();
        this.#logger?.warn({ key: intent.key, nonce, err: errorText(error) }, "polling for the receipt failed");
        if (this.#now() - failingSinceMs >= this.#stuckWaitMs) {
          return this.#settleStuck({ ...base(), reason: "rpc-unavailable", lastFees });
        }
      }
    }
  }

  #alertFeeCap(key: string, nonce: number, hashes: string[], lastFees: Eip1559Fees, requiredWei: bigint): void {
    this.#counters.feeCapAlerts++;
    const alert: TxAlert = {
      kind: "fee-cap-reached",
      key,
      nonce,
      hashes,
      lastFees,
      requiredMaxFeePerGasWei: requiredWei,
      maxFeePerGasCapWei: this.#capWei,
    };
    this.#logger?.error(alert, "fee cap reached: not replacing; waiting on the transactions sent");
    try {
      this.#onAlert?.(alert);
    } catch (error) {
      this.#logger?.error({ err: errorText(error) }, "onAlert callback threw");
    }
  }

  #settleMined(fields: SentFields, receipt: TransactionReceipt): TxOutcome {
    const status = receipt.status === 1 ? "mined" : "reverted";
    this.#counters[status]++;
    const outcome: TxOutcome = {
      status,
      ...fields,
      hash: receipt.hash,
      receipt,
      gasUsed: receipt.gasUsed,
      effectiveGasPriceWei: receipt.gasPrice,
      feePaidWei: receipt.fee,
    };
    const log = { key: fields.key, hash: receipt.hash, nonce: fields.nonce, block: receipt.blockNumber };
    if (status === "mined") this.#logger?.info({ ...log, gasUsed: receipt.gasUsed }, "mined");
    else this.#logger?.warn(log, "mined but reverted");
    return outcome;
  }

  #settleStuck(fields: SentFields & { reason: "fee-cap" | "rpc-unavailable"; lastFees: Eip1559Fees }): TxOutcome {
    this.#counters.stuck++;
    this.#logger?.error(fields, "transaction stuck; the key stays reserved");
    return { status: "stuck", ...fields };
  }

  #settleDropped(fields: SentFields): TxOutcome {
    this.#counters.dropped++;
    this.#logger?.error(fields, "nonce consumed by a transaction that is not ours; the key is released");
    return { status: "dropped", ...fields };
  }
}
