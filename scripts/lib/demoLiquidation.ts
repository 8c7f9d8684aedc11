/**
 * The liquidation part of `npm run demo`: four traders buy the front AIT month at high leverage, the
 * AIT index falls 28% in one confirmed jump, and the liquidator and ADL keepers (keepers/liquidator,
 * keepers/adl) run in-process on their event-built view. The report lists every liquidation, the
 * insurance fund before and after, any deficit and any deleveraging, and checks conservation.
 */
import { ethers, network } from "hardhat";
import { Wallet, decodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Clearinghouse, IndexOracle, MockERC20 } from "../../typechain-types";
import { feedIdOf, formatFixed, signReport } from "../../sdk";
import { EventIndexer } from "../../keepers/runtime/eventIndexer";
import { TxSender } from "../../keepers/runtime/txSender";
import { ClearinghouseView } from "../../keepers/shared/clearinghouseView";
import { createLogger } from "../../keepers/shared/logger";
import { Liquidator } from "../../keepers/liquidator/liquidator";
import { AdlKeeper } from "../../keepers/adl/adlKeeper";

const MARKET = 4;
const SERIES = 1n;

/** USD with 2 decimals, truncated toward zero (display only). */
function usd(valueX18: bigint): string {
  return formatFixed(valueX18 / 10n ** 16n, 2);
}

export interface LiquidationDemoInput {
  clearinghouse: Clearinghouse;
  usdc: MockERC20;
  oracle: IndexOracle;
  /** Reporter identities of the oracle, and its quorum. */
  reporters: Wallet[];
  quorum: number;
  admin: HardhatEthersSigner;
  marketMaker: HardhatEthersSigner;
  /** Four trader accounts. */
  traders: HardhatEthersSigner[];
  /** Block the clearinghouse was deployed in (the keepers index from it). */
  deployBlock: number;
}

/** Signs and submits one AIT round at `priceX18`, observed now or at `notBefore`; returns its observation time. */
async function publishAit(input: LiquidationDemoInput, priceX18: bigint, notBefore = 0n): Promise<bigint> {
  const { oracle, reporters, quorum, admin } = input;
  // At least the feed's minimum interval after the last round.
  const [, lastObservedAt] = await oracle.peekLatest(feedIdOf("AIT"));
  const latest = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  let now = (latest > lastObservedAt + 900n ? latest : lastObservedAt + 900n) + 1n;
  if (now < notBefore) now = notBefore;
  const domain = { chainId: (await ethers.provider.getNetwork()).chainId, oracle: await oracle.getAddress() };
  const feedId = feedIdOf("AIT");
  const version = (await oracle.feedConfig(feedId)).methodologyVersion;
  const reports = await Promise.all(
    reporters.slice(0, quorum).map((signer, i) =>
      signReport(signer, domain, {
        feedId,
        priceX18,
        observedAt: now,
        methodologyVersion: Number(version),
        sourceHash: keccak256(toUtf8Bytes(`demo-shock-${now}-${i}`)),
      }),
    ),
  );
  await network.provider.send("evm_setNextBlockTimestamp", [Number(now)]);
  await (await oracle.connect(admin).submit(feedId, reports)).wait();
  return now;
}

