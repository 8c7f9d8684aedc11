/**
 * The keepers of the demo, in-process and on their production code: the oracle reporter (its own transmitter key)
 * over the bundled sample path with the demo's shock, and the liquidator, ADL keeper and settler sharing one
 * operator key, one transaction sender and one event-built view of the clearinghouse.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import type { Clearinghouse, IndexOracle } from "../../../typechain-types";
import { rawToX18 } from "../../../sdk";
import { FEEDS, LOCAL_QUORUM } from "../../../config/feeds";
import { localReporterKeys } from "../../../config/deploy";
import { OracleReporter } from "../../../keepers/oracle-reporter/reporter";
import { BundledReplaySource } from "../../../keepers/oracle-reporter/source";
import { EventIndexer } from "../../../keepers/runtime/eventIndexer";
import { TxSender } from "../../../keepers/runtime/txSender";
import { ClearinghouseView } from "../../../keepers/shared/clearinghouseView";
import { createLogger } from "../../../keepers/shared/logger";
import { Liquidator } from "../../../keepers/liquidator/liquidator";
import { AdlKeeper } from "../../../keepers/adl/adlKeeper";
import { Settler } from "../../../keepers/settler/settler";
import { ShockedSource } from "./shockedSource";

export interface DemoKeepers {
  reporter: OracleReporter;
  liquidator: Liquidator;
  adl: AdlKeeper;
  settler: Settler;
  view: ClearinghouseView;
  /** The operator key of the liquidator, ADL keeper and settler (also the liquidator's margin account). */
  operator: Wallet;
  transmitter: Wallet;
}

export interface DemoKeeperOptions {
  hre: HardhatRuntimeEnvironment;
  clearinghouse: Clearinghouse;
  oracle: IndexOracle;
  startBlock: number;
  /** Chain time the sample path starts at. */
  pathStartSec: bigint;
  /** The AIT shock: from this time, list prices fall by `shockBps`. */
  shockAtSec: bigint;
  shockBps: bigint;
}

/** A key derived from a label, funded with gas money by `funder`. */
async function demoWallet(hre: HardhatRuntimeEnvironment, label: string): Promise<Wallet> {
  const wallet = new Wallet(keccak256(toUtf8Bytes(label)), hre.ethers.provider);
  const [funder] = await hre.ethers.getSigners();
  await (await funder.sendTransaction({ to: wallet.address, value: hre.ethers.parseEther("10") })).wait();
  return wallet;
}

export async function startDemoKeepers(options: DemoKeeperOptions): Promise<DemoKeepers> {
  const { hre, clearinghouse, oracle } = options;
  const provider = hre.ethers.provider;
  const logger = createLogger("demo-keepers", "silent");
  const maxFeePerGasWei = hre.ethers.parseUnits("500", "gwei");

  const transmitter = await demoWallet(hre, "demo-transmitter");
  const source = new ShockedSource(
    await BundledReplaySource.load(options.pathStartSec),
    options.shockAtSec,
    options.shockBps,
  );
  const reporter = new OracleReporter({
    oracle,
    provider,
    signers: localReporterKeys()
      .slice(0, LOCAL_QUORUM)
      .map((key) => new Wallet(key)),
    source,
    sender: new TxSender({ provider, signer: transmitter, maxFeePerGasWei, pollIntervalMs: 1 }),
    logger,
    settings: {
      feeds: ["AIT", "GPUH"],
      heartbeatSec: { AIT: BigInt(FEEDS[0].heartbeatSec), GPUH: BigInt(FEEDS[1].heartbeatSec) },
      deviationBps: 50n,
      roundAlignSec: 60n,
    },
  });

  const operator = await demoWallet(hre, "demo-keeper-operator");
  const view = new ClearinghouseView(rawToX18(1n, Number(await clearinghouse.collateralDecimals())));
  const indexer = new EventIndexer({
    provider,
    contracts: [{ address: await clearinghouse.getAddress(), iface: clearinghouse.interface }],
    handler: view,
    startBlock: options.startBlock,
    confirmations: 0,
  });
  const sender = new TxSender({ provider, signer: operator, maxFeePerGasWei, pollIntervalMs: 1 });
  const deps = { clearinghouse, indexer, view, sender, logger };
  return {
    reporter,
    liquidator: new Liquidator({
      ...deps,
      settings: { batchSize: 10, firstBatchSize: 10, maxConcurrentBatches: 2, unwind: false },
    }),
    adl: new AdlKeeper(deps),
    settler: new Settler({ ...deps, settings: { batchSize: 20 } }),
    view,
    operator,
    transmitter,
  };
}
