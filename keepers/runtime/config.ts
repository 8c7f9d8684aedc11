/**
 * Environment configuration shared by every keeper process, validated at start-up with zod.
 * A keeper adds its own variables with a zod object; `loadKeeperConfig` validates both in one pass and names
 * every missing or malformed variable. Secrets (PRIVATE_KEY) are read only from the environment, never from
 * files or command-line arguments, and `redact` strips them before a configuration is logged.
 */
import { parseUnits } from "ethers";
import { z } from "zod";
import { KeeperConfigError } from "../shared/errors";
import { readDeployment } from "../../config/deployments";
import type { Deployment } from "../../sdk/deployment";

/**
 * Keeper variables that DEPLOYMENT_FILE supplies when they are not set: a keeper pointed at
 * `deployments/<network>.json` needs no addresses of its own.
 */
const FROM_DEPLOYMENT: Record<string, (deployment: Deployment) => string> = {
  KEEPER_CLEARINGHOUSE_ADDRESS: (d) => d.contracts.clearinghouse,
  KEEPER_START_BLOCK: (d) => String(d.startBlock),
  REPORTER_ORACLE_ADDRESS: (d) => d.contracts.oracle,
};

/** Log levels accepted by LOG_LEVEL (pino's, plus `silent`). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Nodes replace a pending transaction only when both fees rise by at least 10% (geth) to 12.5% (others). */
export const MIN_FEE_BUMP_BPS = 1_250;

const REDACTED = "[redacted]";

