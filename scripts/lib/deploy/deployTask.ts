/**
 * The `deploy` task's body: resolves the network's parameters (config/deploy.ts), runs the deployment through its
 * journal, and prints what it did.
 */
import fs from "node:fs";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { DEPLOY_DEFAULTS, LOCAL_CHAIN_ID, localDeployParams, publicDeployParams } from "../../../config/deploy";
import type { DeployParams } from "../../../config/deploy";
import { deploymentPath, journalPathOf } from "../../../config/deployments";
import { deploySystem } from "./deploySystem";

/** The parameters of the network `hre` is connected to. */
export async function deployParamsOf(hre: HardhatRuntimeEnvironment): Promise<DeployParams> {
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  if (chainId === LOCAL_CHAIN_ID) {
    const accounts = await Promise.all((await hre.ethers.getSigners()).slice(0, 3).map((s) => s.getAddress()));
    return localDeployParams(accounts, DEPLOY_DEFAULTS);
  }
  return publicDeployParams();
}

export async function runDeployTask(hre: HardhatRuntimeEnvironment, args: { deployment?: string }): Promise<void> {
  const root = hre.config.paths.root;
  const file = args.deployment ?? deploymentPath(root, hre.network.name);
  const journal = journalPathOf(file);
  // The in-process network starts empty on every command: a journal of an earlier run names contracts it never had.
  if (hre.network.name === "hardhat" && args.deployment === undefined) fs.rmSync(journal, { force: true });
  const params = await deployParamsOf(hre);
  const [deployer] = await hre.ethers.getSigners();
  console.log(
    `Deploying to ${hre.network.name} (chain ${(await hre.ethers.provider.getNetwork()).chainId}) from ${deployer.address}`,
  );
  const { deployment, counters } = await deploySystem({
    hre,
    deployer,
    params,
    deploymentFile: file,
    journalFile: journal,
    log: (line) => console.log(line),
  });
  if (counters.sent === 0 && counters.resumed === 0) {
    console.log(`Nothing to do: the deployment is complete (${counters.skipped} steps already done).`);
  } else {
    console.log(
      `Done: ${counters.sent} transactions sent, ${counters.resumed} resumed, ${counters.skipped} steps already done.`,
    );
  }
  console.log(`clearinghouse ${deployment.contracts.clearinghouse}`);
  console.log(`oracle        ${deployment.contracts.oracle}`);
  console.log(`timelock      ${deployment.contracts.timelock}`);
  console.log(`lens          ${deployment.contracts.lens}`);
  console.log(
    `collateral    ${deployment.collateral.address} (${deployment.collateral.symbol}${deployment.collateral.mock ? ", mock" : ""})`,
  );
  console.log(`series        ${deployment.series.map((s) => `${s.id}:${s.symbol}`).join(" ")}`);
  console.log(`Wrote ${file}`);
  if (hre.network.name === "hardhat") {
    console.log("Note: the in-process network ends with this command; deploy to a node with --network localhost.");
  }
}
