/**
 * Compiles before a task loads code that imports `typechain-types/` (absent on a fresh clone until the first
 * compile). Without `sizer` the contract sizer's table is not printed: read-only commands keep their output clean.
 * `onlyIfMissing` (the command-line tasks) compiles only when the artifacts, the types or the SDK's generated error
 * classes are missing, so a read takes no compile check; deploy and the demo always compile.
 */
import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

interface SizerConfig {
  contractSizer?: { runOnCompile: boolean };
}

export async function compileFirst(
  hre: HardhatRuntimeEnvironment,
  options: { sizer?: boolean; onlyIfMissing?: boolean } = {},
): Promise<void> {
  // Under solidity-coverage the artifacts are the instrumented ones: compiling again would replace them.
  if ((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true) return;
  const generated = [
    hre.config.paths.artifacts,
    path.join(hre.config.paths.root, "typechain-types"),
    path.join(hre.config.paths.root, "sdk", "generated", "contractErrors.ts"),
  ];
  if (options.onlyIfMissing === true && generated.every((file) => fs.existsSync(file))) return;
  const config = hre.config as unknown as SizerConfig;
  const runOnCompile = config.contractSizer?.runOnCompile;
  if (config.contractSizer !== undefined && options.sizer !== true) config.contractSizer.runOnCompile = false;
  try {
    await hre.run("compile", { quiet: true });
  } finally {
    if (config.contractSizer !== undefined && runOnCompile !== undefined)
      config.contractSizer.runOnCompile = runOnCompile;
  }
}
