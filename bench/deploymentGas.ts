/**
 * Gas of the whole deployment (`npm run deploy`, scripts/lib/deploy/deploySystem.ts) with the local parameters:
 * mock collateral, 5 reporters, no pre-written history. The sum of gasUsed of every transaction it sends.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { DEPLOY_DEFAULTS, localDeployParams } from "../config/deploy";
import { deploySystem } from "../scripts/lib/deploy/deploySystem";

export async function benchDeployment(): Promise<Record<string, number>> {
  const signers = await ethers.getSigners();
  const deployer = signers[0];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tokenpit-bench-deploy-"));
  const fromBlock = (await ethers.provider.getBlockNumber()) + 1;
  const { counters } = await deploySystem({
    hre,
    deployer,
    params: localDeployParams(
      signers.slice(0, 3).map((s) => s.address),
      DEPLOY_DEFAULTS,
    ),
    deploymentFile: path.join(dir, "bench.json"),
    journalFile: path.join(dir, "bench.journal.json"),
  });
  let total = 0n;
  for (let number = fromBlock; number <= (await ethers.provider.getBlockNumber()); number++) {
    const block = await ethers.provider.getBlock(number);
    for (const hash of block!.transactions) {
      const receipt = await ethers.provider.getTransactionReceipt(hash);
      if (receipt!.from === deployer.address) total += receipt!.gasUsed;
    }
  }
  return { "deploy.system.total": Number(total), "deploy.system.transactions": counters.sent };
}
