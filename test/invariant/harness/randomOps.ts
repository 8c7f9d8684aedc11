/**
 * Random operations (fast-check arbitraries and commands) and the prelude of a run.
 * Part of the order book and system campaigns (see test/invariant/System.campaign.test.ts).
 */
import { MAX_ORDER_QTY, MAX_TICK, OrderKind, bandTicks, orderIdOf, refOf } from "../../../sdk";
import type { BookRiskParams, OrderParams } from "../../../sdk";
import { units } from "../../fixtures/clearinghouse";
import { replacer } from "../../model/ClearinghouseModel";
import fc from "fast-check";
import { HOUR, DAY, Signer, Run, accounts, blockEnv, nextTime, count } from "./run";
import {
  qtyToMargin,
  deposit,
  withdraw,
  donate,
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
  participants,
  signerOf,
  LiquidationTarget,
  LiquidationQty,
  SeriesPick,
  liquidationTarget,
  liquidatorFor,
  richest,
  noneLiquidatable,
  seriesOf,
  maxQtyOf,
  liquidate,
  liquidateBatch,
  deleverage,
  coverDeficit,
  contributeInsurance,
  withdrawInsurance,
  ShockMode,
  ShockOp,
  shock,
  LeverOp,
  lever,
  LegsMode,
  deleverageLegs,
  deleverageTarget,
  deficitTarget,
} from "./actions";

// ---------------------------------------------------------------------------------------------
// Random operations
// ---------------------------------------------------------------------------------------------

export type SenderMode = "owner" | "operator" | "other";
export type TickMode = "near" | "passive" | "aggressive" | "bandEdge" | "outOfBand" | "zero" | "aboveMax";
export type QtyMode = "small" | "medium" | "toMargin" | "offLot" | "zero" | "maxOrder" | "overMax";
export type ExpiryMode = "none" | "soon" | "now" | "past";
export type FillsMode = "few" | "any" | "zero" | "overMax";
export type OrderPick = "own" | "any" | "gone" | "junk";
/**
 * How much a crossing order takes: a few contracts, the target order, its whole level, more than the book, or
 * about all the free margin of the taker (so that later oracle moves push it below maintenance).
 */
export type CrossQty = "few" | "order" | "level" | "sweep" | "toMargin";

/** An order drawn before the state it meets is known; resolved against the model when it runs. */
export interface OrderDraw {
  isBuy: boolean;
  kind: OrderKind;
  reduceOnly: boolean;
  /** A reduce-only order takes the side that reduces the position. */
  reducingSide: boolean;
  tickMode: TickMode;
  tickOffset: number;
  qtyMode: QtyMode;
  smallQty: bigint;
  mediumQty: bigint;
  expiryMode: ExpiryMode;
  expirySec: bigint;
  fillsMode: FillsMode;
  fewFills: bigint;
  anyFills: bigint;
}

export type Op =
  | { kind: "place"; actor: number; sender: SenderMode; order: OrderDraw; gap: bigint }
  | {
      kind: "replace";
      pick: OrderPick;
      index: number;
      sender: SenderMode;
      mismatch: boolean;
      order: OrderDraw;
      gap: bigint;
    }
  | { kind: "cancel"; pick: OrderPick; index: number; sender: SenderMode; gap: bigint }
  | {
      kind: "cross";
      index: number;
      takerOffset: number;
      order: OrderDraw;
      throughTicks: bigint;
      qtyMode: CrossQty;
      gap: bigint;
    }
  | { kind: "cancelAll"; actor: number; sender: SenderMode; otherSeries: boolean; gap: bigint }
  | { kind: "deposit"; actor: number; amountTokens: bigint; gap: bigint }
  | { kind: "withdraw"; actor: number; sender: SenderMode; fractionBps: bigint; extraRaw: bigint; gap: bigint }
  | { kind: "oracle"; gap: bigint; moveBps: bigint; extraWei: bigint }
  | { kind: "warp"; gap: bigint }
  | { kind: "pause"; steps: number; gap: bigint }
  | { kind: "donate"; actor: number; amountRaw: bigint; gap: bigint }
  | ({ kind: "shock" } & ShockOp)
  | ({ kind: "lever" } & LeverOp)
  | {
      kind: "liquidate";
      target: LiquidationTarget;
      index: number;
      liquidator: number;
      qty: LiquidationQty;
      qtyPick: number;
      series: SeriesPick;
      gap: bigint;
    }
  | {
      kind: "liquidateBatch";
      liquidator: number;
      requests: {
        target: LiquidationTarget;
        index: number;
        qty: LiquidationQty;
        qtyPick: number;
        series: SeriesPick;
      }[];
      gap: bigint;
    }
  | {
      kind: "deleverage";
      bankruptFirst: boolean;
      index: number;
      sender: number;
      legs: LegsMode;
      pick: number;
      gap: bigint;
    }
  | { kind: "coverDeficit"; index: number; sender: number; gap: bigint }
  | { kind: "insuranceWithdraw"; mode: "all" | "some" | "over" | "zero"; fractionBps: bigint; gap: bigint }
  | { kind: "insuranceContribute"; from: number; amountTokens: bigint; gap: bigint };

