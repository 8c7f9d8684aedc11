/**
 * Handing a signed round to the transmitter's sender, and what the sender's outcome means for the round.
 * The sender (keepers/runtime/txSender.ts) simulates first, owns the transmitter's nonces, bumps fees up to the
 * cap, and refuses an idempotency key it has already handled.
 */
import type { Interface, TransactionReceipt } from "ethers";
import type { TxIntent, TxOutcome } from "../runtime/txSender";
import { decodeRevertData, firstLineOf } from "../shared/revert";
import type { FeedSymbol } from "./source";

/** The part of the runtime's TxSender the reporter uses (a wrapper or a stub in tests). */
export interface ReporterSender {
  /** The transmitter: pays the gas, needs no role in the oracle. */
  readonly address: string;
  send(intent: TxIntent): Promise<TxOutcome>;
}

/** What became of a round that was due, signed and handed to the sender. */
export interface RoundDelivery {
  action: "submitted" | "dry-run" | "skipped" | "refused";
  /** Why the round was not submitted; undefined when it was (or was only simulated). */
  failure?: string;
  txHash?: string;
  /** Names of the oracle events the transaction emitted, in log order. */
  events?: string[];
}

/** Idempotency key of a round: one per feed and round time, so one sender never transmits a round twice. */
export function roundIntentKey(feed: FeedSymbol, observedAtSec: bigint): string {
  return `oracle-round:${feed}:${observedAtSec}`;
}

/** Names of the events `oracle` emitted in `receipt`. */
export function oracleEventNames(receipt: TransactionReceipt, iface: Interface, oracleAddress: string): string[] {
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === oracleAddress.toLowerCase())
    .map((log) => iface.parseLog(log))
    .filter((parsed) => parsed !== null)
    .map((parsed) => parsed.name);
}

/** The round's fate for each sender outcome; a simulation failure carries the decoded custom error. */
export function deliveryOf(outcome: TxOutcome, iface: Interface, oracleAddress: string): RoundDelivery {
  switch (outcome.status) {
    case "mined":
      return {
        action: "submitted",
        txHash: outcome.hash,
        events: oracleEventNames(outcome.receipt, iface, oracleAddress),
      };
    case "dry-run":
      return { action: "dry-run" };
    case "simulation-failed":
      return {
        action: "refused",
        failure: decodeRevertData(iface, outcome.error.revertData) ?? firstLineOf(outcome.error),
      };
    case "reverted":
      return { action: "refused", failure: `transaction ${outcome.hash} reverted on chain`, txHash: outcome.hash };
    case "stuck":
      return {
        action: "refused",
        failure: `transaction stuck (${outcome.reason}) at nonce ${outcome.nonce}; it may still be mined`,
        txHash: outcome.hashes[outcome.hashes.length - 1],
      };
    case "dropped":
      return { action: "refused", failure: `nonce ${outcome.nonce} was taken by another transaction; not mined` };
    case "duplicate":
      return { action: "skipped", failure: `round already handed to the sender (${outcome.previous})` };
  }
}
