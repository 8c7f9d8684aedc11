/**
 * The demo's report, built from the chain's events and state alone: trades, volume and fees; liquidations,
 * deficits and deleveraging; the insurance fund and fee pool; the settlement price of each front series checked
 * against a TWAP recomputed from the oracle's events; each account's deposits, withdrawals and PnL; and the
 * conservation check, to the token unit:
 *   tokens in (deposits + insurance contributions) = tokens out (withdrawals) + tokens held,
 *   tokens held x 10^12 = fee pool + insurance fund + cash left in accounts (below one token unit each).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { IndexOracle__factory, MockERC20__factory } from "../../../typechain-types";
import { ReferencePriceHistory, notionalX18, rawToX18, x18ToUsdTowardZero } from "../../../sdk";
import type { DemoOutcome } from "./story";

export interface AccountLine {
  name: string;
  address: string;
  depositedRaw: bigint;
  withdrawnRaw: bigint;
  /** Withdrawn minus deposited: the account's result over the whole demo, fees included. */
  pnlRaw: bigint;
  feesPaidX18: bigint;
  fills: number;
  liquidations: number;
  /** Cash left in the account after its withdrawal (less than one token unit). */
  residualCashX18: bigint;
}

export interface DemoReport {
  network: string;
  chainId: number;
  clearinghouse: string;
  passes: number;
  oracleRounds: number;
  trades: { fills: number; takerOrders: number; volumeX18: bigint; feesX18: bigint };
  liquidations: { count: number; penaltiesX18: bigint; keeperRewardsX18: bigint; batches: number };
  deficits: {
    count: number;
    deficitX18: bigint;
    fromInsuranceX18: bigint;
    fromDeleveragingX18: bigint;
    uncoveredX18: bigint;
  };
  insurance: { contributedRaw: bigint; fundX18: bigint };
  feePoolX18: bigint;
  settlements: { symbol: string; priceX18: bigint; modelTwapX18: bigint; matches: boolean; accountsSettled: number }[];
  accounts: AccountLine[];
  conservation: {
    tokensInRaw: bigint;
    tokensOutRaw: bigint;
    heldRaw: bigint;
    /** tokens in - tokens out = tokens held. */
    tokenFlowsBalance: boolean;
    /** tokens held x 10^12 = fee pool + insurance fund + residual cash. */
    ledgerBalances: boolean;
    openInterestQty: bigint;
    holds: boolean;
  };
}