export type OpKind = Op["kind"];

/** The signer acting for trader `actor`: the owner, its operator (dave; valid for alice only) or another trader. */
export function senderFor(r: Run, actor: number, mode: SenderMode): Signer {
  if (mode === "owner") return r.traders[actor];
  if (mode === "operator") return r.operator;
  return r.traders[(actor + 1) % r.traders.length];
}

export function traderIndex(r: Run, address: string): number {
  const index = r.traders.findIndex((t) => t.address === address);
  return index < 0 ? 0 : index;
}

export function resolveOrder(r: Run, account: string, d: OrderDraw): OrderParams {
  const book = r.book;
  const env = blockEnv(r);
  const mark = book.markPrice(env, r.seriesId);
  const tickSize = book.specOf(r.seriesId).tickSizeX18;
  const markTick = mark / tickSize;
  const { bandMinTick, bandMaxTick } = bandTicks(mark, book.riskOf(r.seriesId).orderBandBps, tickSize);
  const size = book.positionOf(account, r.seriesId).sizeQty;
  const exposure = book.exposureOf(account, r.seriesId);
  let isBuy = d.reduceOnly && d.reducingSide && size !== 0n ? size < 0n : d.isBuy;
  // The largest order on a side the account already quotes: its resting sum would pass MAX_ORDER_QTY.
  if (d.qtyMode === "maxOrder" && !d.reduceOnly && exposure.buyQty + exposure.sellQty > 0n) {
    isBuy = exposure.buyQty > 0n;
  }
  const resting = d.kind === OrderKind.Limit || d.kind === OrderKind.PostOnly;
  // A coarse grid near the mark, so that orders share levels and takers cross them.
  const step = BigInt(d.tickOffset % 8) * 2n;
  const ticks: Record<TickMode, () => bigint> = {
    near: () => markTick + 3n * BigInt((d.tickOffset % 11) - 5),
    passive: () => (isBuy ? markTick - 1n - step : markTick + 1n + step),
    aggressive: () => (isBuy ? markTick + step : markTick - step),
    bandEdge: () => (d.tickOffset % 2 === 0 ? bandMinTick : bandMaxTick),
    outOfBand: () => (d.tickOffset % 2 === 0 ? bandMinTick - 1n : bandMaxTick + 1n),
    zero: () => 0n,
    aboveMax: () => MAX_TICK + 1n,
  };
  const lot = book.specOf(r.seriesId).minQty;
  const quantities: Record<QtyMode, bigint> = {
    small: d.smallQty * lot,
    medium: d.mediumQty * lot,
    toMargin: qtyToMargin(r, account),
    offLot: lot + 1n,
    zero: 0n,
    maxOrder: (MAX_ORDER_QTY / lot) * lot,
    overMax: MAX_ORDER_QTY + lot,
  };
  const expiries: Record<ExpiryMode, bigint> = {
    none: 0n,
    soon: resting ? env.nowSec + d.expirySec : 0n,
    now: env.nowSec,
    past: env.nowSec - 1n,
  };
  const fills: Record<FillsMode, bigint> = { few: d.fewFills, any: d.anyFills, zero: 0n, overMax: 51n };
  // Immediate kinds mostly take liquidity: Market usually at tick 0 (the band edge), IOC and FOK through the book.
  const validMode = d.tickMode === "near" || d.tickMode === "passive" || d.tickMode === "aggressive";
  let tick = ticks[d.tickMode]();
  if (d.kind === OrderKind.Market && validMode && d.tickOffset % 10 < 7) tick = 0n;
  else if (!resting && validMode) tick = isBuy ? markTick + 3n * step : markTick - 3n * step;
  return {
    seriesId: r.seriesId,
    account,
    isBuy,
    kind: d.kind,
    reduceOnly: d.reduceOnly,
    tick: tick < 0n ? 0n : tick,
    qty: quantities[d.qtyMode],
    expiresAt: expiries[d.expiryMode],
    maxFills: fills[d.fillsMode],
  };
}

