/**
 * Directed scenarios: the branches random sequences rarely reach, each built on purpose.
 * Part of the order book and system campaigns (see test/invariant/System.campaign.test.ts).
 */
import {} from "@nomicfoundation/hardhat-network-helpers";
import { OrderKind } from "../../../sdk";
import type { BookLiquidationRequest, OrderParams } from "../../../sdk";
import { units } from "../../fixtures/clearinghouse";
import { HOUR, Signer, Run, blockEnv } from "./run";
import {
  deposit,
  withdraw,
  publishIndex,
  movedPrice,
  warp,
  togglePause,
  setOperator,
  setRisk,
  setShare,
  place,
  replace,
  cancel,
  cancelAll,
  UINT64_MAX,
  UINT256_MAX,
  SHOCK_STEP_BPS,
  requiredQtyOf,
  liquidate,
  liquidateBatch,
  deleverage,
  coverDeficit,
  contributeInsurance,
  withdrawInsurance,
  deleverageLegs,
} from "./actions";
import { RISK_PRESETS } from "./randomOps";
import { markTick, qtyToMargin } from "./actions";

// ---------------------------------------------------------------------------------------------
// Directed scenario: the branches random sequences rarely reach, each built on purpose
// ---------------------------------------------------------------------------------------------

/** Outcomes the directed scenario must reach (keys of `Run.outcomes`). */
export const SCENARIO_OUTCOMES = [
  "placeOrder: TooManyOpenOrders",
  "placeOrder: OpenInterestCapExceeded",
  "placeOrder: PriceOutsideBand",
  "placeOrder: EnforcedPause",
  "placeOrder: IndexStale",
  "placeOrder: InsufficientMargin",
  "replaceOrder: ReplaceMismatch",
  "cancelAllOrders: AccountNotBelowMaintenance",
  "withdraw: InsufficientFreeCollateral",
  "  event OrderCancelled Replaced",
  "  event OrderCancelled ReduceOnlyClipped",
  "  event OrderCancelled SelfTrade",
  "  event OrderCancelled Unfilled",
  "  event OrderCancelled Expired",
  "  event OrderCancelled OutOfBand",
  "  event OrderCancelled Unhealthy",
];

/** One transaction a second after the previous one. */
export function nextSecond(r: Run): bigint {
  const at = r.clock.now + 1n;
  r.clock.advanceTo(at);
  return at;
}

/** A trader flat or long (`long`) or flat or short, other than `except`. */
export function traderLeaning(r: Run, long: boolean, except?: Signer): Signer {
  const found = r.traders.find((t) => {
    const size = r.book.positionOf(t.address, r.seriesId).sizeQty;
    return t !== except && (long ? size >= 0n : size <= 0n);
  });
  if (found === undefined) throw new Error("harness: no trader on that side");
  return found;
}

