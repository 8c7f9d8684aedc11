/**
 * The safety checks of `npm run check:safety` (scripts/check-safety.ts, docs/assurance.md), as pure functions from a
 * file's text to its findings, tested with good and bad sources in test/tasks/checkSafety.test.ts:
 *
 *   - `checkUpgradeability` (non-mock contracts): no import of anything upgradeable (`@openzeppelin/contracts-
 *     upgradeable`, `Initializable`, `UUPSUpgradeable`, proxies), no `initialize`/`reinitialize` function or
 *     initializer modifier, no `delegatecall`, `callcode` or `selfdestruct` (RELIABILITY item 26). Calls into the
 *     linked `...Logic` libraries are delegatecalls the compiler emits to immutable code; they do not appear in the
 *     source and are not findings.
 *   - `checkConsoleImport` (every contract, mocks included): no `hardhat/console.sol` or other `console.sol` import.
 *   - `checkFocusedTests` (TypeScript and JavaScript under test/, bench/, keepers/, tasks/, sdk/, scripts/): no
 *     `describe.only(`, `it.only(`, `context.only(` or `specify.only(` call, found in the syntax tree, so comments
 *     and strings never count.
 *
 * Solidity is read with its comments blanked out (line numbers kept), and string literals too where a keyword is
 * looked for, so NatSpec that says "no delegatecall" is not a finding.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

export type SafetyRule =
  "upgradeable-import" | "initializer" | "delegatecall" | "selfdestruct" | "console-import" | "focused-test";

/** One problem in one file: the 1-based line, the rule and what is wrong. */
export interface Finding {
  line: number;
  rule: SafetyRule;
  message: string;
}

/** A finding with the file (relative to the repository root, `/`-separated) it was found in. */
export interface FileFinding extends Finding {
  file: string;
}

/**
 * `source` with every comment replaced by spaces (newlines kept, so offsets and lines do not move); with
 * `blankStrings`, the contents of string literals too (their quotes stay).
 */
export function blankSolidity(source: string, options: { blankStrings?: boolean } = {}): string {
  const out = source.split("");
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n" && out[k] !== "\r") out[k] = " ";
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      let end = source.indexOf("\n", i);
      if (end === -1) end = source.length;
      blank(i, end);
      i = end;
    } else if (c === "/" && next === "*") {
      let end = source.indexOf("*/", i + 2);
      end = end === -1 ? source.length : end + 2;
      blank(i, end);
      i = end;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      if (options.blankStrings === true) blank(i + 1, Math.min(j, source.length));
      i = j + 1;
    } else {
      i++;
    }
  }
  return out.join("");
}

/** 1-based line of `offset` in `text`. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text[k] === "\n") line++;
  return line;
}

interface ImportStatement {
  line: number;
  path: string;
  /** The whole statement, comments blanked: symbols and path. */
  text: string;
}

/** Every `import ...;` of a Solidity source, with the imported path. */
export function importsOf(source: string): ImportStatement[] {
  const code = blankSolidity(source);
  const imports: ImportStatement[] = [];
  for (const match of code.matchAll(/\bimport\b[^;]*;/g)) {
    const quoted = /["']([^"']*)["']/.exec(match[0]);
    if (quoted === null) continue;
    imports.push({ line: lineAt(code, match.index), path: quoted[1], text: match[0].replace(/\s+/g, " ") });
  }
  return imports;
}

/** Findings of every match of `pattern` (global) in `code`. */
function matchesOf(code: string, pattern: RegExp, rule: SafetyRule, message: (word: string) => string): Finding[] {
  return [...code.matchAll(pattern)].map((m) => ({ line: lineAt(code, m.index), rule, message: message(m[0]) }));
}

const UPGRADEABLE_IMPORT = /upgradeable|initializable|proxy/i;

