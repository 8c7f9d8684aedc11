/**
 * The run: profile flags, the chain and the models, sending a transaction, and the checks after every step.
 * Part of the order book and system campaigns (see test/invariant/System.campaign.test.ts).
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { encodeBytes32String } from "ethers";
import type { BaseContract, ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { BookSettlementStatus, CancelReason, MAX_TICK, OrderBookModel, riskParamsOf } from "../../../sdk";
import type {
  BlockEnv,
  BookEvent,
  BookOutcome,
  BookRiskParams,
  BookSeriesSpec,
  CallEnv,
  OracleReading,
} from "../../../sdk";
import type { ClearinghouseHarness, IndexOracle, MockERC20 } from "../../../typechain-types";
import { aitRisk, aitSpec } from "../../fixtures/clearinghouse";
import type { ClearinghouseFixture } from "../../fixtures/clearinghouse";
import { ClearinghouseModel, replacer } from "../../model/ClearinghouseModel";
import type { ModelConfig } from "../../model/ClearinghouseModel";

// ---------------------------------------------------------------------------------------------
// Profile and replay
// ---------------------------------------------------------------------------------------------

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${raw}`);
  return value;
}

export const SEED = envInt("OB_SEED", 20_260_515);
/** Runs of the liquidation profile with 6-decimal collateral (18 decimals run half as many). */
export const LIQUIDATION_RUNS = envInt("OB_LQ_RUNS", 12);
/** Random operations per run of the liquidation profile (several steps each: shocks, levers). */
export const LIQUIDATION_STEPS = envInt("OB_LQ_STEPS", 100);
export const PATH = process.env.OB_PATH;
export const STATS = process.env.OB_STATS === "1";
/** OB_DEBUG=1 prints every step as it runs, the model's prediction and the book after it. */
export const DEBUG = process.env.OB_DEBUG === "1";
export const outcomeCounts = new Map<string, number>();

export const HOUR = 3_600n;
export const DAY = 86_400n;
export const GAS_LIMIT = 15_000_000n;
/** Random operations stay this long before expiry. */
export const HORIZON_BEFORE_EXPIRY = DAY;
/** Events of the clearinghouse the model emits (others, like Paused, are not compared). */
export const MODELLED_EVENTS = new Set<string>([
  "OrderPlaced",
  "OrderFilled",
  "OrderCancelled",
  "TakerOrderFilled",
  "BasisSampled",
  "Deposited",
  "Withdrawn",
  "OperatorSet",
  "Liquidated",
  "DeficitResolved",
  "Deleveraged",
  "InsuranceContributed",
  "SettlementProposed",
  "SettlementChallenged",
  "SettlementGoverned",
  "AccountSettled",
  "InsuranceWithdrawn",
]);

// ---------------------------------------------------------------------------------------------
// A run: the chain, the models and the test's own token ledger
// ---------------------------------------------------------------------------------------------

export type Signer = ClearinghouseFixture["alice"];

export interface Run {
  ch: ClearinghouseHarness;
  token: MockERC20;
  oracle: IndexOracle;
  reporters: ClearinghouseFixture["reporters"];
  chAddress: string;
  decimals: number;
  admin: Signer;
  guardian: Signer;
  /** alice, bob, carol: the trading accounts. */
  traders: Signer[];
  /** dave: alice's operator, a stranger to bob and carol. */
  operator: Signer;
  names: Map<string, string>;
  book: OrderBookModel;
  /** Oracle and clock (publish, latest round, staleness, TWAP). */
  clock: ClearinghouseModel;
  /** The series the current step acts on (one of `seriesIds`). */
  seriesId: bigint;
  /** Every series of the run (one, or three sharing the feed and expiry); checked after every step. */
  seriesIds: bigint[];
  scale: bigint;
  horizon: bigint;
  vaultRaw: bigint;
  donationsRaw: bigint;
  /** Deposits - withdrawals, 18 decimals. */
  inflowX18: bigint;
  /** Ids that rested once and no longer do (for cancels and replaces of gone orders). */
  goneOrderIds: bigint[];
  /** Accounts allowed to change cash or position in the current step (item 25). */
  mayChange: Set<string>;
  /** Cash and position of every account after the previous step (item 25). */
  seen: Map<string, { cash: bigint; positions: bigint[][] }>;
  /** Order ids named by the events of the current step (checked with orderOf afterwards). */
  touchedOrderIds: Set<bigint>;
  /** How often each operation succeeded or reverted with each error, and each event (see `count`). */
  outcomes: Map<string, number>;
  /** Operations left before the guardian lifts a pause. */
  pausedSteps: number;
  trace: string[];
  step: number;
}