/** Runs the shock and the keepers; returns whether collateral is conserved to the unit. */
export async function runLiquidationDemo(input: LiquidationDemoInput): Promise<boolean> {
  const { clearinghouse: ch, usdc, admin, marketMaker, traders } = input;
  console.log("\n== Price shock, liquidations and the insurance fund ==");
  const unit = 10n ** 6n;
  const spec = await ch.seriesSpec(SERIES);
  const symbol = decodeBytes32String(spec.symbol);

  // The keeper: its own key (it signs raw transactions), gas money and 200,000 USDC of margin.
  const keeper = new Wallet(keccak256(toUtf8Bytes("demo-liquidator-keeper")), ethers.provider);
  await (await admin.sendTransaction({ to: keeper.address, value: ethers.parseEther("10") })).wait();
  await (await usdc.mint(keeper.address, 200_000n * unit)).wait();
  await (await usdc.connect(keeper).approve(await ch.getAddress(), ethers.MaxUint256)).wait();
  await (await ch.connect(keeper).deposit(200_000n * unit)).wait();
  await (await usdc.mint(admin.address, 5_000n * unit)).wait();
  await (await usdc.connect(admin).approve(await ch.getAddress(), ethers.MaxUint256)).wait();
  await (await ch.connect(admin).contributeInsurance(5_000n * unit)).wait();

  // Depth for the traders, then four leveraged longs: deposits and sizes chosen so that a 28% fall makes one
  // bankrupt, one deep enough for a partial, one small (taken whole), and leaves one healthy.
  const markTick = (await ch.markPrice(SERIES)) / spec.tickSizeX18;
  const ask = { seriesId: SERIES, account: marketMaker.address, isBuy: false, kind: 0, reduceOnly: false };
  await (
    await ch.connect(marketMaker).placeOrder({ ...ask, tick: markTick + 1n, qty: 40n, expiresAt: 0, maxFills: 20 })
  ).wait();
  // Each trader uses a share of its deposit's full leverage: qty = deposit x share / initial margin per contract.
  // After a 28% fall: 97% is bankrupt, 75% is partially liquidated, 80% of a small deposit is a small position
  // (taken whole), 30% stays healthy.
  const plans: [string, bigint, bigint][] = [
    ["trader-1 (97%)", 6_300n, 97n],
    ["trader-2 (75%)", 10_000n, 75n],
    ["trader-3 (small)", 2_500n, 80n],
    ["trader-4 (30%)", 30_000n, 30n],
  ];
  const imPerContractX18 =
    (markTick * spec.tickSizeX18 * spec.contractMultiplier * (await ch.riskParams(SERIES)).imBps) / 10_000n;
  const names = new Map<string, string>([[keeper.address.toLowerCase(), "keeper"]]);
  for (const [i, [name, depositUsd, sharePct]] of plans.entries()) {
    const trader = traders[i];
    names.set(trader.address.toLowerCase(), name);
    const qty = (depositUsd * 10n ** 18n * sharePct) / 100n / imPerContractX18;
    await (await usdc.mint(trader.address, depositUsd * unit)).wait();
    await (await usdc.connect(trader).approve(await ch.getAddress(), ethers.MaxUint256)).wait();
    await (await ch.connect(trader).deposit(depositUsd * unit)).wait();
    const buy = { seriesId: SERIES, account: trader.address, isBuy: true, kind: MARKET, reduceOnly: false };
    await (await ch.connect(trader).placeOrder({ ...buy, tick: 0n, qty, expiresAt: 0, maxFills: 20 })).wait();
  }
  console.log(`  four traders buy ${symbol} with 2,500 to 30,000 USDC, at 30% to 97% of full leverage`);

  const logger = createLogger("demo-keepers", "silent");
  const view = new ClearinghouseView(10n ** 12n);
  const indexer = new EventIndexer({
    provider: ethers.provider,
    contracts: [{ address: await ch.getAddress(), iface: ch.interface }],
    handler: view,
    startBlock: input.deployBlock,
    confirmations: 0,
  });
  const sender = new TxSender({
    provider: ethers.provider,
    signer: keeper,
    maxFeePerGasWei: ethers.parseUnits("500", "gwei"),
    pollIntervalMs: 20,
  });
  const liquidator = new Liquidator({
    clearinghouse: ch,
    indexer,
    view,
    sender,
    logger,
    settings: { batchSize: 10, firstBatchSize: 10, maxConcurrentBatches: 4, unwind: false },
  });
  const adl = new AdlKeeper({ clearinghouse: ch, indexer, view, sender, logger });
  const quiet = await liquidator.tick();
  console.log(
    `  liquidator keeper: tracks ${quiet.accountsTracked} accounts from events; liquidatable now: ${quiet.liquidatable}`,
  );

  // A 28% fall: the jump guard holds the round, a round an hour later confirms it.
  const [indexBefore] = await input.oracle.peekLatest(feedIdOf("AIT"));
  const shocked = (indexBefore * 72n) / 100n;
  const fundBefore = await ch.insuranceFundX18();
  const fromBlock = await ethers.provider.getBlockNumber();
  const heldAt = await publishAit(input, shocked);
  const confirmDelaySec = (await input.oracle.feedConfig(feedIdOf("AIT"))).params.confirmDelaySec;
  await publishAit(input, shocked, heldAt + BigInt(confirmDelaySec));
  console.log(`  AIT index ${usd(indexBefore)} -> ${usd(shocked)} (-28%, held by the jump guard, then confirmed)`);

  const report = await liquidator.tick();
  const outcomes = await liquidator.drain();
  const adlReport = await adl.tick();
  console.log(
    `  liquidator keeper: ${report.liquidatable} accounts below maintenance -> ${report.batchesSent} batch ` +
      `(${outcomes.join(", ")}); ADL keeper: ${adlReport.plans} deleveragings`,
  );
  for (const event of await ch.queryFilter(ch.filters.Liquidated(), fromBlock + 1)) {
    const a = event.args;
    console.log(
      `    liquidated ${names.get(a.account.toLowerCase()) ?? a.account}: ${-a.sizeChangeQty} ${symbol} at mark ` +
        `${usd(a.markX18)}, penalty ${usd(a.penaltyX18)} (keeper ${usd(a.liquidatorRewardX18)}, fund ` +
        `${usd(a.penaltyX18 - a.liquidatorRewardX18)})`,
    );
  }
  for (const event of await ch.queryFilter(ch.filters.DeficitResolved(), fromBlock + 1)) {
    const a = event.args;
    console.log(
      `    deficit of ${names.get(a.account.toLowerCase()) ?? a.account} ${usd(a.deficitX18)}: insurance fund paid ` +
        `${usd(a.fromInsuranceX18)}, deleveraging ${usd(a.fromHaircutsX18)}, uncovered ${usd(a.uncoveredX18)}`,
    );
  }
  const deleveraged = await ch.queryFilter(ch.filters.Deleveraged(), fromBlock + 1);
  console.log(
    `    deleveraging: ${deleveraged.length === 0 ? "none (the fund covered every deficit)" : deleveraged.length}`,
  );
  console.log(`  insurance fund ${usd(fundBefore)} before the shock, ${usd(await ch.insuranceFundX18())} after`);
  for (const [i, [name]] of plans.entries()) {
    const h = await ch.accountHealth(traders[i].address);
    const position = (await ch.positionOf(traders[i].address, SERIES)).sizeQty;
    console.log(
      `    ${name.padEnd(19)} position ${String(position).padStart(2)}  equity ${usd(h.equityX18).padStart(9)}  ` +
        `maintenance ${usd(h.maintenanceMarginX18).padStart(8)}`,
    );
  }
  const k = await ch.positionOf(keeper.address, SERIES);
  console.log(
    `    keeper holds ${k.sizeQty} ${symbol} taken over at the mark (unwind: keepers/liquidator, LIQUIDATOR_UNWIND)`,
  );
  return conserved(ch, usdc, view);
}

/** Collateral held = Σ cash − Σ cost basis of open positions + insurance fund + fee pool, to the unit. */
async function conserved(ch: Clearinghouse, usdc: MockERC20, view: ClearinghouseView): Promise<boolean> {
  let accounted = (await ch.insuranceFundX18()) + (await ch.feePoolX18());
  for (const account of view.accounts.values()) {
    accounted += await ch.cashOf(account.address);
    for (const seriesId of await ch.seriesOf(account.address)) {
      accounted -= (await ch.positionOf(account.address, seriesId)).openNotionalX18;
    }
  }
  const held = (await usdc.balanceOf(await ch.getAddress())) * 10n ** 12n;
  console.log(
    `  collateral held ${usd(held)} = cash - cost basis + pools ${usd(accounted)}: ` +
      `${held === accounted ? "conserved" : "NOT CONSERVED"}`,
  );
  return held === accounted;
}
