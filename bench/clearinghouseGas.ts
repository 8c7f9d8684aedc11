/**
 * Gas of the clearinghouse's hot paths, measured over an oracle feed that has 30 days of hourly
 * rounds (set up by bench/gas.ts). The series is inside its 30-day averaging window, so every mark
 * reads the oracle TWAP, as it does for most of a contract month.
 */
import { ethers, network } from "hardhat";
import { Wallet, encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import type { Signer } from "ethers";
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
  const [deployer, alice, bob, carol] = await ethers.getSigners();
  const token = await new MockERC20__factory(deployer).deploy("USD Coin", "USDC", 6);
  const { clearinghouse: ch } = await deployClearinghouse(
    deployer,
    await token.getAddress(),
    await oracle.getAddress(),
    deployer.address,
  );
  const chAddress = await ch.getAddress();
  for (const role of [await ch.MARKET_ADMIN_ROLE(), await ch.GUARDIAN_ROLE()]) {
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
  await ch.connect(bob).deposit(5_000_000n * unit);

  // The book in steady state: a background market maker (carol) quotes 10 levels a side 20 to 29 ticks
  // from the index; alice is a market maker that has quoted and cancelled before (its order slots are
  // warm); bob is a taker with a position. Every maker already holds a position.
  const price = (await oracle.peekLatest(feedId))[0];
  const mid = price / ait.tickSizeX18;
  const order = (account: string, isBuy: boolean, qty: bigint, tick: bigint, kind = 0, maxFills = 50) => ({
    seriesId: 1,
    account,
    isBuy,
    kind,
    reduceOnly: false,
    tick,
    qty,
    expiresAt: 0,
    maxFills,
  });
  const IOC = 2;
  const place = async (who: Signer, params: ReturnType<typeof order>) =>
    gasOf(await (await ch.connect(who).placeOrder(params)).wait());
  const openIds = async (account: string) => [...(await ch.openOrderIdsOf(account, 1))];
  await token.mint(carol.address, 10_000_000n * unit);
  await token.connect(carol).approve(chAddress, ethers.MaxUint256);
  await ch.connect(carol).deposit(5_000_000n * unit);
  for (let i = 20n; i < 30n; i++) {
    await ch.connect(carol).placeOrder(order(carol.address, true, 10n, mid - i));
    await ch.connect(carol).placeOrder(order(carol.address, false, 10n, mid + i));
  }
  gas["book.place.firstOrder"] = await place(alice, order(alice.address, false, 10n, mid + 1n));
  await place(bob, order(bob.address, true, 10n, mid + 1n, IOC));
  for (let i = 0; i < 4; i++) await ch.connect(alice).placeOrder(order(alice.address, true, 1n, mid - 40n));
  gas["book.cancelAll.4"] = gasOf(await (await ch.connect(alice).cancelAllOrders(alice.address, 1)).wait());
  gas["book.place.newLevel"] = await place(alice, order(alice.address, false, 5n, mid + 2n));
  gas["book.place.existingLevel"] = await place(alice, order(alice.address, false, 5n, mid + 2n));
  // Slots 2 and 3 were used by the cancelled orders; slot 4 never was.
  await place(alice, order(alice.address, false, 5n, mid + 2n));
  await place(alice, order(alice.address, false, 5n, mid + 2n));
  gas["book.place.freshSlot"] = await place(alice, order(alice.address, false, 5n, mid + 2n));
  gas["book.cancel"] = gasOf(
    await (await ch.connect(alice).cancelOrder((await openIds(alice.address)).at(-1)!)).wait(),
  );
  for (const id of (await openIds(alice.address)).slice(1)) await ch.connect(alice).cancelOrder(id);
  gas["book.take.1maker"] = await place(bob, order(bob.address, true, 5n, mid + 2n, IOC));
  await ch.connect(alice).placeOrder(order(alice.address, true, 5n, mid - 3n));
  gas["book.replace"] = gasOf(
    await (
      await ch.connect(alice).replaceOrder((await openIds(alice.address))[0], order(alice.address, true, 5n, mid - 2n))
    ).wait(),
  );
  await ch.connect(alice).cancelAllOrders(alice.address, 1);
  gas["vault.withdraw.onePosition"] = gasOf(
    await (await ch.connect(alice).withdraw(alice.address, 1_000n * unit, alice.address)).wait(),
  );
  gas["view.accountHealth.onePosition"] = Number(await ch.accountHealth.estimateGas(alice.address));
  gas["view.markPrice.inWindow"] = Number(await ch.markPrice.estimateGas(1));

  // 50 more accounts (funded by depositFor), each with one resting order: makers for the takes.
  const wallets = Array.from(
    { length: 50 },
    (_, i) => new Wallet(keccak256(toUtf8Bytes(`bench-account-${i}`)), ethers.provider),
  );
  const accounts = wallets.map((w) => w.address);
  await token.mint(deployer.address, 100_000_000n * unit);
  await token.approve(chAddress, ethers.MaxUint256);
  for (const wallet of wallets) {
    await network.provider.send("hardhat_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
    await ch.depositFor(wallet.address, 10_000n * unit);
  }
  // Every maker has placed before (its account id exists) and quotes 2 contracts.
  const quote = async (makers: Wallet[], tickOf: (i: number) => bigint) => {
    for (const [i, maker] of makers.entries())
      await ch.connect(maker).placeOrder(order(maker.address, false, 2n, tickOf(i)));
  };
  await quote(wallets, () => mid + 3n);
  await place(bob, order(bob.address, true, 100n, mid + 3n, IOC));
  await quote(wallets.slice(0, 10), () => mid + 3n);
  gas["book.take.10makers.1level"] = await place(bob, order(bob.address, true, 20n, mid + 3n, IOC));
  await quote(wallets.slice(0, 5), (i) => mid + 3n + BigInt(i));
  gas["book.take.5levels"] = await place(bob, order(bob.address, true, 10n, mid + 7n, IOC));
  await quote(wallets, () => mid + 3n);
  gas["book.take.50makers.1level"] = await place(bob, order(bob.address, true, 100n, mid + 3n, IOC));
  // Alice cancels 20 bids over 20 levels in one call.
  for (let i = 0n; i < 20n; i++) await ch.connect(alice).placeOrder(order(alice.address, true, 1n, mid - 10n - i));
  gas["book.cancelAll.20"] = gasOf(await (await ch.connect(alice).cancelAllOrders(alice.address, 1)).wait());

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
