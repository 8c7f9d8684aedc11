/**
 * Runs the Solidity compiler's SMTChecker (solc-js 0.8.28 from node_modules/solc) on the property harnesses in
 * verification/smt/ and records what it proved (`npm run verify:smt`; results in bench/smt.json, write-up in
 * docs/smt.md).
 *
 * How the checker is run:
 *   - The solc-js build bundles Z3 only without a time limit (with `modelChecker.timeout` set and
 *     `solvers: ["z3"]` it aborts with "Unknown exception during compilation: std::system_error"), so this
 *     script uses `solvers: ["smtlib2"]`: solc-js hands every SMT query to the `smtSolver` callback, which runs
 *     an external `z3` binary (PATH, or the SMT_Z3 environment variable) with a per-query timeout.
 *   - Engine BMC (bounded model checking) with `divModNoSlacks` (division and modulo as SMT-LIB div/mod, which
 *     z3 reasons about far better than the default slack-variable encoding). The harnesses are loop-free except
 *     MedianProps, whose loops BMC unrolls `bmcLoopIterations` times; a reachability witness there shows that
 *     the unrolling covers the longest path (BMC silently drops paths that need more iterations).
 *   - Harnesses marked `mathModel` see verification/smt/models/Math.sol in place of OpenZeppelin's Math.sol:
 *     the checker does not model inline assembly, and OpenZeppelin's mulDiv computes the 512-bit product in
 *     assembly. Their results hold relative to that model (see the model's header and docs/smt.md).
 *
 * Classification of every verification target the checker reports (showProvedSafe and showUnproved on):
 *   proved    "... check is safe!"
 *   unproved  "... might happen here." (solver timeout or unknown: reported, does not fail the run)
 *   violated  "... happens here." (with the checker's counterexample: fails the run)
 * Functions named reach* are reachability witnesses: their assertion must be reported violated. A witness
 * reported safe means the harness's domain is empty or its paths were dropped, so its proofs are vacuous:
 * that fails the run too.
 *
 * Usage: npm run verify:smt -- [--only <Harness>[,<Harness>]] [--timeout <ms>] [--no-write]
 *   --only      run only these harnesses (contract names)
 *   --timeout   per-query solver timeout for every harness instead of the per-harness defaults
 *   --no-write  do not write bench/smt.json
 * Exit codes: 0 no violation, 1 a violated target, a vacuous witness or a compile error, 2 the SMTChecker
 * cannot run here (no z3 binary, or the checker reports that no solver was available).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const HARNESS_DIR = "verification/smt";
const MATH_MODEL = path.join(ROOT, HARNESS_DIR, "models", "Math.sol");
const OZ_MATH = "@openzeppelin/contracts/utils/math/Math.sol";
const OUTPUT = path.join(ROOT, "bench", "smt.json");
const TARGETS = ["overflow", "underflow", "divByZero", "assert", "popEmptyArray", "outOfBounds"];
/** Extra seconds the z3 process gets beyond the query's own `(set-option :timeout ...)` before it is killed. */
const KILL_GRACE_MS = 5_000;
/** The z3 parameters solc-js passes in node_modules/solc/smtsolver.js (the CHC-related ones are inert for BMC). */
const Z3_PARAMS = [
  "rewriter.pull_cheap_ite=true",
  "fp.spacer.q3.use_qgen=true",
  "fp.spacer.mbqi=false",
  "fp.spacer.ground_pobs=false",
];

interface Harness {
  /** Contract name; the file is verification/smt/<name>.sol. */
  name: string;
  /** Libraries whose functions the harness states properties of. */
  libraries: string[];
  engine: "bmc" | "chc";
  /** Per-query solver timeout. */
  timeoutMs: number;
  /** Serve models/Math.sol in place of OpenZeppelin's Math.sol. */
  mathModel: boolean;
  bmcLoopIterations?: number;
}

