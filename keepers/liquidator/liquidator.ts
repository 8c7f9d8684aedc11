/**
 * The liquidator keeper: each tick it indexes the clearinghouse's new events into its view of the
 * accounts, reads the marks of the series held, recomputes every account's margin locally, and sends
 * the liquidatable accounts, most urgent first, as `liquidateBatch` calls (simulated first; a batch skips
 * accounts that recovered or that a competing keeper got first). Optionally it then unwinds what it took
 * over with reduce-only market orders.
 */
import type { Logger } from "pino";
import type { Clearinghouse } from "../../typechain-types";
import type { EventIndexer } from "../runtime/eventIndexer";
import type { TxIntent, TxOutcome } from "../runtime/txSender";
import type { ClearinghouseView } from "../shared/clearinghouseView";
import { readMarks } from "../shared/marks";
import { decodeRevertData } from "../shared/revert";
import { intentKeyOf, liquidationCandidates } from "./planner";
import type { LiquidationCandidate } from "./planner";

/** The part of TxSender the keepers use (a fake in unit tests). */
export interface KeeperSender {
  readonly address: string;
  send(intent: TxIntent): Promise<TxOutcome>;
  /** A head block the keeper read, for pricing the next sends without another read (optional). */
  noteHeadBlock?(block: { number: number; baseFeePerGas: bigint | null }): void;
}

export interface LiquidatorSettings {
  /** Liquidations per transaction (1-50). */
  batchSize: number;
  /**
   * Liquidations in the first, most urgent batch of a pass (1-batchSize): a small batch is simulated and mined
   * sooner, so the worst accounts are not held up by the size of the rest.
   */
  firstBatchSize: number;
  /** Batches in flight at once (they take consecutive nonces); a pass starts new ones only up to this. */
  maxConcurrentBatches: number;
  /** After liquidating, close the positions taken over with reduce-only market orders. */
  unwind: boolean;
}

export interface LiquidatorDependencies {
  clearinghouse: Clearinghouse;
  indexer: EventIndexer;
  view: ClearinghouseView;
  sender: KeeperSender;
  logger: Logger;
  settings: LiquidatorSettings;
}

/** What one tick saw and did. */
export interface LiquidatorTickReport {
  headBlock: number;
  indexedThroughBlock: number;
  accountsTracked: number;
  liquidatable: number;
  /** Batches this pass started (they are mined in the background; see `drain`). */
  batchesSent: number;
  /** Batches still in flight after this pass. */
  batchesInFlight: number;
}

/** A simulation that reverted without an error (no data, or empty data): it ran out of gas. */
function isOutOfGas(revertData: string | undefined): boolean {
  return revertData === undefined || revertData === "0x";
}

/**
 * Gas limit of a batch of `count` liquidations: about twice the measured cost of one without resting orders
 * (bench/gas.json: 62,000-100,000 per account in a batch). An account with many orders to cancel needs more: its
 * simulation runs out of gas and the batch is estimated instead. A tight limit lets more batches into a block.
 */
function gasLimitOf(count: number): bigint {
  return 300_000n + 150_000n * BigInt(count);
}

/** The most contracts a request may ask for; the contract takes what its rules require. */
const ALL = 2n ** 64n - 1n;

export class Liquidator {
  private readonly inFlight = new Set<string>();
  private readonly batches = new Set<Promise<TxOutcome["status"]>>();
  private finished: TxOutcome["status"][] = [];
  private lastTick: LiquidatorTickReport | undefined;

  constructor(private readonly deps: LiquidatorDependencies) {}

  /** The last tick's report (for the status endpoint). */
  get lastReport(): LiquidatorTickReport | undefined {
    return this.lastTick;
  }

  /**
   * One pass: index, mark, plan, and start batches for the liquidatable accounts not already in flight. It does
   * not wait for them to be mined, so the next pass (and detection of the next price move) is not held up by a
   * slow block. The most urgent batch goes first; the others start at a place of this keeper's own in the
   * urgency order, so competing keepers spread the work instead of racing for the same accounts.
   */
  async tick(): Promise<LiquidatorTickReport> {
    const { indexer, view, sender, clearinghouse, settings } = this.deps;
    // The marks move with every oracle round, positions only with the clearinghouse's events: the marks are read
    // alongside the indexing (for the series held as of the last pass), so a price move is seen one round trip
    // sooner. New events are applied before planning.
    const [poll, head, marksBefore] = await allOrFirstError([
      indexer.poll(),
      clearinghouse.runner!.provider!.getBlock("latest"),
      readMarks(clearinghouse, view),
    ] as const);
    const marks = await readMarks(clearinghouse, view, marksBefore); // series first held in the new events
    sender.noteHeadBlock?.(head!);
    const nowSec = BigInt(head!.timestamp);
    const candidates = liquidationCandidates(view.accountsWithPositions(), view.series, marks, nowSec, sender.address);
    const waiting = candidates.filter((candidate) => !this.inFlight.has(intentKeyOf(candidate)));
    // The most urgent batch first; the rest from this keeper's own starting place.
    const firstSize = Math.min(settings.firstBatchSize, settings.batchSize);
    const room = Math.max(0, settings.maxConcurrentBatches - this.batches.size);
    const started = [
      waiting.slice(0, firstSize),
      ...chunk(rotate(waiting.slice(firstSize), sender.address), settings.batchSize),
    ]
      .filter((batch) => batch.length > 0)
      .slice(0, room);
    for (const batch of started) {
      const sending = this.sendBatch(batch, head!.number);
      this.batches.add(sending);
      void sending.then((status) => {
        this.batches.delete(sending);
        this.finished.push(status);
      });
    }
    if (settings.unwind && this.batches.size === 0 && view.account(sender.address).positions.size > 0) {
      await this.unwind();
    }
    this.lastTick = {
      headBlock: head!.number,
      indexedThroughBlock: poll.toBlock,
      accountsTracked: view.accounts.size,
      liquidatable: candidates.length,
      batchesSent: started.length,
      batchesInFlight: this.batches.size,
    };
    return this.lastTick;
  }

