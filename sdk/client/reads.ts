/**
 * Read calls: series, index, mark, TWAP, the book, accounts, positions, open orders and fill history. Each is one
 * or a few view calls (no transaction), in the exchange's units.
 */
import type { Log } from "ethers";
import type { Connection } from "./connection";
import { fillOf } from "./receipt";
import { riskParamsOf } from "./types";
import type {
  AccountSummary,
  BestBidAsk,
  BookDepth,
  BookLevel,
  Fill,
  IndexReading,
  OpenOrder,
  PositionSummary,
  SeriesInfo,
  SeriesRef,
  SettlementStatus,
  TwapReading,
} from "./types";
import { accountValuation } from "./valuation";

const SETTLEMENT_STATUS: readonly SettlementStatus[] = ["none", "proposed", "challenged", "final"];

/** Every listed series with its spec, risk parameters and settlement. */
export async function listSeries(conn: Connection): Promise<SeriesInfo[]> {
  return Promise.all((await conn.seriesIds()).map((id) => seriesInfo(conn, id)));
}

/** One series with its spec, current risk parameters and settlement. */
export async function seriesInfo(conn: Connection, ref: SeriesRef): Promise<SeriesInfo> {
  const spec = await conn.spec(ref);
  const [risk, settlement] = await Promise.all([
    conn.clearinghouse.riskParams(spec.seriesId),
    conn.clearinghouse.settlementOf(spec.seriesId),
  ]);
  return {
    ...spec,
    risk: riskParamsOf(risk),
    settlement: {
      status: SETTLEMENT_STATUS[Number(settlement.status)],
      governed: settlement.governed,
      finalAt: settlement.finalAt,
      priceX18: settlement.priceX18,
    },
  };
}

/** The latest accepted index round of the series' feed, stale or not. */
export async function indexOf(conn: Connection, ref: SeriesRef): Promise<IndexReading> {
  const spec = await conn.spec(ref);
  const [priceX18, observedAt, roundId, isStale] = await conn.oracle.peekLatest(spec.feedId);
  return { priceX18, observedAt, roundId, isStale };
}

/** The mark price (the settlement price once final). */
export async function markOf(conn: Connection, ref: SeriesRef): Promise<bigint> {
  return conn.clearinghouse.markPrice((await conn.spec(ref)).seriesId);
}

/**
 * The index TWAP over [fromTime, toTime]; by default the series' averaging window up to now (or to expiry once
 * passed), which is what the series settles at.
 */
export async function twapOf(
  conn: Connection,
  ref: SeriesRef,
  window: { fromTime?: bigint; toTime?: bigint } = {},
): Promise<TwapReading> {
  const spec = await conn.spec(ref);
  const fromTime = window.fromTime ?? spec.expiry - spec.averagingWindowSec;
  let toTime = window.toTime;
  if (toTime === undefined) {
    const now = await conn.chainNow();
    toTime = now < spec.expiry ? now : spec.expiry;
  }
  const [twapX18, rounds, methodologyVersion] = await conn.oracle.twapWithInfo(spec.feedId, fromTime, toTime);
  return { twapX18, fromTime, toTime, rounds, methodologyVersion: BigInt(methodologyVersion) };
}

/** The best bid and ask. */
export async function bestBidAskOf(conn: Connection, ref: SeriesRef): Promise<BestBidAsk> {
  const { seriesId } = await conn.spec(ref);
  const [bid, ask] = await conn.lens.bestBidAsk(seriesId);
  const level = (top: typeof bid): BookLevel | undefined =>
    top.exists ? { tick: top.tick, priceX18: top.priceX18, qty: top.qty, orderCount: top.orderCount } : undefined;
  return { bid: level(bid), ask: level(ask) };
}

