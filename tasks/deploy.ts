/**
 * `npm run deploy -- --network <name>`: deploys the whole exchange (scripts/lib/deploy/deploySystem.ts) and writes
 * `deployments/<network>.json`. Running it again resumes an interrupted deployment, or changes nothing on a finished
 * one. Modules are imported inside the action so that Hardhat loads before the contracts are compiled.
 */
import { task } from "hardhat/config";
import { compileFirst } from "./compile";

task("deploy", "Deploys the whole exchange (resumable; a no-op on a finished deployment)")
  .addOptionalParam("deployment", "Deployment file to write (default deployments/<network>.json)")
  .setAction(async (args: { deployment?: string }, hre) => {
    await compileFirst(hre, { sizer: true });
    const { runDeployTask } = await import("../scripts/lib/deploy/deployTask");
    await runDeployTask(hre, args);
  });

task("list-series", "Lists the contract months now due (through the timelock: schedules, then executes when ready)")
  .addOptionalParam("deployment", "Deployment file (default deployments/<network>.json)")
  .addOptionalParam("months", "Contract months per product that should be listed", "3")
  .addFlag("advanceTime", "Local chains only: move time past the timelock delay and execute at once")
  .setAction(async (args: { deployment?: string; months: string; advanceTime: boolean }, hre) => {
    await compileFirst(hre);
    const { runListSeriesTask } = await import("../scripts/lib/deploy/listSeriesTask");
    await runListSeriesTask(hre, args);
  });
