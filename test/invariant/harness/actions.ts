/**
 * The operations of a run, each one step checked against the model.
 * Part of the order book and system campaigns (see test/invariant/System.campaign.test.ts).
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { LIQUIDATOR_PENALTY_SHARE_BPS, OrderKind, abs, liquidationSize, unrealizedPnlX18 } from "../../../sdk";
import type {
  BookAccountHealth,
  BookDeleverageLeg,
  BookEvent,
  BookLiquidationRequest,
  BookRiskParams,
  OrderParams,
} from "../../../sdk";
import { AIT, publish } from "../../fixtures/clearinghouse";
import { replacer } from "../../model/ClearinghouseModel";
import {
  DEBUG,
  GAS_LIMIT,
  Signer,
  Run,
  nameOf,
  accounts,
  blockEnv,
  callEnv,
  nextTime,
  count,
  transact,
  step,
} from "./run";

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

export async function deposit(r: Run, actor: Signer, amountRaw: bigint, at: bigint): Promise<void> {
  await step(r, `t=${at} deposit ${nameOf(r, actor.address)} ${amountRaw} raw`, async (label) => {
    r.clock.advanceTo(at);
    const expected = r.book.deposit(callEnv(r, actor), amountRaw);
    await transact(r, label, at, expected, () => r.ch.connect(actor).deposit(amountRaw, { gasLimit: GAS_LIMIT }), [
      actor.address,
    ]);
    if (!expected.ok) return;
    r.vaultRaw += amountRaw;
    r.inflowX18 += amountRaw * r.scale;
  });
}

/**
 * The vault pays out of its token balance (short only after bad debt): when the model accepts a payout the
 * balance cannot cover, the token reverts the whole transaction, so the model's state is put back and the
 * token's error is the expected outcome.
 */
function vaultShortError(
  r: Run,
  snapshot: unknown,
  modelAccepted: boolean,
  amountRaw: bigint,
): { name: string; args: unknown[] } | undefined {
  if (!modelAccepted || r.vaultRaw >= amountRaw) return undefined;
  r.book.restore(snapshot);
  return { name: "ERC20InsufficientBalance", args: [r.chAddress, r.vaultRaw, amountRaw] };
}

export async function withdraw(
  r: Run,
  sender: Signer,
  account: string,
  amountOf: (withdrawableRaw: bigint) => bigint,
  at: bigint,
): Promise<void> {
  r.clock.advanceTo(at);
  const withdrawableRaw = r.book.accountHealth(blockEnv(r), account).withdrawableX18 / r.scale;
  const amountRaw = amountOf(withdrawableRaw);
  const by = sender.address === account ? "" : ` by ${nameOf(r, sender.address)}`;
  const what = `t=${at} withdraw ${nameOf(r, account)} ${amountRaw} raw of ${withdrawableRaw}${by}`;
  await step(r, what, async (label) => {
    const snapshot = r.book.snapshot();
    const expected = r.book.withdraw(callEnv(r, sender), account, amountRaw, sender.address);
    const tokenError = vaultShortError(r, snapshot, expected.ok, amountRaw);
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(sender).withdraw(account, amountRaw, sender.address, { gasLimit: GAS_LIMIT }),
      [account],
      tokenError,
    );
    if (!expected.ok || tokenError !== undefined) return;
    r.vaultRaw -= amountRaw;
    r.inflowX18 -= amountRaw * r.scale;
  });
}

export async function donate(r: Run, actor: Signer, amountRaw: bigint, at: bigint): Promise<void> {
  await step(r, `t=${at} donate ${nameOf(r, actor.address)} ${amountRaw} raw (plain transfer)`, async (label) => {
    r.clock.advanceTo(at);
    await transact(
      r,
      label,
      at,
      { ok: true, value: null, events: [] },
      () => r.token.connect(actor).transfer(r.chAddress, amountRaw, { gasLimit: GAS_LIMIT }),
      [],
    );
    r.vaultRaw += amountRaw;
    r.donationsRaw += amountRaw;
  });
}

/** Publishes an agreeing round observed at `at` through the fixture's `publish` (submitted at `at`). */
export async function publishIndex(r: Run, priceX18: bigint, at: bigint, note = ""): Promise<void> {
  await step(r, `t=${at} oracle round ${priceX18}${note}`, async () => {
    // The fixture's publish observes the round one second after the latest block.
    if (at - 1n > r.clock.now) await time.increaseTo(at - 1n);
    r.clock.advanceTo(at);
    r.clock.publish(priceX18);
    await time.setNextBlockTimestamp(at);
    await publish(r.oracle, r.reporters, AIT, priceX18);
    const [, observedAt] = await r.oracle.peekLatest(AIT);
    expect(observedAt, "harness: the oracle accepted the round").to.equal(at);
    r.mayChange = new Set();
    r.touchedOrderIds = new Set();
  });
}

export function movedPrice(r: Run, moveBps: bigint, extraWei: bigint): bigint {
  return (r.clock.latestRound().priceX18 * (10_000n + moveBps)) / 10_000n + extraWei;
}

export async function warp(r: Run, at: bigint): Promise<void> {
  await step(r, `t=${at} warp +${at - r.clock.now}s`, async () => {
    await time.increaseTo(at);
    r.clock.advanceTo(at);
    r.mayChange = new Set();
    r.touchedOrderIds = new Set();
  });
}

export async function togglePause(r: Run, at: bigint): Promise<void> {
  const pausing = !r.book.paused;
  await step(r, `t=${at} ${pausing ? "pause" : "unpause"} by the guardian`, async (label) => {
    r.clock.advanceTo(at);
    const expected = pausing ? r.book.pause() : r.book.unpause();
    const guardian = r.ch.connect(r.guardian);
    await transact(
      r,
      label,
      at,
      expected,
      () => (pausing ? guardian.pause({ gasLimit: GAS_LIMIT }) : guardian.unpause({ gasLimit: GAS_LIMIT })),
      [],
    );
  });
}

