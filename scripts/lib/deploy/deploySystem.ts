/**
 * Deploys the whole exchange in order, through the deploy journal (resumable, idempotent):
 * collateral (a mock where none is given), timelock, oracle with its feeds, reporters and quorum, a Chainlink-style
 * aggregator per feed, the clearinghouse's logic libraries, the clearinghouse, the order book lens; sets the
 * insurance share of fees and the settlement delays; lists the series of config/series.ts; hands every admin role
 * to the timelock and the guardian role to the guardian; renounces every role of the deployer; writes
 * `deployments/<network>.json`.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Signer } from "ethers";
import { ZeroAddress, encodeBytes32String } from "ethers";
import {
  Clearinghouse__factory,
  IndexFeedAggregator__factory,
  IndexOracle__factory,
  MockERC20__factory,
  OrderBookLens__factory,
  TokenpitTimelock__factory,
} from "../../../typechain-types";
import type { DeployParams } from "../../../config/deploy";
import { FEEDS } from "../../../config/feeds";
import { seriesToList } from "../../../config/series";
import { writeDeployment } from "../../../config/deployments";
import { feedIdOf } from "../../../sdk";
import type { Deployment } from "../../../sdk/deployment";
import { LOGIC_LIBRARIES, linkReferences, listingArgs, logicLibraryFactory } from "../deployClearinghouse";
import type { ClearinghouseLibraries } from "../deployClearinghouse";
import { DeployJournal } from "./journal";
import { readListedSeries } from "./listedSeries";
import type { InterruptAfter, JournalCounters } from "./journal";

export interface DeploySystemOptions {
  hre: HardhatRuntimeEnvironment;
  deployer: Signer;
  params: DeployParams;
  /** Where to write the deployment file and the journal. */
  deploymentFile: string;
  journalFile: string;
  /** Progress lines (one per step that does something). */
  log?: (line: string) => void;
  /** Test hook: simulate a deployment killed half way. */
  interruptAfter?: InterruptAfter;
}

export interface DeploySystemResult {
  deployment: Deployment;
  counters: JournalCounters;
}

