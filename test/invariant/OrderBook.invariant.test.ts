/**
 * Model-based random-sequence test of the order book (RELIABILITY A.1-A.4, D.17 and item 25).
 *
 * Each run drives the clearinghouse and the reference engine `OrderBookModel` (sdk/core/orderBook.ts) with
 * the same random operations: deposits, withdrawals, orders of every kind (reduce-only, good-till-time,
 * various maxFills, prices near the mark, at and beyond the band, invalid fields), orders that cross a resting
 * order of another account, cancels, cancel-all (by the owner, its operator and strangers), replaces, oracle
 * moves (the fixture's `publish`), time warps (never past expiry), pauses and token donations, on accounts
 * alice, bob and carol (dave is alice's operator). Each run draws risk parameters, the insurance fee share, a
 * start inside or before the averaging window, and the series: the fixture's AIT series or an odd one (tick
 * 0.001 + 7 wei, multiplier 999, lot 2) whose fees and insurance split round. The oracle and the clock are
 * modelled by `ClearinghouseModel` (publish, latest round, staleness, TWAP).
 *
 * The model predicts every outcome: success with the exact events (fills, cancels, placements, the basis
 * sample) or the exact custom error and its arguments (the state is then unchanged). After EVERY step:
 *   A.1 conservation: token balance = Σ equity + insurance fund + fee pool + donations (Σ cash on a flat book);
 *   A.2 zero-sum: Σ longs = Σ shorts = open interest;
 *   A.3 stored aggregates = model: levels (levelOf qty/orderCount), exposureOf, open interest, insurance
 *       fund, fee pool, market state and mark;
 *   A.4 account state = model: cashOf, positionOf, openOrderIdsOf + orderOf, accountHealth (orderMarginX18 too);
 *   D.17 the book is never crossed, every level is FIFO (nextOrderIdOf from headOrderId) and its qty is
 *        the sum of its orders;
 *   25 an account's cash and position change only on its own orders or as the maker of an order it placed.
 * A directed scenario reaches, under the same checks, the branches random runs rarely reach (32 open orders,
 * clips, expiry at its boundary, the OI cap, a pause, a stale index, an account below maintenance). Contract
 * bugs found on the way are kept at the end of the file as named regression tests.
 *
 * Profile and replay (environment): OB_SEED (default 20260515), OB_RUNS (runs with 6-decimal collateral,
 * default 8; 18 decimals run half as many), OB_STEPS (random operations per run, default 50), OB_PATH (the
 * fast-check path printed with a failure: replays that run with the same OB_SEED and OB_STEPS), OB_STATS=1
 * (prints how often each operation succeeded or reverted with each error, and each event), OB_DEBUG=1 (prints
 * every step, the model's prediction and the book after it).
 */
