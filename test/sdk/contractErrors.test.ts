/**
 * The SDK's contract errors (sdk/contractErrors.ts and the classes generated on compile): every generated class
 * round-trips its ABI encoding, real reverts of the deployed system decode to the right class with the right
 * arguments, and `toSdkError` sorts provider failures, wallet refusals and project errors.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  AbiCoder,
  ErrorFragment,
  Interface,
  JsonRpcProvider,
  Network,
  ParamType,
  encodeBytes32String,
  getAddress,
  hexlify,
  makeError,
  toBeHex,
} from "ethers";
import type { JsonFragment, Wallet } from "ethers";
import {
  CallbackToken__factory,
  FalseReturnToken__factory,
  FeeOnTransferToken__factory,
  IndexFeedAggregator__factory,
  MockERC20__factory,
  TokenpitTimelock__factory,
} from "../../typechain-types";
/** Every SDK export, for the case tables: `E.<Name>Error`. */
import * as E from "../../sdk";
import {
  CONTRACT_ERROR_ABI,
  CONTRACT_ERROR_CLASSES,
  ContractRevertError,
  InsufficientMarginError,
  InvalidAmountError,
  NetworkError,
  PanicError,
  RevertStringError,
  SettlementDataUnavailableError,
  TokenpitError,
  TwapDataStaleError,
  UnknownContractError,
  UserRejectedError,
  decodeContractError,
  feedIdOf,
  findRevertData,
  governanceBounds,
  parseX18,
  toSdkError,
} from "../../sdk";
import type { ContractErrorClass, SignedReport } from "../../sdk";
import { generateContractErrorsSource } from "../../scripts/lib/generateContractErrors";
import { deployClearinghouse, deployLogicLibraries } from "../../scripts/lib/deployClearinghouse";
import {
  AIT,
  GPUH,
  aitRisk,
  aitSpec,
  deployClearinghouseFixture,
  fill,
  publish,
  units,
} from "../fixtures/clearinghouse";
import { DEFAULT_PARAMS, signRound } from "../fixtures/oracle";
import type { RoundOptions } from "../fixtures/oracle";
import { aliceLongFixture, moveIndex } from "../fixtures/liquidation";
import { publishThroughExpiry } from "../helpers/clearinghouse";
import { order } from "../helpers/orders";
import type { OrderOptions } from "../helpers/orders";
import { rejectionOf } from "../helpers/rejection";

const DAY = 86_400n;
const USDC = (amount: bigint | number) => units(amount, 6);
const X18 = 10n ** 18n;
const MAX_UINT32 = 2n ** 32n - 1n;
/** The order of the secp256k1 group: `n - s` is the other, malleable, signature. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// ---------------------------------------------------------------------------------------------------------------
// Generated classes
// ---------------------------------------------------------------------------------------------------------------

/** Instance members of ContractRevertError an argument field is renamed around (as the generator does). */
const RESERVED_FIELDS = new Set([
  "errorName",
  "selector",
  "data",
  "args",
  "params",
  "name",
  "message",
  "stack",
  "cause",
]);

/** The field of argument `i`: the ABI name, `arg<i>` when unnamed, `<name>Arg` when it would shadow a member. */
function fieldOf(name: string, i: number): string {
  const field = name === "" ? `arg${i}` : name;
  return RESERVED_FIELDS.has(field) ? `${field}Arg` : field;
}

/** A deterministic byte source (xorshift32), so a failing round trip is reproducible. */
function randomSource(seed: number): (length: number) => Uint8Array {
  let state = seed >>> 0 || 1;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      out[i] = state & 0xff;
    }
    return out;
  };
}

/** A random valid value of an ABI type, in the form ethers decodes it (checksummed addresses, plain arrays). */
function randomValue(type: ParamType, bytes: (length: number) => Uint8Array): unknown {
  const small = () => bytes(1)[0];
  if (type.isArray()) {
    const length = type.arrayLength >= 0 ? type.arrayLength : small() % 4;
    return Array.from({ length }, () => randomValue(type.arrayChildren, bytes));
  }
  if (type.isTuple()) return type.components.map((component) => randomValue(component, bytes));
  const base = type.baseType;
  const int = /^(u?)int(\d*)$/.exec(base);
  if (int !== null) {
    const bits = Number(int[2] === "" ? 256 : int[2]);
    const raw = BigInt(hexlify(bytes(bits / 8)));
    return int[1] === "u" ? raw : raw - 2n ** BigInt(bits - 1);
  }
  if (base === "address") return getAddress(hexlify(bytes(20)));
  if (base === "bool") return small() % 2 === 1;
  if (base === "string") return Array.from(bytes(small() % 24), (b) => String.fromCharCode(0x20 + (b % 95))).join("");
  if (base === "bytes") return hexlify(bytes(small() % 48));
  const fixed = /^bytes(\d+)$/.exec(base);
  if (fixed !== null) return hexlify(bytes(Number(fixed[1])));
  throw new Error(`no random value for ${type.format()}`);
}

/** Every distinct error (by signature) of the artifacts the SDK covers, read through Hardhat's artifact API. */
async function abiErrors(): Promise<Map<string, ErrorFragment>> {
  const errors = new Map<string, ErrorFragment>();
  for (const name of await hre.artifacts.getAllFullyQualifiedNames()) {
    const included =
      name.startsWith("@openzeppelin/") || (name.startsWith("contracts/") && !name.startsWith("contracts/mocks/"));
    if (!included) continue;
    const { abi } = await hre.artifacts.readArtifact(name);
    for (const entry of abi as JsonFragment[]) {
      if (entry.type !== "error") continue;
      const fragment = ErrorFragment.from(entry);
      errors.set(fragment.format("sighash"), fragment);
    }
  }
  return errors;
}

const CLASSES: ContractErrorClass[] = Object.values(CONTRACT_ERROR_CLASSES);

// ---------------------------------------------------------------------------------------------------------------
// Real reverts
// ---------------------------------------------------------------------------------------------------------------

/** The clearinghouse fixture with alice, bob and carol holding 100,000 USDC each and bob's ask of 5 at 4.010. */
async function baseFixture() {
  const f = await deployClearinghouseFixture(6);
  const ch = f.clearinghouse;
  for (const who of [f.alice, f.bob, f.carol]) await ch.connect(who).deposit(USDC(100_000));
  const ask = order(1n, f.bob.address, false, 5n, "4.010");
  const askId = (await ch.connect(f.bob).placeOrder.staticCall(ask)).orderId;
  await ch.connect(f.bob).placeOrder(ask);
  const [, aitObservedAt] = await f.oracle.peekLatest(AIT);
  const [, gpuhObservedAt] = await f.oracle.peekLatest(GPUH);
  return { ...f, askId, aitObservedAt, gpuhObservedAt };
}
type Base = Awaited<ReturnType<typeof baseFixture>>;

/**
 * The base fixture with three more series on the same expiry (2: methodology 2, 3: 100 settlement rounds, 4: on the
 * GPUH feed, which gets no more rounds), and AIT rounds every 23 h through expiry.
 */
