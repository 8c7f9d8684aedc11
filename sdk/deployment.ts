/**
 * The deployment file `deployments/<network>.json`, written by `npm run deploy` and read by the keepers, the
 * command-line tasks and dApps: the chain, the block range of the deployment, every address, the listed series and
 * the compiler settings the contracts were built with. `parseDeployment` validates one (an unknown or malformed
 * field is an error naming it, never a silent default).
 */
import { z } from "zod";
import { TokenpitError } from "./errors";

/** A deployment file that is missing a field, has a malformed one, or belongs to another chain. */
export class DeploymentFileError extends TokenpitError {}

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address");
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex value");
const count = z.number().int().nonnegative();

const seriesEntry = z
  .object({
    /** `seriesId` in the clearinghouse. */
    id: z.number().int().positive(),
    /** E.g. `AIT-2027-01`. */
    symbol: z.string().min(1),
    /** Index feed symbol, e.g. `AIT`. */
    feed: z.string().min(1),
    /** Unix seconds. */
    expiry: count,
  })
  .strict();

export const deploymentSchema = z
  .object({
    /** Format version of this file. */
    format: z.literal(1),
    network: z.string().min(1),
    chainId: z.number().int().positive(),
    deployer: address,
    /** First and last block of the deployment's transactions (keepers index events from `startBlock`). */
    startBlock: count,
    endBlock: count,
    compiler: z
      .object({
        version: z.string().min(1),
        evmVersion: z.string().min(1),
        optimizer: z.object({ enabled: z.boolean(), runs: count }).strict(),
      })
      .strict(),
    collateral: z
      .object({
        address,
        symbol: z.string(),
        decimals: z.number().int().min(0).max(18),
        /** True when the deployment created a mock token (local networks, test networks without a token). */
        mock: z.boolean(),
      })
      .strict(),
    contracts: z
      .object({
        timelock: address,
        oracle: address,
        clearinghouse: address,
        lens: address,
        /** Chainlink-style read-only view per feed symbol. */
        aggregators: z.record(address),
        /** Linked logic libraries of the clearinghouse, by library name. */
        libraries: z.record(address),
      })
      .strict(),
    /** Feed id (bytes32) per feed symbol. */
    feeds: z.record(bytes32),
    series: z.array(seriesEntry),
    governance: z
      .object({
        /** Proposers and executors of the timelock. */
        governors: z.array(address),
        guardian: address,
        timelockDelaySec: count,
        reporters: z.array(address),
        quorum: z.number().int().positive(),
      })
      .strict(),
  })
  .strict();

export type Deployment = z.infer<typeof deploymentSchema>;
export type DeployedSeries = z.infer<typeof seriesEntry>;

/**
 * Validates a parsed deployment file.
 * @param source Where it came from, for the error message (a path).
 * @throws DeploymentFileError naming the first bad field.
 */
export function parseDeployment(json: unknown, source = "deployment file"): Deployment {
  const parsed = deploymentSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.length === 0 ? "(root)" : issue.path.join(".");
    throw new DeploymentFileError(`${source}: ${field} ${issue.message}`);
  }
  return parsed.data;
}

/**
 * The listed series named `symbolOrId` (a symbol such as `AIT-2027-01`, or a numeric id).
 * @throws DeploymentFileError when no listed series matches.
 */
export function findSeries(deployment: Deployment, symbolOrId: string): DeployedSeries {
  const wanted = symbolOrId.trim();
  const found = /^\d+$/.test(wanted)
    ? deployment.series.find((s) => s.id === Number(wanted))
    : deployment.series.find((s) => s.symbol.toLowerCase() === wanted.toLowerCase());
  if (found === undefined) {
    const known = deployment.series.map((s) => s.symbol).join(", ") || "none";
    throw new DeploymentFileError(`unknown series "${symbolOrId}" (listed: ${known})`);
  }
  return found;
}
