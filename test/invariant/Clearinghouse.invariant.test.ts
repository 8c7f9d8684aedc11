/**
 * Model-based random-sequence test of the Clearinghouse (RELIABILITY.md section A, items 1-5).
 *
 * Each run drives the contracts and `test/model/ClearinghouseModel.ts` with the same random operations
 * (deposit, withdraw, fill, oracle update, time warp, token donation, insurance contribution, risk
 * parameters, insurance fee share, early finalize), then settles the series (daily oracle rounds across
 * the averaging window, finalize, dispute window, settlement in batches, full withdrawals). The model
 * predicts the outcome of every operation (success, or the exact custom error and its arguments) and
 * after every step the chain is compared with it:
 *   CH-01 conservation, CH-02 zero-sum, CH-03 stored aggregates, CH-04 account state and mark.
 * CH-05 checks round trips: open then close at one price with zero fees, deposit then withdraw.
 *
 * Profile and replay (environment): CH_SEED (seed, default 20260515), CH_RUNS (runs per collateral setting,
 * default 15), CH_STEPS (random operations per run, default 25), CH_ROUND_TRIP_RUNS (default CH_RUNS / 2),
 * CH_PATH (the fast-check path printed with a failure: replays exactly that run, with the same CH_SEED and
 * CH_STEPS), CH_SHRINK=1 (shrink a failure; slow, every attempt replays on chain), CH_STATS=1 (print how
 * often each operation succeeded or reverted with each error). A failure prints the seed, the path, the
 * generated operations and the resolved steps (block time, amounts, prices) of the failing run.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toUtf8Bytes } from "ethers";
import type { BaseContract, ContractTransactionReceipt, ContractTransactionResponse, Wallet } from "ethers";
import { signReport } from "../../sdk";
import type { ClearinghouseHarness as Clearinghouse, IndexOracle, MockERC20 } from "../../typechain-types";
import { aitRisk, deploy18, deploy6, units } from "../fixtures/clearinghouse";
import type { ClearinghouseFixture } from "../fixtures/clearinghouse";
import { AIT } from "../fixtures/oracle";
import { ClearinghouseModel, SettlementStatus, replacer } from "../model/ClearinghouseModel";
import { clockConfig } from "./harness/run";
import type {
  ExpectedError,
  ModelConfig,
  ModelRiskParams,
  Outcome,
  WrappedOracleError,
} from "../model/ClearinghouseModel";

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

const SEED = envInt("CH_SEED", 20_260_515);
const RUNS = envInt("CH_RUNS", 15);
const STEPS = envInt("CH_STEPS", 25);
const ROUND_TRIP_RUNS = envInt("CH_ROUND_TRIP_RUNS", Math.max(1, Math.ceil(RUNS / 2)));
const PATH = process.env.CH_PATH;
const SHRINK = process.env.CH_SHRINK === "1";
/** CH_STATS=1 prints how often each operation succeeded or reverted with each error (coverage of the branches). */
const STATS = process.env.CH_STATS === "1";
const outcomeCounts = new Map<string, number>();

function countOutcome(label: string, expected: Outcome<unknown>): void {
  if (!STATS) return;
  const operation = /t=\d+ (\w+)/.exec(label)?.[1] ?? "?";
  const key = `${operation}: ${expected.ok ? "ok" : expected.error.name}`;
  outcomeCounts.set(key, (outcomeCounts.get(key) ?? 0) + 1);
}

const HOUR = 3_600n;
const DAY = 86_400n;
const GAS_LIMIT = 6_000_000n;
/** Random operations stay this long before expiry, so the settlement phase always has room for 3+ daily rounds. */
const HORIZON_BEFORE_EXPIRY = 4n * DAY;
const SOURCE_HASHES = [0, 1, 2].map((i) => keccak256(toUtf8Bytes(`source-${i}`)));

// ---------------------------------------------------------------------------------------------
// Chain side of a run
// ---------------------------------------------------------------------------------------------

type Signer = ClearinghouseFixture["alice"];

/** Sums of the value-moving events of every successful transaction of a run. */
interface EventTotals {
  realizedPnlX18: bigint;
  settlementPnlX18: bigint;
  feesChargedX18: bigint;
  feesBookedX18: bigint;
}

interface Chain {
  ch: Clearinghouse;
  token: MockERC20;
  oracle: IndexOracle;
  chAddress: string;
  admin: Signer;
  engine: Signer;
  actors: Signer[];
  names: Map<string, string>;
  reporters: Wallet[];
  domain: { chainId: bigint; oracle: string };
  scale: bigint;
  seriesId: bigint;
  horizon: bigint;
  trace: string[];
  step: number;
  events: EventTotals;
}

/** The fixture plus a fourth funded actor (the fixture's `stranger`, called dave here). */
async function withFourthActor(f: ClearinghouseFixture): Promise<ClearinghouseFixture> {
  await f.token.mint(f.stranger.address, units(1_000_000, f.decimals));
  await f.token.connect(f.stranger).approve(await f.clearinghouse.getAddress(), ethers.MaxUint256);
  return f;
}

async function modelFixture6(): Promise<ClearinghouseFixture> {
  return withFourthActor(await deploy6());
}

async function modelFixture18(): Promise<ClearinghouseFixture> {
  return withFourthActor(await deploy18());
}

/** The harness's model configuration of the fixture's one series, with the actors' token balances. */
async function modelConfig(f: ClearinghouseFixture, actors: Signer[]): Promise<ModelConfig> {
  expect(await f.clearinghouse.seriesCount(), "fixture: one series").to.equal(1n);
  const config = await clockConfig(f, f.seriesId);
  for (const actor of actors) config.wallets[actor.address] = await f.token.balanceOf(actor.address);
  return config;
}

async function setUp(f: ClearinghouseFixture): Promise<{ model: ClearinghouseModel; chain: Chain }> {
  const actors = [f.alice, f.bob, f.carol, f.stranger];
  const model = new ClearinghouseModel(await modelConfig(f, actors));
  const names = new Map<string, string>();
  ["alice", "bob", "carol", "dave"].forEach((name, i) => names.set(actors[i].address, name));
  const chain: Chain = {
    ch: f.clearinghouse,
    token: f.token,
    oracle: f.oracle,
    chAddress: model.clearinghouse,
    admin: f.admin,
    engine: f.engine,
    actors,
    names,
    reporters: f.reporters.slice(0, 3),
    domain: { chainId: (await ethers.provider.getNetwork()).chainId, oracle: await f.oracle.getAddress() },
    scale: model.rawScale,
    seriesId: f.seriesId,
    horizon: model.spec.expiry - HORIZON_BEFORE_EXPIRY,
    trace: [],
    step: 0,
    events: { realizedPnlX18: 0n, settlementPnlX18: 0n, feesChargedX18: 0n, feesBookedX18: 0n },
  };
  return { model, chain };
}

