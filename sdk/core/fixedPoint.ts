/**
 * Signed multiply-divide helpers mirroring `contracts/libraries/FixedPointMath.sol`.
 * bigint only; the rounding direction is in each name.
 */
import { mulDivDown, mulDivUp } from "../units";

/** |a| */
export function abs(a: bigint): bigint {
  return a < 0n ? -a : a;
}

/** a x b / denominator for signed `a`, rounded toward positive infinity (`mulDivSignedUp`). */
export function mulDivSignedUp(a: bigint, b: bigint, denominator: bigint): bigint {
  return a >= 0n ? mulDivUp(a, b, denominator) : -mulDivDown(-a, b, denominator);
}

/** a x b / denominator for signed `a`, rounded toward zero (`mulDivSignedTowardZero`). */
export function mulDivSignedTowardZero(a: bigint, b: bigint, denominator: bigint): bigint {
  return a >= 0n ? mulDivDown(a, b, denominator) : -mulDivDown(-a, b, denominator);
}
