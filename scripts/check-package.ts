/**
 * Checks the npm package as a user gets it (`npm run check:package`, and test/package/package.test.ts):
 *
 *   1. `npm pack` into a temporary directory (runs `prepack`, i.e. the build); checks the tarball's file list;
 *   2. a fresh project in another temporary directory (`"type": "module"`) installs the tarball with
 *      `npm install <tarball> --prefer-offline --no-audit --no-fund` (ethers and zod come from the npm cache);
 *   3. the package exports the names the checks below use;
 *   4. type-checks TypeScript users of "tokenpit" with this repository's `tsc`: ESM (.ts) and CommonJS (.cts) under
 *      `moduleResolution: "node16"` and `"bundler"` (the `exports` map and its types) and `"node10"` (the `types`
 *      field); the files fail to type-check when the package's types are missing or `any` (`@ts-expect-error` lines,
 *      an `any` test);
 *   5. a negative control: a deliberately wrong call must be rejected by `tsc`;
 *   6. runs an ESM script and a CommonJS script with plain `node` that import the package and print SDK results;
 *   7. optionally (`--example <file> [-- args]`) copies an example into the fresh project and runs it with `node`
 *      (.ts/.mts/.cts examples are type-checked and compiled first), with this process's environment.
 *
 * Usage: npm run check:package -- [--no-compile] [--keep] [--example <file> [-- <example args>]]
 *   --no-compile  build the package without `hardhat compile` (TOKENPIT_BUILD_NO_COMPILE=1 for the build)
 *   --keep        keep the temporary directories (their paths are printed)
 * Exits non-zero with a message naming the failed step.
 */
import { spawnSync } from "node:child_process";
import type { SpawnSyncOptions } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const PACKAGE_NAME = "tokenpit";
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
const MINUTE_MS = 60_000;

/** Files the tarball must contain. */
const REQUIRED_FILES = [
  "package.json",
  "README.md",
  "dist/cjs/sdk/index.js",
  "dist/cjs/sdk/index.d.ts",
  "dist/cjs/typechain-types/index.js",
  "dist/cjs/typechain-types/index.d.ts",
  "dist/esm/index.mjs",
  "dist/esm/index.d.mts",
];
/** Everything in the tarball must match one of these (no sources, tests, keepers, contracts or artifacts). */
const ALLOWED_FILE =
  /^(package\.json|README\.md|LICENSE(\.md)?|docs\/sdk\.md|dist\/cjs\/.+\.(js|d\.ts)|dist\/esm\/.+)$/;

/** The exports the checks use, by where they come from (named in the message when one is missing). */
const REQUIRED_EXPORTS: Record<string, string[]> = {
  "sdk/ (units, core/position, errors)": [
    "parseX18",
    "formatX18",
    "notionalX18",
    "requirementX18",
    "feeX18",
    "TokenpitError",
    "InvalidAmountError",
    "TokenpitClient",
    "parseDeployment",
  ],
  'typechain-types/ (sdk/index.ts: `export * from "../typechain-types";`)': [
    "Clearinghouse__factory",
    "IndexOracle__factory",
  ],
};

class CheckError extends Error {}

interface Options {
  compile: boolean;
  keep: boolean;
  example?: string;
  exampleArgs: string[];
}

