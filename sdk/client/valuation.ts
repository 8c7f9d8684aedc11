/**
 * An account's summary from the contract's `accountHealth` and its positions: PnL at the mark, entry price, the
 * liquidation price of each position (sdk/core `liquidationPriceX18`), free collateral and the margin ratio
 * (sdk/core `freeCollateralX18`, `marginRatioBps`).
 */
import { abs } from "../core/fixedPoint";
import { freeCollateralX18, marginRatioBps } from "../core/accountMetrics";
import { isLiquidatable } from "../core/liquidation";
import { liquidationPriceX18 } from "../core/liquidationPrice";
import { unrealizedPnlX18 } from "../core/position";
import type { AccountSummary, PositionSummary, SeriesSpecView } from "./types";

/** `IClearinghouse.AccountHealth` as the contract returns it. */
export interface HealthView {
  cashX18: bigint;
  unrealizedPnlX18: bigint;
  equityX18: bigint;
  initialMarginX18: bigint;
  maintenanceMarginX18: bigint;
  withdrawableX18: bigint;
  orderMarginX18: bigint;
}

/** A non-zero position with its series and mark. */
export interface HeldPositionView {
  spec: SeriesSpecView;
  mmBps: bigint;
  sizeQty: bigint;
  openNotionalX18: bigint;
  markX18: bigint;
  /** The series' settlement price is final: the mark no longer moves, so there is no liquidation price. */
  settled: boolean;
}

/** The summary of `account` from its health and its non-zero positions. */
export function accountValuation(
  account: string,
  health: HealthView,
  held: readonly HeldPositionView[],
): AccountSummary {
  const positions = held.map((p, i): PositionSummary => {
    const others = held
      .filter((_, j) => j !== i)
      .map((o) => ({
        sizeQty: o.sizeQty,
        openNotionalX18: o.openNotionalX18,
        markX18: o.markX18,
        multiplier: o.spec.multiplier,
        mmBps: o.mmBps,
      }));
    return {
      seriesId: p.spec.seriesId,
      symbol: p.spec.symbol,
      sizeQty: p.sizeQty,
      openNotionalX18: p.openNotionalX18,
      entryPriceX18: abs(p.openNotionalX18) / (abs(p.sizeQty) * p.spec.multiplier),
      markX18: p.markX18,
      unrealizedPnlX18: unrealizedPnlX18(p.sizeQty, p.openNotionalX18, p.markX18, p.spec.multiplier),
      liquidationPriceX18: p.settled
        ? undefined
        : liquidationPriceX18(
            health.cashX18,
            { sizeQty: p.sizeQty, openNotionalX18: p.openNotionalX18, multiplier: p.spec.multiplier, mmBps: p.mmBps },
            others,
          ),
    };
  });
  return {
    account,
    ...health,
    freeCollateralX18: freeCollateralX18(health.cashX18, health.equityX18, health.initialMarginX18),
    availableMarginX18: health.equityX18 - health.initialMarginX18,
    marginRatioBps: marginRatioBps(health.equityX18, health.maintenanceMarginX18),
    liquidatable: isLiquidatable(health.equityX18, health.maintenanceMarginX18),
    positions,
  };
}
