/**
 * Adversarial liquidation scenarios, from the attacker's side (RELIABILITY 7-9, 18, 27; LQ-01 to LQ-05).
 *
 * alice is long 20 AIT bought at 4.000 (fixtures/liquidation.ts); the index fell to 3.000, so her equity
 * (4,960 USD) is below her maintenance margin (7,500 USD) and carol, a keeper, is about to liquidate her.
 * Existing tests cover the rules one by one (LQ-01: a 1-unit deposit and a direct-fill reduction before
 * the liquidation; LQ-03: one owner's two accounts). These tests play the griefer and the self-liquidator
 * through the public entry points (the book, operators, batches) and measure what the griefing costs.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { PRODUCTS } from "../../config/series";
import { liquidationPenalty, liquidationSize, parseX18 } from "../../sdk";
import type { LiquidationInputs } from "../../sdk";
import { aliceLongFixture, moveIndex } from "../fixtures/liquidation";
import type { LiquidationFixture } from "../fixtures/liquidation";
import { CancelReason, eventsOf, order, place } from "../helpers/orders";

const S = 1n;
const MAX = 2n ** 64n - 1n;
const AIT_RISK = PRODUCTS.AIT.risk;
const MULTIPLIER = BigInt(PRODUCTS.AIT.contractMultiplier);
/** The taker budget of OrderBook.gasBounds (`take50`): a 50-fill take must stay under it. */
const TAKE50_BUDGET = 3_000_000n;
/** Dust: 8 accounts x 25 orders of one contract at the best bid. */
const DUST_ACCOUNTS = 8;
const DUST_PER_ACCOUNT = 25;
const DUST_TICK = 2_999n;

/** alice long 20 at 4.000, index 3.000: equity 4,960 < maintenance 7,500 (a partial liquidation). */
async function underwater(): Promise<LiquidationFixture> {
  const f = await aliceLongFixture();
  await moveIndex(f.oracle, f.reporters, "3");
  return f;
}

/** alice long 20 at 4.000, index 2.700: equity -1,040 (bankrupt; the fund holds 10,000). */
async function bankrupt(): Promise<LiquidationFixture> {
  const f = await aliceLongFixture();
  await moveIndex(f.oracle, f.reporters, "2.7");
  return f;
}

/**
 * `underwater`, plus 200 dust bids (one contract each) at 2.999, the best bid, from 8 accounts in
 * round-robin order (so consecutive orders in the queue belong to different makers).
 */
async function dustBook() {
  const f = await underwater();
  const ch = f.clearinghouse;
  const signers = await ethers.getSigners();
  const dusters = signers.slice(11, 11 + DUST_ACCOUNTS);
  for (const d of dusters) await ch.connect(f.carol).depositFor(d.address, parseX18("30000"));
  const nonces = await Promise.all(dusters.map((d) => d.getNonce()));
  for (let k = 0; k < DUST_PER_ACCOUNT; k++) {
    for (let i = 0; i < DUST_ACCOUNTS; i++) {
      const d = dusters[i];
      // Explicit nonce, gas limit and fees: no estimate per transaction (200 of them).
      await ch.connect(d).placeOrder(order(S, d.address, true, 1n, DUST_TICK), {
        nonce: nonces[i] + k,
        gasLimit: 600_000n,
        maxFeePerGas: 10n ** 11n,
        maxPriorityFeePerGas: 1n,
      });
    }
  }
  return { ...f, dusters };
}

/** The model's liquidation inputs for `account` in series 1, read from the chain now. */
async function inputsOf(f: LiquidationFixture, account: string, maxQty: bigint): Promise<LiquidationInputs> {
  const ch = f.clearinghouse;
  const health = await ch.accountHealth(account);
  return {
    sizeQty: (await ch.positionOf(account, S)).sizeQty,
    markX18: await ch.markPrice(S),
    multiplier: MULTIPLIER,
    lotQty: PRODUCTS.AIT.minQty,
    mmBps: BigInt(AIT_RISK.mmBps),
    liquidationPenaltyBps: BigInt(AIT_RISK.liquidationPenaltyBps),
    equityX18: health.equityX18,
    maintenanceMarginX18: health.maintenanceMarginX18,
    maxQty,
  };
}

