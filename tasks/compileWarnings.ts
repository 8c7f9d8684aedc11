/**
 * Compiler warnings fail the build: after solc compiles a job, every warning in its output (except the few
 * ALLOWED_WARNINGS of tasks/lib/compileWarnings.ts, each with its reason) stops `npx hardhat compile` with the list
 * of files, lines and messages, before any artifact is written, so the next compile tries again. Not under
 * solidity-coverage: its instrumented sources are not the project's, and the same sources are gated by the normal
 * compile.
 */
import { subtask } from "hardhat/config";
import { HardhatPluginError } from "hardhat/plugins";
import { TASK_COMPILE_SOLIDITY_COMPILE } from "hardhat/builtin-tasks/task-names";
import { hasCompileErrors, type SolcOutputLike, warningsFailure, warningsOf } from "./lib/compileWarnings";

subtask(TASK_COMPILE_SOLIDITY_COMPILE, async (args, hre, runSuper) => {
  const result = (await runSuper(args)) as { output: SolcOutputLike };
  if ((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true) return result;
  // With errors, Hardhat's own check prints every diagnostic and fails the compile.
  if (hasCompileErrors(result.output)) return result;
  const warnings = warningsOf(result.output);
  if (warnings.length > 0) throw new HardhatPluginError("tokenpit", warningsFailure(warnings));
  return result;
});
