/**
 * The client's streams: fills, orders, liquidations, index updates and settlement, each for a series and/or an
 * account. Built on `subscribe` (log polling); every callback receives a typed event in the exchange's units.
 */
import type { Log, LogDescription } from "ethers";
import { toBeHex, zeroPadValue } from "ethers";
import type { Connection } from "./connection";
import { bytes32Text } from "./connection";
import { cancellationOf, fillOf } from "./receipt";
import { subscribe } from "./streams";
import type { StreamOptions, Subscription } from "./streams";
import type { Cancellation, Fill, OrderType, SeriesRef, Side } from "./types";

/** Which events a stream delivers: of one series, of one account, or both. */
export interface StreamFilter {
  series?: SeriesRef;
  account?: string;
}

/** Where an event was logged. */
export interface EventMeta {
  blockNumber: number;
  txHash: string;
}

/** An order accepted on the book (`OrderPlaced`) or (part of) one leaving it (`OrderCancelled`). */
export type OrderEvent =
  | ({
      type: "placed";
      seriesId: bigint;
      orderId: bigint;
      account: string;
      side: Side;
      orderType: OrderType;
      reduceOnly: boolean;
      priceX18: bigint;
      qty: bigint;
      expiresAt: bigint;
    } & EventMeta)
  | ({ type: "cancelled" } & Cancellation);

/** A liquidation, a deleveraging leg, or a resolved deficit. */
export type LiquidationEvent =
  | ({
      type: "liquidated";
      account: string;
      liquidator: string;
      seriesId: bigint;
      sizeChangeQty: bigint;
      markX18: bigint;
      penaltyX18: bigint;
      liquidatorRewardX18: bigint;
    } & EventMeta)
  | ({
      type: "deleveraged";
      account: string;
      counterparty: string;
      seriesId: bigint;
      sizeChangeQty: bigint;
      markX18: bigint;
      haircutX18: bigint;
    } & EventMeta)
  | ({
      type: "deficit-resolved";
      account: string;
      deficitX18: bigint;
      fromInsuranceX18: bigint;
      fromHaircutsX18: bigint;
      uncoveredX18: bigint;
    } & EventMeta);

/** An index round accepted by the oracle. */
export interface IndexUpdate extends EventMeta {
  feedId: string;
  /** Feed symbol, e.g. `AIT`. */
  feed: string;
  roundId: bigint;
  priceX18: bigint;
  observedAt: bigint;
}

/** A settlement price proposed, challenged or set by governance, or an account closed at it. */
export type SettlementEvent =
  | ({ type: "proposed"; seriesId: bigint; priceX18: bigint; roundsInWindow: bigint; finalAt: bigint } & EventMeta)
  | ({ type: "challenged"; seriesId: bigint; guardian: string; priceX18: bigint } & EventMeta)
  | ({ type: "governed"; seriesId: bigint; priceX18: bigint; referencePriceX18: bigint } & EventMeta)
  | ({ type: "account-settled"; account: string; seriesId: bigint; sizeQty: bigint; pnlX18: bigint } & EventMeta);

const ORDER_TYPES: readonly OrderType[] = ["limit", "post-only", "ioc", "fok", "market"];

/** Fills of a series and/or an account (as maker or taker). */
export async function onFill(
  conn: Connection,
  filter: StreamFilter,
  listener: (fill: Fill) => void | Promise<void>,
  options?: StreamOptions,
): Promise<Subscription> {
  const match = await matcher(conn, filter);
  return subscribe(
    {
      provider: conn.provider,
      contract: conn.clearinghouse,
      eventNames: ["OrderFilled"],
      topics: [match.seriesTopic],
      map: (event, log) => {
        const fill = fillOf(event, log);
        return match.series(fill.seriesId) && match.account(fill.maker, fill.taker) ? fill : undefined;
      },
    },
    listener,
    options,
  );
}

/** Orders placed and cancelled in a series and/or by an account. */
export async function onOrder(
  conn: Connection,
  filter: StreamFilter,
  listener: (event: OrderEvent) => void | Promise<void>,
  options?: StreamOptions,
): Promise<Subscription> {
  const match = await matcher(conn, filter);
  return subscribe(
    {
      provider: conn.provider,
      contract: conn.clearinghouse,
      eventNames: ["OrderPlaced", "OrderCancelled"],
      topics: [match.seriesTopic, null, match.accountTopic],
      map: (event, log): OrderEvent => {
        if (event.name === "OrderCancelled") return { type: "cancelled", ...cancellationOf(event, log) };
        const a = event.args;
        return {
          type: "placed",
          seriesId: a.seriesId as bigint,
          orderId: a.orderId as bigint,
          account: a.account as string,
          side: (a.isBuy as boolean) ? "buy" : "sell",
          orderType: ORDER_TYPES[Number(a.kind)],
          reduceOnly: a.reduceOnly as boolean,
          priceX18: a.priceX18 as bigint,
          qty: a.qty as bigint,
          expiresAt: a.expiresAt as bigint,
          ...meta(log),
        };
      },
    },
    listener,
    options,
  );
}