function nameOf(c: Chain, address: string): string {
  return c.names.get(address) ?? address;
}

/** Block time of the next random operation: `gap` later, but random operations stop at the horizon. */
function nextTime(m: ClearinghouseModel, c: Chain, gap: bigint, minGap = 1n): bigint {
  const target = m.now + gap;
  if (target <= c.horizon) return target;
  const floor = m.now + minGap;
  return floor > c.horizon ? floor : c.horizon;
}

function describeError(e: ExpectedError): string {
  return `${e.name}(${e.args.map((a) => JSON.stringify(a, replacer)).join(", ")})`;
}

function isWrapped(value: unknown): value is WrappedOracleError {
  return typeof value === "object" && value !== null && "wrapped" in value;
}

/** Sends a transaction at block time `at` and checks it against the model's prediction. */
async function transact(
  c: Chain,
  label: string,
  at: bigint,
  expected: Outcome<unknown>,
  send: () => Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt | null> {
  await time.setNextBlockTimestamp(at);
  countOutcome(label, expected);
  if (!expected.ok) {
    const e = expected.error;
    const contract: BaseContract = e.contract === "token" ? c.token : e.contract === "oracle" ? c.oracle : c.ch;
    const args = e.args.map((a) =>
      isWrapped(a) ? c.oracle.interface.encodeErrorResult(a.wrapped.name, a.wrapped.args) : a,
    );
    try {
      await expect(send())
        .to.be.revertedWithCustomError(contract, e.name)
        .withArgs(...args);
    } catch (error) {
      throw new Error(`${label}: the model predicted revert ${describeError(e)}: ${(error as Error).message}`);
    }
    return null;
  }
  let receipt: ContractTransactionReceipt | null;
  try {
    receipt = await (await send()).wait();
  } catch (error) {
    throw new Error(`${label}: the model predicted success but the chain reverted: ${(error as Error).message}`);
  }
  if (receipt === null || receipt.status !== 1) throw new Error(`${label}: no successful receipt`);
  collectEvents(c, receipt);
  return receipt;
}

function parsedLogs(c: Chain, receipt: ContractTransactionReceipt) {
  return receipt.logs
    .filter((log) => log.address === c.chAddress)
    .map((log) => c.ch.interface.parseLog(log))
    .filter((parsed) => parsed !== null);
}

function collectEvents(c: Chain, receipt: ContractTransactionReceipt): void {
  for (const log of parsedLogs(c, receipt)) {
    if (log.name === "PositionChanged") c.events.realizedPnlX18 += log.args.realizedPnlX18 as bigint;
    if (log.name === "AccountSettled") c.events.settlementPnlX18 += log.args.pnlX18 as bigint;
    if (log.name === "TradeSettled") {
      c.events.feesChargedX18 += (log.args.makerFeeX18 as bigint) + (log.args.takerFeeX18 as bigint);
    }
    if (log.name === "FeesBooked") c.events.feesBookedX18 += log.args.totalFeeX18 as bigint;
  }
}

// ---------------------------------------------------------------------------------------------
// Checks after every step (CH-01 .. CH-04)
// ---------------------------------------------------------------------------------------------

async function checkInvariants(m: ClearinghouseModel, c: Chain, label: string): Promise<void> {
  const ch = c.ch;
  const seriesId = c.seriesId;
  const [latest, balanceRaw, insurance, feePool, market, mark, settlement, perActor] = await Promise.all([
    time.latest(),
    c.token.balanceOf(c.chAddress),
    ch.insuranceFundX18(),
    ch.feePoolX18(),
    ch.marketState(seriesId),
    ch.markPrice(seriesId),
    ch.settlementOf(seriesId),
    Promise.all(
      c.actors.map(async (a) => {
        const [cash, position, health, wallet] = await Promise.all([
          ch.cashOf(a.address),
          ch.positionOf(a.address, seriesId),
          ch.accountHealth(a.address),
          c.token.balanceOf(a.address),
        ]);
        return { address: a.address, cash, position, health, wallet };
      }),
    ),
  ]);
  const at = `after ${label}`;
  expect(BigInt(latest), `harness: block time ${at}`).to.equal(m.now);

  // CH-01 conservation: every token unit held is an account's value, a pool, or a donation. With open
  // positions an account's value is cash + unrealized PnL (realized PnL alone is not zero-sum: each side
  // realizes against its own average entry); with a flat book it is its cash.
  const cashSum = perActor.reduce((sum, a) => sum + a.cash, 0n);
  const equitySum = perActor.reduce((sum, a) => sum + a.health.equityX18, 0n);
  const openSize = perActor.some((a) => a.position.sizeQty !== 0n);
  expect(
    balanceRaw * c.scale,
    `CH-01 conservation: balance x 10^(18-d) = sum of equity + insurance + fee pool + donations ${at}`,
  ).to.equal(equitySum + insurance + feePool + m.donationsRaw * c.scale);
  if (!openSize) {
    expect(
      balanceRaw * c.scale,
      `CH-01 conservation (flat book): balance x 10^(18-d) = sum of cash + insurance + fee pool + donations ${at}`,
    ).to.equal(cashSum + insurance + feePool + m.donationsRaw * c.scale);
  }
  expect(balanceRaw, `CH-01 conservation: vault token balance ${at}`).to.equal(m.clearinghouseBalanceRaw);

  // CH-02 zero-sum: longs = shorts = open interest; PnL of all accounts at one mark sums to zero.
  const longs = perActor.reduce((sum, a) => sum + (a.position.sizeQty > 0n ? a.position.sizeQty : 0n), 0n);
  const shorts = perActor.reduce((sum, a) => sum + (a.position.sizeQty < 0n ? -a.position.sizeQty : 0n), 0n);
  // Once the settlement is final, accounts settle one by one: then open interest is the longs not yet settled.
  if (settlement.status !== SettlementStatus.Final) {
    expect(longs, `CH-02 zero-sum: sum of long sizes = sum of short sizes ${at}`).to.equal(shorts);
  }
  expect(market.openInterestQty, `CH-02 zero-sum: open interest = sum of long sizes ${at}`).to.equal(longs);
  expect(
    equitySum + insurance + feePool,
    `CH-02 zero-sum: sum of equity + insurance + fee pool = deposits + contributions - withdrawals ${at}`,
  ).to.equal(m.externalInflowX18);
  if (!openSize && settlement.status === SettlementStatus.Final) {
    expect(
      cashSum + insurance + feePool,
      `CH-02 zero-sum after settlement: sum of cash + insurance + fee pool = deposits + contributions - withdrawals ${at}`,
    ).to.equal(m.externalInflowX18);
  }

  // CH-03 stored aggregates equal the model's.
  const ms = m.marketState();
  expect(market.openInterestQty, `CH-03 aggregates: openInterestQty ${at}`).to.equal(ms.openInterestQty);
  expect(insurance, `CH-03 aggregates: insuranceFundX18 ${at}`).to.equal(m.insuranceFundX18);
  expect(feePool, `CH-03 aggregates: feePoolX18 ${at}`).to.equal(m.feePoolX18);
  expect(market.basisEmaX18, `CH-03 aggregates: basisEmaX18 ${at}`).to.equal(ms.basisEmaX18);
  expect(market.lastBasisSampleX18, `CH-03 aggregates: lastBasisSampleX18 ${at}`).to.equal(ms.lastBasisSampleX18);
  expect(market.lastBasisSampleAt, `CH-03 aggregates: lastBasisSampleAt ${at}`).to.equal(ms.lastBasisSampleAt);
  const ms2 = m.settlement();
  expect(settlement.status, `CH-03 aggregates: settlement status ${at}`).to.equal(ms2.status);
  expect(settlement.priceX18, `CH-03 aggregates: settlement price ${at}`).to.equal(ms2.priceX18);
  expect(settlement.finalAt, `CH-03 aggregates: settlement finalAt ${at}`).to.equal(ms2.finalAt);

  // CH-04 account state and mark equal the model's.
  expect(mark, `CH-04 model: markPrice ${at}`).to.equal(m.markPrice());
  for (const a of perActor) {
    const who = `${nameOf(c, a.address)} ${at}`;
    const position = m.positionOf(a.address);
    const health = m.health(a.address);
    expect(a.cash, `CH-04 model: cashOf ${who}`).to.equal(m.cashOf(a.address));
    expect(a.position.sizeQty, `CH-04 model: sizeQty ${who}`).to.equal(position.sizeQty);
    expect(a.position.openNotionalX18, `CH-04 model: openNotionalX18 ${who}`).to.equal(position.openNotionalX18);
    expect(a.health.cashX18, `CH-04 model: health.cashX18 ${who}`).to.equal(health.cashX18);
    expect(a.health.unrealizedPnlX18, `CH-04 model: health.unrealizedPnlX18 ${who}`).to.equal(health.unrealizedPnlX18);
    expect(a.health.equityX18, `CH-04 model: health.equityX18 ${who}`).to.equal(health.equityX18);
    expect(a.health.initialMarginX18, `CH-04 model: health.initialMarginX18 ${who}`).to.equal(health.initialMarginX18);
    expect(a.health.maintenanceMarginX18, `CH-04 model: health.maintenanceMarginX18 ${who}`).to.equal(
      health.maintenanceMarginX18,
    );
    expect(a.health.withdrawableX18, `CH-04 model: health.withdrawableX18 ${who}`).to.equal(health.withdrawableX18);
    expect(a.wallet, `CH-04 model: token balance ${who}`).to.equal(m.walletOf(a.address));
  }
}

/** Records a step, runs it, then checks every invariant. */
async function step(
  m: ClearinghouseModel,
  c: Chain,
  description: string,
  body: (label: string) => Promise<void>,
): Promise<void> {
  c.step += 1;
  const label = `step ${c.step} [${description}]`;
  c.trace.push(label);
  await body(label);
  await checkInvariants(m, c, label);
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

async function deposit(m: ClearinghouseModel, c: Chain, actor: Signer, amountRaw: bigint, at: bigint): Promise<void> {
  await step(m, c, `t=${at} deposit ${nameOf(c, actor.address)} ${amountRaw} raw`, async (label) => {
    m.advanceTo(at);
    const expected = m.deposit(actor.address, amountRaw);
    await transact(c, label, at, expected, () => c.ch.connect(actor).deposit(amountRaw, { gasLimit: GAS_LIMIT }));
  });
}

async function withdraw(
  m: ClearinghouseModel,
  c: Chain,
  actor: Signer,
  amountOf: (withdrawableRaw: bigint) => bigint,
  at: bigint,
  note = "",
): Promise<void> {
  m.advanceTo(at);
  const withdrawable = m.withdrawableRaw(actor.address);
  const amountRaw = amountOf(withdrawable);
  const what = `t=${at} withdraw ${nameOf(c, actor.address)} ${amountRaw} raw of ${withdrawable} withdrawable${note}`;
  await step(m, c, what, async (label) => {
    const expected = m.withdraw(actor.address, amountRaw);
    await transact(c, label, at, expected, () =>
      c.ch.connect(actor).withdraw(actor.address, amountRaw, actor.address, { gasLimit: GAS_LIMIT }),
    );
  });
}

/** Mints test tokens to an actor (the mock token's open faucet). */
async function mint(m: ClearinghouseModel, c: Chain, actor: Signer, amountRaw: bigint, at: bigint): Promise<void> {
  await step(m, c, `t=${at} mint ${amountRaw} raw to ${nameOf(c, actor.address)}`, async (label) => {
    m.advanceTo(at);
    m.creditWallet(actor.address, amountRaw);
    await transact(c, label, at, { ok: true, value: null }, () =>
      c.token.mint(actor.address, amountRaw, { gasLimit: GAS_LIMIT }),
    );
  });
}

async function donate(m: ClearinghouseModel, c: Chain, actor: Signer, amountRaw: bigint, at: bigint): Promise<void> {
  await step(m, c, `t=${at} donate ${nameOf(c, actor.address)} ${amountRaw} raw (plain transfer)`, async (label) => {
    m.advanceTo(at);
    const expected = m.donate(actor.address, amountRaw);
    await transact(c, label, at, expected, () =>
      c.token.connect(actor).transfer(c.chAddress, amountRaw, { gasLimit: GAS_LIMIT }),
    );
  });
}

async function contribute(m: ClearinghouseModel, c: Chain, actor: Signer, amountRaw: bigint, at: bigint) {
  await step(m, c, `t=${at} contributeInsurance ${nameOf(c, actor.address)} ${amountRaw} raw`, async (label) => {
    m.advanceTo(at);
    const expected = m.contributeInsurance(actor.address, amountRaw);
    await transact(c, label, at, expected, () =>
      c.ch.connect(actor).contributeInsurance(amountRaw, { gasLimit: GAS_LIMIT }),
    );
  });
}

/** Where a fill's price goes: inside the band (at a fraction of it), just outside it, or off the tick. */
type PriceMode = "inside" | "below" | "above" | "offTick";

function fillPrice(m: ClearinghouseModel, mode: PriceMode, positionBps: bigint): bigint {
  const tick = m.spec.tickSizeX18;
  const { minPriceX18, maxPriceX18 } = m.priceBand();
  const lo = ((minPriceX18 + tick - 1n) / tick) * tick;
  const hi = (maxPriceX18 / tick) * tick;
  const inside = hi >= lo ? lo + ((((hi - lo) / tick) * positionBps) / 10_000n) * tick : lo;
  if (mode === "below") return lo > tick ? lo - tick : tick;
  if (mode === "above") return hi + tick;
  if (mode === "offTick") return inside + 1n;
  return inside;
}

/** A fill's quantity: random, exactly to the taker's position limit or one past it, or about all its free margin. */
type QtyMode = "random" | "toLimit" | "overLimit" | "toMargin";

function fillQty(
  m: ClearinghouseModel,
  maker: string,
  taker: string,
  takerIsBuy: boolean,
  mode: QtyMode,
  qty: bigint,
): bigint {
  if (mode === "random") return qty;
  if (mode === "toMargin") {
    // The free margin of the poorer side, so that both can usually take the fill.
    const free = [maker, taker]
      .map((account) => m.health(account))
      .map((h) => h.equityX18 - h.initialMarginX18)
      .reduce((a, b) => (a < b ? a : b));
    const perContract = (m.markPrice() * m.spec.contractMultiplier * m.risk.imBps) / 10_000n + 1n;
    const toMargin = free / perContract;
    return toMargin > 0n ? toMargin : 1n;
  }
  const size = m.positionOf(taker).sizeQty;
  const limit = m.risk.positionLimitQty;
  const room = takerIsBuy ? limit - size : limit + size;
  const toLimit = room > 0n ? room : 1n;
  return mode === "toLimit" ? toLimit : toLimit + 1n;
}

async function trade(
  m: ClearinghouseModel,
  c: Chain,
  maker: Signer,
  taker: Signer,
  takerIsBuy: boolean,
  qty: bigint,
  price: (m: ClearinghouseModel) => bigint,
  at: bigint,
): Promise<void> {
  m.advanceTo(at);
  const priceX18 = price(m);
  const side = takerIsBuy ? "buys" : "sells";
  const what = `t=${at} fill taker ${nameOf(c, taker.address)} ${side} ${qty} from maker ${nameOf(c, maker.address)} @ ${priceX18}`;
  await step(m, c, what, async (label) => {
    const expected = m.trade({ maker: maker.address, taker: taker.address, takerIsBuy, qty, priceX18 });
    const receipt = await transact(c, label, at, expected, () =>
      c.ch
        .connect(c.engine)
        .applyTrade(
          { seriesId: c.seriesId, maker: maker.address, taker: taker.address, takerIsBuy, qty, priceX18 },
          { gasLimit: GAS_LIMIT },
        ),
    );
    if (receipt === null || !expected.ok) return;
    // The events carry what the model computed: fees, realized PnL, the basis sample.
    const logs = parsedLogs(c, receipt);
    const settled = logs.find((l) => l.name === "TradeSettled");
    const sampled = logs.find((l) => l.name === "BasisSampled");
    const changes = logs.filter((l) => l.name === "PositionChanged");
    expect(settled?.args.makerFeeX18, `CH-04 model: maker fee of ${label}`).to.equal(expected.value.maker.feeX18);
    expect(settled?.args.takerFeeX18, `CH-04 model: taker fee of ${label}`).to.equal(expected.value.taker.feeX18);
    expect(sampled?.args.sampleX18, `CH-03 aggregates: basis sample of ${label}`).to.equal(
      expected.value.basisSampleX18,
    );
    expect(sampled?.args.emaX18, `CH-03 aggregates: basis EMA before the sample of ${label}`).to.equal(
      expected.value.basisEmaX18,
    );
    expect(
      changes.map((l) => l.args.realizedPnlX18 as bigint),
      `CH-04 model: realized PnL of ${label}`,
    ).to.deep.equal([expected.value.maker.realizedPnlX18, expected.value.taker.realizedPnlX18]);
  });
}

/** Publishes an agreeing round of three reporters observed at `at` (the block time of the submission). */
async function publish(m: ClearinghouseModel, c: Chain, priceX18: bigint, at: bigint, note = ""): Promise<void> {
  await step(m, c, `t=${at} oracle round ${priceX18}${note}`, async (label) => {
    m.advanceTo(at);
    m.publish(priceX18);
    const reports = await Promise.all(
      c.reporters.map((reporter, i) =>
        signReport(reporter, c.domain, {
          feedId: AIT,
          priceX18,
          observedAt: at,
          methodologyVersion: 1,
          sourceHash: SOURCE_HASHES[i],
        }),
      ),
    );
    await time.setNextBlockTimestamp(at);
    const receipt = await (await c.oracle.submit(AIT, reports, { gasLimit: GAS_LIMIT })).wait();
    const accepted = (receipt?.logs ?? [])
      .map((log) => c.oracle.interface.parseLog(log))
      .find((log) => log !== null && log.name === "RoundAccepted");
    expect(accepted?.args.observedAt, `harness: oracle accepted the round of ${label}`).to.equal(at);
  });
}

function movedPrice(m: ClearinghouseModel, moveBps: bigint, extraWei: bigint): bigint {
  return (m.latestRound().priceX18 * (10_000n + moveBps)) / 10_000n + extraWei;
}

async function warp(m: ClearinghouseModel, c: Chain, at: bigint, note = ""): Promise<void> {
  await step(m, c, `t=${at} warp +${at - m.now}s${note}`, async () => {
    await time.increaseTo(at);
    m.advanceTo(at);
  });
}

async function setRisk(m: ClearinghouseModel, c: Chain, risk: ModelRiskParams, at: bigint): Promise<void> {
  await step(m, c, `t=${at} setRiskParams ${JSON.stringify(risk, replacer)}`, async (label) => {
    m.advanceTo(at);
    const expected = m.setRiskParams(risk);
    await transact(c, label, at, expected, () =>
      c.ch.connect(c.admin).setRiskParams(c.seriesId, risk, { gasLimit: GAS_LIMIT }),
    );
  });
}

async function setShare(m: ClearinghouseModel, c: Chain, bps: bigint, at: bigint): Promise<void> {
  await step(m, c, `t=${at} setInsuranceFeeShare ${bps}`, async (label) => {
    m.advanceTo(at);
    const expected = m.setInsuranceFeeShare(bps);
    await transact(c, label, at, expected, () =>
      c.ch.connect(c.admin).setInsuranceFeeShare(bps, { gasLimit: GAS_LIMIT }),
    );
  });
}

async function finalize(m: ClearinghouseModel, c: Chain, caller: Signer, at: bigint, note = ""): Promise<void> {
  await step(m, c, `t=${at} finalizeSettlement by ${nameOf(c, caller.address)}${note}`, async (label) => {
    m.advanceTo(at);
    const expected = m.finalizeSettlement();
    await transact(c, label, at, expected, () =>
      c.ch.connect(caller).finalizeSettlement(c.seriesId, { gasLimit: GAS_LIMIT }),
    );
  });
}

async function settleBatch(m: ClearinghouseModel, c: Chain, accounts: string[], at: bigint): Promise<void> {
  const who = accounts.map((a) => nameOf(c, a)).join(",");
  await step(m, c, `t=${at} settleAccounts [${who}]`, async (label) => {
    m.advanceTo(at);
    const expected = m.settleAccounts(accounts);
    const receipt = await transact(c, label, at, expected, () =>
      c.ch.settleAccounts(c.seriesId, accounts, { gasLimit: GAS_LIMIT }),
    );
    if (receipt === null || !expected.ok) return;
    const settled = parsedLogs(c, receipt).filter((l) => l.name === "AccountSettled");
    expect(
      settled.map((l) => [l.args.account as string, l.args.pnlX18 as bigint]),
      `CH-04 model: accounts settled and their PnL in ${label}`,
    ).to.deep.equal(expected.value.settled.map((a, i) => [a, expected.value.pnlX18[i]]));
  });
}

async function settleOne(m: ClearinghouseModel, c: Chain, account: string, at: bigint): Promise<void> {
  await step(m, c, `t=${at} settleAccount ${nameOf(c, account)} (strict)`, async (label) => {
    m.advanceTo(at);
    const expected = m.settleAccounts([account], true);
    await transact(c, label, at, expected, () => c.ch.settleAccount(c.seriesId, account, { gasLimit: GAS_LIMIT }));
  });
}

// ---------------------------------------------------------------------------------------------
// Random operations (fast-check commands)
// ---------------------------------------------------------------------------------------------

type Op =
  | { kind: "deposit"; actor: number; amountRaw: bigint; gap: bigint }
  | { kind: "withdraw"; actor: number; fractionBps: bigint; extraRaw: bigint; gap: bigint }
  | {
      kind: "fill";
      maker: number;
      takerOffset: number;
      takerIsBuy: boolean;
      qty: bigint;
      qtyMode: QtyMode;
      reduce: boolean;
      mode: PriceMode;
      positionBps: bigint;
      gap: bigint;
    }
  | { kind: "oracle"; gap: bigint; moveBps: bigint; extraWei: bigint }
  | { kind: "warp"; gap: bigint }
  | { kind: "donate"; actor: number; amountRaw: bigint; gap: bigint }
  | { kind: "contribute"; actor: number; amountRaw: bigint; gap: bigint }
  | { kind: "risk"; risk: ModelRiskParams; gap: bigint }
  | { kind: "share"; bps: bigint; gap: bigint }
  | { kind: "finalize"; actor: number; gap: bigint };

async function runOp(m: ClearinghouseModel, c: Chain, op: Op): Promise<void> {
  switch (op.kind) {
    case "deposit":
      return deposit(m, c, c.actors[op.actor], op.amountRaw, nextTime(m, c, op.gap));
    case "withdraw":
      return withdraw(
        m,
        c,
        c.actors[op.actor],
        (w) => (w * op.fractionBps) / 10_000n + op.extraRaw,
        nextTime(m, c, op.gap),
        ` (x${op.fractionBps}bps +${op.extraRaw})`,
      );
    case "fill": {
      const taker = c.actors[(op.maker + op.takerOffset) % c.actors.length];
      const size = m.positionOf(taker.address).sizeQty;
      if (op.reduce && size !== 0n) {
        // The taker only reduces, at a price in the quarter of the band that is worst for it.
        const takerIsBuy = size < 0n;
        // Leaves some of the position open when it can (a full close needs no margin).
        const absSize = size < 0n ? -size : size;
        const qty = absSize === 1n ? 1n : op.qty > 0n && op.qty < absSize ? op.qty : absSize - 1n;
        const positionBps = takerIsBuy ? 10_000n - op.positionBps / 4n : op.positionBps / 4n;
        return trade(
          m,
          c,
          c.actors[op.maker],
          taker,
          takerIsBuy,
          qty,
          (model) => fillPrice(model, op.mode, positionBps),
          nextTime(m, c, op.gap),
        );
      }
      return trade(
        m,
        c,
        c.actors[op.maker],
        taker,
        op.takerIsBuy,
        fillQty(m, c.actors[op.maker].address, taker.address, op.takerIsBuy, op.qtyMode, op.qty),
        (model) => fillPrice(model, op.mode, op.positionBps),
        nextTime(m, c, op.gap),
      );
    }
    case "oracle": {
      const at = nextTime(m, c, op.gap, m.spec.feedMinIntervalSec);
      return publish(m, c, movedPrice(m, op.moveBps, op.extraWei), at, ` (${op.moveBps}bps)`);
    }
    case "warp":
      return warp(m, c, nextTime(m, c, op.gap, 900n));
    case "donate":
      return donate(m, c, c.actors[op.actor], op.amountRaw, nextTime(m, c, op.gap));
    case "contribute":
      return contribute(m, c, c.actors[op.actor], op.amountRaw, nextTime(m, c, op.gap));
    case "risk":
      return setRisk(m, c, op.risk, nextTime(m, c, op.gap));
    case "share":
      return setShare(m, c, op.bps, nextTime(m, c, op.gap));
    case "finalize":
      return finalize(m, c, c.actors[op.actor], nextTime(m, c, op.gap), " (random, early)");
  }
}

class OpCommand implements fc.AsyncCommand<ClearinghouseModel, Chain> {
  constructor(readonly op: Op) {}

  check(): boolean {
    return true;
  }

  async run(m: ClearinghouseModel, c: Chain): Promise<void> {
    await runOp(m, c, this.op);
  }

  toString(): string {
    return JSON.stringify(this.op, replacer);
  }

  [fc.toStringMethod](): string {
    return this.toString();
  }
}

function rawAmount(decimals: number, minTokens: number, maxTokens: number): fc.Arbitrary<bigint> {
  return fc.bigInt({ min: units(minTokens, decimals) + (minTokens === 0 ? 1n : 0n), max: units(maxTokens, decimals) });
}

function riskArbitrary(): fc.Arbitrary<ModelRiskParams> {
  const base = aitRisk();
  const defaults: ModelRiskParams = {
    imBps: BigInt(base.imBps),
    mmBps: BigInt(base.mmBps),
    orderBandBps: BigInt(base.orderBandBps),
    liquidationPenaltyBps: BigInt(base.liquidationPenaltyBps),
    makerFeeBps: BigInt(base.makerFeeBps),
    takerFeeBps: BigInt(base.takerFeeBps),
    positionLimitQty: BigInt(base.positionLimitQty),
    openInterestCapQty: BigInt(base.openInterestCapQty),
  };
  const random = fc
    .record({
      imBps: fc.bigInt({ min: 1_000n, max: 5_000n }),
      mmPercent: fc.bigInt({ min: 25n, max: 90n }),
      orderBandBps: fc.bigInt({ min: 500n, max: 2_000n }),
      takerFeeBps: fc.bigInt({ min: 0n, max: 100n }),
      makerFeeBps: fc.bigInt({ min: -100n, max: 100n }),
      positionLimitQty: fc.oneof(fc.constant(2_000n), fc.bigInt({ min: 20n, max: 400n })),
      openInterestCapQty: fc.oneof(fc.constant(5_000n), fc.bigInt({ min: 40n, max: 1_500n })),
    })
    .map((r) => ({
      imBps: r.imBps,
      mmBps: (r.imBps * r.mmPercent) / 100n,
      orderBandBps: r.orderBandBps,
      liquidationPenaltyBps: 100n,
      makerFeeBps: r.makerFeeBps < -r.takerFeeBps ? -r.takerFeeBps : r.makerFeeBps,
      takerFeeBps: r.takerFeeBps,
      positionLimitQty: r.positionLimitQty,
      openInterestCapQty: r.openInterestCapQty,
    }));
  return fc.oneof(
    { weight: 2, arbitrary: random },
    { weight: 1, arbitrary: fc.constant(defaults) },
    { weight: 1, arbitrary: fc.constant({ ...defaults, makerFeeBps: 0n, takerFeeBps: 0n }) },
    { weight: 1, arbitrary: fc.constant({ ...defaults, makerFeeBps: -5n, takerFeeBps: 5n }) },
    // Stressed: most open positions fall below initial margin, and the band is wider than maintenance,
    // so a reducing fill at a bad price lowers the maintenance surplus (and must then end above IM).
    { weight: 2, arbitrary: fc.constant({ ...defaults, imBps: 10_000n, mmBps: 500n, orderBandBps: 2_000n }) },
  );
}

function opArbitrary(decimals: number): fc.Arbitrary<OpCommand> {
  const actor = fc.integer({ min: 0, max: 3 });
  const gap = fc.bigInt({ min: 1n, max: 120n });
  const depositAmount = fc.oneof(
    { weight: 1, arbitrary: fc.constant(1n) },
    { weight: 1, arbitrary: fc.constant(0n) },
    { weight: 2, arbitrary: rawAmount(decimals, 0, 1_000) },
    { weight: 6, arbitrary: rawAmount(decimals, 20_000, 300_000) },
  );
  const smallAmount = fc.oneof(fc.constant(1n), rawAmount(decimals, 0, 500));
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 38,
      arbitrary: fc.record({
        kind: fc.constant("fill" as const),
        maker: actor,
        takerOffset: fc.oneof(
          { weight: 30, arbitrary: fc.integer({ min: 1, max: 3 }) },
          { weight: 1, arbitrary: fc.constant(0) },
        ),
        takerIsBuy: fc.boolean(),
        qty: fc.oneof(
          { weight: 40, arbitrary: fc.bigInt({ min: 1n, max: 50n }) },
          { weight: 1, arbitrary: fc.constant(0n) },
        ),
        qtyMode: fc.oneof(
          { weight: 16, arbitrary: fc.constant<QtyMode>("random") },
          { weight: 2, arbitrary: fc.constant<QtyMode>("toMargin") },
          { weight: 1, arbitrary: fc.constant<QtyMode>("toLimit") },
          { weight: 1, arbitrary: fc.constant<QtyMode>("overLimit") },
        ),
        reduce: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        mode: fc.oneof(
          { weight: 40, arbitrary: fc.constant<PriceMode>("inside") },
          { weight: 1, arbitrary: fc.constant<PriceMode>("below") },
          { weight: 1, arbitrary: fc.constant<PriceMode>("above") },
          { weight: 1, arbitrary: fc.constant<PriceMode>("offTick") },
        ),
        positionBps: fc.bigInt({ min: 0n, max: 10_000n }),
        gap: fc.bigInt({ min: 1n, max: 2_400n }),
      }),
    },
    {
      weight: 14,
      arbitrary: fc.record({
        kind: fc.constant("oracle" as const),
        gap: fc.bigInt({ min: 900n, max: 12n * HOUR }),
        moveBps: fc.bigInt({ min: -500n, max: 500n }),
        extraWei: fc.bigInt({ min: 0n, max: 999n }),
      }),
    },
    {
      weight: 10,
      arbitrary: fc.record({ kind: fc.constant("deposit" as const), actor, amountRaw: depositAmount, gap }),
    },
    {
      weight: 12,
      arbitrary: fc.record({
        kind: fc.constant("withdraw" as const),
        actor,
        fractionBps: fc.oneof(fc.constant(10_000n), fc.bigInt({ min: 0n, max: 11_000n })),
        extraRaw: fc.oneof(fc.constant(0n), fc.constant(1n), fc.bigInt({ min: 0n, max: 3n })),
        gap,
      }),
    },
    {
      weight: 7,
      arbitrary: fc.record({ kind: fc.constant("warp" as const), gap: fc.bigInt({ min: 900n, max: 2n * DAY }) }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("donate" as const), actor, amountRaw: smallAmount, gap }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("contribute" as const), actor, amountRaw: smallAmount, gap }),
    },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("risk" as const), risk: riskArbitrary(), gap }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("share" as const),
        bps: fc.oneof(fc.constant(0n), fc.constant(10_000n), fc.bigInt({ min: 0n, max: 10_000n })),
        gap,
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("finalize" as const), actor, gap }) },
  );
  return op.map((o) => new OpCommand(o));
}