function usage(message: string): never {
  console.error(`[check-package] ${message}`);
  console.error(
    "usage: ts-node --transpile-only scripts/check-package.ts [--no-compile] [--keep] [--example <file> [-- <example args>]]",
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const options: Options = { compile: true, keep: false, exampleArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--no-compile") options.compile = false;
    else if (arg === "--keep") options.keep = true;
    else if (arg === "--example") {
      const file = argv[++i];
      if (file === undefined) usage("--example needs a file");
      options.example = path.resolve(file);
    } else if (arg === "--") {
      options.exampleArgs = argv.slice(i + 1);
      break;
    } else usage(`unknown argument: ${arg}`);
  }
  if (options.exampleArgs.length > 0 && options.example === undefined) usage("arguments after -- need --example");
  if (options.example !== undefined && !fs.existsSync(options.example)) usage(`no such example: ${options.example}`);
  return options;
}

function log(message: string): void {
  console.log(`[check-package] ${message}`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The last `lines` lines of a child's output, indented, for failure messages. */
function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split("\n");
  const shown = all.slice(-lines).map((line) => `    ${line}`);
  return (all.length > lines ? [`    ... (${all.length - lines} lines before)`, ...shown] : shown).join("\n");
}

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command, capturing its output; `expectFailure` inverts the exit-code check. */
function run(
  what: string,
  command: string,
  args: string[],
  options: SpawnSyncOptions & { cwd: string },
  expectFailure = false,
): RunResult {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 3 * MINUTE_MS,
    ...options,
  });
  if (result.error !== undefined) throw new CheckError(`${what}: ${result.error.message}`);
  const out: RunResult = { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
  const failed = result.status !== 0;
  if (failed !== expectFailure) {
    const status = result.status ?? result.signal;
    const output = `${out.stdout}\n${out.stderr}`;
    throw new CheckError(
      expectFailure
        ? `${what} was expected to fail but succeeded:\n${tail(output)}`
        : `${what} failed (exit ${status}):\n${tail(output)}`,
    );
  }
  return out;
}

/**
 * The environment for npm in the fresh project: without the variables that `npm run` sets for this repository
 * (package fields, lifecycle, prefix), so the nested npm works on the fresh project only.
 */
function freshNpmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|config_(local_)?prefix$)/i.test(key)) continue;
    if (key === "TOKENPIT_BUILD_NO_COMPILE") continue;
    env[key] = value;
  }
  return env;
}

function npmCommand(): { command: string; prefixArgs: string[] } {
  // Under `npm run`, use the same npm; otherwise the one on PATH.
  const execPath = process.env.npm_execpath;
  if (execPath !== undefined && /npm-cli\.js$/.test(execPath)) {
    return { command: process.execPath, prefixArgs: [execPath] };
  }
  return { command: process.platform === "win32" ? "npm.cmd" : "npm", prefixArgs: [] };
}

interface PackInfo {
  tarball: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
}

