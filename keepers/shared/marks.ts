/** Reads the marks the keepers value positions at: one `markPrice` call per series held by anyone. */
import type { Clearinghouse } from "../../typechain-types";
import type { ClearinghouseView } from "./clearinghouseView";

/**
 * Series id -> mark (the settlement price once final) of every series in which the view holds a position; the
 * marks in `known` (read moments ago) are kept, the others read.
 */
export async function readMarks(
  clearinghouse: Clearinghouse,
  view: ClearinghouseView,
  known: ReadonlyMap<bigint, bigint> = new Map(),
): Promise<Map<bigint, bigint>> {
  const held = new Set<bigint>();
  for (const account of view.accountsWithPositions()) {
    for (const seriesId of account.positions.keys()) held.add(seriesId);
  }
  const marks = new Map<bigint, bigint>();
  for (const [seriesId, markX18] of known) if (held.has(seriesId)) marks.set(seriesId, markX18);
  await Promise.all(
    [...held]
      .filter((seriesId) => !marks.has(seriesId))
      .map(async (seriesId) => {
        marks.set(seriesId, await clearinghouse.markPrice(seriesId));
      }),
  );
  return marks;
}
