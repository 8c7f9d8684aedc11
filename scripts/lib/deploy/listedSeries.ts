/** The deployment file's `series` section, read from the clearinghouse. */
import { decodeBytes32String } from "ethers";
import type { Clearinghouse } from "../../../typechain-types";
import type { Deployment } from "../../../sdk/deployment";

/**
 * Every listed series in id order, its feed named by the symbol of `feeds` (feed symbol → feed id) that matches.
 */
export async function readListedSeries(
  ch: Clearinghouse,
  feeds: Record<string, string>,
): Promise<Deployment["series"]> {
  const series: Deployment["series"] = [];
  const count = Number(await ch.seriesCount());
  for (let seriesId = 1; seriesId <= count; seriesId++) {
    const spec = await ch.seriesSpec(seriesId);
    const feed = Object.entries(feeds).find(([, feedId]) => feedId === spec.feedId)?.[0] ?? spec.feedId;
    series.push({ id: seriesId, symbol: decodeBytes32String(spec.symbol), feed, expiry: Number(spec.expiry) });
  }
  return series;
}
