/**
 * Unit conversions between human decimal strings and on-chain fixed point.
 * All on-chain amounts are bigint; 18-decimal fixed point is named `...X18`.
 */
import { InvalidAmountError } from "./errors";

/** One in 18-decimal fixed point. */
export const WAD = 10n ** 18n;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * Parses a non-negative decimal string into fixed point with `decimals` decimals, exactly.
 * @throws InvalidAmountError when the string is not a plain decimal or has too many decimals.
 */
export function parseFixed(value: string, decimals: number): bigint {
  const match = DECIMAL.exec(value.trim());
  if (match === null) throw new InvalidAmountError(value, "expected a non-negative decimal like 4.0465");
  const [, whole, fraction = ""] = match;
  if (fraction.length > decimals) {
    throw new InvalidAmountError(value, `more than ${decimals} decimals`);
  }
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

/** Parses a decimal string into 18-decimal fixed point (`...X18`). */
export function parseX18(value: string): bigint {
  return parseFixed(value, 18);
}

/**
 * Formats fixed point as a decimal string with all `decimals` digits, or trimmed of trailing zeros
 * (keeping at least `minDecimals`).
 */
export function formatFixed(value: bigint, decimals: number, minDecimals = decimals): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const whole = abs / scale;
  let fraction = (abs % scale).toString().padStart(decimals, "0");
  while (fraction.length > minDecimals && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  return `${negative ? "-" : ""}${whole}${fraction.length > 0 ? `.${fraction}` : ""}`;
}

/** Formats an 18-decimal value with all 18 decimals (or at least `minDecimals` when trimming). */
export function formatX18(value: bigint, minDecimals = 18): string {
  return formatFixed(value, 18, minDecimals);
}

/** Multiplies then divides, rounding down (toward zero for non-negative inputs). */
export function mulDivDown(a: bigint, b: bigint, denominator: bigint): bigint {
  return (a * b) / denominator;
}

/** Multiplies then divides, rounding up; inputs must be non-negative. */
export function mulDivUp(a: bigint, b: bigint, denominator: bigint): bigint {
  const product = a * b;
  return product === 0n ? 0n : (product - 1n) / denominator + 1n;
}
