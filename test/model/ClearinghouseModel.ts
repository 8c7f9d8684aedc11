/**
 * A stateful ledger model of the Clearinghouse for model-based (random sequence) tests.
 *
 * The model keeps its own books (cash, positions, open interest, basis EMA, insurance fund, fee pool,
 * settlement, token balances) and its own record of the oracle rounds it published, and predicts for
 * every operation whether it succeeds, with which error it reverts, and the state it leaves. Every
 * number comes from the reference math in `sdk/core` (applyTrade, feeX18, notionalX18,
 * unrealizedPnlX18, requirementX18, accountHealth, basisAt, clampBasis, markFrom, settlementPnlX18,
 * rawToX18) and the oracle TWAP model in `sdk/oracle/twapReference.ts`; the control flow (order of
 * checks, what reverts, lazy settlement) follows `IClearinghouse` NatSpec and the logic libraries.
 * It never reads results back from the chain: the test only feeds it the operations and the clock.
 */
import {
  BASIS_EMA_PERIOD_SEC,
  abs,
  accountHealth,
  applyTrade,
  basisAt,
  clampBasis,
  feeX18,
  markFrom,
  notionalX18,
  raisesRisk,
  rawToX18,
  requirementX18,
  settlementPnlX18,
  unrealizedPnlX18,
} from "../../sdk/core";
import type { AccountHealth, PositionState, ValuedPosition } from "../../sdk/core";
import { ReferencePriceHistory } from "../../sdk/oracle/twapReference";
import type { ReferenceRound } from "../../sdk/oracle/twapReference";
import { BPS, deviationExceeds } from "../../sdk/math/bps";
import { mulDivDown, mulDivUp } from "../../sdk/units";
import type { SeriesRisk } from "../../sdk/client/types";

/** `IClearinghouse.SettlementStatus`. */
export const SettlementStatus = { None: 0n, Proposed: 1n, Challenged: 2n, Final: 3n } as const;

/** Largest raw amount of one deposit or withdrawal (`MAX_AMOUNT_RAW`). */
export const MAX_AMOUNT_RAW = 2n ** 128n - 1n;

/** A custom error the model expects, with its arguments; `contract` says whose ABI declares it. */
export interface ExpectedError {
  contract: "clearinghouse" | "token" | "oracle";
  name: string;
  args: unknown[];
}

/** An oracle error wrapped as `bytes` inside a clearinghouse error (`SettlementDataUnavailable`). */
export interface WrappedOracleError {
  wrapped: ExpectedError;
}

/** What the model predicts for one operation. */
export type Outcome<T = null> = { ok: true; value: T } | { ok: false; error: ExpectedError };

function ok<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

function fail<T>(contract: ExpectedError["contract"], name: string, ...args: unknown[]): Outcome<T> {
  return { ok: false, error: { contract, name, args } };
}

/** The series' fixed spec (as listed) plus the feed parameters the clearinghouse reads. */
export interface ModelSeriesSpec {
  seriesId: bigint;
  feedId: string;
  expiry: bigint;
  averagingWindowSec: bigint;
  methodologyVersion: bigint;
  minSettlementRounds: bigint;
  contractMultiplier: bigint;
  tickSizeX18: bigint;
  minQty: bigint;
  /** The feed's max age (oracle `FeedParams.maxAgeSec`). */
  feedMaxAgeSec: bigint;
  /** The feed's jump guard (only used to refuse publishing a round the oracle would hold). */
  feedJumpGuardBps: bigint;
  /** The feed's minimum interval between rounds. */
  feedMinIntervalSec: bigint;
}

/** `IClearinghouse.RiskParams` as bigints: the SDK's type. */
export type ModelRiskParams = SeriesRisk;

/** Everything the model starts from: configuration and the initial state of the fixture. */
export interface ModelConfig {
  decimals: number;
  clearinghouse: string;
  spec: ModelSeriesSpec;
  risk: ModelRiskParams;
  disputeWindowSec: bigint;
  insuranceFeeShareBps: bigint;
  /** Current block time. */
  now: bigint;
  /** The oracle rounds of the series' feed accepted before the model starts, oldest first. */
  rounds: ReferenceRound[];
  /** Token balances (raw units) of the actors. */
  wallets: Record<string, bigint>;
}

