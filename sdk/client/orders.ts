/**
 * Trading: place every order type, cancel one, cancel all of an account in a series, replace. The request is in
 * human units (side, type, a USD price, contracts); the outcome is read from the receipt's events.
 */
import { OrderKind } from "../core/orderBook";
import type { OrderParams } from "../core/orderBook";
import { priceToTick } from "../units";
import type { Connection } from "./connection";
import { ExpiredSeriesError, InvalidOrderError, MissingEventError, StaleIndexError } from "./errors";
import { cancellationsIn, clearinghouseEventsOf, fillsIn, named } from "./receipt";
import { sendAndWait } from "./send";
import type { CancelOutcome, OrderOutcome, OrderRequest, OrderType, SeriesRef, Sent } from "./types";

/** Order types → `IOrderBook.OrderKind`. */
export const ORDER_KINDS: Readonly<Record<OrderType, OrderKind>> = {
  limit: OrderKind.Limit,
  "post-only": OrderKind.PostOnly,
  ioc: OrderKind.ImmediateOrCancel,
  fok: OrderKind.FillOrKill,
  market: OrderKind.Market,
};

/** Resting orders a taker may fill or remove unless the request says otherwise. */
export const DEFAULT_MAX_FILLS = 20;

/**
 * The contract parameters of a request, checked: side, type, a positive whole quantity, a price on the tick (a
 * bigint price is 18-decimal USD), a good-till time only on resting types.
 * @throws InvalidOrderError, InvalidAmountError or PriceNotOnTickError naming the bad field.
 */
export async function orderParamsOf(
  conn: Connection,
  request: OrderRequest,
): Promise<{ params: OrderParams; expiry: bigint; feedId: string }> {
  const spec = await conn.spec(request.series);
  if (request.side !== "buy" && request.side !== "sell") {
    throw new InvalidOrderError(`side must be "buy" or "sell", got "${String(request.side)}"`);
  }
  const type: OrderType = request.type ?? "limit";
  const kind = ORDER_KINDS[type];
  if (kind === undefined) throw new InvalidOrderError(`unknown type "${type}"`);
  const qty = BigInt(request.qty);
  if (qty <= 0n) throw new InvalidOrderError(`qty must be a positive number of contracts, got ${request.qty}`);
  let tick = 0n;
  if (request.price === undefined) {
    if (kind !== OrderKind.Market) throw new InvalidOrderError(`a ${type} order needs a price`);
  } else if (typeof request.price === "string") {
    tick = priceToTick(request.price, spec.tickSizeX18);
  } else {
    if (request.price <= 0n || request.price % spec.tickSizeX18 !== 0n) {
      throw new InvalidOrderError(`price ${request.price} (X18) is not a positive multiple of the tick size`);
    }
    tick = request.price / spec.tickSizeX18;
  }
  const resting = kind === OrderKind.Limit || kind === OrderKind.PostOnly;
  if (request.expiresAt !== undefined && !resting) {
    throw new InvalidOrderError("a good-till time is only for limit and post-only orders");
  }
  const maxFills = request.maxFills ?? DEFAULT_MAX_FILLS;
  if (!Number.isInteger(maxFills) || maxFills < 1 || maxFills > 255) {
    throw new InvalidOrderError(`maxFills must be a whole number from 1 to 255, got ${maxFills}`);
  }
  const account = await conn.accountOr(request.account, "placing an order");
  return {
    params: {
      seriesId: spec.seriesId,
      account,
      isBuy: request.side === "buy",
      kind,
      reduceOnly: request.reduceOnly === true,
      tick,
      qty,
      expiresAt: BigInt(request.expiresAt ?? 0),
      maxFills: BigInt(maxFills),
    },
    expiry: spec.expiry,
    feedId: spec.feedId,
  };
}

/**
 * Refuses before sending what the contract would refuse for the market's state: an expired series, and a stale
 * index for an order that may add risk (reduce-only orders trade on a stale index).
 */