/** Check (a), for every contract outside contracts/mocks/: nothing upgradeable, no delegatecall or selfdestruct. */
export function checkUpgradeability(source: string): Finding[] {
  const findings: Finding[] = [];
  for (const statement of importsOf(source)) {
    if (UPGRADEABLE_IMPORT.test(statement.text)) {
      findings.push({
        line: statement.line,
        rule: "upgradeable-import",
        message: `imports upgradeability or a proxy ("${statement.path}"): core contracts are not upgradeable`,
      });
    }
  }
  const code = blankSolidity(source, { blankStrings: true });
  findings.push(
    ...matchesOf(
      code,
      /\bfunction\s+(?:re)?initialize\b/g,
      "initializer",
      (m) => `declares ${m.replace(/\s+/g, " ")}: core contracts are set up by their constructor, never initialized`,
    ),
    ...matchesOf(
      code,
      /\b(?:initializer|reinitializer|onlyInitializing)\b/g,
      "initializer",
      (m) => `uses the ${m} modifier: core contracts are never initialized`,
    ),
    ...matchesOf(
      code,
      /\b(?:delegatecall|callcode)\b/g,
      "delegatecall",
      (m) => `uses ${m}: core contracts never run another contract's code in their storage`,
    ),
    ...matchesOf(code, /\b(?:selfdestruct|suicide)\b/g, "selfdestruct", (m) => `uses ${m}`),
  );
  return findings.sort((a, b) => a.line - b.line);
}

/** Check (b), for every contract: no console.sol import (hardhat/console.sol or any other). */
export function checkConsoleImport(source: string): Finding[] {
  return importsOf(source)
    .filter((statement) => /(^|\/)console\d*\.sol$/i.test(statement.path) || /hardhat\/console/i.test(statement.path))
    .map((statement) => ({
      line: statement.line,
      rule: "console-import" as const,
      message: `imports "${statement.path}": no console logging in contracts`,
    }));
}

const FOCUSABLE = new Set(["describe", "it", "context", "specify"]);

/** Check (c), for a TypeScript or JavaScript file: no focused test (`describe.only(...)` and the like). */
export function checkFocusedTests(source: string, fileName = "file.ts"): Finding[] {
  const kind = /\.[mc]?js$/.test(fileName) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sourceFile = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, kind);
  const findings: Finding[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (
        ts.isPropertyAccessExpression(callee) &&
        callee.name.text === "only" &&
        ts.isIdentifier(callee.expression) &&
        FOCUSABLE.has(callee.expression.text)
      ) {
        const { line } = sourceFile.getLineAndCharacterOfPosition(callee.getStart(sourceFile));
        findings.push({
          line: line + 1,
          rule: "focused-test",
          message: `${callee.expression.text}.only(...) runs only the focused tests: remove .only`,
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return findings;
}

/** Folders whose scripts may hold tests or test helpers: no `.only` in any of them. */
export const SCRIPT_FOLDERS = ["test", "bench", "keepers", "tasks", "sdk", "scripts"];
const SCRIPT_FILE = /\.(?:[mc]?ts|[mc]?js)$/;
const SKIPPED_FOLDERS = new Set(["node_modules", ".git"]);

/** Every file under `dir` (absolute) whose name matches `pattern`, sorted. */
function filesUnder(dir: string, pattern: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) files.push(...filesUnder(full, pattern));
    } else if (pattern.test(entry.name)) {
      files.push(full);
    }
  }
  return files.sort();
}

/** The result of scanning a repository: what was checked and what was found. */
export interface ScanResult {
  contracts: number;
  scripts: number;
  findings: FileFinding[];
}

/** Runs the three checks over the repository at `root`. */
export function scanRepository(root: string): ScanResult {
  const relative = (file: string) => path.relative(root, file).split(path.sep).join("/");
  const findings: FileFinding[] = [];
  const contracts = filesUnder(path.join(root, "contracts"), /\.sol$/);
  for (const file of contracts) {
    const name = relative(file);
    const source = fs.readFileSync(file, "utf8");
    const found = [...checkConsoleImport(source)];
    if (!name.startsWith("contracts/mocks/")) found.push(...checkUpgradeability(source));
    findings.push(...found.map((f) => ({ file: name, ...f })));
  }
  const scripts = SCRIPT_FOLDERS.flatMap((folder) => filesUnder(path.join(root, folder), SCRIPT_FILE));
  for (const file of scripts) {
    const name = relative(file);
    findings.push(...checkFocusedTests(fs.readFileSync(file, "utf8"), name).map((f) => ({ file: name, ...f })));
  }
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { contracts: contracts.length, scripts: scripts.length, findings };
}

/** `file:line: [rule] message`. */
export function formatFinding(finding: FileFinding): string {
  return `${finding.file}:${finding.line}: [${finding.rule}] ${finding.message}`;
}
