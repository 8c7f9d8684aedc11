/**
 * Shapes of the index input files (data/ and any file or URL in the same layout), checked with
 * zod before any number is used. Decimal amounts are strings, parsed exactly into bigint.
 */
import { z } from "zod";

const decimal = z.string().regex(/^\d+(\.\d+)?$/, "expected a decimal string like 4.05");
const bps = z.number().int().min(0).max(10_000);

export const timeOfDaySchema = z
  .array(z.object({ hoursPerWeek: z.number().int().positive(), multiplierBps: z.number().int().min(0).max(100_000) }))
  .min(1);

export const skuPriceSchema = z.object({
  model: z.string().min(1),
  input: decimal,
  output: decimal,
  source: z.string().min(1),
  sourceDate: z.string().min(1),
  secondary: z.object({ input: decimal, output: decimal, source: z.string().min(1) }).optional(),
  timeOfDay: timeOfDaySchema.optional(),
});

export const aitBasketSchema = z.object({
  feed: z.literal("AIT"),
  methodologyVersion: z.number().int().positive(),
  unit: z.string(),
  effectiveFrom: z.string(),
  blend: z.object({ inputWeight: z.number().int().positive(), outputWeight: z.number().int().positive() }),
  caps: z.object({
    providerWeightBps: bps,
    skuWeightBps: bps,
    providerValueShareBps: bps,
    chinaWeightFloorBps: bps,
  }),
  skus: z
    .array(
      z.object({
        id: z.string().min(1),
        provider: z.string().min(1),
        region: z.enum(["us", "cn", "eu", "other"]),
        slot: z.enum(["frontier", "workhorse"]),
        weightBps: bps,
      }),
    )
    .min(1),
});

export const aitPriceListSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(["documented", "scenario"]),
  note: z.string(),
  basedOn: z.string().optional(),
  prices: z.record(z.string(), skuPriceSchema),
});

export const aitPriceListsSchema = z.object({
  feed: z.literal("AIT"),
  unit: z.string(),
  lists: z.array(aitPriceListSchema).min(1),
});

export const gpuhPanelSchema = z.object({
  feed: z.literal("GPUH"),
  methodologyVersion: z.number().int().positive(),
  unit: z.string(),
  segment: z.string(),
  effectiveFrom: z.string(),
  trimBps: z.number().int().min(0).max(4_999),
  caps: z.object({ providerWeightBps: bps, groupWeightBps: z.record(z.string(), bps) }),
  priceBounds: z.object({ min: decimal, max: decimal }),
  minValidProviders: z.number().int().positive(),
  providers: z
    .array(
      z.object({ id: z.string().min(1), group: z.enum(["hyperscaler", "neocloud", "marketplace"]), weightBps: bps }),
    )
    .min(1),
});

export const gpuhQuoteSchema = z.object({
  provider: z.string().min(1),
  name: z.string(),
  group: z.string(),
  variant: z.string(),
  usdPerGpuHour: decimal,
  priceDate: z.string(),
  source: z.string(),
  reliability: z.string(),
  note: z.string(),
});

export const gpuhQuotesSchema = z.object({
  feed: z.literal("GPUH"),
  unit: z.string(),
  segment: z.string(),
  collectedOn: z.string(),
  quotes: z.array(gpuhQuoteSchema).min(1),
});

export const samplePathSchema = z.object({
  description: z.string(),
  hours: z.number().int().positive(),
  ait: z.array(z.object({ atHour: z.number().int().min(0), list: z.string() })).min(1),
  gpuh: z.array(z.object({ atHour: z.number().int().min(0), quotes: z.record(z.string(), z.string()) })).min(1),
});

export type AitBasket = z.infer<typeof aitBasketSchema>;
export type SkuPrice = z.infer<typeof skuPriceSchema>;
export type AitPriceList = z.infer<typeof aitPriceListSchema>;
export type AitPriceLists = z.infer<typeof aitPriceListsSchema>;
export type GpuhPanel = z.infer<typeof gpuhPanelSchema>;
export type GpuhQuote = z.infer<typeof gpuhQuoteSchema>;
export type GpuhQuotes = z.infer<typeof gpuhQuotesSchema>;
export type SamplePath = z.infer<typeof samplePathSchema>;

/** A GPUH input: each provider's price in force, as a decimal string, with where it came from. */
export interface GpuhObservation {
  provider: string;
  usdPerGpuHour: string;
  priceDate: string;
  source: string;
}