export const configCache = new Map<string, ModelConfig>();

/** The clock model's configuration (read once per fixture; the fixture published one round). */
export async function clockConfig(f: ClearinghouseFixture, seriesId: bigint): Promise<ModelConfig> {
  const key = `${f.decimals}:${await f.clearinghouse.getAddress()}:${seriesId}`;
  const cached = configCache.get(key);
  // Listing a series takes a block: the clock starts at the latest block, cached or not.
  if (cached !== undefined) return { ...structuredClone(cached), now: BigInt(await time.latest()) };
  const ch = f.clearinghouse;
  const spec = await ch.seriesSpec(seriesId);
  const risk = await ch.riskParams(seriesId);
  const feed = await f.oracle.feedConfig(spec.feedId);
  const [indexX18, observedAt, roundId] = await f.oracle.peekLatest(spec.feedId);
  expect(roundId, "fixture: one oracle round before the model starts").to.equal(1n);
  expect(await f.token.balanceOf(await ch.getAddress()), "fixture: empty vault").to.equal(0n);
  const config: ModelConfig = {
    decimals: f.decimals,
    clearinghouse: await ch.getAddress(),
    spec: {
      seriesId,
      feedId: spec.feedId,
      expiry: spec.expiry,
      averagingWindowSec: spec.averagingWindowSec,
      methodologyVersion: spec.methodologyVersion,
      minSettlementRounds: spec.minSettlementRounds,
      contractMultiplier: spec.contractMultiplier,
      tickSizeX18: spec.tickSizeX18,
      minQty: spec.minQty,
      feedMaxAgeSec: feed.params.maxAgeSec,
      feedJumpGuardBps: feed.params.jumpGuardBps,
      feedMinIntervalSec: feed.params.minIntervalSec,
    },
    risk: riskParamsOf(risk),
    disputeWindowSec: await ch.disputeWindowSec(),
    insuranceFeeShareBps: await ch.insuranceFeeShareBps(),
    now: BigInt(await time.latest()),
    rounds: [{ observedAt, priceX18: indexX18 }],
    wallets: {},
  };
  configCache.set(key, config);
  return structuredClone(config);
}

/**
 * A second series with odd terms: tick 0.001 + 7 wei, multiplier 999, lot 2. Its notionals are not round, so
 * fees, rebates and the insurance split round (the fixture series' notionals are multiples of 10^18).
 */
export async function listOddSeries(f: ClearinghouseFixture): Promise<bigint> {
  return listSeriesLike(f, "AIT-ODD", 1_000_000_000_000_007n, 999n, 2n);
}

/** Lists a series on the fixture's feed and expiry with the given terms; returns its id (the next one). */
async function listSeriesLike(
  f: ClearinghouseFixture,
  symbol: string,
  tickSizeX18: bigint,
  contractMultiplier: bigint,
  minQty: bigint,
): Promise<bigint> {
  const spec = aitSpec(f.expiry, { symbol: encodeBytes32String(symbol), tickSizeX18, contractMultiplier, minQty });
  await (await f.clearinghouse.connect(f.admin).listSeries(spec, aitRisk())).wait();
  return await f.clearinghouse.seriesCount();
}

/** The model's terms of a series, from the clock model's configuration. */
function bookSeriesOf(config: ModelConfig): { spec: BookSeriesSpec; risk: BookRiskParams } {
  return {
    spec: {
      seriesId: config.spec.seriesId,
      expiry: config.spec.expiry,
      averagingWindowSec: config.spec.averagingWindowSec,
      contractMultiplier: config.spec.contractMultiplier,
      tickSizeX18: config.spec.tickSizeX18,
      minQty: config.spec.minQty,
    },
    risk: config.risk,
  };
}

