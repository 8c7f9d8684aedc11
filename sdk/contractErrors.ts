/**
 * Contract reverts and provider failures as typed SDK errors. The class of each custom error of the contracts is
 * generated on compile (sdk/generated/contractErrors.ts); this module holds their base class, the built-in
 * Panic and Error(string) reverts, and turns whatever ethers or Hardhat threw into one of them (`toSdkError`).
 */
import { AbiCoder, Result, dataSlice } from "ethers";
import { TokenpitError } from "./errors";
import type * as Generated from "./generated/contractErrors";

/** One argument of a contract error as the ABI declares it: its name ("" when unnamed) and canonical type. */
export interface ContractErrorParam {
  readonly name: string;
  readonly type: string;
}

/** A generated contract error class: its constructor and what the ABI says about it. */
export interface ContractErrorClass {
  new (data: string, args: readonly unknown[]): ContractRevertError;
  /** The canonical signature, `Name(type,...)`. */
  readonly signature: string;
  /** The 4-byte selector, lower-case `0x` hex. */
  readonly selector: string;
  /** The arguments in ABI order. */
  readonly params: readonly ContractErrorParam[];
}

/** A call or transaction the contracts reverted; the base of every decoded revert. */
export class ContractRevertError extends TokenpitError {
  /**
   * @param errorName The Solidity name of the error ("" when unknown).
   * @param selector The 4-byte selector of the revert data.
   * @param data The revert bytes (selector and encoded arguments).
   * @param args The decoded arguments in ABI order.
   * @param params The ABI arguments (names label them in the message).
   * @param message The message; by default `Name(name value, ...)`.
   */
  constructor(
    readonly errorName: string,
    readonly selector: string,
    readonly data: string,
    readonly args: readonly unknown[],
    readonly params: readonly ContractErrorParam[] = [],
    message?: string,
  ) {
    super(message ?? `${errorName}(${args.map((arg, i) => labelled(params[i]?.name ?? "", arg)).join(", ")})`);
  }
}

/** The selector of the built-in `Panic(uint256)` revert (failed assert, overflow, division by zero...). */
export const PANIC_SELECTOR = "0x4e487b71";

/** The selector of the built-in `Error(string)` revert (`require` with a message, `revert("...")`). */
export const REVERT_STRING_SELECTOR = "0x08c379a0";

/** What each Panic code means (Solidity documentation of `Panic(uint256)`). */
const PANIC_REASONS: Record<string, string> = {
  "0": "generic panic",
  "1": "assertion failed",
  "17": "arithmetic overflow or underflow",
  "18": "division or modulo by zero",
  "33": "invalid enum value",
  "34": "invalid storage byte array encoding",
  "49": "pop from an empty array",
  "50": "array index out of bounds",
  "65": "out of memory",
  "81": "call to an uninitialized function pointer",
};

/** A built-in `Panic(uint256 code)` revert. */
export class PanicError extends ContractRevertError {
  /**
   * @param code The panic code (0x11: arithmetic overflow, 0x12: division by zero, ...).
   * @param data The revert bytes; encoded from the code when omitted.
   */
  constructor(
    readonly code: bigint,
    data: string = AbiCoder.defaultAbiCoder().encode(["uint256"], [code]).replace(/^0x/, PANIC_SELECTOR),
  ) {
    const reason = PANIC_REASONS[code.toString()] ?? "unknown panic code";
    super(
      "Panic",
      PANIC_SELECTOR,
      data,
      [code],
      [{ name: "code", type: "uint256" }],
      `Panic(0x${code.toString(16)}: ${reason})`,
    );
  }
}

/** A built-in `Error(string reason)` revert. */
export class RevertStringError extends ContractRevertError {
  /**
   * @param reason The revert string.
   * @param data The revert bytes; encoded from the reason when omitted.
   */
  constructor(
    readonly reason: string,
    data: string = AbiCoder.defaultAbiCoder().encode(["string"], [reason]).replace(/^0x/, REVERT_STRING_SELECTOR),
  ) {
    super("Error", REVERT_STRING_SELECTOR, data, [reason], [{ name: "reason", type: "string" }]);
  }
}

/** Revert bytes that no contract ABI of the project knows, or whose arguments do not decode; `errorName` is "". */
export class UnknownContractError extends ContractRevertError {
  /**
   * @param selector The first 4 bytes of `data` (all of it when shorter).
   * @param data The revert bytes.
   * @param knownName The name of the error when the selector is known but its arguments did not decode.
   */
  constructor(selector: string, data: string, knownName?: string) {
    super(
      "",
      selector,
      data,
      [],
      [],
      knownName === undefined
        ? `reverted with unknown error ${selector}`
        : `reverted with ${knownName} (${selector}) and undecodable arguments`,
    );
  }
}

