/**
 * The order book: the reference model of `OrderBookLogic`, `OrderQueue` and `OrderCancelLogic`, with the
 * parts of `TradeLogic`, `MarginLogic` and `Clearinghouse` they run through (context and band, fills,
 * open interest, fees, the basis sample, account health with the order reserve, deposits and withdrawals).
 *
 * One or more series (`spec` and `moreSeries`), each with its own book, positions, order sums, market
 * state, risk parameters and settlement, and the accounts' cash across them: health sums every series in
 * the account's series set, which keeps the contract's lane order (`SeriesSet`). bigint only, no chain
 * access: the caller passes the block time, the caller's address and the oracle's latest reading
 * (`OracleReading`, one for every series or one per series).
 * Every operation either succeeds, changing the state and returning the events the contract emits (in
 * emission order), or reverts with the contract's custom error (name and arguments) and changes nothing.
 * Each method mirrors the Solidity function of the same name, check for check and rounding for rounding;
 * the rules are in `IOrderBook`.
 *
 * Settlement (`SettlementLogic`, `settleAccount`, lazy settlement): `finalizeSettlement`, `challengeSettlement`,
 * `setSettlementPriceByGovernance`, `settleAccount` and `settleAccounts`; the caller passes what the oracle says
 * about the averaging window (`SettlementOracleData`). Outside the model: collateral token transfers (the caller
 * checks balances). Addresses are compared as given:
 * pass them in one spelling (checksummed, as ethers returns them).
 *
 * Only canonical order ids name an order (`OrderQueue.requireOrder`).
 *
 * Liquidation and deficits (`LiquidationLogic`, `DeficitLogic`, `PositionTransfer`, the rules in
 * `ILiquidation`): `liquidate`, `liquidateBatch`, `deleverage`, `coverDeficit`, and the insurance fund's
 * `contributeInsurance` and `withdrawInsurance`, in their own section below. Listed series the model does
 * not trade (ids 1..seriesCount without a spec) are assumed to share the first series' feed and expiry,
 * and no account holds a position or an order in them.
 */
import { TokenpitError } from "../errors";
import { BPS } from "../math/bps";
import { mulDivDown, mulDivUp } from "../units";
import { abs } from "./fixedPoint";
import { BASIS_EMA_PERIOD_SEC, basisAt, clampBasis, markFrom } from "./mark";
import { applyTrade, feeX18, notionalX18, raisesRisk, requirementX18, unrealizedPnlX18 } from "./position";
import type { PositionState } from "./position";
import { governanceBounds, rawToX18 } from "./settlement";
import { LIQUIDATOR_PENALTY_SHARE_BPS, deleverageHaircuts, liquidationPenalty, liquidationSize } from "./liquidation";

// ---------------------------------------------------------------------------------------------
// Constants and enums
// ---------------------------------------------------------------------------------------------

/** Largest tick of a book (`TickBitmap.MAX_TICK`). */
export const MAX_TICK = 2n ** 24n - 1n;
/** Most resting orders one taker order may fill or remove (`OrderBookLogic.MAX_FILLS`). */
export const MAX_FILLS = 50n;
/** Largest order, and largest resting quantity of one account on one side (`OrderQueue.MAX_ORDER_QTY`). */
export const MAX_ORDER_QTY = 2n ** 32n - 1n;
/** Most resting orders of one account in one series (`OrderQueue.MAX_OPEN_ORDERS`). */
export const MAX_OPEN_ORDERS = 32n;
/** Largest raw amount of one deposit or withdrawal (`Clearinghouse.MAX_AMOUNT_RAW`). */
export const MAX_DEPOSIT_RAW = 2n ** 128n - 1n;
/** The zero address. */
export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
/** The insurance fund's name in `PoolBalanceTooLow` (`Clearinghouse.INSURANCE_POOL`, bytes32 "insurance"). */
export const INSURANCE_POOL_ID = `0x${[..."insurance"]
  .map((c) => c.charCodeAt(0).toString(16).padStart(2, "0"))
  .join("")
  .padEnd(64, "0")}`;

/** `IOrderBook.OrderKind`. */
export const OrderKind = { Limit: 0, PostOnly: 1, ImmediateOrCancel: 2, FillOrKill: 3, Market: 4 } as const;
export type OrderKind = (typeof OrderKind)[keyof typeof OrderKind];

/** `IOrderBook.CancelReason`. */
export const CancelReason = {
  Owner: 0,
  Replaced: 1,
  SelfTrade: 2,
  Unfilled: 3,
  Expired: 4,
  OutOfBand: 5,
  ReduceOnlyClipped: 6,
  Unhealthy: 7,
  SeriesExpired: 8,
} as const;
export type CancelReason = (typeof CancelReason)[keyof typeof CancelReason];

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** `IOrderBook.OrderParams`. */
export interface OrderParams {
  seriesId: bigint;
  account: string;
  isBuy: boolean;
  kind: OrderKind;
  reduceOnly: boolean;
  tick: bigint;
  qty: bigint;
  expiresAt: bigint;
  maxFills: bigint;
}

/** `IOrderBook.PlaceResult`. */
export interface PlaceResult {
  orderId: bigint;
  filledQty: bigint;
  restingQty: bigint;
  cancelledQty: bigint;
}

/** `IOrderBook.OrderView`. */
export interface OrderView {
  orderId: bigint;
  account: string;
  seriesId: bigint;
  isBuy: boolean;
  reduceOnly: boolean;
  tick: bigint;
  qty: bigint;
  expiresAt: bigint;
}

/** `IOrderBook.LevelView`. */
export interface LevelView {
  tick: bigint;
  qty: bigint;
  orderCount: bigint;
  headOrderId: bigint;
}

/** `IOrderBook.ExposureView`. */
export interface ExposureView {
  buyQty: bigint;
  sellQty: bigint;
  buyTickQty: bigint;
  sellTickQty: bigint;
  openOrders: bigint;
  sequence: bigint;
}

/** One fill of a resting (maker) order: the arguments of `OrderFilled`. */
export interface BookFill {
  makerOrderId: bigint;
  maker: string;
  taker: string;
  takerOrderId: bigint;
  takerIsBuy: boolean;
  priceX18: bigint;
  qty: bigint;
  makerFeeX18: bigint;
  takerFeeX18: bigint;
}

/** An event the clearinghouse emits, with its arguments (`seriesId` omitted: the model has one series). */
export type BookEvent =
  | {
      name: "OrderPlaced";
      seriesId: bigint;
      orderId: bigint;
      account: string;
      isBuy: boolean;
      kind: OrderKind;
      reduceOnly: boolean;
      priceX18: bigint;
      qty: bigint;
      expiresAt: bigint;
    }
  | ({ name: "OrderFilled"; seriesId: bigint } & BookFill)
  | {
      name: "OrderCancelled";
      seriesId: bigint;
      orderId: bigint;
      account: string;
      cancelledQty: bigint;
      reason: CancelReason;
    }
  | {
      name: "TakerOrderFilled";
      seriesId: bigint;
      taker: string;
      takerOrderId: bigint;
      isBuy: boolean;
      filledQty: bigint;
      notionalX18: bigint;
      takerFeeX18: bigint;
    }
  | { name: "BasisSampled"; seriesId: bigint; sampleX18: bigint; emaX18: bigint }
  | { name: "Deposited"; account: string; from: string; amountRaw: bigint; amountX18: bigint }
  | { name: "Withdrawn"; account: string; to: string; amountRaw: bigint }
  | { name: "OperatorSet"; owner: string; operator: string; approved: boolean }
  | {
      name: "Liquidated";
      account: string;
      liquidator: string;
      seriesId: bigint;
      sizeChangeQty: bigint;
      markX18: bigint;
      penaltyX18: bigint;
      liquidatorRewardX18: bigint;
    }
  | {
      name: "DeficitResolved";
      account: string;
      deficitX18: bigint;
      fromInsuranceX18: bigint;
      fromHaircutsX18: bigint;
      uncoveredX18: bigint;
    }
  | {
      name: "Deleveraged";
      account: string;
      counterparty: string;
      seriesId: bigint;
      sizeChangeQty: bigint;
      markX18: bigint;
      haircutX18: bigint;
    }
  | { name: "SettlementProposed"; seriesId: bigint; priceX18: bigint; roundsInWindow: bigint; finalAt: bigint }
  | { name: "SettlementChallenged"; seriesId: bigint; guardian: string; priceX18: bigint }
  | { name: "SettlementGoverned"; seriesId: bigint; priceX18: bigint; referencePriceX18: bigint }
  | { name: "AccountSettled"; account: string; seriesId: bigint; sizeQty: bigint; pnlX18: bigint }
  | { name: "InsuranceContributed"; from: string; amountRaw: bigint }
  | { name: "InsuranceWithdrawn"; to: string; amountRaw: bigint };

/** `IClearinghouse.MarketState`. */
export interface BookMarketState {
  openInterestQty: bigint;
  lastBasisSampleAt: bigint;
  basisEmaX18: bigint;
  lastBasisSampleX18: bigint;
}

/** `IClearinghouse.AccountHealth`, order reserve included. */
export interface BookAccountHealth {
  cashX18: bigint;
  unrealizedPnlX18: bigint;
  equityX18: bigint;
  initialMarginX18: bigint;
  maintenanceMarginX18: bigint;
  withdrawableX18: bigint;
  orderMarginX18: bigint;
}

/** The fixed terms of a series the model trades. */
export interface BookSeriesSpec {
  seriesId: bigint;
  expiry: bigint;
  averagingWindowSec: bigint;
  contractMultiplier: bigint;
  tickSizeX18: bigint;
  minQty: bigint;
}

/** `IClearinghouse.RiskParams` fields the order book reads. */
export interface BookRiskParams {
  imBps: bigint;
  mmBps: bigint;
  orderBandBps: bigint;
  makerFeeBps: bigint;
  takerFeeBps: bigint;
  positionLimitQty: bigint;
  openInterestCapQty: bigint;
  /** Read by liquidations only (they throw `OrderBookModelError` without it). */
  liquidationPenaltyBps?: bigint;
}

/** `ILiquidation.LiquidationRequest`. */
export interface BookLiquidationRequest {
  account: string;
  seriesId: bigint;
  maxQty: bigint;
}

/** `ILiquidation.DeleverageLeg`. */
export interface BookDeleverageLeg {
  counterparty: string;
  seriesId: bigint;
}

/**
 * The oracle as the clearinghouse reads it now: `peekLatest` of the series' feed and, when the latest
 * round lies inside the averaging window, the oracle TWAP over [window start, min(observedAt, expiry)]
 * (0 when the oracle cannot average it or the round is before the window).
 */
export interface OracleReading {
  indexX18: bigint;
  observedAt: bigint;
  stale: boolean;
  windowAverageX18: bigint;
}

/** The block a view runs in. */
export interface BlockEnv {
  nowSec: bigint;
  /** The reading of every series without its own in `oracleBySeries`. */
  oracle: OracleReading;
  /** Readings of series whose feed or averaging window differs from `oracle`'s, by series id. */
  oracleBySeries?: ReadonlyMap<bigint, OracleReading>;
}

/** The block and the caller (`msg.sender`) of a transaction. */
export interface CallEnv extends BlockEnv {
  sender: string;
}

/** Everything the model starts from. */
export interface OrderBookConfig {
  /** The first series the model trades (the default of the views' `seriesId`). */
  spec: BookSeriesSpec;
  risk: BookRiskParams;
  /** Further series the model trades, each with its own terms and risk parameters. */
  moreSeries?: readonly { spec: BookSeriesSpec; risk: BookRiskParams }[];
  insuranceFeeShareBps: bigint;
  collateralDecimals: number;
  /** Series listed on the clearinghouse (ids 1..seriesCount; default: the highest traded id). */
  seriesCount?: bigint;
  /** The settlement rules (`finalizeSettlement` and the governance price need them; defaults: none). */
  settlementRules?: SettlementRules;
}

/** `IClearinghouse.SettlementStatus`. */
export const BookSettlementStatus = { None: 0n, Proposed: 1n, Challenged: 2n, Final: 3n } as const;

/** `IClearinghouse.Settlement` as stored (`status` is the stored one; see `settlementOf` for the effective one). */
export interface BookSettlement {
  status: bigint;
  governed: boolean;
  finalAt: bigint;
  priceX18: bigint;
}

/** The clearinghouse's and the series' settlement terms. */
export interface SettlementRules {
  disputeWindowSec: bigint;
  governanceGraceSec: bigint;
  methodologyVersion: bigint;
  minSettlementRounds: bigint;
  /** The feed's `maxAgeSec`: settlement waits this long after expiry for a round at or after expiry. */
  feedMaxAgeSec: bigint;
}

