/**
 * The series of the exchange: the two products of DESIGN.md section 2 (AIT and GPUH), each listed
 * for three consecutive contract months. Used by the deployment, the demo and the tests.
 *
 * Contract month M of a product: averaging window from 00:00 UTC on the first day of M to the last
 * fixing at 08:00 UTC on its last day (the expiry); the settlement price is the oracle TWAP over it.
 */
import { parseX18 } from "../sdk";

/** Fixed terms and risk parameters of one product; a series is a product and a contract month. */
export interface ProductSpec {
  symbol: "AIT" | "GPUH";
  /** USD of notional per 1.0 of index per contract. */
  contractMultiplier: bigint;
  tickSizeX18: bigint;
  minQty: bigint;
  methodologyVersion: number;
  /** Fewest oracle rounds in the window for an automatic settlement. */
  minSettlementRounds: number;
  risk: {
    imBps: number;
    mmBps: number;
    orderBandBps: number;
    liquidationPenaltyBps: number;
    makerFeeBps: number;
    takerFeeBps: number;
    positionLimitQty: bigint;
    openInterestCapQty: bigint;
  };
}

export const PRODUCTS: Record<ProductSpec["symbol"], ProductSpec> = {
  // 1 contract = 1B tokens = index x 1,000 USD; tick 0.001 = 1 USD per contract.
  // IM 25% covers the largest single-model repricing on the basket (research 5.2); MM half of it.
  AIT: {
    symbol: "AIT",
    contractMultiplier: 1_000n,
    tickSizeX18: parseX18("0.001"),
    minQty: 1n,
    methodologyVersion: 1,
    minSettlementRounds: 28,
    risk: {
      imBps: 2_500,
      mmBps: 1_250,
      orderBandBps: 1_000,
      liquidationPenaltyBps: 100,
      makerFeeBps: 1,
      takerFeeBps: 5,
      positionLimitQty: 2_000n,
      // About 20M USD of notional at an index of 4.
      openInterestCapQty: 5_000n,
    },
  },
  // 1 contract = 1,000 GPU-hours = index x 1,000 USD; tick 0.001 = 1 USD per contract.
  // IM 15% covers a two-day fat-tailed move at 60% annual volatility; MM 7.5% a 99% one-day move.
  GPUH: {
    symbol: "GPUH",
    contractMultiplier: 1_000n,
    tickSizeX18: parseX18("0.001"),
    minQty: 1n,
    methodologyVersion: 1,
    minSettlementRounds: 28,
    risk: {
      imBps: 1_500,
      mmBps: 750,
      orderBandBps: 750,
      liquidationPenaltyBps: 75,
      makerFeeBps: 1,
      takerFeeBps: 5,
      positionLimitQty: 5_000n,
      // About 25M USD of notional at an index of 2.4.
      openInterestCapQty: 10_000n,
    },
  },
};

/** Settlement delays and the insurance share of fees of a deployment. */
export const SETTLEMENT_DELAYS = { disputeWindowSec: 7_200, governanceGraceSec: 259_200 };
export const INSURANCE_FEE_SHARE_BPS = 2_000;

/** Hour (UTC) of the last fixing on the last day of a contract month. */
export const EXPIRY_HOUR_UTC = 8;

/** What `Clearinghouse.listSeries` takes, with the month for display. */
export interface SeriesListing {
  product: ProductSpec;
  month: string;
  spec: {
    symbol: string;
    feedId: string;
    expiry: bigint;
    averagingWindowSec: number;
    methodologyVersion: number;
    minSettlementRounds: number;
    contractMultiplier: bigint;
    tickSizeX18: bigint;
    minQty: bigint;
  };
  risk: ProductSpec["risk"];
}

/** The contract month (year, month 1-12) containing unix time `sec`. */
function monthOf(sec: number): { year: number; month: number } {
  const date = new Date(sec * 1000);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1 };
}

/** Start (00:00 UTC day 1) and expiry (08:00 UTC last day) of a contract month, unix seconds. */
export function contractMonthTimes(year: number, month: number): { windowStart: number; expiry: number } {
  const windowStart = Date.UTC(year, month - 1, 1) / 1000;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const expiry = Date.UTC(year, month - 1, lastDay, EXPIRY_HOUR_UTC) / 1000;
  return { windowStart, expiry };
}

/** Series symbol, e.g. AIT-2026-12 (fits bytes32). */
export function seriesSymbol(product: string, year: number, month: number): string {
  return `${product}-${year}-${String(month).padStart(2, "0")}`;
}

/**
 * The series to list at time `nowSec`: for each product, `months` consecutive contract months,
 * starting with the first month whose averaging window has not started yet.
 */
export function seriesToList(nowSec: number, months = 3, feedIdOf: (symbol: string) => string): SeriesListing[] {
  let { year, month } = monthOf(nowSec);
  if (contractMonthTimes(year, month).windowStart <= nowSec) {
    month += 1;
    if (month === 13) [year, month] = [year + 1, 1];
  }
  const listings: SeriesListing[] = [];
  for (const product of Object.values(PRODUCTS)) {
    let [y, m] = [year, month];
    for (let i = 0; i < months; i++) {
      const { windowStart, expiry } = contractMonthTimes(y, m);
      listings.push({
        product,
        month: `${y}-${String(m).padStart(2, "0")}`,
        spec: {
          symbol: seriesSymbol(product.symbol, y, m),
          feedId: feedIdOf(product.symbol),
          expiry: BigInt(expiry),
          averagingWindowSec: expiry - windowStart,
          methodologyVersion: product.methodologyVersion,
          minSettlementRounds: product.minSettlementRounds,
          contractMultiplier: product.contractMultiplier,
          tickSizeX18: product.tickSizeX18,
          minQty: product.minQty,
        },
        risk: product.risk,
      });
      m += 1;
      if (m === 13) [y, m] = [y + 1, 1];
    }
  }
  return listings;
}
