/**
 * Adversarial collateral: hostile tokens and re-entrant receivers on every path that could move value
 * (RELIABILITY 20, 21; CH-06, CH-07).
 *
 * Paths: deposit, depositFor, withdraw, contributeInsurance, withdrawInsurance, withdrawFees, the payout of a
 * settled position (settleAccount credits cash, a withdrawal pays it out), the liquidator's reward
 * (liquidate credits cash, a withdrawal pays it out), and the calls that must move no tokens at all
 * (liquidate, liquidateBatch, deleverage, settleAccount, settleAccounts, coverDeficit). Each either works
 * exactly or reverts with its named error and leaves cash, pools, positions and balances unchanged.
 *
 * Already covered elsewhere, so only touched here where a path needs it:
 *  - test/unit/Clearinghouse.tokens.test.ts (CH-06): fee-on-transfer deposit, depositFor and
 *    contributeInsurance refused and dust withdrawals exact; rebasing deposit and contributeInsurance
 *    refused; no-return accepted, and with silent failure deposit, depositFor, contributeInsurance and
 *    withdraw refused; false-return deposit, depositFor, contributeInsurance and withdraw refused.
 *  - test/unit/Clearinghouse.reentrancy.test.ts (CH-07): a token (a stranger to every account) re-entering
 *    every guarded function from deposit, depositFor, contributeInsurance, withdraw, withdrawInsurance and
 *    withdrawFees; applyTrade, finalizeSettlement and settleAccounts move no tokens.
 * Covered here, not there:
 *  - fee-on-transfer: withdrawInsurance (the recipient bears the token's fee, the vault is debited exactly);
 *    that no position can be funded, so settlement and liquidation payouts are unreachable;
 *  - rebasing: depositFor refused; withdraw and withdrawInsurance of dust that got in refused;
 *  - no-return (silent failure) and false-return: withdrawInsurance, withdrawFees, the settlement payout and
 *    the liquidation reward payout; liquidate, finalizeSettlement and settleAccount work while the token fails;
 *  - re-entering token: the account owner itself re-entering withdraw during its own withdrawal (the guard is
 *    the only defence: the caller is entitled to the cash); liquidate, liquidateBatch, deleverage,
 *    settleAccount and coverDeficit run while every token transfer would revert (no value pushed inside);
 *    the settlement payout and liquidation reward withdrawals refuse re-entry.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { ZeroAddress, encodeBytes32String } from "ethers";
import type { ContractTransactionResponse } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  CallbackToken__factory,
  Clearinghouse__factory,
  FalseReturnToken__factory,
  FeeOnTransferToken__factory,
  NoReturnToken__factory,
  RebasingToken__factory,
} from "../../typechain-types";
import type { ClearinghouseHarness, MockERC20 } from "../../typechain-types";
import { parseX18 } from "../../sdk";
import { AIT, aitRisk, aitSpec, deployClearinghouseOver, fill, units } from "../fixtures/clearinghouse";
import type { ClearinghouseFixture, FixtureToken } from "../fixtures/clearinghouse";
import { moveIndex } from "../fixtures/liquidation";
import { publishThroughExpiry } from "../helpers/clearinghouse";
import { order } from "../helpers/orders";

const MAX = 2n ** 64n - 1n;
/** The short series every fixture lists: expires 2 days after listing, 1-day averaging window. */
const S2 = 2n;
const SCALE6 = 10n ** 12n;
const u = (amount: number | bigint) => units(amount, 6);

/** The minimal token surface the tests read (every mock has these). */
interface TokenLike {
  getAddress(): Promise<string>;
  balanceOf(account: string): Promise<bigint>;
}

/** Lists series 2 of `f`: 2 days to expiry, a 1-day window, one round needed for settlement. */
async function listShortSeries<T extends FixtureToken>(f: ClearinghouseFixture<T>): Promise<bigint> {
  const expiry = BigInt(await time.latest()) + 2n * 86_400n;
  const spec = aitSpec(expiry, {
    symbol: encodeBytes32String("AIT-SHORT"),
    averagingWindowSec: 86_400n,
    minSettlementRounds: 1,
  });
  await f.clearinghouse.connect(f.admin).listSeries(spec, aitRisk());
  return expiry;
}

