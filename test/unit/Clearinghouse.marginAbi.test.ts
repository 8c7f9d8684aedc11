import { expect } from "chai";
import { ethers } from "hardhat";
import { encodeBytes32String } from "ethers";
import type { Interface } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Clearinghouse__factory } from "../../typechain-types";
import { feeX18, parseX18 } from "../../sdk";
import { PRODUCTS } from "../../config/series";
import { aitRisk, aitSpec, fill } from "../fixtures/clearinghouse";
import { aliceLongFixture, liquidationBase, moveIndex } from "../fixtures/liquidation";
import type { LiquidationFixture } from "../fixtures/liquidation";
import { mutatingFunctionNames } from "../helpers/clearinghouse";
import { order, place } from "../helpers/orders";

const DAY = 86_400n;
const MAX = 2n ** 64n - 1n;
const MULTIPLIER = BigInt(PRODUCTS.AIT.contractMultiplier);

/**
 * alice exactly at initial margin (equity = initial margin to the unit) with a long position and a
 * resting bid, at an index of 4.600:
 * - alice long 20 at 4.000 (from bob), a resting bid 1 @ 4.200; then she withdraws all she may;
 * - erin short 10 at 4.000 (to carol) with 11,000: below maintenance (liquidatable), not bankrupt;
 * - bob rests an ask 5 @ 4.700 and a bid 5 @ 4.600 (the mark);
 * - the insurance fund holds 10,000. 18-decimal collateral: raw units = 18-decimal units.
 */
async function atInitialMarginFixture() {
  const f = await liquidationBase();
  const ch = f.clearinghouse;
  await ch.connect(f.alice).deposit(parseX18("25000"));
  await ch.connect(f.bob).deposit(parseX18("500000"));
  await ch.connect(f.carol).deposit(parseX18("200000"));
  await ch.connect(f.erin).deposit(parseX18("11000"));
  await f.token.mint(f.admin.address, parseX18("10000"));
  await f.token.connect(f.admin).approve(await ch.getAddress(), ethers.MaxUint256);
  await ch.connect(f.admin).contributeInsurance(parseX18("10000"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.bob.address, f.alice.address, 20n, "4"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.erin.address, f.carol.address, 10n, "4"));
  await moveIndex(f.oracle, f.reporters, "4.6");
  const bobAsk = await place(ch, f.bob, order(f.seriesId, f.bob.address, false, 5n, "4.7"));
  const bobBid = await place(ch, f.bob, order(f.seriesId, f.bob.address, true, 5n, "4.6"));
  const aliceBid = await place(ch, f.alice, order(f.seriesId, f.alice.address, true, 1n, "4.2"));
  const health = await ch.accountHealth(f.alice.address);
  // equity - IM is below cash here, so withdrawing `withdrawable` lands exactly on initial margin.
  expect(health.equityX18 - health.initialMarginX18 < health.cashX18).to.equal(true);
  await ch.connect(f.alice).withdraw(f.alice.address, health.withdrawableX18, f.alice.address);
  return {
    ...f,
    roles: {
      DEFAULT_ADMIN_ROLE: await ch.DEFAULT_ADMIN_ROLE(),
      GUARDIAN_ROLE: await ch.GUARDIAN_ROLE(),
    },
    orders: { bobAsk: bobAsk.orderId, bobBid: bobBid.orderId, aliceBid: aliceBid.orderId },
  };
}

type MarginFixture = Awaited<ReturnType<typeof atInitialMarginFixture>>;

/** What one call did: reverted with an error of the ABI, or went through leaving equity unchanged or higher. */
type Outcome = "unchanged" | "up" | "down" | `reverts ${string}`;

interface Attempt {
  label: string;
  args: (f: MarginFixture) => unknown[];
  outcome: Outcome;
  /** For order-taking functions: whether this order raises risk or is reduce-only. */
  kind?: "risk-increasing" | "reduce-only";
}