async function expiredFixture() {
  const f = await loadFixture(baseFixture);
  const ch = f.clearinghouse.connect(f.admin);
  const symbol = encodeBytes32String;
  await ch.listSeries(aitSpec(f.expiry, { symbol: symbol("AIT-V2"), methodologyVersion: 2 }), aitRisk());
  await ch.listSeries(aitSpec(f.expiry, { symbol: symbol("AIT-MANY"), minSettlementRounds: 100 }), aitRisk());
  await ch.listSeries(aitSpec(f.expiry, { symbol: symbol("GPUH-TEST"), feedId: GPUH }), aitRisk());
  await publishThroughExpiry(f.oracle, f.reporters, AIT, "4", f.expiry, 23n * 3_600n);
  return f;
}

/** Clearinghouses over hostile collaterals (fee on transfer, false return, re-entering callback) on one oracle. */
async function tokensFixture() {
  const f = await loadFixture(baseFixture);
  const [oracle, admin] = [await f.oracle.getAddress(), f.admin];
  const libraries = await deployLogicLibraries(admin);
  const over = async (token: { getAddress(): Promise<string> }) =>
    (await deployClearinghouse(admin, await token.getAddress(), oracle, admin.address, libraries)).clearinghouse;
  const feeToken = await new FeeOnTransferToken__factory(admin).deploy();
  const falseToken = await new FalseReturnToken__factory(admin).deploy();
  const callbackToken = await new CallbackToken__factory(admin).deploy();
  const houses = { fee: await over(feeToken), false: await over(falseToken), callback: await over(callbackToken) };
  for (const [token, house] of [
    [feeToken, houses.fee],
    [falseToken, houses.false],
    [callbackToken, houses.callback],
  ] as const) {
    await token.mint(f.alice.address, USDC(1_000_000));
    await token.connect(f.alice).approve(await house.getAddress(), ethers.MaxUint256);
  }
  return { ...f, libraries, feeToken, falseToken, callbackToken, houses };
}
type Tokens = Awaited<ReturnType<typeof tokensFixture>>;

