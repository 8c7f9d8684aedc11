/**
 * The settlement keeper: after a series expires it proposes the settlement price (`finalizeSettlement`,
 * simulated first: it waits while the oracle data is incomplete), and once the price is final it settles
 * every account holding the series in batches (`settleAccounts`, which skips accounts already settled).
 */
import type { Logger } from "pino";
import type { Clearinghouse } from "../../typechain-types";
import type { EventIndexer } from "../runtime/eventIndexer";
import type { TxOutcome } from "../runtime/txSender";
import type { ClearinghouseView } from "../shared/clearinghouseView";
import type { KeeperSender } from "../liquidator/liquidator";
import { decodeRevertData } from "../shared/revert";

/** `IClearinghouse.SettlementStatus`. */
const Status = { None: 0n, Proposed: 1n, Challenged: 2n, Final: 3n } as const;

export interface SettlerSettings {
  /** Accounts per `settleAccounts` call. */
  batchSize: number;
}

export interface SettlerDependencies {
  clearinghouse: Clearinghouse;
  indexer: EventIndexer;
  view: ClearinghouseView;
  sender: KeeperSender;
  logger: Logger;
  settings: SettlerSettings;
}

/** One action of a tick. */
export interface SettlerAction {
  seriesId: bigint;
  action: "finalize" | "settle";
  accounts: number;
  outcome: TxOutcome["status"];
}

export class Settler {
  constructor(private readonly deps: SettlerDependencies) {}

  /** One pass over every expired series. */
  async tick(): Promise<SettlerAction[]> {
    const { clearinghouse, indexer, view, logger } = this.deps;
    await indexer.poll();
    const head = await clearinghouse.runner!.provider!.getBlock("latest");
    const nowSec = BigInt(head!.timestamp);
    const actions: SettlerAction[] = [];
    for (const series of view.series.values()) {
      if (nowSec < series.expiry) continue;
      const settlement = await clearinghouse.settlementOf(series.seriesId);
      const status = BigInt(settlement.status);
      if (status === Status.None) {
        actions.push(await this.finalize(series.seriesId, head!.number));
      } else if (status === Status.Final) {
        actions.push(...(await this.settle(series.seriesId)));
      } else if (status === Status.Challenged) {
        logger.warn({ series: series.seriesId.toString() }, "settlement challenged: waiting for governance");
      }
    }
    return actions;
  }

  private async finalize(seriesId: bigint, headBlock: number): Promise<SettlerAction> {
    const { clearinghouse, sender, logger } = this.deps;
    const outcome = await sender.send({
      key: `finalize:${seriesId}:${headBlock}`,
      to: await clearinghouse.getAddress(),
      data: clearinghouse.interface.encodeFunctionData("finalizeSettlement", [seriesId]),
    });
    if (outcome.status === "simulation-failed") {
      const reason = decodeRevertData(clearinghouse.interface, outcome.error.revertData) ?? outcome.error.message;
      logger.info({ series: seriesId.toString(), reason }, "not finalizable yet");
    }
    return { seriesId, action: "finalize", accounts: 0, outcome: outcome.status };
  }

  private async settle(seriesId: bigint): Promise<SettlerAction[]> {
    const { clearinghouse, sender, view, settings } = this.deps;
    const holders = view
      .accountsWithPositions()
      .filter((account) => account.positions.has(seriesId))
      .map((account) => account.address);
    const actions: SettlerAction[] = [];
    for (let i = 0; i < holders.length; i += settings.batchSize) {
      const batch = holders.slice(i, i + settings.batchSize);
      const outcome = await sender.send({
        key: `settle:${seriesId}:${batch.join(",").toLowerCase()}:${view.blockNumber}`,
        to: await clearinghouse.getAddress(),
        data: clearinghouse.interface.encodeFunctionData("settleAccounts", [seriesId, batch]),
      });
      actions.push({ seriesId, action: "settle", accounts: batch.length, outcome: outcome.status });
    }
    return actions;
  }
}
