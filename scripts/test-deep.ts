/**
 * `npm run test:deep`: the system campaign's deep profiles, 500 runs x 100 steps and 50 runs x 1,000 steps,
 * in two processes at once (one per core), then `bench/assurance.json` with what they did.
 *
 * Options: --seed N (default: the campaign's), --budget N (at most N random steps per profile: fewer runs),
 * --only deep|long (one profile). A failure prints the seed and path that replay it and exits non-zero.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

interface ProfileRun {
  name: "deep" | "long";
  runs: number;
  steps: number;
}

const PROFILES: ProfileRun[] = [
  { name: "deep", runs: 500, steps: 100 },
  { name: "long", runs: 50, steps: 1_000 },
];

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  if (at === -1) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith("--")) throw new UsageError(`--${name} needs a value`);
  return value;
}

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return value;
}

interface Outcome {
  profile: ProfileRun;
  exitCode: number;
  seconds: number;
  report: Record<string, unknown> | undefined;
  log: string;
}

function runProfile(profile: ProfileRun, seed: number | undefined): Promise<Outcome> {
  const reportFile = path.join(os.tmpdir(), `tokenpit-campaign-${profile.name}-${process.pid}.json`);
  const logFile = path.join(os.tmpdir(), `tokenpit-campaign-${profile.name}-${process.pid}.log`);
  const env = {
    ...process.env,
    SYS_PROFILE: profile.name,
    SYS_RUNS: String(profile.runs),
    SYS_STEPS: String(profile.steps),
    SYS_REPORT: reportFile,
    ...(seed === undefined ? {} : { SYS_SEED: String(seed) }),
  };
  const started = Date.now();
  const out = fs.openSync(logFile, "w");
  const child = spawn("npx", ["hardhat", "test", "--no-compile", "test/invariant/System.campaign.test.ts"], {
    env,
    stdio: ["ignore", out, out],
  });
  console.log(`${profile.name}: ${profile.runs} runs x ${profile.steps} steps started (log: ${logFile})`);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      fs.closeSync(out);
      const report = fs.existsSync(reportFile)
        ? (JSON.parse(fs.readFileSync(reportFile, "utf8")) as Record<string, unknown>)
        : undefined;
      const seconds = Math.round((Date.now() - started) / 1000);
      console.log(`${profile.name}: exit ${code} after ${seconds} s`);
      resolve({ profile, exitCode: code ?? 1, seconds, report, log: fs.readFileSync(logFile, "utf8") });
    });
  });
}

/** Line and branch coverage of `contracts/` from the last `npm run coverage`, when there is one. */
function coverageFigures(): Record<string, number> | undefined {
  const summary = path.join("coverage", "coverage-summary.json");
  if (!fs.existsSync(summary)) return undefined;
  const total = (JSON.parse(fs.readFileSync(summary, "utf8")) as { total: Record<string, { pct: number }> }).total;
  return { linesPct: total.lines.pct, branchesPct: total.branches.pct, functionsPct: total.functions.pct };
}

/** The coverage figures `bench/assurance.json` already records, kept when this run has none of its own. */
function previousCoverage(): unknown {
  const file = path.join("bench", "assurance.json");
  if (!fs.existsSync(file)) return "not measured: run npm run coverage first";
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { coverage?: unknown }).coverage ?? "not measured";
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seed = positiveInt("seed", option(args, "seed"));
  const budget = positiveInt("budget", option(args, "budget"));
  const only = option(args, "only");
  if (only !== undefined && !PROFILES.some((p) => p.name === only)) throw new UsageError("--only must be deep or long");
  const profiles = PROFILES.filter((p) => only === undefined || p.name === only).map((p) => ({
    ...p,
    runs: budget === undefined ? p.runs : Math.max(1, Math.min(p.runs, Math.floor(budget / p.steps))),
  }));
  const started = Date.now();
  const outcomes = await Promise.all(profiles.map((p) => runProfile(p, seed)));
  const failures = outcomes.filter((o) => o.exitCode !== 0);
  const assurance = {
    date: new Date().toISOString().slice(0, 10),
    command: `npm run test:deep${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`,
    machine: { cores: os.cpus().length, node: process.version },
    wallSeconds: Math.round((Date.now() - started) / 1000),
    profiles: outcomes.map((o) => ({
      name: o.profile.name,
      runsPlanned: o.profile.runs,
      stepsPerRun: o.profile.steps,
      runsCompleted: o.report?.runs ?? 0,
      stepsChecked: o.report?.steps ?? 0,
      invariantsCheckedAfterEveryStep: o.report?.invariants ?? [],
      failures: o.exitCode === 0 ? 0 : 1,
      seconds: o.seconds,
      seed: o.report?.seed,
    })),
    coverage: coverageFigures() ?? previousCoverage(),
  };
  fs.writeFileSync(path.join("bench", "assurance.json"), `${JSON.stringify(assurance, null, 2)}\n`);
  console.log(JSON.stringify(assurance, null, 2));
  for (const failure of failures) {
    const replay = failure.log.split("\n").find((line) => line.includes("replay:")) ?? "(see the log)";
    console.error(`\n${failure.profile.name} failed: ${replay.trim()}`);
    console.error(failure.log.split("\n").slice(-60).join("\n"));
  }
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof UsageError ? `test:deep: ${error.message}` : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