// ---------------------------------------------------------------------------------------------
// Prelude and settlement phase
// ---------------------------------------------------------------------------------------------

interface Plan {
  startOffsetSec: bigint;
  startMoveBps: bigint;
  initialDepositsRaw: bigint[];
  endSeed: number;
}

function planArbitrary(decimals: number): fc.Arbitrary<Plan> {
  return fc.record({
    startOffsetSec: fc.oneof(
      { weight: 1, arbitrary: fc.constant(0n) },
      { weight: 3, arbitrary: fc.bigInt({ min: HOUR, max: 36n * DAY }) },
    ),
    startMoveBps: fc.bigInt({ min: -500n, max: 500n }),
    initialDepositsRaw: fc.array(rawAmount(decimals, 100_000, 400_000), { minLength: 4, maxLength: 4 }),
    endSeed: fc.integer(),
  });
}

/** Optionally starts later in the series' life (fresh index), then funds every actor. */
async function prelude(m: ClearinghouseModel, c: Chain, plan: Plan): Promise<void> {
  if (plan.startOffsetSec > 0n) {
    const at = nextTime(m, c, plan.startOffsetSec, m.spec.feedMinIntervalSec);
    await publish(m, c, movedPrice(m, plan.startMoveBps, 0n), at, " (start of the run)");
  }
  for (let i = 0; i < c.actors.length; i++) {
    await deposit(m, c, c.actors[i], plan.initialDepositsRaw[i], m.now + 1n);
  }
}

