/**
 * The index feeds of the exchange and their oracle parameters (see docs/oracle.md for why).
 * Used by the deployment, the demo and the tests.
 */
export interface FeedSpec {
  symbol: "AIT" | "GPUH";
  description: string;
  methodologyVersion: number;
  params: { maxAgeSec: number; jumpGuardBps: number; confirmDelaySec: number; minIntervalSec: number };
  /** Seconds between reporter rounds when the index is unchanged. */
  heartbeatSec: number;
}

export const FEEDS: FeedSpec[] = [
  {
    symbol: "AIT",
    description: "AIT / USD per 1M tokens",
    methodologyVersion: 1,
    // List prices change in steps, rarely: a 6 h heartbeat, stale after 24 h, and a 10% guard that
    // holds single-round steps (a -67% flagship cut moves the index about -16%) for 1 h.
    params: { maxAgeSec: 86_400, jumpGuardBps: 1_000, confirmDelaySec: 3_600, minIntervalSec: 900 },
    heartbeatSec: 21_600,
  },
  {
    symbol: "GPUH",
    description: "GPUH / USD per GPU-hour",
    methodologyVersion: 1,
    // Rental prices diffuse: hourly rounds, stale after 6 h, a 7.5% guard (above a 99% one-day move).
    params: { maxAgeSec: 21_600, jumpGuardBps: 750, confirmDelaySec: 3_600, minIntervalSec: 900 },
    heartbeatSec: 3_600,
  },
];

/** Reporters and quorum of the local deployment and the demo: 5 reporters, 3 must sign. */
export const LOCAL_REPORTER_COUNT = 5;
export const LOCAL_QUORUM = 3;
