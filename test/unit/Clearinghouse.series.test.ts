import { expect } from "chai";
import { decodeBytes32String, encodeBytes32String } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deploy6 } from "../fixtures/clearinghouse";
import { PRODUCTS, contractMonthTimes, seriesToList } from "../../config/series";
import { listingArgs } from "../../scripts/lib/deployClearinghouse";
import { feedIdOf, parseX18 } from "../../sdk";

describe("Clearinghouse series (config/series.ts)", () => {
  describe("seriesToList", () => {
    it("lists three consecutive months per product, starting with the first month not yet averaging", () => {
      const midNovember = Date.UTC(2026, 10, 21, 12) / 1000;
      const listings = seriesToList(midNovember, 3, feedIdOf);
      expect(listings.map((l) => l.spec.symbol)).to.deep.equal([
        "AIT-2026-12",
        "AIT-2027-01",
        "AIT-2027-02",
        "GPUH-2026-12",
        "GPUH-2027-01",
        "GPUH-2027-02",
      ]);
      const december = contractMonthTimes(2026, 12);
      expect(december.windowStart).to.equal(Date.UTC(2026, 11, 1) / 1000);
      expect(december.expiry).to.equal(Date.UTC(2026, 11, 31, 8) / 1000);
      expect(listings[0].spec.expiry).to.equal(BigInt(december.expiry));
      expect(listings[0].spec.averagingWindowSec).to.equal(december.expiry - december.windowStart);
      // On the first second of a month its window has started: listing begins with the next month.
      expect(seriesToList(Date.UTC(2027, 1, 1) / 1000, 1, feedIdOf)[0].spec.symbol).to.equal("AIT-2027-03");
      // February of a leap year ends on the 29th.
      expect(contractMonthTimes(2028, 2).expiry).to.equal(Date.UTC(2028, 1, 29, 8) / 1000);
    });
  });

  describe("#listSeries", () => {
    it("lists every configured series within the hard bounds, with its spec and risk stored", async () => {
      const { clearinghouse: ch, admin } = await loadFixture(deploy6);
      const listings = seriesToList(await time.latest(), 3, feedIdOf);
      for (const listing of listings) {
        const [spec, risk] = listingArgs(listing);
        await expect(ch.connect(admin).listSeries(spec, risk)).to.emit(ch, "SeriesListed");
      }
      expect(await ch.seriesCount()).to.equal(BigInt(listings.length + 1));
      for (const [i, listing] of listings.entries()) {
        const id = BigInt(i + 2);
        expect(await ch.seriesIdOf(encodeBytes32String(listing.spec.symbol))).to.equal(id);
        const spec = await ch.seriesSpec(id);
        expect(decodeBytes32String(spec.symbol)).to.equal(listing.spec.symbol);
        expect(spec.expiry).to.equal(listing.spec.expiry);
        expect(spec.contractMultiplier).to.equal(1_000n);
        const risk = await ch.riskParams(id);
        expect(risk.imBps).to.equal(BigInt(PRODUCTS[listing.product.symbol].risk.imBps));
        // Before its window and before any trade, a series' mark is its index (fixture: AIT 4, GPUH 2.4).
        expect(await ch.markPrice(id)).to.equal(parseX18(listing.product.symbol === "AIT" ? "4" : "2.4"));
      }
    });
  });
});
