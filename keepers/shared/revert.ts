/** One-line reasons for reverted calls: the custom error decoded by the SDK when the contract's interface has it. */
import type { Interface } from "ethers";
import { UnknownContractError, decodeContractError } from "../../sdk";

/**
 * `Name(arg1, arg2)` for revert bytes that `iface` (or the built-in Error/Panic) knows, decoded by the SDK;
 * undefined for empty, unknown or malformed data.
 */
export function decodeRevertData(iface: Interface, revertData: string | undefined): string | undefined {
  if (revertData === undefined || revertData.length < 10) return undefined;
  const decoded = decodeContractError(revertData);
  // Known selector with undecodable arguments, or a selector no ABI of the project has.
  if (decoded === undefined || decoded instanceof UnknownContractError) return undefined;
  if (iface.getError(decoded.selector) === null) return undefined;
  return `${decoded.errorName}(${decoded.args.map((arg: unknown) => String(arg)).join(", ")})`;
}

/** The first line of an error's message, or the value itself as text. */
export function firstLineOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}