/** `IClearinghouse.Fill` without the series id (the model has one series). */
export interface ModelFill {
  maker: string;
  taker: string;
  takerIsBuy: boolean;
  qty: bigint;
  priceX18: bigint;
}

/** What one side of a booked fill did. */
export interface SideOutcome {
  account: string;
  oldSizeQty: bigint;
  newSizeQty: bigint;
  newOpenNotionalX18: bigint;
  realizedPnlX18: bigint;
  feeX18: bigint;
  raisedRisk: boolean;
}

/** What a booked fill did. */
export interface TradeOutcome {
  markX18: bigint;
  maker: SideOutcome;
  taker: SideOutcome;
  totalFeeX18: bigint;
  toInsuranceX18: bigint;
  basisSampleX18: bigint;
  basisEmaX18: bigint;
}

/** `IClearinghouse.MarketState`. */
export interface ModelMarketState {
  openInterestQty: bigint;
  lastBasisSampleAt: bigint;
  basisEmaX18: bigint;
  lastBasisSampleX18: bigint;
}

/** `IClearinghouse.Settlement` as stored. */
export interface ModelSettlement {
  status: bigint;
  governed: boolean;
  finalAt: bigint;
  priceX18: bigint;
}

/** Everything a clearinghouse transaction can change; cloned for all-or-nothing execution. */
class Ledger {
  cash = new Map<string, bigint>();
  positions = new Map<string, PositionState>();
  wallets = new Map<string, bigint>();
  clearinghouseBalanceRaw = 0n;
  donationsRaw = 0n;
  market: ModelMarketState = { openInterestQty: 0n, lastBasisSampleAt: 0n, basisEmaX18: 0n, lastBasisSampleX18: 0n };
  insuranceFundX18 = 0n;
  feePoolX18 = 0n;
  insuranceFeeShareBps = 0n;
  settlement: ModelSettlement = { status: SettlementStatus.None, governed: false, finalAt: 0n, priceX18: 0n };
  /** Deposits + insurance contributions - withdrawals, 18 decimals (inputs, for the zero-sum check). */
  externalInflowX18 = 0n;
  /** Insurance contributions, 18 decimals. */
  contributionsX18 = 0n;
  /** Lifetime sums of PnL realized by trades, PnL credited by settlement, and fees charged (net of rebates). */
  realizedPnlSumX18 = 0n;
  settlementPnlSumX18 = 0n;
  feesChargedX18 = 0n;

  constructor(
    public risk: ModelRiskParams,
    public disputeWindowSec: bigint,
  ) {}

  clone(): Ledger {
    const copy = new Ledger({ ...this.risk }, this.disputeWindowSec);
    copy.cash = new Map(this.cash);
    copy.positions = new Map([...this.positions].map(([account, p]) => [account, { ...p }]));
    copy.wallets = new Map(this.wallets);
    copy.clearinghouseBalanceRaw = this.clearinghouseBalanceRaw;
    copy.donationsRaw = this.donationsRaw;
    copy.market = { ...this.market };
    copy.insuranceFundX18 = this.insuranceFundX18;
    copy.feePoolX18 = this.feePoolX18;
    copy.insuranceFeeShareBps = this.insuranceFeeShareBps;
    copy.settlement = { ...this.settlement };
    copy.externalInflowX18 = this.externalInflowX18;
    copy.contributionsX18 = this.contributionsX18;
    copy.realizedPnlSumX18 = this.realizedPnlSumX18;
    copy.settlementPnlSumX18 = this.settlementPnlSumX18;
    copy.feesChargedX18 = this.feesChargedX18;
    return copy;
  }

  position(account: string): PositionState {
    return this.positions.get(account) ?? { sizeQty: 0n, openNotionalX18: 0n };
  }

  cashOf(account: string): bigint {
    return this.cash.get(account) ?? 0n;
  }

  walletOf(account: string): bigint {
    return this.wallets.get(account) ?? 0n;
  }
}

/** The model of one clearinghouse with one series, its collateral token and its index feed. */
export class ClearinghouseModel {
  readonly spec: ModelSeriesSpec;
  readonly decimals: number;
  readonly clearinghouse: string;
  /** Current block time (the test moves it; every operation runs at it). */
  now: bigint;
  private ledger: Ledger;
  private readonly history = new ReferencePriceHistory();
  private readonly rounds: ReferenceRound[] = [];