/** An order of `account` that crosses `target` (a resting order of another account) at or through its price. */
export function crossingOrder(
  r: Run,
  account: string,
  target: { isBuy: boolean; tick: bigint; qty: bigint },
  op: { order: OrderDraw; throughTicks: bigint; qtyMode: CrossQty },
): OrderParams {
  const base = resolveOrder(r, account, { ...op.order, reduceOnly: false, tickMode: "near" });
  const isBuy = !target.isBuy;
  const levelQty = r.book.levelOf(target.isBuy, target.tick, r.seriesId).qty;
  const sideQty = r.book
    .activeTicks(target.isBuy, r.seriesId)
    .reduce((sum, t) => sum + r.book.levelOf(target.isBuy, t, r.seriesId).qty, 0n);
  const quantities: Record<CrossQty, bigint> = {
    few: op.order.smallQty * r.book.specOf(r.seriesId).minQty,
    order: target.qty,
    level: levelQty,
    sweep: sideQty + op.order.smallQty * r.book.specOf(r.seriesId).minQty,
    toMargin: qtyToMargin(r, account),
  };
  const tick = isBuy ? target.tick + op.throughTicks : target.tick - op.throughTicks;
  const reduceOnly = op.order.reduceOnly && r.book.positionOf(account, r.seriesId).sizeQty !== 0n;
  return { ...base, isBuy, reduceOnly, tick: tick < 1n ? 1n : tick, qty: quantities[op.qtyMode] };
}

/** An order id to cancel or replace: one of `account`'s, any resting one, one that is gone, or a made-up one. */
export function pickOrderId(r: Run, pick: OrderPick, index: number, account: string): bigint {
  const own = r.book.openOrderIdsOf(account, r.seriesId);
  const all = r.book.restingOrderIds();
  if (pick === "own" && own.length > 0) return own[index % own.length];
  if ((pick === "own" || pick === "any") && all.length > 0) return all[index % all.length];
  if (pick === "gone" && r.goneOrderIds.length > 0) return r.goneOrderIds[index % r.goneOrderIds.length];
  return orderIdOf(r.seriesId, refOf(BigInt(1 + (index % 5)), BigInt(index % 32)), BigInt(1 + (index % 40)));
}

