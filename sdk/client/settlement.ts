/** Settlement: propose a series' price from the oracle TWAP, and close accounts at the final price. */
import type { Connection } from "./connection";
import { clearinghouseEventsOf, named } from "./receipt";
import { sendAndWait } from "./send";
import type { SeriesRef, Sent, SettleOutcome } from "./types";

/** Closes the positions of `accounts` (default: the signer) in an expired series whose price is final. */
export async function settleAccounts(conn: Connection, series: SeriesRef, accounts?: string[]): Promise<SettleOutcome> {
  conn.signer("settling");
  const { seriesId } = await conn.spec(series);
  const targets = accounts ?? [await conn.accountOr(undefined, "settling")];
  const sent = await sendAndWait(() =>
    targets.length === 1
      ? conn.clearinghouse.settleAccount(seriesId, targets[0])
      : conn.clearinghouse.settleAccounts(seriesId, targets),
  );
  const settled = named(clearinghouseEventsOf(conn, sent.receipt), "AccountSettled").map(({ event }) => ({
    account: event.args.account as string,
    seriesId: event.args.seriesId as bigint,
    sizeQty: event.args.sizeQty as bigint,
    pnlX18: event.args.pnlX18 as bigint,
  }));
  return { ...sent, settled };
}

/**
 * Proposes the settlement price of an expired series: the oracle TWAP over its averaging window (anyone may call;
 * `finalizeSettlement` on chain). The price becomes final when the dispute window passes unchallenged.
 */
export async function finalizeSettlement(conn: Connection, series: SeriesRef): Promise<Sent> {
  conn.signer("finalizing a settlement");
  const { seriesId } = await conn.spec(series);
  return sendAndWait(() => conn.clearinghouse.finalizeSettlement(seriesId));
}
