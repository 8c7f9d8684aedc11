/**
 * The AIT index (AI Token Price Index), methodology version 1: a token-weighted basket of list
 * prices of leading model APIs, USD per 1M tokens, input and output blended 3:1.
 * Exact bigint arithmetic in 18-decimal fixed point; every division rounds down. The rules are
 * documented in docs/index-methodology.md, whose worked example the tests reproduce digit for digit.
 */
import { IndexDataError } from "../../shared/errors";
import { parseX18 } from "../../../sdk";
import type { AitBasket, SkuPrice } from "./schema";

const BPS = 10_000n;
const HOURS_PER_WEEK = 168n;
/** Sanity bounds of one list price, USD per 1M tokens. */
export const SKU_PRICE_MIN_X18 = parseX18("0.001");
export const SKU_PRICE_MAX_X18 = parseX18("500");
/** Official and secondary sources must agree within this, else the change is not validated. */
export const SOURCE_AGREEMENT_BPS = 100n;

/** One SKU's part in an index value. */
export interface AitSkuLine {
  id: string;
  provider: string;
  model: string;
  weightBps: bigint;
  /** Input and output prices after the weekly time-of-day average. */
  inputX18: bigint;
  outputX18: bigint;
  /** (inputWeight x input + outputWeight x output) / (inputWeight + outputWeight), rounded down. */
  blendX18: bigint;
  /** blend x weight / 10,000 (for display; the index sums before dividing). */
  contributionX18: bigint;
}

export interface AitIndexResult {
  indexX18: bigint;
  lines: AitSkuLine[];
  /** Provider whose value share was capped on this fixing, if any. */
  cappedProvider?: string;
  warnings: string[];
}

/**
 * Checks the basket rules: weights sum to 100%, per-SKU and per-provider caps, the China floor.
 * @throws IndexDataError naming the broken rule.
 */
export function validateAitBasket(basket: AitBasket): void {
  const total = basket.skus.reduce((sum, sku) => sum + sku.weightBps, 0);
  if (total !== 10_000) throw new IndexDataError(`AIT basket weights sum to ${total} bps, expected 10000`);
  const ids = new Set<string>();
  const byProvider = new Map<string, number>();
  let china = 0;
  for (const sku of basket.skus) {
    if (ids.has(sku.id)) throw new IndexDataError(`AIT basket lists SKU ${sku.id} twice`);
    ids.add(sku.id);
    if (sku.weightBps > basket.caps.skuWeightBps) {
      throw new IndexDataError(`AIT SKU ${sku.id} weight ${sku.weightBps} bps above cap ${basket.caps.skuWeightBps}`);
    }
    byProvider.set(sku.provider, (byProvider.get(sku.provider) ?? 0) + sku.weightBps);
    if (sku.region === "cn") china += sku.weightBps;
  }
  for (const [provider, weight] of byProvider) {
    if (weight > basket.caps.providerWeightBps) {
      throw new IndexDataError(
        `AIT provider ${provider} weight ${weight} bps above cap ${basket.caps.providerWeightBps}`,
      );
    }
  }
  if (china < basket.caps.chinaWeightFloorBps) {
    throw new IndexDataError(`AIT China-based weight ${china} bps below floor ${basket.caps.chinaWeightFloorBps}`);
  }
}

/**
 * The weekly time-weighted average of a price billed at different multipliers by hour of week:
 * price x sum(hours x multiplier) / (168 x 10,000), rounded down.
 */
export function timeOfDayAverageX18(priceX18: bigint, schedule: SkuPrice["timeOfDay"]): bigint {
  if (schedule === undefined) return priceX18;
  const hours = schedule.reduce((sum, band) => sum + band.hoursPerWeek, 0);
  if (hours !== 168) throw new IndexDataError(`time-of-day schedule covers ${hours} hours, expected 168`);
  const weighted = schedule.reduce((sum, band) => sum + BigInt(band.hoursPerWeek) * BigInt(band.multiplierBps), 0n);
  return (priceX18 * weighted) / (HOURS_PER_WEEK * BPS);
}