const ACCESS = "reverts AccessControlUnauthorizedAccount" as const;

/**
 * Every mutating function of the production Clearinghouse ABI, called by alice (at initial margin)
 * with plausible arguments, and what must happen. A new function in the ABI without an entry fails MA-01.
 */
const ATTEMPTS: Record<string, Attempt[]> = {
  // Admin: alice holds no role.
  challengeSettlement: [{ label: "series 1", args: () => [1n], outcome: ACCESS }],
  grantRole: [{ label: "guardian to herself", args: (f) => [f.roles.GUARDIAN_ROLE, f.alice.address], outcome: ACCESS }],
  listSeries: [
    {
      label: "a new AIT series",
      args: (f) => [aitSpec(f.expiry, { symbol: encodeBytes32String("AIT-NEW") }), aitRisk()],
      outcome: ACCESS,
    },
  ],
  pause: [{ label: "pause", args: () => [], outcome: ACCESS }],
  revokeRole: [
    { label: "the guardian's role", args: (f) => [f.roles.GUARDIAN_ROLE, f.guardian.address], outcome: ACCESS },
  ],
  setInsuranceFeeShare: [{ label: "10%", args: () => [1_000n], outcome: ACCESS }],
  setRiskParams: [{ label: "IM 30%", args: () => [1n, aitRisk({ imBps: 3_000 })], outcome: ACCESS }],
  setSettlementDelays: [{ label: "1 h, 2 days", args: () => [3_600n, 2n * DAY], outcome: ACCESS }],
  setSettlementPriceByGovernance: [{ label: "series 1 at 4.6", args: () => [1n, parseX18("4.6")], outcome: ACCESS }],
  unpause: [{ label: "unpause", args: () => [], outcome: ACCESS }],
  withdrawFees: [{ label: "1 unit to herself", args: (f) => [f.alice.address, 1n], outcome: ACCESS }],
  withdrawInsurance: [{ label: "1 unit to herself", args: (f) => [f.alice.address, 1n], outcome: ACCESS }],
  renounceRole: [
    { label: "a role she does not hold", args: (f) => [f.roles.GUARDIAN_ROLE, f.alice.address], outcome: "unchanged" },
  ],

  // Collateral.
  deposit: [{ label: "1 unit", args: () => [1n], outcome: "up" }],
  depositFor: [
    { label: "1 unit for bob", args: (f) => [f.bob.address, 1n], outcome: "unchanged" },
    { label: "1 unit for herself", args: (f) => [f.alice.address, 1n], outcome: "up" },
  ],
  withdraw: [
    {
      label: "1 unit of her own",
      args: (f) => [f.alice.address, 1n, f.alice.address],
      outcome: "reverts InsufficientFreeCollateral",
    },
    {
      label: "1 unit of bob's",
      args: (f) => [f.bob.address, 1n, f.alice.address],
      outcome: "reverts NotAccountOwnerOrOperator",
    },
  ],
  setOperator: [{ label: "approve bob", args: (f) => [f.bob.address, true], outcome: "unchanged" }],
  contributeInsurance: [{ label: "1 unit from her wallet", args: () => [1n], outcome: "unchanged" }],

  // Trading.
  placeOrder: [
    {
      label: "resting bid 1 @ 4.500",
      kind: "risk-increasing",
      args: (f) => [order(1n, f.alice.address, true, 1n, "4.5")],
      outcome: "reverts InsufficientMargin",
    },
    {
      label: "IOC buy 1 @ 4.700 crossing bob's ask",
      kind: "risk-increasing",
      args: (f) => [order(1n, f.alice.address, true, 1n, "4.7", { kind: "ImmediateOrCancel" })],
      outcome: "reverts InsufficientMargin",
    },
    {
      label: "reduce-only resting ask 1 @ 4.800",
      kind: "reduce-only",
      args: (f) => [order(1n, f.alice.address, false, 1n, "4.8", { reduceOnly: true })],
      outcome: "unchanged",
    },
    {
      label: "plain resting ask 1 @ 4.800 (can only reduce her long)",
      args: (f) => [order(1n, f.alice.address, false, 1n, "4.8")],
      outcome: "unchanged",
    },
  ],
  replaceOrder: [
    {
      label: "her bid by a bid 2 @ 4.200",
      kind: "risk-increasing",
      args: (f) => [f.orders.aliceBid, order(1n, f.alice.address, true, 2n, "4.2")],
      outcome: "reverts InsufficientMargin",
    },
    {
      label: "her bid by a reduce-only ask 1 @ 4.800",
      kind: "reduce-only",
      args: (f) => [f.orders.aliceBid, order(1n, f.alice.address, false, 1n, "4.8", { reduceOnly: true })],
      outcome: "unchanged",
    },
    {
      label: "bob's ask",
      args: (f) => [f.orders.bobAsk, order(1n, f.alice.address, false, 1n, "4.8", { reduceOnly: true })],
      outcome: "reverts ReplaceMismatch",
    },
  ],
  cancelOrder: [
    { label: "her bid", args: (f) => [f.orders.aliceBid], outcome: "unchanged" },
    { label: "bob's ask", args: (f) => [f.orders.bobAsk], outcome: "reverts NotAccountOwnerOrOperator" },
  ],
  cancelAllOrders: [
    { label: "her own", args: (f) => [f.alice.address, 1n], outcome: "unchanged" },
    { label: "erin's (below maintenance)", args: (f) => [f.erin.address, 1n], outcome: "unchanged" },
    { label: "bob's (healthy)", args: (f) => [f.bob.address, 1n], outcome: "reverts AccountNotBelowMaintenance" },
  ],

  // Liquidation and deficits.
  liquidate: [
    // Taking over part of erin's short reduces alice's long at the mark; she earns the reward.
    { label: "erin (liquidatable short)", args: (f) => [f.erin.address, 1n, MAX], outcome: "up" },
    { label: "bob (healthy)", args: (f) => [f.bob.address, 1n, MAX], outcome: "reverts AccountNotLiquidatable" },
  ],
  liquidateBatch: [
    {
      label: "erin",
      args: (f) => [[{ account: f.erin.address, seriesId: 1n, maxQty: MAX }]],
      outcome: "up",
    },
    {
      label: "bob only (skipped)",
      args: (f) => [[{ account: f.bob.address, seriesId: 1n, maxQty: MAX }]],
      outcome: "unchanged",
    },
  ],
  deleverage: [
    {
      label: "erin against alice (erin is not bankrupt)",
      args: (f) => [f.erin.address, [{ counterparty: f.alice.address, seriesId: 1n }]],
      outcome: "reverts DeleverageNotAllowed",
    },
  ],
  coverDeficit: [{ label: "herself", args: (f) => [f.alice.address], outcome: "reverts NoDeficit" }],

  // Settlement (series 1 has not expired).
  finalizeSettlement: [{ label: "series 1", args: () => [1n], outcome: "reverts SeriesNotExpired" }],
  settleAccount: [
    { label: "herself in series 1", args: (f) => [1n, f.alice.address], outcome: "reverts SettlementStatusInvalid" },
  ],
  settleAccounts: [
    { label: "herself in series 1", args: (f) => [1n, [f.alice.address]], outcome: "reverts SettlementStatusInvalid" },
  ],
};