export async function setOperator(r: Run, owner: Signer, operator: Signer, at: bigint): Promise<void> {
  const what = `t=${at} setOperator ${nameOf(r, operator.address)} for ${nameOf(r, owner.address)}`;
  await step(r, what, async (label) => {
    r.clock.advanceTo(at);
    const expected = r.book.setOperator(callEnv(r, owner), operator.address, true);
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(owner).setOperator(operator.address, true, { gasLimit: GAS_LIMIT }),
      [],
    );
  });
}

/** Sets the risk parameters; the liquidation penalty defaults to min(mmBps, 100). */
export async function setRisk(r: Run, risk: BookRiskParams, at: bigint): Promise<void> {
  const full = {
    ...risk,
    liquidationPenaltyBps: risk.liquidationPenaltyBps ?? (risk.mmBps < 100n ? risk.mmBps : 100n),
  };
  await step(r, `t=${at} setRiskParams ${JSON.stringify(full, replacer)}`, async (label) => {
    r.clock.advanceTo(at);
    r.book.setRiskParams(full, r.seriesId);
    await transact(
      r,
      label,
      at,
      { ok: true, value: null, events: [] },
      () => r.ch.connect(r.admin).setRiskParams(r.seriesId, full, { gasLimit: GAS_LIMIT }),
      [],
    );
  });
}

export async function setShare(r: Run, bps: bigint, at: bigint): Promise<void> {
  await step(r, `t=${at} setInsuranceFeeShare ${bps}`, async (label) => {
    r.clock.advanceTo(at);
    r.book.setInsuranceFeeShare(bps);
    await transact(
      r,
      label,
      at,
      { ok: true, value: null, events: [] },
      () => r.ch.connect(r.admin).setInsuranceFeeShare(bps, { gasLimit: GAS_LIMIT }),
      [],
    );
  });
}

export function describeOrder(r: Run, p: OrderParams): string {
  const kind = Object.entries(OrderKind).find(([, v]) => v === p.kind)?.[0] ?? String(p.kind);
  const flags = `${p.reduceOnly ? " reduceOnly" : ""}${p.expiresAt !== 0n ? ` until ${p.expiresAt}` : ""}`;
  return `${kind} ${p.isBuy ? "buy" : "sell"} ${p.qty} @${p.tick} for ${nameOf(r, p.account)} maxFills ${p.maxFills}${flags}`;
}

export async function place(r: Run, sender: Signer, params: OrderParams, at: bigint): Promise<void> {
  const by = sender.address === params.account ? "" : ` by ${nameOf(r, sender.address)}`;
  await step(r, `t=${at} placeOrder ${describeOrder(r, params)}${by}`, async (label) => {
    const expected = r.book.placeOrder(callEnv(r, sender), params);
    await transact(r, label, at, expected, () => r.ch.connect(sender).placeOrder(params, { gasLimit: GAS_LIMIT }), [
      params.account,
    ]);
  });
}

export async function replace(r: Run, sender: Signer, orderId: bigint, params: OrderParams, at: bigint): Promise<void> {
  const by = ` by ${nameOf(r, sender.address)}`;
  await step(r, `t=${at} replaceOrder ${orderId} with ${describeOrder(r, params)}${by}`, async (label) => {
    const expected = r.book.replaceOrder(callEnv(r, sender), orderId, params);
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(sender).replaceOrder(orderId, params, { gasLimit: GAS_LIMIT }),
      [params.account],
    );
  });
}

export async function cancel(r: Run, sender: Signer, orderId: bigint, at: bigint): Promise<void> {
  await step(r, `t=${at} cancelOrder ${orderId} by ${nameOf(r, sender.address)}`, async (label) => {
    const expected = r.book.cancelOrder(callEnv(r, sender), orderId);
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(sender).cancelOrder(orderId, { gasLimit: GAS_LIMIT }),
      [],
    );
  });
}

