/**
 * Reporter configuration from the environment (see .env.example), validated at start-up.
 * Secrets (reporter keys, the transmitter key) come only from the environment.
 */
import { z } from "zod";
import { KeeperConfigError } from "../shared/errors";
import { FEED_SYMBOLS } from "./source";
import type { FeedSymbol } from "./source";

const hexKey = z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, "each key must be 64 hex digits");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const seconds = z.coerce.number().int().positive();

const envSchema = z.object({
  RPC_URL: z.string().url().default("http://127.0.0.1:8545"),
  PRIVATE_KEY: hexKey,
  REPORTER_ORACLE_ADDRESS: address,
  REPORTER_SIGNER_KEYS: z
    .string()
    .min(1, "needs at least one key")
    .transform((value) => value.split(",").map((key) => key.trim()))
    .pipe(z.array(hexKey).min(1)),
  REPORTER_FEEDS: z
    .string()
    .default("AIT,GPUH")
    .transform((value) => value.split(",").map((feed) => feed.trim()))
    .pipe(z.array(z.enum(FEED_SYMBOLS)).min(1)),
  REPORTER_SOURCE: z.string().default("bundled"),
  REPORTER_HEARTBEAT_SEC: seconds.default(3_600),
  REPORTER_DEVIATION_BPS: z.coerce.number().int().min(1).max(10_000).default(50),
  REPORTER_POLL_SEC: seconds.default(60),
  REPORTER_ROUND_ALIGN_SEC: seconds.default(60),
  REPORTER_DRY_RUN: z.enum(["true", "false"]).default("false"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface ReporterConfig {
  rpcUrl: string;
  transmitterKey: string;
  oracleAddress: string;
  signerKeys: string[];
  feeds: FeedSymbol[];
  source: string;
  heartbeatSec: bigint;
  deviationBps: bigint;
  pollSec: number;
  roundAlignSec: bigint;
  dryRun: boolean;
  logLevel: string;
}

/** @throws KeeperConfigError naming every missing or malformed variable. */
export function loadReporterConfig(env: NodeJS.ProcessEnv = process.env): ReporterConfig {
  const blank = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim());
  const cleaned = Object.fromEntries(Object.keys(envSchema.shape).map((key) => [key, blank(env[key])]));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new KeeperConfigError(`invalid reporter configuration (see .env.example): ${problems.join("; ")}`);
  }
  const e = parsed.data;
  return {
    rpcUrl: e.RPC_URL,
    transmitterKey: e.PRIVATE_KEY,
    oracleAddress: e.REPORTER_ORACLE_ADDRESS,
    signerKeys: e.REPORTER_SIGNER_KEYS,
    feeds: e.REPORTER_FEEDS,
    source: e.REPORTER_SOURCE,
    heartbeatSec: BigInt(e.REPORTER_HEARTBEAT_SEC),
    deviationBps: BigInt(e.REPORTER_DEVIATION_BPS),
    pollSec: e.REPORTER_POLL_SEC,
    roundAlignSec: BigInt(e.REPORTER_ROUND_ALIGN_SEC),
    dryRun: e.REPORTER_DRY_RUN === "true",
    logLevel: e.LOG_LEVEL,
  };
}
