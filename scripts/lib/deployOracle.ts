/**
 * Deploys the price layer: a timelock, the IndexOracle, its feeds (from config/feeds.ts) and a
 * Chainlink-style aggregator per feed; pre-writes the feeds' history slots; then hands the
 * oracle's roles to the timelock and renounces the deployer's.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { IndexFeedAggregator__factory, IndexOracle__factory, TokenpitTimelock__factory } from "../../typechain-types";
import type { IndexFeedAggregator, IndexOracle, TokenpitTimelock } from "../../typechain-types";
import { FEEDS } from "../../config/feeds";
import { feedIdOf } from "../../sdk";

export interface OracleDeployment {
  timelock: TokenpitTimelock;
  oracle: IndexOracle;
  aggregators: Record<string, IndexFeedAggregator>;
}

export interface DeployOracleOptions {
  deployer: HardhatEthersSigner;
  reporters: string[];
  quorum: number;
  /** Timelock delay, seconds. */
  timelockDelaySec: number;
  /** Accounts that may propose and execute through the timelock. */
  governors: string[];
  /** History slots to pre-write per feed (0 to skip). */
  prewarmSlots: number;
}

export async function deployOracle(options: DeployOracleOptions): Promise<OracleDeployment> {
  const { deployer } = options;
  const timelock = await new TokenpitTimelock__factory(deployer).deploy(
    options.timelockDelaySec,
    options.governors,
    options.governors,
    "0x0000000000000000000000000000000000000000",
  );
  const timelockAddress = await timelock.getAddress();
  // The deployer configures the feeds, then leaves every role to the timelock.
  const oracle = await new IndexOracle__factory(deployer).deploy(deployer.address, deployer.address);
  const oracleAddress = await oracle.getAddress();
  const aggregators: Record<string, IndexFeedAggregator> = {};
  for (const feed of FEEDS) {
    const feedId = feedIdOf(feed.symbol);
    await (
      await oracle.createFeed(feedId, feed.params, feed.methodologyVersion, options.reporters, options.quorum)
    ).wait();
    for (let done = 0; done < options.prewarmSlots; done += 400) {
      await (await oracle.prewarmHistory(feedId, Math.min(400, options.prewarmSlots - done))).wait();
    }
    aggregators[feed.symbol] = await new IndexFeedAggregator__factory(deployer).deploy(
      oracleAddress,
      feedId,
      feed.description,
    );
  }
  for (const role of [await oracle.ORACLE_ADMIN_ROLE(), await oracle.DEFAULT_ADMIN_ROLE()]) {
    await (await oracle.grantRole(role, timelockAddress)).wait();
    await (await oracle.renounceRole(role, deployer.address)).wait();
  }
  return { timelock, oracle, aggregators };
}
