/**
 * Typed results from a mined transaction's events: fills, cancellations, placed orders, deposits and settlements.
 * The events are the contracts' own account of what happened, so the client never re-derives a result.
 */
import type { ContractTransactionReceipt, Log, LogDescription } from "ethers";
import type { Connection } from "./connection";
import type { CancelReasonName, Cancellation, Fill } from "./types";

/** `IOrderBook.CancelReason` by enum value. */
export const CANCEL_REASONS: readonly CancelReasonName[] = [
  "owner",
  "replaced",
  "self-trade",
  "unfilled",
  "expired",
  "out-of-band",
  "reduce-only-clipped",
  "unhealthy",
  "series-expired",
];

/** A decoded event with the log it came from. */
export interface ReceiptEvent {
  event: LogDescription;
  log: Log;
}

/** The clearinghouse's events in `receipt`, decoded, in log order. */
export function clearinghouseEventsOf(conn: Connection, receipt: ContractTransactionReceipt): ReceiptEvent[] {
  const address = conn.addresses.clearinghouse.toLowerCase();
  const events: ReceiptEvent[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const event = conn.clearinghouse.interface.parseLog(log);
    if (event !== null) events.push({ event, log });
  }
  return events;
}

/** The events named `name`. */
export function named(events: readonly ReceiptEvent[], name: string): ReceiptEvent[] {
  return events.filter((e) => e.event.name === name);
}

/** A fill from its `OrderFilled` event. */
export function fillOf(event: LogDescription, log: Log): Fill {
  const a = event.args;
  return {
    seriesId: a.seriesId as bigint,
    makerOrderId: a.makerOrderId as bigint,
    maker: a.maker as string,
    taker: a.taker as string,
    takerOrderId: a.takerOrderId as bigint,
    takerSide: (a.takerIsBuy as boolean) ? "buy" : "sell",
    priceX18: a.priceX18 as bigint,
    qty: a.qty as bigint,
    makerFeeX18: a.makerFeeX18 as bigint,
    takerFeeX18: a.takerFeeX18 as bigint,
    blockNumber: log.blockNumber,
    txHash: log.transactionHash,
    logIndex: logIndexOf(log),
  };
}

/** A cancellation from its `OrderCancelled` event. */
export function cancellationOf(event: LogDescription, log: Log): Cancellation {
  const a = event.args;
  return {
    seriesId: a.seriesId as bigint,
    orderId: a.orderId as bigint,
    account: a.account as string,
    cancelledQty: a.cancelledQty as bigint,
    reason: CANCEL_REASONS[Number(a.reason)],
    blockNumber: log.blockNumber,
    txHash: log.transactionHash,
  };
}

/** Every fill of a receipt's events. */
export function fillsIn(events: readonly ReceiptEvent[]): Fill[] {
  return named(events, "OrderFilled").map((e) => fillOf(e.event, e.log));
}

/** Every cancellation of a receipt's events. */
export function cancellationsIn(events: readonly ReceiptEvent[]): Cancellation[] {
  return named(events, "OrderCancelled").map((e) => cancellationOf(e.event, e.log));
}

/** A log's position in its block (`index` in ethers v6 logs, `logIndex` in raw ones). */
function logIndexOf(log: Log): number {
  const withIndex = log as Log & { logIndex?: number };
  return typeof withIndex.index === "number" ? withIndex.index : (withIndex.logIndex ?? 0);
}
