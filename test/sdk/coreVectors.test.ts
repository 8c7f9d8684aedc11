/**
 * Shared vectors: the contracts and `sdk/core` (with `sdk/units`) on the same inputs, random (fast-check, fixed
 * seeds) and at the edges. Collateral conversions through a real clearinghouse over 6- and 18-decimal tokens
 * (one raw unit, the largest raw amount, withdrawals of amounts with sub-unit dust); PositionMath at the
 * largest sizes, ticks and multipliers the contracts accept and at its rounding boundaries (the math harness);
 * the liquidation price, against the SDK's own `accountHealth`, the harness, and a real position whose mark is
 * moved to the price and one wei before it.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { encodeBytes32String } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ClearinghouseMathHarness__factory } from "../../typechain-types";
import type { ClearinghouseHarness, ClearinghouseMathHarness } from "../../typechain-types";
import {
  MAX_DEPOSIT_RAW,
  MAX_ORDER_QTY,
  MAX_PRICE_X18,
  MAX_TICK,
  SeriesParamError,
  abs,
  accountHealth,
  applyTrade,
  feeX18,
  formatCollateral,
  freeCollateralX18,
  isLiquidatable,
  liquidationPriceX18,
  marginRatioBps,
  notionalX18,
  parseCollateral,
  rawToX18,
  requirementX18,
  tickToPriceX18,
  unrealizedPnlX18,
  x18ToRawDown,
} from "../../sdk";
import type { HeldPosition, MovingPosition, ValuedPosition } from "../../sdk";
import { AIT, GPUH, aitRisk, aitSpec, deploy18, deploy6, publish } from "../fixtures/clearinghouse";
import type { ClearinghouseFixture } from "../fixtures/clearinghouse";
import { order, place } from "../helpers/orders";

/** Bounds of `SeriesBounds.sol`: the largest multiplier, tick size and position limit a series may have. */
const MAX_CONTRACT_MULTIPLIER = 10n ** 9n;
const MAX_TICK_SIZE_X18 = 10n ** 22n;
const MAX_POSITION_LIMIT_QTY = 10n ** 12n;
/** The highest price an order can carry: the largest tick at the largest tick size. */
const MAX_TICK_PRICE_X18 = MAX_TICK * MAX_TICK_SIZE_X18;
const BPS = 10_000n;
const AIT_SERIES = 1n;
const GPUH_SERIES = 2n;
/** The oracle's minimum interval between rounds; index steps stay under its 10% jump guard. */
const ROUND_SEC = 900;
const STEP_BPS = 800n;

async function deployHarness(): Promise<ClearinghouseMathHarness> {
  const [deployer] = await ethers.getSigners();
  return new ClearinghouseMathHarness__factory(deployer).deploy();
}

// ---------------------------------------------------------------------------------------------
// Chain helpers
// ---------------------------------------------------------------------------------------------

/** The account's cash and positions at the chain's marks, as `sdk/core` takes them. */
async function valuedAccount(ch: ClearinghouseHarness, account: string) {
  const cashX18 = await ch.cashOf(account);
  const positions: (ValuedPosition & { seriesId: bigint })[] = [];
  for (const seriesId of await ch.seriesOf(account)) {
    const [position, spec, risk, markX18] = await Promise.all([
      ch.positionOf(account, seriesId),
      ch.seriesSpec(seriesId),
      ch.riskParams(seriesId),
      ch.markPrice(seriesId),
    ]);
    positions.push({
      seriesId,
      sizeQty: position.sizeQty,
      openNotionalX18: position.openNotionalX18,
      markX18,
      multiplier: spec.contractMultiplier,
      imBps: risk.imBps,
      mmBps: risk.mmBps,
    });
  }
  return { cashX18, positions };
}

/**
 * Asserts that the chain's `accountHealth` equals `sdk/core`'s on the chain's positions and marks (no resting
 * orders), with free collateral and the margin ratio agreeing; returns whether the account is liquidatable.
 */
async function expectHealthAgrees(ch: ClearinghouseHarness, account: string): Promise<boolean> {
  const chain = await ch.accountHealth(account);
  const { cashX18, positions } = await valuedAccount(ch, account);
  const model = accountHealth(cashX18, positions);
  expect(chain.orderMarginX18).to.equal(0n);
  expect([
    chain.cashX18,
    chain.unrealizedPnlX18,
    chain.equityX18,
    chain.initialMarginX18,
    chain.maintenanceMarginX18,
    chain.withdrawableX18,
  ]).to.deep.equal([
    model.cashX18,
    model.unrealizedPnlX18,
    model.equityX18,
    model.initialMarginX18,
    model.maintenanceMarginX18,
    model.withdrawableX18,
  ]);
  expect(freeCollateralX18(chain.cashX18, chain.equityX18, chain.initialMarginX18)).to.equal(chain.withdrawableX18);
  const liquidatable = isLiquidatable(chain.equityX18, chain.maintenanceMarginX18);
  const ratioBps = marginRatioBps(chain.equityX18, chain.maintenanceMarginX18);
  if (ratioBps !== undefined) expect(ratioBps < BPS).to.equal(liquidatable);
  return liquidatable;
}