/** Everything a failed token path must leave unchanged. */
async function snapshot(ch: ClearinghouseHarness, token: TokenLike, accounts: string[]) {
  const house = await ch.getAddress();
  return {
    cash: await Promise.all(accounts.map((a) => ch.cashOf(a))),
    wallets: await Promise.all(accounts.map((a) => token.balanceOf(a))),
    positions: await Promise.all(accounts.map(async (a) => (await ch.positionOf(a, S2)).sizeQty)),
    house: await token.balanceOf(house),
    insurance: await ch.insuranceFundX18(),
    fees: await ch.feePoolX18(),
  };
}

/** balance x 10^(18 - decimals) = sum of cash + insurance fund + fee pool (CH-01, no positions left open). */
async function expectConserved(ch: ClearinghouseHarness, token: TokenLike, accounts: string[], scale: bigint) {
  let cash = 0n;
  for (const a of accounts) cash += await ch.cashOf(a);
  const pools = (await ch.insuranceFundX18()) + (await ch.feePoolX18());
  expect((await token.balanceOf(await ch.getAddress())) * scale).to.equal(cash + pools);
}

// ---------------------------------------------------------------------------------------------
// Tokens that fail transfers: no-return with silent failure, and false-return
// ---------------------------------------------------------------------------------------------

interface FailingToken {
  name: string;
  deploy: (admin: HardhatEthersSigner) => Promise<MockERC20>;
  setFailing: (address: string, on: boolean) => Promise<unknown>;
  /** Asserts that `tx` reverted with the token path's named error. */
  expectRefused: (ch: ClearinghouseHarness, tx: Promise<unknown>, amountRaw: bigint, token: string) => Promise<void>;
}

const FAILING: FailingToken[] = [
  {
    name: "a no-return token that silently moves nothing",
    deploy: (admin) => new NoReturnToken__factory(admin).deploy() as unknown as Promise<MockERC20>,
    setFailing: async (address, on) => {
      const [, admin] = await ethers.getSigners();
      return (await NoReturnToken__factory.connect(address, admin).setSilentFailure(on)).wait();
    },
    expectRefused: async (ch, tx, amountRaw) => {
      await expect(tx).to.be.revertedWithCustomError(ch, "CollateralTransferMismatch").withArgs(amountRaw, 0n);
    },
  },
  {
    name: "a token that returns false",
    deploy: (admin) => new FalseReturnToken__factory(admin).deploy() as unknown as Promise<MockERC20>,
    setFailing: async (address, on) => {
      const [, admin] = await ethers.getSigners();
      return (await FalseReturnToken__factory.connect(address, admin).setFailing(on)).wait();
    },
    expectRefused: async (ch, tx, _amountRaw, token) => {
      await expect(tx).to.be.revertedWithCustomError(ch, "SafeERC20FailedOperation").withArgs(token);
    },
  },
];

/**
 * A clearinghouse over `token` (6 decimals) with the short series: alice long 10 at 4.000 from bob with
 * 16,000 deposited; carol (liquidator) 100,000; the admin gave the insurance fund 1,000; the index then
 * fell to 2.700, so alice (equity 2,980 < maintenance 3,375) is liquidatable.
 */
async function failingTokenMarket(spec: FailingToken) {
  const f = await deployClearinghouseOver(spec.deploy, 6);
  const ch = f.clearinghouse;
  const expiry = await listShortSeries(f);
  await f.token.mint(f.admin.address, u(1_000_000));
  await f.token.connect(f.admin).approve(await ch.getAddress(), ethers.MaxUint256);
  await ch.connect(f.alice).deposit(u(16_000));
  await ch.connect(f.bob).deposit(u(100_000));
  await ch.connect(f.carol).deposit(u(100_000));
  await ch.connect(f.admin).contributeInsurance(u(1_000));
  await ch.connect(f.engine).applyTrade(fill(S2, f.bob.address, f.alice.address, 10n, "4"));
  await moveIndex(f.oracle, f.reporters, "2.7");
  return { ...f, expiry };
}