export async function runOp(r: Run, op: Op): Promise<void> {
  count(r, `op ${op.kind}`);
  switch (op.kind) {
    case "place": {
      const at = nextTime(r, op.gap);
      r.clock.advanceTo(at);
      const account = r.traders[op.actor].address;
      return place(r, senderFor(r, op.actor, op.sender), resolveOrder(r, account, op.order), at);
    }
    case "replace": {
      const at = nextTime(r, op.gap);
      r.clock.advanceTo(at);
      const orderId = pickOrderId(r, op.pick, op.index, r.traders[op.index % 3].address);
      const owner = r.book.orderOf(orderId)?.account ?? r.traders[op.index % 3].address;
      const ownerIndex = traderIndex(r, owner);
      const account = op.mismatch ? r.traders[(ownerIndex + 1) % 3].address : owner;
      const params = resolveOrder(r, account, op.order);
      return replace(r, senderFor(r, ownerIndex, op.sender), orderId, params, at);
    }
    case "cancel": {
      const at = nextTime(r, op.gap);
      r.clock.advanceTo(at);
      const orderId = pickOrderId(r, op.pick, op.index, r.traders[op.index % 3].address);
      const owner = r.book.orderOf(orderId)?.account ?? r.traders[op.index % 3].address;
      return cancel(r, senderFor(r, traderIndex(r, owner), op.sender), orderId, at);
    }
    case "cross": {
      const at = nextTime(r, op.gap);
      r.clock.advanceTo(at);
      const ids = r.book.restingOrderIds();
      if (ids.length === 0)
        return place(r, r.traders[op.index % 3], resolveOrder(r, r.traders[op.index % 3].address, op.order), at);
      const target = r.book.orderOf(ids[op.index % ids.length]);
      if (target === undefined) throw new Error("harness: resting order without a view");
      const taker = r.traders[(traderIndex(r, target.account) + op.takerOffset) % 3];
      return place(r, taker, crossingOrder(r, taker.address, target, op), at);
    }
    case "cancelAll": {
      const at = nextTime(r, op.gap);
      r.clock.advanceTo(at);
      const sender = senderFor(r, op.actor, op.sender);
      return cancelAll(r, sender, r.traders[op.actor].address, op.otherSeries ? 99n : r.seriesId, at);
    }
    case "deposit":
      return deposit(r, r.traders[op.actor], units(op.amountTokens, r.decimals), nextTime(r, op.gap));
    case "withdraw":
      return withdraw(
        r,
        senderFor(r, op.actor, op.sender),
        r.traders[op.actor].address,
        (w) => (w * op.fractionBps) / 10_000n + op.extraRaw,
        nextTime(r, op.gap),
      );
    case "oracle": {
      const at = nextTime(r, op.gap, r.clock.spec.feedMinIntervalSec);
      return publishIndex(r, movedPrice(r, op.moveBps, op.extraWei), at, ` (${op.moveBps}bps)`);
    }
    case "warp":
      return warp(r, nextTime(r, op.gap, 900n));
    case "pause":
      if (r.book.paused) return;
      r.pausedSteps = op.steps;
      return togglePause(r, nextTime(r, op.gap));
    case "donate":
      return donate(r, r.traders[op.actor], op.amountRaw, nextTime(r, op.gap));
    case "shock":
      return shock(r, op);
    case "lever":
      return lever(r, op);
    case "liquidate": {
      const at = nextTime(r, op.gap);
      r.clock.advanceTo(at);
      // With nobody below maintenance most attempts wait (a quarter still go, and are refused).
      if (op.target === "liquidatable" && op.index % 4 !== 0 && noneLiquidatable(r)) return;
      const account = liquidationTarget(r, op.target, op.index);
      const liquidator = op.target === "self" ? signerOf(r, account) : liquidatorFor(r, account, op.liquidator);
      const maxQty = maxQtyOf(r, account, op.qty, op.qtyPick, UINT256_MAX);
      return liquidate(r, liquidator, account, seriesOf(r, op.series), maxQty, at);
    }
    case "liquidateBatch": {
      const at = nextTime(r, op.gap);
      r.clock.advanceTo(at);
      if (op.liquidator % 4 !== 0 && noneLiquidatable(r)) return;
      const liquidator = op.liquidator % 2 === 0 ? participants(r)[op.liquidator % 4] : richest(r, participants(r));
      const requests = op.requests.map((q) => {
        const account = q.target === "self" ? liquidator.address : liquidationTarget(r, q.target, q.index);
        const maxQty = maxQtyOf(r, account, q.qty, q.qtyPick, UINT64_MAX);
        return { account, seriesId: seriesOf(r, q.series), maxQty: maxQty > UINT64_MAX ? UINT64_MAX : maxQty };
      });
      return liquidateBatch(r, liquidator, requests, at);
    }
    case "deleverage": {
      const at = nextTime(r, op.gap);
      r.clock.advanceTo(at);
      // With nobody bankrupt beyond the fund most attempts wait (a quarter still go, and are refused).
      const env = blockEnv(r);
      const fund = r.book.insuranceFundX18;
      const beyond = accounts(r).some(
        (a) => r.book.positionOf(a, r.seriesId).sizeQty !== 0n && -r.book.accountHealth(env, a).equityX18 > fund,
      );
      if (op.bankruptFirst && op.index % 4 !== 0 && !beyond) return;
      const account = deleverageTarget(r, op.bankruptFirst, op.index);
      const legs = deleverageLegs(r, account, op.legs, op.pick);
      return deleverage(r, participants(r)[op.sender % 4], account, legs, at, op.legs);
    }
    case "coverDeficit": {
      const at = nextTime(r, op.gap);
      r.clock.advanceTo(at);
      if (op.index % 4 !== 0 && !accounts(r).some((a) => r.book.cashOf(a) < 0n)) return;
      return coverDeficit(r, participants(r)[op.sender % 4], deficitTarget(r, op.index), at);
    }
    case "insuranceWithdraw": {
      const fundRaw = r.book.insuranceFundX18 / r.scale;
      const amounts = {
        all: fundRaw,
        some: (fundRaw * op.fractionBps) / 10_000n,
        over: fundRaw + 1n,
        zero: 0n,
      };
      return withdrawInsurance(r, amounts[op.mode], nextTime(r, op.gap));
    }
    case "insuranceContribute": {
      const from = op.from < 4 ? participants(r)[op.from] : r.admin;
      return contributeInsurance(r, from, units(op.amountTokens, r.decimals), nextTime(r, op.gap));
    }
  }
}

export class OpCommand implements fc.AsyncCommand<Run, Run> {
  constructor(readonly op: Op) {}

  check(): boolean {
    return true;
  }

  async run(_model: Run, r: Run): Promise<void> {
    await runOp(r, this.op);
    // A pause lasts a few operations, then the guardian lifts it.
    if (r.book.paused && this.op.kind !== "pause" && --r.pausedSteps <= 0) await togglePause(r, r.clock.now + 1n);
  }

  toString(): string {
    return JSON.stringify(this.op, replacer);
  }

  [fc.toStringMethod](): string {
    return this.toString();
  }
}

/** A command acting on one series of a multi-series run (`seriesIndex` into the run's series). */
export class InSeries implements fc.AsyncCommand<Run, Run> {
  constructor(
    readonly seriesIndex: number,
    readonly command: fc.AsyncCommand<Run, Run>,
  ) {}

  check(): boolean {
    return true;
  }

  async run(model: Run, r: Run): Promise<void> {
    r.seriesId = r.seriesIds[this.seriesIndex % r.seriesIds.length];
    await this.command.run(model, r);
  }

