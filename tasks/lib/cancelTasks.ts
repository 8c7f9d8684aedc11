/** `cancel` (one order by id) and `cancel-all` (every resting order of an account in a series). */
import type { ActingArgs, CliContext } from "./context";
import { emit, seriesNamed, signerOf } from "./context";
import { CliError } from "./cliError";
import { clearinghouseEvents } from "./receiptEvents";
import { parseAddress, parseWhole } from "./units";

export interface CancelArgs extends ActingArgs {
  series?: string;
  orderId?: string;
}

export interface CancelAllArgs extends ActingArgs {
  series?: string;
  /** Whose orders (default: the signer). */
  account?: string;
}

/** Cancels `--order-id`, which must rest in `--series`. */
export async function cancelTask(ctx: CliContext, args: CancelArgs): Promise<void> {
  const listed = seriesNamed(ctx, args.series);
  if (args.orderId === undefined) throw new CliError("--order-id is required");
  const orderId = parseWhole(args.orderId, "--order-id");
  const signer = await signerOf(ctx.hre, args.from);
  const order = await ctx.clearinghouse.orderOf(orderId);
  if (Number(order.seriesId) !== listed.id) {
    throw new CliError(`order ${orderId} rests in series ${order.seriesId}, not in ${listed.symbol}`);
  }
  const receipt = await (await ctx.clearinghouse.connect(signer).cancelOrder(orderId)).wait();
  const cancelled = (await clearinghouseEvents(ctx.clearinghouse, receipt)).filter((e) => e.name === "OrderCancelled");
  const cancelledQty = cancelled.reduce((sum, e) => sum + (e.args.cancelledQty as bigint), 0n);
  emit(ctx, { series: listed.symbol, orderId, cancelledQty, txHash: receipt?.hash ?? null }, [
    `cancelled order ${orderId} (${cancelledQty} contracts) in ${listed.symbol} (tx ${receipt?.hash})`,
  ]);
}

/** Cancels every resting order of `--account` (default: the signer) in `--series`. */
export async function cancelAllTask(ctx: CliContext, args: CancelAllArgs): Promise<void> {
  const listed = seriesNamed(ctx, args.series);
  const signer = await signerOf(ctx.hre, args.from);
  const account = args.account === undefined ? signer.address : parseAddress(args.account, "--account");
  const receipt = await (await ctx.clearinghouse.connect(signer).cancelAllOrders(account, listed.id)).wait();
  const cancelled = (await clearinghouseEvents(ctx.clearinghouse, receipt)).filter((e) => e.name === "OrderCancelled");
  const orderIds = cancelled.map((e) => e.args.orderId as bigint);
  const cancelledQty = cancelled.reduce((sum, e) => sum + (e.args.cancelledQty as bigint), 0n);
  emit(
    ctx,
    {
      series: listed.symbol,
      account,
      cancelledCount: orderIds.length,
      orderIds,
      cancelledQty,
      txHash: receipt?.hash ?? null,
    },
    [
      `cancelled ${orderIds.length} orders (${cancelledQty} contracts) of ${account} in ${listed.symbol}` +
        `${orderIds.length > 0 ? `: ${orderIds.join(", ")}` : ""} (tx ${receipt?.hash})`,
    ],
  );
}
