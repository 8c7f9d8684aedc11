/**
 * `TokenpitClient`: the one object a dApp holds. Connect it with a Signer (to trade) or a Provider (to read) and a
 * deployment file or addresses; every call speaks the exchange's units and raises the SDK's error classes.
 *
 * ```ts
 * const client = await TokenpitClient.connect(signer, deployment);
 * await client.deposit("1000");
 * const order = await client.placeOrder({ series: "AIT-2027-01", side: "buy", qty: 2, price: "4.05" });
 * ```
 */
import type { ContractRunner } from "ethers";
import type { Deployment } from "../deployment";
import { deposit, withdraw } from "./collateral";
import type { DepositOptions } from "./collateral";
import { Connection, clientAddressesOf, guarded } from "./connection";
import type { ClientAddresses } from "./connection";
import { cancelAllOrders, cancelOrder, placeOrder, replaceOrder } from "./orders";
import {
  accountOf,
  bestBidAskOf,
  depthOf,
  fillsOf,
  indexOf,
  listSeries,
  markOf,
  openOrdersOf,
  positionsOf,
  seriesInfo,
  twapOf,
} from "./reads";
import type { FillQuery } from "./reads";
import { finalizeSettlement, settleAccounts } from "./settlement";
import type { StreamOptions, Subscription } from "./streams";
import { onFill, onIndexUpdate, onLiquidation, onOrder, onSettlement } from "./subscriptions";
import type { IndexUpdate, LiquidationEvent, OrderEvent, SettlementEvent, StreamFilter } from "./subscriptions";
import type {
  AccountSummary,
  AmountInput,
  BestBidAsk,
  BookDepth,
  CancelOutcome,
  DepositOutcome,
  Fill,
  IndexReading,
  OpenOrder,
  OrderOutcome,
  OrderRequest,
  PositionSummary,
  SeriesInfo,
  SeriesRef,
  Sent,
  SettleOutcome,
  TwapReading,
  WithdrawOutcome,
} from "./types";

export class TokenpitClient {
  /** The contracts and runner every call uses (typechain contracts: `clearinghouse`, `lens`, `oracle`, `collateral`). */
  readonly connection: Connection;

  private constructor(connection: Connection) {
    this.connection = connection;
  }

  /**
   * Connects to a deployment. With a deployment file (or addresses with `chainId`), a node of another chain is
   * refused (`WrongChainError`).
   * @param runner A Signer to trade, or a Provider to read only.
   */
  static async connect(runner: ContractRunner, deployment: Deployment | ClientAddresses): Promise<TokenpitClient> {
    const connection = new Connection(runner, clientAddressesOf(deployment));
    await guarded(() => connection.checkChain());
    return new TokenpitClient(connection);
  }

  /** A client for the same deployment with another runner (e.g. another signer). */
  withRunner(runner: ContractRunner): TokenpitClient {
    return new TokenpitClient(new Connection(runner, this.connection.addresses));
  }

  // ----- reads -----

  /** Every listed series with spec, risk parameters and settlement. */
  series(): Promise<SeriesInfo[]> {
    return guarded(() => listSeries(this.connection));
  }

  /** One series by symbol (`AIT-2027-01`) or id. @throws SeriesNotFoundError */
  seriesInfo(series: SeriesRef): Promise<SeriesInfo> {
    return guarded(() => seriesInfo(this.connection, series));
  }

  /** The latest index round of the series' feed (with its staleness). */
  index(series: SeriesRef): Promise<IndexReading> {
    return guarded(() => indexOf(this.connection, series));
  }

  /** The mark price, 18 decimals (the settlement price once final). */
  mark(series: SeriesRef): Promise<bigint> {
    return guarded(() => markOf(this.connection, series));
  }

  /** The index TWAP; by default over the series' averaging window up to now. */
  twap(series: SeriesRef, window?: { fromTime?: bigint; toTime?: bigint }): Promise<TwapReading> {
    return guarded(() => twapOf(this.connection, series, window));
  }

  /** The best bid and ask. */
  bestBidAsk(series: SeriesRef): Promise<BestBidAsk> {
    return guarded(() => bestBidAskOf(this.connection, series));
  }

  /** Up to `levels` price levels a side, best first. */
  depth(series: SeriesRef, levels = 10): Promise<BookDepth> {
    return guarded(() => depthOf(this.connection, series, levels));
  }

