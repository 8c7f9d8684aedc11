/**
 * Where the reporter's index inputs come from.
 * - `BundledReplaySource`: the bundled sample path of data/ replayed against the chain clock,
 *   from a start time (offline, deterministic: the demo and tests use it).
 * - `SnapshotSource`: the current inputs from a JSON file or an http(s) URL, in the snapshot
 *   layout below (what a production data collector publishes).
 * Every source returns the inputs of each feed together with a hash of exactly those inputs.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";
import { DataSourceError, IndexDataError } from "../shared/errors";
import {
  aitBasketSchema,
  aitPriceListsSchema,
  gpuhPanelSchema,
  gpuhQuotesSchema,
  samplePathSchema,
  skuPriceSchema,
} from "./methodology/schema";
import type {
  AitBasket,
  AitPriceLists,
  GpuhObservation,
  GpuhPanel,
  GpuhQuotes,
  SamplePath,
  SkuPrice,
} from "./methodology/schema";

/** The feeds this reporter knows how to compute. */
export const FEED_SYMBOLS = ["AIT", "GPUH"] as const;
export type FeedSymbol = (typeof FEED_SYMBOLS)[number];

export interface AitInputs {
  feed: "AIT";
  label: string;
  basket: AitBasket;
  prices: Record<string, SkuPrice>;
}

export interface GpuhInputs {
  feed: "GPUH";
  label: string;
  panel: GpuhPanel;
  observations: GpuhObservation[];
}

export type FeedInputs = AitInputs | GpuhInputs;

export interface IndexSource {
  /** Inputs in force at `timeSec` (unix seconds, chain time). */
  read(timeSec: bigint): Promise<{ AIT: AitInputs; GPUH: GpuhInputs }>;
}

/** JSON with sorted keys: the canonical form that is hashed. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The hash of the source data a report was computed from (signed into the report). */
export function sourceHashOf(inputs: FeedInputs): string {
  const payload =
    inputs.feed === "AIT"
      ? { basket: inputs.basket, prices: inputs.prices }
      : { panel: inputs.panel, observations: inputs.observations };
  return keccak256(toUtf8Bytes(canonicalJson(payload)));
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as unknown;
  } catch (error) {
    throw new DataSourceError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IndexDataError(`${what}: ${issue.path.join(".")} ${issue.message}`);
  }
  return parsed.data;
}

/** Resolves a price list and the lists it is based on into one SKU -> price map. */
export function resolvePriceList(lists: AitPriceLists, id: string, depth = 0): Record<string, SkuPrice> {
  const list = lists.lists.find((candidate) => candidate.id === id);
  if (list === undefined) throw new IndexDataError(`AIT price list ${id} not found`);
  if (depth > lists.lists.length) throw new IndexDataError(`AIT price list ${id} is based on itself`);
  const base = list.basedOn === undefined ? {} : resolvePriceList(lists, list.basedOn, depth + 1);
  return { ...base, ...list.prices };
}

/** The bundled data of `dataDir` (default: the repository's data/). */
export interface BundledData {
  basket: AitBasket;
  priceLists: AitPriceLists;
  panel: GpuhPanel;
  quotes: GpuhQuotes;
  path: SamplePath;
}

export const DEFAULT_DATA_DIR = path.join(__dirname, "..", "..", "data");

export async function loadBundledData(dataDir = DEFAULT_DATA_DIR): Promise<BundledData> {
  const at = (file: string) => readJson(path.join(dataDir, file));
  return {
    basket: parseWith(aitBasketSchema, await at("ait/basket-v1.json"), "ait/basket-v1.json"),
    priceLists: parseWith(aitPriceListsSchema, await at("ait/price-lists.json"), "ait/price-lists.json"),
    panel: parseWith(gpuhPanelSchema, await at("gpuh/panel-v1.json"), "gpuh/panel-v1.json"),
    quotes: parseWith(gpuhQuotesSchema, await at("gpuh/price-lists.json"), "gpuh/price-lists.json"),
    path: parseWith(samplePathSchema, await at("path/sample-path.json"), "path/sample-path.json"),
  };
}