/** The SDK's liquidation price of `account`'s position in `seriesId`, its other positions at the chain's marks. */
async function sdkLiquidationPrice(ch: ClearinghouseHarness, account: string, seriesId: bigint) {
  const { cashX18, positions } = await valuedAccount(ch, account);
  const moving = positions.find((p) => p.seriesId === seriesId)!;
  const others = positions.filter((p) => p.seriesId !== seriesId);
  return liquidationPriceX18(cashX18, moving, others);
}

/** Publishes AIT index rounds, each under the jump guard, until the index (and so the mark) is `targetX18`. */
async function moveAitIndexTo(f: ClearinghouseFixture, targetX18: bigint): Promise<void> {
  let currentX18 = (await f.oracle.peekLatest(AIT))[0];
  for (;;) {
    const stepX18 = (currentX18 * STEP_BPS) / BPS;
    if (targetX18 > currentX18 + stepX18) currentX18 += stepX18;
    else if (targetX18 < currentX18 - stepX18) currentX18 -= stepX18;
    else currentX18 = targetX18;
    await time.increase(ROUND_SEC);
    await publish(f.oracle, f.reporters, AIT, currentX18);
    if (currentX18 === targetX18) break;
  }
  // No trade since the basis sample of 0 (trades at the index): the mark is the index, to the wei.
  expect(await f.clearinghouse.markPrice(AIT_SERIES)).to.equal(targetX18);
}

/**
 * The chain's verdict on `account` at the current marks: the health view (checked against the SDK) and the
 * liquidation entry point itself, simulated by `liquidator`.
 */
async function chainLiquidatable(f: ClearinghouseFixture, account: string, liquidator: HardhatEthersSigner) {
  const liquidatable = await expectHealthAgrees(f.clearinghouse, account);
  const attempt = f.clearinghouse.connect(liquidator).liquidate.staticCall(account, AIT_SERIES, MAX_ORDER_QTY);
  if (liquidatable) expect(await attempt).to.be.greaterThan(0n);
  else await expect(attempt).to.be.revertedWithCustomError(f.clearinghouse, "AccountNotLiquidatable");
  return liquidatable;
}

/**
 * A second series (GPUH, the AIT terms) and three accounts with real positions from the order book, at the
 * index, so the basis stays 0 and the marks equal the indices: alice long 20 AIT at 4.000 and short 10 GPUH at
 * 2.400 (with carol), bob short 20 AIT. Deposits carry one raw unit of dust.
 */
async function withPositions(f: ClearinghouseFixture): Promise<ClearinghouseFixture> {
  const ch = f.clearinghouse;
  await ch
    .connect(f.admin)
    .listSeries(aitSpec(f.expiry, { symbol: encodeBytes32String("GPUH-TEST"), feedId: GPUH }), aitRisk());
  const dust = (whole: string) => parseCollateral(`${whole}.${"0".repeat(f.decimals - 1)}1`, f.decimals);
  await ch.connect(f.alice).deposit(dust("30000"));
  await ch.connect(f.bob).deposit(dust("23500"));
  await ch.connect(f.carol).deposit(dust("100000"));
  await place(ch, f.bob, order(AIT_SERIES, f.bob.address, false, 20n, "4"));
  await place(ch, f.alice, order(AIT_SERIES, f.alice.address, true, 20n, "4"));
  await place(ch, f.carol, order(GPUH_SERIES, f.carol.address, true, 10n, "2.4"));
  await place(ch, f.alice, order(GPUH_SERIES, f.alice.address, false, 10n, "2.4"));
  expect((await ch.positionOf(f.alice.address, AIT_SERIES)).sizeQty).to.equal(20n);
  expect((await ch.positionOf(f.alice.address, GPUH_SERIES)).sizeQty).to.equal(-10n);
  expect((await ch.positionOf(f.bob.address, AIT_SERIES)).sizeQty).to.equal(-20n);
  return f;
}

async function positions6() {
  return withPositions(await deploy6());
}

async function positions18() {
  return withPositions(await deploy18());
}

// ---------------------------------------------------------------------------------------------
// Harness helpers
// ---------------------------------------------------------------------------------------------