async function noReturnMarket() {
  return failingTokenMarket(FAILING[0]);
}

async function falseReturnMarket() {
  return failingTokenMarket(FAILING[1]);
}

const failingFixtures = [noReturnMarket, falseReturnMarket];

describe("Adversarial: hostile collateral tokens and re-entrant receivers", function () {
  FAILING.forEach((spec, i) => {
    it(`${spec.name}: every token path fails by name and changes nothing; liquidation and settlement credit cash without moving tokens; all payouts work once the token behaves`, async function () {
      // Defences: every pull and push checks the balance change (CollateralTransferMismatch) or the
      // return value (SafeERC20), in one transaction with the bookkeeping, so a failed transfer reverts
      // it all; liquidation and settlement only credit cash, so a failing token cannot block them.
      const f = await loadFixture(failingFixtures[i]);
      const ch = f.clearinghouse;
      const tokenAddress = await f.token.getAddress();
      const house = await ch.getAddress();
      const { alice, bob, carol, admin } = f;
      const accounts = [alice.address, bob.address, carol.address, admin.address];
      const refused = async (label: string, send: () => Promise<unknown>, amountRaw: bigint) => {
        const before = await snapshot(ch, f.token, accounts);
        await spec.expectRefused(ch, send(), amountRaw, tokenAddress);
        expect(await snapshot(ch, f.token, accounts), label).to.deep.equal(before);
      };
      expect(await ch.feePoolX18()).to.equal(parseX18("24"));
      await spec.setFailing(tokenAddress, true);

      // The plain collateral paths (deposit, depositFor, withdraw and contribute are covered by CH-06; the
      // two pool withdrawals are not).
      await refused("deposit", () => ch.connect(alice).deposit(u(1)), u(1));
      await refused("depositFor", () => ch.connect(bob).depositFor(alice.address, u(1)), u(1));
      await refused("contributeInsurance", () => ch.connect(carol).contributeInsurance(u(1)), u(1));
      await refused("withdraw", () => ch.connect(bob).withdraw(bob.address, u(1), bob.address), u(1));
      await refused("withdrawInsurance", () => ch.connect(admin).withdrawInsurance(admin.address, u(1_000)), u(1_000));
      await refused("withdrawFees", () => ch.connect(admin).withdrawFees(admin.address, u(24)), u(24));

      // Liquidation credits the reward to carol's cash and moves no token, so the failing token cannot stop it.
      const houseBefore = await f.token.balanceOf(house);
      const carolCash = await ch.cashOf(carol.address);
      const receipt = (await (await ch.connect(carol).liquidate(alice.address, S2, MAX)).wait())!;
      const liquidated = receipt.logs.map((l) => ch.interface.parseLog(l)).find((e) => e?.name === "Liquidated")!;
      const rewardX18: bigint = liquidated.args.liquidatorRewardX18;
      expect(rewardX18).to.be.gt(0n);
      expect((await ch.cashOf(carol.address)) - carolCash).to.equal(rewardX18);
      expect(await f.token.balanceOf(house)).to.equal(houseBefore);
      // Its payout is a withdrawal, refused while the token fails.
      const rewardRaw = rewardX18 / SCALE6;
      await refused(
        "liquidation reward payout",
        () => ch.connect(carol).withdraw(carol.address, rewardRaw, carol.address),
        rewardRaw,
      );

      // Settlement: finalize and settle bob's short (a profit of about 13,000) with the token still failing.
      await publishThroughExpiry(f.oracle, f.reporters, AIT, "2.7", f.expiry);
      await ch.finalizeSettlement(S2);
      await time.increase(await ch.disputeWindowSec());
      const bobCash = await ch.cashOf(bob.address);
      await expect(ch.settleAccount(S2, bob.address)).to.emit(ch, "AccountSettled");
      const payoutX18 = (await ch.cashOf(bob.address)) - bobCash;
      expect(payoutX18).to.be.gt(parseX18("10000"));
      expect(await f.token.balanceOf(house)).to.equal(houseBefore);
      const payoutRaw = payoutX18 / SCALE6;
      await refused(
        "settlement payout",
        () => ch.connect(bob).withdraw(bob.address, payoutRaw, bob.address),
        payoutRaw,
      );
      await ch.settleAccounts(S2, [alice.address, carol.address]);

      // The token behaves again: every payout moves exactly its amount.
      await spec.setFailing(tokenAddress, false);
      const pays: Array<[string, string, () => Promise<ContractTransactionResponse>, bigint]> = [
        ["reward", carol.address, () => ch.connect(carol).withdraw(carol.address, rewardRaw, carol.address), rewardRaw],
        ["payout", bob.address, () => ch.connect(bob).withdraw(bob.address, payoutRaw, bob.address), payoutRaw],
        ["insurance", admin.address, () => ch.connect(admin).withdrawInsurance(admin.address, u(1_000)), u(1_000)],
        ["fees", admin.address, () => ch.connect(admin).withdrawFees(admin.address, u(24)), u(24)],
      ];
      for (const [label, to, send, amountRaw] of pays) {
        const wallet = await f.token.balanceOf(to);
        const held = await f.token.balanceOf(house);
        await send();
        expect((await f.token.balanceOf(to)) - wallet, label).to.equal(amountRaw);
        expect(held - (await f.token.balanceOf(house)), label).to.equal(amountRaw);
      }
      await expectConserved(ch, f.token, accounts, SCALE6);
    });
  });

  it("a fee-on-transfer token: only fee-free dust gets in, so no position can be funded; a dust insurance withdrawal debits the vault exactly and the recipient bears the fee", async function () {
    // Defence: the balance check on every pull (CollateralTransferMismatch) refuses any amount the fee
    // touches; a push is checked against the vault's own balance, which loses exactly the amount.
    const f = await loadFixture(feeTokenMarket);
    const ch = f.clearinghouse;
    const house = await ch.getAddress();
    const { alice, admin } = f;
    const accounts = [alice.address, admin.address];
    // The largest fee-free transfer is 99 raw units (1% rounds down to 0); 100 pays a fee and is refused.
    await expect(ch.connect(admin).contributeInsurance(100n))
      .to.be.revertedWithCustomError(ch, "CollateralTransferMismatch")
      .withArgs(100n, 99n);
    await ch.connect(admin).contributeInsurance(99n);
    await ch.connect(admin).contributeInsurance(99n);
    expect(await ch.insuranceFundX18()).to.equal(198n * SCALE6);
    const wallet = await f.token.balanceOf(admin.address);
    await ch.connect(admin).withdrawInsurance(admin.address, 198n);
    expect(await f.token.balanceOf(house)).to.equal(0n);
    expect(await ch.insuranceFundX18()).to.equal(0n);
    expect((await f.token.balanceOf(admin.address)) - wallet).to.equal(197n);
    // The settlement and liquidation payouts need a position, and no position can be funded: 99 raw
    // units (0.000099 USD) do not carry one contract (1,000 USD of initial margin at 4.000).
    await ch.connect(alice).deposit(99n);
    const before = await snapshot(ch, f.token, accounts);
    await expect(ch.connect(alice).placeOrder(order(S2, alice.address, true, 1n, "4.000")))
      .to.be.revertedWithCustomError(ch, "InsufficientMargin")
      .withArgs(alice.address, 99n * SCALE6, parseX18("1000"));
    expect(await snapshot(ch, f.token, accounts)).to.deep.equal(before);
    await expectConserved(ch, f.token, accounts, SCALE6);
  });

  it("a rebasing token: depositFor and any deposit into a non-empty vault are refused; dust that got into an empty vault cannot be withdrawn from an account or the fund", async function () {
    // Defence: the balance-change check on pulls and pushes (CollateralTransferMismatch). The token's index
    // grows on every transfer, so both the credit and the debit of a transfer differ from the amount asked.
    const f = await loadFixture(rebasingMarket);
    const ch = f.clearinghouse;
    const token = RebasingToken__factory.connect(await f.token.getAddress(), f.admin);
    const house = await ch.getAddress();
    const { alice, bob, admin } = f;
    const accounts = [alice.address, bob.address, admin.address];
    /** What the vault receives (pull) or loses (push) when `amount` moves, mirroring the mock's rounding. */
    const moved = async (amount: bigint, pull: boolean) => {
      const index = await token.indexX18();
      const held = await token.sharesOf(house);
      const shares = (amount * 10n ** 18n) / index;
      const next = index + (index * (await token.rebaseBps())) / 10_000n;
      const before = (held * index) / 10n ** 18n;
      const after = ((pull ? held + shares : held - shares) * next) / 10n ** 18n;
      return pull ? (after > before ? after - before : 0n) : before > after ? before - after : 0n;
    };
    const refused = async (send: () => Promise<unknown>, amount: bigint, pull: boolean) => {
      const actual = await moved(amount, pull);
      expect(actual).to.not.equal(amount);
      const before = await snapshot(ch, token, accounts);
      await expect(send()).to.be.revertedWithCustomError(ch, "CollateralTransferMismatch").withArgs(amount, actual);
      expect(await snapshot(ch, token, accounts)).to.deep.equal(before);
    };
    await refused(() => ch.connect(bob).depositFor(alice.address, units(1, 18)), units(1, 18), true);
    // Into an empty vault, dust below 10,000 units rounds back to the exact amount and is accepted; once the
    // vault holds anything its own rebase adds to what arrives, and even dust is refused.
    expect(await moved(9_999n, true)).to.equal(9_999n);
    await ch.connect(alice).deposit(9_999n);
    expect(await ch.cashOf(alice.address)).to.equal(9_999n);
    await refused(() => ch.connect(admin).contributeInsurance(9_999n), 9_999n, true);
    // The dust cannot leave: the vault loses less than the amount (the rest of its balance rebased up).
    await refused(() => ch.connect(alice).withdraw(alice.address, 9_999n, alice.address), 9_999n, false);
    expect(await token.balanceOf(house)).to.be.gte(await ch.cashOf(alice.address));

    // The same from the insurance side, on a fresh vault: a dust contribution gets in, its withdrawal is refused.
    const g = await loadFixture(rebasingMarket);
    const gch = g.clearinghouse;
    const gtoken = RebasingToken__factory.connect(await g.token.getAddress(), g.admin);
    expect(await gtoken.sharesOf(await gch.getAddress())).to.equal(0n);
    await gch.connect(g.admin).contributeInsurance(9_999n);
    expect(await gch.insuranceFundX18()).to.equal(9_999n);
    const ghouse = await gch.getAddress();
    const index = await gtoken.indexX18();
    const shares = (9_999n * 10n ** 18n) / index;
    const next = index + (index * (await gtoken.rebaseBps())) / 10_000n;
    const held = await gtoken.sharesOf(ghouse);
    const sent = (held * index) / 10n ** 18n - ((held - shares) * next) / 10n ** 18n;
    expect(sent).to.not.equal(9_999n);
    await expect(gch.connect(g.admin).withdrawInsurance(g.admin.address, 9_999n))
      .to.be.revertedWithCustomError(gch, "CollateralTransferMismatch")
      .withArgs(9_999n, sent);
    expect(await gch.insuranceFundX18()).to.equal(9_999n);
    expect(await gtoken.sharesOf(ghouse)).to.equal(held);
  });

  it("a re-entering token: the account owner re-entering its own withdrawal is refused; liquidation, deleveraging, settlement and deficit cover move no tokens; payout withdrawals refuse re-entry", async function () {
    // Defences: nonReentrant on every value-moving entry point (CH-07) with the debit written before the
    // push (checks-effects-interactions), and no token transfer inside liquidation, deleveraging,
    // settlement or deficit loops (RELIABILITY 21).
    const f = await loadFixture(callbackMarket);
    const ch = f.clearinghouse;
    const token = f.token;
    const house = await ch.getAddress();
    const tokenAddress = await token.getAddress();
    const iface = Clearinghouse__factory.createInterface();
    const { alice, bob, carol, dave, erin, gina, stranger } = f;
    const accounts = [tokenAddress, alice, bob, carol, dave, erin, gina].map((a) =>
      typeof a === "string" ? a : a.address,
    );

    // 1. The token is an account owner (think of any receiver with code): it holds 1,000 USD of its own and,
    //    through one callback, makes alice its operator, so alice can start a withdrawal for it.
    await ch.connect(alice).depositFor(tokenAddress, u(1_000));
    await token.setCallback(house, iface.encodeFunctionData("setOperator", [alice.address, true]));
    await ch.connect(alice).deposit(u(1));
    expect(await ch.isOperator(tokenAddress, alice.address)).to.equal(true);
    // Its withdrawal of 600 re-enters withdraw of 600 more, as the owner: refused, nothing moves.
    await token.setCallback(house, iface.encodeFunctionData("withdraw", [tokenAddress, u(600), tokenAddress]));
    const before = await snapshot(ch, token, accounts);
    await expect(ch.connect(alice).withdraw(tokenAddress, u(600), tokenAddress)).to.be.revertedWithCustomError(
      ch,
      "ReentrancyGuardReentrantCall",
    );
    expect(await snapshot(ch, token, accounts)).to.deep.equal(before);
    // Without the re-entry the same withdrawal pays exactly once.
    await token.setCallback(ZeroAddress, "0x");
    await ch.connect(alice).withdraw(tokenAddress, u(600), tokenAddress);
    expect(await ch.cashOf(tokenAddress)).to.equal(u(400) * SCALE6);
    expect(await token.balanceOf(tokenAddress)).to.equal(u(600));

    // 2. From now on any token transfer reverts (the callback calls pause() without the role). Liquidation,
    //    batch liquidation, deleveraging, finalization, settlement and deficit cover all still run.
    await token.setCallback(house, iface.encodeFunctionData("pause"));
    await expect(ch.connect(alice).deposit(u(1))).to.be.revertedWithCustomError(ch, "AccessControlUnauthorizedAccount");
    const held = await token.balanceOf(house);
    await expect(ch.connect(stranger).deleverage(dave.address, [{ counterparty: bob.address, seriesId: S2 }])).to.emit(
      ch,
      "DeficitResolved",
    );
    const carolCash = await ch.cashOf(carol.address);
    await expect(ch.connect(carol).liquidate(alice.address, S2, MAX)).to.emit(ch, "Liquidated");
    expect(
      await ch.connect(carol).liquidateBatch.staticCall([{ account: erin.address, seriesId: S2, maxQty: MAX }]),
    ).to.equal(1n);
    await ch.connect(carol).liquidateBatch([{ account: erin.address, seriesId: S2, maxQty: MAX }]);
    const rewardX18 = (await ch.cashOf(carol.address)) - carolCash;
    expect(rewardX18).to.be.gt(0n);
    await publishThroughExpiry(f.oracle, f.reporters, AIT, "2.7", f.expiry);
    await ch.finalizeSettlement(S2);
    await time.increase(await ch.disputeWindowSec());
    await expect(ch.settleAccount(S2, gina.address)).to.emit(ch, "AccountSettled");
    await ch.settleAccounts(S2, accounts);
    expect(await ch.cashOf(gina.address)).to.be.lt(0n);
    await expect(ch.connect(stranger).coverDeficit(gina.address)).to.emit(ch, "DeficitResolved");
    expect(await token.balanceOf(house)).to.equal(held);

    // 3. The payouts (bob's settled profit, carol's reward) are withdrawals: re-entry during them is refused,
    //    and without it each pays exactly once.
    const bobRaw = u(30_000);
    const rewardRaw = rewardX18 / SCALE6;
    await token.setCallback(house, iface.encodeFunctionData("withdraw", [tokenAddress, u(1), tokenAddress]));
    for (const [who, amountRaw] of [
      [bob, bobRaw],
      [carol, rewardRaw],
    ] as const) {
      const start = await snapshot(ch, token, accounts);
      await expect(ch.connect(who).withdraw(who.address, amountRaw, who.address)).to.be.revertedWithCustomError(
        ch,
        "ReentrancyGuardReentrantCall",
      );
      expect(await snapshot(ch, token, accounts)).to.deep.equal(start);
    }
    await token.setCallback(ZeroAddress, "0x");
    for (const [who, amountRaw] of [
      [bob, bobRaw],
      [carol, rewardRaw],
    ] as const) {
      const wallet = await token.balanceOf(who.address);
      await ch.connect(who).withdraw(who.address, amountRaw, who.address);
      expect((await token.balanceOf(who.address)) - wallet).to.equal(amountRaw);
    }
    await expectConserved(ch, token, accounts, SCALE6);
  });
});

