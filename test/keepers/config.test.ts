import { expect } from "chai";
import { DEFAULT_REPORTER_RPC_URL, loadReporterConfig } from "../../keepers/oracle-reporter/config";
import { KeeperConfigError } from "../../keepers/shared/errors";
import { EnvConfigError, readEnvNetwork } from "../../config/env";
import { backoffDelayMs, withRetry } from "../../keepers/shared/retry";

const KEY = "0x" + "11".repeat(32);
const ORACLE = "0x" + "22".repeat(20);

describe("Configuration from the environment", function () {
  describe("reporter", function () {
    const MINIMAL = {
      PRIVATE_KEY: KEY,
      REPORTER_ORACLE_ADDRESS: ORACLE,
      REPORTER_SIGNER_KEYS: `${KEY}, ${"33".repeat(32)}`,
    };

    it("parses a complete configuration with defaults", function () {
      const config = loadReporterConfig(MINIMAL);
      expect(config.signerKeys).to.have.length(2);
      expect(config.feeds).to.deep.equal(["AIT", "GPUH"]);
      expect(config.heartbeatSec).to.equal(3_600n);
      expect(config.passIntervalMs).to.equal(60_000);
      expect(config.dryRun).to.equal(false);
      expect(config.source).to.equal("bundled");
      // The shared keeper variables, with the runtime's defaults; a local node when no RPC URL is set.
      expect(config.rpcUrls).to.deep.equal([DEFAULT_REPORTER_RPC_URL]);
      expect(config.privateKey).to.equal(KEY);
      expect(config.confirmations).to.equal(2);
      expect(config.maxFeePerGasWei).to.equal(500n * 10n ** 9n);
      expect(config.statusPort).to.equal(0);
      expect(config.deprecatedDryRunAliasSet).to.equal(false);
    });

    it("reads the shared keeper variables: several RPC URLs, fees, status port", function () {
      const config = loadReporterConfig({
        ...MINIMAL,
        RPC_URL: "http://ignored.example.org",
        RPC_URLS: "https://a.example.org, https://b.example.org",
        MAX_FEE_PER_GAS_GWEI: "30",
        FEE_BUMP_BPS: "2000",
        STATUS_PORT: "9100",
        REPORTER_POLL_SEC: "15",
      });
      expect(config.rpcUrls).to.deep.equal(["https://a.example.org", "https://b.example.org"]);
      expect(config.maxFeePerGasWei).to.equal(30n * 10n ** 9n);
      expect(config.feeBumpBps).to.equal(2_000);
      expect(config.statusPort).to.equal(9_100);
      expect(config.passIntervalMs).to.equal(15_000);
      expect(loadReporterConfig({ ...MINIMAL, RPC_URL: "https://c.example.org" }).rpcUrls).to.deep.equal([
        "https://c.example.org",
      ]);
    });

    it("runs dry when DRY_RUN or the deprecated REPORTER_DRY_RUN is true", function () {
      expect(loadReporterConfig({ ...MINIMAL, DRY_RUN: "true" }).dryRun).to.equal(true);
      const alias = loadReporterConfig({ ...MINIMAL, REPORTER_DRY_RUN: "true" });
      expect([alias.dryRun, alias.deprecatedDryRunAliasSet]).to.deep.equal([true, true]);
      expect(loadReporterConfig({ ...MINIMAL, DRY_RUN: "true", REPORTER_DRY_RUN: "false" }).dryRun).to.equal(true);
      expect(loadReporterConfig({ ...MINIMAL, REPORTER_DRY_RUN: "false" }).dryRun).to.equal(false);
    });

    it("names every missing or malformed variable in one error, never a key", function () {
      try {
        loadReporterConfig({
          PRIVATE_KEY: "0x12",
          REPORTER_SIGNER_KEYS: `${KEY},0x34`,
          REPORTER_FEEDS: "AIT,BTC",
          REPORTER_DEVIATION_BPS: "-1",
          DRY_RUN: "yes",
        });
        expect.fail("should have thrown");
      } catch (error) {
        expect(error).to.be.instanceOf(KeeperConfigError);
        const message = (error as Error).message;
        for (const name of [
          "PRIVATE_KEY",
          "DRY_RUN",
          "REPORTER_ORACLE_ADDRESS",
          "REPORTER_SIGNER_KEYS",
          "REPORTER_FEEDS",
          "REPORTER_DEVIATION_BPS",
        ]) {
          expect(message).to.include(name);
        }
        expect(message).not.to.include(KEY.slice(2));
      }
    });
  });

  describe("network (.env for hardhat.config.ts)", function () {
    it("is absent when RPC_URL and PRIVATE_KEY are both unset", function () {
      expect(readEnvNetwork({})).to.equal(undefined);
    });

    it("reads a complete network and adds the 0x prefix", function () {
      const network = readEnvNetwork({
        RPC_URL: "https://rpc.example.org",
        PRIVATE_KEY: "ab".repeat(32),
        CHAIN_ID: "10",
      });
      expect(network).to.deep.equal({
        url: "https://rpc.example.org",
        accounts: ["0x" + "ab".repeat(32)],
        chainId: 10,
      });
    });

    it("refuses half a configuration and malformed values with a clear message", function () {
      expect(() => readEnvNetwork({ RPC_URL: "https://rpc.example.org" })).to.throw(
        EnvConfigError,
        /PRIVATE_KEY is missing/,
      );
      expect(() => readEnvNetwork({ PRIVATE_KEY: KEY })).to.throw(EnvConfigError, /RPC_URL is missing/);
      expect(() => readEnvNetwork({ RPC_URL: "ftp://x", PRIVATE_KEY: KEY })).to.throw(EnvConfigError, /RPC_URL/);
      expect(() => readEnvNetwork({ RPC_URL: "http://x.org", PRIVATE_KEY: "0x1234" })).to.throw(
        EnvConfigError,
        /PRIVATE_KEY must be/,
      );
      expect(() => readEnvNetwork({ RPC_URL: "http://x.org", PRIVATE_KEY: KEY, CHAIN_ID: "abc" })).to.throw(
        EnvConfigError,
        /CHAIN_ID/,
      );
      expect(() => readEnvNetwork({ CHAIN_ID: "1" })).to.throw(EnvConfigError, /CHAIN_ID is set/);
    });
  });

  describe("retry with backoff", function () {
    it("retries transient failures with growing, capped, jittered delays", async function () {
      const delays: number[] = [];
      let calls = 0;
      const value = await withRetry(
        async () => {
          calls += 1;
          if (calls < 4) throw new Error("timeout");
          return "ok";
        },
        { attempts: 5, baseDelayMs: 100, maxDelayMs: 300, sleep: async (ms) => void delays.push(ms), random: () => 1 },
      );
      expect(value).to.equal("ok");
      expect(delays).to.deep.equal([100, 200, 300]);
      expect(backoffDelayMs(1, { baseDelayMs: 100, maxDelayMs: 300 }, () => 0)).to.equal(50);
    });

    it("stops at once on an error that will not heal, and after the last attempt", async function () {
      let calls = 0;
      const failing = async () => {
        calls += 1;
        throw new Error("reverted");
      };
      const failure = async (promise: Promise<unknown>) =>
        promise.then(
          () => "resolved",
          (error: Error) => error.message,
        );
      const noRetry = { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, shouldRetry: () => false };
      expect(await failure(withRetry(failing, noRetry))).to.equal("reverted");
      expect(calls).to.equal(1);
      const threeTries = { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} };
      expect(await failure(withRetry(failing, threeTries))).to.equal("reverted");
      expect(calls).to.equal(4);
    });
  });
});
