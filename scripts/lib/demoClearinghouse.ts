/**
 * The clearinghouse and order book part of `npm run demo`: lists the series of config/series.ts, a
 * market maker quotes both sides of every series, two traders cross the book with market and
 * limit orders, and the report prints the books, the trades, fees, positions, margin and a
 * collateral conservation check.
 */
import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { decodeBytes32String } from "ethers";
import { MockERC20__factory, OrderBookLens__factory } from "../../typechain-types";
import type { Clearinghouse, IndexOracle, MockERC20 } from "../../typechain-types";
import { INSURANCE_FEE_SHARE_BPS, seriesToList } from "../../config/series";
import { feedIdOf, formatFixed } from "../../sdk";
import { deployClearinghouse, listingArgs } from "./deployClearinghouse";

const LIMIT = 0;
const MARKET = 4;

/** USD with 2 decimals, truncated toward zero (display only). */
function usd(valueX18: bigint): string {
  return formatFixed(valueX18 / 10n ** 16n, 2);
}

/** A price with 3 decimals (the tick), truncated (display only). */
function price(valueX18: bigint): string {
  return formatFixed(valueX18 / 10n ** 15n, 3);
}

function orderOf(seriesId: bigint, account: string, isBuy: boolean, qty: bigint, tick: bigint, kind = LIMIT) {
  return { seriesId, account, isBuy, kind, reduceOnly: false, tick, qty, expiresAt: 0, maxFills: 20 };
}

/** The market maker quotes 3 levels a side, 2 ticks apart, 5 ticks from the mark, 10 contracts each. */
async function quoteBothSides(ch: Clearinghouse, maker: HardhatEthersSigner, seriesId: bigint): Promise<number> {
  const spec = await ch.seriesSpec(seriesId);
  const midTick = (await ch.markPrice(seriesId)) / spec.tickSizeX18;
  let placed = 0;
  for (const offset of [5n, 7n, 9n]) {
    await (await ch.connect(maker).placeOrder(orderOf(seriesId, maker.address, true, 10n, midTick - offset))).wait();
    await (await ch.connect(maker).placeOrder(orderOf(seriesId, maker.address, false, 10n, midTick + offset))).wait();
    placed += 2;
  }
  return placed;
}

