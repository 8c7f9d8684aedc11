/**
 * `order`: places an order for the acting signer. The USD price becomes a tick (a price off the tick is refused
 * before sending); the result (order id, fills, resting and cancelled quantity) is read from the receipt's events.
 */
import type { ActingArgs, CliContext } from "./context";
import { emit, seriesNamed, signerOf } from "./context";
import { CliError } from "./cliError";
import { OrderKind, tickToPriceX18 } from "../../sdk";
import { clearinghouseEvents } from "./receiptEvents";
import { parseExpiry, parseWhole, priceToTick, usd } from "./units";

export interface OrderArgs extends ActingArgs {
  series?: string;
  side?: string;
  type?: string;
  qty?: string;
  price?: string;
  reduceOnly?: boolean;
  expires?: string;
  maxFills?: string;
}

/** Order types of the command line → `IOrderBook.OrderKind`. */
export const ORDER_TYPES: Record<string, number> = {
  limit: OrderKind.Limit,
  "post-only": OrderKind.PostOnly,
  ioc: OrderKind.ImmediateOrCancel,
  fok: OrderKind.FillOrKill,
  market: OrderKind.Market,
};

/** Resting orders a taker may fill or remove unless `--max-fills` says otherwise. */
const DEFAULT_MAX_FILLS = 20n;

/** The `placeOrder` parameters of the arguments, validated. */
export function orderParamsOf(args: OrderArgs, seriesId: number, account: string, tickSizeX18: bigint) {
  const side = (args.side ?? "").toLowerCase();
  if (side !== "buy" && side !== "sell") throw new CliError(`bad --side "${args.side ?? ""}": expected buy or sell`);
  const type = (args.type ?? "limit").toLowerCase();
  const kind = ORDER_TYPES[type];
  if (kind === undefined) {
    throw new CliError(`bad --type "${args.type}": expected ${Object.keys(ORDER_TYPES).join(", ")}`);
  }
  if (args.qty === undefined) throw new CliError("--qty is required (contracts)");
  const qty = parseWhole(args.qty, "--qty");
  let tick = 0n;
  if (args.price !== undefined) tick = priceToTick(args.price, tickSizeX18);
  else if (kind !== OrderKind.Market) throw new CliError(`--price is required for ${type} orders`);
  const resting = kind === OrderKind.Limit || kind === OrderKind.PostOnly;
  if (args.expires !== undefined && !resting) throw new CliError("--expires is only for limit and post-only orders");
  const expiresAt = args.expires === undefined ? 0n : parseExpiry(args.expires);
  const maxFills = args.maxFills === undefined ? DEFAULT_MAX_FILLS : parseWhole(args.maxFills, "--max-fills");
  if (maxFills > 255n) throw new CliError(`bad --max-fills ${maxFills}: at most 255`);
  return {
    seriesId,
    account,
    isBuy: side === "buy",
    kind,
    reduceOnly: args.reduceOnly === true,
    tick,
    qty,
    expiresAt,
    maxFills,
  };
}

/** Places the order and prints its id and fills. */
export async function orderTask(ctx: CliContext, args: OrderArgs): Promise<void> {
  const listed = seriesNamed(ctx, args.series);
  const signer = await signerOf(ctx.hre, args.from);
  const spec = await ctx.clearinghouse.seriesSpec(listed.id);
  const params = orderParamsOf(args, listed.id, signer.address, spec.tickSizeX18);
  const receipt = await (await ctx.clearinghouse.connect(signer).placeOrder(params)).wait();
  const events = await clearinghouseEvents(ctx.clearinghouse, receipt);

  const placed = events.find((e) => e.name === "OrderPlaced");
  const orderId: bigint = placed === undefined ? 0n : placed.args.orderId;
  const orderedQty: bigint = placed === undefined ? params.qty : placed.args.qty;
  const fills = events
    .filter((e) => e.name === "OrderFilled")
    .map((e) => ({
      makerOrderId: e.args.makerOrderId as bigint,
      maker: e.args.maker as string,
      priceX18: e.args.priceX18 as bigint,
      qty: e.args.qty as bigint,
      takerFeeX18: e.args.takerFeeX18 as bigint,
    }));
  const filledQty = fills.reduce((sum, f) => sum + f.qty, 0n);
  const feeX18 = fills.reduce((sum, f) => sum + f.takerFeeX18, 0n);
  const ownCancelledQty = events
    .filter((e) => e.name === "OrderCancelled" && orderId !== 0n && e.args.orderId === orderId)
    .reduce((sum, e) => sum + (e.args.cancelledQty as bigint), 0n);
  const restingQty = orderId === 0n ? 0n : orderedQty - filledQty - ownCancelledQty;
  const cancelledQty = params.qty - filledQty - restingQty;

  const side = params.isBuy ? "buy" : "sell";
  const lines = [
    `${args.type ?? "limit"} ${side} ${params.qty} ${listed.symbol}${params.tick === 0n ? " at market" : ` @ ${usd(tickToPriceX18(params.tick, spec.tickSizeX18), 3)}`}: ` +
      `${orderId === 0n ? "no resting order" : `order id ${orderId}`}, filled ${filledQty}, resting ${restingQty}, cancelled ${cancelledQty}`,
  ];
  for (const f of fills) {
    lines.push(
      `  fill ${f.qty} @ ${usd(f.priceX18, 3)} against order ${f.makerOrderId} (fee ${usd(f.takerFeeX18)} USD)`,
    );
  }
  if (fills.length > 0) lines.push(`  taker fees ${usd(feeX18)} USD`);
  lines.push(`tx ${receipt?.hash}`);
  emit(
    ctx,
    {
      series: listed.symbol,
      seriesId: listed.id,
      account: signer.address,
      side,
      type: args.type ?? "limit",
      tick: params.tick,
      priceX18: tickToPriceX18(params.tick, spec.tickSizeX18),
      qty: params.qty,
      orderId,
      filledQty,
      restingQty,
      cancelledQty,
      takerFeeX18: feeX18,
      fills,
      txHash: receipt?.hash ?? null,
    },
    lines,
  );
}
