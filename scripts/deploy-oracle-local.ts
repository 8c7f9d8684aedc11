/**
 * Deploys the price layer to a local `npx hardhat node` with demo reporter keys, and prints the
 * values the reporter's .env needs. Local chains only: demo keys are public.
 * Usage: npx hardhat run scripts/deploy-oracle-local.ts --network localhost
 */
import { ethers } from "hardhat";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { LOCAL_QUORUM, LOCAL_REPORTER_COUNT } from "../config/feeds";
import { deployOracle } from "./lib/deployOracle";

const HARDHAT_CHAIN_ID = 31_337n;

async function main(): Promise<void> {
  const { chainId } = await ethers.provider.getNetwork();
  if (chainId !== HARDHAT_CHAIN_ID)
    throw new Error(`chain ${chainId} is not a local Hardhat chain: demo keys are public`);
  const [deployer, governor] = await ethers.getSigners();
  const keys = Array.from({ length: LOCAL_REPORTER_COUNT }, (_, i) => keccak256(toUtf8Bytes(`demo-reporter-${i}`)));
  const { oracle, timelock } = await deployOracle({
    deployer,
    reporters: keys.map((key) => new Wallet(key).address),
    quorum: LOCAL_QUORUM,
    timelockDelaySec: 2 * 86_400,
    governors: [governor.address],
    prewarmSlots: 0,
  });
  console.log(`# IndexOracle ${await oracle.getAddress()}, timelock ${await timelock.getAddress()}`);
  console.log("# .env for `npm run reporter` (Hardhat's first account transmits):");
  console.log("PRIVATE_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  console.log(`REPORTER_ORACLE_ADDRESS=${await oracle.getAddress()}`);
  console.log(`REPORTER_SIGNER_KEYS=${keys.slice(0, LOCAL_QUORUM).join(",")}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