  toString(): string {
    return `series#${this.seriesIndex} ${this.command.toString()}`;
  }

  [fc.toStringMethod](): string {
    return this.toString();
  }
}

/** `commands` as they are for one series; for several, each acting on a random one of them. */
export function inSeries<C extends fc.AsyncCommand<Run, Run>>(
  commands: fc.Arbitrary<C>,
  seriesCount: number,
): fc.Arbitrary<C | InSeries> {
  if (seriesCount === 1) return commands;
  return fc.tuple(fc.nat(seriesCount - 1), commands).map(([index, c]) => new InSeries(index, c));
}

export function weighted<T>(...options: [number, fc.Arbitrary<T>][]): fc.Arbitrary<T> {
  return fc.oneof(...options.map(([weight, arbitrary]) => ({ weight, arbitrary })));
}

export function orderDrawArbitrary(): fc.Arbitrary<OrderDraw> {
  return fc.record({
    isBuy: fc.boolean(),
    kind: weighted<OrderKind>(
      [12, fc.constant(OrderKind.Limit)],
      [8, fc.constant(OrderKind.PostOnly)],
      [4, fc.constant(OrderKind.ImmediateOrCancel)],
      [2, fc.constant(OrderKind.FillOrKill)],
      [3, fc.constant(OrderKind.Market)],
    ),
    reduceOnly: weighted([6, fc.constant(false)], [1, fc.constant(true)]),
    reducingSide: weighted([3, fc.constant(true)], [1, fc.constant(false)]),
    tickMode: weighted<TickMode>(
      [24, fc.constant("near")],
      [16, fc.constant("passive")],
      [12, fc.constant("aggressive")],
      [3, fc.constant("bandEdge")],
      [1, fc.constant("outOfBand")],
      [1, fc.constant("zero")],
      [1, fc.constant("aboveMax")],
    ),
    tickOffset: fc.integer({ min: 0, max: 60 }),
    qtyMode: weighted<QtyMode>(
      [48, fc.constant("small")],
      [10, fc.constant("medium")],
      [4, fc.constant("toMargin")],
      [1, fc.constant("offLot")],
      [1, fc.constant("zero")],
      [1, fc.constant("maxOrder")],
      [1, fc.constant("overMax")],
    ),
    smallQty: fc.bigInt({ min: 1n, max: 10n }),
    mediumQty: fc.bigInt({ min: 9n, max: 80n }),
    expiryMode: weighted<ExpiryMode>(
      [28, fc.constant("none")],
      [10, fc.constant("soon")],
      [1, fc.constant("now")],
      [1, fc.constant("past")],
    ),
    expirySec: fc.bigInt({ min: 1n, max: 2n * HOUR }),
    fillsMode: weighted<FillsMode>(
      [20, fc.constant("few")],
      [16, fc.constant("any")],
      [1, fc.constant("zero")],
      [1, fc.constant("overMax")],
    ),
    fewFills: fc.bigInt({ min: 1n, max: 3n }),
    anyFills: fc.bigInt({ min: 1n, max: 50n }),
  });
}

/**
 * The mix of operations: "default" is the order book campaign with a little of everything that liquidates;
 * "liquidation" levers accounts up, shocks the index and liquidates, deleverages and moves the fund often.
 */
export type Profile = "default" | "liquidation";

export const OP_WEIGHTS: Record<Profile, Record<OpKind, number>> = {
  default: {
    place: 40,
    replace: 8,
    cancel: 5,
    cross: 24,
    cancelAll: 4,
    deposit: 5,
    withdraw: 5,
    oracle: 8,
    warp: 4,
    pause: 1,
    donate: 1,
    shock: 3,
    liquidate: 4,
    liquidateBatch: 2,
    deleverage: 2,
    coverDeficit: 1,
    insuranceWithdraw: 1,
    insuranceContribute: 1,
    lever: 2,
  },
  liquidation: {
    place: 10,
    replace: 2,
    cancel: 1,
    cross: 10,
    cancelAll: 1,
    deposit: 4,
    withdraw: 2,
    oracle: 3,
    warp: 1,
    pause: 1,
    donate: 1,
    shock: 10,
    liquidate: 14,
    liquidateBatch: 5,
    deleverage: 6,
    coverDeficit: 3,
    insuranceWithdraw: 2,
    insuranceContribute: 4,
    lever: 14,
  },
};

