/**
 * One line for any failure of a task: a decoded custom error with its arguments in human units
 * (`InsufficientMargin(account 0x..., equity 100.0, required 1234.5)`), a project error's message, or the first
 * line of anything else. Revert data is searched wherever ethers or Hardhat put it.
 */
import { Interface, decodeBytes32String } from "ethers";
import type { ErrorDescription, ParamType } from "ethers";
import { TokenpitError, formatX18 } from "../../sdk";

/** Errors every contract may revert with. */
const BUILTIN = new Interface(["error Error(string reason)", "error Panic(uint256 code)"]);

/** How deep the search for revert data goes into nested error objects. */
const MAX_DEPTH = 6;

/**
 * The one-line reason of `error`.
 * @param interfaces Interfaces whose custom errors to decode (first match wins).
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

/** `Name(arg value, ...)` for revert bytes one of `interfaces` knows; undefined otherwise. */
export function decodeRevert(data: string, interfaces: Interface[]): string | undefined {
  for (const iface of [...interfaces, BUILTIN]) {
    let parsed: ErrorDescription | null;
    try {
      parsed = iface.parseError(data);
    } catch {
      continue;
    }
    if (parsed === null) continue;
    const args = parsed.fragment.inputs.map((input, i) => formatArg(input, parsed.args[i], interfaces));
    return `${parsed.name}(${args.join(", ")})`;
  }
  return undefined;
}

/** One argument: its name without the unit suffix, then its value (X18 amounts as decimals). */
function formatArg(input: ParamType, value: unknown, interfaces: Interface[]): string {
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

/** The first `0x...` revert payload found under a `data` key of the error or its nested causes. */
function findRevertData(error: unknown, depth = 0): string | undefined {
  if (error === null || typeof error !== "object" || depth > MAX_DEPTH) return undefined;
  const record = error as Record<string, unknown>;
  const data = record.data;
  if (typeof data === "string" && /^0x([0-9a-fA-F]{2})*$/.test(data)) return data;
  if (data !== null && typeof data === "object") {
    const inner = findRevertData(data, depth + 1);
    if (inner !== undefined) return inner;
  }
  for (const key of ["info", "error", "cause", "parent", "revert"]) {
    const inner = findRevertData(record[key], depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
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
