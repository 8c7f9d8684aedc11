/**
 * How the examples reach a node from the command line: `RPC_URL` (default a local `npx hardhat node`),
 * `DEPLOYMENT_FILE` (default `deployments/localhost.json`, written by `npm run deploy -- --network localhost`) and,
 * for the trading example, `PRIVATE_KEY` (default: the node's fourth development account, which is public and funded
 * on every local Hardhat node only).
 */
import fs from "node:fs";
import { HDNodeWallet, JsonRpcProvider, Wallet } from "ethers";
import { parseDeployment } from "../sdk";
import type { Deployment } from "../sdk";

/** The public mnemonic of Hardhat's development accounts (local nodes only; never holds real funds). */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** The provider and deployment the environment names. */
export function connectionFromEnv(): { provider: JsonRpcProvider; deployment: Deployment } {
  const url = process.env.RPC_URL ?? "http://127.0.0.1:8545";
  const file = process.env.DEPLOYMENT_FILE ?? "deployments/localhost.json";
  if (!fs.existsSync(file)) {
    throw new Error(
      `no deployment file at ${file}: run \`npm run deploy -- --network localhost\` or set DEPLOYMENT_FILE`,
    );
  }
  const deployment = parseDeployment(JSON.parse(fs.readFileSync(file, "utf8")), file);
  return { provider: new JsonRpcProvider(url, deployment.chainId, { staticNetwork: true }), deployment };
}

/** The signer of `PRIVATE_KEY`, or the local node's development account 3. */
export function walletFromEnv(provider: JsonRpcProvider): Wallet | HDNodeWallet {
  const key = process.env.PRIVATE_KEY;
  if (key !== undefined && key !== "") return new Wallet(key, provider);
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/3").connect(provider);
}