export async function runClearinghouseDemo(
  oracle: IndexOracle,
  admin: HardhatEthersSigner,
  marketMaker: HardhatEthersSigner,
  traders: [HardhatEthersSigner, HardhatEthersSigner],
): Promise<{ conserved: boolean; clearinghouse: Clearinghouse; usdc: MockERC20; deployBlock: number }> {
  console.log("\n== Clearinghouse and order book ==");
  const usdc = await new MockERC20__factory(admin).deploy("USD Coin (demo)", "USDC", 6);
  const { clearinghouse: ch } = await deployClearinghouse(
    admin,
    await usdc.getAddress(),
    await oracle.getAddress(),
    admin.address,
  );
  const deployBlock = (await ch.deploymentTransaction()!.wait())!.blockNumber;
  const lens = await new OrderBookLens__factory(admin).deploy(await ch.getAddress());
  await (await ch.grantRole(await ch.MARKET_ADMIN_ROLE(), admin.address)).wait();
  await (await ch.setInsuranceFeeShare(INSURANCE_FEE_SHARE_BPS)).wait();
  const now = (await ethers.provider.getBlock("latest"))!.timestamp;
  for (const listing of seriesToList(now, 3, feedIdOf)) {
    await (await ch.listSeries(...listingArgs(listing))).wait();
  }
  const seriesCount = await ch.seriesCount();

  const accounts = [marketMaker, ...traders];
  for (const account of accounts) {
    await (await usdc.mint(account.address, 1_000_000n * 10n ** 6n)).wait();
    await (await usdc.connect(account).approve(await ch.getAddress(), ethers.MaxUint256)).wait();
    await (await ch.connect(account).deposit((account === marketMaker ? 500_000n : 50_000n) * 10n ** 6n)).wait();
  }
  let quotes = 0;
  for (let id = 1n; id <= seriesCount; id++) quotes += await quoteBothSides(ch, marketMaker, id);
  console.log(`  market maker quotes ${quotes} orders: 3 levels a side on each of ${seriesCount} series`);

  // The buyer lifts two ask levels of the front AIT and GPUH months; the seller hits the best bids and
  // rests a limit ask; the maker then crosses it.
  const [buyer, seller] = traders;
  const fromBlock = await ethers.provider.getBlockNumber();
  for (const id of [1n, 4n]) {
    const spec = await ch.seriesSpec(id);
    await (await ch.connect(buyer).placeOrder(orderOf(id, buyer.address, true, 15n, 0n, MARKET))).wait();
    await (await ch.connect(seller).placeOrder(orderOf(id, seller.address, false, 5n, 0n, MARKET))).wait();
    const askTick = (await ch.markPrice(id)) / spec.tickSizeX18 + 3n;
    await (await ch.connect(seller).placeOrder(orderOf(id, seller.address, false, 4n, askTick))).wait();
    await (await ch.connect(marketMaker).placeOrder(orderOf(id, marketMaker.address, true, 4n, askTick))).wait();
  }

  const fills = await ch.queryFilter(ch.filters.OrderFilled(), fromBlock + 1);
  let volumeX18 = 0n;
  let feesX18 = 0n;
  for (const log of fills) {
    const spec = await ch.seriesSpec(log.args.seriesId);
    volumeX18 += log.args.qty * log.args.priceX18 * spec.contractMultiplier;
    feesX18 += log.args.makerFeeX18 + log.args.takerFeeX18;
  }
  console.log(`  trades: ${fills.length} fills, volume ${usd(volumeX18)} USD notional, fees ${usd(feesX18)}`);

  for (let id = 1n; id <= seriesCount; id++) {
    const spec = await ch.seriesSpec(id);
    const [bids, asks] = await lens.depth(id, 3);
    const side = (levels: typeof bids) => levels.map((l) => `${l.qty}@${price(l.priceX18)}`).join(" ") || "-";
    const expiry = new Date(Number(spec.expiry) * 1000).toISOString().slice(0, 10);
    console.log(
      `  ${decodeBytes32String(spec.symbol).padEnd(12)} exp ${expiry} mark ${price(await ch.markPrice(id))}  ` +
        `bids ${side(bids)} | asks ${side(asks)}  OI ${(await ch.marketState(id)).openInterestQty}`,
    );
  }

  let accounted = (await ch.insuranceFundX18()) + (await ch.feePoolX18());
  for (const [name, account] of [
    ["maker", marketMaker],
    ["buyer", buyer],
    ["seller", seller],
  ] as const) {
    const h = await ch.accountHealth(account.address);
    // Collateral backs cash minus the cost basis of open positions (their value at entry).
    accounted += h.cashX18;
    const positions = [];
    for (const id of await ch.seriesOf(account.address)) {
      const position = await ch.positionOf(account.address, id);
      accounted -= position.openNotionalX18;
      if (position.sizeQty !== 0n) {
        positions.push(`${decodeBytes32String((await ch.seriesSpec(id)).symbol)} ${position.sizeQty}`);
      }
    }
    console.log(
      `  ${name.padEnd(6)} cash ${usd(h.cashX18)}  equity ${usd(h.equityX18)}  IM ${usd(h.initialMarginX18)} ` +
        `(orders ${usd(h.orderMarginX18)})  positions: ${positions.join(", ") || "none"}`,
    );
  }
  const held = (await usdc.balanceOf(await ch.getAddress())) * 10n ** 12n;
  console.log(
    `  fee pool ${usd(await ch.feePoolX18())}  insurance ${usd(await ch.insuranceFundX18())}  ` +
      `collateral held ${formatFixed(held / 10n ** 12n, 6, 2)} = cash - cost basis + pools ${usd(accounted)}: ` +
      `${held === accounted ? "conserved" : "NOT CONSERVED"}`,
  );
  return { conserved: held === accounted, clearinghouse: ch, usdc, deployBlock };
}