import { expect } from "chai";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { encodeBytes32String } from "ethers";
import type { BaseContract, ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import {
  CancelReason,
  MAX_ORDER_QTY,
  MAX_TICK,
  OrderBookModel,
  OrderKind,
  bandTicks,
  orderIdOf,
  refOf,
} from "../../sdk";
import type { BlockEnv, BookEvent, BookOutcome, BookRiskParams, CallEnv, OracleReading, OrderParams } from "../../sdk";
import type { ClearinghouseHarness, IndexOracle, MockERC20 } from "../../typechain-types";
import { AIT, aitRisk, aitSpec, deploy18, deploy6, publish, units } from "../fixtures/clearinghouse";
import type { ClearinghouseFixture } from "../fixtures/clearinghouse";
import { ClearinghouseModel, replacer } from "../model/ClearinghouseModel";
import type { ModelConfig } from "../model/ClearinghouseModel";

// ---------------------------------------------------------------------------------------------
// Profile and replay
// ---------------------------------------------------------------------------------------------

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${raw}`);
  return value;
}

const SEED = envInt("OB_SEED", 20_260_515);
const RUNS = envInt("OB_RUNS", 8);
const STEPS = envInt("OB_STEPS", 50);
const PATH = process.env.OB_PATH;
const STATS = process.env.OB_STATS === "1";
/** OB_DEBUG=1 prints every step as it runs, the model's prediction and the book after it. */
const DEBUG = process.env.OB_DEBUG === "1";
const outcomeCounts = new Map<string, number>();

const HOUR = 3_600n;
const DAY = 86_400n;
const GAS_LIMIT = 15_000_000n;
/** Random operations stay this long before expiry. */
const HORIZON_BEFORE_EXPIRY = DAY;
/** Events of the clearinghouse the model emits (others, like Paused, are not compared). */
const MODELLED_EVENTS = new Set<string>([
  "OrderPlaced",
  "OrderFilled",
  "OrderCancelled",
  "TakerOrderFilled",
  "BasisSampled",
  "Deposited",
  "Withdrawn",
  "OperatorSet",
]);

// ---------------------------------------------------------------------------------------------
// A run: the chain, the models and the test's own token ledger
// ---------------------------------------------------------------------------------------------

type Signer = ClearinghouseFixture["alice"];

interface Run {
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
  seriesId: bigint;
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
  seen: Map<string, { cash: bigint; sizeQty: bigint; openNotionalX18: bigint }>;
  /** Order ids named by the events of the current step (checked with orderOf afterwards). */
  touchedOrderIds: Set<bigint>;
  /** How often each operation succeeded or reverted with each error, and each event (see `count`). */
  outcomes: Map<string, number>;
  /** Operations left before the guardian lifts a pause. */
  pausedSteps: number;
  trace: string[];
  step: number;
}

const configCache = new Map<string, ModelConfig>();

/** The clock model's configuration (read once per fixture; the fixture published one round). */
async function clockConfig(f: ClearinghouseFixture, seriesId: bigint): Promise<ModelConfig> {
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
    risk: {
      imBps: risk.imBps,
      mmBps: risk.mmBps,
      orderBandBps: risk.orderBandBps,
      liquidationPenaltyBps: risk.liquidationPenaltyBps,
      makerFeeBps: risk.makerFeeBps,
      takerFeeBps: risk.takerFeeBps,
      positionLimitQty: risk.positionLimitQty,
      openInterestCapQty: risk.openInterestCapQty,
    },
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
async function listOddSeries(f: ClearinghouseFixture): Promise<bigint> {
  const spec = aitSpec(f.expiry, {
    symbol: encodeBytes32String("AIT-ODD"),
    tickSizeX18: 1_000_000_000_000_007n,
    contractMultiplier: 999n,
    minQty: 2n,
  });
  await (await f.clearinghouse.connect(f.admin).listSeries(spec, aitRisk())).wait();
  return f.seriesId + 1n;
}

async function setUp(f: ClearinghouseFixture, seriesId: bigint = f.seriesId): Promise<Run> {
  const config = await clockConfig(f, seriesId);
  const clock = new ClearinghouseModel(config);
  const book = new OrderBookModel({
    spec: {
      seriesId: config.spec.seriesId,
      expiry: config.spec.expiry,
      averagingWindowSec: config.spec.averagingWindowSec,
      contractMultiplier: config.spec.contractMultiplier,
      tickSizeX18: config.spec.tickSizeX18,
      minQty: config.spec.minQty,
    },
    risk: config.risk,
    insuranceFeeShareBps: config.insuranceFeeShareBps,
    collateralDecimals: f.decimals,
    seriesCount: seriesId,
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
    seriesId,
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

function nameOf(r: Run, address: string): string {
  return r.names.get(address) ?? address;
}

function accounts(r: Run): string[] {
  return [...r.traders, r.operator].map((s) => s.address);
}

/** The oracle as the clearinghouse reads it now (from the clock model). */
function oracleReading(r: Run): OracleReading {
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

function blockEnv(r: Run): BlockEnv {
  return { nowSec: r.clock.now, oracle: oracleReading(r) };
}

function callEnv(r: Run, sender: Signer): CallEnv {
  return { ...blockEnv(r), sender: sender.address };
}

/** Block time of the next operation: `gap` later, but random operations stop at the horizon. */
function nextTime(r: Run, gap: bigint, minGap = 1n): bigint {
  const target = r.clock.now + gap;
  if (target <= r.horizon) return target;
  const floor = r.clock.now + minGap;
  return floor > r.horizon ? floor : r.horizon;
}

function describeError(e: { name: string; args: unknown[] }): string {
  return `${e.name}(${e.args.map((a) => JSON.stringify(a, replacer)).join(", ")})`;
}

/** Counts an outcome ("placeOrder: ok", "placeOrder: InsufficientMargin", "  event OrderCancelled Expired"). */
function count(r: Run, key: string): void {
  r.outcomes.set(key, (r.outcomes.get(key) ?? 0) + 1);
  if (STATS) outcomeCounts.set(key, (outcomeCounts.get(key) ?? 0) + 1);
}

function countOutcome(r: Run, label: string, expected: { ok: boolean; error?: { name: string } }): void {
  const operation = /t=\d+ (\w+)/.exec(label)?.[1] ?? "?";
  count(r, `${operation}: ${expected.ok ? "ok" : expected.error?.name}`);
}

function countEvents(r: Run, events: readonly BookEvent[]): void {
  for (const e of events) {
    const reason = e.name === "OrderCancelled" ? ` ${CANCEL_REASON_NAMES[e.reason]}` : "";
    count(r, `  event ${e.name}${reason}`);
  }
}

const CANCEL_REASON_NAMES = Object.fromEntries(Object.entries(CancelReason).map(([k, v]) => [v, k]));

// ---------------------------------------------------------------------------------------------
// Sending a transaction and comparing it with the model
// ---------------------------------------------------------------------------------------------

/** A model event as the chain's parsed log reads it (enums as bigint). */
function normalizedModelEvent(event: BookEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).map(([k, v]) => [k, typeof v === "number" ? BigInt(v) : v]));
}

function chainEvents(r: Run, receipt: ContractTransactionReceipt): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const log of receipt.logs) {
    if (log.address !== r.chAddress) continue;
    const parsed = r.ch.interface.parseLog(log);
    if (parsed === null || !MODELLED_EVENTS.has(parsed.name)) continue;
    const args = parsed.args.toObject() as Record<string, unknown>;
    if ("seriesId" in args) {
      expect(args.seriesId, `event ${parsed.name} of the series`).to.equal(r.seriesId);
      delete args.seriesId;
    }
    events.push({ name: parsed.name, ...args });
  }
  return events;
}

function orderIdsOfEvents(events: readonly BookEvent[]): bigint[] {
  const ids: bigint[] = [];
  for (const e of events) {
    if (e.name === "OrderPlaced" || e.name === "OrderCancelled") ids.push(e.orderId);
    if (e.name === "OrderFilled") ids.push(e.makerOrderId);
  }
  return ids;
}

/** Sends a transaction the model expects to revert with `error` (name and arguments) from `contract`'s ABI. */
async function expectRevert(
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
async function transact<T>(
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

async function chainTicks(r: Run, isBuy: boolean): Promise<bigint[]> {
  const ticks: bigint[] = [];
  let from = isBuy ? MAX_TICK : 0n;
  for (let guard = 0; guard < 500; guard++) {
    const [tick, found] = await r.ch.nextActiveTick(r.seriesId, isBuy, from);
    if (!found) return ticks;
    ticks.push(tick);
    if (isBuy && tick === 0n) return ticks;
    from = isBuy ? tick - 1n : tick + 1n;
  }
  throw new Error("harness: more than 500 levels on one side");
}

/** D.17 and A.3 for one side: active ticks, each level's FIFO queue, its qty and count, every order. */
async function checkSide(r: Run, isBuy: boolean, at: string): Promise<bigint[]> {
  const side = isBuy ? "bids" : "asks";
  const ticks = await chainTicks(r, isBuy);
  expect(ticks, `A.3 aggregates: active ticks of the ${side} (nextActiveTick) ${at}`).to.deep.equal(
    r.book.activeTicks(isBuy),
  );
  await Promise.all(
    ticks.map(async (tick) => {
      const level = await r.ch.levelOf(r.seriesId, isBuy, tick);
      const where = `${side} level ${tick} ${at}`;
      const model = r.book.levelOf(isBuy, tick);
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
        r.book.levelOrderIds(isBuy, tick),
      );
      expect(BigInt(ids.length), `D.17 FIFO: orderCount = orders in the queue ${where}`).to.equal(level.orderCount);
      const orders = await Promise.all(ids.map((id) => r.ch.orderOf(id)));
      const sum = orders.reduce((total, o) => total + o.qty, 0n);
      expect(sum, `D.17 level qty = sum of its orders ${where}`).to.equal(level.qty);
      for (const o of orders) {
        expect([o.isBuy, o.tick], `D.17 order ${o.orderId} sits on its own side and tick ${where}`).to.deep.equal([
          isBuy,
          tick,
        ]);
      }
    }),
  );
  return ticks;
}

async function checkInvariants(r: Run, label: string): Promise<void> {
  const ch = r.ch;
  const seriesId = r.seriesId;
  const env = blockEnv(r);
  const book = r.book;
  const at = `after ${label}`;
  const [latest, balanceRaw, insurance, feePool, market, mark, perAccount] = await Promise.all([
    time.latest(),
    r.token.balanceOf(r.chAddress),
    ch.insuranceFundX18(),
    ch.feePoolX18(),
    ch.marketState(seriesId),
    ch.markPrice(seriesId),
    Promise.all(
      accounts(r).map(async (address) => {
        const [cash, position, health, exposure, openIds] = await Promise.all([
          ch.cashOf(address),
          ch.positionOf(address, seriesId),
          ch.accountHealth(address),
          ch.exposureOf(address, seriesId),
          ch.openOrderIdsOf(address, seriesId),
        ]);
        const orders = await Promise.all(openIds.map((id) => ch.orderOf(id)));
        return { address, cash, position, health, exposure, openIds, orders };
      }),
    ),
  ]);
  expect(BigInt(latest), `harness: block time ${at}`).to.equal(r.clock.now);

  // A.1 conservation.
  const cashSum = perAccount.reduce((sum, a) => sum + a.cash, 0n);
  const equitySum = perAccount.reduce((sum, a) => sum + a.health.equityX18, 0n);
  const openSize = perAccount.some((a) => a.position.sizeQty !== 0n);
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

  // A.2 zero-sum.
  const longs = perAccount.reduce((sum, a) => sum + (a.position.sizeQty > 0n ? a.position.sizeQty : 0n), 0n);
  const shorts = perAccount.reduce((sum, a) => sum + (a.position.sizeQty < 0n ? -a.position.sizeQty : 0n), 0n);
  expect(longs, `A.2 zero-sum: sum of longs = sum of shorts ${at}`).to.equal(shorts);
  expect(market.openInterestQty, `A.2 zero-sum: open interest = sum of longs ${at}`).to.equal(longs);

  // A.3 stored aggregates.
  const ms = book.marketState();
  expect(market.openInterestQty, `A.3 aggregates: open interest ${at}`).to.equal(ms.openInterestQty);
  expect(insurance, `A.3 aggregates: insurance fund ${at}`).to.equal(book.insuranceFundX18);
  expect(feePool, `A.3 aggregates: fee pool ${at}`).to.equal(book.feePoolX18);
  expect(
    [market.basisEmaX18, market.lastBasisSampleX18, market.lastBasisSampleAt],
    `A.3 aggregates: basis EMA, last sample and its time ${at}`,
  ).to.deep.equal([ms.basisEmaX18, ms.lastBasisSampleX18, ms.lastBasisSampleAt]);
  expect(mark, `A.3 aggregates: markPrice ${at}`).to.equal(book.markPrice(env));

  // A.3 exposures and A.4 account state.
  for (const a of perAccount) {
    const who = `${nameOf(r, a.address)} ${at}`;
    const exposure = book.exposureOf(a.address);
    expect(
      [a.exposure.buyQty, a.exposure.sellQty, a.exposure.buyTickQty, a.exposure.sellTickQty],
      `A.3 aggregates: exposureOf sums ${who}`,
    ).to.deep.equal([exposure.buyQty, exposure.sellQty, exposure.buyTickQty, exposure.sellTickQty]);
    expect(
      [a.exposure.openOrders, a.exposure.sequence],
      `A.3 aggregates: exposureOf openOrders, sequence ${who}`,
    ).to.deep.equal([exposure.openOrders, exposure.sequence]);
    const position = book.positionOf(a.address);
    expect(a.cash, `A.4 model: cashOf ${who}`).to.equal(book.cashOf(a.address));
    expect([a.position.sizeQty, a.position.openNotionalX18], `A.4 model: positionOf ${who}`).to.deep.equal([
      position.sizeQty,
      position.openNotionalX18,
    ]);
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
    expect([...a.openIds], `A.4 model: openOrderIdsOf ${who}`).to.deep.equal(book.openOrderIdsOf(a.address));
    for (const o of a.orders) {
      const modelOrder = book.orderOf(o.orderId);
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
        `A.4 model: orderOf ${o.orderId} ${who}`,
      ).to.deep.equal(modelOrder);
    }

    // 25: cash and position change only on the account's own orders or as a maker.
    const now = { cash: a.cash, sizeQty: a.position.sizeQty, openNotionalX18: a.position.openNotionalX18 };
    const before = r.seen.get(a.address);
    if (before !== undefined && !r.mayChange.has(a.address)) {
      expect(now, `25 no foreign change: cash and position of ${who}`).to.deep.equal(before);
    }
    r.seen.set(a.address, now);
  }

  // D.17 the book: levels, FIFO, never crossed.
  const [bids, asks] = await Promise.all([checkSide(r, true, at), checkSide(r, false, at)]);
  if (bids.length > 0 && asks.length > 0) {
    expect(bids[0] < asks[0], `D.17 never crossed: best bid ${bids[0]} < best ask ${asks[0]} ${at}`).to.equal(true);
  }
  const idsInLevels = [
    ...bids.map((t) => book.levelOrderIds(true, t)),
    ...asks.map((t) => book.levelOrderIds(false, t)),
  ]
    .flat()
    .sort((x, y) => (x < y ? -1 : 1));
  const idsOfAccounts = perAccount.flatMap((a) => [...a.openIds]).sort((x, y) => (x < y ? -1 : 1));
  expect(idsOfAccounts, `A.4 model: the open orders of the accounts are the orders of the levels ${at}`).to.deep.equal(
    idsInLevels,
  );
  for (const id of r.touchedOrderIds) {
    if (book.orderOf(id) !== undefined) continue;
    await expect(ch.orderOf(id), `A.4 model: order ${id} no longer rests ${at}`)
      .to.be.revertedWithCustomError(ch, "OrderNotFound")
      .withArgs(id);
  }
}

/** Records a step, runs it, then checks every invariant. */
async function step(r: Run, description: string, body: (label: string) => Promise<void>): Promise<void> {
  r.step += 1;
  const label = `step ${r.step} [${description}]`;
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
    const mark = r.book.markPrice(blockEnv(r)) / r.book.spec.tickSizeX18;
    console.log(`    mark ${mark} bids ${side(true).join(" ")} | asks ${side(false).join(" ")}`);
  }
  await checkInvariants(r, label);
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

async function deposit(r: Run, actor: Signer, amountRaw: bigint, at: bigint): Promise<void> {
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

async function withdraw(
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
    // The vault pays from its token balance (short only after bad debt).
    let tokenError: { name: string; args: unknown[] } | undefined;
    if (expected.ok && r.vaultRaw < amountRaw) {
      r.book.restore(snapshot);
      tokenError = { name: "ERC20InsufficientBalance", args: [r.chAddress, r.vaultRaw, amountRaw] };
    }
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

async function donate(r: Run, actor: Signer, amountRaw: bigint, at: bigint): Promise<void> {
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
async function publishIndex(r: Run, priceX18: bigint, at: bigint, note = ""): Promise<void> {
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

function movedPrice(r: Run, moveBps: bigint, extraWei: bigint): bigint {
  return (r.clock.latestRound().priceX18 * (10_000n + moveBps)) / 10_000n + extraWei;
}

async function warp(r: Run, at: bigint): Promise<void> {
  await step(r, `t=${at} warp +${at - r.clock.now}s`, async () => {
    await time.increaseTo(at);
    r.clock.advanceTo(at);
    r.mayChange = new Set();
    r.touchedOrderIds = new Set();
  });
}

async function togglePause(r: Run, at: bigint): Promise<void> {
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

async function setOperator(r: Run, owner: Signer, operator: Signer, at: bigint): Promise<void> {
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

async function setRisk(r: Run, risk: BookRiskParams, at: bigint): Promise<void> {
  await step(r, `t=${at} setRiskParams ${JSON.stringify(risk, replacer)}`, async (label) => {
    r.clock.advanceTo(at);
    r.book.setRiskParams(risk);
    const full = { ...risk, liquidationPenaltyBps: risk.mmBps < 100n ? risk.mmBps : 100n };
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

async function setShare(r: Run, bps: bigint, at: bigint): Promise<void> {
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

function describeOrder(r: Run, p: OrderParams): string {
  const kind = Object.entries(OrderKind).find(([, v]) => v === p.kind)?.[0] ?? String(p.kind);
  const flags = `${p.reduceOnly ? " reduceOnly" : ""}${p.expiresAt !== 0n ? ` until ${p.expiresAt}` : ""}`;
  return `${kind} ${p.isBuy ? "buy" : "sell"} ${p.qty} @${p.tick} for ${nameOf(r, p.account)} maxFills ${p.maxFills}${flags}`;
}

async function place(r: Run, sender: Signer, params: OrderParams, at: bigint): Promise<void> {
  const by = sender.address === params.account ? "" : ` by ${nameOf(r, sender.address)}`;
  await step(r, `t=${at} placeOrder ${describeOrder(r, params)}${by}`, async (label) => {
    const expected = r.book.placeOrder(callEnv(r, sender), params);
    await transact(r, label, at, expected, () => r.ch.connect(sender).placeOrder(params, { gasLimit: GAS_LIMIT }), [
      params.account,
    ]);
  });
}

async function replace(r: Run, sender: Signer, orderId: bigint, params: OrderParams, at: bigint): Promise<void> {
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

async function cancel(r: Run, sender: Signer, orderId: bigint, at: bigint): Promise<void> {
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

async function cancelAll(r: Run, sender: Signer, account: string, seriesId: bigint, at: bigint): Promise<void> {
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
// Random operations
// ---------------------------------------------------------------------------------------------

type SenderMode = "owner" | "operator" | "other";
type TickMode = "near" | "passive" | "aggressive" | "bandEdge" | "outOfBand" | "zero" | "aboveMax";
type QtyMode = "small" | "medium" | "toMargin" | "offLot" | "zero" | "maxOrder" | "overMax";
type ExpiryMode = "none" | "soon" | "now" | "past";
type FillsMode = "few" | "any" | "zero" | "overMax";
type OrderPick = "own" | "any" | "gone" | "junk";
/**
 * How much a crossing order takes: a few contracts, the target order, its whole level, more than the book, or
 * about all the free margin of the taker (so that later oracle moves push it below maintenance).
 */
type CrossQty = "few" | "order" | "level" | "sweep" | "toMargin";

/** An order drawn before the state it meets is known; resolved against the model when it runs. */
interface OrderDraw {
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

type Op =
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
  | { kind: "donate"; actor: number; amountRaw: bigint; gap: bigint };

/** The signer acting for trader `actor`: the owner, its operator (dave; valid for alice only) or another trader. */
function senderFor(r: Run, actor: number, mode: SenderMode): Signer {
  if (mode === "owner") return r.traders[actor];
  if (mode === "operator") return r.operator;
  return r.traders[(actor + 1) % r.traders.length];
}

function traderIndex(r: Run, address: string): number {
  const index = r.traders.findIndex((t) => t.address === address);
  return index < 0 ? 0 : index;
}

function resolveOrder(r: Run, account: string, d: OrderDraw): OrderParams {
  const book = r.book;
  const env = blockEnv(r);
  const mark = book.markPrice(env);
  const tickSize = book.spec.tickSizeX18;
  const markTick = mark / tickSize;
  const { bandMinTick, bandMaxTick } = bandTicks(mark, book.risk.orderBandBps, tickSize);
  const size = book.positionOf(account).sizeQty;
  const exposure = book.exposureOf(account);
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
  const lot = book.spec.minQty;
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

/**
 * About all the free margin of `account` in contracts (at most its position limit), so that a fill leaves it
 * near initial margin and a later oracle move can push it below maintenance.
 */
function qtyToMargin(r: Run, account: string): bigint {
  const env = blockEnv(r);
  const health = r.book.accountHealth(env, account);
  const risk = r.book.risk;
  const perContractX18 =
    (r.book.markPrice(env) * r.book.spec.contractMultiplier * (risk.imBps + 3n * risk.takerFeeBps)) / 10_000n + 1n;
  const qty = (health.equityX18 - health.initialMarginX18) / perContractX18;
  const lot = r.book.spec.minQty;
  const capped = ((qty < risk.positionLimitQty ? qty : risk.positionLimitQty) / lot) * lot;
  return capped > 0n ? capped : lot;
}

/** An order of `account` that crosses `target` (a resting order of another account) at or through its price. */
function crossingOrder(
  r: Run,
  account: string,
  target: { isBuy: boolean; tick: bigint; qty: bigint },
  op: { order: OrderDraw; throughTicks: bigint; qtyMode: CrossQty },
): OrderParams {
  const base = resolveOrder(r, account, { ...op.order, reduceOnly: false, tickMode: "near" });
  const isBuy = !target.isBuy;
  const levelQty = r.book.levelOf(target.isBuy, target.tick).qty;
  const sideQty = r.book.activeTicks(target.isBuy).reduce((sum, t) => sum + r.book.levelOf(target.isBuy, t).qty, 0n);
  const quantities: Record<CrossQty, bigint> = {
    few: op.order.smallQty * r.book.spec.minQty,
    order: target.qty,
    level: levelQty,
    sweep: sideQty + op.order.smallQty * r.book.spec.minQty,
    toMargin: qtyToMargin(r, account),
  };
  const tick = isBuy ? target.tick + op.throughTicks : target.tick - op.throughTicks;
  const reduceOnly = op.order.reduceOnly && r.book.positionOf(account).sizeQty !== 0n;
  return { ...base, isBuy, reduceOnly, tick: tick < 1n ? 1n : tick, qty: quantities[op.qtyMode] };
}

/** An order id to cancel or replace: one of `account`'s, any resting one, one that is gone, or a made-up one. */
function pickOrderId(r: Run, pick: OrderPick, index: number, account: string): bigint {
  const own = r.book.openOrderIdsOf(account);
  const all = r.book.restingOrderIds();
  if (pick === "own" && own.length > 0) return own[index % own.length];
  if ((pick === "own" || pick === "any") && all.length > 0) return all[index % all.length];
  if (pick === "gone" && r.goneOrderIds.length > 0) return r.goneOrderIds[index % r.goneOrderIds.length];
  return orderIdOf(r.seriesId, refOf(BigInt(1 + (index % 5)), BigInt(index % 32)), BigInt(1 + (index % 40)));
}

async function runOp(r: Run, op: Op): Promise<void> {
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
  }
}

class OpCommand implements fc.AsyncCommand<Run, Run> {
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

function weighted<T>(...options: [number, fc.Arbitrary<T>][]): fc.Arbitrary<T> {
  return fc.oneof(...options.map(([weight, arbitrary]) => ({ weight, arbitrary })));
}

function orderDrawArbitrary(): fc.Arbitrary<OrderDraw> {
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

function opArbitrary(): fc.Arbitrary<OpCommand> {
  const actor = fc.integer({ min: 0, max: 2 });
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
  const op: fc.Arbitrary<Op> = weighted<Op>(
    [40, fc.record({ kind: fc.constant("place" as const), actor, sender, order: orderDrawArbitrary(), gap })],
    [
      8,
      fc.record({
        kind: fc.constant("replace" as const),
        pick,
        index,
        sender,
        mismatch: weighted([12, fc.constant(false)], [1, fc.constant(true)]),
        order: orderDrawArbitrary(),
        gap,
      }),
    ],
    [5, fc.record({ kind: fc.constant("cancel" as const), pick, index, sender, gap })],
    [
      24,
      fc.record({
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
          [2, fc.constant("toMargin")],
        ),
        gap,
      }),
    ],
    [
      4,
      fc.record({
        kind: fc.constant("cancelAll" as const),
        actor,
        sender: weighted<SenderMode>(
          [3, fc.constant("owner")],
          [1, fc.constant("operator")],
          [3, fc.constant("other")],
        ),
        otherSeries: weighted([20, fc.constant(false)], [1, fc.constant(true)]),
        gap,
      }),
    ],
    [
      5,
      fc.record({
        kind: fc.constant("deposit" as const),
        actor,
        amountTokens: weighted([1, fc.constant(0n)], [8, fc.bigInt({ min: 1n, max: 30_000n })]),
        gap,
      }),
    ],
    [
      5,
      fc.record({
        kind: fc.constant("withdraw" as const),
        actor,
        sender,
        fractionBps: weighted([2, fc.constant(10_000n)], [5, fc.bigInt({ min: 0n, max: 10_500n })]),
        extraRaw: weighted([4, fc.constant(0n)], [1, fc.constant(1n)]),
        gap,
      }),
    ],
    [
      8,
      fc.record({
        kind: fc.constant("oracle" as const),
        gap: fc.bigInt({ min: 900n, max: 6n * HOUR }),
        moveBps: fc.bigInt({ min: -800n, max: 800n }),
        extraWei: fc.bigInt({ min: 0n, max: 999n }),
      }),
    ],
    [
      4,
      fc.record({
        kind: fc.constant("warp" as const),
        gap: weighted(
          [4, fc.bigInt({ min: 900n, max: 12n * HOUR })],
          [1, fc.bigInt({ min: 12n * HOUR, max: 2n * DAY })],
        ),
      }),
    ],
    [1, fc.record({ kind: fc.constant("pause" as const), steps: fc.integer({ min: 1, max: 4 }), gap })],
    [
      1,
      fc.record({
        kind: fc.constant("donate" as const),
        actor,
        amountRaw: fc.bigInt({ min: 1n, max: 1_000_000n }),
        gap,
      }),
    ],
  );
  return op.map((o) => new OpCommand(o));
}

// ---------------------------------------------------------------------------------------------
// Prelude: risk parameters, fee share, a later start, operator, funding
// ---------------------------------------------------------------------------------------------

const RISK_PRESETS: Record<string, BookRiskParams> = {
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

interface Plan {
  /** Trade the odd second series instead of the fixture's. */
  oddSeries: boolean;
  risk: keyof typeof RISK_PRESETS;
  insuranceFeeShareBps: bigint;
  startOffsetSec: bigint;
  startMoveBps: bigint;
  depositTokens: bigint[];
}

function planArbitrary(): fc.Arbitrary<Plan> {
  return fc.record({
    oddSeries: fc.boolean(),
    risk: fc.constantFrom(...(Object.keys(RISK_PRESETS) as (keyof typeof RISK_PRESETS)[])),
    insuranceFeeShareBps: fc.oneof(fc.constant(0n), fc.constant(2_000n), fc.constant(10_000n), fc.bigInt(0n, 10_000n)),
    startOffsetSec: weighted([1, fc.constant(0n)], [2, fc.bigInt({ min: HOUR, max: 36n * DAY })]),
    startMoveBps: fc.bigInt({ min: -500n, max: 500n }),
    depositTokens: fc.array(fc.bigInt({ min: 10_000n, max: 150_000n }), { minLength: 3, maxLength: 3 }),
  });
}

async function prelude(r: Run, plan: Plan, decimals: number): Promise<void> {
  if (plan.startOffsetSec > 0n) {
    const at = nextTime(r, plan.startOffsetSec, r.clock.spec.feedMinIntervalSec);
    await publishIndex(r, movedPrice(r, plan.startMoveBps, 0n), at, " (start of the run)");
  }
  await setRisk(r, RISK_PRESETS[plan.risk], r.clock.now + 1n);
  await setShare(r, plan.insuranceFeeShareBps, r.clock.now + 1n);
  await setOperator(r, r.traders[0], r.operator, r.clock.now + 1n);
  for (let i = 0; i < r.traders.length; i++) {
    await deposit(r, r.traders[i], units(plan.depositTokens[i], decimals), r.clock.now + 1n);
  }
}

// ---------------------------------------------------------------------------------------------
// Directed scenario: the branches random sequences rarely reach, each built on purpose
// ---------------------------------------------------------------------------------------------

/** Outcomes the directed scenario must reach (keys of `Run.outcomes`). */
const SCENARIO_OUTCOMES = [
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

function markTick(r: Run): bigint {
  return r.book.markPrice(blockEnv(r)) / r.book.spec.tickSizeX18;
}

/** One transaction a second after the previous one. */
function nextSecond(r: Run): bigint {
  const at = r.clock.now + 1n;
  r.clock.advanceTo(at);
  return at;
}

/** A trader flat or long (`long`) or flat or short, other than `except`. */
function traderLeaning(r: Run, long: boolean, except?: Signer): Signer {
  const found = r.traders.find((t) => {
    const size = r.book.positionOf(t.address).sizeQty;
    return t !== except && (long ? size >= 0n : size <= 0n);
  });
  if (found === undefined) throw new Error("harness: no trader on that side");
  return found;
}

async function directedScenario(r: Run, decimals: number): Promise<void> {
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
  await cancel(r, alice, r.book.openOrderIdsOf(alice.address)[5], nextSecond(r));
  await put(dave, false, OrderKind.PostOnly, 1n, base + 81n, {}, alice);
  // Replace: the new order keeps no priority; a replacement for another account is refused.
  const [first, second] = r.book.openOrderIdsOf(alice.address);
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
  const openInterest = r.book.marketState().openInterestQty;
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
  const holder = r.traders.find((t) => r.book.positionOf(t.address).sizeQty !== 0n) ?? bob;
  const holderBuys = r.book.positionOf(holder.address).sizeQty < 0n;
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
// Runner
// ---------------------------------------------------------------------------------------------

async function assertWithReplay<Ts extends unknown[]>(
  name: string,
  property: fc.IAsyncProperty<Ts>,
  runs: number,
): Promise<void> {
  const parameters: fc.Parameters<Ts> = { seed: SEED, numRuns: runs, endOnFailure: true };
  if (PATH !== undefined && PATH !== "") Object.assign(parameters, { path: PATH, numRuns: 1 });
  try {
    await fc.assert(property, parameters);
  } catch (error) {
    const path = /path: "([^"]*)"/.exec((error as Error).message)?.[1] ?? "<path below>";
    const replay = `OB_SEED=${SEED} OB_STEPS=${STEPS} OB_PATH=${path} npx hardhat test --no-compile test/invariant/OrderBook.invariant.test.ts`;
    console.error(`\n${name} failed with seed ${SEED}; replay: ${replay}`);
    const cause = (error as Error).cause;
    const detail = cause instanceof Error ? `\nCause: ${cause.message}` : "";
    throw new Error(`${name} failed (seed ${SEED}). Replay: ${replay}\n${(error as Error).message}${detail}`);
  }
}

function campaign(fixture: () => Promise<ClearinghouseFixture>, decimals: number) {
  return fc.asyncProperty(
    planArbitrary(),
    fc.array(opArbitrary(), { minLength: STEPS, maxLength: STEPS }),
    async (plan, commands) => {
      const f = await loadFixture(fixture);
      const r = await setUp(f, plan.oddSeries ? await listOddSeries(f) : f.seriesId);
      try {
        await prelude(r, plan, decimals);
        await fc.asyncModelRun(() => ({ model: r, real: r }), commands);
      } catch (error) {
        const steps = r.trace.join("\n  ");
        throw new Error(`${(error as Error).message}\n  --- steps of the failing run ---\n  ${steps}`);
      }
    },
  );
}

const SETTINGS = [
  { decimals: 6, fixture: deploy6, runs: RUNS },
  { decimals: 18, fixture: deploy18, runs: Math.max(1, Math.ceil(RUNS / 2)) },
];

describe("OrderBook invariants (model-based random sequences against the reference engine)", function () {
  this.timeout(Math.max(300_000, RUNS * STEPS * 3_000));

  after(function () {
    if (!STATS) return;
    const lines = [...outcomeCounts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `    ${k}: ${n}`);
    console.log(`  outcomes (all settings):\n${lines.join("\n")}`);
  });

  it(`directed scenario: every rare branch (32 orders, reduce-only clips, self-trade, spent budget, expiry, OI cap, band, pause, stale index, below maintenance) with A.1-A.4, D.17 and 25 after every step`, async function () {
    const f = await loadFixture(deploy6);
    const r = await setUp(f);
    try {
      await directedScenario(r, f.decimals);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n  --- steps ---\n  ${r.trace.join("\n  ")}`);
    }
    for (const key of SCENARIO_OUTCOMES) {
      expect(r.outcomes.get(key) ?? 0, `directed scenario reached "${key.trim()}"`).to.be.greaterThan(0);
    }
  });

  for (const { decimals, fixture, runs } of SETTINGS) {
    describe(`collateral with ${decimals} decimals`, function () {
      it(`A.1 conservation, A.2 zero-sum, A.3 aggregates, A.4 account state, D.17 uncrossed FIFO book and 25 no foreign change after every step of ${runs} runs x ${STEPS} random operations; fills and errors equal the model's`, async function () {
        await assertWithReplay(`order book campaign (${decimals} decimals)`, campaign(fixture, decimals), runs);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Regressions: contract bugs the comparison with the model found, each fixed, each asserting the
// documented rule with the inputs that once broke it.
// ---------------------------------------------------------------------------------------------

/** The fixture with alice, bob and carol holding 100,000 tokens each on deposit. */
async function fundedBook() {
  const f = await deploy6();
  for (const who of [f.alice, f.bob, f.carol]) await f.clearinghouse.connect(who).deposit(units(100_000, 6));
  return f;
}

describe("OrderBook regressions found by the reference engine", function () {
  // IClearinghouse: positionLimitQty is the "largest absolute position of one account"; OrderBookLogic._checkAccount:
  // "a side that raised its risk or rested a margined order needs room under its position limit (all orders
  // filled)". The code checks a risk-raising taker's new size only, without its resting orders, and makers are
  // not checked when filled. Limit 12: alice rests a bid of 10 (worst case 10, accepted), buys 5 as a taker
  // (new size 5 <= 12, accepted; worst case with the bid 15 is not checked), then carol sells 10 into the bid:
  // alice ends long 15 > 12. Expected: the taker order reverts with PositionLimitExceeded(alice, 1, 15, 12)
  // (or the position otherwise stays within 12). The first book let alice reach 15. Fixed: _checkAccount checks
  // the worst case for `raisedRisk || restedWithMargin`.
  it("regression: position limit: a taker that raises its risk is checked with its resting bids filled", async function () {
    const f = await loadFixture(fundedBook);
    const ch = f.clearinghouse;
    const [a, b, c] = [f.alice.address, f.bob.address, f.carol.address];
    const limit = { ...RISK_PRESETS.standard, liquidationPenaltyBps: 100n, positionLimitQty: 12n };
    await ch.connect(f.admin).setRiskParams(f.seriesId, limit);
    await ch.connect(f.alice).placeOrder(orderOf(a, true, OrderKind.Limit, 10n, 3_990n));
    await ch.connect(f.bob).placeOrder(orderOf(b, false, OrderKind.Limit, 5n, 4_010n));
    await expect(ch.connect(f.alice).placeOrder(orderOf(a, true, OrderKind.ImmediateOrCancel, 5n, 4_010n)))
      .to.be.revertedWithCustomError(ch, "PositionLimitExceeded")
      .withArgs(a, f.seriesId, 15n, 12n);
    await ch.connect(f.carol).placeOrder(orderOf(c, false, OrderKind.ImmediateOrCancel, 10n, 3_990n));
    const size = (await ch.positionOf(a, f.seriesId)).sizeQty;
    expect(size < 0n ? -size : size, "|alice's position| <= positionLimitQty").to.be.lte(12n);
  });

  // IOrderBook: an order id is series << 96 | ref << 32 | sequence with ref = account id << 8 | slot (40 bits,
  // bits 32-71); OrderNotFound is "thrown when an order id does not name a resting order". requireOrder reads
  // ref as uint40(orderId >> 32) and ignores bits 72-95, so id | 1 << 80 names the same order: orderOf echoes
  // the non-canonical id and cancelOrder / replaceOrder act on the real order. Expected: OrderNotFound(alias).
  // The first book returned the order for the alias and cancelled it. Fixed: only the canonical id names it.
  it("regression: order ids: an id with any of bits 72-95 set names no order", async function () {
    const f = await loadFixture(fundedBook);
    const ch = f.clearinghouse;
    const a = f.alice.address;
    await ch.connect(f.alice).placeOrder(orderOf(a, true, OrderKind.Limit, 1n, 3_990n));
    const [id] = await ch.openOrderIdsOf(a, f.seriesId);
    const alias = id | (1n << 80n);
    await expect(ch.orderOf(alias)).to.be.revertedWithCustomError(ch, "OrderNotFound").withArgs(alias);
    await expect(ch.connect(f.alice).cancelOrder(alias))
      .to.be.revertedWithCustomError(ch, "OrderNotFound")
      .withArgs(alias);
  });

  // IOrderBook.PlaceResult: cancelledQty is "contracts of this order cancelled (unfilled remainder, reduce-only
  // clip)". _finish counts the unfilled remainder only: a reduce-only order of 10 placed with a long position of
  // 3 returns filled 0, resting 3, cancelled 0 (and an IOC of 10 meeting no bid: cancelled 3), so 7 contracts
  // of the order are accounted nowhere (no event either: OrderPlaced carries the clipped qty). Expected:
  // filledQty + restingQty + cancelledQty = qty (cancelled 7, resp. 10). Fixed: _finish adds the clip.
  it("regression: PlaceResult: cancelledQty includes the reduce-only clip", async function () {
    const f = await loadFixture(fundedBook);
    const ch = f.clearinghouse;
    const [a, b] = [f.alice.address, f.bob.address];
    await ch.connect(f.bob).placeOrder(orderOf(b, false, OrderKind.Limit, 3n, 4_000n));
    await ch.connect(f.alice).placeOrder(orderOf(a, true, OrderKind.ImmediateOrCancel, 3n, 4_000n));
    const resting = await ch
      .connect(f.alice)
      .placeOrder.staticCall({ ...orderOf(a, false, OrderKind.Limit, 10n, 4_100n), reduceOnly: true });
    expect(resting.filledQty + resting.restingQty + resting.cancelledQty, "reduce-only Limit of 10").to.equal(10n);
    const immediate = await ch
      .connect(f.alice)
      .placeOrder.staticCall({ ...orderOf(a, false, OrderKind.ImmediateOrCancel, 10n, 3_700n), reduceOnly: true });
    expect(immediate.cancelledQty, "reduce-only IOC of 10 meeting no bid").to.equal(10n);
  });
});

/** Plain order parameters for the reproductions (series 1, good till cancel, 20 fills). */
function orderOf(account: string, isBuy: boolean, kind: OrderKind, qty: bigint, tick: bigint): OrderParams {
  return { seriesId: 1n, account, isBuy, kind, reduceOnly: false, tick, qty, expiresAt: 0n, maxFills: 20n };
}