/** The harness's applyTrade against the SDK's, field for field; returns the outcome. */
async function expectApplyTradeAgrees(
  harness: ClearinghouseMathHarness,
  size: bigint,
  open: bigint,
  delta: bigint,
  price: bigint,
  multiplier: bigint,
) {
  const [newSize, newOpen, realized] = await harness.applyTrade(size, open, delta, price, multiplier);
  const model = applyTrade(size, open, delta, price, multiplier);
  expect([newSize, newOpen, realized], `applyTrade(${size}, ${open}, ${delta}, ${price}, ${multiplier})`).to.deep.equal(
    [model.newSizeQty, model.newOpenNotionalX18, model.realizedPnlX18],
  );
  return model;
}

/** Equity and maintenance margin of an account at the given marks, computed by the harness alone. */
async function harnessMargin(
  harness: ClearinghouseMathHarness,
  cashX18: bigint,
  positions: readonly HeldPosition[],
): Promise<{ equityX18: bigint; maintenanceMarginX18: bigint }> {
  let equityX18 = cashX18;
  let maintenanceMarginX18 = 0n;
  for (const p of positions) {
    if (p.sizeQty === 0n) continue;
    // Closing the whole position at the mark realizes exactly its unrealized PnL.
    const [, , realized] = await harness.applyTrade(p.sizeQty, p.openNotionalX18, -p.sizeQty, p.markX18, p.multiplier);
    equityX18 += realized;
    maintenanceMarginX18 += await harness.requirementX18(abs(p.sizeQty), p.markX18, p.multiplier, p.mmBps);
  }
  return { equityX18, maintenanceMarginX18 };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const multiplierArb = fc.bigInt({ min: 1n, max: 10_000n });
const mmBpsArb = fc.bigInt({ min: 50n, max: 5_000n });
const priceArb = fc.bigInt({ min: 10n ** 15n, max: 10n ** 21n });
const sizeArb = fc.bigInt({ min: -100_000n, max: 100_000n }).filter((s) => s !== 0n);
/** A held position: size, entry price (plus cost-basis noise) and mark. */
const heldArb = fc
  .record({ size: sizeArb, entry: priceArb, noise: fc.bigInt({ min: -1_000n, max: 1_000n }), mark: priceArb })
  .chain(({ size, entry, noise, mark }) =>
    fc.record({ multiplier: multiplierArb, mmBps: mmBpsArb }).map(({ multiplier, mmBps }) => ({
      sizeQty: size,
      openNotionalX18: size * entry * multiplier + noise,
      markX18: mark,
      multiplier,
      mmBps,
    })),
  );
/** An account: cash, the moving position and up to two others. */
const accountArb = fc.record({
  cashX18: fc.bigInt({ min: -(10n ** 24n), max: 10n ** 28n }),
  moving: heldArb.map(({ sizeQty, openNotionalX18, multiplier, mmBps }) => ({
    sizeQty,
    openNotionalX18,
    multiplier,
    mmBps,
  })),
  others: fc.array(heldArb, { maxLength: 2 }),
});

/**
 * An account exactly at the boundary: cash chosen so that equity equals maintenance margin at the mark
 * `boundaryX18` (a multiple of 10,000, so no requirement of the moving position rounds there). The account is
 * not liquidatable at that mark; its liquidation price is one wei beyond it.
 */
const boundaryArb = fc
  .record({ account: accountArb, k: fc.bigInt({ min: 1n, max: 10n ** 17n }) })
  .map(({ account: { moving, others }, k }) => {
    const boundaryX18 = k * BPS;
    const slope = (moving.sizeQty * BPS - abs(moving.sizeQty) * moving.mmBps) * moving.multiplier;
    let restX18 = -moving.openNotionalX18;
    for (const o of others) {
      restX18 +=
        unrealizedPnlX18(o.sizeQty, o.openNotionalX18, o.markX18, o.multiplier) -
        requirementX18(abs(o.sizeQty), o.markX18, o.multiplier, o.mmBps);
    }
    return { cashX18: -(slope * boundaryX18) / BPS - restX18, moving, others, boundaryX18 };
  });

/** `sdk/core` health of the account with the moving position at `markX18`. */
function modelLiquidatableAt(
  cashX18: bigint,
  moving: MovingPosition,
  others: readonly HeldPosition[],
  markX18: bigint,
): boolean {
  const all = [{ ...moving, markX18 }, ...others].map((p) => ({ ...p, imBps: 2n * p.mmBps }));
  const health = accountHealth(cashX18, all);
  const liquidatable = isLiquidatable(health.equityX18, health.maintenanceMarginX18);
  expect(marginRatioBps(health.equityX18, health.maintenanceMarginX18)! < BPS).to.equal(liquidatable);
  return liquidatable;
}

describe("sdk/core against the contracts on shared vectors", function () {
  for (const [decimals, fixture, withTrades] of [
    [6, deploy6, positions6],
    [18, deploy18, positions18],
  ] as const) {
    describe(`collateral of ${decimals} decimals`, function () {
      it("a deposit of one raw unit credits rawToX18(1) of cash and free collateral; it withdraws back", async function () {
        const f = await loadFixture(fixture);
        const ch = f.clearinghouse;
        const oneX18 = rawToX18(1n, decimals);
        await expect(ch.connect(f.alice).deposit(1n))
          .to.emit(ch, "Deposited")
          .withArgs(f.alice.address, f.alice.address, 1n, oneX18);
        expect(await ch.cashOf(f.alice.address)).to.equal(oneX18);
        await expectHealthAgrees(ch, f.alice.address);
        expect((await ch.accountHealth(f.alice.address)).withdrawableX18).to.equal(oneX18);
        expect(x18ToRawDown(oneX18, decimals)).to.equal(1n);
        await ch.connect(f.alice).withdraw(f.alice.address, 1n, f.alice.address);
        expect(await ch.cashOf(f.alice.address)).to.equal(0n);
      });

      it("random deposits and withdrawals move cash by exactly rawToX18, and x18ToRawDown gives the raw back", async function () {
        const f = await loadFixture(fixture);
        const ch = f.clearinghouse;
        let cashX18 = 0n;
        await fc.assert(
          fc.asyncProperty(fc.bigInt({ min: 1n, max: 1_000n * 10n ** BigInt(decimals) }), async (raw) => {
            // The amount as a user types it, parsed back by the SDK.
            const typed = parseCollateral(formatCollateral(raw, decimals), decimals);
            expect(typed).to.equal(raw);
            await ch.connect(f.alice).deposit(typed);
            cashX18 += rawToX18(raw, decimals);
            expect(await ch.cashOf(f.alice.address)).to.equal(cashX18);
            const back = x18ToRawDown(rawToX18(raw, decimals), decimals);
            expect(back).to.equal(raw);
            await ch.connect(f.alice).withdraw(f.alice.address, back, f.alice.address);
            cashX18 -= rawToX18(back, decimals);
            expect(await ch.cashOf(f.alice.address)).to.equal(cashX18);
          }),
          { numRuns: 12, seed: 61 + decimals },
        );
      });

      it("the largest raw amount (MAX_DEPOSIT_RAW) deposits and withdraws exactly; one more is AmountTooLarge", async function () {
        const f = await loadFixture(fixture);
        const ch = f.clearinghouse;
        expect(await ch.MAX_AMOUNT_RAW()).to.equal(MAX_DEPOSIT_RAW);
        await f.token.mint(f.carol.address, MAX_DEPOSIT_RAW + 1n);
        const before = await ch.cashOf(f.carol.address);
        await expect(ch.connect(f.carol).deposit(MAX_DEPOSIT_RAW + 1n))
          .to.be.revertedWithCustomError(ch, "AmountTooLarge")
          .withArgs(MAX_DEPOSIT_RAW + 1n, MAX_DEPOSIT_RAW);
        await ch.connect(f.carol).deposit(MAX_DEPOSIT_RAW);
        const maxX18 = rawToX18(MAX_DEPOSIT_RAW, decimals);
        expect(await ch.cashOf(f.carol.address)).to.equal(before + maxX18);
        await expectHealthAgrees(ch, f.carol.address);
        expect(x18ToRawDown((await ch.accountHealth(f.carol.address)).withdrawableX18, decimals)).to.equal(
          MAX_DEPOSIT_RAW,
        );
        await expect(
          ch.connect(f.carol).withdraw(f.carol.address, MAX_DEPOSIT_RAW + 1n, f.carol.address),
        ).to.be.revertedWithCustomError(ch, "AmountTooLarge");
        await ch.connect(f.carol).withdraw(f.carol.address, MAX_DEPOSIT_RAW, f.carol.address);
        expect(await ch.cashOf(f.carol.address)).to.equal(before);
      });

      it("free collateral with sub-unit dust: x18ToRawDown of it withdraws, one raw unit more is refused", async function () {
        const f = await loadFixture(withTrades);
        const ch = f.clearinghouse;
        // An index with wei dust: unrealized PnL, equity and the requirements carry it.
        await moveAitIndexTo(f, 3_900_000_000_000_000_123n);
        await expectHealthAgrees(ch, f.alice.address);
        const freeX18 = (await ch.accountHealth(f.alice.address)).withdrawableX18;
        // Below a micro-USD: dust under one raw unit of a 6-decimal token.
        expect(freeX18 % 10n ** 12n).to.not.equal(0n);
        const raw = x18ToRawDown(freeX18, decimals);
        expect(rawToX18(raw, decimals) <= freeX18 && rawToX18(raw + 1n, decimals) > freeX18).to.equal(true);
        await expect(ch.connect(f.alice).withdraw(f.alice.address, raw + 1n, f.alice.address))
          .to.be.revertedWithCustomError(ch, "InsufficientFreeCollateral")
          .withArgs(f.alice.address, rawToX18(raw + 1n, decimals), freeX18);
        await ch.connect(f.alice).withdraw(f.alice.address, raw, f.alice.address);
        const leftX18 = (await ch.accountHealth(f.alice.address)).withdrawableX18;
        expect(leftX18).to.equal(freeX18 - rawToX18(raw, decimals));
        expect(x18ToRawDown(leftX18, decimals)).to.equal(0n);
        await expectHealthAgrees(ch, f.alice.address);
      });

      it("liquidationPriceX18 of real positions: the chain liquidates at that mark and not one wei before it", async function () {
        const f = await loadFixture(withTrades);
        const ch = f.clearinghouse;
        // Both prices at the starting marks (GPUH held at 2.400 throughout).
        const shortPriceX18 = (await sdkLiquidationPrice(ch, f.bob.address, AIT_SERIES))!;
        const longPriceX18 = (await sdkLiquidationPrice(ch, f.alice.address, AIT_SERIES))!;
        expect(shortPriceX18 > 4n * 10n ** 18n && longPriceX18 < 4n * 10n ** 18n).to.equal(true);
        expect(await sdkLiquidationPrice(ch, f.alice.address, GPUH_SERIES)).to.be.greaterThan(2n * 10n ** 18n);

        // bob's short: healthy one wei below its price, liquidatable at it.
        await moveAitIndexTo(f, shortPriceX18 - 1n);
        expect(await chainLiquidatable(f, f.bob.address, f.carol)).to.equal(false);
        await moveAitIndexTo(f, shortPriceX18);
        expect(await chainLiquidatable(f, f.bob.address, f.carol)).to.equal(true);
        expect(await chainLiquidatable(f, f.alice.address, f.carol)).to.equal(false);
        expect(await sdkLiquidationPrice(ch, f.bob.address, AIT_SERIES)).to.equal(shortPriceX18);

        // alice's long, her GPUH short held at its mark: healthy one wei above its price, liquidatable at it.
        await moveAitIndexTo(f, longPriceX18 + 1n);
        expect(await chainLiquidatable(f, f.alice.address, f.carol)).to.equal(false);
        await moveAitIndexTo(f, longPriceX18);
        expect(await chainLiquidatable(f, f.alice.address, f.carol)).to.equal(true);
        expect(await sdkLiquidationPrice(ch, f.alice.address, AIT_SERIES)).to.equal(longPriceX18);
      });

      it("a real long topped up to equity = maintenance margin exactly at a mark: liquidatable one wei below it only", async function () {
        const f = await loadFixture(withTrades);
        const ch = f.clearinghouse;
        const priceX18 = (await sdkLiquidationPrice(ch, f.alice.address, AIT_SERIES))!;
        // A mark on the tick below the liquidation price; the deposit that closes the gap there is whole raw units.
        const boundaryX18 = (priceX18 / 10n ** 15n - 1n) * 10n ** 15n;
        const { cashX18, positions } = await valuedAccount(ch, f.alice.address);
        const atBoundary = accountHealth(
          cashX18,
          positions.map((p) => (p.seriesId === AIT_SERIES ? { ...p, markX18: boundaryX18 } : p)),
        );
        const gapX18 = atBoundary.maintenanceMarginX18 - atBoundary.equityX18;
        const raw = x18ToRawDown(gapX18, decimals);
        expect(rawToX18(raw, decimals)).to.equal(gapX18);
        await ch.connect(f.alice).deposit(raw);
        expect(await sdkLiquidationPrice(ch, f.alice.address, AIT_SERIES)).to.equal(boundaryX18 - 1n);
        await moveAitIndexTo(f, boundaryX18);
        const health = await ch.accountHealth(f.alice.address);
        expect(health.equityX18).to.equal(health.maintenanceMarginX18);
        expect(await chainLiquidatable(f, f.alice.address, f.carol)).to.equal(false);
        await moveAitIndexTo(f, boundaryX18 - 1n);
        expect(await chainLiquidatable(f, f.alice.address, f.carol)).to.equal(true);
      });
    });
  }

  describe("PositionMath at the largest sizes, ticks and multipliers the contracts accept", function () {
    it("the SDK's MAX_ORDER_QTY and MAX_TICK are the order book's limits", async function () {
      const f = await loadFixture(deploy6);
      const simulate = (qty: bigint, tick: bigint) =>
        f.clearinghouse.connect(f.alice).placeOrder.staticCall(order(AIT_SERIES, f.alice.address, true, qty, tick));
      await expect(simulate(MAX_ORDER_QTY + 1n, 4_000n))
        .to.be.revertedWithCustomError(f.clearinghouse, "QtyTooLarge")
        .withArgs(AIT_SERIES, MAX_ORDER_QTY + 1n, MAX_ORDER_QTY);
      await expect(simulate(1n, MAX_TICK + 1n))
        .to.be.revertedWithCustomError(f.clearinghouse, "TickOutOfRange")
        .withArgs(AIT_SERIES, MAX_TICK + 1n, MAX_TICK);
      expect(tickToPriceX18(MAX_TICK, MAX_TICK_SIZE_X18)).to.equal(MAX_TICK_PRICE_X18);
    });

    it("applyTrade, requirementX18 and feeX18 equal the harness at the extremes", async function () {
      const harness = await loadFixture(deployHarness);
      const prices = [1n, MAX_PRICE_X18, MAX_TICK_PRICE_X18];
      const multipliers = [1n, MAX_CONTRACT_MULTIPLIER];
      const sizes = [MAX_POSITION_LIMIT_QTY, -MAX_POSITION_LIMIT_QTY, 1n, -MAX_ORDER_QTY];
      for (const multiplier of multipliers) {
        for (const entry of prices) {
          for (const size of sizes) {
            const open = notionalX18(size, entry, multiplier);
            for (const exit of prices) {
              for (const delta of [MAX_ORDER_QTY, -MAX_ORDER_QTY, -size]) {
                await expectApplyTradeAgrees(harness, size, open, delta, exit, multiplier);
                await expectApplyTradeAgrees(harness, size, open + 1n, delta, exit, multiplier);
              }
            }
            for (const bps of [50n, 5_000n, 10_000n]) {
              expect(await harness.requirementX18(abs(size), entry, multiplier, bps)).to.equal(
                requirementX18(abs(size), entry, multiplier, bps),
              );
            }
          }
          const notional = notionalX18(MAX_ORDER_QTY, entry, multiplier);
          for (const bps of [-100n, -1n, 0n, 1n, 100n]) {
            expect(await harness.feeX18(notional, bps)).to.equal(feeX18(notional, bps));
          }
        }
      }
    });
  });

  describe("rounding boundaries", function () {
    it("requirements are exact on multiples and round up one wei off", async function () {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: MAX_POSITION_LIMIT_QTY }),
          fc.bigInt({ min: 1n, max: 10n ** 20n }),
          fc.bigInt({ min: 1n, max: MAX_CONTRACT_MULTIPLIER }),
          fc.bigInt({ min: 1n, max: 10_000n }),
          async (size, k, multiplier, bps) => {
            // mark = k x 10,000: size x mark x multiplier x bps is a multiple of 10,000.
            for (const mark of [k * BPS, k * BPS + 1n, k * BPS - 1n]) {
              const required = await harness.requirementX18(size, mark, multiplier, bps);
              expect(required).to.equal(requirementX18(size, mark, multiplier, bps));
              const exactScaled = size * mark * multiplier * bps;
              if (mark === k * BPS) expect(required * BPS).to.equal(exactScaled);
              else expect(required * BPS >= exactScaled && required * BPS < exactScaled + BPS).to.equal(true);
            }
          },
        ),
        { numRuns: 25, seed: 11 },
      );
    });

    it("fees round up and rebates down in magnitude, exact on multiples", async function () {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: 10n ** 40n }),
          fc.bigInt({ min: -100n, max: 100n }).filter((b) => b !== 0n),
          async (k, bps) => {
            for (const notional of [k * BPS, k * BPS + 1n, k * BPS - 1n]) {
              const fee = await harness.feeX18(notional, bps);
              expect(fee).to.equal(feeX18(notional, bps));
              const exactScaled = notional * bps;
              // Charges round up, rebates (negative) round toward zero: both toward +infinity, strictly one wei off.
              if (notional === k * BPS) expect(fee * BPS).to.equal(exactScaled);
              else expect(fee * BPS > exactScaled && fee * BPS < exactScaled + BPS).to.equal(true);
            }
          },
        ),
        { numRuns: 25, seed: 12 },
      );
      // One wei: a 1-bp charge is 1 wei, a 1-bp rebate is 0.
      expect(await harness.feeX18(1n, 1n)).to.equal(1n);
      expect(await harness.feeX18(1n, -1n)).to.equal(0n);
      expect(feeX18(1n, -1n)).to.equal(0n);
    });

    it("realized PnL rounds toward the system: exact when the basis divides, one wei down at most otherwise", async function () {
      const harness = await loadFixture(deployHarness);
      // Closing 1 of 3 contracts: basis 9 divides, 10 and 11 do not (the removed basis rounds toward +infinity).
      const table: [bigint, bigint, bigint, bigint][] = [
        [3n, 9n, -1n, -2n],
        [3n, 10n, -1n, -3n],
        [3n, 11n, -1n, -3n],
        [-3n, -9n, 1n, 2n],
        [-3n, -10n, 1n, 2n],
        [-3n, -11n, 1n, 2n],
      ];
      for (const [size, open, delta, realized] of table) {
        expect((await expectApplyTradeAgrees(harness, size, open, delta, 1n, 1n)).realizedPnlX18).to.equal(realized);
      }
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 2n, max: MAX_POSITION_LIMIT_QTY }),
          fc.boolean(),
          fc.bigInt({ min: 0n, max: 10n ** 30n }),
          fc.bigInt({ min: -2n, max: 2n }),
          fc.bigInt({ min: 1n, max: 10n ** 24n }),
          fc.bigInt({ min: 1n, max: MAX_CONTRACT_MULTIPLIER }),
          async (absSize, long, basisPerContract, offset, price, multiplier) => {
            const size = long ? absSize : -absSize;
            // A basis that divides by the size, or one to two wei off it.
            const open = size * basisPerContract + offset;
            const closeQty = absSize / 2n;
            const model = await expectApplyTradeAgrees(
              harness,
              size,
              open,
              long ? -closeQty : closeQty,
              price,
              multiplier,
            );
            const closeValue = (long ? closeQty : -closeQty) * price * multiplier;
            // realized <= closeValue - open x closeQty / absSize, by less than one wei.
            const exactScaled = closeValue * absSize - open * closeQty;
            expect(model.realizedPnlX18 * absSize <= exactScaled).to.equal(true);
            expect(model.realizedPnlX18 * absSize > exactScaled - absSize).to.equal(true);
            if ((open * closeQty) % absSize === 0n) expect(model.realizedPnlX18 * absSize).to.equal(exactScaled);
          },
        ),
        { numRuns: 40, seed: 13 },
      );
    });
  });

  describe("freeCollateralX18 and marginRatioBps", function () {
    it("free collateral is min(cash, equity - IM) floored at 0; the ratio is equity / MM in bps, rounded down", function () {
      expect(freeCollateralX18(100n, 150n, 20n)).to.equal(100n);
      expect(freeCollateralX18(100n, 90n, 20n)).to.equal(70n);
      expect(freeCollateralX18(100n, 10n, 20n)).to.equal(0n);
      expect(freeCollateralX18(-5n, 100n, 0n)).to.equal(0n);
      expect(marginRatioBps(10n, 0n)).to.equal(undefined);
      expect(marginRatioBps(1n, 1n)).to.equal(10_000n);
      expect(marginRatioBps(9_999n, 10_000n)).to.equal(9_999n);
      expect(marginRatioBps(2n, 3n)).to.equal(6_666n);
      expect(marginRatioBps(-2n, 3n)).to.equal(-6_667n);
      expect(marginRatioBps(0n, 3n)).to.equal(0n);
      fc.assert(
        fc.property(
          fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
          fc.bigInt({ min: 1n, max: 10n ** 30n }),
          (e, m) => {
            const ratio = marginRatioBps(e, m)!;
            expect(ratio * m <= e * BPS && e * BPS < (ratio + 1n) * m).to.equal(true);
            expect(ratio < BPS).to.equal(isLiquidatable(e, m));
          },
        ),
        { numRuns: 500, seed: 18 },
      );
    });
  });

  describe("liquidationPriceX18", function () {
    it("is the first liquidatable mark by the SDK's accountHealth; the neighbour one wei away is not", function () {
      fc.assert(
        fc.property(accountArb, ({ cashX18, moving, others }) => {
          const priceX18 = liquidationPriceX18(cashX18, moving, others);
          const at = (mark: bigint) => modelLiquidatableAt(cashX18, moving, others, mark);
          if (moving.sizeQty > 0n) {
            if (priceX18 === undefined) {
              expect(at(1n)).to.equal(false);
            } else {
              expect(at(priceX18)).to.equal(true);
              expect(at(priceX18 + 1n)).to.equal(false);
              expect(priceX18 === 1n || at(priceX18 - 1n)).to.equal(true);
              expect(at(priceX18 * 2n + 10n ** 30n)).to.equal(false);
            }
          } else {
            expect(priceX18 === undefined).to.equal(false);
            expect(at(priceX18!)).to.equal(true);
            expect(at(priceX18! + 1n)).to.equal(true);
            if (priceX18! > 1n) expect(at(priceX18! - 1n)).to.equal(false);
            else expect(at(1n)).to.equal(true);
          }
        }),
        { numRuns: 2_000, seed: 14 },
      );
    });

    it("at an exact boundary (equity = maintenance margin at a mark) is one wei beyond that mark", async function () {
      fc.assert(
        fc.property(boundaryArb, ({ cashX18, moving, others, boundaryX18 }) => {
          const priceX18 = liquidationPriceX18(cashX18, moving, others);
          expect(priceX18).to.equal(moving.sizeQty > 0n ? boundaryX18 - 1n : boundaryX18 + 1n);
          expect(modelLiquidatableAt(cashX18, moving, others, boundaryX18)).to.equal(false);
          expect(modelLiquidatableAt(cashX18, moving, others, priceX18!)).to.equal(true);
        }),
        { numRuns: 1_000, seed: 16 },
      );
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(boundaryArb, async ({ cashX18, moving, others, boundaryX18 }) => {
          const priceX18 = liquidationPriceX18(cashX18, moving, others)!;
          const at = await harnessMargin(harness, cashX18, [{ ...moving, markX18: boundaryX18 }, ...others]);
          expect(at.equityX18).to.equal(at.maintenanceMarginX18);
          const beyond = await harnessMargin(harness, cashX18, [{ ...moving, markX18: priceX18 }, ...others]);
          expect(isLiquidatable(beyond.equityX18, beyond.maintenanceMarginX18)).to.equal(true);
        }),
        { numRuns: 30, seed: 17 },
      );
    });

    it("is undefined for a fully collateralised long and a flat position, 1 for a short liquidatable at every mark; bad series terms throw", function () {
      const long = { sizeQty: 20n, openNotionalX18: 80_000n * 10n ** 18n, multiplier: 1_000n, mmBps: 1_250n };
      expect(liquidationPriceX18(80_000n * 10n ** 18n, long, [])).to.equal(undefined);
      // One wei short of full collateral: even at a mark of 1 wei the position's value covers the gap.
      expect(liquidationPriceX18(80_000n * 10n ** 18n - 1n, long, [])).to.equal(undefined);
      expect(liquidationPriceX18(0n, { ...long, sizeQty: 0n, openNotionalX18: 0n }, [])).to.equal(undefined);
      const short = { ...long, sizeQty: -20n, openNotionalX18: -80_000n * 10n ** 18n };
      expect(liquidationPriceX18(-80_001n * 10n ** 18n, short, [])).to.equal(1n);
      // A long exactly at maintenance margin at a mark of 1 wei (the requirement rounds nothing there): none.
      const tiny = { sizeQty: 1n, openNotionalX18: 10_000n, multiplier: 10_000n, mmBps: 1_250n };
      expect(liquidationPriceX18(1_250n, tiny, [])).to.equal(undefined);
      expect(modelLiquidatableAt(1_250n, tiny, [], 1n)).to.equal(false);
      expect(modelLiquidatableAt(1_249n, tiny, [], 1n)).to.equal(true);
      expect(liquidationPriceX18(1_249n, tiny, [])).to.equal(1n);
      // A short whose 10,000 x (cash - basis) is one wei below a multiple of its slope: 10,001 x 10,001 - 1.
      const edge = { sizeQty: -1n, openNotionalX18: -10_000n, multiplier: 1n, mmBps: 1n };
      expect(liquidationPriceX18(2n, edge, [])).to.equal(10_001n);
      expect(modelLiquidatableAt(2n, edge, [], 10_001n)).to.equal(true);
      expect(modelLiquidatableAt(2n, edge, [], 10_000n)).to.equal(false);
      expect(() => liquidationPriceX18(0n, { ...long, multiplier: 0n }, [])).to.throw(SeriesParamError, "multiplier");
      expect(() => liquidationPriceX18(0n, { ...long, mmBps: 10_000n }, [])).to.throw(SeriesParamError, "mmBps");
      expect(() => liquidationPriceX18(0n, { ...long, mmBps: -1n }, [])).to.throw(SeriesParamError, "mmBps");
    });

    it("matches the harness's equity and maintenance margin at the price and one wei before it", async function () {
      const harness = await loadFixture(deployHarness);
      await fc.assert(
        fc.asyncProperty(accountArb, async ({ cashX18, moving, others }) => {
          const priceX18 = liquidationPriceX18(cashX18, moving, others);
          fc.pre(priceX18 !== undefined && priceX18 > 1n);
          const liquidatableAt = async (markX18: bigint) => {
            const m = await harnessMargin(harness, cashX18, [{ ...moving, markX18 }, ...others]);
            return isLiquidatable(m.equityX18, m.maintenanceMarginX18);
          };
          const before = moving.sizeQty > 0n ? priceX18! + 1n : priceX18! - 1n;
          expect(await liquidatableAt(priceX18!)).to.equal(true);
          expect(await liquidatableAt(before)).to.equal(false);
        }),
        { numRuns: 40, seed: 15 },
      );
    });
  });
});
