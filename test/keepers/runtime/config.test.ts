import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { z } from "zod";
import { Wallet } from "ethers";
import { clearinghouseKeeperSchema } from "../../../keepers/shared/keeperMain";
import { reporterEnvSchema } from "../../../keepers/oracle-reporter/config";
import type { Deployment } from "../../../sdk/deployment";
import { loadKeeperConfig, redact } from "../../../keepers/runtime/config";
import { KeeperConfigError } from "../../../keepers/shared/errors";

const KEY = "ab".repeat(32);
const MINIMAL = { RPC_URLS: "https://a.example.org, https://b.example.org/v2/secret-api-key", PRIVATE_KEY: KEY };

/** A deployment file with random addresses in a temporary folder. */
function sampleDeploymentFile(): { file: string; deployment: Deployment } {
  const random = () => Wallet.createRandom().address;
  const deployment: Deployment = {
    format: 1,
    network: "localhost",
    chainId: 31_337,
    deployer: random(),
    startBlock: 7,
    endBlock: 40,
    compiler: { version: "0.8.28", evmVersion: "cancun", optimizer: { enabled: true, runs: 1_000 } },
    collateral: { address: random(), symbol: "USDC", decimals: 6, mock: true },
    contracts: {
      timelock: random(),
      oracle: random(),
      clearinghouse: random(),
      lens: random(),
      aggregators: {},
      libraries: {},
    },
    feeds: {},
    series: [],
    governance: { governors: [random()], guardian: random(), timelockDelaySec: 0, reporters: [random()], quorum: 1 },
  };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tokenpit-keeper-config-")), "localhost.json");
  fs.writeFileSync(file, JSON.stringify(deployment));
  return { file, deployment };
}

/** The message of the KeeperConfigError `load` throws. */
function configErrorOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).to.be.instanceOf(KeeperConfigError);
    return (error as Error).message;
  }
  return expect.fail("should have thrown KeeperConfigError");
}