export async function directedScenario(r: Run, decimals: number): Promise<void> {
  const [alice, bob, carol] = r.traders;
  const dave = r.operator;
  let base = 0n;
  const put = async (
    sender: Signer,
    isBuy: boolean,
    kind: OrderKind,
    qty: bigint,
    tick: bigint,
    extra: Partial<OrderParams> = {},
    account: Signer = sender,
  ) => {
    const params: OrderParams = {
      seriesId: r.seriesId,
      account: account.address,
      isBuy,
      kind,
      reduceOnly: false,
      tick,
      qty,
      expiresAt: 0n,
      maxFills: 50n,
      ...extra,
    };
    await place(r, sender, params, nextSecond(r));
  };

  await setRisk(r, RISK_PRESETS.standard, nextSecond(r));
  await setShare(r, 2_000n, nextSecond(r));
  await setOperator(r, alice, dave, nextSecond(r));
  const depositTokens = [200_000n, 200_000n, 60_000n];
  for (const [i, trader] of r.traders.entries())
    await deposit(r, trader, units(depositTokens[i], decimals), nextSecond(r));
  base = markTick(r);

  // 32 open orders, then TooManyOpenOrders; a freed slot is reused (by the operator) with the next sequence.
  for (let i = 0n; i < 32n; i++) await put(alice, false, OrderKind.PostOnly, 1n, base + 40n + i);
  await put(alice, false, OrderKind.PostOnly, 1n, base + 80n);
  await cancel(r, alice, r.book.openOrderIdsOf(alice.address, r.seriesId)[5], nextSecond(r));
  await put(dave, false, OrderKind.PostOnly, 1n, base + 81n, {}, alice);
  // Replace: the new order keeps no priority; a replacement for another account is refused.
  const [first, second] = r.book.openOrderIdsOf(alice.address, r.seriesId);
  const ask = (account: Signer, tick: bigint): OrderParams => ({
    seriesId: r.seriesId,
    account: account.address,
    isBuy: false,
    kind: OrderKind.PostOnly,
    reduceOnly: false,
    tick,
    qty: 1n,
    expiresAt: 0n,
    maxFills: 1n,
  });
  await replace(r, alice, first, ask(alice, base + 90n), nextSecond(r));
  await replace(r, alice, second, ask(bob, base + 91n), nextSecond(r));
  await cancelAll(r, alice, alice.address, r.seriesId, nextSecond(r));

  // Reduce-only: clipped when placed, clipped again when reached, removed when nothing is left to reduce.
  await put(bob, false, OrderKind.PostOnly, 10n, base + 1n);
  await put(carol, true, OrderKind.ImmediateOrCancel, 10n, base + 1n);
  await put(carol, false, OrderKind.Limit, 12n, base + 3n, { reduceOnly: true });
  await put(alice, true, OrderKind.PostOnly, 6n, base - 1n);
  await put(carol, false, OrderKind.ImmediateOrCancel, 6n, base - 1n);
  await put(alice, true, OrderKind.ImmediateOrCancel, 10n, base + 3n);
  await put(bob, true, OrderKind.Limit, 10n, base - 2n, { reduceOnly: true });
  await put(alice, false, OrderKind.PostOnly, 10n, base + 2n);
  await put(bob, true, OrderKind.ImmediateOrCancel, 10n, base + 2n);
  await put(carol, false, OrderKind.ImmediateOrCancel, 1n, base - 2n);

  // Self-trade prevention and a spent budget: the remainder that still crosses is cancelled (Unfilled).
  for (let i = 0; i < 3; i++) await put(alice, false, OrderKind.PostOnly, 1n, base + 5n);
  await put(alice, true, OrderKind.Limit, 5n, base + 5n, { maxFills: 2n });
  await put(bob, true, OrderKind.Limit, 2n, base + 5n);

  // Good-till time, at the boundary: one second before expiresAt the order fills, at expiresAt it is removed.
  await put(carol, false, OrderKind.PostOnly, 2n, base + 8n, { expiresAt: r.clock.now + 3n });
  await put(bob, true, OrderKind.ImmediateOrCancel, 1n, base + 8n);
  await put(bob, true, OrderKind.ImmediateOrCancel, 1n, base + 8n);
  await put(carol, false, OrderKind.PostOnly, 2n, base + 8n, { expiresAt: r.clock.now + 31n });
  await warp(r, r.clock.now + 60n);
  await put(bob, true, OrderKind.ImmediateOrCancel, 2n, base + 8n);

  // Open interest cap: an increase past it reverts, up to it passes.
  const openInterest = r.book.marketState(r.seriesId).openInterestQty;
  await setRisk(r, { ...RISK_PRESETS.standard, openInterestCapQty: openInterest + 2n }, nextSecond(r));
  const buyer = traderLeaning(r, true);
  const seller = traderLeaning(r, false, buyer);
  await put(seller, false, OrderKind.PostOnly, 3n, base + 12n);
  await put(buyer, true, OrderKind.ImmediateOrCancel, 3n, base + 12n);
  await put(buyer, true, OrderKind.ImmediateOrCancel, 2n, base + 12n);
  await setRisk(r, RISK_PRESETS.standard, nextSecond(r));

  // Out of band: two index moves take the band away from resting bids; a market sell removes them.
  await put(alice, true, OrderKind.PostOnly, 2n, base - 3n);
  await publishIndex(r, movedPrice(r, -800n, 0n), r.clock.now + 900n);
  await publishIndex(r, movedPrice(r, -800n, 0n), r.clock.now + 900n);
  await put(alice, true, OrderKind.PostOnly, 1n, base - 3n);
  await put(carol, false, OrderKind.Market, 3n, 0n);
  base = markTick(r);

  // Pause: new risk is refused; reduce-only orders and cancels still work.
  const holder = r.traders.find((t) => r.book.positionOf(t.address, r.seriesId).sizeQty !== 0n) ?? bob;
  const holderBuys = r.book.positionOf(holder.address, r.seriesId).sizeQty < 0n;
  await togglePause(r, nextSecond(r));
  await put(alice, true, OrderKind.Limit, 1n, base - 5n);
  await put(holder, holderBuys, OrderKind.Limit, 1n, holderBuys ? base - 5n : base + 5n, { reduceOnly: true });
  await cancelAll(r, holder, holder.address, r.seriesId, nextSecond(r));
  await togglePause(r, nextSecond(r));

  // Stale index: new risk is refused; reduce-only orders still work.
  await warp(r, r.clock.now + 25n * HOUR);
  await put(alice, true, OrderKind.Limit, 1n, base - 5n);
  await put(holder, holderBuys, OrderKind.Limit, 1n, holderBuys ? base - 5n : base + 5n, { reduceOnly: true });
  await publishIndex(r, movedPrice(r, 0n, 0n), r.clock.now + 1n);

  // Below maintenance: a stranger may cancel all orders of the account only then (Unhealthy).
  await setRisk(r, RISK_PRESETS.thin, nextSecond(r));
  base = markTick(r);
  await put(carol, true, OrderKind.PostOnly, 1n, base - 30n);
  const leveraged = qtyToMargin(r, carol.address);
  await put(bob, false, OrderKind.PostOnly, leveraged, base + 1n);
  await put(carol, true, OrderKind.ImmediateOrCancel, leveraged, base + 1n);
  await cancelAll(r, dave, carol.address, r.seriesId, nextSecond(r));
  await publishIndex(r, movedPrice(r, -800n, 0n), r.clock.now + 900n);
  await cancelAll(r, dave, carol.address, r.seriesId, nextSecond(r));
  await withdraw(r, carol, carol.address, () => 1n, nextSecond(r));
  base = markTick(r);
  await put(carol, true, OrderKind.PostOnly, 5n, base - 40n);
  await put(alice, true, OrderKind.PostOnly, 20n, base - 2n);
  await put(carol, false, OrderKind.Market, 10n, 0n, { reduceOnly: true });
  await cancelAll(r, bob, bob.address, r.seriesId, nextSecond(r));
}