async function checkMarketOpen(
  conn: Connection,
  seriesId: bigint,
  expiry: bigint,
  feedId: string,
  reduceOnly: boolean,
) {
  const [now, latest] = await Promise.all([conn.chainNow(), conn.oracle.peekLatest(feedId)]);
  if (now >= expiry) throw new ExpiredSeriesError(seriesId, expiry, now);
  if (!reduceOnly && latest.isStale) throw new StaleIndexError(seriesId, latest.observedAt);
}

/** Places an order and reports its id, fills, resting and cancelled quantities. */
export async function placeOrder(conn: Connection, request: OrderRequest): Promise<OrderOutcome> {
  conn.signer("placing an order");
  const { params, expiry, feedId } = await orderParamsOf(conn, request);
  await checkMarketOpen(conn, params.seriesId, expiry, feedId, params.reduceOnly);
  const sent = await sendAndWait(() => conn.clearinghouse.placeOrder(params));
  return orderOutcomeOf(conn, sent, params);
}

/** Cancels `orderId` and places `request` in one transaction (the new order keeps nothing of the old priority). */
export async function replaceOrder(conn: Connection, orderId: bigint, request: OrderRequest): Promise<OrderOutcome> {
  conn.signer("replacing an order");
  const { params, expiry, feedId } = await orderParamsOf(conn, request);
  await checkMarketOpen(conn, params.seriesId, expiry, feedId, params.reduceOnly);
  const sent = await sendAndWait(() => conn.clearinghouse.replaceOrder(orderId, params));
  return orderOutcomeOf(conn, sent, params);
}

/** Cancels one resting order. */
export async function cancelOrder(conn: Connection, orderId: bigint): Promise<CancelOutcome> {
  conn.signer("cancelling an order");
  return cancelOutcomeOf(conn, await sendAndWait(() => conn.clearinghouse.cancelOrder(orderId)));
}

/** Cancels every resting order of the signer (or `account`) in a series. */
export async function cancelAllOrders(conn: Connection, series: SeriesRef, account?: string): Promise<CancelOutcome> {
  conn.signer("cancelling orders");
  const { seriesId } = await conn.spec(series);
  const owner = await conn.accountOr(account, "cancelling orders");
  return cancelOutcomeOf(conn, await sendAndWait(() => conn.clearinghouse.cancelAllOrders(owner, seriesId)));
}

/** The outcome of a place or replace, from its events (a replace's cancellations include the replaced order). */
function orderOutcomeOf(conn: Connection, sent: Sent, params: OrderParams): OrderOutcome {
  const events = clearinghouseEventsOf(conn, sent.receipt);
  const placed = named(events, "OrderPlaced").find(
    (e) => (e.event.args.account as string).toLowerCase() === params.account.toLowerCase(),
  );
  const resting = params.kind === OrderKind.Limit || params.kind === OrderKind.PostOnly;
  if (resting && placed === undefined) throw new MissingEventError("OrderPlaced", sent.txHash);
  const orderId = placed === undefined ? 0n : (placed.event.args.orderId as bigint);
  const orderedQty = placed === undefined ? params.qty : (placed.event.args.qty as bigint);
  const fills = fillsIn(events);
  const cancellations = cancellationsIn(events);
  const filledQty = fills.reduce((sum, f) => sum + f.qty, 0n);
  const ownCancelledQty = cancellations
    .filter((c) => orderId !== 0n && c.orderId === orderId)
    .reduce((sum, c) => sum + c.cancelledQty, 0n);
  const restingQty = orderId === 0n ? 0n : orderedQty - filledQty - ownCancelledQty;
  return {
    ...sent,
    orderId,
    seriesId: params.seriesId,
    filledQty,
    restingQty,
    cancelledQty: params.qty - filledQty - restingQty,
    fills,
    takerFeeX18: fills.reduce((sum, f) => sum + f.takerFeeX18, 0n),
    cancellations,
  };
}

/** The outcome of a cancel, from its events. */
function cancelOutcomeOf(conn: Connection, sent: Sent): CancelOutcome {
  const cancellations = cancellationsIn(clearinghouseEventsOf(conn, sent.receipt));
  return { ...sent, cancellations, cancelledQty: cancellations.reduce((sum, c) => sum + c.cancelledQty, 0n) };
}
