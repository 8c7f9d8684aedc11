/** Runs one task's body inside the command line's error wrapper, with its context opened. */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { runCli } from "./cliError";
import { knownInterfaces, openContext } from "./context";
import type { CliContext, CommonArgs } from "./context";

/**
 * Opens the context of `args` and runs `body`; every failure (the context's included) prints one `error:` line
 * and sets the exit code.
 */
export async function runTask<A extends CommonArgs>(
  hre: HardhatRuntimeEnvironment,
  args: A,
  body: (ctx: CliContext, args: A) => Promise<void>,
): Promise<void> {
  await runCli(
    async () => body(await openContext(hre, args), args),
    async () => knownInterfaces(),
  );
}