// ---------------------------------------------------------------------------------------------
// Directed scenario: liquidation, deleveraging and deficit branches, each built on purpose
// ---------------------------------------------------------------------------------------------

/** Outcomes the directed liquidation scenario must reach (keys of `Run.outcomes`). */
export const LIQUIDATION_SCENARIO_OUTCOMES = [
  "liquidate: AccountNotLiquidatable",
  "liquidate: LiquidationQtyTooSmall",
  "liquidate: SelfLiquidation",
  "liquidate: NoPositionToLiquidate",
  "liquidate: UnknownSeries",
  "liquidate: InsufficientMargin",
  "liquidate: IndexStale",
  "liquidate: InsuranceFundShort",
  "liquidate: ok",
  "liquidateBatch: liquidated several",
  "deleverage: DeleverageNotAllowed",
  "deleverage: CounterpartyNotOpposite",
  "deleverage: CounterpartyNotInProfit",
  "deleverage: DeleverageIncomplete",
  "deleverage: DeleverageProfitShort",
  "deleverage: ok",
  "coverDeficit: NoDeficit",
  "coverDeficit: InsuranceFundShort",
  "coverDeficit: ok",
  "withdrawInsurance: PoolBalanceTooLow",
  "withdrawInsurance: ok",
  "contributeInsurance: ok",
  "  event Liquidated",
  "  event Deleveraged",
  "  event DeficitResolved",
  "  event OrderCancelled Unhealthy",
];

