/**
 * Unit conversions between human decimal strings and on-chain fixed point.
 * All on-chain amounts are bigint; 18-decimal fixed point is named `...X18`. USD amounts and prices are
 * 18-decimal fixed point; collateral amounts are raw token units (`...Raw`, the token's decimals; their
 * conversion to and from 18 decimals is `rawToX18` / `x18ToRawDown` of `sdk/core/settlement.ts`, as the
 * clearinghouse does it); quantities are whole contracts (`...Qty`); ticks are whole multiples of a series'
 * tick size.
 */
import {
  AmountNotPositiveError,
  InvalidAmountError,
  PriceNotOnTickError,
  SeriesParamError,
  UnsupportedDecimalsError,
} from "./errors";

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

// ---------------------------------------------------------------------------------------------
// USD
// ---------------------------------------------------------------------------------------------

/** Most decimals of a USD amount or of a collateral token (the clearinghouse refuses tokens with more). */
export const MAX_DECIMALS = 18;

const SIGNED_DECIMAL = /^(-)?(\d+(?:\.\d+)?)$/;

/** @throws UnsupportedDecimalsError unless `decimals` is a whole number from 0 to 18. */
function requireDecimals(decimals: number): void {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new UnsupportedDecimalsError(decimals);
  }
}

/**
 * Parses a USD decimal string (optionally negative, e.g. "-12.5") into 18-decimal fixed point, exactly.
 * @throws InvalidAmountError when it is not a plain decimal or has more than 18 decimals.
 */
export function usdToX18(text: string): bigint {
  const match = SIGNED_DECIMAL.exec(text.trim());
  if (match === null) throw new InvalidAmountError(text, "expected a decimal in USD like 4.0465 or -12.5");
  const [, minus, digits] = match;
  const valueX18 = parseFixed(digits, 18);
  return minus === undefined ? valueX18 : -valueX18;
}

/**
 * USD of an 18-decimal amount, exact (no rounding): trailing zeros trimmed down to `minDecimals` decimals.
 * The inverse of `usdToX18`.
 */
export function x18ToUsd(valueX18: bigint, minDecimals = 2): string {
  return formatFixed(valueX18, 18, minDecimals);
}

/**
 * USD of an 18-decimal amount rounded toward zero to exactly `decimals` decimals (for tables).
 * @throws UnsupportedDecimalsError unless `decimals` is a whole number from 0 to 18.
 */
export function x18ToUsdTowardZero(valueX18: bigint, decimals = 2): string {
  requireDecimals(decimals);
  return formatFixed(valueX18 / 10n ** BigInt(18 - decimals), decimals);
}

// ---------------------------------------------------------------------------------------------
// Prices and ticks
// ---------------------------------------------------------------------------------------------

/** @throws SeriesParamError unless the tick size is positive. */
function requireTickSize(tickSizeX18: bigint): void {
  if (tickSizeX18 <= 0n) throw new SeriesParamError("tickSizeX18", tickSizeX18, "must be above zero");
}

/**
 * The tick of a USD price string in a series of tick size `tickSizeX18` (USD, 18 decimals): price / tick size,
 * exact. The range of the book (1..MAX_TICK) is not checked here.
 * @throws InvalidAmountError when the price is not a non-negative decimal with at most 18 decimals;
 * AmountNotPositiveError (an InvalidAmountError) when it is zero; PriceNotOnTickError when it is not a
 * multiple of the tick size; SeriesParamError when the tick size is not positive.
 */
export function priceToTick(priceUsd: string, tickSizeX18: bigint): bigint {
  requireTickSize(tickSizeX18);
  const priceX18 = parseX18(priceUsd);
  if (priceX18 === 0n) throw new AmountNotPositiveError(priceUsd);
  if (priceX18 % tickSizeX18 !== 0n) throw new PriceNotOnTickError(priceUsd, tickSizeX18, x18ToUsd(tickSizeX18, 0));
  return priceX18 / tickSizeX18;
}

/**
 * The price of a tick, USD 18 decimals: tick x tick size, exact.
 * @throws SeriesParamError when the tick size is not positive.
 */
export function tickToPriceX18(tick: bigint, tickSizeX18: bigint): bigint {
  requireTickSize(tickSizeX18);
  return tick * tickSizeX18;
}

/**
 * The highest tick whose price is at most `priceX18` (USD 18 decimals, >= 0): price / tick size rounded down.
 * @throws SeriesParamError when the tick size is not positive.
 */
export function priceX18ToTickDown(priceX18: bigint, tickSizeX18: bigint): bigint {
  requireTickSize(tickSizeX18);
  return mulDivDown(priceX18, 1n, tickSizeX18);
}

/**
 * The lowest tick whose price is at least `priceX18` (USD 18 decimals, >= 0): price / tick size rounded up.
 * @throws SeriesParamError when the tick size is not positive.
 */
export function priceX18ToTickUp(priceX18: bigint, tickSizeX18: bigint): bigint {
  requireTickSize(tickSizeX18);
  return mulDivUp(priceX18, 1n, tickSizeX18);
}

// ---------------------------------------------------------------------------------------------
// Collateral and quantities
// ---------------------------------------------------------------------------------------------

/**
 * Parses a positive collateral amount (token units as a decimal string, e.g. "1000.5" USDC) into raw units of a
 * token with `decimals` decimals, exactly. The clearinghouse's cap on one call (`MAX_DEPOSIT_RAW`) is not checked.
 * @throws InvalidAmountError when it is not a plain non-negative decimal or has more decimals than the token;
 * AmountNotPositiveError (an InvalidAmountError) when it is zero; UnsupportedDecimalsError when `decimals` is
 * outside 0..18.
 */
export function parseCollateral(text: string, decimals: number): bigint {
  requireDecimals(decimals);
  const amountRaw = parseFixed(text, decimals);
  if (amountRaw === 0n) throw new AmountNotPositiveError(text);
  return amountRaw;
}

/**
 * A raw collateral amount in token units as a decimal string, exact: trailing zeros trimmed down to two decimals
 * (fewer when the token has fewer), e.g. 1000500000n with 6 decimals is "1000.50".
 * @throws UnsupportedDecimalsError when `decimals` is outside 0..18.
 */
export function formatCollateral(amountRaw: bigint, decimals: number): string {
  requireDecimals(decimals);
  return formatFixed(amountRaw, decimals, Math.min(2, decimals));
}

/**
 * Parses a positive whole number of contracts (digits only; no sign, no decimals). The series' lot and the
 * largest order (`MAX_ORDER_QTY`) are not checked.
 * @throws InvalidAmountError when it is not a whole number; AmountNotPositiveError (an InvalidAmountError)
 * when it is zero.
 */
export function parseQty(text: string): bigint {
  const digits = text.trim();
  if (!/^\d+$/.test(digits)) throw new InvalidAmountError(text, "expected a whole number of contracts");
  const qty = BigInt(digits);
  if (qty === 0n) throw new AmountNotPositiveError(text);
  return qty;
}