/** One real revert: how to provoke it and the arguments it must carry (fields not listed are not checked). */
interface RevertCase<F> {
  errorClass: ContractErrorClass;
  provoke: (f: F) => Promise<unknown>;
  args: (f: F) => Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** A table row: `revert(Class, (f) => call, (f) => ({ field: value }))`. */
function revert<F>(
  errorClass: ContractErrorClass,
  provoke: (f: F) => Promise<unknown>,
  args: (f: F) => Record<string, unknown> | Promise<Record<string, unknown>> = () => ({}),
): RevertCase<F> {
  return { errorClass, provoke, args };
}

const now = async () => BigInt(await time.latest());
const as = (f: Base, who: "alice" | "bob" | "carol" | "admin" | "guardian" | "engine" | "stranger") =>
  f.clearinghouse.connect(f[who]);
const oracleAdmin = (f: Base) => f.oracle.connect(f.admin);
const addresses = (wallets: Wallet[]) => wallets.map((wallet) => wallet.address);
const symbol = encodeBytes32String;
const buy = (f: Base, qty: bigint, price: string | bigint, options: OrderOptions = {}) =>
  as(f, "alice").placeOrder(order(1n, f.alice.address, true, qty, price, options));
const trade = (f: Base, qty: bigint) => as(f, "engine").applyTrade(fill(1n, f.bob.address, f.alice.address, qty, "4"));
const health = async (f: Base, who: { address: string }) => {
  const h = await f.clearinghouse.accountHealth(who.address);
  return { equityX18: h.equityX18, maintenanceMarginX18: h.maintenanceMarginX18 };
};
const newTimelock = (f: Base, minDelay = 3_600n) =>
  new TokenpitTimelock__factory(f.admin).deploy(minDelay, [f.admin.address], [f.admin.address], f.admin.address);
const salt = ethers.id("contract-errors");
/** When the held AIT round was observed. */
const pendingAt = async (f: Base) => (await f.oracle.feedState(AIT)).pendingObservedAt;

/** Signs and submits one AIT round observed now (unless told otherwise) by three reporters at 4.000. */
async function submitRound(f: Base, options: { signers?: Wallet[]; prices?: bigint[] } & RoundOptions = {}) {
  const signers = options.signers ?? f.reporters.slice(0, 3);
  const prices = options.prices ?? signers.map(() => parseX18("4"));
  const reports = await signRound(f.oracle, signers, prices, { observedAt: await now(), ...options });
  return f.oracle.submit(AIT, reports);
}

/** The same, 1,000 s after the base round (past its minimum interval). */
async function submitLater(f: Base, options: { signers?: Wallet[]; prices?: bigint[] } & RoundOptions = {}) {
  await time.increase(1_000);
  return submitRound(f, options);
}

/** A round 1,000 s after the base round that `edit` spoils before it is submitted. */
async function spoiledRound(f: Base, edit: (reports: SignedReport[]) => void) {
  await time.increase(1_000);
  const reports = await signRound(
    f.oracle,
    f.reporters.slice(0, 3),
    [4n, 4n, 4n].map((p) => p * X18),
  );
  edit(reports);
  return f.oracle.submit(AIT, reports);
}

/** reports[0] signed with the other (high) s of its signature. */
function malleate(reports: SignedReport[]): void {
  const s = BigInt(reports[0].s);
  reports[0] = { ...reports[0], s: toBeHex(SECP256K1_N - s, 32), v: reports[0].v === 27 ? 28 : 27 };
}

/** Publishes a held jump (4.000 to 5.000, over the 10% guard) 1,000 s after the base round. */
async function heldJump(f: Base): Promise<void> {
  await time.increase(1_000);
  await publish(f.oracle, f.reporters, AIT, "5");
}

/** alice rests an order in eight series, then tries a ninth. */
async function ninthSeries(f: Base) {
  for (let i = 2; i <= 9; i++) {
    await as(f, "admin").listSeries(aitSpec(f.expiry, { symbol: symbol(`AIT-${i}`) }), aitRisk());
  }
  for (let id = 1n; id <= 8n; id++) await as(f, "alice").placeOrder(order(id, f.alice.address, true, 1n, "3.9"));
  return as(f, "alice").placeOrder(order(9n, f.alice.address, true, 1n, "3.9"));
}

/** alice rests 32 orders, then a 33rd. */
async function thirtyThirdOrder(f: Base) {
  for (let i = 0; i < 32; i++) await buy(f, 1n, "3.9");
  return buy(f, 1n, "3.9");
}

/** alice, funded with 10^13 USD and a position limit of 10^12, rests 2^31 contracts twice. */
async function openQtyOverflow(f: Base) {
  await as(f, "admin").setRiskParams(1n, aitRisk({ positionLimitQty: 10n ** 12n }));
  await f.token.mint(f.alice.address, USDC(10n ** 13n));
  await as(f, "alice").deposit(USDC(10n ** 13n));
  await buy(f, 2n ** 31n, "3.9");
  return buy(f, 2n ** 31n, "3.9");
}

/** A timelock without delay executes a call that reverts without data (no such function on the oracle). */
async function failingCall(f: Base) {
  const timelock = await newTimelock(f, 0n);
  const target = await f.oracle.getAddress();
  await timelock.schedule(target, 0n, "0xdeadbeef", ethers.ZeroHash, salt, 0n);
  return timelock.execute(target, 0n, "0xdeadbeef", ethers.ZeroHash, salt);
}

/** A timelock without delay executes an operation whose predecessor never ran. */
async function missingPredecessor(f: Base) {
  const timelock = await newTimelock(f, 0n);
  const predecessor = ethers.id("never scheduled");
  await timelock.schedule(f.stranger.address, 0n, "0x", predecessor, salt, 0n);
  return timelock.execute(f.stranger.address, 0n, "0x", predecessor, salt);
}

/** A series with a lot of 10 (id 2), then an order of 15 in it. */
async function offLot(f: Base) {
  await as(f, "admin").listSeries(aitSpec(f.expiry, { symbol: symbol("AIT-LOT"), minQty: 10n }), aitRisk());
  return as(f, "alice").placeOrder(order(2n, f.alice.address, true, 15n, "4"));
}

/** The stranger holds tokens but approved nothing. */
async function depositWithoutApproval(f: Base) {
  await f.token.mint(f.stranger.address, USDC(10));
  return as(f, "stranger").deposit(USDC(5));
}

/** The stranger approved but holds no tokens. */
async function depositWithoutTokens(f: Base) {
  await f.token.connect(f.stranger).approve(await f.clearinghouse.getAddress(), ethers.MaxUint256);
  return as(f, "stranger").deposit(USDC(5));
}

/** A second round at methodology 2, then a TWAP over both. */
async function twapAcrossVersions(f: Base) {
  await oracleAdmin(f).setMethodologyVersion(AIT, 2);
  await submitLater(f, { methodologyVersion: 2 });
  return f.oracle.twap(AIT, f.aitObservedAt, await now());
}

/** The series finalized at its TWAP, then `then` once the dispute window (2 h) has passed. */
async function afterFinal(f: Base, then: () => Promise<unknown>) {
  await f.clearinghouse.finalizeSettlement(1n);
  await time.increase(2n * 3_600n);
  return then();
}

/** The proposed settlement challenged, then a governance price of 1e-18 after the grace period. */
async function governOutOfBounds(f: Base) {
  await f.clearinghouse.finalizeSettlement(1n);
  await as(f, "guardian").challengeSettlement(1n);
  await time.increaseTo(f.expiry + 3n * DAY);
  return as(f, "admin").setSettlementPriceByGovernance(1n, 1n);
}

/** The governance bounds around the last AIT index. */
async function governanceBoundsNow(f: Base) {
  const { minX18, maxX18 } = governanceBounds((await f.oracle.peekLatest(AIT))[0]);
  return { minPriceX18: minX18, maxPriceX18: maxX18 };
}

/** A clearinghouse over a 19-decimal collateral. */
async function deployOver19Decimals(f: Tokens) {
  const token19 = await new MockERC20__factory(f.admin).deploy("Nineteen", "N19", 19);
  const oracle = await f.oracle.getAddress();
  return deployClearinghouse(f.admin, await token19.getAddress(), oracle, f.admin.address, f.libraries);
}

/** The callback token re-enters `deposit` during a deposit. */
async function reenteringDeposit(f: Tokens) {
  const house = f.houses.callback;
  await f.callbackToken.setCallback(await house.getAddress(), house.interface.encodeFunctionData("deposit", [1n]));
  return house.connect(f.alice).deposit(1n);
}

// prettier-ignore
const BASE_CASES: RevertCase<Base>[] = [
  // Collateral.
  revert(E.ZeroAmountError, (f) => as(f, "alice").deposit(0n)),
  revert(E.AmountTooLargeError, (f) => as(f, "alice").deposit(2n ** 128n), () => ({ amountRaw: 2n ** 128n, maxAmountRaw: 2n ** 128n - 1n })),
  revert(E.ZeroAddressError, (f) => as(f, "alice").withdraw(f.alice.address, 1n, ethers.ZeroAddress)),
  revert(E.InsufficientFreeCollateralError, (f) => as(f, "alice").withdraw(f.alice.address, USDC(100_001), f.alice.address), (f) => ({ account: f.alice.address, requestedX18: 100_001n * X18, availableX18: 100_000n * X18 })),
  revert(E.NotAccountOwnerOrOperatorError, (f) => as(f, "bob").withdraw(f.alice.address, 1n, f.bob.address), (f) => ({ account: f.alice.address, caller: f.bob.address })),
  revert(E.ERC20InsufficientAllowanceError, depositWithoutApproval, async (f) => ({ spender: await f.clearinghouse.getAddress(), allowance: 0n, needed: USDC(5) })),
  revert(E.ERC20InsufficientBalanceError, depositWithoutTokens, (f) => ({ sender: f.stranger.address, balance: 0n, needed: USDC(5) })),
  revert(E.PoolBalanceTooLowError, (f) => as(f, "admin").withdrawFees(f.admin.address, 1n), () => ({ pool: symbol("fees"), requestedX18: 10n ** 12n, availableX18: 0n })),
  // Roles and pause.
  revert(E.AccessControlUnauthorizedAccountError, (f) => as(f, "stranger").pause(), async (f) => ({ account: f.stranger.address, neededRole: await f.clearinghouse.GUARDIAN_ROLE() })),
  revert(E.EnforcedPauseError, async (f) => { await as(f, "guardian").pause(); return buy(f, 1n, "4"); }),
  revert(E.ExpectedPauseError, (f) => as(f, "guardian").unpause()),
  revert(E.AccessControlBadConfirmationError, async (f) => as(f, "guardian").renounceRole(await f.clearinghouse.GUARDIAN_ROLE(), f.bob.address)),
  // The collateral itself (OpenZeppelin ERC20).
  revert(E.ERC20InvalidReceiverError, (f) => f.token.connect(f.alice).transfer(ethers.ZeroAddress, 1n), () => ({ receiver: ethers.ZeroAddress })),
  revert(E.ERC20InvalidSpenderError, (f) => f.token.connect(f.alice).approve(ethers.ZeroAddress, 1n), () => ({ spender: ethers.ZeroAddress })),
  // Series.
  revert(E.UnknownSeriesError, (f) => f.clearinghouse.markPrice(99n), () => ({ seriesId: 99n })),
  revert(E.SeriesSymbolInvalidError, (f) => as(f, "admin").listSeries(aitSpec(f.expiry), aitRisk()), () => ({ symbol: symbol("AIT-TEST") })),
  revert(E.SeriesFeedUnknownError, (f) => as(f, "admin").listSeries(aitSpec(f.expiry, { symbol: symbol("X"), feedId: feedIdOf("NOPE") }), aitRisk()), () => ({ feedId: feedIdOf("NOPE") })),
  revert(E.ParamOutOfBoundsError, (f) => as(f, "admin").setRiskParams(1n, aitRisk({ mmBps: 10 })), () => ({ param: symbol("mmBps"), value: 10n, min: 50n, max: 5_000n })),
  revert(E.IndexStaleError, async (f) => { await time.increase(2n * DAY); return buy(f, 1n, "4"); }, (f) => ({ seriesId: 1n, observedAt: f.aitObservedAt })),
  // Orders.
  revert(E.QtyBelowMinimumError, (f) => buy(f, 0n, "4"), () => ({ seriesId: 1n, qty: 0n, minQty: 1n })),
  revert(E.QtyNotMultipleOfLotError, offLot, () => ({ seriesId: 2n, qty: 15n, lotQty: 10n })),
  revert(E.QtyTooLargeError, (f) => buy(f, MAX_UINT32 + 1n, "4"), () => ({ seriesId: 1n, qty: MAX_UINT32 + 1n, maxQty: MAX_UINT32 })),
  revert(E.TickOutOfRangeError, (f) => buy(f, 1n, 0n), () => ({ seriesId: 1n, tick: 0n, maxTick: 2n ** 24n - 1n })),
  revert(E.MaxFillsOutOfRangeError, (f) => buy(f, 1n, "4", { maxFills: 51 }), () => ({ maxFills: 51n, maxAllowed: 50n })),
  revert(E.OrderExpiryInvalidError, (f) => buy(f, 1n, "4", { expiresAt: 1n }), () => ({ expiresAt: 1n })),
  revert(E.PriceOutsideBandError, (f) => buy(f, 1n, "5"), () => ({ seriesId: 1n, priceX18: parseX18("5") })),
  revert(E.PostOnlyWouldCrossError, (f) => buy(f, 1n, "4.010", { kind: "PostOnly" }), () => ({ seriesId: 1n, tick: 4_010n, bestOppositeTick: 4_010n })),
  revert(E.FillOrKillUnfilledError, (f) => buy(f, 10n, "4.010", { kind: "FillOrKill" }), () => ({ seriesId: 1n, filledQty: 5n, qty: 10n })),
  revert(E.ReduceOnlyNothingToReduceError, (f) => as(f, "alice").placeOrder(order(1n, f.alice.address, false, 1n, "4", { reduceOnly: true })), (f) => ({ account: f.alice.address, seriesId: 1n, sizeQty: 0n })),
  revert(E.TooManyOpenOrdersError, thirtyThirdOrder, (f) => ({ account: f.alice.address, seriesId: 1n, maxOrders: 32n })),
  revert(E.TooManySeriesError, ninthSeries, (f) => ({ account: f.alice.address, maxSeries: 8n })),
  revert(E.OrderNotFoundError, (f) => as(f, "alice").cancelOrder(12_345n), () => ({ orderId: 12_345n })),
  revert(E.ReplaceMismatchError, (f) => as(f, "alice").replaceOrder(f.askId, order(1n, f.alice.address, false, 1n, "4.020")), (f) => ({ orderId: f.askId, seriesId: 1n, account: f.alice.address })),
  revert(E.InsufficientMarginError, (f) => as(f, "stranger").placeOrder(order(1n, f.stranger.address, true, 1n, "4")), (f) => ({ account: f.stranger.address, equityX18: 0n })),
  revert(E.OpenQtyTooLargeError, openQtyOverflow, (f) => ({ account: f.alice.address, seriesId: 1n, openQty: 2n ** 32n, maxQty: MAX_UINT32 })),
  revert(E.PositionLimitExceededError, (f) => trade(f, 2_001n), (f) => ({ account: f.bob.address, seriesId: 1n, sizeQty: 2_001n, limitQty: 2_000n })),
  revert(E.OpenInterestCapExceededError, async (f) => { await as(f, "admin").setRiskParams(1n, aitRisk({ openInterestCapQty: 5n })); return trade(f, 10n); }, () => ({ seriesId: 1n, openInterestQty: 10n, capQty: 5n })),
  // Liquidation and deficits.
  revert(E.SelfLiquidationError, (f) => as(f, "alice").liquidate(f.alice.address, 1n, 1n), (f) => ({ account: f.alice.address })),
  revert(E.NoPositionToLiquidateError, (f) => as(f, "carol").liquidate(f.alice.address, 1n, 1n), (f) => ({ account: f.alice.address, seriesId: 1n })),
  revert(E.AccountNotLiquidatableError, async (f) => { await trade(f, 10n); return as(f, "carol").liquidate(f.alice.address, 1n, 10n); }, async (f) => ({ account: f.alice.address, ...(await health(f, f.alice)) })),
  revert(E.AccountNotBelowMaintenanceError, (f) => as(f, "carol").cancelAllOrders(f.bob.address, 1n), async (f) => ({ account: f.bob.address, ...(await health(f, f.bob)) })),
  revert(E.NoDeficitError, (f) => as(f, "carol").coverDeficit(f.alice.address), (f) => ({ account: f.alice.address })),
  revert(E.DeleverageNotAllowedError, (f) => as(f, "carol").deleverage(f.alice.address, []), (f) => ({ account: f.alice.address, equityX18: 100_000n * X18, insuranceFundX18: 0n })),
  // Settlement before expiry.
  revert(E.SeriesNotExpiredError, (f) => f.clearinghouse.finalizeSettlement(1n), (f) => ({ seriesId: 1n, expiry: f.expiry })),
  revert(E.SettlementStatusInvalidError, (f) => f.clearinghouse.settleAccount(1n, f.alice.address), () => ({ seriesId: 1n, status: 0n })),
  revert(E.GovernanceGracePendingError, (f) => as(f, "admin").setSettlementPriceByGovernance(1n, parseX18("4")), (f) => ({ seriesId: 1n, availableAt: f.expiry + 3n * DAY })),
  // Oracle administration.
  revert(E.FeedIdIsZeroError, (f) => oracleAdmin(f).createFeed(ethers.ZeroHash, DEFAULT_PARAMS, 1, addresses(f.reporters.slice(0, 3)), 3)),
  revert(E.FeedAlreadyExistsError, (f) => oracleAdmin(f).createFeed(AIT, DEFAULT_PARAMS, 1, addresses(f.reporters.slice(0, 3)), 3), () => ({ feedId: AIT })),
  revert(E.FeedParamOutOfBoundsError, (f) => oracleAdmin(f).setFeedParams(AIT, { ...DEFAULT_PARAMS, maxAgeSec: 60n }), () => ({ param: symbol("maxAgeSec"), value: 60n, min: 900n, max: 7n * DAY })),
  revert(E.MethodologyVersionNotIncreasingError, (f) => oracleAdmin(f).setMethodologyVersion(AIT, 1), () => ({ version: 1n, current: 1n })),
  revert(E.ReporterCountOutOfBoundsError, (f) => oracleAdmin(f).setReporters(AIT, [], 3), () => ({ count: 0n, max: 31n })),
  revert(E.QuorumOutOfBoundsError, (f) => oracleAdmin(f).setReporters(AIT, addresses(f.reporters.slice(0, 5)), 2), () => ({ quorum: 2n, reporterCount: 5n, minQuorum: 3n })),
  revert(E.ReporterIsZeroError, (f) => oracleAdmin(f).setReporters(AIT, [ethers.ZeroAddress, ...addresses(f.reporters.slice(0, 2))], 3)),
  revert(E.ReporterDuplicatedError, (f) => oracleAdmin(f).setReporters(AIT, addresses([f.reporters[0], ...f.reporters.slice(0, 2)]), 3), (f) => ({ reporter: f.reporters[0].address })),
  revert(E.AggregatorFeedUnknownError, async (f) => new IndexFeedAggregator__factory(f.admin).deploy(await f.oracle.getAddress(), feedIdOf("NOPE"), "none"), () => ({ feedId: feedIdOf("NOPE") })),
  // Oracle reports.
  revert(E.UnknownFeedError, (f) => f.oracle.submit(feedIdOf("NOPE"), []), () => ({ feedId: feedIdOf("NOPE") })),
  revert(E.QuorumNotMetError, (f) => submitRound(f, { signers: f.reporters.slice(0, 2) }), () => ({ feedId: AIT, reports: 2n, quorum: 3n })),
  revert(E.TooManyReportsError, (f) => submitRound(f, { signers: f.reporters.slice(0, 6) }), () => ({ feedId: AIT, reports: 6n, reporterCount: 5n })),
  revert(E.ReportFromFutureError, (f) => submitRound(f, { observedAt: f.aitObservedAt + DAY }), (f) => ({ feedId: AIT, observedAt: f.aitObservedAt + DAY })),
  revert(E.ReportReplayedError, (f) => submitRound(f, { observedAt: f.aitObservedAt }), (f) => ({ feedId: AIT, observedAt: f.aitObservedAt })),
  revert(E.ReportOutOfOrderError, (f) => submitRound(f, { observedAt: f.aitObservedAt - 1n }), (f) => ({ feedId: AIT, observedAt: f.aitObservedAt - 1n, lastObservedAt: f.aitObservedAt })),
  revert(E.ReportStaleError, async (f) => { await time.increase(2n * DAY); return submitRound(f, { observedAt: f.aitObservedAt + 1_000n }); }, (f) => ({ feedId: AIT, observedAt: f.aitObservedAt + 1_000n, maxAgeSec: DAY })),
  revert(E.RoundTooSoonError, async (f) => { await time.increase(100); return submitRound(f, { observedAt: f.aitObservedAt + 10n }); }, (f) => ({ feedId: AIT, observedAt: f.aitObservedAt + 10n, earliestObservedAt: f.aitObservedAt + 900n })),
  revert(E.ReportFeedMismatchError, (f) => submitLater(f, { feedId: GPUH }), () => ({ index: 0n, reportFeedId: GPUH, feedId: AIT })),
  revert(E.ReportWrongChainError, async (f) => submitLater(f, { domain: { chainId: 1n, oracle: await f.oracle.getAddress() } }), () => ({ index: 0n, chainId: 1n, expectedChainId: 31_337n })),
  revert(E.ReportWrongOracleError, (f) => submitLater(f, { domain: { chainId: 31_337n, oracle: f.stranger.address } }), async (f) => ({ index: 0n, oracle: f.stranger.address, expectedOracle: await f.oracle.getAddress() })),
  revert(E.ReportRoundMismatchError, (f) => spoiledRound(f, (r) => { r[1] = { ...r[1], report: { ...r[1].report, observedAt: r[1].report.observedAt - 1n } }; }), () => ({ index: 1n })),
  revert(E.ReportMethodologyMismatchError, (f) => submitLater(f, { methodologyVersion: 2 }), () => ({ index: 0n, version: 2n, expectedVersion: 1n })),
  revert(E.ReportPriceOutOfBoundsError, (f) => submitLater(f, { prices: [0n, 1n, 1n] }), () => ({ index: 0n, priceX18: 0n, maxPriceX18: 10n ** 24n })),
  revert(E.ReportSignatureInvalidError, (f) => spoiledRound(f, (r) => { r[0] = { ...r[0], r: ethers.ZeroHash }; }), () => ({ index: 0n })),
  revert(E.ReportSignatureMalleableError, (f) => spoiledRound(f, malleate), () => ({ index: 0n })),
  revert(E.SignerNotAuthorizedError, (f) => submitLater(f, { signers: [f.reporters[5], f.reporters[6], f.reporters[0]] }), (f) => ({ feedId: AIT, signer: f.reporters[5].address })),
  revert(E.DuplicateSignerError, (f) => submitLater(f, { signers: [f.reporters[0], f.reporters[0], f.reporters[0]] }), (f) => ({ feedId: AIT, signer: f.reporters[0].address })),
  revert(E.JumpConfirmationTooEarlyError, async (f) => { await heldJump(f); return submitLater(f, { prices: [5n, 5n, 5n].map((p) => p * X18) }); }, async (f) => ({ feedId: AIT, earliestObservedAt: (await pendingAt(f)) + 3_600n })),
  // Oracle reads.
  revert(E.FeedStaleError, async (f) => { await time.increase(2n * DAY); return f.oracle.latestPrice(AIT); }, (f) => ({ feedId: AIT, observedAt: f.aitObservedAt, maxAgeSec: DAY })),
  revert(E.FeedHasNoDataError, async (f) => { await oracleAdmin(f).createFeed(feedIdOf("NEW"), DEFAULT_PARAMS, 1, addresses(f.reporters.slice(0, 3)), 3); return f.oracle.latestPrice(feedIdOf("NEW")); }, () => ({ feedId: feedIdOf("NEW") })),
  revert(E.RoundNotInHistoryError, (f) => f.oracle.observationAt(AIT, 99n), () => ({ feedId: AIT, roundId: 99n })),
  revert(E.TwapWindowInvalidError, (f) => f.oracle.twap(AIT, 10n, 10n), () => ({ fromTime: 10n, toTime: 10n })),
  revert(E.TwapWindowInFutureError, (f) => f.oracle.twap(AIT, 1n, 2n ** 40n), () => ({ toTime: 2n ** 40n })),
  revert(E.TwapOutsideHistoryError, (f) => f.oracle.twap(AIT, 1n, f.aitObservedAt), (f) => ({ feedId: AIT, fromTime: 1n, oldestObservedAt: f.aitObservedAt })),
  revert(E.TwapDataStaleError, async (f) => { await time.increase(2n * DAY); return f.oracle.twap(AIT, f.aitObservedAt, f.aitObservedAt + 2n * DAY); }, (f) => ({ feedId: AIT, lastObservedAt: f.aitObservedAt, toTime: f.aitObservedAt + 2n * DAY })),
  revert(E.TwapPendingJumpError, async (f) => { await heldJump(f); return f.oracle.twap(AIT, f.aitObservedAt, await now()); }, async (f) => ({ feedId: AIT, pendingObservedAt: await pendingAt(f) })),
  revert(E.TwapSpansMethodologyChangeError, twapAcrossVersions, () => ({ feedId: AIT, fromVersion: 1n, toVersion: 2n })),
  // Governance timelock.
  revert(E.TimelockInsufficientDelayError, async (f) => (await newTimelock(f)).schedule(f.stranger.address, 0n, "0x", ethers.ZeroHash, ethers.ZeroHash, 10n), () => ({ delay: 10n, minDelay: 3_600n })),
  revert(E.TimelockUnexpectedOperationStateError, async (f) => (await newTimelock(f)).execute(f.stranger.address, 0n, "0x", ethers.ZeroHash, ethers.ZeroHash), () => ({ expectedStates: toBeHex(1n << 2n, 32) })),
  revert(E.TimelockUnauthorizedCallerError, async (f) => (await newTimelock(f)).updateDelay(1n), (f) => ({ caller: f.admin.address })),
  revert(E.TimelockInvalidOperationLengthError, async (f) => (await newTimelock(f)).scheduleBatch([f.stranger.address], [], ["0x"], ethers.ZeroHash, salt, 3_600n), () => ({ targets: 1n, payloads: 1n, values: 0n })),
  revert(E.TimelockUnexecutedPredecessorError, missingPredecessor, () => ({ predecessorId: ethers.id("never scheduled") })),
  revert(E.FailedCallError, failingCall),
];

// prettier-ignore
const EXPIRED_CASES: RevertCase<Base>[] = [
  revert(E.SeriesExpiredError, (f) => buy(f, 1n, "4"), (f) => ({ seriesId: 1n, expiry: f.expiry })),
  revert(E.SettlementMethodologyMismatchError, (f) => f.clearinghouse.finalizeSettlement(2n), () => ({ seriesId: 2n, dataVersion: 1n, seriesVersion: 2n })),
  revert(E.SettlementTooFewRoundsError, (f) => f.clearinghouse.finalizeSettlement(3n), () => ({ seriesId: 3n, minRounds: 100n })),
  revert(E.SettlementDataIncompleteError, (f) => f.clearinghouse.finalizeSettlement(4n), (f) => ({ seriesId: 4n, lastObservedAt: f.gpuhObservedAt, readyAt: f.expiry + DAY })),
  revert(E.SettlementDataUnavailableError, async (f) => { await time.increaseTo(f.expiry + DAY + 1n); return f.clearinghouse.finalizeSettlement(4n); }, (f) => ({ seriesId: 4n, oracleError: f.oracle.interface.encodeErrorResult("TwapDataStale", [GPUH, f.gpuhObservedAt, f.expiry]) })),
  revert(E.DisputeWindowClosedError, (f) => afterFinal(f, () => as(f, "guardian").challengeSettlement(1n)), async (f) => ({ seriesId: 1n, closedAt: (await f.clearinghouse.settlementOf(1n)).finalAt })),
  revert(E.NothingToSettleError, (f) => afterFinal(f, () => f.clearinghouse.settleAccount(1n, f.stranger.address)), (f) => ({ account: f.stranger.address, seriesId: 1n })),
  revert(E.SettlementDataAvailableError, async (f) => { await time.increaseTo(f.expiry + 3n * DAY); return as(f, "admin").setSettlementPriceByGovernance(1n, parseX18("4")); }, async (f) => ({ seriesId: 1n, twapX18: await f.oracle.twap(AIT, f.expiry - 30n * DAY, f.expiry) })),
  revert(E.SettlementPriceOutOfBoundsError, governOutOfBounds, async (f) => ({ seriesId: 1n, priceX18: 1n, ...(await governanceBoundsNow(f)) })),
];

// prettier-ignore
const TOKEN_CASES: RevertCase<Tokens>[] = [
  revert(E.CollateralDecimalsUnsupportedError, deployOver19Decimals, () => ({ decimals: 19n })),
  revert(E.CollateralTransferMismatchError, (f) => f.houses.fee.connect(f.alice).deposit(1_000_000n), () => ({ expectedRaw: 1_000_000n, actualRaw: 990_000n })),
  revert(E.SafeERC20FailedOperationError, async (f) => { await f.falseToken.setFailing(true); return f.houses.false.connect(f.alice).deposit(1n); }, async (f) => ({ token: await f.falseToken.getAddress() })),
  revert(E.ReentrancyGuardReentrantCallError, reenteringDeposit),
];

type Liquidation = Awaited<ReturnType<typeof aliceLongFixture>>;

/**
 * alice long 20 at 4.000 against bob; dave sold 10 to carol at 2.600; the index back at 2.700: alice's equity is
 * -1,040 (bankrupt), dave's short loses 1,000, and the insurance fund is down to 500.
 */
async function bankruptFixture(): Promise<Liquidation> {
  const f = await aliceLongFixture();
  const ch = f.clearinghouse;
  await moveIndex(f.oracle, f.reporters, "2.6");
  await ch.connect(f.dave).deposit(parseX18("100000"));
  await ch.connect(f.engine).applyTrade(fill(1n, f.dave.address, f.carol.address, 10n, "2.6"));
  await moveIndex(f.oracle, f.reporters, "2.7");
  await ch.connect(f.admin).withdrawInsurance(f.admin.address, parseX18("9500"));
  return f;
}

const leg = (counterparty: { address: string }) => ({ counterparty: counterparty.address, seriesId: 1n });
const liquidator = (f: Liquidation) => f.clearinghouse.connect(f.carol);

// prettier-ignore
const LIQUIDATION_CASES: RevertCase<Liquidation>[] = [
  revert(E.LiquidationQtyTooSmallError, (f) => liquidator(f).liquidate(f.alice.address, 1n, 0n), (f) => ({ account: f.alice.address, seriesId: 1n, maxQty: 0n, requiredQty: 20n })),
  revert(E.InsuranceFundShortError, (f) => liquidator(f).liquidate(f.alice.address, 1n, 2n ** 64n - 1n), (f) => ({ account: f.alice.address, deficitX18: parseX18("1040"), insuranceFundX18: parseX18("500") })),
  revert(E.DeleverageIncompleteError, (f) => liquidator(f).deleverage(f.alice.address, []), (f) => ({ account: f.alice.address })),
  revert(E.CounterpartyNotOppositeError, (f) => liquidator(f).deleverage(f.alice.address, [leg(f.carol)]), (f) => ({ counterparty: f.carol.address, seriesId: 1n })),
  revert(E.CounterpartyNotInProfitError, (f) => liquidator(f).deleverage(f.alice.address, [leg(f.dave), leg(f.bob)]), (f) => ({ counterparty: f.dave.address, seriesId: 1n, realizedPnlX18: -parseX18("1000") })),
];

/**
 * Errors no real revert here provokes, and why. Every generated class is in a case table or here, so a new
 * contract error needs one or the other.
 */
const NOT_PROVOKED: Record<string, string> = {
  ...because("needs a counterparty deep in loss in a second series (the deleverage unit tests provoke it)", [
    "CounterpartyEquityNegative(address,int256)",
  ]),
  ...because("needs legs whose profit is below the shortfall (the deleverage unit tests provoke it)", [
    "DeleverageProfitShort(address,uint256,uint256)",
  ]),
  ...because("overflow guards on values the contracts bound first (order sequences, round counts, prices)", [
    "SafeCastOverflowedIntDowncast(uint8,int256)",
    "SafeCastOverflowedIntToUint(int256)",
    "SafeCastOverflowedUintDowncast(uint8,uint256)",
    "SafeCastOverflowedUintToInt(uint256)",
  ]),
  ...because("ECDSA.recover reverts: the oracle uses tryRecover and reverts with its own report errors", [
    "ECDSAInvalidSignature()",
    "ECDSAInvalidSignatureLength(uint256)",
    "ECDSAInvalidSignatureS(bytes32)",
  ]),
  ...because("permit and nonces (ERC20Permit), compiled for a test mock only: no production contract takes permits", [
    "ERC2612ExpiredSignature(uint256)",
    "ERC2612InvalidSigner(address,address)",
    "InvalidAccountNonce(address,uint256)",
  ]),
  ...because("a zero sender or owner, which no external call can be", [
    "ERC20InvalidApprover(address)",
    "ERC20InvalidSender(address)",
  ]),
  ...because("declared next to the ERC-20 errors (IERC6093); the project has no ERC-721 or ERC-1155 contract", [
    "ERC1155InsufficientBalance(address,uint256,uint256,uint256)",
    "ERC1155InvalidApprover(address)",
    "ERC1155InvalidArrayLength(uint256,uint256)",
    "ERC1155InvalidOperator(address)",
    "ERC1155InvalidReceiver(address)",
    "ERC1155InvalidSender(address)",
    "ERC1155MissingApprovalForAll(address,address)",
    "ERC721IncorrectOwner(address,uint256,address)",
    "ERC721InsufficientApproval(address,uint256)",
    "ERC721InvalidApprover(address)",
    "ERC721InvalidOperator(address)",
    "ERC721InvalidOwner(address)",
    "ERC721InvalidReceiver(address)",
    "ERC721InvalidSender(address)",
    "ERC721NonexistentToken(uint256)",
  ]),
  ...because("declared by an OpenZeppelin library whose reverting functions no contract of the project calls", [
    "AddressEmptyCode(address)",
    "ERC5267ExtensionsNotSupported()",
    "FailedDeployment()",
    "InsufficientBalance(uint256,uint256)",
    "InvalidShortString()",
    "MissingPrecompile(address)",
    "SafeERC20FailedDecreaseAllowance(address,uint256,uint256)",
    "StringTooLong(string)",
    "StringsInsufficientHexLength(uint256,uint256)",
    "StringsInvalidAddressFormat()",
    "StringsInvalidChar()",
  ]),
};

/** `{ signature: reason }` for each of `signatures`. */
function because(reason: string, signatures: string[]): Record<string, string> {
  return Object.fromEntries(signatures.map((signature) => [signature, reason]));
}

// ---------------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------------

describe("SDK contract errors", function () {
  describe("generated classes", function () {
    it("has one class per distinct error of the contracts and OpenZeppelin ABIs (mocks excluded)", async function () {
      const errors = await abiErrors();
      const generated = CLASSES.map((errorClass) => errorClass.signature).sort();
      expect(generated).to.deep.equal([...errors.keys()].sort());
      expect(CONTRACT_ERROR_ABI).to.have.length(errors.size);
      for (const [signature, fragment] of errors) {
        expect(CONTRACT_ERROR_CLASSES[fragment.selector]?.signature, signature).to.equal(signature);
      }
      for (const name of [
        "ERC20InsufficientAllowance",
        "AccessControlUnauthorizedAccount",
        "EnforcedPause",
        "ReentrancyGuardReentrantCall",
        "SafeERC20FailedOperation",
        "SafeCastOverflowedUintDowncast",
        "TimelockUnexpectedOperationState",
        "InsufficientMargin",
      ]) {
        expect(
          CLASSES.some((errorClass) => errorClass.signature.startsWith(`${name}(`)),
          name,
        ).to.equal(true);
      }
    });

    it("is generated from the current artifacts, deterministically", function () {
      const artifactsDir = hre.config.paths.artifacts;
      const source = generateContractErrorsSource(artifactsDir);
      expect(generateContractErrorsSource(artifactsDir)).to.equal(source);
      const file = path.join(hre.config.paths.root, "sdk", "generated", "contractErrors.ts");
      expect(fs.readFileSync(file, "utf8")).to.equal(source);
      expect(source).to.match(/GENERATED on every compile .* do not edit/);
    });

    it("round-trips random valid arguments of every error through encodeErrorResult and decodeContractError", function () {
      const bytes = randomSource(20_240_601);
      const iface = new Interface(CONTRACT_ERROR_ABI as string[]);
      for (const errorClass of CLASSES) {
        const fragment = iface.getError(errorClass.selector);
        if (fragment === null) return expect.fail(`${errorClass.signature} is not in CONTRACT_ERROR_ABI`);
        for (let round = 0; round < 3; round++) {
          const values = fragment.inputs.map((input) => randomValue(input, bytes));
          const data = iface.encodeErrorResult(fragment, values);
          const decoded = decodeContractError(data);
          expect(decoded, errorClass.signature).to.be.instanceOf(errorClass);
          expect(decoded).to.be.instanceOf(ContractRevertError);
          expect(decoded).to.be.instanceOf(TokenpitError);
          expect(decoded).to.be.instanceOf(Error);
          const error = decoded as ContractRevertError;
          expect(error.errorName).to.equal(fragment.name);
          expect(error.name).to.equal(errorClass.name);
          expect(error.selector).to.equal(errorClass.selector);
          expect(error.data).to.equal(data);
          expect(error.args).to.deep.equal(values);
          const fields = error as unknown as Record<string, unknown>;
          fragment.inputs.forEach((input, i) => {
            const field = fieldOf(input.name, i);
            expect(fields[field], `${errorClass.signature} ${field}`).to.deep.equal(values[i]);
          });
          expect(error.message.startsWith(`${fragment.name}(`)).to.equal(true);
        }
      }
    });

    it("reads like Name(arg value, ...) and decodes built-in and unknown reverts", function () {
      const iface = new Interface(CONTRACT_ERROR_ABI as string[]);
      const account = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";
      const data = iface.encodeErrorResult("InsufficientMargin", [account, 100n * X18, 25n * X18]);
      const margin = decodeContractError(data) as InsufficientMarginError;
      expect(margin).to.be.instanceOf(InsufficientMarginError);
      expect([margin.account, margin.equityX18, margin.requiredX18]).to.deep.equal([account, 100n * X18, 25n * X18]);
      expect(margin.message).to.equal(
        `InsufficientMargin(account ${account}, equityX18 ${100n * X18}, requiredX18 ${25n * X18})`,
      );

      const coder = AbiCoder.defaultAbiCoder();
      const panic = decodeContractError("0x4e487b71" + coder.encode(["uint256"], [0x11n]).slice(2));
      expect(panic).to.be.instanceOf(PanicError);
      expect((panic as PanicError).code).to.equal(0x11n);
      expect(panic?.message).to.equal("Panic(0x11: arithmetic overflow or underflow)");
      const reason = decodeContractError("0x08c379a0" + coder.encode(["string"], ["no way"]).slice(2));
      expect(reason).to.be.instanceOf(RevertStringError);
      expect((reason as RevertStringError).reason).to.equal("no way");

      const unknown = decodeContractError("0xDEADBEEF" + "00".repeat(32));
      expect(unknown).to.be.instanceOf(UnknownContractError);
      expect(unknown?.selector).to.equal("0xdeadbeef");
      expect(unknown?.message).to.equal("reverted with unknown error 0xdeadbeef");
      const truncated = decodeContractError(InsufficientMarginError.selector + "00");
      expect(truncated).to.be.instanceOf(UnknownContractError);
      expect(truncated?.message).to.contain("InsufficientMargin(address,int256,uint256)");
      expect(decodeContractError("0x")).to.equal(undefined);
      expect(decodeContractError("")).to.equal(undefined);
    });

    it("decodes an oracle error nested in a clearinghouse error's bytes with the same registry", function () {
      const iface = new Interface(CONTRACT_ERROR_ABI as string[]);
      const inner = iface.encodeErrorResult("TwapDataStale", [GPUH, 1n, 2n]);
      const outer = decodeContractError(iface.encodeErrorResult("SettlementDataUnavailable", [4n, inner]));
      expect(outer).to.be.instanceOf(SettlementDataUnavailableError);
      const nested = decodeContractError((outer as SettlementDataUnavailableError).oracleError);
      expect(nested).to.be.instanceOf(TwapDataStaleError);
      expect((nested as TwapDataStaleError).toTime).to.equal(2n);
    });
  });

  describe("real reverts decode to their class with their arguments", function () {
    const groups: [string, () => Promise<unknown>, RevertCase<never>[]][] = [
      ["before expiry", baseFixture, BASE_CASES as RevertCase<never>[]],
      ["after expiry", expiredFixture, EXPIRED_CASES as RevertCase<never>[]],
      ["hostile collaterals", tokensFixture, TOKEN_CASES as RevertCase<never>[]],
      ["bankrupt account", bankruptFixture, LIQUIDATION_CASES as RevertCase<never>[]],
    ];
    for (const [group, fixture, cases] of groups) {
      describe(group, function () {
        for (const kase of cases) {
          it(kase.errorClass.signature, async function () {
            const f = (await loadFixture(fixture)) as never;
            const caught = await rejectionOf(kase.provoke(f));
            const error = toSdkError(caught);
            expect(error, caught.message).to.be.instanceOf(kase.errorClass);
            expect(error.cause).to.equal(caught);
            const fields = error as unknown as Record<string, unknown>;
            for (const [field, value] of Object.entries(await kase.args(f))) {
              expect(fields[field], field).to.deep.equal(value);
            }
          });
        }
      });
    }

    it("covers every generated class with a real revert or a reason it has none", function () {
      const provoked = new Set(
        [...BASE_CASES, ...EXPIRED_CASES, ...TOKEN_CASES, ...LIQUIDATION_CASES].map((kase) => kase.errorClass),
      );
      const missing = CLASSES.filter(
        (errorClass) => !provoked.has(errorClass) && NOT_PROVOKED[errorClass.signature] === undefined,
      ).map((errorClass) => errorClass.signature);
      expect(missing, "provoke these errors or say why not in NOT_PROVOKED").to.deep.equal([]);
      const both = [...provoked].filter((errorClass) => NOT_PROVOKED[errorClass.signature] !== undefined);
      expect(
        both.map((errorClass) => errorClass.signature),
        "provoked, yet listed in NOT_PROVOKED",
      ).to.deep.equal([]);
      const stale = Object.keys(NOT_PROVOKED).filter((signature) => CLASSES.every((c) => c.signature !== signature));
      expect(stale, "NOT_PROVOKED names errors that no longer exist").to.deep.equal([]);
    });
  });

  describe("toSdkError", function () {
    it("finds revert data wherever ethers or a node put it", function () {
      const data = InsufficientMarginError.selector + "00".repeat(96);
      expect(findRevertData({ data })).to.equal(data);
      expect(findRevertData({ info: { error: { code: 3, data } } })).to.equal(data);
      expect(findRevertData({ error: { error: { data: { data } } } })).to.equal(data);
      expect(findRevertData({ cause: { parent: { revert: { data } } } })).to.equal(data);
      expect(findRevertData({ data: "not hex", message: data })).to.equal(undefined);
      let deep: Record<string, unknown> = { data };
      for (let i = 0; i < 10; i++) deep = { error: deep };
      expect(findRevertData(deep)).to.equal(undefined);
    });

    it("gives a NetworkError for an unreachable RPC endpoint, a timeout and a server error", async function () {
      const provider = new JsonRpcProvider("http://127.0.0.1:9", undefined, { staticNetwork: Network.from(31_337) });
      try {
        const caught = await rejectionOf(provider.getBlockNumber());
        const error = toSdkError(caught);
        expect(error).to.be.instanceOf(NetworkError);
        expect(error).to.be.instanceOf(TokenpitError);
        expect((error as NetworkError).code).to.equal("ECONNREFUSED");
        expect(error.cause).to.equal(caught);
      } finally {
        provider.destroy();
      }
      for (const code of ["TIMEOUT", "SERVER_ERROR", "NETWORK_ERROR"] as const) {
        const error = toSdkError(makeError(`synthetic ${code}`, code));
        expect(error, code).to.be.instanceOf(NetworkError);
        expect((error as NetworkError).code).to.equal(code);
      }
    });

    it("gives a UserRejectedError for ACTION_REJECTED and EIP-1193 code 4001", function () {
      const rejected = makeError("user rejected action", "ACTION_REJECTED", {
        action: "sendTransaction",
        reason: "rejected",
      });
      const error = toSdkError(rejected);
      expect(error).to.be.instanceOf(UserRejectedError);
      expect(error.cause).to.equal(rejected);
      expect(toSdkError({ code: 4001, message: "User rejected the request." })).to.be.instanceOf(UserRejectedError);
    });

    it("passes project errors through and returns other failures unchanged", function () {
      const own = new InvalidAmountError("1.2.3", "not a number");
      expect(toSdkError(own)).to.equal(own);
      const decoded = new PanicError(1n);
      expect(toSdkError(decoded)).to.equal(decoded);
      const other = new Error("something else");
      expect(toSdkError(other)).to.equal(other);
      const empty = Object.assign(new Error("execution reverted"), { data: "0x" });
      expect(toSdkError(empty)).to.equal(empty);
      expect(toSdkError("plain text").message).to.equal("plain text");
    });

    it("reads Hardhat's message when an error carries no revert data", function () {
      const account = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";
      const message = `VM Exception while processing transaction: reverted with custom error 'InsufficientMargin("${account}", -12500000000000000000, 1234500000000000000000)'`;
      const error = toSdkError(new Error(message));
      expect(error).to.be.instanceOf(InsufficientMarginError);
      const margin = error as InsufficientMarginError;
      expect([margin.account, margin.equityX18, margin.requiredX18]).to.deep.equal([
        account,
        -125n * 10n ** 17n,
        12_345n * 10n ** 17n,
      ]);
      const reason = toSdkError(new Error("reverted with reason string 'too late'"));
      expect(reason).to.be.instanceOf(RevertStringError);
      expect((reason as RevertStringError).reason).to.equal("too late");
      const panic = toSdkError(new Error("reverted with panic code 0x12 (Division or modulo division by zero)"));
      expect((panic as PanicError).code).to.equal(0x12n);
      const unreadable = new Error("reverted with custom error 'NoSuchError(1)'");
      expect(toSdkError(unreadable)).to.equal(unreadable);
    });
  });
});