/** Liquidations, deleveraging legs and resolved deficits of a series and/or an account (either side). */
export async function onLiquidation(
  conn: Connection,
  filter: StreamFilter,
  listener: (event: LiquidationEvent) => void | Promise<void>,
  options?: StreamOptions,
): Promise<Subscription> {
  const match = await matcher(conn, filter);
  return subscribe(
    {
      provider: conn.provider,
      contract: conn.clearinghouse,
      eventNames: ["Liquidated", "Deleveraged", "DeficitResolved"],
      map: (event, log) => {
        const value = liquidationEventOf(event, log);
        const seriesId = "seriesId" in value ? value.seriesId : undefined;
        const other =
          value.type === "liquidated" ? value.liquidator : value.type === "deleveraged" ? value.counterparty : "";
        if (seriesId === undefined ? filter.series !== undefined : !match.series(seriesId)) return undefined;
        return match.account(value.account, other) ? value : undefined;
      },
    },
    listener,
    options,
  );
}

/** Index rounds accepted for the feed of a series. */
export async function onIndexUpdate(
  conn: Connection,
  series: SeriesRef,
  listener: (update: IndexUpdate) => void | Promise<void>,
  options?: StreamOptions,
): Promise<Subscription> {
  const { feedId } = await conn.spec(series);
  return subscribe(
    {
      provider: conn.provider,
      contract: conn.oracle,
      eventNames: ["RoundAccepted"],
      topics: [feedId],
      map: (event, log) => ({
        feedId: event.args.feedId as string,
        feed: bytes32Text(event.args.feedId as string),
        roundId: event.args.roundId as bigint,
        priceX18: event.args.priceX18 as bigint,
        observedAt: event.args.observedAt as bigint,
        ...meta(log),
      }),
    },
    listener,
    options,
  );
}

/** Settlement of a series and/or of an account's positions. */
export async function onSettlement(
  conn: Connection,
  filter: StreamFilter,
  listener: (event: SettlementEvent) => void | Promise<void>,
  options?: StreamOptions,
): Promise<Subscription> {
  const match = await matcher(conn, filter);
  return subscribe(
    {
      provider: conn.provider,
      contract: conn.clearinghouse,
      eventNames: ["SettlementProposed", "SettlementChallenged", "SettlementGoverned", "AccountSettled"],
      map: (event, log) => {
        const value = settlementEventOf(event, log);
        if (!match.series(value.seriesId)) return undefined;
        if (value.type !== "account-settled") return filter.account === undefined ? value : undefined;
        return match.account(value.account, "") ? value : undefined;
      },
    },
    listener,
    options,
  );
}

/** The filter's predicates and, where the event indexes them, its topics. */
async function matcher(conn: Connection, filter: StreamFilter) {
  const seriesId = filter.series === undefined ? undefined : (await conn.spec(filter.series)).seriesId;
  const account = filter.account?.toLowerCase();
  return {
    seriesTopic: seriesId === undefined ? null : toBeHex(seriesId, 32),
    accountTopic: account === undefined ? null : zeroPadValue(account, 32),
    series: (id: bigint) => seriesId === undefined || id === seriesId,
    account: (first: string, second: string) =>
      account === undefined || first.toLowerCase() === account || second.toLowerCase() === account,
  };
}

function meta(log: Log): EventMeta {
  return { blockNumber: log.blockNumber, txHash: log.transactionHash };
}

function liquidationEventOf(event: LogDescription, log: Log): LiquidationEvent {
  const a = event.args;
  if (event.name === "Liquidated") {
    return {
      type: "liquidated",
      account: a.account as string,
      liquidator: a.liquidator as string,
      seriesId: a.seriesId as bigint,
      sizeChangeQty: a.sizeChangeQty as bigint,
      markX18: a.markX18 as bigint,
      penaltyX18: a.penaltyX18 as bigint,
      liquidatorRewardX18: a.liquidatorRewardX18 as bigint,
      ...meta(log),
    };
  }
  if (event.name === "Deleveraged") {
    return {
      type: "deleveraged",
      account: a.account as string,
      counterparty: a.counterparty as string,
      seriesId: a.seriesId as bigint,
      sizeChangeQty: a.sizeChangeQty as bigint,
      markX18: a.markX18 as bigint,
      haircutX18: a.haircutX18 as bigint,
      ...meta(log),
    };
  }
  return {
    type: "deficit-resolved",
    account: a.account as string,
    deficitX18: a.deficitX18 as bigint,
    fromInsuranceX18: a.fromInsuranceX18 as bigint,
    fromHaircutsX18: a.fromHaircutsX18 as bigint,
    uncoveredX18: a.uncoveredX18 as bigint,
    ...meta(log),
  };
}

function settlementEventOf(event: LogDescription, log: Log): SettlementEvent {
  const a = event.args;
  const seriesId = a.seriesId as bigint;
  switch (event.name) {
    case "SettlementProposed":
      return {
        type: "proposed",
        seriesId,
        priceX18: a.priceX18 as bigint,
        roundsInWindow: a.roundsInWindow as bigint,
        finalAt: a.finalAt as bigint,
        ...meta(log),
      };
    case "SettlementChallenged":
      return {
        type: "challenged",
        seriesId,
        guardian: a.guardian as string,
        priceX18: a.priceX18 as bigint,
        ...meta(log),
      };
    case "SettlementGoverned":
      return {
        type: "governed",
        seriesId,
        priceX18: a.priceX18 as bigint,
        referencePriceX18: a.referencePriceX18 as bigint,
        ...meta(log),
      };
    default:
      return {
        type: "account-settled",
        account: a.account as string,
        seriesId,
        sizeQty: a.sizeQty as bigint,
        pnlX18: a.pnlX18 as bigint,
        ...meta(log),
      };
  }
}