/**
 * Two more series beside the fixture's, on its feed and expiry: the odd series (see `listOddSeries`) and a
 * third with a tick of 0.005, multiplier 10 and lot 1. Returns the three series ids.
 */
export async function listThreeSeries(f: ClearinghouseFixture): Promise<bigint[]> {
  const odd = await listOddSeries(f);
  const ten = await listSeriesLike(f, "AIT-TEN", 5_000_000_000_000_000n, 10n, 1n);
  return [f.seriesId, odd, ten];
}

/**
 * A run over `seriesIds` (the first is the clock's and the first current series). Several series must
 * share the first one's feed, expiry and averaging window: the oracle reading and settlement data are the
 * clock model's.
 */
export async function setUp(f: ClearinghouseFixture, seriesIds: bigint | readonly bigint[] = f.seriesId): Promise<Run> {
  const ids = typeof seriesIds === "bigint" ? [seriesIds] : [...seriesIds];
  const configs = await Promise.all(ids.map((id) => clockConfig(f, id)));
  const config = configs[0];
  for (const other of configs.slice(1)) {
    expect(
      [other.spec.feedId, other.spec.expiry, other.spec.averagingWindowSec, other.spec.methodologyVersion],
      "harness: the series of a run share the feed, expiry, window and methodology",
    ).to.deep.equal([
      config.spec.feedId,
      config.spec.expiry,
      config.spec.averagingWindowSec,
      config.spec.methodologyVersion,
    ]);
  }
  const clock = new ClearinghouseModel(config);
  const [first, ...more] = configs.map(bookSeriesOf);
  const book = new OrderBookModel({
    ...first,
    moreSeries: more,
    insuranceFeeShareBps: config.insuranceFeeShareBps,
    collateralDecimals: f.decimals,
    seriesCount: ids.reduce((max, id) => (id > max ? id : max), 0n),
    settlementRules: {
      disputeWindowSec: config.disputeWindowSec,
      governanceGraceSec: await f.clearinghouse.governanceGraceSec(),
      methodologyVersion: config.spec.methodologyVersion,
      minSettlementRounds: config.spec.minSettlementRounds,
      feedMaxAgeSec: config.spec.feedMaxAgeSec,
    },
  });
  const traders = [f.alice, f.bob, f.carol];
  const names = new Map<string, string>();
  ["alice", "bob", "carol", "dave"].forEach((name, i) => names.set([...traders, f.stranger][i].address, name));
  return {
    ch: f.clearinghouse,
    token: f.token,
    oracle: f.oracle,
    reporters: f.reporters,
    chAddress: config.clearinghouse,
    decimals: f.decimals,
    admin: f.admin,
    guardian: f.guardian,
    traders,
    operator: f.stranger,
    names,
    book,
    clock,
    seriesId: ids[0],
    seriesIds: ids,
    scale: 10n ** BigInt(18 - f.decimals),
    horizon: config.spec.expiry - HORIZON_BEFORE_EXPIRY,
    vaultRaw: 0n,
    donationsRaw: 0n,
    inflowX18: 0n,
    goneOrderIds: [],
    mayChange: new Set(),
    seen: new Map(),
    touchedOrderIds: new Set(),
    outcomes: new Map(),
    pausedSteps: 0,
    trace: [],
    step: 0,
  };
}

export function nameOf(r: Run, address: string): string {
  return r.names.get(address) ?? address;
}

export function accounts(r: Run): string[] {
  return [...r.traders, r.operator].map((s) => s.address);
}

/** The oracle as the clearinghouse reads it now (from the clock model). */
export function oracleReading(r: Run): OracleReading {
  const clock = r.clock;
  const { priceX18, observedAt } = clock.latestRound();
  const expiry = clock.spec.expiry;
  const observedUntil = observedAt < expiry ? observedAt : expiry;
  let windowAverageX18 = 0n;
  if (observedUntil > clock.windowStart) {
    const twap = clock.oracleTwap(clock.windowStart, observedUntil);
    if (twap.ok) windowAverageX18 = twap.value.twapX18;
  }
  return { indexX18: priceX18, observedAt, stale: clock.indexStale(), windowAverageX18 };
}

