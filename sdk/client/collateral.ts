/**
 * Collateral in and out: deposit (granting the allowance first, by an EIP-2612 permit where the token supports one,
 * else by an approve transaction) and withdraw. Balances and allowances are checked before anything is sent.
 */
import { Contract, Signature } from "ethers";
import type { Signer } from "ethers";
import { IERC20Permit__factory } from "../../typechain-types";
import { InvalidAmountError } from "../errors";
import { parseFixed } from "../units";
import type { Connection } from "./connection";
import {
  InsufficientAllowanceError,
  InsufficientTokenBalanceError,
  MissingEventError,
  PermitUnsupportedError,
} from "./errors";
import { clearinghouseEventsOf, named } from "./receipt";
import { sendAndWait } from "./send";
import type { AmountInput, DepositOutcome, WithdrawOutcome } from "./types";

/** How a deposit gets its allowance: `auto` (permit if supported, else approve), one of them, or `existing` only. */
export type AllowanceMode = "auto" | "permit" | "approve" | "existing";

/** Options of `deposit`. */
export interface DepositOptions {
  /** Credit this account instead of the signer (`depositFor`). */
  account?: string;
  /** Default `auto`. */
  allowance?: AllowanceMode;
  /** Seconds a permit stays valid; default 3,600. */
  permitTtlSec?: number;
}

/** EIP-5267: the token's own account of its EIP-712 domain. */
const EIP5267_ABI = [
  "function eip712Domain() view returns (bytes1, string, string, uint256, address, bytes32, uint256[])",
];

/** Token units of an amount: a decimal string of tokens, or token units. */
export function amountRawOf(amount: AmountInput, decimals: number): bigint {
  const amountRaw = typeof amount === "bigint" ? amount : parseFixed(amount, decimals);
  if (amountRaw <= 0n) throw new InvalidAmountError(String(amount), "must be above zero");
  return amountRaw;
}

/** True when the token answers the EIP-2612 views (`nonces`, `DOMAIN_SEPARATOR`). */
export async function supportsPermit(conn: Connection, owner: string): Promise<boolean> {
  const token = IERC20Permit__factory.connect(conn.addresses.collateral, conn.provider);
  try {
    await Promise.all([token.nonces(owner), token.DOMAIN_SEPARATOR()]);
    return true;
  } catch {
    return false;
  }
}

/** Deposits `amount` of collateral for the signer (or `options.account`). */
export async function deposit(
  conn: Connection,
  amount: AmountInput,
  options: DepositOptions = {},
): Promise<DepositOutcome> {
  const signer = conn.signer("deposit");
  const owner = await signer.getAddress();
  const amountRaw = amountRawOf(amount, await conn.collateralDecimals());
  const spender = conn.addresses.clearinghouse;
  const [balanceRaw, allowanceRaw] = await Promise.all([
    conn.collateral.balanceOf(owner),
    conn.collateral.allowance(owner, spender),
  ]);
  if (balanceRaw < amountRaw) throw new InsufficientTokenBalanceError(owner, balanceRaw, amountRaw);

  let allowance: DepositOutcome["allowance"] = "existing";
  let allowanceTxHash: string | undefined;
  if (allowanceRaw < amountRaw) {
    const mode = options.allowance ?? "auto";
    if (mode === "existing") throw new InsufficientAllowanceError(owner, allowanceRaw, amountRaw);
    const permit = mode !== "approve" && (await supportsPermit(conn, owner));
    if (mode === "permit" && !permit) throw new PermitUnsupportedError(conn.addresses.collateral);
    if (permit) {
      allowanceTxHash = await permitDeposit(conn, signer, owner, amountRaw, options.permitTtlSec ?? 3_600);
      allowance = "permit";
    } else {
      const approved = await sendAndWait(() => conn.collateral.approve(spender, amountRaw));
      allowanceTxHash = approved.txHash;
      allowance = "approve";
    }
  }

  const account = options.account ?? owner;
  const sent = await sendAndWait(() =>
    account.toLowerCase() === owner.toLowerCase()
      ? conn.clearinghouse.deposit(amountRaw)
      : conn.clearinghouse.depositFor(account, amountRaw),
  );
  const deposited = named(clearinghouseEventsOf(conn, sent.receipt), "Deposited")[0];
  if (deposited === undefined) throw new MissingEventError("Deposited", sent.txHash);
  return { ...sent, amountRaw, amountX18: deposited.event.args.amountX18 as bigint, allowance, allowanceTxHash };
}

/** Signs an EIP-2612 permit for exactly `amountRaw` and submits it; returns the permit transaction's hash. */
async function permitDeposit(
  conn: Connection,
  signer: Signer,
  owner: string,
  amountRaw: bigint,
  ttlSec: number,
): Promise<string> {
  const token = IERC20Permit__factory.connect(conn.addresses.collateral, signer);
  const [nonce, name, { chainId }, now] = await Promise.all([
    token.nonces(owner),
    conn.collateral.name(),
    conn.provider.getNetwork(),
    conn.chainNow(),
  ]);
  const deadline = now + BigInt(ttlSec);
  const domain = { name, version: await permitVersion(conn), chainId, verifyingContract: conn.addresses.collateral };
  const types = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  };
  const spender = conn.addresses.clearinghouse;
  const signature = Signature.from(
    await signer.signTypedData(domain, types, { owner, spender, value: amountRaw, nonce, deadline }),
  );
  const sent = await sendAndWait(() =>
    token.permit(owner, spender, amountRaw, deadline, signature.v, signature.r, signature.s),
  );
  return sent.txHash;
}

/** The token's EIP-712 version from EIP-5267 `eip712Domain()`, or "1" when it does not say. */
async function permitVersion(conn: Connection): Promise<string> {
  try {
    const domain = await new Contract(conn.addresses.collateral, EIP5267_ABI, conn.provider).eip712Domain();
    return domain[2] as string;
  } catch {
    return "1";
  }
}

/** Withdraws `amount` of collateral from the signer's account (or `account`, which it operates) to `to`. */
export async function withdraw(
  conn: Connection,
  amount: AmountInput,
  options: { account?: string; to?: string } = {},
): Promise<WithdrawOutcome> {
  const signer = conn.signer("withdraw");
  const owner = await signer.getAddress();
  const amountRaw = amountRawOf(amount, await conn.collateralDecimals());
  const account = options.account ?? owner;
  const to = options.to ?? owner;
  const sent = await sendAndWait(() => conn.clearinghouse.withdraw(account, amountRaw, to));
  return { ...sent, amountRaw, to };
}
