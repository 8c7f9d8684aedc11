// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMath} from "contracts/libraries/FixedPointMath.sol";

/// @notice SMTChecker harness for FixedPointMath. The mulDiv-based functions are checked against the
/// Solidity model of OpenZeppelin's Math.mulDiv in models/Math.sol (the checker cannot see through
/// OpenZeppelin's inline assembly); `abs` does not call Math and is checked as is.
/// Domain: operands below 2^128 (2^127 for signed), so every product fits 256 bits (the model domain).
contract FixedPointMathProps {
    uint256 internal constant B = uint256(type(uint128).max) + 1;
    int256 internal constant S = int256(uint256(type(uint128).max / 2)) + 1;

    /// mulDivDown(a, b, d) is floor(a * b / d): q * d + (a * b mod d) == a * b.
    function mulDivDownIsFloor(uint256 a, uint256 b, uint256 d) public pure {
        require(a < B && b < B && d > 0);
        uint256 q = FixedPointMath.mulDivDown(a, b, d);
        assert(q * d + mulmod(a, b, d) == a * b);
    }

    /// mulDivUp(a, b, d) is ceil(a * b / d): floor plus one exactly when d does not divide a * b.
    function mulDivUpIsCeil(uint256 a, uint256 b, uint256 d) public pure {
        require(a < B && b < B && d > 0);
        uint256 down = FixedPointMath.mulDivDown(a, b, d);
        uint256 up = FixedPointMath.mulDivUp(a, b, d);
        assert(up == down + (mulmod(a, b, d) == 0 ? 0 : 1));
    }

    /// mulDivUp never understates: up * d >= a * b, and overstates by less than d.
    function mulDivUpBounds(uint256 a, uint256 b, uint256 d) public pure {
        require(a < B && b < B && d > 0 && d < B);
        uint256 up = FixedPointMath.mulDivUp(a, b, d);
        assert(up * d >= a * b);
        assert(up * d - a * b < d);
    }

    /// abs(a) is |a| for every int256 except type(int256).min (whose negation reverts).
    function absIsMagnitude(int256 a) public pure {
        require(a > type(int256).min);
        uint256 m = FixedPointMath.abs(a);
        assert(int256(m) >= 0);
        assert(a >= 0 ? int256(m) == a : int256(m) == -a);
    }

    /// mulDivSignedTowardZero: sign of a, magnitude floor(|a| * b / d).
    function signedTowardZeroTruncates(int256 a, uint256 b, uint256 d) public pure {
        require(a > -S && a < S && b < B && d > 0);
        int256 r = FixedPointMath.mulDivSignedTowardZero(a, b, d);
        uint256 m = FixedPointMath.abs(a);
        uint256 floorMag = FixedPointMath.mulDivDown(m, b, d);
        assert(a >= 0 ? r == int256(floorMag) : r == -int256(floorMag));
    }

    /// mulDivSignedUp rounds toward +infinity: r * d >= a * b > (r - 1) * d.
    function signedUpRoundsUp(int256 a, uint256 b, uint256 d) public pure {
        require(a > -S && a < S && b < uint256(S) && d > 0 && d < uint256(S));
        int256 r = FixedPointMath.mulDivSignedUp(a, b, d);
        int256 exact = a * int256(b);
        assert(r * int256(d) >= exact);
        assert(r * int256(d) - exact < int256(d));
    }

    /// mulDivSignedUp and mulDivSignedTowardZero agree for negative a and differ by at most one for
    /// positive a (ceil vs floor).
    function signedUpVsTowardZero(int256 a, uint256 b, uint256 d) public pure {
        require(a > -S && a < S && b < B && d > 0);
        int256 up = FixedPointMath.mulDivSignedUp(a, b, d);
        int256 tz = FixedPointMath.mulDivSignedTowardZero(a, b, d);
        assert(up >= tz && up - tz <= 1);
        if (a <= 0) assert(up == tz);
    }

    // Reachability witness (scripts/verify-smt.ts expects its assertion to be VIOLATED): an inexact positive
    // quotient exists in the signed domain, where up and toward-zero rounding differ.
    function reachSignedRoundingDiffers(int256 a, uint256 b, uint256 d) public pure {
        require(a > -S && a < S && b < uint256(S) && d > 0 && d < uint256(S));
        assert(FixedPointMath.mulDivSignedUp(a, b, d) == FixedPointMath.mulDivSignedTowardZero(a, b, d));
    }
}
