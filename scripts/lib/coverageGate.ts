/**
 * The coverage gate (scripts/check-coverage.ts, docs/assurance.md): from istanbul's json-summary of a
 * solidity-coverage run, the line and branch coverage of contracts/ (contracts/mocks/ excluded) summed over the
 * files, against the thresholds. A pure function, tested in test/tasks/checkCoverage.test.ts.
 */
import path from "node:path";

/** Lines 95%, branches 90%, over contracts/ without mocks. */
export const COVERAGE_THRESHOLDS = { lines: 95, branches: 90 } as const;

/** One metric of istanbul's json-summary. */
export interface SummaryMetric {
  total: number;
  covered: number;
  skipped?: number;
  pct?: number | string;
}

/** One file's entry (or the `total` entry) of istanbul's json-summary. */
export interface SummaryEntry {
  lines: SummaryMetric;
  branches: SummaryMetric;
  statements?: SummaryMetric;
  functions?: SummaryMetric;
}

/** istanbul's coverage-summary.json: `total` and one entry per file, keyed by absolute path. */
export type CoverageSummary = Record<string, SummaryEntry>;

/** Covered of total, and the percentage (100 when there is nothing to cover). */
export interface Tally {
  covered: number;
  total: number;
  pct: number;
}

export interface FileCoverage {
  /** Relative to the repository root, `/`-separated. */
  file: string;
  lines: Tally;
  branches: Tally;
}

export interface GateResult {
  ok: boolean;
  lines: Tally;
  branches: Tally;
  thresholds: { lines: number; branches: number };
  /** Every measured file, sorted by name. */
  files: FileCoverage[];
  /** Why the gate failed (empty when it passed). */
  failures: string[];
}

function tally(covered: number, total: number): Tally {
  return { covered, total, pct: total === 0 ? 100 : (covered * 100) / total };
}

/** True for a contract the gate measures: under contracts/, not under contracts/mocks/. */
export function isGatedContract(file: string): boolean {
  return file.startsWith("contracts/") && !file.startsWith("contracts/mocks/") && file.endsWith(".sol");
}

/**
 * Checks `summary` against `thresholds`. Files are those of `summary` under `root`/contracts/ (mocks excluded);
 * the `total` entry is not trusted, since it would count any other file the run measured.
 */
export function checkCoverage(
  summary: CoverageSummary,
  root: string,
  thresholds: { lines: number; branches: number } = COVERAGE_THRESHOLDS,
): GateResult {
  const files: FileCoverage[] = [];
  for (const [key, entry] of Object.entries(summary)) {
    if (key === "total") continue;
    const file = (path.isAbsolute(key) ? path.relative(root, key) : key).split(path.sep).join("/");
    if (!isGatedContract(file)) continue;
    files.push({
      file,
      lines: tally(entry.lines.covered, entry.lines.total),
      branches: tally(entry.branches.covered, entry.branches.total),
    });
  }
  files.sort((a, b) => a.file.localeCompare(b.file));
  const sum = (pick: (f: FileCoverage) => Tally) =>
    tally(
      files.reduce((n, f) => n + pick(f).covered, 0),
      files.reduce((n, f) => n + pick(f).total, 0),
    );
  const lines = sum((f) => f.lines);
  const branches = sum((f) => f.branches);
  const failures: string[] = [];
  if (files.length === 0) failures.push("no file under contracts/ (mocks excluded) in the coverage summary");
  if (lines.pct < thresholds.lines) failures.push(`lines ${percent(lines.pct)} < ${thresholds.lines}%`);
  if (branches.pct < thresholds.branches) failures.push(`branches ${percent(branches.pct)} < ${thresholds.branches}%`);
  return { ok: failures.length === 0, lines, branches, thresholds: { ...thresholds }, files, failures };
}

/** `98.76%`: two decimals, rounded down, so a figure shown as meeting a threshold does meet it. */
export function percent(pct: number): string {
  return `${(Math.floor(pct * 100) / 100).toFixed(2)}%`;
}

/** The report the gate prints: totals, then each file below a threshold. */
export function formatCoverage(result: GateResult): string {
  const figure = (t: Tally) => `${percent(t.pct)} (${t.covered}/${t.total})`;
  const out = [
    `coverage of contracts/ (mocks excluded), ${result.files.length} files:`,
    `  lines    ${figure(result.lines)}, threshold ${result.thresholds.lines}%`,
    `  branches ${figure(result.branches)}, threshold ${result.thresholds.branches}%`,
  ];
  const below = result.files.filter(
    (f) => f.lines.pct < result.thresholds.lines || f.branches.pct < result.thresholds.branches,
  );
  if (below.length > 0) {
    out.push(`files below ${result.thresholds.lines}% of lines or ${result.thresholds.branches}% of branches:`);
    for (const f of below) out.push(`  ${f.file}: lines ${figure(f.lines)}, branches ${figure(f.branches)}`);
  }
  out.push(result.ok ? "coverage gate: passed" : `coverage gate: FAILED (${result.failures.join("; ")})`);
  return out.join("\n");
}