/** The RPC endpoint could not be reached, timed out or failed on its side; `cause` is the original error. */
export class NetworkError extends TokenpitError {
  /**
   * @param code The ethers or system code (NETWORK_ERROR, TIMEOUT, SERVER_ERROR, ECONNREFUSED...).
   * @param cause The original error.
   */
  constructor(
    readonly code: string,
    cause: unknown,
  ) {
    super(`network failure (${code}): ${firstLine(messageOf(cause))}`);
    this.cause = cause;
  }
}

/** The user declined to sign or send in the wallet (ethers ACTION_REJECTED, EIP-1193 code 4001). */
export class UserRejectedError extends TokenpitError {
  /** @param cause The original error. */
  constructor(cause: unknown) {
    super(`rejected by the user: ${firstLine(messageOf(cause))}`);
    this.cause = cause;
  }
}

/** How deep the search for revert data goes into nested error objects. */
const MAX_DEPTH = 6;

/** Keys under which ethers and Hardhat nest the error that carries the revert data. */
const NESTED_KEYS = ["info", "error", "cause", "parent", "revert"];

/**
 * The first `0x...` revert payload found under a `data` key of `error` or of its nested errors (`info`, `error`,
 * `cause`, `parent`, `revert`), searched to a bounded depth: ethers' `error.data`, a JSON-RPC node's
 * `error.info.error.data`, Hardhat's provider errors. "0x" (a revert without data) counts as found.
 */
