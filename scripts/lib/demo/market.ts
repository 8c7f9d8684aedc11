/**
 * The demo's participants and their orders: accounts funded with the mock collateral, a market maker quoting three
 * levels a side around the mark, and traders sending market orders.
 */
import type { Signer } from "ethers";
import type { Clearinghouse, MockERC20 } from "../../../typechain-types";
import { priceX18ToTickDown } from "../../../sdk";

/** `IOrderBook.OrderKind`. */
export const OrderKind = { Limit: 0, PostOnly: 1, ImmediateOrCancel: 2, FillOrKill: 3, Market: 4 } as const;

/** A named account of the demo. */
export interface Participant {
  name: string;
  signer: Signer;
  address: string;
}

/** Mints `amountRaw` of the mock collateral to the participant, approves the clearinghouse and deposits it. */
export async function fund(ch: Clearinghouse, usdc: MockERC20, who: Participant, amountRaw: bigint): Promise<void> {
  await (await usdc.mint(who.address, amountRaw)).wait();
  await (await usdc.connect(who.signer).approve(await ch.getAddress(), amountRaw)).wait();
  await (await ch.connect(who.signer).deposit(amountRaw)).wait();
}

/** The order struct of `placeOrder`. */
export function order(
  seriesId: bigint,
  account: string,
  isBuy: boolean,
  qty: bigint,
  tick: bigint,
  kind: number = OrderKind.Limit,
  reduceOnly = false,
) {
  return { seriesId, account, isBuy, kind, reduceOnly, tick, qty, expiresAt: 0, maxFills: 20 };
}

/**
 * The market maker replaces its quotes in `seriesId`: 3 levels a side, 2 ticks apart, from `spreadTicks` off its
 * fair value, `qty` contracts each. Its fair value is the index (`indexX18`), kept within half the order band
 * around the mark so every quote is accepted. Returns the orders placed.
 */
export async function requote(
  ch: Clearinghouse,
  maker: Participant,
  seriesId: bigint,
  indexX18: bigint,
  qty: bigint,
  spreadTicks = 5n,
): Promise<number> {
  await (await ch.connect(maker.signer).cancelAllOrders(maker.address, seriesId)).wait();
  const tickSizeX18 = (await ch.seriesSpec(seriesId)).tickSizeX18;
  const markX18 = await ch.markPrice(seriesId);
  const halfBandBps = BigInt((await ch.riskParams(seriesId)).orderBandBps) / 2n;
  const lowX18 = (markX18 * (10_000n - halfBandBps)) / 10_000n;
  const highX18 = (markX18 * (10_000n + halfBandBps)) / 10_000n;
  const fairX18 = indexX18 < lowX18 ? lowX18 : indexX18 > highX18 ? highX18 : indexX18;
  const midTick = priceX18ToTickDown(fairX18, tickSizeX18);
  let placed = 0;
  for (const offset of [spreadTicks, spreadTicks + 2n, spreadTicks + 4n]) {
    await (
      await ch.connect(maker.signer).placeOrder(order(seriesId, maker.address, true, qty, midTick - offset))
    ).wait();
    await (
      await ch.connect(maker.signer).placeOrder(order(seriesId, maker.address, false, qty, midTick + offset))
    ).wait();
    placed += 2;
  }
  return placed;
}

/** A market order (fills against the book up to the band, the rest is cancelled). */
export async function marketOrder(
  ch: Clearinghouse,
  who: Participant,
  seriesId: bigint,
  isBuy: boolean,
  qty: bigint,
): Promise<void> {
  await (
    await ch.connect(who.signer).placeOrder(order(seriesId, who.address, isBuy, qty, 0n, OrderKind.Market))
  ).wait();
}

/**
 * Contracts that use `sharePct`% of what `depositRaw` can carry at initial margin in `seriesId` at the mark (the
 * leverage of an over-leveraged trader).
 */
export async function leveragedQty(
  ch: Clearinghouse,
  seriesId: bigint,
  depositX18: bigint,
  sharePct: bigint,
): Promise<bigint> {
  const spec = await ch.seriesSpec(seriesId);
  const imBps = (await ch.riskParams(seriesId)).imBps;
  const imPerContractX18 = ((await ch.markPrice(seriesId)) * spec.contractMultiplier * imBps) / 10_000n;
  return (depositX18 * sharePct) / 100n / imPerContractX18;
}