// ---------------------------------------------------------------------------------------------
// Fixtures of the single-token tests
// ---------------------------------------------------------------------------------------------

async function feeTokenMarket() {
  const f = await deployClearinghouseOver(
    (admin) => new FeeOnTransferToken__factory(admin).deploy() as unknown as Promise<MockERC20>,
    6,
  );
  await listShortSeries(f);
  await f.token.mint(f.admin.address, u(1_000_000));
  await f.token.connect(f.admin).approve(await f.clearinghouse.getAddress(), ethers.MaxUint256);
  return f;
}

async function rebasingMarket() {
  const f = await deployClearinghouseOver(
    (admin) => new RebasingToken__factory(admin).deploy() as unknown as Promise<MockERC20>,
    18,
  );
  await f.token.mint(f.admin.address, units(1_000_000, 18));
  await f.token.connect(f.admin).approve(await f.clearinghouse.getAddress(), ethers.MaxUint256);
  return f;
}

/**
 * A clearinghouse over the re-entering token (callback off) with the short series, bob short 50 at 4.000
 * against: alice long 10 (16,000 deposited), erin long 10 (16,200), dave long 20 (20,100), gina long 10
 * (10,100); carol 200,000 (liquidator) and 1,000 in the insurance fund. The index then fell to 2.700:
 * alice and erin are below maintenance, dave is bankrupt beyond the fund (5,940 > 1,000) and gina is
 * bankrupt (left alone until settlement).
 */