/** The Liquidated event args the model expects for `inputs`, liquidated by `liquidator`. */
function expectedLiquidation(account: string, liquidator: string, inputs: LiquidationInputs) {
  const { qty } = liquidationSize(inputs);
  const penalty = liquidationPenalty(qty, inputs.markX18, MULTIPLIER, inputs.liquidationPenaltyBps, inputs.equityX18);
  const sizeChange = inputs.sizeQty > 0n ? -qty : qty;
  return {
    qty,
    penalty,
    args: [account, liquidator, S, sizeChange, inputs.markX18, penalty.penaltyX18, penalty.liquidatorRewardX18],
  };
}

async function equityOf(f: LiquidationFixture, account: string): Promise<bigint> {
  return (await f.clearinghouse.accountHealth(account)).equityX18;
}

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<bigint> {
  return (await (await tx).wait())!.gasUsed;
}

describe("Adversarial: griefing and gaming the liquidator", function () {
  it("(a) the victim front-runs the keeper with dust (a 1-unit deposit, dust reduce-only asks, a partial fill by a third party): the liquidation still succeeds and its quantity adjusts", async function () {
    // Defences: liquidation works the quantity out again at execution from the state it finds (LQ-01),
    // a liquidator's maxQty above what is required is fine and one below gives a smaller partial (LQ-02),
    // every resting order of the victim is cancelled first (LQ-02), and an account below initial margin
    // cannot add risk-raising orders at all (CH-12).
    const f = await loadFixture(underwater);
    const ch = f.clearinghouse;
    const { alice, carol, dave } = f;
    // The keeper's plan, simulated before sending: the fewest lots that restore maintenance margin.
    const planned = liquidationSize(await inputsOf(f, alice.address, MAX)).qty;
    expect(planned).to.be.gt(0n).and.lt(20n);

    // The victim's front-run. A risk-raising dust order is refused outright (she is below initial margin).
    await expect(ch.connect(alice).placeOrder(order(S, alice.address, true, 1n, "3.000")))
      .to.be.revertedWithCustomError(ch, "InsufficientMargin")
      .withArgs(alice.address, parseX18("4960"), anyValue);
    // Reduce-only dust asks need no margin and rest; a dust deposit of one raw unit lands.
    const asks = [];
    for (const price of ["3.000", "3.200", "3.250"]) {
      asks.push(await place(ch, alice, order(S, alice.address, false, 1n, price, { reduceOnly: true })));
    }
    await ch.connect(alice).deposit(1n);
    // A third party lifts the cheapest one: a partial fill at the mark that shrinks her position to 19.
    await ch.connect(dave).deposit(parseX18("10000"));
    const lift = await place(ch, dave, order(S, dave.address, true, 1n, "3.000", { kind: "ImmediateOrCancel" }));
    expect(lift.filledQty).to.equal(1n);
    const now = await inputsOf(f, alice.address, planned);
    expect(now.sizeQty).to.equal(19n);
    expect(now.equityX18).to.be.lt(now.maintenanceMarginX18);
    const ratioBefore = (now.equityX18 * 1_000_000n) / now.maintenanceMarginX18;

    // The keeper's transaction, still with its planned maxQty: it goes through with the quantity the rules
    // require now, and every resting dust order of the victim is gone (reason Unhealthy).
    const expected = expectedLiquidation(alice.address, carol.address, now);
    const tx = ch.connect(carol).liquidate(alice.address, S, planned);
    await expect(tx)
      .to.emit(ch, "Liquidated")
      .withArgs(...expected.args);
    const receipt = (await (await tx).wait())!;
    const cancelled = eventsOf(ch, receipt, "OrderCancelled");
    expect(cancelled.map((e) => [e.args.orderId, e.args.reason])).to.deep.equal(
      [asks[1], asks[2]].map((a) => [a.orderId, BigInt(CancelReason.Unhealthy)]),
    );
    expect((await ch.exposureOf(alice.address, S)).openOrders).to.equal(0n);
    const after = await ch.accountHealth(alice.address);
    expect((after.equityX18 * 1_000_000n) / after.maintenanceMarginX18).to.be.gt(ratioBefore);
    console.log(`      planned qty ${planned}, liquidated ${expected.qty} after the front-run; gas ${receipt.gasUsed}`);
  });

  it("(b) a book stuffed with 200 dust orders at the best bid: liquidation ignores the book (same gas as on an empty book), and a taker still completes within maxFills", async function () {
    // Defences: liquidation transfers the position at the mark and never walks the book (docs/liquidation.md),
    // so no book state can block it or raise its cost; a taker touches at most maxFills resting orders
    // (BOOK-02), so dust cannot make an order run out of gas.
    const clean = await loadFixture(underwater);
    const gasClean = await gasOf(clean.clearinghouse.connect(clean.carol).liquidate(clean.alice.address, S, MAX));

    const f = await loadFixture(dustBook);
    const ch = f.clearinghouse;
    const best = await ch.levelOf(S, true, DUST_TICK);
    expect([best.qty, best.orderCount]).to.deep.equal([200n, 200n]);
    expect((await ch.nextActiveTick(S, true, 2n ** 24n - 1n))[0]).to.equal(DUST_TICK);
    const inputs = await inputsOf(f, f.alice.address, MAX);
    const expected = expectedLiquidation(f.alice.address, f.carol.address, inputs);
    const tx = ch.connect(f.carol).liquidate(f.alice.address, S, MAX);
    await expect(tx)
      .to.emit(ch, "Liquidated")
      .withArgs(...expected.args);
    const gasDust = (await (await tx).wait())!.gasUsed;
    expect(gasDust).to.equal(gasClean);
    // The dust is untouched.
    expect((await ch.levelOf(S, true, DUST_TICK)).orderCount).to.equal(200n);

    // A market order selling 100 into the dust with maxFills 50 touches exactly 50 orders and completes.
    const taker = await place(ch, f.bob, order(S, f.bob.address, false, 100n, 0n, { kind: "Market", maxFills: 50 }));
    const touched =
      eventsOf(ch, taker.receipt, "OrderFilled").length + eventsOf(ch, taker.receipt, "OrderCancelled").length;
    expect(touched).to.equal(50);
    expect([taker.filledQty, taker.cancelledQty]).to.deep.equal([50n, 50n]);
    expect(taker.receipt.gasUsed).to.be.lte(TAKE50_BUDGET);
    expect((await ch.levelOf(S, true, DUST_TICK)).orderCount).to.equal(150n);
    console.log(
      `      liquidation gas: empty book ${gasClean}, 200 dust orders at the best bid ${gasDust}; ` +
        `taker of 50 dust fills ${taker.receipt.gasUsed}`,
    );
  });

  it("self-liquidation: refused directly (SelfLiquidation), skipped in a batch, and an operator can only liquidate as its own account", async function () {
    // Defence: liquidate refuses account == caller (LQ-01) and liquidateBatch skips such requests; the
    // liquidator is always the caller, with its own margin, so an operator cannot make the victim its own
    // liquidator or pay for the takeover out of the victim's margin.
    const f = await loadFixture(underwater);
    const ch = f.clearinghouse;
    const { alice, stranger } = f;
    const state = async () => [
      await ch.cashOf(alice.address),
      (await ch.positionOf(alice.address, S)).sizeQty,
      await ch.insuranceFundX18(),
    ];
    const before = await state();
    await expect(ch.connect(alice).liquidate(alice.address, S, MAX))
      .to.be.revertedWithCustomError(ch, "SelfLiquidation")
      .withArgs(alice.address);
    const request = [{ account: alice.address, seriesId: S, maxQty: MAX }];
    expect(await ch.connect(alice).liquidateBatch.staticCall(request)).to.equal(0n);
    await expect(ch.connect(alice).liquidateBatch(request)).not.to.emit(ch, "Liquidated");
    expect(await state()).to.deep.equal(before);

    // alice's operator tries: the call liquidates into the operator's own (empty) account, which cannot
    // carry the position, so it is refused by name; alice is untouched.
    await ch.connect(alice).setOperator(stranger.address, true);
    await expect(ch.connect(stranger).liquidate(alice.address, S, MAX))
      .to.be.revertedWithCustomError(ch, "InsufficientMargin")
      .withArgs(stranger.address, anyValue, anyValue);
    expect(await state()).to.deep.equal(before);
    // Funded, the operator is simply another liquidator: the position moves to its account, not alice's,
    // and the penalty leaves alice (the two-account case below).
    await f.token.mint(stranger.address, parseX18("100000"));
    await f.token.connect(stranger).approve(await ch.getAddress(), ethers.MaxUint256);
    await ch.connect(stranger).deposit(parseX18("100000"));
    const expected = expectedLiquidation(alice.address, stranger.address, await inputsOf(f, alice.address, MAX));
    await expect(ch.connect(stranger).liquidate(alice.address, S, MAX))
      .to.emit(ch, "Liquidated")
      .withArgs(...expected.args);
    expect((await ch.positionOf(stranger.address, S)).sizeQty).to.equal(expected.qty);
  });

  it("a second account liquidating the first for the penalty: the pair loses the fund's half of it; bankrupt, the pair gains nothing", async function () {
    // Defence: the penalty leaves the victim in full and only half comes back to the liquidator
    // (LIQUIDATOR_PENALTY_SHARE_BPS), the rest goes to the insurance fund; the penalty is capped at the
    // victim's equity, so a bankrupt victim pays none and its liquidator earns none (LQ-03, LQ-04).
    const f = await loadFixture(underwater);
    const ch = f.clearinghouse;
    const [a, b] = [f.alice, f.dave];
    await ch.connect(b).deposit(parseX18("100000"));
    const pair = async () => (await equityOf(f, a.address)) + (await equityOf(f, b.address));
    const inputs = await inputsOf(f, a.address, MAX);
    const snapshot = await ethers.provider.send("evm_snapshot", []);

    // The attacker's own liquidation.
    const pairBefore = await pair();
    const fundBefore = await ch.insuranceFundX18();
    const own = expectedLiquidation(a.address, b.address, inputs);
    await expect(ch.connect(b).liquidate(a.address, S, MAX))
      .to.emit(ch, "Liquidated")
      .withArgs(...own.args);
    const pairAfter = await pair();
    const victimAfterOwn = await equityOf(f, a.address);
    expect(own.penalty.liquidatorRewardX18).to.equal(own.penalty.penaltyX18 / 2n);
    expect(pairAfter).to.equal(pairBefore - own.penalty.insuranceShareX18);
    expect(pairAfter).to.be.lt(pairBefore);
    expect((await ch.insuranceFundX18()) - fundBefore).to.equal(own.penalty.insuranceShareX18);

    // The same liquidation by an unrelated keeper leaves the victim exactly where the attacker's did:
    // liquidating oneself buys nothing but the reward any keeper gets, and it is half of what the victim pays.
    await ethers.provider.send("evm_revert", [snapshot]);
    await ch.connect(f.carol).liquidate(a.address, S, MAX);
    expect(await equityOf(f, a.address)).to.equal(victimAfterOwn);

    // Bankrupt: no penalty, no reward; the fund pays the deficit whoever liquidates, and what the owner
    // can ever claim (the positive equity of each account) does not rise.
    const g = await loadFixture(bankrupt);
    const gch = g.clearinghouse;
    await gch.connect(g.dave).deposit(parseX18("100000"));
    const claimable = async () => {
      let total = 0n;
      for (const who of [g.alice.address, g.dave.address]) {
        const eq = await equityOf(g, who);
        total += eq > 0n ? eq : 0n;
      }
      return total;
    };
    const deficit = -(await equityOf(g, g.alice.address));
    expect(deficit).to.be.gt(0n);
    const claimableBefore = await claimable();
    const daveBefore = await equityOf(g, g.dave.address);
    const ginputs = await inputsOf(g, g.alice.address, MAX);
    await expect(gch.connect(g.dave).liquidate(g.alice.address, S, MAX))
      .to.emit(gch, "Liquidated")
      .withArgs(g.alice.address, g.dave.address, S, -20n, ginputs.markX18, 0n, 0n)
      .and.to.emit(gch, "DeficitResolved")
      .withArgs(g.alice.address, deficit, deficit, 0n, 0n);
    expect(await equityOf(g, g.dave.address)).to.equal(daveBefore);
    expect(await equityOf(g, g.alice.address)).to.equal(0n);
    expect(await claimable()).to.equal(claimableBefore);
  });
});