/**
 * What the oracle says when a settlement is proposed or governed: the latest round's observation time and
 * price (`undefined` when `peekLatest` reverts) and `twapWithInfo` over the averaging window (its revert data
 * when it reverts).
 */
export interface SettlementOracleData {
  latest: { indexX18: bigint; observedAt: bigint } | undefined;
  windowTwap: { ok: true; twapX18: bigint; roundsInWindow: bigint; version: bigint } | { ok: false; error: unknown };
}

/** A custom error the contract reverts with. */
export interface BookRevert {
  name: string;
  args: unknown[];
}

/** What one transaction does: its return value and events, or the error it reverts with. */
export type BookOutcome<T> = { ok: true; value: T; events: BookEvent[] } | { ok: false; error: BookRevert };

/** What `placeOrder` and `replaceOrder` return, plus the fills they made. */
export interface PlaceOutput {
  result: PlaceResult;
  fills: BookFill[];
}

/** The model was asked something outside what it mirrors (a bug of its caller). */
export class OrderBookModelError extends TokenpitError {}

// ---------------------------------------------------------------------------------------------
// Pure mirrors of library functions
// ---------------------------------------------------------------------------------------------

/** `OrderQueue.orderIdOf`: series << 96 | ref << 32 | sequence. */
export function orderIdOf(seriesId: bigint, ref: bigint, sequence: bigint): bigint {
  return (seriesId << 96n) | (ref << 32n) | sequence;
}

/** The ref of an account's order slot: account id << 8 | slot. */
export function refOf(accountId: bigint, slot: bigint): bigint {
  return (accountId << 8n) | slot;
}

/** `TradeLogic.band`: [ceil(mark x (1 - band)), floor(mark x (1 + band))]. */
export function band(markX18: bigint, orderBandBps: bigint): { minPriceX18: bigint; maxPriceX18: bigint } {
  return {
    minPriceX18: mulDivUp(markX18, BPS - orderBandBps, BPS),
    maxPriceX18: mulDivDown(markX18, BPS + orderBandBps, BPS),
  };
}

/** The band in ticks (`_takerOf`): the lowest tick rounds up (at least 1), the highest down (at most MAX_TICK). */
export function bandTicks(
  markX18: bigint,
  orderBandBps: bigint,
  tickSizeX18: bigint,
): { bandMinTick: bigint; bandMaxTick: bigint } {
  const { minPriceX18, maxPriceX18 } = band(markX18, orderBandBps);
  let bandMinTick = mulDivUp(minPriceX18, 1n, tickSizeX18);
  if (bandMinTick === 0n) bandMinTick = 1n;
  let bandMaxTick = maxPriceX18 / tickSizeX18;
  if (bandMaxTick > MAX_TICK) bandMaxTick = MAX_TICK;
  return { bandMinTick, bandMaxTick };
}

/** `TradeLogic.longSizeChange`: change of the long part of a size (open interest is the sum of longs). */
export function longSizeChange(oldSizeQty: bigint, newSizeQty: bigint): bigint {
  return (newSizeQty > 0n ? newSizeQty : 0n) - (oldSizeQty > 0n ? oldSizeQty : 0n);
}

/** `OrderBookLogic._reducible`: contracts a reduce-only order on side `isBuy` may trade. */
export function reducible(sizeQty: bigint, isBuy: boolean): bigint {
  if (isBuy) return sizeQty < 0n ? -sizeQty : 0n;
  return sizeQty > 0n ? sizeQty : 0n;
}

/** Sums of an account's open orders (`ClearinghouseStorage.Exposure`). */
export interface ExposureSums {
  buyQty: bigint;
  sellQty: bigint;
  buyTickQty: bigint;
  sellTickQty: bigint;
}

/** `MarginLogic._surplus`: PnL - initial margin after adding `deltaQty` bought for `deltaNotionalX18`. */
function surplusAfter(
  position: PositionState,
  deltaQty: bigint,
  deltaNotionalX18: bigint,
  markX18: bigint,
  multiplier: bigint,
  imBps: bigint,
): bigint {
  const sizeQty = position.sizeQty + deltaQty;
  const pnlX18 = unrealizedPnlX18(sizeQty, position.openNotionalX18 + deltaNotionalX18, markX18, multiplier);
  return pnlX18 - requirementX18(abs(sizeQty), markX18, multiplier, imBps);
}

/**
 * `MarginLogic.orderMargin`: initial margin reserved for resting orders, how far (PnL - IM) falls at the
 * mark in the worst of: all bids filled at their prices, all asks filled, both.
 * @param surplusX18 PnL - initial margin of the position as it is.
 */