const HARNESSES: Harness[] = [
  { name: "BpsMathProps", libraries: ["BpsMath"], engine: "bmc", timeoutMs: 5_000, mathModel: false },
  {
    name: "FixedPointMathProps",
    libraries: ["FixedPointMath"],
    engine: "bmc",
    timeoutMs: 10_000,
    mathModel: true,
  },
  {
    name: "PositionMathProps",
    libraries: ["PositionMath", "FixedPointMath"],
    engine: "bmc",
    timeoutMs: 10_000,
    mathModel: true,
  },
  {
    name: "MedianProps",
    libraries: ["Median"],
    engine: "bmc",
    timeoutMs: 5_000,
    mathModel: false,
    bmcLoopIterations: 4,
  },
  {
    name: "MarkPriceProps",
    libraries: ["MarkPrice", "FixedPointMath"],
    engine: "bmc",
    timeoutMs: 5_000,
    mathModel: true,
  },
  {
    name: "ObservationHistoryProps",
    libraries: ["ObservationHistory"],
    engine: "bmc",
    timeoutMs: 5_000,
    mathModel: false,
  },
];

// ---------------------------------------------------------------------------------------------------------------
// solc-js and z3

interface SolcCallbacks {
  import: (importPath: string) => { contents: string } | { error: string };
  smtSolver: (query: string) => { contents: string } | { error: string };
}
interface Solc {
  version(): string;
  compile(input: string, callbacks?: Partial<SolcCallbacks>): string;
}
const solc = createRequire(__filename)("solc") as Solc;

interface SourceLocation {
  file: string;
  start: number;
  end: number;
}
interface SolcMessage {
  severity: "error" | "warning" | "info";
  errorCode?: string;
  message: string;
  formattedMessage?: string;
  sourceLocation?: SourceLocation;
  secondarySourceLocations?: { message: string }[];
}
interface AstNode {
  nodeType: string;
  name?: string;
  src?: string;
  nodes?: AstNode[];
  parameters?: { parameters: { name: string }[] };
}
interface SolcOutput {
  errors?: SolcMessage[];
  sources?: Record<string, { id: number; ast: AstNode }>;
}

interface Z3 {
  command: string;
  version: string;
}