  /** Cash, equity, margins, free collateral, margin ratio and positions of `account` (default the signer). */
  async account(account?: string): Promise<AccountSummary> {
    return guarded(async () => accountOf(this.connection, await this.connection.accountOr(account, "account")));
  }

  /** Positions of `account` (default the signer) with PnL and liquidation prices. */
  async positions(account?: string): Promise<PositionSummary[]> {
    return guarded(async () => positionsOf(this.connection, await this.connection.accountOr(account, "positions")));
  }

  /** Resting orders of `account` (default the signer), in one series or all. */
  async openOrders(account?: string, series?: SeriesRef): Promise<OpenOrder[]> {
    return guarded(async () =>
      openOrdersOf(this.connection, await this.connection.accountOr(account, "open orders"), series),
    );
  }

  /** Fill history from events, oldest first. */
  fills(query?: FillQuery): Promise<Fill[]> {
    return guarded(() => fillsOf(this.connection, query));
  }

  // ----- actions (need a Signer) -----

  /** Deposits collateral ("1000.5" tokens, or token units), granting the allowance by permit or approve first. */
  deposit(amount: AmountInput, options?: DepositOptions): Promise<DepositOutcome> {
    return guarded(() => deposit(this.connection, amount, options));
  }

  /** Withdraws collateral to the signer (or `options.to`). */
  withdraw(amount: AmountInput, options?: { account?: string; to?: string }): Promise<WithdrawOutcome> {
    return guarded(() => withdraw(this.connection, amount, options));
  }

  /** Places an order of any type; the outcome holds its id, fills, resting and cancelled quantities. */
  placeOrder(request: OrderRequest): Promise<OrderOutcome> {
    return guarded(() => placeOrder(this.connection, request));
  }

  /** Cancels one resting order. */
  cancel(orderId: bigint): Promise<CancelOutcome> {
    return guarded(() => cancelOrder(this.connection, orderId));
  }

  /** Cancels every resting order of the signer (or `account`) in a series. */
  cancelAll(series: SeriesRef, account?: string): Promise<CancelOutcome> {
    return guarded(() => cancelAllOrders(this.connection, series, account));
  }

  /** Replaces a resting order by a new one in one transaction. */
  replace(orderId: bigint, request: OrderRequest): Promise<OrderOutcome> {
    return guarded(() => replaceOrder(this.connection, orderId, request));
  }

  /** Closes positions at the final settlement price: the signer's, or those of `accounts`. */
  settle(series: SeriesRef, accounts?: string[]): Promise<SettleOutcome> {
    return guarded(() => settleAccounts(this.connection, series, accounts));
  }

  /** Proposes the settlement price of an expired series from the oracle TWAP (anyone). */
  proposeSettlement(series: SeriesRef): Promise<Sent> {
    return guarded(() => finalizeSettlement(this.connection, series));
  }

  // ----- streams -----

  /** Streams fills of a series and/or account; call `unsubscribe()` on the result to stop. */
  onFill(
    filter: StreamFilter,
    listener: (fill: Fill) => void | Promise<void>,
    options?: StreamOptions,
  ): Promise<Subscription> {
    return guarded(() => onFill(this.connection, filter, listener, options));
  }

  /** Streams orders placed and cancelled. */
  onOrder(
    filter: StreamFilter,
    listener: (event: OrderEvent) => void | Promise<void>,
    options?: StreamOptions,
  ): Promise<Subscription> {
    return guarded(() => onOrder(this.connection, filter, listener, options));
  }

  /** Streams liquidations, deleveraging legs and resolved deficits. */
  onLiquidation(
    filter: StreamFilter,
    listener: (event: LiquidationEvent) => void | Promise<void>,
    options?: StreamOptions,
  ): Promise<Subscription> {
    return guarded(() => onLiquidation(this.connection, filter, listener, options));
  }

  /** Streams index rounds of a series' feed. */
  onIndexUpdate(
    series: SeriesRef,
    listener: (update: IndexUpdate) => void | Promise<void>,
    options?: StreamOptions,
  ): Promise<Subscription> {
    return guarded(() => onIndexUpdate(this.connection, series, listener, options));
  }

  /** Streams settlement proposals, challenges, governed prices and settled accounts. */
  onSettlement(
    filter: StreamFilter,
    listener: (event: SettlementEvent) => void | Promise<void>,
    options?: StreamOptions,
  ): Promise<Subscription> {
    return guarded(() => onSettlement(this.connection, filter, listener, options));
  }
}