/** mulberry32: a small seeded generator for the settlement phase (replayable from the plan's seed). */
function rng(seed: number): (min: bigint, max: bigint) => bigint {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return (min, max) => min + BigInt(Math.floor(next() * Number(max - min + 1n)));
}

/**
 * Settles the series: rounds at most 23.5 h apart (max age 24 h) across the averaging window up to expiry, a late fill
 * and an early finalize that must revert, a round after expiry, finalize, the dispute window,
 * settleAccounts in two batches, a strict settle of a flat account, then full withdrawals.
 */
async function settlementPhase(m: ClearinghouseModel, c: Chain, seed: number): Promise<void> {
  const random = rng(seed);
  const expiry = m.spec.expiry;
  const windowStart = m.windowStart;
  for (;;) {
    let at = m.now + random(18n * HOUR, 23n * HOUR + 30n * 60n);
    if (at < windowStart - DAY) at = windowStart - random(0n, 12n * HOUR);
    if (at >= expiry) break;
    await publish(m, c, movedPrice(m, random(-300n, 300n), random(0n, 999n)), at, " (settlement phase)");
  }
  expect(m.roundsIn(windowStart, expiry), "harness: rounds inside the averaging window").to.be.gte(
    Number(m.spec.minSettlementRounds),
  );

  await warp(m, c, expiry + random(0n, 2n * HOUR), " (past expiry)");
  const first = Number(random(0n, 3n));
  const a = c.actors[first];
  const b = c.actors[(first + Number(random(1n, 3n))) % 4];
  await trade(m, c, a, b, true, 1n, (x) => fillPrice(x, "inside", 5_000n), m.now + 1n);
  await finalize(m, c, a, m.now + 1n, " (before a round at or after expiry)");
  const roundAt = m.now + random(1n, HOUR);
  const earliest = m.latestRound().observedAt + m.spec.feedMinIntervalSec;
  const afterExpiry = roundAt > earliest ? roundAt : earliest;
  await publish(m, c, movedPrice(m, random(-300n, 300n), 0n), afterExpiry, " (after expiry)");
  await finalize(m, c, b, m.now + 1n);
  await finalize(m, c, a, m.now + 1n, " (twice)");
  await settleBatch(
    m,
    c,
    c.actors.map((x) => x.address),
    m.now + 1n,
  );
  // Still valued at the mark while the proposed price can be challenged.
  await withdraw(m, c, a, (w) => w / 2n, m.now + random(1n, HOUR), " (dispute window)");

  await warp(m, c, m.settlement().finalAt + random(0n, HOUR), " (dispute window over)");
  const order = c.actors.map((x) => x.address);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Number(random(0n, BigInt(i)));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const cut = Number(random(1n, BigInt(order.length - 1)));
  await settleBatch(m, c, order.slice(0, cut), m.now + 1n);
  await settleBatch(m, c, [...order.slice(cut), order[0]], m.now + 1n);
  await settleOne(m, c, order[Number(random(0n, 3n))], m.now + 1n);

  for (const actor of c.actors) {
    if (m.withdrawableRaw(actor.address) > 0n) await withdraw(m, c, actor, (w) => w, m.now + 1n, " (everything)");
  }
  await withdraw(m, c, a, (w) => w + 1n, m.now + 1n, " (one raw unit too many)");

  // CH-02 zero-sum of the settled series, from the chain's own events: PnL sums to zero, fees go to the pools.
  const events = c.events;
  expect(
    events.realizedPnlX18 + events.settlementPnlX18,
    "CH-02 zero-sum: realized + settlement PnL of all accounts",
  ).to.equal(0n);
  expect(events.feesChargedX18, "CH-02 zero-sum: fees charged = fees booked").to.equal(events.feesBookedX18);
  const [insurance, feePool] = await Promise.all([c.ch.insuranceFundX18(), c.ch.feePoolX18()]);
  expect(insurance + feePool, "CH-02 zero-sum: pools = fees booked + contributions").to.equal(
    events.feesBookedX18 + m.contributionsX18,
  );
  const totals = m.pnlTotals;
  expect(events.realizedPnlX18, "CH-04 model: lifetime realized PnL").to.equal(totals.realizedPnlX18);
  expect(events.settlementPnlX18, "CH-04 model: lifetime settlement PnL").to.equal(totals.settlementPnlX18);
  expect(events.feesChargedX18, "CH-04 model: lifetime fees").to.equal(totals.feesChargedX18);
}

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

