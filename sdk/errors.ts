/**
 * Errors raised by the SDK's own code (not decoded contract errors). One class per failure mode.
 */

/** Base class of every error the SDK throws. */
export class TokenpitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A human-unit amount (decimal string) could not be parsed or does not fit the target unit. */
export class InvalidAmountError extends TokenpitError {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid amount "${input}": ${reason}`);
  }
}

/** A TWAP window or history query that the reference model cannot answer. */
export class TwapQueryError extends TokenpitError {}

/** A signed report whose signature does not recover to the claimed reporter. */
export class ReportSignatureError extends TokenpitError {}
