import "dotenv/config";
import path from "node:path";
import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig, NetworksUserConfig } from "hardhat/types";
import "@nomicfoundation/hardhat-toolbox";
import "hardhat-contract-sizer";
import { EnvConfigError, readEnvNetwork } from "./config/env";
import "./tasks";

/** The one compiler version of the project; must equal the version of the `solc` npm package. */
const SOLC_VERSION = "0.8.28";

// Compile with the solc-js build shipped in the `solc` npm package, so compiling never downloads.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper(args);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solcPackage = require("solc/package.json") as { version: string };
  if (solcPackage.version !== SOLC_VERSION) {
    throw new Error(`npm package solc is ${solcPackage.version}, expected ${SOLC_VERSION}: run npm ci`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  return {
    version: SOLC_VERSION,
    longVersion: solc.version(),
    compilerPath: path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js"),
    isSolcJs: true,
  };
});

function envNetworks(): NetworksUserConfig {
  try {
    const network = readEnvNetwork();
    return network === undefined ? {} : { env: network };
  } catch (error) {
    if (error instanceof EnvConfigError) {
      console.error(`Invalid .env: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

const config: HardhatUserConfig = {
  solidity: {
    compilers: [
      {
        version: SOLC_VERSION,
        settings: {
          evmVersion: "cancun",
          // 1,000 runs: within ~1% of the gas of 10,000 runs, and keeps the clearinghouse and its largest
          // library well under the 24 KB code limit in one compiler job.
          optimizer: { enabled: true, runs: 1_000 },
          metadata: { bytecodeHash: "none" },
        },
      },
    ],
  },
  networks: {
    // The test-only ClearinghouseHarness (the clearinghouse plus direct fills) is above the 24 KB limit; the
    // production contracts are held under it by the contract sizer (strict, on every compile) instead.
    hardhat: { allowUnlimitedContractSize: true },
    localhost: { url: "http://127.0.0.1:8545" },
    ...envNetworks(),
  },
  paths: {
    sources: "contracts",
    tests: "test",
    artifacts: "artifacts",
    cache: "cache",
  },
  // Source verification (`npx hardhat verify`, docs/deploy.md): the explorer's API key from the environment.
  etherscan: { apiKey: process.env.ETHERSCAN_API_KEY ?? "" },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  contractSizer: { runOnCompile: true, strict: true, only: ["^contracts/(?!mocks/)"] },
  gasReporter: { enabled: process.env.REPORT_GAS === "true", offline: true },
  mocha: { timeout: 120_000, jobs: 2 },
};

export default config;