/** Moves the index to `targetX18` in rounds of at most 9.5%, each 900 s after the last (one step each). */
export async function moveIndexTo(r: Run, targetX18: bigint): Promise<void> {
  for (let guard = 0; guard < 40; guard++) {
    const lastX18 = r.clock.latestRound().priceX18;
    if (lastX18 === targetX18) return;
    let nextX18 = targetX18;
    const maxStep = (lastX18 * SHOCK_STEP_BPS) / 10_000n;
    if (nextX18 > lastX18 + maxStep) nextX18 = lastX18 + maxStep;
    if (nextX18 < lastX18 - maxStep) nextX18 = lastX18 - maxStep;
    await publishIndex(r, nextX18, r.clock.now + r.clock.spec.feedMinIntervalSec, " (directed move)");
  }
  throw new Error("harness: index move did not converge");
}

/** The index at which `account`'s equity is `equityX18` (mark = index before any trade samples a basis). */
export function indexForEquity(r: Run, account: string, equityX18: bigint): bigint {
  const { sizeQty, openNotionalX18 } = r.book.positionOf(account, r.seriesId);
  const markX18 = r.book.markPrice(blockEnv(r), r.seriesId);
  const basisX18 = markX18 - r.clock.latestRound().priceX18;
  return (
    (openNotionalX18 + equityX18 - r.book.cashOf(account)) / (sizeQty * r.book.specOf(r.seriesId).contractMultiplier) -
    basisX18
  );
}