export function blockEnv(r: Run): BlockEnv {
  return { nowSec: r.clock.now, oracle: oracleReading(r) };
}

export function callEnv(r: Run, sender: Signer): CallEnv {
  return { ...blockEnv(r), sender: sender.address };
}

/** Block time of the next operation: `gap` later, but random operations stop at the horizon. */
export function nextTime(r: Run, gap: bigint, minGap = 1n): bigint {
  const target = r.clock.now + gap;
  if (target <= r.horizon) return target;
  const floor = r.clock.now + minGap;
  return floor > r.horizon ? floor : r.horizon;
}

export function describeError(e: { name: string; args: unknown[] }): string {
  return `${e.name}(${e.args.map((a) => JSON.stringify(a, replacer)).join(", ")})`;
}

/** Counts an outcome ("placeOrder: ok", "placeOrder: InsufficientMargin", "  event OrderCancelled Expired"). */
export function count(r: Run, key: string): void {
  r.outcomes.set(key, (r.outcomes.get(key) ?? 0) + 1);
  if (STATS) outcomeCounts.set(key, (outcomeCounts.get(key) ?? 0) + 1);
}

export function countOutcome(r: Run, label: string, expected: { ok: boolean; error?: { name: string } }): void {
  const operation = /t=\d+ (\w+)/.exec(label)?.[1] ?? "?";
  count(r, `${operation}: ${expected.ok ? "ok" : expected.error?.name}`);
}

export function countEvents(r: Run, events: readonly BookEvent[]): void {
  for (const e of events) {
    const reason = e.name === "OrderCancelled" ? ` ${CANCEL_REASON_NAMES[e.reason]}` : "";
    count(r, `  event ${e.name}${reason}`);
  }
}

export const CANCEL_REASON_NAMES = Object.fromEntries(Object.entries(CancelReason).map(([k, v]) => [v, k]));

// ---------------------------------------------------------------------------------------------
// Sending a transaction and comparing it with the model
// ---------------------------------------------------------------------------------------------

/** A model event as the chain's parsed log reads it (enums as bigint). */
export function normalizedModelEvent(event: BookEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).map(([k, v]) => [k, typeof v === "number" ? BigInt(v) : v]));
}

export function chainEvents(r: Run, receipt: ContractTransactionReceipt): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const log of receipt.logs) {
    if (log.address !== r.chAddress) continue;
    const parsed = r.ch.interface.parseLog(log);
    if (parsed === null || !MODELLED_EVENTS.has(parsed.name)) continue;
    const args = parsed.args.toObject() as Record<string, unknown>;
    events.push({ name: parsed.name, ...args });
  }
  return events;
}

export function orderIdsOfEvents(events: readonly BookEvent[]): bigint[] {
  const ids: bigint[] = [];
  for (const e of events) {
    if (e.name === "OrderPlaced" || e.name === "OrderCancelled") ids.push(e.orderId);
    if (e.name === "OrderFilled") ids.push(e.makerOrderId);
  }
  return ids;
}

/** Sends a transaction the model expects to revert with `error` (name and arguments) from `contract`'s ABI. */
export async function expectRevert(
  label: string,
  contract: BaseContract,
  error: { name: string; args: unknown[] },
  send: () => Promise<ContractTransactionResponse>,
): Promise<void> {
  try {
    await expect(send())
      .to.be.revertedWithCustomError(contract, error.name)
      .withArgs(...error.args);
  } catch (cause) {
    throw new Error(`${label}: the model predicted revert ${describeError(error)}: ${(cause as Error).message}`);
  }
}

/**
 * Sends a transaction at block time `at` and checks it against the model's prediction: the same custom
 * error and arguments, or success with the same events in the same order (the fills first, on their own).
 * @param actors Accounts the operation may change as the acting account (item 25); makers come from the fills.
 */