  constructor(config: ModelConfig) {
    this.spec = { ...config.spec };
    this.decimals = config.decimals;
    this.clearinghouse = config.clearinghouse;
    this.now = config.now;
    this.ledger = new Ledger({ ...config.risk }, config.disputeWindowSec);
    this.ledger.insuranceFeeShareBps = config.insuranceFeeShareBps;
    for (const [account, balance] of Object.entries(config.wallets)) this.ledger.wallets.set(account, balance);
    for (const round of config.rounds) this.recordRound(round);
  }

  // -------------------------------------------------------------------------------------------
  // Clock and oracle
  // -------------------------------------------------------------------------------------------

  /** Moves the clock (blocks only move forward). */
  advanceTo(time: bigint): void {
    if (time < this.now) throw new Error(`model clock cannot go back from ${this.now} to ${time}`);
    this.now = time;
  }

  /**
   * Records a round published now (observed at the current time). Only rounds the oracle accepts
   * at once may be published through the model; anything else is a bug of the test driving it.
   */
  publish(priceX18: bigint): void {
    const last = this.latestRound();
    if (this.now < last.observedAt + this.spec.feedMinIntervalSec) {
      throw new Error(`test bug: round at ${this.now} is less than minIntervalSec after ${last.observedAt}`);
    }
    if (priceX18 <= 0n || deviationExceeds(last.priceX18, priceX18, this.spec.feedJumpGuardBps)) {
      throw new Error(`test bug: round price ${priceX18} would be refused or held (last ${last.priceX18})`);
    }
    this.recordRound({ observedAt: this.now, priceX18 });
  }

  private recordRound(round: ReferenceRound): void {
    this.history.record(round);
    this.rounds.push({ ...round });
  }

  /** The latest accepted round. */
  latestRound(): ReferenceRound {
    const last = this.rounds.at(-1);
    if (last === undefined) throw new Error("model has no oracle round");
    return { ...last };
  }

  /** True when the latest index is older than the feed's max age (`peekLatest().isStale`). */
  indexStale(): boolean {
    return this.now - this.latestRound().observedAt > this.spec.feedMaxAgeSec;
  }

  /** Rounds observed in (from, to]. */
  roundsIn(from: bigint, to: bigint): number {
    return this.history.roundsIn(from, to);
  }

  private lastRoundAtOrBefore(time: bigint): ReferenceRound | undefined {
    let found: ReferenceRound | undefined;
    for (const round of this.rounds) {
      if (round.observedAt > time) break;
      found = round;
    }
    return found;
  }

  /** `IndexOracle.twapWithInfo` over [from, to]: the checks in the oracle's order, then the reference TWAP. */
  oracleTwap(from: bigint, to: bigint): Outcome<{ twapX18: bigint; roundsInWindow: bigint }> {
    const feedId = this.spec.feedId;
    if (from >= to) return fail("oracle", "TwapWindowInvalid", from, to);
    if (to > this.now) return fail("oracle", "TwapWindowInFuture", to, this.now);
    const oldest = this.rounds[0].observedAt;
    const atTo = this.lastRoundAtOrBefore(to);
    if (atTo === undefined) return fail("oracle", "TwapOutsideHistory", feedId, to, oldest);
    if (to - atTo.observedAt > this.spec.feedMaxAgeSec) {
      return fail("oracle", "TwapDataStale", feedId, atTo.observedAt, to);
    }
    if (this.lastRoundAtOrBefore(from) === undefined) return fail("oracle", "TwapOutsideHistory", feedId, from, oldest);
    return ok({ twapX18: this.history.twap(from, to), roundsInWindow: BigInt(this.history.roundsIn(from, to)) });
  }

  // -------------------------------------------------------------------------------------------
  // Views
  // -------------------------------------------------------------------------------------------

  get windowStart(): bigint {
    return this.spec.expiry - this.spec.averagingWindowSec;
  }

  get risk(): ModelRiskParams {
    return { ...this.ledger.risk };
  }

  get insuranceFeeShareBps(): bigint {
    return this.ledger.insuranceFeeShareBps;
  }

  get disputeWindowSec(): bigint {
    return this.ledger.disputeWindowSec;
  }

