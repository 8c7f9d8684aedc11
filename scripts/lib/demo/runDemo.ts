/**
 * The `demo` task's body: runs the story on the network Hardhat is connected to (the in-process network by
 * default; `--network localhost` for a running `npx hardhat node`), prints the report (or JSON with `--json`), and
 * exits 1 when conservation or a settlement check fails.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { LOCAL_CHAIN_ID } from "../../../config/deploy";
import { deploymentPath, journalPathOf } from "../../../config/deployments";
import { Progress } from "./progress";
import { runDemoStory } from "./story";
import { buildReport, formatReport, reportJson } from "./report";
import type { DemoReport } from "./report";

export interface DemoTaskArgs {
  json: boolean;
  out?: string;
  /** Hours of chain time between reporter passes. */
  passHours: string;
  /** The AIT drop, bps. */
  shockBps: string;
}

/** Whether the report's checks pass (conservation to the unit, settlement prices = recomputed TWAPs). */
export function demoPassed(report: DemoReport): boolean {
  return report.conservation.holds && report.settlements.every((s) => s.matches);
}

export async function runDemoTask(hre: HardhatRuntimeEnvironment, args: DemoTaskArgs): Promise<DemoReport> {
  const passHours = Number(args.passHours);
  if (!Number.isInteger(passHours) || passHours < 1 || passHours > 4) {
    throw new Error(`--pass-hours must be 1 to 4, got ${args.passHours}`);
  }
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  if (chainId !== LOCAL_CHAIN_ID) {
    throw new Error(
      `the demo moves chain time: it runs on the in-process network or a local Hardhat node, not chain ${chainId}`,
    );
  }
  // The in-process network ends with the command: its deployment file goes to a temporary folder. On a node the
  // demo's own system is written to deployments/<network>-demo.json, for the CLI tasks (--deployment).
  const deploymentFile =
    hre.network.name === "hardhat"
      ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tokenpit-demo-")), "hardhat.json")
      : deploymentPath(hre.config.paths.root, `${hre.network.name}-demo-${Date.now()}`);
  const progress = new Progress(5);
  const started = Date.now();
  const outcome = await runDemoStory({
    hre,
    deploymentFile,
    journalFile: journalPathOf(deploymentFile),
    passHours,
    shockBps: BigInt(args.shockBps),
    progress,
  });
  const report = await buildReport(hre, outcome);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (args.json) process.stdout.write(`${reportJson(report)}\n`);
  else console.log(`${formatReport(report)}\n(${seconds} s; deployment file ${deploymentFile})`);
  if (args.out !== undefined) fs.writeFileSync(args.out, `${reportJson(report)}\n`);
  if (!demoPassed(report)) process.exitCode = 1;
  return report;
}
