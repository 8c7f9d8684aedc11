/**
 * Gas of the clearinghouse's hot paths, measured over an oracle feed that has 30 days of hourly
 * rounds (set up by bench/gas.ts). The series is inside its 30-day averaging window, so every mark
 * reads the oracle TWAP, as it does for most of a contract month.
 */
import { ethers, network } from "hardhat";
import { Wallet, encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import { MockERC20__factory } from "../typechain-types";
import type { IndexOracle } from "../typechain-types";
import { deployClearinghouse } from "../scripts/lib/deployClearinghouse";
import { INSURANCE_FEE_SHARE_BPS, PRODUCTS } from "../config/series";

const HOUR = 3_600;
const DAY = 86_400;

/** Publishes one hourly round at `observedAt`; the caller's helper from bench/gas.ts. */
export type SubmitRound = (observedAt: number, priceX18: bigint) => Promise<unknown>;

function gasOf(receipt: { gasUsed: bigint } | null): number {
  return Number(receipt!.gasUsed);
}

async function at(timestamp: number): Promise<void> {
  await network.provider.send("evm_setNextBlockTimestamp", [timestamp]);
}

export async function benchClearinghouse(
  oracle: IndexOracle,
  feedId: string,
  submitRound: SubmitRound,
  startTime: number,
): Promise<Record<string, number>> {
  const gas: Record<string, number> = {};
  const [deployer, alice, bob] = await ethers.getSigners();
  const token = await new MockERC20__factory(deployer).deploy("USD Coin", "USDC", 6);
  const { clearinghouse: ch } = await deployClearinghouse(
    deployer,
    await token.getAddress(),
    await oracle.getAddress(),
    deployer.address,
  );
  const chAddress = await ch.getAddress();
  for (const role of [await ch.MARKET_ADMIN_ROLE(), await ch.GUARDIAN_ROLE(), await ch.DIRECT_FILLER_ROLE()]) {
    await ch.grantRole(role, deployer.address);
  }
  await ch.setInsuranceFeeShare(INSURANCE_FEE_SHARE_BPS);
  let t = startTime;
  const expiry = t + 2 * DAY;
  const ait = PRODUCTS.AIT;
  await ch.listSeries(
    {
      symbol: encodeBytes32String("AIT-BENCH"),
      feedId,
      expiry,
      averagingWindowSec: 30 * DAY,
      methodologyVersion: ait.methodologyVersion,
      minSettlementRounds: ait.minSettlementRounds,
      contractMultiplier: ait.contractMultiplier,
      tickSizeX18: ait.tickSizeX18,
      minQty: ait.minQty,
    },
    // A cap above the 50 benchmark accounts' open interest.
    { ...ait.risk, openInterestCapQty: 100_000n },
  );

  // Deposits and withdrawals of a flat account with cash already on deposit.
  const unit = 10n ** 6n;
  for (const who of [alice, bob]) {
    await token.mint(who.address, 10_000_000n * unit);
    await token.connect(who).approve(chAddress, ethers.MaxUint256);
  }
  gas["vault.deposit.first"] = gasOf(await (await ch.connect(alice).deposit(100_000n * unit)).wait());
  gas["vault.deposit"] = gasOf(await (await ch.connect(alice).deposit(100_000n * unit)).wait());
  gas["vault.withdraw"] = gasOf(
    await (await ch.connect(alice).withdraw(alice.address, 1_000n * unit, alice.address)).wait(),
  );
  await ch.connect(bob).deposit(100_000n * unit);

  // Trades: both sides opening, then adding, then closing; accounts hold one series.
  const price = (await oracle.peekLatest(feedId))[0];
  const tick = ait.tickSizeX18;
  const onTick = (p: bigint) => (p / tick) * tick;
  const fill = (qty: bigint, p: bigint, takerIsBuy: boolean) => ({
    seriesId: 1,
    maker: alice.address,
    taker: bob.address,
    takerIsBuy,
    qty,
    priceX18: onTick(p),
  });
  gas["trade.applyTrade.open"] = gasOf(await (await ch.applyTrade(fill(10n, price, true))).wait());
  gas["trade.applyTrade.increase"] = gasOf(await (await ch.applyTrade(fill(5n, price, true))).wait());
  gas["trade.applyTrade.reduce"] = gasOf(await (await ch.applyTrade(fill(5n, price, false))).wait());
  gas["vault.withdraw.onePosition"] = gasOf(
    await (await ch.connect(alice).withdraw(alice.address, 1_000n * unit, alice.address)).wait(),
  );
  gas["view.accountHealth.onePosition"] = Number(await ch.accountHealth.estimateGas(alice.address));
  gas["view.markPrice.inWindow"] = Number(await ch.markPrice.estimateGas(1));

  // 50 more accounts with a position each, funded by depositFor and traded by the engine.
  const accounts = Array.from(
    { length: 50 },
    (_, i) => new Wallet(keccak256(toUtf8Bytes(`bench-account-${i}`))).address,
  );
  await token.mint(deployer.address, 100_000_000n * unit);
  await token.approve(chAddress, ethers.MaxUint256);
  for (const account of accounts) await ch.depositFor(account, 10_000n * unit);
  for (let i = 0; i < 25; i++) {
    await ch.applyTrade({ ...fill(2n, price, true), maker: accounts[i], taker: accounts[25 + i] });
  }

  // Hourly rounds through expiry and one hour past it, then finalize and settle.
  t = Math.max(Number((await oracle.peekLatest(feedId))[1]), (await ethers.provider.getBlock("latest"))!.timestamp);
  while (t < expiry + HOUR) {
    t += HOUR;
    await submitRound(t, price);
  }
  await at(t + 60);
  gas["settlement.finalize"] = gasOf(await (await ch.finalizeSettlement(1)).wait());
  await at(t + 60 + 2 * HOUR);
  gas["settlement.settleAccount"] = gasOf(await (await ch.settleAccount(1, bob.address)).wait());
  gas["settlement.settleAccounts.50"] = gasOf(await (await ch.settleAccounts(1, [...accounts])).wait());
  gas["vault.withdraw.lazySettle"] = gasOf(
    await (await ch.connect(alice).withdraw(alice.address, 1_000n * unit, alice.address)).wait(),
  );
  return gas;
}