export function liquidationRequestArbitrary() {
  return fc.record({
    target: weighted<LiquidationTarget>(
      [16, fc.constant("liquidatable")],
      [2, fc.constant("holder")],
      [1, fc.constant("any")],
      [1, fc.constant("self")],
    ),
    index: fc.integer({ min: 0, max: 1_000 }),
    qty: weighted<LiquidationQty>(
      [8, fc.constant("required")],
      [6, fc.constant("max")],
      [2, fc.constant("huge")],
      [2, fc.constant("tooSmall")],
      [1, fc.constant("zero")],
      [4, fc.constant("partial")],
      [2, fc.constant("offLot")],
    ),
    qtyPick: fc.integer({ min: 0, max: 1_000 }),
    series: weighted<SeriesPick>(
      [30, fc.constant("traded")],
      [1, fc.constant("zero")],
      [1, fc.constant("unlisted")],
      [1, fc.constant("otherListed")],
    ),
  });
}

export function opArbitrary(profile: Profile): fc.Arbitrary<OpCommand> {
  const actor = fc.integer({ min: 0, max: 2 });
  const participant = fc.integer({ min: 0, max: 3 });
  const gap = fc.bigInt({ min: 1n, max: 600n });
  const sender = weighted<SenderMode>(
    [30, fc.constant("owner")],
    [2, fc.constant("operator")],
    [1, fc.constant("other")],
  );
  const pick = weighted<OrderPick>(
    [8, fc.constant("own")],
    [4, fc.constant("any")],
    [1, fc.constant("gone")],
    [1, fc.constant("junk")],
  );
  const index = fc.integer({ min: 0, max: 1_000 });
  const levered = profile === "liquidation";
  const arbitraries: Record<OpKind, fc.Arbitrary<Op>> = {
    place: fc.record({ kind: fc.constant("place" as const), actor, sender, order: orderDrawArbitrary(), gap }),
    replace: fc.record({
      kind: fc.constant("replace" as const),
      pick,
      index,
      sender,
      mismatch: weighted([12, fc.constant(false)], [1, fc.constant(true)]),
      order: orderDrawArbitrary(),
      gap,
    }),
    cancel: fc.record({ kind: fc.constant("cancel" as const), pick, index, sender, gap }),
    cross: fc.record({
      kind: fc.constant("cross" as const),
      index,
      takerOffset: fc.integer({ min: 1, max: 2 }),
      order: orderDrawArbitrary(),
      throughTicks: weighted([3, fc.constant(0n)], [2, fc.bigInt({ min: 1n, max: 12n })]),
      qtyMode: weighted<CrossQty>(
        [4, fc.constant("few")],
        [3, fc.constant("order")],
        [2, fc.constant("level")],
        [1, fc.constant("sweep")],
        [levered ? 8 : 2, fc.constant("toMargin")],
      ),
      gap,
    }),
    cancelAll: fc.record({
      kind: fc.constant("cancelAll" as const),
      actor,
      sender: weighted<SenderMode>([3, fc.constant("owner")], [1, fc.constant("operator")], [3, fc.constant("other")]),
      otherSeries: weighted([20, fc.constant(false)], [1, fc.constant(true)]),
      gap,
    }),
    deposit: fc.record({
      kind: fc.constant("deposit" as const),
      actor,
      amountTokens: weighted([1, fc.constant(0n)], [8, fc.bigInt({ min: 1n, max: 30_000n })]),
      gap,
    }),
    withdraw: fc.record({
      kind: fc.constant("withdraw" as const),
      actor,
      sender,
      fractionBps: weighted([2, fc.constant(10_000n)], [5, fc.bigInt({ min: 0n, max: 10_500n })]),
      extraRaw: weighted([4, fc.constant(0n)], [1, fc.constant(1n)]),
      gap,
    }),
    oracle: fc.record({
      kind: fc.constant("oracle" as const),
      gap: fc.bigInt({ min: 900n, max: 6n * HOUR }),
      moveBps: fc.bigInt({ min: -800n, max: 800n }),
      extraWei: fc.bigInt({ min: 0n, max: 999n }),
    }),
    warp: fc.record({
      kind: fc.constant("warp" as const),
      gap: weighted([4, fc.bigInt({ min: 900n, max: 12n * HOUR })], [1, fc.bigInt({ min: 12n * HOUR, max: 2n * DAY })]),
    }),
    pause: fc.record({ kind: fc.constant("pause" as const), steps: fc.integer({ min: 1, max: 4 }), gap }),
    donate: fc.record({
      kind: fc.constant("donate" as const),
      actor,
      amountRaw: fc.bigInt({ min: 1n, max: 1_000_000n }),
      gap,
    }),
    shock: fc.record({
      kind: fc.constant("shock" as const),
      mode: weighted<ShockMode>(
        [4, fc.constant("liquidatable")],
        [2, fc.constant("bankruptCovered")],
        [3, fc.constant("bankruptBeyond")],
        [1, fc.constant("jump")],
      ),
      index,
      rounds: fc.integer({ min: 1, max: 8 }),
      fractionBps: fc.bigInt({ min: 10n, max: 1_500n }),
      overshootBps: fc.bigInt({ min: 0n, max: 150n }),
      jumpBps: fc.bigInt({ min: 300n, max: SHOCK_STEP_BPS }),
      up: fc.boolean(),
      follow: weighted<ShockOp["follow"]>(
        [levered ? 2 : 1, fc.constant("none")],
        [2, fc.constant("liquidateRequired")],
        [1, fc.constant("liquidateAll")],
        [1, fc.constant("deleverage")],
      ),
      gap: fc.bigInt({ min: 900n, max: 2n * HOUR }),
    }),
    lever: fc.record({
      kind: fc.constant("lever" as const),
      mode: weighted<LeverOp["mode"]>([4, fc.constant("open")], [1, fc.constant("close")]),
      maker: participant,
      takerOffset: fc.integer({ min: 1, max: 3 }),
      makerBuys: fc.boolean(),
      fractionBps: weighted([3, fc.bigInt({ min: 5_000n, max: 10_000n })], [1, fc.bigInt({ min: 500n, max: 5_000n })]),
      offsetTicks: fc.bigInt({ min: 0n, max: 3n }),
      gap,
    }),
    liquidate: fc
      .tuple(liquidationRequestArbitrary(), fc.integer({ min: 0, max: 99 }), gap)
      .map(([q, liquidator, g]) => ({ kind: "liquidate" as const, ...q, liquidator, gap: g })),
    liquidateBatch: fc.record({
      kind: fc.constant("liquidateBatch" as const),
      liquidator: fc.integer({ min: 0, max: 7 }),
      requests: fc.array(liquidationRequestArbitrary(), { minLength: 1, maxLength: 5 }),
      gap,
    }),
    deleverage: fc.record({
      kind: fc.constant("deleverage" as const),
      bankruptFirst: weighted([8, fc.constant(true)], [1, fc.constant(false)]),
      index,
      sender: participant,
      legs: weighted<LegsMode>(
        [12, fc.constant("ranked")],
        [3, fc.constant("reversed")],
        [2, fc.constant("everyone")],
        [1, fc.constant("sameSide")],
        [1, fc.constant("notInProfit")],
        [1, fc.constant("incomplete")],
        [1, fc.constant("self")],
        [1, fc.constant("duplicate")],
        [1, fc.constant("empty")],
        [1, fc.constant("badSeries")],
      ),
      pick: index,
      gap,
    }),
    coverDeficit: fc.record({ kind: fc.constant("coverDeficit" as const), index, sender: participant, gap }),
    insuranceWithdraw: fc.record({
      kind: fc.constant("insuranceWithdraw" as const),
      mode: weighted<"all" | "some" | "over" | "zero">(
        [2, fc.constant("all")],
        [5, fc.constant("some")],
        [1, fc.constant("over")],
        [1, fc.constant("zero")],
      ),
      fractionBps: fc.bigInt({ min: 1n, max: 10_000n }),
      gap,
    }),
    insuranceContribute: fc.record({
      kind: fc.constant("insuranceContribute" as const),
      from: weighted([1, fc.integer({ min: 0, max: 3 })], [4, fc.constant(4)]),
      amountTokens: weighted([1, fc.constant(0n)], [6, fc.bigInt({ min: 1n, max: 20_000n })]),
      gap,
    }),
  };
  const weights = OP_WEIGHTS[profile];
  const op = weighted<Op>(
    ...(Object.keys(arbitraries) as OpKind[]).map((k) => [weights[k], arbitraries[k]] as [number, fc.Arbitrary<Op>]),
  );
  return op.map((o) => new OpCommand(o));
}