export async function buildReport(hre: HardhatRuntimeEnvironment, outcome: DemoOutcome): Promise<DemoReport> {
  const { clearinghouse: ch, deployment } = outcome;
  const from = deployment.startBlock;
  const lines = new Map<string, AccountLine>();
  for (const p of outcome.participants) {
    lines.set(p.address.toLowerCase(), {
      name: p.name,
      address: p.address,
      depositedRaw: 0n,
      withdrawnRaw: 0n,
      pnlRaw: 0n,
      feesPaidX18: 0n,
      fills: 0,
      liquidations: 0,
      residualCashX18: await ch.cashOf(p.address),
    });
  }
  const line = (address: string) => lines.get(address.toLowerCase());

  for (const e of await ch.queryFilter(ch.filters.Deposited(), from))
    line(e.args.account)!.depositedRaw += e.args.amountRaw;
  for (const e of await ch.queryFilter(ch.filters.Withdrawn(), from))
    line(e.args.account)!.withdrawnRaw += e.args.amountRaw;

  const fills = await ch.queryFilter(ch.filters.OrderFilled(), from);
  let volumeX18 = 0n;
  let feesX18 = 0n;
  const multipliers = new Map<bigint, bigint>();
  for (const s of deployment.series) multipliers.set(BigInt(s.id), (await ch.seriesSpec(s.id)).contractMultiplier);
  for (const e of fills) {
    volumeX18 += notionalX18(e.args.qty, e.args.priceX18, multipliers.get(e.args.seriesId)!);
    feesX18 += e.args.makerFeeX18 + BigInt(e.args.takerFeeX18);
    const maker = line(e.args.maker);
    const taker = line(e.args.taker);
    if (maker !== undefined) {
      maker.feesPaidX18 += e.args.makerFeeX18;
      maker.fills += 1;
    }
    if (taker !== undefined) {
      taker.feesPaidX18 += e.args.takerFeeX18;
      taker.fills += 1;
    }
  }
  const liquidated = await ch.queryFilter(ch.filters.Liquidated(), from);
  for (const e of liquidated) line(e.args.account)!.liquidations += 1;
  const deficits = await ch.queryFilter(ch.filters.DeficitResolved(), from);
  const contributions = await ch.queryFilter(ch.filters.InsuranceContributed(), from);

  // Settlement prices against a TWAP recomputed from the oracle's RoundAccepted events.
  const oracle = IndexOracle__factory.connect(deployment.contracts.oracle, hre.ethers.provider);
  const settlements: DemoReport["settlements"] = [];
  for (const seriesId of outcome.frontSeries) {
    const spec = await ch.seriesSpec(seriesId);
    const history = new ReferencePriceHistory();
    for (const e of await oracle.queryFilter(oracle.filters.RoundAccepted(spec.feedId), from)) {
      history.record({ observedAt: e.args.observedAt, priceX18: e.args.priceX18 });
    }
    const modelTwapX18 = history.twap(spec.expiry - spec.averagingWindowSec, spec.expiry);
    const priceX18 = (await ch.settlementOf(seriesId)).priceX18;
    const settled = await ch.queryFilter(ch.filters.AccountSettled(undefined, seriesId), from);
    settlements.push({
      symbol: hre.ethers.decodeBytes32String(spec.symbol),
      priceX18,
      modelTwapX18,
      matches: priceX18 === modelTwapX18,
      accountsSettled: settled.length,
    });
  }

  const usdc = MockERC20__factory.connect(deployment.collateral.address, hre.ethers.provider);
  const heldRaw = await usdc.balanceOf(deployment.contracts.clearinghouse);
  const contributedRaw = contributions.reduce((sum, e) => sum + e.args.amountRaw, 0n);
  const accounts = [...lines.values()].map((l) => ({ ...l, pnlRaw: l.withdrawnRaw - l.depositedRaw }));
  const tokensInRaw = accounts.reduce((sum, l) => sum + l.depositedRaw, 0n) + contributedRaw;
  const tokensOutRaw = accounts.reduce((sum, l) => sum + l.withdrawnRaw, 0n);
  const fundX18 = await ch.insuranceFundX18();
  const feePoolX18 = await ch.feePoolX18();
  const residualX18 = accounts.reduce((sum, l) => sum + l.residualCashX18, 0n);
  let openInterestQty = 0n;
  for (const s of deployment.series) openInterestQty += (await ch.marketState(s.id)).openInterestQty;
  const tokenFlowsBalance = tokensInRaw - tokensOutRaw === heldRaw;
  const ledgerBalances = rawToX18(heldRaw, deployment.collateral.decimals) === feePoolX18 + fundX18 + residualX18;
  return {
    network: hre.network.name,
    chainId: deployment.chainId,
    clearinghouse: deployment.contracts.clearinghouse,
    passes: outcome.passes,
    oracleRounds: outcome.rounds,
    trades: {
      fills: fills.length,
      takerOrders: (await ch.queryFilter(ch.filters.TakerOrderFilled(), from)).length,
      volumeX18,
      feesX18,
    },
    liquidations: {
      count: liquidated.length,
      penaltiesX18: liquidated.reduce((sum, e) => sum + e.args.penaltyX18, 0n),
      keeperRewardsX18: liquidated.reduce((sum, e) => sum + e.args.liquidatorRewardX18, 0n),
      batches: outcome.keeperActions.liquidationBatches,
    },
    deficits: {
      count: deficits.length,
      deficitX18: deficits.reduce((sum, e) => sum + e.args.deficitX18, 0n),
      fromInsuranceX18: deficits.reduce((sum, e) => sum + e.args.fromInsuranceX18, 0n),
      fromDeleveragingX18: deficits.reduce((sum, e) => sum + e.args.fromHaircutsX18, 0n),
      uncoveredX18: deficits.reduce((sum, e) => sum + e.args.uncoveredX18, 0n),
    },
    insurance: { contributedRaw, fundX18 },
    feePoolX18,
    settlements,
    accounts,
    conservation: {
      tokensInRaw,
      tokensOutRaw,
      heldRaw,
      tokenFlowsBalance,
      ledgerBalances,
      openInterestQty,
      holds: tokenFlowsBalance && ledgerBalances && openInterestQty === 0n,
    },
  };
}