const rpcUrl = z.string().refine((value) => {
  try {
    return ["http:", "https:", "ws:", "wss:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}, "must be an http(s) or ws(s) URL");
const integerAtLeast = (minimum: number) => z.coerce.number().int("must be an integer").min(minimum);
const decimalGwei = z
  .string()
  .regex(/^\d+(\.\d{1,9})?$/, "must be a positive decimal number of gwei")
  .transform((value) => parseUnits(value, "gwei"))
  .refine((wei) => wei > 0n, "must be above 0");

/** Variables every keeper reads; a keeper's own schema must not redefine them. */
export const baseKeeperEnvSchema = z.object({
  RPC_URLS: z
    .string({ required_error: "required (or RPC_URL): comma-separated RPC endpoints" })
    .transform((value) =>
      value
        .split(",")
        .map((url) => url.trim())
        .filter((url) => url !== ""),
    )
    .pipe(z.array(rpcUrl).min(1, "needs at least one URL")),
  // The message never echoes the value: zod's regex issue carries only this text.
  PRIVATE_KEY: z
    .string({ required_error: "required: the keeper's signing key (64 hex digits)" })
    .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be 64 hex digits (value not shown)")
    .transform((value) => (value.startsWith("0x") ? value : `0x${value}`)),
  CHAIN_ID: integerAtLeast(1).optional(),
  CONFIRMATIONS: integerAtLeast(0).default(2),
  POLL_INTERVAL_MS: integerAtLeast(1).default(1_000),
  DRY_RUN: z.enum(["true", "false"]).default("false"),
  STATUS_PORT: integerAtLeast(0).max(65_535).default(0),
  STATUS_HOST: z.string().default("127.0.0.1"),
  MAX_FEE_PER_GAS_GWEI: decimalGwei.default("500"),
  FEE_BUMP_BPS: integerAtLeast(MIN_FEE_BUMP_BPS).max(100_000).default(MIN_FEE_BUMP_BPS),
  TX_TIMEOUT_BLOCKS: integerAtLeast(1).default(3),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  DEPLOYMENT_FILE: z.string().optional(),
});

/** The validated base configuration, with units in the names. */
export interface BaseKeeperConfig {
  /** RPC endpoints in order of preference (RPC_URLS, or RPC_URL when RPC_URLS is unset). */
  rpcUrls: string[];
  /** 0x-prefixed signing key. Secret: log `redact(config)`, never the configuration itself. */
  privateKey: string;
  /** Expected chain id; the keeper refuses to run on another chain when set. */
  chainId?: bigint;
  /** Blocks that must be built on top of a block before its events or receipts count as final. */
  confirmations: number;
  pollIntervalMs: number;
  /** Simulate every transaction and send none. */
  dryRun: boolean;
  /** Port of the /health and /metrics server; 0 disables it. */
  statusPort: number;
  statusHost: string;
  /** Fee cap: no transaction or replacement is signed above it. */
  maxFeePerGasWei: bigint;
  /** Minimum raise of both fees of a replacement transaction, basis points (>= 1250). */
  feeBumpBps: number;
  /** Blocks to wait for a transaction to be mined before replacing it with higher fees. */
  txTimeoutBlocks: number;
  logLevel: (typeof LOG_LEVELS)[number];
  deploymentFile?: string;
  /** The deployment file's content, when DEPLOYMENT_FILE is set (the keeper checks its chain id). */
  deployment?: Deployment;
}

/** The base configuration plus the keeper's own variables, as its schema parsed them. */
export type KeeperConfig<Extension extends z.ZodRawShape> = BaseKeeperConfig & {
  keeper: z.output<z.ZodObject<Extension>>;
};

/** Treats unset and blank variables alike, and trims the others. */
function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** "NAME: message", or "NAME: item 2 message" for an entry of a list variable. */
function describeIssue(issue: z.ZodIssue): string {
  const [name, ...inner] = issue.path;
  const where = inner.length > 0 ? `item ${inner.map((part) => Number(part) + 1 || part).join(".")} ` : "";
  return `${name ?? "(environment)"}: ${where}${issue.message}`;
}

/**
 * Validates the base variables and the keeper's own (`extension`, keyed by variable name) in one pass.
 * @throws KeeperConfigError naming every missing or malformed variable, never their values.
 */
export function loadKeeperConfig<Extension extends z.ZodRawShape = Record<string, never>>(
  extension: z.ZodObject<Extension> = z.object({}) as z.ZodObject<Extension>,
  env: NodeJS.ProcessEnv = process.env,
): KeeperConfig<Extension> {
  const redefined = Object.keys(extension.shape).filter((name) => name in baseKeeperEnvSchema.shape);
  if (redefined.length > 0) {
    throw new KeeperConfigError(`keeper schema redefines base variables: ${redefined.join(", ")}`);
  }
  const names = [...Object.keys(baseKeeperEnvSchema.shape), ...Object.keys(extension.shape)];
  const cleaned: Record<string, string | undefined> = Object.fromEntries(
    names.map((name) => [name, blankToUndefined(env[name])]),
  );
  cleaned.RPC_URLS ??= blankToUndefined(env.RPC_URL);
  const fileIssues: string[] = [];
  let deployment: Deployment | undefined;
  if (cleaned.DEPLOYMENT_FILE !== undefined) {
    try {
      deployment = readDeployment(cleaned.DEPLOYMENT_FILE);
      for (const [name, pick] of Object.entries(FROM_DEPLOYMENT)) {
        if (name in extension.shape) cleaned[name] ??= pick(deployment);
      }
    } catch (error) {
      fileIssues.push(`DEPLOYMENT_FILE: ${(error as Error).message}`);
    }
  }

  const baseResult = baseKeeperEnvSchema.safeParse(cleaned);
  const extensionResult = extension.safeParse(cleaned);
  const issues = [
    ...(baseResult.success ? [] : baseResult.error.issues),
    ...(extensionResult.success ? [] : extensionResult.error.issues),
  ];
  if (!baseResult.success || !extensionResult.success || fileIssues.length > 0) {
    const problems = [...fileIssues, ...issues.map(describeIssue)];
    throw new KeeperConfigError(`invalid keeper configuration: ${problems.join("; ")}`);
  }
  const e = baseResult.data;
  return {
    rpcUrls: e.RPC_URLS,
    privateKey: e.PRIVATE_KEY,
    chainId: e.CHAIN_ID === undefined ? undefined : BigInt(e.CHAIN_ID),
    confirmations: e.CONFIRMATIONS,
    pollIntervalMs: e.POLL_INTERVAL_MS,
    dryRun: e.DRY_RUN === "true",
    statusPort: e.STATUS_PORT,
    statusHost: e.STATUS_HOST,
    maxFeePerGasWei: e.MAX_FEE_PER_GAS_GWEI,
    feeBumpBps: e.FEE_BUMP_BPS,
    txTimeoutBlocks: e.TX_TIMEOUT_BLOCKS,
    logLevel: e.LOG_LEVEL,
    deploymentFile: e.DEPLOYMENT_FILE,
    deployment,
    keeper: extensionResult.data,
  };
}

/** Property names whose values are secrets, in any nesting and either naming style. */
const SECRET_NAME = /(private_?key|secret|password|passphrase|mnemonic|api_?key|token)/i;

/** A whole string that looks like a private key. */
const KEY_LIKE_HEX = /^(0x)?[0-9a-fA-F]{64}$/;

/** An RPC URL without credentials, path or query, which often carry a provider's API key. */
function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  const hasSecretParts = url.username !== "" || url.password !== "" || url.search !== "" || url.pathname.length > 1;
  return hasSecretParts ? `${url.protocol}//${url.host}/${REDACTED}` : value;
}

/**
 * A copy of a configuration fit for logs: secret-named properties (privateKey, PRIVATE_KEY, apiKey, ...) and
 * key-like hex strings become "[redacted]"; URLs lose credentials, path and query (API keys hide there).
 */
export function redact<T>(value: T): T {
  if (typeof value === "string") return (KEY_LIKE_HEX.test(value) ? REDACTED : redactUrl(value)) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redact(item)) as T;
  if (value === null || typeof value !== "object") return value;
  const copy: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    copy[name] = SECRET_NAME.test(name) && field !== undefined ? REDACTED : redact(field);
  }
  return copy as T;
}