describe("Keeper runtime configuration", function () {
  it("applies the defaults and converts units", function () {
    const config = loadKeeperConfig(undefined, MINIMAL);
    expect(config.rpcUrls).to.deep.equal(["https://a.example.org", "https://b.example.org/v2/secret-api-key"]);
    expect(config.privateKey).to.equal(`0x${KEY}`);
    expect(config.chainId).to.equal(undefined);
    expect(config.confirmations).to.equal(2);
    expect(config.pollIntervalMs).to.equal(1_000);
    expect(config.dryRun).to.equal(false);
    expect(config.statusPort).to.equal(0);
    expect(config.maxFeePerGasWei).to.equal(500n * 10n ** 9n);
    expect(config.feeBumpBps).to.equal(1_250);
    expect(config.txTimeoutBlocks).to.equal(3);
    expect(config.logLevel).to.equal("info");
    expect(config.deploymentFile).to.equal(undefined);
  });

  it("falls back to RPC_URL and parses every base variable", function () {
    const deploymentFile = sampleDeploymentFile().file;
    const config = loadKeeperConfig(undefined, {
      RPC_URL: "http://127.0.0.1:8545",
      PRIVATE_KEY: `0x${KEY}`,
      CHAIN_ID: "31337",
      CONFIRMATIONS: "0",
      POLL_INTERVAL_MS: "250",
      DRY_RUN: "true",
      STATUS_PORT: "9464",
      MAX_FEE_PER_GAS_GWEI: "0.5",
      FEE_BUMP_BPS: "2000",
      TX_TIMEOUT_BLOCKS: "5",
      LOG_LEVEL: "debug",
      DEPLOYMENT_FILE: deploymentFile,
    });
    expect(config.rpcUrls).to.deep.equal(["http://127.0.0.1:8545"]);
    expect(config.chainId).to.equal(31_337n);
    expect(config.confirmations).to.equal(0);
    expect(config.dryRun).to.equal(true);
    expect(config.statusPort).to.equal(9_464);
    expect(config.maxFeePerGasWei).to.equal(500_000_000n);
    expect(config.feeBumpBps).to.equal(2_000);
    expect(config.txTimeoutBlocks).to.equal(5);
    expect(config.deploymentFile).to.equal(deploymentFile);
    expect(config.deployment?.chainId).to.equal(31_337);
  });

  it("takes the addresses and start block from DEPLOYMENT_FILE, unless a variable sets them", function () {
    const { file, deployment } = sampleDeploymentFile();
    const keeper = loadKeeperConfig(clearinghouseKeeperSchema, { ...MINIMAL, DEPLOYMENT_FILE: file }).keeper;
    expect(keeper.KEEPER_CLEARINGHOUSE_ADDRESS).to.equal(deployment.contracts.clearinghouse);
    expect(keeper.KEEPER_START_BLOCK).to.equal(7);
    const reporter = loadKeeperConfig(reporterEnvSchema, {
      ...MINIMAL,
      DEPLOYMENT_FILE: file,
      REPORTER_SIGNER_KEYS: KEY,
    }).keeper;
    expect(reporter.REPORTER_ORACLE_ADDRESS).to.equal(deployment.contracts.oracle);
    const own = Wallet.createRandom().address;
    const explicit = loadKeeperConfig(clearinghouseKeeperSchema, {
      ...MINIMAL,
      DEPLOYMENT_FILE: file,
      KEEPER_CLEARINGHOUSE_ADDRESS: own,
      KEEPER_START_BLOCK: "0",
    }).keeper;
    expect([explicit.KEEPER_CLEARINGHOUSE_ADDRESS, explicit.KEEPER_START_BLOCK]).to.deep.equal([own, 0]);
  });

  it("names DEPLOYMENT_FILE when the file is missing or malformed, and the address when neither is given", function () {
    const missing = configErrorOf(() =>
      loadKeeperConfig(clearinghouseKeeperSchema, { ...MINIMAL, DEPLOYMENT_FILE: "/nonexistent/localhost.json" }),
    );
    expect(missing).to.include("DEPLOYMENT_FILE: no deployment file at /nonexistent/localhost.json");
    const { file } = sampleDeploymentFile();
    fs.writeFileSync(file, JSON.stringify({ format: 1, network: "x" }));
    expect(
      configErrorOf(() => loadKeeperConfig(clearinghouseKeeperSchema, { ...MINIMAL, DEPLOYMENT_FILE: file })),
    ).to.match(/DEPLOYMENT_FILE: .*chainId/);
    expect(configErrorOf(() => loadKeeperConfig(clearinghouseKeeperSchema, MINIMAL))).to.include(
      "KEEPER_CLEARINGHOUSE_ADDRESS",
    );
  });

  it("names every bad base and keeper variable in one error, without echoing the key", function () {
    const badKey = "cd".repeat(31);
    const message = configErrorOf(() =>
      loadKeeperConfig(z.object({ LIQUIDATOR_MAX_ACCOUNTS: z.coerce.number().int().positive() }), {
        RPC_URLS: "not-a-url",
        PRIVATE_KEY: badKey,
        CONFIRMATIONS: "-1",
        FEE_BUMP_BPS: "1000",
        DRY_RUN: "yes",
        STATUS_PORT: "70000",
        MAX_FEE_PER_GAS_GWEI: "lots",
        TX_TIMEOUT_BLOCKS: "0",
        LOG_LEVEL: "loud",
        LIQUIDATOR_MAX_ACCOUNTS: "-3",
      }),
    );
    for (const name of [
      "RPC_URLS",
      "PRIVATE_KEY",
      "CONFIRMATIONS",
      "FEE_BUMP_BPS",
      "DRY_RUN",
      "STATUS_PORT",
      "MAX_FEE_PER_GAS_GWEI",
      "TX_TIMEOUT_BLOCKS",
      "LOG_LEVEL",
      "LIQUIDATOR_MAX_ACCOUNTS",
    ]) {
      expect(message, name).to.include(`${name}:`);
    }
    expect(message).not.to.include(badKey);
  });

  it("requires an RPC URL and a key", function () {
    const message = configErrorOf(() => loadKeeperConfig(undefined, { RPC_URLS: " ", RPC_URL: "" }));
    expect(message).to.include("RPC_URLS:");
    expect(message).to.include("PRIVATE_KEY:");
  });

  it("merges the keeper's own variables, typed by its schema", function () {
    const config = loadKeeperConfig(
      z.object({
        LIQUIDATOR_MAX_ACCOUNTS: z.coerce.number().int().positive().default(50),
        LIQUIDATOR_MARKETS: z.string().transform((value) => value.split(",")),
      }),
      { ...MINIMAL, LIQUIDATOR_MARKETS: "AIT,GPUH" },
    );
    expect(config.keeper.LIQUIDATOR_MAX_ACCOUNTS).to.equal(50);
    expect(config.keeper.LIQUIDATOR_MARKETS).to.deep.equal(["AIT", "GPUH"]);
  });

  it("refuses a keeper schema that redefines a base variable", function () {
    const message = configErrorOf(() => loadKeeperConfig(z.object({ CONFIRMATIONS: z.string() }), MINIMAL));
    expect(message).to.include("CONFIRMATIONS");
  });

  it("redact hides the key, secret-named fields and URL credentials", function () {
    const config = loadKeeperConfig(z.object({ ALERT_WEBHOOK_TOKEN: z.string() }), {
      ...MINIMAL,
      ALERT_WEBHOOK_TOKEN: "t0k3n",
    });
    const logged = JSON.stringify(redact(config), (_key, value: unknown) =>
      typeof value === "bigint" ? value.toString() : value,
    );
    expect(logged).not.to.include(KEY);
    expect(logged).not.to.include("t0k3n");
    expect(logged).not.to.include("secret-api-key");
    expect(logged).to.include("https://a.example.org");
    expect(redact(config).privateKey).to.equal("[redacted]");
    expect(redact(config).txTimeoutBlocks).to.equal(3);
    expect(config.privateKey).to.equal(`0x${KEY}`);
  });
});
