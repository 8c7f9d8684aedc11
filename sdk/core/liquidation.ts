/**
 * Liquidation and deleveraging: the reference model of `contracts/core/logic/LiquidationLogic.sol`
 * (`_size`, `_price`) and `DeficitLogic.sol` (`_haircut`), rounding for rounding. Keepers use it to
 * decide what to liquidate without asking the chain; tests compare it with the contracts.
 */
import { BPS } from "../math/bps";
import { mulDivDown, mulDivUp } from "../units";
import { abs } from "./fixedPoint";
import { notionalX18 } from "./position";

/** Positions whose notional at the mark is at most this (USD, 18 decimals) are liquidated whole. */
export const SMALL_POSITION_NOTIONAL_X18 = 10_000n * 10n ** 18n;
/** The liquidator's share of the penalty, bps; the insurance fund receives the rest. */
export const LIQUIDATOR_PENALTY_SHARE_BPS = 5_000n;

/** What the liquidation of one position needs: the position, its series and the account's health. */
export interface LiquidationInputs {
  sizeQty: bigint;
  markX18: bigint;
  multiplier: bigint;
  lotQty: bigint;
  mmBps: bigint;
  liquidationPenaltyBps: bigint;
  /** The account's equity and maintenance margin (all series) at the marks. */
  equityX18: bigint;
  maintenanceMarginX18: bigint;
  /** The most contracts the liquidator takes over. */
  maxQty: bigint;
}

/** How much of a position a liquidation takes over (`LiquidationLogic._size`). */
export interface LiquidationSize {
  /** True when the whole position must go (small, or too deep for a partial liquidation to help). */
  whole: boolean;
  /** What the rules require: the fewest lots that restore maintenance margin, or the whole position. */
  requiredQty: bigint;
  /** What the liquidator takes: `requiredQty`, or less when `maxQty` is smaller and a partial is allowed. */
  qty: bigint;
  /** True when `maxQty` is too small (the contract reverts with `LiquidationQtyTooSmall`). */
  qtyTooSmall: boolean;
}

/** True when the account is liquidatable: equity below maintenance margin. */
export function isLiquidatable(equityX18: bigint, maintenanceMarginX18: bigint): boolean {
  return equityX18 < maintenanceMarginX18;
}

/** The quantity of a liquidation; mirrors `LiquidationLogic._size`. */
export function liquidationSize(inputs: LiquidationInputs): LiquidationSize {
  const lot = inputs.lotQty;
  const absSize = abs(inputs.sizeQty);
  const unitNotionalX18 = inputs.markX18 * inputs.multiplier;
  const whole =
    absSize * unitNotionalX18 <= SMALL_POSITION_NOTIONAL_X18 ||
    inputs.equityX18 <= 0n ||
    inputs.equityX18 * inputs.mmBps <= inputs.liquidationPenaltyBps * inputs.maintenanceMarginX18;
  let requiredQty = absSize;
  if (!whole) {
    const shortfallX18 = inputs.maintenanceMarginX18 - inputs.equityX18 + 2n;
    const lots = mulDivUp(shortfallX18, BPS, lot * unitNotionalX18 * (inputs.mmBps - inputs.liquidationPenaltyBps));
    if (lots * lot < absSize) requiredQty = lots * lot;
  }
  const allowed = inputs.maxQty - (inputs.maxQty % lot);
  if (allowed >= requiredQty) return { whole, requiredQty, qty: requiredQty, qtyTooSmall: false };
  if (whole || allowed === 0n) return { whole, requiredQty, qty: 0n, qtyTooSmall: true };
  return { whole, requiredQty, qty: allowed, qtyTooSmall: false };
}

/** The penalty of a liquidation and its split (`LiquidationLogic._price` and `_execute`). */
export interface LiquidationPenalty {
  /** Charged to the account: penaltyBps of the notional taken over, rounded up, capped at its equity. */
  penaltyX18: bigint;
  /** The liquidator's share, rounded down. */
  liquidatorRewardX18: bigint;
  /** The insurance fund's share: the rest. */
  insuranceShareX18: bigint;
}

/** The penalty of taking over `qty` contracts at `markX18` from an account with `equityX18`. */
export function liquidationPenalty(
  qty: bigint,
  markX18: bigint,
  multiplier: bigint,
  liquidationPenaltyBps: bigint,
  equityX18: bigint,
): LiquidationPenalty {
  const fullX18 = mulDivUp(notionalX18(qty, markX18, multiplier), liquidationPenaltyBps, BPS);
  const equityLeftX18 = equityX18 > 0n ? equityX18 : 0n;
  const penaltyX18 = fullX18 < equityLeftX18 ? fullX18 : equityLeftX18;
  const liquidatorRewardX18 = (penaltyX18 * LIQUIDATOR_PENALTY_SHARE_BPS) / BPS;
  return { penaltyX18, liquidatorRewardX18, insuranceShareX18: penaltyX18 - liquidatorRewardX18 };
}

/**
 * The haircuts of a deleveraging (`DeficitLogic._haircut`): `shortfallX18` taken from the legs pro rata
 * to their realized profit, leg i paying floor(S x P<=i / P) - floor(S x P<i / P). They sum to the shortfall
 * exactly and none exceeds its leg's profit (needs shortfall <= total profit).
 */
export function deleverageHaircuts(shortfallX18: bigint, profitsX18: readonly bigint[]): bigint[] {
  const totalX18 = profitsX18.reduce((sum, profit) => sum + profit, 0n);
  if (shortfallX18 > totalX18) throw new RangeError("the shortfall exceeds the counterparties' profit");
  let cumulativeX18 = 0n;
  let takenX18 = 0n;
  return profitsX18.map((profitX18) => {
    cumulativeX18 += profitX18;
    const upToX18 = mulDivDown(shortfallX18, cumulativeX18, totalX18);
    const haircutX18 = upToX18 - takenX18;
    takenX18 = upToX18;
    return haircutX18;
  });
}
