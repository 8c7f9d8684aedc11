/**
 * `liquidate` (operator): the acting signer takes over (part of) an account's position at the mark. Without
 * `--series` the position with the largest notional at its mark is taken; without `--max-qty`, up to all of it.
 */
import type { ActingArgs, CliContext } from "./context";
import { emit, seriesNamed, signerOf } from "./context";
import { CliError } from "./cliError";
import { clearinghouseEvents } from "./receiptEvents";
import { parseAddress, parseWhole, usd } from "./units";

export interface LiquidateArgs extends ActingArgs {
  account?: string;
  series?: string;
  maxQty?: string;
}

/** The series of `account`'s largest position by notional at its mark (at its cost basis when unreadable). */
async function largestPosition(ctx: CliContext, account: string): Promise<{ seriesId: number; absQty: bigint }> {
  let best: { seriesId: number; absQty: bigint; notionalX18: bigint } | undefined;
  for (const id of await ctx.clearinghouse.seriesOf(account)) {
    const position = await ctx.clearinghouse.positionOf(account, id);
    const absQty = position.sizeQty < 0n ? -position.sizeQty : position.sizeQty;
    if (absQty === 0n) continue;
    const notional = position.openNotionalX18 < 0n ? -position.openNotionalX18 : position.openNotionalX18;
    if (best === undefined || notional > best.notionalX18)
      best = { seriesId: Number(id), absQty, notionalX18: notional };
  }
  if (best === undefined) throw new CliError(`${account} holds no position to liquidate`);
  return best;
}

/** Liquidates `--account` as the signer and prints what was taken over. */
export async function liquidateTask(ctx: CliContext, args: LiquidateArgs): Promise<void> {
  if (args.account === undefined) throw new CliError("--account is required");
  const account = parseAddress(args.account, "--account");
  const signer = await signerOf(ctx.hre, args.from);
  let seriesId: number;
  let absQty: bigint;
  if (args.series !== undefined) {
    seriesId = seriesNamed(ctx, args.series).id;
    const size = (await ctx.clearinghouse.positionOf(account, seriesId)).sizeQty;
    absQty = size < 0n ? -size : size;
  } else {
    ({ seriesId, absQty } = await largestPosition(ctx, account));
  }
  const maxQty = args.maxQty === undefined ? absQty : parseWhole(args.maxQty, "--max-qty");
  const receipt = await (await ctx.clearinghouse.connect(signer).liquidate(account, seriesId, maxQty)).wait();
  const event = (await clearinghouseEvents(ctx.clearinghouse, receipt)).find((e) => e.name === "Liquidated");
  const symbol = ctx.deployment.series.find((s) => s.id === seriesId)?.symbol ?? `#${seriesId}`;
  const sizeChangeQty = (event?.args.sizeChangeQty as bigint | undefined) ?? 0n;
  const markX18 = (event?.args.markX18 as bigint | undefined) ?? 0n;
  const penaltyX18 = (event?.args.penaltyX18 as bigint | undefined) ?? 0n;
  const rewardX18 = (event?.args.liquidatorRewardX18 as bigint | undefined) ?? 0n;
  const takenQty = sizeChangeQty < 0n ? -sizeChangeQty : sizeChangeQty;
  emit(
    ctx,
    {
      account,
      liquidator: signer.address,
      series: symbol,
      seriesId,
      takenQty,
      sizeChangeQty,
      markX18,
      penaltyX18,
      liquidatorRewardX18: rewardX18,
      txHash: receipt?.hash ?? null,
    },
    [
      `liquidated ${account} in ${symbol}: ${signer.address} took over ${takenQty} contracts at mark ${usd(markX18, 3)}, ` +
        `penalty ${usd(penaltyX18)} USD (liquidator reward ${usd(rewardX18)} USD) (tx ${receipt?.hash})`,
    ],
  );
}
