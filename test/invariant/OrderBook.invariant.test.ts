/**
 * Model-based random-sequence test of the order book, liquidation and deleveraging (RELIABILITY A.1-A.4, D.17,
 * items 1-5, 8, 10, 11 and 25).
 *
 * Each run drives the clearinghouse and the reference engine `OrderBookModel` (sdk/core/orderBook.ts) with
 * the same random operations: deposits, withdrawals, orders of every kind (reduce-only, good-till-time,
 * various maxFills, prices near the mark, at and beyond the band, invalid fields), orders that cross a resting
 * order of another account, cancels, cancel-all (by the owner, its operator and strangers), replaces, oracle
 * moves (the fixture's `publish`), time warps (never past expiry), pauses and token donations, on accounts
 * alice, bob and carol (dave is alice's operator, and a liquidator with his own margin). Liquidation operations:
 * levered trades (two accounts trade about all the free margin of the smaller near the mark) and closes of the
 * weakest holder; index shocks in rounds under the 10% jump guard, 900 s apart, aimed at the mark that puts the
 * weakest holder just below maintenance, into a deficit the fund covers, or beyond the fund (or plain jumps),
 * sometimes followed at once by a liquidation or a deleveraging; `liquidate` by a random liquidator with a random
 * `maxQty` (what the rules require, more, a partial, too small, 0, off the lot grid, 2^256 - 1) and series (the
 * traded one, 0, unlisted, the other listed one); `liquidateBatch` mixing requests that qualify and requests that do
 * not (self, series 0 or unlisted, healthy, too small); `deleverage` with legs ranked off chain (profit first)
 * or deliberately bad (same side, in loss, incomplete, self, duplicate, empty, bad series, reversed order);
 * `coverDeficit`; the admin's insurance withdrawals (so the fund is sometimes short or empty) and contributions.
 * Each run draws risk parameters (and the liquidation penalty: min(mm, 100), 0, mm / 2 or mm), the insurance fee
 * share, a start inside or before the averaging window, and the series: the fixture's AIT series or an odd one
 * (tick 0.001 + 7 wei, multiplier 999, lot 2) whose fees and insurance split round. The oracle and the clock are
 * modelled by `ClearinghouseModel` (publish, latest round, staleness, TWAP).
 *
 * The model predicts every outcome: success with the exact events (fills, cancels, placements, the basis
 * sample, Liquidated, DeficitResolved, Deleveraged, the fund's) or the exact custom error and its arguments (the
 * state is then unchanged). After EVERY step:
 *   A.1 conservation: token balance = Σ equity + insurance fund + fee pool + donations (Σ cash on a flat book);
 *       Σ equity + fund + fee pool = deposits + contributions - withdrawals (of accounts and of the fund);
 *   A.2 zero-sum: Σ longs = Σ shorts = open interest;
 *   A.3 stored aggregates = model: levels (levelOf qty/orderCount), exposureOf, open interest, insurance
 *       fund (never negative), fee pool, market state and mark;
 *   A.4 account state = model: cashOf, positionOf, openOrderIdsOf + orderOf, accountHealth (orderMarginX18 too);
 *   D.17 the book is never crossed, every level is FIFO (nextOrderIdOf from headOrderId) and its qty is
 *        the sum of its orders;
 *   11 no position and no resting order off the lot grid;
 *   25 an account's cash and position change only on its own orders, as the maker of an order it placed, or in
 *      a liquidation, deleveraging or deficit cover naming it.
 * After a liquidation: the reward is half the penalty rounded down, penalties stay within the account's equity,
 * the fund moved by exactly its penalty share minus the deficits it paid, the account has no resting order, a
 * partial liquidation raised equity / maintenance, a covered deficit leaves the account flat at cash 0. After a
 * deleveraging: fund decrease + haircuts = deficit exactly, the fund paid all it held, the account ends flat at
 * cash 0, no counterparty ends with less cash (a haircut never exceeds the profit its leg realized) or negative
 * equity. After a deficit cover: fund decrease + uncovered = deficit, cash = -uncovered.
 * Two directed scenarios reach, under the same checks, the branches random runs rarely reach: the order book's
 * (32 open orders, clips, expiry at its boundary, the OI cap, a pause, a stale index, an account below
 * maintenance) and liquidation's (every refusal of liquidate and deleverage but CounterpartyEquityNegative, a
 * partial below what is required, a stale index, a batch, the fund's cover, covers with an empty, short and
 * sufficient fund). Contract bugs found on the way are kept at the end of the file as named regression tests.
 *
 * Profile and replay (environment): OB_SEED (default 20260515), OB_RUNS (runs of the order book profile with
 * 6-decimal collateral, default 8; 18 decimals run half as many), OB_STEPS (its random operations per run,
 * default 50), OB_LQ_RUNS and OB_LQ_STEPS (the same for the liquidation profile, default 12 and 100), OB_PATH
 * (the fast-check path printed with a failure, with the command that replays it), OB_STATS=1 (prints how often
 * each operation succeeded or reverted with each error, and each event), OB_DEBUG=1 (prints every step, the
 * model's prediction and the book after it).
 */
