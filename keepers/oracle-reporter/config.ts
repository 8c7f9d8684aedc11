/**
 * Reporter configuration from the environment (see .env.example and docs/oracle-reporter.md), validated at
 * start-up: the shared keeper variables (keepers/runtime/config.ts: RPC_URLS, PRIVATE_KEY = the transmitter,
 * DRY_RUN, fees...) plus the reporter's own REPORTER_* variables, in one pass that names every problem.
 * Secrets (reporter keys, the transmitter key) come only from the environment.
 */
import { z } from "zod";
import { loadKeeperConfig } from "../runtime/config";
import type { BaseKeeperConfig } from "../runtime/config";
import { FEED_SYMBOLS } from "./source";
import type { FeedSymbol } from "./source";

/** The endpoint used when neither RPC_URLS nor RPC_URL is set: a local `npx hardhat node`. */
export const DEFAULT_REPORTER_RPC_URL = "http://127.0.0.1:8545";

const hexKey = z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, "each key must be 64 hex digits (value not shown)");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const seconds = z.coerce.number().int("must be an integer").positive();

/** The reporter's own variables, validated together with the base keeper variables. */
export const reporterEnvSchema = z.object({
  REPORTER_ORACLE_ADDRESS: address,
  REPORTER_SIGNER_KEYS: z
    .string({ required_error: "required: comma-separated reporter keys" })
    .transform((value) => value.split(",").map((key) => key.trim()))
    .pipe(z.array(hexKey).min(1, "needs at least one key")),
  REPORTER_FEEDS: z
    .string()
    .default("AIT,GPUH")
    .transform((value) => value.split(",").map((feed) => feed.trim()))
    .pipe(z.array(z.enum(FEED_SYMBOLS)).min(1)),
  REPORTER_SOURCE: z.string().default("bundled"),
  REPORTER_HEARTBEAT_SEC: seconds.default(3_600),
  REPORTER_DEVIATION_BPS: z.coerce.number().int("must be an integer").min(1).max(10_000).default(50),
  REPORTER_POLL_SEC: seconds.default(60),
  REPORTER_ROUND_ALIGN_SEC: seconds.default(60),
  /** Deprecated alias of DRY_RUN: either one set to true makes the reporter send nothing. */
  REPORTER_DRY_RUN: z.enum(["true", "false"]).optional(),
});

/** The validated reporter configuration, with units in the names. */
export interface ReporterConfig extends BaseKeeperConfig {
  oracleAddress: string;
  /** Reporter keys this process signs with. Secret: never log them (log the addresses). */
  signerKeys: string[];
  feeds: FeedSymbol[];
  /** "bundled", a file path, or an http(s) URL serving a snapshot. */
  source: string;
  heartbeatSec: bigint;
  deviationBps: bigint;
  /** Pause between the end of one pass and the start of the next (REPORTER_POLL_SEC). */
  passIntervalMs: number;
  roundAlignSec: bigint;
  /** REPORTER_DRY_RUN was set: the process warns that it is deprecated (it is already folded into `dryRun`). */
  deprecatedDryRunAliasSet: boolean;
}

/** Unset and blank variables count alike, as in the runtime's loader. */
const isBlank = (value: string | undefined) => value === undefined || value.trim() === "";

/**
 * Validates the base keeper variables and the reporter's. RPC_URLS/RPC_URL default to a local node;
 * `dryRun` is DRY_RUN or the deprecated REPORTER_DRY_RUN.
 * @throws KeeperConfigError naming every missing or malformed variable, never their values.
 */
export function loadReporterConfig(env: NodeJS.ProcessEnv = process.env): ReporterConfig {
  const withDefaults =
    isBlank(env.RPC_URLS) && isBlank(env.RPC_URL) ? { ...env, RPC_URL: DEFAULT_REPORTER_RPC_URL } : env;
  const { keeper: e, ...base } = loadKeeperConfig(reporterEnvSchema, withDefaults);
  return {
    ...base,
    dryRun: base.dryRun || e.REPORTER_DRY_RUN === "true",
    oracleAddress: e.REPORTER_ORACLE_ADDRESS,
    signerKeys: e.REPORTER_SIGNER_KEYS,
    feeds: e.REPORTER_FEEDS,
    source: e.REPORTER_SOURCE,
    heartbeatSec: BigInt(e.REPORTER_HEARTBEAT_SEC),
    deviationBps: BigInt(e.REPORTER_DEVIATION_BPS),
    passIntervalMs: e.REPORTER_POLL_SEC * 1_000,
    roundAlignSec: BigInt(e.REPORTER_ROUND_ALIGN_SEC),
    deprecatedDryRunAliasSet: e.REPORTER_DRY_RUN !== undefined,
  };
}
