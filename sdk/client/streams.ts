/**
 * Event streams: fills, orders, liquidations, index updates and settlement, for a series or an account. Each
 * subscription polls `eth_getLogs` from the block after the one current when it started, so it works on any node
 * (no filters or websockets needed), delivers every event exactly once in chain order, and stops on `unsubscribe`.
 * A failed poll is reported to `onError` and resumed at the next interval after the last event delivered; a
 * listener that throws is reported the same way and does not stop the stream.
 */
import type { BaseContract, Log, LogDescription, Provider } from "ethers";
import { toSdkError } from "../contractErrors";

/** Options of every subscription. */
export interface StreamOptions {
  /** First block to deliver; default the block after the current one. */
  fromBlock?: number;
  /** Milliseconds between polls; default 1,000. */
  pollIntervalMs?: number;
  /** Called with the SDK error when a poll or the listener fails (the subscription keeps going). */
  onError?: (error: Error) => void;
}

/** A running subscription. */
export interface Subscription {
  /** Stops polling; no callback runs after it returns. */
  unsubscribe(): void;
  /** The next block the subscription will read. */
  readonly nextBlock: number;
}

/** What a stream reads: one contract, some of its events, and which decoded events to deliver. */
export interface EventSource<T> {
  provider: Provider;
  contract: BaseContract;
  eventNames: readonly string[];
  /** Indexed-topic filters after topic0 (null: any), when every listed event shares them. */
  topics?: (string | null)[];
  /** Maps a decoded event to the value delivered, or undefined to skip it. */
  map(event: LogDescription, log: Log): T | undefined;
}

/** Starts polling `source` and calls `listener` with each mapped event, in chain order. */
export async function subscribe<T>(
  source: EventSource<T>,
  listener: (value: T) => void | Promise<void>,
  options: StreamOptions = {},
): Promise<Subscription> {
  const address = await source.contract.getAddress();
  const iface = source.contract.interface;
  const topic0 = source.eventNames.map((name) => {
    const fragment = iface.getEvent(name);
    if (fragment === null) throw new TypeError(`unknown event ${name}`);
    return fragment.topicHash;
  });
  let nextBlock = options.fromBlock ?? (await source.provider.getBlockNumber()) + 1;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const interval = options.pollIntervalMs ?? 1_000;

  // The last log delivered: a poll that fails halfway resumes after it, so nothing is delivered twice.
  let delivered: { block: number; index: number } | undefined;
  const report = (error: unknown): void => options.onError?.(toSdkError(error));

  const poll = async (): Promise<void> => {
    try {
      const latest = await source.provider.getBlockNumber();
      if (latest < nextBlock) return;
      const logs = await source.provider.getLogs({
        address,
        topics: [topic0, ...(source.topics ?? [])],
        fromBlock: nextBlock,
        toBlock: latest,
      });
      logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      for (const log of logs) {
        if (stopped) return;
        if (delivered !== undefined && isAtOrBefore(log, delivered)) continue;
        delivered = { block: log.blockNumber, index: log.index };
        const event = iface.parseLog(log);
        const value = event === null ? undefined : source.map(event, log);
        if (value === undefined) continue;
        try {
          await listener(value);
        } catch (error) {
          report(error);
        }
      }
      nextBlock = latest + 1;
    } catch (error) {
      report(error);
    }
  };
  const loop = async (): Promise<void> => {
    await poll();
    if (!stopped) timer = setTimeout(() => void loop(), interval);
  };
  timer = setTimeout(() => void loop(), 0);

  return {
    unsubscribe() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
    get nextBlock() {
      return nextBlock;
    },
  };
}

/** True when `log` comes at or before the position `mark`. */
function isAtOrBefore(log: Log, mark: { block: number; index: number }): boolean {
  return log.blockNumber < mark.block || (log.blockNumber === mark.block && log.index <= mark.index);
}
