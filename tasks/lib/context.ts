/**
 * What every task starts from: the deployment file (checked against the connected chain), the contracts it names,
 * the acting signer (`--from`), and the output mode (`--json`).
 */
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Interface } from "ethers";
import {
  Clearinghouse__factory,
  IndexOracle__factory,
  MockERC20__factory,
  OrderBookLens__factory,
} from "../../typechain-types";
import type { Clearinghouse, IndexOracle, MockERC20, OrderBookLens } from "../../typechain-types";
import { deploymentPath, readDeployment } from "../../config/deployments";
import { findSeries } from "../../sdk/deployment";
import type { DeployedSeries, Deployment } from "../../sdk/deployment";
import { CliError, consoleWriter } from "./cliError";
import type { Writer } from "./cliError";
import { parseAddress } from "./units";

/** Parameters every task takes. */
export interface CommonArgs {
  /** Deployment file (default `deployments/<network>.json`). */
  deployment?: string;
  /** Print one JSON object instead of text. */
  json?: boolean;
}

/** Parameters of tasks that send transactions. */
export interface ActingArgs extends CommonArgs {
  /** Signer index among `hre.ethers.getSigners()`, or its address. */
  from?: string;
}

export interface CliContext {
  hre: HardhatRuntimeEnvironment;
  deployment: Deployment;
  clearinghouse: Clearinghouse;
  oracle: IndexOracle;
  lens: OrderBookLens;
  /** The collateral token (any ERC-20; the mock's ABI is the standard one plus `mint`). */
  token: MockERC20;
  json: boolean;
  writer: Writer;
}

/** The interfaces whose custom errors a task's revert may carry. */
export function knownInterfaces(): Interface[] {
  return [
    Clearinghouse__factory.createInterface(),
    IndexOracle__factory.createInterface(),
    MockERC20__factory.createInterface(),
    OrderBookLens__factory.createInterface(),
  ];
}

/**
 * Reads the deployment file and connects its contracts (read-only; `connectAs` gives a signer's view).
 * @throws DeploymentFileError when the file is missing or malformed; CliError when it belongs to another chain or
 * its clearinghouse has no code on the connected node.
 */
export async function openContext(
  hre: HardhatRuntimeEnvironment,
  args: CommonArgs,
  writer: Writer = consoleWriter,
): Promise<CliContext> {
  const file =
    args.deployment === undefined
      ? deploymentPath(hre.config.paths.root, hre.network.name)
      : path.resolve(args.deployment);
  const deployment = readDeployment(file);
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  if (chainId !== deployment.chainId) {
    throw new CliError(`${file} is a deployment on chain ${deployment.chainId}, but the network is chain ${chainId}`);
  }
  const provider = hre.ethers.provider;
  if ((await provider.getCode(deployment.contracts.clearinghouse)) === "0x") {
    throw new CliError(
      `no clearinghouse at ${deployment.contracts.clearinghouse} on network ${hre.network.name}: ${file} is not deployed on this node (the in-process hardhat network starts empty; use --network localhost)`,
    );
  }
  return {
    hre,
    deployment,
    clearinghouse: Clearinghouse__factory.connect(deployment.contracts.clearinghouse, provider),
    oracle: IndexOracle__factory.connect(deployment.contracts.oracle, provider),
    lens: OrderBookLens__factory.connect(deployment.contracts.lens, provider),
    token: MockERC20__factory.connect(deployment.collateral.address, provider),
    json: args.json === true,
    writer,
  };
}

/**
 * The acting signer: an index among the configured signers, or one of their addresses (default: the first).
 * @throws CliError when no configured signer matches.
 */
export async function signerOf(hre: HardhatRuntimeEnvironment, from: string | undefined): Promise<HardhatEthersSigner> {
  const signers = await hre.ethers.getSigners();
  if (signers.length === 0) throw new CliError("no signer configured for this network (set its accounts)");
  const wanted = (from ?? "0").trim();
  if (/^\d+$/.test(wanted)) {
    const signer = signers[Number(wanted)];
    if (signer === undefined) {
      throw new CliError(`no signer ${wanted}: the network has ${signers.length} (0 to ${signers.length - 1})`);
    }
    return signer;
  }
  const address = parseAddress(wanted, "--from");
  const signer = signers.find((s) => s.address.toLowerCase() === address.toLowerCase());
  if (signer === undefined) throw new CliError(`--from ${address} is not one of the network's signers`);
  return signer;
}

/** The listed series named by a symbol or an id (DeploymentFileError when unknown). */
export function seriesNamed(ctx: CliContext, symbolOrId: string | undefined): DeployedSeries {
  if (symbolOrId === undefined || symbolOrId.trim() === "") throw new CliError("--series is required");
  return findSeries(ctx.deployment, symbolOrId);
}

/** The latest block's timestamp (the chain's "now"). */
export async function chainNow(ctx: CliContext): Promise<bigint> {
  const block = await ctx.hre.ethers.provider.getBlock("latest");
  if (block === null) throw new CliError("the node returned no latest block");
  return BigInt(block.timestamp);
}

/** Prints the result: one JSON object (bigints as decimal strings) with `--json`, else the text lines. */
export function emit(ctx: CliContext, json: Record<string, unknown>, lines: string[]): void {
  if (ctx.json) {
    ctx.writer.out(
      JSON.stringify(json, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
    );
  } else {
    for (const line of lines) ctx.writer.out(line);
  }
}
