/**
 * The command line's one error type and the wrapper every task action runs in: a failure prints exactly one line,
 * `error: <reason>`, to stderr and sets the exit code to 1; never a stack trace or a raw revert blob.
 */
import { describeFailure } from "./revertReason";
import type { Interface } from "ethers";

/** A failure the command line explains itself (bad input, missing allowance, unknown account...). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** Where a task writes: one line at a time, stdout and stderr. */
export interface Writer {
  out(line: string): void;
  err(line: string): void;
}

/** The process's console. */
export const consoleWriter: Writer = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/**
 * Runs a task body; any failure becomes one `error: ...` line on stderr and `process.exitCode = 1`.
 * @param interfaces Contract interfaces whose custom errors a revert may carry (resolved lazily, after a failure).
 */
export async function runCli(
  body: () => Promise<void>,
  interfaces: () => Promise<Interface[]>,
  writer: Writer = consoleWriter,
): Promise<void> {
  try {
    await body();
  } catch (error) {
    let known: Interface[] = [];
    try {
      known = await interfaces();
    } catch {
      // Without interfaces a revert is described by its selector.
    }
    writer.err(`error: ${describeFailure(error, known)}`);
    process.exitCode = 1;
  }
}
