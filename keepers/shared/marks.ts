/** Reads the marks the keepers value positions at: one `markPrice` call per series held by anyone. */
import type { Clearinghouse } from "../../typechain-types";
import type { ClearinghouseView } from "./clearinghouseView";

/** Series id -> mark (the settlement price once final) of every series in which the view holds a position. */
export async function readMarks(clearinghouse: Clearinghouse, view: ClearinghouseView): Promise<Map<bigint, bigint>> {
  const held = new Set<bigint>();
  for (const account of view.accountsWithPositions()) {
    for (const seriesId of account.positions.keys()) held.add(seriesId);
  }
  const marks = new Map<bigint, bigint>();
  await Promise.all(
    [...held].map(async (seriesId) => {
      marks.set(seriesId, await clearinghouse.markPrice(seriesId));
    }),
  );
  return marks;
}