/** Functions deliberately left out of the enumeration, with why. None today. */
const EXCLUDED: Record<string, string> = {};

const ORDER_TAKING = ["placeOrder", "replaceOrder"];

/** The revert data of an ethers / Hardhat error, wherever it sits. */
function revertData(error: unknown): string | undefined {
  const queue: unknown[] = [error];
  for (let i = 0; i < queue.length && i < 20; i++) {
    const e = queue[i] as Record<string, unknown> | null;
    if (e === null || typeof e !== "object") continue;
    if (typeof e.data === "string" && e.data.startsWith("0x")) return e.data;
    for (const key of ["error", "info", "cause", "data"]) if (key in e) queue.push(e[key]);
  }
  return undefined;
}

/** Sends `fn(args)` from alice through the production ABI and reports what happened to her equity. */
async function run(f: MarginFixture, iface: Interface, fn: string, args: unknown[]): Promise<Outcome> {
  const ch = f.clearinghouse;
  const production = Clearinghouse__factory.connect(await ch.getAddress(), f.alice);
  const before = (await ch.accountHealth(f.alice.address)).equityX18;
  try {
    await (await production.getFunction(fn).send(...args)).wait();
  } catch (error) {
    const data = revertData(error);
    if (data === undefined) throw error;
    const parsed = iface.parseError(data);
    return `reverts ${parsed === null ? `unknown ${data.slice(0, 10)}` : parsed.name}`;
  }
  const after = (await ch.accountHealth(f.alice.address)).equityX18;
  if (after === before) return "unchanged";
  return after > before ? "up" : "down";
}