/** Up to `levels` price levels a side, best first. */
export async function depthOf(conn: Connection, ref: SeriesRef, levels = 10): Promise<BookDepth> {
  const { seriesId } = await conn.spec(ref);
  const [bids, asks] = await conn.lens.depth(seriesId, levels);
  const level = (d: (typeof bids)[number]): BookLevel => ({
    tick: d.tick,
    priceX18: d.priceX18,
    qty: d.qty,
    orderCount: d.orderCount,
  });
  return { bids: bids.map(level), asks: asks.map(level) };
}

/** An account's resting orders, in one series or in every series it trades. */
export async function openOrdersOf(conn: Connection, account: string, ref?: SeriesRef): Promise<OpenOrder[]> {
  const seriesIds = ref === undefined ? await conn.clearinghouse.seriesOf(account) : [(await conn.spec(ref)).seriesId];
  const perSeries = await Promise.all(
    seriesIds.map(async (seriesId) => {
      const { tickSizeX18 } = await conn.spec(seriesId);
      const orders = await conn.lens.openOrders(account, seriesId);
      return orders.map((o): OpenOrder => ({
        orderId: o.orderId,
        account: o.account,
        seriesId: o.seriesId,
        side: o.isBuy ? "buy" : "sell",
        reduceOnly: o.reduceOnly,
        tick: o.tick,
        priceX18: o.tick * tickSizeX18,
        qty: o.qty,
        expiresAt: o.expiresAt,
      }));
    }),
  );
  return perSeries.flat();
}

/** An account's positions valued at the marks, with their PnL and liquidation prices. */
export async function positionsOf(conn: Connection, account: string): Promise<PositionSummary[]> {
  return (await accountOf(conn, account)).positions;
}

/** An account's cash, equity, margins, free collateral and positions. */
export async function accountOf(conn: Connection, account: string): Promise<AccountSummary> {
  const [health, seriesIds] = await Promise.all([
    conn.clearinghouse.accountHealth(account),
    conn.clearinghouse.seriesOf(account),
  ]);
  const held = await Promise.all(
    seriesIds.map(async (seriesId) => {
      const [spec, risk, position, markX18, settlement] = await Promise.all([
        conn.spec(seriesId),
        conn.clearinghouse.riskParams(seriesId),
        conn.clearinghouse.positionOf(account, seriesId),
        conn.clearinghouse.markPrice(seriesId),
        conn.clearinghouse.settlementOf(seriesId),
      ]);
      return {
        spec,
        mmBps: risk.mmBps,
        sizeQty: position.sizeQty,
        openNotionalX18: position.openNotionalX18,
        markX18,
        settled: SETTLEMENT_STATUS[Number(settlement.status)] === "final",
      };
    }),
  );
  return accountValuation(
    account,
    {
      cashX18: health.cashX18,
      unrealizedPnlX18: health.unrealizedPnlX18,
      equityX18: health.equityX18,
      initialMarginX18: health.initialMarginX18,
      maintenanceMarginX18: health.maintenanceMarginX18,
      withdrawableX18: health.withdrawableX18,
      orderMarginX18: health.orderMarginX18,
    },
    held.filter((p) => p.sizeQty !== 0n),
  );
}

/** Filters of the fill history. */
export interface FillQuery {
  /** Fills where this account was maker or taker. */
  account?: string;
  series?: SeriesRef;
  fromBlock?: number;
  toBlock?: number;
}

/** Fills from the `OrderFilled` events, oldest first. */
export async function fillsOf(conn: Connection, query: FillQuery = {}): Promise<Fill[]> {
  const seriesId = query.series === undefined ? undefined : (await conn.spec(query.series)).seriesId;
  const filter = conn.clearinghouse.filters.OrderFilled(seriesId);
  const logs = await conn.clearinghouse.queryFilter(filter, query.fromBlock ?? 0, query.toBlock ?? "latest");
  const fills = logs.map((log) => fillOf(conn.clearinghouse.interface.parseLog(log as Log)!, log as Log));
  const account = query.account?.toLowerCase();
  return account === undefined
    ? fills
    : fills.filter((f) => f.maker.toLowerCase() === account || f.taker.toLowerCase() === account);
}
