/**
 * Generates `sdk/generated/contractErrors.ts`: one SDK error class per custom error of the contracts, read from the
 * compiled artifacts (the project's contracts except the test mocks, plus the OpenZeppelin contracts they build on).
 * Runs after every compile (tasks/generateErrors.ts); the output depends on the ABIs only, so it is deterministic.
 */
import fs from "node:fs";
import path from "node:path";
import { ErrorFragment, ParamType } from "ethers";
import type { JsonFragment, JsonFragmentType } from "ethers";

/** Where the generated module goes, relative to the project root. */
export const CONTRACT_ERRORS_OUTPUT = path.join("sdk", "generated", "contractErrors.ts");

/** Artifact folders (relative to the artifacts directory) whose errors are collected, and the ones left out. */
const INCLUDED_DIRS = ["contracts", "@openzeppelin"];
const EXCLUDED_DIRS = [path.join("contracts", "mocks")];

/** Instance members of ContractRevertError and Error that an argument field must not shadow. */
const RESERVED_FIELDS = new Set([
  "errorName",
  "selector",
  "data",
  "args",
  "params",
  "name",
  "message",
  "stack",
  "cause",
]);

/** One distinct error: its ABI entry, the contracts that declare it, and its class name. */
interface CollectedError {
  readonly fragment: ErrorFragment;
  readonly inputs: readonly JsonFragmentType[];
  readonly signature: string;
  readonly contracts: Set<string>;
  className: string;
  renamedFrom?: string;
}

/**
 * The source of `sdk/generated/contractErrors.ts` for the artifacts under `artifactsDir`.
 * Errors are deduplicated by signature and sorted by name; a name shared by two signatures gets a numeric suffix.
 */
export function generateContractErrorsSource(artifactsDir: string): string {
  const errors = assignClassNames(collectErrors(artifactsDir));
  const lines: string[] = [
    "/**",
    " * Every custom error of the Tokenpit contracts (and of the OpenZeppelin contracts they build on) as an SDK error",
    " * class, a human-readable ABI of them and a registry by selector (decoding: sdk/contractErrors.ts).",
    " *",
    " * GENERATED on every compile by scripts/lib/generateContractErrors.ts from the artifacts: do not edit.",
    " */",
    'import { ContractRevertError } from "../contractErrors";',
    'import type { ContractErrorClass, ContractErrorParam } from "../contractErrors";',
    "",
  ];
  for (const error of errors) lines.push(...classSource(error), "");
  lines.push(
    "/** Every error above as a human-readable ABI fragment (`error Name(type name, ...)`), sorted by name. */",
    "export const CONTRACT_ERROR_ABI: readonly string[] = [",
    ...errors.map((error) => `  ${quote(error.fragment.format("full"))},`),
    "];",
    "",
    "/** The class of every error above by its 4-byte selector (lower-case `0x` hex). */",
    "export const CONTRACT_ERROR_CLASSES: Readonly<Record<string, ContractErrorClass>> = {",
    ...errors.map((error) => `  ${quote(error.fragment.selector)}: ${error.className},`),
    "};",
    "",
  );
  return lines.join("\n");
}

/**
 * Regenerates `sdk/generated/contractErrors.ts` from `<rootDir>/artifacts`.
 * @returns Whether the file was written (false when its content was already current).
 */
export function writeContractErrors(rootDir: string): boolean {
  const source = generateContractErrorsSource(path.join(rootDir, "artifacts"));
  const outFile = path.join(rootDir, CONTRACT_ERRORS_OUTPUT);
  if (fs.existsSync(outFile) && fs.readFileSync(outFile, "utf8") === source) return false;
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, source);
  return true;
}

/** Every distinct error (by signature) of the included artifacts, in artifact path order. */
function collectErrors(artifactsDir: string): CollectedError[] {
  const bySignature = new Map<string, CollectedError>();
  const excluded = EXCLUDED_DIRS.map((dir) => path.join(artifactsDir, dir));
  const files = INCLUDED_DIRS.flatMap((dir) => artifactFiles(path.join(artifactsDir, dir), excluded));
  for (const file of files) {
    const artifact = JSON.parse(fs.readFileSync(file, "utf8")) as { contractName?: string; abi?: JsonFragment[] };
    if (!Array.isArray(artifact.abi)) continue;
    for (const entry of artifact.abi) {
      if (entry.type !== "error") continue;
      const fragment = ErrorFragment.from(entry);
      const signature = fragment.format("sighash");
      let collected = bySignature.get(signature);
      if (collected === undefined) {
        const inputs = entry.inputs ?? [];
        collected = { fragment, inputs, signature, contracts: new Set(), className: `${fragment.name}Error` };
        bySignature.set(signature, collected);
      }
      collected.contracts.add(artifact.contractName ?? path.basename(file, ".json"));
    }
  }
  return [...bySignature.values()];
}

/** The contract artifacts (not debug files) under `dir`, sorted, skipping the `excluded` folders. */
function artifactFiles(dir: string, excluded: string[]): string[] {
  if (!fs.existsSync(dir) || excluded.includes(dir)) return [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => compare(a.name, b.name));
  return entries.flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return artifactFiles(full, excluded);
    return entry.name.endsWith(".json") && !entry.name.endsWith(".dbg.json") ? [full] : [];
  });
}