export async function cancelAll(r: Run, sender: Signer, account: string, seriesId: bigint, at: bigint): Promise<void> {
  const what = `t=${at} cancelAllOrders ${nameOf(r, account)} series ${seriesId} by ${nameOf(r, sender.address)}`;
  await step(r, what, async (label) => {
    const expected = r.book.cancelAllOrders(callEnv(r, sender), account, seriesId);
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(sender).cancelAllOrders(account, seriesId, { gasLimit: GAS_LIMIT }),
      [],
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Operations: liquidation, deleveraging, deficits and the insurance fund
// ---------------------------------------------------------------------------------------------

export const UINT64_MAX = 2n ** 64n - 1n;
export const UINT256_MAX = 2n ** 256n - 1n;
/** Largest index step of one shock round, bps: under the feed's 10% jump guard. */
export const SHOCK_STEP_BPS = 950n;
/** Shocks move the index no further down than this, nor up beyond the ceiling. */
export const SHOCK_FLOOR_X18 = 5n * 10n ** 17n;
export const SHOCK_CEILING_X18 = 40n * 10n ** 18n;

/** alice, bob, carol and dave: every account that may liquidate, be liquidated or be a counterparty. */
export function participants(r: Run): Signer[] {
  return [...r.traders, r.operator];
}

export function signerOf(r: Run, address: string): Signer {
  const signer = participants(r).find((s) => s.address === address);
  if (signer === undefined) throw new Error(`harness: no signer for ${address}`);
  return signer;
}

/** The model's accounts and fund just before a liquidation-type step, at its block time. */
export interface PreState {
  fundX18: bigint;
  cash: Map<string, bigint>;
  health: Map<string, BookAccountHealth>;
}

export function preState(r: Run): PreState {
  const env = blockEnv(r);
  const cash = new Map<string, bigint>();
  const health = new Map<string, BookAccountHealth>();
  for (const account of accounts(r)) {
    cash.set(account, r.book.cashOf(account));
    health.set(account, r.book.accountHealth(env, account));
  }
  return { fundX18: r.book.insuranceFundX18, cash, health };
}

export function healthBefore(pre: PreState, account: string): BookAccountHealth {
  const health = pre.health.get(account);
  if (health === undefined) throw new Error(`harness: no health of ${account} before the step`);
  return health;
}

export function liquidatableNow(r: Run, account: string): boolean {
  if (r.book.positionOf(account, r.seriesId).sizeQty === 0n) return false;
  const health = r.book.accountHealth(blockEnv(r), account);
  return health.equityX18 < health.maintenanceMarginX18;
}

/** What the rules require a liquidator to take over from `account` now (the whole size when healthy). */
export function requiredQtyOf(r: Run, account: string): bigint {
  const env = blockEnv(r);
  const sizeQty = r.book.positionOf(account, r.seriesId).sizeQty;
  if (sizeQty === 0n) return r.book.specOf(r.seriesId).minQty;
  const health = r.book.accountHealth(env, account);
  if (health.equityX18 >= health.maintenanceMarginX18) return abs(sizeQty);
  return liquidationSize({
    sizeQty,
    markX18: r.book.markPrice(env, r.seriesId),
    multiplier: r.book.specOf(r.seriesId).contractMultiplier,
    lotQty: r.book.specOf(r.seriesId).minQty,
    mmBps: r.book.riskOf(r.seriesId).mmBps,
    liquidationPenaltyBps: r.book.riskOf(r.seriesId).liquidationPenaltyBps ?? 0n,
    equityX18: health.equityX18,
    maintenanceMarginX18: health.maintenanceMarginX18,
    maxQty: UINT256_MAX,
  }).requiredQty;
}

/** Whom a liquidation goes after: an account below maintenance, one with a position, or anyone. */
export type LiquidationTarget = "liquidatable" | "holder" | "any" | "self";
/** How many contracts the liquidator offers to take (`maxQty`), relative to what the rules require. */
export type LiquidationQty = "required" | "max" | "huge" | "tooSmall" | "zero" | "partial" | "offLot";
/** The series a request names: the traded one, 0, an unlisted one, or the other listed series (odd runs). */
export type SeriesPick = "traded" | "zero" | "unlisted" | "otherListed";

export function liquidationTarget(r: Run, mode: LiquidationTarget, index: number): string {
  const all = accounts(r);
  if (mode === "liquidatable") {
    const candidates = all.filter((a) => liquidatableNow(r, a));
    if (candidates.length > 0) return candidates[index % candidates.length];
  }
  if (mode !== "any") {
    const holders = all.filter((a) => r.book.positionOf(a, r.seriesId).sizeQty !== 0n);
    if (holders.length > 0) return holders[index % holders.length];
  }
  return all[index % all.length];
}

/** A liquidator other than `account`: mostly the one with the most free margin, else the `pick`-th of the others. */
export function liquidatorFor(r: Run, account: string, pick: number): Signer {
  const others = participants(r).filter((s) => s.address !== account);
  if (pick % 4 === 0) return others[Math.floor(pick / 4) % others.length];
  return richest(r, others);
}

/** The signer among `candidates` with the most withdrawable collateral (free margin). */
export function richest(r: Run, candidates: Signer[]): Signer {
  const env = blockEnv(r);
  const free = (s: Signer) => r.book.accountHealth(env, s.address).withdrawableX18;
  return candidates.reduce((best, s) => (free(s) > free(best) ? s : best));
}

/** True when no account is below maintenance margin (liquidation attempts then mostly wait). */
export function noneLiquidatable(r: Run): boolean {
  return !accounts(r).some((a) => liquidatableNow(r, a));
}

export function seriesOf(r: Run, pick: SeriesPick): bigint {
  if (pick === "zero") return 0n;
  if (pick === "unlisted") return 99n;
  if (pick === "otherListed") return r.seriesId === 1n ? 2n : 1n;
  return r.seriesId;
}

export function maxQtyOf(r: Run, account: string, mode: LiquidationQty, pick: number, cap: bigint): bigint {
  const lot = r.book.specOf(r.seriesId).minQty;
  const required = requiredQtyOf(r, account);
  const lots = required / lot;
  const quantities: Record<LiquidationQty, bigint> = {
    required,
    max: UINT64_MAX,
    huge: cap,
    tooSmall: required > lot ? required - lot : 0n,
    zero: 0n,
    partial: lots > 1n ? lot * (1n + (BigInt(pick) % (lots - 1n))) : required,
    // A quantity off the lot grid: rounds down to required (lot > 1), or to one lot less.
    offLot: pick % 2 === 0 ? required + lot - 1n : required > 1n ? required - 1n : 1n,
  };
  return quantities[mode];
}

/** Every Liquidated event of a step: its account, with all the step's events for the checks. */
export function liquidatedAccounts(events: readonly BookEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) if (e.name === "Liquidated" && !out.includes(e.account)) out.push(e.account);
  return out;
}

/**
 * After a successful liquidation or batch: the reward is half the penalty rounded down, the penalties of an
 * account stay within its equity, the fund moved by exactly the penalty shares minus the deficits it paid, a
 * liquidated account has no resting order, a partial liquidation raised the margin ratio (equity / maintenance),
 * and an account whose deficit the fund paid ends flat with cash 0.
 */
export async function checkLiquidations(
  r: Run,
  label: string,
  pre: PreState,
  events: readonly BookEvent[],
): Promise<void> {
  const at = `after ${label}`;
  let fundChangeX18 = 0n;
  const penalties = new Map<string, bigint>();
  for (const e of events) {
    if (e.name === "Liquidated") {
      expect(e.liquidatorRewardX18, `LQ: the reward is half the penalty, rounded down ${at}`).to.equal(
        (e.penaltyX18 * LIQUIDATOR_PENALTY_SHARE_BPS) / 10_000n,
      );
      penalties.set(e.account, (penalties.get(e.account) ?? 0n) + e.penaltyX18);
      fundChangeX18 += e.penaltyX18 - e.liquidatorRewardX18;
    }
    if (e.name === "DeficitResolved") {
      expect(
        [e.fromInsuranceX18, e.fromHaircutsX18, e.uncoveredX18],
        `LQ: a liquidation's deficit is paid by the fund in full ${at}`,
      ).to.deep.equal([e.deficitX18, 0n, 0n]);
      fundChangeX18 -= e.fromInsuranceX18;
    }
  }
  const fundX18 = await r.ch.insuranceFundX18();
  expect(fundX18, `LQ: insurance fund = before + penalty shares - deficits paid ${at}`).to.equal(
    pre.fundX18 + fundChangeX18,
  );
  for (const account of liquidatedAccounts(events)) {
    const who = `${nameOf(r, account)} ${at}`;
    const before = healthBefore(pre, account);
    const equityLeft = before.equityX18 > 0n ? before.equityX18 : 0n;
    expect((penalties.get(account) ?? 0n) <= equityLeft, `LQ: penalties within the equity of ${who}`).to.equal(true);
    const [ids, position, health, cash] = await Promise.all([
      r.ch.openOrderIdsOf(account, r.seriesId),
      r.ch.positionOf(account, r.seriesId),
      r.ch.accountHealth(account),
      r.ch.cashOf(account),
    ]);
    expect(ids.length, `LQ: a liquidated account has no resting orders: ${who}`).to.equal(0);
    if (position.sizeQty !== 0n) {
      const rose = health.equityX18 * before.maintenanceMarginX18 > before.equityX18 * health.maintenanceMarginX18;
      expect(
        rose,
        `LQ: a partial liquidation raises equity/maintenance of ${who}: ${before.equityX18}/${before.maintenanceMarginX18} -> ${health.equityX18}/${health.maintenanceMarginX18}`,
      ).to.equal(true);
    }
    if (events.some((e) => e.name === "DeficitResolved" && e.account === account)) {
      expect([position.sizeQty, cash], `LQ: the fund's cover leaves ${who} flat with cash 0`).to.deep.equal([0n, 0n]);
    }
  }
}

export async function liquidate(
  r: Run,
  liquidator: Signer,
  account: string,
  seriesId: bigint,
  maxQty: bigint,
  at: bigint,
): Promise<void> {
  const by = nameOf(r, liquidator.address);
  const what = `t=${at} liquidate ${nameOf(r, account)} series ${seriesId} maxQty ${maxQty} by ${by}`;
  await step(r, what, async (label) => {
    r.clock.advanceTo(at);
    const pre = preState(r);
    const heldSeries = r.book.seriesOf(account).length;
    const expected = r.book.liquidate(callEnv(r, liquidator), account, seriesId, maxQty);
    if (expected.ok && heldSeries >= 2) count(r, "liquidate: ok, account in 2+ series");
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(liquidator).liquidate(account, seriesId, maxQty, { gasLimit: GAS_LIMIT }),
      [account, liquidator.address],
    );
    if (!expected.ok) return;
    const taken = expected.events.flatMap((e) => (e.name === "Liquidated" ? [abs(e.sizeChangeQty)] : []));
    expect(taken, `model: liquidate returns the qty of its one Liquidated event (${label})`).to.deep.equal([
      expected.value,
    ]);
    await checkLiquidations(r, label, pre, expected.events);
  });
}

export async function liquidateBatch(
  r: Run,
  liquidator: Signer,
  requests: BookLiquidationRequest[],
  at: bigint,
): Promise<void> {
  const list = requests.map((q) => `${nameOf(r, q.account)}/${q.seriesId}/${q.maxQty}`).join(", ");
  await step(r, `t=${at} liquidateBatch [${list}] by ${nameOf(r, liquidator.address)}`, async (label) => {
    r.clock.advanceTo(at);
    const pre = preState(r);
    const expected = r.book.liquidateBatch(callEnv(r, liquidator), requests);
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(liquidator).liquidateBatch(requests, { gasLimit: GAS_LIMIT }),
      [liquidator.address, ...requests.map((q) => q.account)],
    );
    if (!expected.ok) return;
    const liquidated = BigInt(expected.events.filter((e) => e.name === "Liquidated").length);
    expect(liquidated, `model: liquidateBatch returns its number of Liquidated events (${label})`).to.equal(
      expected.value,
    );
    if (liquidated > 0n) count(r, `liquidateBatch: liquidated ${liquidated > 1n ? "several" : "one"}`);
    await checkLiquidations(r, label, pre, expected.events);
  });
}

