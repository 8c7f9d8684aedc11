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

/** An amount, price or quantity that must be above zero is zero. */
export class AmountNotPositiveError extends InvalidAmountError {
  constructor(input: string) {
    super(input, "must be above zero");
  }
}

/** A USD price that is not a whole number of ticks of its series (`PriceNotOnTick` of the contracts). */
export class PriceNotOnTickError extends TokenpitError {
  /**
   * @param input The price as given (USD decimal string).
   * @param tickSizeX18 The series' tick size, USD 18 decimals.
   * @param tickSizeUsd The tick size as a USD decimal string, for the message.
   */
  constructor(
    readonly input: string,
    readonly tickSizeX18: bigint,
    tickSizeUsd: string,
  ) {
    super(`price ${input} is not on the tick: prices are multiples of ${tickSizeUsd} USD`);
  }
}

/** A number of decimals outside 0..18 (a collateral token the clearinghouse refuses, or a display precision). */
export class UnsupportedDecimalsError extends TokenpitError {
  constructor(readonly decimals: number) {
    super(`unsupported decimals ${decimals}: expected a whole number from 0 to 18`);
  }
}

/** A series parameter outside what the contracts accept (tick size, contract multiplier, maintenance bps). */
export class SeriesParamError extends TokenpitError {
  constructor(
    readonly param: string,
    readonly value: bigint,
    readonly reason: string,
  ) {
    super(`invalid ${param} ${value}: ${reason}`);
  }
}
