/**
 * The client's inputs and results, in the exchange's units: prices as 18-decimal fixed point (`...X18`, USD per
 * 1.0 of index), quantities in whole contracts (`...Qty`), collateral in token units (`...Raw`) or 18 decimals.
 * Inputs also take human values: a price as a decimal string of USD ("4.05"), an amount as a decimal string of
 * tokens ("1000.5").
 */
import type { ContractTransactionReceipt } from "ethers";

/** A series by symbol (`AIT-2027-01`) or id. */
export type SeriesRef = string | number | bigint;

/** A price: a decimal string of USD ("4.05") or 18-decimal fixed point. */
export type PriceInput = string | bigint;

/** A collateral amount: a decimal string of tokens ("1000.5") or token units. */
export type AmountInput = string | bigint;

/** Buy (go longer) or sell (go shorter). */
export type Side = "buy" | "sell";

/** Order types: good-till-cancel limit, post-only, immediate-or-cancel, fill-or-kill, market. */
export type OrderType = "limit" | "post-only" | "ioc" | "fok" | "market";

/** Risk parameters of a series (`IClearinghouse.RiskParams`). */
export interface SeriesRisk {
  imBps: bigint;
  mmBps: bigint;
  orderBandBps: bigint;
  liquidationPenaltyBps: bigint;
  /** Negative: a rebate. */
  makerFeeBps: bigint;
  takerFeeBps: bigint;
  positionLimitQty: bigint;
  openInterestCapQty: bigint;
}

/** Where a series is in its settlement (`IClearinghouse.SettlementStatus`). */
export type SettlementStatus = "none" | "proposed" | "challenged" | "final";

/** A series' immutable spec as the client uses it. */
export interface SeriesSpecView {
  seriesId: bigint;
  /** E.g. `AIT-2027-01`. */
  symbol: string;
  /** Index feed symbol, e.g. `AIT`. */
  feed: string;
  /** bytes32 id of the feed in the oracle. */
  feedId: string;
  /** Unix seconds. */
  expiry: bigint;
  averagingWindowSec: bigint;
  methodologyVersion: bigint;
  minSettlementRounds: bigint;
  /** USD of notional per 1.0 of index per contract. */
  multiplier: bigint;
  tickSizeX18: bigint;
  /** Smallest order quantity and lot, in contracts. */
  minQty: bigint;
}

/** A listed series with its spec, risk parameters and settlement. */
export interface SeriesInfo extends SeriesSpecView {
  risk: SeriesRisk;
  settlement: { status: SettlementStatus; governed: boolean; finalAt: bigint; priceX18: bigint };
}

/** The risk parameters of `IClearinghouse.riskParams` (or a `RiskParamsSet` event) as plain bigints. */
export function riskParamsOf(risk: { [K in keyof SeriesRisk]: bigint }): SeriesRisk {
  return {
    imBps: risk.imBps,
    mmBps: risk.mmBps,
    orderBandBps: risk.orderBandBps,
    liquidationPenaltyBps: risk.liquidationPenaltyBps,
    makerFeeBps: risk.makerFeeBps,
    takerFeeBps: risk.takerFeeBps,
    positionLimitQty: risk.positionLimitQty,
    openInterestCapQty: risk.openInterestCapQty,
  };
}

/** The latest accepted index round of a series' feed. */
export interface IndexReading {
  priceX18: bigint;
  /** Unix seconds. */
  observedAt: bigint;
  roundId: bigint;
  /** Older than the feed's maximum age: orders that add risk are refused. */
  isStale: boolean;
}

/** A time-weighted average of the index. */
export interface TwapReading {
  twapX18: bigint;
  fromTime: bigint;
  toTime: bigint;
  /** Rounds observed inside the window. */
  rounds: bigint;
  methodologyVersion: bigint;
}

/** One price level of one side of a book. */
export interface BookLevel {
  tick: bigint;
  priceX18: bigint;
  qty: bigint;
  orderCount: bigint;
}

/** The best bid and ask; undefined on an empty side. */
export interface BestBidAsk {
  bid?: BookLevel;
  ask?: BookLevel;
}

/** Depth by level, best first. */
export interface BookDepth {
  bids: BookLevel[];
  asks: BookLevel[];
}

/** A position valued at the mark. */
export interface PositionSummary {
  seriesId: bigint;
  symbol: string;
  /** Signed contracts: long > 0, short < 0. */
  sizeQty: bigint;
  /** Signed cost basis (size x average entry x multiplier). */
  openNotionalX18: bigint;
  /** Average entry price, rounded toward zero. */
  entryPriceX18: bigint;
  /** The mark (the settlement price once final). */
  markX18: bigint;
  unrealizedPnlX18: bigint;
  /** Mark at which the account becomes liquidatable, other marks held; undefined when none is or once settled. */
  liquidationPriceX18?: bigint;
}

