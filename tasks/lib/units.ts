/**
 * Human units in and out of the command line: USD decimals, token amounts, contracts, ticks, times and addresses.
 * Every parser throws a CliError naming the bad input; amounts are bigint end to end.
 */
import { getAddress, isAddress } from "ethers";
import { formatFixed, parseFixed } from "../../sdk";
import { CliError } from "./cliError";

/** USD of an 18-decimal amount, trimmed to at least `minDecimals` decimals (exact, no rounding). */
export function usd(valueX18: bigint, minDecimals = 2): string {
  return formatFixed(valueX18, 18, minDecimals);
}

/** USD of an 18-decimal amount rounded toward zero to `decimals` decimals, for tables. */
export function usdRounded(valueX18: bigint, decimals = 2): string {
  const scale = 10n ** BigInt(18 - decimals);
  return formatFixed(valueX18 / scale, decimals);
}

/** A token amount in token units as a decimal string (e.g. 1000.5 USDC). */
export function tokenAmount(amountRaw: bigint, decimals: number): string {
  return formatFixed(amountRaw, decimals, Math.min(2, decimals));
}

/**
 * Parses a positive decimal amount into token units (`decimals` decimals).
 * @throws CliError when it is not a plain positive decimal or has more decimals than the token.
 */
export function parseAmountRaw(value: string, decimals: number, what = "amount"): bigint {
  let amountRaw: bigint;
  try {
    amountRaw = parseFixed(value, decimals);
  } catch {
    throw new CliError(`bad ${what} "${value}": expected a positive decimal with at most ${decimals} decimals`);
  }
  if (amountRaw === 0n) throw new CliError(`bad ${what} "${value}": must be above zero`);
  return amountRaw;
}

/**
 * Parses a USD price into the tick of a series.
 * @throws CliError when the price is not a positive decimal or not a multiple of the tick size.
 */
export function priceToTick(price: string, tickSizeX18: bigint): bigint {
  let priceX18: bigint;
  try {
    priceX18 = parseFixed(price, 18);
  } catch {
    throw new CliError(`bad price "${price}": expected a positive decimal in USD`);
  }
  if (priceX18 === 0n) throw new CliError(`bad price "${price}": must be above zero`);
  if (priceX18 % tickSizeX18 !== 0n) {
    throw new CliError(`price ${price} is not on the tick: prices are multiples of ${usd(tickSizeX18, 0)} USD`);
  }
  return priceX18 / tickSizeX18;
}

/**
 * Parses a whole positive number (contracts, order ids, levels).
 * @throws CliError naming `what` when it is not one.
 */
export function parseWhole(value: string, what: string): bigint {
  const text = value.trim();
  if (!/^\d+$/.test(text) || BigInt(text) === 0n) {
    throw new CliError(`bad ${what} "${value}": expected a whole number above zero`);
  }
  return BigInt(text);
}

/**
 * Parses a good-till time: unix seconds or an ISO date (`2027-01-31T08:00:00Z`).
 * @throws CliError when it is neither.
 */
export function parseExpiry(value: string): bigint {
  const text = value.trim();
  if (/^\d+$/.test(text)) return BigInt(text);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new CliError(`bad expiry "${value}": expected unix seconds or an ISO date`);
  return BigInt(Math.floor(ms / 1000));
}

/**
 * Checks and checksums an address.
 * @throws CliError naming `what` when it is not a 20-byte hex address.
 */
export function parseAddress(value: string, what = "address"): string {
  if (!isAddress(value.trim()) || !value.trim().startsWith("0x")) {
    throw new CliError(`bad ${what} "${value}": expected a 0x-prefixed 20-byte hex address`);
  }
  return getAddress(value.trim().toLowerCase());
}

/** Unix seconds as an ISO date without milliseconds. */
export function isoDate(unixSec: bigint | number): string {
  return new Date(Number(unixSec) * 1000).toISOString().replace(".000Z", "Z");
}

/** Basis points as a percentage string (2500 → "25%"). */
export function bpsText(bps: bigint | number): string {
  return `${formatFixed(BigInt(bps), 2, 0)}%`;
}
