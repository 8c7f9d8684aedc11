/** Counts of the reporter's round outcomes, for the status endpoint's /metrics. */
import type { RoundAction, RoundOutcome } from "./reporter";

/** Counter names by action: exported as `rounds_submitted_total`, `rounds_dry_run_total`, ... */
const COUNTER_OF: Record<RoundAction, string> = {
  submitted: "roundsSubmitted",
  "dry-run": "roundsDryRun",
  skipped: "roundsSkipped",
  refused: "roundsRefused",
};

/** Monotonic counters over the life of the process, plus what the last pass left undelivered. */
export class RoundStats {
  private readonly totals: Record<string, number> = Object.fromEntries(
    Object.values(COUNTER_OF).map((name) => [name, 0]),
  );
  private lastRefused = 0;

  /** Records one pass's outcomes. */
  record(outcomes: RoundOutcome[]): void {
    for (const outcome of outcomes) this.totals[COUNTER_OF[outcome.action]]++;
    this.lastRefused = outcomes.filter((outcome) => outcome.action === "refused").length;
  }

  /** Feeds whose last pass ended refused (bad data, a simulation revert, a failed send): the queue depth. */
  refusedInLastPass(): number {
    return this.lastRefused;
  }

  /** A snapshot of the counters. */
  counters(): Record<string, number> {
    return { ...this.totals };
  }
}