  /** `ClearinghouseStorage.effectiveStatus`: a proposed price is final from `finalAt` on. */
  settlementStatus(ledger: Ledger = this.ledger): bigint {
    const s = ledger.settlement;
    return s.status === SettlementStatus.Proposed && this.now >= s.finalAt ? SettlementStatus.Final : s.status;
  }

  /** `settlementOf`: the stored record with the effective status. */
  settlement(): ModelSettlement {
    return { ...this.ledger.settlement, status: this.settlementStatus() };
  }

  /** `MarginLogic.mark` with the latest index: index + clamped basis EMA, the observed window average fixed. */
  private markOf(ledger: Ledger): bigint {
    const { priceX18: indexX18, observedAt } = this.latestRound();
    const m = ledger.market;
    const basisX18 = clampBasis(
      basisAt(m.basisEmaX18, m.lastBasisSampleX18, m.lastBasisSampleAt, this.now, BASIS_EMA_PERIOD_SEC),
      indexX18,
      ledger.risk.orderBandBps,
    );
    const windowStart = this.windowStart;
    let observedUntil = observedAt < this.spec.expiry ? observedAt : this.spec.expiry;
    let observedAvgX18 = 0n;
    if (observedUntil > windowStart) {
      // The contract falls back to index + basis when the oracle cannot average the observed part.
      const twap = this.oracleTwap(windowStart, observedUntil);
      if (twap.ok) observedAvgX18 = twap.value.twapX18;
      else observedUntil = windowStart;
    }
    return markFrom(indexX18, basisX18, windowStart, this.spec.expiry, observedUntil, observedAvgX18);
  }

  /** `MarginLogic.valuationMark` = `markPrice`: the settlement price once final, else the mark. */
  private valuationMarkOf(ledger: Ledger): bigint {
    return this.settlementStatus(ledger) === SettlementStatus.Final ? ledger.settlement.priceX18 : this.markOf(ledger);
  }

  /** `markPrice(seriesId)`. */
  markPrice(): bigint {
    return this.valuationMarkOf(this.ledger);
  }

  /** The band fills must stay in: [ceil(mark x (1 - band)), floor(mark x (1 + band))]. */
  priceBand(): { minPriceX18: bigint; maxPriceX18: bigint } {
    return this.bandAround(this.markOf(this.ledger));
  }

  private bandAround(mark: bigint): { minPriceX18: bigint; maxPriceX18: bigint } {
    const band = this.ledger.risk.orderBandBps;
    return { minPriceX18: mulDivUp(mark, BPS - band, BPS), maxPriceX18: mulDivDown(mark, BPS + band, BPS) };
  }

  private healthOf(ledger: Ledger, account: string): AccountHealth {
    const position = ledger.position(account);
    const valued: ValuedPosition[] = [];
    if (position.sizeQty !== 0n) {
      valued.push({
        sizeQty: position.sizeQty,
        openNotionalX18: position.openNotionalX18,
        markX18: this.valuationMarkOf(ledger),
        multiplier: this.spec.contractMultiplier,
        imBps: ledger.risk.imBps,
        mmBps: ledger.risk.mmBps,
      });
    }
    return accountHealth(ledger.cashOf(account), valued);
  }

  /** `accountHealth(account)`. */
  health(account: string): AccountHealth {
    return this.healthOf(this.ledger, account);
  }

  /** What a withdrawal can take now, in raw token units (after the lazy settlement a withdrawal runs first). */
  withdrawableRaw(account: string): bigint {
    const ledger = this.ledger.clone();
    this.settleFinalSeries(ledger, account);
    return this.healthOf(ledger, account).withdrawableX18 / this.rawScale;
  }

  cashOf(account: string): bigint {
    return this.ledger.cashOf(account);
  }

  positionOf(account: string): PositionState {
    return { ...this.ledger.position(account) };
  }

  walletOf(account: string): bigint {
    return this.ledger.walletOf(account);
  }

  marketState(): ModelMarketState {
    return { ...this.ledger.market };
  }

  get insuranceFundX18(): bigint {
    return this.ledger.insuranceFundX18;
  }

  get feePoolX18(): bigint {
    return this.ledger.feePoolX18;
  }

  get clearinghouseBalanceRaw(): bigint {
    return this.ledger.clearinghouseBalanceRaw;
  }

  get donationsRaw(): bigint {
    return this.ledger.donationsRaw;
  }

  get externalInflowX18(): bigint {
    return this.ledger.externalInflowX18;
  }