  /** Waits for every batch in flight; returns the outcomes of the batches that finished since the last call. */
  async drain(): Promise<TxOutcome["status"][]> {
    while (this.batches.size > 0) await Promise.all([...this.batches]);
    const outcomes = this.finished;
    this.finished = [];
    return outcomes;
  }

  private async sendBatch(batch: LiquidationCandidate[], headBlock: number): Promise<TxOutcome["status"]> {
    const { clearinghouse, sender, logger } = this.deps;
    const keys = batch.map(intentKeyOf);
    for (const key of keys) this.inFlight.add(key);
    try {
      const requests = batch.map((c) => ({ account: c.account.address, seriesId: c.seriesId, maxQty: ALL }));
      const intent = {
        key: `liquidateBatch:${headBlock}:${keys.join(",")}`,
        to: await clearinghouse.getAddress(),
        data: clearinghouse.interface.encodeFunctionData("liquidateBatch", [requests]),
      };
      // A gas limit from the batch size saves the gas estimate (the slowest call of a send). If the batch needs
      // more (accounts with many orders), the simulation runs out of gas without revert data: estimate instead.
      let outcome = await sender.send({ ...intent, gasLimit: gasLimitOf(batch.length) });
      if (outcome.status === "simulation-failed" && isOutOfGas(outcome.error.revertData)) {
        outcome = await sender.send({ ...intent, key: `${intent.key}:estimated` });
      }
      for (const candidate of batch) {
        logger.info(
          {
            account: candidate.account.address,
            series: candidate.seriesId.toString(),
            sizeQty: candidate.sizeQty.toString(),
            equityX18: candidate.equityX18.toString(),
            maintenanceMarginX18: candidate.maintenanceMarginX18.toString(),
            outcome: outcome.status,
          },
          "liquidation sent",
        );
      }
      if (outcome.status === "simulation-failed") {
        const error = decodeRevertData(clearinghouse.interface, outcome.error.revertData) ?? outcome.error.message;
        logger.warn({ error }, "liquidation batch refused in simulation");
      }
      return outcome.status;
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, "liquidation batch failed");
      return "simulation-failed";
    } finally {
      for (const key of keys) this.inFlight.delete(key);
    }
  }

  /** Closes the keeper's own positions with reduce-only market orders (band edge, up to 50 fills). */
  private async unwind(): Promise<void> {
    const { clearinghouse, sender, view, logger } = this.deps;
    const own = view.account(sender.address);
    for (const [seriesId, position] of own.positions) {
      const params = {
        seriesId,
        account: sender.address,
        isBuy: position.sizeQty < 0n,
        kind: 4, // Market: tick 0 is the edge of the band
        reduceOnly: true,
        tick: 0n,
        qty: position.sizeQty < 0n ? -position.sizeQty : position.sizeQty,
        expiresAt: 0n,
        maxFills: 50,
      };
      const outcome = await sender.send({
        key: `unwind:${seriesId}:${position.sizeQty}:${view.blockNumber}`,
        to: await clearinghouse.getAddress(),
        data: clearinghouse.interface.encodeFunctionData("placeOrder", [params]),
      });
      logger.info(
        { series: seriesId.toString(), sizeQty: position.sizeQty.toString(), outcome: outcome.status },
        "unwind",
      );
    }
  }
}

/**
 * `items` rotated to start at a place derived from `keeperAddress`: competing keepers that see the same urgency
 * order start their batches at different accounts instead of racing for the same ones.
 */
function rotate<T>(items: T[], keeperAddress: string): T[] {
  if (items.length < 2) return items;
  const start = Number(BigInt(keeperAddress) % BigInt(items.length));
  return [...items.slice(start), ...items.slice(0, start)];
}

/**
 * Like `Promise.all`, but settles only after every promise settled, then throws the first error: a failed read
 * must not end the pass while the indexer's poll still runs (the next pass would find it busy).
 */
async function allOrFirstError<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<{
  -readonly [K in keyof T]: T[K];
}> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: T[K];
  };
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
