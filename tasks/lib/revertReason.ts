/**
 * One line for any failure of a task: a decoded custom error with its arguments in human units
 * (`InsufficientMargin(account 0x..., equity 100.0, required 1234.5)`), a project error's message, or the first
 * line of anything else. Revert data is searched wherever ethers or Hardhat put it.
 */
import { decodeBytes32String } from "ethers";
import type { ErrorDescription, Interface } from "ethers";
import { TokenpitError, UnknownContractError, decodeContractError, findRevertData, formatX18 } from "../../sdk";
import type { ContractErrorParam } from "../../sdk";

/**
 * The one-line reason of `error`.
 * @param interfaces Interfaces for custom errors outside the SDK's generated classes (first match wins).
 */
export function describeFailure(error: unknown, interfaces: Interface[]): string {
  if (error instanceof TokenpitError || (error instanceof Error && error.name === "CliError")) {
    return firstLine(error.message);
  }
  const data = findRevertData(error);
  if (data !== undefined) {
    const decoded = decodeRevert(data, interfaces);
    if (decoded !== undefined) return decoded;
    if (data.length >= 10) return `reverted with unknown error ${data.slice(0, 10)}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  const custom = /reverted with custom error '([^']*)'/.exec(message);
  if (custom !== null) return custom[1];
  const reason = /reverted with reason string '([^']*)'/.exec(message);
  if (reason !== null) return `Error(${reason[1]})`;
  if (data === "0x" || /reverted without a reason/.test(message)) return "transaction reverted without a reason";
  return firstLine(shortMessageOf(error));
}

/**
 * `Name(arg value, ...)` for revert bytes the SDK knows (every project error, Panic, Error(string)); `interfaces`
 * are consulted only for selectors the SDK does not know (test harnesses). Undefined otherwise.
 */
export function decodeRevert(data: string, interfaces: Interface[]): string | undefined {
  const decoded = decodeContractError(data);
  if (decoded === undefined) return undefined;
  if (!(decoded instanceof UnknownContractError)) {
    return formatCall(decoded.errorName, decoded.params, decoded.args, interfaces);
  }
  for (const iface of interfaces) {
    let parsed: ErrorDescription | null;
    try {
      parsed = iface.parseError(data);
    } catch {
      continue;
    }
    if (parsed !== null) return formatCall(parsed.name, parsed.fragment.inputs, parsed.args, interfaces);
  }
  return undefined;
}

/** `Name(arg value, ...)` from a decoded error's name, ABI arguments and values. */
function formatCall(
  name: string,
  params: readonly ContractErrorParam[],
  args: readonly unknown[],
  interfaces: Interface[],
): string {
  return `${name}(${params.map((param, i) => formatArg(param, args[i], interfaces)).join(", ")})`;
}

/** One argument: its name without the unit suffix, then its value (X18 amounts as decimals). */
function formatArg(input: ContractErrorParam, value: unknown, interfaces: Interface[]): string {
  const name = input.name;
  let text: string;
  if (typeof value === "bigint" && name.endsWith("X18")) {
    text = formatX18(value, 1);
  } else if (input.type === "bytes32" && typeof value === "string") {
    text = bytes32Text(value);
  } else if (input.type === "bytes" && typeof value === "string") {
    text = decodeRevert(value, interfaces) ?? value.slice(0, 10);
  } else {
    text = String(value);
  }
  const label = name.replace(/X18$/, "");
  return label === "" ? text : `${label} ${text}`;
}

/** A bytes32 as its text when it holds a short string (symbols, feed ids), else the hex. */
function bytes32Text(value: string): string {
  try {
    const text = decodeBytes32String(value);
    if (/^[\x20-\x7e]+$/.test(text)) return text;
  } catch {
    // Not a string.
  }
  return value;
}

/** ethers' short message when there is one (no request dump), else the message. */
function shortMessageOf(error: unknown): string {
  if (error instanceof Error) {
    const short = (error as { shortMessage?: unknown }).shortMessage;
    return typeof short === "string" && short !== "" ? short : error.message;
  }
  return String(error);
}

function firstLine(message: string): string {
  return message.split("\n")[0].trim();
}