export async function transact<T>(
  r: Run,
  label: string,
  at: bigint,
  expected: BookOutcome<T>,
  send: () => Promise<ContractTransactionResponse>,
  actors: string[],
  expectedToken?: { name: string; args: unknown[] },
): Promise<void> {
  await time.setNextBlockTimestamp(at);
  countOutcome(r, label, expectedToken !== undefined ? { ok: false, error: expectedToken } : expected);
  r.mayChange = new Set();
  r.touchedOrderIds = new Set();
  if (DEBUG) {
    const summary = expected.ok ? expected.events.map((e) => e.name).join(",") : describeError(expected.error);
    console.log(`    -> ${expectedToken?.name ?? summary}`);
  }
  if (expectedToken !== undefined) return expectRevert(label, r.token, expectedToken, send);
  if (!expected.ok) return expectRevert(label, r.ch, expected.error, send);
  let receipt: ContractTransactionReceipt | null;
  try {
    receipt = await (await send()).wait();
  } catch (error) {
    throw new Error(`${label}: the model predicted success but the chain reverted: ${(error as Error).message}`);
  }
  if (receipt === null || receipt.status !== 1) throw new Error(`${label}: no successful receipt`);
  countEvents(r, expected.events);
  const onChain = chainEvents(r, receipt);
  const modelled = expected.events.map(normalizedModelEvent);
  expect(
    onChain.filter((e) => e.name === "OrderFilled"),
    `fills (OrderFilled events) equal the model's fills in ${label}`,
  ).to.deep.equal(modelled.filter((e) => e.name === "OrderFilled"));
  expect(onChain, `events equal the model's events in ${label}`).to.deep.equal(modelled);
  r.mayChange = new Set(actors);
  for (const e of expected.events) if (e.name === "OrderFilled") r.mayChange.add(e.maker);
  r.touchedOrderIds = new Set(orderIdsOfEvents(expected.events));
  for (const id of r.touchedOrderIds) {
    if (r.book.orderOf(id) === undefined && !r.goneOrderIds.includes(id)) r.goneOrderIds.push(id);
  }
  if (r.goneOrderIds.length > 24) r.goneOrderIds.splice(0, r.goneOrderIds.length - 24);
}

// ---------------------------------------------------------------------------------------------
// Checks after every step
// ---------------------------------------------------------------------------------------------

export async function chainTicks(r: Run, isBuy: boolean, seriesId: bigint = r.seriesId): Promise<bigint[]> {
  const ticks: bigint[] = [];
  let from = isBuy ? MAX_TICK : 0n;
  for (let guard = 0; guard < 500; guard++) {
    const [tick, found] = await r.ch.nextActiveTick(seriesId, isBuy, from);
    if (!found) return ticks;
    ticks.push(tick);
    if (isBuy && tick === 0n) return ticks;
    from = isBuy ? tick - 1n : tick + 1n;
  }
  throw new Error("harness: more than 500 levels on one side");
}

