/**
 * The GPUH index (H100 GPU-hour rental), methodology version 1: a weighted, trimmed mean of
 * on-demand per-GPU-hour prices of a panel of providers. Exact bigint arithmetic, rounded down.
 * Rules in docs/index-methodology.md.
 */
import { IndexDataError } from "../../shared/errors";
import { parseX18 } from "../../../sdk";
import type { GpuhObservation, GpuhPanel } from "./schema";

const BPS = 10_000n;

export interface GpuhLine {
  provider: string;
  priceX18: bigint;
  weightBps: bigint;
  /** Weight kept after trimming, in bps x bps of the present panel weight. */
  keptWeight: bigint;
}

export interface GpuhIndexResult {
  indexX18: bigint;
  lines: GpuhLine[];
  warnings: string[];
}

/** Checks the panel: weights sum to 100%, per-provider cap, group caps, unique ids. */
export function validateGpuhPanel(panel: GpuhPanel): void {
  const total = panel.providers.reduce((sum, provider) => sum + provider.weightBps, 0);
  if (total !== 10_000) throw new IndexDataError(`GPUH panel weights sum to ${total} bps, expected 10000`);
  const ids = new Set<string>();
  const byGroup = new Map<string, number>();
  for (const provider of panel.providers) {
    if (ids.has(provider.id)) throw new IndexDataError(`GPUH panel lists ${provider.id} twice`);
    ids.add(provider.id);
    if (provider.weightBps > panel.caps.providerWeightBps) {
      throw new IndexDataError(`GPUH provider ${provider.id} weight above cap ${panel.caps.providerWeightBps}`);
    }
    byGroup.set(provider.group, (byGroup.get(provider.group) ?? 0) + provider.weightBps);
  }
  for (const [group, cap] of Object.entries(panel.caps.groupWeightBps)) {
    const weight = byGroup.get(group) ?? 0;
    if (weight > cap) throw new IndexDataError(`GPUH group ${group} weight ${weight} bps above cap ${cap}`);
  }
}

/**
 * Computes the GPUH index: sort the present providers' prices, remove `trimBps` of the present
 * weight from each end (partially trimming the boundary provider), and take the weighted mean of
 * what remains. Prices outside the panel's bounds are dropped with a warning (a parse or unit
 * error, not a market price); fewer than `minValidProviders` valid prices is an error.
 */
export function computeGpuhIndex(panel: GpuhPanel, observations: GpuhObservation[]): GpuhIndexResult {
  validateGpuhPanel(panel);
  const warnings: string[] = [];
  const minX18 = parseX18(panel.priceBounds.min);
  const maxX18 = parseX18(panel.priceBounds.max);
  const weights = new Map(panel.providers.map((provider) => [provider.id, BigInt(provider.weightBps)]));
  const seen = new Set<string>();
  const present: { provider: string; priceX18: bigint; weightBps: bigint }[] = [];
  for (const observation of observations) {
    const weightBps = weights.get(observation.provider);
    if (weightBps === undefined) {
      warnings.push(`${observation.provider}: not in the panel, ignored`);
      continue;
    }
    if (seen.has(observation.provider))
      throw new IndexDataError(`GPUH provider ${observation.provider} observed twice`);
    seen.add(observation.provider);
    const priceX18 = parseX18(observation.usdPerGpuHour);
    if (priceX18 < minX18 || priceX18 > maxX18) {
      warnings.push(`${observation.provider}: price ${observation.usdPerGpuHour} outside bounds, dropped`);
      continue;
    }
    present.push({ provider: observation.provider, priceX18, weightBps });
  }
  if (present.length < panel.minValidProviders) {
    throw new IndexDataError(`GPUH has ${present.length} valid providers, needs ${panel.minValidProviders}`);
  }
  present.sort((a, b) =>
    a.priceX18 < b.priceX18 ? -1 : a.priceX18 > b.priceX18 ? 1 : a.provider.localeCompare(b.provider),
  );
  // Work in weight x BPS so the trim (a bps share of the present weight) stays an integer.
  const totalWeight = present.reduce((sum, entry) => sum + entry.weightBps, 0n);
  const trim = totalWeight * BigInt(panel.trimBps);
  let trimLow = trim;
  let trimHigh = trim;
  const kept = present.map((entry) => ({ ...entry, keptWeight: entry.weightBps * BPS }));
  for (const entry of kept) {
    const cut = entry.keptWeight < trimLow ? entry.keptWeight : trimLow;
    entry.keptWeight -= cut;
    trimLow -= cut;
  }
  for (const entry of [...kept].reverse()) {
    const cut = entry.keptWeight < trimHigh ? entry.keptWeight : trimHigh;
    entry.keptWeight -= cut;
    trimHigh -= cut;
  }
  const keptTotal = kept.reduce((sum, entry) => sum + entry.keptWeight, 0n);
  const weightedSum = kept.reduce((sum, entry) => sum + entry.priceX18 * entry.keptWeight, 0n);
  return {
    indexX18: weightedSum / keptTotal,
    lines: kept.map((entry) => ({
      provider: entry.provider,
      priceX18: entry.priceX18,
      weightBps: entry.weightBps,
      keptWeight: entry.keptWeight,
    })),
    warnings,
  };
}