// ---------------------------------------------------------------------------------------------
// Prelude: risk parameters, fee share, a later start, operator, funding
// ---------------------------------------------------------------------------------------------

export const RISK_PRESETS: Record<string, BookRiskParams> = {
  // config/series.ts AIT: IM 25%, MM 12.5%, band 10%, maker 1 bp, taker 5 bps.
  standard: {
    imBps: 2_500n,
    mmBps: 1_250n,
    orderBandBps: 1_000n,
    makerFeeBps: 1n,
    takerFeeBps: 5n,
    positionLimitQty: 2_000n,
    openInterestCapQty: 5_000n,
  },
  // Tight limits: position limit and open interest cap within reach of random orders.
  tightLimits: {
    imBps: 2_000n,
    mmBps: 1_000n,
    orderBandBps: 1_000n,
    makerFeeBps: 0n,
    takerFeeBps: 10n,
    positionLimitQty: 15n,
    openInterestCapQty: 22n,
  },
  // Maker rebates at the bound (|maker| = taker) and a narrow band: many orders fall out of band.
  rebatesNarrowBand: {
    imBps: 2_500n,
    mmBps: 1_250n,
    orderBandBps: 300n,
    makerFeeBps: -7n,
    takerFeeBps: 7n,
    positionLimitQty: 2_000n,
    openInterestCapQty: 5_000n,
  },
  // Thin maintenance buffer and the largest fees: accounts fall below maintenance margin (band = maintenance).
  thin: {
    imBps: 1_000n,
    mmBps: 900n,
    orderBandBps: 900n,
    makerFeeBps: 100n,
    takerFeeBps: 100n,
    positionLimitQty: 2_000n,
    openInterestCapQty: 5_000n,
  },
};