/**
 * After a successful deleveraging: fund decrease + haircuts = deficit exactly, the fund paid all it held
 * first, the bankrupt account ends flat with cash 0 and no orders, every counterparty keeps non-negative
 * equity and ends with no less cash than before (a haircut never exceeds the profit the leg realized).
 */
export async function checkDeleverage(
  r: Run,
  label: string,
  pre: PreState,
  account: string,
  legs: readonly BookDeleverageLeg[],
  events: readonly BookEvent[],
): Promise<void> {
  const at = `after ${label}`;
  const resolved = events.flatMap((e) => (e.name === "DeficitResolved" ? [e] : []));
  expect(resolved.length, `ADL: one DeficitResolved ${at}`).to.equal(1);
  const [d] = resolved;
  const haircuts = events.flatMap((e) => (e.name === "Deleveraged" ? [e.haircutX18] : []));
  expect(haircuts.length, `ADL: one Deleveraged per leg ${at}`).to.equal(legs.length);
  const haircutSum = haircuts.reduce((sum, h) => sum + h, 0n);
  const [fundX18, cash, position, ids] = await Promise.all([
    r.ch.insuranceFundX18(),
    r.ch.cashOf(account),
    r.ch.positionOf(account, r.seriesId),
    r.ch.openOrderIdsOf(account, r.seriesId),
  ]);
  const fundDecrease = pre.fundX18 - fundX18;
  expect(fundDecrease + haircutSum, `ADL: fund decrease + haircuts = deficit ${at}`).to.equal(d.deficitX18);
  expect(
    [fundDecrease, haircutSum, d.uncoveredX18],
    `ADL: DeficitResolved names the fund's part and the haircuts ${at}`,
  ).to.deep.equal([d.fromInsuranceX18, d.fromHaircutsX18, 0n]);
  expect(fundX18, `ADL: the fund pays all it holds first ${at}`).to.equal(0n);
  expect(
    [position.sizeQty, cash, ids.length],
    `ADL: the bankrupt ${nameOf(r, account)} ends flat, cash 0, no orders ${at}`,
  ).to.deep.equal([0n, 0n, 0]);
  for (const { counterparty } of legs) {
    const who = `${nameOf(r, counterparty)} ${at}`;
    const [cashAfter, health] = await Promise.all([r.ch.cashOf(counterparty), r.ch.accountHealth(counterparty)]);
    const cashBefore = pre.cash.get(counterparty) ?? 0n;
    expect(cashAfter >= cashBefore, `ADL: a haircut never exceeds the realized profit of ${who}`).to.equal(true);
    expect(health.equityX18 >= 0n, `ADL: counterparty equity stays non-negative: ${who}`).to.equal(true);
  }
}