  get contributionsX18(): bigint {
    return this.ledger.contributionsX18;
  }

  /** Lifetime sums over all accounts: PnL realized by trades, PnL credited by settlement, fees charged. */
  get pnlTotals(): { realizedPnlX18: bigint; settlementPnlX18: bigint; feesChargedX18: bigint } {
    return {
      realizedPnlX18: this.ledger.realizedPnlSumX18,
      settlementPnlX18: this.ledger.settlementPnlSumX18,
      feesChargedX18: this.ledger.feesChargedX18,
    };
  }

  /** 10^(18 - decimals). */
  get rawScale(): bigint {
    return rawToX18(1n, this.decimals);
  }

  // -------------------------------------------------------------------------------------------
  // Operations (each at the current clock; state changes only when the outcome is ok)
  // -------------------------------------------------------------------------------------------

  /** `deposit(amountRaw)` by `account` (allowance is unlimited). */
  deposit(account: string, amountRaw: bigint): Outcome {
    const next = this.ledger.clone();
    this.settleFinalSeries(next, account);
    const amount = this.toX18(amountRaw);
    if (!amount.ok) return amount;
    const pulled = this.transfer(next, account, this.clearinghouse, amountRaw);
    if (!pulled.ok) return pulled;
    next.cash.set(account, next.cashOf(account) + amount.value);
    next.externalInflowX18 += amount.value;
    this.ledger = next;
    return ok(null);
  }

  /** `withdraw(account, amountRaw, account)` by `account`. */
  withdraw(account: string, amountRaw: bigint): Outcome {
    const next = this.ledger.clone();
    const amount = this.toX18(amountRaw);
    if (!amount.ok) return amount;
    this.settleFinalSeries(next, account);
    const available = this.healthOf(next, account).withdrawableX18;
    if (amount.value > available) {
      return fail("clearinghouse", "InsufficientFreeCollateral", account, amount.value, available);
    }
    next.cash.set(account, next.cashOf(account) - amount.value);
    const pushed = this.transfer(next, this.clearinghouse, account, amountRaw);
    if (!pushed.ok) return pushed;
    next.externalInflowX18 -= amount.value;
    this.ledger = next;
    return ok(null);
  }

  /** `contributeInsurance(amountRaw)` by `account`. */
  contributeInsurance(account: string, amountRaw: bigint): Outcome {
    const next = this.ledger.clone();
    const amount = this.toX18(amountRaw);
    if (!amount.ok) return amount;
    const pulled = this.transfer(next, account, this.clearinghouse, amountRaw);
    if (!pulled.ok) return pulled;
    next.insuranceFundX18 += amount.value;
    next.externalInflowX18 += amount.value;
    next.contributionsX18 += amount.value;
    this.ledger = next;
    return ok(null);
  }

  /** Tokens minted to `account` by the test (the mock token's open faucet). */
  creditWallet(account: string, amountRaw: bigint): void {
    this.ledger.wallets.set(account, this.ledger.walletOf(account) + amountRaw);
  }

  /** A plain ERC-20 transfer from `account` to the clearinghouse (credited to nobody). */
  donate(account: string, amountRaw: bigint): Outcome {
    const next = this.ledger.clone();
    const sent = this.transfer(next, account, this.clearinghouse, amountRaw);
    if (!sent.ok) return sent;
    next.donationsRaw += amountRaw;
    this.ledger = next;
    return ok(null);
  }

  /** `setRiskParams(seriesId, risk)` by the market admin; the test only sends parameters inside the hard bounds. */
  setRiskParams(risk: ModelRiskParams): Outcome {
    const inBounds =
      risk.mmBps >= 50n &&
      risk.mmBps <= 5_000n &&
      risk.imBps > risk.mmBps &&
      risk.imBps <= 10_000n &&
      risk.orderBandBps >= 10n &&
      risk.orderBandBps <= 5_000n &&
      risk.liquidationPenaltyBps >= 0n &&
      risk.liquidationPenaltyBps <= risk.mmBps &&
      risk.takerFeeBps >= 0n &&
      risk.takerFeeBps <= 100n &&
      risk.makerFeeBps >= -risk.takerFeeBps &&
      risk.makerFeeBps <= 100n &&
      risk.positionLimitQty >= this.spec.minQty &&
      risk.openInterestCapQty >= this.spec.minQty;
    if (!inBounds) throw new Error(`test bug: risk parameters out of bounds: ${JSON.stringify(risk, replacer)}`);
    this.ledger.risk = { ...risk };
    return ok(null);
  }