async function assertWithReplay<Ts extends unknown[]>(
  name: string,
  property: fc.IAsyncProperty<Ts>,
  runs: number,
): Promise<void> {
  const parameters: fc.Parameters<Ts> = { seed: SEED, numRuns: runs, endOnFailure: !SHRINK };
  // With a path, replay exactly that run.
  if (PATH !== undefined && PATH !== "") Object.assign(parameters, { path: PATH, numRuns: 1 });
  try {
    await fc.assert(property, parameters);
  } catch (error) {
    const path = /path: "([^"]*)"/.exec((error as Error).message)?.[1] ?? "<path below>";
    const replay = `CH_SEED=${SEED} CH_STEPS=${STEPS} CH_PATH=${path} npx hardhat test --no-compile test/invariant/Clearinghouse.invariant.test.ts`;
    console.error(`\n${name} failed with seed ${SEED}; replay: ${replay}`);
    const cause = (error as Error).cause;
    const detail =
      cause instanceof Error ? `\nCause: ${cause.message}` : cause !== undefined ? `\nCause: ${String(cause)}` : "";
    throw new Error(`${name} failed (seed ${SEED}). Replay: ${replay}\n${(error as Error).message}${detail}`);
  }
}

function campaign(fixture: () => Promise<ClearinghouseFixture>, decimals: number) {
  return fc.asyncProperty(
    planArbitrary(decimals),
    fc.array(opArbitrary(decimals), { minLength: STEPS, maxLength: STEPS }),
    async (plan, commands) => {
      const f = await loadFixture(fixture);
      const { model, chain } = await setUp(f);
      try {
        await prelude(model, chain, plan);
        await fc.asyncModelRun(() => ({ model, real: chain }), commands);
        await settlementPhase(model, chain, plan.endSeed);
      } catch (error) {
        const steps = chain.trace.join("\n  ");
        throw new Error(`${(error as Error).message}\n  --- steps of the failing run ---\n  ${steps}`);
      }
    },
  );
}