export function orderMargin(
  position: PositionState,
  exposure: ExposureSums,
  markX18: bigint,
  multiplier: bigint,
  tickSizeX18: bigint,
  imBps: bigint,
  surplusX18: bigint,
): bigint {
  const buyNotionalX18 = exposure.buyTickQty * tickSizeX18 * multiplier;
  const sellNotionalX18 = exposure.sellTickQty * tickSizeX18 * multiplier;
  const cases = [
    surplusAfter(position, exposure.buyQty, buyNotionalX18, markX18, multiplier, imBps),
    surplusAfter(position, -exposure.sellQty, -sellNotionalX18, markX18, multiplier, imBps),
    surplusAfter(
      position,
      exposure.buyQty - exposure.sellQty,
      buyNotionalX18 - sellNotionalX18,
      markX18,
      multiplier,
      imBps,
    ),
  ];
  let worstX18 = surplusX18;
  for (const caseX18 of cases) if (caseX18 < worstX18) worstX18 = caseX18;
  return surplusX18 - worstX18;
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

interface StoredOrder {
  orderId: bigint;
  seriesId: bigint;
  account: string;
  slot: bigint;
  isBuy: boolean;
  reduceOnly: boolean;
  tick: bigint;
  qty: bigint;
  expiresAt: bigint;
  sequence: bigint;
}

/** A price level: its FIFO queue (oldest first) and the sum of its orders. */
interface StoredLevel {
  qty: bigint;
  orderIds: bigint[];
}

interface StoredExposure extends ExposureSums {
  slotBitmap: bigint;
  sequence: bigint;
}

function emptyExposure(): StoredExposure {
  return { buyQty: 0n, sellQty: 0n, buyTickQty: 0n, sellTickQty: 0n, slotBitmap: 0n, sequence: 0n };
}

/** `SeriesSet.CAPACITY`: the series an account can hold at once. */
const SERIES_SET_CAPACITY = 8;

/** One series: its terms, risk parameters, book, positions, order sums, market state and settlement. */
class SeriesState {
  positions = new Map<string, PositionState>();
  exposures = new Map<string, StoredExposure>();
  bids = new Map<bigint, StoredLevel>();
  asks = new Map<bigint, StoredLevel>();
  market: BookMarketState = { openInterestQty: 0n, lastBasisSampleAt: 0n, basisEmaX18: 0n, lastBasisSampleX18: 0n };
  settlement: BookSettlement = { status: 0n, governed: false, finalAt: 0n, priceX18: 0n };

  constructor(
    readonly spec: BookSeriesSpec,
    public risk: BookRiskParams,
  ) {}

  get seriesId(): bigint {
    return this.spec.seriesId;
  }

  clone(): SeriesState {
    const copy = new SeriesState(this.spec, { ...this.risk });
    copy.positions = new Map([...this.positions].map(([a, p]) => [a, { ...p }]));
    copy.exposures = new Map([...this.exposures].map(([a, e]) => [a, { ...e }]));
    const levels = (side: Map<bigint, StoredLevel>) =>
      new Map([...side].map(([tick, l]) => [tick, { qty: l.qty, orderIds: [...l.orderIds] }]));
    copy.bids = levels(this.bids);
    copy.asks = levels(this.asks);
    copy.market = { ...this.market };
    copy.settlement = { ...this.settlement };
    return copy;
  }

  position(account: string): PositionState {
    return this.positions.get(account) ?? { sizeQty: 0n, openNotionalX18: 0n };
  }

  exposure(account: string): StoredExposure {
    let exposure = this.exposures.get(account);
    if (exposure === undefined) {
      exposure = emptyExposure();
      this.exposures.set(account, exposure);
    }
    return exposure;
  }

  side(isBuy: boolean): Map<bigint, StoredLevel> {
    return isBuy ? this.bids : this.asks;
  }
}

/** Everything a transaction can change; cloned so that a revert changes nothing. */
class BookState {
  cash = new Map<string, bigint>();
  /** Each account's series set, lane by lane (`Account.seriesSet`; 0 is an empty lane). */
  seriesSets = new Map<string, bigint[]>();
  accountIds = new Map<string, bigint>();
  accountCount = 0n;
  orders = new Map<bigint, StoredOrder>();
  /** `${owner}>${operator}` of approved operators. */
  operators = new Set<string>();
  insuranceFundX18 = 0n;
  feePoolX18 = 0n;
  paused = false;

  constructor(
    public series: Map<bigint, SeriesState>,
    public insuranceFeeShareBps: bigint,
  ) {}

  clone(): BookState {
    const copy = new BookState(
      new Map([...this.series].map(([id, book]) => [id, book.clone()])),
      this.insuranceFeeShareBps,
    );
    copy.cash = new Map(this.cash);
    copy.seriesSets = new Map([...this.seriesSets].map(([a, lanes]) => [a, [...lanes]]));
    copy.accountIds = new Map(this.accountIds);
    copy.accountCount = this.accountCount;
    copy.orders = new Map([...this.orders].map(([id, o]) => [id, { ...o }]));
    copy.operators = new Set(this.operators);
    copy.insuranceFundX18 = this.insuranceFundX18;
    copy.feePoolX18 = this.feePoolX18;
    copy.paused = this.paused;
    return copy;
  }

  /** The state of a series the model trades; a model error for any other. */
  book(seriesId: bigint): SeriesState {
    const book = this.series.get(seriesId);
    if (book === undefined) throw new OrderBookModelError(`the model does not trade series ${seriesId}`);
    return book;
  }

  cashOf(account: string): bigint {
    return this.cash.get(account) ?? 0n;
  }

  /** The account's series set in lane order (non-empty lanes only). */
  seriesOf(account: string): bigint[] {
    return (this.seriesSets.get(account) ?? []).filter((id) => id !== 0n);
  }

  holds(account: string, seriesId: bigint): boolean {
    return this.seriesOf(account).includes(seriesId);
  }

  isOwnerOrOperator(sender: string, account: string): boolean {
    return sender === account || this.operators.has(`${account}>${sender}`);
  }
}

/** A thrown custom error (the model's revert); caught at the transaction boundary. */
class Revert extends Error {
  constructor(
    readonly errorName: string,
    readonly args: unknown[],
  ) {
    super(errorName);
  }
}

function revert(name: string, ...args: unknown[]): never {
  throw new Revert(name, args);
}

/** `TradeLogic.TradeContext`: the series, its terms, risk and oracle reading, the mark. */
interface TradeContext {
  seriesId: bigint;
  spec: BookSeriesSpec;
  book: SeriesState;
  risk: BookRiskParams;
  indexX18: bigint;
  indexObservedAt: bigint;
  indexStale: boolean;
  markX18: bigint;
}

/** `OrderBookLogic.Taker`: the taker's running state while it matches. */
interface Taker {
  account: string;
  orderId: bigint;
  isBuy: boolean;
  limitTick: bigint;
  bandMinTick: bigint;
  bandMaxTick: bigint;
  remaining: bigint;
  budget: bigint;
  filled: bigint;
  notionalX18: bigint;
  takerFeeX18: bigint;
  makerFeesX18: bigint;
  makerLongChange: bigint;
  sizeQty: bigint;
  openX18: bigint;
  realizedX18: bigint;
  lastPriceX18: bigint;
  resting: boolean;
  slot: bigint;
  sequence: bigint;
  clippedQty: bigint;
}

/** Why a liquidation request cannot be carried out (`LiquidationLogic.Refusal`). */
type LiquidationRefusal =
  "None" | "SeriesExpired" | "IndexStale" | "NoPosition" | "Healthy" | "QtyTooSmall" | "FundShort";

/** `LiquidationLogic.Plan`, with the context it was worked out in. */
interface LiquidationPlan {
  refusal: LiquidationRefusal;
  account: string;
  seriesId: bigint;
  sizeQty: bigint;
  qty: bigint;
  requiredQty: bigint;
  maxQty: bigint;
  equityX18: bigint;
  maintenanceMarginX18: bigint;
  penaltyX18: bigint;
  deficitX18: bigint;
  markX18: bigint;
  indexObservedAt: bigint;
  ctx: TradeContext | undefined;
}

// ---------------------------------------------------------------------------------------------
// One transaction
// ---------------------------------------------------------------------------------------------

/** One transaction over a copy of the state: the Solidity functions it runs, by name. */
class BookTransaction {
  readonly events: BookEvent[] = [];
  readonly fills: BookFill[] = [];

  constructor(
    private readonly seriesCount: bigint,
    private readonly decimals: number,
    readonly s: BookState,
    private readonly env: CallEnv,
    private readonly rules: SettlementRules | undefined = undefined,
  ) {}

  private get now(): bigint {
    return this.env.nowSec;
  }

  // -- Entry points ---------------------------------------------------------------------------

  placeOrder(params: OrderParams): PlaceOutput {
    this.requireOwnerOrOperator(params.account);
    return this.place(params);
  }

  replaceOrder(orderId: bigint, params: OrderParams): PlaceOutput {
    const order = this.requireOrder(orderId);
    if (params.seriesId !== order.seriesId || order.account !== params.account) {
      revert("ReplaceMismatch", orderId, params.seriesId, params.account);
    }
    this.requireOwnerOrOperator(order.account);
    this.remove(order, CancelReason.Replaced);
    return this.place(params);
  }

  cancelOrder(orderId: bigint): null {
    const order = this.requireOrder(orderId);
    this.requireOwnerOrOperator(order.account);
    this.remove(order, CancelReason.Owner);
    return null;
  }

  cancelAllOrders(account: string, seriesId: bigint): bigint {
    this.requireSeries(seriesId);
    let reason: CancelReason = CancelReason.Owner;
    if (!this.s.isOwnerOrOperator(this.env.sender, account)) {
      if (this.now >= this.expiryOf(seriesId)) {
        reason = CancelReason.SeriesExpired;
      } else {
        const health = healthOf(this.s, this.env, account, undefined);
        if (health.equityX18 >= health.maintenanceMarginX18) {
          revert("AccountNotBelowMaintenance", account, health.equityX18, health.maintenanceMarginX18);
        }
        reason = CancelReason.Unhealthy;
      }
    }
    const orders = this.ordersOf(account, seriesId);
    for (const order of orders) this.remove(order, reason);
    return BigInt(orders.length);
  }

  deposit(amountRaw: bigint): null {
    const account = this.env.sender;
    this.settleFinalSeries(account);
    const amountX18 = this.toX18(amountRaw);
    this.s.cash.set(account, this.s.cashOf(account) + amountX18);
    this.events.push({ name: "Deposited", account, from: account, amountRaw, amountX18 });
    return null;
  }

  withdraw(account: string, amountRaw: bigint, to: string): null {
    if (!this.s.isOwnerOrOperator(this.env.sender, account)) {
      revert("NotAccountOwnerOrOperator", account, this.env.sender);
    }
    if (to === ZERO_ADDRESS) revert("ZeroAddress");
    this.settleFinalSeries(account);
    const amountX18 = this.toX18(amountRaw);
    const available = healthOf(this.s, this.env, account, undefined).withdrawableX18;
    if (amountX18 > available) revert("InsufficientFreeCollateral", account, amountX18, available);
    this.s.cash.set(account, this.s.cashOf(account) - amountX18);
    this.events.push({ name: "Withdrawn", account, to, amountRaw });
    return null;
  }

  setOperator(operator: string, approved: boolean): null {
    if (operator === ZERO_ADDRESS) revert("ZeroAddress");
    const key = `${this.env.sender}>${operator}`;
    if (approved) this.s.operators.add(key);
    else this.s.operators.delete(key);
    this.events.push({ name: "OperatorSet", owner: this.env.sender, operator, approved });
    return null;
  }

  // -- Placing --------------------------------------------------------------------------------

  private place(params: OrderParams): PlaceOutput {
    const ctx = this.context(params.seriesId);
    this.validate(ctx, params);
    this.settleFinalSeries(params.account);
    const position = { ...ctx.book.position(params.account) };
    const taker = this.takerOf(ctx, params, position);
    if (taker.resting) this.open(ctx, params, taker);
    if (params.kind !== OrderKind.PostOnly) this.match(ctx, taker);
    if (taker.filled !== 0n) this.settleTaker(ctx, taker, position);
    const result = this.finish(ctx, params, taker);
    this.checkAccount(ctx, taker, position, result.restingQty !== 0n && !params.reduceOnly);
    return { result, fills: this.fills };
  }

  /** `TradeLogic.context`: the series must be listed and not expired; the mark from the oracle reading. */
  private context(seriesId: bigint): TradeContext {
    this.requireSeries(seriesId);
    const book = this.s.book(seriesId);
    const spec = book.spec;
    if (this.now >= spec.expiry) revert("SeriesExpired", seriesId, spec.expiry);
    const oracle = oracleOf(this.env, seriesId);
    return {
      seriesId,
      spec,
      book,
      risk: { ...book.risk },
      indexX18: oracle.indexX18,
      indexObservedAt: oracle.observedAt,
      indexStale: oracle.stale,
      markX18: markOf(book, this.env),
    };
  }

  private validate(ctx: TradeContext, params: OrderParams): void {
    const seriesId = params.seriesId;
    if (params.account === ZERO_ADDRESS) revert("ZeroAddress");
    const lot = ctx.spec.minQty;
    if (params.qty < lot) revert("QtyBelowMinimum", seriesId, params.qty, lot);
    if (params.qty % lot !== 0n) revert("QtyNotMultipleOfLot", seriesId, params.qty, lot);
    if (params.qty > MAX_ORDER_QTY) revert("QtyTooLarge", seriesId, params.qty, MAX_ORDER_QTY);
    const tickMayBeZero = params.kind === OrderKind.Market;
    if ((params.tick === 0n && !tickMayBeZero) || params.tick > MAX_TICK) {
      revert("TickOutOfRange", seriesId, params.tick, MAX_TICK);
    }
    if (params.maxFills === 0n || params.maxFills > MAX_FILLS) revert("MaxFillsOutOfRange", params.maxFills, MAX_FILLS);
    const resting = params.kind === OrderKind.Limit || params.kind === OrderKind.PostOnly;
    if (params.expiresAt !== 0n && (!resting || params.expiresAt <= this.now)) {
      revert("OrderExpiryInvalid", params.expiresAt, this.now);
    }
  }

  private takerOf(ctx: TradeContext, params: OrderParams, position: PositionState): Taker {
    const resting = params.kind === OrderKind.Limit || params.kind === OrderKind.PostOnly;
    let remaining = params.qty;
    let clippedQty = 0n;
    if (params.reduceOnly) {
      const reducibleQty = reducible(position.sizeQty, params.isBuy);
      if (reducibleQty === 0n) {
        revert("ReduceOnlyNothingToReduce", params.account, params.seriesId, position.sizeQty);
      }
      if (reducibleQty < remaining) {
        clippedQty = remaining - reducibleQty;
        remaining = reducibleQty;
      }
    } else {
      if (this.s.paused) revert("EnforcedPause");
      if (ctx.indexStale) revert("IndexStale", params.seriesId, ctx.indexObservedAt);
    }
    const { minPriceX18, maxPriceX18 } = band(ctx.markX18, ctx.risk.orderBandBps);
    const tickSize = ctx.spec.tickSizeX18;
    const { bandMinTick, bandMaxTick } = bandTicks(ctx.markX18, ctx.risk.orderBandBps, tickSize);
    const tick = params.tick;
    let limitTick: bigint;
    if (resting) {
      if (tick < bandMinTick || tick > bandMaxTick) {
        revert("PriceOutsideBand", params.seriesId, tick * tickSize, minPriceX18, maxPriceX18);
      }
      limitTick = tick;
    } else if (params.isBuy) {
      limitTick = tick === 0n || tick > bandMaxTick ? bandMaxTick : tick;
    } else {
      limitTick = tick < bandMinTick ? bandMinTick : tick;
    }
    return {
      account: params.account,
      orderId: 0n,
      isBuy: params.isBuy,
      limitTick,
      bandMinTick,
      bandMaxTick,
      remaining,
      budget: params.maxFills,
      filled: 0n,
      notionalX18: 0n,
      takerFeeX18: 0n,
      makerFeesX18: 0n,
      makerLongChange: 0n,
      sizeQty: position.sizeQty,
      openX18: position.openNotionalX18,
      realizedX18: 0n,
      lastPriceX18: 0n,
      resting,
      slot: 0n,
      sequence: 0n,
      clippedQty,
    };
  }

  /** `_open`: a Limit or PostOnly order gets its id (lowest free slot, next sequence) and is announced. */
  private open(ctx: TradeContext, params: OrderParams, taker: Taker): void {
    if (params.kind === OrderKind.PostOnly) this.requireNoCross(ctx, taker);
    const { slot, sequence } = this.allocate(ctx.book, params.account);
    taker.slot = slot;
    taker.sequence = sequence;
    taker.orderId = orderIdOf(params.seriesId, refOf(this.accountIdOf(params.account), slot), sequence);
    this.events.push({
      name: "OrderPlaced",
      seriesId: params.seriesId,
      orderId: taker.orderId,
      account: params.account,
      isBuy: params.isBuy,
      kind: params.kind,
      reduceOnly: params.reduceOnly,
      priceX18: params.tick * ctx.spec.tickSizeX18,
      qty: taker.remaining,
      expiresAt: params.expiresAt,
    });
  }

  /** `_finish`: the remainder rests unless it still crosses with its budget spent; fill-or-kill reverts. */
  private finish(ctx: TradeContext, params: OrderParams, taker: Taker): PlaceResult {
    const result: PlaceResult = {
      orderId: taker.orderId,
      filledQty: taker.filled,
      restingQty: 0n,
      cancelledQty: taker.clippedQty,
    };
    if (taker.remaining !== 0n) {
      if (params.kind === OrderKind.FillOrKill) {
        revert("FillOrKillUnfilled", params.seriesId, taker.filled, taker.filled + taker.remaining);
      }
      if (taker.resting && (taker.budget !== 0n || !this.crosses(ctx, taker))) {
        this.rest(ctx, params, taker.slot, taker.sequence, taker.remaining);
        result.restingQty = taker.remaining;
        return result;
      }
      result.cancelledQty += taker.remaining;
      if (taker.resting) {
        this.events.push({
          name: "OrderCancelled",
          seriesId: params.seriesId,
          orderId: taker.orderId,
          account: params.account,
          cancelledQty: taker.remaining,
          reason: CancelReason.Unfilled,
        });
      }
    }
    // The order did not rest; its sequence number is still spent.
    if (taker.resting) ctx.book.exposure(params.account).sequence = taker.sequence;
    return result;
  }

  /** `_allocate`: the lowest free slot and the next sequence number. */
  private allocate(book: SeriesState, account: string): { slot: bigint; sequence: bigint } {
    const exposure = book.exposures.get(account) ?? emptyExposure();
    const used = exposure.slotBitmap;
    if (used === 2n ** 32n - 1n) revert("TooManyOpenOrders", account, book.seriesId, MAX_OPEN_ORDERS);
    let slot = 0n;
    while ((used & (1n << slot)) !== 0n) slot += 1n;
    return { slot, sequence: exposure.sequence + 1n };
  }

  /** `OrderQueue.refOf`'s account id: assigned on first use, in order. */
  private accountIdOf(account: string): bigint {
    let accountId = this.s.accountIds.get(account);
    if (accountId === undefined) {
      this.s.accountCount += 1n;
      accountId = this.s.accountCount;
      this.s.accountIds.set(account, accountId);
    }
    return accountId;
  }

  private requireNoCross(ctx: TradeContext, taker: Taker): void {
    const best = bestOpposite(ctx.book, taker.isBuy);
    if (best !== undefined && (taker.isBuy ? best <= taker.limitTick : best >= taker.limitTick)) {
      revert("PostOnlyWouldCross", ctx.seriesId, taker.limitTick, best);
    }
  }

  private crosses(ctx: TradeContext, taker: Taker): boolean {
    const best = bestOpposite(ctx.book, taker.isBuy);
    return best !== undefined && (taker.isBuy ? best <= taker.limitTick : best >= taker.limitTick);
  }

  // -- Matching -------------------------------------------------------------------------------

  private match(ctx: TradeContext, taker: Taker): void {
    while (taker.remaining !== 0n && taker.budget !== 0n) {
      const tick = bestOpposite(ctx.book, taker.isBuy);
      if (tick === undefined || (taker.isBuy ? tick > taker.limitTick : tick < taker.limitTick)) break;
      this.matchLevel(ctx, taker, tick);
    }
  }

  private matchLevel(ctx: TradeContext, taker: Taker, tick: bigint): void {
    const opposite = ctx.book.side(!taker.isBuy);
    const level = opposite.get(tick);
    if (level === undefined) throw new OrderBookModelError(`no level at active tick ${tick}`);
    const outOfBand = tick < taker.bandMinTick || tick > taker.bandMaxTick;
    while (level.orderIds.length > 0 && taker.remaining !== 0n && taker.budget !== 0n) {
      const order = this.storedOrder(level.orderIds[0]);
      const maker = order.account;
      taker.budget -= 1n;
      let reason: CancelReason = CancelReason.Owner;
      if (outOfBand) {
        reason = CancelReason.OutOfBand;
      } else if (order.expiresAt !== 0n && order.expiresAt <= this.now) {
        reason = CancelReason.Expired;
      } else if (maker === taker.account) {
        reason = CancelReason.SelfTrade;
      } else if (order.reduceOnly) {
        const reducibleQty = reducible(ctx.book.position(maker).sizeQty, !taker.isBuy);
        if (reducibleQty === 0n) {
          reason = CancelReason.ReduceOnlyClipped;
        } else if (order.qty > reducibleQty) {
          this.clip(order, level, reducibleQty);
        }
      }
      if (reason !== CancelReason.Owner) {
        this.popHead(order, level, reason);
        continue;
      }
      this.fillMaker(ctx, taker, order, level);
    }
    if (level.orderIds.length === 0) opposite.delete(tick);
  }

  /** `_clip`: cuts a reduce-only order down to what its owner can still reduce. */
  private clip(order: StoredOrder, level: StoredLevel, reducibleQty: bigint): void {
    const clipped = order.qty - reducibleQty;
    order.qty = reducibleQty;
    level.qty -= clipped;
    this.events.push({
      name: "OrderCancelled",
      seriesId: order.seriesId,
      orderId: order.orderId,
      account: order.account,
      cancelledQty: clipped,
      reason: CancelReason.ReduceOnlyClipped,
    });
  }

  private fillMaker(ctx: TradeContext, taker: Taker, order: StoredOrder, level: StoredLevel): void {
    const qty = order.qty < taker.remaining ? order.qty : taker.remaining;
    const priceX18 = order.tick * ctx.spec.tickSizeX18;
    const notional = notionalX18(qty, priceX18, ctx.spec.contractMultiplier);
    const makerFeeX18 = feeX18(notional, ctx.risk.makerFeeBps);
    taker.makerLongChange += this.applyMaker(ctx, order.account, taker.isBuy ? -qty : qty, priceX18, makerFeeX18);
    order.qty -= qty;
    level.qty -= qty;
    this.onMakerFill(order, level, qty);
    const takerFeeX18 = this.applyTaker(ctx, taker, qty, priceX18, notional, makerFeeX18);
    const fill: BookFill = {
      makerOrderId: order.orderId,
      maker: order.account,
      taker: taker.account,
      takerOrderId: taker.orderId,
      takerIsBuy: taker.isBuy,
      priceX18,
      qty,
      makerFeeX18,
      takerFeeX18,
    };
    this.fills.push(fill);
    this.events.push({ name: "OrderFilled", seriesId: ctx.seriesId, ...fill });
  }

  /** `_applyMaker`: the maker's side of a fill into storage; returns its long-size change. */
  private applyMaker(
    ctx: TradeContext,
    maker: string,
    deltaQty: bigint,
    priceX18: bigint,
    makerFeeX18: bigint,
  ): bigint {
    const old = ctx.book.position(maker);
    const traded = applyTrade(old.sizeQty, old.openNotionalX18, deltaQty, priceX18, ctx.spec.contractMultiplier);
    ctx.book.positions.set(maker, { sizeQty: traded.newSizeQty, openNotionalX18: traded.newOpenNotionalX18 });
    this.s.cash.set(maker, this.s.cashOf(maker) + traded.realizedPnlX18 - makerFeeX18);
    return longSizeChange(old.sizeQty, traded.newSizeQty);
  }

  /** `_applyTaker`: the taker's side of a fill into its running state; returns the taker fee. */
  private applyTaker(
    ctx: TradeContext,
    taker: Taker,
    qty: bigint,
    priceX18: bigint,
    notional: bigint,
    makerFeeX18: bigint,
  ): bigint {
    const takerFeeX18 = feeX18(notional, ctx.risk.takerFeeBps);
    const traded = applyTrade(
      taker.sizeQty,
      taker.openX18,
      taker.isBuy ? qty : -qty,
      priceX18,
      ctx.spec.contractMultiplier,
    );
    taker.sizeQty = traded.newSizeQty;
    taker.openX18 = traded.newOpenNotionalX18;
    taker.realizedX18 += traded.realizedPnlX18;
    taker.takerFeeX18 += takerFeeX18;
    taker.makerFeesX18 += makerFeeX18;
    taker.filled += qty;
    taker.remaining -= qty;
    taker.notionalX18 += notional;
    taker.lastPriceX18 = priceX18;
    return takerFeeX18;
  }

  // -- After matching -------------------------------------------------------------------------

  /** `_settleTaker`: the taker's position and cash, open interest, fees and the basis sample. */
  private settleTaker(ctx: TradeContext, taker: Taker, before: PositionState): void {
    const account = taker.account;
    ctx.book.positions.set(account, { sizeQty: taker.sizeQty, openNotionalX18: taker.openX18 });
    this.s.cash.set(account, this.s.cashOf(account) + taker.realizedX18 - taker.takerFeeX18);
    if (before.sizeQty === 0n) this.joinSeries(account, ctx.seriesId);
    else if (taker.sizeQty === 0n) this.leaveSeriesIfIdle(account, ctx.seriesId);
    this.updateOpenInterest(ctx, taker.makerLongChange + longSizeChange(before.sizeQty, taker.sizeQty));
    this.bookFees(taker.takerFeeX18 + taker.makerFeesX18);
    this.sampleBasis(ctx, taker.lastPriceX18);
    this.events.push({
      name: "TakerOrderFilled",
      seriesId: ctx.seriesId,
      taker: account,
      takerOrderId: taker.orderId,
      isBuy: taker.isBuy,
      filledQty: taker.filled,
      notionalX18: taker.notionalX18,
      takerFeeX18: taker.takerFeeX18,
    });
  }

  /** `TradeLogic.updateOpenInterest`: an increase must stay within the cap. */
  private updateOpenInterest(ctx: TradeContext, change: bigint): void {
    if (change === 0n) return;
    const market = ctx.book.market;
    const openInterest = market.openInterestQty + change;
    if (change > 0n && openInterest > ctx.risk.openInterestCapQty) {
      revert("OpenInterestCapExceeded", ctx.seriesId, openInterest, ctx.risk.openInterestCapQty);
    }
    market.openInterestQty = openInterest;
  }

  /** `TradeLogic.bookFees`: the insurance share rounds down, the fee pool keeps the rest. */
  private bookFees(totalFeeX18: bigint): void {
    if (totalFeeX18 < 0n) throw new OrderBookModelError(`negative total fee ${totalFeeX18}: fee bounds broken`);
    const toInsurance = mulDivDown(totalFeeX18, this.s.insuranceFeeShareBps, BPS);
    this.s.insuranceFundX18 += toInsurance;
    this.s.feePoolX18 += totalFeeX18 - toInsurance;
  }

  /** `TradeLogic.sampleBasis`: the traded basis, clamped to the band, becomes the standing sample. */
  private sampleBasis(ctx: TradeContext, priceX18: bigint): void {
    const market = ctx.book.market;
    const emaX18 = basisAt(
      market.basisEmaX18,
      market.lastBasisSampleX18,
      market.lastBasisSampleAt,
      this.now,
      BASIS_EMA_PERIOD_SEC,
    );
    const sampleX18 = clampBasis(priceX18 - ctx.indexX18, ctx.indexX18, ctx.risk.orderBandBps);
    ctx.book.market = { ...market, basisEmaX18: emaX18, lastBasisSampleX18: sampleX18, lastBasisSampleAt: this.now };
    this.events.push({ name: "BasisSampled", seriesId: ctx.seriesId, sampleX18, emaX18 });
  }

  /** `_checkAccount`: the placing account's position limit and margin checks. */
  private checkAccount(ctx: TradeContext, taker: Taker, before: PositionState, restedWithMargin: boolean): void {
    const seriesId = ctx.seriesId;
    const raisedRisk = raisesRisk(before.sizeQty, taker.sizeQty);
    if (raisedRisk) {
      // TradeLogic.checkRiskIncreaseAllowed
      if (this.s.paused) revert("EnforcedPause");
      if (ctx.indexStale) revert("IndexStale", seriesId, ctx.indexObservedAt);
      const newAbs = abs(taker.sizeQty);
      if (newAbs > ctx.risk.positionLimitQty) {
        revert("PositionLimitExceeded", taker.account, seriesId, newAbs, ctx.risk.positionLimitQty);
      }
    }
    if (raisedRisk || restedWithMargin) {
      const exposure = ctx.book.exposure(taker.account);
      const worstLong = abs(taker.sizeQty + exposure.buyQty);
      const worstShort = abs(taker.sizeQty - exposure.sellQty);
      const worst = worstLong > worstShort ? worstLong : worstShort;
      if (worst > ctx.risk.positionLimitQty) {
        revert("PositionLimitExceeded", taker.account, seriesId, worst, ctx.risk.positionLimitQty);
      }
    }
    if (!raisedRisk && !restedWithMargin) {
      if (taker.filled === 0n) return;
      const surplusChange = this.maintenanceSurplusChange(ctx, before, taker);
      this.checkMarginAfterTrade(ctx, taker.account, false, surplusChange);
      return;
    }
    this.checkMarginAfterTrade(ctx, taker.account, true, 0n);
  }

  /** `TradeLogic.maintenanceSurplusChange`: change of (equity - maintenance margin) at the mark; exact. */
  private maintenanceSurplusChange(ctx: TradeContext, before: PositionState, taker: Taker): bigint {
    const multiplier = ctx.spec.contractMultiplier;
    const mark = ctx.markX18;
    const equityChange =
      unrealizedPnlX18(taker.sizeQty, taker.openX18, mark, multiplier) +
      taker.realizedX18 -
      taker.takerFeeX18 -
      unrealizedPnlX18(before.sizeQty, before.openNotionalX18, mark, multiplier);
    const mmBefore = requirementX18(abs(before.sizeQty), mark, multiplier, ctx.risk.mmBps);
    const mmAfter = requirementX18(abs(taker.sizeQty), mark, multiplier, ctx.risk.mmBps);
    return equityChange - mmAfter + mmBefore;
  }

  /** `TradeLogic.checkMarginAfterTrade`, with the traded series valued at the context's mark. */
  private checkMarginAfterTrade(ctx: TradeContext, account: string, raisedRisk: boolean, surplusChange: bigint): void {
    if (!raisedRisk && surplusChange >= 0n) return;
    const health = healthOf(this.s, this.env, account, ctx);
    if (health.equityX18 < health.initialMarginX18) {
      revert("InsufficientMargin", account, health.equityX18, health.initialMarginX18);
    }
  }

  // -- Liquidation and deficits (LiquidationLogic, DeficitLogic, PositionTransfer) ---------------

  /** `LiquidationLogic.liquidate`: the caller takes over part of `account`'s position at the mark. */
  liquidate(account: string, seriesId: bigint, maxQty: bigint): bigint {
    if (account === this.env.sender) revert("SelfLiquidation", account);
    this.requireSeries(seriesId);
    const plan = this.planLiquidation(account, seriesId, maxQty);
    if (plan.refusal !== "None") this.refuseLiquidation(plan);
    this.executeLiquidation(plan);
    this.checkLiquidatorMargin(plan.seriesId, plan.markX18);
    return plan.qty;
  }

  /**
   * `LiquidationLogic.liquidateBatch`: skips requests that do not qualify (self, unlisted series, any
   * refusal of the plan); the caller's initial margin is checked once, after the last liquidation.
   */
  liquidateBatch(requests: readonly BookLiquidationRequest[]): bigint {
    let liquidatedCount = 0n;
    let lastSeriesId = 0n;
    let lastMarkX18 = 0n;
    for (const request of requests) {
      if (request.account === this.env.sender || request.seriesId === 0n || request.seriesId > this.seriesCount) {
        continue;
      }
      const plan = this.planLiquidation(request.account, request.seriesId, request.maxQty);
      if (plan.refusal !== "None") continue;
      this.executeLiquidation(plan);
      liquidatedCount += 1n;
      lastSeriesId = plan.seriesId;
      lastMarkX18 = plan.markX18;
    }
    if (liquidatedCount !== 0n) this.checkLiquidatorMargin(lastSeriesId, lastMarkX18);
    return liquidatedCount;
  }

  /**
   * `DeficitLogic.deleverage`: closes the bankrupt account's position against `legs` at the mark, empties
   * the insurance fund into the deficit and takes the rest from the counterparties' realized profit.
   */
  deleverage(account: string, legs: readonly BookDeleverageLeg[]): null {
    this.settleFinalSeries(account);
    const equityX18 = healthOf(this.s, this.env, account, undefined).equityX18;
    const fundX18 = this.s.insuranceFundX18;
    if (equityX18 >= 0n || -equityX18 <= fundX18) revert("DeleverageNotAllowed", account, equityX18, fundX18);
    this.cancelAllOrdersOf(account);
    // _closeLegs: the context is read again whenever the leg's series differs from the previous one.
    const results: { sizeChangeQty: bigint; markX18: bigint; profitX18: bigint }[] = [];
    let totalProfitX18 = 0n;
    let ctxSeriesId = 0n;
    let ctx: TradeContext | undefined;
    for (const leg of legs) {
      if (leg.seriesId !== ctxSeriesId) {
        ctx = this.legContext(leg.seriesId);
        ctxSeriesId = leg.seriesId;
      }
      const result = this.closeLeg(ctx, account, leg);
      results.push(result);
      totalProfitX18 += result.profitX18;
    }
    if (this.s.seriesOf(account).length !== 0) revert("DeleverageIncomplete", account);
    const cashX18 = this.s.cashOf(account);
    if (cashX18 >= 0n) throw new OrderBookModelError(`deleveraged account ${account} ends flat with cash ${cashX18}`);
    const deficitX18 = -cashX18;
    const fromInsuranceX18 = this.payFromInsurance(account, deficitX18);
    const shortfallX18 = deficitX18 - fromInsuranceX18;
    if (shortfallX18 > totalProfitX18) revert("DeleverageProfitShort", account, shortfallX18, totalProfitX18);
    // _haircut
    const haircuts = deleverageHaircuts(
      shortfallX18,
      results.map((r) => r.profitX18),
    );
    legs.forEach((leg, i) => {
      this.s.cash.set(leg.counterparty, this.s.cashOf(leg.counterparty) - haircuts[i]);
      this.s.cash.set(account, this.s.cashOf(account) + haircuts[i]);
      this.events.push({
        name: "Deleveraged",
        account,
        counterparty: leg.counterparty,
        seriesId: leg.seriesId,
        sizeChangeQty: results[i].sizeChangeQty,
        markX18: results[i].markX18,
        haircutX18: haircuts[i],
      });
    });
    for (const leg of legs) {
      const counterpartyEquityX18 = healthOf(this.s, this.env, leg.counterparty, undefined).equityX18;
      if (counterpartyEquityX18 < 0n) revert("CounterpartyEquityNegative", leg.counterparty, counterpartyEquityX18);
    }
    this.events.push({
      name: "DeficitResolved",
      account,
      deficitX18,
      fromInsuranceX18,
      fromHaircutsX18: shortfallX18,
      uncoveredX18: 0n,
    });
    return null;
  }

  /** `DeficitLogic.coverDeficit`: the fund pays what it can of a flat account's negative cash (none: refused). */
  coverDeficit(account: string): null {
    this.settleFinalSeries(account);
    const cashX18 = this.s.cashOf(account);
    if (cashX18 >= 0n || !this.flatOutside(account, 0n)) revert("NoDeficit", account);
    this.cancelAllOrdersOf(account);
    const deficitX18 = -cashX18;
    // An empty fund pays nothing: the contract refuses rather than emit an event that moves no value.
    if (this.s.insuranceFundX18 === 0n) revert("InsuranceFundShort", account, deficitX18, 0n);
    const paidX18 = this.payFromInsurance(account, deficitX18);
    this.events.push({
      name: "DeficitResolved",
      account,
      deficitX18,
      fromInsuranceX18: paidX18,
      fromHaircutsX18: 0n,
      uncoveredX18: deficitX18 - paidX18,
    });
    return null;
  }

  /** `Clearinghouse.contributeInsurance` (the token transfer itself is the caller's to check). */
  contributeInsurance(amountRaw: bigint): null {
    this.s.insuranceFundX18 += this.toX18(amountRaw);
    this.events.push({ name: "InsuranceContributed", from: this.env.sender, amountRaw });
    return null;
  }

  /** `Clearinghouse.withdrawInsurance` by the admin (role and token transfer are the caller's to check). */
  withdrawInsurance(to: string, amountRaw: bigint): null {
    // _debitPool
    if (to === ZERO_ADDRESS) revert("ZeroAddress");
    const amountX18 = this.toX18(amountRaw);
    const fundX18 = this.s.insuranceFundX18;
    if (amountX18 > fundX18) revert("PoolBalanceTooLow", INSURANCE_POOL_ID, amountX18, fundX18);
    this.s.insuranceFundX18 = fundX18 - amountX18;
    this.events.push({ name: "InsuranceWithdrawn", to, amountRaw });
    return null;
  }

  /** `LiquidationLogic._plan`, `_size` and `_price`: whether and how much is liquidated. */
  private planLiquidation(account: string, seriesId: bigint, maxQty: bigint): LiquidationPlan {
    const plan: LiquidationPlan = {
      refusal: "None",
      account,
      seriesId,
      sizeQty: 0n,
      qty: 0n,
      requiredQty: 0n,
      maxQty,
      equityX18: 0n,
      maintenanceMarginX18: 0n,
      penaltyX18: 0n,
      deficitX18: 0n,
      markX18: 0n,
      indexObservedAt: 0n,
      ctx: undefined,
    };
    if (this.now >= this.expiryOf(seriesId)) return { ...plan, refusal: "SeriesExpired" };
    this.settleFinalSeries(account);
    plan.sizeQty = this.s.series.has(seriesId) ? this.s.book(seriesId).position(account).sizeQty : 0n;
    if (plan.sizeQty === 0n) return { ...plan, refusal: "NoPosition" };
    const ctx = this.context(seriesId);
    plan.ctx = ctx;
    plan.markX18 = ctx.markX18;
    plan.indexObservedAt = ctx.indexObservedAt;
    if (ctx.indexStale) return { ...plan, refusal: "IndexStale" };
    const health = healthOf(this.s, this.env, account, ctx);
    plan.equityX18 = health.equityX18;
    plan.maintenanceMarginX18 = health.maintenanceMarginX18;
    if (health.equityX18 >= health.maintenanceMarginX18) return { ...plan, refusal: "Healthy" };
    const penaltyBps = this.penaltyBps(ctx);
    const size = liquidationSize({
      sizeQty: plan.sizeQty,
      markX18: ctx.markX18,
      multiplier: ctx.spec.contractMultiplier,
      lotQty: ctx.spec.minQty,
      mmBps: ctx.risk.mmBps,
      liquidationPenaltyBps: penaltyBps,
      equityX18: plan.equityX18,
      maintenanceMarginX18: plan.maintenanceMarginX18,
      maxQty,
    });
    plan.requiredQty = size.requiredQty;
    if (size.qtyTooSmall) return { ...plan, refusal: "QtyTooSmall" };
    plan.qty = size.qty;
    // _price: the penalty is capped at the equity; an account that ends flat in deficit needs the fund.
    plan.penaltyX18 = liquidationPenalty(
      plan.qty,
      ctx.markX18,
      ctx.spec.contractMultiplier,
      penaltyBps,
      plan.equityX18,
    ).penaltyX18;
    const endsFlat = plan.qty === abs(plan.sizeQty) && this.flatOutside(account, seriesId);
    if (!endsFlat || plan.equityX18 >= 0n) return plan;
    plan.deficitX18 = -plan.equityX18;
    if (plan.deficitX18 > this.s.insuranceFundX18) plan.refusal = "FundShort";
    return plan;
  }

  /** `LiquidationLogic._revert`: the custom error of a refused plan. */
  private refuseLiquidation(plan: LiquidationPlan): never {
    const seriesId = plan.seriesId;
    const refusal = plan.refusal;
    if (refusal === "SeriesExpired") revert("SeriesExpired", seriesId, this.expiryOf(seriesId));
    if (refusal === "NoPosition") revert("NoPositionToLiquidate", plan.account, seriesId);
    if (refusal === "IndexStale") revert("IndexStale", seriesId, plan.indexObservedAt);
    if (refusal === "Healthy") {
      revert("AccountNotLiquidatable", plan.account, plan.equityX18, plan.maintenanceMarginX18);
    }
    if (refusal === "QtyTooSmall") {
      revert("LiquidationQtyTooSmall", plan.account, seriesId, plan.maxQty, plan.requiredQty);
    }
    revert("InsuranceFundShort", plan.account, plan.deficitX18, this.s.insuranceFundX18);
  }

  /** `LiquidationLogic._execute`: orders out, the move at the mark, the penalty and the fund's cover. */
  private executeLiquidation(plan: LiquidationPlan): void {
    const ctx = plan.ctx;
    if (ctx === undefined) throw new OrderBookModelError("liquidation plan without a context");
    const liquidator = this.env.sender;
    this.cancelAllOrdersOf(plan.account);
    const sizeChangeQty = plan.sizeQty > 0n ? -plan.qty : plan.qty;
    this.moveAtMark(ctx, plan.account, liquidator, sizeChangeQty);
    let rewardX18 = 0n;
    if (plan.penaltyX18 !== 0n) {
      rewardX18 = (plan.penaltyX18 * LIQUIDATOR_PENALTY_SHARE_BPS) / BPS;
      this.s.cash.set(plan.account, this.s.cashOf(plan.account) - plan.penaltyX18);
      this.s.cash.set(liquidator, this.s.cashOf(liquidator) + rewardX18);
      this.s.insuranceFundX18 += plan.penaltyX18 - rewardX18;
    }
    this.events.push({
      name: "Liquidated",
      account: plan.account,
      liquidator,
      seriesId: plan.seriesId,
      sizeChangeQty,
      markX18: ctx.markX18,
      penaltyX18: plan.penaltyX18,
      liquidatorRewardX18: rewardX18,
    });
    if (plan.deficitX18 !== 0n) {
      this.payFromInsurance(plan.account, plan.deficitX18);
      this.events.push({
        name: "DeficitResolved",
        account: plan.account,
        deficitX18: plan.deficitX18,
        fromInsuranceX18: plan.deficitX18,
        fromHaircutsX18: 0n,
        uncoveredX18: 0n,
      });
    }
  }

  /** `LiquidationLogic._checkLiquidatorMargin`: the caller ends at or above initial margin. */
  private checkLiquidatorMargin(knownSeriesId: bigint, knownMarkX18: bigint): void {
    const liquidator = this.env.sender;
    const health = healthOf(this.s, this.env, liquidator, { seriesId: knownSeriesId, markX18: knownMarkX18 });
    if (health.equityX18 < health.initialMarginX18) {
      revert("InsufficientMargin", liquidator, health.equityX18, health.initialMarginX18);
    }
  }

  private penaltyBps(ctx: TradeContext): bigint {
    const bps = ctx.risk.liquidationPenaltyBps;
    if (bps === undefined) throw new OrderBookModelError("liquidation needs risk.liquidationPenaltyBps");
    return bps;
  }

  /** The context of a deleverage leg (`TradeLogic.context`, then the stale check of `_closeLegs`). */
  private legContext(seriesId: bigint): TradeContext | undefined {
    this.requireSeries(seriesId);
    if (!this.s.series.has(seriesId)) {
      // A listed series the model does not trade: same feed and expiry as the first, nobody holds anything in it.
      const expiry = this.expiryOf(seriesId);
      if (this.now >= expiry) revert("SeriesExpired", seriesId, expiry);
      const oracle = this.env.oracle;
      if (oracle.stale) revert("IndexStale", seriesId, oracle.observedAt);
      return undefined;
    }
    const ctx = this.context(seriesId);
    if (ctx.indexStale) revert("IndexStale", seriesId, ctx.indexObservedAt);
    return ctx;
  }

  /** `DeficitLogic._closeLeg`: min(bankrupt size, counterparty size) closes at the mark; the counterparty must profit. */
  private closeLeg(
    ctx: TradeContext | undefined,
    account: string,
    leg: BookDeleverageLeg,
  ): { sizeChangeQty: bigint; markX18: bigint; profitX18: bigint } {
    const book = ctx?.book;
    const bankruptSize = book?.position(account).sizeQty ?? 0n;
    const counterpartySize = book?.position(leg.counterparty).sizeQty ?? 0n;
    if (
      bankruptSize === 0n ||
      leg.counterparty === account ||
      counterpartySize === 0n ||
      bankruptSize > 0n === counterpartySize > 0n
    ) {
      revert("CounterpartyNotOpposite", leg.counterparty, leg.seriesId);
    }
    if (ctx === undefined) throw new OrderBookModelError(`deleverage leg in series ${leg.seriesId} without a context`);
    const bankruptAbs = abs(bankruptSize);
    const counterpartyAbs = abs(counterpartySize);
    const qty = counterpartyAbs < bankruptAbs ? counterpartyAbs : bankruptAbs;
    const sizeChangeQty = bankruptSize > 0n ? -qty : qty;
    const { toRealizedX18: profitX18 } = this.moveAtMark(ctx, account, leg.counterparty, sizeChangeQty);
    if (profitX18 <= 0n) revert("CounterpartyNotInProfit", leg.counterparty, leg.seriesId, profitX18);
    return { sizeChangeQty, markX18: ctx.markX18, profitX18 };
  }

  /** `PositionTransfer.cancelAllOrdersOf`: every resting order of the account, series by lane, then by slot. */
  private cancelAllOrdersOf(account: string): void {
    for (const seriesId of this.s.seriesOf(account)) {
      for (const order of this.ordersOf(account, seriesId)) this.remove(order, CancelReason.Unhealthy);
    }
  }

  /** `PositionTransfer.flatOutside`: no position in any series of the account's set but `exceptSeriesId`. */
  private flatOutside(account: string, exceptSeriesId: bigint): boolean {
    return this.s
      .seriesOf(account)
      .every((id) => id === exceptSeriesId || this.s.book(id).position(account).sizeQty === 0n);
  }

  /**
   * `PositionTransfer.moveAtMark`: `from`'s position changes by `fromDeltaQty` and `to`'s by the opposite,
   * both at the context's mark; series sets and open interest follow. Returns the PnL each side realized.
   */
  private moveAtMark(
    ctx: TradeContext,
    from: string,
    to: string,
    fromDeltaQty: bigint,
  ): { fromRealizedX18: bigint; toRealizedX18: bigint } {
    const fromSide = this.applyAtMark(ctx, from, fromDeltaQty);
    const toSide = this.applyAtMark(ctx, to, -fromDeltaQty);
    this.updateOpenInterest(ctx, fromSide.longChange + toSide.longChange);
    return { fromRealizedX18: fromSide.realizedX18, toRealizedX18: toSide.realizedX18 };
  }

  /** `PositionTransfer._apply`. */
  private applyAtMark(
    ctx: TradeContext,
    account: string,
    deltaQty: bigint,
  ): { realizedX18: bigint; longChange: bigint } {
    const old = ctx.book.position(account);
    const traded = applyTrade(old.sizeQty, old.openNotionalX18, deltaQty, ctx.markX18, ctx.spec.contractMultiplier);
    ctx.book.positions.set(account, { sizeQty: traded.newSizeQty, openNotionalX18: traded.newOpenNotionalX18 });
    this.s.cash.set(account, this.s.cashOf(account) + traded.realizedPnlX18);
    if (old.sizeQty === 0n) this.joinSeries(account, ctx.seriesId);
    else if (traded.newSizeQty === 0n) this.leaveSeriesIfIdle(account, ctx.seriesId);
    return { realizedX18: traded.realizedPnlX18, longChange: longSizeChange(old.sizeQty, traded.newSizeQty) };
  }

  /** `PositionTransfer.payFromInsurance`: up to `deficitX18` from the fund into the account's cash. */
  private payFromInsurance(account: string, deficitX18: bigint): bigint {
    const fundX18 = this.s.insuranceFundX18;
    const paidX18 = deficitX18 < fundX18 ? deficitX18 : fundX18;
    this.s.insuranceFundX18 = fundX18 - paidX18;
    this.s.cash.set(account, this.s.cashOf(account) + paidX18);
    return paidX18;
  }

  // -- Queue (OrderQueue) ---------------------------------------------------------------------

  /** `OrderQueue.rest`: appends the order at the tail of its level and adds it to the account's sums. */
  private rest(ctx: TradeContext, params: OrderParams, slot: bigint, sequence: bigint, qty: bigint): void {
    const account = params.account;
    const orderId = orderIdOf(params.seriesId, refOf(this.accountIdOf(account), slot), sequence);
    const side = ctx.book.side(params.isBuy);
    let level = side.get(params.tick);
    if (level === undefined) {
      level = { qty: 0n, orderIds: [] };
      side.set(params.tick, level);
    }
    level.orderIds.push(orderId);
    level.qty += qty;
    this.s.orders.set(orderId, {
      orderId,
      seriesId: params.seriesId,
      account,
      slot,
      isBuy: params.isBuy,
      reduceOnly: params.reduceOnly,
      tick: params.tick,
      qty,
      expiresAt: params.expiresAt,
      sequence,
    });
    const exposure = ctx.book.exposure(account);
    exposure.slotBitmap |= 1n << slot;
    exposure.sequence = sequence;
    if (!params.reduceOnly) {
      const tickQty = qty * params.tick;
      const openQty = (params.isBuy ? exposure.buyQty : exposure.sellQty) + qty;
      if (openQty > MAX_ORDER_QTY) revert("OpenQtyTooLarge", account, params.seriesId, openQty, MAX_ORDER_QTY);
      if (params.isBuy) {
        exposure.buyQty = openQty;
        exposure.buyTickQty += tickQty;
      } else {
        exposure.sellQty = openQty;
        exposure.sellTickQty += tickQty;
      }
    }
    this.joinSeries(account, params.seriesId);
  }

  /** `OrderQueue.remove`: takes a resting order out of anywhere in its queue, releasing its reserve. */
  private remove(order: StoredOrder, reason: CancelReason): void {
    const side = this.s.book(order.seriesId).side(order.isBuy);
    const level = side.get(order.tick);
    const index = level?.orderIds.indexOf(order.orderId) ?? -1;
    if (level === undefined || index < 0) throw new OrderBookModelError(`order ${order.orderId} not in its level`);
    level.orderIds.splice(index, 1);
    level.qty -= order.qty;
    if (level.orderIds.length === 0) side.delete(order.tick);
    this.release(order, order.qty, false);
    this.s.orders.delete(order.orderId);
    this.freeSlot(order);
    this.events.push({
      name: "OrderCancelled",
      seriesId: order.seriesId,
      orderId: order.orderId,
      account: order.account,
      cancelledQty: order.qty,
      reason,
    });
  }

  /** `OrderQueue.popHead`: removes the head order of a level while matching. */
  private popHead(order: StoredOrder, level: StoredLevel, reason: CancelReason): void {
    level.orderIds.shift();
    level.qty -= order.qty;
    this.release(order, order.qty, true);
    this.events.push({
      name: "OrderCancelled",
      seriesId: order.seriesId,
      orderId: order.orderId,
      account: order.account,
      cancelledQty: order.qty,
      reason,
    });
  }

  /** `OrderQueue.onMakerFill`: books a fill of the head order (whose qty is already reduced by it). */
  private onMakerFill(order: StoredOrder, level: StoredLevel, qty: bigint): void {
    const filled = order.qty === 0n;
    if (filled) level.orderIds.shift();
    this.release(order, qty, filled);
  }

  /** `OrderQueue._release`: takes `qty` out of the owner's sums; when `gone`, deletes the order and frees its slot. */
  private release(order: StoredOrder, qty: bigint, gone: boolean): void {
    if (!order.reduceOnly) {
      const exposure = this.s.book(order.seriesId).exposure(order.account);
      if (order.isBuy) {
        exposure.buyQty -= qty;
        exposure.buyTickQty -= qty * order.tick;
      } else {
        exposure.sellQty -= qty;
        exposure.sellTickQty -= qty * order.tick;
      }
    }
    if (!gone) return;
    this.s.orders.delete(order.orderId);
    this.freeSlot(order);
  }

  private freeSlot(order: StoredOrder): void {
    const exposure = this.s.book(order.seriesId).exposure(order.account);
    exposure.slotBitmap &= ~(1n << order.slot);
    this.leaveSeriesIfIdle(order.account, order.seriesId);
  }

  /** The resting orders of `account` in `seriesId`, by slot (`exposures[account][seriesId].slotBitmap`). */
  private ordersOf(account: string, seriesId: bigint): StoredOrder[] {
    return [...this.s.orders.values()]
      .filter((o) => o.account === account && o.seriesId === seriesId)
      .sort((a, b) => (a.slot < b.slot ? -1 : 1));
  }

  // -- Storage helpers (ClearinghouseStorage) -------------------------------------------------

  /** `S.joinSeries`: the series takes the first free lane of the account's set. */
  private joinSeries(account: string, seriesId: bigint): void {
    const lanes = this.s.seriesSets.get(account) ?? new Array<bigint>(SERIES_SET_CAPACITY).fill(0n);
    if (lanes.includes(seriesId)) return;
    const free = lanes.indexOf(0n);
    if (free < 0) revert("TooManySeries", account, BigInt(SERIES_SET_CAPACITY));
    lanes[free] = seriesId;
    this.s.seriesSets.set(account, lanes);
  }

  /** `SeriesSet.remove`: the series' lane becomes free. */
  private leaveSeries(account: string, seriesId: bigint): void {
    const lanes = this.s.seriesSets.get(account);
    if (lanes === undefined) return;
    const lane = lanes.indexOf(seriesId);
    if (lane >= 0) lanes[lane] = 0n;
  }

  private leaveSeriesIfIdle(account: string, seriesId: bigint): void {
    const book = this.s.book(seriesId);
    if (book.position(account).sizeQty !== 0n || book.exposure(account).slotBitmap !== 0n) return;
    this.leaveSeries(account, seriesId);
  }

  private requireSeries(seriesId: bigint): void {
    if (seriesId === 0n || seriesId > this.seriesCount) revert("UnknownSeries", seriesId);
  }

  /** A listed series' expiry (one the model does not trade: the first series'). */
  private expiryOf(seriesId: bigint): bigint {
    return (this.s.series.get(seriesId) ?? this.s.series.values().next().value)?.spec.expiry ?? 0n;
  }

  private requireOrder(orderId: bigint): StoredOrder {
    const order = this.s.orders.get(orderId);
    if (order === undefined) revert("OrderNotFound", orderId);
    return order;
  }

  private storedOrder(orderId: bigint): StoredOrder {
    const order = this.s.orders.get(orderId);
    if (order === undefined) throw new OrderBookModelError(`order ${orderId} queued but not stored`);
    return order;
  }

  private requireOwnerOrOperator(account: string): void {
    if (!this.s.isOwnerOrOperator(this.env.sender, account)) {
      revert("NotAccountOwnerOrOperator", account, this.env.sender);
    }
  }

  // -- Settlement -----------------------------------------------------------------------------

  /** `SettlementLogic.finalize`: after expiry and complete data, the window TWAP is proposed. */
  finalizeSettlement(seriesId: bigint, data: SettlementOracleData): null {
    this.requireSeries(seriesId);
    const book = this.s.book(seriesId);
    const rules = this.requireRules();
    const settlement = book.settlement;
    if (settlement.status !== BookSettlementStatus.None) {
      revert("SettlementStatusInvalid", seriesId, settlementStatusAt(settlement, this.now));
    }
    const expiry = book.spec.expiry;
    if (this.now < expiry) revert("SeriesNotExpired", seriesId, expiry);
    // _requireCompleteData: a round at or after expiry, or the feed's maximum age has passed since expiry.
    const lastObservedAt = data.latest?.observedAt ?? 0n;
    if (lastObservedAt < expiry) {
      const readyAt = expiry + rules.feedMaxAgeSec;
      if (this.now <= readyAt) revert("SettlementDataIncomplete", seriesId, lastObservedAt, readyAt);
    }
    const twap = data.windowTwap;
    if (!twap.ok) revert("SettlementDataUnavailable", seriesId, twap.error);
    if (twap.version !== rules.methodologyVersion) {
      revert("SettlementMethodologyMismatch", seriesId, twap.version, rules.methodologyVersion);
    }
    if (twap.roundsInWindow < rules.minSettlementRounds) {
      revert("SettlementTooFewRounds", seriesId, twap.roundsInWindow, rules.minSettlementRounds);
    }
    const finalAt = this.now + rules.disputeWindowSec;
    book.settlement = { status: BookSettlementStatus.Proposed, governed: false, finalAt, priceX18: twap.twapX18 };
    this.events.push({
      name: "SettlementProposed",
      seriesId,
      priceX18: twap.twapX18,
      roundsInWindow: twap.roundsInWindow,
      finalAt,
    });
    return null;
  }

  /** `SettlementLogic.challenge` (the guardian's role is the caller's to check). */
  challengeSettlement(seriesId: bigint): null {
    this.requireSeries(seriesId);
    const settlement = this.s.book(seriesId).settlement;
    // The stored status: a proposal past its window is still stored as Proposed.
    if (settlement.status !== BookSettlementStatus.Proposed)
      revert("SettlementStatusInvalid", seriesId, settlement.status);
    if (this.now >= settlement.finalAt) revert("DisputeWindowClosed", seriesId, settlement.finalAt);
    settlement.status = BookSettlementStatus.Challenged;
    this.events.push({
      name: "SettlementChallenged",
      seriesId,
      guardian: this.env.sender,
      priceX18: settlement.priceX18,
    });
    return null;
  }

  /** `SettlementLogic.govern` (the admin's role is the caller's to check). */
  setSettlementPriceByGovernance(seriesId: bigint, priceX18: bigint, data: SettlementOracleData): null {
    this.requireSeries(seriesId);
    const book = this.s.book(seriesId);
    const rules = this.requireRules();
    const status = settlementStatusAt(book.settlement, this.now);
    if (status !== BookSettlementStatus.None && status !== BookSettlementStatus.Challenged) {
      revert("SettlementStatusInvalid", seriesId, status);
    }
    const availableAt = book.spec.expiry + rules.governanceGraceSec;
    if (this.now < availableAt) revert("GovernanceGracePending", seriesId, availableAt);
    if (status === BookSettlementStatus.None) {
      const twap = data.windowTwap;
      if (twap.ok && twap.version === rules.methodologyVersion && twap.roundsInWindow >= rules.minSettlementRounds) {
        revert("SettlementDataAvailable", seriesId, twap.twapX18);
      }
    }
    const referenceX18 = data.latest?.indexX18 ?? 0n;
    const { minX18, maxX18 } = governanceBounds(referenceX18);
    if (priceX18 < minX18 || priceX18 > maxX18) {
      revert("SettlementPriceOutOfBounds", seriesId, priceX18, minX18, maxX18);
    }
    book.settlement = { status: BookSettlementStatus.Final, governed: true, finalAt: this.now, priceX18 };
    this.events.push({ name: "SettlementGoverned", seriesId, priceX18, referencePriceX18: referenceX18 });
    return null;
  }

  /** `settleAccount(seriesId, account)`: reverts `NothingToSettle` when the account holds no position. */
  settleAccount(seriesId: bigint, account: string): null {
    this.requireSeries(seriesId);
    this.requireFinal(seriesId);
    if (!this.settlePosition(account, seriesId)) revert("NothingToSettle", account, seriesId);
    return null;
  }

  /** `SettlementLogic.settleAccounts`: the number of accounts whose position closed. */
  settleAccounts(seriesId: bigint, accounts: readonly string[]): bigint {
    this.requireSeries(seriesId);
    this.requireFinal(seriesId);
    let settled = 0n;
    for (const account of accounts) if (this.settlePosition(account, seriesId)) settled += 1n;
    return settled;
  }

  private requireFinal(seriesId: bigint): void {
    const status = settlementStatusAt(this.s.book(seriesId).settlement, this.now);
    if (status !== BookSettlementStatus.Final) revert("SettlementStatusInvalid", seriesId, status);
  }

  private requireRules(): SettlementRules {
    if (this.rules === undefined) throw new OrderBookModelError("the model was built without settlement rules");
    return this.rules;
  }

  /** `S.settlePosition`: closes the position at the settlement price into cash; false when there is none. */
  private settlePosition(account: string, seriesId: bigint): boolean {
    const book = this.s.book(seriesId);
    const position = book.position(account);
    if (position.sizeQty === 0n) return false;
    const pnlX18 = unrealizedPnlX18(
      position.sizeQty,
      position.openNotionalX18,
      book.settlement.priceX18,
      book.spec.contractMultiplier,
    );
    book.positions.delete(account);
    this.s.cash.set(account, this.s.cashOf(account) + pnlX18);
    this.leaveSeries(account, seriesId);
    if (position.sizeQty > 0n) book.market.openInterestQty -= position.sizeQty;
    this.events.push({ name: "AccountSettled", account, seriesId, sizeQty: position.sizeQty, pnlX18 });
    return true;
  }

  /** `S.settleFinalSeries`: lazy settlement of every series of the account whose settlement is final. */
  private settleFinalSeries(account: string): void {
    for (const seriesId of this.s.seriesOf(account)) {
      const book = this.s.series.get(seriesId);
      if (book === undefined || settlementStatusAt(book.settlement, this.now) !== BookSettlementStatus.Final) continue;
      // Only void orders of the settled series were left: the account leaves it.
      if (!this.settlePosition(account, seriesId)) this.leaveSeries(account, seriesId);
    }
  }

  /** `Clearinghouse._toX18`. */
  private toX18(amountRaw: bigint): bigint {
    if (amountRaw === 0n) revert("ZeroAmount");
    if (amountRaw > MAX_DEPOSIT_RAW) revert("AmountTooLarge", amountRaw, MAX_DEPOSIT_RAW);
    return rawToX18(amountRaw, this.decimals);
  }
}

// ---------------------------------------------------------------------------------------------
// Valuation (MarginLogic)
// ---------------------------------------------------------------------------------------------

/** The oracle reading of a series' feed and window. */
function oracleOf(env: BlockEnv, seriesId: bigint): OracleReading {
  return env.oracleBySeries?.get(seriesId) ?? env.oracle;
}

/** The best opposite tick of a taker on side `isBuy` (lowest ask, highest bid), undefined when empty. */
function bestOpposite(book: SeriesState, isBuy: boolean): bigint | undefined {
  let best: bigint | undefined;
  for (const tick of book.side(!isBuy).keys()) {
    if (best === undefined || (isBuy ? tick < best : tick > best)) best = tick;
  }
  return best;
}

/** `MarginLogic.mark`: index + clamped basis EMA, with the observed part of the averaging window fixed. */
function markOf(book: SeriesState, env: BlockEnv): bigint {
  const spec = book.spec;
  const { indexX18, observedAt, windowAverageX18 } = oracleOf(env, spec.seriesId);
  const m = book.market;
  const basisX18 = clampBasis(
    basisAt(m.basisEmaX18, m.lastBasisSampleX18, m.lastBasisSampleAt, env.nowSec, BASIS_EMA_PERIOD_SEC),
    indexX18,
    book.risk.orderBandBps,
  );
  const windowStart = spec.expiry - spec.averagingWindowSec;
  let observedUntil = observedAt < spec.expiry ? observedAt : spec.expiry;
  let observedAvgX18 = 0n;
  if (observedUntil > windowStart) {
    observedAvgX18 = windowAverageX18;
    if (observedAvgX18 === 0n) observedUntil = windowStart;
  }
  return markFrom(indexX18, basisX18, windowStart, spec.expiry, observedUntil, observedAvgX18);
}

/** `S.statusAt`: a proposed price is final from the end of its dispute window on. */
function settlementStatusAt(settlement: BookSettlement, nowSec: bigint): bigint {
  if (settlement.status === BookSettlementStatus.Proposed && nowSec >= settlement.finalAt) {
    return BookSettlementStatus.Final;
  }
  return settlement.status;
}

/** `MarginLogic.valuationMark`: the settlement price once final, else the mark. */
function valuationMarkOf(book: SeriesState, env: BlockEnv): bigint {
  if (settlementStatusAt(book.settlement, env.nowSec) === BookSettlementStatus.Final) return book.settlement.priceX18;
  return markOf(book, env);
}

/**
 * `MarginLogic.health`: cash, PnL and requirements of every series in the account's set at its mark (the
 * `known` series at the given mark, as the traded series' context mark), with the reserve of resting
 * orders of each series that has not expired.
 */
function healthOf(
  s: BookState,
  env: BlockEnv,
  account: string,
  known: { seriesId: bigint; markX18: bigint } | undefined,
): BookAccountHealth {
  const result: BookAccountHealth = {
    cashX18: s.cashOf(account),
    unrealizedPnlX18: 0n,
    equityX18: 0n,
    initialMarginX18: 0n,
    maintenanceMarginX18: 0n,
    withdrawableX18: 0n,
    orderMarginX18: 0n,
  };
  for (const seriesId of s.seriesOf(account)) {
    const book = s.book(seriesId);
    const spec = book.spec;
    const markX18 = known !== undefined && known.seriesId === seriesId ? known.markX18 : valuationMarkOf(book, env);
    const multiplier = spec.contractMultiplier;
    const position = book.position(account);
    const absSize = abs(position.sizeQty);
    const pnlX18 = unrealizedPnlX18(position.sizeQty, position.openNotionalX18, markX18, multiplier);
    const imX18 = requirementX18(absSize, markX18, multiplier, book.risk.imBps);
    result.unrealizedPnlX18 += pnlX18;
    result.initialMarginX18 += imX18;
    result.maintenanceMarginX18 += requirementX18(absSize, markX18, multiplier, book.risk.mmBps);
    const exposure = book.exposures.get(account) ?? emptyExposure();
    if (env.nowSec < spec.expiry && (exposure.buyQty !== 0n || exposure.sellQty !== 0n)) {
      const orderMarginX18 = orderMargin(
        position,
        exposure,
        markX18,
        multiplier,
        spec.tickSizeX18,
        book.risk.imBps,
        pnlX18 - imX18,
      );
      result.initialMarginX18 += orderMarginX18;
      result.orderMarginX18 += orderMarginX18;
    }
  }
  result.equityX18 = result.cashX18 + result.unrealizedPnlX18;
  let free = result.equityX18 - result.initialMarginX18;
  if (free > result.cashX18) free = result.cashX18;
  result.withdrawableX18 = free > 0n ? free : 0n;
  return result;
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/**
 * The reference matching engine and margin ledger of one or more series. Transactions return a `BookOutcome`
 * and change the state only when they succeed; views mirror the clearinghouse's views. A view's `seriesId`
 * defaults to the first series (`spec.seriesId`).
 */
export class OrderBookModel {
  /** The first series' terms. */
  readonly spec: BookSeriesSpec;
  readonly collateralDecimals: number;
  readonly seriesCount: bigint;
  readonly settlementRules: SettlementRules | undefined;
  private state: BookState;

  constructor(config: OrderBookConfig) {
    this.spec = { ...config.spec };
    const all = [{ spec: config.spec, risk: config.risk }, ...(config.moreSeries ?? [])];
    const series = new Map<bigint, SeriesState>();
    for (const { spec, risk } of all) {
      if (spec.seriesId === 0n || series.has(spec.seriesId)) {
        throw new OrderBookModelError(`series id ${spec.seriesId} is zero or given twice`);
      }
      series.set(spec.seriesId, new SeriesState({ ...spec }, { ...risk }));
    }
    const highest = all.reduce((max, { spec }) => (spec.seriesId > max ? spec.seriesId : max), 0n);
    this.seriesCount = config.seriesCount ?? highest;
    if (this.seriesCount < highest) {
      throw new OrderBookModelError(`seriesCount ${this.seriesCount} is below the traded series ${highest}`);
    }
    this.settlementRules = config.settlementRules === undefined ? undefined : { ...config.settlementRules };
    this.collateralDecimals = config.collateralDecimals;
    this.state = new BookState(series, config.insuranceFeeShareBps);
  }

  /** Ids of the series the model trades, in the order they were given. */
  get seriesIds(): bigint[] {
    return [...this.state.series.keys()];
  }

  /** A copy of the whole state, for `restore`. */
  snapshot(): unknown {
    return this.state.clone();
  }

  /** Puts back a state taken by `snapshot`. */
  restore(snapshot: unknown): void {
    if (!(snapshot instanceof BookState)) throw new OrderBookModelError("not a snapshot of an order book model");
    this.state = snapshot.clone();
  }

  private run<T>(env: CallEnv, body: (tx: BookTransaction) => T): BookOutcome<T> {
    const tx = new BookTransaction(
      this.seriesCount,
      this.collateralDecimals,
      this.state.clone(),
      env,
      this.settlementRules,
    );
    try {
      const value = body(tx);
      this.state = tx.s;
      return { ok: true, value, events: tx.events };
    } catch (error) {
      if (error instanceof Revert) return { ok: false, error: { name: error.errorName, args: error.args } };
      throw error;
    }
  }

  private book(seriesId: bigint | undefined): SeriesState {
    return this.state.book(seriesId ?? this.spec.seriesId);
  }

  // -- Transactions ---------------------------------------------------------------------------

  /** `placeOrder(params)` sent by `env.sender`. */
  placeOrder(env: CallEnv, params: OrderParams): BookOutcome<PlaceOutput> {
    return this.run(env, (tx) => tx.placeOrder(params));
  }

  /** `replaceOrder(orderId, params)` sent by `env.sender`. */
  replaceOrder(env: CallEnv, orderId: bigint, params: OrderParams): BookOutcome<PlaceOutput> {
    return this.run(env, (tx) => tx.replaceOrder(orderId, params));
  }

  /** `cancelOrder(orderId)` sent by `env.sender`. */
  cancelOrder(env: CallEnv, orderId: bigint): BookOutcome<null> {
    return this.run(env, (tx) => tx.cancelOrder(orderId));
  }

  /** `cancelAllOrders(account, seriesId)` sent by `env.sender`; returns the number of orders cancelled. */
  cancelAllOrders(env: CallEnv, account: string, seriesId: bigint): BookOutcome<bigint> {
    return this.run(env, (tx) => tx.cancelAllOrders(account, seriesId));
  }

  /** `finalizeSettlement(seriesId)` by anyone; `data` is what the oracle says about the averaging window. */
  finalizeSettlement(env: CallEnv, seriesId: bigint, data: SettlementOracleData): BookOutcome<null> {
    return this.run(env, (tx) => tx.finalizeSettlement(seriesId, data));
  }

  /** `challengeSettlement(seriesId)` by the guardian. */
  challengeSettlement(env: CallEnv, seriesId: bigint): BookOutcome<null> {
    return this.run(env, (tx) => tx.challengeSettlement(seriesId));
  }

  /** `setSettlementPriceByGovernance(seriesId, priceX18)` by the admin. */
  setSettlementPriceByGovernance(
    env: CallEnv,
    seriesId: bigint,
    priceX18: bigint,
    data: SettlementOracleData,
  ): BookOutcome<null> {
    return this.run(env, (tx) => tx.setSettlementPriceByGovernance(seriesId, priceX18, data));
  }

  /** `settleAccount(seriesId, account)` by anyone. */
  settleAccount(env: CallEnv, seriesId: bigint, account: string): BookOutcome<null> {
    return this.run(env, (tx) => tx.settleAccount(seriesId, account));
  }

  /** `settleAccounts(seriesId, accounts)` by anyone; returns how many positions closed. */
  settleAccounts(env: CallEnv, seriesId: bigint, accounts: readonly string[]): BookOutcome<bigint> {
    return this.run(env, (tx) => tx.settleAccounts(seriesId, accounts));
  }

  /** `deposit(amountRaw)` by `env.sender` (the token transfer itself is the caller's to check). */
  deposit(env: CallEnv, amountRaw: bigint): BookOutcome<null> {
    return this.run(env, (tx) => tx.deposit(amountRaw));
  }

  /** `withdraw(account, amountRaw, to)` by `env.sender` (the token transfer itself is the caller's to check). */
  withdraw(env: CallEnv, account: string, amountRaw: bigint, to: string): BookOutcome<null> {
    return this.run(env, (tx) => tx.withdraw(account, amountRaw, to));
  }

  /** `setOperator(operator, approved)` by `env.sender`. */
  setOperator(env: CallEnv, operator: string, approved: boolean): BookOutcome<null> {
    return this.run(env, (tx) => tx.setOperator(operator, approved));
  }

  /** `pause()` by the guardian (`Pausable._pause`). */
  pause(): BookOutcome<null> {
    if (this.state.paused) return { ok: false, error: { name: "EnforcedPause", args: [] } };
    this.state.paused = true;
    return { ok: true, value: null, events: [] };
  }

  /** `unpause()` by the guardian (`Pausable._unpause`). */
  unpause(): BookOutcome<null> {
    if (!this.state.paused) return { ok: false, error: { name: "ExpectedPause", args: [] } };
    this.state.paused = false;
    return { ok: true, value: null, events: [] };
  }

  // -- Liquidation and deficits --------------------------------------------------------------

  /** `liquidate(account, seriesId, maxQty)` sent by `env.sender` (the liquidator); returns the qty taken over. */
  liquidate(env: CallEnv, account: string, seriesId: bigint, maxQty: bigint): BookOutcome<bigint> {
    return this.run(env, (tx) => tx.liquidate(account, seriesId, maxQty));
  }

  /** `liquidateBatch(requests)` sent by `env.sender`; returns the number of requests carried out. */
  liquidateBatch(env: CallEnv, requests: readonly BookLiquidationRequest[]): BookOutcome<bigint> {
    return this.run(env, (tx) => tx.liquidateBatch(requests));
  }

  /** `deleverage(account, legs)` sent by `env.sender` (anyone). */
  deleverage(env: CallEnv, account: string, legs: readonly BookDeleverageLeg[]): BookOutcome<null> {
    return this.run(env, (tx) => tx.deleverage(account, legs));
  }

  /** `coverDeficit(account)` sent by `env.sender` (anyone). */
  coverDeficit(env: CallEnv, account: string): BookOutcome<null> {
    return this.run(env, (tx) => tx.coverDeficit(account));
  }

  /** `contributeInsurance(amountRaw)` by `env.sender` (the token transfer itself is the caller's to check). */
  contributeInsurance(env: CallEnv, amountRaw: bigint): BookOutcome<null> {
    return this.run(env, (tx) => tx.contributeInsurance(amountRaw));
  }

  /** `withdrawInsurance(to, amountRaw)` by the admin (role and token transfer are the caller's to check). */
  withdrawInsurance(env: CallEnv, to: string, amountRaw: bigint): BookOutcome<null> {
    return this.run(env, (tx) => tx.withdrawInsurance(to, amountRaw));
  }

  /** `setRiskParams(seriesId, risk)` by the market admin; the caller passes parameters inside `SeriesBounds`. */
  setRiskParams(risk: BookRiskParams, seriesId?: bigint): void {
    this.book(seriesId).risk = { ...risk };
  }

  /** `setInsuranceFeeShare` by the admin; the caller passes 0..10,000. */
  setInsuranceFeeShare(bps: bigint): void {
    this.state.insuranceFeeShareBps = bps;
  }

  // -- Views ----------------------------------------------------------------------------------

  /** `paused()`. */
  get paused(): boolean {
    return this.state.paused;
  }

  /** `riskParams(seriesId)` of the first series (the fields the book reads). */
  get risk(): BookRiskParams {
    return this.riskOf();
  }

  /** `riskParams(seriesId)` (the fields the book reads). */
  riskOf(seriesId?: bigint): BookRiskParams {
    return { ...this.book(seriesId).risk };
  }

  /** `seriesSpec(seriesId)` (the fields the book reads). */
  specOf(seriesId?: bigint): BookSeriesSpec {
    return { ...this.book(seriesId).spec };
  }

  /** `insuranceFeeShareBps()`. */
  get insuranceFeeShareBps(): bigint {
    return this.state.insuranceFeeShareBps;
  }

  /** `insuranceFundX18()`. */
  get insuranceFundX18(): bigint {
    return this.state.insuranceFundX18;
  }

  /** `feePoolX18()`. */
  get feePoolX18(): bigint {
    return this.state.feePoolX18;
  }

  /** `marketState(seriesId)`. */
  marketState(seriesId?: bigint): BookMarketState {
    return { ...this.book(seriesId).market };
  }

  /** `markPrice(seriesId)`: the settlement price once final, else the mark. */
  markPrice(env: BlockEnv, seriesId?: bigint): bigint {
    return valuationMarkOf(this.book(seriesId), env);
  }

  /** `settlementOf(seriesId)`: the stored record with the effective status. */
  settlementOf(env: BlockEnv, seriesId?: bigint): BookSettlement {
    const settlement = this.book(seriesId).settlement;
    return { ...settlement, status: settlementStatusAt(settlement, env.nowSec) };
  }

  /** `cashOf(account)`. */
  cashOf(account: string): bigint {
    return this.state.cashOf(account);
  }

  /** `positionOf(account, seriesId)`. */
  positionOf(account: string, seriesId?: bigint): PositionState {
    return { ...this.book(seriesId).position(account) };
  }

  /** `isOperator(owner, operator)`. */
  isOperator(owner: string, operator: string): boolean {
    return this.state.operators.has(`${owner}>${operator}`);
  }

  /** True when `account`'s series set holds the series (`seriesOf(account)` includes it). */
  holdsSeries(account: string, seriesId?: bigint): boolean {
    return this.state.holds(account, seriesId ?? this.spec.seriesId);
  }

  /** `seriesOf(account)`: the account's series set in lane order. */
  seriesOf(account: string): bigint[] {
    return this.state.seriesOf(account);
  }

  /** `accountHealth(account)`. */
  accountHealth(env: BlockEnv, account: string): BookAccountHealth {
    return healthOf(this.state, env, account, undefined);
  }

  /** `orderOf(orderId)`; undefined where the contract reverts with `OrderNotFound`. */
  orderOf(orderId: bigint): OrderView | undefined {
    const order = this.state.orders.get(orderId);
    if (order === undefined) return undefined;
    return {
      orderId,
      account: order.account,
      seriesId: order.seriesId,
      isBuy: order.isBuy,
      reduceOnly: order.reduceOnly,
      tick: order.tick,
      qty: order.qty,
      expiresAt: order.expiresAt,
    };
  }

  /** `levelOf(seriesId, isBuy, tick)`. */
  levelOf(isBuy: boolean, tick: bigint, seriesId?: bigint): LevelView {
    const level = this.book(seriesId).side(isBuy).get(tick);
    if (level === undefined) return { tick, qty: 0n, orderCount: 0n, headOrderId: 0n };
    return { tick, qty: level.qty, orderCount: BigInt(level.orderIds.length), headOrderId: level.orderIds[0] };
  }

  /** Ids of a level's orders, oldest (first to fill) first. */
  levelOrderIds(isBuy: boolean, tick: bigint, seriesId?: bigint): bigint[] {
    return [...(this.book(seriesId).side(isBuy).get(tick)?.orderIds ?? [])];
  }

  /** Active ticks of a side, best first (bids high to low, asks low to high). */
  activeTicks(isBuy: boolean, seriesId?: bigint): bigint[] {
    return [...this.book(seriesId).side(isBuy).keys()].sort((a, b) => (isBuy ? (a > b ? -1 : 1) : a < b ? -1 : 1));
  }

  /** `nextActiveTick(seriesId, isBuy, fromTick)`: bids at or below, asks at or above `fromTick`. */
  nextActiveTick(isBuy: boolean, fromTick: bigint, seriesId?: bigint): { tick: bigint; found: boolean } {
    const tick = this.activeTicks(isBuy, seriesId).find((t) => (isBuy ? t <= fromTick : t >= fromTick));
    return tick === undefined ? { tick: 0n, found: false } : { tick, found: true };
  }

  /** `nextOrderIdOf(orderId)`: the order behind it in its level (0 at the tail); undefined when not resting. */
  nextOrderIdOf(orderId: bigint): bigint | undefined {
    const order = this.state.orders.get(orderId);
    if (order === undefined) return undefined;
    const ids = this.levelOrderIds(order.isBuy, order.tick, order.seriesId);
    return ids[ids.indexOf(orderId) + 1] ?? 0n;
  }

  /** `openOrderIdsOf(account, seriesId)`: by slot. */
  openOrderIdsOf(account: string, seriesId?: bigint): bigint[] {
    const id = seriesId ?? this.spec.seriesId;
    return [...this.state.orders.values()]
      .filter((o) => o.account === account && o.seriesId === id)
      .sort((a, b) => (a.slot < b.slot ? -1 : 1))
      .map((o) => o.orderId);
  }

  /** Ids of every resting order (of one series when `seriesId` is given), by id. */
  restingOrderIds(seriesId?: bigint): bigint[] {
    return [...this.state.orders.values()]
      .filter((o) => seriesId === undefined || o.seriesId === seriesId)
      .map((o) => o.orderId)
      .sort((a, b) => (a < b ? -1 : 1));
  }

  /** `exposureOf(account, seriesId)`. */
  exposureOf(account: string, seriesId?: bigint): ExposureView {
    const e = this.book(seriesId).exposures.get(account) ?? emptyExposure();
    let openOrders = 0n;
    for (let bits = e.slotBitmap; bits !== 0n; bits &= bits - 1n) openOrders += 1n;
    return {
      buyQty: e.buyQty,
      sellQty: e.sellQty,
      buyTickQty: e.buyTickQty,
      sellTickQty: e.sellTickQty,
      openOrders,
      sequence: e.sequence,
    };
  }

  /** The compact id the book gave `account` (0 before its first Limit or PostOnly order). */
  accountIdOf(account: string): bigint {
    return this.state.accountIds.get(account) ?? 0n;
  }
}