/** Runs (or resumes, or confirms) the deployment; see the file comment. */
export async function deploySystem(options: DeploySystemOptions): Promise<DeploySystemResult> {
  const { hre, deployer, params } = options;
  const log = options.log ?? (() => undefined);
  const provider = hre.ethers.provider;
  const chainId = Number((await provider.getNetwork()).chainId);
  const journal = DeployJournal.open(options.journalFile, chainId, provider, options.interruptAfter);
  const me = await deployer.getAddress();
  const step = (what: string) => log(`  ${what}`);

  // Collateral and governance.
  const collateral =
    params.collateral ??
    (await journal.deploy("collateral", "MockERC20", async () => {
      step("deploy mock USDC (6 decimals)");
      return deployer.sendTransaction(
        await new MockERC20__factory().getDeployTransaction("USD Coin (mock)", "USDC", 6),
      );
    }));
  const timelockAddress = await journal.deploy("timelock", "TokenpitTimelock", async () => {
    step(`deploy timelock (delay ${params.timelockDelaySec} s, governors ${params.governors.join(", ")})`);
    return deployer.sendTransaction(
      await new TokenpitTimelock__factory().getDeployTransaction(
        params.timelockDelaySec,
        params.governors,
        params.governors,
        ZeroAddress,
      ),
    );
  });

  // Oracle, feeds and aggregators.
  const oracleAddress = await journal.deploy("oracle", "IndexOracle", async () => {
    step("deploy index oracle");
    return deployer.sendTransaction(await new IndexOracle__factory().getDeployTransaction(me, me));
  });
  const oracle = IndexOracle__factory.connect(oracleAddress, deployer);
  const aggregators: Record<string, string> = {};
  const feeds: Record<string, string> = {};
  for (const feed of FEEDS) {
    const feedId = feedIdOf(feed.symbol);
    feeds[feed.symbol] = feedId;
    await journal.call(
      `feed:${feed.symbol}`,
      () => {
        step(`create feed ${feed.symbol} (${params.reporters.length} reporters, quorum ${params.quorum})`);
        return oracle.createFeed(feedId, feed.params, feed.methodologyVersion, params.reporters, params.quorum);
      },
      async () => (await oracle.feedConfig(feedId)).exists,
    );
    for (let done = 0, batch = 0; done < params.prewarmSlots; done += 400, batch++) {
      const slots = Math.min(400, params.prewarmSlots - done);
      await journal.call(`prewarm:${feed.symbol}:${batch}`, () => {
        step(`pre-write ${slots} history slots of ${feed.symbol}`);
        return oracle.prewarmHistory(feedId, slots);
      });
    }
    aggregators[feed.symbol] = await journal.deploy(`aggregator:${feed.symbol}`, "IndexFeedAggregator", async () => {
      step(`deploy ${feed.symbol} aggregator`);
      return deployer.sendTransaction(
        await new IndexFeedAggregator__factory().getDeployTransaction(oracleAddress, feedId, feed.description),
      );
    });
  }

  // Clearinghouse and lens.
  const libraries = {} as ClearinghouseLibraries;
  for (const [field, name, linksMargin] of LOGIC_LIBRARIES) {
    libraries[field] = await journal.deploy(`library:${name}`, name, async () => {
      step(`deploy library ${name}`);
      const factory = await logicLibraryFactory(name, deployer, linksMargin, libraries.marginLogic);
      return deployer.sendTransaction(await factory.getDeployTransaction());
    });
  }
  const clearinghouseAddress = await journal.deploy("clearinghouse", "Clearinghouse", async () => {
    step("deploy clearinghouse");
    return deployer.sendTransaction(
      await new Clearinghouse__factory(linkReferences(libraries)).getDeployTransaction(collateral, oracleAddress, me),
    );
  });
  const ch = Clearinghouse__factory.connect(clearinghouseAddress, deployer);
  const lensAddress = await journal.deploy("lens", "OrderBookLens", async () => {
    step("deploy order book lens");
    return deployer.sendTransaction(await new OrderBookLens__factory().getDeployTransaction(clearinghouseAddress));
  });

  // Market set-up by the deployer, before the hand-over.
  const [adminRole, marketAdminRole, guardianRole] = [
    await ch.DEFAULT_ADMIN_ROLE(),
    await ch.MARKET_ADMIN_ROLE(),
    await ch.GUARDIAN_ROLE(),
  ];
  const [oracleAdminRole, oracleDefaultAdminRole] = [
    await oracle.ORACLE_ADMIN_ROLE(),
    await oracle.DEFAULT_ADMIN_ROLE(),
  ];
  const listings = await plannedListings(journal, hre, params.months);
  const allListed = async () => {
    for (const listing of listings)
      if ((await ch.seriesIdOf(encodeBytes32String(listing.spec.symbol))) === 0n) return false;
    return true;
  };
  const renounced = async () => !(await ch.hasRole(adminRole, me));
  // A finished deployment (deployer's roles renounced) skips the set-up without asking for roles it no longer has.
  if (!(await renounced()) || !(await allListed())) {
    await journal.call(
      "clearinghouse:grantMarketAdmin:deployer",
      () => ch.grantRole(marketAdminRole, me),
      () => ch.hasRole(marketAdminRole, me),
    );
    await journal.call(
      "clearinghouse:insuranceFeeShare",
      () => {
        step(`set the insurance share of fees to ${params.insuranceFeeShareBps} bps`);
        return ch.setInsuranceFeeShare(params.insuranceFeeShareBps);
      },
      async () => (await ch.insuranceFeeShareBps()) === BigInt(params.insuranceFeeShareBps),
    );
    await journal.call(
      "clearinghouse:settlementDelays",
      () => {
        step(
          `set the dispute window to ${params.disputeWindowSec} s, the governance grace to ${params.governanceGraceSec} s`,
        );
        return ch.setSettlementDelays(params.disputeWindowSec, params.governanceGraceSec);
      },
      async () =>
        (await ch.disputeWindowSec()) === BigInt(params.disputeWindowSec) &&
        (await ch.governanceGraceSec()) === BigInt(params.governanceGraceSec),
    );
    for (const listing of listings) {
      await journal.call(
        `series:${listing.spec.symbol}`,
        () => {
          step(`list ${listing.spec.symbol}`);
          return ch.listSeries(...listingArgs(listing));
        },
        async () => (await ch.seriesIdOf(encodeBytes32String(listing.spec.symbol))) !== 0n,
      );
    }
  }

  // Hand-over: admin roles to the timelock, the guardian role to the guardian, then the deployer renounces.
  const grant = (contract: typeof ch | typeof oracle, name: string, role: string, to: string, label: string) =>
    journal.call(
      `${name}:grant:${label}`,
      () => {
        step(`grant ${label} of the ${name} to ${to}`);
        return contract.grantRole(role, to);
      },
      () => contract.hasRole(role, to),
    );
  const renounce = (contract: typeof ch | typeof oracle, name: string, role: string, label: string) =>
    journal.call(
      `${name}:renounce:${label}`,
      () => {
        step(`deployer renounces ${label} of the ${name}`);
        return contract.renounceRole(role, me);
      },
      async () => !(await contract.hasRole(role, me)),
    );
  await grant(ch, "clearinghouse", guardianRole, params.guardian, "GUARDIAN_ROLE");
  await grant(ch, "clearinghouse", marketAdminRole, timelockAddress, "MARKET_ADMIN_ROLE");
  await grant(ch, "clearinghouse", adminRole, timelockAddress, "DEFAULT_ADMIN_ROLE");
  await grant(oracle, "oracle", oracleAdminRole, timelockAddress, "ORACLE_ADMIN_ROLE");
  await grant(oracle, "oracle", oracleDefaultAdminRole, timelockAddress, "DEFAULT_ADMIN_ROLE");
  await renounce(ch, "clearinghouse", marketAdminRole, "MARKET_ADMIN_ROLE");
  await renounce(ch, "clearinghouse", adminRole, "DEFAULT_ADMIN_ROLE");
  await renounce(oracle, "oracle", oracleAdminRole, "ORACLE_ADMIN_ROLE");
  await renounce(oracle, "oracle", oracleDefaultAdminRole, "DEFAULT_ADMIN_ROLE");

  const deployment = await describeDeployment(options, journal, {
    chainId,
    deployer: me,
    collateral,
    mockCollateral: params.collateral === undefined,
    contracts: {
      timelock: timelockAddress,
      oracle: oracleAddress,
      clearinghouse: clearinghouseAddress,
      lens: lensAddress,
      aggregators,
      libraries: { ...libraries },
    },
    feeds,
  });
  writeDeployment(options.deploymentFile, deployment);
  return { deployment, counters: journal.counters };
}