/** D.17 and A.3 for one side of a series: active ticks, each level's FIFO queue, its qty and count, every order. */
export async function checkSide(r: Run, isBuy: boolean, at: string, seriesId: bigint = r.seriesId): Promise<bigint[]> {
  const side = `${isBuy ? "bids" : "asks"} of series ${seriesId}`;
  const ticks = await chainTicks(r, isBuy, seriesId);
  expect(ticks, `A.3 aggregates: active ticks of the ${side} (nextActiveTick) ${at}`).to.deep.equal(
    r.book.activeTicks(isBuy, seriesId),
  );
  await Promise.all(
    ticks.map(async (tick) => {
      const level = await r.ch.levelOf(seriesId, isBuy, tick);
      const where = `${side} level ${tick} ${at}`;
      const model = r.book.levelOf(isBuy, tick, seriesId);
      expect([level.qty, level.orderCount, level.headOrderId], `A.3 aggregates: levelOf ${where}`).to.deep.equal([
        model.qty,
        model.orderCount,
        model.headOrderId,
      ]);
      const ids: bigint[] = [];
      for (let id = level.headOrderId; id !== 0n && ids.length <= Number(level.orderCount);) {
        ids.push(id);
        id = await r.ch.nextOrderIdOf(id);
      }
      expect(ids, `D.17 FIFO: queue from headOrderId via nextOrderIdOf ${where}`).to.deep.equal(
        r.book.levelOrderIds(isBuy, tick, seriesId),
      );
      expect(BigInt(ids.length), `D.17 FIFO: orderCount = orders in the queue ${where}`).to.equal(level.orderCount);
      const orders = await Promise.all(ids.map((id) => r.ch.orderOf(id)));
      const sum = orders.reduce((total, o) => total + o.qty, 0n);
      expect(sum, `D.17 level qty = sum of its orders ${where}`).to.equal(level.qty);
      const lot = r.book.specOf(seriesId).minQty;
      for (const o of orders) {
        expect(
          [o.seriesId, o.isBuy, o.tick],
          `D.17 order ${o.orderId} sits in its own series, side and tick ${where}`,
        ).to.deep.equal([seriesId, isBuy, tick]);
        expect(o.qty % lot, `11 no resting order off the lot grid: order ${o.orderId} ${where}`).to.equal(0n);
        // A.4: every account's open order is in a level (checked in checkSeries), so each is compared here.
        expect(
          {
            orderId: o.orderId,
            account: o.account,
            seriesId: o.seriesId,
            isBuy: o.isBuy,
            reduceOnly: o.reduceOnly,
            tick: o.tick,
            qty: o.qty,
            expiresAt: o.expiresAt,
          },
          `A.4 model: orderOf ${o.orderId} of ${nameOf(r, o.account)} ${where}`,
        ).to.deep.equal(r.book.orderOf(o.orderId));
      }
    }),
  );
  return ticks;
}

/** One account's state in one series, as the chain reports it. */
async function chainSeriesState(r: Run, address: string, seriesId: bigint) {
  const ch = r.ch;
  const [position, exposure, openIds] = await Promise.all([
    ch.positionOf(address, seriesId),
    ch.exposureOf(address, seriesId),
    ch.openOrderIdsOf(address, seriesId),
  ]);
  return { seriesId, position, exposure, openIds };
}

type ChainSeriesState = Awaited<ReturnType<typeof chainSeriesState>>;