// ---------------------------------------------------------------------------------------------
// CH-05 round trips
// ---------------------------------------------------------------------------------------------

interface RoundTripPlan {
  maker: number;
  takerOffset: number;
  takerIsBuy: boolean;
  qty: bigint;
  openChunks: number;
  closeChunks: number;
  positionBps: bigint;
  startOffsetSec: bigint;
  extraRaw: [bigint, bigint];
  gaps: bigint[];
}

function roundTripArbitrary(decimals: number): fc.Arbitrary<RoundTripPlan> {
  return fc.record({
    maker: fc.integer({ min: 0, max: 3 }),
    takerOffset: fc.integer({ min: 1, max: 3 }),
    takerIsBuy: fc.boolean(),
    qty: fc.oneof(
      fc.constant(1n),
      fc.bigInt({ min: 1n, max: 50n }),
      fc.bigInt({ min: 1n, max: 2_000n }),
      fc.constant(2_000n),
    ),
    openChunks: fc.integer({ min: 1, max: 3 }),
    closeChunks: fc.integer({ min: 1, max: 3 }),
    positionBps: fc.bigInt({ min: 2_500n, max: 7_500n }),
    startOffsetSec: fc.oneof(fc.constant(0n), fc.bigInt({ min: HOUR, max: 36n * DAY })),
    extraRaw: fc.tuple(
      fc.oneof(fc.constant(1n), rawAmount(decimals, 0, 1_000)),
      fc.oneof(fc.constant(1n), rawAmount(decimals, 0, 1_000)),
    ),
    gaps: fc.array(fc.bigInt({ min: 1n, max: 600n }), { minLength: 6, maxLength: 6 }),
  });
}