/** The listings of the first run: computed from the chain time of that run, then remembered by the journal. */
async function plannedListings(journal: DeployJournal, hre: HardhatRuntimeEnvironment, months: number) {
  const planTime = await journal.remember("plan:listingTimeSec", async () =>
    String((await hre.ethers.provider.getBlock("latest"))!.timestamp),
  );
  return seriesToList(Number(planTime), months, feedIdOf);
}

interface DeployedAddresses {
  chainId: number;
  deployer: string;
  collateral: string;
  mockCollateral: boolean;
  contracts: Deployment["contracts"];
  feeds: Record<string, string>;
}

/** The deployment file's content, read back from the chain (series ids and collateral metadata included). */
async function describeDeployment(
  options: DeploySystemOptions,
  journal: DeployJournal,
  addresses: DeployedAddresses,
): Promise<Deployment> {
  const { hre, params } = options;
  const ch = Clearinghouse__factory.connect(addresses.contracts.clearinghouse, hre.ethers.provider);
  const token = MockERC20__factory.connect(addresses.collateral, hre.ethers.provider);
  const series = await readListedSeries(ch, addresses.feeds);
  const compiler = hre.config.solidity.compilers[0];
  const range = journal.blockRange();
  const head = await hre.ethers.provider.getBlockNumber();
  return {
    format: 1,
    network: hre.network.name,
    chainId: addresses.chainId,
    deployer: addresses.deployer,
    startBlock: range?.first ?? head,
    endBlock: range?.last ?? head,
    compiler: {
      version: compiler.version,
      evmVersion: compiler.settings.evmVersion ?? "default",
      optimizer: {
        enabled: compiler.settings.optimizer?.enabled ?? false,
        runs: compiler.settings.optimizer?.runs ?? 200,
      },
    },
    collateral: {
      address: addresses.collateral,
      symbol: await token.symbol(),
      decimals: Number(await token.decimals()),
      mock: addresses.mockCollateral,
    },
    contracts: addresses.contracts,
    feeds: addresses.feeds,
    series,
    governance: {
      governors: params.governors,
      guardian: params.guardian,
      timelockDelaySec: params.timelockDelaySec,
      reporters: params.reporters,
      quorum: params.quorum,
    },
  };
}