/** A.2, A.3, 11 and D.17 for one series: zero-sum, its aggregates, the lot grid, the book. */
async function checkSeries(
  r: Run,
  seriesId: bigint,
  perAccount: { address: string; series: ChainSeriesState[] }[],
  env: BlockEnv,
  at: string,
): Promise<void> {
  const ch = r.ch;
  const book = r.book;
  const of = `of series ${seriesId} ${at}`;
  const [market, mark, settlement] = await Promise.all([
    ch.marketState(seriesId),
    ch.markPrice(seriesId),
    ch.settlementOf(seriesId),
  ]);
  const states = perAccount.map((a) => ({ address: a.address, ...a.series.find((s) => s.seriesId === seriesId)! }));

  // A.2 zero-sum.
  const longs = states.reduce((sum, a) => sum + (a.position.sizeQty > 0n ? a.position.sizeQty : 0n), 0n);
  const shorts = states.reduce((sum, a) => sum + (a.position.sizeQty < 0n ? -a.position.sizeQty : 0n), 0n);
  // Once the settlement is final, positions close one account at a time: open interest is the longs left.
  const modelSettlement = book.settlementOf(env, seriesId);
  if (modelSettlement.status !== BookSettlementStatus.Final) {
    expect(longs, `A.2 zero-sum: sum of longs = sum of shorts ${of}`).to.equal(shorts);
  }
  expect(
    {
      status: settlement.status,
      governed: settlement.governed,
      finalAt: settlement.finalAt,
      priceX18: settlement.priceX18,
    },
    `A.3 aggregates: settlementOf ${of}`,
  ).to.deep.equal(modelSettlement);
  expect(market.openInterestQty, `A.2 zero-sum: open interest = sum of longs ${of}`).to.equal(longs);
  const lot = book.specOf(seriesId).minQty;
  for (const a of states) {
    const who = `${nameOf(r, a.address)} ${of}`;
    expect(a.position.sizeQty % lot, `11 no position off the lot grid: ${who}`).to.equal(0n);
  }

  // A.3 stored aggregates.
  const ms = book.marketState(seriesId);
  expect(market.openInterestQty, `A.3 aggregates: open interest ${of}`).to.equal(ms.openInterestQty);
  expect(
    [market.basisEmaX18, market.lastBasisSampleX18, market.lastBasisSampleAt],
    `A.3 aggregates: basis EMA, last sample and its time ${of}`,
  ).to.deep.equal([ms.basisEmaX18, ms.lastBasisSampleX18, ms.lastBasisSampleAt]);
  expect(mark, `A.3 aggregates: markPrice ${of}`).to.equal(book.markPrice(env, seriesId));

  // A.3 exposures and A.4 positions and orders.
  for (const a of states) {
    const who = `${nameOf(r, a.address)} ${of}`;
    const exposure = book.exposureOf(a.address, seriesId);
    expect(
      [a.exposure.buyQty, a.exposure.sellQty, a.exposure.buyTickQty, a.exposure.sellTickQty],
      `A.3 aggregates: exposureOf sums ${who}`,
    ).to.deep.equal([exposure.buyQty, exposure.sellQty, exposure.buyTickQty, exposure.sellTickQty]);
    expect(
      [a.exposure.openOrders, a.exposure.sequence],
      `A.3 aggregates: exposureOf openOrders, sequence ${who}`,
    ).to.deep.equal([exposure.openOrders, exposure.sequence]);
    const position = book.positionOf(a.address, seriesId);
    expect([a.position.sizeQty, a.position.openNotionalX18], `A.4 model: positionOf ${who}`).to.deep.equal([
      position.sizeQty,
      position.openNotionalX18,
    ]);
    expect([...a.openIds], `A.4 model: openOrderIdsOf ${who}`).to.deep.equal(book.openOrderIdsOf(a.address, seriesId));
  }

  // D.17 the book: levels, FIFO, never crossed.
  const [bids, asks] = await Promise.all([checkSide(r, true, at, seriesId), checkSide(r, false, at, seriesId)]);
  if (bids.length > 0 && asks.length > 0) {
    expect(bids[0] < asks[0], `D.17 never crossed: best bid ${bids[0]} < best ask ${asks[0]} ${of}`).to.equal(true);
  }
  const idsInLevels = [
    ...bids.map((t) => book.levelOrderIds(true, t, seriesId)),
    ...asks.map((t) => book.levelOrderIds(false, t, seriesId)),
  ]
    .flat()
    .sort((x, y) => (x < y ? -1 : 1));
  const idsOfAccounts = states.flatMap((a) => [...a.openIds]).sort((x, y) => (x < y ? -1 : 1));
  expect(idsOfAccounts, `A.4 model: the open orders of the accounts are the orders of the levels ${of}`).to.deep.equal(
    idsInLevels,
  );
}

