/**
 * After every compile, regenerates the SDK's contract error classes (sdk/generated/contractErrors.ts) from the
 * artifacts, like typechain-types. Also under solidity-coverage, whose instrumented artifacts have the same ABIs.
 */
import { task } from "hardhat/config";
import { TASK_COMPILE } from "hardhat/builtin-tasks/task-names";

task(TASK_COMPILE, async (args, hre, runSuper) => {
  const result: unknown = await runSuper(args);
  // Imported here: the generator is not needed to load the config.
  const { CONTRACT_ERRORS_OUTPUT, writeContractErrors } = await import("../scripts/lib/generateContractErrors");
  const quiet = (args as { quiet?: boolean }).quiet === true;
  if (writeContractErrors(hre.config.paths.root) && !quiet) console.log(`Generated ${CONTRACT_ERRORS_OUTPUT}`);
  return result;
});
