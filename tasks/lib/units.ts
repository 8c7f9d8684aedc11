/**
 * Human units in and out of the command line: USD decimals, token amounts, contracts, ticks, times and addresses.
 * Every conversion is the SDK's (`sdk/units.ts`); this file only turns its errors into CliErrors naming the bad
 * input, and adds the command line's own dates, addresses and percentages. Amounts are bigint end to end.
 */
import { getAddress, isAddress } from "ethers";
import {
  AmountNotPositiveError,
  InvalidAmountError,
  PriceNotOnTickError,
  formatCollateral,
  formatFixed,
  parseCollateral,
  parseQty,
  priceToTick as sdkPriceToTick,
  x18ToUsd,
  x18ToUsdTowardZero,
} from "../../sdk";
import { CliError } from "./cliError";

/** USD of an 18-decimal amount, trimmed to at least `minDecimals` decimals (exact, no rounding). */
export function usd(valueX18: bigint, minDecimals = 2): string {
  return x18ToUsd(valueX18, minDecimals);
}

/** USD of an 18-decimal amount rounded toward zero to `decimals` decimals, for tables. */
export function usdRounded(valueX18: bigint, decimals = 2): string {
  return x18ToUsdTowardZero(valueX18, decimals);
}

/** A token amount in token units as a decimal string (e.g. 1000.5 USDC). */
export function tokenAmount(amountRaw: bigint, decimals: number): string {
  return formatCollateral(amountRaw, decimals);
}

/**
 * Parses a positive decimal amount into token units (`decimals` decimals).
 * @throws CliError when it is not a plain positive decimal or has more decimals than the token.
 */
export function parseAmountRaw(value: string, decimals: number, what = "amount"): bigint {
  try {
    return parseCollateral(value, decimals);
  } catch (error) {
    if (error instanceof AmountNotPositiveError) throw new CliError(`bad ${what} "${value}": must be above zero`);
    if (error instanceof InvalidAmountError) {
      throw new CliError(`bad ${what} "${value}": expected a positive decimal with at most ${decimals} decimals`);
    }
    throw error;
  }
}

/**
 * Parses a USD price into the tick of a series.
 * @throws CliError when the price is not a positive decimal or not a multiple of the tick size.
 */
export function priceToTick(price: string, tickSizeX18: bigint): bigint {
  try {
    return sdkPriceToTick(price, tickSizeX18);
  } catch (error) {
    if (error instanceof AmountNotPositiveError) throw new CliError(`bad price "${price}": must be above zero`);
    if (error instanceof InvalidAmountError) {
      throw new CliError(`bad price "${price}": expected a positive decimal in USD`);
    }
    if (error instanceof PriceNotOnTickError) throw new CliError(error.message);
    throw error;
  }
}

/**
 * Parses a whole positive number (contracts, order ids, levels) with the SDK's quantity parser.
 * @throws CliError naming `what` when it is not one.
 */
export function parseWhole(value: string, what: string): bigint {
  try {
    return parseQty(value);
  } catch (error) {
    if (error instanceof InvalidAmountError) {
      throw new CliError(`bad ${what} "${value}": expected a whole number above zero`);
    }
    throw error;
  }
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