/** An account's margin and positions at the current marks. */
export interface AccountSummary {
  account: string;
  cashX18: bigint;
  unrealizedPnlX18: bigint;
  equityX18: bigint;
  initialMarginX18: bigint;
  maintenanceMarginX18: bigint;
  /** Part of the initial margin reserved for resting orders. */
  orderMarginX18: bigint;
  /** What a withdrawal may take now: max(0, min(cash, equity - initial margin)). */
  withdrawableX18: bigint;
  /** What a withdrawal may take (sdk/core `freeCollateralX18`; equals `withdrawableX18`). */
  freeCollateralX18: bigint;
  /** Equity above initial margin: room for new risk (negative when below initial margin). */
  availableMarginX18: bigint;
  /** Equity over maintenance margin, in bps (below 10,000: liquidatable); undefined with no maintenance margin. */
  marginRatioBps?: bigint;
  /** Equity below maintenance margin. */
  liquidatable: boolean;
  positions: PositionSummary[];
}

/** A resting order. */
export interface OpenOrder {
  orderId: bigint;
  account: string;
  seriesId: bigint;
  side: Side;
  reduceOnly: boolean;
  tick: bigint;
  priceX18: bigint;
  /** Contracts still resting. */
  qty: bigint;
  /** Unix seconds; 0: until cancelled. */
  expiresAt: bigint;
}

/** One fill of a resting order, from its `OrderFilled` event. */
export interface Fill {
  seriesId: bigint;
  makerOrderId: bigint;
  maker: string;
  taker: string;
  /** 0 for immediate order kinds. */
  takerOrderId: bigint;
  takerSide: Side;
  priceX18: bigint;
  qty: bigint;
  /** Negative: a rebate. */
  makerFeeX18: bigint;
  takerFeeX18: bigint;
  blockNumber: number;
  txHash: string;
  logIndex: number;
}

/** Why (part of) an order left the book without filling (`IOrderBook.CancelReason`). */
export type CancelReasonName =
  | "owner"
  | "replaced"
  | "self-trade"
  | "unfilled"
  | "expired"
  | "out-of-band"
  | "reduce-only-clipped"
  | "unhealthy"
  | "series-expired";

/** (Part of) an order leaving the book, from its `OrderCancelled` event. */
export interface Cancellation {
  seriesId: bigint;
  orderId: bigint;
  account: string;
  cancelledQty: bigint;
  reason: CancelReasonName;
  blockNumber: number;
  txHash: string;
}

/** An order to place. */
export interface OrderRequest {
  series: SeriesRef;
  side: Side;
  /** Default `limit`. */
  type?: OrderType;
  /** Contracts, a multiple of the series' lot. */
  qty: bigint | number;
  /** Limit price (worst price for ioc, fok and market). Required except for `market`, whose default is the band's edge. */
  price?: PriceInput;
  reduceOnly?: boolean;
  /** Good-till time in unix seconds (limit and post-only only). */
  expiresAt?: bigint | number;
  /** Most resting orders this order may fill or remove; default 20. */
  maxFills?: number;
  /** The account to trade for (the signer or an account it operates); default the signer. */
  account?: string;
}

/** Every action's transaction. */
export interface Sent {
  txHash: string;
  receipt: ContractTransactionReceipt;
}

/** What a placed order did. */
export interface OrderOutcome extends Sent {
  /** Id of the resting order, 0 when nothing rests (immediate kinds). */
  orderId: bigint;
  seriesId: bigint;
  filledQty: bigint;
  restingQty: bigint;
  cancelledQty: bigint;
  /** Fills of this order as taker, in match order. */
  fills: Fill[];
  takerFeeX18: bigint;
  /** Every cancellation the transaction caused (this order's remainder, self-trades, stale makers). */
  cancellations: Cancellation[];
}

/** What a cancel did. */
export interface CancelOutcome extends Sent {
  cancellations: Cancellation[];
  cancelledQty: bigint;
}

/** What a deposit did. */
export interface DepositOutcome extends Sent {
  amountRaw: bigint;
  amountX18: bigint;
  /** How the allowance was granted: already there, a permit signature, or an approve transaction. */
  allowance: "existing" | "permit" | "approve";
  /** The permit or approve transaction, when one was needed. */
  allowanceTxHash?: string;
}

/** What a withdrawal did. */
export interface WithdrawOutcome extends Sent {
  amountRaw: bigint;
  to: string;
}

/** What a settlement did: the accounts closed and their PnL. */
export interface SettleOutcome extends Sent {
  settled: { account: string; seriesId: bigint; sizeQty: bigint; pnlX18: bigint }[];
}