export function findRevertData(error: unknown, depth = 0): string | undefined {
  if (error === null || typeof error !== "object" || depth > MAX_DEPTH) return undefined;
  const record = error as Record<string, unknown>;
  const data = record.data;
  if (typeof data === "string" && /^0x([0-9a-fA-F]{2})*$/.test(data)) return data;
  if (data !== null && typeof data === "object") {
    const inner = findRevertData(data, depth + 1);
    if (inner !== undefined) return inner;
  }
  for (const key of NESTED_KEYS) {
    const inner = findRevertData(record[key], depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/**
 * The typed error of revert bytes: the generated class of a project error, `PanicError`, `RevertStringError`, or
 * `UnknownContractError` for a selector no ABI knows (or arguments that do not decode). Undefined for empty data.
 */
export function decodeContractError(data: string): ContractRevertError | undefined {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(data) || data.length <= 2) return undefined;
  if (data.length < 10) return new UnknownContractError(data.toLowerCase(), data);
  const selector = data.slice(0, 10).toLowerCase();
  const coder = AbiCoder.defaultAbiCoder();
  const body = dataSlice(data, 4);
  try {
    if (selector === PANIC_SELECTOR) return new PanicError(coder.decode(["uint256"], body)[0] as bigint, data);
    if (selector === REVERT_STRING_SELECTOR)
      return new RevertStringError(coder.decode(["string"], body)[0] as string, data);
  } catch {
    return new UnknownContractError(selector, data, selector === PANIC_SELECTOR ? "Panic" : "Error");
  }
  const errorClass = contractErrorClasses()[selector];
  if (errorClass === undefined) return new UnknownContractError(selector, data);
  let args: unknown[];
  try {
    args = plain(
      coder.decode(
        errorClass.params.map((param) => param.type),
        body,
      ),
    ) as unknown[];
  } catch {
    return new UnknownContractError(selector, data, errorClass.signature);
  }
  return new errorClass(data, args);
}

/**
 * The SDK error for anything a contract call, a transaction or a provider threw:
 * - a `TokenpitError` as it is;
 * - revert data found anywhere in the error: its decoded class (`cause` set to the original error);
 * - no data, but Hardhat's in-process message (`reverted with custom error 'Name(args)'`, a reason string, a panic
 *   code): the same classes, decoded from the message on a best-effort basis;
 * - a wallet refusal (ACTION_REJECTED, 4001): `UserRejectedError`;
 * - an unreachable, timed-out or failing RPC endpoint: `NetworkError`;
 * - anything else unchanged (a non-Error value wrapped in an Error).
 */
export function toSdkError(error: unknown): Error {
  if (error instanceof TokenpitError) return error;
  if (findCode(error, (code) => REJECTED_CODES.has(code)) !== undefined) return new UserRejectedError(error);
  const data = findRevertData(error);
  const decoded = (data === undefined ? undefined : decodeContractError(data)) ?? decodeRevertMessage(messageOf(error));
  if (decoded !== undefined) {
    decoded.cause = error;
    return decoded;
  }
  const network = networkCodeOf(error);
  if (network !== undefined) return new NetworkError(network, error);
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The typed error named in a Hardhat revert message, for errors that carry no data: the custom error's arguments
 * are parsed from the text and re-encoded, so the result is the same class `decodeContractError` would give.
 * Undefined when the message names no revert or its arguments cannot be read.
 */
export function decodeRevertMessage(message: string): ContractRevertError | undefined {
  const reason = /reverted with reason string '([\s\S]*)'/.exec(message);
  if (reason !== null) return new RevertStringError(reason[1]);
  const panic = /reverted with panic code (0x[0-9a-fA-F]+|\d+)/.exec(message);
  if (panic !== null) return new PanicError(BigInt(panic[1]));
  const custom = /reverted with custom error '([A-Za-z_$][\w$]*)\(([\s\S]*)\)'/.exec(message);
  if (custom === null) return undefined;
  const [, name, argText] = custom;
  const args = splitArgs(argText);
  for (const errorClass of Object.values(contractErrorClasses())) {
    if (errorClass.signature.slice(0, errorClass.signature.indexOf("(")) !== name) continue;
    if (errorClass.params.length !== args.length) continue;
    const values = errorClass.params.map((param, i) => parseArg(param.type, args[i]));
    if (values.includes(UNREADABLE)) continue;
    try {
      const encoded = AbiCoder.defaultAbiCoder().encode(
        errorClass.params.map((param) => param.type),
        values,
      );
      return decodeContractError(errorClass.selector + encoded.slice(2));
    } catch {
      // An address or bytes value the text does not render faithfully.
    }
  }
  return undefined;
}

/** The generated classes by selector, loaded on first use (the generated module imports this one). */
let classesBySelector: Readonly<Record<string, ContractErrorClass>> | undefined;

function contractErrorClasses(): Readonly<Record<string, ContractErrorClass>> {
  if (classesBySelector === undefined) {
    // A lazy require: the generated classes extend ContractRevertError, so they load after this module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const generated = require("./generated/contractErrors") as typeof Generated;
    classesBySelector = generated.CONTRACT_ERROR_CLASSES;
  }
  return classesBySelector;
}

/** Decoded ABI values with every ethers `Result` turned into a plain array. */
function plain(value: unknown): unknown {
  if (value instanceof Result) return value.toArray(true);
  return value;
}

/** The arguments of a message `Name(a, "b", [c, d])` split at top-level commas. */
function splitArgs(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let inString = false;
  let current = "";
  for (const char of text) {
    if (char === '"') inString = !inString;
    if (!inString && (char === "[" || char === "(")) depth++;
    if (!inString && (char === "]" || char === ")")) depth--;
    if (!inString && depth === 0 && char === ",") {
      args.push(current.trim());
      current = "";
    } else {
      current += char;
    }
  }
  if (current.trim() !== "") args.push(current.trim());
  return args;
}

/** Marks an argument the message does not render in a form that can be re-encoded. */
const UNREADABLE = Symbol("unreadable");

/** One argument of a revert message as a value of the ABI `type` (scalars only), or UNREADABLE. */
function parseArg(type: string, text: string): unknown {
  const unquoted = /^"(.*)"$/s.exec(text)?.[1] ?? text;
  if (/^u?int\d*$/.test(type)) return /^(-?\d+|0x[0-9a-fA-F]+)$/.test(unquoted) ? BigInt(unquoted) : UNREADABLE;
  if (type === "bool") return unquoted === "true" ? true : unquoted === "false" ? false : UNREADABLE;
  if (type === "address" || type === "string" || /^bytes\d*$/.test(type)) return unquoted;
  return UNREADABLE;
}

/** One argument in a message: `name value`, or the value alone when unnamed. */
function labelled(name: string, value: unknown): string {
  const text = formatValue(value);
  return name === "" ? text : `${name} ${text}`;
}

/** A decoded value as text: arrays in brackets, everything else as its string. */
function formatValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  return String(value);
}

/** The network failure codes of ethers and of Node's sockets. */
const NETWORK_CODES = new Set([
  "NETWORK_ERROR",
  "TIMEOUT",
  "SERVER_ERROR",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** The codes of a wallet refusal: ethers' and EIP-1193's. */
const REJECTED_CODES = new Set<unknown>(["ACTION_REJECTED", 4001]);

/**
 * The first `code` of the error or of its nested errors that `accept` takes (ethers' string codes, EIP-1193 and
 * JSON-RPC numbers, Node's errno codes).
 */
function findCode(error: unknown, accept: (code: unknown) => boolean, depth = 0): unknown {
  if (error === null || typeof error !== "object" || depth > MAX_DEPTH) return undefined;
  const record = error as Record<string, unknown>;
  if (record.code !== undefined && accept(record.code)) return record.code;
  for (const key of NESTED_KEYS) {
    const inner = findCode(record[key], accept, depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/** The code of a network failure anywhere in the error chain, or a socket error named in the message. */
function networkCodeOf(error: unknown): string | undefined {
  const code = findCode(error, (candidate) => typeof candidate === "string" && NETWORK_CODES.has(candidate));
  if (typeof code === "string") return code;
  return /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)\b/.exec(messageOf(error))?.[1];
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error !== null && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return String(error);
}

function firstLine(message: string): string {
  return message.split("\n")[0].trim();
}
