/**
 * Order parameters for tests: ticks from USD strings, every kind with sensible defaults.
 */
import type { ContractTransactionReceipt, LogDescription } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ClearinghouseHarness } from "../../typechain-types";
import type { IOrderBook } from "../../typechain-types/contracts/core/Clearinghouse";
import { PRODUCTS } from "../../config/series";
import { CancelReason, OrderKind, parseX18 } from "../../sdk";

/** The order kinds and cancel reasons of `IOrderBook`, as the reference engine names them. */
export { CancelReason };
export const Kind = OrderKind;
export type KindName = keyof typeof OrderKind;

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

/** What `placeOrder` returned (read by a static call just before sending) and the mined receipt. */
export interface Placed {
  orderId: bigint;
  filledQty: bigint;
  restingQty: bigint;
  cancelledQty: bigint;
  receipt: ContractTransactionReceipt;
}

/** Places `params` as `signer`: simulates first to read the result, then sends and waits. */
export async function place(
  clearinghouse: ClearinghouseHarness,
  signer: HardhatEthersSigner,
  params: IOrderBook.OrderParamsStruct,
): Promise<Placed> {
  const result = await clearinghouse.connect(signer).placeOrder.staticCall(params);
  const receipt = await (await clearinghouse.connect(signer).placeOrder(params)).wait();
  if (receipt === null) throw new Error("placeOrder was not mined");
  return {
    orderId: result.orderId,
    filledQty: result.filledQty,
    restingQty: result.restingQty,
    cancelledQty: result.cancelledQty,
    receipt,
  };
}

/** The decoded logs named `name` that `clearinghouse` emitted in `receipt`, in log order. */
export function eventsOf(
  clearinghouse: ClearinghouseHarness,
  receipt: ContractTransactionReceipt,
  name: string,
): LogDescription[] {
  const found: LogDescription[] = [];
  for (const log of receipt.logs) {
    let parsed: LogDescription | null = null;
    try {
      parsed = clearinghouse.interface.parseLog(log);
    } catch {
      parsed = null;
    }
    if (parsed !== null && parsed.name === name) found.push(parsed);
  }
  return found;
}

/** The order ids of one level, oldest first, walked from `levelOf().headOrderId` along `nextOrderIdOf`. */
export async function levelQueue(
  clearinghouse: ClearinghouseHarness,
  seriesId: bigint,
  isBuy: boolean,
  tick: bigint,
): Promise<bigint[]> {
  const ids: bigint[] = [];
  let id = (await clearinghouse.levelOf(seriesId, isBuy, tick)).headOrderId;
  while (id !== 0n) {
    ids.push(id);
    id = await clearinghouse.nextOrderIdOf(id);
  }
  return ids;
}