export async function checkInvariants(r: Run, label: string): Promise<void> {
  const ch = r.ch;
  const env = blockEnv(r);
  const book = r.book;
  const at = `after ${label}`;
  const [latest, balanceRaw, insurance, feePool, perAccount] = await Promise.all([
    time.latest(),
    r.token.balanceOf(r.chAddress),
    ch.insuranceFundX18(),
    ch.feePoolX18(),
    Promise.all(
      accounts(r).map(async (address) => {
        const [cash, health, seriesSet, series] = await Promise.all([
          ch.cashOf(address),
          ch.accountHealth(address),
          ch.seriesOf(address),
          Promise.all(r.seriesIds.map((id) => chainSeriesState(r, address, id))),
        ]);
        return { address, cash, health, seriesSet, series };
      }),
    ),
  ]);
  expect(BigInt(latest), `harness: block time ${at}`).to.equal(r.clock.now);

  // A.1 conservation.
  const cashSum = perAccount.reduce((sum, a) => sum + a.cash, 0n);
  const equitySum = perAccount.reduce((sum, a) => sum + a.health.equityX18, 0n);
  const openSize = perAccount.some((a) => a.series.some((s) => s.position.sizeQty !== 0n));
  const donationsX18 = r.donationsRaw * r.scale;
  expect(balanceRaw, `A.1 conservation: vault token balance ${at}`).to.equal(r.vaultRaw);
  expect(
    balanceRaw * r.scale,
    `A.1 conservation: balance x 10^(18-d) = sum of equity + insurance + fee pool + donations ${at}`,
  ).to.equal(equitySum + insurance + feePool + donationsX18);
  if (!openSize) {
    expect(
      balanceRaw * r.scale,
      `A.1 conservation (flat book): balance x 10^(18-d) = sum of cash + insurance + fee pool + donations ${at}`,
    ).to.equal(cashSum + insurance + feePool + donationsX18);
  }
  expect(
    equitySum + insurance + feePool,
    `A.1 conservation: sum of equity + insurance + fee pool = deposits - withdrawals ${at}`,
  ).to.equal(r.inflowX18);
  expect(insurance >= 0n && book.insuranceFundX18 >= 0n, `A.3 the insurance fund is never negative ${at}`).to.equal(
    true,
  );
  expect(insurance, `A.3 aggregates: insurance fund ${at}`).to.equal(book.insuranceFundX18);
  expect(feePool, `A.3 aggregates: fee pool ${at}`).to.equal(book.feePoolX18);

  // A.4 account state across series.
  for (const a of perAccount) {
    if (r.seriesIds.length > 1 && a.seriesSet.length > 1) count(r, `account in ${a.seriesSet.length} series`);
    const who = `${nameOf(r, a.address)} ${at}`;
    expect(a.cash, `A.4 model: cashOf ${who}`).to.equal(book.cashOf(a.address));
    expect([...a.seriesSet], `A.4 model: seriesOf (the series set, lane order) ${who}`).to.deep.equal(
      book.seriesOf(a.address),
    );
    const h = book.accountHealth(env, a.address);
    expect(
      {
        cashX18: a.health.cashX18,
        unrealizedPnlX18: a.health.unrealizedPnlX18,
        equityX18: a.health.equityX18,
        initialMarginX18: a.health.initialMarginX18,
        maintenanceMarginX18: a.health.maintenanceMarginX18,
        withdrawableX18: a.health.withdrawableX18,
        orderMarginX18: a.health.orderMarginX18,
      },
      `A.4 model: accountHealth ${who}`,
    ).to.deep.equal(h);

    // 25: cash and positions change only on the account's own orders or as a maker.
    const now = {
      cash: a.cash,
      positions: a.series.map((s) => [s.position.sizeQty, s.position.openNotionalX18]),
    };
    const before = r.seen.get(a.address);
    if (before !== undefined && !r.mayChange.has(a.address)) {
      expect(now, `25 no foreign change: cash and positions of ${who}`).to.deep.equal(before);
    }
    r.seen.set(a.address, now);
  }

  for (const seriesId of r.seriesIds) await checkSeries(r, seriesId, perAccount, env, at);

  for (const id of r.touchedOrderIds) {
    if (book.orderOf(id) !== undefined) continue;
    await expect(ch.orderOf(id), `A.4 model: order ${id} no longer rests ${at}`)
      .to.be.revertedWithCustomError(ch, "OrderNotFound")
      .withArgs(id);
  }
}

/** Records a step, runs it, then checks every invariant. */
export async function step(r: Run, description: string, body: (label: string) => Promise<void>): Promise<void> {
  r.step += 1;
  const series = r.seriesIds.length > 1 ? `series ${r.seriesId} ` : "";
  const label = `step ${r.step} [${series}${description}]`;
  r.trace.push(label);
  if (DEBUG) console.log(label);
  await body(label);
  if (DEBUG) {
    const side = (isBuy: boolean) =>
      r.book.activeTicks(isBuy).map(
        (t) =>
          `${t}:${r.book
            .levelOrderIds(isBuy, t)
            .map((id) => r.book.orderOf(id)?.qty)
            .join("+")}`,
      );
    const mark = r.book.markPrice(blockEnv(r), r.seriesId) / r.book.specOf(r.seriesId).tickSizeX18;
    console.log(`    mark ${mark} bids ${side(true).join(" ")} | asks ${side(false).join(" ")}`);
  }
  await checkInvariants(r, label);
}

// ---------------------------------------------------------------------------------------------
