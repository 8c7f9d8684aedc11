/**
 * Reads and validates the environment variables that select a network.
 * Every variable is documented in `.env.example`. A missing or malformed variable stops the
 * program with one clear message naming it, instead of failing later inside a provider.
 */
import { z } from "zod";

/** Thrown when an environment variable is present but malformed, or required and missing. */
export class EnvConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnvConfigError";
  }
}

const privateKey = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be a 32-byte hex private key (64 hex digits, optional 0x)")
  .transform((key) => (key.startsWith("0x") ? key : `0x${key}`));

const rpcUrl = z
  .string()
  .url("must be a URL such as https://rpc.example.org")
  .refine((url) => /^(https?|wss?):\/\//.test(url), "must start with http://, https://, ws:// or wss://");

const chainId = z.coerce.number().int("must be an integer").positive("must be positive");

/** A network given by `.env`: all or nothing. */
export interface EnvNetwork {
  url: string;
  accounts: string[];
  chainId?: number;
}

function describe(issues: z.ZodIssue[], name: string): string {
  return `${name} ${issues.map((issue) => issue.message).join("; ")}`;
}

/**
 * Returns the network configured by `RPC_URL`, `PRIVATE_KEY` and optional `CHAIN_ID`, or
 * undefined when neither `RPC_URL` nor `PRIVATE_KEY` is set.
 * @throws EnvConfigError when only one of the pair is set or a value is malformed.
 */
export function readEnvNetwork(env: NodeJS.ProcessEnv = process.env): EnvNetwork | undefined {
  const url = env.RPC_URL?.trim() || undefined;
  const key = env.PRIVATE_KEY?.trim() || undefined;
  const id = env.CHAIN_ID?.trim() || undefined;
  if (url === undefined && key === undefined) {
    if (id !== undefined)
      throw new EnvConfigError("CHAIN_ID is set but RPC_URL and PRIVATE_KEY are not (see .env.example)");
    return undefined;
  }
  if (url === undefined) throw new EnvConfigError("PRIVATE_KEY is set but RPC_URL is missing (see .env.example)");
  if (key === undefined) throw new EnvConfigError("RPC_URL is set but PRIVATE_KEY is missing (see .env.example)");
  const parsedUrl = rpcUrl.safeParse(url);
  if (!parsedUrl.success) throw new EnvConfigError(describe(parsedUrl.error.issues, "RPC_URL"));
  const parsedKey = privateKey.safeParse(key);
  if (!parsedKey.success) throw new EnvConfigError(describe(parsedKey.error.issues, "PRIVATE_KEY"));
  let parsedChainId: number | undefined;
  if (id !== undefined) {
    const parsed = chainId.safeParse(id);
    if (!parsed.success) throw new EnvConfigError(describe(parsed.error.issues, "CHAIN_ID"));
    parsedChainId = parsed.data;
  }
  return { url: parsedUrl.data, accounts: [parsedKey.data], chainId: parsedChainId };
}