/** USD from 18 decimals, 2 decimals shown (truncated; display only). */
const usd = (x18: bigint) => x18ToUsdTowardZero(x18, 2);
/** USD from token units (6 decimals), 2 shown. */
const usdRaw = (raw: bigint) => x18ToUsdTowardZero(rawToX18(raw, 6), 2);
/** A price with 4 decimals. */
const price = (x18: bigint) => x18ToUsdTowardZero(x18, 4);

/** The report as text. */
export function formatReport(r: DemoReport): string {
  const out: string[] = [];
  out.push(`== Report (${r.network}, chain ${r.chainId}, clearinghouse ${r.clearinghouse}) ==`);
  out.push(`oracle: ${r.passes} reporter passes, ${r.oracleRounds} rounds accepted`);
  out.push(
    `trades: ${r.trades.fills} fills from ${r.trades.takerOrders} taker orders, volume ${usd(r.trades.volumeX18)} USD, ` +
      `fees ${usd(r.trades.feesX18)} USD`,
  );
  out.push(
    `liquidations: ${r.liquidations.count} in ${r.liquidations.batches} keeper batches, penalties ${usd(r.liquidations.penaltiesX18)} ` +
      `(keeper ${usd(r.liquidations.keeperRewardsX18)}, fund ${usd(r.liquidations.penaltiesX18 - r.liquidations.keeperRewardsX18)})`,
  );
  out.push(
    `deficits: ${r.deficits.count} bankrupt account(s), ${usd(r.deficits.deficitX18)} USD: insurance fund paid ` +
      `${usd(r.deficits.fromInsuranceX18)}, deleveraging ${usd(r.deficits.fromDeleveragingX18)}, uncovered ${usd(r.deficits.uncoveredX18)}`,
  );
  out.push(
    `insurance fund: ${usdRaw(r.insurance.contributedRaw)} contributed, ${usd(r.insurance.fundX18)} at the end; ` +
      `fee pool ${usd(r.feePoolX18)}`,
  );
  for (const s of r.settlements) {
    out.push(
      `settlement ${s.symbol}: ${price(s.priceX18)} (TWAP recomputed from the oracle's events: ${price(s.modelTwapX18)}, ` +
        `${s.matches ? "exact match" : "MISMATCH"}); ${s.accountsSettled} accounts settled`,
    );
  }
  out.push("accounts (USDC):");
  out.push(
    `  ${"account".padEnd(32)} ${"deposited".padStart(13)} ${"withdrawn".padStart(13)} ${"PnL".padStart(11)} ${"fees".padStart(9)} fills liq.`,
  );
  for (const a of r.accounts) {
    out.push(
      `  ${a.name.padEnd(32)} ${usdRaw(a.depositedRaw).padStart(13)} ${usdRaw(a.withdrawnRaw).padStart(13)} ` +
        `${usdRaw(a.pnlRaw).padStart(11)} ${usd(a.feesPaidX18).padStart(9)} ${String(a.fills).padStart(5)} ${String(a.liquidations).padStart(4)}`,
    );
  }
  const c = r.conservation;
  out.push(
    `conservation: tokens in ${usdRaw(c.tokensInRaw)} = out ${usdRaw(c.tokensOutRaw)} + held ${usdRaw(c.heldRaw)}: ` +
      `${c.tokenFlowsBalance ? "yes" : "NO"}; held = fee pool + insurance fund + cash left: ${c.ledgerBalances ? "yes" : "NO"}; ` +
      `open interest ${c.openInterestQty}: ${c.holds ? "CONSERVED to the unit" : "NOT CONSERVED"}`,
  );
  return out.join("\n");
}

/** The report as JSON (bigints as decimal strings). */
export function reportJson(r: DemoReport): string {
  return JSON.stringify(r, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2);
}
