/**
 * Listing new contract months after the deployment (`npm run list-series -- --network <name>`).
 *
 * The series due are those of config/series.ts at the chain's current time (`months` per product) that the
 * clearinghouse does not list yet. The deployer renounced MARKET_ADMIN_ROLE, so each listing goes through the
 * timelock: the first run schedules one operation per series (salt = the series symbol, so a repeated run finds
 * it); a run after the delay executes the ready ones. A signer that holds MARKET_ADMIN_ROLE itself (a network
 * without a timelock hand-over) lists directly. Either way the deployment file is rewritten with the listed series.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Signer } from "ethers";
import { ZeroHash, encodeBytes32String, id as keccakText } from "ethers";
import { Clearinghouse__factory, TokenpitTimelock__factory } from "../../../typechain-types";
import { seriesToList } from "../../../config/series";
import type { SeriesListing } from "../../../config/series";
import { writeDeployment } from "../../../config/deployments";
import { feedIdOf } from "../../../sdk";
import type { Deployment } from "../../../sdk/deployment";
import { listingArgs } from "../deployClearinghouse";
import { readListedSeries } from "./listedSeries";

/** What happened to one due series. */
export interface ListingOutcome {
  symbol: string;
  action: "listed" | "scheduled" | "waiting" | "executed";
  /** Unix seconds from which a scheduled listing can be executed. */
  readyAtSec?: number;
}

export interface ListSeriesOptions {
  hre: HardhatRuntimeEnvironment;
  signer: Signer;
  deployment: Deployment;
  deploymentFile: string;
  months: number;
}

/** The timelock salt of a series listing. */
export function listingSalt(symbol: string): string {
  return keccakText(`listSeries:${symbol}`);
}

/**
 * Lists, schedules or executes every due series; returns one outcome per due series (none when all are listed).
 * @throws Error when the signer can neither list nor propose through the timelock.
 */
export async function listDueSeries(options: ListSeriesOptions): Promise<ListingOutcome[]> {
  const { hre, signer, deployment } = options;
  const me = await signer.getAddress();
  const ch = Clearinghouse__factory.connect(deployment.contracts.clearinghouse, signer);
  const timelock = TokenpitTimelock__factory.connect(deployment.contracts.timelock, signer);
  const nowSec = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const due: SeriesListing[] = [];
  for (const listing of seriesToList(nowSec, options.months, feedIdOf)) {
    if ((await ch.seriesIdOf(encodeBytes32String(listing.spec.symbol))) === 0n) due.push(listing);
  }
  const direct = await ch.hasRole(await ch.MARKET_ADMIN_ROLE(), me);
  if (due.length > 0 && !direct && !(await timelock.hasRole(await timelock.PROPOSER_ROLE(), me))) {
    throw new Error(`${me} holds neither MARKET_ADMIN_ROLE nor the timelock's PROPOSER_ROLE: use a governor's key`);
  }
  const outcomes: ListingOutcome[] = [];
  for (const listing of due) {
    const symbol = listing.spec.symbol;
    if (direct) {
      await (await ch.listSeries(...listingArgs(listing))).wait();
      outcomes.push({ symbol, action: "listed" });
      continue;
    }
    const target = deployment.contracts.clearinghouse;
    const data = ch.interface.encodeFunctionData("listSeries", listingArgs(listing));
    const salt = listingSalt(symbol);
    const operationId = await timelock.hashOperation(target, 0, data, ZeroHash, salt);
    if (!(await timelock.isOperation(operationId))) {
      await (await timelock.schedule(target, 0, data, ZeroHash, salt, await timelock.getMinDelay())).wait();
      outcomes.push({ symbol, action: "scheduled", readyAtSec: Number(await timelock.getTimestamp(operationId)) });
    } else if (await timelock.isOperationReady(operationId)) {
      await (await timelock.execute(target, 0, data, ZeroHash, salt)).wait();
      outcomes.push({ symbol, action: "executed" });
    } else {
      outcomes.push({ symbol, action: "waiting", readyAtSec: Number(await timelock.getTimestamp(operationId)) });
    }
  }
  writeDeployment(options.deploymentFile, { ...deployment, series: await readListedSeries(ch, deployment.feeds) });
  return outcomes;
}