export async function deleverage(
  r: Run,
  sender: Signer,
  account: string,
  legs: BookDeleverageLeg[],
  at: bigint,
  note: string,
): Promise<void> {
  const list = legs.map((l) => `${nameOf(r, l.counterparty)}/${l.seriesId}`).join(", ");
  const what = `t=${at} deleverage ${nameOf(r, account)} legs [${list}] (${note}) by ${nameOf(r, sender.address)}`;
  await step(r, what, async (label) => {
    r.clock.advanceTo(at);
    const pre = preState(r);
    const expected = r.book.deleverage(callEnv(r, sender), account, legs);
    if (expected.ok && new Set(legs.map((l) => l.seriesId)).size >= 2) count(r, "deleverage: ok, legs in 2+ series");
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(sender).deleverage(account, legs, { gasLimit: GAS_LIMIT }),
      [account, ...legs.map((l) => l.counterparty)],
    );
    if (expected.ok) await checkDeleverage(r, label, pre, account, legs, expected.events);
  });
}

export async function coverDeficit(r: Run, sender: Signer, account: string, at: bigint): Promise<void> {
  const what = `t=${at} coverDeficit ${nameOf(r, account)} by ${nameOf(r, sender.address)}`;
  await step(r, what, async (label) => {
    r.clock.advanceTo(at);
    const pre = preState(r);
    const expected = r.book.coverDeficit(callEnv(r, sender), account);
    await transact(r, label, at, expected, () => r.ch.connect(sender).coverDeficit(account, { gasLimit: GAS_LIMIT }), [
      account,
    ]);
    if (!expected.ok) return;
    const d = expected.events.find((e) => e.name === "DeficitResolved");
    if (d?.name !== "DeficitResolved") throw new Error(`${label}: no DeficitResolved`);
    const [fundX18, cash, ids] = await Promise.all([
      r.ch.insuranceFundX18(),
      r.ch.cashOf(account),
      r.ch.openOrderIdsOf(account, r.seriesId),
    ]);
    const at2 = `after ${label}`;
    expect(pre.fundX18 - fundX18, `DEF: fund decrease = fromInsurance ${at2}`).to.equal(d.fromInsuranceX18);
    expect(d.fromInsuranceX18 + d.uncoveredX18, `DEF: fromInsurance + uncovered = deficit ${at2}`).to.equal(
      d.deficitX18,
    );
    expect([cash, ids.length], `DEF: cash = -uncovered, no orders ${at2}`).to.deep.equal([-d.uncoveredX18, 0]);
    if (d.uncoveredX18 !== 0n) expect(fundX18, `DEF: a short fund pays all it holds ${at2}`).to.equal(0n);
  });
}

export async function contributeInsurance(r: Run, from: Signer, amountRaw: bigint, at: bigint): Promise<void> {
  const name = from.address === r.admin.address ? "admin" : nameOf(r, from.address);
  await step(r, `t=${at} contributeInsurance ${amountRaw} raw by ${name}`, async (label) => {
    r.clock.advanceTo(at);
    const snapshot = r.book.snapshot();
    const expected = r.book.contributeInsurance(callEnv(r, from), amountRaw);
    let tokenError: { name: string; args: unknown[] } | undefined;
    if (expected.ok) {
      const balance = await r.token.balanceOf(from.address);
      if (balance < amountRaw) {
        r.book.restore(snapshot);
        tokenError = { name: "ERC20InsufficientBalance", args: [from.address, balance, amountRaw] };
      }
    }
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(from).contributeInsurance(amountRaw, { gasLimit: GAS_LIMIT }),
      [],
      tokenError,
    );
    if (!expected.ok || tokenError !== undefined) return;
    r.vaultRaw += amountRaw;
    r.inflowX18 += amountRaw * r.scale;
  });
}

export async function withdrawInsurance(r: Run, amountRaw: bigint, at: bigint): Promise<void> {
  const fund = r.book.insuranceFundX18;
  await step(r, `t=${at} withdrawInsurance ${amountRaw} raw of a fund of ${fund} by the admin`, async (label) => {
    r.clock.advanceTo(at);
    const snapshot = r.book.snapshot();
    const expected = r.book.withdrawInsurance(callEnv(r, r.admin), r.admin.address, amountRaw);
    const tokenError = vaultShortError(r, snapshot, expected.ok, amountRaw);
    await transact(
      r,
      label,
      at,
      expected,
      () => r.ch.connect(r.admin).withdrawInsurance(r.admin.address, amountRaw, { gasLimit: GAS_LIMIT }),
      [],
      tokenError,
    );
    if (!expected.ok || tokenError !== undefined) return;
    r.vaultRaw -= amountRaw;
    r.inflowX18 -= amountRaw * r.scale;
  });
}

/** What a shock aims for: an account just below maintenance, bankrupt within the fund, beyond it, or a plain jump. */
export type ShockMode = "liquidatable" | "bankruptCovered" | "bankruptBeyond" | "jump";

