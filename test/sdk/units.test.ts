/**
 * The unit conversions of `sdk/units.ts`: every exported function, its rounding and each error it throws.
 * Pure (no chain); the contracts' side of the same conversions is in test/sdk/coreVectors.test.ts.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  AmountNotPositiveError,
  InvalidAmountError,
  MAX_DECIMALS,
  MAX_TICK,
  PriceNotOnTickError,
  SeriesParamError,
  TokenpitError,
  UnsupportedDecimalsError,
  WAD,
  formatCollateral,
  formatFixed,
  formatX18,
  mulDivDown,
  mulDivUp,
  parseCollateral,
  parseFixed,
  parseQty,
  parseX18,
  priceToTick,
  priceX18ToTickDown,
  priceX18ToTickUp,
  rawToX18,
  tickToPriceX18,
  usdToX18,
  x18ToRawDown,
  x18ToUsd,
  x18ToUsdTowardZero,
} from "../../sdk";

const RUNS = { numRuns: 300, seed: 20_260_101 };
/** The AIT tick: 0.001 USD. */
const TICK = 10n ** 15n;

/** Runs `fn` and returns what it threw (fails when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.fail("expected a throw");
}

describe("sdk/units", function () {
  describe("existing fixed point", function () {
    it("WAD is 10^18 and MAX_DECIMALS 18", function () {
      expect(WAD).to.equal(10n ** 18n);
      expect(MAX_DECIMALS).to.equal(18);
    });

    it("parseFixed and parseX18 parse exactly; formatFixed and formatX18 are their inverse", function () {
      expect(parseFixed("4.0465", 6)).to.equal(4_046_500n);
      expect(parseFixed(" 12 ", 0)).to.equal(12n);
      expect(parseX18("0.000000000000000001")).to.equal(1n);
      expect(formatFixed(4_046_500n, 6)).to.equal("4.046500");
      expect(formatFixed(4_046_500n, 6, 0)).to.equal("4.0465");
      expect(formatFixed(-1n, 6, 2)).to.equal("-0.000001");
      expect(formatFixed(7n, 0)).to.equal("7");
      expect(formatX18(WAD)).to.equal("1.000000000000000000");
      expect(formatX18(WAD, 1)).to.equal("1.0");
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.integer({ min: 0, max: 18 }), (value, decimals) => {
          expect(parseFixed(formatFixed(value, decimals), decimals)).to.equal(value);
          expect(parseFixed(formatFixed(value, decimals, 0), decimals)).to.equal(value);
        }),
        RUNS,
      );
    });

    it("parseFixed throws InvalidAmountError on malformed input and extra decimals", function () {
      for (const bad of ["", "abc", "-1", "1.", ".5", "1e3", "1,5", "0x10"]) {
        const error = thrown(() => parseFixed(bad, 6));
        expect(error, bad).to.be.instanceOf(InvalidAmountError);
        expect((error as InvalidAmountError).input).to.equal(bad);
      }
      expect(thrown(() => parseFixed("1.0000001", 6)))
        .to.be.instanceOf(InvalidAmountError)
        .with.property("reason", "more than 6 decimals");
      expect(thrown(() => parseX18("1.0000000000000000001"))).to.be.instanceOf(InvalidAmountError);
    });

    it("mulDivDown rounds down and mulDivUp up, equal on exact quotients", function () {
      expect(mulDivDown(7n, 3n, 2n)).to.equal(10n);
      expect(mulDivUp(7n, 3n, 2n)).to.equal(11n);
      expect(mulDivUp(0n, 3n, 2n)).to.equal(0n);
      expect(mulDivUp(4n, 3n, 2n)).to.equal(mulDivDown(4n, 3n, 2n));
      fc.assert(
        fc.property(
          fc.bigInt({ min: 0n, max: 10n ** 30n }),
          fc.bigInt({ min: 0n, max: 10n ** 30n }),
          fc.bigInt({ min: 1n, max: 10n ** 20n }),
          (a, b, d) => {
            const down = mulDivDown(a, b, d);
            const up = mulDivUp(a, b, d);
            expect(down * d <= a * b && a * b < (down + 1n) * d).to.equal(true);
            expect(up - down).to.equal((a * b) % d === 0n ? 0n : 1n);
          },
        ),
        RUNS,
      );
    });
  });

  describe("USD", function () {
    it("usdToX18 parses signed USD exactly and x18ToUsd prints it back", function () {
      expect(usdToX18("4.0465")).to.equal(4_046_500_000_000_000_000n);
      expect(usdToX18("-12.5")).to.equal(-12_500_000_000_000_000_000n);
      expect(usdToX18(" -0 ")).to.equal(0n);
      expect(x18ToUsd(-12_500_000_000_000_000_000n)).to.equal("-12.50");
      expect(x18ToUsd(1n)).to.equal("0.000000000000000001");
      expect(x18ToUsd(4n * WAD, 0)).to.equal("4");
      expect(x18ToUsd(4n * WAD, 3)).to.equal("4.000");
      fc.assert(
        fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.integer({ min: 0, max: 18 }), (v, d) => {
          expect(usdToX18(x18ToUsd(v, d))).to.equal(v);
        }),
        RUNS,
      );
    });

    it("usdToX18 throws InvalidAmountError on malformed input and more than 18 decimals", function () {
      for (const bad of ["", "--1", "+1", "1.", "$4", "4 USD"]) {
        expect(
          thrown(() => usdToX18(bad)),
          bad,
        ).to.be.instanceOf(InvalidAmountError);
      }
      expect(thrown(() => usdToX18("-0.0000000000000000001")))
        .to.be.instanceOf(InvalidAmountError)
        .with.property("reason", "more than 18 decimals");
    });

    it("x18ToUsdTowardZero rounds toward zero to exactly `decimals` decimals", function () {
      expect(x18ToUsdTowardZero(1_239_999_999_999_999_999n)).to.equal("1.23");
      expect(x18ToUsdTowardZero(-1_239_999_999_999_999_999n)).to.equal("-1.23");
      expect(x18ToUsdTowardZero(-9_999_999_999_999_999n)).to.equal("0.00");
      expect(x18ToUsdTowardZero(4_123_456_789_000_000_000n, 4)).to.equal("4.1234");
      expect(x18ToUsdTowardZero(4_999_999_999_999_999_999n, 0)).to.equal("4");
      expect(x18ToUsdTowardZero(1n, 18)).to.equal("0.000000000000000001");
      fc.assert(
        fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (v, d) => {
          const shown = usdToX18(x18ToUsdTowardZero(v, d));
          const abs = (x: bigint) => (x < 0n ? -x : x);
          // Never farther from zero than the value, and less than one unit of the last decimal closer.
          expect(abs(shown) <= abs(v) && abs(v) - abs(shown) < 10n ** BigInt(18 - d)).to.equal(true);
          expect(shown === 0n || shown < 0n === v < 0n).to.equal(true);
        }),
        RUNS,
      );
    });

    it("x18ToUsdTowardZero throws UnsupportedDecimalsError outside 0..18", function () {
      for (const d of [-1, 19, 2.5]) {
        const error = thrown(() => x18ToUsdTowardZero(1n, d));
        expect(error).to.be.instanceOf(UnsupportedDecimalsError).and.to.be.instanceOf(TokenpitError);
        expect((error as UnsupportedDecimalsError).decimals).to.equal(d);
      }
    });
  });

  describe("prices and ticks", function () {
    it("priceToTick is price / tick size, exact, and tickToPriceX18 its inverse", function () {
      expect(priceToTick("4.01", TICK)).to.equal(4_010n);
      expect(priceToTick(" 0.001 ", TICK)).to.equal(1n);
      expect(tickToPriceX18(4_010n, TICK)).to.equal(parseX18("4.01"));
      expect(tickToPriceX18(0n, TICK)).to.equal(0n);
      // The largest tick of the book at the largest tick size the contracts accept (1e22).
      const maxTickSize = 10n ** 22n;
      expect(priceToTick(x18ToUsd(tickToPriceX18(MAX_TICK, maxTickSize)), maxTickSize)).to.equal(MAX_TICK);
      fc.assert(
        fc.property(fc.bigInt({ min: 1n, max: MAX_TICK }), fc.bigInt({ min: 1n, max: 10n ** 22n }), (tick, size) => {
          expect(priceToTick(x18ToUsd(tickToPriceX18(tick, size), 0), size)).to.equal(tick);
        }),
        RUNS,
      );
    });

    it("priceToTick throws InvalidAmountError, AmountNotPositiveError and PriceNotOnTickError", function () {
      for (const bad of ["", "abc", "-4", "4.", "1e3"]) {
        const error = thrown(() => priceToTick(bad, TICK));
        expect(error, bad).to.be.instanceOf(InvalidAmountError);
        expect(error, bad).not.to.be.instanceOf(AmountNotPositiveError);
      }
      expect(thrown(() => priceToTick("1.0000000000000000001", TICK))).to.be.instanceOf(InvalidAmountError);
      for (const zero of ["0", "0.000"]) {
        const error = thrown(() => priceToTick(zero, TICK));
        expect(error).to.be.instanceOf(AmountNotPositiveError).and.to.be.instanceOf(InvalidAmountError);
        expect((error as AmountNotPositiveError).message).to.equal(`invalid amount "${zero}": must be above zero`);
      }
      const off = thrown(() => priceToTick("4.0005", TICK)) as PriceNotOnTickError;
      expect(off).to.be.instanceOf(PriceNotOnTickError).and.to.be.instanceOf(TokenpitError);
      expect(off.name).to.equal("PriceNotOnTickError");
      expect(off.message).to.equal("price 4.0005 is not on the tick: prices are multiples of 0.001 USD");
      expect(off.input).to.equal("4.0005");
      expect(off.tickSizeX18).to.equal(TICK);
      expect(thrown(() => priceToTick("0.000000000000000001", TICK))).to.be.instanceOf(PriceNotOnTickError);
    });

    it("priceX18ToTickDown and priceX18ToTickUp round to the tick below and above", function () {
      expect(priceX18ToTickDown(parseX18("4.0109"), TICK)).to.equal(4_010n);
      expect(priceX18ToTickUp(parseX18("4.0101"), TICK)).to.equal(4_011n);
      expect(priceX18ToTickDown(parseX18("4.01"), TICK)).to.equal(4_010n);
      expect(priceX18ToTickUp(parseX18("4.01"), TICK)).to.equal(4_010n);
      expect(priceX18ToTickUp(0n, TICK)).to.equal(0n);
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 22n }), (p, size) => {
          const down = priceX18ToTickDown(p, size);
          const up = priceX18ToTickUp(p, size);
          expect(tickToPriceX18(down, size) <= p && p < tickToPriceX18(down + 1n, size)).to.equal(true);
          expect(tickToPriceX18(up, size) >= p && (up === 0n || tickToPriceX18(up - 1n, size) < p)).to.equal(true);
        }),
        RUNS,
      );
    });

    it("every tick function throws SeriesParamError for a tick size that is not positive", function () {
      const calls: [string, () => unknown][] = [
        ["priceToTick", () => priceToTick("4", 0n)],
        ["tickToPriceX18", () => tickToPriceX18(1n, 0n)],
        ["priceX18ToTickDown", () => priceX18ToTickDown(WAD, -1n)],
        ["priceX18ToTickUp", () => priceX18ToTickUp(WAD, 0n)],
      ];
      for (const [name, call] of calls) {
        const error = thrown(call) as SeriesParamError;
        expect(error, name).to.be.instanceOf(SeriesParamError);
        expect(error.param).to.equal("tickSizeX18");
      }
      expect((thrown(() => tickToPriceX18(1n, -5n)) as Error).message).to.equal(
        "invalid tickSizeX18 -5: must be above zero",
      );
    });
  });

  describe("collateral and quantities", function () {
    it("parseCollateral gives raw units exactly; formatCollateral prints them back with at least 2 decimals", function () {
      expect(parseCollateral("1000.5", 6)).to.equal(1_000_500_000n);
      expect(parseCollateral("0.000001", 6)).to.equal(1n);
      expect(parseCollateral("7", 0)).to.equal(7n);
      expect(parseCollateral("1.000000000000000001", 18)).to.equal(WAD + 1n);
      expect(formatCollateral(1_000_500_000n, 6)).to.equal("1000.50");
      expect(formatCollateral(1n, 6)).to.equal("0.000001");
      expect(formatCollateral(7n, 0)).to.equal("7");
      expect(formatCollateral(15n, 1)).to.equal("1.5");
      expect(formatCollateral(WAD, 18)).to.equal("1.00");
      fc.assert(
        fc.property(fc.bigInt({ min: 1n, max: 2n ** 128n - 1n }), fc.integer({ min: 0, max: 18 }), (raw, d) => {
          expect(parseCollateral(formatCollateral(raw, d), d)).to.equal(raw);
          // The clearinghouse's conversion of that amount round-trips (sdk/core/settlement.ts).
          expect(x18ToRawDown(rawToX18(raw, d), d)).to.equal(raw);
        }),
        RUNS,
      );
    });

    it("parseCollateral throws InvalidAmountError, AmountNotPositiveError and UnsupportedDecimalsError", function () {
      for (const bad of ["", "-1", "1.", "one"]) {
        const error = thrown(() => parseCollateral(bad, 6));
        expect(error, bad).to.be.instanceOf(InvalidAmountError).and.not.to.be.instanceOf(AmountNotPositiveError);
      }
      expect(thrown(() => parseCollateral("1.0000001", 6)))
        .to.be.instanceOf(InvalidAmountError)
        .with.property("reason", "more than 6 decimals");
      expect(thrown(() => parseCollateral("0.5", 0))).to.be.instanceOf(InvalidAmountError);
      expect(thrown(() => parseCollateral("0.000000", 6))).to.be.instanceOf(AmountNotPositiveError);
      for (const d of [-1, 19, 6.5]) {
        expect(thrown(() => parseCollateral("1", d))).to.be.instanceOf(UnsupportedDecimalsError);
        expect(thrown(() => formatCollateral(1n, d))).to.be.instanceOf(UnsupportedDecimalsError);
      }
      expect((thrown(() => formatCollateral(1n, 24)) as Error).message).to.equal(
        "unsupported decimals 24: expected a whole number from 0 to 18",
      );
    });

    it("parseQty parses a positive whole number of contracts", function () {
      expect(parseQty("20")).to.equal(20n);
      expect(parseQty(" 007 ")).to.equal(7n);
      expect(parseQty("4294967296")).to.equal(2n ** 32n);
      for (const bad of ["", "1.5", "1.0", "-3", "+3", "1e3", "ten"]) {
        const error = thrown(() => parseQty(bad));
        expect(error, bad).to.be.instanceOf(InvalidAmountError).and.not.to.be.instanceOf(AmountNotPositiveError);
        expect((error as InvalidAmountError).reason).to.equal("expected a whole number of contracts");
      }
      expect(thrown(() => parseQty("000"))).to.be.instanceOf(AmountNotPositiveError);
    });
  });
});