function chunks(total: bigint, count: number): bigint[] {
  const parts: bigint[] = [];
  let left = total;
  for (let i = count; i > 0 && left > 0n; i--) {
    const part = i === 1 ? left : (left + BigInt(i) - 1n) / BigInt(i);
    parts.push(part);
    left -= part;
  }
  return parts;
}

function roundTrip(fixture: () => Promise<ClearinghouseFixture>, decimals: number) {
  return fc.asyncProperty(roundTripArbitrary(decimals), async (plan) => {
    const f = await loadFixture(fixture);
    const { model: m, chain: c } = await setUp(f);
    try {
      await setRisk(m, c, { ...m.risk, makerFeeBps: 0n, takerFeeBps: 0n }, m.now + 1n);
      if (plan.startOffsetSec > 0n) {
        await publish(m, c, movedPrice(m, 0n, 0n), nextTime(m, c, plan.startOffsetSec, 900n), " (start of the run)");
      }
      const maker = c.actors[plan.maker];
      const taker = c.actors[(plan.maker + plan.takerOffset) % 4];
      // Margin for the largest position: 40% of its notional at up to 5 USD covers IM and a band-edge price.
      const depositsRaw = [maker, taker].map((_, i) => units(plan.qty * 2_000n, decimals) + plan.extraRaw[i]);
      for (const [i, actor] of [maker, taker].entries()) await mint(m, c, actor, depositsRaw[i], m.now + 1n);
      const walletsBefore = [maker, taker].map((a) => m.walletOf(a.address));
      for (const [i, actor] of [maker, taker].entries()) await deposit(m, c, actor, depositsRaw[i], m.now + 1n);
      const cashBefore = await Promise.all([maker, taker].map((a) => c.ch.cashOf(a.address)));
      const poolsBefore = (await c.ch.insuranceFundX18()) + (await c.ch.feePoolX18());

      m.advanceTo(m.now + plan.gaps[0]);
      const priceX18 = fillPrice(m, "inside", plan.positionBps);
      let g = 1;
      for (const part of chunks(plan.qty, plan.openChunks)) {
        await trade(m, c, maker, taker, plan.takerIsBuy, part, () => priceX18, m.now + plan.gaps[g++]);
      }
      const open = await c.ch.positionOf(taker.address, c.seriesId);
      expect(open.sizeQty, "CH-05 round trip: the position opened").to.equal(plan.takerIsBuy ? plan.qty : -plan.qty);
      for (const part of chunks(plan.qty, plan.closeChunks)) {
        await trade(m, c, maker, taker, !plan.takerIsBuy, part, () => priceX18, m.now + plan.gaps[g++ % 6]);
      }
      const cashAfter = await Promise.all([maker, taker].map((a) => c.ch.cashOf(a.address)));
      expect(
        cashAfter,
        "CH-05 round trip: open then close at one price with zero fees leaves cash unchanged",
      ).to.deep.equal(cashBefore);
      for (const actor of [maker, taker]) {
        const position = await c.ch.positionOf(actor.address, c.seriesId);
        expect([position.sizeQty, position.openNotionalX18], "CH-05 round trip: flat again").to.deep.equal([0n, 0n]);
      }
      expect(
        (await c.ch.marketState(c.seriesId)).openInterestQty,
        "CH-05 round trip: open interest back to 0",
      ).to.equal(0n);
      expect((await c.ch.insuranceFundX18()) + (await c.ch.feePoolX18()), "CH-05 round trip: no fee booked").to.equal(
        poolsBefore,
      );
      // Deposit then withdraw everything: the wallet is back to the last raw unit.
      for (const actor of [maker, taker]) await withdraw(m, c, actor, (w) => w, m.now + 1n, " (everything)");
      const walletsAfter = await Promise.all([maker, taker].map((a) => c.token.balanceOf(a.address)));
      expect(walletsAfter, "CH-05 round trip: deposit then withdraw returns every raw unit").to.deep.equal(
        walletsBefore,
      );
      const cashEnd = await Promise.all([maker, taker].map((a) => c.ch.cashOf(a.address)));
      expect(cashEnd, "CH-05 round trip: no cash left behind").to.deep.equal([0n, 0n]);
    } catch (error) {
      const steps = c.trace.join("\n  ");
      throw new Error(`${(error as Error).message}\n  --- steps of the failing run ---\n  ${steps}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

const SETTINGS = [
  { decimals: 6, fixture: modelFixture6 },
  { decimals: 18, fixture: modelFixture18 },
];

describe("Clearinghouse invariants (model-based random sequences)", function () {
  this.timeout(Math.max(120_000, RUNS * STEPS * 2_000));

  after(function () {
    if (!STATS) return;
    const lines = [...outcomeCounts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `    ${k}: ${n}`);
    console.log(`  outcomes (all settings):\n${lines.join("\n")}`);
  });

  for (const { decimals, fixture } of SETTINGS) {
    describe(`collateral with ${decimals} decimals`, function () {
      it(`CH-01 conservation, CH-02 zero-sum, CH-03 aggregates, CH-04 model equality after every step of ${RUNS} runs x ${STEPS} random operations and the settlement`, async function () {
        await assertWithReplay(`CH-01..CH-04 campaign (${decimals} decimals)`, campaign(fixture, decimals), RUNS);
      });

      it(`CH-05 round trips: open then close at one price with zero fees, and deposit then withdraw, leave cash and wallets unchanged (${ROUND_TRIP_RUNS} runs)`, async function () {
        await assertWithReplay(
          `CH-05 round trips (${decimals} decimals)`,
          roundTrip(fixture, decimals),
          ROUND_TRIP_RUNS,
        );
      });
    });
  }
});
