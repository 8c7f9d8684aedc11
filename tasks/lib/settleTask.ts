/**
 * `settle`: after expiry, `--finalize` proposes the settlement price (the oracle TWAP over the averaging window);
 * once the price is final, settles one account's position of the series into its cash.
 */
import type { ActingArgs, CliContext } from "./context";
import { emit, seriesNamed, signerOf } from "./context";
import { clearinghouseEvents } from "./receiptEvents";
import { isoDate, parseAddress, usd } from "./units";

export interface SettleArgs extends ActingArgs {
  series?: string;
  /** The account to settle (default: the signer, unless only finalizing). */
  account?: string;
  /** Call `finalizeSettlement` first. */
  finalize?: boolean;
}

/** Finalizes (with `--finalize`) and/or settles an account of `--series`. */
export async function settleTask(ctx: CliContext, args: SettleArgs): Promise<void> {
  const listed = seriesNamed(ctx, args.series);
  const signer = await signerOf(ctx.hre, args.from);
  const ch = ctx.clearinghouse.connect(signer);
  const result: Record<string, unknown> = { series: listed.symbol, seriesId: listed.id };
  const lines: string[] = [];
  if (args.finalize === true) {
    const receipt = await (await ch.finalizeSettlement(listed.id)).wait();
    const proposed = (await clearinghouseEvents(ctx.clearinghouse, receipt)).find(
      (e) => e.name === "SettlementProposed",
    );
    if (proposed !== undefined) {
      const { priceX18, roundsInWindow, finalAt } = proposed.args as unknown as {
        priceX18: bigint;
        roundsInWindow: bigint;
        finalAt: bigint;
      };
      result.proposed = { priceX18, roundsInWindow, finalAt, txHash: receipt?.hash ?? null };
      lines.push(
        `proposed the settlement price of ${listed.symbol}: ${usd(priceX18, 3)} USD (TWAP of ${roundsInWindow} rounds), final at ${isoDate(finalAt)}`,
      );
    }
  }
  if (args.account !== undefined || args.finalize !== true) {
    const account = args.account === undefined ? signer.address : parseAddress(args.account, "--account");
    const receipt = await (await ch.settleAccount(listed.id, account)).wait();
    const settled = (await clearinghouseEvents(ctx.clearinghouse, receipt)).find((e) => e.name === "AccountSettled");
    const sizeQty = (settled?.args.sizeQty as bigint | undefined) ?? 0n;
    const pnlX18 = (settled?.args.pnlX18 as bigint | undefined) ?? 0n;
    const cashX18 = await ctx.clearinghouse.cashOf(account);
    result.settled = { account, sizeQty, pnlX18, cashX18, txHash: receipt?.hash ?? null };
    lines.push(
      `settled ${account} in ${listed.symbol}: position ${sizeQty} closed, PnL ${usd(pnlX18)} USD, cash now ${usd(cashX18)} USD`,
    );
  }
  emit(ctx, result, lines);
}
