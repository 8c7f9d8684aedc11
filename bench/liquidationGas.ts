/**
 * Gas of liquidation and deleveraging, on a GPUH series inside its 30-day averaging window (every
 * mark reads the oracle TWAP, cached per round). Accounts built their positions through the book, each
 * with resting orders that the liquidation cancels first. Set up by bench/gas.ts.
 */
import { ethers, network } from "hardhat";
import { Wallet, encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import { MockERC20__factory } from "../typechain-types";
import type { Clearinghouse, IndexOracle } from "../typechain-types";
import { deployClearinghouse } from "../scripts/lib/deployClearinghouse";
import { INSURANCE_FEE_SHARE_BPS, PRODUCTS } from "../config/series";
import type { SubmitRound } from "./clearinghouseGas";

const HOUR = 3_600;
const DAY = 86_400;
const IOC = 2;

function gasOf(receipt: { gasUsed: bigint } | null): number {
  return Number(receipt!.gasUsed);
}

function order(account: string, isBuy: boolean, qty: bigint, tick: bigint, kind = 0) {
  return { seriesId: 1, account, isBuy, kind, reduceOnly: false, tick, qty, expiresAt: 0, maxFills: 50 };
}

export async function benchLiquidation(
  oracle: IndexOracle,
  feedId: string,
  submitRound: SubmitRound,
  startTime: number,
): Promise<Record<string, number>> {
  const gas: Record<string, number> = {};
  const [deployer, , , , maker, liquidator] = await ethers.getSigners();
  const token = await new MockERC20__factory(deployer).deploy("USD Coin", "USDC", 6);
  const { clearinghouse: ch } = await deployClearinghouse(
    deployer,
    await token.getAddress(),
    await oracle.getAddress(),
    deployer.address,
  );
  const chAddress = await ch.getAddress();
  for (const role of [await ch.MARKET_ADMIN_ROLE(), await ch.GUARDIAN_ROLE()])
    await ch.grantRole(role, deployer.address);
  await ch.setInsuranceFeeShare(INSURANCE_FEE_SHARE_BPS);
  const gpuh = PRODUCTS.GPUH;
  let t = startTime;
  let price = (await oracle.peekLatest(feedId))[0];
  const round = async (priceX18: bigint) => {
    t += HOUR;
    await submitRound(t, priceX18);
    price = priceX18;
  };
  await round(price);
  await ch.listSeries(
    {
      symbol: encodeBytes32String("GPUH-BENCH"),
      feedId,
      // Inside the window from its start: the mark is close to the index (little history averaged in yet).
      expiry: t + 30 * DAY - 2 * HOUR,
      averagingWindowSec: 30 * DAY,
      methodologyVersion: gpuh.methodologyVersion,
      minSettlementRounds: gpuh.minSettlementRounds,
      contractMultiplier: gpuh.contractMultiplier,
      tickSizeX18: gpuh.tickSizeX18,
      minQty: gpuh.minQty,
    },
    { ...gpuh.risk, openInterestCapQty: 100_000n },
  );

  const unit = 10n ** 6n;
  await token.mint(deployer.address, 100_000_000n * unit);
  await token.approve(chAddress, ethers.MaxUint256);
  await ch.depositFor(maker.address, 10_000_000n * unit);
  await ch.depositFor(liquidator.address, 10_000_000n * unit);
  await ch.contributeInsurance(10_000n * unit);

  // 14 accounts: 13 hold 10 contracts (5,600 deposited), one holds 3 (a small position, 1,800). Each
  // rests two orders away from the market.
  const accounts = Array.from(
    { length: 14 },
    (_, i) => new Wallet(keccak256(toUtf8Bytes(`bench-liquidation-${i}`)), ethers.provider),
  );
  const tick = (priceX18: bigint) => priceX18 / gpuh.tickSizeX18;
  for (const [i, account] of accounts.entries()) {
    await network.provider.send("hardhat_setBalance", [account.address, "0x56BC75E2D63100000"]);
    const qty = i === 12 ? 3n : 10n;
    await ch.depositFor(account.address, (i === 12 ? 1_800n : 5_600n) * unit);
    await ch.connect(maker).placeOrder(order(maker.address, false, qty, tick(price)));
    await ch.connect(account).placeOrder(order(account.address, true, qty, tick(price), IOC));
    await ch.connect(account).placeOrder(order(account.address, false, 1n, tick(price) + 100n));
    await ch.connect(account).placeOrder(order(account.address, true, 1n, tick(price) - 200n));
  }
  // A maker's own resting quotes, so the liquidator's margin check sees a realistic account.
  await ch.connect(liquidator).placeOrder(order(liquidator.address, true, 5n, tick(price) - 150n));

  // The index falls 15% over three rounds: every account is below maintenance margin.
  const start = price;
  await round((start * 95n) / 100n);
  await round((start * 90n) / 100n);
  await round((start * 85n) / 100n);
  const liquidate = (account: Wallet) => ch.connect(liquidator).liquidate(account.address, 1, 2n ** 64n - 1n);
  // The first trade or liquidation after an oracle round caches the series' window average (one TWAP).
  gas["liquidation.partial.firstInRound"] = gasOf(await (await liquidate(accounts[0])).wait());
  gas["liquidation.partial"] = gasOf(await (await liquidate(accounts[11])).wait());
  gas["liquidation.full"] = gasOf(await (await liquidate(accounts[12])).wait());
  const batch = accounts
    .slice(1, 11)
    .map((account) => ({ account: account.address, seriesId: 1, maxQty: 2n ** 64n - 1n }));
  gas["liquidation.batch.10"] = gasOf(await (await ch.connect(liquidator).liquidateBatch(batch)).wait());

  // A further fall: the last account is bankrupt, the fund is emptied first, the maker's short covers it.
  await round((start * 80n) / 100n);
  await drainInsurance(ch, deployer.address);
  const legs = [{ counterparty: maker.address, seriesId: 1 }];
  gas["adl.one"] = gasOf(await (await ch.deleverage(accounts[13].address, legs)).wait());
  return gas;
}

/** Pays the whole insurance fund out to `to`, so a bankruptcy must be deleveraged. */
async function drainInsurance(ch: Clearinghouse, to: string): Promise<void> {
  const fundRaw = (await ch.insuranceFundX18()) / 10n ** 12n;
  if (fundRaw > 0n) await ch.withdrawInsurance(to, fundRaw);
}
