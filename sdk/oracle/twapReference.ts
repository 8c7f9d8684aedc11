/**
 * Reference model of the oracle's price history: a step function of accepted rounds.
 * Independent of the contract's accumulator: it integrates the steps directly, so tests can
 * compare the two. Mirrors IndexOracle.twap's rules (window bounds, floor rounding).
 */
import { TwapQueryError } from "../errors";

/** One accepted round. */
export interface ReferenceRound {
  observedAt: bigint;
  priceX18: bigint;
}

export class ReferencePriceHistory {
  private readonly rounds: ReferenceRound[] = [];

  /** Records an accepted round; rounds must come in strictly increasing time. */
  record(round: ReferenceRound): void {
    const last = this.rounds.at(-1);
    if (last !== undefined && round.observedAt <= last.observedAt) {
      throw new TwapQueryError(`round at ${round.observedAt} is not after ${last.observedAt}`);
    }
    this.rounds.push({ ...round });
  }

  /** Number of rounds recorded. */
  get length(): number {
    return this.rounds.length;
  }

  /** The price in force at `time`: the last round observed at or before it. */
  priceAt(time: bigint): bigint {
    let price: bigint | undefined;
    for (const round of this.rounds) {
      if (round.observedAt > time) break;
      price = round.priceX18;
    }
    if (price === undefined) throw new TwapQueryError(`no round at or before ${time}`);
    return price;
  }

  /** Exact integral of the price over [from, to] in price-seconds (18 decimals). */
  area(from: bigint, to: bigint): bigint {
    if (from >= to) throw new TwapQueryError(`empty window [${from}, ${to}]`);
    let total = 0n;
    let cursor = from;
    let price = this.priceAt(from);
    for (const round of this.rounds) {
      if (round.observedAt <= from) continue;
      if (round.observedAt >= to) break;
      total += price * (round.observedAt - cursor);
      cursor = round.observedAt;
      price = round.priceX18;
    }
    return total + price * (to - cursor);
  }

  /** Time-weighted average price over [from, to], rounded down like the contract. */
  twap(from: bigint, to: bigint): bigint {
    return this.area(from, to) / (to - from);
  }

  /** Rounds observed in (from, to]. */
  roundsIn(from: bigint, to: bigint): number {
    return this.rounds.filter((round) => round.observedAt > from && round.observedAt <= to).length;
  }
}
