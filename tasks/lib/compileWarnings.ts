/**
 * The compiler-warnings gate (docs/assurance.md): every diagnostic of severity "warning" in a solc output fails the
 * build, except the few listed in ALLOWED_WARNINGS, each keyed by error code and file and with its reason. Pure
 * functions, so the gate is tested without running the compiler (test/tasks/compileWarnings.test.ts).
 */

/** One entry of a solc standard-JSON output's `errors` (the fields the gate reads). */
export interface SolcDiagnostic {
  severity: string;
  message: string;
  errorCode?: string;
  type?: string;
  formattedMessage?: string;
  sourceLocation?: { file: string; start?: number; end?: number };
}

/** The part of a solc standard-JSON output the gate reads. */
export interface SolcOutputLike {
  errors?: SolcDiagnostic[];
}

/** A warning that fails the build: where it is and what solc said. */
export interface CompileWarning {
  /** Source name as solc knows it (`contracts/...`, `@openzeppelin/...`); `<unknown>` without a location. */
  file: string;
  /** 1-based line and column from solc's formatted message, when it has them. */
  line?: number;
  column?: number;
  errorCode?: string;
  message: string;
}

/** A warning the gate lets through: solc error code, the files it may come from, and why. */
export interface AllowedWarning {
  errorCode: string;
  file: RegExp;
  reason: string;
}

/**
 * The only warnings that do not fail the build. Solc 0.8.28 cannot silence a warning, so each one here is a warning
 * the project cannot remove without changing behaviour.
 */
export const ALLOWED_WARNINGS: readonly AllowedWarning[] = [
  {
    errorCode: "2394",
    file: /^@openzeppelin\/contracts\/utils\/TransientSlot\.sol$/,
    reason:
      "solc's notice on every use of transient storage (EIP-1153), emitted for OpenZeppelin's TransientSlot, " +
      "which ReentrancyGuardTransient uses by design (CONVENTIONS: ReentrancyGuardTransient)",
  },
  {
    errorCode: "5574",
    file: /^contracts\/mocks\//,
    reason:
      "code size above 24,576 bytes in a test-only harness, deployed only on the in-process network with " +
      "allowUnlimitedContractSize; production contracts are held under the limit by the contract sizer (strict)",
  },
];

/** `file:line:col` from a formatted message's `--> file:line:col:` pointer. */
const LOCATION = /-->\s*([^\s:][^:]*):(\d+):(\d+):/;

function isAllowed(warning: CompileWarning, allowed: readonly AllowedWarning[]): boolean {
  return allowed.some((rule) => rule.errorCode === warning.errorCode && rule.file.test(warning.file));
}

/** Every warning of `output` that is not allowed, in solc's order. Errors and infos are not warnings. */
export function warningsOf(
  output: SolcOutputLike | undefined,
  allowed: readonly AllowedWarning[] = ALLOWED_WARNINGS,
): CompileWarning[] {
  const warnings: CompileWarning[] = [];
  for (const diagnostic of output?.errors ?? []) {
    if (diagnostic.severity !== "warning") continue;
    const pointer = diagnostic.formattedMessage === undefined ? null : LOCATION.exec(diagnostic.formattedMessage);
    const warning: CompileWarning = {
      file: diagnostic.sourceLocation?.file ?? pointer?.[1] ?? "<unknown>",
      message: diagnostic.message,
      ...(diagnostic.errorCode === undefined ? {} : { errorCode: diagnostic.errorCode }),
      ...(pointer === null ? {} : { line: Number(pointer[2]), column: Number(pointer[3]) }),
    };
    if (!isAllowed(warning, allowed)) warnings.push(warning);
  }
  return warnings;
}

/** True when solc reported an error: Hardhat's own check reports those, with the warnings. */
export function hasCompileErrors(output: SolcOutputLike | undefined): boolean {
  return (output?.errors ?? []).some((diagnostic) => diagnostic.severity === "error");
}

/** One line per warning: `file:line:col: warning <code>: message`. */
export function formatWarnings(warnings: readonly CompileWarning[]): string {
  return warnings
    .map((w) => {
      const where = w.line === undefined ? w.file : `${w.file}:${w.line}:${w.column ?? 0}`;
      const code = w.errorCode === undefined ? "" : ` ${w.errorCode}`;
      return `${where}: warning${code}: ${w.message}`;
    })
    .join("\n");
}

/** The message the compile fails with. */
export function warningsFailure(warnings: readonly CompileWarning[]): string {
  const count = warnings.length === 1 ? "1 compiler warning" : `${warnings.length} compiler warnings`;
  return (
    `${count} (warnings fail the build, docs/assurance.md):\n${formatWarnings(warnings)}\n` +
    "Fix the cause in the source; a warning that cannot be removed without changing behaviour goes in " +
    "ALLOWED_WARNINGS (tasks/lib/compileWarnings.ts) with its reason."
  );
}
