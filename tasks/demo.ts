/** `npm run demo`: the whole market on the in-process network (scripts/lib/demo). */
import { task } from "hardhat/config";
import { compileFirst } from "./compile";

task("demo", "Runs the whole market: deploy, index, trading, a shock, liquidations, expiry, settlement, withdrawals")
  .addFlag("json", "Print the report as JSON on stdout (progress stays on stderr)")
  .addOptionalParam("out", "Also write the JSON report to this file")
  .addOptionalParam("passHours", "Hours of chain time between reporter passes (1 to 4)", "1")
  .addOptionalParam("shockBps", "The AIT index drop, bps", "5000")
  .setAction(async (args: { json: boolean; out?: string; passHours: string; shockBps: string }, hre) => {
    await compileFirst(hre);
    const { runDemoTask } = await import("../scripts/lib/demo/runDemo");
    await runDemoTask(hre, args);
  });