/** Sorts by name then signature; the second and later signatures of one name get `<Name><n>Error`. */
function assignClassNames(errors: CollectedError[]): CollectedError[] {
  const sorted = [...errors].sort(
    (a, b) => compare(a.fragment.name, b.fragment.name) || compare(a.signature, b.signature),
  );
  const taken = new Set(sorted.map((error) => error.className));
  for (let i = 1; i < sorted.length; i++) {
    const name = sorted[i].fragment.name;
    if (name !== sorted[i - 1].fragment.name) continue;
    let n = 2;
    while (taken.has(`${name}${n}Error`)) n++;
    sorted[i].renamedFrom = sorted[i].className;
    sorted[i].className = `${name}${n}Error`;
    taken.add(sorted[i].className);
  }
  if (taken.has("ContractRevertError")) throw new Error("a contract error named ContractRevert clashes with the base");
  return sorted;
}

/** The class of one error. */
function classSource(error: CollectedError): string[] {
  const { fragment, className } = error;
  const fields = fieldNames(error.inputs);
  const contracts = [...error.contracts].sort(compare);
  const declaredBy =
    contracts.length > 4
      ? `${contracts.slice(0, 4).join(", ")} and ${contracts.length - 4} more`
      : contracts.join(", ");
  const lines = ["/**", ` * \`${fragment.format("full")}\``, ` * Declared by ${declaredBy}.`];
  if (error.renamedFrom !== undefined) {
    lines.push(` * Named ${className}, not ${error.renamedFrom}: another signature of ${fragment.name} sorts first.`);
  }
  lines.push(
    " */",
    `export class ${className} extends ContractRevertError {`,
    "  /** The canonical signature. */",
    `  static readonly signature = ${quote(error.signature)};`,
    "  /** The 4-byte selector of the signature. */",
    `  static readonly selector = ${quote(fragment.selector)};`,
  );
  if (fragment.inputs.length === 0) {
    lines.push("  /** The arguments as the ABI declares them: none. */");
    lines.push("  static readonly params: readonly ContractErrorParam[] = [];");
  } else {
    lines.push("  /** The arguments as the ABI declares them. */");
    const items = fragment.inputs.map(
      (input) => `{ name: ${quote(input.name)}, type: ${quote(input.format("sighash"))} }`,
    );
    const oneLine = `  static readonly params: readonly ContractErrorParam[] = [${items.join(", ")}];`;
    if (oneLine.length <= 120) {
      lines.push(oneLine);
    } else {
      lines.push(
        "  static readonly params: readonly ContractErrorParam[] = [",
        ...items.map((item) => `    ${item},`),
        "  ];",
      );
    }
  }
  error.inputs.forEach((input, i) => {
    lines.push(`  /** ${fieldDoc(input, fragment.inputs[i])} */`, `  readonly ${fields[i]}: ${tsType(input)};`);
  });
  lines.push(
    "",
    "  /**",
    "   * @param data The revert bytes (selector and encoded arguments).",
    "   * @param args The decoded arguments in ABI order.",
    "   */",
    "  constructor(data: string, args: readonly unknown[]) {",
  );
  const superCall = `    super(${quote(fragment.name)}, ${className}.selector, data, args, ${className}.params);`;
  if (superCall.length <= 120) {
    lines.push(superCall);
  } else {
    const superArgs = [quote(fragment.name), `${className}.selector`, "data", "args", `${className}.params`];
    lines.push("    super(", ...superArgs.map((arg) => `      ${arg},`), "    );");
  }
  error.inputs.forEach((input, i) => {
    lines.push(`    this.${fields[i]} = args[${i}] as ${tsType(input)};`);
  });
  lines.push("  }", "}");
  return lines;
}

/** The field of each argument: its ABI name, `arg<i>` when unnamed, `<name>Arg` when it would shadow a member. */
function fieldNames(inputs: readonly JsonFragmentType[]): string[] {
  const used = new Set<string>();
  return inputs.map((input, i) => {
    let field = input.name === undefined || input.name === "" ? `arg${i}` : input.name;
    if (RESERVED_FIELDS.has(field)) field = `${field}Arg`;
    while (used.has(field)) field = `${field}_`;
    used.add(field);
    return field;
  });
}

/** `uint8 status` plus the Solidity type when the ABI type hides it (`enum ...`, `struct ...`, `contract ...`). */
function fieldDoc(input: JsonFragmentType, param: ParamType): string {
  const declared = param.format("full");
  const internal = input.internalType;
  const hidden = internal !== undefined && internal !== input.type ? ` (${internal})` : "";
  return `\`${declared}\`${hidden}`;
}

/** The TypeScript type of a decoded ABI value (ethers v6 decoding, Results made plain arrays). */
function tsType(input: JsonFragmentType): string {
  const type = input.type ?? "";
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array !== null) {
    const inner = tsType({ ...input, type: array[1] });
    return /^[a-z]+$/.test(inner) ? `readonly ${inner}[]` : `ReadonlyArray<${inner}>`;
  }
  if (type === "tuple") {
    const items = (input.components ?? []).map((component, i) => {
      const label = component.name === undefined || component.name === "" ? `arg${i}` : component.name;
      return `${label}: ${tsType(component)}`;
    });
    return `readonly [${items.join(", ")}]`;
  }
  if (/^u?int\d*$/.test(type)) return "bigint";
  if (type === "bool") return "boolean";
  if (type === "address" || type === "string" || type === "function" || /^bytes\d*$/.test(type)) return "string";
  return "unknown";
}

/** A TypeScript double-quoted string literal. */
function quote(text: string): string {
  return JSON.stringify(text);
}

/** Locale-independent string order. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