  /** `setInsuranceFeeShare(bps)` by the admin; the test only sends 0..10,000. */
  setInsuranceFeeShare(bps: bigint): Outcome {
    if (bps < 0n || bps > BPS) throw new Error(`test bug: insurance fee share ${bps} out of bounds`);
    this.ledger.insuranceFeeShareBps = bps;
    return ok(null);
  }

  /** `applyTrade(fill)` by the matching engine (TradeLogic.applyTrade, check for check). */
  trade(fill: ModelFill): Outcome<TradeOutcome> {
    const spec = this.spec;
    const seriesId = spec.seriesId;
    const risk = this.ledger.risk;
    if (this.now >= spec.expiry) return fail("clearinghouse", "SeriesExpired", seriesId, spec.expiry);
    if (fill.qty < spec.minQty) return fail("clearinghouse", "QtyBelowMinimum", seriesId, fill.qty, spec.minQty);
    if (fill.priceX18 === 0n || fill.priceX18 % spec.tickSizeX18 !== 0n) {
      return fail("clearinghouse", "PriceNotOnTick", seriesId, fill.priceX18, spec.tickSizeX18);
    }
    if (fill.maker === fill.taker) return fail("clearinghouse", "SelfTrade", fill.maker);
    const { priceX18: indexX18, observedAt: indexObservedAt } = this.latestRound();
    const indexStale = this.indexStale();
    const markX18 = this.markOf(this.ledger);
    const { minPriceX18, maxPriceX18 } = this.bandAround(markX18);
    if (fill.priceX18 < minPriceX18 || fill.priceX18 > maxPriceX18) {
      return fail("clearinghouse", "PriceOutsideBand", seriesId, fill.priceX18, minPriceX18, maxPriceX18);
    }

    const next = this.ledger.clone();
    this.settleFinalSeries(next, fill.maker);
    this.settleFinalSeries(next, fill.taker);
    const takerDelta = fill.takerIsBuy ? fill.qty : -fill.qty;
    const notional = notionalX18(fill.qty, fill.priceX18, spec.contractMultiplier);
    const context = { next, markX18, indexStale, indexObservedAt, notional, priceX18: fill.priceX18 };
    const maker = this.applySide(context, fill.maker, -takerDelta, risk.makerFeeBps);
    if (!maker.ok) return maker;
    const taker = this.applySide(context, fill.taker, takerDelta, risk.takerFeeBps);
    if (!taker.ok) return taker;

    // Open interest: sum of long sizes.
    const longChange = maker.value.longSizeChange + taker.value.longSizeChange;
    if (longChange !== 0n) {
      const openInterest = next.market.openInterestQty + longChange;
      if (longChange > 0n && openInterest > risk.openInterestCapQty) {
        return fail("clearinghouse", "OpenInterestCapExceeded", seriesId, openInterest, risk.openInterestCapQty);
      }
      next.market.openInterestQty = openInterest;
    }

    // Fees: the insurance share rounds down, the fee pool keeps the rest.
    const totalFeeX18 = maker.value.side.feeX18 + taker.value.side.feeX18;
    if (totalFeeX18 < 0n) throw new Error(`model: negative total fee ${totalFeeX18} (fee bounds broken)`);
    const toInsuranceX18 = mulDivDown(totalFeeX18, next.insuranceFeeShareBps, BPS);
    next.insuranceFundX18 += toInsuranceX18;
    next.feePoolX18 += totalFeeX18 - toInsuranceX18;

    // Basis sample of the mark.
    const m = next.market;
    const emaX18 = basisAt(m.basisEmaX18, m.lastBasisSampleX18, m.lastBasisSampleAt, this.now, BASIS_EMA_PERIOD_SEC);
    const sampleX18 = clampBasis(fill.priceX18 - indexX18, indexX18, risk.orderBandBps);
    next.market = { ...m, basisEmaX18: emaX18, lastBasisSampleX18: sampleX18, lastBasisSampleAt: this.now };

    // Margin after the trade, maker first.
    for (const side of [maker.value, taker.value]) {
      if (!side.side.raisedRisk && side.maintenanceSurplusChangeX18 >= 0n) continue;
      const health = this.healthOf(next, side.side.account);
      if (health.equityX18 < health.initialMarginX18) {
        return fail(
          "clearinghouse",
          "InsufficientMargin",
          side.side.account,
          health.equityX18,
          health.initialMarginX18,
        );
      }
    }

    this.ledger = next;
    return ok({
      markX18,
      maker: maker.value.side,
      taker: taker.value.side,
      totalFeeX18,
      toInsuranceX18,
      basisSampleX18: sampleX18,
      basisEmaX18: emaX18,
    });
  }