export interface Plan {
  /** Trade the odd second series instead of the fixture's. */
  oddSeries: boolean;
  risk: keyof typeof RISK_PRESETS;
  insuranceFeeShareBps: bigint;
  startOffsetSec: bigint;
  startMoveBps: bigint;
  depositTokens: bigint[];
  /** The liquidation penalty: min(mmBps, 100) (the fixture's rule), none, half of mmBps, or mmBps (every liquidation whole). */
  penalty: "default" | "zero" | "half" | "mm";
  /** dave's margin as a liquidator (0: none, so his liquidations fail the margin check). */
  daveTokens: bigint;
  /** The admin's first contribution to the insurance fund. */
  insuranceTokens: bigint;
}

export function planArbitrary(profile: Profile): fc.Arbitrary<Plan> {
  const levered = profile === "liquidation";
  return fc.record({
    oddSeries: fc.boolean(),
    risk: fc.constantFrom(...(Object.keys(RISK_PRESETS) as (keyof typeof RISK_PRESETS)[])),
    insuranceFeeShareBps: fc.oneof(fc.constant(0n), fc.constant(2_000n), fc.constant(10_000n), fc.bigInt(0n, 10_000n)),
    // Deep inside the averaging window the mark barely follows the index: liquidation runs start before it or early in it.
    startOffsetSec: weighted([1, fc.constant(0n)], [2, fc.bigInt({ min: HOUR, max: (levered ? 14n : 36n) * DAY })]),
    startMoveBps: fc.bigInt({ min: -500n, max: 500n }),
    depositTokens: fc.array(fc.bigInt({ min: 10_000n, max: 150_000n }), { minLength: 3, maxLength: 3 }),
    penalty: levered
      ? weighted<Plan["penalty"]>(
          [4, fc.constant("default")],
          [1, fc.constant("zero")],
          [1, fc.constant("half")],
          [1, fc.constant("mm")],
        )
      : fc.constant<Plan["penalty"]>("default"),
    daveTokens: weighted([1, fc.constant(0n)], [3, fc.bigInt({ min: 1_000n, max: 100_000n })]),
    insuranceTokens: weighted([1, fc.constant(0n)], [2, fc.bigInt({ min: 1n, max: 20_000n })]),
  });
}

export function penaltyOf(plan: Plan, mmBps: bigint): bigint {
  if (plan.penalty === "zero") return 0n;
  if (plan.penalty === "half") return mmBps / 2n;
  if (plan.penalty === "mm") return mmBps;
  return mmBps < 100n ? mmBps : 100n;
}

export async function prelude(r: Run, plan: Plan, decimals: number): Promise<void> {
  if (plan.startOffsetSec > 0n) {
    const at = nextTime(r, plan.startOffsetSec, r.clock.spec.feedMinIntervalSec);
    await publishIndex(r, movedPrice(r, plan.startMoveBps, 0n), at, " (start of the run)");
  }
  // Each series of the run gets its own preset: the plan's for the first, the next ones in turn for the others.
  const presets = Object.keys(RISK_PRESETS) as (keyof typeof RISK_PRESETS)[];
  const first = r.seriesId;
  for (const [i, seriesId] of r.seriesIds.entries()) {
    r.seriesId = seriesId;
    const risk = RISK_PRESETS[presets[(presets.indexOf(plan.risk) + i) % presets.length]];
    await setRisk(r, { ...risk, liquidationPenaltyBps: penaltyOf(plan, risk.mmBps) }, r.clock.now + 1n);
  }
  r.seriesId = first;
  await setShare(r, plan.insuranceFeeShareBps, r.clock.now + 1n);
  await setOperator(r, r.traders[0], r.operator, r.clock.now + 1n);
  for (let i = 0; i < r.traders.length; i++) {
    await deposit(r, r.traders[i], units(plan.depositTokens[i], decimals), r.clock.now + 1n);
  }
  if (plan.daveTokens > 0n) await deposit(r, r.operator, units(plan.daveTokens, decimals), r.clock.now + 1n);
  if (plan.insuranceTokens > 0n) {
    await contributeInsurance(r, r.admin, units(plan.insuranceTokens, decimals), r.clock.now + 1n);
  }
}

// ---------------------------------------------------------------------------------------------
