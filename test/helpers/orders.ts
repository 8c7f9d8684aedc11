/**
 * Order parameters for tests: ticks from USD strings, every kind with sensible defaults.
 */
import type { IOrderBook } from "../../typechain-types/contracts/core/Clearinghouse";
import { PRODUCTS } from "../../config/series";
import { parseX18 } from "../../sdk";

export const Kind = { Limit: 0, PostOnly: 1, ImmediateOrCancel: 2, FillOrKill: 3, Market: 4 } as const;
export type KindName = keyof typeof Kind;

export const CancelReason = {
  Owner: 0,
  Replaced: 1,
  SelfTrade: 2,
  Unfilled: 3,
  Expired: 4,
  OutOfBand: 5,
  ReduceOnlyClipped: 6,
  Unhealthy: 7,
  SeriesExpired: 8,
} as const;

/** The tick of a USD price string on the AIT tick (0.001). */
export function tickOf(price: string, tickSizeX18: bigint = PRODUCTS.AIT.tickSizeX18): bigint {
  const x18 = parseX18(price);
  if (x18 % tickSizeX18 !== 0n) throw new Error(`${price} is not on the tick`);
  return x18 / tickSizeX18;
}

export interface OrderOptions {
  kind?: KindName;
  reduceOnly?: boolean;
  expiresAt?: bigint;
  maxFills?: number;
}

/** An order of `account` in `seriesId`: buy or sell `qty` at `price` (USD string or tick). */
export function order(
  seriesId: bigint,
  account: string,
  isBuy: boolean,
  qty: bigint,
  price: string | bigint,
  options: OrderOptions = {},
): IOrderBook.OrderParamsStruct {
  return {
    seriesId,
    account,
    isBuy,
    kind: Kind[options.kind ?? "Limit"],
    reduceOnly: options.reduceOnly ?? false,
    tick: typeof price === "string" ? tickOf(price) : price,
    qty,
    expiresAt: options.expiresAt ?? 0n,
    maxFills: options.maxFills ?? 20,
  };
}