  /** `finalizeSettlement(seriesId)` by anyone. */
  finalizeSettlement(): Outcome<{ priceX18: bigint; roundsInWindow: bigint; finalAt: bigint }> {
    const spec = this.spec;
    const seriesId = spec.seriesId;
    if (this.ledger.settlement.status !== SettlementStatus.None) {
      return fail("clearinghouse", "SettlementStatusInvalid", seriesId, this.settlementStatus());
    }
    if (this.now < spec.expiry) return fail("clearinghouse", "SeriesNotExpired", seriesId, spec.expiry);
    const lastObservedAt = this.latestRound().observedAt;
    if (lastObservedAt < spec.expiry) {
      const readyAt = spec.expiry + spec.feedMaxAgeSec;
      if (this.now <= readyAt) {
        return fail("clearinghouse", "SettlementDataIncomplete", seriesId, lastObservedAt, readyAt);
      }
    }
    const twap = this.oracleTwap(this.windowStart, spec.expiry);
    if (!twap.ok) {
      const wrapped: WrappedOracleError = { wrapped: twap.error };
      return fail("clearinghouse", "SettlementDataUnavailable", seriesId, wrapped);
    }
    // Every round the model publishes carries the series' methodology version.
    if (twap.value.roundsInWindow < spec.minSettlementRounds) {
      return fail(
        "clearinghouse",
        "SettlementTooFewRounds",
        seriesId,
        twap.value.roundsInWindow,
        spec.minSettlementRounds,
      );
    }
    const finalAt = this.now + this.ledger.disputeWindowSec;
    this.ledger.settlement = {
      status: SettlementStatus.Proposed,
      governed: false,
      finalAt,
      priceX18: twap.value.twapX18,
    };
    return ok({ priceX18: twap.value.twapX18, roundsInWindow: twap.value.roundsInWindow, finalAt });
  }