export async function directedLiquidationScenario(r: Run, decimals: number): Promise<void> {
  const [alice, bob, carol] = r.traders;
  const dave = r.operator;
  const lot = r.book.specOf(r.seriesId).minQty;
  const mm = () => r.book.accountHealth(blockEnv(r), alice.address).maintenanceMarginX18;
  /** maker rests a Limit at the mark's tick, taker crosses it with an IOC (two steps). */
  const trade = async (maker: Signer, taker: Signer, makerBuys: boolean, qty: bigint, takerReduceOnly = false) => {
    const tick = markTick(r);
    const params = (who: Signer, isBuy: boolean, kind: OrderKind, reduceOnly: boolean): OrderParams => ({
      seriesId: r.seriesId,
      account: who.address,
      isBuy,
      kind,
      reduceOnly,
      tick,
      qty,
      expiresAt: 0n,
      maxFills: 50n,
    });
    await place(r, maker, params(maker, makerBuys, OrderKind.Limit, false), nextSecond(r));
    await place(r, taker, params(taker, !makerBuys, OrderKind.ImmediateOrCancel, takerReduceOnly), nextSecond(r));
  };
  const x18 = (tokens: bigint) => tokens * 10n ** 18n;

  await setRisk(r, { ...RISK_PRESETS.standard, liquidationPenaltyBps: 100n }, nextSecond(r));
  await setShare(r, 0n, nextSecond(r));
  const deposits: [Signer, bigint][] = [
    [alice, 30_000n],
    [bob, 400_000n],
    [carol, 200_000n],
    [dave, 100n],
  ];
  for (const [who, tokens] of deposits) await deposit(r, who, units(tokens, decimals), nextSecond(r));
  await contributeInsurance(r, r.admin, units(5_000n, decimals), nextSecond(r));
  await withdrawInsurance(r, units(5_001n, decimals), nextSecond(r));

  // A. alice long 25 at about 4.000 (IM 25%), with a resting bid; healthy, then partially liquidated.
  await trade(bob, alice, false, 25n * lot);
  await place(
    r,
    alice,
    {
      seriesId: r.seriesId,
      account: alice.address,
      isBuy: true,
      kind: OrderKind.PostOnly,
      reduceOnly: false,
      tick: markTick(r) - 200n,
      qty: lot,
      expiresAt: 0n,
      maxFills: 1n,
    },
    nextSecond(r),
  );
  await liquidate(r, carol, alice.address, r.seriesId, UINT256_MAX, nextSecond(r));
  await liquidate(r, alice, alice.address, r.seriesId, UINT256_MAX, nextSecond(r));
  await liquidate(r, carol, dave.address, r.seriesId, UINT256_MAX, nextSecond(r));
  await liquidate(r, carol, alice.address, 99n, UINT256_MAX, nextSecond(r));
  // Equity at 75% of maintenance margin: a partial liquidation (not whole) with orders to cancel.
  await moveIndexTo(r, indexForEquity(r, alice.address, (mm() * 3n) / 4n));
  await liquidate(r, carol, alice.address, r.seriesId, 0n, nextSecond(r));
  const required = requiredQtyOf(r, alice.address);
  // Less than required but at least a lot: allowed for a partial; the ratio still rises.
  await liquidate(r, carol, alice.address, r.seriesId, required > lot ? required - lot : lot, nextSecond(r));
  // dave (100 of margin) cannot carry what he would take over.
  await liquidate(r, dave, alice.address, r.seriesId, UINT256_MAX, nextSecond(r));
  // A stale index stops liquidations; a fresh round lets them go on.
  await warp(r, r.clock.now + 25n * HOUR);
  await liquidate(r, carol, alice.address, r.seriesId, UINT256_MAX, nextSecond(r));
  await publishIndex(r, r.clock.latestRound().priceX18, r.clock.now + 1n, " (fresh)");
  await liquidate(r, carol, alice.address, r.seriesId, UINT256_MAX, nextSecond(r));

  // B. A batch with requests that do not qualify (self, series 0 and 99, healthy, too small) and two that do.
  await moveIndexTo(r, indexForEquity(r, alice.address, (mm() * 3n) / 4n));
  const batch: BookLiquidationRequest[] = [
    { account: carol.address, seriesId: r.seriesId, maxQty: UINT64_MAX },
    { account: alice.address, seriesId: 0n, maxQty: UINT64_MAX },
    { account: alice.address, seriesId: 99n, maxQty: UINT64_MAX },
    { account: bob.address, seriesId: r.seriesId, maxQty: UINT64_MAX },
    { account: alice.address, seriesId: r.seriesId, maxQty: 0n },
    { account: alice.address, seriesId: r.seriesId, maxQty: lot },
    { account: alice.address, seriesId: r.seriesId, maxQty: UINT64_MAX },
  ];
  await liquidateBatch(r, carol, batch, nextSecond(r));

  // C. The fund covers a small bankrupt position in full (whole liquidation, DeficitResolved).
  await moveIndexTo(r, x18(4n));
  await contributeInsurance(r, r.admin, units(20_000n, decimals), nextSecond(r));
  await deposit(r, dave, units(1_500n, decimals), nextSecond(r));
  await trade(bob, dave, true, 1n * lot);
  await moveIndexTo(r, indexForEquity(r, dave.address, -x18(500n)));
  await liquidate(r, carol, dave.address, r.seriesId, UINT256_MAX, nextSecond(r));

  // D. Beyond the fund: the liquidation is refused (InsuranceFundShort); deleveraging with bad legs, then good.
  await moveIndexTo(r, x18(4n));
  // alice closes her long (reduce-only); she comes back later as a counterparty in loss.
  await trade(bob, alice, true, r.book.positionOf(alice.address, r.seriesId).sizeQty, true);
  await deposit(r, dave, units(3_500n, decimals), nextSecond(r));
  await trade(carol, dave, true, 3n * lot);
  await withdrawInsurance(r, (r.book.insuranceFundX18 - x18(100n)) / r.scale, nextSecond(r));
  await deleverage(r, carol, dave.address, deleverageLegs(r, dave.address, "ranked", 0), nextSecond(r), "healthy");
  await moveIndexTo(r, indexForEquity(r, dave.address, -x18(2_000n)));
  await liquidate(r, carol, dave.address, r.seriesId, UINT256_MAX, nextSecond(r));
  const legs = deleverageLegs(r, dave.address, "ranked", 0);
  // alice buys one contract above the mark: closing it at the mark realizes a loss.
  await place(
    r,
    bob,
    { ...orderOf(bob.address, false, OrderKind.Limit, lot, markTick(r) + 2n), seriesId: r.seriesId },
    nextSecond(r),
  );
  await place(
    r,
    alice,
    { ...orderOf(alice.address, true, OrderKind.ImmediateOrCancel, lot, markTick(r) + 2n), seriesId: r.seriesId },
    nextSecond(r),
  );
  await deleverage(r, bob, dave.address, [], nextSecond(r), "empty");
  await deleverage(r, bob, dave.address, [{ counterparty: dave.address, seriesId: r.seriesId }], nextSecond(r), "self");
  await deleverage(
    r,
    bob,
    dave.address,
    [{ counterparty: bob.address, seriesId: r.seriesId }],
    nextSecond(r),
    "same side",
  );
  await deleverage(r, bob, dave.address, [{ counterparty: carol.address, seriesId: 0n }], nextSecond(r), "series 0");
  await deleverage(
    r,
    bob,
    dave.address,
    [{ counterparty: alice.address, seriesId: r.seriesId }, ...legs],
    nextSecond(r),
    "loss",
  );
  await deleverage(r, bob, dave.address, legs.slice(0, -1), nextSecond(r), "incomplete");
  await deleverage(r, bob, dave.address, deleverageLegs(r, dave.address, "everyone", 0), nextSecond(r), "everyone");
  // alice adds 3 just below the mark: in profit, but by far less than the shortfall.
  for (const [who, isBuy, kind] of [
    [bob, false, OrderKind.Limit],
    [alice, true, OrderKind.ImmediateOrCancel],
  ] as const) {
    const params = { ...orderOf(who.address, isBuy, kind, 3n * lot, markTick(r) - 1n), seriesId: r.seriesId };
    await place(r, who, params, nextSecond(r));
  }
  await deleverage(
    r,
    bob,
    dave.address,
    [{ counterparty: alice.address, seriesId: r.seriesId }],
    nextSecond(r),
    "small profit",
  );
  await deleverage(r, bob, dave.address, legs, nextSecond(r), "ranked");

  // E. A flat account with negative cash: no fund, then part of it, then all of it.
  await moveIndexTo(r, x18(4n));
  await deposit(r, dave, units(2_100n, decimals), nextSecond(r));
  await trade(bob, dave, true, 2n * lot);
  await coverDeficit(r, carol, dave.address, nextSecond(r));
  await moveIndexTo(r, indexForEquity(r, dave.address, -x18(1_000n)));
  // dave closes at the mark (reduce-only, allowed: it raises his maintenance surplus) and is left in deficit.
  await trade(carol, dave, false, 2n * lot, true);
  await withdrawInsurance(r, r.book.insuranceFundX18 / r.scale, nextSecond(r));
  await coverDeficit(r, carol, dave.address, nextSecond(r));
  await contributeInsurance(r, r.admin, units(300n, decimals), nextSecond(r));
  await coverDeficit(r, carol, dave.address, nextSecond(r));
  await contributeInsurance(r, r.admin, units(5_000n, decimals), nextSecond(r));
  await coverDeficit(r, bob, dave.address, nextSecond(r));
}

// ---------------------------------------------------------------------------------------------

/** A plain order of `account` in series 1 (maxFills 20). */
export /** Plain order parameters for the reproductions (series 1, good till cancel, 20 fills). */
function orderOf(account: string, isBuy: boolean, kind: OrderKind, qty: bigint, tick: bigint): OrderParams {
  return { seriesId: 1n, account, isBuy, kind, reduceOnly: false, tick, qty, expiresAt: 0n, maxFills: 20n };
}