describe("Clearinghouse at initial margin (RELIABILITY item 6)", function () {
  const iface = Clearinghouse__factory.createInterface();
  const abiNames = mutatingFunctionNames(iface);

  it("MA-01: every mutating function of the production ABI has attempts (a new function fails here)", async function () {
    expect(new Set(abiNames).size, "overloaded functions: key the table by signature").to.equal(abiNames.length);
    const listed = [...Object.keys(ATTEMPTS), ...Object.keys(EXCLUDED)].sort();
    expect(new Set(listed).size, "a function is both attempted and excluded").to.equal(listed.length);
    expect(listed, "add an entry for every new mutating function; drop stale ones").to.deep.equal(abiNames);
    for (const [fn, attempts] of Object.entries(ATTEMPTS)) expect(attempts.length, fn).to.be.greaterThan(0);
    for (const fn of ORDER_TAKING) {
      const kinds = ATTEMPTS[fn].map((a) => a.kind);
      expect(kinds, fn).to.include("risk-increasing");
      expect(kinds, fn).to.include("reduce-only");
      for (const attempt of ATTEMPTS[fn].filter((a) => a.kind === "risk-increasing")) {
        expect(attempt.outcome, `${fn} ${attempt.label}`).to.equal("reverts InsufficientMargin");
      }
    }
  });

  it("MA-02: the fixture's account is exactly at initial margin, with a position and a resting order", async function () {
    const f = await loadFixture(atInitialMarginFixture);
    const health = await f.clearinghouse.accountHealth(f.alice.address);
    expect(health.equityX18).to.equal(health.initialMarginX18);
    expect(health.withdrawableX18).to.equal(0n);
    expect(health.orderMarginX18 > 0n).to.equal(true);
    expect((await f.clearinghouse.positionOf(f.alice.address, f.seriesId)).sizeQty).to.equal(20n);
    const erin = await f.clearinghouse.accountHealth(f.erin.address);
    expect(erin.equityX18 < erin.maintenanceMarginX18 && erin.equityX18 > 0n).to.equal(true);
  });

  for (const fn of abiNames) {
    it(`MA-03: #${fn} called by an account at initial margin reverts or does not lower its equity`, async function () {
      const attempts = ATTEMPTS[fn];
      if (attempts === undefined) {
        expect(EXCLUDED[fn], `${fn} has no attempts and no exclusion reason`).to.be.a("string");
        this.skip();
      }
      const f = await loadFixture(atInitialMarginFixture);
      const outcomes: Record<string, Outcome> = {};
      for (const attempt of attempts) {
        const snapshot = await ethers.provider.send("evm_snapshot", []);
        const health = await f.clearinghouse.accountHealth(f.alice.address);
        expect(health.equityX18, attempt.label).to.equal(health.initialMarginX18);
        outcomes[attempt.label] = await run(f, iface, fn, attempt.args(f));
        await ethers.provider.send("evm_revert", [snapshot]);
      }
      for (const [label, outcome] of Object.entries(outcomes)) {
        expect(
          outcome.startsWith("reverts ") || outcome === "unchanged" || outcome === "up",
          `${fn} ${label}`,
        ).to.equal(true);
      }
      expect(outcomes).to.deep.equal(Object.fromEntries(attempts.map((a) => [a.label, a.outcome])));
    });
  }

  describe("MA-04: what lowers an at-margin account's equity without a margin error (by design)", function () {
    it("MA-04: a reducing sell that fills pays the taker fee: equity falls by exactly the fee, free margin rises", async function () {
      const f = await loadFixture(atInitialMarginFixture);
      const ch = f.clearinghouse;
      const mark = await ch.markPrice(f.seriesId);
      expect(mark).to.equal(parseX18("4.6"));
      const fee = feeX18(1n * mark * MULTIPLIER, BigInt(PRODUCTS.AIT.risk.takerFeeBps));
      expect(fee).to.equal(parseX18("2.3"));
      for (const reduceOnly of [true, false]) {
        const snapshot = await ethers.provider.send("evm_snapshot", []);
        const before = await ch.accountHealth(f.alice.address);
        // Sells 1 into bob's bid at the mark.
        const placed = await place(
          ch,
          f.alice,
          order(f.seriesId, f.alice.address, false, 1n, "4.6", { kind: "ImmediateOrCancel", reduceOnly }),
        );
        expect(placed.filledQty).to.equal(1n);
        const after = await ch.accountHealth(f.alice.address);
        expect(before.equityX18 - after.equityX18, `reduceOnly ${reduceOnly}`).to.equal(fee);
        expect(after.equityX18 - after.initialMarginX18 > 0n).to.equal(true);
        await ethers.provider.send("evm_revert", [snapshot]);
      }
    });

    it("MA-04: a deleveraging haircut lowers an at-margin counterparty's equity by exactly the haircut (only ever closing its position)", async function () {
      const f = await loadFixture(bobAtMarginCounterpartyFixture);
      const ch = f.clearinghouse;
      const before = await ch.accountHealth(f.bob.address);
      expect(before.equityX18).to.equal(before.initialMarginX18);
      const haircut = parseX18("540");
      await expect(ch.connect(f.bob).deleverage(f.alice.address, [{ counterparty: f.bob.address, seriesId: 1n }]))
        .to.emit(ch, "Deleveraged")
        .withArgs(f.alice.address, f.bob.address, 1n, -20n, parseX18("2.7"), haircut);
      const after = await ch.accountHealth(f.bob.address);
      expect(before.equityX18 - after.equityX18).to.equal(haircut);
      expect((await ch.positionOf(f.bob.address, 1n)).sizeQty).to.equal(-19n);
      expect(after.equityX18 > after.initialMarginX18).to.equal(true);
    });
  });
});

/**
 * alice bankrupt (long 20 at 4.000, index 2.700, equity -1,040), fund 500. bob, her counterparty
 * (short 20 at 4.000, +26,000), sells 19 more to carol at the mark so that his initial margin exceeds
 * his unrealized profit, then withdraws all he may: he is exactly at initial margin.
 */
async function bobAtMarginCounterpartyFixture(): Promise<LiquidationFixture> {
  const f = await aliceLongFixture();
  const ch = f.clearinghouse;
  await moveIndex(f.oracle, f.reporters, "2.7");
  await ch.connect(f.admin).withdrawInsurance(f.admin.address, parseX18("9500"));
  await ch.connect(f.engine).applyTrade(fill(f.seriesId, f.bob.address, f.carol.address, 19n, "2.7"));
  const health = await ch.accountHealth(f.bob.address);
  expect(health.equityX18 - health.initialMarginX18 < health.cashX18).to.equal(true);
  await ch.connect(f.bob).withdraw(f.bob.address, health.withdrawableX18, f.bob.address);
  return f;
}