function findZ3(): Z3 | undefined {
  const command = process.env.SMT_Z3 ?? "z3";
  const probe = spawnSync(command, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (probe.error !== undefined || probe.status !== 0) return undefined;
  return { command, version: probe.stdout.trim() };
}

interface SolverStats {
  queries: number;
  solverMs: number;
  killed: number;
}

function z3Callback(z3: Z3, timeoutMs: number, stats: SolverStats): SolcCallbacks["smtSolver"] {
  return (query: string) => {
    const started = Date.now();
    const run = spawnSync(z3.command, ["-smt2", "-in", ...Z3_PARAMS], {
      input: query,
      encoding: "utf8",
      maxBuffer: 1024 * 1024 * 1024,
      timeout: timeoutMs + KILL_GRACE_MS,
    });
    stats.queries += 1;
    stats.solverMs += Date.now() - started;
    if (run.error !== undefined || run.signal !== null) {
      // Killed after ignoring its own timeout: an unknown answer, which solc reports as "might happen".
      stats.killed += 1;
      return { contents: "unknown\n" };
    }
    // z3 exits non-zero when asked for a model of an unsat formula; stdout still holds the answer.
    return { contents: run.stdout };
  };
}

function importCallback(mathModel: boolean): SolcCallbacks["import"] {
  return (importPath: string) => {
    if (mathModel && importPath === OZ_MATH) return { contents: fs.readFileSync(MATH_MODEL, "utf8") };
    for (const candidate of [path.join(ROOT, importPath), path.join(ROOT, "node_modules", importPath)]) {
      if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
    }
    return { error: `File not found: ${importPath}` };
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Output parsing

type Status = "proved" | "unproved" | "violated";
type WitnessStatus = "reached" | "VACUOUS" | "unknown";

interface Target {
  engine: string;
  kind: string;
  status: Status;
  file: string;
  line: number;
  /** Enclosing function, as Contract.function. */
  function: string;
  code: string;
  counterexample?: string;
}

interface Property {
  function: string;
  description: string;
  /** "library targets": the property has no targets of its own; its obligations are the library targets. */
  status: Status | "library targets";
  proved: number;
  unproved: number;
  violated: number;
}

interface Witness {
  function: string;
  status: WitnessStatus;
  counterexample?: string;
}

interface HarnessResult {
  harness: string;
  file: string;
  libraries: string[];
  engine: string;
  solver: string;
  timeoutMs: number;
  bmcLoopIterations?: number;
  mathModel: boolean;
  seconds: number;
  queries: number;
  solverSeconds: number;
  killedQueries: number;
  counts: { proved: number; unproved: number; violated: number };
  properties: Property[];
  witnesses: Witness[];
  /** Targets in library (and model) code, which the harnesses reach through their calls. */
  libraryTargets: Target[];
  /** Every target, in source order. */
  targets: Target[];
  /** Checker notes: unsupported constructs, abstractions. */
  notes: string[];
  errors: string[];
}

const KINDS: [RegExp, string][] = [
  [/^Assertion violation/, "assert"],
  [/^Overflow/, "overflow"],
  [/^Underflow/, "underflow"],
  [/^Division by zero/, "divByZero"],
  [/^Out of bounds access/, "outOfBounds"],
  [/^Empty array "pop"/, "popEmptyArray"],
];
const TARGET_MESSAGE = /^(BMC|CHC): (.*?) (check is safe!|happens here\.|might happen here\.)/;
const NO_SOLVER_CODES = new Set(["3996", "8084", "7649", "1218"]);

interface FunctionSpan {
  sourceId: number;
  start: number;
  end: number;
  name: string;
  parameters: string[];
}

function functionSpans(output: SolcOutput): FunctionSpan[] {
  const spans: FunctionSpan[] = [];
  const walk = (node: AstNode, container: string): void => {
    if (node.nodeType === "ContractDefinition") container = node.name ?? container;
    if (node.nodeType === "FunctionDefinition" && node.src !== undefined) {
      const [start, length, sourceId] = node.src.split(":").map(Number);
      spans.push({
        sourceId,
        start,
        end: start + length,
        name: `${container}.${node.name ?? ""}`,
        parameters: (node.parameters?.parameters ?? []).map((p) => p.name).filter(Boolean),
      });
    }
    for (const child of node.nodes ?? []) walk(child, container);
  };
  for (const source of Object.values(output.sources ?? {})) walk(source.ast, "");
  return spans;
}

function parseOutput(
  output: SolcOutput,
  readSource: (file: string) => string,
): { targets: Target[]; notes: string[]; errors: string[]; noSolver: boolean } {
  const spans = functionSpans(output);
  const sourceIds = new Map(Object.entries(output.sources ?? {}).map(([name, s]) => [name, s.id]));
  const targets: Target[] = [];
  const notes = new Set<string>();
  const errors: string[] = [];
  let noSolver = false;
  for (const message of output.errors ?? []) {
    const firstLine = message.message.split("\n")[0];
    const loc = message.sourceLocation;
    const where = loc !== undefined ? `${loc.file}:${lineOf(readSource(loc.file), loc.start)}` : "";
    if (message.severity === "error") {
      errors.push(`${where} ${firstLine}`.trim());
      continue;
    }
    if (message.errorCode !== undefined && NO_SOLVER_CODES.has(message.errorCode)) noSolver = true;
    const match = TARGET_MESSAGE.exec(firstLine);
    if (match === null || loc === undefined) {
      if (!/verification condition\(s\)/.test(firstLine)) notes.add(`${where} ${firstLine}`.trim());
      continue;
    }
    const [, engine, what, verdict] = match;
    const kind = KINDS.find(([pattern]) => pattern.test(what))?.[1] ?? what;
    const status: Status =
      verdict === "check is safe!" ? "proved" : verdict === "happens here." ? "violated" : "unproved";
    const text = readSource(loc.file);
    const sourceId = sourceIds.get(loc.file);
    const enclosing = spans
      .filter((s) => s.sourceId === sourceId && s.start <= loc.start && loc.end <= s.end)
      .sort((a, b) => a.end - a.start - (b.end - b.start))[0];
    const rawCounterexample = (message.secondarySourceLocations ?? [])
      .map((s) => s.message)
      .find((m) => m.startsWith("Counterexample"));
    const counterexample =
      rawCounterexample !== undefined ? counterexampleInputs(rawCounterexample, enclosing?.parameters) : undefined;
    targets.push({
      engine,
      kind,
      status,
      file: loc.file,
      line: lineOf(text, loc.start),
      function: enclosing?.name ?? "(file level)",
      code: text.slice(loc.start, loc.end).replace(/\s+/g, " ").slice(0, 100),
      ...(counterexample !== undefined ? { counterexample } : {}),
    });
  }
  targets.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { targets, notes: [...notes], errors, noSolver };
}

/**
 * The checker's counterexample lists every variable it encoded (including stale values of other functions'
 * locals); keep the inputs of the function the target is in (all assignments when that function is unknown).
 */
function counterexampleInputs(raw: string, parameters: string[] | undefined): string {
  const assignments = raw
    .replace(/^Counterexample:\s*/, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.includes(" = "));
  const inputs =
    parameters === undefined || parameters.length === 0
      ? assignments
      : assignments.filter((line) => parameters.includes(line.split(" = ")[0]));
  return inputs.join("; ");
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

/** The `///` comment lines directly above each function of a harness, keyed by function name. */
function functionDocs(source: string): Map<string, string> {
  const docs = new Map<string, string>();
  const lines = source.split("\n");
  lines.forEach((line, i) => {
    const match = /^\s*function (\w+)\(/.exec(line);
    if (match === null) return;
    const doc: string[] = [];
    for (let j = i - 1; j >= 0 && /^\s*\/\/\/?/.test(lines[j]); j--) {
      doc.unshift(lines[j].replace(/^\s*\/\/\/?\s?/, ""));
    }
    docs.set(match[1], doc.join(" ").trim());
  });
  return docs;
}

function summarize(
  harness: Harness,
  source: string,
  targets: Target[],
): Pick<HarnessResult, "properties" | "witnesses"> {
  const docs = functionDocs(source);
  const properties: Property[] = [];
  const witnesses: Witness[] = [];
  for (const [fn, description] of docs) {
    const qualified = `${harness.name}.${fn}`;
    const own = targets.filter((t) => t.function === qualified);
    if (fn.startsWith("reach")) {
      const asserts = own.filter((t) => t.kind === "assert");
      const status: WitnessStatus = asserts.some((t) => t.status === "violated")
        ? "reached"
        : asserts.length > 0 && asserts.every((t) => t.status === "proved")
          ? "VACUOUS"
          : "unknown";
      witnesses.push({ function: fn, status, counterexample: asserts.find((t) => t.counterexample)?.counterexample });
      continue;
    }
    if (fn.startsWith("_")) continue;
    const count = (s: Status): number => own.filter((t) => t.status === s).length;
    const [proved, unproved, violated] = [count("proved"), count("unproved"), count("violated")];
    const status = violated > 0 ? "violated" : unproved > 0 ? "unproved" : proved > 0 ? "proved" : "library targets";
    properties.push({ function: fn, description, status, proved, unproved, violated });
  }
  return { properties, witnesses };
}

// ---------------------------------------------------------------------------------------------------------------
// Running

function runHarness(harness: Harness, z3: Z3, timeoutOverride: number | undefined): HarnessResult {
  const file = `${HARNESS_DIR}/${harness.name}.sol`;
  const source = fs.readFileSync(path.join(ROOT, file), "utf8");
  const timeoutMs = timeoutOverride ?? harness.timeoutMs;
  const stats: SolverStats = { queries: 0, solverMs: 0, killed: 0 };
  const imports = importCallback(harness.mathModel);
  const input = {
    language: "Solidity",
    sources: { [file]: { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 1_000 },
      evmVersion: "cancun",
      outputSelection: { "*": { "": ["ast"] } },
      modelChecker: {
        engine: harness.engine,
        contracts: { [file]: [harness.name] },
        targets: TARGETS,
        timeout: timeoutMs,
        solvers: ["smtlib2"],
        divModNoSlacks: true,
        showProvedSafe: true,
        showUnproved: true,
        showUnsupported: true,
        ...(harness.bmcLoopIterations !== undefined ? { bmcLoopIterations: harness.bmcLoopIterations } : {}),
      },
    },
  };
  const started = Date.now();
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), { import: imports, smtSolver: z3Callback(z3, timeoutMs, stats) }),
  ) as SolcOutput;
  const seconds = (Date.now() - started) / 1000;
  const readSource = (name: string): string => {
    if (name === file) return source;
    const imported = imports(name);
    return "contents" in imported ? imported.contents : "";
  };
  const { targets, notes, errors, noSolver } = parseOutput(output, readSource);
  if (noSolver) {
    fail(2, `the SMTChecker reported that no solver was available for ${harness.name}:\n  ${notes.join("\n  ")}`);
  }
  const { properties, witnesses } = summarize(harness, source, targets);
  const count = (s: Status): number => targets.filter((t) => t.status === s && !isWitnessTarget(t)).length;
  return {
    harness: harness.name,
    file,
    libraries: harness.libraries,
    engine: harness.engine,
    solver: `z3 ${z3.version.replace(/^Z3 version /, "")} (smtlib2 callback)`,
    timeoutMs,
    ...(harness.bmcLoopIterations !== undefined ? { bmcLoopIterations: harness.bmcLoopIterations } : {}),
    mathModel: harness.mathModel,
    seconds,
    queries: stats.queries,
    solverSeconds: stats.solverMs / 1000,
    killedQueries: stats.killed,
    counts: { proved: count("proved"), unproved: count("unproved"), violated: count("violated") },
    properties,
    witnesses,
    libraryTargets: targets.filter((t) => t.file !== file),
    targets,
    notes,
    errors,
  };
}

function isWitnessTarget(target: Target): boolean {
  return /\.reach\w*$/.test(target.function);
}

function fail(code: number, message: string): never {
  console.error(`verify:smt: ${message}`);
  process.exit(code);
}

function parseArgs(argv: string[]): { only?: string[]; timeout?: number; write: boolean } {
  const args: { only?: string[]; timeout?: number; write: boolean } = { write: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--only") args.only = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (arg === "--timeout") args.timeout = Number(argv[++i]);
    else if (arg === "--no-write") args.write = false;
    else fail(2, `unknown argument ${arg} (see the header of scripts/verify-smt.ts)`);
  }
  if (args.timeout !== undefined && !(Number.isInteger(args.timeout) && args.timeout > 0)) {
    fail(2, "--timeout takes a positive number of milliseconds");
  }
  return args;
}

function printHarness(result: HarnessResult): void {
  const { proved, unproved, violated } = result.counts;
  console.log(
    `\n== ${result.harness} (${result.libraries.join(", ")}; ${result.engine.toUpperCase()}, ` +
      `${result.timeoutMs / 1000} s/query${result.bmcLoopIterations !== undefined ? `, ${result.bmcLoopIterations} loop unrollings` : ""}` +
      `${result.mathModel ? ", Math.mulDiv model" : ""}): ${proved} proved, ${unproved} unproved, ${violated} violated ` +
      `in ${result.seconds.toFixed(1)} s (${result.queries} queries)`,
  );
  console.table(
    result.properties.map((p) => ({
      property: p.function,
      status: p.status,
      proved: p.proved,
      unproved: p.unproved,
      violated: p.violated,
    })),
  );
  const library = result.libraryTargets.filter((t) => !isWitnessTarget(t));
  if (library.length > 0) {
    console.log("Targets inside library and model code:");
    console.table(
      library.map((t) => ({
        where: `${path.basename(t.file)}:${t.line}`,
        function: t.function,
        kind: t.kind,
        code: t.code.slice(0, 60),
        status: t.status,
      })),
    );
  }
  for (const t of result.targets.filter((x) => x.status !== "proved" && !isWitnessTarget(x))) {
    console.log(
      `  ${t.status.toUpperCase()} ${t.kind} at ${t.file}:${t.line} (${t.function}): ${t.code}` +
        (t.counterexample !== undefined ? `\n    counterexample: ${t.counterexample}` : ""),
    );
  }
  for (const w of result.witnesses) {
    console.log(
      `  witness ${w.function}: ${w.status}` + (w.counterexample !== undefined ? ` (${w.counterexample})` : ""),
    );
  }
  for (const note of result.notes) console.log(`  note: ${note}`);
  for (const error of result.errors) console.log(`  ERROR: ${error}`);
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const z3 = findZ3();
  if (z3 === undefined) {
    fail(
      2,
      "the SMTChecker cannot run here: no z3 binary found (install it, e.g. `apt-get install z3`, or set SMT_Z3).\n" +
        "  The solc-js build in node_modules/solc bundles Z3 only without a time limit: with a timeout it aborts\n" +
        "  with std::system_error, so this script needs an external solver. See docs/smt.md.",
    );
  }
  const selected = HARNESSES.filter((h) => args.only === undefined || args.only.includes(h.name));
  if (selected.length === 0) fail(2, `no harness matches --only ${(args.only ?? []).join(",")}`);
  console.log(`solc ${solc.version()}, ${z3.version} via the smtlib2 callback; ${selected.length} harness(es)`);

  const started = Date.now();
  const results = selected.map((harness) => {
    const result = runHarness(harness, z3, args.timeout);
    printHarness(result);
    return result;
  });
  const seconds = (Date.now() - started) / 1000;

  const totals = {
    proved: results.reduce((n, r) => n + r.counts.proved, 0),
    unproved: results.reduce((n, r) => n + r.counts.unproved, 0),
    violated: results.reduce((n, r) => n + r.counts.violated, 0),
    properties: results.reduce((n, r) => n + r.properties.length, 0),
    propertiesProved: results.reduce((n, r) => n + r.properties.filter((p) => p.status === "proved").length, 0),
    witnessesReached: results.reduce((n, r) => n + r.witnesses.filter((w) => w.status === "reached").length, 0),
    witnesses: results.reduce((n, r) => n + r.witnesses.length, 0),
  };
  console.log(
    `\nTotal: ${totals.proved} targets proved, ${totals.unproved} unproved, ${totals.violated} violated; ` +
      `${totals.propertiesProved}/${totals.properties} properties fully proved; ` +
      `${totals.witnessesReached}/${totals.witnesses} reachability witnesses reached; ${seconds.toFixed(1)} s`,
  );

  if (args.write) {
    const report = {
      generatedAt: new Date().toISOString(),
      compiler: `solc-js ${solc.version()}`,
      solver: `${z3.version} (external binary via the smtlib2 callback)`,
      settings: { targets: TARGETS, divModNoSlacks: true, killGraceMs: KILL_GRACE_MS, z3Params: Z3_PARAMS },
      seconds,
      totals,
      harnesses: results,
    };
    fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
    fs.writeFileSync(OUTPUT, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`Wrote ${path.relative(ROOT, OUTPUT)}`);
  }

  const vacuous = results.flatMap((r) => r.witnesses.filter((w) => w.status === "VACUOUS").map((w) => w.function));
  const compileErrors = results.flatMap((r) => r.errors);
  if (totals.violated > 0 || vacuous.length > 0 || compileErrors.length > 0) {
    fail(
      1,
      `${totals.violated} violated target(s), ${vacuous.length} vacuous witness(es)` +
        `${vacuous.length > 0 ? ` (${vacuous.join(", ")})` : ""}, ${compileErrors.length} compile error(s)`,
    );
  }
}

main();