import { expect } from "chai";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { MaxUint256, encodeBytes32String } from "ethers";
import type { BaseContract, ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import {
  CancelReason,
  LIQUIDATOR_PENALTY_SHARE_BPS,
  MAX_ORDER_QTY,
  MAX_TICK,
  OrderBookModel,
  OrderKind,
  abs,
  bandTicks,
  liquidationSize,
  orderIdOf,
  refOf,
  riskParamsOf,
  unrealizedPnlX18,
} from "../../sdk";
import type {
  BlockEnv,
  BookAccountHealth,
  BookDeleverageLeg,
  BookEvent,
  BookLiquidationRequest,
  BookOutcome,
  BookRiskParams,
  CallEnv,
  OracleReading,
  OrderParams,
} from "../../sdk";
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
/** Runs of the liquidation profile with 6-decimal collateral (18 decimals run half as many). */
const LIQUIDATION_RUNS = envInt("OB_LQ_RUNS", 12);
/** Random operations per run of the liquidation profile (several steps each: shocks, levers). */
const LIQUIDATION_STEPS = envInt("OB_LQ_STEPS", 100);
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
  "Liquidated",
  "DeficitResolved",
  "Deleveraged",
  "InsuranceContributed",
  "InsuranceWithdrawn",
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
  const lot = book.spec.minQty;
  for (const a of perAccount) {
    const who = `${nameOf(r, a.address)} ${at}`;
    expect(a.position.sizeQty % lot, `11 no position off the lot grid: ${who}`).to.equal(0n);
    for (const o of a.orders) expect(o.qty % lot, `11 no resting order off the lot grid: ${who}`).to.equal(0n);
  }
  expect(insurance >= 0n && book.insuranceFundX18 >= 0n, `A.3 the insurance fund is never negative ${at}`).to.equal(
    true,
  );

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

/** Sets the risk parameters; the liquidation penalty defaults to min(mmBps, 100). */
async function setRisk(r: Run, risk: BookRiskParams, at: bigint): Promise<void> {
  const full = {
    ...risk,
    liquidationPenaltyBps: risk.liquidationPenaltyBps ?? (risk.mmBps < 100n ? risk.mmBps : 100n),
  };
  await step(r, `t=${at} setRiskParams ${JSON.stringify(full, replacer)}`, async (label) => {
    r.clock.advanceTo(at);
    r.book.setRiskParams(full);
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
// Operations: liquidation, deleveraging, deficits and the insurance fund
// ---------------------------------------------------------------------------------------------

const UINT64_MAX = 2n ** 64n - 1n;
const UINT256_MAX = 2n ** 256n - 1n;
/** Largest index step of one shock round, bps: under the feed's 10% jump guard. */
const SHOCK_STEP_BPS = 950n;
/** Shocks move the index no further down than this, nor up beyond the ceiling. */
const SHOCK_FLOOR_X18 = 5n * 10n ** 17n;
const SHOCK_CEILING_X18 = 40n * 10n ** 18n;

/** alice, bob, carol and dave: every account that may liquidate, be liquidated or be a counterparty. */
function participants(r: Run): Signer[] {
  return [...r.traders, r.operator];
}

function signerOf(r: Run, address: string): Signer {
  const signer = participants(r).find((s) => s.address === address);
  if (signer === undefined) throw new Error(`harness: no signer for ${address}`);
  return signer;
}

/** The model's accounts and fund just before a liquidation-type step, at its block time. */
interface PreState {
  fundX18: bigint;
  cash: Map<string, bigint>;
  health: Map<string, BookAccountHealth>;
}

function preState(r: Run): PreState {
  const env = blockEnv(r);
  const cash = new Map<string, bigint>();
  const health = new Map<string, BookAccountHealth>();
  for (const account of accounts(r)) {
    cash.set(account, r.book.cashOf(account));
    health.set(account, r.book.accountHealth(env, account));
  }
  return { fundX18: r.book.insuranceFundX18, cash, health };
}

function healthBefore(pre: PreState, account: string): BookAccountHealth {
  const health = pre.health.get(account);
  if (health === undefined) throw new Error(`harness: no health of ${account} before the step`);
  return health;
}

function liquidatableNow(r: Run, account: string): boolean {
  if (r.book.positionOf(account).sizeQty === 0n) return false;
  const health = r.book.accountHealth(blockEnv(r), account);
  return health.equityX18 < health.maintenanceMarginX18;
}

/** What the rules require a liquidator to take over from `account` now (the whole size when healthy). */
function requiredQtyOf(r: Run, account: string): bigint {
  const env = blockEnv(r);
  const sizeQty = r.book.positionOf(account).sizeQty;
  if (sizeQty === 0n) return r.book.spec.minQty;
  const health = r.book.accountHealth(env, account);
  if (health.equityX18 >= health.maintenanceMarginX18) return abs(sizeQty);
  return liquidationSize({
    sizeQty,
    markX18: r.book.markPrice(env),
    multiplier: r.book.spec.contractMultiplier,
    lotQty: r.book.spec.minQty,
    mmBps: r.book.risk.mmBps,
    liquidationPenaltyBps: r.book.risk.liquidationPenaltyBps ?? 0n,
    equityX18: health.equityX18,
    maintenanceMarginX18: health.maintenanceMarginX18,
    maxQty: UINT256_MAX,
  }).requiredQty;
}

/** Whom a liquidation goes after: an account below maintenance, one with a position, or anyone. */
type LiquidationTarget = "liquidatable" | "holder" | "any" | "self";
/** How many contracts the liquidator offers to take (`maxQty`), relative to what the rules require. */
type LiquidationQty = "required" | "max" | "huge" | "tooSmall" | "zero" | "partial" | "offLot";
/** The series a request names: the traded one, 0, an unlisted one, or the other listed series (odd runs). */
type SeriesPick = "traded" | "zero" | "unlisted" | "otherListed";

function liquidationTarget(r: Run, mode: LiquidationTarget, index: number): string {
  const all = accounts(r);
  if (mode === "liquidatable") {
    const candidates = all.filter((a) => liquidatableNow(r, a));
    if (candidates.length > 0) return candidates[index % candidates.length];
  }
  if (mode !== "any") {
    const holders = all.filter((a) => r.book.positionOf(a).sizeQty !== 0n);
    if (holders.length > 0) return holders[index % holders.length];
  }
  return all[index % all.length];
}

/** A liquidator other than `account`: mostly the one with the most free margin, else the `pick`-th of the others. */
function liquidatorFor(r: Run, account: string, pick: number): Signer {
  const others = participants(r).filter((s) => s.address !== account);
  if (pick % 4 === 0) return others[Math.floor(pick / 4) % others.length];
  return richest(r, others);
}

/** The signer among `candidates` with the most withdrawable collateral (free margin). */
function richest(r: Run, candidates: Signer[]): Signer {
  const env = blockEnv(r);
  const free = (s: Signer) => r.book.accountHealth(env, s.address).withdrawableX18;
  return candidates.reduce((best, s) => (free(s) > free(best) ? s : best));
}

/** True when no account is below maintenance margin (liquidation attempts then mostly wait). */
function noneLiquidatable(r: Run): boolean {
  return !accounts(r).some((a) => liquidatableNow(r, a));
}

function seriesOf(r: Run, pick: SeriesPick): bigint {
  if (pick === "zero") return 0n;
  if (pick === "unlisted") return 99n;
  if (pick === "otherListed") return r.seriesId === 1n ? 2n : 1n;
  return r.seriesId;
}

function maxQtyOf(r: Run, account: string, mode: LiquidationQty, pick: number, cap: bigint): bigint {
  const lot = r.book.spec.minQty;
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
function liquidatedAccounts(events: readonly BookEvent[]): string[] {
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
async function checkLiquidations(r: Run, label: string, pre: PreState, events: readonly BookEvent[]): Promise<void> {
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

async function liquidate(
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
    const expected = r.book.liquidate(callEnv(r, liquidator), account, seriesId, maxQty);
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

async function liquidateBatch(
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
async function checkDeleverage(
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

async function deleverage(
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

async function coverDeficit(r: Run, sender: Signer, account: string, at: bigint): Promise<void> {
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

async function contributeInsurance(r: Run, from: Signer, amountRaw: bigint, at: bigint): Promise<void> {
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

async function withdrawInsurance(r: Run, amountRaw: bigint, at: bigint): Promise<void> {
  const fund = r.book.insuranceFundX18;
  await step(r, `t=${at} withdrawInsurance ${amountRaw} raw of a fund of ${fund} by the admin`, async (label) => {
    r.clock.advanceTo(at);
    const snapshot = r.book.snapshot();
    const expected = r.book.withdrawInsurance(callEnv(r, r.admin), r.admin.address, amountRaw);
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
type ShockMode = "liquidatable" | "bankruptCovered" | "bankruptBeyond" | "jump";

/**
 * The mark at which `account`'s equity reaches the shock's aim (undefined when flat or unreachable):
 * (1 - fraction) x maintenance margin, or -deficit with the deficit a fraction of the fund ("covered") or
 * the fund plus a fraction of the notional ("beyond"). Equity at mark m: cash + size x m x multiplier - basis.
 */
function shockTargetMark(r: Run, account: string, mode: ShockMode, fractionBps: bigint): bigint | undefined {
  const { sizeQty: s, openNotionalX18: basis } = r.book.positionOf(account);
  if (s === 0n || mode === "jump") return undefined;
  const u = r.book.spec.contractMultiplier;
  const cash = r.book.cashOf(account);
  let markX18: bigint;
  if (mode === "liquidatable") {
    const k8 = r.book.risk.mmBps * (10_000n - fractionBps);
    markX18 = ((basis - cash) * 100_000_000n) / (u * (s * 100_000_000n - k8 * abs(s)));
  } else {
    const fund = r.book.insuranceFundX18;
    const notional = abs(s) * r.book.markPrice(blockEnv(r)) * u;
    const deficit =
      mode === "bankruptCovered" ? (fund * fractionBps) / 10_000n : fund + (notional * fractionBps) / 10_000n + 1n;
    markX18 = (basis - cash - deficit) / (s * u);
  }
  return markX18 > 0n ? markX18 : undefined;
}

interface ShockOp {
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
async function shock(r: Run, op: ShockOp): Promise<void> {
  // Mostly the holder closest to maintenance margin (lowest equity / maintenance), sometimes any holder.
  const env = blockEnv(r);
  const holders = accounts(r)
    .filter((a) => r.book.positionOf(a).sizeQty !== 0n)
    .map((a) => ({ a, h: r.book.accountHealth(env, a) }))
    .sort((x, y) => {
      const lhs = x.h.equityX18 * y.h.maintenanceMarginX18;
      const rhs = y.h.equityX18 * x.h.maintenanceMarginX18;
      return lhs < rhs ? -1 : lhs > rhs ? 1 : 0;
    })
    .map(({ a }) => a);
  // Aims further than 55% from the mark are dropped (the holder is barely levered; eight rounds reach about that
  // far), then the next holder's; with none in reach, the aim falls back to just below maintenance.
  const startMark = r.book.markPrice(blockEnv(r));
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
  const up = account === undefined || target === undefined ? op.up : r.book.positionOf(account).sizeQty < 0n;
  const aim = target === undefined ? `jump ${up ? "up" : "down"}` : `${mode} ${nameOf(r, account ?? "")}`;
  const spec = r.clock.spec;
  const reached = () => {
    if (target === undefined) return false;
    const markX18 = r.book.markPrice(blockEnv(r));
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
      const markX18 = r.book.markPrice(blockEnv(r));
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
    const markX18 = r.book.markPrice(blockEnv(r));
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

interface LeverOp {
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
async function lever(r: Run, op: LeverOp): Promise<void> {
  const at = nextTime(r, op.gap);
  r.clock.advanceTo(at);
  const people = participants(r).filter((p) => p !== r.operator || r.book.cashOf(p.address) > 0n);
  let maker = people[op.maker % people.length];
  let taker = people[(op.maker + op.takerOffset) % people.length];
  let makerBuys = op.makerBuys;
  let qty: bigint;
  const lot = r.book.spec.minQty;
  if (op.mode === "close") {
    // The holder with the lowest equity / maintenance closes all of its position (reduce-only) against the
    // richest other account; below zero equity it ends flat with negative cash: a deficit for coverDeficit.
    const env = blockEnv(r);
    const holders = participants(r)
      .filter((p) => r.book.positionOf(p.address).sizeQty !== 0n)
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
    const size = r.book.positionOf(taker.address).sizeQty;
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
type LegsMode =
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

function insertAt<T>(items: T[], pick: number, item: T): T[] {
  const at = pick % (items.length + 1);
  return [...items.slice(0, at), item, ...items.slice(at)];
}

/**
 * The legs of deleveraging `account`: the opposite positions in profit at the mark, largest unrealized profit
 * first, until they cover its size ("ranked"); or a deliberately bad variant.
 */
function deleverageLegs(r: Run, account: string, mode: LegsMode, pick: number): BookDeleverageLeg[] {
  const markX18 = r.book.markPrice(blockEnv(r));
  const size = r.book.positionOf(account).sizeQty;
  const sizeOf = (a: string) => r.book.positionOf(a).sizeQty;
  const pnlOf = (a: string) => {
    const p = r.book.positionOf(a);
    return unrealizedPnlX18(p.sizeQty, p.openNotionalX18, markX18, r.book.spec.contractMultiplier);
  };
  const leg = (counterparty: string, seriesId = r.seriesId): BookDeleverageLeg => ({ counterparty, seriesId });
  const others = accounts(r).filter((a) => a !== account);
  const opposite = others.filter((a) => sizeOf(a) !== 0n && size !== 0n && sizeOf(a) > 0n !== size > 0n);
  const profitable = opposite
    .filter((a) => pnlOf(a) > 0n)
    .sort((a, b) => (pnlOf(a) > pnlOf(b) ? -1 : pnlOf(a) < pnlOf(b) ? 1 : 0));
  const ranked: BookDeleverageLeg[] = [];
  let left = abs(size);
  for (const a of profitable) {
    if (left === 0n) break;
    ranked.push(leg(a));
    const c = abs(sizeOf(a));
    left -= c < left ? c : left;
  }
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
function deleverageTarget(r: Run, bankruptFirst: boolean, index: number): string {
  const env = blockEnv(r);
  const all = accounts(r);
  const equityOf = (a: string) => r.book.accountHealth(env, a).equityX18;
  if (bankruptFirst) {
    const beyond = all.filter((a) => equityOf(a) < 0n && -equityOf(a) > r.book.insuranceFundX18);
    // Holders first: a flat account in deficit is coverDeficit's (deleveraging it has no legs to close).
    const holding = beyond.filter((a) => r.book.positionOf(a).sizeQty !== 0n);
    if (holding.length > 0) return holding[index % holding.length];
    if (beyond.length > 0) return beyond[index % beyond.length];
    const negative = all.filter((a) => equityOf(a) < 0n);
    if (negative.length > 0) return negative[index % negative.length];
  }
  return all[index % all.length];
}

/** The account a deficit cover goes after: flat with negative cash first, then negative cash, else anyone. */
function deficitTarget(r: Run, index: number): string {
  const all = accounts(r);
  const flatNegative = all.filter((a) => r.book.cashOf(a) < 0n && r.book.positionOf(a).sizeQty === 0n);
  if (flatNegative.length > 0) return flatNegative[index % flatNegative.length];
  const negative = all.filter((a) => r.book.cashOf(a) < 0n);
  if (negative.length > 0) return negative[index % negative.length];
  return all[index % all.length];
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

type OpKind = Op["kind"];

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
        (a) => r.book.positionOf(a).sizeQty !== 0n && -r.book.accountHealth(env, a).equityX18 > fund,
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

/**
 * The mix of operations: "default" is the order book campaign with a little of everything that liquidates;
 * "liquidation" levers accounts up, shocks the index and liquidates, deleverages and moves the fund often.
 */
type Profile = "default" | "liquidation";

const OP_WEIGHTS: Record<Profile, Record<OpKind, number>> = {
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

function liquidationRequestArbitrary() {
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

function opArbitrary(profile: Profile): fc.Arbitrary<OpCommand> {
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
  /** The liquidation penalty: min(mmBps, 100) (the fixture's rule), none, half of mmBps, or mmBps (every liquidation whole). */
  penalty: "default" | "zero" | "half" | "mm";
  /** dave's margin as a liquidator (0: none, so his liquidations fail the margin check). */
  daveTokens: bigint;
  /** The admin's first contribution to the insurance fund. */
  insuranceTokens: bigint;
}

function planArbitrary(profile: Profile): fc.Arbitrary<Plan> {
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

function penaltyOf(plan: Plan, mmBps: bigint): bigint {
  if (plan.penalty === "zero") return 0n;
  if (plan.penalty === "half") return mmBps / 2n;
  if (plan.penalty === "mm") return mmBps;
  return mmBps < 100n ? mmBps : 100n;
}

async function prelude(r: Run, plan: Plan, decimals: number): Promise<void> {
  if (plan.startOffsetSec > 0n) {
    const at = nextTime(r, plan.startOffsetSec, r.clock.spec.feedMinIntervalSec);
    await publishIndex(r, movedPrice(r, plan.startMoveBps, 0n), at, " (start of the run)");
  }
  const risk = RISK_PRESETS[plan.risk];
  await setRisk(r, { ...risk, liquidationPenaltyBps: penaltyOf(plan, risk.mmBps) }, r.clock.now + 1n);
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
// Directed scenario: liquidation, deleveraging and deficit branches, each built on purpose
// ---------------------------------------------------------------------------------------------

/** Outcomes the directed liquidation scenario must reach (keys of `Run.outcomes`). */
const LIQUIDATION_SCENARIO_OUTCOMES = [
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
async function moveIndexTo(r: Run, targetX18: bigint): Promise<void> {
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
function indexForEquity(r: Run, account: string, equityX18: bigint): bigint {
  const { sizeQty, openNotionalX18 } = r.book.positionOf(account);
  const markX18 = r.book.markPrice(blockEnv(r));
  const basisX18 = markX18 - r.clock.latestRound().priceX18;
  return (openNotionalX18 + equityX18 - r.book.cashOf(account)) / (sizeQty * r.book.spec.contractMultiplier) - basisX18;
}

async function directedLiquidationScenario(r: Run, decimals: number): Promise<void> {
  const [alice, bob, carol] = r.traders;
  const dave = r.operator;
  const lot = r.book.spec.minQty;
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
  await trade(bob, alice, true, r.book.positionOf(alice.address).sizeQty, true);
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
// Runner
// ---------------------------------------------------------------------------------------------

async function assertWithReplay<Ts extends unknown[]>(
  name: string,
  property: fc.IAsyncProperty<Ts>,
  runs: number,
  grep: string,
  steps: number,
): Promise<void> {
  const parameters: fc.Parameters<Ts> = { seed: SEED, numRuns: runs, endOnFailure: true };
  if (PATH !== undefined && PATH !== "") Object.assign(parameters, { path: PATH, numRuns: 1 });
  try {
    await fc.assert(property, parameters);
  } catch (error) {
    const path = /path: "([^"]*)"/.exec((error as Error).message)?.[1] ?? "<path below>";
    const stepsVar = steps === STEPS ? `OB_STEPS=${STEPS}` : `OB_LQ_STEPS=${steps}`;
    const replay = `OB_SEED=${SEED} ${stepsVar} OB_PATH=${path} npx hardhat test --no-compile test/invariant/OrderBook.invariant.test.ts --grep "${grep}"`;
    console.error(`\n${name} failed with seed ${SEED}; replay: ${replay}`);
    const cause = (error as Error).cause;
    const detail = cause instanceof Error ? `\nCause: ${cause.message}` : "";
    throw new Error(`${name} failed (seed ${SEED}). Replay: ${replay}\n${(error as Error).message}${detail}`);
  }
}

function campaign(fixture: () => Promise<ClearinghouseFixture>, decimals: number, profile: Profile, steps: number) {
  return fc.asyncProperty(
    planArbitrary(profile),
    fc.array(opArbitrary(profile), { minLength: steps, maxLength: steps }),
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
      for (const [key, n] of r.outcomes) campaignOutcomes.set(key, (campaignOutcomes.get(key) ?? 0) + n);
    },
  );
}

/** Outcomes of the liquidation campaign, summed over its runs (see `LIQUIDATION_OUTCOMES`). */
const campaignOutcomes = new Map<string, number>();

/**
 * The fixture plus collateral for dave (a liquidator; he is also alice's operator) and for the admin (insurance
 * contributions), both approved. The clock model starts after these blocks.
 */
async function withLiquidators(f: ClearinghouseFixture): Promise<ClearinghouseFixture> {
  const vault = await f.clearinghouse.getAddress();
  for (const who of [f.stranger, f.admin]) {
    await (await f.token.connect(f.admin).mint(who.address, units(10_000_000, f.decimals))).wait();
    await (await f.token.connect(who).approve(vault, MaxUint256)).wait();
  }
  return f;
}

async function deploy6WithLiquidators() {
  return withLiquidators(await deploy6());
}

async function deploy18WithLiquidators() {
  return withLiquidators(await deploy18());
}

const SETTINGS = [
  { decimals: 6, fixture: deploy6WithLiquidators, runs: RUNS, liquidationRuns: LIQUIDATION_RUNS },
  {
    decimals: 18,
    fixture: deploy18WithLiquidators,
    runs: Math.max(1, Math.ceil(RUNS / 2)),
    liquidationRuns: Math.max(1, Math.ceil(LIQUIDATION_RUNS / 2)),
  },
];

/**
 * Outcomes the liquidation campaign reaches with the default profile (OB_SEED, OB_RUNS, OB_LQ_RUNS, OB_STEPS
 * unset): a guard against a change of the generators that quietly stops exercising liquidations.
 */
const LIQUIDATION_OUTCOMES = [
  "liquidate: ok",
  "liquidate: AccountNotLiquidatable",
  "liquidate: LiquidationQtyTooSmall",
  "liquidate: InsuranceFundShort",
  "liquidate: InsufficientMargin",
  "liquidateBatch: liquidated one",
  "deleverage: ok",
  "deleverage: DeleverageNotAllowed",
  "deleverage: DeleverageProfitShort",
  "coverDeficit: ok",
  "coverDeficit: NoDeficit",
  "coverDeficit: InsuranceFundShort",
  "withdrawInsurance: ok",
  "contributeInsurance: ok",
  "  event Liquidated",
  "  event Deleveraged",
  "  event DeficitResolved",
  "  event OrderCancelled Unhealthy",
];

const DEFAULT_PROFILE = ["OB_SEED", "OB_LQ_RUNS", "OB_LQ_STEPS", "OB_PATH"].every(
  (name) => (process.env[name] ?? "") === "",
);

describe("OrderBook invariants (model-based random sequences against the reference engine)", function () {
  this.timeout(Math.max(300_000, (RUNS * STEPS + LIQUIDATION_RUNS * LIQUIDATION_STEPS) * 3_000));

  after(function () {
    if (!STATS) return;
    const lines = [...outcomeCounts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `    ${k}: ${n}`);
    console.log(`  outcomes (all settings):\n${lines.join("\n")}`);
  });

  it(`directed scenario: every rare branch (32 orders, reduce-only clips, self-trade, spent budget, expiry, OI cap, band, pause, stale index, below maintenance) with A.1-A.4, D.17 and 25 after every step`, async function () {
    const f = await loadFixture(deploy6WithLiquidators);
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

  it(`directed liquidation scenario: partial, whole, refused, batched, stale, fund-covered and fund-short liquidations, bad and good deleveraging legs, deficit covers with an empty, short and sufficient fund, with every invariant after every step`, async function () {
    const f = await loadFixture(deploy6WithLiquidators);
    const r = await setUp(f);
    try {
      await directedLiquidationScenario(r, f.decimals);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n  --- steps ---\n  ${r.trace.join("\n  ")}`);
    }
    for (const key of LIQUIDATION_SCENARIO_OUTCOMES) {
      expect(r.outcomes.get(key) ?? 0, `directed liquidation scenario reached "${key.trim()}"`).to.be.greaterThan(0);
    }
  });

  for (const { decimals, fixture, runs } of SETTINGS) {
    describe(`collateral with ${decimals} decimals`, function () {
      it(`A.1 conservation, A.2 zero-sum, A.3 aggregates, A.4 account state, D.17 uncrossed FIFO book and 25 no foreign change after every step of ${runs} runs x ${STEPS} random operations; fills and errors equal the model's`, async function () {
        const grep = `collateral with ${decimals} decimals`;
        await assertWithReplay(
          `order book campaign (${decimals} decimals)`,
          campaign(fixture, decimals, "default", STEPS),
          runs,
          grep,
          STEPS,
        );
      });
    });
  }

  describe("liquidations and deleveraging", function () {
    before(function () {
      campaignOutcomes.clear();
    });

    for (const { decimals, fixture, liquidationRuns } of SETTINGS) {
      it(`${decimals}-decimal collateral: ${liquidationRuns} runs x ${LIQUIDATION_STEPS} operations with leverage, index shocks, liquidations, batches, deleveraging, deficit covers and fund moves; outcomes equal the model's, the invariants hold after every step`, async function () {
        const grep = `${decimals}-decimal collateral: `;
        await assertWithReplay(
          `liquidation campaign (${decimals} decimals)`,
          campaign(fixture, decimals, "liquidation", LIQUIDATION_STEPS),
          liquidationRuns,
          grep,
          LIQUIDATION_STEPS,
        );
      });
    }

    it("the liquidation campaign reached every liquidation outcome it is meant to", function () {
      if (STATS) {
        const lines = [...campaignOutcomes].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `    ${k}: ${n}`);
        console.log(`  outcomes of the liquidation campaign:\n${lines.join("\n")}`);
      }
      if (!DEFAULT_PROFILE || campaignOutcomes.size === 0) this.skip();
      for (const key of LIQUIDATION_OUTCOMES) {
        expect(campaignOutcomes.get(key) ?? 0, `the liquidation campaign reached "${key.trim()}"`).to.be.greaterThan(0);
      }
    });
  });
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