async function callbackMarket() {
  const f = await deployClearinghouseOver((admin) => new CallbackToken__factory(admin).deploy(), 6);
  const ch = f.clearinghouse;
  const expiry = await listShortSeries(f);
  const signers = await ethers.getSigners();
  const [dave, erin, gina] = [signers[9], signers[10], signers[11]];
  for (const who of [dave, erin, gina]) {
    await f.token.mint(who.address, u(1_000_000));
    await f.token.connect(who).approve(await ch.getAddress(), ethers.MaxUint256);
  }
  const deposits: Array<[typeof dave, number]> = [
    [f.alice, 16_000],
    [erin, 16_200],
    [dave, 20_100],
    [gina, 10_100],
    [f.bob, 500_000],
    [f.carol, 200_000],
  ];
  for (const [who, amount] of deposits) await ch.connect(who).deposit(u(amount));
  await ch.connect(f.carol).contributeInsurance(u(1_000));
  for (const [who, qty] of [
    [f.alice, 10n],
    [erin, 10n],
    [dave, 20n],
    [gina, 10n],
  ] as const) {
    await ch.connect(f.engine).applyTrade(fill(S2, f.bob.address, who.address, qty, "4"));
  }
  await moveIndex(f.oracle, f.reporters, "2.7");
  return { ...f, expiry, dave, erin, gina };
}
