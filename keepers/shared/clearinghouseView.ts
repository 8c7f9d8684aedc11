/**
 * The keepers' view of the clearinghouse, rebuilt from its events alone: every account's cash and
 * positions, every series' spec and risk parameters. It applies the same position math as the
 * contracts (`sdk/core`), so an account's cash and positions here equal `cashOf` and `positionOf`
 * on chain at the indexed block. An `IndexerHandler`: a re-org rolls it back by replaying its
 * journal up to the common ancestor.
 */
import type { IndexedLog, IndexerHandler } from "../runtime/eventIndexer";
import { applyTrade } from "../../sdk";

/** A series as the keepers need it. */
export interface SeriesView {
  seriesId: bigint;
  symbol: string;
  feedId: string;
  expiry: bigint;
  multiplier: bigint;
  tickSizeX18: bigint;
  lotQty: bigint;
  imBps: bigint;
  mmBps: bigint;
  liquidationPenaltyBps: bigint;
  orderBandBps: bigint;
  /** Settlement price once proposed or governed (final after the dispute window), else undefined. */
  settlementPriceX18?: bigint;
}

/** A position: signed size and cost basis, as `positionOf` returns them. */
export interface PositionView {
  sizeQty: bigint;
  openNotionalX18: bigint;
}

/** An account: realized cash and positions by series id. */
export interface AccountView {
  address: string;
  cashX18: bigint;
  positions: Map<bigint, PositionView>;
  /** Last block in which an event touched the account. */
  lastBlock: number;
}

/** Events of the clearinghouse the view reads; everything else is ignored. */
const HANDLED = new Set([
  "SeriesListed",
  "RiskParamsSet",
  "Deposited",
  "Withdrawn",
  "OrderFilled",
  "AccountSettled",
  "Liquidated",
  "Deleveraged",
  "DeficitResolved",
  "SettlementProposed",
  "SettlementGoverned",
  "SettlementChallenged",
]);

export class ClearinghouseView implements IndexerHandler {
  readonly series = new Map<bigint, SeriesView>();
  readonly accounts = new Map<string, AccountView>();
  private journal: IndexedLog[] = [];
  private appliedThroughBlock = -1;

  /** @param rawToX18 10^(18 - collateral decimals): converts the raw amounts of `Withdrawn`. */
  constructor(private readonly rawToX18: bigint) {}

  /** The highest block whose events were applied (-1 before any). */
  get blockNumber(): number {
    return this.appliedThroughBlock;
  }

  /** @inheritdoc */
  apply(log: IndexedLog): void {
    if (!HANDLED.has(log.name)) return;
    this.journal.push(log);
    this.applyEvent(log);
  }

  /** @inheritdoc */
  rollback(toBlockInclusive: number): void {
    const kept = this.journal.filter((log) => log.blockNumber <= toBlockInclusive);
    this.series.clear();
    this.accounts.clear();
    this.journal = [];
    this.appliedThroughBlock = -1;
    for (const log of kept) this.apply(log);
  }

  /** The account's view (created empty on first use). */
  account(address: string): AccountView {
    const key = address.toLowerCase();
    let account = this.accounts.get(key);
    if (account === undefined) {
      account = { address, cashX18: 0n, positions: new Map(), lastBlock: -1 };
      this.accounts.set(key, account);
    }
    return account;
  }

  /** Accounts holding at least one position. */
  accountsWithPositions(): AccountView[] {
    return [...this.accounts.values()].filter((account) => account.positions.size > 0);
  }

