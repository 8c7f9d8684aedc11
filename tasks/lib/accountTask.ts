/**
 * `account`: margin of an account (cash, equity, initial and maintenance margin, margin ratio, withdrawable),
 * its positions with entry price, mark and unrealized PnL, and its open orders in every listed series.
 */
import type { CliContext, CommonArgs } from "./context";
import { emit, signerOf } from "./context";
import { WAD, tickToPriceX18, unrealizedPnlX18 } from "../../sdk";
import { markOf } from "./seriesTask";
import { parseAddress, usd, usdRounded } from "./units";

export interface AccountArgs extends CommonArgs {
  /** The account (default: the first signer). */
  address?: string;
}

/** Equity / maintenance margin, 18 decimals; null without maintenance margin. */
export function marginRatioX18(equityX18: bigint, maintenanceMarginX18: bigint): bigint | null {
  return maintenanceMarginX18 === 0n ? null : (equityX18 * WAD) / maintenanceMarginX18;
}

/** Prints the account of `--address` (default: the first signer). */
export async function accountTask(ctx: CliContext, args: AccountArgs): Promise<void> {
  const ch = ctx.clearinghouse;
  const account =
    args.address === undefined ? (await signerOf(ctx.hre, undefined)).address : parseAddress(args.address, "--address");
  const health = await ch.accountHealth(account);
  const ratioX18 = marginRatioX18(health.equityX18, health.maintenanceMarginX18);

  const positions = [];
  for (const seriesId of await ch.seriesOf(account)) {
    const id = Number(seriesId);
    const [position, spec] = await Promise.all([ch.positionOf(account, id), ch.seriesSpec(id)]);
    if (position.sizeQty === 0n) continue;
    const symbol = ctx.deployment.series.find((s) => s.id === id)?.symbol ?? `#${id}`;
    // Entry price = open notional / (size x multiplier), rounded toward zero.
    const entryPriceX18 = position.openNotionalX18 / (position.sizeQty * spec.contractMultiplier);
    const { markX18 } = await markOf(ctx, id);
    const pnlX18 =
      markX18 === undefined
        ? null
        : unrealizedPnlX18(position.sizeQty, position.openNotionalX18, markX18, spec.contractMultiplier);
    positions.push({
      seriesId: id,
      symbol,
      sizeQty: position.sizeQty,
      entryPriceX18,
      markX18: markX18 ?? null,
      unrealizedPnlX18: pnlX18,
    });
  }

  const orders = [];
  for (const listed of ctx.deployment.series) {
    for (const o of await ctx.lens.openOrders(account, listed.id)) {
      const spec = await ch.seriesSpec(listed.id);
      orders.push({
        orderId: o.orderId,
        seriesId: listed.id,
        symbol: listed.symbol,
        side: o.isBuy ? "buy" : "sell",
        priceX18: tickToPriceX18(o.tick, spec.tickSizeX18),
        qty: o.qty,
        reduceOnly: o.reduceOnly,
        expiresAt: o.expiresAt,
      });
    }
  }

  const lines = [
    `account ${account}`,
    `cash               ${usd(health.cashX18)} USD`,
    `equity             ${usd(health.equityX18)} USD (unrealized PnL ${usd(health.unrealizedPnlX18)})`,
    `initial margin     ${usd(health.initialMarginX18)} USD (of which resting orders ${usd(health.orderMarginX18)})`,
    `maintenance margin ${usd(health.maintenanceMarginX18)} USD`,
    `margin ratio       ${ratioX18 === null ? "n/a (no maintenance margin)" : `${usdRounded(ratioX18)}x equity / maintenance`}`,
    `free collateral    ${usd(health.withdrawableX18)} USD (withdrawable)`,
  ];
  lines.push(positions.length === 0 ? "positions: none" : "positions:");
  for (const p of positions) {
    lines.push(
      `  ${p.symbol.padEnd(13)} ${p.sizeQty > 0n ? "long " : "short"} ${String(p.sizeQty < 0n ? -p.sizeQty : p.sizeQty).padStart(6)}` +
        `  entry ${usd(p.entryPriceX18, 3)}  mark ${p.markX18 === null ? "n/a" : usd(p.markX18, 3)}` +
        `  uPnL ${p.unrealizedPnlX18 === null ? "n/a" : usd(p.unrealizedPnlX18)}`,
    );
  }
  lines.push(orders.length === 0 ? "open orders: none" : "open orders:");
  for (const o of orders) {
    lines.push(
      `  #${o.orderId} ${o.symbol} ${o.side} ${o.qty} @ ${usd(o.priceX18, 3)}${o.reduceOnly ? " reduce-only" : ""}` +
        `${o.expiresAt === 0n ? "" : ` until ${o.expiresAt}`}`,
    );
  }
  emit(
    ctx,
    {
      account,
      cashX18: health.cashX18,
      equityX18: health.equityX18,
      unrealizedPnlX18: health.unrealizedPnlX18,
      initialMarginX18: health.initialMarginX18,
      orderMarginX18: health.orderMarginX18,
      maintenanceMarginX18: health.maintenanceMarginX18,
      marginRatioX18: ratioX18,
      withdrawableX18: health.withdrawableX18,
      positions,
      orders,
    },
    lines,
  );
}
