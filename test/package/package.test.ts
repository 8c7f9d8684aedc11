/**
 * The npm package, as a user gets it: scripts/check-package.ts packs it (building dist/), installs the tarball in a
 * fresh project, type-checks TypeScript users (ESM, CommonJS), runs ESM and CommonJS scripts with plain node, and
 * runs examples/market-monitor.ts from the fresh project (its imports rewritten to the package, type-checked against
 * the package's types) against the system deployed on this test's network, served over JSON-RPC on a free port.
 * Takes about a minute; skipped only with SKIP_PACKAGE_CHECK=1. The contracts are not compiled again
 * (`--no-compile`): `hardhat test` has compiled them, and typechain-types/ is what the package ships.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import hre from "hardhat";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { deployedSystem } from "../fixtures/system";

const ROOT = path.resolve(__dirname, "..", "..");
const TIMEOUT_MS = 240_000;

function checkPackage(
  extraArgs: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const tsNode = require.resolve("ts-node/dist/bin.js", { paths: [ROOT] });
  const args = [
    tsNode,
    "--transpile-only",
    path.join(ROOT, "scripts", "check-package.ts"),
    "--no-compile",
    ...extraArgs,
  ];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: ROOT, timeout: TIMEOUT_MS - 10_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, output: `${stdout}\n${stderr}`, ms: Date.now() - started });
      },
    );
  });
}

describe("npm package (scripts/check-package.ts)", function () {
  it("packs, installs in a fresh project, type-checks, runs from ESM and CommonJS, and runs the monitor example", async function () {
    if (process.env.SKIP_PACKAGE_CHECK === "1") this.skip();
    this.timeout(TIMEOUT_MS);
    const system = await deployedSystem();
    const server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider });
    const { port } = await server.listen();
    try {
      const { code, output, ms } = await checkPackage(["--example", path.join(ROOT, "examples", "market-monitor.ts")], {
        RPC_URL: `http://127.0.0.1:${port}`,
        DEPLOYMENT_FILE: system.deploymentFile,
        WATCH_SEC: "0",
      });
      expect(code, `check-package failed (exit ${code}) after ${ms} ms:\n${output}`).to.equal(0);
      expect(output).to.match(/\[check-package\] package check passed/);
      // The monitor's snapshot, printed by the example running from the fresh project.
      expect(output).to.include(`${system.ait}: index 4.000, mark 4.000, bid - (0) / ask - (0)`);
    } finally {
      await server.close();
    }
  });
});