  private applyEvent(log: IndexedLog): void {
    this.appliedThroughBlock = Math.max(this.appliedThroughBlock, log.blockNumber);
    const a = log.args;
    switch (log.name) {
      case "SeriesListed":
        this.series.set(BigInt(a.seriesId), seriesOf(BigInt(a.seriesId), a.spec, a.risk));
        return;
      case "RiskParamsSet": {
        const series = this.series.get(BigInt(a.seriesId));
        if (series !== undefined) Object.assign(series, riskOf(a.risk));
        return;
      }
      case "SettlementProposed":
      case "SettlementGoverned": {
        const series = this.series.get(BigInt(a.seriesId));
        if (series !== undefined) series.settlementPriceX18 = BigInt(a.priceX18);
        return;
      }
      case "SettlementChallenged": {
        const series = this.series.get(BigInt(a.seriesId));
        if (series !== undefined) series.settlementPriceX18 = undefined;
        return;
      }
      case "Deposited":
        this.credit(a.account, BigInt(a.amountX18), log);
        return;
      case "Withdrawn":
        this.credit(a.account, -BigInt(a.amountRaw) * this.rawToX18, log);
        return;
      case "OrderFilled": {
        const qty = BigInt(a.qty);
        const price = BigInt(a.priceX18);
        const seriesId = BigInt(a.seriesId);
        const takerDelta = a.takerIsBuy ? qty : -qty;
        this.trade(a.maker, seriesId, -takerDelta, price, log);
        this.credit(a.maker, -BigInt(a.makerFeeX18), log);
        this.trade(a.taker, seriesId, takerDelta, price, log);
        this.credit(a.taker, -BigInt(a.takerFeeX18), log);
        return;
      }
      case "AccountSettled": {
        const account = this.account(a.account);
        account.positions.delete(BigInt(a.seriesId));
        this.credit(a.account, BigInt(a.pnlX18), log);
        return;
      }
      case "Liquidated": {
        const change = BigInt(a.sizeChangeQty);
        this.trade(a.account, BigInt(a.seriesId), change, BigInt(a.markX18), log);
        this.trade(a.liquidator, BigInt(a.seriesId), -change, BigInt(a.markX18), log);
        this.credit(a.account, -BigInt(a.penaltyX18), log);
        this.credit(a.liquidator, BigInt(a.liquidatorRewardX18), log);
        return;
      }
      case "Deleveraged": {
        const change = BigInt(a.sizeChangeQty);
        this.trade(a.account, BigInt(a.seriesId), change, BigInt(a.markX18), log);
        this.trade(a.counterparty, BigInt(a.seriesId), -change, BigInt(a.markX18), log);
        this.credit(a.account, BigInt(a.haircutX18), log);
        this.credit(a.counterparty, -BigInt(a.haircutX18), log);
        return;
      }
      case "DeficitResolved":
        // Haircuts were booked leg by leg (Deleveraged); only the insurance fund's part is new.
        this.credit(a.account, BigInt(a.fromInsuranceX18), log);
        return;
    }
  }

  private credit(address: string, amountX18: bigint, log: IndexedLog): void {
    const account = this.account(address);
    account.cashX18 += amountX18;
    account.lastBlock = log.blockNumber;
  }

  private trade(address: string, seriesId: bigint, deltaQty: bigint, priceX18: bigint, log: IndexedLog): void {
    const series = this.series.get(seriesId);
    if (series === undefined) throw new Error(`event for unknown series ${seriesId} at block ${log.blockNumber}`);
    const account = this.account(address);
    const position = account.positions.get(seriesId) ?? { sizeQty: 0n, openNotionalX18: 0n };
    const outcome = applyTrade(position.sizeQty, position.openNotionalX18, deltaQty, priceX18, series.multiplier);
    account.cashX18 += outcome.realizedPnlX18;
    if (outcome.newSizeQty === 0n) account.positions.delete(seriesId);
    else account.positions.set(seriesId, { sizeQty: outcome.newSizeQty, openNotionalX18: outcome.newOpenNotionalX18 });
    account.lastBlock = log.blockNumber;
  }
}

interface SpecArgs {
  symbol: string;
  feedId: string;
  expiry: bigint;
  contractMultiplier: bigint;
  tickSizeX18: bigint;
  minQty: bigint;
}

interface RiskArgs {
  imBps: bigint;
  mmBps: bigint;
  orderBandBps: bigint;
  liquidationPenaltyBps: bigint;
}

function riskOf(risk: RiskArgs) {
  return {
    imBps: BigInt(risk.imBps),
    mmBps: BigInt(risk.mmBps),
    orderBandBps: BigInt(risk.orderBandBps),
    liquidationPenaltyBps: BigInt(risk.liquidationPenaltyBps),
  };
}

function seriesOf(seriesId: bigint, spec: SpecArgs, risk: RiskArgs): SeriesView {
  return {
    seriesId,
    symbol: spec.symbol,
    feedId: spec.feedId,
    expiry: BigInt(spec.expiry),
    multiplier: BigInt(spec.contractMultiplier),
    tickSizeX18: BigInt(spec.tickSizeX18),
    lotQty: BigInt(spec.minQty),
    ...riskOf(risk),
  };
}
