/** One-line reasons for reverted calls: the custom error decoded with the contract's interface when possible. */
import type { Interface } from "ethers";

/**
 * `Name(arg1, arg2)` for revert bytes that `iface` (or the built-in Error/Panic) knows; undefined for empty,
 * unknown or malformed data.
 */
export function decodeRevertData(iface: Interface, revertData: string | undefined): string | undefined {
  if (revertData === undefined || revertData.length < 10) return undefined;
  try {
    const parsed = iface.parseError(revertData);
    if (parsed === null) return undefined;
    return `${parsed.name}(${parsed.args.map((arg: unknown) => String(arg)).join(", ")})`;
  } catch {
    // Known selector, undecodable arguments.
    return undefined;
  }
}

/** The first line of an error's message, or the value itself as text. */
export function firstLineOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}