/**
 * The mark at which `account`'s equity reaches the shock's aim (undefined when flat or unreachable):
 * (1 - fraction) x maintenance margin, or -deficit with the deficit a fraction of the fund ("covered") or
 * the fund plus a fraction of the notional ("beyond"). Equity at mark m: cash + size x m x multiplier - basis.
 */
export function shockTargetMark(r: Run, account: string, mode: ShockMode, fractionBps: bigint): bigint | undefined {
  const { sizeQty: s, openNotionalX18: basis } = r.book.positionOf(account, r.seriesId);
  if (s === 0n || mode === "jump") return undefined;
  const u = r.book.specOf(r.seriesId).contractMultiplier;
  const cash = r.book.cashOf(account);
  let markX18: bigint;
  if (mode === "liquidatable") {
    const k8 = r.book.riskOf(r.seriesId).mmBps * (10_000n - fractionBps);
    markX18 = ((basis - cash) * 100_000_000n) / (u * (s * 100_000_000n - k8 * abs(s)));
  } else {
    const fund = r.book.insuranceFundX18;
    const notional = abs(s) * r.book.markPrice(blockEnv(r), r.seriesId) * u;
    const deficit =
      mode === "bankruptCovered" ? (fund * fractionBps) / 10_000n : fund + (notional * fractionBps) / 10_000n + 1n;
    markX18 = (basis - cash - deficit) / (s * u);
  }
  return markX18 > 0n ? markX18 : undefined;
}

export interface ShockOp {
  mode: ShockMode;
  index: number;
  rounds: number;
  fractionBps: bigint;
  overshootBps: bigint;
  jumpBps: bigint;
  up: boolean;
  /** What follows a shock that reached its aim, at once: a liquidation (the required qty or all), a deleveraging. */
  follow: "none" | "liquidateRequired" | "liquidateAll" | "deleverage";
  gap: bigint;
}

/**
 * Large index moves in rounds under the jump guard, each at least the oracle's minimum interval after the
 * last: toward the mark that makes an account holding a position liquidatable or bankrupt, or a plain jump.
 * Each round is a step. Inside the averaging window the mark follows the index only by the part of the
 * window left, so the index moves further.
 */
export async function shock(r: Run, op: ShockOp): Promise<void> {
  // Mostly the holder closest to maintenance margin (lowest equity / maintenance), sometimes any holder.
  const env = blockEnv(r);
  const holders = accounts(r)
    .filter((a) => r.book.positionOf(a, r.seriesId).sizeQty !== 0n)
    .map((a) => ({ a, h: r.book.accountHealth(env, a) }))
    .sort((x, y) => {
      const lhs = x.h.equityX18 * y.h.maintenanceMarginX18;
      const rhs = y.h.equityX18 * x.h.maintenanceMarginX18;
      return lhs < rhs ? -1 : lhs > rhs ? 1 : 0;
    })
    .map(({ a }) => a);
  // Aims further than 55% from the mark are dropped (the holder is barely levered; eight rounds reach about that
  // far), then the next holder's; with none in reach, the aim falls back to just below maintenance.
  const startMark = r.book.markPrice(blockEnv(r), r.seriesId);
  const aimsFor = (aimed: ShockMode) =>
    holders
      .map((a) => ({ a, m: shockTargetMark(r, a, aimed, op.fractionBps) }))
      .filter((x): x is { a: string; m: bigint } => x.m !== undefined && abs(x.m - startMark) * 20n <= startMark * 11n);
  let mode = op.mode;
  let aims = aimsFor(mode);
  if (aims.length === 0 && mode !== "jump" && mode !== "liquidatable") {
    mode = "liquidatable";
    aims = aimsFor(mode);
  }
  const chosen = aims.length === 0 ? undefined : op.index % 3 === 0 ? aims[op.index % aims.length] : aims[0];
  const account = chosen?.a;
  const target = chosen?.m;
  // A long loses as the mark falls, a short as it rises: the aim lies on that side of the target mark.
  const up =
    account === undefined || target === undefined ? op.up : r.book.positionOf(account, r.seriesId).sizeQty < 0n;
  const aim = target === undefined ? `jump ${up ? "up" : "down"}` : `${mode} ${nameOf(r, account ?? "")}`;
  const spec = r.clock.spec;
  const reached = () => {
    if (target === undefined) return false;
    const markX18 = r.book.markPrice(blockEnv(r), r.seriesId);
    return up ? markX18 >= target : markX18 <= target;
  };
  const why = holders.length === 0 ? "nobody holds" : op.mode === "jump" ? "drawn" : "out of reach";
  count(r, target === undefined ? `shock jump: ${why}` : `shock ${mode}: ${reached() ? "already there" : "sent"}`);
  // A plain jump (no holder within reach) takes at most two rounds.
  const rounds = target === undefined && op.rounds > 2 ? 2 : op.rounds;
  for (let round = 0; round < rounds; round++) {
    const at = nextTime(r, op.gap, spec.feedMinIntervalSec);
    let bps = up ? op.jumpBps : -op.jumpBps;
    if (target !== undefined) {
      if (reached()) break;
      const markX18 = r.book.markPrice(blockEnv(r), r.seriesId);
      const windowStart = spec.expiry - spec.averagingWindowSec;
      const remaining = at > windowStart ? spec.expiry - at : spec.averagingWindowSec;
      const needed = ((target - markX18) * 10_000n * spec.averagingWindowSec) / (markX18 * remaining);
      bps = needed + (up ? op.overshootBps + 1n : -op.overshootBps - 1n);
    }
    if (bps > SHOCK_STEP_BPS) bps = SHOCK_STEP_BPS;
    if (bps < -SHOCK_STEP_BPS) bps = -SHOCK_STEP_BPS;
    // The index stays between 0.5 and 40 (the fixture starts at 4): ticks stay meaningful, notionals bounded.
    const indexX18 = r.clock.latestRound().priceX18;
    if ((bps < 0n && indexX18 < SHOCK_FLOOR_X18) || (bps > 0n && indexX18 > SHOCK_CEILING_X18)) break;
    await publishIndex(r, movedPrice(r, bps, 0n), at, ` (shock: ${aim}, ${bps}bps)`);
  }
  if (target === undefined || account === undefined) return;
  const hit = reached();
  count(r, `shock ${mode}: ${hit ? "reached" : "short"}`);
  if (DEBUG) {
    const h = r.book.accountHealth(blockEnv(r), account);
    const markX18 = r.book.markPrice(blockEnv(r), r.seriesId);
    console.log(
      `    shock aim ${target}, mark ${markX18}: ${nameOf(r, account)} equity ${h.equityX18} mm ${h.maintenanceMarginX18}`,
    );
  }
  if (!hit || op.follow === "none") return;
  // A bankruptcy beyond the fund is first liquidated in vain (InsuranceFundShort), then deleveraged.
  const deleveraging = op.follow === "deleverage" && mode === "bankruptBeyond";
  const maxQty = op.follow === "liquidateAll" || deleveraging ? UINT256_MAX : requiredQtyOf(r, account);
  let at = nextTime(r, 1n);
  r.clock.advanceTo(at);
  await liquidate(r, liquidatorFor(r, account, op.index), account, r.seriesId, maxQty, at);
  if (!deleveraging) return;
  at = nextTime(r, 1n);
  r.clock.advanceTo(at);
  const legs = deleverageLegs(r, account, "ranked", 0);
  await deleverage(r, liquidatorFor(r, account, op.index + 1), account, legs, at, "ranked");
}

