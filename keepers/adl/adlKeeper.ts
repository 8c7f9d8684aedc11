/**
 * The ADL keeper: each tick it indexes the clearinghouse's events, finds accounts whose deficit the
 * insurance fund cannot pay, ranks profitable opposite positions off chain (see `planner.ts`), and sends
 * `deleverage` (simulated first: the contract re-checks every leg, so a stale plan costs no gas).
 */
import type { Logger } from "pino";
import type { Clearinghouse } from "../../typechain-types";
import type { EventIndexer } from "../runtime/eventIndexer";
import type { TxOutcome } from "../runtime/txSender";
import type { ClearinghouseView } from "../shared/clearinghouseView";
import { readMarks } from "../shared/marks";
import type { KeeperSender } from "../liquidator/liquidator";
import { deleveragePlans } from "./planner";

export interface AdlKeeperDependencies {
  clearinghouse: Clearinghouse;
  indexer: EventIndexer;
  view: ClearinghouseView;
  sender: KeeperSender;
  logger: Logger;
}

/** What one tick saw and did. */
export interface AdlTickReport {
  headBlock: number;
  insuranceFundX18: bigint;
  plans: number;
  outcomes: TxOutcome["status"][];
}

export class AdlKeeper {
  constructor(private readonly deps: AdlKeeperDependencies) {}

  /** One pass: index, mark, plan, send one deleverage per bankrupt account. */
  async tick(): Promise<AdlTickReport> {
    const { clearinghouse, indexer, view, sender, logger } = this.deps;
    await indexer.poll();
    const head = await clearinghouse.runner!.provider!.getBlock("latest");
    const marks = await readMarks(clearinghouse, view);
    const fundX18 = await clearinghouse.insuranceFundX18();
    const plans = deleveragePlans(view.accountsWithPositions(), view.series, marks, fundX18, BigInt(head!.timestamp));
    const outcomes: TxOutcome["status"][] = [];
    for (const plan of plans) {
      const legs = plan.legs.map((leg) => ({ counterparty: leg.counterparty, seriesId: leg.seriesId }));
      const outcome = await sender.send({
        key: `deleverage:${plan.account.address.toLowerCase()}:${head!.number}`,
        to: await clearinghouse.getAddress(),
        data: clearinghouse.interface.encodeFunctionData("deleverage", [plan.account.address, legs]),
      });
      outcomes.push(outcome.status);
      logger.info(
        {
          account: plan.account.address,
          deficitX18: plan.deficitX18.toString(),
          shortfallX18: plan.shortfallX18.toString(),
          legs: plan.legs.length,
          outcome: outcome.status,
        },
        "deleverage sent",
      );
    }
    return { headBlock: head!.number, insuranceFundX18: fundX18, plans: plans.length, outcomes };
  }
}
