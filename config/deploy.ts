/**
 * The parameters of a deployment: who governs (timelock proposers and executors), the guardian, the oracle's
 * reporter set and quorum, the timelock delay, the collateral token, and how many contract months to list.
 *
 * Local chains (chain id 31337: the in-process network and `npx hardhat node`) use fixed local values: Hardhat's
 * accounts 1 and 2 as governor and guardian, the five public demo reporter keys, a mock USDC. Every other network
 * takes them from `.env` (DEPLOY_* variables, documented in `.env.example` and docs/deploy.md), validated here
 * with the oracle's own bounds (quorum at least 3 and more than half of the reporters);
 * a missing or malformed one stops the deployment before any transaction with a message naming it.
 */
import { z } from "zod";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { EnvConfigError } from "./env";
import { LOCAL_QUORUM, LOCAL_REPORTER_COUNT } from "./feeds";
import { INSURANCE_FEE_SHARE_BPS, SETTLEMENT_DELAYS } from "./series";

export const LOCAL_CHAIN_ID = 31_337;

export interface DeployParams {
  /** An existing ERC-20 collateral token, or undefined to deploy a 6-decimal mock USDC. */
  collateral?: string;
  governors: string[];
  guardian: string;
  reporters: string[];
  quorum: number;
  timelockDelaySec: number;
  /** Contract months listed per product. */
  months: number;
  /** Oracle history slots pre-written per feed (gas paid by the deployer instead of the first reporters). */
  prewarmSlots: number;
  insuranceFeeShareBps: number;
  disputeWindowSec: number;
  governanceGraceSec: number;
}

/** The demo reporter keys of local chains (public: never use them elsewhere). */
export function localReporterKeys(): string[] {
  return Array.from({ length: LOCAL_REPORTER_COUNT }, (_, i) => keccak256(toUtf8Bytes(`demo-reporter-${i}`)));
}

/** Parameters of a local chain, from Hardhat's accounts. */
export function localDeployParams(
  accounts: string[],
  defaults: Omit<DeployParams, "governors" | "guardian" | "reporters" | "quorum" | "collateral">,
): DeployParams {
  if (accounts.length < 3)
    throw new EnvConfigError("a local deployment needs 3 accounts (deployer, governor, guardian)");
  return {
    ...defaults,
    governors: [accounts[1]],
    guardian: accounts[2],
    reporters: localReporterKeys().map((key) => new Wallet(key).address),
    quorum: LOCAL_QUORUM,
  };
}

/**
 * Defaults shared by every network. On public networks DEPLOY_TIMELOCK_DELAY_SEC, DEPLOY_MONTHS and
 * DEPLOY_PREWARM_SLOTS override theirs; the fee share and settlement delays change later through the timelock.
 */
export const DEPLOY_DEFAULTS = {
  timelockDelaySec: 172_800,
  months: 3,
  prewarmSlots: 0,
  insuranceFeeShareBps: INSURANCE_FEE_SHARE_BPS,
  disputeWindowSec: SETTLEMENT_DELAYS.disputeWindowSec,
  governanceGraceSec: SETTLEMENT_DELAYS.governanceGraceSec,
};

const address = z
  .string()
  .trim()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address (0x + 40 hex digits)");
const addressList = z
  .string()
  .trim()
  .min(1, "must list at least one address")
  .transform((value) => value.split(",").map((part) => part.trim()))
  .pipe(z.array(address));
const integer = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().int().min(min).max(max));

const publicSchema = z.object({
  DEPLOY_GOVERNORS: addressList,
  DEPLOY_GUARDIAN: address,
  DEPLOY_REPORTERS: addressList,
  DEPLOY_QUORUM: integer(3, 31),
  DEPLOY_COLLATERAL: z
    .string()
    .trim()
    .refine(
      (value) => value === "mock" || /^0x[0-9a-fA-F]{40}$/.test(value),
      'must be "mock" or a 20-byte hex address',
    ),
  DEPLOY_TIMELOCK_DELAY_SEC: integer(0, 30 * 86_400).optional(),
  DEPLOY_MONTHS: integer(1, 12).optional(),
  // The oracle keeps 4,096 rounds per feed; slots beyond are never written.
  DEPLOY_PREWARM_SLOTS: integer(0, 4_096).optional(),
});

/**
 * Parameters of a public network from the environment.
 * @throws EnvConfigError naming the first missing or malformed DEPLOY_* variable, or a quorum above the reporters.
 */
export function publicDeployParams(environment: NodeJS.ProcessEnv = process.env): DeployParams {
  // An empty line in .env (NAME=) counts as unset.
  const env = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
  const parsed = publicSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0]);
    const missing = env[name] === undefined || env[name]?.trim() === "";
    const message = missing ? "is required (see .env.example and docs/deploy.md)" : issue.message;
    throw new EnvConfigError(`${name} ${message}`);
  }
  const e = parsed.data;
  if (e.DEPLOY_QUORUM > e.DEPLOY_REPORTERS.length) {
    throw new EnvConfigError(
      `DEPLOY_QUORUM ${e.DEPLOY_QUORUM} is above the ${e.DEPLOY_REPORTERS.length} reporters of DEPLOY_REPORTERS`,
    );
  }
  if (e.DEPLOY_QUORUM * 2 <= e.DEPLOY_REPORTERS.length) {
    throw new EnvConfigError(
      `DEPLOY_QUORUM ${e.DEPLOY_QUORUM} must be more than half of the ${e.DEPLOY_REPORTERS.length} reporters (the oracle refuses it)`,
    );
  }
  if (new Set(e.DEPLOY_REPORTERS.map((a) => a.toLowerCase())).size !== e.DEPLOY_REPORTERS.length) {
    throw new EnvConfigError("DEPLOY_REPORTERS lists an address twice");
  }
  return {
    ...DEPLOY_DEFAULTS,
    collateral: e.DEPLOY_COLLATERAL === "mock" ? undefined : e.DEPLOY_COLLATERAL,
    governors: e.DEPLOY_GOVERNORS,
    guardian: e.DEPLOY_GUARDIAN,
    reporters: e.DEPLOY_REPORTERS,
    quorum: e.DEPLOY_QUORUM,
    timelockDelaySec: e.DEPLOY_TIMELOCK_DELAY_SEC ?? DEPLOY_DEFAULTS.timelockDelaySec,
    months: e.DEPLOY_MONTHS ?? DEPLOY_DEFAULTS.months,
    prewarmSlots: e.DEPLOY_PREWARM_SLOTS ?? DEPLOY_DEFAULTS.prewarmSlots,
  };
}