export interface LeverOp {
  /** "open": two accounts trade about all the free margin of the smaller; "close": the weakest holder closes. */
  mode: "open" | "close";
  maker: number;
  takerOffset: number;
  makerBuys: boolean;
  fractionBps: bigint;
  offsetTicks: bigint;
  gap: bigint;
}

/**
 * Two accounts trade about all of the smaller one's free margin with each other near the mark: the maker rests
 * a Limit order, the taker crosses it at its tick (two steps). This is how the liquidation profile builds the
 * leveraged positions that index shocks then push below maintenance or into deficit.
 */
export async function lever(r: Run, op: LeverOp): Promise<void> {
  const at = nextTime(r, op.gap);
  r.clock.advanceTo(at);
  const people = participants(r).filter((p) => p !== r.operator || r.book.cashOf(p.address) > 0n);
  let maker = people[op.maker % people.length];
  let taker = people[(op.maker + op.takerOffset) % people.length];
  let makerBuys = op.makerBuys;
  let qty: bigint;
  const lot = r.book.specOf(r.seriesId).minQty;
  if (op.mode === "close") {
    // The holder with the lowest equity / maintenance closes all of its position (reduce-only) against the
    // richest other account; below zero equity it ends flat with negative cash: a deficit for coverDeficit.
    const env = blockEnv(r);
    const holders = participants(r)
      .filter((p) => r.book.positionOf(p.address, r.seriesId).sizeQty !== 0n)
      .map((p) => ({ p, h: r.book.accountHealth(env, p.address) }))
      .sort((x, y) => {
        const lhs = x.h.equityX18 * y.h.maintenanceMarginX18;
        const rhs = y.h.equityX18 * x.h.maintenanceMarginX18;
        return lhs < rhs ? -1 : lhs > rhs ? 1 : 0;
      });
    if (holders.length === 0) return;
    taker = holders[0].p;
    maker = richest(
      r,
      participants(r).filter((p) => p !== taker),
    );
    const size = r.book.positionOf(taker.address, r.seriesId).sizeQty;
    makerBuys = size > 0n;
    qty = abs(size);
  } else {
    if (maker === taker) return;
    const room = [qtyToMargin(r, maker.address), qtyToMargin(r, taker.address)].reduce((x, y) => (x < y ? x : y));
    const scaled = ((room * op.fractionBps) / 10_000n / lot) * lot;
    qty = scaled > 0n ? scaled : lot;
  }
  const tick = markTick(r) + (makerBuys ? -op.offsetTicks : op.offsetTicks);
  const order = (account: Signer, isBuy: boolean, kind: OrderKind, q: bigint, reduceOnly: boolean): OrderParams => ({
    seriesId: r.seriesId,
    account: account.address,
    isBuy,
    kind,
    reduceOnly,
    tick,
    qty: q,
    expiresAt: 0n,
    maxFills: 50n,
  });
  await place(r, maker, order(maker, makerBuys, OrderKind.Limit, qty, false), at);
  const resting = r.book
    .openOrderIdsOf(maker.address)
    .map((id) => r.book.orderOf(id))
    .filter((o) => o !== undefined && o.tick === tick && o.isBuy === makerBuys);
  const last = resting.at(-1);
  if (last === undefined) return;
  const at2 = nextTime(r, 1n);
  r.clock.advanceTo(at2);
  const takerQty = op.mode === "close" ? qty : last.qty;
  await place(r, taker, order(taker, !makerBuys, OrderKind.ImmediateOrCancel, takerQty, op.mode === "close"), at2);
}

/** How the legs of a deleveraging are drawn: ranked off chain (profit first), or deliberately wrong. */
export type LegsMode =
  | "ranked"
  | "reversed"
  | "everyone"
  | "sameSide"
  | "notInProfit"
  | "incomplete"
  | "self"
  | "duplicate"
  | "empty"
  | "badSeries";

export function insertAt<T>(items: T[], pick: number, item: T): T[] {
  const at = pick % (items.length + 1);
  return [...items.slice(0, at), item, ...items.slice(at)];
}

/**
 * The legs of deleveraging `account`: the opposite positions in profit at the mark, largest unrealized profit
 * first, until they cover its size ("ranked"); or a deliberately bad variant.
 */