/** `npm pack --json` prints an array with one object; lifecycle output (if any) comes before it. */
function parsePackJson(stdout: string): {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
} {
  const start = stdout.search(/^\[\s*$/m);
  if (start < 0) throw new CheckError(`npm pack printed no JSON:\n${tail(stdout)}`);
  const parsed = JSON.parse(stdout.slice(start)) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  if (parsed.length !== 1) throw new CheckError(`npm pack produced ${parsed.length} packages, expected 1`);
  return parsed[0];
}

function pack(packDir: string, options: Options): PackInfo {
  const npm = npmCommand();
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!options.compile) env.TOKENPIT_BUILD_NO_COMPILE = "1";
  const result = run(
    "npm pack (prepack builds the package)",
    npm.command,
    [...npm.prefixArgs, "pack", "--json", "--pack-destination", packDir],
    { cwd: ROOT, env, timeout: 5 * MINUTE_MS },
  );
  const info = parsePackJson(result.stdout);
  const files = info.files.map((file) => file.path);
  const missing = REQUIRED_FILES.filter((file) => !files.includes(file));
  if (missing.length > 0) throw new CheckError(`the tarball lacks ${missing.join(", ")}`);
  const unexpected = files.filter((file) => !ALLOWED_FILE.test(file));
  if (unexpected.length > 0) {
    throw new CheckError(`the tarball has unexpected files: ${unexpected.slice(0, 20).join(", ")}`);
  }
  const tarball = path.join(packDir, info.filename);
  if (!fs.existsSync(tarball)) throw new CheckError(`npm pack reported ${info.filename} but it is not in ${packDir}`);
  return { tarball, size: info.size, unpackedSize: info.unpackedSize, entryCount: files.length };
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

const COMPILER_OPTIONS = {
  target: "es2022",
  lib: ["es2022"],
  strict: true,
  noEmit: true,
  // Type-check the package's own declarations too, and with no ambient @types (only what the package brings).
  skipLibCheck: false,
  types: [],
};

/** The fresh project: package.json and the check files (see the header). */
function freshProjectFiles(): Record<string, string> {
  return {
    "package.json": json({ name: "tokenpit-package-check", version: "0.0.0", private: true, type: "module" }),
    "tsconfig.json": json({
      compilerOptions: { ...COMPILER_OPTIONS, module: "node16", moduleResolution: "node16" },
      files: ["typed-esm.ts", "typed-cjs.cts"],
    }),
    "tsconfig.bundler.json": json({
      compilerOptions: { ...COMPILER_OPTIONS, module: "esnext", moduleResolution: "bundler" },
      files: ["typed-esm.ts"],
    }),
    // A CommonJS project with the legacy resolution (as this repository's own tsconfig.json): the `types` field.
    "tsconfig.node10.json": json({
      compilerOptions: { ...COMPILER_OPTIONS, module: "commonjs", moduleResolution: "node10", esModuleInterop: true },
      files: ["typed-esm.ts", "typed-cjs.cts"],
    }),
    "tsconfig.negative.json": json({
      compilerOptions: { ...COMPILER_OPTIONS, module: "node16", moduleResolution: "node16" },
      files: ["negative.ts"],
    }),
    // ESM user: named imports, a default import, a typechain factory and its typed contract.
    "typed-esm.ts": `import tokenpit, { Clearinghouse__factory, InvalidAmountError, TokenpitError, formatX18, notionalX18, parseX18 } from "tokenpit";
import type { Clearinghouse, PositionState } from "tokenpit";

/** true when T is \`any\`: the package's types must be real. */
type IsAny<T> = 0 extends 1 & T ? true : false;
export const parseX18IsTyped: IsAny<typeof parseX18> = false;
export const factoryIsTyped: IsAny<typeof Clearinghouse__factory> = false;
export const clearinghouseIsTyped: IsAny<Clearinghouse> = false;

export const priceX18: bigint = parseX18("4.0465");
export const notional: string = formatX18(notionalX18(3n, priceX18, 1000n), 2);
export const sameFunction: typeof parseX18 = tokenpit.parseX18;
export const position: PositionState = { sizeQty: 3n, openNotionalX18: notionalX18(3n, priceX18, 1000n) };
export const error: TokenpitError = new InvalidAmountError("x", "not a number");

// @ts-expect-error parseX18 takes a decimal string, not a number
parseX18(4.0465);
// @ts-expect-error PositionState has no field \`size\`
export const wrongPosition: PositionState = { size: 3n, openNotionalX18: 0n };

export const abiLength: number = Clearinghouse__factory.abi.length;
export function connect(address: string): Clearinghouse {
  return Clearinghouse__factory.connect(address);
}
export function depositFragment(ch: Clearinghouse) {
  return ch.interface.getFunction("deposit");
}
export function noSuchFunction(ch: Clearinghouse) {
  // @ts-expect-error the Clearinghouse has no function \`noSuchFunction\`
  return ch.interface.getFunction("noSuchFunction");
}
`,
    // CommonJS user (the "require" condition of the exports map and its types).
    "typed-cjs.cts": `import tokenpit = require("tokenpit");

type IsAny<T> = 0 extends 1 & T ? true : false;
export const parseX18IsTyped: IsAny<typeof tokenpit.parseX18> = false;

export const priceX18: bigint = tokenpit.parseX18("4.0465");
export const abiLength: number = tokenpit.Clearinghouse__factory.abi.length;
// @ts-expect-error parseX18 takes a decimal string, not a number
tokenpit.parseX18(4.0465);
`,
    // Must NOT type-check: a wrong call without @ts-expect-error.
    "negative.ts": `import { parseX18 } from "tokenpit";

export const wrong: bigint = parseX18(4.0465);
`,
    // The runtime checks, shared by the ESM and CommonJS scripts.
    "assertions.cjs": `"use strict";
function check(condition, message) {
  if (!condition) throw new Error("check failed: " + message);
}
function checkSdk(t, label) {
  const priceX18 = t.parseX18("4.0465");
  check(priceX18 === 4046500000000000000n, "parseX18");
  const notionalX18 = t.notionalX18(3n, priceX18, 1000n);
  check(t.formatX18(notionalX18, 2) === "12139.50", "notionalX18 / formatX18");
  const imX18 = t.requirementX18(3n, priceX18, 1000n, 500n);
  check(t.formatX18(imX18, 2) === "606.975", "requirementX18");
  const feeX18 = t.feeX18(notionalX18, 5n);
  check(t.formatX18(feeX18, 2) === "6.06975", "feeX18");
  let caught;
  try {
    t.parseX18("not a number");
  } catch (error) {
    caught = error;
  }
  check(caught instanceof t.InvalidAmountError && caught instanceof t.TokenpitError, "InvalidAmountError is a TokenpitError");
  const abi = t.Clearinghouse__factory.abi;
  check(Array.isArray(abi) && abi.length > 0, "Clearinghouse__factory.abi");
  check(abi.some((f) => f.type === "function" && f.name === "deposit"), "the Clearinghouse ABI has deposit");
  const oracleAbi = t.IndexOracle__factory.abi;
  console.log(label + ": parseX18(\\"4.0465\\") = " + priceX18);
  console.log(label + ": notionalX18(3, 4.0465, 1000) = " + t.formatX18(notionalX18, 2));
  console.log(label + ": requirementX18(3, 4.0465, 1000, 500 bps) = " + t.formatX18(imX18, 2));
  console.log(label + ": feeX18(12139.50, 5 bps) = " + t.formatX18(feeX18, 2));
  console.log(label + ": parseX18(\\"not a number\\") throws " + caught.name);
  console.log(label + ": Clearinghouse__factory.abi has " + abi.length + " entries, IndexOracle__factory.abi " + oracleAbi.length);
}
module.exports = { check, checkSdk };
`,
    "runtime-cjs.cjs": `"use strict";
const t = require("tokenpit");
const { check, checkSdk } = require("./assertions.cjs");
checkSdk(t, "cjs");
const pkg = require("tokenpit/package.json");
check(pkg.name === "tokenpit", "tokenpit/package.json");
console.log("cjs: tokenpit/package.json version " + pkg.version + ", " + Object.keys(t).length + " exports");
`,
    "runtime-esm.mjs": `import { createRequire } from "node:module";
import * as ns from "tokenpit";
import tokenpit, { Clearinghouse__factory, parseX18 } from "tokenpit";

const require = createRequire(import.meta.url);
const { check, checkSdk } = require("./assertions.cjs");
checkSdk(ns, "esm");
const cjs = require("tokenpit");
check(tokenpit === cjs, "the default export is the CommonJS module");
check(parseX18 === cjs.parseX18 && Clearinghouse__factory === cjs.Clearinghouse__factory, "one module instance");
const named = Object.keys(ns).filter((k) => k !== "default").sort();
const expected = Object.keys(cjs).filter((k) => k !== "__esModule").sort();
const missing = expected.filter((k) => !named.includes(k));
check(missing.length === 0, "ESM lacks named exports: " + missing.join(", "));
let deepImport;
try {
  await import("tokenpit/dist/cjs/sdk/units.js");
} catch (error) {
  deepImport = error.code;
}
check(deepImport === "ERR_PACKAGE_PATH_NOT_EXPORTED", "deep imports are closed by the exports map (" + deepImport + ")");
console.log("esm: " + named.length + " named exports, the same as CommonJS, one module instance; deep imports closed");
`,
  };
}

/** Missing exports, checked with plain node before the detailed checks, for a clear message. */
function checkExports(appDir: string): string {
  const names = Object.values(REQUIRED_EXPORTS).flat();
  const code = `const t = require("tokenpit"); console.log(JSON.stringify(${JSON.stringify(names)}.filter((n) => !(n in t))));`;
  const result = run('require("tokenpit")', process.execPath, ["-e", code], { cwd: appDir });
  const missing = JSON.parse(result.stdout.trim()) as string[];
  if (missing.length > 0) {
    const lines = Object.entries(REQUIRED_EXPORTS)
      .map(([from, group]) => [from, group.filter((name) => missing.includes(name))] as const)
      .filter(([, group]) => group.length > 0)
      .map(([from, group]) => `\n    ${group.join(", ")}: from ${from}`);
    throw new CheckError(`the package does not export${lines.join("")}`);
  }
  return names.join(", ");
}

function tsc(what: string, appDir: string, args: string[], expectFailure = false): RunResult {
  return run(what, process.execPath, [TSC, ...args], { cwd: appDir }, expectFailure);
}

/** `from "../sdk"` in a repository example: the package as the example's users import it. */
const SDK_IMPORT = /from "\.\.\/sdk"/g;
/** Relative imports of sibling files (`from "./connect"`), copied along with the example. */
const SIBLING_IMPORT = /from "\.\/([\w-]+)"/g;

/**
 * Copies the example into the fresh project, compiles it if it is TypeScript, runs it with node (output shown).
 * A repository example (examples/*.ts) is copied with the sibling files it imports into `examples/` of the fresh
 * project, its `"../sdk"` imports rewritten to the package, and compiled there as CommonJS with full type checking
 * of the package's types.
 */
function runExample(appDir: string, options: Options & { example: string }): void {
  const ext = path.extname(options.example);
  const exampleDir = path.join(appDir, "examples");
  fs.mkdirSync(exampleDir, { recursive: true });
  const copied = new Set<string>();
  const copy = (file: string): void => {
    if (copied.has(file)) return;
    copied.add(file);
    const source = fs.readFileSync(file, "utf8");
    fs.writeFileSync(path.join(exampleDir, path.basename(file)), source.replace(SDK_IMPORT, `from "${PACKAGE_NAME}"`));
    for (const match of source.matchAll(SIBLING_IMPORT)) {
      const sibling = path.join(path.dirname(file), `${match[1]}${ext}`);
      if (fs.existsSync(sibling)) copy(sibling);
    }
  };
  copy(options.example);
  const name = path.basename(options.example);
  let script = path.join("examples", name);
  if ([".ts", ".mts", ".cts"].includes(ext)) {
    writeFiles(appDir, {
      // The fresh project is ESM; its examples folder is CommonJS, as the repository's examples are.
      "examples/package.json": json({ type: "commonjs" }),
      "tsconfig.example.json": json({
        compilerOptions: {
          ...COMPILER_OPTIONS,
          module: "node16",
          moduleResolution: "node16",
          noEmit: false,
          rootDir: "examples",
          outDir: "examples/out",
          // Node's types for the example's own use of fs and process (a Node dApp has them), from this repository.
          typeRoots: [path.join(ROOT, "node_modules", "@types")],
          types: ["node"],
        },
        files: [...copied].map((file) => path.join("examples", path.basename(file))),
      }),
    });
    tsc(`tsc -p tsconfig.example.json (${name})`, appDir, ["-p", "tsconfig.example.json"]);
    script = path.join(
      "examples",
      "out",
      name.replace(/\.(m|c)?ts$/, (_, m: string | undefined) => `.${m ?? ""}js`),
    );
  } else if (![".js", ".mjs", ".cjs"].includes(ext)) {
    throw new CheckError(`--example must be .js, .mjs, .cjs, .ts, .mts or .cts, not ${ext}`);
  }
  const result = spawnSync(process.execPath, [script, ...options.exampleArgs], {
    cwd: appDir,
    stdio: "inherit",
    env: process.env,
  });
  if (result.error !== undefined) throw new CheckError(`node ${script}: ${result.error.message}`);
  if (result.status !== 0) throw new CheckError(`node ${script} failed (exit ${result.status ?? result.signal})`);
}

function main(options: Options): void {
  const started = Date.now();
  const packDir = fs.mkdtempSync(path.join(os.tmpdir(), "tokenpit-pack-"));
  const appDir = fs.mkdtempSync(path.join(os.tmpdir(), "tokenpit-app-"));
  const steps: [string, () => string][] = [];
  let info: PackInfo | undefined;
  const tarball = (): string => {
    if (info === undefined) throw new CheckError("no tarball: npm pack did not run");
    return info.tarball;
  };
  steps.push([
    `npm pack${options.compile ? "" : " (TOKENPIT_BUILD_NO_COMPILE=1: no hardhat compile)"}`,
    () => {
      info = pack(packDir, options);
      const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
      return `${path.basename(info.tarball)}: ${kB(info.size)} packed, ${kB(info.unpackedSize)} unpacked, ${info.entryCount} files`;
    },
  ]);
  steps.push([
    "npm install <tarball> in a fresh project",
    () => {
      writeFiles(appDir, freshProjectFiles());
      const npm = npmCommand();
      run(
        "npm install",
        npm.command,
        [...npm.prefixArgs, "install", tarball(), "--prefer-offline", "--no-audit", "--no-fund"],
        { cwd: appDir, env: freshNpmEnv(), timeout: 5 * MINUTE_MS },
      );
      const installed = JSON.parse(
        fs.readFileSync(path.join(appDir, "node_modules", PACKAGE_NAME, "package.json"), "utf8"),
      ) as { version: string };
      return `${appDir} has ${PACKAGE_NAME}@${installed.version}`;
    },
  ]);
  steps.push(["exports", () => checkExports(appDir)]);
  steps.push([
    "type-check (node16: typed-esm.ts, typed-cjs.cts)",
    () => {
      tsc("tsc -p tsconfig.json", appDir, ["-p", "tsconfig.json"]);
      return "";
    },
  ]);
  steps.push([
    "type-check (bundler: typed-esm.ts)",
    () => {
      tsc("tsc -p tsconfig.bundler.json", appDir, ["-p", "tsconfig.bundler.json"]);
      return "";
    },
  ]);
  steps.push([
    "type-check (node10, CommonJS: typed-esm.ts, typed-cjs.cts)",
    () => {
      tsc("tsc -p tsconfig.node10.json", appDir, ["-p", "tsconfig.node10.json"]);
      return "";
    },
  ]);
  steps.push([
    "negative control: a wrong call must not type-check",
    () => {
      const result = tsc("tsc -p tsconfig.negative.json", appDir, ["-p", "tsconfig.negative.json"], true);
      const output = result.stdout + result.stderr;
      if (!/negative\.ts\(3,\d+\): error TS2345/.test(output)) {
        throw new CheckError(`tsc rejected negative.ts, but not for the wrong argument:\n${tail(output)}`);
      }
      return "rejected with TS2345";
    },
  ]);
  for (const [label, script] of [
    ["ESM", "runtime-esm.mjs"],
    ["CommonJS", "runtime-cjs.cjs"],
  ]) {
    steps.push([
      `node ${script} (${label})`,
      () => {
        const result = run(`node ${script}`, process.execPath, [script], { cwd: appDir });
        return result.stdout.trimEnd();
      },
    ]);
  }
  if (options.example !== undefined) {
    const example = options.example;
    steps.push([
      `example ${path.relative(ROOT, example)}${options.exampleArgs.length > 0 ? ` ${options.exampleArgs.join(" ")}` : ""}`,
      () => {
        runExample(appDir, { ...options, example });
        return "";
      },
    ]);
  }

  let failed = false;
  try {
    steps.forEach(([label, step], i) => {
      log(`${i + 1}/${steps.length} ${label}`);
      const stepStarted = Date.now();
      let detail: string;
      try {
        detail = step();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new CheckError(`step ${i + 1}/${steps.length} (${label}) FAILED: ${message}`);
      }
      if (detail !== "") for (const line of detail.split("\n")) log(`    ${line}`);
      log(`    done (${seconds(Date.now() - stepStarted)})`);
    });
  } catch (error) {
    failed = true;
    console.error(`[check-package] ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (options.keep || failed) {
      log(`kept: ${packDir} ${appDir}`);
    } else {
      fs.rmSync(packDir, { recursive: true, force: true });
      fs.rmSync(appDir, { recursive: true, force: true });
    }
  }
  if (failed) {
    console.error(`[check-package] package check FAILED after ${seconds(Date.now() - started)}`);
    process.exit(1);
  }
  log(`package check passed in ${seconds(Date.now() - started)}`);
}

main(parseArgs(process.argv.slice(2)));