/** The blended price of input and output, rounded down. */
export function blendX18(inputX18: bigint, outputX18: bigint, blend: AitBasket["blend"]): bigint {
  const inputWeight = BigInt(blend.inputWeight);
  const outputWeight = BigInt(blend.outputWeight);
  return (inputWeight * inputX18 + outputWeight * outputX18) / (inputWeight + outputWeight);
}

function checkBounds(skuId: string, label: string, valueX18: bigint): void {
  if (valueX18 < SKU_PRICE_MIN_X18 || valueX18 > SKU_PRICE_MAX_X18) {
    throw new IndexDataError(`AIT ${skuId} ${label} price outside [0.001, 500] USD per 1M tokens`);
  }
}

function agrees(a: bigint, b: bigint): boolean {
  const diff = a > b ? a - b : b - a;
  return diff * BPS <= SOURCE_AGREEMENT_BPS * a;
}

/**
 * Computes the AIT index from a basket and the list prices in force.
 * Validation (any failure throws IndexDataError and nothing is signed): the basket rules; every
 * basket SKU has a price; each price within [0.001, 500]; where a secondary source is given it
 * agrees with the official one within 1%. An input price above the output price is a warning.
 */
export function computeAitIndex(basket: AitBasket, prices: Record<string, SkuPrice>): AitIndexResult {
  validateAitBasket(basket);
  const warnings: string[] = [];
  const lines: AitSkuLine[] = [];
  for (const sku of basket.skus) {
    const price = prices[sku.id];
    if (price === undefined) throw new IndexDataError(`AIT SKU ${sku.id} has no price`);
    const listInputX18 = parseX18(price.input);
    const listOutputX18 = parseX18(price.output);
    checkBounds(sku.id, "input", listInputX18);
    checkBounds(sku.id, "output", listOutputX18);
    if (price.secondary !== undefined) {
      const ok =
        agrees(listInputX18, parseX18(price.secondary.input)) &&
        agrees(listOutputX18, parseX18(price.secondary.output));
      if (!ok) throw new IndexDataError(`AIT ${sku.id} official and secondary sources disagree by more than 1%`);
    }
    if (listInputX18 > listOutputX18) warnings.push(`${sku.id}: input price above output price`);
    const inputX18 = timeOfDayAverageX18(listInputX18, price.timeOfDay);
    const outputX18 = timeOfDayAverageX18(listOutputX18, price.timeOfDay);
    const blended = blendX18(inputX18, outputX18, basket.blend);
    const weightBps = BigInt(sku.weightBps);
    lines.push({
      id: sku.id,
      provider: sku.provider,
      model: price.model,
      weightBps,
      inputX18,
      outputX18,
      blendX18: blended,
      contributionX18: (blended * weightBps) / BPS,
    });
  }
  // Weighted sum in X18 x bps; divided once at the end.
  const weightedSum = lines.reduce((sum, line) => sum + line.blendX18 * line.weightBps, 0n);
  const byProvider = new Map<string, bigint>();
  for (const line of lines)
    byProvider.set(line.provider, (byProvider.get(line.provider) ?? 0n) + line.blendX18 * line.weightBps);
  const capBps = BigInt(basket.caps.providerValueShareBps);
  for (const [provider, value] of byProvider) {
    if (value * BPS > capBps * weightedSum) {
      // Cap the provider at capBps of the index: I = others / (1 - cap).
      const others = weightedSum - value;
      const indexX18 = (others * BPS) / (BPS - capBps) / BPS;
      warnings.push(`${provider}: value share above ${capBps} bps, capped`);
      return { indexX18, lines, cappedProvider: provider, warnings };
    }
  }
  return { indexX18: weightedSum / BPS, lines, warnings };
}
