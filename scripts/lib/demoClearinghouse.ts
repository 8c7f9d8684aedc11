/**
 * The clearinghouse part of `npm run demo`: lists the series of config/series.ts, funds two traders,
 * books one matched fill (the order book will do this; here a demo signer holds the engine role),
 * and prints the marks, the traders' margin and a collateral conservation check.
 */
import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { decodeBytes32String } from "ethers";
import { MockERC20__factory } from "../../typechain-types";
import type { IndexOracle } from "../../typechain-types";
import { INSURANCE_FEE_SHARE_BPS, seriesToList } from "../../config/series";
import { feedIdOf, formatFixed, formatX18, parseX18 } from "../../sdk";
import { deployClearinghouse, listingArgs } from "./deployClearinghouse";

function usd(valueX18: bigint): string {
  return formatX18(valueX18, 2);
}

export async function runClearinghouseDemo(
  oracle: IndexOracle,
  admin: HardhatEthersSigner,
  engine: HardhatEthersSigner,
  traders: [HardhatEthersSigner, HardhatEthersSigner],
): Promise<boolean> {
  console.log("\n== Clearinghouse ==");
  const usdc = await new MockERC20__factory(admin).deploy("USD Coin (demo)", "USDC", 6);
  const { clearinghouse: ch } = await deployClearinghouse(
    admin,
    await usdc.getAddress(),
    await oracle.getAddress(),
    admin.address,
  );
  await (await ch.grantRole(await ch.MARKET_ADMIN_ROLE(), admin.address)).wait();
  await (await ch.grantRole(await ch.DIRECT_FILLER_ROLE(), engine.address)).wait();
  await (await ch.setInsuranceFeeShare(INSURANCE_FEE_SHARE_BPS)).wait();
  const now = (await ethers.provider.getBlock("latest"))!.timestamp;
  for (const listing of seriesToList(now, 3, feedIdOf)) {
    await (await ch.listSeries(...listingArgs(listing))).wait();
  }
  for (let id = 1n; id <= (await ch.seriesCount()); id++) {
    const spec = await ch.seriesSpec(id);
    const expiry = new Date(Number(spec.expiry) * 1000).toISOString().slice(0, 16);
    console.log(
      `  series ${id} ${decodeBytes32String(spec.symbol)}  expiry ${expiry}Z  mark ${usd(await ch.markPrice(id))}`,
    );
  }

  const [long, short] = traders;
  for (const trader of traders) {
    await (await usdc.mint(trader.address, 50_000n * 10n ** 6n)).wait();
    await (await usdc.connect(trader).approve(await ch.getAddress(), ethers.MaxUint256)).wait();
    await (await ch.connect(trader).deposit(20_000n * 10n ** 6n)).wait();
  }
  const mark = await ch.markPrice(1);
  const tick = parseX18("0.001");
  const price = (mark / tick) * tick;
  await (
    await ch.connect(engine).applyTrade({
      seriesId: 1,
      maker: short.address,
      taker: long.address,
      takerIsBuy: true,
      qty: 10n,
      priceX18: price,
    })
  ).wait();
  console.log(`  fill: 10 contracts of series 1 at ${formatX18(price, 3)} (maker short, taker long)`);
  let accounted = (await ch.insuranceFundX18()) + (await ch.feePoolX18());
  for (const [name, trader] of [
    ["long", long],
    ["short", short],
  ] as const) {
    const h = await ch.accountHealth(trader.address);
    accounted += h.cashX18;
    console.log(
      `  ${name.padEnd(5)} cash ${usd(h.cashX18)}  equity ${usd(h.equityX18)}  IM ${usd(h.initialMarginX18)}  ` +
        `MM ${usd(h.maintenanceMarginX18)}  withdrawable ${usd(h.withdrawableX18)}`,
    );
  }
  const held = (await usdc.balanceOf(await ch.getAddress())) * 10n ** 12n;
  console.log(
    `  fee pool ${usd(await ch.feePoolX18())}  insurance ${usd(await ch.insuranceFundX18())}  ` +
      `collateral held ${formatFixed(held / 10n ** 12n, 6, 2)} = accounted ${usd(accounted)}: ` +
      `${held === accounted ? "conserved" : "NOT CONSERVED"}`,
  );
  return held === accounted;
}