export function deleverageLegs(r: Run, account: string, mode: LegsMode, pick: number): BookDeleverageLeg[] {
  const env = blockEnv(r);
  const sizeIn = (a: string, seriesId: bigint) => r.book.positionOf(a, seriesId).sizeQty;
  const pnlIn = (a: string, seriesId: bigint) => {
    const p = r.book.positionOf(a, seriesId);
    const markX18 = r.book.markPrice(env, seriesId);
    return unrealizedPnlX18(p.sizeQty, p.openNotionalX18, markX18, r.book.specOf(seriesId).contractMultiplier);
  };
  const leg = (counterparty: string, seriesId = r.seriesId): BookDeleverageLeg => ({ counterparty, seriesId });
  const others = accounts(r).filter((a) => a !== account);
  const oppositeIn = (seriesId: bigint) => {
    const size = sizeIn(account, seriesId);
    return others.filter((a) => sizeIn(a, seriesId) !== 0n && size !== 0n && sizeIn(a, seriesId) > 0n !== size > 0n);
  };
  /** Ranked legs of one series: profitable opposite positions, largest profit first, until they cover the size. */
  const rankedIn = (seriesId: bigint): BookDeleverageLeg[] => {
    const pnl = (a: string) => pnlIn(a, seriesId);
    const profitable = oppositeIn(seriesId)
      .filter((a) => pnl(a) > 0n)
      .sort((a, b) => (pnl(a) > pnl(b) ? -1 : pnl(a) < pnl(b) ? 1 : 0));
    const legs: BookDeleverageLeg[] = [];
    let left = abs(sizeIn(account, seriesId));
    for (const a of profitable) {
      if (left === 0n) break;
      legs.push(leg(a, seriesId));
      const c = abs(sizeIn(a, seriesId));
      left -= c < left ? c : left;
    }
    return legs;
  };
  // Every series of the run, in order: a bankrupt account must close all of them.
  const ranked = r.seriesIds.flatMap(rankedIn);
  const size = sizeIn(account, r.seriesId);
  const sizeOf = (a: string) => sizeIn(a, r.seriesId);
  const opposite = oppositeIn(r.seriesId);
  const pnlOf = (a: string) => pnlIn(a, r.seriesId);
  const sameSide = others.filter((a) => sizeOf(a) === 0n || sizeOf(a) > 0n === size > 0n);
  const losing = opposite.filter((a) => pnlOf(a) <= 0n);
  const badSeries = [0n, 99n, r.seriesId === 1n ? 2n : 1n][pick % 3];
  switch (mode) {
    case "ranked":
      return ranked;
    case "reversed":
      return [...ranked].reverse();
    case "everyone":
      return opposite.map((a) => leg(a));
    case "sameSide":
      return insertAt(ranked, pick, leg(sameSide.length > 0 ? sameSide[pick % sameSide.length] : others[0]));
    case "notInProfit":
      return losing.length > 0 ? insertAt(ranked, pick, leg(losing[pick % losing.length])) : ranked;
    case "incomplete":
      return ranked.slice(0, -1);
    case "self":
      return insertAt(ranked, pick, leg(account));
    case "duplicate":
      return ranked.length > 0 ? [...ranked, ranked[pick % ranked.length]] : ranked;
    case "empty":
      return [];
    case "badSeries":
      return insertAt(ranked, pick, leg(others[pick % others.length], badSeries));
  }
}

/** The account a deleveraging goes after: bankrupt beyond the fund (holders first), then in deficit, else anyone. */
export function deleverageTarget(r: Run, bankruptFirst: boolean, index: number): string {
  const env = blockEnv(r);
  const all = accounts(r);
  const equityOf = (a: string) => r.book.accountHealth(env, a).equityX18;
  if (bankruptFirst) {
    const beyond = all.filter((a) => equityOf(a) < 0n && -equityOf(a) > r.book.insuranceFundX18);
    // Holders first: a flat account in deficit is coverDeficit's (deleveraging it has no legs to close).
    const holding = beyond.filter((a) => r.seriesIds.some((id) => r.book.positionOf(a, id).sizeQty !== 0n));
    if (holding.length > 0) return holding[index % holding.length];
    if (beyond.length > 0) return beyond[index % beyond.length];
    const negative = all.filter((a) => equityOf(a) < 0n);
    if (negative.length > 0) return negative[index % negative.length];
  }
  return all[index % all.length];
}

/** The account a deficit cover goes after: flat with negative cash first, then negative cash, else anyone. */
export function deficitTarget(r: Run, index: number): string {
  const all = accounts(r);
  const flat = (a: string) => r.seriesIds.every((id) => r.book.positionOf(a, id).sizeQty === 0n);
  const flatNegative = all.filter((a) => r.book.cashOf(a) < 0n && flat(a));
  if (flatNegative.length > 0) return flatNegative[index % flatNegative.length];
  const negative = all.filter((a) => r.book.cashOf(a) < 0n);
  if (negative.length > 0) return negative[index % negative.length];
  return all[index % all.length];
}

// ---------------------------------------------------------------------------------------------

/**
 * About all the free margin of `account` in contracts (at most its position limit), so that a fill leaves it
 * near initial margin and a later oracle move can push it below maintenance.
 */
export function qtyToMargin(r: Run, account: string): bigint {
  const env = blockEnv(r);
  const health = r.book.accountHealth(env, account);
  const risk = r.book.riskOf(r.seriesId);
  const perContractX18 =
    (r.book.markPrice(env, r.seriesId) *
      r.book.specOf(r.seriesId).contractMultiplier *
      (risk.imBps + 3n * risk.takerFeeBps)) /
      10_000n +
    1n;
  const qty = (health.equityX18 - health.initialMarginX18) / perContractX18;
  const lot = r.book.specOf(r.seriesId).minQty;
  const capped = ((qty < risk.positionLimitQty ? qty : risk.positionLimitQty) / lot) * lot;
  return capped > 0n ? capped : lot;
}

export function markTick(r: Run): bigint {
  return r.book.markPrice(blockEnv(r), r.seriesId) / r.book.specOf(r.seriesId).tickSizeX18;
}