/** Replays the bundled sample path: hour h after `startSec` uses the path's steps up to h. */
export class BundledReplaySource implements IndexSource {
  constructor(
    private readonly data: BundledData,
    readonly startSec: bigint,
  ) {}

  static async load(startSec: bigint, dataDir?: string): Promise<BundledReplaySource> {
    return new BundledReplaySource(await loadBundledData(dataDir), startSec);
  }

  /** Hours since the start, clamped to the path (the last step holds after the path ends). */
  hourAt(timeSec: bigint): number {
    if (timeSec < this.startSec) return 0;
    return Number((timeSec - this.startSec) / 3600n);
  }

  async read(timeSec: bigint): Promise<{ AIT: AitInputs; GPUH: GpuhInputs }> {
    const hour = this.hourAt(timeSec);
    const { path: samplePath, priceLists, quotes } = this.data;
    const aitStep = [...samplePath.ait].reverse().find((step) => step.atHour <= hour) ?? samplePath.ait[0];
    const chosen: Record<string, string> = {};
    for (const step of samplePath.gpuh) if (step.atHour <= hour) Object.assign(chosen, step.quotes);
    const observations: GpuhObservation[] = Object.entries(chosen).map(([provider, priceDate]) => {
      const quote = quotes.quotes.find((q) => q.provider === provider && q.priceDate === priceDate);
      if (quote === undefined) throw new IndexDataError(`GPUH quote ${provider} @ ${priceDate} not in data`);
      return { provider, usdPerGpuHour: quote.usdPerGpuHour, priceDate, source: quote.source };
    });
    return {
      AIT: {
        feed: "AIT",
        label: aitStep.list,
        basket: this.data.basket,
        prices: resolvePriceList(priceLists, aitStep.list),
      },
      GPUH: { feed: "GPUH", label: `path hour ${hour}`, panel: this.data.panel, observations },
    };
  }
}

/** The snapshot layout served by a file or URL. */
export const snapshotSchema = z.object({
  asOf: z.string(),
  ait: z.object({ basket: aitBasketSchema, prices: z.record(z.string(), skuPriceSchema) }),
  gpuh: z.object({
    panel: gpuhPanelSchema,
    observations: z
      .array(
        z.object({
          provider: z.string().min(1),
          usdPerGpuHour: z.string().regex(/^\d+(\.\d+)?$/),
          priceDate: z.string(),
          source: z.string(),
        }),
      )
      .min(1),
  }),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

/** Reads the current inputs from a JSON file path or an http(s) URL on every call. */
export class SnapshotSource implements IndexSource {
  constructor(
    readonly location: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private async fetchJson(): Promise<unknown> {
    if (!/^https?:\/\//.test(this.location)) return readJson(this.location);
    let response: Response;
    try {
      response = await fetch(this.location, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new DataSourceError(`cannot fetch ${this.location}: ${(error as Error).message}`);
    }
    if (!response.ok) throw new DataSourceError(`${this.location} answered HTTP ${response.status}`);
    try {
      return (await response.json()) as unknown;
    } catch {
      throw new DataSourceError(`${this.location} did not return JSON`);
    }
  }

  async read(): Promise<{ AIT: AitInputs; GPUH: GpuhInputs }> {
    const snapshot = parseWith(snapshotSchema, await this.fetchJson(), this.location);
    return {
      AIT: { feed: "AIT", label: snapshot.asOf, basket: snapshot.ait.basket, prices: snapshot.ait.prices },
      GPUH: {
        feed: "GPUH",
        label: snapshot.asOf,
        panel: snapshot.gpuh.panel,
        observations: snapshot.gpuh.observations,
      },
    };
  }
}
