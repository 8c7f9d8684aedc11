import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { computeAitIndex, timeOfDayAverageX18, validateAitBasket } from "../../keepers/oracle-reporter/methodology/ait";
import { computeGpuhIndex } from "../../keepers/oracle-reporter/methodology/gpuh";
import { IndexDataError } from "../../keepers/shared/errors";
import { loadBundledData, resolvePriceList } from "../../keepers/oracle-reporter/source";
import type { BundledData } from "../../keepers/oracle-reporter/source";
import type { GpuhObservation } from "../../keepers/oracle-reporter/methodology/schema";
import { formatX18, parseX18 } from "../../sdk";

const METHODOLOGY_DOC = readFileSync(path.join(__dirname, "..", "..", "docs", "index-methodology.md"), "utf8");

describe("Index methodology (IDX)", function () {
  let data: BundledData;
  before(async function () {
    data = await loadBundledData();
  });

  describe("AIT", function () {
    it("reproduces the worked example of docs/index-methodology.md to the last digit (IDX-01)", function () {
      const result = computeAitIndex(data.basket, resolvePriceList(data.priceLists, "2026-05-25"));
      expect(formatX18(result.indexX18)).to.equal("4.046500000000000000");
      const lines = Object.fromEntries(result.lines.map((line) => [line.id, formatX18(line.contributionX18)]));
      expect(lines["openai-frontier"]).to.equal("1.125000000000000000");
      expect(lines["deepseek-frontier"]).to.equal("0.032625000000000000");
      expect(result.cappedProvider).to.equal(undefined);
      // The document states the same numbers.
      expect(METHODOLOGY_DOC).to.include("4.046500000000000000");
      expect(METHODOLOGY_DOC).to.include("0.032625000000000000");
    });

    it("moves by the documented steps of the sample path", function () {
      const after = (list: string) =>
        formatX18(computeAitIndex(data.basket, resolvePriceList(data.priceLists, list)).indexX18);
      expect(after("2026-06-01")).to.equal("4.144375000000000000");
      expect(after("scenario-flagship-cut")).to.equal("3.474375000000000000");
      expect(METHODOLOGY_DOC).to.include("4.144375000000000000");
      expect(METHODOLOGY_DOC).to.include("3.474375000000000000");
    });

    it("averages time-of-day prices over the week (IDX-02)", function () {
      const schedule = [
        { hoursPerWeek: 35, multiplierBps: 10_000 },
        { hoursPerWeek: 133, multiplierBps: 5_000 },
      ];
      expect(formatX18(timeOfDayAverageX18(parseX18("0.30"), schedule))).to.equal("0.181250000000000000");
      expect(formatX18(timeOfDayAverageX18(parseX18("1.20"), schedule))).to.equal("0.725000000000000000");
      const result = computeAitIndex(data.basket, resolvePriceList(data.priceLists, "2026-10-27-time-of-day"));
      const flash = result.lines.find((line) => line.id === "deepseek-workhorse")!;
      expect(formatX18(flash.blendX18)).to.equal("0.317187500000000000");
      expect(METHODOLOGY_DOC).to.include("0.317187500000000000");
      expect(() => timeOfDayAverageX18(1n, [{ hoursPerWeek: 100, multiplierBps: 10_000 }])).to.throw(IndexDataError);
    });

    it("caps a provider's value share at 50% of the index (IDX-03)", function () {
      const prices = resolvePriceList(data.priceLists, "2026-05-25");
      const expensive = {
        ...prices,
        "anthropic-frontier": {
          ...prices["anthropic-frontier"],
          input: "50.00",
          output: "250.00",
          secondary: undefined,
        },
      };
      const result = computeAitIndex(data.basket, expensive);
      expect(result.cappedProvider).to.equal("anthropic");
      const others = result.lines
        .filter((l) => l.provider !== "anthropic")
        .reduce((s, l) => s + l.blendX18 * l.weightBps, 0n);
      // Anthropic is held at exactly half of the index: index = 2 x the others.
      expect(result.indexX18).to.equal((others * 2n) / 10_000n);
    });

    it("refuses data it cannot validate (IDX-04)", function () {
      const prices = resolvePriceList(data.priceLists, "2026-05-25");
      const cases: [string, Record<string, unknown>][] = [
        ["missing SKU", Object.fromEntries(Object.entries(prices).filter(([id]) => id !== "openai-workhorse"))],
        [
          "per-1K unit error",
          { ...prices, "openai-frontier": { ...prices["openai-frontier"], input: "5000", output: "30000" } },
        ],
        ["zero price", { ...prices, "google-workhorse": { ...prices["google-workhorse"], input: "0" } }],
        [
          "sources disagree",
          {
            ...prices,
            "openai-frontier": {
              ...prices["openai-frontier"],
              secondary: { input: "4.00", output: "30.00", source: "x" },
            },
          },
        ],
      ];
      for (const [label, broken] of cases) {
        expect(() => computeAitIndex(data.basket, broken as typeof prices), label).to.throw(IndexDataError);
      }
    });

    it("rejects baskets that break the weight rules", function () {
      const heavy = structuredClone(data.basket);
      heavy.skus[0].weightBps += 100;
      heavy.skus[7].weightBps -= 100; // OpenAI now 26% of weight
      expect(() => validateAitBasket(heavy)).to.throw(IndexDataError, /above cap/);
      const unbalanced = structuredClone(data.basket);
      unbalanced.skus[0].weightBps -= 1;
      expect(() => validateAitBasket(unbalanced)).to.throw(IndexDataError, /sum to 9999/);
      const noChina = structuredClone(data.basket);
      for (const sku of noChina.skus) sku.region = "us";
      expect(() => validateAitBasket(noChina)).to.throw(IndexDataError, /below floor/);
    });
  });

  describe("GPUH", function () {
    function observations(prices: Record<string, string>): GpuhObservation[] {
      return Object.entries(prices).map(([provider, usdPerGpuHour]) => ({
        provider,
        usdPerGpuHour,
        priceDate: "d",
        source: "s",
      }));
    }

    it("takes the weighted mean after trimming 10% of weight from each end (IDX-05)", function () {
      const panel = structuredClone(data.panel);
      panel.providers = [
        { id: "a", group: "neocloud", weightBps: 1000 },
        { id: "b", group: "neocloud", weightBps: 1000 },
        { id: "c", group: "neocloud", weightBps: 1000 },
        { id: "d", group: "neocloud", weightBps: 1000 },
        { id: "e", group: "neocloud", weightBps: 1000 },
        { id: "f", group: "neocloud", weightBps: 1000 },
        { id: "g", group: "neocloud", weightBps: 1000 },
        { id: "h", group: "neocloud", weightBps: 1000 },
        { id: "i", group: "neocloud", weightBps: 1000 },
        { id: "j", group: "neocloud", weightBps: 1000 },
      ];
      // Ten equal weights: the lowest and highest are trimmed whole; the mean of the other eight remains.
      const result = computeGpuhIndex(
        panel,
        observations({ a: "1", b: "2", c: "2", d: "2", e: "2", f: "3", g: "3", h: "3", i: "3", j: "40" }),
      );
      expect(formatX18(result.indexX18)).to.equal("2.500000000000000000");
    });

    it("reproduces the sample path's documented values (IDX-06)", async function () {
      const { BundledReplaySource } = await import("../../keepers/oracle-reporter/source");
      const replay = new BundledReplaySource(data, 0n);
      const at = async (hour: number) => {
        const inputs = await replay.read(BigInt(hour) * 3600n);
        return formatX18(computeGpuhIndex(inputs.GPUH.panel, inputs.GPUH.observations).indexX18);
      };
      expect(await at(0)).to.equal("4.328750000000000000");
      expect(await at(336)).to.equal("4.441250000000000000");
      expect(await at(672)).to.equal("4.503750000000000000");
      expect(METHODOLOGY_DOC).to.include("4.328750000000000000");
    });

    it("drops out-of-bounds prices and refuses too few providers", function () {
      const result = computeGpuhIndex(
        data.panel,
        observations({
          lambda: "3.99",
          crusoe: "3.90",
          nebius: "2.95",
          runpod: "3.49",
          hyperstack: "3.20",
          vast: "2400",
        }),
      );
      expect(result.warnings.join()).to.match(/vast: price 2400 outside bounds/);
      expect(() => computeGpuhIndex(data.panel, observations({ lambda: "3.99", crusoe: "3.90" }))).to.throw(
        IndexDataError,
        /needs 5/,
      );
      expect(() =>
        computeGpuhIndex(data.panel, [...observations({ lambda: "3.99" }), ...observations({ lambda: "3.99" })]),
      ).to.throw(IndexDataError, /twice/);
    });
  });
});
