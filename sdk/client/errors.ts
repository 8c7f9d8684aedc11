/**
 * Errors the client raises itself, before anything is sent: the caller's input or the chain's state makes the
 * action pointless (not enough allowance or balance, a stale index, an expired or unknown series, no signer, the
 * wrong chain). A refusal by the contracts arrives instead as the decoded contract error (`...Error` classes of
 * `generated/contractErrors`), and a failing node as `NetworkError`.
 */
import { TokenpitError } from "../errors";

/** Base class of the client's own checks: nothing was sent. */
export class UserError extends TokenpitError {}

/** A write was asked of a client connected with a provider only. */
export class SignerRequiredError extends UserError {
  constructor(readonly action: string) {
    super(`${action} needs a signer: connect the client with a Signer, not a Provider`);
  }
}

/** The node serves another chain than the deployment's. */
export class WrongChainError extends UserError {
  constructor(
    readonly expectedChainId: bigint,
    readonly actualChainId: bigint,
  ) {
    super(`the deployment is on chain ${expectedChainId} but the node serves chain ${actualChainId}`);
  }
}

/** No listed series has this symbol or id. */
export class SeriesNotFoundError extends UserError {
  constructor(readonly series: string) {
    super(`no listed series "${series}"`);
  }
}

/** The series has expired: it takes no more orders. */
export class ExpiredSeriesError extends UserError {
  constructor(
    readonly seriesId: bigint,
    readonly expiry: bigint,
    readonly nowSec: bigint,
  ) {
    super(`series ${seriesId} expired at ${expiry} (chain time ${nowSec})`);
  }
}

/** The index of the series is older than its feed's maximum age: orders that add risk would be refused. */
export class StaleIndexError extends UserError {
  constructor(
    readonly seriesId: bigint,
    readonly observedAt: bigint,
  ) {
    super(`the index of series ${seriesId} is stale (last observed at ${observedAt})`);
  }
}

/** The token allowance to the clearinghouse is below the amount and neither a permit nor an approval was allowed. */
export class InsufficientAllowanceError extends UserError {
  constructor(
    readonly owner: string,
    readonly allowanceRaw: bigint,
    readonly neededRaw: bigint,
  ) {
    super(`allowance of ${owner} is ${allowanceRaw} token units, ${neededRaw} needed`);
  }
}

/** The token balance is below the amount to deposit. */
export class InsufficientTokenBalanceError extends UserError {
  constructor(
    readonly owner: string,
    readonly balanceRaw: bigint,
    readonly neededRaw: bigint,
  ) {
    super(`token balance of ${owner} is ${balanceRaw} units, ${neededRaw} needed`);
  }
}

/** An order the client can tell is malformed before sending (bad side, quantity or price for its kind). */
export class InvalidOrderError extends UserError {
  constructor(readonly reason: string) {
    super(`invalid order: ${reason}`);
  }
}

/** A transaction was mined but its receipt lacks the event that reports its result. */
export class MissingEventError extends TokenpitError {
  constructor(
    readonly eventName: string,
    readonly txHash: string,
  ) {
    super(`transaction ${txHash} has no ${eventName} event`);
  }
}

/** A permit was asked for but the collateral token does not implement EIP-2612. */
export class PermitUnsupportedError extends UserError {
  constructor(readonly token: string) {
    super(`token ${token} does not support EIP-2612 permits`);
  }
}