  /** `settleAccounts(seriesId, accounts)` (strict = false) or `settleAccount` (strict = true). */
  settleAccounts(accounts: readonly string[], strict = false): Outcome<{ settled: string[]; pnlX18: bigint[] }> {
    const status = this.settlementStatus();
    if (status !== SettlementStatus.Final) {
      return fail("clearinghouse", "SettlementStatusInvalid", this.spec.seriesId, status);
    }
    const next = this.ledger.clone();
    const settled: string[] = [];
    const pnls: bigint[] = [];
    for (const account of accounts) {
      const pnl = this.settlePosition(next, account);
      if (pnl !== undefined) {
        settled.push(account);
        pnls.push(pnl);
      } else if (strict) {
        return fail("clearinghouse", "NothingToSettle", account, this.spec.seriesId);
      }
    }
    this.ledger = next;
    return ok({ settled, pnlX18: pnls });
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

  /** `_toX18`: the one conversion, with its checks. */
  private toX18(amountRaw: bigint): Outcome<bigint> {
    if (amountRaw === 0n) return fail("clearinghouse", "ZeroAmount");
    if (amountRaw > MAX_AMOUNT_RAW) return fail("clearinghouse", "AmountTooLarge", amountRaw, MAX_AMOUNT_RAW);
    return ok(rawToX18(amountRaw, this.decimals));
  }

  /** An ERC-20 transfer between an actor and the clearinghouse (OpenZeppelin ERC20 errors). */
  private transfer(ledger: Ledger, from: string, to: string, amountRaw: bigint): Outcome {
    const balance = from === this.clearinghouse ? ledger.clearinghouseBalanceRaw : ledger.walletOf(from);
    if (balance < amountRaw) return fail("token", "ERC20InsufficientBalance", from, balance, amountRaw);
    if (from === this.clearinghouse) ledger.clearinghouseBalanceRaw -= amountRaw;
    else ledger.wallets.set(from, balance - amountRaw);
    if (to === this.clearinghouse) ledger.clearinghouseBalanceRaw += amountRaw;
    else ledger.wallets.set(to, ledger.walletOf(to) + amountRaw);
    return ok(null);
  }

  /** One side of a fill (`TradeLogic._applySide`). */
  private applySide(
    context: {
      next: Ledger;
      markX18: bigint;
      indexStale: boolean;
      indexObservedAt: bigint;
      notional: bigint;
      priceX18: bigint;
    },
    account: string,
    deltaQty: bigint,
    feeBps: bigint,
  ): Outcome<{ side: SideOutcome; longSizeChange: bigint; maintenanceSurplusChangeX18: bigint }> {
    const { next, markX18 } = context;
    const risk = next.risk;
    const multiplier = this.spec.contractMultiplier;
    const old = next.position(account);
    const traded = applyTrade(old.sizeQty, old.openNotionalX18, deltaQty, context.priceX18, multiplier);
    const newAbs = abs(traded.newSizeQty);
    const raisedRisk = raisesRisk(old.sizeQty, traded.newSizeQty);
    if (raisedRisk) {
      if (context.indexStale) return fail("clearinghouse", "IndexStale", this.spec.seriesId, context.indexObservedAt);
      if (newAbs > risk.positionLimitQty) {
        return fail(
          "clearinghouse",
          "PositionLimitExceeded",
          account,
          this.spec.seriesId,
          newAbs,
          risk.positionLimitQty,
        );
      }
    }
    const fee = feeX18(context.notional, feeBps);
    const positive = (size: bigint) => (size > 0n ? size : 0n);
    const longSizeChange = positive(traded.newSizeQty) - positive(old.sizeQty);
    const equityChange =
      unrealizedPnlX18(traded.newSizeQty, traded.newOpenNotionalX18, markX18, multiplier) +
      traded.realizedPnlX18 -
      fee -
      unrealizedPnlX18(old.sizeQty, old.openNotionalX18, markX18, multiplier);
    const mmBefore = requirementX18(abs(old.sizeQty), markX18, multiplier, risk.mmBps);
    const mmAfter = requirementX18(newAbs, markX18, multiplier, risk.mmBps);
    const maintenanceSurplusChangeX18 = equityChange - mmAfter + mmBefore;

    if (traded.newSizeQty === 0n) next.positions.delete(account);
    else next.positions.set(account, { sizeQty: traded.newSizeQty, openNotionalX18: traded.newOpenNotionalX18 });
    next.cash.set(account, next.cashOf(account) + traded.realizedPnlX18 - fee);
    next.realizedPnlSumX18 += traded.realizedPnlX18;
    next.feesChargedX18 += fee;
    return ok({
      side: {
        account,
        oldSizeQty: old.sizeQty,
        newSizeQty: traded.newSizeQty,
        newOpenNotionalX18: traded.newOpenNotionalX18,
        realizedPnlX18: traded.realizedPnlX18,
        feeX18: fee,
        raisedRisk,
      },
      longSizeChange,
      maintenanceSurplusChangeX18,
    });
  }

  /** Lazy settlement (`SettlementLogic.settleFinalSeries`): closes the account's position once final. */
  private settleFinalSeries(ledger: Ledger, account: string): void {
    if (ledger.position(account).sizeQty === 0n) return;
    if (this.settlementStatus(ledger) !== SettlementStatus.Final) return;
    this.settlePosition(ledger, account);
  }

  /** `_settlePosition`: the position closes at the settlement price into cash; undefined when flat. */
  private settlePosition(ledger: Ledger, account: string): bigint | undefined {
    const position = ledger.position(account);
    if (position.sizeQty === 0n) return undefined;
    const pnl = settlementPnlX18(
      position.sizeQty,
      position.openNotionalX18,
      ledger.settlement.priceX18,
      this.spec.contractMultiplier,
    );
    ledger.positions.delete(account);
    ledger.cash.set(account, ledger.cashOf(account) + pnl);
    if (position.sizeQty > 0n) ledger.market.openInterestQty -= position.sizeQty;
    ledger.settlementPnlSumX18 += pnl;
    return pnl;
  }
}

/** JSON.stringify replacer for bigints. */
export function replacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
