import { expect } from "chai";
import { loadReporterConfig } from "../../keepers/oracle-reporter/config";
import { KeeperConfigError } from "../../keepers/shared/errors";
import { EnvConfigError, readEnvNetwork } from "../../config/env";
import { backoffDelayMs, withRetry } from "../../keepers/shared/retry";

const KEY = "0x" + "11".repeat(32);
const ORACLE = "0x" + "22".repeat(20);

describe("Configuration from the environment", function () {
  describe("reporter", function () {
    it("parses a complete configuration with defaults", function () {
      const config = loadReporterConfig({
        PRIVATE_KEY: KEY,
        REPORTER_ORACLE_ADDRESS: ORACLE,
        REPORTER_SIGNER_KEYS: `${KEY}, ${"33".repeat(32)}`,
      });
      expect(config.signerKeys).to.have.length(2);
      expect(config.feeds).to.deep.equal(["AIT", "GPUH"]);
      expect(config.heartbeatSec).to.equal(3_600n);
      expect(config.dryRun).to.equal(false);
      expect(config.source).to.equal("bundled");
    });

    it("names every missing or malformed variable in one error", function () {
      try {
        loadReporterConfig({ PRIVATE_KEY: "0x12", REPORTER_FEEDS: "AIT,BTC", REPORTER_DEVIATION_BPS: "-1" });
        expect.fail("should have thrown");
      } catch (error) {
        expect(error).to.be.instanceOf(KeeperConfigError);
        const message = (error as Error).message;
        for (const name of [
          "PRIVATE_KEY",
          "REPORTER_ORACLE_ADDRESS",
          "REPORTER_SIGNER_KEYS",
          "REPORTER_FEEDS",
          "REPORTER_DEVIATION_BPS",
        ]) {
          expect(message).to.include(name);
        }
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
